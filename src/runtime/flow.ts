/**
 * The executor: a network built from definition data, run forward (in node
 * order) or in reverse (in reverse node order), all inside `tf.tidy`.
 */
import * as tf from '@tensorflow/tfjs';
import { className, type GraphDef, type ModuleNodeDef, type Shape } from '../core/graph.js';
import { DisposedError, FreiaError, NonFiniteError, ShapeMismatchError, ValidationError, WiringError, formatShape } from '../core/errors.js';
import { checkOptions, describeValue, is, sizeLimits } from '../core/validation.js';
import { internalShape } from '../math/layout.js';
import { toInternal, toPublic } from '../math/layout.js';
import { toDot, toMermaid, toSvg } from '../core/pictures.js';
import { moduleSpec, type InvertibleModule } from '../modules/index.js';
import type { FormatShape, ShapeError } from '../types/shape.js';
import { withVariableCleanup } from '../modules/base.js';
import { refKey, runSegmentByInversion, type SegmentNode } from './invertible-backprop.js';

/**
 * One tensor per shape of `S`; a lone tensor when `S` has exactly one.
 *
 * @group Building
 */
export type Tensors<S extends readonly Shape[]> = S extends readonly [Shape]
  ? tf.Tensor
  : number extends S['length']
    ? tf.Tensor | tf.Tensor[]
    : { -readonly [K in keyof S]: tf.Tensor } & SeveralTensors<S['length']>;

declare const severalTensors: unique symbol;

/**
 * Marks a tuple of `N` tensors (a flow's several outputs, inputs or
 * conditions), so that where one tensor was expected the compiler's message
 * starts with `[Tensor, Tensor] & SeveralTensors<2>`: index it (`out[0]`)
 * or destructure it (`const [z1, z2] = out`). Types only.
 *
 * @group Building
 */
export interface SeveralTensors<N extends number> {
  /** @internal */
  readonly [severalTensors]?: N;
}

/**
 * Conditions, when the network declares any.
 *
 * @group Building
 */
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
 *
 * @group Building
 */
export type GradientMemory = 'store' | 'invert';

/**
 * Options of a forward pass: the conditions, the log-det, and what is kept for the gradient.
 *
 * @group Building
 */
export interface ForwardRunOptions<C extends readonly Shape[] = readonly Shape[]> extends RunOptions<C> {
  /** What the pass keeps for its gradient (default `'store'`); no effect outside a gradient tape. */
  readonly memory?: GradientMemory;
}

/** tfjs's rank of a batch of streams of shape `S`: `[784]` gives `R2` (a `Tensor2D`), `[3, 32, 32]` `R4`. */
export type BatchRank<S extends Shape> = S['length'] extends keyof BatchRanks ? BatchRanks[S['length']] : tf.Rank;
interface BatchRanks {
  0: tf.Rank.R1;
  1: tf.Rank.R2;
  2: tf.Rank.R3;
  3: tf.Rank.R4;
  4: tf.Rank.R5;
  5: tf.Rank.R6;
}

/** The rank a tensor's type carries (`tf.Rank` itself when the type does not know it). */
type RankOfTensor<X> = X extends tf.Tensor<infer R> ? R : tf.Rank;

/** tfjs's name for a tensor of rank `R`, for messages. */
type TensorName<R> = R extends `R${infer N extends number}` ? `Tensor${N}D` : 'Tensor';

/** `[batch, ...S]` as people write it. */
type BatchShape<S extends Shape> = `[batch${S extends readonly [] ? '' : `, ${FormatShape<S> extends `[${infer Inner}]` ? Inner : never}`}]`;

/** The sizes a tensor type carries, where it has literal ones (tfjs's own types never do, but a caller's may), against `[batch, ...S]`. */
type StaticSizesFit<X, S extends Shape> = X extends { readonly shape: infer Sizes }
  ? SizesFit<Sizes, [number, ...S]>
  : true;
// Indexed rather than inferred: an intersection such as `[number, number] & [8, 784]` infers as `number[]` but indexes to `784`.
type SizesFit<Sizes, Expected extends readonly number[]> = {
  [K in keyof Expected]: K extends keyof Sizes ? (number extends Sizes[K] ? true : Sizes[K] extends Expected[K] ? true : false) : true;
}[number] extends true
  ? true
  : false;

