/**
 * `freia-ts graph FILE -o graph.svg`: draws a FrEIA-exported model (a
 * `freia-reference/1` file). The output format follows the extension:
 * `.svg` (Graphviz in WebAssembly), `.dot`, or `.mmd` (Mermaid); without
 * `-o` the DOT text goes to stdout.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { freiaGraph } from '../runtime/freia.js';
import { toDot, toMermaid, toSvg } from '../runtime/pictures.js';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { output: { type: 'string', short: 'o' } } });
if (positionals.length !== 1) {
  console.error('usage: freia-ts graph FILE [-o graph.svg|graph.dot|graph.mmd]');
  process.exit(2);
}
const file = positionals[0];
let graph;
try {
  graph = freiaGraph(JSON.parse(readFileSync(file, 'utf8')));
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
