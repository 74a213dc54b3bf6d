/**
 * FrEIA's IResNetLayer: the invertible residual block of Behrmann et al.
 * (2019), `y = x + g(x)`, which is invertible when the residual `g` is a
 * contraction (Lipschitz constant below 1).
 *
 * `g` is `Linear → ELU → (Linear → ELU)×n → Linear` for vectors `[C]`, and the
 * same with 3×3 convolutions (padding 1) for images `[C, H, W]`; its layers
 * are FrEIA's `residual.0`, `residual.2`, … (`nn.Sequential` indices, the ELUs
 * sit at the odd ones).
 *
 * - Inverse: FrEIA's fixed-point iteration `x̂ ← y − g(x̂)` from `x̂ = y`, then
 *   one more step `x = y − g(x̂)`.
 * - log|det J| = log det(I + J_g): by default FrEIA's stochastic estimate (a
 *   power series with Hutchinson trace probes); `exactLogDet` computes it from
 *   the full Jacobian instead.
 * - Spectral normalisation keeps each layer's spectral norm at most
 *   `spectralNormMax`, which makes `g` a contraction (ELU is 1-Lipschitz).
 */
import * as tf from '@tensorflow/tfjs';
import type { ModuleDef, Shape } from '../core/graph.js';
import { FreiaError, ShapeMismatchError, formatShape } from '../core/errors.js';
import { is, checkElements } from '../core/validation.js';
import { internalShape, numel } from '../math/layout.js';
import { batchedLogAbsDet } from '../math/linalg.js';
import { globalRng, mulberry32, normalTensor, uniformTensor } from '../math/rng.js';
import type { FormatShape, ShapeError } from '../types/shape.js';
import { InvertibleModule, type ForwardOptions, type ModuleResult } from './base.js';
import { moduleEntry, type KeepRule } from './registry.js';

/**
 * Options of {@link IResNetLayer}: FrEIA's constructor arguments (camelCase)
 * and two of ours, `exactLogDet` and `spectralNorm`.
 *
 * @group Modules
 */
export interface IResNetOptions {
  /** Width of the hidden layers (FrEIA's `internal_size`; default 2·C). */
  readonly internalSize?: number;
  /** Number of hidden-to-hidden layers `n` (default 1). */
  readonly nInternalLayers?: number;
  /** Terms of the log-det power series (default 20). */
  readonly jacobianIterations?: number;
  /** Probe vectors per trace estimate, averaged (default 1). */
  readonly hutchinsonSamples?: number;
  /** Fixed-point steps of the inverse before the final one (default 50). */
  readonly fixedPointIterations?: number;
  /** Power-iteration steps of a spectral-norm estimate (default 10). */
  readonly lipschitzIterations?: number;
  /** Start vectors of a spectral-norm estimate; the largest estimate counts (default 10). */
  readonly lipschitzBatchsize?: number;
  /** Largest spectral norm a layer may keep, in (0, 1] (default 0.8). */
  readonly spectralNormMax?: number;
  /**
   * Ours: compute log|det(I + J_g)| exactly from the full `d × d` Jacobian
   * (`d` = C·H·W), by forward-mode differentiation of `g` and an LU
   * factorisation, both in tensor ops so the value is differentiable. Cost
   * grows like d³ per sample: meant for small dimensions, tests, and checking
   * the estimate. Default false (FrEIA's estimate).
   */
  readonly exactLogDet?: boolean;
  /**
   * Ours: when spectral normalisation happens.
   * - `'manual'` (default, FrEIA): the stored weights are used as they are;
   *   call {@link IResNetLayer.lipschitzCorrection} (or
   *   {@link lipschitzCorrection} on the flow) after every optimiser step, as
   *   FrEIA users call `lipschitz_correction()`.
   * - `'forward'`: every pass uses `W · min(1, spectralNormMax / σ̂(W))`, with
   *   σ̂ a deterministic power-iteration estimate of the layer's operator norm
   *   (fixed start vectors, `lipschitzIterations` steps, gradients through
   *   `W` only, as in Miyato et al.'s spectral normalisation). The layer stays
   *   invertible whatever the optimiser does to the stored weights, at the
   *   cost of the estimate in every pass. A FrEIA model imported this way
   *   computes slightly different outputs wherever FrEIA's own (randomised)
   *   correction left a norm a little above the bound.
   */
  readonly spectralNorm?: 'manual' | 'forward';
}

