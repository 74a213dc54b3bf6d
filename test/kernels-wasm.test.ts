/**
 * The wasm backend's faster kernels (src/runtime/kernels-wasm.ts) against
 * the pure-JS cpu backend (an independent implementation) and against the
 * wasm backend's own kernels (the plain path, put back by restoreWasmKernels).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/index.js';
import { registerWasmKernels, restoreWasmKernels } from '../src/runtime/kernels-wasm.js';

const start = tf.getBackend();
afterAll(async () => {
  registerWasmKernels('wasm');
  await useBackend(start);
});

const values = (n: number, phase: number) => Array.from({ length: n }, (_, i) => Math.sin(0.37 * i + phase));

/**
 * Every product the kernels see: plain and transposed operands, 2-D and
 * batched, fused with bias and ReLU, and their gradients. `skipPlain` marks
 * the results the wasm backend's own kernels get wrong (below).
 */
function products(skipPlain: Set<number> = new Set()): Float32Array[] {
  return tf.tidy(() => {
    const out: tf.Tensor[] = [];
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const a = tf.tensor2d(values(5 * 7, 1), ta ? [7, 5] : [5, 7]);
      const b = tf.tensor2d(values(7 * 3, 2), tb ? [3, 7] : [7, 3]);
      out.push(tf.matMul(a, b, ta, tb));
      // tfjs-backend-wasm 4.22's own fused product adds the bias by flat output index, not by column, once an operand is transposed.
      if (ta || tb) skipPlain.add(out.length);
      out.push(tf.fused.matMul({ a, b, transposeA: ta, transposeB: tb, bias: tf.tensor1d([0.1, -0.2, 0.3]), activation: 'relu' }));
      const a3 = tf.reshape(a, [1, ...a.shape]) as tf.Tensor3D;
      out.push(tf.matMul(a3, tf.reshape(b, [1, ...b.shape]) as tf.Tensor3D, ta, tb));
      // two matrices per batch: the backend's own (batched) path
      out.push(tf.matMul(tf.stack([a, tf.neg(a)]) as tf.Tensor3D, tf.stack([b, b]) as tf.Tensor3D, ta, tb));
    }
    const x = tf.tensor2d(values(6 * 4, 3), [6, 4]);
    const w = tf.tensor2d(values(4 * 5, 4), [4, 5]);
    const bias = tf.tensor1d(values(5, 5));
    const loss = (xv: tf.Tensor, wv: tf.Tensor, bv: tf.Tensor) =>
      tf.sum(tf.square(tf.fused.matMul({ a: xv as tf.Tensor2D, b: wv as tf.Tensor2D, bias: bv, activation: 'relu' })));
    out.push(...tf.grads(loss)([x, w, bias]));
    return out.map((t) => t.dataSync() as Float32Array);
  });
}

/** Gathers, splits and concats on the last axis (ours) and on others (the backend's): float32 and int32, narrow and wide rows. */
function dataMovement(): Float32Array[] {
  return tf.tidy(() => {
    const out: tf.Tensor[] = [];
    for (const shape of [[7], [5, 3], [2, 3, 4, 6], [3, 130]]) {
      const size = shape.reduce((a, b) => a * b);
      const last = shape[shape.length - 1];
      const x = tf.tensor(values(size, 0.5), shape);
      const xi = tf.tensor(Array.from({ length: size }, (_, i) => (i * 7) % 11 - 5), shape, 'int32');
      const perm = tf.tensor1d(Array.from({ length: last }, (_, i) => (i * 5 + 2) % last), 'int32');
      out.push(tf.gather(x, perm, -1), tf.gather(xi, perm, shape.length - 1), tf.gather(x, tf.tensor1d([0, last - 1, 0], 'int32'), -1));
      const sizes = last > 2 ? [1, last - 3, 2] : [last];
      out.push(...tf.split(x, sizes, -1), ...tf.split(xi, sizes, shape.length - 1));
      out.push(tf.concat([x, tf.neg(x), tf.slice(x, 0, [...shape.slice(0, -1), 1])], -1), tf.concat([xi, xi], shape.length - 1));
      if (shape.length > 1) out.push(tf.gather(x, tf.tensor1d([0, 0], 'int32'), 0), ...tf.split(x, [1, shape[0] - 1], 0), tf.concat([x, x], 0));
      // a permutation's gradient goes through a gather and (for tfjs's gather gradient) more data movement
      out.push(tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.gather(v, perm, -1), tf.gather(x, perm, -1))))(x));
    }
    return out.map((t) => Float32Array.from(t.dataSync()));
  });
}

