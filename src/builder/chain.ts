/**
 * The fluent chain builder: an exported interface whose generics carry the
 * live streams' shapes, and a private immutable implementation that records
 * definition data. Every method returns a new builder, so a partial chain can
 * be branched and reused. No maths here: each method names a module kind.
 */
import type { GraphDef, InputNodeDef, ConditionNodeDef, ModuleNodeDef, NodeDef, TensorRef } from '../core/graph.js';
import { deepFreeze } from '../core/graph.js';
import { Flow } from '../runtime/flow.js';
import { ShapeMismatchError, WiringError, formatShape } from '../core/errors.js';
import { defineModule, shapeChanging, shapeKeeping, type InvertibleModule, type RuleOfEntry, type RuleResult } from '../modules/index.js';
import { customKind, type ApplyRule, type ArgsOf, type CustomModuleClass, type RuleOf } from '../modules/custom.js';
import type { HaarOptions, IRevNetOptions, Downsample, Upsample, Flattened, ReshapeTarget } from '../modules/reshapes.js';
import type { ConcatShape, SplitSections, SplitShapes } from '../modules/topology.js';
import type { InvAutoConv2DOptions, InvAutoConv2DShape, InvAutoFCOptions, InvAutoFCShape } from '../modules/inv-auto.js';
import type { RequireImage } from '../modules/fixed.js';
import type { AsShape, AsShapes, Indices, MutableShape, ReplaceAt, Shape, ShapeError, Shapes, Single } from '../types/shape.js';
import type { FaceOptions, OptionsParameter, SubnetFit } from './faces.js';
import { checkShape, checkSplit, conditionList, inverseOptions, nodeName, splitOptions } from './plumbing.js';

/**
 * Which declared conditions a block reads: an index, or several (concatenated in order).
 *
 * @group Building
 */
export type ConditionRef<C extends Shapes> = C extends readonly []
  ? ShapeError<'no condition is declared: add .condition(shape) to the chain first'>
  : Indices<C> | readonly Indices<C>[];

/**
 * At least one declared condition, for blocks that need one.
 *
 * @group Building
 */
export type RequiredConditionRef<C extends Shapes> = C extends readonly [] ? ConditionRef<C> : Indices<C> | readonly [Indices<C>, ...Indices<C>[]];

/**
 * Options every block method takes besides its own.
 *
 * @group Building
 */
export interface BlockOptions<C extends Shapes> {
  /** Condition(s) the block reads, by declaration index. */
  readonly cond?: ConditionRef<C>;
  /** Node name (default `<Kind>_<index>`); used in errors, pictures and weight loading. */
  readonly name?: string;
}

/**
 * The error of rule result `R` when it is one, else `Ok`:
 * `RuleErrorOr<[3, 4], F>` is `F`, `RuleErrorOr<ShapeError<'…'>, F>` the
 * error. A chain's method has this type, so a method whose rule fails is
 * not callable, and the editor prints the rule's message on the method's
 * name; a graph builder's handle parameter intersects it, so the message
 * lands on the handle.
 *
 * @group Type machinery
 */
export type RuleErrorOr<R, Ok> = [R] extends [ShapeError<string>] ? R : Ok;

/**
 * The chain's methods for the modules that keep their input's shape, one per
 * line of the catalogue's `shapeKeeping` list (with its doc comment): each
 * needs exactly one live stream, checks the module's type-level rule on it,
 * and takes the module's options plus `name` and, where the module reads
 * conditions, `cond` (declaration indices).
 *
 * The reference lists each as the method it is when the rule accepts the
 * stream (`glow(options): Chain<S, C, I>`). When it does not, the method's
 * type is the rule's message instead of a function, so the call does not
 * compile and the editor shows the message on the method's name.
 *
 * @group Building
 */
export type ChainBlocks<S extends Shapes, C extends Shapes, I extends Shapes> = {
  readonly [M in keyof typeof shapeKeeping]: RuleErrorOr<
    RuleResult<RuleOfEntry<(typeof shapeKeeping)[M]>, Single<S>, M>,
    (...options: OptionsParameter<FaceOptions<(typeof shapeKeeping)[M], ConditionRef<C>, RequiredConditionRef<C>> & SubnetFit<(typeof shapeKeeping)[M], Single<S>>>) => Chain<S, C, I>
  >;
};

