/**
 * imageGrid (issue 11, part 3): the PNG decoded by fast-png's own decoder
 * (an independent truth) holds each input value at the place the grid
 * layout promises, for grey and RGB, channels first and last; bad shapes,
 * options and non-finite values are refused with typed errors; nothing
 * leaks; the async and SVG forms give the same picture.
 */
import * as tf from '@tensorflow/tfjs';
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { DisposedError, NonFiniteError, OptionError, ShapeMismatchError, ValidationError, imageGrid, imageGridAsync, imageGridSvg, type ImageGridOptions } from '../src/index.js';

/** A distinct byte for every (image, row, column, channel), as a value in [0, 1]. */
const byteOf = (k: number, y: number, x: number, ch: number) => (k * 37 + y * 11 + x * 5 + ch * 83) % 256;

/** `[N, C, H, W]` with value `byteOf(...)/255`. */
function batchNchw(n: number, c: number, h: number, w: number): tf.Tensor4D {
  const values = new Float32Array(n * c * h * w);
  for (let k = 0; k < n; k++) for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) values[((k * c + ch) * h + y) * w + x] = byteOf(k, y, x, ch) / 255;
  return tf.tensor4d(values, [n, c, h, w]);
}

/** Decodes, checks the size and the channel count, and returns a pixel reader. */
function open(png: Uint8Array, width: number, height: number, channels: number) {
  const image = decode(png);
  expect([image.width, image.height, image.channels, image.depth]).toEqual([width, height, channels, 8]);
  return (row: number, col: number, ch: number) => image.data[(row * width + col) * channels + ch];
}

/** Runs `f` and checks that it leaves the number of tensors unchanged. */
function noLeak<T>(f: () => T): T {
  const before = tf.memory().numTensors;
  const result = f();
  expect(tf.memory().numTensors).toBe(before);
  return result;
}

describe('imageGrid: pixels and layout', () => {
  it('grey [N, H, W]: image k at row p + ⌊k/cols⌋(H+p), column p + (k mod cols)(W+p); padding black', () => {
    const [n, h, w] = [5, 3, 4];
    const grey = tf.tidy(() => tf.squeeze(batchNchw(n, 1, h, w), [1]));
    const png = noLeak(() => imageGrid(grey, { columns: 2, padding: 1 }));
    // 2 columns, 3 rows: 2·4 + 3·1 = 11 wide, 3·3 + 4·1 = 13 high
    const pixel = open(png, 11, 13, 1);
    for (let k = 0; k < n; k++) {
      const top = 1 + Math.floor(k / 2) * (h + 1);
      const left = 1 + (k % 2) * (w + 1);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) expect(pixel(top + y, left + x, 0), `image ${k} (${y}, ${x})`).toBe(byteOf(k, y, x, 0));
    }
    // the frame, the gap between columns, and the empty sixth cell
    for (let col = 0; col < 11; col++) expect(pixel(0, col, 0)).toBe(0);
    for (let row = 0; row < 13; row++) expect(pixel(row, 5, 0)).toBe(0);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) expect(pixel(9 + y, 6 + x, 0)).toBe(0);
    grey.dispose();
  });

  it('RGB [N, C, H, W] (the default layout) and the same batch as [N, H, W, C] give the same picture', () => {
    const [n, h, w] = [4, 2, 3];
    const nchw = batchNchw(n, 3, h, w);
    const nhwc = tf.transpose(nchw, [0, 2, 3, 1]);
    const png = noLeak(() => imageGrid(nchw));
    expect(noLeak(() => imageGrid(nhwc, { layout: 'nhwc' }))).toEqual(png);
    // default: ceil(√4) = 2 columns, padding 2: 2·3 + 3·2 = 12 wide, 2·2 + 3·2 = 10 high
    const pixel = open(png, 12, 10, 3);
    for (let k = 0; k < n; k++) {
      const top = 2 + Math.floor(k / 2) * (h + 2);
      const left = 2 + (k % 2) * (w + 2);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < 3; ch++) expect(pixel(top + y, left + x, ch)).toBe(byteOf(k, y, x, ch));
    }
    tf.dispose([nchw, nhwc]);
  });

  it('one channel in either layout is grey; one row when columns ≥ N', () => {
    const batch = batchNchw(3, 1, 2, 2);
    const pixel = open(noLeak(() => imageGrid(batch, { columns: 10, padding: 0 })), 6, 2, 1);
    expect(pixel(1, 5, 0)).toBe(byteOf(2, 1, 1, 0));
    const last = tf.reshape(batch, [3, 2, 2, 1]);
    expect(imageGrid(last, { layout: 'nhwc', columns: 10, padding: 0 })).toEqual(imageGrid(batch, { columns: 10, padding: 0 }));
    tf.dispose([batch, last]);
  });

  it('range maps [lo, hi] to 0…255 and clips outside it; padValue sets the padding', () => {
    const values = tf.tensor3d([[[-1, 0, 1, 3, -7]]]); // one image 1×5
    const pixel = open(noLeak(() => imageGrid(values, { range: [-1, 1], padding: 1, padValue: 1 })), 7, 3, 1);
    expect([1, 2, 3, 4, 5].map((col) => pixel(1, col, 0))).toEqual([0, 128, 255, 255, 0]);
    expect(pixel(0, 0, 0)).toBe(255);
    const ints = tf.tensor3d([[[0, 128, 255]]], undefined, 'int32');
    const read = open(imageGrid(ints, { range: [0, 255], padding: 0 }), 3, 1, 1);
    expect([0, 1, 2].map((col) => read(0, col, 0))).toEqual([0, 128, 255]);
    tf.dispose([values, ints]);
  });

  it('imageGridAsync and imageGridSvg give the same picture', async () => {
    const batch = batchNchw(3, 3, 4, 4);
    const png = imageGrid(batch);
    const before = tf.memory().numTensors;
    expect(await imageGridAsync(batch)).toEqual(png);
    const svg = imageGridSvg(batch, { scale: 3 }); // 2 columns × 2 rows of 4×4 with padding 2: 14×14, drawn at 42×42
    expect(tf.memory().numTensors).toBe(before);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="42" height="42" viewBox="0 0 14 14">/);
    const data = /href="data:image\/png;base64,([^"]+)"/.exec(svg)?.[1] ?? '';
    expect(new Uint8Array(Buffer.from(data, 'base64'))).toEqual(png);
    batch.dispose();
  });
});

