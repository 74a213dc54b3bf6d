/**
 * The native products and convolutions (src/runtime/kernels-native.ts, on
 * onnxruntime-node, a dev dependency) against the pure-JS cpu backend and
 * against the wasm backend's own kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/index.js';
import { nativeActive, withoutNative } from '../src/runtime/kernels-native.js';

const start = tf.getBackend();
afterAll(async () => {
  await useBackend(start);
});

const values = (n: number, phase: number) => Array.from({ length: n }, (_, i) => Math.sin(0.37 * i + phase) + 0.1 * Math.cos(1.7 * i));

/** Products big enough for the native path (and one too small), fused or not, transposed or not; convolutions of several kinds. */
function work(): Float32Array[] {
  return tf.tidy(() => {
    const out: tf.Tensor[] = [];
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const [m, k, n] = [48, 200, 160];
      const a = tf.tensor2d(values(m * k, 1), ta ? [k, m] : [m, k]);
      const b = tf.tensor2d(values(k * n, 2), tb ? [n, k] : [k, n]);
      out.push(tf.matMul(a, b, ta, tb), tf.fused.matMul({ a, b, transposeA: ta, transposeB: tb, bias: tf.tensor1d(values(n, 3)), activation: 'relu' }));
    }
    out.push(tf.matMul(tf.ones([3, 4]), tf.ones([4, 5])));
    const x = tf.tensor4d(values(2 * 9 * 7 * 40, 4), [2, 9, 7, 40]);
    const convs: [number, number, number, number, 'same' | 'valid' | tf.backend_util.ExplicitPadding][] = [[3, 3, 5, 1, 'same'], [1, 1, 12, 1, 'same'], [3, 3, 4, 2, 'valid'], [2, 2, 3, 1, 'same'], [3, 1, 6, 1, [[0, 0], [1, 1], [0, 0], [0, 0]]]];
    for (const [kh, kw, co, stride, pad] of convs) {
      const filter = tf.tensor4d(values(kh * kw * 40 * co, 5), [kh, kw, 40, co]);
      out.push(tf.conv2d(x, filter, stride, pad));
      out.push(tf.fused.conv2d({ x, filter, strides: stride, pad, bias: tf.tensor1d(values(co, 6)), activation: 'relu' }));
    }
    // too shallow for the native path (1 input channel, 3×3): stays on XNNPACK
    out.push(tf.conv2d(tf.slice(x, [0, 0, 0, 0], [2, 9, 7, 1]), tf.ones([3, 3, 1, 8]), 1, 'same'));
    return out.map((t) => t.dataSync() as Float32Array);
  });
}

function expectClose(actual: Float32Array[], expected: Float32Array[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((t, k) => {
    expect(t.length).toBe(expected[k].length);
    t.forEach((v, i) => expect(Math.abs(v - expected[k][i])).toBeLessThan(2e-5 * Math.max(1, Math.abs(expected[k][i]))));
  });
}

describe('native kernels (onnxruntime-node)', () => {
  it('are loaded by ready() on wasm, and their products and convolutions match the cpu backend and XNNPACK', async () => {
    await useBackend('wasm');
    expect(nativeActive()).toBe(true);
    const native = work();
    const xnnpack = withoutNative(work);
    // different kernels round differently: the products (first eight results) are not bit-identical
    expect(native.slice(0, 8).some((t, k) => t.some((v, i) => v !== xnnpack[k][i]))).toBe(true);
    await useBackend('cpu');
    expect(nativeActive()).toBe(true);
    const cpu = work();
    expectClose(native, cpu);
    expectClose(xnnpack, cpu);
  });

  it('leaks no tensors', async () => {
    await useBackend('wasm');
    work();
    const before = tf.memory().numTensors;
    work();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('FREIA_NATIVE=0 keeps them off', () => {
    const root = path.resolve(import.meta.dirname, '..');
    const script = `import { ready } from './dist/index.js'; import { nativeActive } from './dist/runtime/kernels-native.js'; await ready(); console.log(nativeActive());`;
    const run = (env: Record<string, string>) => spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', env: { ...process.env, FREIA_BACKEND: 'wasm', ...env } });
    expect(run({ FREIA_NATIVE: '0' }).stdout.trim()).toBe('false');
    expect(run({}).stdout.trim()).toBe('true');
  });
});