/**
 * A network under construction. `S`: the live streams' shapes; `C`: the
 * declared conditions; `I`: the network's inputs. The blocks that keep the
 * shape come from {@link ChainBlocks}; the methods here change shapes or
 * streams.
 *
 * @group Building
 */
export interface Chain<S extends Shapes, C extends Shapes, I extends Shapes> extends ChainBlocks<S, C, I> {
  /**
   * The live streams' shapes at run time (the type parameter `S` as values).
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const shapes = inn.input([4, 8, 8]).haarDownsample().shapes; // [[16, 4, 4]]
   * ```
   */
  readonly shapes: S;

  /**
   * Declares a condition input of `shape`; blocks read it with `{ cond: index }`
   * (declaration order), several with `{ cond: [0, 1] }`.
   *
   * @example
   * ```ts
   * import { inn, subnets } from 'freia-ts';
   * const flow = inn.input([2]).condition([10])
   *   .repeat(4, (c) => c.glow({ subnet: subnets.mlp({ hidden: 64 }), cond: 0 }))
   *   .build(); // flow.forward(x, { c: [onehot] })
   * ```
   */
  condition<const X extends Shape>(shape: X): Chain<S, [...C, MutableShape<X>], I>;

  /**
   * FrEIA's InvAutoFC: `y = W x + b`, `[C]` → `[dimsOut]`. NOT exactly invertible: the inverse is `Wᵀ(y − b)`
   * and the log-det is 0, both right only for orthogonal `W` (see {@link InvAutoFC}).
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const flow = inn.input([5]).invAutoFC({ dimsOut: 5 }).build();
   * ```
   */
  readonly invAutoFC: RuleErrorOr<
    InvAutoFCShape<Single<S>, never>,
    <const O extends number = never>(
      options?: InvAutoFCOptions<O> & Pick<BlockOptions<C>, 'name'> & RuleErrorOr<InvAutoFCShape<Single<S>, O>, unknown>,
    ) => Chain<[AsShape<InvAutoFCShape<Single<S>, O>>], C, I>
  >;
  /**
   * FrEIA's InvAutoConv2D: a convolution plus bias on `[C, H, W]`. NOT exactly invertible: the inverse is the
   * transposed convolution and the log-det is 0, both right only for an orthogonal convolution (see {@link InvAutoConv2D}).
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const flow = inn.input([3, 8, 8]).invAutoConv2D().build();
   * ```
   */
  readonly invAutoConv2D: RuleErrorOr<
    RequireImage<Single<S>, 'invAutoConv2D'>,
    <const O extends Shape = never, const K extends number = 3, const P extends number = 1>(
      // Required when the defaults (3×3, padding 1) do not fit the image, so that a call without options is an error.
      ...options: [InvAutoConv2DShape<Single<S>, never, 3, 1>] extends [ShapeError<string>]
        ? [options: InvAutoConv2DOptions<O, K, P> & Pick<BlockOptions<C>, 'name'> & RuleErrorOr<InvAutoConv2DShape<Single<S>, O, K, P>, unknown>]
        : [options?: InvAutoConv2DOptions<O, K, P> & Pick<BlockOptions<C>, 'name'> & RuleErrorOr<InvAutoConv2DShape<Single<S>, O, K, P>, unknown>]
    ) => Chain<[AsShape<InvAutoConv2DShape<Single<S>, O, K, P>>], C, I>
  >;

