/**
 * The WebAssembly SIMD loops we assemble ourselves (src/runtime/simd.ts),
 * on a memory of their own, against the same loops written out in
 * JavaScript here.
 */
import { describe, expect, it } from 'vitest';
import { simdLoops, webAssembly, type WasmMemory } from '../src/runtime/simd.js';

// Cast: the test's Node has the WebAssembly global; the ES2022 lib does not declare it (simd.ts types what it uses).
const Memory = webAssembly()!.Memory as unknown as new (descriptor: { initial: number }) => WasmMemory;
const memory = new Memory({ initial: 4 });
const loops = simdLoops(memory)!;
const f32 = (byte: number, n: number) => new Float32Array(memory.buffer, byte, n);
const fill = (a: Float32Array, phase: number) => a.forEach((_, i) => (a[i] = Math.sin(0.7 * i + phase) * 1.5));

describe('SIMD loops', () => {
  it('assemble, validate and instantiate on an imported memory', () => {
    expect(loops).not.toBeNull();
    expect(Object.keys(loops).sort()).toEqual(['adam', 'coupling', 'couplingGrad', 'reluMask', 'rowsOuter']);
  });

  it('reluMask zeroes the gradient where the activation was not positive and adds the column sums to the bias', () => {
    const [rows, width] = [5, 12];
    const d = f32(0, rows * width);
    const h = f32(4096, rows * width);
    const bias = f32(8192, width);
    fill(d, 0);
    fill(h, 1);
    bias.fill(0.25);
    const expected = d.map((v, i) => (h[i] > 0 ? v : 0));
    const sums = Array.from({ length: width }, (_, j) => 0.25 + Array.from({ length: rows }, (_, r) => expected[r * width + j]).reduce((a, b) => a + b));
    loops.reluMask(0, 4096, 8192, rows, width);
    expect(Array.from(d)).toEqual(Array.from(expected));
    bias.forEach((v, j) => expect(v).toBeCloseTo(sums[j], 5));
  });

  it('rowsOuter adds aᵀ · b', () => {
    const [m, n, rows] = [3, 8, 7];
    const a = f32(16384, rows * m);
    const b = f32(20480, rows * n);
    const out = f32(24576, m * n);
    fill(a, 2);
    fill(b, 3);
    out.fill(1);
    loops.rowsOuter(16384, m, 20480, n, rows, 24576);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 1;
        for (let r = 0; r < rows; r++) s += a[r * m + i] * b[r * n + j];
        expect(out[i * n + j]).toBeCloseTo(s, 5);
      }
    }
  });

  it('coupling computes tanh, exp (our polynomial), the coupled half and the row sums', () => {
    const [rows, len1, len2, clamp] = [5, 3, 8, 1.7];
    const channels = len1 + len2;
    const [A, X, TH, E, O, S] = [40960, 45056, 49152, 53248, 57344, 61440];
    const a = f32(A, rows * 2 * len2);
    const x = f32(X, rows * channels);
    // large and tiny arguments alike (the exp's range reduction and tanh near 0)
    a.forEach((_, i) => (a[i] = 40 * Math.sin(1.3 * i) * (i % 3 === 0 ? 0.001 : 1)));
    fill(x, 4);
    loops.coupling(A, X, TH, E, O, S, rows, len1, len2, channels, clamp);
    const [th, e, o, sums] = [f32(TH, rows * len2), f32(E, rows * len2), f32(O, rows * len2), f32(S, rows)];
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let j = 0; j < len2; j++) {
        const t = Math.tanh((0.1 * a[r * 2 * len2 + j]) / clamp);
        const ex = Math.exp(clamp * t);
        sum += clamp * t;
        expect(Math.abs(th[r * len2 + j] - t)).toBeLessThan(3e-7);
        expect(Math.abs(e[r * len2 + j] / ex - 1)).toBeLessThan(5e-7);
        expect(Math.abs(o[r * len2 + j] - (x[r * channels + len1 + j] * ex + 0.1 * a[r * 2 * len2 + len2 + j]))).toBeLessThan(2e-6);
      }
      expect(Math.abs(sums[r] - sum)).toBeLessThan(2e-6);
    }
  });

  it('couplingGrad computes the active half\'s gradients and their sums over rows', () => {
    const [rows, len1, len2] = [3, 2, 4];
    const channels = len1 + len2;
    const base = 65536;
    const [dz, x, th, e, a, dl, scale, dx, da, sums] = [rows * channels, rows * channels, rows * len2, rows * len2, rows * 2 * len2, rows, len2, rows * channels, rows * 2 * len2, 4 * len2].map((n, k) => f32(base + 1024 * k, n));
    [dz, x, th, e, a, dl, scale].forEach((t, k) => fill(t, k));
    th.forEach((v, i) => (th[i] = Math.tanh(v)));
    e.forEach((v, i) => (e[i] = Math.exp(v)));
    sums.fill(0);
    loops.couplingGrad(...[dz, x, th, e, a, dl, scale, dx, da, sums].map((t) => t.byteOffset) as [number, number, number, number, number, number, number, number, number, number], rows, len1, len2, channels);
    const expected = new Float64Array(4 * len2);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < len2; j++) {
        const [z, x2, t, ex] = [dz[r * channels + len1 + j], x[r * channels + len1 + j], th[r * len2 + j], e[r * len2 + j]];
        const dOut = z * scale[j];
        const dS = 0.1 * (dOut * x2 * ex + dl[r]) * (1 - t * t);
        const dT = 0.1 * dOut;
        expect(dx[r * channels + len1 + j]).toBeCloseTo(dOut * ex, 5);
        expect(da[r * 2 * len2 + j]).toBeCloseTo(dS, 5);
        expect(da[r * 2 * len2 + len2 + j]).toBeCloseTo(dT, 5);
        expected[j] += z;
        expected[len2 + j] += z * (x2 * ex + 0.1 * a[r * 2 * len2 + len2 + j]);
        expected[2 * len2 + j] += dS;
        expected[3 * len2 + j] += dT;
      }
    }
    expected.forEach((v, k) => expect(sums[k]).toBeCloseTo(v, 4));
  });

  it('adam computes the Adam step four parameters at a time', () => {
    const n = 16;
    const [w, g, m, v, wo, mo, vo] = Array.from({ length: 7 }, (_, k) => f32(32768 + 256 * k, n));
    [w, g, m, v].forEach((t, k) => fill(t, k));
    v.forEach((x, i) => (v[i] = Math.abs(x)));
    const [b1, b2, lr, c1, c2, eps] = [0.9, 0.999, 0.01, 0.1, 0.001, 1e-7];
    loops.adam(...[w, g, m, v, wo, mo, vo].map((t) => t.byteOffset) as [number, number, number, number, number, number, number], n, b1, b2, 1 - b1, 1 - b2, lr / c1, c2, eps);
    for (let i = 0; i < n; i++) {
      const m2 = b1 * m[i] + (1 - b1) * g[i];
      const v2 = b2 * v[i] + (1 - b2) * g[i] * g[i];
      expect(mo[i]).toBeCloseTo(m2, 6);
      expect(vo[i]).toBeCloseTo(v2, 6);
      expect(wo[i]).toBeCloseTo(w[i] - ((lr / c1) * m2) / (Math.sqrt(v2 / c2) + eps), 5);
    }
  });
});
