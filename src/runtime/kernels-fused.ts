/**
 * Kernels of our own that do in one call what would take many tfjs kernels,
 * written in JavaScript over host memory (src/runtime/host-memory.ts), so
 * registered for the wasm and cpu backends only; elsewhere their callers run
 * the plain tfjs operations. Registered by `ready()` / `useBackend`, never at
 * import.
 *
 * **One Adam step for every variable** ({@link ADAM_KERNEL}): tfjs's Adam runs
 * about ten elementwise kernels per variable, each a pass over memory; this
 * kernel updates `w, m, v` of all variables in one call and one pass each
 * (on wasm four parameters at a time, in our own SIMD code: simd.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { hasHostMemory, hostMemory } from './host-memory.js';
import { simdLoops } from './simd.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Whether the wasm Adam step uses the SIMD loop (internal: tests compare it with the JavaScript loop). */
let fusionSimd = true;

/** Runs `fn` with the SIMD loops on or off (internal: tests and measurements). */
export function withSimd<T>(on: boolean, fn: () => T): T {
  const before = fusionSimd;
  fusionSimd = on;
  try {
    return fn();
  } finally {
    fusionSimd = before;
  }
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

function adamStep(backendName: string) {
  return ({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] => {
    // Cast: the attributes are the AdamStepAttrs the optimizer passes.
    const { count, learningRate, beta1, beta2, epsilon, correction1, correction2 } = attrs as unknown as AdamStepAttrs;
    const memory = hostMemory(backendName, backend);
    const outputs: tf.TensorInfo[] = [];
    const a1 = 1 - beta1;
    const a2 = 1 - beta2;
    const step = learningRate / correction1;
    for (let i = 0; i < count; i++) {
      const [w, g, m, v] = ['w', 'g', 'm', 'v'].map((k) => inputs[`${k}${i}`] as tf.TensorInfo);
      const made = [memory.output(w.shape), memory.output(w.shape), memory.output(w.shape)];
      outputs.push(...made);
      const size = w.shape.reduce((a, b) => a * b, 1);
      // On wasm, all but the last size mod 4 parameters go through the SIMD loop (four at a time).
      const loops = fusionSimd && memory.wasm ? simdLoops(memory.wasm.memory) : null;
      let start = 0;
      if (loops && memory.wasm) {
        start = size - (size % 4);
        const at = memory.wasm.address;
        loops.adam(at(w), at(g), at(m), at(v), at(made[0]), at(made[1]), at(made[2]), start, beta1, beta2, a1, a2, step, correction2, epsilon);
      }
      // Views after every allocation of this variable: an allocation may move the heap.
      const [wv, gv, mv, vv, wOut, mOut, vOut] = [w, g, m, v, ...made].map((t) => memory.view(t));
      for (let j = start; j < size; j++) {
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

/** Registers our fused kernels for `backendName` when it has host memory (wasm, cpu). Idempotent. */
export function registerFusedKernels(backendName: string): void {
  if (!hasHostMemory(backendName)) return;
  if (!tf.getKernel(ADAM_KERNEL, backendName)) tf.registerKernel({ kernelName: ADAM_KERNEL, backendName, kernelFunc: adamStep(backendName) });
}