  /**
   * FrEIA's Flatten: to `[numel]`, in PyTorch's row-major order (see {@link Flatten}).
   *
   * @example
   * ```ts
   * import { inn, subnets } from 'freia-ts';
   * const flow = inn.input([2, 4, 4]).flatten().glow({ subnet: subnets.mlp({ hidden: 64 }) }).build(); // [32]
   * ```
   */
  readonly flatten: RuleErrorOr<Single<S>, (options?: Pick<BlockOptions<C>, 'name'>) => Chain<[AsShape<Flattened<Single<S>>>], C, I>>;
  /**
   * FrEIA's Reshape: to `shape`, with the same number of elements (checked by the compiler; see {@link Reshape}).
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const flow = inn.input([32]).reshape([2, 4, 4]).build();
   * ```
   */
  readonly reshape: RuleErrorOr<Single<S>, <const X extends Shape>(shape: ReshapeTarget<Single<S>, X>, options?: Pick<BlockOptions<C>, 'name'>) => Chain<[MutableShape<X>], C, I>>;
  /**
   * FrEIA's IRevNetDownsampling: space-to-depth by 2×2 blocks, `[C, H, W]` → `[4C, H/2, W/2]`, log-det 0 (see {@link IRevNetDownsampling}).
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const flow = inn.input([1, 8, 8]).irevnetDownsample().build(); // [4, 4, 4]
   * ```
   */
  readonly irevnetDownsample: RuleErrorOr<Downsample<Single<S>>, (options?: IRevNetOptions & Pick<BlockOptions<C>, 'name'>) => Chain<[AsShape<Downsample<Single<S>>>], C, I>>;
  /**
   * FrEIA's IRevNetUpsampling: depth-to-space, `[C, H, W]` → `[C/4, 2H, 2W]`.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const flow = inn.input([4, 4, 4]).irevnetUpsample().build(); // [1, 8, 8]
   * ```
   */
  readonly irevnetUpsample: RuleErrorOr<Upsample<Single<S>>, (options?: IRevNetOptions & Pick<BlockOptions<C>, 'name'>) => Chain<[AsShape<Upsample<Single<S>>>], C, I>>;
  /**
   * FrEIA's HaarDownsampling: the 2×2 Haar wavelet transform per channel, `[C, H, W]` → `[4C, H/2, W/2]` (see {@link HaarDownsampling}).
   *
   * @example
   * ```ts
   * import { inn, subnets } from 'freia-ts';
   * const flow = inn.input([3, 8, 8]).haarDownsample().glow({ subnet: subnets.conv({ hidden: 32 }) }).build(); // [12, 4, 4]
   * ```
   */
  readonly haarDownsample: RuleErrorOr<Downsample<Single<S>>, (options?: HaarOptions & Pick<BlockOptions<C>, 'name'>) => Chain<[AsShape<Downsample<Single<S>>>], C, I>>;
  /**
   * FrEIA's HaarUpsampling: `[C, H, W]` → `[C/4, 2H, 2W]`, the inverse of `haarDownsample`.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const flow = inn.input([4, 4, 4]).haarUpsample().build(); // [1, 8, 8]
   * ```
   */
  readonly haarUpsample: RuleErrorOr<Upsample<Single<S>>, (options?: HaarOptions & Pick<BlockOptions<C>, 'name'>) => Chain<[AsShape<Upsample<Single<S>>>], C, I>>;

  /**
   * FrEIA's Split: the stream into sections along `dim` (default 0, channels); they must sum to the
   * axis. The sections become the live streams: continue with `on(i, ...)` and `concat()` (see {@link Split}).
   *
   * @example
   * ```ts
   * import { inn, subnets } from 'freia-ts';
   * const flow = inn.input([6])
   *   .split([2, 4])
   *   .on(1, (s) => s.glow({ subnet: subnets.mlp({ hidden: 32 }) }))
   *   .build(); // two outputs, [2] and [4]
   * ```
   */
  readonly split: RuleErrorOr<
    Single<S>,
    <const P extends readonly number[], const D extends number = 0>(
      sections: SplitSections<Single<S>, P, D>,
      options?: { readonly dim?: D; readonly name?: string },
    ) => Chain<SplitShapes<AsShape<Single<S>>, P, D>, C, I>
  >;
  /**
   * FrEIA's Concat: joins every live stream along `dim` (default 0, channels); every other dimension
   * must agree (see {@link Concat}).
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const flow = inn.input([4, 8, 8]).split([1, 3]).on(1, (s) => s.actNorm()).concat().build(); // [4, 8, 8]
   * ```
   */
  readonly concat: ConcatMethod<S, C, I>;

