/**
 * Fills the gaps of tfjs's WebGPU backend (4.22) that the splines run into.
 *
 * - `Cumsum` handles rank ≤ 4 only ("Cumulative + for rank 5 is not yet
 *   supported"); a spline on an image has rank-5 knots `[B, H, W, C, K+1]`.
 * - Its reverse mode (the gradient of a forward cumsum) bakes the axis
 *   length into the shader, but the pipeline cache keys the shader by rank
 *   only: after a reverse cumsum over 10 elements, one over 6 elements of
 *   the same rank reuses the first shader and sums the wrong range.
 * - `Select` (`tf.where`) handles rank ≤ 4 only ("Where for rank 5 is not
 *   yet supported").
 * - `AddN` binds every input as a storage buffer in one shader; past the
 *   device's `maxStorageBuffersPerShaderStage` (8 by default: 7 inputs and
 *   the output) the pipeline is invalid, and the sum is garbage, silently
 *   (its `Concat` splits its inputs; `AddN` does not). Summing the gradient
 *   norms of a flow's variables (`clipByGlobalNorm`) hits it.
 * - `PadV2` (`tf.pad`, the gradient of `tf.slice`) writes a rank-5 shader
 *   that does not compile ("cannot index type 'vec5'"): Dawn prints the
 *   error and the result is garbage, silently.
 *
 * The wrappers keep the backend's own kernels and only change what they
 * see: a cumsum becomes one over the middle axis of `[before, n, after]`
 * (rank 2 or 3), reversed with the backend's `Reverse` kernel around a
 * forward cumsum when asked to run in reverse (a forward cumsum's shader has
 * no length in it); a select of equal shapes becomes one over flat vectors;
 * a pad folds each unpadded axis into the axis before it (padding that one
 * by multiples of the folded size), which brings the splines' pads (the last
 * axis only) to rank 2; an AddN of too many inputs sums them in groups that
 * fit, and then the groups' sums.
 * The results are the same numbers. test/webgpu/kernels.test.ts checks them
 * against the cpu backend.
 */
