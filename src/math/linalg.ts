/**
 * Dense float64 linear algebra on small square matrices, in plain JS.
 * TensorFlow.js has no determinant, inverse, QR or triangular solve; these run
 * once per module (initialisation, import) or in tests, never in a training
 * step. Matrices are row-major `number[][]`.
 *
 * The last section holds the few differentiable float32 TensorFlow.js
 * versions that modules need inside a forward pass (a triangular solve, a
 * row-wise Gram-Schmidt): loops of small ops, meant for channel counts, not
 * for large matrices.
 */
import * as tf from '@tensorflow/tfjs';
import { gaussian, type Rng } from './rng.js';

export type Matrix = number[][];

export function identity(n: number): Matrix {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
}

export function transpose(a: Matrix): Matrix {
  return a[0].map((_, j) => a.map((row) => row[j]));
}

export function matmul(a: Matrix, b: Matrix): Matrix {
  return a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
}

/** LU decomposition with partial pivoting: `P A = L U`, packed in one matrix. */
export function lu(a: Matrix): { lu: Matrix; perm: number[]; sign: number } {
  const n = a.length;
  const m = a.map((row) => [...row]);
  const perm = Array.from({ length: n }, (_, i) => i);
  let sign = 1;
  for (let k = 0; k < n; k++) {
    let pivot = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i][k]) > Math.abs(m[pivot][k])) pivot = i;
    if (pivot !== k) {
      [m[k], m[pivot]] = [m[pivot], m[k]];
      [perm[k], perm[pivot]] = [perm[pivot], perm[k]];
      sign = -sign;
    }
    if (m[k][k] === 0) continue;
    for (let i = k + 1; i < n; i++) {
      const f = (m[i][k] /= m[k][k]);
      for (let j = k + 1; j < n; j++) m[i][j] -= f * m[k][j];
    }
  }
  return { lu: m, perm, sign };
}

/** `log |det A|` and the sign of `det A` (0 when singular). */
export function slogdet(a: Matrix): { sign: number; logAbsDet: number } {
  const { lu: m, sign } = lu(a);
  let logAbsDet = 0;
  let s = sign;
  for (let i = 0; i < m.length; i++) {
    if (m[i][i] === 0) return { sign: 0, logAbsDet: -Infinity };
    logAbsDet += Math.log(Math.abs(m[i][i]));
    if (m[i][i] < 0) s = -s;
  }
  return { sign: s, logAbsDet };
}

/** The inverse of a non-singular square matrix. */
export function inverse(a: Matrix): Matrix {
  const n = a.length;
  const { lu: m, perm } = lu(a);
  const inv: Matrix = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let col = 0; col < n; col++) {
    const y = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      let s = perm[i] === col ? 1 : 0;
      for (let k = 0; k < i; k++) s -= m[i][k] * y[k];
      y[i] = s;
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i];
      for (let k = i + 1; k < n; k++) s -= m[i][k] * inv[k][col];
      inv[i][col] = s / m[i][i];
    }
  }
  return inv;
}

/**
 * A random rotation, uniform on SO(n) (Haar measure), as scipy's
 * `special_ortho_group`: QR of a Gaussian matrix with the signs of R's
 * diagonal folded into Q, then one column flipped if the determinant is -1.
 */
export function randomRotation(n: number, rng: Rng): Matrix {
  const a: Matrix = Array.from({ length: n }, () => Array.from({ length: n }, () => gaussian(rng)));
  // Modified Gram-Schmidt on the columns; R's diagonal is positive by construction.
  const q: Matrix = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let j = 0; j < n; j++) {
    const v = a.map((row) => row[j]);
    for (let k = 0; k < j; k++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += q[i][k] * v[i];
      for (let i = 0; i < n; i++) v[i] -= dot * q[i][k];
    }
    const norm = Math.hypot(...v);
    for (let i = 0; i < n; i++) q[i][j] = v[i] / norm;
  }
  if (slogdet(q).sign < 0) for (let i = 0; i < n; i++) q[i][0] = -q[i][0];
  return q;
}

/** Which triangle a triangular solve reads, and whether its diagonal is taken as ones. */
export interface TriangularOptions {
  /** Lower (true) or upper (false) triangular; the other triangle is never read. */
  readonly lower: boolean;
  /** Treat the diagonal as ones without reading it (a unit triangular factor of an LU). */
  readonly unitDiagonal?: boolean;
}

