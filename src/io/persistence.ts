/**
 * Saving and loading a flow: its architecture (the definition data) and its
 * weights, as one JSON document (`freia-ts/1`) that works anywhere JSON does
 * (a file in Node, localStorage or IndexedDB in a browser).
 *
 * Built-in subnets (`subnets.mlp`, `subnets.conv`) are saved by their
 * description; a user-written subnet function cannot be, and saving fails
 * naming the node. Custom modules are saved by class name; pass the classes
 * to {@link loadFlow} to bring them back.
 */
import * as tf from '@tensorflow/tfjs';
import type { GraphDef, ModuleDef, NodeDef } from '../core/graph.js';
import { deepFreeze } from '../core/graph.js';
import { Flow, type AnyFlow } from '../runtime/flow.js';
import { FreiaError } from '../core/errors.js';
import { subnetFromSpec, type SubnetFactory, type SubnetSpec } from '../modules/subnets.js';
import { customKind, type CustomModuleClass } from '../modules/custom.js';

/** A saved weight: raw little-endian bytes, base64. */
export interface SavedTensor {
  readonly shape: readonly number[];
  readonly dtype: 'float32' | 'int32' | 'bool';
  readonly data: string;
}

/** A saved flow. */
export interface FlowDocument {
  readonly format: 'freia-ts/1';
  /** The definition data; module `args` with subnets as `{ "$subnet": spec }`, custom kinds as class names. */
  readonly graph: GraphDef;
  /** Weights by node name, then parameter name (FrEIA's state-dict names). */
  readonly weights: Readonly<Record<string, Readonly<Record<string, SavedTensor>>>>;
}

export class FlowFormatError extends FreiaError {
  override readonly name = 'FlowFormatError';
  constructor(readonly problems: readonly string[]) {
    super(`cannot load the flow: ${problems.length} problem(s)\n  - ${problems.join('\n  - ')}`);
  }
}

// btoa/atob exist in browsers and in Node ≥ 16, so the format needs no Buffer.
function encode(values: tf.backend_util.TypedArray): string {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function decode(saved: SavedTensor): tf.Tensor {
  const binary = atob(saved.data);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  const values = saved.dtype === 'float32' ? new Float32Array(bytes.buffer) : saved.dtype === 'int32' ? new Int32Array(bytes.buffer) : bytes;
  return tf.tensor(values, [...saved.shape], saved.dtype);
}

function saveArgs(node: string, args: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(args).map(([key, value]) => {
      if (typeof value !== 'function') return [key, value];
      const spec = (value as SubnetFactory).spec;
      if (!spec) throw new FreiaError(`node "${node}": option "${key}" is a user function; only subnets.mlp/subnets.conv subnets can be saved`);
      return [key, { $subnet: spec }];
    }),
  );
}

function loadArgs(args: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(args).map(([key, value]) => {
      const spec = value !== null && typeof value === 'object' && '$subnet' in value ? (value as { $subnet: SubnetSpec }).$subnet : undefined;
      return [key, spec ? subnetFromSpec(spec) : value];
    }),
  );
}

/**
 * The flow as a JSON-ready document: architecture and weights.
 *
 * @example
 * ```ts
 * import { inn, subnets, saveFlow, loadFlow } from 'freia-ts';
 * const flow = inn.input([2]).allInOne({ subnet: subnets.mlp({ hidden: 32 }) }).build();
 * const json = JSON.stringify(saveFlow(flow));
 * const again = loadFlow(JSON.parse(json));
 * ```
 */
export function saveFlow(flow: AnyFlow): FlowDocument {
  const nodes = flow.graph.nodes.map((node): NodeDef => {
    if (node.kind !== 'module') return node;
    const module: ModuleDef = { ...node.module, kind: node.module.kind.replace(/#\d+$/, ''), args: saveArgs(node.name, node.module.args) };
    return { ...node, module };
  });
  const weights: Record<string, Record<string, SavedTensor>> = {};
  flow.graph.nodes.forEach((node, i) => {
    const module = flow.modules[i];
    if (!module || module.params.size === 0) return;
    weights[node.name] = Object.fromEntries(
      [...module.params].map(([name, v]) => [name, { shape: [...v.shape], dtype: v.dtype as SavedTensor['dtype'], data: encode(v.dataSync()) }]),
    );
  });
  return { format: 'freia-ts/1', graph: { nodes }, weights };
}

/**
 * A flow from a saved document. Custom module classes used by the flow must
 * be passed by name (`{ modules: { MyModule } }`). Every problem (unknown
 * kind, missing or mis-shaped weight, weight for no node) is reported at
 * once, and nothing is left allocated.
 */
export function loadFlow(doc: FlowDocument, options: { readonly modules?: Readonly<Record<string, CustomModuleClass<never>>> } = {}): Flow {
  if (doc?.format !== 'freia-ts/1') throw new FlowFormatError([`format is "${(doc as { format?: string })?.format}", expected "freia-ts/1"`]);
  const problems: string[] = [];
  const custom = new Map(Object.entries(options.modules ?? {}).map(([name, cls]) => [name, customKind(cls as CustomModuleClass<unknown>)]));
  const nodes = doc.graph.nodes.map((node): NodeDef => {
    if (node.kind !== 'module') return node;
    const kind = custom.get(node.module.kind) ?? node.module.kind;
    return { ...node, module: { ...node.module, kind, args: loadArgs(node.module.args) } };
  });
  let flow: Flow;
  try {
    flow = new Flow(deepFreeze({ nodes }));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new FlowFormatError([/unknown module kind/.test(message) ? `${message} (custom modules are passed as loadFlow(doc, { modules: { MyModule } }))` : message]);
  }
  const names = new Set<string>();
  flow.graph.nodes.forEach((node, i) => {
    const module = flow.modules[i];
    if (!module) return;
    names.add(node.name);
    const saved = doc.weights[node.name] ?? {};
    for (const [param, variable] of module.params) {
      const entry = saved[param];
      if (!entry) {
        problems.push(`node "${node.name}": missing weight "${param}"`);
        continue;
      }
      if (entry.shape.length !== variable.shape.length || entry.shape.some((d, k) => d !== variable.shape[k])) {
        problems.push(`node "${node.name}": weight "${param}" has shape [${entry.shape.join(', ')}], expected [${variable.shape.join(', ')}]`);
        continue;
      }
      const value = decode(entry);
      variable.assign(value.dtype === variable.dtype ? value : tf.cast(value, variable.dtype));
      value.dispose();
    }
    for (const param of Object.keys(saved)) if (!module.params.has(param)) problems.push(`node "${node.name}": weight "${param}" belongs to no parameter`);
  });
  for (const name of Object.keys(doc.weights)) if (!names.has(name)) problems.push(`weights for "${name}", which is no module node`);
  if (problems.length) {
    flow.dispose();
    throw new FlowFormatError(problems);
  }
  return flow;
}

/** Saves a flow to a JSON file (Node). */
export async function saveFlowFile(flow: AnyFlow, file: string): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(file, JSON.stringify(saveFlow(flow)));
}

/** Loads a flow from a JSON file written by {@link saveFlowFile} (Node). */
export async function loadFlowFile(file: string, options?: Parameters<typeof loadFlow>[1]): Promise<Flow> {
  const { readFile } = await import('node:fs/promises');
  return loadFlow(JSON.parse(await readFile(file, 'utf8')) as FlowDocument, options);
}
