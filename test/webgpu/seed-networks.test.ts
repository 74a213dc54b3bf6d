/**
 * The seed's three networks on WebGPU: built (seeded) and run on a
 * reference backend for the truth, then run on WebGPU, which must agree,
 * invert its own forward pass, and leak nothing. The truth is the cpu
 * backend's, except for the CIFAR-style conv INN, whose 28 blocks of 256-
 * channel convolutions would take minutes in pure JavaScript: there the
 * wasm backend (an independent implementation too) gives it.
 *
 * Tolerances, relative to max(1, max |truth|): outputs 1e-4; the round trip
 * 1e-4 (the cpu lane's); log-dets 1e-3, for the MNIST cINN 1e-2 as in the
 * cpu lane (a 784-dimensional log-det sums 12 blocks of 392 log-scales, so
 * float32 rounding reaches the third digit).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { inn, subnets, setGlobalSeed, useBackend, type AnyFlow } from '../../src/index.js';
import { expectClose, read } from './helpers.js';

async function onBackend<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
  await useBackend(name);
  try {
    return await fn();
  } finally {
    await useBackend('webgpu');
  }
}

async function run(flow: AnyFlow, x: tf.Tensor, c?: tf.Tensor) {
  const fwd = flow.forward(x, { c });
  const inv = flow.inverse(fwd.out, { c });
  const result = { out: await read(fwd.out), logDet: await read(fwd.logDet), back: await read(inv.out), backLogDet: await read(inv.logDet) };
  tf.dispose([fwd.out, fwd.logDet, inv.out, inv.logDet] as tf.TensorContainer);
  return result;
}

async function compare(reference: string, make: () => { flow: AnyFlow; x: tf.Tensor; c?: tf.Tensor }, logDetTolerance: number) {
  const { flow, x, c, truth } = await onBackend(reference, async () => {
    const made = make();
    return { ...made, truth: await run(made.flow, made.x, made.c) };
  });
  const before = tf.memory().numTensors;
  const ours = await run(flow, x, c);
  expect(tf.memory().numTensors).toBe(before);
  expectClose(ours.out, truth.out, 1e-4, 'outputs');
  expectClose(ours.logDet, truth.logDet, logDetTolerance, 'log-det');
  expectClose(ours.back, await read(x), 1e-4, 'inverse(forward(x)) against x');
  expectClose(ours.backLogDet, ours.logDet.map((l) => l.map((v) => -v)), logDetTolerance, 'inverse log-det against −forward');
  tf.dispose([x, c ?? []] as tf.TensorContainer);
  flow.dispose();
}

describe("the seed's networks on WebGPU", () => {
  it('moons INN: 8 AllInOne blocks, mlp 512, soft permutations (truth: cpu)', async () => {
    await compare('cpu', () => {
      setGlobalSeed(1);
      const flow = inn.input([2]).repeat(8, (c) => c.allInOne({ subnet: subnets.mlp({ hidden: 512 }), permuteSoft: true })).build();
      return { flow, x: tf.randomNormal([100, 2], 0, 1, 'float32', 1) };
    }, 1e-3);
  });

  it('MNIST cINN: 12 AllInOne blocks on 784 with a [10] condition (truth: cpu)', async () => {
    await compare('cpu', () => {
      setGlobalSeed(2);
      const flow = inn.input([784]).condition([10])
        .repeat(12, (c) => c.allInOne({ subnet: subnets.mlp({ hidden: 512 }), cond: 0, permuteSoft: false }))
        .build();
      const x = tf.randomUniform([8, 784], 0, 1, 'float32', 2);
      const c = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), 10).asType('float32');
      return { flow, x, c };
    }, 1e-2);
  });

  it('CIFAR-style conv INN of DESIGN.md (truth: wasm)', async () => {
    await compare('wasm', () => {
      setGlobalSeed(3);
      const flow = inn.input([3, 32, 32])
        .repeat(4, (c) => c.glow({ subnet: subnets.conv({ hidden: 256, kernel: 3 }), clamp: 1.2 }).permuteRandom())
        .irevnetDownsample()
        .repeat(12, (c, k) => c.glow({ subnet: subnets.conv({ hidden: 256, kernel: k % 2 ? 3 : 1 }), clamp: 1.2 }).permuteRandom({ seed: k }))
        .flatten()
        .split([768, 2304])
        .on(0, (s) => s.repeat(12, (c) => c.glow({ subnet: subnets.mlp({ hidden: 512 }), clamp: 2 }).permuteRandom()))
        .concat()
        .build();
      // The seed's recipe: every parameter 0.01·N(0, 1) (see test/seed-networks.test.ts).
      flow.trainableVariables.forEach((v, k) => tf.tidy(() => v.assign(tf.mul(tf.randomNormal(v.shape, 0, 1, 'float32', k + 1), 0.01))));
      return { flow, x: tf.randomUniform([2, 3, 32, 32], 0, 1, 'float32', 3) };
    }, 1e-3);
  });
});
