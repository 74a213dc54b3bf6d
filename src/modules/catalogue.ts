/**
 * The catalogue: every built-in module, declared once. The key is the
 * builder method (`inn.input([2]).glow(...)`, `g.glow(x, ...)`), the entry
 * (in the module's own file) gives the kind (FrEIA's class name, `Fm.X`),
 * options, condition use, run-time shape rule, factory and FrEIA mapping.
 *
 * Modules that keep their input's shape are listed in {@link shapeKeeping}:
 * the chain's and the graph builder's methods for them are derived from
 * this list, type-level rule included, and the doc comment on each line is
 * what the editor shows for the method. Modules that change shapes are
 * listed in {@link shapeChanging}; their builder methods have hand-written
 * signatures (their type-level rules compute new shapes).
 *
 * Adding a module: write its file (maths, `moduleEntry`, type-level rule),
 * add one line here, and one row to the module table (test/cases).
 */
import type { ModuleDef, Shape } from '../core/graph.js';
import { FreiaError, ShapeMismatchError, ValidationError, formatShape } from '../core/errors.js';
import { checkElements, checkOptions, describeValue, is } from '../core/validation.js';
import { actNorm } from './actnorm.js';
import { allInOneBlock } from './all-in-one.js';
import { affineCouplingOneSided, conditionalAffineTransform, ginCouplingBlock, glowCouplingBlock, niceCouplingBlock, rnvpCouplingBlock } from './coupling.js';
import { fixed1x1Conv, fixedLinearTransform, invertibleSigmoid, learnedElementwiseScaling } from './fixed.js';
import { gaussianMixtureModel } from './gaussian-mixture.js';
import { invAutoAct, invAutoActFixed, invAutoActTwoSided, invAutoConv2D, invAutoFC } from './inv-auto.js';
import { iresnetLayer } from './iresnet.js';
import { invertibleConv1x1LU } from './lu-conv.js';
import { householderPerm, orthogonalTransform } from './orthogonal.js';
import { permuteRandom } from './permute.js';
import { logitTransform, uniformDequantization } from './preprocessing.js';
import { flatten, haarDownsampling, haarUpsampling, irevnetDownsampling, irevnetUpsampling, reshape } from './reshapes.js';
import { elementwiseRationalQuadraticSpline, linearSpline, rationalQuadraticSpline } from './splines.js';
import { concat, split } from './topology.js';
import { autoregressiveRqSpline, inverseAutoregressiveFlow, maskedAutoregressiveFlow } from './autoregressive.js';
import { Inverse, type InverseOptions } from './inverse.js';
import { addedKinds, addedModule, moduleEntry, type ModuleSpec } from './registry.js';
import { subnetFromSpec, type SubnetSpec } from './subnets.js';
import { sequentialShapeProblem } from './sequential-subnet.js';

/**
 * Modules that keep their input's shape, by builder method.
 *
 * @group Modules
 */
