/**
 * The saved form of a flow, written and read here, used by `saveFlow` and
 * `loadFlow` (persistence.ts) and by the Node entry:
 *
 * - `modelTopology`: a {@link FlowTopology}: format tag, version, the
 *   definition data (built-in subnets as `{ "$subnet": description }`, a
 *   user's tfjs-layers subnets as `{ "$layers": [...] }`) and
 *   the class names of the custom modules it uses;
 * - `weightSpecs` / `weightData`: every parameter as `<node>/<param>`
 *   (FrEIA's state-dict names), binary, as `tf.io.encodeWeights` writes it;
 * - or, from version 0.1, a `freia-ts/1` {@link FlowDocument}: one JSON
 *   object with the weights as base64.
 *
 * Reading checks every field and collects every problem, naming the field,
 * before anything is allocated.
 */
import * as tf from '@tensorflow/tfjs';
import type { GraphDef, NodeDef } from '../core/graph.js';
import { className, deepFreeze } from '../core/graph.js';
import type { AnyFlow } from '../runtime/flow.js';
import { FreiaError, formatShape } from '../core/errors.js';
import { elementCount, sizeLimits } from '../core/validation.js';
import { subnetFromSpec, type LayersModelLike, type SubnetFactory, type SubnetSpec } from '../modules/subnets.js';
import { subnetsOf, type MadeSubnet } from '../modules/base.js';
import { sequentialSpecProblems } from '../modules/sequential-subnet.js';

/** The format tag in {@link FlowTopology}. */
export const FLOW_FORMAT = 'freia-ts';
/** The version of {@link FlowTopology} this code writes and reads (`freia-ts/1` JSON documents were version 1). */
export const FLOW_FORMAT_VERSION = 2;

/**
 * What `saveFlow` puts in `modelTopology`: everything but the weights.
 *
 * @group Import/export
 */
export interface FlowTopology {
  /** Marks a freia-ts flow. */
  readonly format: 'freia-ts';
  /** 2 (the `freia-ts/1` JSON documents were version 1). */
  readonly version: 2;
  /** The definition data; module `args` with built-in subnets as `{ "$subnet": spec }`, custom kinds as class names. */
  readonly graph: GraphDef;
  /** Class names of the custom modules in `graph`, which `loadFlow` needs as `{ modules: { Name } }`. */
  readonly customModules: readonly string[];
}

/**
 * A weight in a {@link FlowDocument}: raw little-endian bytes, base64.
 *
 * @group Import/export
 */
export interface SavedTensor {
  /** The tensor's shape. */
  readonly shape: readonly number[];
  /** Its dtype. */
  readonly dtype: 'float32' | 'int32' | 'bool';
  /** Its bytes, base64. */
  readonly data: string;
}

/**
 * The previous save format (`freia-ts/1`): one JSON object with the
 * definition data and the weights by node and parameter name. `loadFlow`
 * still reads it; `saveFlow` no longer writes it.
 *
 * @group Import/export
 */
export interface FlowDocument {
  /** Marks a one-file freia-ts flow. */
  readonly format: 'freia-ts/1';
  /** The definition data; module `args` with subnets as `{ "$subnet": spec }`, custom kinds as class names. */
  readonly graph: GraphDef;
  /** Weights by node name, then parameter name (FrEIA's state-dict names). */
  readonly weights: Readonly<Record<string, Readonly<Record<string, SavedTensor>>>>;
}

/**
 * A saved flow could not be read. `problems` lists every problem found, each
 * naming the field or the node and parameter; nothing is left allocated.
 *
 * @group Errors
 */
export class FlowFormatError extends FreiaError {
  /** Always `'FlowFormatError'` (for `error.name` checks). */
  override readonly name = 'FlowFormatError';
  /** @param problems - Each field at fault, with where it is. */
  constructor(readonly problems: readonly string[]) {
    super(`cannot load the flow: ${problems.length} problem(s)\n  - ${problems.join('\n  - ')}`);
  }
}

// ------------------------------------------------------------------ writing ----


/**
 * A user's subnet function that saving cannot describe: one that returns
 * something other than a tfjs-layers model (or that its module never
 * called). `node` and `option` name where it is.
 *
 * @group Errors
 */
