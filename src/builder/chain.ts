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
import { defineModule, type InvertibleModule } from '../modules/base.js';
import { customKind, type ApplyRule, type ArgsOf, type CustomModuleClass, type RuleOf } from '../modules/custom.js';
import type { AllInOneOptions } from '../modules/all-in-one.js';
import type { CouplingOptions } from '../modules/coupling.js';
import type { PermuteRandomOptions } from '../modules/permute.js';
import type { HaarOptions, IRevNetOptions, Downsample, Upsample, Flattened, ReshapeTarget } from '../modules/reshapes.js';
import type { ConcatShape, SplitSections, SplitShapes } from '../modules/topology.js';
import type { Fixed1x1ConvOptions, FixedLinearOptions, LearnedElementwiseScalingOptions, RequireImage, RequireVector } from '../modules/fixed.js';
import type { GaussianMixtureOptions } from '../modules/gaussian-mixture.js';
import type { InvAutoActOptions, InvAutoActTwoSidedOptions, InvAutoConv2DOptions, InvAutoConv2DShape, InvAutoFCOptions, InvAutoFCShape } from '../modules/inv-auto.js';
import type { IResNetOptions, IResNetShape } from '../modules/iresnet.js';
import type { Conv1x1LUOptions } from '../modules/lu-conv.js';
import type { HouseholderPermOptions, OrthogonalOptions } from '../modules/orthogonal.js';
import type { ElementwiseConditioning, RqSplineOptions, SplineOptions } from '../modules/splines.js';
import type { AsShape, AsShapes, Indices, Literal, ReplaceAt, Shape, ShapeError, Shapes, Single } from '../types/shape.js';

/** Which declared conditions a block reads: an index, or several (concatenated in order). */
export type ConditionRef<C extends Shapes> = C extends readonly []
  ? ShapeError<'no condition is declared: add .condition(shape) to the chain first'>
  : Indices<C> | readonly Indices<C>[];

/** Options every block method takes besides its own. */
export interface BlockOptions<C extends Shapes> {
  /** Condition(s) the block reads, by declaration index. */
  readonly cond?: ConditionRef<C>;
  /** Node name (default `<Kind>_<index>`); used in errors, pictures and weight loading. */
  readonly name?: string;
}

/** `this` of a single-stream method whose result is the rule `R`: the chain when `R` holds, else `R`'s error. */
export type When<R, Ok> = R extends ShapeError<string> ? R : Ok;

/**
 * A network under construction. `S`: the live streams' shapes; `C`: the
 * declared conditions; `I`: the network's inputs.
 */
export interface Chain<S extends Shapes, C extends Shapes, I extends Shapes> {
  /** The live streams' shapes at run time. */
  readonly shapes: S;

  /** Declares a condition input; blocks read it with `{ cond: index }`. */
  condition<const X extends Shape>(shape: X): Chain<S, [...C, Literal<X>], I>;

  /** FrEIA's AllInOneBlock: affine coupling, global affine scaling and permutation. */
  allInOne(this: When<Single<S>, Chain<S, C, I>>, options: AllInOneOptions & BlockOptions<C>): Chain<S, C, I>;
  /** GLOWCouplingBlock. */
  glow(this: When<Single<S>, Chain<S, C, I>>, options: CouplingOptions & BlockOptions<C>): Chain<S, C, I>;
  /** RNVPCouplingBlock. */
  rnvp(this: When<Single<S>, Chain<S, C, I>>, options: CouplingOptions & BlockOptions<C>): Chain<S, C, I>;
  /** NICECouplingBlock (additive; no clamp). */
  nice(this: When<Single<S>, Chain<S, C, I>>, options: Omit<CouplingOptions, 'clamp' | 'clampActivation'> & BlockOptions<C>): Chain<S, C, I>;
  /** ActNorm with data-dependent initialisation. */
  actNorm(this: When<Single<S>, Chain<S, C, I>>, options?: Pick<BlockOptions<C>, 'name'>): Chain<S, C, I>;
  /** PermuteRandom: a fixed random permutation of the channels. */
  permuteRandom(this: When<Single<S>, Chain<S, C, I>>, options?: PermuteRandomOptions & Pick<BlockOptions<C>, 'name'>): Chain<S, C, I>;

