/**
 * FrEIA models in freia-ts: `importFreia` turns a `freia-reference/1`
 * document (a FrEIA model's graph, state dict and recorded evaluations; see
 * docs/freia-reference-format.md) into a runnable {@link Flow} with its
 * weights and buffers (`verifyFreia`, in freia-verify.ts, re-runs the
 * recorded evaluations).
 */
import * as tf from '@tensorflow/tfjs';
import type { GraphDef, ModuleDef, ModuleNodeDef, NodeDef, Shape, TensorRef } from '../core/graph.js';
import { className, deepFreeze } from '../core/graph.js';
import { Flow, withVariableCleanup, type AnyFlow } from '../runtime/flow.js';
import { DisposedError, FreiaError, formatShape } from '../core/errors.js';
import { copyPlain, describeValue, elementCount, permutationProblem, sizeLimits } from '../core/validation.js';
import { checkExpectedFlow, type ExpectedFlow, type FlowExpectationOf } from './expectation.js';
import { defineModule, derivedKeys, freiaArgs, moduleSpec, type InvertibleModule, type SubnetSpec } from '../modules/index.js';
import { subnetSpecProblems } from '../modules/subnets.js';

/**
 * A tensor in the document: row-major data, channels first.
 *
 * @group Import/export
 */
export interface FreiaTensor {
  /** The tensor's shape. */
  readonly shape: readonly number[];
  /** Its values, flattened in row-major order. */
  readonly data: readonly number[];
  /** Its dtype (default float32). */
  readonly dtype?: 'float32' | 'int64' | 'int32' | 'bool';
}

/**
 * One node of a {@link FreiaDocument}'s graph: an input or condition, a module (FrEIA's class, its arguments and subnet, its parameters' prefix) or an output.
 *
 * @group Import/export
 */
export type FreiaNode =
  | {
    /** The node's role. */
    readonly kind: 'input' | 'condition';
    /** Its name. */
    readonly name: string;
    /** Its shape, without batch. */
    readonly shape: readonly number[];
  }
  | {
      /** The node's role. */
      readonly kind: 'module';
      /** Its name. */
      readonly name: string;
      /** FrEIA's class name (`'GLOWCouplingBlock'`). */
      readonly module: string;
      /** The outputs it reads, as `[node name, output index]`. */
      readonly inputs: readonly (readonly [string, number])[];
      /** The condition nodes it reads, by name. */
      readonly conditions: readonly string[];
      /** FrEIA's constructor arguments (snake_case). */
      readonly args: Readonly<Record<string, unknown>>;
      /** Its subnet's description, or null. */
      readonly subnet: SubnetSpec | null;
      /** Its output shapes. */
      readonly output_shapes: readonly (readonly number[])[];
      /** The prefix of its keys in FrEIA's state dict. */
      readonly param_prefix: string;
    }
  | {
    /** The node's role. */
    readonly kind: 'output';
    /** Its name. */
    readonly name: string;
    /** The output it exposes, as `[node name, output index]`. */
    readonly inputs: readonly (readonly [string, number])[];
    /** Its shape. */
    readonly shape: readonly number[];
  };

/**
 * One recorded evaluation of a {@link FreiaDocument}: inputs and conditions, FrEIA's outputs and log-det both ways; {@link verifyFreia} compares ours with them.
 *
 * @group Import/export
 */
export interface FreiaCase {
  /** The inputs fed forward. */
  readonly inputs: readonly FreiaTensor[];
  /** Optional: each module node's forward outputs by node name, so that `verify` can name the first node that differs. */
  readonly nodes?: Readonly<Record<string, readonly FreiaTensor[]>>;
  /** The conditions. */
  readonly conditions: readonly FreiaTensor[];
  /** FrEIA's forward outputs. */
  readonly outputs: readonly FreiaTensor[];
  /** FrEIA's forward log-det. */
  readonly log_jac_det: FreiaTensor;
  /** FrEIA's inverse of `outputs`. */
  readonly rev_inputs: readonly FreiaTensor[];
  /** FrEIA's inverse log-det. */
  readonly rev_log_jac_det: FreiaTensor;
}

/**
 * A `freia-reference/1` document.
 *
 * @group Import/export
 */