export class UnsavableSubnetError extends FreiaError {
  /** Always `'UnsavableSubnetError'` (for `error.name` checks). */
  override readonly name = 'UnsavableSubnetError';
  constructor(
    /** The node whose subnet cannot be saved. */
    readonly node: string,
    /** The option holding it (`subnet`, `subnet1`, ...). */
    readonly option: string,
    detail: string,
  ) {
    super(`node "${node}": option "${option}" is a user function ${detail}; only subnets.mlp/subnets.conv subnets and user functions that return tfjs-layers models (tf.sequential, tf.model) can be saved`);
  }
}

/**
 * A user's tfjs-layers subnet as saved: the channels it was made for, and the model's class name and config.
 *
 * @group Import/export
 */
export interface SavedLayers {
  /** The subnet's input and output channels. */
  readonly channels: readonly [number, number];
  /** tfjs-layers' class name. */
  readonly className: string;
  /** tfjs-layers' configuration. */
  readonly config: tf.serialization.ConfigDict;
}

/**
 * A user's subnet function as `{ "$layers": [...] }`: one tfjs-layers
 * architecture for each pair of channels the module called it with (a Glow
 * coupling calls it for both halves).
 */
function describeLayers(node: string, option: string, factory: unknown, made: readonly MadeSubnet[]): { $layers: SavedLayers[] } {
  const calls = made.filter((m) => m.factory === factory);
  if (calls.length === 0) throw new UnsavableSubnetError(node, option, 'that the module never called');
  const saved: SavedLayers[] = [];
  for (const { cIn, cOut, subnet } of calls) {
    const model = subnet.layersModel;
    if (!model) throw new UnsavableSubnetError(node, option, 'whose model is no tfjs-layers model');
    if (saved.some((s) => s.channels[0] === cIn && s.channels[1] === cOut)) continue;
    saved.push({ channels: [cIn, cOut], className: model.getClassName(), config: model.getConfig() });
  }
  return { $layers: saved };
}

/**
 * Module arguments as JSON data: built-in subnets become `{ "$subnet": spec }`,
 * a user's subnet function that made tfjs-layers models `{ "$layers": [...] }`
 * ({@link SavedLayers}), and numbers JSON cannot hold `{ "$number": "Infinity" }`
 * (at any depth); any other user function is refused with an
 * {@link UnsavableSubnetError} naming the node and the option, before
 * anything is written.
 */
function saveArgs(node: string, args: object, made: readonly MadeSubnet[]): Record<string, unknown> {
  const text = JSON.stringify(args, (key: string, value: unknown) => {
    if (typeof value === 'function') {
      const spec = (value as SubnetFactory).spec; // a function here is a subnet factory or a user function
      return spec ? { $subnet: spec } : describeLayers(node, key, value, made);
    }
    if (typeof value === 'number' && !Number.isFinite(value)) return { $number: String(value) };
    return value;
  });
  return JSON.parse(text) as Record<string, unknown>; // the text of an object is an object
}

/** The flow's architecture as JSON data (detached from the frozen definition). */
export function flowTopology(flow: AnyFlow): FlowTopology {
  const customModules = new Set<string>();
  const nodes = flow.graph.nodes.map((node, i): NodeDef => {
    if (node.kind !== 'module') return node;
    const kind = className(node.module.kind);
    const custom = kind !== node.module.kind;
    if (custom) customModules.add(kind);
    const module = flow.modules[i];
    return { ...node, module: { ...node.module, kind, args: saveArgs(node.name, node.module.args, module ? subnetsOf(module) : []) } };
  });
  const graph = JSON.parse(JSON.stringify({ nodes })) as GraphDef; // plain data, so every handler stores the same thing
  return { format: FLOW_FORMAT, version: FLOW_FORMAT_VERSION, graph, customModules: [...customModules].sort() };
}

// ------------------------------------------------------------------ reading ----

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const isShape = (value: unknown): value is number[] => Array.isArray(value) && value.every((d) => Number.isInteger(d) && d >= 1) && elementCount(value) !== Infinity;
const isDims = (value: unknown): value is number[] => Array.isArray(value) && value.every((d) => Number.isInteger(d) && d >= 0) && elementCount(value) !== Infinity;
/** A whole number in [min, max). */
const isIndex = (value: unknown, min: number, max: number): value is number => typeof value === 'number' && Number.isInteger(value) && value >= min && value < max;
export const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, k) => d === b[k]);
const show = formatShape;

/**
 * Checks the structure of saved definition data (node kinds, names, shapes,
 * references to earlier nodes and their shapes), naming each bad field.
 * What is semantically wrong with a well-formed module (bad arguments) is
 * left to the module's constructor.
 */
