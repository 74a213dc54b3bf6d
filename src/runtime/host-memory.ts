/**
 * Tensor data as JavaScript typed arrays, for kernels written in JavaScript:
 * views into the WebAssembly backend's heap (no copy), or the cpu backend's
 * own arrays. Used by src/runtime/kernels-wasm.ts and kernels-fused.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { webAssembly, type WasmMemory } from './simd.js';

/** float32 and int32 data: the dtypes our JavaScript kernels handle (4 bytes an element on every backend). */
export type HostArray = Float32Array | Int32Array;

/** Views of a backend's tensor data and new outputs. */
export interface HostMemory {
  /** A new output of `shape` (its contents are undefined until written). */
  output(shape: readonly number[], dtype?: 'float32' | 'int32'): tf.TensorInfo;
  /**
   * The values of `info` (float32 → Float32Array, int32 → Int32Array). On
   * wasm the view is valid until the next {@link output}: an allocation may
   * grow the heap and detach it. Allocate first, then view.
   */
  view(info: tf.TensorInfo): HostArray;
  /** On wasm: the backend's WebAssembly memory and the byte address of a tensor in it (for simd.ts). */
  readonly wasm?: { readonly memory: WasmMemory; address(info: tf.TensorInfo): number };
}

/** The part of tfjs-backend-wasm's BackendWasm used here (the package root does not export its type). */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.backend_util.TypedArray;
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  /** The emscripten module; its `asm` exports include the memory. */
  wasm: { asm?: { memory?: unknown } };
}

/** The part of tfjs's cpu backend used here. */
interface CpuBackendLike {
  makeTensorInfo(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  data: { get(dataId: object): { values?: tf.backend_util.BackendValues } };
}

/** The backends with host memory: wasm and cpu. */
export function hasHostMemory(backendName: string): boolean {
  return backendName === 'wasm' || backendName === 'cpu';
}

/** Host memory of `backend` (the backend object a kernel receives), registered as `backendName` ('wasm' or 'cpu'). */
export function hostMemory(backendName: string, backend: object): HostMemory {
  if (backendName === 'wasm') {
    // Cast: only kernels registered for the wasm backend ask for it, and their backend object is a BackendWasm.
    const wasm = backend as WasmBackendLike;
    const memory = wasm.wasm.asm?.memory;
    const Memory = webAssembly()?.Memory;
    return {
      output: (shape, dtype = 'float32') => wasm.makeOutput([...shape], dtype),
      // Cast: float32 and int32 data come back as Float32Array and Int32Array.
      view: (info) => wasm.typedArrayFromHeap(info) as HostArray,
      wasm: Memory && memory instanceof Memory ? { memory, address: (info) => wasm.dataIdMap.get(info.dataId)!.memoryOffset } : undefined,
    };
  }
  // Cast: only kernels registered for the cpu backend ask for it, and their backend object is a MathBackendCPU.
  const cpu = backend as CpuBackendLike;
  return {
    output: (shape, dtype = 'float32') => cpu.makeTensorInfo([...shape], dtype),
    view: (info) => {
      const data = cpu.data.get(info.dataId);
      const size = info.shape.reduce((a, b) => a * b, 1);
      data.values ??= info.dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
      // Cast: the cpu backend keeps float32 and int32 values in typed arrays of that type.
      return data.values as HostArray;
    },
  };
}
