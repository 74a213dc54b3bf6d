/**
 * FrEIA's "invertible autoencoder" layers (Teng & Choromanska 2018,
 * arXiv:1802.06869): InvAutoAct, InvAutoActFixed, InvAutoActTwoSided,
 * InvAutoFC and InvAutoConv2D.
 *
 * The three activations are leaky-ReLU-like maps with learned log-slopes;
 * they are exactly invertible (the sign of x survives) and their log-det is
 * exact. The two linear layers are **not** invertible in general: their
 * "inverse" applies the transposed weights, `x = Wᵀ(y − b)`, which inverts the
 * forward map only when `W` is orthogonal (a reconstruction loss pulls `W`
 * towards that), and their log-det is reported as 0 in both directions, which
 * is true only then. Use them as FrEIA intends (trained with a reconstruction
 * loss), not as exact flow layers.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModuleDef, Shape } from '../core/graph.js';
import { FreiaError, ShapeMismatchError, formatShape } from '../core/errors.js';
import { is } from '../core/validation.js';
import { sumExceptBatch } from '../math/layout.js';
import { globalRng, normalTensor } from '../math/rng.js';
import type { Add, Mul, Sub } from '../types/arithmetic.js';
import type { FormatShape, ShapeError } from '../types/shape.js';
import { InvertibleModule, convertLayout, type ForwardOptions, type ModuleResult } from './base.js';
import { moduleEntry } from './registry.js';

/**
 * Options of {@link InvAutoAct} and {@link InvAutoActFixed} (FrEIA's `slope_init`, `learnable`).
 *
 * @group Modules
 */
export interface InvAutoActOptions {
  /** Initial positive-side slope `exp(α)`; must be > 0 (default 2). */
  readonly slopeInit?: number;
  /** Train `α` (default true). False registers it as a frozen parameter, as FrEIA does. */
  readonly learnable?: boolean;
}

/**
 * Options of {@link InvAutoActTwoSided} (FrEIA's `init_pos`, `init_neg`, `learnable`).
 *
 * @group Modules
 */
export interface InvAutoActTwoSidedOptions {
  /** Initial slope `exp(α₊)` for x ≥ 0; must be > 0 (default 2). */
  readonly initPos?: number;
  /** Initial slope `exp(α₋)` for x < 0; must be > 0 (default 0.5). */
  readonly initNeg?: number;
  /** Train the slopes (default true). */
  readonly learnable?: boolean;
}

/**
 * Options of {@link InvAutoFC} (FrEIA's `dims_out`).
 *
 * @group Modules
 */
export interface InvAutoFCOptions<O extends number = number> {
  /** Output size D (default: the input size C). D ≠ C is allowed, as in FrEIA, and is never invertible. */
  readonly dimsOut?: O;
}

/**
 * Options of {@link InvAutoConv2D} (FrEIA's `dims_out`, `kernel_size`, `padding`).
 *
 * @group Modules
 */
export interface InvAutoConv2DOptions<O extends Shape = Shape, K extends number = number, P extends number = number> {
  /**
   * The output shape `[C', H', W']` (default: the input's channels and the
   * convolution's output size). Its channels set the convolution's outputs;
   * its height and width must be what the convolution produces,
   * `H + 2·padding − kernelSize + 1` (FrEIA trusts the user here; we check).
   */
  readonly dimsOut?: O;
  /** Square kernel size (default 3). */
  readonly kernelSize?: K;
  /** Zero padding on each side (default 1; `kernelSize / 2` rounded down keeps the size). */
  readonly padding?: P;
}

/** The run-time rule of the activations: one input of any shape, no condition (FrEIA's `forward` takes none). */
function activationShape(node: string, inputShapes: readonly Shape[], conditionShapes: readonly Shape[]): Shape[] {
  if (inputShapes.length !== 1) throw new ShapeMismatchError(node, 'exactly 1 input', `${inputShapes.length} inputs`);
  if (conditionShapes.length > 0) throw new ShapeMismatchError(node, 'no condition (this module takes none)', `${conditionShapes.length} condition(s)`);
  return [inputShapes[0]];
}

function positive(node: string, name: string, value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) throw new FreiaError(`${node}: ${name} must be a positive number, got ${value}`);
  return value;
}