  /** GINCouplingBlock: GLOW with each log-scale centred over channels (volume preserving, log-det 0). */
  gin(this: When<Single<S>, Chain<S, C, I>>, options: CouplingOptions & BlockOptions<C>): Chain<S, C, I>;
  /** AffineCouplingOneSided: `x1` passes, `x2 · exp(s) + t` with `[s | t] = subnet([x1, c])`. */
  affineCouplingOneSided(this: When<Single<S>, Chain<S, C, I>>, options: CouplingOptions & BlockOptions<C>): Chain<S, C, I>;
  /** ConditionalAffineTransform: `x · exp(s) + t` with `[s | t] = subnet(c)`; `cond` is required (one index or a non-empty list). */
  conditionalAffine(
    this: When<Single<S>, Chain<S, C, I>>,
    options: Omit<CouplingOptions, 'splitLen'> & Pick<BlockOptions<C>, 'name'> & {
      readonly cond: C extends readonly [] ? ConditionRef<C> : Indices<C> | readonly [Indices<C>, ...Indices<C>[]];
    },
  ): Chain<S, C, I>;
  /** FrEIA's RationalQuadraticSpline: a two-sided coupling of rational-quadratic splines. */
  rqSpline(this: When<Single<S>, Chain<S, C, I>>, options: RqSplineOptions & BlockOptions<C>): Chain<S, C, I>;
  /** FrEIA's ElementwiseRationalQuadraticSpline: learned splines per element, or predicted by `subnet` from the conditions `cond` (both or neither). */
  elementwiseRqSpline(
    this: When<Single<S>, Chain<S, C, I>>,
    options?: SplineOptions & ElementwiseConditioning<ConditionRef<C>> & Pick<BlockOptions<C>, 'name'>,
  ): Chain<S, C, I>;
  /** FrEIA's FixedLinearTransform: `y = M x + b` on vectors `[C]`, with a fixed invertible `M` (given as rows). */
  fixedLinear(
    this: When<RequireVector<Single<S>, 'fixedLinear'>, Chain<S, C, I>>,
    options: FixedLinearOptions & Pick<BlockOptions<C>, 'name'>,
  ): Chain<S, C, I>;
  /** FrEIA's Fixed1x1Conv: `y = Mᵀ x` at every pixel of an image `[C, H, W]`, with a fixed invertible `M` (given as rows). */
  fixed1x1Conv(
    this: When<RequireImage<Single<S>, 'fixed1x1Conv'>, Chain<S, C, I>>,
    options: Fixed1x1ConvOptions & Pick<BlockOptions<C>, 'name'>,
  ): Chain<S, C, I>;
  /** FrEIA's InvertibleSigmoid: `y = σ(x)` element-wise (the inverse needs values in (0, 1)). */
  invertibleSigmoid(this: When<Single<S>, Chain<S, C, I>>, options?: Pick<BlockOptions<C>, 'name'>): Chain<S, C, I>;
  /** FrEIA's LearnedElementwiseScaling: `y = x · exp(s)` with a learned `s` per element. */
  learnedElementwiseScaling(
    this: When<Single<S>, Chain<S, C, I>>,
    options?: LearnedElementwiseScalingOptions & Pick<BlockOptions<C>, 'name'>,
  ): Chain<S, C, I>;
  /** FrEIA's OrthogonalTransform: `y = (Qᵀx + b) ⊙ exp(s')` on vectors `[C]`, `Q` learned and kept orthogonal. */
  orthogonal(
    this: When<RequireVector<Single<S>, 'orthogonal'>, Chain<S, C, I>>,
    options?: OrthogonalOptions & Pick<BlockOptions<C>, 'name'>,
  ): Chain<S, C, I>;
  /** FrEIA's HouseholderPerm: a product of learned Householder reflections on vectors `[C]` (or reflections read from `cond`). */
  householderPerm(
    this: When<RequireVector<Single<S>, 'householderPerm'>, Chain<S, C, I>>,
    options?: HouseholderPermOptions & BlockOptions<C>,
  ): Chain<S, C, I>;
  /** Glow's learned invertible 1×1 convolution, LU-parameterised, on `[C]` or `[C, H, W]`. */
  conv1x1LU(this: When<Single<S>, Chain<S, C, I>>, options?: Conv1x1LUOptions & Pick<BlockOptions<C>, 'name'>): Chain<S, C, I>;
  /**
   * FrEIA's IResNetLayer: `y = x + g(x)` with a contractive residual MLP (vectors) or 3×3 CNN (images); the
   * inverse is a fixed-point iteration. Set `exactLogDet` for an exact log-det (small dimensions) and
   * `spectralNorm: 'forward'` to keep it invertible without calling `lipschitzCorrection(flow)` after each step.
   */
  iresnet(
    this: When<IResNetShape<Single<S>>, Chain<S, C, I>>,
    options?: IResNetOptions & Pick<BlockOptions<C>, 'name'>,
  ): Chain<S, C, I>;
  /** FrEIA's InvAutoAct: `y = x · exp(α · sign x)` with a learned log-slope α per channel (exactly invertible). */
  invAutoAct(this: When<Single<S>, Chain<S, C, I>>, options?: InvAutoActOptions & Pick<BlockOptions<C>, 'name'>): Chain<S, C, I>;
  /**
   * FrEIA's InvAutoActFixed: the same as {@link Chain.invAutoAct} (learnable unless `learnable: false`, as in FrEIA).
   * @deprecated Use `invAutoAct`, with `learnable: false` for a fixed slope.
   */
  invAutoActFixed(this: When<Single<S>, Chain<S, C, I>>, options?: InvAutoActOptions & Pick<BlockOptions<C>, 'name'>): Chain<S, C, I>;
  /** FrEIA's InvAutoActTwoSided: slopes `exp(α₊)` for x ≥ 0 and `exp(α₋)` for x < 0, learned per channel. */
  invAutoActTwoSided(this: When<Single<S>, Chain<S, C, I>>, options?: InvAutoActTwoSidedOptions & Pick<BlockOptions<C>, 'name'>): Chain<S, C, I>;
  /**
   * FrEIA's InvAutoFC: `y = W x + b`, `[C]` → `[dimsOut]`. NOT exactly invertible: the inverse is `Wᵀ(y − b)`
   * and the log-det is 0, both right only for orthogonal `W` (see {@link InvAutoFC}).
   */
  invAutoFC<const O extends number = never>(
    this: When<InvAutoFCShape<Single<S>, O>, Chain<S, C, I>>,
    options?: InvAutoFCOptions<O> & Pick<BlockOptions<C>, 'name'>,
  ): Chain<[AsShape<InvAutoFCShape<Single<S>, O>>], C, I>;
  /**
   * FrEIA's InvAutoConv2D: a convolution plus bias on `[C, H, W]`. NOT exactly invertible: the inverse is the
   * transposed convolution and the log-det is 0, both right only for an orthogonal convolution (see {@link InvAutoConv2D}).
   */
  invAutoConv2D<const O extends Shape = never, const K extends number = 3, const P extends number = 1>(
    this: When<InvAutoConv2DShape<Single<S>, O, K, P>, Chain<S, C, I>>,
    options?: InvAutoConv2DOptions<O, K, P> & Pick<BlockOptions<C>, 'name'>,
  ): Chain<[AsShape<InvAutoConv2DShape<Single<S>, O, K, P>>], C, I>;
  /**
   * FrEIA's GaussianMixtureModel: `z = U_k (x − μ_k)` for a mixture component k, with the weights `[K]`, means
   * `[K, D]`, Cholesky entries `[K, D(D+1)/2]` (and an index `[1]`) read from `cond` in that order. The
   * condition shapes are checked when the chain is built, not by the compiler.
   */
  gaussianMixture(
    this: When<Single<S>, Chain<S, C, I>>,
    options: GaussianMixtureOptions & { readonly cond: ConditionRef<C>; readonly name?: string },
  ): Chain<S, C, I>;

