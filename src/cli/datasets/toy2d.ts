/**
 * Two-dimensional toy data sets of the flow literature (FFJORD, Neural
 * Spline Flows), seeded: eight Gaussians on a circle and a checkerboard.
 * Moons are in moons.ts.
 *
 * @module
 */
import { gaussian, mulberry32 } from '../../math/rng.js';

/**
 * Eight Gaussians of standard deviation `spread` (default 0.2) centred at
 * radius 2 on the directions `k · 45°`, equally likely; x,y interleaved.
 */
export function makeEightGaussians(n: number, seed: number, spread = 0.2): Float32Array {
  const rng = mulberry32(seed);
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const angle = (Math.floor(rng() * 8) * Math.PI) / 4;
    out[2 * i] = 2 * Math.cos(angle) + spread * gaussian(rng);
    out[2 * i + 1] = 2 * Math.sin(angle) + spread * gaussian(rng);
  }
  return out;
}

/**
 * A 4 × 4 checkerboard on [−4, 4]²: uniform on the eight dark squares (as
 * FFJORD's `checkerboard`, scaled by 2); x,y interleaved.
 */
export function makeCheckerboard(n: number, seed: number): Float32Array {
  const rng = mulberry32(seed);
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const x1 = rng() * 4 - 2;
    // Python's floor(x1) % 2 is 0 or 1 for negative x1 too.
    const x2 = rng() - Math.floor(rng() * 2) * 2 + (((Math.floor(x1) % 2) + 2) % 2);
    out[2 * i] = 2 * x1;
    out[2 * i + 1] = 2 * x2;
  }
  return out;
}
