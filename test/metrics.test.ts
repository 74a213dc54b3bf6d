/**
 * train.bitsPerDim against its closed form nll / (D ln 2), for numbers and
 * tensors, its refusals, and the convention for dequantized 8-bit images:
 * a flow that is only `.dequantize()` followed by a uniform base on (0, 1)
 * gives exactly 8 bits/dim.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { OptionError, dist, inn, setGlobalSeed, train } from '../src/index.js';

describe('train.bitsPerDim', () => {
  it('is nll / (dims · ln 2) for numbers', () => {
    expect(train.bitsPerDim(3072 * Math.LN2 * 3.5, 3072)).toBeCloseTo(3.5, 12);
    expect(train.bitsPerDim(1, 1)).toBeCloseTo(1 / Math.log(2), 12);
    expect(train.bitsPerDim(0, 7)).toBe(0);
    expect(train.bitsPerDim(-2, 4)).toBeCloseTo(-2 / (4 * Math.LN2), 12);
  });

  it('returns a tensor of the same shape for a tensor, without leaks', () => {
    const nll = tf.scalar(100);
    const perSample = tf.tensor1d([10, 20, 30]);
    const before = tf.memory().numTensors;
    const bits = train.bitsPerDim(nll as tf.Scalar, 8);
    const each = train.bitsPerDim(perSample, 2);
    expect(tf.memory().numTensors).toBe(before + 2);
    expect(bits.rank).toBe(0);
    expect(bits.dataSync()[0]).toBeCloseTo(100 / (8 * Math.LN2), 4);
    expect(each.shape).toEqual([3]);
    Array.from(each.dataSync()).forEach((v, i) => expect(v).toBeCloseTo((10 * (i + 1)) / (2 * Math.LN2), 4));
    tf.dispose([nll, perSample, bits, each]);
  });

  it('refuses dims that are not a positive whole number, and an nll that is neither number nor tensor', () => {
    for (const dims of [0, -3, 1.5, Number.NaN, Infinity]) {
      expect(() => train.bitsPerDim(1, dims)).toThrow(OptionError);
    }
    expect(() => train.bitsPerDim(1, 0)).toThrow('train.bitsPerDim: option "dims" must be a positive whole number (the dimensions of one sample), got 0');
    // Cast: a JavaScript caller can pass anything.
    expect(() => train.bitsPerDim('1' as unknown as number, 3)).toThrow(OptionError);
    const nll = tf.scalar(1);
    const before = tf.memory().numTensors;
    expect(() => train.bitsPerDim(nll, 0)).toThrow(OptionError);
    expect(tf.memory().numTensors).toBe(before);
    nll.dispose();
  });

  it('gives 8 bits/dim for 8-bit images under a dequantizer and a uniform density on (0, 1)', () => {
    setGlobalSeed(3);
    const flow = inn.input([1, 2, 2]).dequantize().build();
    const model = dist.pullBack(flow, dist.uniformBox([1, 2, 2], 0, 1));
    const pixels = tf.floor(tf.randomUniform([5, 1, 2, 2], 0, 256));
    const nats = train.nll(model, pixels);
    const bits = train.bitsPerDim(nats, 4);
    expect(bits.dataSync()[0]).toBeCloseTo(8, 4);
    tf.dispose([pixels, nats, bits]);
    flow.dispose();
  });
});
