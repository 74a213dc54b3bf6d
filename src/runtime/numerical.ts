/**
 * The log-determinant of a flow's Jacobian by finite differences, like
 * FrEIA's `log_jacobian_numerical`: for debugging a module's own log-det.
 */
import * as tf from '@tensorflow/tfjs';
import type { AnyFlow, RunOptions } from './flow.js';
import { slogdet } from '../math/linalg.js';
import { FreiaError } from '../core/errors.js';

/**
 * Options of {@link logJacobianNumerical}: those of a run, plus the finite-difference step.
 *
 * @group Building
 */
export interface NumericalOptions extends RunOptions {
  /** Step of the central differences (default 1e-3: float32 round-off grows below it). */
  readonly h?: number;
}

function flatten(ts: tf.Tensor | tf.Tensor[]): tf.Tensor2D {
  const list = Array.isArray(ts) ? ts : [ts];
  return tf.concat(list.map((t) => tf.reshape(t, [t.shape[0], -1])), 1) as tf.Tensor2D;
}

/**
 * Per-sample `log|det ∂f/∂x|` of `flow.forward` at `x`, by central differences
 * `(f(x + h·e_i) − f(x − h·e_i)) / 2h`, one Jacobian column per input element,
 * and the determinant in float64. Costs `2 · dim` forward passes of the batch
 * (done as one batch of `2 · dim · batch`), so keep `dim` small. The flow
 * computes in float32: expect agreement with the analytic log-det to about
 * 1e-3 relative, not better.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { inn, subnets, logJacobianNumerical } from 'freia-ts';
 * const flow = inn.input([3]).glow({ subnet: subnets.mlp({ hidden: 16 }) }).build();
 * const x = tf.randomNormal([4, 3]);
 * const numeric = logJacobianNumerical(flow, x);     // number[4]
 * const analytic = flow.forward(x).logDet.arraySync(); // should agree
 * ```
 *
 * @group Building
 */
export function logJacobianNumerical(flow: AnyFlow, x: tf.Tensor | readonly tf.Tensor[], options: NumericalOptions = {}): number[] {
  const { jacobians, batch, dim } = columns(flow, x, options);
  const values = jacobians.dataSync();
  jacobians.dispose();
  return logDets(values, batch, dim);
}

/**
 * {@link logJacobianNumerical} for every backend, WebGPU in Node included:
 * the Jacobian is read back asynchronously.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { inn, subnets, logJacobianNumericalAsync } from 'freia-ts';
 * const flow = inn.input([3]).glow({ subnet: subnets.mlp({ hidden: 16 }) }).build();
 * const x = tf.randomNormal([4, 3]);
 * const numeric = await logJacobianNumericalAsync(flow, x);   // number[4]
 * const analytic = await flow.forward(x).logDet.array();      // should agree
 * ```
 *
 * @group Building
 */
export async function logJacobianNumericalAsync(flow: AnyFlow, x: tf.Tensor | readonly tf.Tensor[], options: NumericalOptions = {}): Promise<number[]> {
  const { jacobians, batch, dim } = columns(flow, x, options);
  try {
    return logDets(await jacobians.data(), batch, dim);
  } finally {
    jacobians.dispose();
  }
}

/** The Jacobian's columns by central differences, `[dim, batch, dim]`: `columns[i, b, :] = ∂f(x_b)/∂x_i`. */
function columns(flow: AnyFlow, x: tf.Tensor | readonly tf.Tensor[], options: NumericalOptions): { jacobians: tf.Tensor; batch: number; dim: number } {
  const h = options.h ?? 1e-3;
  const inputs = x instanceof tf.Tensor ? [x] : [...x];
  const batch = inputs[0].shape[0];
  const sizes = inputs.map((t) => t.size / batch);
  const dim = sizes.reduce((a, b) => a + b, 0);
  const jacobians = tf.tidy(() => {
    const flat = flatten(inputs); // [B, D]
    // Rows ordered (step sign, input element, sample): 2·D·B perturbed copies of the batch.
    const eye = tf.mul(tf.eye(dim), h); // [D, D]
    const plus = tf.add(tf.expandDims(flat, 0), tf.expandDims(eye, 1)); // [D, B, D]
    const minus = tf.sub(tf.expandDims(flat, 0), tf.expandDims(eye, 1));
    const stacked = tf.reshape(tf.concat([plus, minus], 0), [2 * dim * batch, dim]);
    let offset = 0;
    const perturbed = inputs.map((t, k) => {
      const part = tf.slice(stacked, [0, offset], [-1, sizes[k]]);
      offset += sizes[k];
      return tf.reshape(part, [2 * dim * batch, ...t.shape.slice(1)]);
    });
    const conds = options.c === undefined ? undefined : (options.c instanceof tf.Tensor ? [options.c] : [...(options.c as readonly tf.Tensor[])]).map((c) => tf.tile(c, [2 * dim, ...c.shape.slice(1).map(() => 1)]));
    const out = flatten(flow.forward(perturbed.length === 1 ? perturbed[0] : perturbed, { c: conds, jac: false }).out);
    const outDim = out.shape[1];
    if (outDim !== dim) throw new FreiaError(`the flow maps ${dim} numbers to ${outDim}: its Jacobian is not square`);
    const [fPlus, fMinus] = tf.split(tf.reshape(out, [2, dim, batch, dim]), 2, 0);
    // columns[i, b, :] = ∂f(x_b)/∂x_i
    return tf.div(tf.sub(fPlus, fMinus), 2 * h).reshape([dim, batch, dim]);
  });
  return { jacobians, batch, dim };
}

/** Per-sample log|det| from the columns' values, in float64. */
function logDets(values: tf.backend_util.TypedArray, batch: number, dim: number): number[] {
  return Array.from({ length: batch }, (_, b) => {
    // J[j][i] = ∂f_j/∂x_i; the determinant of Jᵀ is the same, so rows by input element are fine.
    const rows = Array.from({ length: dim }, (_, i) => Array.from(values.subarray((i * batch + b) * dim, (i * batch + b + 1) * dim), Number));
    return slogdet(rows).logAbsDet;
  });
}
