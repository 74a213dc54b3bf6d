/**
 * The playground's 2-D data sets, each a sampler of fresh points (x,y
 * interleaved) on roughly [−4, 4]²: moons, circles, eight Gaussians, a
 * checkerboard, and the points a person drew, blurred by a little noise.
 * Moons, eight Gaussians and the checkerboard are the CLI's generators
 * (pure functions of a seeded RNG), scaled as `freia-ts density` scales them.
 */
import { gaussian, type Rng } from '../src/math/rng.js';
import { sampleMoons } from '../src/cli/datasets/moons.js';
import { makeCheckerboard, makeEightGaussians } from '../src/cli/datasets/toy2d.js';

/** The names in the data set menu. */
export type DatasetName = 'moons' | 'circles' | 'eight gaussians' | 'checkerboard' | 'drawn';

export const datasetNames: readonly DatasetName[] = ['moons', 'circles', 'eight gaussians', 'checkerboard', 'drawn'];

/** Half the side of the square every panel shows: [−range, range]². */
export const range = 4.5;

/** The noise around each drawn point (standard deviation, in data units). */
export const drawnNoise = 0.15;

/** `n` fresh points of `name`; `drawn` are the points of the drawing (there must be some). */
export function samplePoints(name: DatasetName, n: number, rng: Rng, drawn: readonly number[]): Float32Array {
  const seed = () => Math.floor(rng() * 2 ** 32);
  switch (name) {
    case 'moons':
      // Centred and doubled, as docs/density.md's moons.
      return sampleMoons(n, 0.05, rng).map((v, i) => (i % 2 === 0 ? (v - 0.5) * 2 : (v - 0.25) * 2));
    case 'circles':
      return sampleCircles(n, rng);
    case 'eight gaussians':
      return makeEightGaussians(n, seed());
    case 'checkerboard':
      return makeCheckerboard(n, seed());
    case 'drawn':
      return sampleDrawn(n, rng, drawn);
  }
}

/**
 * Two concentric circles (scikit-learn's `make_circles` with factor 0.5 and
 * noise 0.05, scaled by 3): radius 3 or 1.5, equally likely.
 */
export function sampleCircles(n: number, rng: Rng): Float32Array {
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const radius = rng() < 0.5 ? 3 : 1.5;
    const angle = rng() * 2 * Math.PI;
    out[2 * i] = radius * Math.cos(angle) + 0.15 * gaussian(rng);
    out[2 * i + 1] = radius * Math.sin(angle) + 0.15 * gaussian(rng);
  }
  return out;
}

/** A drawn point chosen at random, plus Gaussian noise of {@link drawnNoise}. */
export function sampleDrawn(n: number, rng: Rng, drawn: readonly number[]): Float32Array {
  const count = drawn.length / 2;
  if (count === 0) throw new Error('the drawn data set has no points yet: draw some');
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(rng() * count);
    out[2 * i] = drawn[2 * k] + drawnNoise * gaussian(rng);
    out[2 * i + 1] = drawn[2 * k + 1] + drawnNoise * gaussian(rng);
  }
  return out;
}
