/**
 * A batch of images as one picture: samples of an image flow in a grid,
 * as PNG bytes (or an SVG embedding them). Browser-safe: no Node import;
 * writing the bytes to a file or a blob is the caller's job.
 */
import * as tf from '@tensorflow/tfjs';
import { encode } from 'fast-png';
import { DisposedError, FreiaError, NonFiniteError, OptionError, ShapeMismatchError, ValidationError, describeValue, formatShape } from '../core/errors.js';
import { didYouMean, sizeLimits } from '../core/validation.js';
import { canReadSync } from '../math/readback.js';

/**
 * Options of {@link imageGrid}.
 *
 * @group Pictures
 */
export interface ImageGridOptions {
  /**
   * How a rank-4 batch is ordered: `'nchw'` (default: `[N, C, H, W]`, the
   * library's public layout, what an image flow's `sample` returns) or
   * `'nhwc'` (`[N, H, W, C]`, channels last, tfjs's image layout). Ignored for
   * a rank-3 batch `[N, H, W]` of grey images.
   */
  readonly layout?: 'nchw' | 'nhwc';
  /** The values shown black and white, `[lo, hi]` (default `[0, 1]`); values outside are clipped. */
  readonly range?: readonly [number, number];
  /** Images per row (default `ceil(√N)`). */
  readonly columns?: number;
  /** Pixels between the images and around the grid (default 2). */
  readonly padding?: number;
  /** The padding's grey level in `[0, 1]` (default 0, black, as torchvision's `make_grid`). */
  readonly padValue?: number;
}

/** What {@link imageGrid} makes of a batch before reading it: sizes, strides and the picture's size. */
interface GridPlan {
  readonly n: number;
  readonly h: number;
  readonly w: number;
  /** 1 (grey) or 3 (RGB). */
  readonly c: number;
  /** Index of value `(k, y, x, ch)` in the row-major data. */
  readonly index: (k: number, y: number, x: number, ch: number) => number;
  readonly lo: number;
  readonly hi: number;
  readonly columns: number;
  readonly padding: number;
  readonly padByte: number;
  readonly width: number;
  readonly height: number;
}

const OWNER = 'imageGrid';
const OPTIONS = ['layout', 'range', 'columns', 'padding', 'padValue'] as const;