  /** Flatten to `[numel]`. */
  flatten(this: When<Single<S>, Chain<S, C, I>>, options?: Pick<BlockOptions<C>, 'name'>): Chain<[AsShape<Flattened<Single<S>>>], C, I>;
  /** Reshape to `shape` (same number of elements). */
  reshape<const X extends Shape>(this: When<Single<S>, Chain<S, C, I>>, shape: ReshapeTarget<Single<S>, X>, options?: Pick<BlockOptions<C>, 'name'>): Chain<[Literal<X>], C, I>;
  /** IRevNetDownsampling: `[C, H, W]` → `[4C, H/2, W/2]`. */
  irevnetDownsample(this: When<Downsample<Single<S>>, Chain<S, C, I>>, options?: IRevNetOptions & Pick<BlockOptions<C>, 'name'>): Chain<[AsShape<Downsample<Single<S>>>], C, I>;
  /** IRevNetUpsampling: `[C, H, W]` → `[C/4, 2H, 2W]`. */
  irevnetUpsample(this: When<Upsample<Single<S>>, Chain<S, C, I>>, options?: IRevNetOptions & Pick<BlockOptions<C>, 'name'>): Chain<[AsShape<Upsample<Single<S>>>], C, I>;
  /** HaarDownsampling: `[C, H, W]` → `[4C, H/2, W/2]`. */
  haarDownsample(this: When<Downsample<Single<S>>, Chain<S, C, I>>, options?: HaarOptions & Pick<BlockOptions<C>, 'name'>): Chain<[AsShape<Downsample<Single<S>>>], C, I>;
  /** HaarUpsampling: `[C, H, W]` → `[C/4, 2H, 2W]`. */
  haarUpsample(this: When<Upsample<Single<S>>, Chain<S, C, I>>, options?: HaarOptions & Pick<BlockOptions<C>, 'name'>): Chain<[AsShape<Upsample<Single<S>>>], C, I>;

