/**
 * FrEIA's fixed linear maps and its two element-wise maps:
 * FixedLinearTransform, Fixed1x1Conv, InvertibleSigmoid and
 * LearnedElementwiseScaling. The first two take a user-given invertible
 * matrix `M` and store it (and its inverse, and log|det M|) as buffers under
 * FrEIA's names; FrEIA is inconsistent about which of `M`, `Mᵀ` it applies,
 * and each class says which one and how we follow it.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModuleDef, Shape } from '../core/graph.js';
import { FreiaError, ShapeMismatchError, formatShape } from '../core/errors.js';
import { is } from '../core/validation.js';
import { inverse, slogdet, transpose, type Matrix } from '../math/linalg.js';
import { internalShape, numel, sumExceptBatch, toInternal, toPublic } from '../math/layout.js';
import type { FormatShape, ShapeError } from '../types/shape.js';
import { InvertibleModule, type ForwardOptions, type ModuleResult } from './base.js';
import { moduleEntry, type KeepRule, type NoOptions } from './registry.js';

/**
 * A matrix as its rows (row-major nested arrays): the serialisable form of
 * FrEIA's tensor-valued `M`, so that definitions stay plain JSON data.
 * `[[1, 2], [3, 4]]` is the matrix whose first row is `1 2`.
 *
 * @group Modules
 */
export type MatrixRows = readonly (readonly number[])[];

/**
 * Options of {@link FixedLinearTransform} (FrEIA's `M`, `b`).
 *
 * @group Modules
 */
export interface FixedLinearOptions {
  /** The invertible `C × C` matrix of `y = M x + b`, as rows. */
  readonly M: MatrixRows;
  /** The offset `b` (`C` numbers); none (zero) when absent. */
  readonly b?: readonly number[];
}

/**
 * Options of {@link Fixed1x1Conv} (FrEIA's `M`).
 *
 * @group Modules
 */
export interface Fixed1x1ConvOptions {
  /** The invertible `C × C` matrix, as rows; each pixel becomes `y = Mᵀ x` (see {@link Fixed1x1Conv}). */
  readonly M: MatrixRows;
}

/**
 * Options of {@link LearnedElementwiseScaling} (FrEIA's `init_scale`).
 *
 * @group Modules
 */
export interface LearnedElementwiseScalingOptions {
  /** The initial factor `exp(s)`, the same for every element; positive (default 1). */
  readonly initScale?: number;
}

// ---- helpers shared by this family's modules (orthogonal.ts and lu-conv.ts use them too) ----

/** The run-time shape rule of a module that keeps one input's shape and reads no condition. */
export function unconditionalSameShape(node: string, inputShapes: readonly Shape[], conditionShapes: readonly Shape[], rank?: 1 | 3): Shape[] {
  if (inputShapes.length !== 1) throw new ShapeMismatchError(node, 'exactly 1 input', `${inputShapes.length} inputs`);
  if (conditionShapes.length > 0) throw new ShapeMismatchError(node, 'no condition (this module takes none)', `${conditionShapes.length} condition(s)`);
  const [x] = inputShapes;
  if (rank === 1 && x.length !== 1) throw new ShapeMismatchError(node, 'a vector input [C]', formatShape(x));
  if (rank === 3 && x.length !== 3) throw new ShapeMismatchError(node, 'an image input [C, H, W]', formatShape(x));
  return [x];
}

/** Applies the `[C, C]` matrix `m` to every position's channel vector as `row · m` (channels-last). */
export function channelMatMul(x: tf.Tensor, m: tf.Tensor): tf.Tensor {
  const channels = x.shape[x.rank - 1];
  return tf.reshape(tf.matMul(tf.reshape(x, [-1, channels]), m), x.shape);
}

function isTensorArg(value: unknown): value is { shape: number[]; data: number[] } {
  return typeof value === 'object' && value !== null && Array.isArray((value as { shape?: unknown }).shape) && Array.isArray((value as { data?: unknown }).data);
}

/**
 * A FrEIA tensor-valued argument (`{shape, data}`, row-major) as nested
 * number arrays (a matrix as its rows, a vector as itself); anything else
 * (already nested arrays) is passed through.
 */