export const shapeKeeping = {
  /**
   * FrEIA's AllInOneBlock: affine coupling, global affine scaling and permutation. The maths, the options and an example: {@link AllInOneBlock}.
   *
   * @example
   * ```ts
   * import { inn, subnets } from 'freia-ts';
   * const chain = inn.input([4]).allInOne({ subnet: subnets.mlp({ hidden: 32 }), permuteSoft: true }).build();
   * const g = inn.graph();
   * const x = g.input([4]);
   * const graph = g.build({ outputs: [g.allInOne(x, { subnet: subnets.mlp({ hidden: 32 }) })] });
   * ```
   */
  allInOne: allInOneBlock,
  /**
   * FrEIA's GLOWCouplingBlock: two affine half-steps, `[s | t]` from one subnet each. The maths, the options and an example: {@link GlowCoupling}.
   *
   * @example
   * ```ts
   * import { inn, subnets } from 'freia-ts';
   * const chain = inn.input([4]).glow({ subnet: subnets.mlp({ hidden: 32 }), clamp: 2 }).build();
   * const g = inn.graph();
   * const x = g.input([4]);
   * const graph = g.build({ outputs: [g.glow(x, { subnet: subnets.mlp({ hidden: 32 }) })] });
   * ```
   */
  glow: glowCouplingBlock,
  /**
   * FrEIA's RNVPCouplingBlock: two affine half-steps, separate subnets for `s` and `t`. The maths, the options and an example: {@link RnvpCoupling}.
   *
   * @example
   * ```ts
   * import { inn, subnets } from 'freia-ts';
   * const chain = inn.input([4]).rnvp({ subnet: subnets.mlp({ hidden: 32 }), clampActivation: 'TANH' }).build();
   * const g = inn.graph();
   * const x = g.input([4]);
   * const graph = g.build({ outputs: [g.rnvp(x, { subnet: subnets.mlp({ hidden: 32 }) })] });
   * ```
   */
  rnvp: rnvpCouplingBlock,
  /**
   * FrEIA's NICECouplingBlock: two additive half-steps (no clamp, log-det 0). The maths, the options and an example: {@link NiceCoupling}.
   *
   * @example
   * ```ts
   * import { inn, subnets } from 'freia-ts';
   * const chain = inn.input([4]).nice({ subnet: subnets.mlp({ hidden: 32 }) }).build();
   * const g = inn.graph();
   * const x = g.input([4]);
   * const graph = g.build({ outputs: [g.nice(x, { subnet: subnets.mlp({ hidden: 32 }) })] });
   * ```
   */
  nice: niceCouplingBlock,
  /**
   * FrEIA's GINCouplingBlock: GLOW with each log-scale centred over channels (volume preserving, log-det 0). The maths, the options and an example: {@link GinCoupling}.
   *
   * @example
   * ```ts
   * import { inn, subnets } from 'freia-ts';
   * const chain = inn.input([4]).gin({ subnet: subnets.mlp({ hidden: 32 }), clamp: 2 }).build();
   * const g = inn.graph();
   * const x = g.input([4, 8, 8]);
   * const graph = g.build({ outputs: [g.gin(x, { subnet: subnets.conv({ hidden: 16 }) })] });
   * ```
   */
  gin: ginCouplingBlock,
  /**
   * FrEIA's AffineCouplingOneSided: `x1` passes, `x2 · exp(s) + t` with `[s | t] = subnet([x1, c])`. The maths, the options and an example: {@link AffineCouplingOneSided}.
   *
   * @example
   * ```ts
   * import { inn, subnets } from 'freia-ts';
   * const chain = inn.input([4]).affineCouplingOneSided({ subnet: subnets.mlp({ hidden: 32 }) }).permuteRandom().build();
   * const g = inn.graph();
   * const x = g.input([4]);
   * const c = g.condition([2]);
   * const graph = g.build({ outputs: [g.affineCouplingOneSided(x, { subnet: subnets.mlp({ hidden: 32 }), cond: c })] });
   * ```
   */
  affineCouplingOneSided,
  /**
   * FrEIA's ConditionalAffineTransform: `x · exp(s) + t` with `[s | t] = subnet(c)`; `cond` is required. The maths, the options and an example: {@link ConditionalAffineTransform}.
   *
   * @example
   * ```ts
   * import { inn, subnets } from 'freia-ts';
   * const chain = inn.input([4]).condition([2]).conditionalAffine({ subnet: subnets.mlp({ hidden: 32 }), cond: 0 }).build();
   * const g = inn.graph();
   * const x = g.input([4]);
   * const c = g.condition([2]);
   * const graph = g.build({ outputs: [g.conditionalAffine(x, { subnet: subnets.mlp({ hidden: 32 }), cond: c })] });
   * ```
   */
  conditionalAffine: conditionalAffineTransform,
  /**
   * FrEIA's RationalQuadraticSpline: a two-sided coupling of rational-quadratic splines. The maths, the options and an example: {@link RationalQuadraticSpline}.
   *
   * @example
   * ```ts
   * import { inn, subnets } from 'freia-ts';
   * const chain = inn.input([4]).rqSpline({ subnet: subnets.mlp({ hidden: 32 }), bins: 8 }).build();
   * const g = inn.graph();
   * const x = g.input([4]);
   * const graph = g.build({ outputs: [g.rqSpline(x, { subnet: subnets.mlp({ hidden: 32 }) })] });
   * ```
   */
  rqSpline: rationalQuadraticSpline,
  /**
   * FrEIA's LinearSpline: the two-sided spline coupling with piecewise-linear splines. The maths, the options and an example: {@link LinearSpline}.
   *
   * @example
   * ```ts
   * import { inn, subnets } from 'freia-ts';
   * const chain = inn.input([4]).linearSpline({ subnet: subnets.mlp({ hidden: 32 }), bins: 16 }).build();
   * const g = inn.graph();
   * const x = g.input([4]);
   * const graph = g.build({ outputs: [g.linearSpline(x, { subnet: subnets.mlp({ hidden: 32 }) })] });
   * ```
   */
  linearSpline,
  /**
   * FrEIA's ElementwiseRationalQuadraticSpline: learned splines per element, or predicted by `subnet` from the conditions `cond` (both or neither). The maths, the options and an example: {@link ElementwiseRationalQuadraticSpline}.
   *
   * @example
   * ```ts
   * import { inn, subnets } from 'freia-ts';
   * const chain = inn.input([4]).elementwiseRqSpline({ bins: 8 }).build();
   * const g = inn.graph();
   * const x = g.input([4]);
   * const c = g.condition([2]); // splines predicted from a condition
   * const graph = g.build({ outputs: [g.elementwiseRqSpline(x, { subnet: subnets.mlp({ hidden: 32 }), cond: c })] });
   * ```
   */
  elementwiseRqSpline: elementwiseRationalQuadraticSpline,
  /**
   * MAF (beyond FrEIA): `u = (x − μ(x)) ⊙ exp(−α(x))` on vectors, `[μ_i, α_i]` from a MADE over `x_<i` (and `cond`);
   * density in one pass, sampling in D passes. Put a `permuteRandom` or another ordering between layers.
   * The maths, the options and an example: {@link MaskedAutoregressiveFlow}.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const chain = inn.input([5]).maf({ hidden: 32, layers: 2 }).permuteRandom().maf({ hidden: 32 }).build();
   * const g = inn.graph();
   * const x = g.input([5]);
   * const c = g.condition([3]);
   * const graph = g.build({ outputs: [g.maf(x, { hidden: 32, cond: c })] });
   * ```
   */
  maf: maskedAutoregressiveFlow,
  /**
   * IAF (beyond FrEIA): the inverse of a MAF, sampling in one pass, density in D passes. The maths, the options and an example: {@link MaskedAutoregressiveFlow}.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const chain = inn.input([5]).iaf({ hidden: 32 }).permuteRandom().iaf({ hidden: 32 }).build();
   * const g = inn.graph();
   * const x = g.input([5]);
   * const graph = g.build({ outputs: [g.iaf(x, { hidden: 32, clamp: 2 })] });
   * ```
   */
  iaf: inverseAutoregressiveFlow,
  /**
   * Autoregressive rational-quadratic spline (Neural Spline Flow, beyond FrEIA): a MADE gives each element's spline from the elements before it. The maths, the options and an example: {@link AutoregressiveRqSpline}.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const chain = inn.input([4]).arSpline({ bins: 8 }).permuteRandom().arSpline({ bins: 8 }).build();
   * const g = inn.graph();
   * const x = g.input([4]);
   * const graph = g.build({ outputs: [g.arSpline(x, { bins: 8, hidden: 32 })] });
   * ```
   */
  arSpline: autoregressiveRqSpline,
  /**
   * FrEIA's ActNorm with data-dependent initialisation. The maths, the options and an example: {@link ActNorm}.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const chain = inn.input([4]).actNorm().build();
   * const g = inn.graph();
   * const x = g.input([3, 8, 8]);
   * const graph = g.build({ outputs: [g.actNorm(x)] });
   * ```
   */
  actNorm,
  /**
   * FrEIA's PermuteRandom: a fixed random permutation of the channels. The maths, the options and an example: {@link PermuteRandom}.
   *
   * @example
   * ```ts
   * import { inn, subnets } from 'freia-ts';
   * const chain = inn.input([4]).glow({ subnet: subnets.mlp({ hidden: 32 }) }).permuteRandom({ seed: 1 }).build();
   * const g = inn.graph();
   * const x = g.input([4]);
   * const graph = g.build({ outputs: [g.permuteRandom(x)] });
   * ```
   */
  permuteRandom,
  /**
   * FrEIA's FixedLinearTransform: `y = M x + b` on vectors `[C]`, with a fixed invertible `M` (given as rows). The maths, the options and an example: {@link FixedLinearTransform}.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const chain = inn.input([2]).fixedLinear({ M: [[2, 0], [1, 1]], b: [0, 1] }).build();
   * const g = inn.graph();
   * const x = g.input([2]);
   * const graph = g.build({ outputs: [g.fixedLinear(x, { M: [[0, 1], [1, 0]] })] });
   * ```
   */
  fixedLinear: fixedLinearTransform,
  /**
   * FrEIA's Fixed1x1Conv: `y = Mᵀ x` at every pixel of an image `[C, H, W]`, with a fixed invertible `M` (given as rows). The maths, the options and an example: {@link Fixed1x1Conv}.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const chain = inn.input([2, 8, 8]).fixed1x1Conv({ M: [[0, 1], [1, 0]] }).build();
   * const g = inn.graph();
   * const x = g.input([3, 4, 4]);
   * const graph = g.build({ outputs: [g.fixed1x1Conv(x, { M: [[2, 0, 0], [0, 1, 0], [1, 0, 1]] })] });
   * ```
   */
  fixed1x1Conv,
  /**
   * FrEIA's InvertibleSigmoid: `y = σ(x)` element-wise (the inverse needs values in (0, 1)). The maths, the options and an example: {@link InvertibleSigmoid}.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const chain = inn.input([4]).invertibleSigmoid().build();
   * const g = inn.graph();
   * const x = g.input([4]);
   * const graph = g.build({ outputs: [g.invertibleSigmoid(x)] });
   * ```
   */
  invertibleSigmoid,
  /**
   * FrEIA's LearnedElementwiseScaling: `y = x · exp(s)` with a learned `s` per element. The maths, the options and an example: {@link LearnedElementwiseScaling}.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const chain = inn.input([4]).learnedElementwiseScaling({ initScale: 0.5 }).build();
   * const g = inn.graph();
   * const x = g.input([3, 8, 8]);
   * const graph = g.build({ outputs: [g.learnedElementwiseScaling(x)] });
   * ```
   */
  learnedElementwiseScaling,
  /**
   * FrEIA's OrthogonalTransform: `y = (Qᵀx + b) ⊙ exp(s')` on vectors `[C]`, `Q` learned and kept orthogonal. The maths, the options and an example: {@link OrthogonalTransform}.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const chain = inn.input([6]).orthogonal({ clamp: 5 }).build();
   * const g = inn.graph();
   * const x = g.input([6]);
   * const graph = g.build({ outputs: [g.orthogonal(x)] });
   * ```
   */
  orthogonal: orthogonalTransform,
  /**
   * FrEIA's HouseholderPerm: a product of learned Householder reflections on vectors `[C]` (or reflections read from `cond`). The maths, the options and an example: {@link HouseholderPerm}.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const chain = inn.input([6]).householderPerm({ nReflections: 3 }).build();
   * const g = inn.graph();
   * const x = g.input([6]);
   * const c = g.condition([12]); // the reflections, C·k = 6·2 numbers per sample
   * const graph = g.build({ outputs: [g.householderPerm(x, { nReflections: 2, cond: c })] });
   * ```
   */
  householderPerm,
  /**
   * Glow's learned invertible 1×1 convolution, LU-parameterised, on `[C]` or `[C, H, W]` (beyond FrEIA). The maths, the options and an example: {@link InvertibleConv1x1LU}.
   *
   * @example
   * ```ts
   * import { inn, subnets } from 'freia-ts';
   * const chain = inn.input([3, 8, 8]).conv1x1LU().glow({ subnet: subnets.conv({ hidden: 16 }) }).build();
   * const g = inn.graph();
   * const x = g.input([4]);
   * const graph = g.build({ outputs: [g.conv1x1LU(x, { seed: 0 })] });
   * ```
   */
  conv1x1LU: invertibleConv1x1LU,
  /**
   * FrEIA's IResNetLayer: `y = x + g(x)` with a contractive residual MLP (vectors) or 3×3 CNN (images); the
   * inverse is a fixed-point iteration. Set `exactLogDet` for an exact log-det (small dimensions) and
   * `spectralNorm: 'forward'` to keep it invertible without calling `lipschitzCorrection(flow)` after each step.
   * The maths, the options and an example: {@link IResNetLayer}.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const chain = inn.input([6]).iresnet({ internalSize: 32, spectralNorm: 'forward' }).build();
   * const g = inn.graph();
   * const x = g.input([4]);
   * const graph = g.build({ outputs: [g.iresnet(x, { exactLogDet: true })] });
   * ```
   */
  iresnet: iresnetLayer,
  /**
   * FrEIA's InvAutoAct: `y = x · exp(α · sign x)` with a learned log-slope α per channel (exactly invertible). The maths, the options and an example: {@link InvAutoAct}.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const chain = inn.input([4]).invAutoAct({ slopeInit: 2 }).build();
   * const g = inn.graph();
   * const x = g.input([4]);
   * const graph = g.build({ outputs: [g.invAutoAct(x, { learnable: false })] });
   * ```
   */
  invAutoAct,
  /**
   * FrEIA's InvAutoActFixed: the same as `invAutoAct` (learnable unless `learnable: false`, as in FrEIA).
   * The maths, the options and an example: {@link InvAutoActFixed}.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const chain = inn.input([4]).invAutoActFixed().build();
   * const g = inn.graph();
   * const x = g.input([4]);
   * const graph = g.build({ outputs: [g.invAutoActFixed(x, { slopeInit: 2 })] });
   * ```
   *
   * @deprecated Use `invAutoAct`, with `learnable: false` for a fixed slope.
   */
  invAutoActFixed,
  /**
   * FrEIA's InvAutoActTwoSided: slopes `exp(α₊)` for x ≥ 0 and `exp(α₋)` for x < 0, learned per channel. The maths, the options and an example: {@link InvAutoActTwoSided}.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const chain = inn.input([4]).invAutoActTwoSided({ initPos: 2, initNeg: 0.5 }).build();
   * const g = inn.graph();
   * const x = g.input([4]);
   * const graph = g.build({ outputs: [g.invAutoActTwoSided(x)] });
   * ```
   */
  invAutoActTwoSided,
  /**
   * FrEIA's GaussianMixtureModel: `z = U_k (x − μ_k)` for a mixture component k, with the weights `[K]`, means
   * `[K, D]`, Cholesky entries `[K, D(D+1)/2]` (and an index `[1]`) read from `cond` in that order. The
   * condition shapes are checked when the network is built, not by the compiler.
   * The maths, the options and an example: {@link GaussianMixtureModel}.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * // K = 3 components in D = 2: weights [3], means [3, 2], Cholesky entries [3, 3]
   * const chain = inn.input([2]).condition([3]).condition([3, 2]).condition([3, 3]).gaussianMixture({ cond: [0, 1, 2], component: { seed: 0 } }).build();
   * const g = inn.graph();
   * const x = g.input([3, 2]); // component: 'all' maps row k by component k
   * const graph = g.build({ outputs: [g.gaussianMixture(x, { cond: [g.condition([3]), g.condition([3, 2]), g.condition([3, 3])], component: 'all' })] });
   * ```
   */
  gaussianMixture: gaussianMixtureModel,
  /**
   * Uniform dequantization (beyond FrEIA): `y = (x + u)/L` with `u ~ U(δ, 1−δ)` for data `x ∈ {0 … L−1}`
   * (`levels`, default 256), log-det `−D log L`; the inverse is `floor(y·L)`. `noise: false` uses `u = ½`.
   * The maths, the options and an example: {@link UniformDequantization}.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const chain = inn.input([1, 4, 4]).dequantize({ levels: 256 }).logit().build();
   * const g = inn.graph();
   * const x = g.input([3, 8, 8]);
   * const graph = g.build({ outputs: [g.dequantize(x, { levels: 16, noise: false })] });
   * ```
   */
  dequantize: uniformDequantization,
  /**
   * The logit transform (beyond FrEIA): `y = logit(α + (1−2α) x)` for `x` in [0, 1] (`alpha`, default 0.05 as in RealNVP). The maths, the options and an example: {@link LogitTransform}.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const chain = inn.input([3]).logit({ alpha: 0.05 }).build();
   * const g = inn.graph();
   * const x = g.input([1, 8, 8]);
   * const graph = g.build({ outputs: [g.logit(x)] });
   * ```
   */
  logit: logitTransform,
} as const;

