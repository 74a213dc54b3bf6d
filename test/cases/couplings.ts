/**
 * Module-table rows for GINCouplingBlock, AffineCouplingOneSided and
 * ConditionalAffineTransform: vectors and images, odd channel counts (the
 * half-to-even split), conditions, and every clamp activation; and FrEIA's
 * Inverse around couplings, in the chain and the graph builder.
 */
import { inn, subnets } from '../../src/index.js';
import type { ModuleCase } from '../helpers/module-case.js';

const mlp = subnets.mlp({ hidden: 16 });
const conv3 = subnets.conv({ hidden: 8, kernel: 3 });
const conv1 = subnets.conv({ hidden: 8, kernel: 1 });

export const cases: ModuleCase[] = [
  // GIN: log-det 0, which the autodiff check confirms only if every pixel's determinant is 1 overall.
  { name: 'GIN fc odd', input: [5], outputs: [[5]], build: () => inn.input([5]).gin({ subnet: mlp, clamp: 1.5 }).build() },
  { name: 'GIN fc TANH splitLen 0.7', input: [7], outputs: [[7]], build: () => inn.input([7]).gin({ subnet: mlp, clampActivation: 'TANH', splitLen: 0.7 }).build() },
  { name: 'GIN conditional SIGMOID', input: [4], conditions: [[3]], outputs: [[4]], build: () => inn.input([4]).condition([3]).gin({ subnet: mlp, cond: 0, clampActivation: 'SIGMOID' }).build() },
  { name: 'GIN conv odd', input: [3, 4, 4], outputs: [[3, 4, 4]], build: () => inn.input([3, 4, 4]).gin({ subnet: conv3, clamp: 2.5 }).build() },
  { name: 'GIN conv conditional TANH', input: [4, 4, 4], conditions: [[2, 4, 4]], outputs: [[4, 4, 4]], build: () => inn.input([4, 4, 4]).condition([2, 4, 4]).gin({ subnet: conv1, cond: 0, clampActivation: 'TANH' }).build() },

  { name: 'AffineCouplingOneSided fc odd', input: [7], outputs: [[7]], build: () => inn.input([7]).affineCouplingOneSided({ subnet: mlp }).build() },
  { name: 'AffineCouplingOneSided splitLen 1 TANH', input: [5], outputs: [[5]], build: () => inn.input([5]).affineCouplingOneSided({ subnet: mlp, splitLen: 1, clampActivation: 'TANH' }).build() },
  {
    name: 'AffineCouplingOneSided two conditions SIGMOID',
    input: [6],
    conditions: [[2], [3]],
    outputs: [[6]],
    build: () => inn.input([6]).condition([2]).condition([3]).affineCouplingOneSided({ subnet: mlp, cond: [1, 0], clampActivation: 'SIGMOID', clamp: 1.2 }).build(),
  },
  { name: 'AffineCouplingOneSided conv odd', input: [5, 4, 4], outputs: [[5, 4, 4]], build: () => inn.input([5, 4, 4]).affineCouplingOneSided({ subnet: conv3 }).build() },
  {
    name: 'AffineCouplingOneSided conv conditional',
    input: [4, 4, 4],
    conditions: [[1, 4, 4]],
    outputs: [[4, 4, 4]],
    build: () => inn.input([4, 4, 4]).condition([1, 4, 4]).affineCouplingOneSided({ subnet: conv1, cond: 0, clampActivation: 'TANH' }).build(),
  },

  { name: 'ConditionalAffine fc odd', input: [5], conditions: [[3]], outputs: [[5]], build: () => inn.input([5]).condition([3]).conditionalAffine({ subnet: mlp, cond: 0 }).build() },
  {
    name: 'ConditionalAffine two conditions TANH',
    input: [4],
    conditions: [[2], [3]],
    outputs: [[4]],
    build: () => inn.input([4]).condition([2]).condition([3]).conditionalAffine({ subnet: mlp, cond: [1, 0], clampActivation: 'TANH', clamp: 3 }).build(),
  },
  {
    name: 'ConditionalAffine conv SIGMOID',
    input: [3, 4, 4],
    conditions: [[2, 4, 4]],
    outputs: [[3, 4, 4]],
    build: () => inn.input([3, 4, 4]).condition([2, 4, 4]).conditionalAffine({ subnet: conv3, cond: 0, clampActivation: 'SIGMOID' }).build(),
  },

  // Inverse: the wrapped module's directions swapped; the table checks the swapped pair inverts and its log-det.
  { name: 'Inverse of GLOW fc odd', input: [5], outputs: [[5]], build: () => inn.input([5]).inverseOf('glow')({ subnet: mlp, clamp: 1.5 }).build() },
  { name: 'Inverse of a conditional RNVP', input: [4], conditions: [[3]], outputs: [[4]], build: () => inn.input([4]).condition([3]).inverseOf('rnvp')({ subnet: mlp, cond: 0 }).build() },
  { name: 'Inverse of AllInOne conv', input: [3, 4, 4], outputs: [[3, 4, 4]], build: () => inn.input([3, 4, 4]).inverseOf('allInOne')({ subnet: conv3, permuteSoft: true }).build() },
  {
    name: 'Inverse of ActNorm and a permutation, in a graph',
    input: [4],
    outputs: [[4]],
    build: () => {
      const g = inn.graph();
      const x = g.input([4]);
      return g.build({ outputs: [g.inverseOf('permuteRandom')(g.inverseOf('actNorm')(x), { seed: 3 })] });
    },
  },
];
