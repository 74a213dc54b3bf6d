/**
 * The density comparison's pieces (docs/density.md): the 2-D data sets are
 * what they claim, and every flow family, trained on every data set,
 * has a density whose exp(log p) integrates to 1 within 1% on a grid.
 */
import { describe, expect, it } from 'vitest';
import { setGlobalSeed } from '../src/index.js';
import { datasets2d, families2d, runDensity } from '../src/cli/density-compare.js';
import { makeCheckerboard, makeEightGaussians } from '../src/cli/datasets/toy2d.js';

describe('2-D data sets', () => {
  it('eight Gaussians: about an eighth of the points near each of the eight centres at radius 2', () => {
    const points = makeEightGaussians(8000, 1);
    const counts = Array(8).fill(0);
    for (let i = 0; i < points.length; i += 2) {
      const [x, y] = [points[i], points[i + 1]];
      const k = ((Math.round(Math.atan2(y, x) / (Math.PI / 4)) % 8) + 8) % 8;
      expect(Math.hypot(x - 2 * Math.cos((k * Math.PI) / 4), y - 2 * Math.sin((k * Math.PI) / 4))).toBeLessThan(1.2);
      counts[k]++;
    }
    counts.forEach((c) => expect(c / 4000).toBeCloseTo(0.25, 1));
  });

  it('checkerboard: every point on a dark square of the 4 × 4 board on [−4, 4]², all eight squares used', () => {
    const points = makeCheckerboard(8000, 2);
    const squares = new Set<string>();
    for (let i = 0; i < points.length; i += 2) {
      const [cx, cy] = [Math.floor(points[i] / 2), Math.floor(points[i + 1] / 2)];
      expect(Math.abs(points[i])).toBeLessThanOrEqual(4);
      expect(Math.abs(points[i + 1])).toBeLessThanOrEqual(4);
      expect(((cx + cy) % 2 + 2) % 2).toBe(0);
      squares.add(`${cx},${cy}`);
    }
    expect(squares.size).toBe(8);
  });
});

describe('every trained 2-D model is a density', () => {
  for (const dataset of datasets2d) {
    for (const family of families2d) {
      it(`${family.name} on ${dataset.name}: exp(log p) integrates to 1 within 1%`, () => {
        setGlobalSeed(1);
        const run = runDensity(dataset, family, { steps: 40, hidden: 16, seed: 1, grid: 300, range: 10 });
        expect(Number.isFinite(run.nll)).toBe(true);
        expect(run.mass).toBeGreaterThan(0.99);
        expect(run.mass).toBeLessThan(1.01);
      });
    }
  }
});
