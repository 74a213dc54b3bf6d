/**
 * Module-table rows for RationalQuadraticSpline, LinearSpline and
 * ElementwiseRationalQuadraticSpline. Inputs are N(0, 3²), so with the default
 * domain [-3, 3] about a third of every batch lies in the affine (or identity)
 * tails and the rest inside the splines' bins: both branches, and the
 * switch between them, go through the inverse and autodiff checks. Odd channel
 * counts exercise the half-to-even split; images exercise per-pixel parameters.
 */
import * as tf from '@tensorflow/tfjs';
import { inn, subnets, type Subnet, type SubnetFactory, type SubnetKind } from '../../src/index.js';
import type { ModuleCase } from '../helpers/module-case.js';

/**
 * A built-in subnet with its output scaled by `gain`. The table perturbs every
 * weight by N(0, 0.3²); fed N(0, 3²) inputs, a plain subnet then emits raw
 * spline parameters of ±20 or more: bins of width e⁻²⁰ and knot derivatives
 * of 1e-9, where a float32 inverse legitimately loses several digits (FrEIA's
 * would too). Damping keeps the splines strongly non-linear but well
 * conditioned, so the 1e-4 inverse check tests the algebra, not round-off.
 */
function damped<K extends SubnetKind>(factory: SubnetFactory<K>, gain: number): SubnetFactory<K> {
  return (cIn, cOut) => {
    // The built-in factories always return a Subnet (never a tfjs-layers model).
    const inner = factory(cIn, cOut) as Subnet;
    return { variables: inner.variables, apply: (x) => tf.tidy(() => tf.mul(inner.apply(x), gain)) };
  };
}

const mlp = damped(subnets.mlp({ hidden: 16 }), 0.2);
const conv3 = damped(subnets.conv({ hidden: 8, kernel: 3 }), 0.1);
const conv1 = damped(subnets.conv({ hidden: 8, kernel: 1 }), 0.2);

/**
 * Inside and outside the default spline domain [-3, 3]. Seeded: a linear
 * spline's derivative jumps at its knots, so a point within rounding of a
 * knot may take the other bin's slope when recomputed (memory: 'invert'),
 * and unseeded inputs made that happen about once in a few runs.
 */
const wide = (shape: number[]) => tf.tidy(() => tf.mul(tf.randomNormal(shape, 0, 1, 'float32', 7), 3));

export const cases: ModuleCase[] = [
  // ---- RationalQuadraticSpline (coupling) ----
  { name: 'RQ spline fc odd', input: [7], outputs: [[7]], sample: wide, build: () => inn.input([7]).rqSpline({ subnet: mlp }).build() },
  {
    name: 'RQ spline conditional splitLen 2',
    input: [5],
    conditions: [[3], [2]],
    outputs: [[5]],
    sample: wide,
    build: () => inn.input([5]).condition([3]).condition([2]).rqSpline({ subnet: mlp, cond: [1, 0], splitLen: 2 }).build(),
  },
  {
    name: 'RQ spline identityTails domainClamping',
    input: [5],
    outputs: [[5]],
    sample: wide,
    build: () => inn.input([5]).rqSpline({ subnet: mlp, identityTails: true, domainClamping: 4, bins: 6 }).build(),
  },
  {
    name: 'RQ spline custom domain, minBinSizes, domainClamping, splitLen 0.3',
    input: [6],
    outputs: [[6]],
    sample: wide,
    build: () => inn.input([6]).rqSpline({ subnet: mlp, bins: 4, minBinSizes: [0.3, 0.05], defaultDomain: [-2, 3, -4, 1], domainClamping: 3, splitLen: 0.3 }).build(),
  },
  { name: 'RQ spline one bin', input: [3], outputs: [[3]], sample: wide, build: () => inn.input([3]).rqSpline({ subnet: mlp, bins: 1 }).build() },
  { name: 'RQ spline conv odd', input: [3, 4, 4], outputs: [[3, 4, 4]], sample: wide, build: () => inn.input([3, 4, 4]).rqSpline({ subnet: conv3, bins: 5 }).build() },
  {
    name: 'RQ spline conv conditional',
    input: [2, 3, 3],
    conditions: [[2, 3, 3]],
    outputs: [[2, 3, 3]],
    sample: wide,
    build: () => inn.input([2, 3, 3]).condition([2, 3, 3]).rqSpline({ subnet: conv1, cond: 0, bins: 4 }).build(),
  },

  // ---- LinearSpline (coupling) ----
  { name: 'linear spline fc odd', input: [7], outputs: [[7]], sample: wide, build: () => inn.input([7]).linearSpline({ subnet: mlp }).build() },
  {
    name: 'linear spline conditional, identityTails, domainClamping',
    input: [5],
    conditions: [[3]],
    outputs: [[5]],
    sample: wide,
    build: () => inn.input([5]).condition([3]).linearSpline({ subnet: mlp, cond: 0, identityTails: true, domainClamping: 4, bins: 6 }).build(),
  },
  {
    name: 'linear spline custom domain, one bin',
    input: [4],
    outputs: [[4]],
    sample: wide,
    build: () => inn.input([4]).linearSpline({ subnet: mlp, bins: 1, defaultDomain: [-2, 3, -4, 1], splitLen: 0.25 }).build(),
  },
  { name: 'linear spline conv', input: [3, 4, 4], outputs: [[3, 4, 4]], sample: wide, build: () => inn.input([3, 4, 4]).linearSpline({ subnet: conv3, bins: 5 }).build() },

  // ---- ElementwiseRationalQuadraticSpline ----
  { name: 'Elementwise RQ spline odd', input: [5], outputs: [[5]], sample: wide, build: () => inn.input([5]).elementwiseRqSpline().build() },
  {
    name: 'Elementwise RQ spline image (per-pixel parameters)',
    input: [3, 2, 2],
    outputs: [[3, 2, 2]],
    sample: wide,
    build: () => inn.input([3, 2, 2]).elementwiseRqSpline({ bins: 5 }).build(),
  },
  {
    name: 'Elementwise RQ spline identityTails',
    input: [3],
    outputs: [[3]],
    sample: wide,
    build: () => inn.input([3]).elementwiseRqSpline({ identityTails: true, domainClamping: 5, bins: 7 }).build(),
  },
  {
    name: 'Elementwise RQ spline conditional odd',
    input: [5],
    conditions: [[2], [3]],
    outputs: [[5]],
    sample: wide,
    build: () => inn.input([5]).condition([2]).condition([3]).elementwiseRqSpline({ subnet: mlp, cond: [1, 0], defaultDomain: [-2, 2, -3, 3] }).build(),
  },
  {
    name: 'Elementwise RQ spline conv conditional',
    input: [3, 3, 3],
    conditions: [[2, 3, 3]],
    outputs: [[3, 3, 3]],
    sample: wide,
    build: () => inn.input([3, 3, 3]).condition([2, 3, 3]).elementwiseRqSpline({ subnet: conv3, cond: 0, bins: 3 }).build(),
  },
];