  /** Splits the stream into sections along `dim` (default 0, channels); they must sum to the axis. */
  split<const P extends readonly number[], const D extends number = 0>(
    this: When<Single<S>, Chain<S, C, I>>,
    sections: SplitSections<Single<S>, P, D>,
    options?: { readonly dim?: D; readonly name?: string },
  ): Chain<SplitShapes<AsShape<Single<S>>, P, D>, C, I>;
  /** Joins every live stream along `dim` (default 0, channels). */
  concat<const D extends number = 0>(
    this: When<ConcatShape<S, D>, Chain<S, C, I>>,
    options?: { readonly dim?: D; readonly name?: string },
  ): Chain<[AsShape<ConcatShape<S, D>>], C, I>;
  /** Applies `body` to live stream `index`; the streams it returns take that stream's place. */
  on<const K extends Indices<S>, const X extends Shapes>(index: K, body: (stream: Chain<[S[K]], C, I>) => Chain<X, C, I>): Chain<ReplaceAt<S, K, X>, C, I>;
  /** Applies `body` `n` times (`k` = 0..n-1); the body must keep the shapes. */
  repeat(n: number, body: (chain: Chain<S, C, I>, k: number) => Chain<S, C, I>): Chain<S, C, I>;

  /**
   * Applies a custom module (a class extending `InvertibleModule`) to every
   * live stream, checked by the shape rule the class declares (default: it
   * keeps the shapes); its outputs become the live streams.
   */
  apply<M extends new (...args: never[]) => InvertibleModule>(
    this: When<ApplyRule<RuleOf<M>, S>, Chain<S, C, I>>,
    module: M,
    args?: ArgsOf<M>,
    options?: BlockOptions<C>,
  ): Chain<AsShapes<ApplyRule<RuleOf<M>, S>>, C, I>;

