/**
 * The small linear-algebra helpers (src/math/linalg.ts) against closed
 * forms: known determinants, A·A⁻¹ = I, triangular determinants as diagonal
 * products, substitution against a known solution, and the differentiable
 * tfjs versions against the float64 ones and against their known gradients.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  batchedLogAbsDet,
  tfBatchedSolveUpper,
  householderProduct,
  identity,
  inverse,
  lu,
  luFactors,
  matmul,
  randomRotation,
  slogdet,
  solveTriangular,
  tfOrthonormalRows,
  tfSolveTriangular,
  transpose,
  type Matrix,
} from '../src/math/linalg.js';
import { mulberry32 } from '../src/math/rng.js';

const maxDiff = (a: Matrix, b: Matrix) => Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - b[i][j]))));
const toMatrix = (t: tf.Tensor): Matrix => t.arraySync() as Matrix;

// det = 4(15−1) − 3(5−2) + 2(1−6) = 37
const a3: Matrix = [[4, 3, 2], [1, 3, 1], [2, 1, 5]];
const lower3: Matrix = [[2, 0, 0], [1, -3, 0], [4, -1, 0.5]];
const upper3: Matrix = [[-1, 2, 7], [0, 4, 1], [0, 0, 0.25]];

describe('float64 helpers', () => {
  it('slogdet gives known 3×3 determinants, with their signs', () => {
    expect(slogdet(a3).sign).toBe(1);
    expect(slogdet(a3).logAbsDet).toBeCloseTo(Math.log(37), 12);
    const swapped = [a3[1], a3[0], a3[2]];
    expect(slogdet(swapped)).toEqual({ sign: -1, logAbsDet: expect.closeTo(Math.log(37), 12) });
    // Rows 1 and 3 proportional: singular.
    expect(slogdet([[1, 2, 3], [0, 1, 4], [2, 4, 6]]).sign).toBe(0);
    // [[0, 1], [1, 0]] needs the pivoting: det −1.
    expect(slogdet([[0, 1], [1, 0]])).toEqual({ sign: -1, logAbsDet: 0 });
  });

  it('the determinant of a triangular matrix is the product of its diagonal', () => {
    expect(slogdet(lower3)).toEqual({ sign: -1, logAbsDet: expect.closeTo(Math.log(3), 12) }); // 2·(−3)·0.5
    expect(slogdet(upper3)).toEqual({ sign: -1, logAbsDet: expect.closeTo(Math.log(1), 12) }); // (−1)·4·0.25
  });

  it('A · inverse(A) = I, also where pivoting is needed', () => {
    expect(maxDiff(matmul(a3, inverse(a3)), identity(3))).toBeLessThan(1e-12);
    const needsPivot = [[0, 2, 1], [1, 0, 0], [3, 1, 0]];
    expect(maxDiff(matmul(needsPivot, inverse(needsPivot)), identity(3))).toBeLessThan(1e-12);
    expect(maxDiff(inverse([[2, 0], [0, 4]]), [[0.5, 0], [0, 0.25]])).toBe(0);
  });

  it('luFactors: A = P·L·U with P a permutation, L unit lower, U upper', () => {
    const a = [[0, 2, 1], [1, 0, 0], [3, 1, 0]];
    const { p, l, u } = luFactors(a);
    expect(maxDiff(matmul(p, matmul(l, u)), a)).toBeLessThan(1e-12);
    expect(p.every((row) => row.filter((v) => v === 1).length === 1 && row.every((v) => v === 0 || v === 1))).toBe(true);
    expect(transpose(p).every((row) => row.filter((v) => v === 1).length === 1)).toBe(true);
    l.forEach((row, i) => row.forEach((v, j) => expect(j > i ? v : j === i ? v - 1 : 0).toBe(0)));
    u.forEach((row, i) => row.forEach((v, j) => expect(j < i ? v : 0).toBe(0)));
    expect(lu(a).sign * u.reduce((s, row, i) => s * row[i], 1)).toBeCloseTo(1, 12); // det a = +1 (expand along column 3)
  });

  it('solveTriangular recovers a known solution, reading only its triangle', () => {
    const x: Matrix = [[1, -2], [0.5, 3], [-4, 0]];
    expect(maxDiff(solveTriangular(lower3, matmul(lower3, x), { lower: true }), x)).toBeLessThan(1e-12);
    expect(maxDiff(solveTriangular(upper3, matmul(upper3, x), { lower: false }), x)).toBeLessThan(1e-12);
    // Garbage in the other triangle, and on the diagonal with unitDiagonal, is never read.
    const unit = [[1, 0, 0], [2, 1, 0], [-1, 3, 1]];
    const noisy = [[9, 9, 9], [2, 9, 9], [-1, 3, 9]];
    expect(maxDiff(solveTriangular(noisy, matmul(unit, x), { lower: true, unitDiagonal: true }), x)).toBeLessThan(1e-12);
    expect(maxDiff(solveTriangular(lower3, identity(3), { lower: true }), inverse(lower3))).toBeLessThan(1e-12);
  });

  it('householderProduct: H(v) reflects v, fixes v⟂, and a product is orthogonal with det (−1)^k', () => {
    const v = [1, 2, 2];
    const h = householderProduct([v]);
    expect(maxDiff(matmul(h, [[1], [2], [2]]), [[-1], [-2], [-2]])).toBeLessThan(1e-12);
    expect(maxDiff(matmul(h, [[2], [-1], [0]]), [[2], [-1], [0]])).toBeLessThan(1e-12);
    const vs = [[1, 0.5, -1, 2], [0, 1, 1, 0.3], [2, -1, 0, 1]];
    const w = householderProduct(vs);
    expect(maxDiff(matmul(w, transpose(w)), identity(4))).toBeLessThan(1e-12);
    expect(slogdet(w).sign).toBe(-1);
    expect(maxDiff(w, matmul(householderProduct(vs.slice(0, 2)), householderProduct(vs.slice(2))))).toBeLessThan(1e-12);
  });

  it('randomRotation is orthogonal with determinant +1', () => {
    const q = randomRotation(5, mulberry32(11));
    expect(maxDiff(matmul(q, transpose(q)), identity(5))).toBeLessThan(1e-12);
    expect(slogdet(q)).toEqual({ sign: 1, logAbsDet: expect.closeTo(0, 10) });
  });
});

describe('differentiable tfjs helpers', () => {
  it('tfSolveTriangular agrees with the float64 solve, in both triangles', () => {
    const b: Matrix = [[1, 0], [2, -1], [0.5, 3]];
    const out = tf.tidy(() => ({
      lower: toMatrix(tfSolveTriangular(tf.tensor2d(lower3), tf.tensor2d(b), { lower: true })),
      upper: toMatrix(tfSolveTriangular(tf.tensor2d(upper3), tf.tensor2d(b), { lower: false })),
      unit: toMatrix(tfSolveTriangular(tf.tensor2d([[7, 8, 9], [2, 7, 8], [-1, 3, 7]]), tf.tensor2d(b), { lower: true, unitDiagonal: true })),
    }));
    expect(maxDiff(out.lower, solveTriangular(lower3, b, { lower: true }))).toBeLessThan(1e-5);
    expect(maxDiff(out.upper, solveTriangular(upper3, b, { lower: false }))).toBeLessThan(1e-4);
    expect(maxDiff(out.unit, solveTriangular([[1, 0, 0], [2, 1, 0], [-1, 3, 1]], b, { lower: true, unitDiagonal: true }))).toBeLessThan(1e-5);
  });

  it('tfSolveTriangular has the gradient of X = A⁻¹B: d Σ X / dB = A⁻ᵀ·1', () => {
    const before = tf.memory().numTensors;
    const grad = tf.tidy(() => {
      const a = tf.tensor2d(upper3);
      const g = tf.grad((b: tf.Tensor) => tf.sum(tfSolveTriangular(a, b as tf.Tensor2D, { lower: false })));
      return toMatrix(g(tf.ones([3, 2])));
    });
    const ones = [[1, 1], [1, 1], [1, 1]];
    expect(maxDiff(grad, matmul(transpose(inverse(upper3)), ones))).toBeLessThan(1e-4);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('tfSolveTriangular has the gradient of X = A⁻¹B in A: −A⁻ᵀ·1·Xᵀ on the triangle it reads, 0 elsewhere', () => {
    const b: Matrix = [[1, 0], [2, -1], [0.5, 3]];
    const grad = tf.tidy(() => {
      const g = tf.grad((a: tf.Tensor) => tf.sum(tfSolveTriangular(a as tf.Tensor2D, tf.tensor2d(b), { lower: true })));
      return toMatrix(g(tf.tensor2d(lower3)));
    });
    const x = solveTriangular(lower3, b, { lower: true });
    const full = matmul(matmul(transpose(inverse(lower3)), [[1, 1], [1, 1], [1, 1]]), transpose(x)).map((row) => row.map((v) => -v));
    expect(maxDiff(grad, full.map((row, i) => row.map((v, j) => (j <= i ? v : 0))))).toBeLessThan(1e-4);
  });

  it('tfOrthonormalRows: orthonormal rows, W = L·Q with L lower triangular (Gram-Schmidt), orthogonal input unchanged', () => {
    const w: Matrix = [[2, 1, 0], [1, 3, 1], [0, 1, 4]];
    const q = tf.tidy(() => toMatrix(tfOrthonormalRows(tf.tensor2d(w))));
    expect(maxDiff(matmul(q, transpose(q)), identity(3))).toBeLessThan(1e-6);
    const l = matmul(w, transpose(q)); // = L, since Q Qᵀ = I
    expect(Math.abs(l[0][1]) + Math.abs(l[0][2]) + Math.abs(l[1][2])).toBeLessThan(1e-5);
    expect(l.every((row, i) => row[i] > 0)).toBe(true);
    // First row: just normalised.
    expect(maxDiff([q[0]], [[2 / Math.sqrt(5), 1 / Math.sqrt(5), 0]])).toBeLessThan(1e-6);
    const rotation = randomRotation(4, mulberry32(5));
    const same = tf.tidy(() => toMatrix(tfOrthonormalRows(tf.tensor2d(rotation))));
    expect(maxDiff(same, rotation)).toBeLessThan(1e-6);
  });
});

describe('batchedLogAbsDet (differentiable, tensor ops)', () => {
  it('matches the float64 slogdet, including a matrix that needs pivoting', () => {
    const matrices = [
      [[0, 2, 1], [1, 0, 3], [4, 1, 0]], // a zero first pivot: needs a row swap
      [[2, -1, 0], [-1, 2, -1], [0, -1, 2]], // det 4
    ];
    const result = tf.tidy(() => Array.from(batchedLogAbsDet(tf.tensor3d(matrices)).dataSync()));
    matrices.forEach((m, i) => expect(result[i]).toBeCloseTo(slogdet(m).logAbsDet, 5));
    expect(result[1]).toBeCloseTo(Math.log(4), 5);
  });

  it('has the gradient of log|det A|, which is A⁻ᵀ', () => {
    const a = [[3, 1, 0.5], [0.2, 2, 0.3], [1, 0.4, 4]];
    const grad = tf.tidy(() => tf.grad((m: tf.Tensor) => tf.sum(batchedLogAbsDet(m)))(tf.tensor3d([a])).arraySync() as number[][][]);
    const inv = inverse(a);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(grad[0][i][j]).toBeCloseTo(inv[j][i], 4);
  });
});

describe('tfBatchedSolveUpper', () => {
  it('solves U x = z per sample by back substitution', () => {
    const u = [[[2, 1, -1], [0, 3, 2], [0, 0, 4]], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]];
    const x = [[1, -2, 0.5], [3, 4, 5]];
    const z = u.map((m, n) => m.map((row) => row.reduce((acc, v, j) => acc + v * x[n][j], 0)));
    const solved = tf.tidy(() => tfBatchedSolveUpper(tf.tensor3d(u), tf.tensor2d(z)).arraySync() as number[][]);
    solved.forEach((row, n) => row.forEach((v, j) => expect(v).toBeCloseTo(x[n][j], 5)));
  });
});