/**
 * Modules that change shapes, by builder method; their builder signatures are written by hand.
 *
 * @group Modules
 */
export const shapeChanging = {
  /** FrEIA's Flatten: `[C, H, W]` → `[C·H·W]` ({@link Flatten}). */
  flatten,
  /** FrEIA's Reshape: any shape with as many elements ({@link Reshape}). */
  reshape,
  /** FrEIA's IRevNetDownsampling: `[C, H, W]` → `[4C, H/2, W/2]` ({@link IRevNetDownsampling}). */
  irevnetDownsample: irevnetDownsampling,
  /** FrEIA's IRevNetUpsampling: `[C, H, W]` → `[C/4, 2H, 2W]`. */
  irevnetUpsample: irevnetUpsampling,
  /** FrEIA's HaarDownsampling: `[C, H, W]` → `[4C, H/2, W/2]` ({@link HaarDownsampling}). */
  haarDownsample: haarDownsampling,
  /** FrEIA's HaarUpsampling: `[C, H, W]` → `[C/4, 2H, 2W]`. */
  haarUpsample: haarUpsampling,
  /** FrEIA's Split: one stream into sections ({@link Split}). */
  split,
  /** FrEIA's Concat: streams into one ({@link Concat}). */
  concat,
  /** FrEIA's InvAutoFC: `[C]` → `[D]`, not exactly invertible ({@link InvAutoFC}). */
  invAutoFC,
  /** FrEIA's InvAutoConv2D: a convolution on `[C, H, W]`, not exactly invertible ({@link InvAutoConv2D}). */
  invAutoConv2D,
} as const;

