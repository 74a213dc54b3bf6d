/**
 * Dense float64 linear algebra on small square matrices, in plain JS.
 * TensorFlow.js has no determinant, inverse or QR; these run once per module
 * (initialisation, import) or in tests, never in a training step.
 * Matrices are row-major `number[][]`.
 */
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