interface LayerWeights {
  readonly weight: tf.Tensor;
  readonly bias: tf.Tensor;
}

interface Layer extends LayerWeights {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly cIn: number;
  readonly cOut: number;
}

/** The residual's value and its pre-activations (the inputs of the ELUs), which the derivatives need. */
interface ResidualPass {
  readonly out: tf.Tensor;
  readonly pre: tf.Tensor[];
}

const KERNEL = 3;

/** ELU's derivative, `1` for h > 0 and `exp(h)` otherwise, written in ops that have gradients on every backend. */
function eluDerivative(h: tf.Tensor): tf.Tensor {
  return tf.where(tf.greater(h, 0), tf.onesLike(h), tf.exp(tf.minimum(h, 0)));
}

/** Per-row Euclidean norm over every axis but the first. */
function rowNorms(x: tf.Tensor): tf.Tensor {
  return tf.sqrt(tf.sum(tf.square(tf.reshape(x, [x.shape[0], -1])), 1));
}

/**
 * Runs `compute` with no gradient reaching `inputs` (PyTorch's `no_grad` /
 * `detach`): the ops inside are not recorded on the tape at all.
 */
function withoutGradient(inputs: readonly tf.Tensor[], compute: () => tf.Tensor): tf.Tensor {
  const run = tf.customGrad(() => ({
    value: tf.tidy(compute),
    gradFunc: () => inputs.map((t) => tf.zerosLike(t)),
  }));
  return run(...inputs);
}

/**
 * FrEIA's IResNetLayer (see the file's summary for the mathematics).
 *
 * Where we differ from FrEIA, and why:
 * - The log-det estimate is differentiable. FrEIA takes its vector-Jacobian
 *   products with `torch.autograd.grad` without `create_graph`, so its
 *   estimate is a constant to the optimiser and the log-det term of a loss
 *   never trains the residual; ours backpropagates through the estimate.
 * - `exactLogDet` and `spectralNorm: 'forward'` are ours (see
 *   {@link IResNetOptions}).
 * - A freshly constructed layer is spectrally corrected once, so it starts
 *   invertible; FrEIA's starts with PyTorch's default initialisation, whose
 *   layers have norms above 1 until the first `lipschitz_correction()`.
 *   Loaded weights are used exactly as stored (FrEIA never corrects on load).
 * - Conditions are refused; FrEIA accepts them and ignores them.
 *
 * Where we match FrEIA although it is odd:
 * - The estimate draws fresh ±1 probes on every call (from the generator
 *   {@link setGlobalSeed} seeds), so two calls disagree, and the inverse
 *   returns minus the estimate **at its input z**, not at the reconstructed x:
 *   the inverse log-det is not exactly minus the forward one. `exactLogDet`
 *   evaluates the inverse at the reconstructed x, as the mathematics wants.
 * - Gradients through the inverse treat the fixed point x̂ as a constant (the
 *   iteration runs without a tape), so `∂x/∂y` is `I` rather than `(I + J_g)⁻¹`.
 * - `lipschitzCorrection` estimates a convolution's norm without padding
 *   (FrEIA's `conv2d(x, W)`), although the layer pads by 1.
 *
 * @example
 * ```ts
 * import { inn } from 'freia-ts';
 * inn.input([6]).repeat(3, (c) => c.iresnet({ internalSize: 32 })).build();
 * ```
 *
 * @group Modules
 */