/** `X` with `A X = B` for triangular `A` (`n × n`) and `B` (`n × m`), by substitution. */
export function solveTriangular(a: Matrix, b: Matrix, { lower, unitDiagonal = false }: TriangularOptions): Matrix {
  const n = a.length;
  const x: Matrix = b.map((row) => [...row]);
  const order = Array.from({ length: n }, (_, k) => (lower ? k : n - 1 - k));
  for (const i of order) {
    for (const k of order) {
      if (k === i) break;
      const f = a[i][k];
      if (f !== 0) for (let j = 0; j < x[i].length; j++) x[i][j] -= f * x[k][j];
    }
    if (!unitDiagonal) for (let j = 0; j < x[i].length; j++) x[i][j] /= a[i][i];
  }
  return x;
}

/**
 * The factors of {@link lu} as separate matrices with `A = P · L · U`: `P` a
 * permutation matrix, `L` unit lower triangular, `U` upper triangular.
 */
export function luFactors(a: Matrix): { p: Matrix; l: Matrix; u: Matrix } {
  const { lu: m, perm } = lu(a);
  const n = a.length;
  const p: Matrix = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  // lu() reorders the rows: row i of L·U is row perm[i] of A.
  perm.forEach((row, i) => (p[row][i] = 1));
  const l = m.map((row, i) => row.map((v, j) => (j < i ? v : j === i ? 1 : 0)));
  const u = m.map((row, i) => row.map((v, j) => (j >= i ? v : 0)));
  return { p, l, u };
}

/**
 * `H(v_1) · H(v_2) ⋯ H(v_k)` for the rows `v_i` of `vs`, with the reflection
 * `H(v) = I − 2 v vᵀ / |v|²`: orthogonal, determinant (−1)^k.
 */
export function householderProduct(vs: Matrix): Matrix {
  let w = identity(vs[0].length);
  for (const v of vs) {
    const norm2 = v.reduce((s, x) => s + x * x, 0);
    // W · H(v) = W − (2/|v|²) (W v) vᵀ: a rank-one update, no n³ product.
    const wv = w.map((row) => row.reduce((s, x, j) => s + x * v[j], 0));
    w = w.map((row, i) => row.map((x, j) => x - (2 / norm2) * wv[i] * v[j]));
  }
  return w;
}

// ---- differentiable TensorFlow.js versions (float32, inside a forward pass) ----

/**
 * `X` with `A X = B` for a triangular `a` (`[n, n]`) and `b` (`[n, m]`), by
 * forward or back substitution: `n` steps of small ops, each differentiable,
 * so gradients reach both `a` and `b`. Entries outside the chosen triangle
 * (and the diagonal, with `unitDiagonal`) are never read.
 */
export function tfSolveTriangular(a: tf.Tensor2D, b: tf.Tensor2D, { lower, unitDiagonal = false }: TriangularOptions): tf.Tensor2D {
  return tf.tidy(() => {
    const n = a.shape[0];
    const m = b.shape[1];
    const aRows = tf.split(a, n, 0) as tf.Tensor2D[];
    const bRows = tf.split(b, n, 0) as tf.Tensor2D[];
    // `solved` holds the rows found so far, in matrix order (a contiguous block next to row i).
    let solved: tf.Tensor2D | null = null;
    for (let step = 0; step < n; step++) {
      const i = lower ? step : n - 1 - step;
      let row = bRows[i];
      if (solved) {
        const coefficients = lower ? tf.slice(aRows[i], [0, 0], [1, i]) : tf.slice(aRows[i], [0, i + 1], [1, n - i - 1]);
        row = tf.sub(row, tf.matMul(coefficients, solved));
      }
      if (!unitDiagonal) row = tf.div(row, tf.slice(aRows[i], [0, i], [1, 1]));
      solved = solved ? (lower ? tf.concat([solved, row], 0) : tf.concat([row, solved], 0)) : row;
    }
    return solved ?? tf.zeros([0, m]);
  });
}

