/**
 * The backend gaps freia-ts fills (see src/runtime/kernels.ts), checked
 * against the pure-JS cpu backend, which has the native kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { inn, subnets, train, useBackend, setGlobalSeed } from '../src/index.js';

const start = tf.getBackend();
afterAll(async () => {
  await useBackend(start);
});

async function onBackend<T>(name: string, fn: () => T): Promise<T> {
  await useBackend(name);
  return fn();
}

function gradients(): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(Array.from({ length: 2 * 5 * 5 * 3 }, (_, i) => Math.sin(i)), [2, 5, 5, 3]);
    const w = tf.tensor4d(Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => Math.cos(i)), [3, 3, 3, 4]);
    const a = tf.tensor2d([[0.5, -1, 2], [1.5, 0.3, -0.7]]);
    const convGrad = tf.grad((filter: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x, filter as tf.Tensor4D, 1, 'same'))))(w);
    // The filter gradient in every padding and kernel shape a subnet can have, plus a strided one.
    const xr = tf.tensor4d(Array.from({ length: 3 * 6 * 5 * 2 }, (_, i) => Math.cos(0.7 * i)), [3, 6, 5, 2]);
    const convCases: [number[], 'same' | 'valid', number][] = [[[1, 1, 2, 3], 'same', 1], [[2, 2, 2, 3], 'same', 1], [[3, 2, 2, 4], 'valid', 1], [[3, 3, 2, 4], 'same', 2]];
    const moreConvGrads = convCases.map(([shape, pad, stride]) => {
      const f = tf.tensor4d(Array.from({ length: shape.reduce((a, b) => a * b) }, (_, i) => Math.sin(1.3 * i)), shape as [number, number, number, number]);
      return tf.grad((filter: tf.Tensor) => tf.sum(tf.square(tf.conv2d(xr, filter as tf.Tensor4D, stride, pad))))(f);
    });
    const gatherGrad = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.gather(v, [2, 0, 0], 1), tf.tensor2d([[1, 2, 3], [4, 5, 6]]))))(a);
    const whereGrad = tf.grad((v: tf.Tensor) => tf.sum(tf.where(tf.greater(v, 0), tf.square(v), tf.mul(v, 3))))(a);
    return [convGrad, gatherGrad, whereGrad, ...moreConvGrads].map((g) => g.dataSync() as Float32Array);
  });
}

describe('backend gaps', () => {
  it(`conv filter gradient, gather gradient and where(greater) gradient on ${start} match cpu`, async () => {
    const ours = await onBackend(start, gradients);
    const cpu = await onBackend('cpu', gradients);
    ours.forEach((g, k) => {
      expect(g.length).toBe(cpu[k].length);
      g.forEach((v, i) => expect(Math.abs(v - cpu[k][i])).toBeLessThan(1e-3 * Math.max(1, Math.abs(cpu[k][i]))));
    });
    // the where/greater gradient by hand: 2v where v > 0, else 3
    expect(Array.from(cpu[2])).toEqual([1, 3, 4, 3, 0.6000000238418579, 3]);
  });

  it(`a conv INN with hard permutations trains on ${start}`, async () => {
    await useBackend(start);
    setGlobalSeed(5);
    const flow = inn.input([2, 4, 4]).allInOne({ subnet: subnets.conv({ hidden: 8 }) }).glow({ subnet: subnets.conv({ hidden: 8, kernel: 1 }) }).permuteRandom().build();
    const data = () => ({ x: tf.tidy(() => tf.add(tf.mul(tf.randomNormal([16, 2, 4, 4]), 0.5), 1)) });
    const before = tf.memory().numTensors;
    const losses = train.fit(flow, { steps: 60, learningRate: 1e-2, data, progress: false }).loss;
    expect(tf.memory().numTensors).toBe(before);
    const first = losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = losses.slice(-5).reduce((a, b) => a + b) / 5;
    expect(last).toBeLessThan(first - 1);
    flow.dispose();
  });
});
