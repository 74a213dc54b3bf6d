/**
 * Faster versions of some of the WebAssembly backend's own kernels,
 * registered over them by `ready()` / `useBackend('wasm')` (never at import).
 * Each handles the cases that matter here and hands every other call to the
 * backend's kernel unchanged.
 *
 * - **Plain products** (`BatchMatMul`, `_FusedMatMul`). The wasm backend hands
 *   a matrix product to XNNPACK only when neither operand is transposed and
 *   there is one batch; anything else runs a scalar triple loop, 15–40×
 *   slower. tfjs's gradient of `x·W` multiplies by transposed operands
 *   (`dy·Wᵀ`, `xᵀ·dy`), so two of the three products of every dense layer in
 *   training took the slow loop. We transpose such operands first (the wasm
 *   Transpose kernel, a copy) and call the backend's kernel on plain
 *   operands. Batched products keep the backend's path (XNNPACK is not used
 *   for them either way).
 * - **Last-axis data movement** (`GatherV2`, `SplitV`, `Concat`). Channels are
 *   the last axis inside a flow, so permutations gather it and couplings
 *   split and join it. The backend's C++ gather and slice compute every
 *   element's index (about 25 and 10 ns an element); its concat copies each
 *   row with a fresh `subarray`. Ours are plain JavaScript loops over the
 *   heap.
 * - **Thin convolutions as one product** (few input or few output channels):
 *   see {@link convAsProduct}.
 * - **Native products and convolutions** when onnxruntime-node is installed:
 *   see kernels-native.ts. They come first; what they do not handle goes on
 *   to the paths above.
 */
import * as tf from '@tensorflow/tfjs';
import { hostMemory, type HostArray, type HostMemory } from './host-memory.js';
import { nativeConvolution, nativeProduct } from './kernels-native.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];
type KernelResult = tf.TensorInfo | tf.TensorInfo[];
/** A faster kernel for some calls: returns null to hand the call to the backend's kernel. */
type Fast = (args: KernelArgs, memory: HostMemory, original: tf.KernelConfig) => KernelResult | null;

/** Our kernel functions, so that registering twice (ready, then useBackend) wraps the backend's kernel once. */
const ours = new WeakSet<object>();
/** The backend's kernels we replaced, by kernel name, for {@link restoreWasmKernels}. */
const replaced = new Map<string, tf.KernelConfig>();

/** The product of the leading (batch) dimensions of a rank ≥ 2 shape. */
function batchOf(shape: readonly number[]): number {
  return shape.slice(0, -2).reduce((a, b) => a * b, 1);
}

/** The permutation swapping the last two axes. */
function swapLast(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return perm;
}

/** The last axis, whatever sign the attribute has; null when `axis` is another one. */
function isLastAxis(axis: unknown, rank: number): boolean {
  const a = Array.isArray(axis) ? axis[0] : axis;
  return typeof a === 'number' && (a === -1 || a === rank - 1);
}

/** Products with transposed operands: transpose them, then the backend's plain (XNNPACK) kernel. */
const plainProduct: Fast = (args, _memory, original) => {
  const { inputs, backend, attrs } = args;
  // Cast: tfjs passes the product's attributes as a NamedAttrMap; these two are booleans.
  const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
  const a = inputs.a as tf.TensorInfo;
  const b = inputs.b as tf.TensorInfo;
  if ((!transposeA && !transposeB) || batchOf(a.shape) !== 1 || batchOf(b.shape) !== 1) return null;
  const transpose = tf.getKernel('Transpose', 'wasm')!;
  const temporaries: tf.TensorInfo[] = [];
  const plain = (x: tf.TensorInfo, transposed: boolean): tf.TensorInfo => {
    if (!transposed) return x;
    const t = transpose.kernelFunc({ inputs: { x }, backend, attrs: { perm: swapLast(x.shape.length) } }) as tf.TensorInfo;
    temporaries.push(t);
    return t;
  };
  try {
    return original.kernelFunc({
      inputs: { ...inputs, a: plain(a, transposeA), b: plain(b, transposeB) },
      backend,
      attrs: { ...attrs, transposeA: false, transposeB: false },
    });
  } finally {
    // Cast: every registered backend is a KernelBackend; tfjs types a kernel's backend as `{}`.
    for (const t of temporaries) (backend as tf.KernelBackend).disposeData(t.dataId);
  }
};

const fourBytes = (t: tf.TensorInfo) => t.dtype === 'float32' || t.dtype === 'int32';

