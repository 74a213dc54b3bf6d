/**
 * Autoregressive flows on vectors `[D]`: each output element depends on the
 * input elements before it in an ordering, through a MADE network (Germain
 * et al. 2015, "MADE: Masked Autoencoder for Distribution Estimation"), so
 * the Jacobian is triangular in that ordering and the log-det is a sum.
 *
 * - **MAF** (Papamakarios et al. 2017): `u_i = (x_i − μ_i(x_<i)) · exp(−α_i(x_<i))`,
 *   `log|det J| = −Σ α_i`. The density direction (forward) is one pass; the
 *   sampling direction (inverse) solves for `x` one element at a time, `D`
 *   passes.
 * - **IAF** (Kingma et al. 2016): the inverse of a MAF. Sampling is one pass
 *   and the density direction is sequential.
 * - **Autoregressive rational-quadratic spline** (Durkan et al. 2019, "Neural
 *   Spline Flows"): `u_i = RQ(x_i; θ_i(x_<i))` with FrEIA's spline
 *   parametrisation (the options of `rqSpline`); one pass forward, `D`
 *   passes inverse.
 *
 * MADE: masked dense layers with ReLU, `[x, c] → hidden (× layers) → P
 * values per element`. Every unit has a degree: input element `i` the
 * position of `i` in the ordering (1…D), hidden units 0…D−1, output values
 * of element `i` its input degree. A weight from a unit of degree `a` to a
 * hidden unit of degree `b` exists when `b ≥ a`, to an output of degree `b`
 * when `b > a`; the conditions feed every unit of the first hidden layer.
 * The masks are stored as buffers, so a random ordering survives saving.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModuleDef, Shape } from '../core/graph.js';
import { ShapeMismatchError, formatShape } from '../core/errors.js';
import { checkElements, is } from '../core/validation.js';
import { globalRng, mulberry32, randomPermutation, uniformTensor, type Rng } from '../math/rng.js';
import { InvertibleModule, type ForwardOptions, type ModuleResult } from './base.js';
import { moduleEntry } from './registry.js';
import type { VectorRule } from './fixed.js';
import { SplineParametrisation, type SplineOptions } from './splines.js';

/**
 * The ordering of the elements: `natural` (0, 1, …), `reversed`, or `random` (from `seed`).
 *
 * @group Modules
 */
export type Ordering = 'natural' | 'reversed' | 'random';

/**
 * The MADE network's options, shared by every autoregressive module.
 *
 * @group Modules
 */
export interface MadeOptions {
  /** Units per hidden layer (default 64). */
  readonly hidden?: number;
  /** Hidden layers (default 2). */
  readonly layers?: number;
  /** The autoregressive ordering (default `'natural'`). */
  readonly order?: Ordering;
  /** Seed of a random ordering and of the initial weights (default: the global generator). */
  readonly seed?: number;
}

/**
 * Options of {@link MaskedAutoregressiveFlow} and the IAF.
 *
 * @group Modules
 */
export interface MafOptions extends MadeOptions {
  /** Soft clamp of the log-scales, `α = clamp · tanh(raw / clamp)` (default 3). */
  readonly clamp?: number;
}

/**
 * Options of {@link AutoregressiveRqSpline}: MADE's and the spline's (see `rqSpline`).
 *
 * @group Modules
 */
export interface ArSplineOptions extends MadeOptions, SplineOptions {}

/** The degrees of a MADE: input elements, then each hidden layer. */
function madeDegrees(dims: number, hidden: number, layers: number, order: Ordering, rng: Rng): { input: number[]; hidden: number[][] } {
  const positions = order === 'natural' ? [...Array(dims).keys()] : order === 'reversed' ? [...Array(dims).keys()].reverse() : randomPermutation(dims, rng);
  const input = positions.map((p) => p + 1);
  const layersDegrees: number[][] = [];
  let lowest = 0;
  for (let l = 0; l < layers; l++) {
    // Cycling through lowest…D−1 uses every degree a layer may have; random orderings draw them.
    const span = Math.max(1, dims - lowest);
    const degrees = Array.from({ length: hidden }, (_, k) => (order === 'random' ? lowest + Math.floor(rng() * span) : lowest + (k % span)));
    layersDegrees.push(degrees.map((d) => Math.min(d, dims - 1)));
    lowest = Math.min(...layersDegrees[l]);
  }
  return { input, hidden: layersDegrees };
}

