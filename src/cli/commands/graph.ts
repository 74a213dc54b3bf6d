/**
 * `freia-ts graph FILE -o graph.svg`: draws a saved model (a directory or
 * `model.json` written by saveFlow/saveFlowFile, or an older `freia-ts/1`
 * JSON file) or a FrEIA-exported one (`freia-reference/1`). The output format follows the extension:
 * `.svg` (Graphviz in WebAssembly), `.dot`, or `.mmd` (Mermaid); without
 * `-o` the DOT text goes to stdout.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freiaGraph, type FreiaDocument } from '../../io/freia.js';
import { toDot, toMermaid, toSvg } from '../../core/pictures.js';
import type { GraphDef } from '../../core/graph.js';
import { loadFlowGraph } from '../../node/index.js';
import { outputFileFlag, runCommand } from '../command-line.js';

const usage = `usage: freia-ts graph FILE [-o graph.svg|graph.dot|graph.mmd] [--debug]

Draws a model: FILE is a directory or model.json saved with saveFlowFile, or
a FrEIA export (freia-reference/1). The output format follows -o's
extension (.svg, .dot or .mmd); without -o the DOT text goes to stdout.`;

await runCommand({ name: 'graph', usage, options: { output: { type: 'string', short: 'o' } }, positionals: { min: 1, max: 1, what: 'FILE' } }, async ({ positionals, values }) => {
  const file = positionals[0];
  // Checked before the model is read: a wrong extension or an unwritable place costs nothing.
  const out = values.output === undefined ? undefined : outputFileFlag('output', values.output, ['.svg', '.dot', '.mmd']);
  let graph: GraphDef;
  try {
    // A FrEIA export is one JSON file; anything else is read as a saved flow.
    const doc: unknown = statSync(file).isFile() ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
    const isFreia = doc !== null && typeof doc === 'object' && 'format' in doc && doc.format === 'freia-reference/1';
    graph = isFreia ? freiaGraph(doc as FreiaDocument) : await loadFlowGraph(file); // a FrEIA export by its format tag; freiaGraph checks the rest
  } catch (error) {
    throw new Error(`${file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  // a saved flow's model.json is named after its directory
  const title = path.basename(file) === 'model.json' ? path.basename(path.dirname(path.resolve(file))) : path.basename(file, '.json');
  if (!out) {
    console.log(toDot(graph, title));
    return;
  }
  const ext = path.extname(out).toLowerCase();
  const text = ext === '.svg' ? await toSvg(graph, title) : ext === '.mmd' ? toMermaid(graph) : toDot(graph, title);
  writeFileSync(out, text);
  console.log(`wrote ${values.output} (${graph.nodes.length} nodes)`);
});