/**
 * FrEIA's InvAutoAct: a leaky-ReLU-like map with one learned log-slope α per
 * channel (per entry of axis 1 for vectors),
 *
 *     y = x · exp(α · sign(x))       (x ≥ 0: slope e^α;  x < 0: slope e^−α)
 *     log|det J| = Σ α · sign(x),
 *
 * and the inverse `x = y · exp(−α · sign(y))`: exactly invertible, since
 * `sign(y) = sign(x)`. At x = 0 the slope is 1 (sign 0), as in FrEIA.
 * State dict: `alpha`, FrEIA shape `[1, C, 1, …]`, ours `[C]`.
 *
 * Options: {@link InvAutoActOptions}.
 *
 * @example
 * ```ts
 * import { inn } from 'freia-ts';
 * inn.input([4]).invAutoAct({ slopeInit: 2 }).build();
 * ```
 *
 * @group Modules
 */
export class InvAutoAct extends InvertibleModule {
  private readonly alpha: tf.Variable;

  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<InvAutoActOptions>) {
    super(def.inputShapes, def.conditionShapes);
    const args = def.args;
    const init = positive(def.kind, 'slopeInit', args.slopeInit ?? 2);
    this.alpha = this.addParam('alpha', tf.fill([def.inputShapes[0][0]], Math.log(init)), args.learnable ?? true);
  }

  forward(xs: readonly tf.Tensor[], _cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    const x = xs[0];
    const logSlope = tf.mul(this.alpha, tf.sign(x));
    const signed = rev ? tf.neg(logSlope) : logSlope;
    return { out: [tf.mul(x, tf.exp(signed))], logDet: sumExceptBatch(signed) };
  }
}

/**
 * FrEIA's InvAutoActFixed, kept for old models: in FrEIA it is
 * {@link InvAutoAct} plus a deprecation warning, and, despite its name, its
 * slope is **learnable** unless `learnable: false` is passed (FrEIA's warning
 * recommends `InvAutoAct` with `learnable=False`). We match FrEIA and do not
 * print the warning.
 *
 * @deprecated Use {@link InvAutoAct}, with `learnable: false` for a fixed slope.
 *
 * Options: {@link InvAutoActOptions}.
 *
 * @example
 * ```ts
 * import { inn } from 'freia-ts';
 * inn.input([4]).invAutoActFixed().build();
 * ```
 *
 * @group Modules
 */
export class InvAutoActFixed extends InvAutoAct {}

/**
 * FrEIA's InvAutoActTwoSided: separate learned log-slopes per channel for the
 * two half-lines,
 *
 *     y = x · exp(α₊)  for x ≥ 0,     y = x · exp(α₋)  for x < 0,
 *     log|det J| = Σ (α₊ or α₋, by the sign of x),
 *
 * written as FrEIA does, `log-slope = α₊ + ½(α₋ − α₊)(1 − sign x)`, so at
 * x = 0 the slope is the geometric mean (which does not matter: y = 0).
 * Exactly invertible; state dict `alpha_pos`, `alpha_neg` (`[1, C, 1, …]` in
 * FrEIA, `[C]` here).
 *
 * Options: {@link InvAutoActTwoSidedOptions}.
 *
 * @example
 * ```ts
 * import { inn } from 'freia-ts';
 * inn.input([4]).invAutoActTwoSided({ initPos: 2, initNeg: 0.5 }).build();
 * ```
 *
 * @group Modules
 */
export class InvAutoActTwoSided extends InvertibleModule {
  private readonly alphaPos: tf.Variable;
  private readonly alphaNeg: tf.Variable;

  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<InvAutoActTwoSidedOptions>) {
    super(def.inputShapes, def.conditionShapes);
    const args = def.args;
    const channels = def.inputShapes[0][0];
    const learnable = args.learnable ?? true;
    this.alphaPos = this.addParam('alpha_pos', tf.fill([channels], Math.log(positive(def.kind, 'initPos', args.initPos ?? 2))), learnable);
    this.alphaNeg = this.addParam('alpha_neg', tf.fill([channels], Math.log(positive(def.kind, 'initNeg', args.initNeg ?? 0.5))), learnable);
  }

  forward(xs: readonly tf.Tensor[], _cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    const x = xs[0];
    const negativeSide = tf.mul(tf.sub(1, tf.sign(x)), 0.5);
    const logSlope = tf.add(this.alphaPos, tf.mul(tf.sub(this.alphaNeg, this.alphaPos), negativeSide));
    const signed = rev ? tf.neg(logSlope) : logSlope;
    return { out: [tf.mul(x, tf.exp(signed))], logDet: sumExceptBatch(signed) };
  }
}