/**
 * Whether a tensor of type `X` can be the stream of shape `S` (`What`
 * names it in the message): `unknown` when it can, or when its type does
 * not say (a plain `tf.Tensor`); otherwise an error naming both.
 * `TensorFits<tf.Tensor3D, [784], 'input'>` is an error: a `[batch, 784]`
 * stream is a `Tensor2D`.
 */
export type TensorFits<X, S extends Shape, What extends string> = tf.Rank extends RankOfTensor<X>
  ? unknown
  : RankOfTensor<X> extends BatchRank<S>
    ? StaticSizesFit<X, S> extends true
      ? unknown
      : ShapeError<`${What} takes ${BatchShape<S>}, and this tensor's type has other sizes`>
    : ShapeError<`${What} takes ${BatchShape<S>}, a ${TensorName<BatchRank<S>>}, but this is a ${TensorName<RankOfTensor<X>>}`>;

/** {@link TensorFits} for every stream of `S`: one tensor for one shape, a tuple for several. */
export type TensorsFit<X, S extends readonly Shape[], What extends string> = number extends S['length']
  ? unknown
  : S extends readonly [infer One extends Shape]
    ? X extends readonly unknown[]
      ? number extends X['length']
        ? unknown
        : X['length'] extends 1
          ? TensorFits<X[0], One, What>
          : ShapeError<`this flow takes 1 ${What} tensor, got ${X['length']}`>
      : TensorFits<X, One, What>
    : X extends readonly unknown[]
      ? number extends X['length']
        ? unknown
        : X['length'] extends S['length']
          ? { [K in keyof X]: K extends keyof S ? (S[K] extends Shape ? TensorFits<X[K], S[K], `${What} ${K & string}`> : unknown) : unknown }
          : ShapeError<`this flow takes ${S['length']} ${What} tensors, got ${X['length']}`>
      : ShapeError<`this flow takes ${S['length']} ${What} tensors as an array, got one`>;

/**
 * The options argument of `forward`/`inverse` for conditions `C`: required,
 * with `c`, when the flow declares conditions; without `c` when it declares
 * none; as {@link RunOptions} when the conditions are not known statically.
 */
export type RunArguments<C extends readonly Shape[]> = number extends C['length']
  ? [options?: ForwardRunOptions<C>]
  : C extends readonly []
    ? // A tensor that is also the error: what the caller passes fails with the message, and such a flow is still an AnyFlow.
      [options?: { readonly c?: tf.Tensor & ShapeError<'this flow declares no conditions'>; readonly jac?: boolean; readonly memory?: GradientMemory }]
    : [withConditions: ForwardRunOptions<C> & { readonly c: Tensors<C> | readonly tf.Tensor[] }];

/**
 * What `forward` and `inverse` return: outputs and the per-sample log|det J| of shape `[batch]`.
 *
 * @group Building
 */
export interface FlowResult<T> {
  /** The outputs: one tensor, or a list for several. */
  readonly out: T;
  /** log abs det of the Jacobian, `[batch]`. */
  readonly logDet: tf.Tensor1D;
}

/**
 * What every built flow offers, whatever its shapes: the type that training,
 * distributions and other flow-generic code accept.
 *
 * @group Building
 */
