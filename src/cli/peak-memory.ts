/**
 * The `train-peak-memory` workload of `npm run bench`: the peak memory and
 * the time of one training step of a deep chain of GLOW blocks, with the
 * gradient by ordinary backprop (`memory: 'store'`) or by inversion
 * (`memory: 'invert'`).
 *
 * The network: `blocks` × (GLOW coupling with 3×3 conv subnets of hidden
 * width 16, clamp 1.2, then PermuteRandom) on `[3, 32, 32]`, batch 16. The
 * step: NLL forward, gradient of every parameter, one Adam update.
 *
 * `peakBytes` is `tf.profile`'s: the most bytes tfjs held at once during the
 * step, counting everything alive (parameters, Adam's moments, the batch,
 * activations, gradients). `residentBytes` is what was held just before the
 * step (parameters, Adam's moments, the batch), so `peakBytes −
 * residentBytes` is the step's own memory.
 */
import * as tf from '@tensorflow/tfjs';
import { inn, subnets, train, setGlobalSeed, type AnyFlow, type GradientMemory } from '../index.js';

/** What one measurement gives. */
export interface PeakMemoryResult {
  readonly peakBytes: number;
  readonly residentBytes: number;
  readonly medianMs: number;
}

/** The workload's network: `blocks` GLOW blocks with 3×3 conv subnets (hidden 16) and permutations on `[3, 32, 32]`. */
export function peakMemoryFlow(blocks: number): AnyFlow {
  return inn.input([3, 32, 32])
    .repeat(blocks, (c) => c.glow({ subnet: subnets.conv({ hidden: 16, kernel: 3 }), clamp: 1.2 }).permuteRandom())
    .build();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Measures one depth and mode: a warm-up step (which also creates Adam's
 * moments, so they count as resident), one step under `tf.profile` for the
 * peak, then `runs` timed steps for the median.
 */
export async function measurePeakMemory(blocks: number, memory: GradientMemory, runs: number): Promise<PeakMemoryResult> {
  setGlobalSeed(0);
  const flow = peakMemoryFlow(blocks);
  const optimizer = train.adam(1e-4);
  const images = tf.randomUniform([16, 3, 32, 32], 0, 1, 'float32', 3);
  const step = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => train.nll(flow, images, { memory }), flow.trainableVariables);
      optimizer.applyGradients(grads);
      value.dataSync();
    });
  try {
    step();
    const residentBytes = tf.memory().numBytes;
    const profile = await tf.profile(step);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      step();
      times.push(performance.now() - t0);
    }
    return { peakBytes: profile.peakBytes, residentBytes, medianMs: Number(median(times).toFixed(1)) };
  } finally {
    images.dispose();
    optimizer.dispose();
    flow.dispose();
  }
}
