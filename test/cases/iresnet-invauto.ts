/**
 * Module-table rows for IResNetLayer, the exactly invertible InvAuto
 * activations, and GaussianMixtureModel.
 *
 * - IResNetLayer rows use `exactLogDet` (so the autodiff check tests a real
 *   log-det, not an estimate) and `spectralNorm: 'forward'` (the table
 *   perturbs every weight by N(0, 0.3²), which would leave FrEIA-style
 *   'manual' weights non-contractive and the fixed-point inverse divergent).
 *   The stochastic estimate cannot join the table: FrEIA's reverse estimate
 *   is taken at z with fresh probes, so it is not minus the forward one; it
 *   is tested in test/iresnet.test.ts.
 * - InvAutoFC and InvAutoConv2D are not invertible (their inverse is the
 *   adjoint), so they are not here: test/inv-auto.test.ts tests what FrEIA
 *   promises of them.
 */
import { inn } from '../../src/index.js';
import type { ModuleCase } from '../helpers/module-case.js';

export const cases: ModuleCase[] = [
  { name: 'IResNet fc exact', input: [5], outputs: [[5]], build: () => inn.input([5]).iresnet({ exactLogDet: true, spectralNorm: 'forward', internalSize: 12 }).build() },
  {
    name: 'IResNet fc exact, 2 internal layers, norm 0.95',
    input: [3],
    outputs: [[3]],
    build: () => inn.input([3]).iresnet({ exactLogDet: true, spectralNorm: 'forward', internalSize: 8, nInternalLayers: 2, spectralNormMax: 0.95, fixedPointIterations: 80 }).build(),
  },
  { name: 'IResNet fc exact, no internal layer', input: [4], outputs: [[4]], build: () => inn.input([4]).iresnet({ exactLogDet: true, spectralNorm: 'forward', nInternalLayers: 0 }).build() },
  { name: 'IResNet conv exact', input: [2, 3, 3], outputs: [[2, 3, 3]], build: () => inn.input([2, 3, 3]).iresnet({ exactLogDet: true, spectralNorm: 'forward', internalSize: 4 }).build() },

  { name: 'InvAutoAct fc odd', input: [5], outputs: [[5]], build: () => inn.input([5]).invAutoAct().build() },
  { name: 'InvAutoAct image slopeInit 1.5', input: [3, 4, 4], outputs: [[3, 4, 4]], build: () => inn.input([3, 4, 4]).invAutoAct({ slopeInit: 1.5 }).build() },
  { name: 'InvAutoAct not learnable', input: [4], outputs: [[4]], build: () => inn.input([4]).invAutoAct({ slopeInit: 3, learnable: false }).build() },
  { name: 'InvAutoActFixed', input: [3, 2, 2], outputs: [[3, 2, 2]], build: () => inn.input([3, 2, 2]).invAutoActFixed().build() },
  { name: 'InvAutoActTwoSided fc', input: [5], outputs: [[5]], build: () => inn.input([5]).invAutoActTwoSided().build() },
  { name: 'InvAutoActTwoSided image', input: [2, 3, 3], outputs: [[2, 3, 3]], build: () => inn.input([2, 3, 3]).invAutoActTwoSided({ initPos: 3, initNeg: 0.3 }).build() },

  {
    name: 'GaussianMixture seeded components',
    input: [3],
    conditions: [[4], [4, 3], [4, 6]],
    outputs: [[3]],
    build: () => inn.input([3]).condition([4]).condition([4, 3]).condition([4, 6]).gaussianMixture({ cond: [0, 1, 2], component: { seed: 5 } }).build(),
  },
  {
    name: 'GaussianMixture all components',
    input: [2, 4],
    conditions: [[2], [2, 4], [2, 10]],
    outputs: [[2, 4]],
    build: () => inn.input([2, 4]).condition([2]).condition([2, 4]).condition([2, 10]).gaussianMixture({ cond: [0, 1, 2] }).build(),
  },
  {
    name: 'GaussianMixture one component',
    input: [2],
    conditions: [[1], [1, 2], [1, 3]],
    outputs: [[2]],
    build: () => inn.input([2]).condition([1]).condition([1, 2]).condition([1, 3]).gaussianMixture({ cond: [0, 1, 2], component: { seed: 1 } }).build(),
  },
];