/** `x[..., indices]` for one-dimensional int32 indices on the last axis. */
const gatherLastAxis: Fast = ({ inputs, attrs }, memory) => {
  const x = inputs.x as tf.TensorInfo;
  const indices = inputs.indices as tf.TensorInfo;
  // Cast: GatherV2's attributes.
  const { axis, batchDims } = attrs as unknown as { axis: number; batchDims: number };
  if (!fourBytes(x) || indices.dtype !== 'int32' || indices.shape.length !== 1 || (batchDims ?? 0) !== 0 || !isLastAxis(axis, x.shape.length)) return null;
  const width = x.shape[x.shape.length - 1];
  const count = indices.shape[0];
  const out = memory.output([...x.shape.slice(0, -1), count], x.dtype as 'float32' | 'int32');
  const [xv, iv, ov] = [x, indices, out].map((t) => memory.view(t));
  for (let j = 0; j < count; j++) {
    if (!(iv[j] >= 0 && iv[j] < width)) throw new Error(`GatherV2: the index value ${iv[j]} is not in [0, ${width - 1}]`);
  }
  const rows = xv.length / Math.max(width, 1);
  for (let r = 0, src = 0, dst = 0; r < rows; r++, src += width, dst += count) {
    for (let j = 0; j < count; j++) ov[dst + j] = xv[src + iv[j]];
  }
  return out;
};

/** Copies `width`-wide column blocks between row-major arrays: `to[r, toAt + j] = from[r, fromAt + j]`. */
function copyColumns(from: HostArray, fromWidth: number, fromAt: number, to: HostArray, toWidth: number, toAt: number, width: number, rows: number): void {
  if (width >= 64) {
    for (let r = 0; r < rows; r++) to.set(from.subarray(r * fromWidth + fromAt, r * fromWidth + fromAt + width), r * toWidth + toAt);
    return;
  }
  for (let r = 0, src = fromAt, dst = toAt; r < rows; r++, src += fromWidth, dst += toWidth) {
    for (let j = 0; j < width; j++) to[dst + j] = from[src + j];
  }
}

/** Split on the last axis. */
const splitLastAxis: Fast = ({ inputs, attrs }, memory) => {
  const x = inputs.x as tf.TensorInfo;
  // Cast: SplitV's attributes.
  const { numOrSizeSplits, axis } = attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
  if (!fourBytes(x) || x.shape.length < 1 || !isLastAxis(axis, x.shape.length)) return null;
  // Cast: a tfjs TensorInfo is what prepareSplitSize reads (its shape).
  const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, x.shape.length - 1);
  const width = x.shape[x.shape.length - 1];
  const outs = sizes.map((s) => memory.output([...x.shape.slice(0, -1), s], x.dtype as 'float32' | 'int32'));
  const xv = memory.view(x);
  const rows = width === 0 ? 0 : xv.length / width;
  let at = 0;
  outs.forEach((out, k) => {
    copyColumns(xv, width, at, memory.view(out), sizes[k], 0, sizes[k], rows);
    at += sizes[k];
  });
  return outs;
};

/** Concat on the last axis. */
const concatLastAxis: Fast = ({ inputs, attrs }, memory) => {
  // Cast: Concat's inputs are a list of tensors.
  const xs = inputs as unknown as tf.TensorInfo[];
  // Cast: Concat's attribute.
  const { axis } = attrs as unknown as { axis: number };
  if (xs.length < 2 || !xs.every(fourBytes) || xs.some((t) => t.dtype !== xs[0].dtype)) return null;
  const rank = xs[0].shape.length;
  if (rank < 1 || !isLastAxis(axis, rank) || xs.some((t) => t.shape.length !== rank || t.shape.slice(0, -1).some((d, i) => d !== xs[0].shape[i]))) return null;
  const widths = xs.map((t) => t.shape[rank - 1]);
  const total = widths.reduce((a, b) => a + b, 0);
  const out = memory.output([...xs[0].shape.slice(0, -1), total], xs[0].dtype as 'float32' | 'int32');
  const ov = memory.view(out);
  const rows = total === 0 ? 0 : ov.length / total;
  let at = 0;
  xs.forEach((x, k) => {
    copyColumns(memory.view(x), widths[k], 0, ov, total, at, widths[k], rows);
    at += widths[k];
  });
  return out;
};

/**
 * Convolutions with very few output channels (`kh·kw·Co ≤ 128`, `kh·kw > 1`)
 * as one matrix product. XNNPACK and MLAS compute such a convolution at a
 * fraction of their speed (3×3 from 256 to 2 channels: 4.5 GMAC/s on
 * XNNPACK, against 16 for a product). Here `G = X · W'` with
 * `W' [Ci, kh·kw·Co]` (every tap's filter side by side), then each output
 * sums its taps' columns of `G` at the shifted pixels:
 *
 *     y[n, i, j, o] = b[o] + Σ_{a, c} G[n, i + a − top, j + c − left, (a, c, o)]
 *
 * (ReLU after, when fused). Stride 1, dilation 1, NHWC only. The product
 * goes through the registered product kernels (native when installed and
 * large enough, else XNNPACK). The mirror image, few *input* channels as
 * patches (`im2col`) times the filter, was slower than either library (its
 * output, 256 channels a pixel, is the cost) and is not used.
 */
