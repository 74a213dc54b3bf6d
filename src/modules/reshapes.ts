/**
 * FrEIA's reshaping modules: IRevNetDownsampling/Upsampling,
 * HaarDownsampling/Upsampling, Flatten, Reshape. All work on images
 * `[C, H, W]` (public, channels first) and keep the element count.
 *
 * Channel orders (FrEIA's, so imported models agree):
 * - IRevNet: `out[4c + 2dy + dx, i, j] = x[c, 2i + dy, 2j + dx]`;
 *   `legacy: true` gives `out[(2dy + dx)·C + c]`.
 * - Haar: per channel `[a, h, v, d] = ½r·[TL+TR+BL+BR, TL−TR+BL−BR,
 *   TL+TR−BL−BR, TL−TR−BL+BR]` at channels `4c + k`, or `k·C + c` with
 *   `orderByWavelet`. log|det J| = C·H·W·log r (0 for r = 1).
 * - Flatten and Reshape use FrEIA's (PyTorch's) row-major order of `[C, H, W]`.
 */
import * as tf from '@tensorflow/tfjs';
import type { Shape } from '../core/graph.js';
import { ShapeMismatchError, formatShape } from '../core/errors.js';
import { is } from '../core/validation.js';
import { numel, toInternal, toPublic } from '../math/layout.js';
import { InvertibleModule, type ForwardOptions, type ModuleResult } from './base.js';
import { moduleEntry, type NoOptions } from './registry.js';
import type { ModuleDef } from '../core/graph.js';
import type { AllLiteral, Half, Mul, Product } from '../types/arithmetic.js';
import type { FormatShape, IsOdd, ShapeError } from '../types/shape.js';

function oneImage(node: string, inputShapes: readonly Shape[]): [number, number, number] {
  if (inputShapes.length !== 1) throw new ShapeMismatchError(node, 'exactly 1 input', `${inputShapes.length} inputs`);
  const s = inputShapes[0];
  if (s.length !== 3) throw new ShapeMismatchError(node, 'an image [C, H, W]', formatShape(s));
  return [s[0], s[1], s[2]];
}

function downsampleShape(node: string, inputShapes: readonly Shape[]): Shape[] {
  const [c, h, w] = oneImage(node, inputShapes);
  if (h % 2 !== 0 || w % 2 !== 0) throw new ShapeMismatchError(node, 'an even height and width', formatShape(inputShapes[0]));
  return [[4 * c, h / 2, w / 2]];
}

function upsampleShape(node: string, inputShapes: readonly Shape[]): Shape[] {
  const [c, h, w] = oneImage(node, inputShapes);
  if (c % 4 !== 0) throw new ShapeMismatchError(node, 'a channel count divisible by 4', formatShape(inputShapes[0]));
  return [[c / 4, h * 2, w * 2]];
}

/**
 * `[B, H, W, C]` → `[B, H/2, W/2, C·4]` with channel `4c + k` (`channelMajor`)
 * or `k·C + c`, where `k = 2dy + dx` is the pixel's place in its 2×2 block.
 */
function toBlocks(x: tf.Tensor, channelMajor: boolean): tf.Tensor {
  const [b, h, w, c] = x.shape;
  const blocks = tf.reshape(x, [b, h / 2, 2, w / 2, 2, c]);
  const perm = channelMajor ? [0, 1, 3, 5, 2, 4] : [0, 1, 3, 2, 4, 5];
  return tf.reshape(tf.transpose(blocks, perm), [b, h / 2, w / 2, 4 * c]);
}

function fromBlocks(x: tf.Tensor, channelMajor: boolean): tf.Tensor {
  const [b, h, w, c4] = x.shape;
  const c = c4 / 4;
  const split = tf.reshape(x, channelMajor ? [b, h, w, c, 2, 2] : [b, h, w, 2, 2, c]);
  const perm = channelMajor ? [0, 1, 4, 2, 5, 3] : [0, 1, 3, 2, 4, 5];
  return tf.reshape(tf.transpose(split, perm), [b, 2 * h, 2 * w, c]);
}

/**
 * Options of {@link IRevNetDownsampling} and its upsampling twin.
 *
 * @group Modules
 */
export interface IRevNetOptions {
  /** FrEIA's `legacy_backend` channel order `(2dy + dx)·C + c` (default false). */
  readonly legacy?: boolean;
}

/**
 * Space-to-depth by 2×2 blocks; a permutation, log-det 0.
 *
 * Options: {@link IRevNetOptions}.
 *
 * @example
 * ```ts
 * import { inn } from 'freia-ts';
 * inn.input([1, 8, 8]).irevnetDownsample().build() // [4, 4, 4]; irevnetUpsample() goes back
 * ```
 *
 * @group Modules
 */
export class IRevNetDownsampling extends InvertibleModule {
  /** @internal */
  protected readonly channelMajor: boolean;
  /** @hidden The builder constructs modules from their node's definition. */
  constructor(
    def: ModuleDef<IRevNetOptions>,
    /** @internal */
    protected readonly up = false,
  ) {
    super(def.inputShapes, def.conditionShapes);
    this.channelMajor = !def.args.legacy;
  }
  forward(xs: readonly tf.Tensor[], _cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    const down = rev === this.up;
    return { out: [down ? toBlocks(xs[0], this.channelMajor) : fromBlocks(xs[0], this.channelMajor)], logDet: 0 };
  }
}