/** `mask[j][k] = 1` where unit `k` of the next layer may read unit `j` of the previous one. */
function maskTensor(from: readonly number[], to: readonly number[], strict: boolean): tf.Tensor2D {
  const values = new Float32Array(from.length * to.length);
  from.forEach((a, j) => to.forEach((b, k) => (values[j * to.length + k] = (strict ? b > a : b >= a) ? 1 : 0)));
  return tf.tensor2d(values, [from.length, to.length]);
}

/**
 * A MADE inside a module: its weights and masks are the module's parameters
 * and buffers (`made.<k>.weight`, `made.<k>.bias`, `made.<k>.mask`).
 */
class Made {
  private readonly layers: { weight: tf.Variable; bias: tf.Variable; mask: tf.Variable }[] = [];
  /** The elements in autoregressive order: element `ordering[t]` depends on `ordering[0…t−1]`. */
  readonly ordering: readonly number[];

  constructor(
    add: (name: string, initial: tf.Tensor, trainable?: boolean) => tf.Variable,
    /** @internal */
    readonly dims: number,
    conditionFeatures: number,
    /** Values per element (channel-major: element `i` owns outputs `i·P … i·P + P − 1`). */
    readonly perElement: number,
    options: MadeOptions,
  ) {
    const hidden = options.hidden ?? 64;
    const depth = options.layers ?? 2;
    const rng = options.seed === undefined ? globalRng() : mulberry32(options.seed);
    const degrees = madeDegrees(dims, hidden, depth, options.order ?? 'natural', rng);
    this.ordering = [...degrees.input.keys()].sort((a, b) => degrees.input[a] - degrees.input[b]);
    const outputDegrees = degrees.input.flatMap((d) => Array<number>(perElement).fill(d));
    // Conditions read by every first-layer unit: degree 0, and a non-strict mask.
    const layerInputs = [[...degrees.input, ...Array<number>(conditionFeatures).fill(0)], ...degrees.hidden];
    const layerOutputs = [...degrees.hidden, outputDegrees];
    layerOutputs.forEach((to, k) => {
      const from = layerInputs[k];
      const last = k === layerOutputs.length - 1;
      const bound = 1 / Math.sqrt(from.length);
      const mask = maskTensor(from, to, last);
      // Conditions (degree 0 in the first layer) feed every hidden unit, including those of degree 0.
      const weight = add(`made.layer${k}.weight`, uniformTensor([from.length, to.length], bound, rng));
      const bias = add(`made.layer${k}.bias`, uniformTensor([to.length], bound, rng));
      this.layers.push({ weight, bias, mask: add(`made.layer${k}.mask`, mask, false) });
    });
  }

  /** `[B, D]` (and conditions `[B, C]`) → `[B, D, P]`. */
  apply(x: tf.Tensor, cs: readonly tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      let h = cs.length ? tf.concat([x, ...cs.map((c) => tf.reshape(c, [c.shape[0], -1]))], 1) : x;
      this.layers.forEach(({ weight, bias, mask }, k) => {
        h = tf.add(tf.matMul(h, tf.mul(weight, mask)), bias);
        if (k < this.layers.length - 1) h = tf.relu(h);
      });
      return tf.reshape(h, [x.shape[0], this.dims, this.perElement]);
    });
  }
}

/** Runs `step(x) → [y, logDet]` D times from zeros, each pass fixing one more element in the ordering. */
function solveSequentially(dims: number, start: tf.Tensor, step: (current: tf.Tensor) => [tf.Tensor, tf.Tensor]): [tf.Tensor, tf.Tensor] {
  let current = tf.zerosLike(start);
  let logDet: tf.Tensor | undefined;
  for (let t = 0; t < dims; t++) {
    const [next, ld] = step(current);
    tf.dispose([current, logDet ?? []]);
    current = next;
    logDet = ld;
  }
  // After pass t the first t + 1 elements in the ordering are exact, and each element's parameters read only earlier ones.
  return [current, logDet!];
}

