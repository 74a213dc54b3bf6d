/** checkFinite and checkFiniteAsync: asking a result whether it is finite. */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { inn, subnets, checkFinite, checkFiniteAsync, FreiaError, NonFiniteError } from '../src/index.js';

const withNaNAt21 = () => tf.tensor2d([0, 1, 2, 3, 4, NaN, 6, Infinity], [4, 2]);

describe('checkFinite', () => {
  it('returns a finite flow result unchanged (the same object) and allocates nothing that stays', async () => {
    const flow = inn.input([2]).allInOne({ subnet: subnets.mlp({ hidden: 8 }) }).build();
    const x = tf.randomNormal([5, 2]);
    const result = flow.forward(x);
    const before = tf.memory().numTensors;
    expect(checkFinite(result)).toBe(result);
    expect(await checkFiniteAsync(result)).toBe(result);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, result.out, result.logDet]);
    flow.dispose();
  });

  for (const form of ['sync', 'async'] as const) {
    it(`${form}: names the field, counts the bad values and locates the first (NaN at [2, 1]), leaking nothing`, async () => {
      const result = { out: [tf.ones([4, 2]), withNaNAt21()], logDet: tf.tensor1d([0, 0, Infinity, 0]) };
      const before = tf.memory().numTensors;
      const error = await (form === 'sync' ? (async () => checkFinite(result))() : checkFiniteAsync(result)).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(NonFiniteError);
      expect((error as NonFiniteError).where).toBe('checkFinite.out[1]');
      expect((error as Error).message).toBe('checkFinite: out[1] holds 2 non-finite value(s) of 8 (first at [2, 1]: NaN); so do logDet');
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([result.out, result.logDet]);
    });
  }

  it('a label names the caller; a lone tensor is "the tensor"; a scalar has no index', () => {
    const t = withNaNAt21();
    const s = tf.scalar(-Infinity);
    expect(() => checkFinite(t, 'my samples')).toThrow(/^my samples: the tensor holds 2 non-finite value\(s\) of 8 \(first at \[2, 1\]: NaN\)$/);
    expect(() => checkFinite({ s })).toThrow(/^checkFinite: s holds 1 non-finite value\(s\) of 1 \(first: -Infinity\)$/);
    tf.dispose([t, s]);
  });

  it('integer and boolean tensors are always finite; plain numbers and strings are ignored', () => {
    const ints = tf.tensor1d([1, 2], 'int32');
    const flags = tf.tensor1d([true, false], 'bool');
    const value = { ints, flags, n: NaN, label: 'x' };
    expect(checkFinite(value)).toBe(value);
    tf.dispose([ints, flags]);
  });

  it('refuses a disposed tensor with a FreiaError naming it', () => {
    const t = tf.ones([2]);
    t.dispose();
    expect(() => checkFinite({ out: t })).toThrow(FreiaError);
    expect(() => checkFinite({ out: t })).toThrow(/^checkFinite: out is disposed$/);
  });

  it('catches a diverged flow: a huge weight makes samples overflow to Infinity', () => {
    const flow = inn.input([2]).actNorm().build();
    const x = tf.tensor2d([0, 1, 2, 3, 4, 5], [3, 2]);
    const first = flow.forward(x);
    tf.dispose([first.out, first.logDet]);
    // log_scale 200 means samples scaled by e^200, beyond float32.
    tf.tidy(() => flow.modules.forEach((m) => m?.params.get('log_scale')?.assign(tf.fill([2], 200))));
    const z = tf.ones([3, 2]);
    const result = flow.inverse(z);
    expect(() => checkFinite(result)).toThrow(/^checkFinite: out holds 6 non-finite value\(s\) of 6 \(first at \[0, 0\]: Infinity\)$/);
    tf.dispose([x, z, result.out, result.logDet]);
    flow.dispose();
  });
});