/**
 * FrEIA's InvAutoFC, NOT exactly invertible:
 *
 *     forward  y = W x + b                  (W: D × C)
 *     "inverse" x = Wᵀ (y − b)
 *     log|det J| = 0 in both directions
 *
 * The inverse is the adjoint, which undoes the forward map only when `W` is
 * orthogonal (`WᵀW = I`); the log-det 0 is then also right. FrEIA's promise is
 * that training with a reconstruction loss drives `W` there. Anything built
 * on an exact inverse or an exact density (sampling, NLL) is only approximate
 * until then; FrEIA warns on every call, we say it here instead.
 *
 * State dict as FrEIA's, also our layout: `weights` `[D, C]` (PyTorch's
 * `[out, in]`), `bias` `[1, D]` in FrEIA, `[D]` here. Initialisation as FrEIA:
 * `W ~ N(0, 1/D)`, `b ~ N(0, 1)`.
 *
 * Options: {@link InvAutoFCOptions}.
 *
 * @example
 * ```ts
 * import { inn } from 'freia-ts';
 * inn.input([5]).invAutoFC().build() // [5] → [5]; `{ dimsOut: 3 }` gives [3]
 * ```
 *
 * @group Modules
 */
export class InvAutoFC extends InvertibleModule {
  private readonly weights: tf.Variable;
  private readonly bias: tf.Variable;

  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef) {
    super(def.inputShapes, def.conditionShapes);
    const cIn = def.inputShapes[0][0];
    const cOut = def.outputShapes[0][0];
    const rng = globalRng();
    this.weights = this.addParam('weights', normalTensor([cOut, cIn], Math.sqrt(1 / cOut), rng));
    this.bias = this.addParam('bias', normalTensor([cOut], 1, rng));
  }

  forward(xs: readonly tf.Tensor[], _cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    // Rank casts: the shape rule admits only vectors, so x is [B, C]; the weights are [D, C].
    const x = xs[0] as tf.Tensor2D;
    if (!rev) return { out: [tf.add(tf.matMul(x, this.weights as tf.Tensor2D, false, true), this.bias)], logDet: 0 };
    return { out: [tf.matMul(tf.sub(x, this.bias) as tf.Tensor2D, this.weights as tf.Tensor2D)], logDet: 0 };
  }
}

/**
 * FrEIA's InvAutoConv2D, NOT exactly invertible: a convolution without bias
 * followed by a per-channel bias, and as "inverse" the transposed convolution
 * with the same kernel and padding,
 *
 *     forward  y = conv(x, K) + b
 *     "inverse" x = conv_transpose(y − b, K)
 *     log|det J| = 0 in both directions
 *
 * The transposed convolution is the adjoint of the convolution, so it
 * inverts it only when the convolution is an orthogonal operator (e.g. a
 * kernel that is an orthogonal channel mix at its centre tap and zero
 * elsewhere); FrEIA relies on a reconstruction loss to get there. See
 * {@link InvAutoFC} for what that means for densities and sampling.
 *
 * State dict: `conv2d.weight` `[C', C, k, k]` (stored `[k, k, C, C']` here;
 * {@link InvAutoConv2D.loadParam} transposes it, since the name is not a
 * subnet layer's), `bias` `[1, C', 1, 1]` in FrEIA, `[C']` here.
 * Initialisation as FrEIA: the kernel `U(±1/√(C·k²))` (PyTorch's Conv2d
 * default), `b ~ N(0, 1)`.
 *
 * Options: {@link InvAutoConv2DOptions}.
 *
 * @example
 * ```ts
 * import { inn } from 'freia-ts';
 * inn.input([3, 8, 8]).invAutoConv2D().build();
 * ```
 *
 * @group Modules
 */
