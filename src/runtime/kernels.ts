/**
 * Fills the gaps of the TensorFlow.js backends that training a flow runs into.
 *
 * - The wasm backend has no `Conv2DBackpropFilter` (conv subnets cannot
 *   train). We compute it with the backend's own kernels: the filter gradient
 *   of a stride-1 convolution is itself a convolution, of the input (batch and
 *   channels swapped) with the output gradient as the filter. Other cases
 *   (strides, dilations) run the cpu backend's kernel on copied data: exact,
 *   but slow.
 * - The wasm backend has no `UnsortedSegmentSum` (the gradient of `gather`,
 *   used by hard permutations): it runs on the cpu backend (small tensors).
 * - `Greater`, `GreaterEqual`, `Less` and `LessEqual` have no gradient on any
 *   backend, which breaks `tf.grad` through `where(greater(x, 0), ...)`. A
 *   comparison is piecewise constant, so its gradient is zero.
 */
import * as tf from '@tensorflow/tfjs';
import { registerWasmKernels } from './kernels-wasm.js';
import { registerFusedKernels } from './kernels-fused.js';
import { loadNative } from './kernels-native.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];
type KernelOutput = tf.TensorInfo | tf.TensorInfo[];

function cpuBackend(): tf.KernelBackend {
  const cpu = tf.findBackend('cpu');
  if (!cpu) throw new Error('freia-ts: the cpu backend is not registered');
  // The cpu backend prints a "use tfjs-node" banner on first use; it is
  // noise here because we only borrow kernels from it.
  (cpu as unknown as { firstUse: boolean }).firstUse = false;
  return cpu;
}

/** Runs the cpu backend's kernel on copies of the inputs and copies the result back. */
function onCpu(kernelName: string): ((args: KernelArgs) => KernelOutput) | null {
  const cpuKernel = tf.getKernel(kernelName, 'cpu');
  if (!cpuKernel) return null;
  return ({ inputs, backend: untypedBackend, attrs }) => {
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
      const result = cpuKernel.kernelFunc({ inputs: cpuInputs, backend: cpu, attrs }) as KernelOutput;
      const moveBack = (info: tf.TensorInfo): tf.TensorInfo => {
        const values = cpu.readSync(info.dataId) as tf.backend_util.BackendValues;
        cpu.disposeData(info.dataId);
        return { dataId: backend.write(values, info.shape, info.dtype), shape: info.shape, dtype: info.dtype };
      };
      return Array.isArray(result) ? result.map(moveBack) : moveBack(result);
    } finally {
      for (const info of Object.values(cpuInputs)) cpu.disposeData(info.dataId);
    }
  };
}

/**
 * `Conv2DBackpropFilter` from the backend's own Transpose and Conv2D kernels:
 * `dW[a, b, i, o] = Σ_{n,y,x} x_pad[n, y+a, x+b, i] · dy[n, y, x, o]` is the
 * convolution of `xᵀ: [Ci, H, W, B]` with `dyᵀ: [Ho, Wo, B, Co]` as the
 * filter, with the forward pass's padding; the result `[Ci, kH, kW, Co]` is
 * transposed to `[kH, kW, Ci, Co]`. Stride 1 and dilation 1 only.
 */
function filterGradientByConvolution(backendName: string): ((args: KernelArgs) => KernelOutput) | null {
  const conv = tf.getKernel('Conv2D', backendName);
  const transpose = tf.getKernel('Transpose', backendName);
  const fallback = onCpu('Conv2DBackpropFilter');
  if (!conv || !transpose || !fallback) return fallback;
  return (args) => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x as tf.TensorInfo;
    const dy = inputs.dy as tf.TensorInfo;
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
      strides: number | [number, number];
      pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
      dataFormat: 'NHWC' | 'NCHW';
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
      filterShape: [number, number, number, number];
    };
    const [strideH, strideW] = typeof strides === 'number' ? [strides, strides] : strides;
    if (dataFormat !== 'NHWC' || strideH !== 1 || strideW !== 1) return fallback(args);
    const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, 1, 1, pad, dimRoundingMode);
    const { top, bottom, left, right } = info.padInfo;
    const run = (kernel: tf.KernelConfig, kernelInputs: Record<string, tf.TensorInfo>, kernelAttrs: object) =>
      kernel.kernelFunc({ inputs: kernelInputs, backend, attrs: kernelAttrs as tf.NamedAttrMap }) as tf.TensorInfo;
    const xT = run(transpose, { x }, { perm: [3, 1, 2, 0] });
    const dyT = run(transpose, { x: dy }, { perm: [1, 2, 0, 3] });
    const product = run(conv, { x: xT, filter: dyT }, { strides: [1, 1], pad: [[0, 0], [top, bottom], [left, right], [0, 0]], dataFormat: 'NHWC', dilations: [1, 1] });
    const result = run(transpose, { x: product }, { perm: [1, 2, 0, 3] });
    const kernelBackend = backend as tf.KernelBackend;
    for (const t of [xT, dyT, product]) kernelBackend.disposeData(t.dataId);
    return result;
  };
}

function register(kernelName: string, backendName: string, kernelFunc: ((args: KernelArgs) => KernelOutput) | null): void {
  if (!kernelFunc || tf.getKernel(kernelName, backendName)) return;
  tf.registerKernel({ kernelName, backendName, kernelFunc });
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

/**
 * Registers the missing kernels for `backendName`, the missing gradients
 * everywhere, the wasm backend's faster kernels (kernels-wasm.ts) and our
 * fused kernels (kernels-fused.ts); on wasm, first loads onnxruntime-node's
 * native kernels when it is installed. Idempotent.
 */
export async function fillBackendGaps(backendName: string): Promise<void> {
  registerZeroGradients();
  // onnxruntime-node's products and convolutions, when installed (kernels-native.ts).
  if (backendName === 'wasm') await loadNative();
  registerWasmKernels(backendName);
  registerFusedKernels(backendName);
  if (backendName === 'cpu') return;
  register('Conv2DBackpropFilter', backendName, filterGradientByConvolution(backendName));
  register('UnsortedSegmentSum', backendName, onCpu('UnsortedSegmentSum'));
}