export interface AnyFlow {
  /** The definition data the flow was built from. */
  readonly graph: GraphDef;
  /** The module of each node (null for inputs, conditions and outputs), in node order. */
  readonly modules: readonly (InvertibleModule | null)[];
  /** The inputs' shapes, channels first, without batch. */
  readonly inputShapes: Shape[];
  /** The outputs' shapes. */
  readonly outputShapes: Shape[];
  /** The conditions' shapes. */
  readonly conditionShapes: Shape[];
  /** Every trainable variable of every module. */
  readonly trainableVariables: tf.Variable[];
  /** True once `dispose()` has run (absent on flows that do not track it). */
  readonly isDisposed?: boolean;
  /**
   * Runs the flow forward: `x → z` with log abs det J.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn, subnets, type AnyFlow } from 'freia-ts';
   * // code for any flow: the tensors are checked at run time, `out` is a tensor or a list
   * const encode = (flow: AnyFlow, x: tf.Tensor) => flow.forward(x).out;
   * const z = encode(inn.input([2]).glow({ subnet: subnets.mlp({ hidden: 32 }) }).build(), tf.randomNormal([8, 2]));
   * ```
   */
  forward(x: tf.Tensor | readonly tf.Tensor[], options?: ForwardRunOptions): FlowResult<tf.Tensor | tf.Tensor[]>;
  /**
   * Runs the flow backward: `z → x` with the inverse's log abs det J.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn, subnets, type AnyFlow } from 'freia-ts';
   * // samples of any unconditional flow: standard normal z for each output, run backward
   * const sample = (flow: AnyFlow, n: number) => flow.inverse(flow.outputShapes.map((s) => tf.randomNormal([n, ...s]))).out;
   * const x = sample(inn.input([2]).glow({ subnet: subnets.mlp({ hidden: 32 }) }).build(), 16); // [16, 2]
   * ```
   */
  inverse(z: tf.Tensor | readonly tf.Tensor[], options?: RunOptions): FlowResult<tf.Tensor | tf.Tensor[]>;
  /**
   * Frees the parameters' memory.
   *
   * @example
   * ```ts
   * import { inn, type AnyFlow } from 'freia-ts';
   * const flow: AnyFlow = inn.input([4]).actNorm().build();
   * flow.dispose(); // flow.isDisposed is true; running it now throws a DisposedError
   * ```
   */
  dispose(): void;
}

