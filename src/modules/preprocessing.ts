/**
 * Image preprocessing as flow modules (beyond FrEIA: FrEIA has no such
 * modules): UniformDequantization turns discrete pixel values into a
 * continuous density's input, LogitTransform maps (0, 1) onto the real line
 * as RealNVP and Glow do before their first coupling. Both are element-wise,
 * keep their input's shape and read no condition; their log-dets make a
 * flow's likelihood a likelihood of the original data (see `train.bitsPerDim`).
 */
import * as tf from '@tensorflow/tfjs';
import type { ModuleDef } from '../core/graph.js';
import type { OptionCheck } from '../core/validation.js';
import { is } from '../core/validation.js';
import { numel, sumExceptBatch } from '../math/layout.js';
import { globalRng } from '../math/rng.js';
import { InvertibleModule, type ForwardOptions, type ModuleResult } from './base.js';
import { unconditionalSameShape } from './fixed.js';
import { moduleEntry } from './registry.js';

/**
 * Options of {@link UniformDequantization}.
 *
 * @group Modules
 */
export interface DequantizeOptions {
  /** The number of levels `L` of the data, whose values are the integers `0 … L−1` (default 256: 8-bit images). */
  readonly levels?: number;
  /** Whether to add uniform noise (default true); `false` adds `½` instead: deterministic, for evaluation and checks. */
  readonly noise?: boolean;
}

/**
 * Options of {@link LogitTransform}.
 *
 * @group Modules
 */
export interface LogitOptions {
  /** The margin `α` in `[0, ½)` that keeps the logit away from 0 and 1 (default 0.05, RealNVP's). */
  readonly alpha?: number;
}

/** The largest number of levels: the noise margin `δ = L·2⁻²²` stays at most ¼. */
const MAX_LEVELS = 2 ** 20;

/**
 * Uniform dequantization (beyond FrEIA: FrEIA has no such module). For
 * integer-valued data `x ∈ {0, …, L−1}` (`L` = `levels`, default 256),
 *
 *     y = (x + u) / L,   u ~ U(δ, 1 − δ),   δ = L · 2⁻²²,
 *     log|det J| = −D · log L   (D = the number of elements of one sample),
 *     x = clip(floor(y · L), 0, L − 1)   (inverse).
 *
 * The margin δ keeps `y` strictly inside (0, 1) in float32, so that a
 * following {@link LogitTransform} stays finite, and keeps `floor(y·L)` at
 * `x`: the inverse is exact for integer inputs (only for them: any other `x`
 * comes back rounded down). With `noise: false`, `u = ½` (the bin centres):
 * deterministic, for evaluation and for checking the Jacobian.
 *
 * The noise is drawn on the device, its seed from the shared generator, so
 * `setGlobalSeed` makes it reproducible. The log-det does not depend on it:
 * `log p(y) − D log L` is a lower bound of the discrete data's `log P(x)`
 * (Theis et al. 2016), the usual quantity behind bits/dim.
 *
 * Options: {@link DequantizeOptions}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { inn } from 'freia-ts';
 * const flow = inn.input([1, 4, 4]).dequantize({ levels: 256 }).logit().build();
 * const pixels = tf.floor(tf.randomUniform([2, 1, 4, 4], 0, 256));   // 8-bit images
 * const { out, logDet } = flow.forward(pixels);                        // out: real-valued; logDet: [2]
 * ```
 *
 * @group Modules
 */
export class UniformDequantization extends InvertibleModule {
  /** `L`. */
  readonly levels: number;
  /** Whether the forward pass adds uniform noise (else `½`). */
  readonly noise: boolean;
  private readonly logDetForward: number;

  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<DequantizeOptions>) {
    super(def.inputShapes, def.conditionShapes);
    this.levels = def.args.levels ?? 256;
    this.noise = def.args.noise ?? true;
    this.logDetForward = -numel(def.inputShapes[0]) * Math.log(this.levels);
  }

  forward(xs: readonly tf.Tensor[], _cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    const v = xs[0];
    const levels = this.levels;
    if (rev) return { out: [tf.clipByValue(tf.floor(tf.mul(v, levels)), 0, levels - 1)], logDet: -this.logDetForward };
    const delta = levels * 2 ** -22;
    // The seed comes from the shared generator (setGlobalSeed); the draws themselves stay on the device.
    const u = this.noise ? tf.randomUniform(v.shape, delta, 1 - delta, 'float32', Math.floor(globalRng()() * 2 ** 31)) : 0.5;
    return { out: [tf.div(tf.add(v, u), levels)], logDet: this.logDetForward };
  }
}