export function tensorArgToArrays(value: unknown): unknown {
  if (!isTensorArg(value)) return value;
  const { shape, data } = value;
  if (shape.length === 2) return Array.from({ length: shape[0] }, (_, i) => data.slice(i * shape[1], (i + 1) * shape[1]));
  if (shape.length === 1) return [...data];
  throw new FreiaError(`a tensor argument of shape [${shape.join(', ')}] where a vector or a matrix was expected`);
}

/** Checks that `m` is an invertible `c × c` matrix of finite numbers; returns it as a mutable copy. */
function checkMatrix(node: string, m: unknown, c: number): Matrix {
  const rows = Array.isArray(m) ? (m as unknown[]) : [];
  const ok = rows.length === c && rows.every((r) => Array.isArray(r) && r.length === c && r.every((v) => typeof v === 'number' && Number.isFinite(v)));
  if (!ok) {
    const got = Array.isArray(m) ? `${rows.length} rows of lengths ${rows.map((r) => (Array.isArray(r) ? r.length : typeof r)).join(', ')}` : typeof m;
    throw new ShapeMismatchError(node, `M as a ${c}×${c} matrix of finite numbers (rows, like [[1, 0], [0, 1]])`, got);
  }
  const matrix = (rows as number[][]).map((r) => [...r]);
  if (slogdet(matrix).sign === 0) throw new FreiaError(`${node}: M is singular, so the transform has no inverse`);
  return matrix;
}

// ---- FixedLinearTransform ----

/**
 * FrEIA's FixedLinearTransform: a fixed affine map of vectors,
 *
 *     y = M x + b,   log|det J| = log|det M|,
 *
 * input `[C]`, `M` an invertible `C × C` matrix and `b` an optional offset.
 * Nothing is trained.
 *
 * Buffers, as in FrEIA's state dict: `M` holds **Mᵀ** (not M), `M_inv`
 * holds (Mᵀ)⁻¹, `b` the offset and `logDetM` = log|det M|. We store exactly
 * that, because with row vectors (batch × C) the map is `x · Mᵀ + b`, so the
 * stored buffer is the one multiplied and FrEIA weights load unchanged. The
 * constructor argument, however, is the original M (FrEIA transposes it
 * itself): so is the `M` option here, and FrEIA exports' `args.M`.
 * Differences: FrEIA stores a scalar `b = 0` when no offset is given; ours is
 * always `[C]` (a scalar loads by broadcasting). We compute `M_inv` and
 * `logDetM` in float64, FrEIA in float32.
 *
 * Options: {@link FixedLinearOptions}.
 *
 * @example
 * ```ts
 * import { inn } from 'freia-ts';
 * inn.input([2]).fixedLinear({ M: [[2, 0], [1, 1]], b: [0, 1] }).build();
 * ```
 *
 * @group Modules
 */
