/**
 * The executor: a network built from definition data, run forward (in node
 * order) or in reverse (in reverse node order), all inside `tf.tidy`.
 */
import * as tf from '@tensorflow/tfjs';
import type { GraphDef, ModuleNodeDef, Shape } from '../core/graph.js';
import { FreiaError, ShapeMismatchError, WiringError, formatShape } from '../core/errors.js';
import { toInternal, toPublic } from '../math/layout.js';
import { toDot, toMermaid, toSvg } from '../core/pictures.js';
import { moduleSpec, type InvertibleModule } from '../modules/index.js';
import { refKey, runSegmentByInversion, type SegmentNode } from './invertible-backprop.js';

/** One tensor per shape of `S`; a lone tensor when `S` has exactly one. */
export type Tensors<S extends readonly Shape[]> = S extends readonly [Shape]
  ? tf.Tensor
  : number extends S['length']
    ? tf.Tensor | tf.Tensor[]
    : { -readonly [K in keyof S]: tf.Tensor };

/** Conditions, when the network declares any. */
export interface RunOptions<C extends readonly Shape[] = readonly Shape[]> {
  /** Condition tensors in declaration order (a lone tensor for one condition). */
  readonly c?: Tensors<C> | tf.Tensor | readonly tf.Tensor[];
  /** Compute the log-det (default true); false returns zeros and saves the work. */
  readonly jac?: boolean;
}

/**
 * What a forward pass keeps for its gradient:
 * - `'store'` (default): every activation, as tfjs does; memory grows with depth;
 * - `'invert'`: only the outputs of each run of modules with an exact inverse;
 *   the backward pass recomputes each module's input from its output by the
 *   inverse pass (see docs/memory.md). Modules without an exact inverse keep
 *   their activations.
 */
export type GradientMemory = 'store' | 'invert';

/** Options of a forward pass: the conditions, the log-det, and what is kept for the gradient. */
export interface ForwardRunOptions<C extends readonly Shape[] = readonly Shape[]> extends RunOptions<C> {
  /** What the pass keeps for its gradient (default `'store'`); no effect outside a gradient tape. */
  readonly memory?: GradientMemory;
}

/** What `forward` and `inverse` return: outputs and the per-sample log|det J| of shape `[batch]`. */
export interface FlowResult<T> {
  readonly out: T;
  readonly logDet: tf.Tensor1D;
}

/**
 * What every built flow offers, whatever its shapes: the type that training,
 * distributions and other flow-generic code accept.
 */
export interface AnyFlow {
  readonly graph: GraphDef;
  readonly modules: readonly (InvertibleModule | null)[];
  readonly inputShapes: Shape[];
  readonly outputShapes: Shape[];
  readonly conditionShapes: Shape[];
  readonly trainableVariables: tf.Variable[];
  forward(x: tf.Tensor | readonly tf.Tensor[], options?: ForwardRunOptions): FlowResult<tf.Tensor | tf.Tensor[]>;
  inverse(z: tf.Tensor | readonly tf.Tensor[], options?: RunOptions): FlowResult<tf.Tensor | tf.Tensor[]>;
  dispose(): void;
}

/**
 * Runs `make`; if it throws, every tfjs variable created meanwhile is freed,
 * including those of a module whose constructor failed halfway, so nothing
 * half-built is left behind.
 */
export function withVariableCleanup<T>(make: () => T): T {
  const variablesBefore = new Set(Object.keys(tf.engine().registeredVariables));
  try {
    return make();
  } catch (error) {
    for (const [name, variable] of Object.entries(tf.engine().registeredVariables)) {
      if (!variablesBefore.has(name)) variable.dispose();
    }
    throw error;
  }
}

/**
 * A built network. `I`, `O`, `C` are the input, output and condition shapes
 * (channels first, without batch) as literal tuple types.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { inn, subnets, ready } from 'freia-ts';
 * await ready();
 * const flow = inn.input([2]).allInOne({ subnet: subnets.mlp({ hidden: 32 }) }).build();
 * const { out: z, logDet } = flow.forward(tf.randomNormal([8, 2]));
 * const { out: x } = flow.inverse(z);
 * ```
 */