/** Checks the batch and the options, before anything is read or allocated. */
function plan(images: tf.Tensor, options: ImageGridOptions): GridPlan {
  if (!(images instanceof tf.Tensor)) throw new ValidationError(OWNER, 'images', 'a tf.Tensor of shape [N, H, W], [N, C, H, W] or [N, H, W, C]', describeValue(images));
  if (images.isDisposed) throw new DisposedError(`${OWNER}: the images tensor has been disposed`);
  if (images.dtype !== 'float32' && images.dtype !== 'int32') throw new ValidationError(OWNER, 'images', 'a float32 or int32 tensor', `a ${images.dtype} tensor`);
  if (options === null || typeof options !== 'object') throw new OptionError(OWNER, 'options', 'an object', describeValue(options));
  for (const key of Object.keys(options)) {
    if (!(OPTIONS as readonly string[]).includes(key)) {
      const near = didYouMean(key, OPTIONS);
      throw new OptionError(OWNER, key, `one of the options ${OPTIONS.join(', ')}`, 'an unknown option', `${OWNER}: unknown option "${key}"${near ? ` (did you mean "${near}"?)` : ''}`);
    }
  }
  const layout = options.layout ?? 'nchw';
  if (layout !== 'nchw' && layout !== 'nhwc') throw new OptionError(OWNER, 'layout', '"nchw" or "nhwc"', describeValue(layout));
  const range: unknown = options.range ?? [0, 1];
  const [lo, hi] = Array.isArray(range) && range.length === 2 ? (range as unknown[]) : [];
  if (typeof lo !== 'number' || typeof hi !== 'number' || !Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) {
    throw new OptionError(OWNER, 'range', 'two finite numbers [lo, hi] with lo < hi', Array.isArray(range) ? JSON.stringify(range) : describeValue(range));
  }
  const padding = options.padding ?? 2;
  if (!Number.isSafeInteger(padding) || padding < 0) throw new OptionError(OWNER, 'padding', 'a whole number >= 0', describeValue(padding));
  const padValue = options.padValue ?? 0;
  if (typeof padValue !== 'number' || !(padValue >= 0 && padValue <= 1)) throw new OptionError(OWNER, 'padValue', 'a number in [0, 1]', describeValue(padValue));

  const shape = images.shape;
  const expected = 'a batch [N, H, W] of grey images, [N, C, H, W] (layout "nchw") or [N, H, W, C] (layout "nhwc"), with C = 1 or 3 and no zero size';
  if ((shape.length !== 3 && shape.length !== 4) || shape.some((d) => d < 1)) throw new ShapeMismatchError(`${OWNER}: images`, expected, formatShape(shape));
  const at = (axis: number): number => shape[axis] ?? 0;
  const [n, h, w, c] = shape.length === 3 ? [at(0), at(1), at(2), 1] : layout === 'nchw' ? [at(0), at(2), at(3), at(1)] : [at(0), at(1), at(2), at(3)];
  if (c !== 1 && c !== 3) {
    const other = layout === 'nchw' ? at(3) : at(1);
    const hint = other === 1 || other === 3 ? `the channels look like they are on the other axis: pass layout: "${layout === 'nchw' ? 'nhwc' : 'nchw'}"` : undefined;
    throw new ShapeMismatchError(`${OWNER}: images`, `${expected}; layout "${layout}" reads ${c} channels`, formatShape(shape), hint);
  }
  const columns = options.columns ?? Math.ceil(Math.sqrt(n));
  if (!Number.isSafeInteger(columns) || columns < 1) throw new OptionError(OWNER, 'columns', 'a whole number >= 1', describeValue(columns));
  const used = Math.min(columns, n);
  const rows = Math.ceil(n / used);
  const width = used * w + (used + 1) * padding;
  const height = rows * h + (rows + 1) * padding;
  const limit = sizeLimits().tensorElements;
  if (width * height * c > limit) throw new ShapeMismatchError(`${OWNER}: picture`, `at most ${limit} values (the size limit)`, `${width}×${height}×${c}`);
  const index =
    shape.length === 3 ? (k: number, y: number, x: number) => (k * h + y) * w + x
    : layout === 'nchw' ? (k: number, y: number, x: number, ch: number) => ((k * c + ch) * h + y) * w + x
    : (k: number, y: number, x: number, ch: number) => ((k * h + y) * w + x) * c + ch;
  return { n, h, w, c, index, lo, hi, columns: used, padding, padByte: Math.round(padValue * 255), width, height };
}

/** Where image `k`'s top-left pixel lies in the grid: row-major, `columns` per row, `padding` around each. */
export function gridPosition(k: number, columns: number, height: number, width: number, padding: number): { readonly top: number; readonly left: number } {
  return { top: padding + Math.floor(k / columns) * (height + padding), left: padding + (k % columns) * (width + padding) };
}

/** Lays the values out as 8-bit pixels and encodes them; throws NonFiniteError naming the first non-finite value. */
function render(values: ArrayLike<number>, p: GridPlan): Uint8Array {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      // Report the value's place in the caller's terms: the image and the position in it.
      const perImage = p.h * p.w * p.c;
      throw new NonFiniteError(OWNER, `${OWNER}: image ${Math.floor(i / perImage)} of the batch holds ${values[i]} (value ${i % perImage} of the image); a picture needs finite values`);
    }
  }
  const pixels = new Uint8Array(p.width * p.height * p.c).fill(p.padByte);
  const scale = 255 / (p.hi - p.lo);
  for (let k = 0; k < p.n; k++) {
    const { top, left } = gridPosition(k, p.columns, p.h, p.w, p.padding);
    for (let y = 0; y < p.h; y++) {
      for (let x = 0; x < p.w; x++) {
        const out = ((top + y) * p.width + left + x) * p.c;
        for (let ch = 0; ch < p.c; ch++) {
          const v = Math.round((values[p.index(k, y, x, ch)] - p.lo) * scale);
          pixels[out + ch] = v < 0 ? 0 : v > 255 ? 255 : v;
        }
      }
    }
  }
  return encode({ width: p.width, height: p.height, data: pixels, channels: p.c, depth: 8 });
}