export class FixedLinearTransform extends InvertibleModule {
  private readonly mT: tf.Variable;
  private readonly mTInv: tf.Variable;
  private readonly b: tf.Variable;
  private readonly logDetM: tf.Variable;
  private readonly hasOffset: boolean;

  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<FixedLinearOptions>) {
    super(def.inputShapes, def.conditionShapes);
    const channels = def.inputShapes[0][0];
    const { M, b } = def.args;
    const m = checkMatrix(def.kind, M, channels);
    const mT = transpose(m);
    this.mT = this.addParam('M', tf.tensor2d(mT), false);
    this.mTInv = this.addParam('M_inv', tf.tensor2d(inverse(mT)), false);
    this.b = this.addParam('b', b ? tf.tensor1d([...b]) : tf.zeros([channels]), false);
    this.hasOffset = b !== undefined && b !== null;
    this.logDetM = this.addParam('logDetM', tf.scalar(slogdet(m).logAbsDet), false);
  }

  /**
   * FrEIA's scalar `b = 0` (no offset) fills our `[C]`; everything else loads as {@link InvertibleModule.loadParam} says.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn } from 'freia-ts';
   * const linear = inn.input([2]).fixedLinear({ M: [[2, 0], [1, 1]] }).build().modules[1]!;
   * linear.loadParam('b', tf.scalar(0)); // b = [0, 0]
   * ```
   */
  override loadParam(name: string, value: tf.Tensor): void {
    if (name === 'b' && value.size === 1 && this.b.size !== 1) {
      // FrEIA's "no offset" is a scalar 0: broadcast it to our [C].
      const filled = tf.tidy(() => tf.mul(tf.onesLike(this.b), tf.reshape(value, [])));
      try {
        super.loadParam(name, filled);
      } finally {
        filled.dispose();
      }
      return;
    }
    super.loadParam(name, value);
  }

  /**
   * Without an offset FrEIA stores a scalar `b = 0` (ours is `[C]` zeros).
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn } from 'freia-ts';
   * const linear = inn.input([2]).fixedLinear({ M: [[2, 0], [1, 1]] }).build().modules[1]!;
   * const state = linear.freiaState(); // M = Mᵀ, M_inv, logDetM, and b a scalar 0
   * tf.dispose([...state.values()]);
   * ```
   */
  override freiaState(): Map<string, tf.Tensor> {
    const state = super.freiaState();
    if (!this.hasOffset) {
      state.get('b')!.dispose();
      state.set('b', tf.scalar(0));
    }
    return state;
  }

  forward(xs: readonly tf.Tensor[], _cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    const x = xs[0];
    if (!rev) return { out: [tf.add(tf.matMul(x, this.mT), this.b)], logDet: tf.clone(this.logDetM) };
    return { out: [tf.matMul(tf.sub(x, this.b), this.mTInv)], logDet: tf.neg(this.logDetM) };
  }
}

// ---- Fixed1x1Conv ----

/**
 * FrEIA's Fixed1x1Conv: a fixed 1×1 convolution of images `[C, H, W]`, i.e.
 * the same matrix applied to every pixel's channel vector,
 *
 *     y = Mᵀ x   (per pixel),   log|det J| = H·W · log|det M|.
 *
 * Note the transpose, where FixedLinearTransform applies `M` itself: FrEIA
 * uses Mᵀ as the convolution kernel `[out, in]`, so output channel `o` is
 * `Σ_i M[i][o] x_i`. We match it, so the same `M` gives FrEIA's numbers.
 * Only images: FrEIA rejects other ranks, and so do we (on vectors the same
 * map is FixedLinearTransform with Mᵀ as its `M`).
 *
 * Buffers: FrEIA stores the kernels `M` = Mᵀ and `M_inv` = (Mᵀ)⁻¹ as
 * `[C, C, 1, 1]` convolution weights `[out, in, kH, kW]`, and `logDetM`. Ours
 * hold the same kernels in the channels-last `[in, out]` layout, which is
 * `M` itself and `M⁻¹`: a pixel row `x` maps to `x · M`. Importing a FrEIA
 * model transposes the kernels accordingly (see `loadParam`).
 *
 * Options: {@link Fixed1x1ConvOptions}.
 *
 * @example
 * ```ts
 * import { inn } from 'freia-ts';
 * inn.input([2, 8, 8]).fixed1x1Conv({ M: [[0, 1], [1, 0]] }).build();
 * ```
 *
 * @group Modules
 */
