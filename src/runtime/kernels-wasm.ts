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

/** Per kernel, the fast paths tried in order before the backend's kernel (the native ones do nothing unless loaded). */
const overrides: Record<string, Fast[]> = {
  BatchMatMul: [nativeProduct, plainProduct],
  _FusedMatMul: [nativeProduct, plainProduct],
  Conv2D: [nativeConvolution],
  FusedConv2D: [nativeConvolution],
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
