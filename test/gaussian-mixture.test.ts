/**
 * GaussianMixtureModel against its closed-form density: for a mixture given
 * by weights, means and covariance matrices, the model's log-likelihood
 * (latent codes and log-dets per component, combined as FrEIA's NLL does)
 * equals the mixture density computed independently in float64 from the
 * covariances; plus the component choice, sampling covariance, invertibility
 * and the wiring errors.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { FreiaError, GaussianMixtureModel, ShapeMismatchError, inn, setGlobalSeed } from '../src/index.js';
import { inverse, matmul, slogdet, transpose, type Matrix } from '../src/math/linalg.js';
import { autodiffLogDet, maxAbsDiff } from './helpers/jacobian.js';

// D = 4 is the smallest size where FrEIA's row-by-row fill of U's upper triangle differs from column by column.
const D = 4;
const K = 3;
const T = (D * (D + 1)) / 2;
const weights = [0.2, 0.5, 0.3];
const means: Matrix = [
  [0, 0, 0, 0],
  [1.5, -0.5, 0.8, 0.2],
  [-1, 2, -0.3, -0.7],
];
/** Covariances A Aᵀ + 0.3 I for fixed A: symmetric positive definite, with correlations. */
const covariances: Matrix[] = [
  [[1, 0.2, 0, 0.3], [0.3, 0.8, 0.1, -0.4], [-0.2, 0.4, 0.6, 0], [0.5, -0.1, 0.2, 0.7]],
  [[0.5, 0, 0, 0], [0.9, 0.4, 0, 0], [0.1, -0.6, 0.7, 0], [-0.3, 0.8, 0.2, 0.5]],
  [[1.2, -0.3, 0.5, 0.1], [0, 0.3, 0.2, -0.6], [0.4, 0.1, 0.9, 0.3], [0.2, 0.7, -0.5, 1]],
].map((a) => matmul(a, transpose(a)).map((row, i) => row.map((v, j) => v + (i === j ? 0.3 : 0))));

/** Lower Cholesky factor L of a symmetric positive-definite matrix (A = L Lᵀ), float64. */
function cholesky(a: Matrix): Matrix {
  const n = a.length;
  const l: Matrix = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i][j];
      for (let k = 0; k < j; k++) s -= l[i][k] * l[j][k];
      l[i][j] = i === j ? Math.sqrt(s) : s / l[j][j];
    }
  }
  return l;
}

/** FrEIA's parameter vector of one component: log of U's diagonal, then U's upper triangle row by row, where Σ⁻¹ = UᵀU. */
function entriesOf(covariance: Matrix): number[] {
  const u = transpose(cholesky(inverse(covariance)));
  const upper: number[] = [];
  for (let r = 0; r < D; r++) for (let c = r + 1; c < D; c++) upper.push(u[r][c]);
  return [...u.map((row, i) => Math.log(row[i])), ...upper];
}

/** The mixture density at x, from the covariances directly (float64). */
function mixtureDensity(x: number[]): number {
  return weights.reduce((sum, w, k) => {
    const diff = x.map((v, i) => v - means[k][i]);
    const solved = inverse(covariances[k]).map((row) => row.reduce((s, v, j) => s + v * diff[j], 0));
    const quadratic = diff.reduce((s, v, i) => s + v * solved[i], 0);
    const logDet = slogdet(covariances[k]).logAbsDet;
    return sum + w * Math.exp(-0.5 * quadratic - 0.5 * logDet - (D / 2) * Math.log(2 * Math.PI));
  }, 0);
}

const points: number[][] = [
  [0, 0, 0, 0],
  [1.5, -0.5, 0.8, 0.2],
  [-1, 2, -0.3, -0.7],
  [0.7, 0.4, -1.2, 0.3],
  [2.5, 1, 1, -1],
  [-2, -1, 0.5, 1.5],
];

/** The mixture parameters as condition tensors for a batch of `b` samples. */
function parameters(b: number): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const entries = covariances.map(entriesOf);
  const rep = <T>(row: T[]) => Array.from({ length: b }, () => row).flat(2) as number[];
  return [tf.tensor(rep(weights), [b, K]), tf.tensor(rep(means), [b, K, D]), tf.tensor(rep(entries), [b, K, T])];
}

function allComponentsFlow() {
  return inn.input([K, D]).condition([K]).condition([K, D]).condition([K, T]).gaussianMixture({ cond: [0, 1, 2], component: 'all' }).build();
}