export class Fixed1x1Conv extends InvertibleModule {
  private readonly kernel: tf.Variable;
  private readonly kernelInv: tf.Variable;
  private readonly logDetM: tf.Variable;
  private readonly pixels: number;

  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<Fixed1x1ConvOptions>) {
    super(def.inputShapes, def.conditionShapes);
    const [channels, ...spatial] = def.inputShapes[0];
    this.pixels = numel(spatial);
    const m = checkMatrix(def.kind, def.args.M, channels);
    this.kernel = this.addParam('M', tf.tensor2d(m), false);
    this.kernelInv = this.addParam('M_inv', tf.tensor2d(inverse(m)), false);
    this.logDetM = this.addParam('logDetM', tf.scalar(slogdet(m).logAbsDet), false);
  }

  /**
   * FrEIA's `[out, in, 1, 1]` kernels become our `[in, out]`; everything else loads as usual.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn } from 'freia-ts';
   * const conv = inn.input([2, 8, 8]).fixed1x1Conv({ M: [[1, 0], [0, 1]] }).build().modules[1]!;
   * // a channel swap in FrEIA's layout; it is its own inverse, and logDetM stays 0
   * conv.loadParam('M', tf.tensor4d([0, 1, 1, 0], [2, 2, 1, 1]));
   * conv.loadParam('M_inv', tf.tensor4d([0, 1, 1, 0], [2, 2, 1, 1]));
   * ```
   */
  override loadParam(name: string, value: tf.Tensor): void {
    if ((name === 'M' || name === 'M_inv') && value.rank === 4) {
      const [out, inp, kh, kw] = value.shape;
      if (kh !== 1 || kw !== 1) throw new FreiaError(`parameter "${name}": expected a 1×1 kernel [C, C, 1, 1], got [${value.shape.join(', ')}]`);
      const kernel = tf.tidy(() => tf.transpose(tf.reshape(value, [out, inp])));
      try {
        super.loadParam(name, kernel);
      } finally {
        kernel.dispose();
      }
      return;
    }
    super.loadParam(name, value);
  }

  /**
   * FrEIA's kernels are `[out, in, 1, 1]`: ours transposed (the inverse of `loadParam`).
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn } from 'freia-ts';
   * const conv = inn.input([2, 8, 8]).fixed1x1Conv({ M: [[2, 1], [0, 1]] }).build().modules[1]!;
   * const state = conv.freiaState();
   * state.get('M')!.print(); // [[2, 0], [1, 1]]: Mᵀ, [out, in] (FrEIA's [2, 2, 1, 1] up to broadcasting)
   * tf.dispose([...state.values()]);
   * ```
   */
  override freiaState(): Map<string, tf.Tensor> {
    const state = super.freiaState();
    for (const name of ['M', 'M_inv']) {
      const kernel = state.get(name)!;
      state.set(name, tf.transpose(kernel));
      kernel.dispose();
    }
    return state;
  }

  forward(xs: readonly tf.Tensor[], _cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    const logDet = tf.mul(this.logDetM, this.pixels);
    if (!rev) return { out: [channelMatMul(xs[0], this.kernel)], logDet };
    return { out: [channelMatMul(xs[0], this.kernelInv)], logDet: tf.neg(logDet) };
  }
}

// ---- InvertibleSigmoid ----

/**
 * FrEIA's InvertibleSigmoid: the logistic sigmoid element-wise, no parameters,
 *
 *     y = σ(x) = 1 / (1 + e^(−x)),   x = log(y / (1 − y)),
 *     log|det J| = Σ log σ'(x) = Σ log(σ(x)·(1 − σ(x))).
 *
 * The inverse is only defined for `y` strictly inside (0, 1); elsewhere it
 * gives NaN or ±Infinity, as FrEIA's does.
 *
 * Where we differ from FrEIA:
 * - FrEIA sums the log-det over dimension 1 only, which is the whole sample
 *   for vectors (the fixtures) but leaves `[batch, H, W]` for images, not a
 *   per-sample value. We sum over every non-batch axis, as every module does.
 * - FrEIA evaluates the log-det as `log(1 / ((1 + eˣ)(1 + e⁻ˣ)))`, which
 *   overflows to −∞ for |x| ≳ 88 in float32; we use the equal
 *   `−softplus(x) − softplus(−x)`. In reverse FrEIA evaluates it at the
 *   reconstructed x; we use `log y + log(1 − y)` from y directly, the same
 *   quantity without the round trip through x.
 *
 * @example
 * ```ts
 * import { inn } from 'freia-ts';
 * inn.input([4]).invertibleSigmoid().build();
 * ```
 *
 * @group Modules
 */
