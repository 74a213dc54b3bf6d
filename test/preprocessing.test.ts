/**
 * The image-preprocessing modules beyond the module table: dequantization
 * keeps every level's round trip exact and its output strictly inside
 * (0, 1) even at the noise's extremes, its noise follows setGlobalSeed, its
 * log-det is −D log L; the logit's closed form; bad options refused.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ValidationError, inn, setGlobalSeed } from '../src/index.js';

describe('dequantize', () => {
  it('every level of 8-bit data comes back exactly, from outputs strictly inside (0, 1), and logit keeps them finite', () => {
    setGlobalSeed(2);
    const flow = inn.input([256]).dequantize().build();
    const levels = tf.tidy(() => tf.tile(tf.expandDims(tf.range(0, 256), 0), [200, 1]));
    const { out, logDet } = flow.forward(levels);
    const y = out.dataSync();
    expect(Math.min(...y)).toBeGreaterThan(0);
    expect(Math.max(...y)).toBeLessThan(1);
    expect(Array.from(logDet.dataSync()).every((v) => Math.abs(v + 256 * Math.log(256)) < 1e-3)).toBe(true);
    const back = flow.inverse(out);
    expect(Array.from(back.out.dataSync())).toEqual(Array.from(levels.dataSync()));
    const logit = tf.tidy(() => tf.log(tf.div(out, tf.sub(1, out))));
    expect(logit.dataSync().every(Number.isFinite)).toBe(true);
    tf.dispose([levels, out, logDet, back.out, back.logDet, logit]);
    flow.dispose();
  });

  it("the noise's extremes δ and 1 − δ still invert exactly (float32)", () => {
    for (const levels of [2, 256, 1000, 65536]) {
      const delta = levels * 2 ** -22;
      const x = tf.tensor1d([0, levels - 1, levels - 1, 0]);
      const u = tf.tensor1d([delta, 1 - delta, delta, 1 - delta]);
      const y = tf.div(tf.add(x, u), levels);
      const flow = inn.input([4]).dequantize({ levels }).build();
      const back = flow.inverse(tf.reshape(y, [1, 4]));
      expect(Array.from(back.out.dataSync()), `levels ${levels}`).toEqual([0, levels - 1, levels - 1, 0]);
      expect(Array.from(y.dataSync()).every((v) => v > 0 && v < 1), `levels ${levels}`).toBe(true);
      tf.dispose([x, u, y, back.out, back.logDet]);
      flow.dispose();
    }
  });

  it('noise: false adds ½; the noise follows setGlobalSeed and changes between calls', () => {
    const plain = inn.input([3]).dequantize({ levels: 4, noise: false }).build();
    const x = tf.tensor2d([[0, 1, 3]]);
    const centre = plain.forward(x);
    Array.from(centre.out.dataSync()).forEach((v, i) => expect(v).toBeCloseTo([0.5, 1.5, 3.5][i] / 4, 6));
    expect(centre.logDet.dataSync()[0]).toBeCloseTo(-3 * Math.log(4), 5);

    const noisy = inn.input([3]).dequantize({ levels: 4 }).build();
    setGlobalSeed(9);
    const a = noisy.forward(x).out;
    const b = noisy.forward(x).out;
    setGlobalSeed(9);
    const c = noisy.forward(x).out;
    expect(Array.from(c.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(Array.from(b.dataSync())).not.toEqual(Array.from(a.dataSync()));
    tf.dispose([x, centre.out, centre.logDet, a, b, c]);
    plain.dispose();
    noisy.dispose();
  });

  it('refuses levels that are not a whole number from 2 to 2^20, and a non-boolean noise', () => {
    for (const levels of [1, 2.5, 0, 2 ** 21, Number.NaN]) expect(() => inn.input([3]).dequantize({ levels }).build(), String(levels)).toThrow(ValidationError);
    // Cast: a JavaScript caller can pass anything.
    expect(() => inn.input([3]).dequantize({ noise: 'no' as unknown as boolean }).build()).toThrow(/noise/);
  });
});

describe('logit', () => {
  it('matches its closed form, log-det included, and keeps 0 and 1 finite', () => {
    const alpha = 0.05;
    const flow = inn.input([4]).logit().build();
    const xs = [0, 0.25, 0.5, 1];
    const x = tf.tensor2d([xs]);
    const { out, logDet } = flow.forward(x);
    const s = xs.map((v) => alpha + (1 - 2 * alpha) * v);
    Array.from(out.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(Math.log(s[i] / (1 - s[i])), 5));
    const expected = s.reduce((sum, si) => sum + Math.log(1 - 2 * alpha) - Math.log(si) - Math.log(1 - si), 0);
    expect(logDet.dataSync()[0]).toBeCloseTo(expected, 4);
    tf.dispose([x, out, logDet]);
    flow.dispose();
  });

  it('refuses alpha outside [0, ½)', () => {
    for (const alpha of [-0.1, 0.5, 1, Number.NaN]) expect(() => inn.input([3]).logit({ alpha }).build(), String(alpha)).toThrow(/option "alpha": expected a number >= 0 and < 0.5/);
  });
});