export class Flow<I extends readonly Shape[] = readonly Shape[], O extends readonly Shape[] = readonly Shape[], C extends readonly Shape[] = readonly Shape[]> implements AnyFlow {
  /** The module instance of each node (null for inputs, conditions, outputs). */
  readonly modules: readonly (InvertibleModule | null)[];
  private readonly inputNodes: number[];
  private readonly conditionNodes: number[];
  private readonly outputNodes: number[];

  /**
   * Instantiates every module of `graph` with fresh weights, or adopts
   * `modules` (one per node, null where not a module) when the caller made them
   * (the FrEIA importer does, to load weights before the flow exists).
   */
  constructor(readonly graph: GraphDef, modules?: readonly (InvertibleModule | null)[]) {
    this.modules = modules ?? withVariableCleanup(() => graph.nodes.map((node) => (node.kind === 'module' ? moduleSpec(node.module.kind).create(node.module) : null)));
    const indicesOf = (kind: string) => graph.nodes.flatMap((n, i) => (n.kind === kind ? [i] : []));
    this.inputNodes = indicesOf('input');
    this.conditionNodes = indicesOf('condition');
    this.outputNodes = indicesOf('output');
  }

  /** Shapes of the inputs, outputs and conditions, in declaration order. */
  get inputShapes(): Shape[] {
    return this.inputNodes.map((i) => (this.graph.nodes[i] as { shape: Shape }).shape);
  }
  get outputShapes(): Shape[] {
    return this.outputNodes.map((i) => (this.graph.nodes[i] as { shape: Shape }).shape);
  }
  get conditionShapes(): Shape[] {
    return this.conditionNodes.map((i) => (this.graph.nodes[i] as { shape: Shape }).shape);
  }

  /** Every trainable variable of every module. */
  get trainableVariables(): tf.Variable[] {
    return this.modules.flatMap((m) => (m ? m.trainableVariables : []));
  }

  /**
   * x → z. With `memory: 'invert'`, a gradient of the result (`tf.variableGrads`)
   * recomputes activations by inversion instead of keeping them.
   */
  forward(x: Tensors<I> | readonly tf.Tensor[], options: ForwardRunOptions<C> = {}): FlowResult<Tensors<O>> {
    return this.run(x, options, false) as FlowResult<Tensors<O>>;
  }

  /** z → x. */
  inverse(z: Tensors<O> | readonly tf.Tensor[], options: RunOptions<C> = {}): FlowResult<Tensors<I>> {
    return this.run(z, options, true) as FlowResult<Tensors<I>>;
  }

  /** The network as a Graphviz DOT digraph (nodes, module kinds, shapes on the edges, dashed conditions). */
  toDot(title?: string): string {
    return toDot(this.graph, title);
  }

  /** The network as a Mermaid flowchart. */
  toMermaid(): string {
    return toMermaid(this.graph);
  }

  /** The network as SVG, laid out by Graphviz compiled to WebAssembly. */
  toSvg(title?: string): Promise<string> {
    return toSvg(this.graph, title);
  }

  /** Frees every parameter. */
  dispose(): void {
    for (const m of this.modules) m?.dispose();
  }

  private checkTensors(kind: string, nodes: number[], given: readonly tf.Tensor[], batch: number | undefined): number {
    if (given.length !== nodes.length) {
      const names = nodes.map((i) => `"${this.graph.nodes[i].name}"`).join(', ') || 'none';
      throw new WiringError(`expected ${nodes.length} ${kind} tensor(s) (${names}), got ${given.length}`);
    }
    given.forEach((t, k) => {
      const node = this.graph.nodes[nodes[k]] as { name: string; shape: Shape };
      const expected = `[batch, ${node.shape.join(', ')}]`;
      if (!(t instanceof tf.Tensor)) throw new ShapeMismatchError(`${kind} "${node.name}"`, `a tensor ${expected}`, typeof t);
      if (t.rank !== node.shape.length + 1 || t.shape.slice(1).some((d, j) => d !== node.shape[j])) {
        throw new ShapeMismatchError(`${kind} "${node.name}"`, expected, formatShape(t.shape));
      }
      batch ??= t.shape[0];
      if (t.shape[0] !== batch) {
        throw new ShapeMismatchError(`${kind} "${node.name}"`, `batch size ${batch} like the other tensors`, formatShape(t.shape));
      }
    });
    return batch ?? 0;
  }

