/**
 * `freia-ts graph FILE -o graph.svg`: draws a saved model (a directory or
 * `model.json` written by saveFlow/saveFlowFile, or an older `freia-ts/1`
 * JSON file) or a FrEIA-exported one (`freia-reference/1`). The output format follows the extension:
 * `.svg` (Graphviz in WebAssembly), `.dot`, or `.mmd` (Mermaid); without
 * `-o` the DOT text goes to stdout.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { freiaGraph, type FreiaDocument } from '../../io/freia.js';
import { toDot, toMermaid, toSvg } from '../../core/pictures.js';
import type { GraphDef } from '../../core/graph.js';
import { loadFlowGraph } from '../../node/index.js';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { output: { type: 'string', short: 'o' } } });
if (positionals.length !== 1) {
  console.error('usage: freia-ts graph FILE [-o graph.svg|graph.dot|graph.mmd]   (FILE: a directory or model.json saved with saveFlowFile, or a FrEIA export)');
  process.exit(2);
}
const file = positionals[0];
let graph: GraphDef;
try {
  // A FrEIA export is one JSON file; anything else is read as a saved flow.
  const doc: unknown = statSync(file).isFile() ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
  const isFreia = doc !== null && typeof doc === 'object' && 'format' in doc && doc.format === 'freia-reference/1';
  graph = isFreia ? freiaGraph(doc as FreiaDocument) : await loadFlowGraph(file); // a FrEIA export by its format tag; freiaGraph checks the rest
} catch (error) {
  console.error(`freia-ts graph: ${file}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
// a saved flow's model.json is named after its directory
const title = path.basename(file) === 'model.json' ? path.basename(path.dirname(path.resolve(file))) : path.basename(file, '.json');
const out = values.output;
if (!out) {
  console.log(toDot(graph, title));
} else {
  const ext = path.extname(out).toLowerCase();
  const text = ext === '.svg' ? await toSvg(graph, title) : ext === '.mmd' ? toMermaid(graph) : toDot(graph, title);
  writeFileSync(out, text);
  console.log(`wrote ${out} (${graph.nodes.length} nodes)`);
}
