/**
 * Training on WebGPU: `train.fitAsync` against the cpu backend's `train.fit`
 * on the same flow (same seed, so the same initial weights), the same
 * batches, Adam and gradient clipping. Every step's loss must agree to
 * 1e-3 relative (measured: the fourth digit, over 40 steps; Adam could
 * amplify float32 rounding differences, but does not here), and both runs
 * must have learned (the loss fell by more than 0.2 nats).
 * The flow has an ActNorm, so its data-dependent initialisation runs on the
 * device, and a hard permutation, whose gradient is a gather.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { inn, subnets, train, setGlobalSeed, FreiaError, type AnyFlow } from '../../src/index.js';
import { makeMoons } from '../../src/cli/datasets/moons.js';
import { onCpu } from './helpers.js';

const steps = 40;
const build = (): AnyFlow => {
  setGlobalSeed(4);
  return inn.input([2]).actNorm()
    .repeat(3, (c) => c.allInOne({ subnet: subnets.mlp({ hidden: 64 }), permuteSoft: true }).permuteRandom())
    .build();
};
const batches = Array.from({ length: steps }, (_, step) => makeMoons(64, { noise: 0.05, seed: 10 + step }));
const options = (record: number[]) => ({
  steps,
  learningRate: 1e-2,
  clipNorm: 5,
  progress: false,
  data: (step: number) => ({ x: tf.tensor2d(batches[step], [64, 2]) }),
  onStep: (step: number) => record.push(step),
});

describe('training on WebGPU', () => {
  it('fitAsync follows the cpu backend\'s fit step by step, learns, and leaks nothing', async () => {
    const cpu = await onCpu(() => {
      const flow = build();
      const losses = train.fit(flow, options([])).loss;
      flow.dispose();
      return losses;
    });
    const flow = build();
    const before = tf.memory().numTensors;
    const reported: number[] = [];
    const losses = (await train.fitAsync(flow, options(reported))).loss;
    expect(tf.memory().numTensors).toBe(before);
    expect(reported).toEqual(Array.from({ length: steps }, (_, i) => i));
    expect(losses).toHaveLength(steps);
    losses.forEach((l, i) => expect(Math.abs(l - cpu[i]), `step ${i}: ${l} vs ${cpu[i]}`).toBeLessThan(1e-3 * Math.max(1, Math.abs(cpu[i]))));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    for (const run of [losses, cpu]) expect(mean(run.slice(-5))).toBeLessThan(mean(run.slice(0, 5)) - 0.2);
    flow.dispose();
  });

  it('the synchronous fit fails on WebGPU in Node, naming the async form', () => {
    const flow = build();
    let thrown: unknown;
    try {
      train.fit(flow, { ...options([]), steps: 1 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(FreiaError);
    expect(String((thrown as Error).message)).toMatch(/cannot be read synchronously in Node.*train\.fitAsync/);
    flow.dispose();
  });
});