export { withVariableCleanup } from '../modules/base.js';

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
 *
 * @group Building
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
    this.modules = modules ?? withVariableCleanup(() => {
      const made: (InvertibleModule | null)[] = [];
      let parameters = 0;
      const limits = sizeLimits();
      for (const node of graph.nodes) {
        const module = node.kind === 'module' ? moduleSpec(node.module.kind).create(node.module) : null;
        made.push(module);
        for (const variable of module?.params.values() ?? []) parameters += variable.size;
        if (parameters > limits.flowParameters) {
          throw new ValidationError(`node "${node.name}"`, 'parameters', `at most ${limits.flowParameters} parameter elements in a flow (sizeLimits().flowParameters)`, `${parameters} up to this node`);
        }
      }
      return made;
    });
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
   * x → z. The compiler checks what it can of the call: each input's rank
   * (`[784]` takes a `Tensor2D`, `[batch, 784]`; a plain `tf.Tensor` is
   * checked at run time), one tensor or a tuple as the flow has inputs, and
   * the `{ c }` option exactly when the flow declares conditions. With
   * `memory: 'invert'`, a gradient of the result (`tf.variableGrads`)
   * recomputes activations by inversion instead of keeping them.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn, subnets } from 'freia-ts';
   * const flow = inn.input([2]).condition([3]).glow({ subnet: subnets.mlp({ hidden: 32 }), cond: 0 }).build();
   * const { out: z, logDet } = flow.forward(tf.randomNormal([8, 2]), { c: tf.zeros([8, 3]) }); // z: [8, 2], logDet: [8]
   * ```
   */
  forward<const X extends Tensors<I> | readonly tf.Tensor[]>(x: X & TensorsFit<NoInfer<X>, I, 'input'>, ...options: RunArguments<C>): FlowResult<Tensors<O>> {
    return this.run(x, options[0] ?? {}, false) as FlowResult<Tensors<O>>;
  }

  /**
   * z → x, checked by the compiler as {@link Flow.forward} is.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn, subnets } from 'freia-ts';
   * const flow = inn.input([2]).glow({ subnet: subnets.mlp({ hidden: 32 }) }).build();
   * const { out: x } = flow.inverse(tf.randomNormal([8, 2])); // samples of the data, if z ~ N(0, I)
   * ```
   */
  inverse<const Z extends Tensors<O> | readonly tf.Tensor[]>(z: Z & TensorsFit<NoInfer<Z>, O, 'output'>, ...options: RunArguments<C>): FlowResult<Tensors<I>> {
    return this.run(z, options[0] ?? {}, true) as FlowResult<Tensors<I>>;
  }

  /**
   * The network as a Graphviz DOT digraph (nodes, module kinds, shapes on the edges, dashed conditions).
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const dot = inn.input([4]).split([2, 2]).concat().build().toDot('split-join');
   * ```
   */
  toDot(title?: string): string {
    return toDot(this.graph, title);
  }

  /**
   * The network as a Mermaid flowchart.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const mermaid = inn.input([4]).actNorm().build().toMermaid();
   * ```
   */
  toMermaid(): string {
    return toMermaid(this.graph);
  }

  /**
   * The network as SVG, laid out by Graphviz compiled to WebAssembly.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const svg = await inn.input([4]).actNorm().build().toSvg();
   * ```
   */
  toSvg(title?: string): Promise<string> {
    return toSvg(this.graph, title);
  }

  /**
   * Frees every parameter; the flow cannot be used afterwards.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const flow = inn.input([4]).actNorm().build();
   * flow.dispose(); // flow.isDisposed is now true
   * ```
   */
  dispose(): void {
    for (const m of this.modules) m?.dispose();
    this.disposed = true;
  }

  /** True once {@link Flow.dispose} has run. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  private disposed = false;

  private checkTensors(kind: string, nodes: number[], given: readonly unknown[], batch: number | undefined): number {
    // Every value is looked at before the count, so `forward([[1, 2]])` says "a plain array", not "2 tensors".
    given.forEach((t, k) => {
      const node = this.graph.nodes[nodes[k]] as { name: string; shape: Shape } | undefined;
      const where = node ? `${kind} "${node.name}"` : `${kind} ${k}`;
      if (!(t instanceof tf.Tensor)) {
        const hint = Array.isArray(t) ? 'a plain array: wrap it with tf.tensor(...)' : undefined;
        throw new ValidationError(where, 'value', `a tf.Tensor${node ? ` [batch, ${node.shape.join(', ')}]` : ''}`, Array.isArray(t) ? 'an array' : describeValue(t), hint);
      }
      if (t.isDisposed) throw new DisposedError(`${where}: the tensor has been disposed`);
      if (t.dtype !== 'float32') throw new ValidationError(where, 'dtype', '"float32" (cast it with tf.cast(x, "float32"))', `"${t.dtype}"`);
    });
    if (given.length !== nodes.length) {
      const names = nodes.map((i) => `"${this.graph.nodes[i].name}"`).join(', ') || 'none';
      throw new WiringError(`expected ${nodes.length} ${kind} tensor(s) (${names}), got ${given.length}`);
    }
    (given as readonly tf.Tensor[]).forEach((t, k) => {
      const node = this.graph.nodes[nodes[k]] as { name: string; shape: Shape };
      const expected = `[batch, ${node.shape.join(', ')}]`;
      if (t.rank !== node.shape.length + 1 || t.shape.slice(1).some((d, j) => d !== node.shape[j])) {
        throw new ShapeMismatchError(`${kind} "${node.name}"`, expected, formatShape(t.shape));
      }
      if (t.shape[0] === 0) throw new ValidationError(`${kind} "${node.name}"`, 'batch', 'at least one sample', formatShape(t.shape));
      batch ??= t.shape[0];
      if (t.shape[0] !== batch) {
        throw new ShapeMismatchError(`${kind} "${node.name}"`, `batch size ${batch} like the other tensors`, formatShape(t.shape));
      }
    });
    return batch ?? 0;
  }

  private run(xs: tf.Tensor | readonly tf.Tensor[], options: ForwardRunOptions, rev: boolean): FlowResult<tf.Tensor | tf.Tensor[]> {
    const call = rev ? 'inverse' : 'forward';
    if (this.disposed) throw new DisposedError(`flow.${call}: the flow has been disposed`);
    checkOptions(`flow.${call}`, options, RUN_OPTIONS);
    const byInversion = (options.memory ?? 'store') === 'invert' && !rev;
    // Plain data from JavaScript callers is checked value by value in checkTensors.
    const inputs: unknown[] = Array.isArray(xs) ? [...(xs as unknown[])] : [xs];
    const c = options.c;
    const conds: unknown[] = c === undefined ? [] : Array.isArray(c) ? [...(c as unknown[])] : [c];
    const entry = rev ? this.outputNodes : this.inputNodes;
    const exit = rev ? this.inputNodes : this.outputNodes;
    const batch = this.checkTensors(rev ? 'output' : 'input', entry, inputs, undefined);
    this.checkTensors('condition', this.conditionNodes, conds, batch);
    // checkTensors established that every value is a tensor.
    const [inputTensors, condTensors] = [inputs as tf.Tensor[], conds as tf.Tensor[]];
    const jac = options.jac ?? true;

    const result = tf.tidy(() => {
      const values = new Map<string, tf.Tensor>();
      const condValues = new Map<number, tf.Tensor>();
      this.conditionNodes.forEach((node, k) => condValues.set(node, toInternal(condTensors[k])));
      entry.forEach((node, k) => {
        const def = this.graph.nodes[node];
        values.set(def.kind === 'output' ? refKey(def.input) : refKey({ node, output: 0 }), toInternal(inputTensors[k]));
      });
      let logDet: tf.Tensor = tf.zeros([batch]);
      const order = this.graph.nodes.map((_, i) => i);
      if (rev) order.reverse();
      let segment: SegmentNode[] = [];
      const runSegment = () => {
        if (segment.length === 0) return;
        const call = (step: SegmentNode, stepXs: tf.Tensor[], stepCs: tf.Tensor[], stepRev: boolean, stepJac: boolean) => this.callModule(step.index, step.node, stepXs, stepCs, stepRev, stepJac, batch);
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
        const { out, logDet: moduleLogDet } = this.callModule(index, node, args, cs, rev, jac, batch);
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

  private callModule(index: number, node: ModuleNodeDef, xs: tf.Tensor[], cs: tf.Tensor[], rev: boolean, jac: boolean, batch: number) {
    const module = this.modules[index]!;
    const where = `node "${node.name}" (${className(node.module.kind)}, ${rev ? 'inverse' : 'forward'}, inputs ${node.module.inputShapes.map(formatShape).join(', ')})`;
    let result;
    try {
      result = module.forward(xs, cs, { rev, jac });
    } catch (error) {
      if (error instanceof FreiaError && error.message.startsWith(`node "${node.name}"`)) throw error;
      if (error instanceof ShapeMismatchError) throw new ShapeMismatchError(`${where}: ${error.node}`, error.expected, error.actual);
      const message = error instanceof Error ? error.message : String(error);
      const located = `${where}: ${message}`;
      // A non-finite refusal keeps its class, so callers can catch it as such.
      if (error instanceof NonFiniteError) throw new NonFiniteError(node.name, located, error.step, { cause: error });
      throw new FreiaError(located, { cause: error });
    }
    // What every module promises, checked on shapes only (no data is read): the outputs' shapes and a [batch] log-det.
    const shapes = rev ? node.module.inputShapes : node.module.outputShapes;
    if (!Array.isArray(result?.out) || result.out.length !== shapes.length) {
      throw new ShapeMismatchError(where, `${shapes.length} output tensor(s)`, Array.isArray(result?.out) ? `${result.out.length}` : describeValue(result?.out));
    }
    result.out.forEach((t, k) => {
      const expected = [batch, ...internalShape(shapes[k])];
      if (!(t instanceof tf.Tensor) || t.rank !== expected.length || t.shape.some((d, j) => d !== expected[j])) {
        throw new ShapeMismatchError(`${where}: output ${k}`, `${formatShape(expected)} (batch first, channels last inside the flow)`, t instanceof tf.Tensor ? formatShape(t.shape) : describeValue(t));
      }
    });
    const logDet = result.logDet;
    const logDetOk = typeof logDet === 'number' || (logDet instanceof tf.Tensor && (logDet.rank === 0 || (logDet.rank === 1 && logDet.shape[0] === batch)));
    if (!logDetOk) {
      throw new ShapeMismatchError(`${where}: log-det`, `a number or a tensor of shape [${batch}] (one value per sample)`, logDet instanceof tf.Tensor ? formatShape(logDet.shape) : describeValue(logDet));
    }
    return result;
  }
}

/** The options `forward` and `inverse` take. */
const RUN_OPTIONS = {
  c: is.anything,
  jac: is.boolean,
  memory: is.oneOf(['store', 'invert']),
} as const;
