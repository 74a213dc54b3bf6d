/**
 * Helpers of the WebGPU lane. The truth is the cpu backend: a test computes
 * on cpu, then the same thing on WebGPU, and compares. Tensors made on cpu
 * move to WebGPU when a WebGPU kernel uses them (a synchronous cpu read,
 * which works); nothing here reads a WebGPU tensor synchronously.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { useBackend } from '../../src/index.js';

/** Runs `fn` on the cpu backend, then switches back to WebGPU. */
export async function onCpu<T>(fn: () => T | Promise<T>): Promise<T> {
  await useBackend('cpu');
  try {
    return await fn();
  } finally {
    await useBackend('webgpu');
  }
}

/** The values of a tensor or a list of tensors, read asynchronously, as plain arrays. */
export async function read(t: tf.Tensor | readonly tf.Tensor[]): Promise<number[][]> {
  const list = t instanceof tf.Tensor ? [t] : [...t];
  return Promise.all(list.map(async (x) => Array.from(await x.data())));
}

/** Largest absolute difference between two lists of arrays of the same lengths. */
export function maxDiff(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number {
  expect(a.map((x) => x.length)).toEqual(b.map((x) => x.length));
  let max = 0;
  let nan = false;
  a.forEach((x, k) => x.forEach((v, i) => {
    const d = Math.abs(v - b[k][i]);
    if (Number.isNaN(d)) nan = true;
    else if (d > max) max = d;
  }));
  // NaN on either side is never within a tolerance.
  return nan ? NaN : max;
}

/** Largest absolute value (at least 1): the scale a relative tolerance refers to. */
export function scale(a: readonly (readonly number[])[]): number {
  let max = 1;
  for (const x of a) for (const v of x) max = Math.max(max, Math.abs(v));
  return max;
}

/**
 * Expects `ours` to agree with the cpu's `truth` to `tolerance` relative to
 * the truth's scale (max(1, max |truth|)); NaN anywhere fails.
 */
export function expectClose(ours: readonly (readonly number[])[], truth: readonly (readonly number[])[], tolerance: number, what: string): void {
  const diff = maxDiff(ours, truth);
  expect(Number.isNaN(diff) ? Infinity : diff / scale(truth), `${what}: max |webgpu - cpu| = ${diff}`).toBeLessThanOrEqual(tolerance);
}