function checkGraph(value: unknown, field: string, problems: string[]): value is GraphDef {
  if (!isObject(value) || !Array.isArray(value.nodes) || value.nodes.length === 0) {
    problems.push(`${field}.nodes: expected a non-empty list of nodes`);
    return false;
  }
  const before = problems.length;
  const nodes: unknown[] = value.nodes;
  const names = new Set<string>();
  /** The shapes of each node's outputs, as far as they could be read. */
  const outputs: (readonly unknown[])[] = [];
  const kinds: unknown[] = [];
  /** Who reads each `node:output` so far. */
  const readers = new Map<string, string>();
  const checkRef = (ref: unknown, at: string, index: number): unknown => {
    const node = isObject(ref) ? ref.node : undefined;
    const output = isObject(ref) ? ref.output : undefined;
    if (!isIndex(node, 0, index) || !isIndex(output, 0, outputs[node].length)) {
      problems.push(`${at}: expected { node, output } naming an output of an earlier node`);
      return undefined;
    }
    const key = `${node}:${output}`;
    const reader = readers.get(key);
    if (reader !== undefined) problems.push(`${at}: output ${output} of nodes[${node}] is already read by ${reader} (each output feeds exactly one node)`);
    else readers.set(key, at);
    return outputs[node][output];
  };
  nodes.forEach((node, i) => {
    const at = `${field}.nodes[${i}]`;
    kinds.push(isObject(node) ? node.kind : undefined);
    outputs.push([]);
    if (!isObject(node)) {
      problems.push(`${at}: expected an object`);
      return;
    }
    if (typeof node.name !== 'string' || node.name === '') problems.push(`${at}.name: expected a non-empty string`);
    else if (names.has(node.name)) problems.push(`${at}.name: "${node.name}" is already the name of an earlier node`);
    else names.add(node.name);
    switch (node.kind) {
      case 'input':
      case 'condition':
        if (!isShape(node.shape)) problems.push(`${at}.shape: expected a list of positive whole numbers (at most ${sizeLimits().tensorElements} elements)`);
        if (node.kind === 'input') outputs[i] = [node.shape];
        return;
      case 'output': {
        const shape = checkRef(node.input, `${at}.input`, i);
        if (!isShape(node.shape)) problems.push(`${at}.shape: expected a list of positive whole numbers (at most ${sizeLimits().tensorElements} elements)`);
        else if (isShape(shape) && !sameShape(shape, node.shape)) problems.push(`${at}.shape: is ${show(node.shape)}, but its input is ${show(shape)}`);
        return;
      }
      case 'module': {
        const module = node.module;
        if (!isObject(module)) {
          problems.push(`${at}.module: expected an object`);
          return;
        }
        if (typeof module.kind !== 'string' || module.kind === '') problems.push(`${at}.module.kind: expected a module kind`);
        if (!isObject(module.args)) problems.push(`${at}.module.args: expected an object`);
        for (const key of ['inputShapes', 'conditionShapes', 'outputShapes'] as const) {
          if (!Array.isArray(module[key]) || !module[key].every(isShape)) problems.push(`${at}.module.${key}: expected a list of shapes (each at most ${sizeLimits().tensorElements} elements)`);
        }
        if (Array.isArray(module.outputShapes)) outputs[i] = module.outputShapes;
        const inputShapes = Array.isArray(module.inputShapes) ? module.inputShapes : [];
        if (!Array.isArray(node.inputs)) problems.push(`${at}.inputs: expected a list of { node, output }`);
        else {
          if (node.inputs.length !== inputShapes.length) problems.push(`${at}.inputs: ${node.inputs.length} input(s), but module.inputShapes has ${inputShapes.length}`);
          node.inputs.forEach((ref: unknown, k: number) => {
            const shape = checkRef(ref, `${at}.inputs[${k}]`, i);
            const declared: unknown = inputShapes[k];
            if (isShape(shape) && isShape(declared) && !sameShape(shape, declared)) problems.push(`${at}.inputs[${k}]: is ${show(shape)}, but module.inputShapes[${k}] is ${show(declared)}`);
          });
        }
        if (!Array.isArray(node.conditions)) problems.push(`${at}.conditions: expected a list of condition node indices`);
        else {
          const conditionShapes = Array.isArray(module.conditionShapes) ? module.conditionShapes : [];
          if (node.conditions.length !== conditionShapes.length) problems.push(`${at}.conditions: ${node.conditions.length} condition(s), but module.conditionShapes has ${conditionShapes.length}`);
          node.conditions.forEach((c: unknown, k: number) => {
            if (!isIndex(c, 0, i) || kinds[c] !== 'condition') {
              problems.push(`${at}.conditions[${k}]: expected the index of an earlier condition node`);
              return;
            }
            const shape = (nodes[c] as { shape?: unknown }).shape;
            const declared: unknown = conditionShapes[k];
            if (isShape(shape) && isShape(declared) && !sameShape(shape, declared)) problems.push(`${at}.conditions[${k}]: is ${show(shape)}, but module.conditionShapes[${k}] is ${show(declared)}`);
          });
        }
        return;
      }
      default:
        problems.push(`${at}.kind: is ${JSON.stringify(node.kind)}, expected "input", "condition", "module" or "output"`);
    }
  });
  // Every output of every node is read exactly once: an unread one would be missing in the inverse.
  outputs.forEach((shapes, i) => {
    shapes.forEach((_, output) => {
      if (!readers.has(`${i}:${output}`)) problems.push(`${field}.nodes[${i}]: output ${output} is read by no node (each output feeds exactly one module or output node)`);
    });
  });
  if (!kinds.includes('input')) problems.push(`${field}.nodes: expected at least one input node`);
  if (!kinds.includes('output')) problems.push(`${field}.nodes: expected at least one output node`);
  return problems.length === before;
}