export class IResNetLayer extends InvertibleModule {
  private readonly layers: Layer[] = [];
  /** `[H, W]` for images, `[]` for vectors. */
  private readonly spatial: number[];
  private readonly dim: number;
  private readonly jacobianIterations: number;
  private readonly hutchinsonSamples: number;
  private readonly fixedPointIterations: number;
  private readonly lipschitzIterations: number;
  private readonly lipschitzBatchsize: number;
  private readonly spectralNormMax: number;
  private readonly exact: boolean;
  private readonly normalizeInForward: boolean;
  /** Fixed start vectors of `'forward'` normalisation, one batch per layer (not parameters). */
  private readonly starts: tf.Variable[] = [];

  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<IResNetOptions>) {
    super(def.inputShapes, def.conditionShapes);
    const args = def.args;
    const [channels, ...spatial] = def.inputShapes[0];
    this.spatial = spatial.length ? internalShape(def.inputShapes[0]).slice(0, -1) : [];
    this.dim = numel(def.inputShapes[0]);
    const internal = internalSizeOf(args, channels);
    const hidden = args.nInternalLayers ?? 1;
    this.jacobianIterations = args.jacobianIterations ?? 20;
    this.hutchinsonSamples = args.hutchinsonSamples ?? 1;
    this.fixedPointIterations = args.fixedPointIterations ?? 50;
    this.lipschitzIterations = args.lipschitzIterations ?? 10;
    this.lipschitzBatchsize = args.lipschitzBatchsize ?? 10;
    this.spectralNormMax = args.spectralNormMax ?? 0.8;
    this.exact = args.exactLogDet ?? false;
    this.normalizeInForward = (args.spectralNorm ?? 'manual') === 'forward';

    const rng = globalRng();
    const widths = [channels, ...Array.from({ length: hidden + 1 }, () => internal), channels];
    const conv = this.spatial.length > 0;
    for (let i = 0; i + 1 < widths.length; i++) {
      const [cIn, cOut] = [widths[i], widths[i + 1]];
      const fanIn = cIn * (conv ? KERNEL * KERNEL : 1);
      const shape = conv ? [KERNEL, KERNEL, cIn, cOut] : [cIn, cOut];
      const weight = this.addParam(`residual.${2 * i}.weight`, uniformTensor(shape, 1 / Math.sqrt(fanIn), rng));
      const bias = this.addParam(`residual.${2 * i}.bias`, uniformTensor([cOut], 1 / Math.sqrt(fanIn), rng));
      this.layers.push({ weight, bias, cIn, cOut });
      if (this.normalizeInForward) {
        // A seeded generator per layer makes the 'forward' estimate a function of W alone. Frozen
        // variables rather than plain tensors: module state, freed by dispose(), but no state-dict entry.
        const start = normalTensor([this.lipschitzBatchsize, ...this.spatial, cIn], 1, mulberry32(0x1e5 + i));
        this.starts.push(tf.variable(start, false));
        start.dispose();
      }
    }
    this.lipschitzCorrection();
  }

  /**
   * FrEIA's `lipschitz_correction`: estimates each layer's spectral norm by
   * `lipschitzIterations` power-iteration steps from `lipschitzBatchsize`
   * random starts (the largest estimate counts) and scales the stored weight
   * by `spectralNormMax / σ̂` where σ̂ exceeds the bound. Call it after every
   * optimiser step, as with FrEIA. Being a lower estimate, σ̂ can leave a
   * norm slightly above the bound (FrEIA's exported models show 0.8016 for 0.8).
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn, train, IResNetLayer } from 'freia-ts';
   * const flow = inn.input([4]).iresnet().build();
   * const layer = flow.modules.find((m): m is IResNetLayer => m instanceof IResNetLayer)!;
   * tf.train.adam(1e-3).minimize(() => train.nll(flow, tf.randomNormal([32, 4])), false, flow.trainableVariables);
   * layer.lipschitzCorrection(); // FrEIA's layer.lipschitz_correction()
   * ```
   */
  lipschitzCorrection(): void {
    const rng = globalRng();
    for (const layer of this.layers) {
      const starts = normalTensor([this.lipschitzBatchsize, ...this.spatial, layer.cIn], 1, rng);
      tf.tidy(() => {
        const sigma = this.operatorNorm(layer.weight, starts, this.lipschitzIterations, 'valid');
        // Decided on the device, so nothing is read back; a weight within the bound is kept as it is.
        const scaled = tf.mul(layer.weight, tf.div(this.spectralNormMax, sigma));
        layer.weight.assign(tf.where(tf.greater(sigma, this.spectralNormMax), scaled, layer.weight));
      });
      starts.dispose();
    }
  }

  override dispose(): void {
    tf.dispose(this.starts);
    this.starts.length = 0;
    super.dispose();
  }

  forward(xs: readonly tf.Tensor[], _cs: readonly tf.Tensor[], { rev, jac }: ForwardOptions): ModuleResult {
    const weights = this.effectiveWeights();
    const input = xs[0];
    if (!rev) {
      const pass = this.residual(input, weights);
      const out = tf.add(input, pass.out);
      if (!jac) return { out: [out], logDet: 0 };
      return { out: [out], logDet: this.exact ? this.exactLogDet(pass, weights) : this.estimatedLogDet(input, pass, weights) };
    }
    const fixedPoint = withoutGradient([input, ...weights.flatMap((w) => [w.weight, w.bias])], () => {
      let x = input;
      for (let i = 0; i < this.fixedPointIterations; i++) {
        const previous = x;
        x = tf.tidy(() => tf.sub(input, this.residual(previous, weights).out));
        if (previous !== input) previous.dispose();
      }
      return x === input ? tf.clone(x) : x;
    });
    const out = tf.sub(input, this.residual(fixedPoint, weights).out);
    if (!jac) return { out: [out], logDet: 0 };
    if (this.exact) return { out: [out], logDet: tf.neg(this.exactLogDet(this.residual(out, weights), weights)) };
    // FrEIA evaluates the reverse estimate at the reverse input.
    return { out: [out], logDet: tf.neg(this.estimatedLogDet(input, this.residual(input, weights), weights)) };
  }

  /** The weights this pass uses: the stored ones, or their spectrally normalised versions. */
  private effectiveWeights(): LayerWeights[] {
    if (!this.normalizeInForward) return this.layers;
    return this.layers.map((layer, i) => {
      const direction = withoutGradient([layer.weight], () => this.powerIterate(layer.weight, this.starts[i], this.lipschitzIterations, 'same'));
      const gains = tf.div(rowNorms(this.apply(direction, layer.weight, 'same')), rowNorms(direction));
      // The largest gain, its gradient taken through the first start that reaches it: the starts converge
      // to the same σ, and tf.max's gradient goes in full to every start that ties (k ties, k times the
      // gradient; whether they tie exactly differs between backends).
      const first = withoutGradient([gains], () => {
        const ties = tf.cast(tf.equal(gains, tf.max(gains)), 'float32');
        return tf.mul(ties, tf.cast(tf.equal(tf.cumsum(ties), 1), 'float32'));
      });
      const sigma = tf.sum(tf.mul(gains, first));
      const scale = tf.minimum(1, tf.div(this.spectralNormMax, sigma));
      return { weight: tf.mul(layer.weight, scale), bias: layer.bias };
    });
  }

  // The rank casts below are safe: the shape rule admits only [C] (rank 2 with batch) or [C, H, W] (rank 4).

  /** The layer's linear map (no bias): a matMul, or a 3×3 convolution with the given padding. */
  private apply(x: tf.Tensor, weight: tf.Tensor, pad: 'same' | 'valid' = 'same'): tf.Tensor {
    if (this.spatial.length === 0) return tf.matMul(x as tf.Tensor2D, weight as tf.Tensor2D);
    return tf.conv2d(x as tf.Tensor4D, weight as tf.Tensor4D, 1, pad);
  }

  /** The adjoint of {@link apply}; `cIn` is the channel count it maps back to. */
  private applyTransposed(u: tf.Tensor, weight: tf.Tensor, cIn: number, pad: 'same' | 'valid' = 'same'): tf.Tensor {
    if (this.spatial.length === 0) return tf.matMul(u as tf.Tensor2D, weight as tf.Tensor2D, false, true);
    const [h, w] = this.spatial;
    return tf.conv2dTranspose(u as tf.Tensor4D, weight as tf.Tensor4D, [u.shape[0], h, w, cIn], 1, pad);
  }

  /** `steps` normalised power-iteration steps of `WᵀW` from `start`. */
  private powerIterate(weight: tf.Tensor, start: tf.Tensor, steps: number, pad: 'same' | 'valid'): tf.Tensor {
    const cIn = weight.shape[weight.rank - 2];
    let v = start;
    for (let i = 0; i < steps; i++) {
      const next = this.applyTransposed(this.apply(v, weight, pad), weight, cIn, pad);
      const norms = tf.reshape(tf.maximum(rowNorms(next), 1e-30), [next.shape[0], ...next.shape.slice(1).map(() => 1)]);
      v = tf.div(next, norms);
    }
    return v;
  }

  /** The largest `‖W v‖ / ‖v‖` over the power-iterated starts. */
  private operatorNorm(weight: tf.Tensor, starts: tf.Tensor, steps: number, pad: 'same' | 'valid'): tf.Tensor {
    // A valid convolution needs the image to be at least as large as the kernel.
    const usable = pad === 'valid' && this.spatial.some((d) => d < KERNEL) ? 'same' : pad;
    const v = this.powerIterate(weight, starts, steps, usable);
    return tf.max(tf.div(rowNorms(this.apply(v, weight, usable)), rowNorms(v)));
  }

  private residual(x: tf.Tensor, weights: readonly LayerWeights[]): ResidualPass {
    const pre: tf.Tensor[] = [];
    let h = x;
    weights.forEach(({ weight, bias }, i) => {
      const z = tf.add(this.apply(h, weight), bias);
      if (i === weights.length - 1) {
        h = z;
      } else {
        pre.push(z);
        h = tf.elu(z);
      }
    });
    return { out: h, pre };
  }

  /** `uᵀ J_g` at the point whose pre-activations are `pre`, by the chain rule backwards. */
  private vectorJacobian(u: tf.Tensor, pre: readonly tf.Tensor[], weights: readonly LayerWeights[]): tf.Tensor {
    let v = u;
    for (let i = weights.length - 1; i >= 0; i--) {
      v = this.applyTransposed(v, weights[i].weight, this.layers[i].cIn);
      if (i > 0) v = tf.mul(v, eluDerivative(pre[i - 1]));
    }
    return v;
  }

  /**
   * FrEIA's estimate `Σ_{k=1..n} (−1)^{k+1} tr(J_gᵏ)/k`, each trace by
   * Hutchinson's `vᵀ J_gᵏ v` with ±1 probes `v` (averaged over
   * `hutchinsonSamples`); the series converges when ‖J_g‖ < 1.
   */
  private estimatedLogDet(x: tf.Tensor, pass: ResidualPass, weights: readonly LayerWeights[]): tf.Tensor {
    const rng = globalRng();
    const batch = x.shape[0];
    let total: tf.Tensor = tf.zeros([batch]);
    for (let s = 0; s < this.hutchinsonSamples; s++) {
      const signs = new Float32Array(x.size);
      for (let i = 0; i < signs.length; i++) signs[i] = rng() < 0.5 ? -1 : 1;
      const probe = tf.tensor(signs, x.shape);
      let left = probe;
      for (let k = 1; k <= this.jacobianIterations; k++) {
        left = this.vectorJacobian(left, pass.pre, weights);
        const trace = tf.sum(tf.reshape(tf.mul(left, probe), [batch, -1]), 1);
        total = tf.add(total, tf.mul(trace, (k % 2 === 1 ? 1 : -1) / (k * this.hutchinsonSamples)));
      }
    }
    return total;
  }

  /**
   * `log|det(I + J_g)|` from the full Jacobian: every basis vector is pushed
   * through the linearised residual (forward mode), giving `J_gᵀ` per sample.
   */
  private exactLogDet(pass: ResidualPass, weights: readonly LayerWeights[]): tf.Tensor {
    const batch = pass.out.shape[0];
    const d = this.dim;
    const basis = tf.reshape(tf.eye(d), [1, d, d]);
    let tangents = tf.reshape(tf.tile(basis, [batch, 1, 1]), [batch * d, ...this.spatial, this.layers[0].cIn]);
    weights.forEach(({ weight }, i) => {
      tangents = this.apply(tangents, weight);
      if (i < weights.length - 1) {
        const slope = eluDerivative(pass.pre[i]);
        const grouped = tf.reshape(tangents, [batch, d, ...slope.shape.slice(1)]);
        tangents = tf.reshape(tf.mul(grouped, tf.expandDims(slope, 1)), tangents.shape);
      }
    });
    const jacobianT = tf.reshape(tangents, [batch, d, d]);
    return batchedLogAbsDet(tf.add(jacobianT, basis));
  }
}

