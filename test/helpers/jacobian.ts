/**
 * An independent truth for log-dets: the Jacobian of a flow by autodiff
 * (one vector-Jacobian product per output coordinate), its log|det| in float64.
 */
import * as tf from '@tensorflow/tfjs';
import type { AnyFlow } from '../../src/index.js';
import { slogdet } from '../../src/math/linalg.js';

function flatOutputs(out: tf.Tensor | tf.Tensor[]): tf.Tensor2D {
  const list = Array.isArray(out) ? out : [out];
  return tf.concat(list.map((t) => tf.reshape(t, [t.shape[0], -1])), 1) as tf.Tensor2D;
}

/** Per-sample log|det ∂f(x)/∂x| of the flow's forward pass, by autodiff. */
export function autodiffLogDet(flow: AnyFlow, x: tf.Tensor, c?: tf.Tensor | tf.Tensor[]): number[] {
  const [batch, ...rest] = x.shape;
  const dim = rest.reduce((a, b) => a * b, 1);
  const rows: Float32Array[] = [];
  const f = (input: tf.Tensor) => flatOutputs(flow.forward(input, { c }).out as tf.Tensor | tf.Tensor[]);
  const vjp = tf.grad(f);
  for (let i = 0; i < dim; i++) {
    const row = tf.tidy(() => {
      // e_i for every sample (tf.oneHot would need a depth of at least 2).
      const dy = tf.tile(tf.expandDims(tf.cast(tf.equal(tf.range(0, dim, 1, 'int32'), i), 'float32'), 0), [batch, 1]);
      return tf.reshape(vjp(x, dy), [batch, dim]);
    });
    rows.push(row.dataSync() as Float32Array);
    row.dispose();
  }
  return Array.from({ length: batch }, (_, b) => {
    const jac = Array.from({ length: dim }, (_, i) => Array.from(rows[i].subarray(b * dim, (b + 1) * dim)));
    return slogdet(jac).logAbsDet;
  });
}

/** Largest absolute difference between two tensors (or lists of tensors). */
export function maxAbsDiff(a: tf.Tensor | tf.Tensor[], b: tf.Tensor | tf.Tensor[]): number {
  const as = Array.isArray(a) ? a : [a];
  const bs = Array.isArray(b) ? b : [b];
  return Math.max(...as.map((t, k) => tf.tidy(() => tf.max(tf.abs(tf.sub(t, bs[k]))).dataSync()[0])));
}