const convAsProduct: Fast = ({ inputs, backend, attrs }, memory) => {
  const x = inputs.x as tf.TensorInfo;
  const filter = inputs.filter as tf.TensorInfo;
  const bias = inputs.bias as tf.TensorInfo | undefined;
  // Cast: Conv2D's and FusedConv2D's attributes.
  const { strides, pad, dilations = 1, dataFormat = 'NHWC', dimRoundingMode, activation = 'linear' } = attrs as unknown as {
    strides: number | [number, number];
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
    dilations?: number | [number, number];
    dataFormat?: string;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    activation?: string;
  };
  if (x.dtype !== 'float32' || filter.dtype !== 'float32' || x.shape.length !== 4 || dataFormat !== 'NHWC' || inputs.preluActivationWeights) return null;
  if ((activation !== 'linear' && activation !== 'relu') || (bias && (bias.dtype !== 'float32' || bias.shape.length !== 1 || bias.shape[0] !== filter.shape[3]))) return null;
  const [kh, kw, ci, co] = filter.shape;
  if (kh * kw === 1 || kh * kw * co > 128) return null;
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode, false, 'channelsLast');
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || info.dilationHeight !== 1 || info.dilationWidth !== 1) return null;
  const { top, left } = info.padInfo;
  const [batch, height, width] = x.shape;
  const { outHeight, outWidth } = info;
  const kernelBackend = backend as tf.KernelBackend;
  const taps = kh * kw;
  const matmul = (a: tf.TensorInfo, b: tf.TensorInfo) =>
    tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc({ inputs: { a: { ...a, shape: [1, ...a.shape] }, b: { ...b, shape: [1, ...b.shape] } }, backend, attrs: { transposeA: false, transposeB: false } }) as tf.TensorInfo;

  // W'[c, (tap, o)] = filter[tap, c, o]
  const wide = memory.output([ci, taps * co]);
  const [fv, wv] = [filter, wide].map((t) => memory.view(t));
  for (let t = 0; t < taps; t++) for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) wv[c * taps * co + t * co + o] = fv[(t * ci + c) * co + o];
  const g = matmul({ ...x, shape: [batch * height * width, ci] }, wide);
  kernelBackend.disposeData(wide.dataId);
  const out = memory.output([batch, outHeight, outWidth, co]);
  const [gv, ov] = [g, out].map((t) => memory.view(t));
  const bv = bias ? memory.view(bias) : null;
  const stride = taps * co;
  for (let n = 0; n < batch; n++) {
    for (let i = 0; i < outHeight; i++) {
      for (let j = 0; j < outWidth; j++) {
        const at = ((n * outHeight + i) * outWidth + j) * co;
        for (let o = 0; o < co; o++) ov[at + o] = bv ? bv[o] : 0;
        for (let a = 0; a < kh; a++) {
          const yi = i + a - top;
          if (yi < 0 || yi >= height) continue;
          for (let c = 0; c < kw; c++) {
            const xj = j + c - left;
            if (xj < 0 || xj >= width) continue;
            const from = ((n * height + yi) * width + xj) * stride + (a * kw + c) * co;
            for (let o = 0; o < co; o++) ov[at + o] += gv[from + o];
          }
        }
        if (activation === 'relu') for (let o = 0; o < co; o++) ov[at + o] = Math.max(ov[at + o], 0);
      }
    }
  }
  kernelBackend.disposeData(g.dataId);
  return out;
};

/** Per kernel, the fast paths tried in order before the backend's kernel (the native ones do nothing unless loaded). */
const overrides: Record<string, Fast[]> = {
  BatchMatMul: [nativeProduct, plainProduct],
  _FusedMatMul: [nativeProduct, plainProduct],
  Conv2D: [convAsProduct, nativeConvolution],
  FusedConv2D: [convAsProduct, nativeConvolution],
  GatherV2: [gatherLastAxis],
  SplitV: [splitLastAxis],
  Concat: [concatLastAxis],
};

/** Registers our faster kernels over the wasm backend's own. Idempotent; does nothing for other backends. */
export function registerWasmKernels(backendName: string): void {
  if (backendName !== 'wasm') return;
  for (const [kernelName, paths] of Object.entries(overrides)) {
    const original = tf.getKernel(kernelName, backendName);
    if (!original || ours.has(original.kernelFunc)) continue;
    const kernelFunc = (args: KernelArgs) => {
      const memory = hostMemory(backendName, args.backend);
      for (const fast of paths) {
        const result = fast(args, memory, original);
        if (result) return result;
      }
      return original.kernelFunc(args);
    };
    ours.add(kernelFunc);
    replaced.set(kernelName, original);
    tf.unregisterKernel(kernelName, backendName);
    tf.registerKernel({ ...original, kernelFunc });
  }
}

/**
 * Puts the wasm backend's own kernels back (internal: tests and measurements
 * compare both paths); {@link registerWasmKernels} registers ours again.
 */
export function restoreWasmKernels(): void {
  for (const [kernelName, config] of replaced) {
    tf.unregisterKernel(kernelName, config.backendName);
    tf.registerKernel(config);
  }
  replaced.clear();
}