export interface FreiaDocument {
  /** `'freia-reference/1'`. */
  readonly format: string;
  /** The network's name. */
  readonly name: string;
  /** The network's nodes. */
  readonly graph: {
    /** Every node of the network. */
    readonly nodes: readonly FreiaNode[];
  };
  /** FrEIA's state dict, by key. */
  readonly params: Readonly<Record<string, FreiaTensor>>;
  /** Recorded evaluations to verify against. */
  readonly cases?: readonly FreiaCase[];
  /** Remarks of the exporter. */
  readonly notes?: readonly string[];
  /**
   * Optional: the CRC-32 (8 hex digits) of each parameter's bytes at export time, by state-dict key,
   * so that `verify` can name a parameter changed since (see docs/freia-reference-format.md).
   */
  readonly param_crc32?: Readonly<Record<string, string>>;
}

/**
 * An import that found problems; `problems` lists every one of them.
 *
 * @group Errors
 */
export class FreiaImportError extends FreiaError {
  /** Always `'FreiaImportError'` (for `error.name` checks). */
  override readonly name = 'FreiaImportError';
  /**
   * @param document - Which document (its name or path).
   * @param problems - Each field at fault.
   */
  constructor(readonly document: string, readonly problems: readonly string[]) {
    super(`cannot import FrEIA model "${document}": ${problems.length} problem(s)\n  - ${problems.join('\n  - ')}`);
  }
}

export const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const isShape = (value: unknown, min = 1): value is number[] => Array.isArray(value) && value.every((d) => Number.isInteger(d) && d >= min) && elementCount(value) !== Infinity;
const isRef = (value: unknown): boolean => Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && Number.isInteger(value[1]) && value[1] >= 0;

/** Problems with one document tensor: its shape (and size), dtype and data (length, finite numbers). */
export function tensorProblems(value: unknown, at: string): string[] {
  if (!isObject(value)) return [`${at}: expected { shape, data, dtype? }, got ${describeValue(value)}`];
  if (!isShape(value.shape, 0)) return [`${at}.shape: expected a list of whole numbers, at most ${sizeLimits().tensorElements} elements, got ${describeValue(value.shape)}`];
  if (value.dtype !== undefined && !['float32', 'int64', 'int32', 'bool'].includes(value.dtype as string)) return [`${at}.dtype: expected "float32", "int64", "int32" or "bool", got ${describeValue(value.dtype)}`];
  const data = value.data;
  const size = elementCount(value.shape);
  if (!Array.isArray(data) || data.length !== size) return [`${at}.data: expected ${size} numbers for shape ${formatShape(value.shape)}, got ${Array.isArray(data) ? `${data.length}` : describeValue(data)}`];
  const integer = value.dtype === 'int64' || value.dtype === 'int32' || value.dtype === 'bool';
  const bad = data.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)));
  if (bad >= 0) return [`${at}.data[${bad}]: expected ${integer ? 'a whole number' : 'a finite number'}, got ${describeValue(data[bad])}`];
  return [];
}

/**
 * Checks the structure of a `freia-reference/1` document (nodes, names,
 * shapes and sizes, references, arguments, subnets, parameters and their
 * numbers) before anything is built; every problem names its field.
 * Recorded evaluations (`cases`) are the verifier's to check.
 */
