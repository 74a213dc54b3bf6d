/**
 * Kernels that make the WebAssembly backend faster, registered over its own
 * by `ready()` / `useBackend('wasm')` (never at import).
 *
 * **Plain products.** The wasm backend hands a matrix product to XNNPACK only
 * when neither operand is transposed and there is one batch; anything else
 * runs a scalar triple loop, 15–40× slower. tfjs's gradient of `x·W`
 * multiplies by transposed operands (`dy·Wᵀ`, `xᵀ·dy`), so two of the three
 * products of every dense layer in training took the slow loop. Our
 * `BatchMatMul` and `_FusedMatMul` transpose such operands first (the wasm
 * Transpose kernel, a copy) and call the backend's own kernel on plain
 * operands. Batched products (more than one matrix) keep the backend's path:
 * XNNPACK is not used for them either way.
 */
import * as tf from '@tensorflow/tfjs';

type KernelArgs = Parameters<tf.KernelFunc>[0];

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

/**
 * Wraps the backend's product kernel `kernelName` so that transposed operands
 * of an unbatched product are transposed first and the plain (XNNPACK) path
 * runs. Other calls go to the backend's kernel unchanged.
 */
function plainProduct(kernelName: 'BatchMatMul' | '_FusedMatMul', backendName: string): tf.KernelConfig | null {
  const original = tf.getKernel(kernelName, backendName);
  const transpose = tf.getKernel('Transpose', backendName);
  if (!original || !transpose || ours.has(original.kernelFunc)) return null;
  const kernelFunc = (args: KernelArgs) => {
    const { inputs, backend, attrs } = args;
    // Cast: tfjs passes the product's attributes as a NamedAttrMap; these two are booleans.
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const a = inputs.a as tf.TensorInfo;
    const b = inputs.b as tf.TensorInfo;
    if ((!transposeA && !transposeB) || batchOf(a.shape) !== 1 || batchOf(b.shape) !== 1) return original.kernelFunc(args);
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
  ours.add(kernelFunc);
  return { ...original, kernelFunc };
}

/** Registers the wasm backend's faster kernels over its own. Idempotent; does nothing for other backends. */
export function registerWasmKernels(backendName: string): void {
  if (backendName !== 'wasm') return;
  for (const kernelName of ['BatchMatMul', '_FusedMatMul'] as const) {
    const config = plainProduct(kernelName, backendName);
    if (!config) continue;
    replaced.set(kernelName, tf.getKernel(kernelName, backendName)!);
    tf.unregisterKernel(kernelName, backendName);
    tf.registerKernel(config);
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