/**
 * Orthonormalises the rows of `w` (`[n, n]`) by Gram-Schmidt in row order,
 * the projection FrEIA's OrthogonalTransform applies to its weights: row `i`
 * loses its components along rows `0..i−1`, then is normalised. Each
 * projection is done twice ("twice is enough"), which keeps float32 rows
 * orthogonal to round-off. Differentiable; an orthogonal `w` comes back
 * unchanged up to round-off.
 */
export function tfOrthonormalRows(w: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const rows = tf.split(w, w.shape[0], 0) as tf.Tensor2D[];
    let q: tf.Tensor2D | null = null;
    for (const row of rows) {
      let v = row;
      if (q) {
        for (let pass = 0; pass < 2; pass++) v = tf.sub(v, tf.matMul(tf.matMul(v, q, false, true), q));
      }
      v = tf.div(v, tf.norm(v));
      q = q ? tf.concat([q, v], 0) : v;
    }
    return q!;
  });
}

/**
 * `log|det A|` for a batch of square matrices `[B, n, n]`, by Gaussian
 * elimination with partial pivoting written in tensor ops, so that the result
 * is differentiable (tfjs has no determinant). Row swaps are rank-one updates
 * with a one-hot selector; the pivot choice itself carries no gradient.
 */
export function batchedLogAbsDet(a: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [batch, n] = a.shape;
    if (n === 1) return tf.reshape(tf.log(tf.abs(a)), [batch]);
    let m = a;
    let total: tf.Tensor = tf.zeros([batch]);
    const rows = tf.range(0, n, 1, 'float32');
    for (let k = 0; k < n; k++) {
      const col = tf.reshape(tf.slice(m, [0, 0, k], [-1, -1, 1]), [batch, n]);
      const eligible = tf.cast(tf.greaterEqual(rows, k), 'float32');
      // Rows above k are already eliminated; give them a score no candidate can lose to.
      const score = tf.add(tf.mul(tf.abs(col), eligible), tf.sub(eligible, 1));
      const select = tf.oneHot(tf.argMax(score, 1), n).toFloat();
      const rowP = tf.reshape(tf.matMul(tf.reshape(select, [batch, 1, n]), m), [batch, n]);
      const rowK = tf.reshape(tf.slice(m, [0, k, 0], [-1, 1, -1]), [batch, n]);
      const ek = tf.oneHot(tf.tensor1d([k], 'int32'), n).toFloat();
      // Swap rows k and p: row k gains (rowP − rowK), row p loses it (nothing when p = k).
      m = tf.add(m, tf.mul(tf.reshape(tf.sub(ek, select), [batch, n, 1]), tf.reshape(tf.sub(rowP, rowK), [batch, 1, n])));
      const pivot = tf.slice(rowP, [0, k], [-1, 1]);
      total = tf.add(total, tf.reshape(tf.log(tf.abs(pivot)), [batch]));
      const below = tf.cast(tf.greater(rows, k), 'float32');
      const pivotCol = tf.reshape(tf.slice(m, [0, 0, k], [-1, -1, 1]), [batch, n]);
      const factors = tf.mul(tf.div(pivotCol, pivot), below);
      m = tf.sub(m, tf.mul(tf.reshape(factors, [batch, n, 1]), tf.reshape(rowP, [batch, 1, n])));
    }
    return total;
  });
}

/** Solves `U x = z` for upper-triangular `U` `[N, D, D]` and `z` `[N, D]` by back substitution (differentiable). */
export function tfBatchedSolveUpper(u: tf.Tensor, z: tf.Tensor): tf.Tensor {
  const [n, d] = z.shape;
  const xs: tf.Tensor[] = new Array<tf.Tensor>(d);
  for (let r = d - 1; r >= 0; r--) {
    let s = tf.reshape(tf.slice(z, [0, r], [-1, 1]), [n]);
    if (r < d - 1) {
      const known = tf.stack(xs.slice(r + 1), 1);
      const row = tf.reshape(tf.slice(u, [0, r, r + 1], [-1, 1, -1]), [n, d - r - 1]);
      s = tf.sub(s, tf.sum(tf.mul(row, known), 1));
    }
    xs[r] = tf.div(s, tf.reshape(tf.slice(u, [0, r, r], [-1, 1, 1]), [n]));
  }
  return tf.stack(xs, 1);
}
