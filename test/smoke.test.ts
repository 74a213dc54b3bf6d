import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { inn, subnets } from '../src/index.js';

describe('smoke', () => {
  it('moons INN round trip', async () => {
    const flow = inn.input([2]).repeat(8, (c) => c.allInOne({ subnet: subnets.mlp({ hidden: 64 }), permuteSoft: true })).build();
    const x = tf.randomNormal([16, 2]);
    const { out: z, logDet } = flow.forward(x);
    const { out: xb, logDet: ld2 } = flow.inverse(z);
    expect(tf.max(tf.abs(tf.sub(x, xb))).dataSync()[0]).toBeLessThan(1e-4);
    expect(tf.max(tf.abs(tf.add(logDet, ld2))).dataSync()[0]).toBeLessThan(1e-4);
    console.log(tf.getBackend(), logDet.shape);
  });
});
