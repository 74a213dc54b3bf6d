/**
 * Public tensors are channels-first like FrEIA (`[B, C, H, W]`); inside the
 * runtime every tensor is channels-last (`[B, H, W, C]`), because the wasm and
 * WebGL convolutions are NHWC-only and a per-pixel channel mix is then one
 * matMul on the last axis. These helpers convert at the flow's boundary and in
 * the few modules (Flatten, Reshape) whose meaning depends on element order.
 */
import * as tf from '@tensorflow/tfjs';
import type { Shape } from '../core/graph.js';

/** Axis permutation moving the channel axis (1) to the end; null when already there. */
function toLastPerm(rank: number): number[] | null {
  if (rank <= 2) return null;
  return [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];
}

function toFirstPerm(rank: number): number[] | null {
  if (rank <= 2) return null;
  return [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
}

/** `[B, C, ...spatial]` (public) to `[B, ...spatial, C]` (internal). */
export function toInternal(x: tf.Tensor): tf.Tensor {
  const perm = toLastPerm(x.rank);
  return perm ? tf.transpose(x, perm) : x;
}

/** `[B, ...spatial, C]` (internal) to `[B, C, ...spatial]` (public). */
export function toPublic(x: tf.Tensor): tf.Tensor {
  const perm = toFirstPerm(x.rank);
  return perm ? tf.transpose(x, perm) : x;
}

/** The internal (channels-last) shape of a public shape, without batch. */
export function internalShape(shape: Shape): number[] {
  return shape.length <= 1 ? [...shape] : [...shape.slice(1), shape[0]];
}

/** The internal axis (with batch) of public non-batch dimension `dim`. */
export function internalAxis(dim: number, rank: number): number {
  return dim === 0 ? rank : dim;
}

/** Number of elements of a shape. */
export function numel(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Sum over every axis but the batch axis: the per-sample log-det convention. */
export function sumExceptBatch(x: tf.Tensor): tf.Tensor {
  if (x.rank <= 1) return x;
  return tf.sum(x, Array.from({ length: x.rank - 1 }, (_, i) => i + 1));
}