/** Convolutions with few output channels (ours: one product and shifted sums) and others (the backend's or native). */
function convolutions(): Float32Array[] {
  return tf.tidy(() => {
    const out: tf.Tensor[] = [];
    const x = tf.tensor4d(values(2 * 7 * 6 * 9, 7), [2, 7, 6, 9]);
    const cases: [number, number, number, 'same' | 'valid' | tf.backend_util.ExplicitPadding][] = [
      [3, 3, 2, 'same'], [3, 3, 12, 'same'], [2, 2, 3, 'same'], [3, 3, 4, 'valid'], [3, 2, 1, [[0, 0], [2, 0], [1, 1], [0, 0]]], [3, 3, 16, 'same'], [1, 1, 2, 'same'],
    ];
    for (const [kh, kw, co, pad] of cases) {
      const filter = tf.tensor4d(values(kh * kw * 9 * co, 8), [kh, kw, 9, co]);
      out.push(tf.conv2d(x, filter, 1, pad), tf.fused.conv2d({ x, filter, strides: 1, pad, bias: tf.tensor1d(values(co, 9)), activation: 'relu' }));
    }
    // strided: not ours
    out.push(tf.conv2d(x, tf.tensor4d(values(3 * 3 * 9 * 2, 10), [3, 3, 9, 2]), 2, 'same'));
    return out.map((t) => t.dataSync() as Float32Array);
  });
}

function expectClose(actual: Float32Array[], expected: Float32Array[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((t, k) => {
    expect(t.length).toBe(expected[k].length);
    t.forEach((v, i) => expect(Math.abs(v - expected[k][i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(expected[k][i]))));
  });
}

describe('wasm kernels', () => {
  it('products with transposed operands match the cpu backend and the wasm backend\'s own kernels', async () => {
    await useBackend('wasm');
    const ours = products();
    const oursKernel = tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc;
    restoreWasmKernels();
    expect(tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc).not.toBe(oursKernel);
    const plainKernel = tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc;
    const wrongOnPlain = new Set<number>();
    const plain = products(wrongOnPlain);
    registerWasmKernels('wasm');
    expect(tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc).not.toBe(plainKernel);
    await useBackend('cpu');
    const cpu = products();
    expectClose(ours, cpu);
    expect(wrongOnPlain.size).toBe(3);
    expectClose(plain.filter((_, k) => !wrongOnPlain.has(k)), cpu.filter((_, k) => !wrongOnPlain.has(k)));
  });

  it('gathers, splits and concats match the cpu backend and the wasm backend\'s own kernels', async () => {
    await useBackend('wasm');
    const ours = dataMovement();
    restoreWasmKernels();
    const plain = dataMovement();
    registerWasmKernels('wasm');
    await useBackend('cpu');
    const cpu = dataMovement();
    expectClose(ours, cpu);
    expectClose(plain, cpu);
    await useBackend('wasm');
    expect(() => tf.tidy(() => tf.gather(tf.ones([2, 3]), tf.tensor1d([0, 3], 'int32'), -1))).toThrow(/index value 3/);
  });

  it('convolutions with few output channels match the cpu backend and the wasm backend\'s own kernels', async () => {
    await useBackend('wasm');
    const ours = convolutions();
    restoreWasmKernels();
    const plain = convolutions();
    registerWasmKernels('wasm');
    await useBackend('cpu');
    const cpu = convolutions();
    expectClose(ours, cpu);
    expectClose(plain, cpu);
    // ours sum in another order than XNNPACK: not bit-identical (so the path did run)
    expect(ours.slice(0, 4).some((t, k) => t.some((v, i) => v !== plain[k][i]))).toBe(true);
  });

  it('registering twice wraps the backend\'s kernel once, and leaks nothing', async () => {
    await useBackend('wasm');
    const before = tf.getKernel('_FusedMatMul', 'wasm')!.kernelFunc;
    registerWasmKernels('wasm');
    expect(tf.getKernel('_FusedMatMul', 'wasm')!.kernelFunc).toBe(before);
    const tensors = tf.memory().numTensors;
    const bytes = tf.memory().numBytes;
    products();
    dataMovement();
    convolutions();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.memory().numBytes).toBe(bytes);
  });
});
