/**
 * The WebGPU kernels freia-ts wraps (src/runtime/kernels-webgpu.ts), against
 * the cpu backend: rank-5 cumsum, where and pad (and the gradient of a
 * rank-5 slice, which is a pad), reverse cumsums of two lengths in one
 * process (tfjs's pipeline cache once served the first one's shader to the
 * second), and an addN of more inputs than one shader may bind. Exact
 * agreement up to float32 rounding of the sums: 1e-5.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { foldPaddings } from '../../src/runtime/kernels-webgpu.js';
import { expectClose, onCpu, read } from './helpers.js';

const values = (n: number, k = 1) => Array.from({ length: n }, (_, i) => Math.sin(k * i + 0.3) * 2);
const shape5 = [2, 3, 2, 3, 4];

async function cumsums(): Promise<number[][]> {
  const x = tf.tensor(values(144), shape5);
  const outs: tf.Tensor[] = [];
  for (const axis of [0, 2, 4]) {
    for (const [exclusive, reverse] of [[false, false], [true, false], [false, true], [true, true]]) outs.push(tf.cumsum(x, axis, exclusive, reverse));
  }
  // Reverse cumsums of the same rank and different lengths, one after the other.
  for (const n of [10, 6, 3]) outs.push(tf.cumsum(tf.tensor2d(values(2 * n, 0.7), [2, n]), 1, false, true));
  // The gradient of a cumsum is a reverse cumsum.
  outs.push(tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.cumsum(v, 4), tf.tensor(values(144, 1.3), shape5))))(x));
  const result = await read(outs);
  tf.dispose([x, ...outs]);
  return result;
}

async function selectsPadsAndSums(): Promise<number[][]> {
  const a = tf.tensor(values(144), shape5);
  const b = tf.tensor(values(144, 0.4), shape5);
  const outs = [
    tf.where(tf.greater(a, b), a, b),
    tf.where(tf.greater(a, 0), a, tf.scalar(-1)),
    tf.pad(a, [[0, 0], [0, 0], [0, 0], [0, 0], [1, 2]]),
    tf.pad(a, [[0, 0], [1, 0], [0, 0], [0, 0], [0, 1]], 0.5),
    tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.slice(v, [0, 0, 0, 0, 1], [-1, -1, -1, -1, 2]), 3)))(a),
    tf.grad((v: tf.Tensor) => tf.sum(tf.square(tf.where(tf.greater(v, 0), v, tf.mul(v, 2)))))(a),
    // 2 to 40 inputs: within one shader's bindings, and past them (7 by default).
    ...[2, 7, 8, 9, 15, 40].map((n) => tf.addN(Array.from({ length: n }, (_, i) => tf.mul(a, i + 1)))),
  ];
  const result = await read(outs);
  tf.dispose([a, b, ...outs]);
  return result;
}

describe('WebGPU kernels freia-ts wraps', () => {
  it('cumsum at rank 5 (every axis, exclusive, reverse), reverse cumsums of several lengths, and its gradient match cpu', async () => {
    const truth = await onCpu(cumsums);
    expectClose(await cumsums(), truth, 1e-5, 'cumsum');
  });

  it('where and pad at rank 5, the gradients of a rank-5 slice and where, and addN of 2 to 40 inputs match cpu', async () => {
    const truth = await onCpu(selectsPadsAndSums);
    expectClose(await selectsPadsAndSums(), truth, 1e-6, 'where/pad/addN');
  });

  it('foldPaddings folds unpadded axes into the axis before them', () => {
    expect(foldPaddings([2, 3, 4, 5, 6], [[0, 0], [0, 0], [0, 0], [0, 0], [1, 2]])).toEqual({ shape: [120, 6], paddings: [[0, 0], [1, 2]] });
    expect(foldPaddings([2, 3, 4, 5, 6], [[0, 0], [1, 0], [0, 0], [0, 0], [0, 1]])).toEqual({ shape: [2, 60, 6], paddings: [[0, 0], [20, 0], [0, 1]] });
    expect(foldPaddings([2, 3, 4, 5, 6], [[1, 0], [1, 0], [1, 0], [1, 0], [1, 0]])).toBeNull();
  });
});