describe('GaussianMixtureModel', () => {
  it('exp(log-likelihood) equals the mixture density computed from the covariances', () => {
    const flow = allComponentsFlow();
    const b = points.length;
    const [w, mu, entries] = parameters(b);
    const x = tf.tile(tf.tensor(points, [b, 1, D]), [1, K, 1]);
    const { out: z, logDet } = flow.forward(x, { c: [w, mu, entries] });
    const perComponent = GaussianMixtureModel.componentLogDets(entries);
    const logLikelihood = tf.sub(tf.logSumExp(tf.add(tf.sub(tf.log(w), tf.mul(tf.sum(tf.square(z as tf.Tensor), -1), 0.5)), perComponent), -1), (D / 2) * Math.log(2 * Math.PI));
    const ours = Array.from(tf.exp(logLikelihood).dataSync());
    points.forEach((p, i) => {
      const truth = mixtureDensity(p);
      expect(truth).toBeGreaterThan(1e-6);
      expect(Math.abs(ours[i] - truth) / truth, `point ${p}`).toBeLessThan(1e-4);
    });
    // FrEIA's NLL is −log p(x) without the constant; the upper bound is not below it.
    const nll = Array.from(GaussianMixtureModel.nllLoss(w, z as tf.Tensor, perComponent).dataSync());
    const bound = Array.from(GaussianMixtureModel.nllUpperBound(w, z as tf.Tensor, perComponent).dataSync());
    points.forEach((p, i) => {
      const reference = -Math.log(mixtureDensity(p)) - (D / 2) * Math.log(2 * Math.PI);
      expect(Math.abs(nll[i] - reference)).toBeLessThan(1e-4);
      expect(bound[i]).toBeGreaterThanOrEqual(nll[i] - 1e-4);
    });
    // The flow's log-det of the joint map is the sum of the components'.
    expect(maxAbsDiff(logDet, tf.sum(perComponent, 1))).toBeLessThan(1e-5);
    tf.dispose([w, mu, entries, x, z as tf.Tensor, logDet, perComponent, logLikelihood]);
    flow.dispose();
  });

  it('one component per sample (index condition) gives that component’s z and log-det, and inverts', () => {
    const all = allComponentsFlow();
    const one = inn.input([D]).condition([K]).condition([K, D]).condition([K, T]).condition([1]).gaussianMixture({ cond: [0, 1, 2, 3] }).build();
    const b = points.length;
    const [w, mu, entries] = parameters(b);
    const x = tf.tensor(points, [b, D]);
    const both = all.forward(tf.tile(tf.expandDims(x, 1), [1, K, 1]), { c: [w, mu, entries] });
    const perComponent = GaussianMixtureModel.componentLogDets(entries);
    for (let k = 0; k < K; k++) {
      const index = tf.fill([b, 1], k);
      const c = [w, mu, entries, index];
      const fwd = one.forward(x, { c });
      const expectedZ = tf.squeeze(tf.slice(both.out as tf.Tensor, [0, k, 0], [-1, 1, -1]), [1]);
      expect(maxAbsDiff(fwd.out as tf.Tensor, expectedZ)).toBeLessThan(1e-5);
      expect(maxAbsDiff(fwd.logDet, tf.squeeze(tf.slice(perComponent, [0, k], [-1, 1]), [1]))).toBeLessThan(1e-5);
      const truth = autodiffLogDet(one, x, c);
      Array.from(fwd.logDet.dataSync()).forEach((v, i) => expect(Math.abs(v - truth[i])).toBeLessThan(1e-4));
      const inv = one.inverse(fwd.out as tf.Tensor, { c });
      expect(maxAbsDiff(inv.out as tf.Tensor, x)).toBeLessThan(1e-4);
      expect(maxAbsDiff(inv.logDet, tf.neg(fwd.logDet))).toBeLessThan(1e-5);
      tf.dispose([index, fwd.out as tf.Tensor, fwd.logDet, expectedZ, inv.out as tf.Tensor, inv.logDet]);
    }
    tf.dispose([w, mu, entries, x, both.out as tf.Tensor, both.logDet, perComponent]);
    all.dispose();
    one.dispose();
  });

  it('the inverse maps the standard normal onto each component: x − μ_k = U_k⁻¹ z has covariance Σ_k', () => {
    const flow = allComponentsFlow();
    const [w, mu, entries] = parameters(D);
    // z = e_j in every component: the columns of U_k⁻¹.
    const z = tf.tile(tf.reshape(tf.eye(D), [D, 1, D]), [1, K, 1]);
    const x = Array.from((flow.inverse(z, { c: [w, mu, entries] }).out as tf.Tensor).dataSync());
    for (let k = 0; k < K; k++) {
      const columns: Matrix = Array.from({ length: D }, (_, j) => Array.from({ length: D }, (_, i) => x[(j * K + k) * D + i] - means[k][i]));
      const covariance = matmul(transpose(columns), columns);
      covariance.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - covariances[k][i][j])).toBeLessThan(1e-4)));
    }
    tf.dispose([w, mu, entries, z]);
    flow.dispose();
  });

  it('picks component k with probability w_k, reproducibly for a seed; normalizeWeights is a softmax', () => {
    const b = 20000;
    const w = tf.tile(tf.tensor2d([weights]), [b, 1]);
    const picks = Array.from(GaussianMixtureModel.pickMixtureComponent(w, 3).dataSync());
    weights.forEach((p, k) => expect(Math.abs(picks.filter((i) => i === k).length / b - p)).toBeLessThan(0.015));
    expect(Array.from(GaussianMixtureModel.pickMixtureComponent(w, 3).dataSync())).toEqual(picks);
    setGlobalSeed(1);
    const a = Array.from(GaussianMixtureModel.pickMixtureComponent(w).dataSync());
    setGlobalSeed(1);
    expect(Array.from(GaussianMixtureModel.pickMixtureComponent(w).dataSync())).toEqual(a);
    const raw = tf.tensor2d([[1, 2, 3], [0, 0, 5]]);
    expect(maxAbsDiff(GaussianMixtureModel.normalizeWeights(raw), tf.softmax(raw))).toBeLessThan(1e-6);
    tf.dispose([w, raw]);
  });

  it('a seeded flow picks the same components forward and in reverse', () => {
    const flow = inn.input([D]).condition([K]).condition([K, D]).condition([K, T]).gaussianMixture({ cond: [0, 1, 2], component: { seed: 9 } }).build();
    const b = points.length;
    const [w, mu, entries] = parameters(b);
    const x = tf.tensor(points, [b, D]);
    const fwd = flow.forward(x, { c: [w, mu, entries] });
    const inv = flow.inverse(fwd.out as tf.Tensor, { c: [w, mu, entries] });
    expect(maxAbsDiff(inv.out as tf.Tensor, x)).toBeLessThan(1e-4);
    expect(maxAbsDiff(inv.logDet, tf.neg(fwd.logDet))).toBeLessThan(1e-6);
    tf.dispose([w, mu, entries, x, fwd.out as tf.Tensor, fwd.logDet, inv.out as tf.Tensor, inv.logDet]);
    flow.dispose();
  });

  it('checks the condition shapes and the component choice when the chain is built, and the index at run time', () => {
    expect(() => inn.input([D]).condition([K]).condition([K, D]).condition([K, 5]).gaussianMixture({ cond: [0, 1, 2], component: { seed: 1 } })).toThrow(ShapeMismatchError);
    expect(() => inn.input([D]).condition([K]).condition([K, D]).condition([K, T]).gaussianMixture({ cond: [0, 1, 2] })).toThrow(/component index condition/);
    expect(() => inn.input([D]).condition([K]).condition([K, D]).condition([K, T]).gaussianMixture({ cond: [0, 1, 2], component: 'all' })).toThrow(/one row per component/);
    expect(() => inn.input([K, D]).condition([K]).condition([K, D]).condition([K, T]).condition([1]).gaussianMixture({ cond: [0, 1, 2, 3], component: 'all' })).toThrow(ShapeMismatchError);
    const flow = inn.input([D]).condition([K]).condition([K, D]).condition([K, T]).condition([1]).gaussianMixture({ cond: [0, 1, 2, 3] }).build();
    const [w, mu, entries] = parameters(2);
    const x = tf.zeros([2, D]);
    const index = tf.tensor2d([[0], [3]]);
    expect(() => flow.forward(x, { c: [w, mu, entries, index] })).toThrow(FreiaError);
    tf.dispose([w, mu, entries, x, index]);
    flow.dispose();
  });
});