/** The state-dict keys FrEIA stores for a module of `kind` but we rebuild from its options (ignored on import). */
export function derivedKeys(kind: string, args: Record<string, unknown>): readonly string[] {
  const derived = moduleSpec(kind).freia?.derived ?? [];
  return typeof derived === 'function' ? derived(args) : derived;
}

/** The shape-keeping kinds `inverseOf` may wrap: every one with an exact inverse. */
const invertibleKinds = (): string[] => Object.values(shapeKeeping).filter((entry) => entry.recomputeByInversion ?? true).map((entry) => entry.kind);

/**
 * FrEIA's Inverse ({@link Inverse}). Declared here, not in its module's
 * file, because it looks up the entry of the module it wraps, which only
 * the catalogue knows.
 */
const inverse = moduleEntry<InverseOptions>()({ kind: 'Inverse', conditions: 'optional',
  outputShapes(node: string, inputShapes: readonly Shape[], conditionShapes: readonly Shape[], options) {
    const kinds = invertibleKinds();
    if (typeof options.module !== 'string' || !kinds.includes(options.module)) {
      throw new ValidationError(node, 'module', `the kind of a shape-keeping module with an exact inverse (${kinds.join(', ')})`, describeValue(options.module));
    }
    // The wrapped module's own options and rule: its output shapes are the wrapper's.
    return defineModule(node, options.module, options.args ?? {}, inputShapes, conditionShapes).outputShapes.map((shape) => [...shape]);
  },
  create: (def) => {
    const inner = moduleSpec(def.args.module);
    return new Inverse(def, inner.create({ ...def, kind: def.args.module, args: def.args.args ?? {} }));
  },
  options: { module: is.anything, args: is.anything },
  freia: {
    // The wrapped module's derived buffers, under FrEIA's `module.` prefix.
    derived: (args) => (typeof args.module === 'string' ? derivedKeys(args.module, (args.args ?? {}) as Record<string, unknown>).map((key) => `module.${key}`) : []),
    // FrEIA's argument is the wrapped module itself; an export describes it as { module, args, subnet }.
    adjust: (args) => {
      const wrapped = args.module as { module?: unknown; args?: Record<string, unknown>; subnet?: SubnetSpec | null } | undefined;
      if (wrapped === null || typeof wrapped !== 'object' || typeof wrapped.module !== 'string') return args;
      return { module: wrapped.module, args: freiaArgs(wrapped.module, wrapped.args ?? {}, wrapped.subnet ?? null) };
    },
  },
});