  /**
   * FrEIA's Inverse: `inverseOf(method)` is the chain's method `method` with
   * the module's directions swapped (its forward is the module's inverse),
   * typed and checked exactly as that method. The module must keep its
   * shape and invert exactly (see {@link Inverse}).
   *
   * @example
   * ```ts
   * import { inn, subnets } from 'freia-ts';
   * const flow = inn.input([4]).inverseOf('glow')({ subnet: subnets.mlp({ hidden: 32 }) }).build();
   * ```
   */
  inverseOf<M extends keyof ChainBlocks<S, C, I>>(method: M): ChainBlocks<S, C, I>[M];
  /**
   * Applies `body` to live stream `index`; the streams it returns take that stream's place.
   *
   * @example
   * ```ts
   * import { inn, subnets } from 'freia-ts';
   * const flow = inn.input([8]).split([4, 4])
   *   .on(0, (s) => s.glow({ subnet: subnets.mlp({ hidden: 32 }) }))
   *   .on(1, (s) => s.actNorm())
   *   .concat()
   *   .build();
   * ```
   */
  on<const K extends Indices<S>, const X extends Shapes>(index: K, body: (stream: Chain<[S[K]], C, I>) => Chain<X, C, I>): Chain<ReplaceAt<S, K, X>, C, I>;
  /**
   * Applies `body` `n` times (`k` = 0..n-1); the body must keep the shapes.
   *
   * @example
   * ```ts
   * import { inn, subnets } from 'freia-ts';
   * const flow = inn.input([2])
   *   .repeat(8, (c, k) => c.allInOne({ subnet: subnets.mlp({ hidden: 64 }), name: `block_${k}` }))
   *   .build();
   * ```
   */
  repeat(n: number, body: (chain: Chain<S, C, I>, k: number) => Chain<S, C, I>): Chain<S, C, I>;

  /**
   * Applies a custom module (a class extending `InvertibleModule`) to every
   * live stream, checked by the shape rule the class declares (default: it
   * keeps the shapes); its outputs become the live streams.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { InvertibleModule, type ModuleResult } from 'freia-ts';
   * import { inn } from 'freia-ts';
   * class Negate extends InvertibleModule {
   *   forward([x]: readonly tf.Tensor[]): ModuleResult { return { out: [tf.neg(x)], logDet: 0 }; }
   * }
   * const flow = inn.input([3]).apply(Negate).build();
   * ```
   */
  apply<M extends new (...args: never[]) => InvertibleModule>(
    module: M & RuleErrorOr<ApplyRule<RuleOf<NoInfer<M>>, S>, unknown>,
    args?: ArgsOf<M>,
    options?: BlockOptions<C>,
  ): Chain<AsShapes<ApplyRule<RuleOf<M>, S>>, C, I>;

  /**
   * Makes every live stream an output and instantiates the network: a {@link Flow} typed with the
   * inputs, outputs and conditions.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const flow = inn.input([2]).actNorm().build(); // Flow<[[2]], [[2]], []>
   * ```
   */
  build(): Flow<I, S, C>;
  /**
   * The definition data the chain describes (what `build` instantiates): plain frozen JSON-able data.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const graph = inn.input([2]).actNorm().toGraph();
   * console.log(graph.nodes.length); // 3: input, ActNorm, output
   * ```
   */
  toGraph(): GraphDef;
}

/** Concatenating along `D`, with the rule's error on the options where `D` does not fit. */
type ConcatAlong<S extends Shapes, C extends Shapes, I extends Shapes, Options> = <const D extends number = 0>(
  ...options: [Options] extends [{ readonly dim: unknown }]
    ? [options: { readonly dim: D; readonly name?: string } & RuleErrorOr<ConcatShape<S, D>, unknown>]
    : [options?: { readonly dim?: D; readonly name?: string } & RuleErrorOr<ConcatShape<S, D>, unknown>]
) => Chain<[AsShape<ConcatShape<S, D>>], C, I>;

/** True when the streams concatenate along some dimension other than 0 (images and sequences have up to four). */
type ConcatsOffChannels<S extends Shapes> = [ConcatShape<S, 1>] extends [ShapeError<string>]
  ? [ConcatShape<S, 2>] extends [ShapeError<string>]
    ? [ConcatShape<S, 3>] extends [ShapeError<string>]
      ? false
      : true
    : true
  : true;

/**
 * The chain's `concat`: along the channels by default. When the streams do
 * not concatenate there, it is not callable (the message lands on `concat`)
 * unless they do along another dimension, which `dim` must then name.
 */