export class InvAutoConv2D extends InvertibleModule {
  private readonly kernel: tf.Variable;
  private readonly bias: tf.Variable;
  private readonly padding: number;

  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<InvAutoConv2DOptions>) {
    super(def.inputShapes, def.conditionShapes);
    const args = def.args;
    const size = args.kernelSize ?? 3;
    this.padding = args.padding ?? 1;
    const cIn = def.inputShapes[0][0];
    const cOut = def.outputShapes[0][0];
    const rng = globalRng();
    const bound = 1 / Math.sqrt(cIn * size * size);
    const values = new Float32Array(size * size * cIn * cOut);
    for (let i = 0; i < values.length; i++) values[i] = (2 * rng() - 1) * bound;
    this.kernel = this.addParam('conv2d.weight', tf.tensor(values, [size, size, cIn, cOut]));
    this.bias = this.addParam('bias', normalTensor([cOut], 1, rng));
  }

  /**
   * `conv2d.weight` arrives as PyTorch's `[out, in, kH, kW]`: moved to `[kH, kW, in, out]` even when the shapes coincide.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn } from 'freia-ts';
   * const conv = inn.input([3, 8, 8]).invAutoConv2D().build().modules[1]!;
   * conv.loadParam('conv2d.weight', tf.randomUniform([3, 3, 3, 3], -0.2, 0.2)); // [out, in, 3, 3], stored as [3, 3, in, out]
   * ```
   */
  override loadParam(name: string, value: tf.Tensor): void {
    if (name !== 'conv2d.weight' || value.rank !== 4) {
      super.loadParam(name, value);
      return;
    }
    const moved = tf.tidy(() => convertLayout(name, tf.transpose(value, [2, 3, 1, 0]), this.kernel.shape));
    this.kernel.assign(moved);
    moved.dispose();
  }

  /**
   * Ours `[kH, kW, in, out]`, FrEIA's `[out, in, kH, kW]` (the inverse of `loadParam`).
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn } from 'freia-ts';
   * const conv = inn.input([3, 8, 8]).invAutoConv2D().build().modules[1]!;
   * const state = conv.freiaState(); // conv2d.weight [out, in, 3, 3] and bias [out]
   * tf.dispose([...state.values()]);
   * ```
   */
  override freiaState(): Map<string, tf.Tensor> {
    const state = super.freiaState();
    const kernel = state.get('conv2d.weight')!;
    state.set('conv2d.weight', tf.transpose(kernel, [3, 2, 0, 1]));
    kernel.dispose();
    return state;
  }

  forward(xs: readonly tf.Tensor[], _cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    // Rank casts: the shape rule admits only images, so x is [B, H, W, C]; the kernel is [k, k, C, C'].
    const x = xs[0] as tf.Tensor4D;
    const kernel = this.kernel as tf.Tensor4D;
    if (!rev) return { out: [tf.add(tf.conv2d(x, kernel, 1, this.padding), this.bias)], logDet: 0 };
    const [channels, h, w] = this.dimsIn[0];
    return { out: [tf.conv2dTranspose(tf.sub(x, this.bias) as tf.Tensor4D, kernel, [x.shape[0], h, w, channels], 1, this.padding)], logDet: 0 };
  }
}

function fcShape(node: string, inputShapes: readonly Shape[], conditionShapes: readonly Shape[], args: InvAutoFCOptions): Shape[] {
  const [x] = activationShape(node, inputShapes, conditionShapes);
  if (x.length !== 1) throw new ShapeMismatchError(node, 'a flattened input [C]', formatShape(x));
  const out = args.dimsOut ?? x[0];
  if (!Number.isInteger(out) || out < 1) throw new ShapeMismatchError(node, 'dimsOut a positive whole number', String(out));
  return [[out]];
}

function convShape(node: string, inputShapes: readonly Shape[], conditionShapes: readonly Shape[], options: InvAutoConv2DOptions): Shape[] {
  const [x] = activationShape(node, inputShapes, conditionShapes);
  if (x.length !== 3) throw new ShapeMismatchError(node, 'an image input [C, H, W]', formatShape(x));
  const size = options.kernelSize ?? 3;
  const padding = options.padding ?? 1;
  if (!Number.isInteger(size) || size < 1 || !Number.isInteger(padding) || padding < 0) {
    throw new ShapeMismatchError(node, 'a positive whole kernelSize and a whole padding ≥ 0', `kernelSize ${size}, padding ${padding}`);
  }
  const [h, w] = [x[1] + 2 * padding - size + 1, x[2] + 2 * padding - size + 1];
  if (h < 1 || w < 1) throw new ShapeMismatchError(node, `an image of at least ${size - 2 * padding}×${size - 2 * padding} for kernelSize ${size}, padding ${padding}`, formatShape(x));
  const wanted = options.dimsOut;
  if (wanted === undefined) return [[x[0], h, w]];
  if (wanted.length !== 3 || !Number.isInteger(wanted[0]) || wanted[0] < 1 || wanted[1] !== h || wanted[2] !== w) {
    throw new ShapeMismatchError(node, `dimsOut [C', ${h}, ${w}] (the convolution's output size)`, formatShape(wanted), `input ${formatShape(x)}`);
  }
  return [[...wanted]];
}