  /** Makes every live stream an output and instantiates the network. */
  build(): Flow<I, S, C>;
  /** The definition data the chain describes (what `build` instantiates). */
  toGraph(): GraphDef;
}

interface ChainState {
  readonly nodes: readonly NodeDef[];
  readonly streams: readonly TensorRef[];
  readonly conditions: readonly number[];
}

function checkShape(what: string, shape: unknown): readonly number[] {
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ShapeMismatchError(what, 'a non-empty list of positive integers like [3, 32, 32]', JSON.stringify(shape));
  }
  return Object.freeze([...shape]);
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
  private add(kind: string, options: Record<string, unknown> = {}, inputs: readonly TensorRef[] = this.single(kind)): ChainImpl {
    const { cond, name, ...args } = options;
    const index = this.state.nodes.length;
    // Custom kinds carry a registry suffix (`MyModule#3`); node names show the class name.
    const nodeName = typeof name === 'string' ? name : `${kind.replace(/#\d+$/, '')}_${index}`;
    if (this.state.nodes.some((n) => n.name === nodeName)) throw new WiringError(`node name "${nodeName}" is used twice`);
    const condIndices = cond === undefined ? [] : Array.isArray(cond) ? (cond as number[]) : [cond as number];
    const conditions = condIndices.map((k) => {
      if (!Number.isInteger(k) || k < 0 || k >= this.state.conditions.length) {
        throw new WiringError(`${nodeName}: condition ${k} is not declared (declared: ${this.state.conditions.length})`);
      }
      return this.state.conditions[k];
    });
    const module = defineModule(
      nodeName,
      kind,
      args,
      inputs.map((ref) => streamShape(this.state, ref)),
      conditions.map((c) => (this.state.nodes[c] as ConditionNodeDef).shape),
    );
    const node: ModuleNodeDef = { kind: 'module', name: nodeName, module, inputs, conditions };
    const outputs = module.outputShapes.map((_, output) => ({ node: index, output }));
    const first = this.state.streams.indexOf(inputs[0]);
    const streams = [...this.state.streams.slice(0, first), ...outputs, ...this.state.streams.slice(first + inputs.length)];
    return new ChainImpl({ ...this.state, nodes: [...this.state.nodes, node], streams });
  }

  private single(what: string): readonly TensorRef[] {
    if (this.state.streams.length !== 1) {
      throw new WiringError(`${what} needs exactly one live stream, but ${this.state.streams.length} are live (${this.shapes.map(formatShape).join(', ')}): use .on(i, ...) or .concat() first`);
    }
    return this.state.streams;
  }

  allInOne(options: object): ChainImpl { return this.add('AllInOneBlock', { ...options }); }
  glow(options: object): ChainImpl { return this.add('GLOWCouplingBlock', { ...options }); }
  rnvp(options: object): ChainImpl { return this.add('RNVPCouplingBlock', { ...options }); }
  nice(options: object): ChainImpl { return this.add('NICECouplingBlock', { ...options }); }
  actNorm(options?: object): ChainImpl { return this.add('ActNorm', { ...options }); }
  permuteRandom(options?: object): ChainImpl { return this.add('PermuteRandom', { ...options }); }
  gin(options: object): ChainImpl { return this.add('GINCouplingBlock', { ...options }); }
  affineCouplingOneSided(options: object): ChainImpl { return this.add('AffineCouplingOneSided', { ...options }); }
  conditionalAffine(options: object): ChainImpl { return this.add('ConditionalAffineTransform', { ...options }); }
  rqSpline(options: object): ChainImpl { return this.add('RationalQuadraticSpline', { ...options }); }
  elementwiseRqSpline(options?: object): ChainImpl { return this.add('ElementwiseRationalQuadraticSpline', { ...options }); }
  // structuredClone: the definition is deep-frozen, and must not freeze (or share) the caller's arrays.
  fixedLinear(options: object): ChainImpl { return this.add('FixedLinearTransform', structuredClone({ ...options })); }
  fixed1x1Conv(options: object): ChainImpl { return this.add('Fixed1x1Conv', structuredClone({ ...options })); }
  invertibleSigmoid(options?: object): ChainImpl { return this.add('InvertibleSigmoid', { ...options }); }
  learnedElementwiseScaling(options?: object): ChainImpl { return this.add('LearnedElementwiseScaling', { ...options }); }
  orthogonal(options?: object): ChainImpl { return this.add('OrthogonalTransform', { ...options }); }
  householderPerm(options?: object): ChainImpl { return this.add('HouseholderPerm', { ...options }); }
  conv1x1LU(options?: object): ChainImpl { return this.add('InvertibleConv1x1LU', { ...options }); }
  iresnet(options?: object): ChainImpl { return this.add('IResNetLayer', { ...options }); }
  invAutoAct(options?: object): ChainImpl { return this.add('InvAutoAct', { ...options }); }
  invAutoActFixed(options?: object): ChainImpl { return this.add('InvAutoActFixed', { ...options }); }
  invAutoActTwoSided(options?: object): ChainImpl { return this.add('InvAutoActTwoSided', { ...options }); }
  invAutoFC(options?: object): ChainImpl { return this.add('InvAutoFC', { ...options }); }
  invAutoConv2D(options?: object): ChainImpl { return this.add('InvAutoConv2D', structuredClone({ ...options })); }
  gaussianMixture(options: object): ChainImpl { return this.add('GaussianMixtureModel', structuredClone({ ...options })); }
  flatten(options?: object): ChainImpl { return this.add('Flatten', { ...options }); }
  reshape(shape: readonly number[], options?: object): ChainImpl { return this.add('Reshape', { ...options, shape: checkShape('reshape', shape) }); }
  irevnetDownsample(options?: object): ChainImpl { return this.add('IRevNetDownsampling', { ...options }); }
  irevnetUpsample(options?: object): ChainImpl { return this.add('IRevNetUpsampling', { ...options }); }
  haarDownsample(options?: object): ChainImpl { return this.add('HaarDownsampling', { ...options }); }
  haarUpsample(options?: object): ChainImpl { return this.add('HaarUpsampling', { ...options }); }

  split(sections: readonly number[], options: { dim?: number; name?: string } = {}): ChainImpl {
    const [shape] = this.single('split').map((ref) => streamShape(this.state, ref));
    const dim = options.dim ?? 0;
    const total = Array.isArray(sections) ? sections.reduce((a, b) => a + b, 0) : NaN;
    if (total !== shape[dim]) {
      // The typed builder is stricter than FrEIA (no implicit slack section): say so at run time too.
      throw new ShapeMismatchError(options.name ?? 'split', `sections summing to ${shape[dim]} (dim ${dim} of ${formatShape(shape)})`, JSON.stringify(sections));
    }
    return this.add('Split', { name: options.name, sections: Object.freeze([...sections]), dim });
  }

  concat(options: { dim?: number; name?: string } = {}): ChainImpl {
    if (this.state.streams.length < 2) throw new WiringError(`concat needs at least two live streams, but only ${this.state.streams.length} is live`);
    return this.add('Concat', { name: options.name, dim: options.dim ?? 0 }, this.state.streams);
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
export function input<const X extends Shape>(shape: X): Chain<[Literal<X>], [], [Literal<X>]> {
  const node: InputNodeDef = { kind: 'input', name: 'input_0', shape: checkShape('input', shape) };
  const chain = new ChainImpl({ nodes: [node], streams: [{ node: 0, output: 0 }], conditions: [] });
  // The implementation is untyped over shapes; the interface carries them. This is the one cast.
  return chain as unknown as Chain<[Literal<X>], [], [Literal<X>]>;
}

