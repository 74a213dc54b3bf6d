import * as tf from '@tensorflow/tfjs';
import { inn } from '../../src/index.js';
import type { ModuleCase } from '../helpers/module-case.js';

/**
 * Integer pixel values in {0, …, levels−1}: the inverse of dequantization
 * is exact only for them.
 */
const pixels = (levels: number) => (shape: number[]) => tf.tidy(() => tf.floor(tf.randomUniform(shape, 0, levels)));

/** Values in [0, 1], the logit transform's domain (the ends included: α keeps them finite). */
const unit = (shape: number[]) => tf.randomUniform(shape, 0, 1);

export const cases: ModuleCase[] = [
  // noise: false (u = ½) is deterministic, so the autodiff Jacobian sees the same map as the log-det.
  { name: 'UniformDequantization 8-bit image, no noise', input: [3, 2, 4], outputs: [[3, 2, 4]], sample: pixels(256), build: () => inn.input([3, 2, 4]).dequantize({ noise: false }).build() },
  // With noise, u does not depend on x: the Jacobian is still I/L and the inverse still exact.
  { name: 'UniformDequantization 5 levels, noisy', input: [6], outputs: [[6]], sample: pixels(5), drawsNoise: true, build: () => inn.input([6]).dequantize({ levels: 5 }).build() },
  { name: 'LogitTransform vector', input: [5], outputs: [[5]], sample: unit, build: () => inn.input([5]).logit().build() },
  { name: 'LogitTransform image, α = 0.2', input: [2, 3, 2], outputs: [[2, 3, 2]], sample: unit, build: () => inn.input([2, 3, 2]).logit({ alpha: 0.2 }).build() },
  {
    name: 'dequantize then logit (RealNVP preprocessing)',
    input: [1, 2, 3],
    outputs: [[1, 2, 3]],
    sample: pixels(256),
    build: () => inn.input([1, 2, 3]).dequantize({ noise: false }).logit().build(),
  },
];