const softClamp = (raw: tf.Tensor, clamp: number) => tf.mul(tf.tanh(tf.div(raw, clamp)), clamp);

/** Condition elements in all, whatever their shapes: the MADE reads them flattened. */
const conditionFeatures = (def: ModuleDef) => def.conditionShapes.reduce((sum, c) => sum + c.reduce((a, b) => a * b, 1), 0);

/**
 * What MAF, IAF and the autoregressive spline share: a MADE giving `P`
 * values per element, one pass towards the side the MADE reads, `D` passes
 * (solving one element at a time) the other way.
 */
abstract class AutoregressiveLayer extends InvertibleModule {
  private readonly made: Made;
  /** @internal */
  protected readonly dims: number;

  /** The elements in autoregressive order (element `ordering[t]` depends on the ones before it). */
  get ordering(): readonly number[] {
    return this.made.ordering;
  }

  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<MadeOptions>, perElement: number, private readonly inverted: boolean) {
    super(def.inputShapes, def.conditionShapes);
    this.dims = def.inputShapes[0][0];
    this.made = new Made((name, initial, trainable) => this.addParam(name, initial, trainable), this.dims, conditionFeatures(def), perElement, def.args);
  }

  /**
   * The element-wise map given the MADE's values `params: [B, D, P]`: towards
   * the latent side (`toLatent`) or back; the result and its log-det.
   */
  protected abstract transform(x: tf.Tensor, params: tf.Tensor, toLatent: boolean): [tf.Tensor, tf.Tensor];

  forward([x]: readonly tf.Tensor[], cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    // MAF and the spline: data → latent reads the data (one pass); latent → data solves for the data.
    // IAF (inverted): the same map run the other way round.
    const toLatent = rev === this.inverted;
    const step = (source: tf.Tensor) => tf.tidy(() => this.transform(x, this.made.apply(source, cs), toLatent));
    const [out, logDet] = toLatent ? step(x) : solveSequentially(this.dims, x, step);
    return { out: [out], logDet };
  }
}

/**
 * MAF: an affine autoregressive layer on vectors, `u = (x − μ(x)) ⊙ exp(−α(x))`
 * with `[μ_i, α_i]` from a MADE over `x_<i` (and the conditions), `α` softly
 * clamped. Forward (density) in one pass, inverse (sampling) in `D` passes.
 * With `inverted` (the IAF entry) the two directions are swapped.
 *
 * Options: {@link MafOptions}.
 *
 * @example
 * ```ts
 * import { inn } from 'freia-ts';
 * inn.input([5]).maf({ hidden: 32, layers: 2 }).permuteRandom().maf({ hidden: 32 }).build();
 * // its inverse, the IAF: sampling in one pass
 * inn.input([5]).iaf({ hidden: 32 }).build();
 * ```
 *
 * @group Modules
 */
export class MaskedAutoregressiveFlow extends AutoregressiveLayer {
  private readonly clamp: number;

  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<MafOptions>, inverted = false) {
    super(def, 2, inverted);
    this.clamp = def.args.clamp ?? 3;
  }

  protected transform(x: tf.Tensor, params: tf.Tensor, toLatent: boolean): [tf.Tensor, tf.Tensor] {
    const [mu, raw] = tf.split(params, 2, 2).map((t) => tf.reshape(t, [x.shape[0], this.dims]));
    const alpha = softClamp(raw, this.clamp);
    const sumAlpha = tf.sum(alpha, 1);
    return toLatent ? [tf.mul(tf.sub(x, mu), tf.exp(tf.neg(alpha))), tf.neg(sumAlpha)] : [tf.add(tf.mul(x, tf.exp(alpha)), mu), sumAlpha];
  }
}

/**
 * Autoregressive rational-quadratic spline (Neural Spline Flow, autoregressive
 * form): every element goes through its own RQ spline, whose knots a MADE
 * computes from the elements before it, `u_i = RQ(x_i; θ(x_<i))`. The
 * spline and its options are FrEIA's (see `rqSpline`), with `P = 3K + 1`
 * values per element (`3K` with `identityTails`). One pass forward, `D`
 * passes inverse.
 *
 * Options: {@link ArSplineOptions}.
 *
 * @example
 * ```ts
 * import { inn } from 'freia-ts';
 * inn.input([4]).arSpline({ bins: 8 }).permuteRandom().arSpline({ bins: 8 }).build();
 * ```
 *
 * @group Modules
 */
