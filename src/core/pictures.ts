/**
 * Pictures of a network from its definition data: Graphviz DOT, Mermaid,
 * and SVG rendered by Graphviz compiled to WebAssembly (no system Graphviz
 * needed). Nodes show their name and module kind; edges carry the shape of
 * the tensor they carry; conditions are dashed.
 */
import type { GraphDef, NodeDef, TensorRef } from './graph.js';
import { formatShape } from './errors.js';
import { className, shapeOf } from './graph.js';

const kindOf = (node: NodeDef) => (node.kind === 'module' ? className(node.module.kind) : node.kind);

function edges(graph: GraphDef): { from: number; to: number; label: string; condition: boolean }[] {
  const list: { from: number; to: number; label: string; condition: boolean }[] = [];
  const tensorEdge = (to: number, ref: TensorRef, multi: boolean) => {
    const shape = formatShape(shapeOf(graph, ref));
    list.push({ from: ref.node, to, label: multi ? `${ref.output}: ${shape}` : shape, condition: false });
  };
  graph.nodes.forEach((node, to) => {
    if (node.kind === 'module') {
      for (const ref of node.inputs) {
        const source = graph.nodes[ref.node];
        tensorEdge(to, ref, source.kind === 'module' && source.module.outputShapes.length > 1);
      }
      for (const c of node.conditions) list.push({ from: c, to, label: formatShape((graph.nodes[c] as { shape: readonly number[] }).shape), condition: true });
    } else if (node.kind === 'output') {
      const source = graph.nodes[node.input.node];
      tensorEdge(to, node.input, source.kind === 'module' && source.module.outputShapes.length > 1);
    }
  });
  return list;
}

const dotString = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

/**
 * The network as a Graphviz DOT digraph.
 *
 * @example
 * ```ts
 * import { inn, toDot } from 'freia-ts';
 * const dot = toDot(inn.input([4]).split([2, 2]).concat().toGraph(), 'split-join'); // for `dot -Tsvg`
 * ```
 *
 * @group Pictures
 */
export function toDot(graph: GraphDef, title = 'flow'): string {
  const lines = [`digraph ${dotString(title)} {`, '  rankdir=TB;', '  node [fontname="Helvetica", fontsize=11];', '  edge [fontname="Helvetica", fontsize=9];'];
  graph.nodes.forEach((node, i) => {
    const style =
      node.kind === 'input' ? 'shape=ellipse, style=filled, fillcolor="#dbeafe"'
      : node.kind === 'output' ? 'shape=ellipse, style=filled, fillcolor="#dcfce7"'
      : node.kind === 'condition' ? 'shape=diamond, style="filled,dashed", fillcolor="#fef9c3"'
      : 'shape=box, style="rounded,filled", fillcolor="#f3f4f6"';
    const label = node.kind === 'module' ? `${node.name}\n${kindOf(node)}` : `${node.name}\n${node.kind} ${formatShape(node.shape)}`;
    lines.push(`  n${i} [label=${dotString(label)}, ${style}];`);
  });
  for (const e of edges(graph)) lines.push(`  n${e.from} -> n${e.to} [label=${dotString(e.label)}${e.condition ? ', style=dashed' : ''}];`);
  lines.push('}');
  return lines.join('\n');
}

const mermaidText = (s: string) => s.replace(/"/g, '#quot;');

/**
 * The network as a Mermaid flowchart.
 *
 * @example
 * ```ts
 * import { inn, toMermaid } from 'freia-ts';
 * const mermaid = toMermaid(inn.input([4]).actNorm().toGraph()); // Mermaid text for a Markdown page
 * ```
 *
 * @group Pictures
 */
export function toMermaid(graph: GraphDef): string {
  const lines = ['flowchart TD'];
  graph.nodes.forEach((node, i) => {
    const text = node.kind === 'module' ? `${node.name}<br/>${kindOf(node)}` : `${node.name}<br/>${node.kind} ${formatShape(node.shape)}`;
    const [open, close] = node.kind === 'module' ? ['[', ']'] : node.kind === 'condition' ? ['{', '}'] : ['([', '])'];
    lines.push(`  n${i}${open}"${mermaidText(text)}"${close}`);
  });
  for (const e of edges(graph)) lines.push(`  n${e.from} ${e.condition ? '-.' : '--'} "${mermaidText(e.label)}" ${e.condition ? '.->' : '-->'} n${e.to}`);
  return lines.join('\n');
}

/**
 * The network as SVG, laid out by Graphviz (WebAssembly build, loaded on first use).
 *
 * @example
 * ```ts
 * import { inn, toSvg } from 'freia-ts';
 * const svg = await toSvg(inn.input([3, 8, 8]).haarDownsample().flatten().toGraph());
 * ```
 *
 * @group Pictures
 */
export async function toSvg(graph: GraphDef, title?: string): Promise<string> {
  const { Graphviz } = await import('@hpcc-js/wasm-graphviz');
  const graphviz = await Graphviz.load();
  return graphviz.dot(toDot(graph, title));
}