const SUBNET_KINDS: readonly string[] = ['mlp', 'conv3x3', 'conv1x1'];

/** Module arguments back from JSON data: `{ "$subnet": spec }` becomes the built-in subnet, at any depth. */
export function loadArgs(value: unknown, at: string, problems: string[]): unknown {
  if (Array.isArray(value)) return value.map((v, k) => loadArgs(v, `${at}[${k}]`, problems));
  if (!isObject(value)) return value;
  if ('$number' in value) {
    const number = Object.keys(value).length === 1 && ['Infinity', '-Infinity', 'NaN'].includes(value.$number as string) ? Number(value.$number) : undefined;
    if (number === undefined) problems.push(`${at}.$number: expected "Infinity", "-Infinity" or "NaN", got ${JSON.stringify(value.$number)}`);
    return number;
  }
  if ('$subnet' in value) {
    const spec = value.$subnet;
    if (isObject(spec) && spec.kind === 'sequential') {
      const wrong = sequentialSpecProblems(spec, `${at}.$subnet`);
      problems.push(...wrong);
      return wrong.length ? undefined : subnetFromSpec(spec as unknown as SubnetSpec); // every field was checked just above
    }
    const ok = isObject(spec) && typeof spec.kind === 'string' && SUBNET_KINDS.includes(spec.kind) && isIndex(spec.hidden, 1, sizeLimits().tensorElements + 1) && isIndex(spec.layers, 1, 1001)
      && (spec.init === undefined || spec.init === 'torch' || spec.init === 'xavier') && (spec.zeroLast === undefined || typeof spec.zeroLast === 'boolean');
    if (!ok) {
      problems.push(`${at}.$subnet: expected { kind: "mlp" | "conv3x3" | "conv1x1", hidden, layers, init?, zeroLast? }, got ${JSON.stringify(spec)}`);
      return undefined;
    }
    return subnetFromSpec(spec as unknown as SubnetSpec); // every field was checked just above
  }
  if ('$layers' in value) return layersFactory(value.$layers, `${at}.$layers`, problems);
  return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, loadArgs(v, `${at}.${key}`, problems)]));
}

/** The tfjs-layers model classes tf.serialization knows (tf.sequential's and tf.model's, and any the user registered). */
function layersClass(className: string): [tf.serialization.SerializableConstructor<tf.serialization.Serializable>, tf.serialization.FromConfigMethod<tf.serialization.Serializable>] | undefined {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
  return entry && (entry[0] === tf.LayersModel || entry[0].prototype instanceof tf.LayersModel) ? entry : undefined;
}

/**
 * A user's subnet function back from `{ "$layers": [...] }`: called for
 * channels it was saved for, it rebuilds that tfjs-layers model from its
 * config (synchronously, through tf.serialization; the flow's weights are
 * set afterwards like every other parameter).
 */
