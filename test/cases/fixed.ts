import * as tf from '@tensorflow/tfjs';
import { inn } from '../../src/index.js';
import type { ModuleCase } from '../helpers/module-case.js';

/** A well-conditioned, non-symmetric `n × n` matrix (diagonally dominant), so that `M` and `Mᵀ` differ. */
const matrix = (n: number): number[][] =>
  Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1.5 - 0.2 * i : 0.4 * Math.sin(5 * i + 3 * j + 1))));

/**
 * σ's inverse needs (0, 1), which the table's round trip gives (it inverts
 * σ(x)); the inputs stay within ±3σ = ±4.5 so that 1 − σ(x) keeps enough
 * float32 digits for the 1e-4 round trip.
 */
const moderate = (shape: number[]) => tf.truncatedNormal(shape, 0, 1.5);

export const cases: ModuleCase[] = [
  { name: 'FixedLinearTransform with bias', input: [5], outputs: [[5]], build: () => inn.input([5]).fixedLinear({ M: matrix(5), b: [0.5, -1, 0.25, 2, -0.3] }).build() },
  { name: 'FixedLinearTransform without bias', input: [3], outputs: [[3]], build: () => inn.input([3]).fixedLinear({ M: [[0, 2, 0], [-1, 0, 0], [0.5, 0, 3]] }).build() },
  { name: 'Fixed1x1Conv odd channels', input: [3, 4, 2], outputs: [[3, 4, 2]], build: () => inn.input([3, 4, 2]).fixed1x1Conv({ M: matrix(3) }).build() },
  { name: 'InvertibleSigmoid vector', input: [6], outputs: [[6]], sample: moderate, build: () => inn.input([6]).invertibleSigmoid().build() },
  { name: 'InvertibleSigmoid image', input: [3, 2, 4], outputs: [[3, 2, 4]], sample: moderate, build: () => inn.input([3, 2, 4]).invertibleSigmoid().build() },
  { name: 'LearnedElementwiseScaling vector', input: [5], outputs: [[5]], build: () => inn.input([5]).learnedElementwiseScaling({ initScale: 0.5 }).build() },
  { name: 'LearnedElementwiseScaling image', input: [3, 2, 4], outputs: [[3, 2, 4]], build: () => inn.input([3, 2, 4]).learnedElementwiseScaling().build() },
  { name: 'OrthogonalTransform (perturbed weights stay orthogonal)', input: [5], outputs: [[5]], build: () => inn.input([5]).orthogonal({ clamp: 2 }).build() },
  { name: 'OrthogonalTransform defaults', input: [2], outputs: [[2]], build: () => inn.input([2]).orthogonal({ correctionInterval: 8 }).build() },
  { name: 'HouseholderPerm learned', input: [5], outputs: [[5]], build: () => inn.input([5]).householderPerm({ nReflections: 3 }).build() },
  { name: 'HouseholderPerm one reflection', input: [4], outputs: [[4]], build: () => inn.input([4]).householderPerm().build() },
  { name: 'HouseholderPerm fixed', input: [4], outputs: [[4]], build: () => inn.input([4]).householderPerm({ nReflections: 2, fixed: true }).build() },
  {
    name: 'HouseholderPerm conditional',
    input: [3],
    conditions: [[3, 2]],
    outputs: [[3]],
    build: () => inn.input([3]).condition([3, 2]).householderPerm({ nReflections: 2, cond: 0 }).build(),
  },
  { name: 'InvertibleConv1x1LU vector', input: [5], outputs: [[5]], build: () => inn.input([5]).conv1x1LU({ seed: 3 }).build() },
  { name: 'InvertibleConv1x1LU image', input: [3, 2, 4], outputs: [[3, 2, 4]], build: () => inn.input([3, 2, 4]).conv1x1LU().build() },
  {
    name: 'fixed family in one chain',
    input: [4],
    outputs: [[4]],
    build: () =>
      inn
        .input([4])
        .fixedLinear({ M: matrix(4), b: [0.1, 0.2, 0.3, 0.4] })
        .orthogonal()
        .householderPerm({ nReflections: 2 })
        .conv1x1LU({ seed: 1 })
        .learnedElementwiseScaling({ initScale: 0.8 })
        .build(),
  },
];
