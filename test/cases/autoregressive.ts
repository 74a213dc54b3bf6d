/**
 * Module-table rows for MAF, IAF and the autoregressive RQ spline: every
 * ordering, several hidden layers, conditions, and (for the spline) inputs
 * wide enough to reach the tails. Their inverses run the sequential
 * direction (D passes) for MAF and the spline, and the one-pass direction
 * for IAF; the table checks both directions either way. The spline rows
 * move their weights by N(0, 0.1²), not 0.3²: the MADE's raw outputs have
 * no subnet to damp them (see test/cases/splines.ts). At 0.3 some draws
 * give bins so narrow that the float32 inverse loses digits: over 30 draws,
 * the worst round trip was off by 0.31 at 0.3 and by 1.9e-6 at 0.1.
 */
import * as tf from '@tensorflow/tfjs';
import { inn } from '../../src/index.js';
import type { ModuleCase } from '../helpers/module-case.js';

const wide = (shape: number[]) => tf.tidy(() => tf.mul(tf.randomNormal(shape, 0, 1, 'float32', 17), 2.5));

export const cases: ModuleCase[] = [
  { name: 'MAF natural', input: [5], outputs: [[5]], build: () => inn.input([5]).maf({ hidden: 16 }).build() },
  { name: 'MAF reversed, three hidden layers, clamp 1', input: [4], outputs: [[4]], build: () => inn.input([4]).maf({ hidden: 12, layers: 3, order: 'reversed', clamp: 1 }).build() },
  { name: 'MAF random order, conditional', input: [6], conditions: [[3]], outputs: [[6]], build: () => inn.input([6]).condition([3]).maf({ hidden: 16, order: 'random', seed: 4, cond: 0 }).build() },
  { name: 'MAF one element', input: [1], conditions: [[2]], outputs: [[1]], build: () => inn.input([1]).condition([2]).maf({ hidden: 8, cond: 0 }).build() },
  { name: 'IAF natural', input: [5], outputs: [[5]], build: () => inn.input([5]).iaf({ hidden: 16 }).build() },
  { name: 'IAF random order, conditional', input: [4], conditions: [[2]], outputs: [[4]], build: () => inn.input([4]).condition([2]).iaf({ hidden: 16, order: 'random', seed: 9, cond: 0 }).build() },
  { name: 'AR spline natural', input: [4], outputs: [[4]], sample: wide, perturbation: 0.1, build: () => inn.input([4]).arSpline({ hidden: 16, bins: 5 }).build() },
  {
    name: 'AR spline random order, identity tails, conditional',
    input: [5],
    conditions: [[3]],
    outputs: [[5]],
    sample: wide,
    perturbation: 0.1,
    build: () => inn.input([5]).condition([3]).arSpline({ hidden: 16, bins: 4, order: 'random', seed: 2, identityTails: true, cond: 0 }).build(),
  },
];