function layersFactory(value: unknown, at: string, problems: string[]): SubnetFactory | undefined {
  const before = problems.length;
  if (!Array.isArray(value) || value.length === 0) problems.push(`${at}: expected a non-empty list of { channels, className, config }`);
  else {
    value.forEach((entry: unknown, k) => {
      if (!isObject(entry)) return problems.push(`${at}[${k}]: expected { channels, className, config }`);
      if (!Array.isArray(entry.channels) || entry.channels.length !== 2 || !isShape(entry.channels)) problems.push(`${at}[${k}].channels: expected [cIn, cOut], got ${JSON.stringify(entry.channels)}`);
      if (typeof entry.className !== 'string' || !layersClass(entry.className)) problems.push(`${at}[${k}].className: expected a tfjs-layers model class ("Sequential", "Model" or one registered with tf.serialization.registerClass), got ${JSON.stringify(entry.className)}`);
      if (!isObject(entry.config)) problems.push(`${at}[${k}].config: expected the model's config (an object)`);
    });
  }
  if (problems.length > before) return undefined;
  const saved = value as SavedLayers[]; // every entry was checked just above
  return (cIn: number, cOut: number) => {
    const entry = saved.find((s) => s.channels[0] === cIn && s.channels[1] === cOut);
    if (!entry) throw new FreiaError(`${at}: no model saved for ${cIn} input and ${cOut} output channels (saved: ${saved.map((s) => formatShape(s.channels)).join(', ')})`);
    const [cls, fromConfig] = layersClass(entry.className)!; // checked when read
    // a copy: fromConfig may change the config it is given, and the definition data is frozen
    return fromConfig(cls, JSON.parse(JSON.stringify(entry.config)) as tf.serialization.ConfigDict) as unknown as LayersModelLike;
  };
}

export const BYTES_PER_ELEMENT: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** A saved flow in one form, whichever format it came in. */
export interface Saved {
  readonly graph: GraphDef;
  /** Where the graph sits in the saved data, for messages: `modelTopology.graph` or `graph`. */
  readonly field: string;
  /** Custom module names recorded with the graph (`freia-ts/1` did not record them). */
  readonly customModules: readonly string[];
  readonly specs: tf.io.WeightsManifestEntry[];
  readonly data: tf.io.WeightData;
  /** Nodes that have weights but are no module nodes, found while reading (reported with the weight problems). */
  readonly strays?: readonly string[];
}

/** Reads `tf.io` artifacts written by `saveFlow`; every problem is collected. */
function readArtifacts(artifacts: unknown, problems: string[]): Saved | undefined {
  if (!isObject(artifacts)) {
    problems.push('artifacts: the handler returned no model artifacts');
    return undefined;
  }
  const topology = artifacts.modelTopology;
  if (!isObject(topology)) {
    problems.push('modelTopology: missing (expected what saveFlow writes, or a freia-ts/1 document)');
    return undefined;
  }
  if (topology.format !== FLOW_FORMAT) {
    const hint = artifacts.format === 'layers-model' ? ' (a tfjs-layers model: load it with tf.loadLayersModel)' : '';
    problems.push(`modelTopology.format: is ${JSON.stringify(topology.format)}, expected "${FLOW_FORMAT}"${hint}`);
    return undefined;
  }
  if (topology.version !== FLOW_FORMAT_VERSION) {
    problems.push(`modelTopology.version: is ${JSON.stringify(topology.version)}; this freia-ts reads version ${FLOW_FORMAT_VERSION}`);
    return undefined;
  }
  const customModules = topology.customModules;
  if (!Array.isArray(customModules) || !customModules.every((name) => typeof name === 'string')) problems.push('modelTopology.customModules: expected a list of class names');
  const graphOk = checkGraph(topology.graph, 'modelTopology.graph', problems);

  const specs = artifacts.weightSpecs;
  if (!Array.isArray(specs)) {
    problems.push('weightSpecs: expected a list of { name, shape, dtype }');
    return undefined;
  }
  let expectedBytes = 0;
  const names = new Set<string>();
  specs.forEach((spec: unknown, k: number) => {
    const at = `weightSpecs[${k}]`;
    if (!isObject(spec) || typeof spec.name !== 'string') {
      problems.push(`${at}.name: expected a string`);
      return;
    }
    if (names.has(spec.name)) problems.push(`${at}.name: "${spec.name}" appears twice`);
    names.add(spec.name);
    if (!isDims(spec.shape)) problems.push(`${at}.shape: expected a list of whole numbers, at most ${sizeLimits().tensorElements} elements (weight "${spec.name}")`);
    if (spec.dtype !== 'float32' && spec.dtype !== 'int32' && spec.dtype !== 'bool') problems.push(`${at}.dtype: is ${JSON.stringify(spec.dtype)}, expected "float32", "int32" or "bool" (weight "${spec.name}")`);
    const quantization = spec.quantization;
    const quantized = isObject(quantization) ? quantization.dtype : undefined;
    if (quantization !== undefined && !(quantized === 'uint8' || quantized === 'uint16' || quantized === 'float16')) {
      problems.push(`${at}.quantization.dtype: expected "uint8", "uint16" or "float16" (weight "${spec.name}")`);
    }
    const stored = quantization === undefined ? spec.dtype : quantized;
    if (isDims(spec.shape)) expectedBytes += spec.shape.reduce((a, b) => a * b, 1) * (typeof stored === 'string' ? BYTES_PER_ELEMENT[stored] ?? 0 : 0);
  });
  const data = artifacts.weightData;
  const isData = data instanceof ArrayBuffer || (Array.isArray(data) && data.every((b) => b instanceof ArrayBuffer));
  if (!isData && specs.length > 0) problems.push('weightData: missing (expected an ArrayBuffer or a list of them)');
  else if (isData) {
    const bytes = new tf.io.CompositeArrayBuffer(data).byteLength;
    if (bytes !== expectedBytes) problems.push(`weightData: has ${bytes} bytes, but weightSpecs describe ${expectedBytes}`);
    else if (!problems.length) checkWeightValues(specs as tf.io.WeightsManifestEntry[], data as tf.io.WeightData, problems); // every spec was checked above
  }
  if (!graphOk || problems.length) return undefined;
  // Casts: checkGraph (a type guard for the graph), the checks on customModules and
  // every spec above, and isData established exactly these types; no problem was found.
  return { graph: topology.graph as GraphDef, field: 'modelTopology.graph', customModules: customModules as string[], specs: specs as tf.io.WeightsManifestEntry[], data: isData ? (data as tf.io.WeightData) : new ArrayBuffer(0) };
}

