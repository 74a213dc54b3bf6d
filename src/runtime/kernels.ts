/**
 * Fills the gaps of the TensorFlow.js backends that training a flow runs into.
 *
 * - The wasm backend has no `Conv2DBackpropFilter` (conv subnets cannot train)
 *   and no `UnsortedSegmentSum` (the gradient of `gather`, used by hard
 *   permutations). We run those two kernels on the cpu backend: the data is
 *   copied across, which is slower than a native kernel but exact.
 * - `Greater`, `GreaterEqual`, `Less` and `LessEqual` have no gradient on any
 *   backend, which breaks `tf.grad` through `where(greater(x, 0), ...)`. A
 *   comparison is piecewise constant, so its gradient is zero.
 */
import * as tf from '@tensorflow/tfjs';

function cpuBackend(): tf.KernelBackend {
  const cpu = tf.findBackend('cpu');
  if (!cpu) throw new Error('freia-ts: the cpu backend is not registered');
  // The cpu backend prints a "use tfjs-node" banner on first use; it is
  // noise here because we only borrow two kernels from it.
  (cpu as unknown as { firstUse: boolean }).firstUse = false;
  return cpu;
}

function delegateToCpu(kernelName: string, backendName: string): void {
  if (tf.getKernel(kernelName, backendName)) return;
  const cpuKernel = tf.getKernel(kernelName, 'cpu');
  if (!cpuKernel) return;
  tf.registerKernel({
    kernelName,
    backendName,
    kernelFunc: ({ inputs, backend: untypedBackend, attrs }) => {
      // tfjs types a kernel's backend as `{}`; every registered backend is a KernelBackend.
      const backend = untypedBackend as tf.KernelBackend;
      const cpu = cpuBackend();
      const cpuInputs: Record<string, tf.TensorInfo> = {};
      for (const [key, info] of Object.entries(inputs)) {
        if (!info) continue;
        const values = backend.readSync(info.dataId) as tf.backend_util.BackendValues;
        cpuInputs[key] = { dataId: cpu.write(values, info.shape, info.dtype), shape: info.shape, dtype: info.dtype };
      }
      try {
        const result = cpuKernel.kernelFunc({ inputs: cpuInputs, backend: cpu, attrs }) as tf.TensorInfo | tf.TensorInfo[];
        const moveBack = (info: tf.TensorInfo): tf.TensorInfo => {
          const values = cpu.readSync(info.dataId) as tf.backend_util.BackendValues;
          cpu.disposeData(info.dataId);
          return { dataId: backend.write(values, info.shape, info.dtype), shape: info.shape, dtype: info.dtype };
        };
        return Array.isArray(result) ? result.map(moveBack) : moveBack(result);
      } finally {
        for (const info of Object.values(cpuInputs)) cpu.disposeData(info.dataId);
      }
    },
  });
}

const comparisons = ['Greater', 'GreaterEqual', 'Less', 'LessEqual'];

function registerZeroGradients(): void {
  for (const kernelName of comparisons) {
    if (tf.getGradient(kernelName)) continue;
    tf.registerGradient({
      kernelName,
      inputsToSave: ['a', 'b'],
      gradFunc: (_dy, saved) => {
        const [a, b] = saved as tf.Tensor[];
        return { a: () => tf.zerosLike(a), b: () => tf.zerosLike(b) };
      },
    });
  }
}

/** Registers the missing kernels for `backendName` and the missing gradients everywhere. Idempotent. */
export function fillBackendGaps(backendName: string): void {
  registerZeroGradients();
  if (backendName === 'cpu') return;
  for (const kernel of ['Conv2DBackpropFilter', 'UnsortedSegmentSum']) delegateToCpu(kernel, backendName);
}