export class InvertibleSigmoid extends InvertibleModule {
  forward(xs: readonly tf.Tensor[], _cs: readonly tf.Tensor[], { rev, jac }: ForwardOptions): ModuleResult {
    const v = xs[0];
    if (!rev) {
      const logDet = jac ? sumExceptBatch(tf.neg(tf.add(tf.softplus(v), tf.softplus(tf.neg(v))))) : 0;
      return { out: [tf.sigmoid(v)], logDet };
    }
    const logY = tf.log(v);
    const log1mY = tf.log1p(tf.neg(v));
    const logDet = jac ? tf.neg(sumExceptBatch(tf.add(logY, log1mY))) : 0;
    return { out: [tf.sub(logY, log1mY)], logDet };
  }
}

// ---- LearnedElementwiseScaling ----

/**
 * FrEIA's LearnedElementwiseScaling: every element (not every channel) has
 * its own learned log-factor `s`, the shape of one sample,
 *
 *     y = x · exp(s),   log|det J| = Σ s,   s = log(initScale) at first.
 *
 * FrEIA's defect, which we do not copy: FrEIA returns `+Σ s` as the log-det
 * in **both** directions, so its reverse log-det has the wrong sign. Ours
 * returns `−Σ s` in reverse, the log-det of the inverse map. The FrEIA
 * reference fixtures record FrEIA's value and say so in their notes, and
 * `verifyFreia` reports the difference as a known FrEIA defect.
 *
 * The parameter `s` is FrEIA's `s` (`[1, C, H, W]` there); ours is one
 * sample in channels-last layout (`[H, W, C]`, or `[C]` for vectors), and
 * importing moves FrEIA's channels to the end.
 *
 * Options: {@link LearnedElementwiseScalingOptions}.
 *
 * @example
 * ```ts
 * import { inn } from 'freia-ts';
 * inn.input([4]).learnedElementwiseScaling().build();
 * ```
 *
 * @group Modules
 */
export class LearnedElementwiseScaling extends InvertibleModule {
  private readonly s: tf.Variable;

  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<LearnedElementwiseScalingOptions>) {
    super(def.inputShapes, def.conditionShapes);
    const initScale = def.args.initScale ?? 1;
    this.s = this.addParam('s', tf.fill(internalShape(def.inputShapes[0]), Math.log(initScale)));
  }

  /**
   * FrEIA's `s` is channels-first with a leading 1: reorder it to ours.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn } from 'freia-ts';
   * const scaling = inn.input([2, 3, 3]).learnedElementwiseScaling().build().modules[1]!;
   * scaling.loadParam('s', tf.zeros([1, 2, 3, 3])); // FrEIA's [1, C, H, W], stored as our [3, 3, 2]
   * ```
   */
  override loadParam(name: string, value: tf.Tensor): void {
    const shape = this.dimsIn[0];
    if (name !== 's' || value.size !== numel(shape)) {
      super.loadParam(name, value);
      return;
    }
    const internal = tf.tidy(() => tf.reshape(toInternal(tf.reshape(value, [1, ...shape])), internalShape(shape)));
    try {
      super.loadParam(name, internal);
    } finally {
      internal.dispose();
    }
  }

  /**
   * Ours channels-last, FrEIA's channels-first with a leading 1 (the inverse of `loadParam`).
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn } from 'freia-ts';
   * const scaling = inn.input([2, 3, 3]).learnedElementwiseScaling().build().modules[1]!;
   * const state = scaling.freiaState();
   * console.log(state.get('s')!.shape); // [1, 2, 3, 3]
   * tf.dispose([...state.values()]);
   * ```
   */
  override freiaState(): Map<string, tf.Tensor> {
    const shape = this.dimsIn[0];
    return new Map([['s', tf.tidy(() => toPublic(tf.reshape(this.s, [1, ...internalShape(shape)])))]]);
  }

  forward(xs: readonly tf.Tensor[], _cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    const logDet = tf.sum(this.s);
    if (!rev) return { out: [tf.mul(xs[0], tf.exp(this.s))], logDet };
    return { out: [tf.mul(xs[0], tf.exp(tf.neg(this.s)))], logDet: tf.neg(logDet) };
  }
}

// ---- registration ----

/** FrEIA's tensor-valued `M` and `b` arrive as `{shape, data}`: our options hold nested arrays. */
const matrixArgs = {
  tensorArgs: ['M', 'b'],
  adjust: (args: Record<string, unknown>) => {
    const adjusted = { ...args };
    if (adjusted.M !== undefined) adjusted.M = tensorArgToArrays(adjusted.M);
    if (adjusted.b !== undefined) adjusted.b = tensorArgToArrays(adjusted.b);
    return adjusted;
  },
};