/**
 * The values of one weight as JavaScript numbers, read from the saved bytes
 * (no tensor is made): float32 and int32 weights that are not quantized;
 * undefined for others.
 */
export function weightValues(saved: Pick<Saved, 'specs' | 'data'>, name: string): Float32Array | Int32Array | undefined {
  let offset = 0;
  for (const spec of saved.specs) {
    const stored = spec.quantization?.dtype ?? spec.dtype;
    const bytes = spec.shape.reduce((a, b) => a * b, 1) * (BYTES_PER_ELEMENT[stored] ?? 0);
    if (spec.name === name) {
      if (spec.quantization || (spec.dtype !== 'float32' && spec.dtype !== 'int32')) return undefined;
      const slice = new tf.io.CompositeArrayBuffer(saved.data).slice(offset, offset + bytes);
      return spec.dtype === 'float32' ? new Float32Array(slice) : new Int32Array(slice);
    }
    offset += bytes;
  }
  return undefined;
}

/** Every float32 weight must hold finite numbers: a NaN or ±Infinity would poison every output. */
function checkWeightValues(specs: readonly tf.io.WeightsManifestEntry[], data: tf.io.WeightData, problems: string[]): void {
  for (const spec of specs) {
    const values = spec.dtype === 'float32' ? weightValues({ specs: [...specs], data }, spec.name) : undefined;
    const bad = values ? values.findIndex((v) => !Number.isFinite(v)) : -1;
    if (values && bad >= 0) problems.push(`weight "${spec.name}": element ${bad} is ${values[bad]}, expected finite numbers`);
  }
}

/** Decodes base64 (atob exists in browsers and in Node ≥ 16, so no Buffer is needed). */
function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Reads a `freia-ts/1` document: its raw little-endian bytes are exactly
 * `tf.io`'s weight encoding, so the weights become specs named
 * `<node>/<param>` over the concatenated bytes.
 */