function documentProblems(doc: unknown): string[] {
  if (!isObject(doc)) return [`document: expected a freia-reference/1 object, got ${describeValue(doc)}`];
  const problems: string[] = [];
  if (doc.format !== 'freia-reference/1') return [`format is ${describeValue(doc.format)}, expected "freia-reference/1"`];
  if (doc.name !== undefined && typeof doc.name !== 'string') problems.push(`name: expected a string, got ${describeValue(doc.name)}`);
  const graph = doc.graph;
  if (!isObject(graph) || !Array.isArray(graph.nodes) || graph.nodes.length === 0) problems.push('graph.nodes: expected a non-empty list of nodes');
  else {
    graph.nodes.forEach((node: unknown, i: number) => {
      const at = `graph.nodes[${i}]`;
      if (!isObject(node)) return void problems.push(`${at}: expected an object`);
      if (typeof node.name !== 'string' || node.name === '') problems.push(`${at}.name: expected a non-empty string`);
      const shapeOk = (value: unknown, field: string) => isShape(value) || problems.push(`${at}.${field}: expected a list of positive whole numbers, at most ${sizeLimits().tensorElements} elements, got ${describeValue(value)}`);
      switch (node.kind) {
        case 'input':
        case 'condition':
          shapeOk(node.shape, 'shape');
          return;
        case 'output':
          if (!Array.isArray(node.inputs) || node.inputs.length !== 1 || !isRef(node.inputs[0])) problems.push(`${at}.inputs: expected one [node name, output index]`);
          shapeOk(node.shape, 'shape');
          return;
        case 'module':
          if (typeof node.module !== 'string' || node.module === '') problems.push(`${at}.module: expected a module class name`);
          if (!Array.isArray(node.inputs) || !node.inputs.every(isRef)) problems.push(`${at}.inputs: expected a list of [node name, output index]`);
          if (!Array.isArray(node.conditions) || !node.conditions.every((c) => typeof c === 'string')) problems.push(`${at}.conditions: expected a list of condition node names`);
          if (!isObject(node.args)) problems.push(`${at}.args: expected an object of constructor arguments`);
          if (typeof node.param_prefix !== 'string') problems.push(`${at}.param_prefix: expected a string`);
          if (!Array.isArray(node.output_shapes) || !node.output_shapes.every((s) => isShape(s))) problems.push(`${at}.output_shapes: expected a list of shapes, each at most ${sizeLimits().tensorElements} elements`);
          if (node.subnet !== null && node.subnet !== undefined) problems.push(...subnetSpecProblems(node.subnet, `${at}.subnet (node "${String(node.name)}")`));
          if (node.module === 'Inverse' && isObject(node.args) && isObject(node.args.module) && node.args.module.subnet !== null && node.args.module.subnet !== undefined) {
            problems.push(...subnetSpecProblems(node.args.module.subnet, `${at}.args.module.subnet (node "${String(node.name)}")`));
          }
          return;
        default:
          problems.push(`${at}.kind: is ${describeValue(node.kind)}, expected "input", "condition", "module" or "output"`);
      }
    });
  }
  if (!isObject(doc.params)) problems.push('params: expected an object of tensors by state-dict name');
  else for (const [key, value] of Object.entries(doc.params)) problems.push(...tensorProblems(value, `params["${key}"]`));
  return problems;
}

/** Problems with the permutation buffers of the lowered modules (those whose entry declares them). */
function permutationProblems(doc: FreiaDocument, lowered: Lowered): string[] {
  const problems: string[] = [];
  lowered.graph.nodes.forEach((node, i) => {
    if (node.kind !== 'module' || lowered.failed.has(i)) return;
    const prefix = lowered.prefixes.get(i) ?? '';
    for (const [perm, inverse] of moduleSpec(node.module.kind).permutations ?? []) {
      const [p, q] = [doc.params[prefix + perm], doc.params[prefix + inverse]];
      const integer = (t: FreiaTensor | undefined) => t !== undefined && (t.dtype === 'int64' || t.dtype === 'int32') && t.shape.length === 1;
      if (!integer(p)) continue; // a soft permutation (a float matrix) or a missing parameter, reported elsewhere
      const problem = permutationProblem(p.data, integer(q) ? q!.data : undefined);
      if (problem) problems.push(`node "${node.name}": parameter "${prefix + perm}" is not a permutation with its inverse "${prefix + inverse}": ${problem}`);
    }
  });
  return problems;
}

/**
 * A document tensor as a tfjs tensor (float32 or int32).
 *
 * @example
 * ```ts
 * import { toTensor } from 'freia-ts';
 * const t = toTensor({ shape: [2, 2], data: [1, 0, 0, 1] }); // a float32 [2, 2] tensor
 * ```
 *
 * @group Import/export
 */
export function toTensor(t: FreiaTensor): tf.Tensor {
  const dtype = t.dtype === 'int64' || t.dtype === 'int32' ? 'int32' : t.dtype === 'bool' ? 'bool' : 'float32';
  return tf.tensor(t.data as number[], [...t.shape], dtype);
}

/** The graph of a document as our definition data; every problem is collected, not just the first. */
interface Lowered {
  readonly graph: GraphDef;
  readonly prefixes: Map<number, string>;
  /** Module nodes that could not be defined; they stand in with FrEIA's recorded output shapes. */
  readonly failed: Set<number>;
}

