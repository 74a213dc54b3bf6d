/**
 * `freia-ts graph FILE -o graph.svg`: draws a saved model (`freia-ts/1`,
 * from saveFlow) or a FrEIA-exported one (`freia-reference/1`). The output format follows the extension:
 * `.svg` (Graphviz in WebAssembly), `.dot`, or `.mmd` (Mermaid); without
 * `-o` the DOT text goes to stdout.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { freiaGraph } from '../../io/freia.js';
import { toDot, toMermaid, toSvg } from '../../core/pictures.js';
import type { GraphDef } from '../../core/graph.js';
import type { FlowDocument } from '../../io/persistence.js';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { output: { type: 'string', short: 'o' } } });
if (positionals.length !== 1) {
  console.error('usage: freia-ts graph FILE [-o graph.svg|graph.dot|graph.mmd]   (FILE: saved with saveFlowFile, or a FrEIA export)');
  process.exit(2);
}
const file = positionals[0];
let graph: GraphDef;
try {
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  graph = doc?.format === 'freia-ts/1' ? (doc as FlowDocument).graph : freiaGraph(doc);
} catch (error) {
  console.error(`freia-ts graph: ${file}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
const title = path.basename(file, '.json');
const out = values.output;
if (!out) {
  console.log(toDot(graph, title));
} else {
  const ext = path.extname(out).toLowerCase();
  const text = ext === '.svg' ? await toSvg(graph, title) : ext === '.mmd' ? toMermaid(graph) : toDot(graph, title);
  writeFileSync(out, text);
  console.log(`wrote ${out} (${graph.nodes.length} nodes)`);
}
