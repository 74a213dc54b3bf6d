/**
 * The density-estimation comparison of docs/density.md: each flow family
 * trained on each 2-D data set with the same budget (steps, batch, learning
 * rate, hidden width), then held-out NLL, training time, and the learnt
 * density on a grid (which must integrate to 1).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { inn, subnets, train, type AnyFlow } from '../index.js';
import { makeMoons } from './datasets/moons.js';
import { makeCheckerboard, makeEightGaussians } from './datasets/toy2d.js';

/** A 2-D data set: `n` points, x,y interleaved, from a seed. */
export interface Dataset2d {
  readonly name: string;
  readonly sample: (n: number, seed: number) => Float32Array;
}

export const datasets2d: readonly Dataset2d[] = [
  { name: 'moons', sample: (n, seed) => makeMoons(n, { noise: 0.05, seed }).map((v, i) => (i % 2 === 0 ? (v - 0.5) * 2 : (v - 0.25) * 2)) },
  { name: 'eight gaussians', sample: makeEightGaussians },
  { name: 'checkerboard', sample: makeCheckerboard },
];

/** A flow family on `[2]` with hidden width `hidden`. */
export interface Family2d {
  readonly name: string;
  readonly build: (hidden: number) => AnyFlow;
}

export const families2d: readonly Family2d[] = [
  { name: 'AllInOne couplings', build: (hidden) => inn.input([2]).repeat(8, (c) => c.allInOne({ subnet: subnets.mlp({ hidden }), permuteSoft: true })).build() },
  { name: 'RQ spline couplings', build: (hidden) => inn.input([2]).repeat(4, (c) => c.rqSpline({ subnet: subnets.mlp({ hidden }), bins: 8, defaultDomain: [-5, 5, -5, 5] }).permuteRandom()).build() },
  { name: 'MAF', build: (hidden) => inn.input([2]).repeat(8, (c, k) => c.maf({ hidden, order: k % 2 ? 'reversed' : 'natural' })).build() },
  { name: 'autoregressive NSF', build: (hidden) => inn.input([2]).repeat(4, (c, k) => c.arSpline({ hidden, bins: 8, defaultDomain: [-5, 5, -5, 5], order: k % 2 ? 'reversed' : 'natural' })).build() },
];

/** What one run gives. */
export interface DensityRun {
  readonly dataset: string;
  readonly family: string;
  /** Held-out NLL in nats per sample (10,000 fresh points). */
  readonly nll: number;
  readonly trainSeconds: number;
  /** ∫ exp(log p) over the grid. */
  readonly mass: number;
  /** The density on the grid (`n × n`, row 0 at the lowest y). */
  readonly density: Float32Array;
}

/** `exp(logProb)` of a flow (standard normal base) on an `n × n` grid over `[lo, hi]²`, in chunks; and its integral. */
export function densityOnGrid(flow: AnyFlow, n: number, lo: number, hi: number): { density: Float32Array; mass: number } {
  const step = (hi - lo) / n;
  const density = new Float32Array(n * n);
  const rowsPerChunk = Math.max(1, Math.floor(40_000 / n));
  for (let row = 0; row < n; row += rowsPerChunk) {
    const rows = Math.min(rowsPerChunk, n - row);
    const values = tf.tidy(() => {
      const xs = tf.add(tf.mul(tf.range(0, n), step), lo + step / 2);
      const ys = tf.add(tf.mul(tf.range(row, row + rows), step), lo + step / 2);
      const grid = tf.stack([tf.reshape(tf.tile(tf.expandDims(xs, 0), [rows, 1]), [-1]), tf.reshape(tf.tile(tf.expandDims(ys, 1), [1, n]), [-1])], 1);
      const { out, logDet } = flow.forward(grid);
      return tf.exp(tf.add(logDet, tf.sum(tf.sub(tf.mul(tf.square(out as tf.Tensor), -0.5), 0.5 * Math.log(2 * Math.PI)), 1))).dataSync();
    });
    density.set(values, row * n);
  }
  const mass = density.reduce((a, b) => a + b, 0) * step * step;
  return { density, mass };
}

/** Trains `family` on `dataset` for `steps` Adam steps (batch 256, learning rate 1e-3 with clipping at 5), then evaluates. */
export function runDensity(dataset: Dataset2d, family: Family2d, options: { steps: number; hidden: number; seed: number; grid?: number; range?: number }): DensityRun {
  const flow = family.build(options.hidden);
  try {
    let seed = options.seed * 1000;
    const batch = (n: number) => tf.tensor2d(dataset.sample(n, seed++), [n, 2]);
    const started = performance.now();
    train.fit(flow, { steps: options.steps, learningRate: 1e-3, clipNorm: 5, progress: false, data: () => ({ x: batch(256) }) });
    const trainSeconds = (performance.now() - started) / 1000;
    const heldOut = tf.tensor2d(dataset.sample(10_000, 999_999 + options.seed), [10_000, 2]);
    const nll = tf.tidy(() => train.nll(flow, heldOut).dataSync()[0]);
    heldOut.dispose();
    const range = options.range ?? 6;
    const { density, mass } = densityOnGrid(flow, options.grid ?? 240, -range, range);
    return { dataset: dataset.name, family: family.name, nll, trainSeconds, mass, density };
  } finally {
    flow.dispose();
  }
}

/** Points (x,y interleaved) counted on an `n × n` grid over `[−range, range]²`, row 0 at the lowest y. */
export function histogram2d(points: Float32Array, n: number, range: number): Float32Array {
  const counts = new Float32Array(n * n);
  for (let i = 0; i + 1 < points.length; i += 2) {
    const gx = Math.floor(((points[i] + range) / (2 * range)) * n);
    const gy = Math.floor(((points[i + 1] + range) / (2 * range)) * n);
    if (gx >= 0 && gx < n && gy >= 0 && gy < n) counts[gy * n + gx]++;
  }
  return counts;
}