function lowerGraph(doc: FreiaDocument, problems: string[]): Lowered {
  const index = new Map<string, number>();
  const nodes: NodeDef[] = [];
  const prefixes = new Map<number, string>();
  const failed = new Set<number>();
  const shapeOfRef = (ref: TensorRef): Shape | undefined => {
    const node = nodes[ref.node];
    if (!node) return undefined;
    return node.kind === 'module' ? node.module.outputShapes[ref.output] : node.kind === 'output' ? node.shape : node.shape;
  };
  const readers = new Map<string, string>();
  const resolve = (where: string, [name, output]: readonly [string, number]): TensorRef | null => {
    const node = index.get(name);
    if (node === undefined) {
      problems.push(`${where}: reads "${name}", which is not defined before it (unknown node, or a cycle)`);
      return null;
    }
    const count = nodes[node].kind === 'module' ? (nodes[node] as ModuleNodeDef).module.outputShapes.length : nodes[node].kind === 'input' ? 1 : 0;
    if (output >= count) {
      problems.push(`${where}: reads output ${output} of "${name}", which has ${count} output(s)`);
      return null;
    }
    const key = `${node}:${output}`;
    const reader = readers.get(key);
    if (reader !== undefined) problems.push(`${where}: reads output ${output} of "${name}", which ${reader} reads already (each output feeds exactly one node)`);
    else readers.set(key, where);
    return { node, output };
  };
  for (const n of doc.graph.nodes) {
    if (index.has(n.name)) problems.push(`node "${n.name}" is defined twice`);
    if (n.kind === 'input' || n.kind === 'condition') {
      index.set(n.name, nodes.length);
      nodes.push({ kind: n.kind, name: n.name, shape: [...n.shape] });
    } else if (n.kind === 'output') {
      const ref = resolve(`output "${n.name}"`, n.inputs[0]);
      if (!ref) continue;
      const shape = shapeOfRef(ref);
      if (shape && formatShape(shape) !== formatShape(n.shape)) problems.push(`output "${n.name}": shape is ${formatShape(n.shape)}, but it reads ${formatShape(shape)}`);
      index.set(n.name, nodes.length);
      nodes.push({ kind: 'output', name: n.name, input: ref, shape: [...n.shape] });
    } else if (n.kind === 'module') {
      const refs = n.inputs.map((input) => resolve(`node "${n.name}"`, input));
      const conditions = n.conditions.map((c) => {
        const i = index.get(c);
        if (i === undefined || nodes[i].kind !== 'condition') problems.push(`node "${n.name}": condition "${c}" is not a condition node defined before it`);
        return i;
      });
      if (refs.some((r) => !r) || conditions.some((c) => c === undefined)) continue;
      const inputRefs = refs as TensorRef[];
      const index_ = nodes.length;
      index.set(n.name, index_);
      prefixes.set(index_, n.param_prefix);
      let module: ModuleDef;
      try {
        module = defineModule(
          n.name,
          n.module,
          freiaArgs(n.module, n.args, n.subnet),
          inputRefs.map((r) => shapeOfRef(r)!),
          (conditions as number[]).map((c) => (nodes[c] as { shape: Shape }).shape),
        );
        const expected = n.output_shapes.map((s) => formatShape(s)).join(', ');
        const ours = module.outputShapes.map((s) => formatShape(s)).join(', ');
        if (expected !== ours) problems.push(`node "${n.name}" (${n.module}): FrEIA's output shapes are ${expected}, ours ${ours}`);
      } catch (error) {
        problems.push(error instanceof Error ? error.message.replace(/^(?!node )/, `node "${n.name}" (${n.module}): `) : String(error));
        // Stand in with FrEIA's recorded shapes, so the nodes after it are still checked.
        failed.add(index_);
        module = { kind: n.module, args: {}, inputShapes: [], conditionShapes: [], outputShapes: n.output_shapes.map((s) => [...s]) };
      }
      nodes.push({ kind: 'module', name: n.name, module, inputs: inputRefs, conditions: conditions as number[] });
    } else {
      problems.push(`node "${(n as { name?: string }).name}": unknown node kind "${(n as { kind?: string }).kind}"`);
    }
  }
  return { graph: deepFreeze({ nodes }), prefixes, failed };
}