/**
 * Options of {@link HaarDownsampling} and its upsampling twin.
 *
 * @group Modules
 */
export interface HaarOptions {
  /** Order the output channels by wavelet (`k·C + c`) instead of by input channel (default false). */
  readonly orderByWavelet?: boolean;
  /** FrEIA's `rebalance` r: the forward scales by ½r (default 1). */
  readonly rebalance?: number;
}

/**
 * The 2×2 Haar wavelet transform per channel.
 *
 * ```text
 * [a, h, v, d] = ½r · [TL+TR+BL+BR, TL−TR+BL−BR, TL+TR−BL−BR, TL−TR−BL+BR]
 * at channels 4c + k (or k·C + c with orderByWavelet),  log|det J| = C·H·W · log r
 * ```
 *
 * Options: {@link HaarOptions}.
 *
 * @example
 * ```ts
 * import { inn } from 'freia-ts';
 * inn.input([1, 8, 8]).haarDownsample().build() // [4, 4, 4]; haarUpsample() goes back
 * ```
 *
 * @group Modules
 */
export class HaarDownsampling extends InvertibleModule {
  private readonly rebalance: number;
  private readonly channelMajor: boolean;
  private readonly numel: number;
  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<HaarOptions>, private readonly up = false) {
    super(def.inputShapes, def.conditionShapes);
    const args = def.args;
    this.rebalance = args.rebalance ?? 1;
    this.channelMajor = !args.orderByWavelet;
    // FrEIA's log-det counts the elements of the downsampling side's input (the same count on both sides).
    this.numel = numel(def.inputShapes[0]);
  }

  forward(xs: readonly tf.Tensor[], _cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    const down = rev === this.up;
    const logDet = this.numel * Math.log(this.rebalance) * (down ? 1 : -1);
    const x = xs[0];
    // Both directions apply the same ±1 matrix to the 4 values of a block (H·H = 4I), scaled.
    const blocks = down ? toBlocks(x, false) : x;
    const [b, h, w, c4] = blocks.shape;
    const c = c4 / 4;
    const grouped = down || !this.channelMajor
      ? tf.reshape(blocks, [b, h, w, 4, c])
      : tf.transpose(tf.reshape(blocks, [b, h, w, c, 4]), [0, 1, 2, 4, 3]);
    const [p0, p1, p2, p3] = tf.unstack(grouped, 3);
    const factor = down ? 0.5 * this.rebalance : 0.5 / this.rebalance;
    const mixed = [
      tf.add(tf.add(p0, p1), tf.add(p2, p3)),
      tf.sub(tf.add(p0, p2), tf.add(p1, p3)),
      tf.sub(tf.add(p0, p1), tf.add(p2, p3)),
      tf.sub(tf.add(p0, p3), tf.add(p1, p2)),
    ].map((t) => tf.mul(t, factor));
    if (down) {
      const out = tf.stack(mixed, this.channelMajor ? 4 : 3);
      return { out: [tf.reshape(out, [b, h, w, 4 * c])], logDet };
    }
    return { out: [fromBlocks(tf.reshape(tf.stack(mixed, 3), [b, h, w, 4 * c]), false)], logDet };
  }
}

/**
 * `[C, H, W]` → `[C·H·W]` in PyTorch's row-major order.
 *
 * @example
 * ```ts
 * import { inn } from 'freia-ts';
 * inn.input([2, 4, 4]).flatten().build() // [32]
 * ```
 *
 * @group Modules
 */
export class Flatten extends InvertibleModule {
  forward(xs: readonly tf.Tensor[], _cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    const x = xs[0];
    const batch = x.shape[0];
    if (!rev) return { out: [tf.reshape(toPublic(x), [batch, -1])], logDet: 0 };
    return { out: [toInternal(tf.reshape(x, [batch, ...this.dimsIn[0]]))], logDet: 0 };
  }
}

/**
 * Options of {@link Reshape}: the target shape (the builders take it as their first argument).
 *
 * @group Modules
 */
export interface ReshapeOptions {
  /** Target shape without batch, channels first (FrEIA's `output_dims`). */
  readonly shape: Shape;
}

/**
 * Any shape with the same number of elements, in PyTorch's row-major order.
 *
 * Options: {@link ReshapeOptions}.
 *
 * @example
 * ```ts
 * import { inn } from 'freia-ts';
 * inn.input([2, 4, 4]).reshape([8, 2, 2]).build();
 * ```
 *
 * @group Modules
 */
export class Reshape extends InvertibleModule {
  private readonly target: Shape;
  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<ReshapeOptions>) {
    super(def.inputShapes, def.conditionShapes);
    this.target = def.args.shape;
  }
  forward(xs: readonly tf.Tensor[], _cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    const batch = xs[0].shape[0];
    const to = rev ? this.dimsIn[0] : this.target;
    return { out: [toInternal(tf.reshape(toPublic(xs[0]), [batch, ...to]))], logDet: 0 };
  }
}