/**
 * Modules that wrap another, by builder method; their builder signatures are written by hand.
 *
 * @group Modules
 */
export const wrappers = {
  /** FrEIA's Inverse: a shape-keeping module with its directions swapped. */
  inverseOf: inverse,
} as const;

/**
 * Every built-in module, by builder method.
 *
 * @group Modules
 */
export const catalogue = { ...shapeKeeping, ...shapeChanging, ...wrappers } as const;

/**
 * The methods of modules that keep their input's shape.
 *
 * @group Modules
 */
export type ShapeKeepingMethod = keyof typeof shapeKeeping;

/**
 * A built-in module's kind (FrEIA's class name).
 *
 * @group Modules
 */
export type BuiltInKind = (typeof catalogue)[keyof typeof catalogue]['kind'];

const builtIns: ReadonlyMap<string, ModuleSpec> = new Map(Object.values(catalogue).map((entry): [string, ModuleSpec] => [entry.kind, entry]));

/** The entry of a kind (built in, or added at run time), or an error listing the known kinds. */
export function moduleSpec(kind: string): ModuleSpec {
  const spec = builtIns.get(kind) ?? addedModule(kind);
  if (!spec) throw new FreiaError(`unknown module kind "${kind}" (known: ${[...builtIns.keys(), ...addedKinds()].sort().join(', ')})`);
  return spec;
}

