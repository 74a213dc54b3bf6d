/**
 * A small seeded random source for the things that must be reproducible
 * from a seed: permutations, random rotations, initial weights.
 */
import * as tf from '@tensorflow/tfjs';

/** A uniform [0, 1) generator. */
export type Rng = () => number;

/** Mulberry32: 32-bit state, fast, good enough for initialisation and shuffles. */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A generator from a seed, or from `Math.random` when no seed is given. */
export function rngFrom(seed?: number): Rng {
  return seed === undefined ? Math.random : mulberry32(seed);
}

/** One standard normal draw (Box-Muller). */
export function gaussian(rng: Rng): number {
  // 1 - u lies in (0, 1], so the log never sees 0; the second value of the
  // pair is dropped so that no hidden state sits beside `rng`.
  const u = 1 - rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** A float32 tensor of `U(−bound, bound)` draws (PyTorch's default layer initialisation), from `rng`. */
export function uniformTensor(shape: number[], bound: number, rng: Rng): tf.Tensor {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = (2 * rng() - 1) * bound;
  return tf.tensor(values, shape);
}

/** A float32 tensor of `scale · N(0, 1)` draws, from `rng`. */
export function normalTensor(shape: number[], scale: number, rng: Rng): tf.Tensor {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = scale * gaussian(rng);
  return tf.tensor(values, shape);
}

/** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
export function randomPermutation(n: number, rng: Rng): number[] {
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  return perm;
}

/** The inverse of a permutation: `inv[perm[i]] = i`. */
export function invertPermutation(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

let sharedRng: Rng = Math.random;

/**
 * Seeds the generator that initialises weights, permutations and rotations
 * when a module is given no seed of its own, so that a whole run (the demo's
 * `--seed`) is reproducible.
 *
 * @example
 * ```ts
 * import { inn, subnets, setGlobalSeed } from 'freia-ts';
 * setGlobalSeed(42); // the same permutations and initial weights on every run
 * const flow = inn.input([4]).glow({ subnet: subnets.mlp({ hidden: 32 }) }).permuteRandom().build();
 * ```
 *
 * @group Training
 */
export function setGlobalSeed(seed: number): void {
  sharedRng = mulberry32(seed);
}

/** The shared generator (see {@link setGlobalSeed}). */
export function globalRng(): Rng {
  return sharedRng;
}