type ConcatMethod<S extends Shapes, C extends Shapes, I extends Shapes> = [ConcatShape<S, 0>] extends [ShapeError<string>]
  ? ConcatShape<S, 0> extends ShapeError<`concat needs at least two${string}`>
    ? ConcatShape<S, 0>
    : ConcatsOffChannels<S> extends true
      ? ConcatShape<S, 0> & ConcatAlong<S, C, I, { readonly dim: number }>
      : ConcatShape<S, 0>
  : ConcatAlong<S, C, I, object>;

interface ChainState {
  readonly nodes: readonly NodeDef[];
  readonly streams: readonly TensorRef[];
  readonly conditions: readonly number[];
}

function streamShape(state: ChainState, ref: TensorRef): readonly number[] {
  const node = state.nodes[ref.node];
  return node.kind === 'module' ? node.module.outputShapes[ref.output] : (node as InputNodeDef).shape;
}

class ChainImpl {
  constructor(private readonly state: ChainState) {}

  get shapes(): readonly (readonly number[])[] {
    return this.state.streams.map((ref) => streamShape(this.state, ref));
  }

  condition(shape: readonly number[]): ChainImpl {
    const node: ConditionNodeDef = { kind: 'condition', name: `condition_${this.state.conditions.length}`, shape: checkShape('condition', shape) };
    return new ChainImpl({ ...this.state, nodes: [...this.state.nodes, node], conditions: [...this.state.conditions, this.state.nodes.length] });
  }

  /** Appends one module node reading `inputs`; its outputs become the live streams in their place. */
  add(kind: string, options: object | undefined, inputs: readonly TensorRef[] = this.single(kind)): ChainImpl {
    const { cond, name, args } = splitOptions(options);
    const { nodes } = this.state;
    const index = nodes.length;
    const node = nodeName(kind, name, index, (taken) => nodes.some((n) => n.name === taken));
    const conditions = conditionList(cond).map((k) => {
      if (!Number.isInteger(k) || (k as number) < 0 || (k as number) >= this.state.conditions.length) {
        throw new WiringError(`${node}: condition ${String(k)} is not declared (declared: ${this.state.conditions.length})`);
      }
      return this.state.conditions[k as number];
    });
    const module = defineModule(
      node,
      kind,
      args,
      inputs.map((ref) => streamShape(this.state, ref)),
      conditions.map((c) => (nodes[c] as ConditionNodeDef).shape),
    );
    const added: ModuleNodeDef = { kind: 'module', name: node, module, inputs, conditions };
    const outputs = module.outputShapes.map((_, output) => ({ node: index, output }));
    const first = this.state.streams.indexOf(inputs[0]);
    const streams = [...this.state.streams.slice(0, first), ...outputs, ...this.state.streams.slice(first + inputs.length)];
    return new ChainImpl({ ...this.state, nodes: [...nodes, added], streams });
  }

  private single(what: string): readonly TensorRef[] {
    if (this.state.streams.length !== 1) {
      throw new WiringError(`${what} needs exactly one live stream, but ${this.state.streams.length} are live (${this.shapes.map(formatShape).join(', ')}): use .on(i, ...) or .concat() first`);
    }
    return this.state.streams;
  }

  inverseOf(method: string): (options?: object) => ChainImpl {
    inverseOptions(method, undefined); // an unknown method fails here, not at the call
    return (options?: object) => this.add('Inverse', inverseOptions(method, options));
  }

  invAutoFC(options?: object): ChainImpl { return this.add(shapeChanging.invAutoFC.kind, options); }
  invAutoConv2D(options?: object): ChainImpl { return this.add(shapeChanging.invAutoConv2D.kind, options); }
  flatten(options?: object): ChainImpl { return this.add(shapeChanging.flatten.kind, options); }
  reshape(shape: readonly number[], options?: object): ChainImpl { return this.add(shapeChanging.reshape.kind, { ...options, shape: checkShape('reshape', shape) }); }
  irevnetDownsample(options?: object): ChainImpl { return this.add(shapeChanging.irevnetDownsample.kind, options); }
  irevnetUpsample(options?: object): ChainImpl { return this.add(shapeChanging.irevnetUpsample.kind, options); }
  haarDownsample(options?: object): ChainImpl { return this.add(shapeChanging.haarDownsample.kind, options); }
  haarUpsample(options?: object): ChainImpl { return this.add(shapeChanging.haarUpsample.kind, options); }

