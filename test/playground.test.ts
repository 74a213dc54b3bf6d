/**
 * The playground's pieces that need no browser (the page itself is driven in
 * Chromium by `npm run check:browser`): every block of its menu builds from
 * the builder code it shows, inverts and trains; every data set samples
 * finite points inside the panels.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { dist, train } from '../src/index.js';
import { mulberry32 } from '../src/math/rng.js';
import { blockNames, buildFlow, builderCode, flowStatement } from '../playground/flows.js';
import { datasetNames, range, samplePoints } from '../playground/datasets.js';

describe('playground flows', () => {
  it.each(blockNames)('%s: built from the code shown, inverts, has a finite density and trains a step', async (block) => {
    const settings = { block, depth: 2, hidden: 8 };
    expect(builderCode(settings, 1e-3, 256)).toContain(flowStatement(settings));
    expect(flowStatement(settings)).toContain(`.${block}({`);
    const flow = buildFlow(settings);
    try {
      expect(flow.inputShapes).toEqual([[2]]);
      const x = tf.randomNormal([16, 2]) as tf.Tensor2D;
      const error = tf.tidy(() => tf.max(tf.abs(tf.sub(flow.inverse(flow.forward(x).out).out as tf.Tensor, x))).dataSync()[0]);
      expect(error).toBeLessThan(1e-4);
      const logProb = tf.tidy(() => Array.from(dist.pullBack(flow).logProb(x).dataSync()));
      expect(logProb.every(Number.isFinite)).toBe(true);
      const history = await train.fitAsync(flow, { data: () => ({ x: tf.randomNormal([32, 2]) }), steps: 2, clipNorm: 5, progress: false });
      expect(history.loss.every(Number.isFinite)).toBe(true);
      x.dispose();
    } finally {
      flow.dispose();
    }
  });
});

describe('playground data sets', () => {
  it.each(datasetNames)('%s: finite points inside the panels', (name) => {
    const points = samplePoints(name, 2000, mulberry32(1), [0, 0, 1, 1]);
    expect(points.length).toBe(4000);
    const inside = points.filter((v) => Number.isFinite(v) && Math.abs(v) < range).length;
    expect(inside / points.length).toBeGreaterThan(0.99);
  });

  it('drawn: refused without points, near them with them', () => {
    expect(() => samplePoints('drawn', 10, mulberry32(1), [])).toThrow(/no points yet/);
    const points = samplePoints('drawn', 500, mulberry32(2), [2, -1]);
    for (let i = 0; i < points.length; i += 2) expect(Math.hypot(points[i] - 2, points[i + 1] + 1)).toBeLessThan(1);
  });
});