const actOptions = { slopeInit: is.number(), learnable: is.boolean } as const;
export const invAutoAct = moduleEntry<InvAutoActOptions>()({ kind: 'InvAutoAct', conditions: 'none', recomputeByInversion: false, options: actOptions, outputShapes: activationShape, create: (def) => new InvAutoAct(def) });
export const invAutoActFixed = moduleEntry<InvAutoActOptions>()({ kind: 'InvAutoActFixed', conditions: 'none', recomputeByInversion: false, options: actOptions, outputShapes: activationShape, create: (def) => new InvAutoActFixed(def) });
export const invAutoActTwoSided = moduleEntry<InvAutoActTwoSidedOptions>()({ kind: 'InvAutoActTwoSided', conditions: 'none', recomputeByInversion: false, options: { initPos: is.number(), initNeg: is.number(), learnable: is.boolean }, outputShapes: activationShape, create: (def) => new InvAutoActTwoSided(def) });
export const invAutoFC = moduleEntry<InvAutoFCOptions>()({ kind: 'InvAutoFC', conditions: 'none', recomputeByInversion: false, options: { dimsOut: is.number({ integer: true, min: 1 }) }, outputShapes: fcShape, create: (def) => new InvAutoFC(def) });
export const invAutoConv2D = moduleEntry<InvAutoConv2DOptions>()({ kind: 'InvAutoConv2D', conditions: 'none', recomputeByInversion: false, options: { dimsOut: is.shape, kernelSize: is.number({ integer: true, min: 1 }), padding: is.number({ integer: true, min: 0 }) }, outputShapes: convShape, create: (def) => new InvAutoConv2D(def) });

// ---- type-level shape rules ----

/**
 * `[C]` → `[O]` (`[C]` when `O` is not given); any other rank is a {@link ShapeError}.
 *
 * @group Type machinery
 */
export type InvAutoFCShape<S extends Shape | ShapeError<string>, O extends number> = S extends Shape
  ? number extends S['length']
    ? [number]
    : S extends readonly [infer C extends number]
      ? [[O] extends [never] ? C : O]
      : ShapeError<`invAutoFC needs a flattened input [C], got ${FormatShape<S>}`>
  : S;

/** `H + 2P − K + 1`, the size a stride-1 convolution leaves. */
type ConvSize<H extends number, K extends number, P extends number> = Sub<Add<Add<H, Mul<P, 2>>, 1>, K>;

/**
 * `[C, H, W]` → `[C, H + 2P − K + 1, W + 2P − K + 1]` (K = 3, P = 1 by
 * default), or `dimsOut` `O` when given and its height and width agree; a
 * {@link ShapeError} otherwise.
 *
 * @group Type machinery
 */
export type InvAutoConv2DShape<S extends Shape | ShapeError<string>, O extends Shape, K extends number, P extends number> = S extends Shape
  ? number extends S['length']
    ? [number, number, number]
    : S extends readonly [infer C extends number, infer H extends number, infer W extends number]
      ? ConvOutput<S, C, ConvSize<H, K, P>, ConvSize<W, K, P>, O, K, P>
      : ShapeError<`invAutoConv2D needs an image [C, H, W], got ${FormatShape<S>}`>
  : S;

/** Equal sizes, or at least one not known at compile time (checked at run time then). */
type SameSize<A extends number, B extends number> = number extends A ? true : number extends B ? true : [A] extends [B] ? true : false;

/** The output given the convolution's height `OH` and width `OW` (`never` when the kernel does not fit). */
type ConvOutput<S extends Shape, C extends number, OH extends number, OW extends number, O extends Shape, K extends number, P extends number> = [OH] extends [never]
  ? ShapeError<`invAutoConv2D: kernel ${K} with padding ${P} is larger than the image ${FormatShape<S>}`>
  : [OW] extends [never]
    ? ShapeError<`invAutoConv2D: kernel ${K} with padding ${P} is larger than the image ${FormatShape<S>}`>
    : [O] extends [never]
      ? [C, OH, OW]
      : O extends readonly [number, infer DH extends number, infer DW extends number]
        ? [SameSize<DH, OH>, SameSize<DW, OW>] extends [true, true]
          ? { -readonly [I in keyof O]: O[I] }
          : ShapeError<`invAutoConv2D: dimsOut ${FormatShape<O>} must have the convolution's output size ${OH}×${OW}`>
        : ShapeError<`invAutoConv2D: dimsOut must be [C, H, W], got ${FormatShape<O>}`>;