/**
 * Runs {@link IResNetLayer.lipschitzCorrection} on every IResNetLayer of a
 * flow: call it after each optimiser step (FrEIA's training loops call
 * `lipschitz_correction()` on each block). Returns how many layers it corrected.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { inn, train, lipschitzCorrection } from 'freia-ts';
 * const flow = inn.input([4]).iresnet().build();
 * const optimizer = tf.train.adam(1e-3);
 * for (let step = 0; step < 10; step++) {
 *   optimizer.minimize(() => train.nll(flow, tf.randomNormal([32, 4])), false, flow.trainableVariables);
 *   lipschitzCorrection(flow); // FrEIA's lipschitz_correction()
 * }
 * ```
 *
 * @group Modules
 */
export function lipschitzCorrection(flow: { readonly modules: readonly (InvertibleModule | null)[] }): number {
  let count = 0;
  for (const m of flow.modules) {
    if (m instanceof IResNetLayer) {
      m.lipschitzCorrection();
      count++;
    }
  }
  return count;
}

/** The residual net's width: `internalSize`, by default twice the channels (FrEIA's default). */
function internalSizeOf(options: IResNetOptions, channels: number): number {
  return options.internalSize ?? 2 * channels;
}

function iresnetShape(node: string, inputShapes: readonly Shape[], conditionShapes: readonly Shape[], options: IResNetOptions): Shape[] {
  if (inputShapes.length !== 1) throw new ShapeMismatchError(node, 'exactly 1 input', `${inputShapes.length} inputs`);
  if (conditionShapes.length > 0) {
    throw new ShapeMismatchError(node, 'no condition (IResNetLayer reads none; FrEIA would silently ignore it)', `${conditionShapes.length} condition(s)`);
  }
  const [x] = inputShapes;
  if (x.length !== 1 && x.length !== 3) throw new ShapeMismatchError(node, 'a vector [C] or an image [C, H, W]', formatShape(x));
  if (options.spectralNorm !== undefined && options.spectralNorm !== 'manual' && options.spectralNorm !== 'forward') {
    throw new FreiaError(`${node}: spectralNorm must be 'manual' or 'forward', got ${String(options.spectralNorm)}`);
  }
  const max = options.spectralNormMax ?? 0.8;
  if (!(max > 0 && max <= 1)) throw new FreiaError(`${node}: spectralNormMax must be in (0, 1], got ${max}`);
  for (const key of ['internalSize', 'jacobianIterations', 'hutchinsonSamples', 'lipschitzIterations', 'lipschitzBatchsize'] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) throw new FreiaError(`${node}: ${key} must be a positive whole number, got ${value}`);
  }
  for (const key of ['nInternalLayers', 'fixedPointIterations'] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isInteger(value) && value >= 0)) throw new FreiaError(`${node}: ${key} must be a whole number ≥ 0, got ${value}`);
  }
  // The residual net's weights, bounded before any is made: [internal, C] (×9 for a 3×3 kernel) in and out, [internal, internal] between.
  const internal = internalSizeOf(options, x[0]);
  const kernel = x.length === 3 ? 9 : 1;
  checkElements(node, 'internalSize (first weight)', [internal, x[0], kernel]);
  checkElements(node, 'internalSize (hidden weights)', [options.nInternalLayers ?? 1, internal, internal, kernel]);
  return [x];
}