/**
 * Builds a validated definition: runs the kind's run-time shape rule, so a
 * bad wiring fails here, naming the node. The builders call it for every
 * block; call it yourself to check a wiring without building a flow.
 *
 * @example
 * ```ts
 * import { defineModule, subnets } from 'freia-ts';
 * const def = defineModule('block', 'GLOWCouplingBlock', { subnet: subnets.mlp({ hidden: 16 }), clamp: 2 }, [[4]]);
 * def.outputShapes; // [[4]]
 * // defineModule('bad', 'GLOWCouplingBlock', { subnet: subnets.mlp({ hidden: 16 }) }, [[1]]) throws:
 * // bad: expected two non-empty channel halves (GLOWCouplingBlock transforms each half from the other), got a split 0|1 of [1]
 * ```
 *
 * @group Modules
 */
export function defineModule(node: string, kind: string, args: object, inputShapes: readonly Shape[], conditionShapes: readonly Shape[] = []): ModuleDef {
  const spec = moduleSpec(kind);
  if (spec.options) checkOptions(node, args, spec.options);
  inputShapes.forEach((shape, k) => checkElements(node, `input ${k}`, shape));
  conditionShapes.forEach((shape, k) => checkElements(node, `condition ${k}`, shape));
  // Cast: any module's options may carry a subnet factory; only its serialisable description is read.
  const subnetSpec = (args as { subnet?: { spec?: SubnetSpec } }).subnet?.spec;
  const subnetKind = subnetSpec?.kind;
  if ((subnetKind === 'conv3x3' || subnetKind === 'conv1x1') && inputShapes.some((shape) => shape.length !== 3)) {
    throw new ShapeMismatchError(node, 'an image [C, H, W] for a conv subnet (an mlp subnet works on vectors)', inputShapes.map(formatShape).join(', '), `${kind} with subnets.conv`);
  }
  if (subnetSpec?.kind === 'sequential') {
    const problem = inputShapes.map((shape) => sequentialShapeProblem(subnetSpec, shape)).find((p) => p !== undefined);
    if (problem) throw new FreiaError(`node "${node}" (${kind}): ${problem}`);
  }
  const outputShapes = spec.outputShapes(node, inputShapes, conditionShapes, args);
  outputShapes.forEach((shape, k) => checkElements(node, `output ${k}`, shape));
  return { kind, args, inputShapes, conditionShapes, outputShapes };
}

const camel = (name: string) => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * FrEIA constructor arguments (snake_case, as in Python) as our module
 * options: the module's own renames, then camelCase; `subnet_constructor`
 * becomes `subnet`; `null` means "not given".
 *
 * @example
 * ```ts
 * import { freiaArgs } from 'freia-ts';
 * freiaArgs('AllInOneBlock', { affine_clamping: 1.5, gin_block: false, permute_soft: true });
 * // { clamp: 1.5, gin: false, permuteSoft: true }
 * freiaArgs('ActNorm', { init_data: null }); // {}: FrEIA's init_data is not an option of ours
 * ```
 *
 * @group Modules
 */
export function freiaArgs(kind: string, freiaArgs: Readonly<Record<string, unknown>>, subnet: SubnetSpec | null = null): Record<string, unknown> {
  const rules = moduleSpec(kind).freia ?? {};
  const args: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(freiaArgs)) {
    if (value === null || value === undefined || rules.drop?.includes(key)) continue;
    args[rules.rename?.[key] ?? (key === 'subnet_constructor' ? 'subnet' : camel(key))] = value;
  }
  if (subnet) args.subnet = subnetFromSpec(subnet);
  return rules.adjust ? rules.adjust(args) : args;
}