const irevnetOptions = { legacy: is.boolean } as const;
const haarOptions = { orderByWavelet: is.boolean, rebalance: is.number({ above: 0 }) } as const;
const irevnetFreia = { rename: { legacy_backend: 'legacy' }, derived: ['downsample_kernel'] };
const haarFreia = { derived: ['haar_weights'] };
export const irevnetDownsampling = moduleEntry<IRevNetOptions>()({ kind: 'IRevNetDownsampling', conditions: 'none', options: irevnetOptions, outputShapes: downsampleShape, create: (def) => new IRevNetDownsampling(def), freia: irevnetFreia });
export const irevnetUpsampling = moduleEntry<IRevNetOptions>()({ kind: 'IRevNetUpsampling', conditions: 'none', options: irevnetOptions, outputShapes: upsampleShape, create: (def) => new IRevNetDownsampling(def, true), freia: irevnetFreia });
export const haarDownsampling = moduleEntry<HaarOptions>()({ kind: 'HaarDownsampling', conditions: 'none', options: haarOptions, outputShapes: downsampleShape, create: (def) => new HaarDownsampling(def), freia: haarFreia });
export const haarUpsampling = moduleEntry<HaarOptions>()({ kind: 'HaarUpsampling', conditions: 'none', options: haarOptions, outputShapes: upsampleShape, create: (def) => new HaarDownsampling(def, true), freia: haarFreia });
export const flatten = moduleEntry<NoOptions>()({ kind: 'Flatten', conditions: 'none',
  outputShapes: (node, inputShapes) => {
    if (inputShapes.length !== 1) throw new ShapeMismatchError(node, 'exactly 1 input', `${inputShapes.length} inputs`);
    return [[numel(inputShapes[0])]];
  },
  create: (def) => new Flatten(def.inputShapes, def.conditionShapes),
});
export const reshape = moduleEntry<ReshapeOptions>()({ kind: 'Reshape', conditions: 'none',
  outputShapes: (node, inputShapes, _c, args) => {
    if (inputShapes.length !== 1) throw new ShapeMismatchError(node, 'exactly 1 input', `${inputShapes.length} inputs`);
    const target = args.shape ?? [] /* absent in a malformed document */;
    if (numel(target) !== numel(inputShapes[0]) || target.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new ShapeMismatchError(node, `a shape with ${numel(inputShapes[0])} elements like ${formatShape(inputShapes[0])}`, formatShape(target));
    }
    return [[...target]];
  },
  create: (def) => new Reshape(def),
  options: { shape: is.shape },
  freia: { rename: { output_dims: 'shape' }, drop: ['target_dim'] },
});

// ---- type-level shape rules (the compile-time twins of the rules above) ----

/**
 * `[C, H, W]` → `[4C, H/2, W/2]`, or a {@link ShapeError} for odd sizes or a non-image.
 *
 * @group Type machinery
 */
export type Downsample<S extends Shape | ShapeError<string>> = S extends Shape
  ? number extends S['length']
    ? [number, number, number]
    : S extends readonly [infer C extends number, infer H extends number, infer W extends number]
      ? true extends IsOdd<H> | IsOdd<W>
        ? ShapeError<`downsampling needs an even height and width, got ${FormatShape<S>}`>
        : [Mul<C, 4>, Half<H>, Half<W>]
      : ShapeError<`downsampling needs an image [C, H, W], got ${FormatShape<S>}`>
  : S;

/**
 * `[C, H, W]` → `[C/4, 2H, 2W]`, or a {@link ShapeError} when C is not divisible by 4.
 *
 * @group Type machinery
 */
export type Upsample<S extends Shape | ShapeError<string>> = S extends Shape
  ? number extends S['length']
    ? [number, number, number]
    : S extends readonly [infer C extends number, infer H extends number, infer W extends number]
      ? true extends IsOdd<C> | IsOdd<Half<C>>
        ? ShapeError<`upsampling needs channels divisible by 4, got ${FormatShape<S>}`>
        : [Half<Half<C>>, Mul<H, 2>, Mul<W, 2>]
      : ShapeError<`upsampling needs an image [C, H, W], got ${FormatShape<S>}`>
  : S;

/**
 * `S` → `[numel(S)]`.
 *
 * @group Type machinery
 */
export type Flattened<S extends Shape | ShapeError<string>> = S extends Shape ? [Product<S>] : S;

/**
 * The target `X` when it has as many elements as `S`, else a {@link ShapeError}.
 *
 * @group Type machinery
 */
export type ReshapeTarget<S extends Shape | ShapeError<string>, X extends Shape> = S extends Shape
  ? AllLiteral<S> extends true
    ? AllLiteral<X> extends true
      ? Product<S> extends Product<X>
        ? X
        : ShapeError<`reshape to ${FormatShape<X>} (${Product<X>} elements) from ${FormatShape<S>} (${Product<S>} elements)`>
      : X
    : X
  : S;