/**
 * The logit transform (beyond FrEIA: FrEIA has no such module), RealNVP's
 * preprocessing of images in (0, 1), element-wise:
 *
 *     s = α + (1 − 2α) · x,   y = logit(s) = log s − log(1 − s),
 *     log|det J| = Σ [log(1 − 2α) − log s − log(1 − s)],
 *     x = (σ(y) − α) / (1 − 2α)   (inverse).
 *
 * `α` (`alpha`, default 0.05 as in RealNVP) squeezes `[0, 1]` into
 * `[α, 1 − α]`, so inputs of exactly 0 or 1 stay finite; with `α = 0` the
 * input must lie strictly inside (0, 1). The inverse computes `log s` and
 * `log(1 − s)` as `−softplus(∓y)`, which stays finite for large `|y|`.
 *
 * Options: {@link LogitOptions}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { inn } from 'freia-ts';
 * const flow = inn.input([3]).logit({ alpha: 0.05 }).build();
 * const { out, logDet } = flow.forward(tf.tensor2d([[0, 0.5, 1]]));   // finite thanks to α
 * ```
 *
 * @group Modules
 */
export class LogitTransform extends InvertibleModule {
  /** `α`. */
  readonly alpha: number;

  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<LogitOptions>) {
    super(def.inputShapes, def.conditionShapes);
    this.alpha = def.args.alpha ?? 0.05;
  }

  forward(xs: readonly tf.Tensor[], _cs: readonly tf.Tensor[], { rev, jac }: ForwardOptions): ModuleResult {
    const v = xs[0];
    const scale = 1 - 2 * this.alpha;
    const logScale = Math.log(scale);
    if (!rev) {
      const s = tf.add(tf.mul(v, scale), this.alpha);
      const logS = tf.log(s);
      const log1mS = tf.log1p(tf.neg(s));
      const logDet = jac ? sumExceptBatch(tf.sub(tf.sub(logScale, logS), log1mS)) : 0;
      return { out: [tf.sub(logS, log1mS)], logDet };
    }
    const logS = tf.neg(tf.softplus(tf.neg(v)));
    const log1mS = tf.neg(tf.softplus(v));
    const logDet = jac ? tf.neg(sumExceptBatch(tf.sub(tf.sub(logScale, logS), log1mS))) : 0;
    return { out: [tf.div(tf.sub(tf.sigmoid(v), this.alpha), scale)], logDet };
  }
}

/** `α ∈ [0, ½)`. */
const marginCheck: OptionCheck = { expected: 'a number >= 0 and < 0.5', test: (v) => typeof v === 'number' && v >= 0 && v < 0.5 };

export const uniformDequantization = moduleEntry<DequantizeOptions>()({ kind: 'UniformDequantization', conditions: 'none',
  // Its forward draws new noise each time, so memory: 'invert' could not re-run it to the stored pass: it keeps its input
  // (integer levels, recovered exactly by the inverse anyway); and inverseOf, which needs an exact inverse, does not wrap it.
  recomputeByInversion: false,
  outputShapes: (node, inputShapes, conditionShapes) => unconditionalSameShape(node, inputShapes, conditionShapes),
  create: (def) => new UniformDequantization(def),
  options: { levels: is.number({ integer: true, min: 2, max: MAX_LEVELS }), noise: is.boolean },
  freia: { notExported: 'beyond FrEIA: FrEIA has no dequantization module (dequantize the data before a FrEIA network)' },
});

export const logitTransform = moduleEntry<LogitOptions>()({ kind: 'LogitTransform', conditions: 'none',
  outputShapes: (node, inputShapes, conditionShapes) => unconditionalSameShape(node, inputShapes, conditionShapes),
  create: (def) => new LogitTransform(def),
  options: { alpha: marginCheck },
  freia: { notExported: 'beyond FrEIA: FrEIA has no logit transform (apply it to the data before a FrEIA network)' },
});
