/**
 * The seed's three example networks: they build with the shapes DESIGN.md
 * gives, run forward, and invert to 1e-4.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { inn, subnets, setGlobalSeed } from '../src/index.js';
import { maxAbsDiff } from './helpers/jacobian.js';

function roundTrip(flow: { forward: Function; inverse: Function; dispose(): void }, x: tf.Tensor, c?: tf.Tensor) {
  const before = tf.memory().numTensors;
  const fwd = flow.forward(x, { c });
  const inv = flow.inverse(fwd.out, { c });
  const error = maxAbsDiff(inv.out, x);
  const logDetError = tf.tidy(() => maxAbsDiff(inv.logDet, tf.neg(fwd.logDet)));
  const finite = tf.tidy(() => tf.all(tf.isFinite(fwd.out)).dataSync()[0]);
  tf.dispose([fwd.out, fwd.logDet, inv.out, inv.logDet]);
  expect(tf.memory().numTensors).toBe(before);
  return { error, logDetError, finite };
}

describe("the seed's networks", () => {
  it('moons INN: 8 AllInOne blocks, mlp 512, soft permutations', () => {
    setGlobalSeed(1);
    const flow = inn.input([2]).repeat(8, (c) => c.allInOne({ subnet: subnets.mlp({ hidden: 512 }), permuteSoft: true })).build();
    expect(flow.inputShapes).toEqual([[2]]);
    expect(flow.outputShapes).toEqual([[2]]);
    const x = tf.randomNormal([100, 2]);
    const { error, logDetError, finite } = roundTrip(flow, x);
    expect(finite).toBe(1);
    expect(error).toBeLessThan(1e-4);
    expect(logDetError).toBeLessThan(1e-3);
    x.dispose();
    flow.dispose();
  });

  it('MNIST cINN: 12 AllInOne blocks on 784 with a [10] condition', () => {
    setGlobalSeed(2);
    const flow = inn.input([784]).condition([10])
      .repeat(12, (c) => c.allInOne({ subnet: subnets.mlp({ hidden: 512 }), cond: 0, permuteSoft: false }))
      .build();
    expect(flow.conditionShapes).toEqual([[10]]);
    const x = tf.randomUniform([8, 784]);
    const c = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), 10).asType('float32');
    const { error, logDetError, finite } = roundTrip(flow, x, c);
    expect(finite).toBe(1);
    expect(error).toBeLessThan(1e-4);
    expect(logDetError).toBeLessThan(1e-2);
    tf.dispose([x, c]);
    flow.dispose();
  });

  it('CIFAR-style conv INN of DESIGN.md', () => {
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
    expect(flow.outputShapes).toEqual([[3072]]);
    // The seed's recipe initialises every parameter as 0.01·N(0, 1) (FrEIA's CIFAR example);
    // PyTorch's default init would multiply scales over 28 blocks into float32 overflow.
    for (const v of flow.trainableVariables) tf.tidy(() => v.assign(tf.mul(tf.randomNormal(v.shape), 0.01)));
    const x = tf.randomUniform([2, 3, 32, 32]);
    const { error, finite } = roundTrip(flow, x);
    expect(finite).toBe(1);
    expect(error).toBeLessThan(1e-4);
    x.dispose();
    flow.dispose();
  });
});