  split(sections: readonly number[], options: { dim?: number; name?: string } = {}): ChainImpl {
    const [shape] = this.single('split').map((ref) => streamShape(this.state, ref));
    const dim = options.dim ?? 0;
    return this.add(shapeChanging.split.kind, { name: options.name, sections: checkSplit(options.name ?? 'split', shape, sections, dim), dim });
  }

  concat(options: { dim?: number; name?: string } = {}): ChainImpl {
    if (this.state.streams.length < 2) throw new WiringError(`concat needs at least two live streams, but only ${this.state.streams.length} is live`);
    return this.add(shapeChanging.concat.kind, { name: options.name, dim: options.dim ?? 0 }, this.state.streams);
  }

  on(index: number, body: (stream: ChainImpl) => ChainImpl): ChainImpl {
    const { streams } = this.state;
    if (!Number.isInteger(index) || index < 0 || index >= streams.length) {
      throw new WiringError(`on(${index}): there are ${streams.length} live streams`);
    }
    const result = body(new ChainImpl({ ...this.state, streams: [streams[index]] }));
    const nodes = result.state.nodes;
    if (!(result instanceof ChainImpl) || this.state.nodes.some((n, i) => nodes[i] !== n)) {
      throw new WiringError(`on(${index}): the body must return the chain it was given, extended`);
    }
    return new ChainImpl({ ...result.state, streams: [...streams.slice(0, index), ...result.state.streams, ...streams.slice(index + 1)] });
  }

  repeat(n: number, body: (chain: ChainImpl, k: number) => ChainImpl): ChainImpl {
    if (!Number.isInteger(n) || n < 0) throw new WiringError(`repeat(${n}): n must be a whole number`);
    const before = JSON.stringify(this.shapes);
    let chain: ChainImpl = this;
    for (let k = 0; k < n; k++) {
      chain = body(chain, k);
      if (!(chain instanceof ChainImpl) || JSON.stringify(chain.shapes) !== before) {
        throw new ShapeMismatchError(`repeat step ${k}`, `a body that keeps the shapes ${before}`, chain instanceof ChainImpl ? JSON.stringify(chain.shapes) : String(chain));
      }
    }
    return chain;
  }

  apply(module: CustomModuleClass<unknown>, args?: unknown, options: { cond?: unknown; name?: string } = {}): ChainImpl {
    return this.add(customKind(module), { ...options, args }, this.state.streams);
  }

  toGraph(): GraphDef {
    const outputs: NodeDef[] = this.state.streams.map((input, k) => ({ kind: 'output', name: `output_${k}`, input, shape: streamShape(this.state, input) }));
    return deepFreeze({ nodes: [...this.state.nodes, ...outputs] });
  }

  build(): Flow {
    return new Flow(this.toGraph());
  }
}

// One method per shape-keeping catalogue entry; `ChainBlocks` gives them their types.
for (const [method, entry] of Object.entries(shapeKeeping)) {
  // A catalogue key must not shadow a method of the builder itself (on, repeat, build, ...).
  if (method in ChainImpl.prototype) throw new Error(`catalogue method "${method}" clashes with a builder method`);
  Object.defineProperty(ChainImpl.prototype, method, {
    value(this: ChainImpl, options?: object): ChainImpl {
      return this.add(entry.kind, options);
    },
  });
}

/**
 * Starts a chain from one input of the given shape (channels first, without batch).
 *
 * @example
 * ```ts
 * import { inn, subnets } from 'freia-ts';
 * const flow = inn.input([2])
 *   .repeat(8, (c) => c.allInOne({ subnet: subnets.mlp({ hidden: 512 }), permuteSoft: true }))
 *   .build();
 * ```
 */
export function input<const X extends Shape>(shape: X): Chain<[MutableShape<X>], [], [MutableShape<X>]> {
  const node: InputNodeDef = { kind: 'input', name: 'input_0', shape: checkShape('input', shape) };
  const chain = new ChainImpl({ nodes: [node], streams: [{ node: 0, output: 0 }], conditions: [] });
  // The implementation is untyped over shapes; the interface carries them. This is the one cast.
  return chain as unknown as Chain<[MutableShape<X>], [], [MutableShape<X>]>;
}