describe('imageGrid: refusals', () => {
  const batch = () => batchNchw(2, 3, 2, 2);

  it('bad shapes, before anything is read', () => {
    const cases: [number[], RegExp][] = [
      [[4, 4], /imageGrid: images: expected a batch \[N, H, W\].*got \[4, 4\]/],
      [[1, 2, 3, 4, 5], /got \[1, 2, 3, 4, 5\]/],
      [[2, 2, 4, 4], /layout "nchw" reads 2 channels, got \[2, 2, 4, 4\]/],
      [[0, 4, 4], /got \[0, 4, 4\]/],
    ];
    for (const [shape, message] of cases) {
      const t = tf.zeros(shape);
      noLeak(() => expect(() => imageGrid(t)).toThrow(ShapeMismatchError));
      expect(() => imageGrid(t)).toThrow(message);
      t.dispose();
    }
    const channelsLast = tf.zeros([2, 8, 8, 3]);
    expect(() => imageGrid(channelsLast)).toThrow(/pass layout: "nhwc"/);
    channelsLast.dispose();
  });

  it('bad options, named', () => {
    const images = batch();
    // Casts: a JavaScript caller can pass anything.
    const bad: [unknown, RegExp][] = [
      [{ columns: 0 }, /option "columns" must be a whole number >= 1, got 0/],
      [{ columns: 1.5 }, /columns/],
      [{ padding: -1 }, /option "padding" must be a whole number >= 0/],
      [{ range: [1, 1] }, /option "range" must be two finite numbers \[lo, hi\] with lo < hi, got \[1,1\]/],
      [{ range: 5 }, /range/],
      [{ range: [0, Number.NaN] }, /range/],
      [{ layout: 'chw' }, /option "layout" must be "nchw" or "nhwc"/],
      [{ padValue: 2 }, /padValue/],
      [{ colums: 3 }, /unknown option "colums" \(did you mean "columns"\?\)/],
    ];
    for (const [options, message] of bad) {
      noLeak(() => expect(() => imageGrid(images, options as ImageGridOptions)).toThrow(OptionError));
      expect(() => imageGrid(images, options as ImageGridOptions)).toThrow(message);
    }
    expect(() => imageGridSvg(images, { scale: 0 })).toThrow(OptionError);
    images.dispose();
  });

  it('not a tensor, a bool tensor, a disposed tensor', () => {
    expect(() => imageGrid([[[0]]] as unknown as tf.Tensor)).toThrow(ValidationError);
    const flags = tf.zeros([1, 2, 2], 'bool');
    expect(() => imageGrid(flags)).toThrow(/a float32 or int32 tensor, got a bool tensor/);
    flags.dispose();
    const gone = batch();
    gone.dispose();
    expect(() => imageGrid(gone)).toThrow(DisposedError);
  });

  it('NaN or infinite values: NonFiniteError naming the image, from both forms, without leaks', async () => {
    const values = new Float32Array(2 * 3 * 2 * 2).fill(0.5);
    values[12 + 5] = Number.NaN; // image 1
    const images = tf.tensor4d(values, [2, 3, 2, 2]);
    noLeak(() => expect(() => imageGrid(images)).toThrow(NonFiniteError));
    expect(() => imageGrid(images)).toThrow(/imageGrid: image 1 of the batch holds NaN/);
    await expect(imageGridAsync(images)).rejects.toThrow(NonFiniteError);
    const infinite = tf.fill([1, 2, 2], Infinity);
    expect(() => imageGrid(infinite)).toThrow(/holds Infinity/);
    tf.dispose([images, infinite]);
  });
});
