/**
 * The "two moons" toy data set and the small seeded RNG it needs.
 *
 * The geometry follows scikit-learn's `make_moons`, so that results and
 * pictures can be compared with the many Python normalizing-flow examples
 * that use it. The RNG is local rather than `Math.random` because demos and
 * tests must be reproducible from a seed.
 *
 * @module
 */
import { gaussian, mulberry32 } from '../../math/rng.js';

/** Options for {@link makeMoons}. */
export interface MoonsOptions {
  /** Standard deviation of the Gaussian noise added to each coordinate (default 0). */
  noise?: number;
  /** Seed for shuffling and noise; omitted means a fresh random seed. */
  seed?: number;
}

/**
 * A fixed two-moons data set, as scikit-learn's `make_moons(shuffle=True)`:
 * `floor(n/2)` points on the outer moon `(cos t, sin t)` and the rest on the
 * inner moon `(1 - cos t, 1 - sin t - 0.5)`, with `t` evenly spaced over
 * [0, π] on each.
 *
 * The shuffle is drawn before the noise from the same RNG, so with the same
 * seed a noisy set lists its points in the same order as the noiseless one.
 * That keeps "which moon is this point from" recoverable in tests.
 *
 * @returns x,y interleaved, length `2n`.
 */
export function makeMoons(n: number, opts: MoonsOptions = {}): Float32Array {
  checkCount(n);
  const noise = opts.noise ?? 0;
  checkNoise(noise);
  const rng = mulberry32(opts.seed ?? Math.floor(Math.random() * 4294967296));

  const nOut = Math.floor(n / 2);
  const nIn = n - nOut;
  // Float64 while building so that the noise is added before the one
  // rounding to float32, not after.
  const xy = new Float64Array(2 * n);
  for (let i = 0; i < nOut; i++) {
    const t = linspaceAt(i, nOut);
    xy[2 * i] = Math.cos(t);
    xy[2 * i + 1] = Math.sin(t);
  }
  for (let i = 0; i < nIn; i++) {
    const t = linspaceAt(i, nIn);
    const k = nOut + i;
    xy[2 * k] = 1 - Math.cos(t);
    xy[2 * k + 1] = 1 - Math.sin(t) - 0.5;
  }

  // Fisher-Yates on point pairs.
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const x = xy[2 * i];
    const y = xy[2 * i + 1];
    xy[2 * i] = xy[2 * j];
    xy[2 * i + 1] = xy[2 * j + 1];
    xy[2 * j] = x;
    xy[2 * j + 1] = y;
  }

  if (noise > 0) {
    for (let i = 0; i < 2 * n; i++) xy[i] += noise * gaussian(rng);
  }
  return Float32Array.from(xy);
}

/**
 * A fresh random batch from the two-moons distribution, for training loops.
 *
 * Unlike {@link makeMoons}, `t` is uniform in [0, π] and each point picks
 * its moon by a fair coin: a training loop that re-used one linspace grid
 * every step would see the same x values each time and could overfit the
 * grid instead of learning the density.
 *
 * @returns x,y interleaved, length `2n`.
 */
export function sampleMoons(n: number, noise: number, rng: () => number): Float32Array {
  checkCount(n);
  checkNoise(noise);
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const outer = rng() < 0.5;
    const t = rng() * Math.PI;
    let x: number;
    let y: number;
    if (outer) {
      x = Math.cos(t);
      y = Math.sin(t);
    } else {
      x = 1 - Math.cos(t);
      y = 1 - Math.sin(t) - 0.5;
    }
    if (noise > 0) {
      x += noise * gaussian(rng);
      y += noise * gaussian(rng);
    }
    out[2 * i] = x;
    out[2 * i + 1] = y;
  }
  return out;
}

/** `numpy.linspace(0, π, count)[i]`; a single point sits at 0, as in numpy. */
function linspaceAt(i: number, count: number): number {
  return count > 1 ? (i * Math.PI) / (count - 1) : 0;
}

function checkCount(n: number): void {
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`moons: n must be an integer >= 0, got ${n}`);
  }
}

function checkNoise(noise: number): void {
  if (!Number.isFinite(noise) || noise < 0) {
    throw new RangeError(`moons: noise must be a finite number >= 0, got ${noise}`);
  }
}
