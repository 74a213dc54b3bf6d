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
 *
 * **One Adam step for every variable** ({@link ADAM_KERNEL}): tfjs's Adam runs
 * about ten elementwise kernels per variable, each a pass over memory; this
 * kernel updates `w, m, v` of all variables in one call and one pass each,
 * in JavaScript on the wasm heap (for the cpu backend on its arrays).
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

/**
 * The fused Adam step: inputs `w0, g0, m0, v0, w1, …` (float32), attributes
 * `count`, `learningRate`, `beta1`, `beta2`, `epsilon` and the bias
 * corrections `correction1 = 1 − β1^t`, `correction2 = 1 − β2^t`; outputs
 * `w0', m0', v0', w1', …` (new tensors: the inputs are never written).
 * Per element, as tfjs's AdamOptimizer:
 *
 *     m' = β1 m + (1 − β1) g,   v' = β2 v + (1 − β2) g²
 *     w' = w − lr · (m' / c1) / (√(v' / c2) + ε)
 */
export const ADAM_KERNEL = 'FreiaAdamStep';

/** The attributes of {@link ADAM_KERNEL}. */
export interface AdamStepAttrs {
  readonly count: number;
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly correction1: number;
  readonly correction2: number;
}

/** Float32 views of a backend's tensor data, and new outputs: what a JavaScript kernel needs. */
interface HostMemory {
  /** A new float32 output of `shape`. */
  output(shape: readonly number[]): tf.TensorInfo;
  /** The values of `info`; valid until the next {@link output} (the wasm heap may grow and move). */
  view(info: tf.TensorInfo): Float32Array;
}

/** The part of tfjs-backend-wasm's BackendWasm used here (its class is not exported as a type from the package root). */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.backend_util.TypedArray;
}

/** The part of the cpu backend used here. */
interface CpuBackendLike {
  makeTensorInfo(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  data: { get(dataId: object): { values: tf.backend_util.BackendValues } };
}

function hostMemory(backendName: string, backend: object): HostMemory {
  if (backendName === 'wasm') {
    // Cast: the kernel is registered for the wasm backend only, whose backend object is a BackendWasm.
    const wasm = backend as WasmBackendLike;
    return {
      output: (shape) => wasm.makeOutput([...shape], 'float32'),
      // Cast: float32 data comes back as a Float32Array.
      view: (info) => wasm.typedArrayFromHeap(info) as Float32Array,
    };
  }
  // Cast: registered for the cpu backend only, whose backend object is a MathBackendCPU.
  const cpu = backend as CpuBackendLike;
  return {
    output: (shape) => cpu.makeTensorInfo([...shape], 'float32'),
    view: (info) => {
      // Cast: the cpu backend keeps float32 values in a Float32Array; a new output has none until written.
      const data = cpu.data.get(info.dataId);
      data.values ??= new Float32Array(info.shape.reduce((a, b) => a * b, 1));
      return data.values as Float32Array;
    },
  };
}

function adamStep(backendName: string) {
  return ({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] => {
    // Cast: the attributes are the AdamStepAttrs the optimizer passes.
    const { count, learningRate, beta1, beta2, epsilon, correction1, correction2 } = attrs as unknown as AdamStepAttrs;
    const memory = hostMemory(backendName, backend);
    const outputs: tf.TensorInfo[] = [];
    for (let i = 0; i < count; i++) {
      const [w, g, m, v] = ['w', 'g', 'm', 'v'].map((k) => inputs[`${k}${i}`] as tf.TensorInfo);
      const made = [memory.output(w.shape), memory.output(w.shape), memory.output(w.shape)];
      outputs.push(...made);
      // Views after every allocation of this variable: an allocation may move the heap.
      const [wv, gv, mv, vv] = [w, g, m, v].map((t) => memory.view(t));
      const [wOut, mOut, vOut] = made.map((t) => memory.view(t));
      const a1 = 1 - beta1;
      const a2 = 1 - beta2;
      const step = learningRate / correction1;
      for (let j = 0; j < wv.length; j++) {
        const gj = gv[j];
        const mj = beta1 * mv[j] + a1 * gj;
        const vj = beta2 * vv[j] + a2 * gj * gj;
        mOut[j] = mj;
        vOut[j] = vj;
        wOut[j] = wv[j] - (step * mj) / (Math.sqrt(vj / correction2) + epsilon);
      }
    }
    return outputs;
  };
}

/** Registers the wasm backend's faster kernels over its own (and the fused Adam step on wasm and cpu). Idempotent. */
export function registerWasmKernels(backendName: string): void {
  if ((backendName === 'wasm' || backendName === 'cpu') && !tf.getKernel(ADAM_KERNEL, backendName)) {
    tf.registerKernel({ kernelName: ADAM_KERNEL, backendName, kernelFunc: adamStep(backendName) });
  }
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