/**
 * A batch of images as one PNG (8-bit grey for one channel, RGB for three),
 * laid out row by row, `columns` per row (default `ceil(√N)`), with
 * `padding` pixels (default 2, grey level `padValue`) around each: image `k`
 * has its top-left corner at row `padding + ⌊k/columns⌋·(H + padding)`,
 * column `padding + (k mod columns)·(W + padding)`. A value `v` becomes the
 * byte `round(255·(v − lo)/(hi − lo))`, clipped to 0…255, with
 * `range: [lo, hi]` (default `[0, 1]`).
 *
 * Accepts `[N, H, W]` (grey), `[N, C, H, W]` (default, `layout: 'nchw'`,
 * the library's public layout) or `[N, H, W, C]` (`layout: 'nhwc'`), `C` = 1
 * or 3. Bad shapes and options throw typed errors before anything is read; a
 * NaN or infinite value throws a {@link NonFiniteError}. It reads the
 * tensor synchronously, so it needs a backend that can (see `canReadSync`);
 * use {@link imageGridAsync} on the others. No tensor is allocated; the
 * images stay the caller's to dispose.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { imageGrid } from 'freia-ts';
 * const images = tf.randomUniform([16, 3, 8, 8]);        // 16 RGB images, channels first
 * const png = imageGrid(images, { columns: 4 });          // Uint8Array: a 4×4 grid, 42×42 pixels
 * // Node: writeFileSync('samples.png', png); browser: new Blob([png], { type: 'image/png' })
 * ```
 *
 * @group Pictures
 */
export function imageGrid(images: tf.Tensor, options: ImageGridOptions = {}): Uint8Array {
  const p = plan(images, options);
  if (!canReadSync()) throw new FreiaError(`${OWNER}: this backend (${tf.getBackend()}) cannot read tensors synchronously; use imageGridAsync`);
  return render(images.dataSync(), p);
}

/**
 * {@link imageGrid} on every backend: the same picture, read with `await images.data()`.
 *
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * import * as tf from '@tensorflow/tfjs';
 * import { imageGridAsync } from 'freia-ts';
 * const png = await imageGridAsync(tf.randomUniform([16, 1, 28, 28]));
 * await writeFile('samples.png', png);
 * ```
 *
 * @group Pictures
 */
export async function imageGridAsync(images: tf.Tensor, options: ImageGridOptions = {}): Promise<Uint8Array> {
  const p = plan(images, options);
  return render(await images.data(), p);
}

/** Base64 of bytes, with the `btoa` both browsers and Node (16+) have. */
function base64(bytes: Uint8Array): string {
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(binary);
}

/**
 * {@link imageGrid} as an SVG document: the PNG embedded as a data URL,
 * drawn at `scale` times its size (default 1) without smoothing, so small
 * images stay sharp when enlarged.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { imageGridSvg } from 'freia-ts';
 * const svg = imageGridSvg(tf.randomUniform([4, 8, 8]), { scale: 4 });   // a string starting with <svg
 * ```
 *
 * @group Pictures
 */
export function imageGridSvg(images: tf.Tensor, options: ImageGridOptions & { readonly scale?: number } = {}): string {
  const { scale = 1, ...gridOptions } = options;
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale <= 0) throw new OptionError('imageGridSvg', 'scale', 'a finite number > 0', describeValue(scale));
  const p = plan(images, gridOptions);
  if (!canReadSync()) throw new FreiaError(`imageGridSvg: this backend (${tf.getBackend()}) cannot read tensors synchronously; use imageGridAsync and embed its PNG`);
  const png = render(images.dataSync(), p);
  const [width, height] = [p.width * scale, p.height * scale];
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${p.width} ${p.height}">` +
    `<image width="${p.width}" height="${p.height}" image-rendering="pixelated" style="image-rendering:pixelated" href="data:image/png;base64,${base64(png)}"/></svg>\n`
  );
}