/** Loads one module's entries (those under `prefix`) and notes what is missing; problems are collected. */
function loadModule(doc: FreiaDocument, module: InvertibleModule, node: string, def: ModuleDef, prefix: string, problems: string[], claimed: Set<string>): void {
  // Cast: a definition's args are its options object.
  const derived = new Set(derivedKeys(def.kind, def.args as Record<string, unknown>));
  for (const key of Object.keys(doc.params)) {
    if (!key.startsWith(prefix)) continue;
    const local = key.slice(prefix.length);
    if (!module.params.has(local)) {
      if (derived.has(local)) claimed.add(key);
      continue;
    }
    claimed.add(key);
    const value = toTensor(doc.params[key]);
    try {
      module.loadParam(local, value);
    } catch (error) {
      problems.push(`node "${node}": ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      value.dispose();
    }
  }
  for (const local of module.params.keys()) {
    if (!(prefix + local in doc.params)) problems.push(`node "${node}": missing parameter "${prefix + local}"`);
  }
}

function unclaimed(doc: FreiaDocument, claimed: Set<string>, problems: string[]): void {
  for (const key of Object.keys(doc.params)) {
    if (!claimed.has(key)) problems.push(`parameter "${key}" belongs to no module (no node's param_prefix owns it, or the module has no such parameter)`);
  }
}

/** Creates each module that could be defined and loads its parameters; problems are collected. */
function createAndLoad(doc: FreiaDocument, lowered: Lowered, problems: string[]): (InvertibleModule | null)[] {
  const { graph, prefixes, failed } = lowered;
  const claimed = new Set<string>();
  const owned = (prefix: string) => Object.keys(doc.params).filter((key) => key.startsWith(prefix));
  const modules = graph.nodes.map((node, i) => {
    if (node.kind !== 'module') return null;
    const prefix = prefixes.get(i)!;
    if (failed.has(i)) {
      // Its problem is reported already; its parameters are not also "unowned".
      for (const key of owned(prefix)) claimed.add(key);
      return null;
    }
    let module: InvertibleModule;
    try {
      module = withVariableCleanup(() => moduleSpec(node.module.kind).create(node.module));
    } catch (error) {
      problems.push(`node "${node.name}" (${node.module.kind}): ${error instanceof Error ? error.message : String(error)}`);
      for (const key of owned(prefix)) claimed.add(key);
      return null;
    }
    loadModule(doc, module, node.name, node.module, prefix, problems, claimed);
    return module;
  });
  unclaimed(doc, claimed, problems);
  return modules;
}

/**
 * Turns a FrEIA export into a runnable flow with FrEIA's weights and buffers.
 * An unknown module, a missing parameter or one of the wrong shape fails with
 * a {@link FreiaImportError} that lists every problem found.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { importFreia, ready } from 'freia-ts';
 * await ready();
 * const flow = importFreia(JSON.parse(readFileSync('glow_fc.json', 'utf8')));
 * ```
 *
 * With `expect` (shapes, or an unbuilt chain of the same modules) the flow
 * comes back typed, after the document's graph is checked against it (a
 * {@link FlowMismatchError} before any weight is created):
 *
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { readFileSync } from 'node:fs';
 * import { importFreia } from 'freia-ts';
 * const typed = importFreia(JSON.parse(readFileSync('glow_fc.json', 'utf8')), { expect: { inputs: [[4]], outputs: [[4]] } });
 * const { out: z } = typed.forward(tf.randomNormal([8, 4]));   // a lone tensor, [batch, 4]
 * ```
 *
 * @group Import/export
 */
export function importFreia<const E extends FlowExpectationOf>(doc: FreiaDocument, options: { readonly expect: E }): ExpectedFlow<E>;
export function importFreia(doc: FreiaDocument, options?: { readonly expect?: undefined }): Flow;
export function importFreia(doc: FreiaDocument, options: { readonly expect?: unknown } = {}): Flow {
  const name = documentName(doc);
  const structure = documentProblems(doc);
  if (structure.length) throw new FreiaImportError(name, structure);
  doc = copyPlain(doc); // lowering freezes definition data: never the caller's
  const problems: string[] = [];
  const lowered = lowerGraph(doc, problems);
  problems.push(...permutationProblems(doc, lowered));
  if (!problems.length) checkExpectedFlow(`importFreia "${name}"`, lowered.graph, options?.expect);
  // Modules are still made (and freed) after a graph problem, so that every parameter problem is listed too.
  let modules: (InvertibleModule | null)[] = [];
  try {
    modules = withVariableCleanup(() => createAndLoad(doc, lowered, problems));
    if (problems.length) throw new FreiaImportError(name, problems);
    return new Flow(lowered.graph, modules);
  } catch (error) {
    for (const m of modules) m?.dispose();
    throw error;
  }
}

/** The document's name for messages, whatever the document is. */
function documentName(doc: unknown): string {
  return isObject(doc) && typeof doc.name === 'string' ? doc.name : '(unnamed)';
}

/**
 * The graph of a FrEIA export as definition data (no weights; for pictures and inspection).
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { freiaGraph, toMermaid, type FreiaDocument } from 'freia-ts';
 * const doc = JSON.parse(readFileSync('glow.freia.json', 'utf8')) as FreiaDocument;
 * console.log(toMermaid(freiaGraph(doc))); // the exported network, without loading weights
 * ```
 *
 * @group Import/export
 */
export function freiaGraph(doc: FreiaDocument): GraphDef {
  const name = documentName(doc);
  const structure = documentProblems(doc);
  if (structure.length) throw new FreiaImportError(name, structure);
  const problems: string[] = [];
  const { graph } = lowerGraph(copyPlain(doc), problems);
  if (problems.length) throw new FreiaImportError(name, problems);
  return graph;
}

/**
 * Loads the weights of a FrEIA export into a flow built here (with the typed
 * builders or the FrEIA-style API), matching module nodes by name. Every
 * node or parameter that cannot be placed is reported at once in a
 * {@link FreiaImportError}, and the flow's parameters are then left as they were.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { inn, loadFreiaWeights } from 'freia-ts';
 * const g = inn.graph();
 * const x = g.input([4], { name: 'in0' });
 * const flow = g.build({ outputs: [g.actNorm(x, { name: 'b0' })] });
 * loadFreiaWeights(flow, JSON.parse(readFileSync('actnorm.json', 'utf8')));
 * ```
 *
 * @group Import/export
 */
export function loadFreiaWeights(flow: AnyFlow, doc: FreiaDocument): void {
  if (flow.isDisposed) throw new DisposedError('loadFreiaWeights: the flow has been disposed');
  const structure = documentProblems(doc);
  if (structure.length) throw new FreiaImportError(documentName(doc), structure);
  const problems: string[] = [];
  const claimed = new Set<string>();
  const byName = new Map(flow.graph.nodes.map((n, i) => [n.name, i]));
  const backup = flow.modules.flatMap((m) => (m ? [...m.params.values()].map((v) => [v, v.clone()] as const) : []));
  const placed = new Set<number>();
  try {
    for (const n of doc.graph.nodes) {
      if (n.kind !== 'module') continue;
      const i = byName.get(n.name);
      const node = i === undefined ? undefined : flow.graph.nodes[i];
      if (i === undefined || !node || node.kind !== 'module') {
        problems.push(`node "${n.name}" (${n.module}) of "${doc.name}" has no module node of that name in the flow`);
        for (const key of Object.keys(doc.params)) if (key.startsWith(n.param_prefix)) claimed.add(key);
        continue;
      }
      const ours = className(node.module.kind);
      if (ours !== n.module) {
        problems.push(`node "${n.name}": the flow has a ${ours}, the document a ${n.module}`);
        for (const key of Object.keys(doc.params)) if (key.startsWith(n.param_prefix)) claimed.add(key);
        continue;
      }
      placed.add(i);
      const wrongPermutations = permutationProblems(doc, { graph: { nodes: [node] }, prefixes: new Map([[0, n.param_prefix]]), failed: new Set() });
      if (wrongPermutations.length) {
        problems.push(...wrongPermutations);
        for (const key of Object.keys(doc.params)) if (key.startsWith(n.param_prefix)) claimed.add(key);
        continue;
      }
      loadModule(doc, flow.modules[i]!, n.name, node.module, n.param_prefix, problems, claimed);
    }
    flow.graph.nodes.forEach((node, i) => {
      if (node.kind === 'module' && !placed.has(i) && flow.modules[i]!.params.size > 0) {
        problems.push(`node "${node.name}" of the flow has parameters but no node of that name in "${doc.name}"`);
      }
    });
    unclaimed(doc, claimed, problems);
    if (problems.length) throw new FreiaImportError(doc.name, problems);
  } catch (error) {
    // Whatever failed, and wherever: every parameter goes back to its old value.
    for (const [variable, saved] of backup) variable.assign(saved);
    throw error;
  } finally {
    for (const [, saved] of backup) saved.dispose();
  }
}