export class AutoregressiveRqSpline extends AutoregressiveLayer {
  private readonly spline: SplineParametrisation;

  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<ArSplineOptions>) {
    super(def, new SplineParametrisation(def.args).count, false);
    this.spline = new SplineParametrisation(def.args);
  }

  protected transform(x: tf.Tensor, params: tf.Tensor, toLatent: boolean): [tf.Tensor, tf.Tensor] {
    return this.spline.transform(x, tf.reshape(params, [x.shape[0], this.dims * this.spline.count]), !toLatent);
  }
}

/** The MADE's options' rules. */
const madeOptions = {
  hidden: is.number({ integer: true, min: 1, max: 1 << 16 }),
  layers: is.number({ integer: true, min: 1, max: 64 }),
  order: is.oneOf(['natural', 'reversed', 'random']),
  seed: is.number({ integer: true }),
} as const;

/** The run-time rule of every autoregressive module: one vector, conditions of any shape, a MADE that fits the size limit. */
function autoregressiveShapes(node: string, inputShapes: readonly Shape[], conditionShapes: readonly Shape[], options: MadeOptions, perElement: number): Shape[] {
  if (inputShapes.length !== 1) throw new ShapeMismatchError(node, 'exactly 1 input', `${inputShapes.length} inputs`);
  const [x] = inputShapes;
  if (x.length !== 1) throw new ShapeMismatchError(node, 'a vector input [D] (flatten an image first)', formatShape(x));
  const hidden = options.hidden ?? 64;
  const features = conditionShapes.reduce((sum, c) => sum + c.reduce((a, b) => a * b, 1), 0); // as conditionFeatures, before a definition exists
  // The MADE's largest layers, bounded before anything is made.
  checkElements(node, 'MADE input layer', [x[0] + features, hidden]);
  checkElements(node, 'MADE output layer', [hidden, x[0] * perElement]);
  return [x];
}

export const maskedAutoregressiveFlow = moduleEntry<MafOptions, VectorRule>()({ kind: 'MaskedAutoregressiveFlow', conditions: 'optional',
  outputShapes: (node, inputShapes, conditionShapes, options) => autoregressiveShapes(node, inputShapes, conditionShapes, options, 2),
  create: (def) => new MaskedAutoregressiveFlow(def),
  options: { ...madeOptions, clamp: is.number({ above: 0 }) },
  freia: { notExported: 'beyond FrEIA: FrEIA has no masked autoregressive flow (MAF)' },
});

export const inverseAutoregressiveFlow = moduleEntry<MafOptions, VectorRule>()({ kind: 'InverseAutoregressiveFlow', conditions: 'optional',
  outputShapes: (node, inputShapes, conditionShapes, options) => autoregressiveShapes(node, inputShapes, conditionShapes, options, 2),
  create: (def) => new MaskedAutoregressiveFlow(def, true),
  options: { ...madeOptions, clamp: is.number({ above: 0 }) },
  freia: { notExported: 'beyond FrEIA: FrEIA has no inverse autoregressive flow (IAF)' },
});

export const autoregressiveRqSpline = moduleEntry<ArSplineOptions, VectorRule>()({ kind: 'AutoregressiveRQSpline', conditions: 'optional',
  outputShapes: (node, inputShapes, conditionShapes, options) => {
    SplineParametrisation.check(node, options);
    return autoregressiveShapes(node, inputShapes, conditionShapes, options, new SplineParametrisation(options).count);
  },
  create: (def) => new AutoregressiveRqSpline(def),
  options: {
    ...madeOptions,
    bins: is.number({ integer: true, min: 1 }),
    minBinSizes: is.tuple(2, is.number({ min: 0 })),
    defaultDomain: is.tuple(4, is.number()),
    identityTails: is.boolean,
    domainClamping: is.number({ above: 0 }),
  },
  freia: { notExported: 'beyond FrEIA: FrEIA has no autoregressive spline (its splines are couplings)' },
});