export const fixedLinearTransform = moduleEntry<FixedLinearOptions, VectorRule>()({ kind: 'FixedLinearTransform', conditions: 'none',
  outputShapes: (node, inputShapes, conditionShapes, args) => {
    const shapes = unconditionalSameShape(node, inputShapes, conditionShapes, 1);
    const channels = inputShapes[0][0];
    checkMatrix(node, args.M, channels);
    const b = args.b;
    if (b !== undefined && !(Array.isArray(b) && b.length === channels && b.every((v) => typeof v === 'number' && Number.isFinite(v)))) {
      throw new ShapeMismatchError(node, `b as ${channels} finite numbers`, Array.isArray(b) ? `${b.length} values` : typeof b);
    }
    return shapes;
  },
  create: (def) => new FixedLinearTransform(def),
  freia: matrixArgs,
  options: { M: is.matrix, b: is.numbers },
});

export const fixed1x1Conv = moduleEntry<Fixed1x1ConvOptions, ImageRule>()({ kind: 'Fixed1x1Conv', conditions: 'none',
  outputShapes: (node, inputShapes, conditionShapes, args) => {
    const shapes = unconditionalSameShape(node, inputShapes, conditionShapes, 3);
    checkMatrix(node, args.M, inputShapes[0][0]);
    return shapes;
  },
  create: (def) => new Fixed1x1Conv(def),
  freia: matrixArgs,
  options: { M: is.matrix },
});

export const invertibleSigmoid = moduleEntry<NoOptions>()({ kind: 'InvertibleSigmoid', conditions: 'none',
  outputShapes: (node, inputShapes, conditionShapes) => unconditionalSameShape(node, inputShapes, conditionShapes),
  create: (def) => new InvertibleSigmoid(def.inputShapes, def.conditionShapes),
});

export const learnedElementwiseScaling = moduleEntry<LearnedElementwiseScalingOptions>()({ kind: 'LearnedElementwiseScaling', conditions: 'none',
  outputShapes: (node, inputShapes, conditionShapes, args) => {
    const initScale = args.initScale;
    if (initScale !== undefined && !(typeof initScale === 'number' && initScale > 0 && Number.isFinite(initScale))) {
      throw new FreiaError(`${node}: initScale must be a positive number (it is exp(s)), got ${String(initScale)}`);
    }
    return unconditionalSameShape(node, inputShapes, conditionShapes);
  },
  create: (def) => new LearnedElementwiseScaling(def),
  options: { initScale: is.number({ above: 0 }) },
});

// ---- type-level shape rules (the compile-time twins of the rank checks above) ----

/**
 * `S` when it is a vector `[C]`, else a {@link ShapeError} naming the method `M`.
 *
 * @group Type machinery
 */
export type RequireVector<S, M extends string> = S extends Shape
  ? number extends S['length']
    ? S
    : S extends readonly [number]
      ? S
      : ShapeError<`${M} needs a vector input [C], got ${FormatShape<S>}: flatten it first`>
  : S;

/**
 * `S` when it is an image `[C, H, W]`, else a {@link ShapeError} naming the method `M`.
 *
 * @group Type machinery
 */
export type RequireImage<S, M extends string> = S extends Shape
  ? number extends S['length']
    ? S
    : S extends readonly [number, number, number]
      ? S
      : ShapeError<`${M} needs an image input [C, H, W], got ${FormatShape<S>}`>
  : S;

/**
 * The catalogue rule of modules on vectors: {@link RequireVector} naming the builder method.
 *
 * @group Type machinery
 */
export interface VectorRule extends KeepRule {
  readonly result: RequireVector<this['shape'], this['method']>;
}

/**
 * The catalogue rule of modules on images: {@link RequireImage} naming the builder method.
 *
 * @group Type machinery
 */
export interface ImageRule extends KeepRule {
  readonly result: RequireImage<this['shape'], this['method']>;
}