export function readDocument(doc: Record<string, unknown>, problems: string[]): Saved | undefined {
  const graphOk = checkGraph(doc.graph, 'graph', problems);
  const weights = doc.weights;
  if (!isObject(weights)) {
    problems.push('weights: expected an object of weights by node name');
    return undefined;
  }
  const graph = graphOk ? (doc.graph as GraphDef) : undefined; // checkGraph said so (a type guard does not narrow a property)
  const moduleNodes = new Set(graph ? graph.nodes.flatMap((n) => (n.kind === 'module' ? [n.name] : [])) : []);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  // An empty record for a node that is not there is still a mistake worth naming; it has no weight to be found stray later.
  const strays = graphOk ? Object.keys(weights).filter((node) => !moduleNodes.has(node)) : [];
  for (const [node, params] of Object.entries(weights)) {
    if (!isObject(params)) {
      problems.push(`weights["${node}"]: expected an object of weights by parameter name`);
      continue;
    }
    for (const [param, saved] of Object.entries(params)) {
      const at = `weights["${node}"]["${param}"]`;
      if (!isObject(saved) || !isDims(saved.shape) || !(saved.dtype === 'float32' || saved.dtype === 'int32' || saved.dtype === 'bool') || typeof saved.data !== 'string') {
        problems.push(`${at}: expected { shape, dtype: "float32" | "int32" | "bool", data: base64 }`);
        continue;
      }
      let bytes: Uint8Array;
      try {
        bytes = fromBase64(saved.data);
      } catch {
        problems.push(`${at}.data: is not base64`);
        continue;
      }
      const expected = saved.shape.reduce((a, b) => a * b, 1) * BYTES_PER_ELEMENT[saved.dtype];
      if (bytes.length !== expected) {
        problems.push(`${at}.data: has ${bytes.length} bytes, shape ${show(saved.shape)} of ${saved.dtype} needs ${expected}`);
        continue;
      }
      if (saved.dtype === 'float32') {
        const values = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
        const bad = values.findIndex((v) => !Number.isFinite(v));
        if (bad >= 0) {
          problems.push(`${at}.data: element ${bad} is ${values[bad]}, expected finite numbers`);
          continue;
        }
      }
      if (strays.includes(node)) continue;
      specs.push({ name: `${node}/${param}`, shape: [...saved.shape], dtype: saved.dtype });
      chunks.push(bytes);
    }
  }
  if (!graph) return undefined;
  const data = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  chunks.reduce((offset, c) => (data.set(c, offset), offset + c.length), 0);
  return { graph, field: 'graph', customModules: [], specs, data: data.buffer, strays };
}

/** A parsed `freia-ts/1` document (by its format tag; its fields are checked by `readDocument`). */
export const isFlowDocument = (value: unknown): value is Record<string, unknown> => isObject(value) && value.format === 'freia-ts/1';


/** Reads artifacts, accepting a `freia-ts/1` document that a handler (a file read in Node) returned as is. */
export function readSaved(artifacts: unknown, problems: string[]): Saved | undefined {
  if (isObject(artifacts) && isFlowDocument(artifacts.modelTopology)) return readDocument(artifacts.modelTopology, problems);
  return readArtifacts(artifacts, problems);
}

/**
 * The definition data of a saved flow, without building it (no tensors):
 * from `model.json`'s content as `saveFlow` wrote it, from artifacts, or
 * from a `freia-ts/1` document. Module `args` stay as saved (subnets as
 * `{ "$subnet": spec }`), which is what pictures need. Throws a
 * {@link FlowFormatError} naming the field when it is not a saved flow.
 */
export function savedFlowGraph(json: unknown): GraphDef {
  const problems: string[] = [];
  let graph: GraphDef | undefined;
  if (isFlowDocument(json)) {
    if (checkGraph(json.graph, 'graph', problems)) graph = json.graph;
  } else {
    const topology = isObject(json) ? json.modelTopology : undefined;
    if (!isObject(topology)) problems.push('modelTopology: missing (expected what saveFlow writes, or a freia-ts/1 document)');
    else if (topology.format !== FLOW_FORMAT) problems.push(`modelTopology.format: is ${JSON.stringify(topology.format)}, expected "${FLOW_FORMAT}"`);
    else if (checkGraph(topology.graph, 'modelTopology.graph', problems)) graph = topology.graph;
  }
  if (!graph) throw new FlowFormatError(problems);
  return deepFreeze(graph);
}

/** The weight-name prefix of a base's parameters; `~` cannot start a builder's node name. */
export const BASE_PREFIX = '~base/';

/** Bytes a weight takes in `weightData`, or undefined for a spec this code cannot size. */
function byteSize(spec: tf.io.WeightsManifestEntry): number | undefined {
  const stored = spec.quantization?.dtype ?? spec.dtype;
  const per = BYTES_PER_ELEMENT[stored];
  return per === undefined || !Array.isArray(spec.shape) ? undefined : spec.shape.reduce((a, b) => a * b, 1) * per;
}