import * as tf from '@tensorflow/tfjs';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Runs one of the backend's kernels on TensorInfos (no tape, no tidy: the caller disposes). */
function runner(backendName: string, backend: KernelArgs['backend']) {
  return (kernelName: string, inputs: Record<string, tf.TensorInfo>, attrs: object): tf.TensorInfo => {
    const kernel = tf.getKernel(kernelName, backendName);
    if (!kernel) throw new Error(`freia-ts: the ${backendName} backend has no ${kernelName} kernel`);
    // Casts: the kernels run here (Reshape, Reverse) have one output; their attributes are plain values.
    return kernel.kernelFunc({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
  };
}

/** Frees intermediate results of {@link runner} (their data ids, reference-counted by the backend). */
function release(backend: KernelArgs['backend'], infos: readonly tf.TensorInfo[]): void {
  // tfjs types a kernel's backend as `{}`; every registered backend is a KernelBackend.
  for (const info of infos) (backend as tf.KernelBackend).disposeData(info.dataId);
}

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

function cumsum(original: tf.KernelFunc, backendName: string): tf.KernelFunc {
  return (args) => {
    const { inputs, backend } = args;
    const x = inputs.x as tf.TensorInfo;
    // Cast: Cumsum's attributes, as tfjs-core's cumsum op passes them.
    const { axis, exclusive, reverse } = args.attrs as unknown as { axis: number; exclusive: boolean; reverse: boolean };
    const rank = x.shape.length;
    const a = axis < 0 ? axis + rank : axis;
    if (rank === 0 || (rank <= 4 && !reverse)) return original(args);
    const run = runner(backendName, backend);
    const after = product(x.shape.slice(a + 1));
    const folded = after === 1 ? [product(x.shape.slice(0, a)), x.shape[a]] : [product(x.shape.slice(0, a)), x.shape[a], after];
    const temps: tf.TensorInfo[] = [];
    const keep = (t: tf.TensorInfo) => (temps.push(t), t);
    try {
      let t = keep(run('Reshape', { x }, { shape: folded }));
      if (reverse) t = keep(run('Reverse', { x: t }, { dims: [1] }));
      // Cast: Cumsum has one output.
      t = keep(original({ inputs: { x: t }, backend, attrs: { axis: 1, exclusive, reverse: false } }) as tf.TensorInfo);
      if (reverse) t = keep(run('Reverse', { x: t }, { dims: [1] }));
      return run('Reshape', { x: t }, { shape: x.shape });
    } finally {
      release(backend, temps);
    }
  };
}

function select(original: tf.KernelFunc, backendName: string): tf.KernelFunc {
  return (args) => {
    const { inputs, backend } = args;
    const condition = inputs.condition as tf.TensorInfo;
    const t = inputs.t as tf.TensorInfo;
    const e = inputs.e as tf.TensorInfo;
    const same = (s: readonly number[]) => s.length === t.shape.length && s.every((d, i) => d === t.shape[i]);
    if (t.shape.length <= 4 || !same(condition.shape) || !same(e.shape)) return original(args);
    const run = runner(backendName, backend);
    const flat = [product(t.shape)];
    const temps = [condition, t, e].map((x) => run('Reshape', { x }, { shape: flat }));
    try {
      const [c, tt, ee] = temps;
      // Cast: Select has one output.
      const picked = original({ inputs: { condition: c, t: tt, e: ee }, backend, attrs: {} }) as tf.TensorInfo;
      temps.push(picked);
      return run('Reshape', { x: picked }, { shape: t.shape });
    } finally {
      release(backend, temps);
    }
  };
}

/**
 * Folds every unpadded axis into the one before it: `[B, H, W, C, K]` padded
 * on K only becomes `[B·H·W·C, K]`. Padding axis i by `(a, b)` with the
 * axes after it folded in is padding the folded axis by `(a·n, b·n)`, n the
 * folded size. Null when more than 4 axes remain.
 */
export function foldPaddings(shape: readonly number[], paddings: readonly (readonly [number, number])[]): { shape: number[]; paddings: [number, number][] } | null {
  const dims: number[] = [];
  const pads: [number, number][] = [];
  shape.forEach((n, i) => {
    const [before, after] = paddings[i];
    if (i > 0 && before === 0 && after === 0) {
      const last = dims.length - 1;
      dims[last] *= n;
      pads[last] = [pads[last][0] * n, pads[last][1] * n];
    } else {
      dims.push(n);
      pads.push([before, after]);
    }
  });
  return dims.length <= 4 ? { shape: dims, paddings: pads } : null;
}

function pad(original: tf.KernelFunc, backendName: string): tf.KernelFunc {
  return (args) => {
    const { inputs, backend } = args;
    const x = inputs.x as tf.TensorInfo;
    // Cast: PadV2's attributes, as tfjs-core's pad op passes them.
    const { paddings, constantValue } = args.attrs as unknown as { paddings: [number, number][]; constantValue: number };
    const folded = x.shape.length > 4 ? foldPaddings(x.shape, paddings) : null;
    if (!folded) return original(args);
    const run = runner(backendName, backend);
    const temps = [run('Reshape', { x }, { shape: folded.shape })];
    try {
      // Cast: PadV2 has one output.
      const padded = original({ inputs: { x: temps[0] }, backend, attrs: { paddings: folded.paddings, constantValue } }) as tf.TensorInfo;
      temps.push(padded);
      return run('Reshape', { x: padded }, { shape: x.shape.map((n, i) => n + paddings[i][0] + paddings[i][1]) });
    } finally {
      release(backend, temps);
    }
  };
}

/** How many inputs one AddN shader may bind: the device's storage-buffer limit less the output. */
function addNInputs(backend: KernelArgs['backend']): number {
  // Cast: tfjs's WebGPUBackend keeps its GPUDevice in `device` (its Concat kernel reads the same limit).
  const limit = (backend as { device?: { limits?: { maxStorageBuffersPerShaderStage?: number } } }).device?.limits?.maxStorageBuffersPerShaderStage;
  return Math.max(2, (limit ?? 8) - 1);
}

/** AddN's inputs: tfjs-core passes the list of tensors as it is, an array where other kernels get named inputs. */
function asInputs(list: tf.TensorInfo[]): tf.NamedTensorInfoMap {
  // Cast: an array is what the backend's AddN kernel reads (`inputs.map`).
  return list as unknown as tf.NamedTensorInfoMap;
}

function addN(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { backend } = args;
    const inputs = Object.values(args.inputs).filter((t): t is tf.TensorInfo => t !== undefined);
    const most = addNInputs(backend);
    if (inputs.length <= most) return original(args);
    const temps: tf.TensorInfo[] = [];
    try {
      let terms = inputs;
      while (terms.length > most) {
        const sums: tf.TensorInfo[] = [];
        for (let i = 0; i < terms.length; i += most) {
          const group = terms.slice(i, i + most);
          if (group.length === 1) {
            sums.push(group[0]);
            continue;
          }
          // Cast: AddN has one output.
          const sum = original({ inputs: asInputs(group), backend, attrs: {} }) as tf.TensorInfo;
          temps.push(sum);
          sums.push(sum);
        }
        terms = sums;
      }
      return original({ inputs: asInputs(terms), backend, attrs: {} });
    } finally {
      release(backend, temps);
    }
  };
}

const wrapped = new Set<string>();

/** Wraps the kernel `kernelName` of `backendName` once (the wrapper calls the backend's own kernel). */
function wrap(kernelName: string, backendName: string, make: (original: tf.KernelFunc, backendName: string) => tf.KernelFunc): void {
  const key = `${backendName}/${kernelName}`;
  const kernel = tf.getKernel(kernelName, backendName);
  if (wrapped.has(key) || !kernel) return;
  const wrapper = make(kernel.kernelFunc, backendName);
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ ...kernel, kernelFunc: wrapper });
  wrapped.add(key);
}

/** Registers the WebGPU backend's wrapped kernels. Idempotent. */
export function fillWebGpuGaps(backendName = 'webgpu'): void {
  wrap('Cumsum', backendName, cumsum);
  wrap('Select', backendName, select);
  wrap('PadV2', backendName, pad);
  wrap('AddN', backendName, addN);
}