  private run(xs: tf.Tensor | readonly tf.Tensor[], options: ForwardRunOptions<C>, rev: boolean): FlowResult<tf.Tensor | tf.Tensor[]> {
    const memory: unknown = options.memory ?? 'store';
    if (memory !== 'store' && memory !== 'invert') {
      throw new FreiaError(`option "memory" must be 'store' or 'invert', got ${JSON.stringify(memory)}`);
    }
    const byInversion = memory === 'invert' && !rev;
    const inputs = xs instanceof tf.Tensor ? [xs] : [...xs];
    const c = options.c;
    const conds = c === undefined ? [] : c instanceof tf.Tensor ? [c] : [...(c as readonly tf.Tensor[])];
    const entry = rev ? this.outputNodes : this.inputNodes;
    const exit = rev ? this.inputNodes : this.outputNodes;
    const batch = this.checkTensors(rev ? 'output' : 'input', entry, inputs, undefined);
    this.checkTensors('condition', this.conditionNodes, conds, batch);
    const jac = options.jac ?? true;

    const result = tf.tidy(() => {
      const values = new Map<string, tf.Tensor>();
      const condValues = new Map<number, tf.Tensor>();
      this.conditionNodes.forEach((node, k) => condValues.set(node, toInternal(conds[k])));
      entry.forEach((node, k) => {
        const def = this.graph.nodes[node];
        values.set(def.kind === 'output' ? refKey(def.input) : refKey({ node, output: 0 }), toInternal(inputs[k]));
      });
      let logDet: tf.Tensor = tf.zeros([batch]);
      const order = this.graph.nodes.map((_, i) => i);
      if (rev) order.reverse();
      let segment: SegmentNode[] = [];
      const runSegment = () => {
        if (segment.length === 0) return;
        const call = (step: SegmentNode, stepXs: tf.Tensor[], stepCs: tf.Tensor[], stepRev: boolean, stepJac: boolean) => this.callModule(step.index, step.node, stepXs, stepCs, stepRev, stepJac);
        const segmentLogDet = runSegmentByInversion(segment, values, condValues, batch, jac, call);
        if (segmentLogDet !== 0) logDet = tf.add(logDet, segmentLogDet);
        segment = [];
      };
      for (const index of order) {
        const node = this.graph.nodes[index];
        if (node.kind !== 'module') continue;
        if (byInversion && (moduleSpec(node.module.kind).recomputeByInversion ?? true)) {
          segment.push({ index, node, module: this.modules[index]! });
          continue;
        }
        runSegment();
        const outRefs = node.module.outputShapes.map((_, output) => refKey({ node: index, output }));
        const inKeys = rev ? outRefs : node.inputs.map(refKey);
        const args = inKeys.map((key) => values.get(key)!);
        const cs = node.conditions.map((cn) => condValues.get(cn)!);
        const { out, logDet: moduleLogDet } = this.callModule(index, node, args, cs, rev, jac);
        const outKeys = rev ? node.inputs.map(refKey) : outRefs;
        outKeys.forEach((key, k) => values.set(key, out[k]));
        if (jac && moduleLogDet !== 0) logDet = tf.add(logDet, moduleLogDet);
      }
      runSegment();
      const outs = exit.map((node) => {
        const def = this.graph.nodes[node];
        return toPublic(values.get(def.kind === 'output' ? refKey(def.input) : refKey({ node, output: 0 }))!);
      });
      return { outs, logDet: tf.reshape(logDet, [batch]) as tf.Tensor1D };
    });
    return { out: result.outs.length === 1 ? result.outs[0] : result.outs, logDet: result.logDet };
  }

  private callModule(index: number, node: ModuleNodeDef, xs: tf.Tensor[], cs: tf.Tensor[], rev: boolean, jac: boolean) {
    const module = this.modules[index]!;
    try {
      const result = module.forward(xs, cs, { rev, jac });
      const expected = rev ? node.inputs.length : node.module.outputShapes.length;
      if (result.out.length !== expected) {
        throw new FreiaError(`returned ${result.out.length} tensors, expected ${expected}`);
      }
      return result;
    } catch (error) {
      if (error instanceof FreiaError && error.message.startsWith(`node "${node.name}"`)) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new FreiaError(`node "${node.name}" (${node.module.kind}, ${rev ? 'inverse' : 'forward'}, inputs ${node.module.inputShapes.map(formatShape).join(', ')}): ${message}`, { cause: error });
    }
  }
}