/** The weight-name prefix of an optimizer's state in a checkpoint (src/io/checkpoint.ts); `~` cannot start a builder's node name. */
export const OPTIMIZER_PREFIX = '~optimizer/';

/** Weights taken out of a saved flow's artifacts: their specs and their bytes. */
export interface WeightPart {
  readonly specs: tf.io.WeightsManifestEntry[];
  readonly data: ArrayBuffer;
}

/**
 * The artifacts without the weights whose names start with `prefix`
 * (wherever they are), and those weights apart. Artifacts whose specs or
 * bytes do not add up are returned whole, for `readSaved` to name what is
 * wrong with them.
 */
export function separateWeights(artifacts: tf.io.ModelArtifacts, prefix: string): { rest: tf.io.ModelArtifacts; part: WeightPart } {
  const specs = Array.isArray(artifacts.weightSpecs) ? artifacts.weightSpecs : [];
  const none = { rest: artifacts, part: { specs: [], data: new ArrayBuffer(0) } };
  const taken = (spec: tf.io.WeightsManifestEntry) => typeof spec?.name === 'string' && spec.name.startsWith(prefix);
  if (!specs.some(taken)) return none;
  const sizes = specs.map(byteSize);
  const weightData = artifacts.weightData;
  if (sizes.some((size) => size === undefined) || !(weightData instanceof ArrayBuffer || (Array.isArray(weightData) && weightData.every((b) => b instanceof ArrayBuffer)))) return none;
  const data = Array.isArray(weightData) ? tf.io.concatenateArrayBuffers(weightData) : weightData;
  if ((sizes as number[]).reduce((a, b) => a + b, 0) !== data.byteLength) return none;
  const kept: Uint8Array[] = [];
  const part: Uint8Array[] = [];
  let offset = 0;
  specs.forEach((spec, k) => {
    const bytes = new Uint8Array(data, offset, sizes[k]);
    (taken(spec) ? part : kept).push(bytes);
    offset += sizes[k]!;
  });
  const join = (chunks: Uint8Array[]) => {
    const joined = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    chunks.reduce((at, c) => (joined.set(c, at), at + c.length), 0);
    return joined.buffer;
  };
  return {
    rest: { ...artifacts, weightSpecs: specs.filter((spec) => !taken(spec)), weightData: join(kept) },
    part: { specs: specs.filter(taken), data: join(part) },
  };
}

/**
 * A model's artifacts split in two: the flow's (as `saveFlow` writes them)
 * and the base's, if any. A checkpoint's optimizer state (`~optimizer/...`)
 * is left out of both.
 */
export function separateBase(saved: tf.io.ModelArtifacts): { flow: tf.io.ModelArtifacts; base?: { description: unknown; direction: unknown; specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer } } {
  const artifacts = separateWeights(saved, OPTIMIZER_PREFIX).rest;
  const topology = artifacts.modelTopology as Record<string, unknown> | undefined;
  const distribution = topology !== null && typeof topology === 'object' && !(topology instanceof ArrayBuffer) ? topology.distribution as Record<string, unknown> | undefined : undefined;
  if (distribution === undefined) return { flow: artifacts };
  if (distribution === null || typeof distribution !== 'object') throw new FlowFormatError([`modelTopology.distribution: expected { direction, base }, got ${JSON.stringify(distribution)}`]);
  const specs = artifacts.weightSpecs ?? [];
  const first = specs.findIndex((spec) => typeof spec?.name === 'string' && spec.name.startsWith(BASE_PREFIX));
  const cut = first < 0 ? specs.length : first;
  if (specs.slice(cut).some((spec) => !spec.name.startsWith(BASE_PREFIX))) throw new FlowFormatError([`weightSpecs: the base's weights ("${BASE_PREFIX}...") must come after the flow's`]);
  const sizes = specs.map(byteSize);
  if (sizes.some((size) => size === undefined)) return { flow: artifacts }; // readSaved names the bad spec
  const offset = (sizes as number[]).slice(0, cut).reduce((a, b) => a + b, 0);
  const data = Array.isArray(artifacts.weightData) ? tf.io.concatenateArrayBuffers(artifacts.weightData) : artifacts.weightData ?? new ArrayBuffer(0);
  const { distribution: _base, ...flowTopology } = topology!;
  return {
    flow: { ...artifacts, modelTopology: flowTopology, weightSpecs: specs.slice(0, cut), weightData: data.slice(0, offset) },
    base: { description: distribution.base, direction: distribution.direction, specs: specs.slice(cut), data: data.slice(offset) },
  };
}