export const iresnetLayer = moduleEntry<IResNetOptions, IResNetRule>()({ kind: 'IResNetLayer', conditions: 'none', recomputeByInversion: false,
  options: {
    internalSize: is.number({ integer: true, min: 1 }),
    nInternalLayers: is.number({ integer: true, min: 0, max: 1000 }),
    jacobianIterations: is.number({ integer: true, min: 1 }),
    hutchinsonSamples: is.number({ integer: true, min: 1 }),
    fixedPointIterations: is.number({ integer: true, min: 0 }),
    lipschitzIterations: is.number({ integer: true, min: 1 }),
    lipschitzBatchsize: is.number({ integer: true, min: 1 }),
    spectralNormMax: is.number({ above: 0, max: 1 }),
    exactLogDet: is.boolean,
    spectralNorm: is.oneOf(['manual', 'forward']),
  },
  freia: { oursOnly: ['exactLogDet', 'spectralNorm'] },
  outputShapes: iresnetShape, create: (def) => new IResNetLayer(def) });

// ---- type-level shape rule ----

/**
 * A vector `[C]` or an image `[C, H, W]` is kept; any other rank is a {@link ShapeError}.
 *
 * @group Type machinery
 */
export type IResNetShape<S> = S extends Shape
  ? number extends S['length']
    ? S
    : S extends readonly [number] | readonly [number, number, number]
      ? S
      : ShapeError<`iresnet needs a vector [C] or an image [C, H, W], got ${FormatShape<S>}`>
  : S;

/**
 * The catalogue rule of IResNetLayer: {@link IResNetShape}.
 *
 * @group Type machinery
 */
export interface IResNetRule extends KeepRule {
  readonly result: IResNetShape<this['shape']>;
}
