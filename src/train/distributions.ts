/**
 * Distributions: the standard normal base and the push-forward of a base
 * through a flow (sample = inverse pass, logProb = change of variables).
 */
import * as tf from '@tensorflow/tfjs';
import type { Shape } from '../core/graph.js';
import type { AnyFlow, Flow, RunOptions, Tensors } from '../runtime/flow.js';

const LOG_2PI = Math.log(2 * Math.PI);

function asList(t: tf.Tensor | readonly tf.Tensor[]): tf.Tensor[] {
  return t instanceof tf.Tensor ? [t] : [...t];
}

/** Per-sample `log N(z; 0, I)` summed over every non-batch dimension of every tensor, including the `log 2π` constant. */
export function standardNormalLogProb(z: tf.Tensor | readonly tf.Tensor[]): tf.Tensor1D {
  return tf.tidy(() => {
    const parts = asList(z).map((t) => {
      const flat = tf.reshape(t, [t.shape[0], -1]);
      return tf.sub(tf.mul(tf.sum(tf.square(flat), 1), -0.5), (0.5 * LOG_2PI) * flat.shape[1]!);
    });
    return parts.reduce((a, b) => tf.add(a, b)) as tf.Tensor1D;
  });
}

/** The standard normal on one or more shapes (without batch). */
export class StandardNormal {
  constructor(readonly shapes: readonly Shape[]) {}

  /** `n` draws per shape (a lone tensor for one shape). */
  sample(n: number, seed?: number): tf.Tensor | tf.Tensor[] {
    const draws = this.shapes.map((s, k) => tf.randomNormal([n, ...s], 0, 1, 'float32', seed === undefined ? undefined : seed + k));
    return draws.length === 1 ? draws[0] : draws;
  }

  logProb(z: tf.Tensor | readonly tf.Tensor[]): tf.Tensor1D {
    return standardNormalLogProb(z);
  }
}

/**
 * The distribution of `x = flow⁻¹(z)`, `z ~ N(0, I)`:
 * `log p(x) = log N(flow(x)) + log|det J_flow(x)|`.
 *
 * @example
 * ```ts
 * import { dist, inn, subnets } from 'freia-ts';
 * const flow = inn.input([2]).allInOne({ subnet: subnets.mlp({ hidden: 32 }) }).build();
 * const model = dist.pushForward(flow);
 * const x = model.sample(1000);      // [1000, 2]
 * const logp = model.logProb(x);     // [1000]
 * ```
 */
export class PushForward<I extends readonly Shape[] = readonly Shape[], C extends readonly Shape[] = readonly Shape[]> {
  readonly base: StandardNormal;
  constructor(readonly flow: AnyFlow) {
    this.base = new StandardNormal(flow.outputShapes);
  }

  /** `n` samples in data space (the flow's input shapes). */
  sample(n: number, options: RunOptions<C> & { seed?: number } = {}): Tensors<I> {
    // The flow's inverse returns one tensor per input shape, which is what Tensors<I> spells.
    return tf.tidy(() => this.flow.inverse(this.base.sample(n, options.seed) as tf.Tensor, { c: options.c, jac: false }).out) as Tensors<I>;
  }

  /** Per-sample log-density of `x`, shape `[batch]`. */
  logProb(x: Tensors<I> | readonly tf.Tensor[], options: RunOptions<C> = {}): tf.Tensor1D {
    return tf.tidy(() => {
      const { out, logDet } = this.flow.forward(x as tf.Tensor, options);
      return tf.add(standardNormalLogProb(out), logDet) as tf.Tensor1D;
    });
  }
}

/** A standard normal base on the given shapes. */
export function standardNormal(...shapes: Shape[]): StandardNormal {
  return new StandardNormal(shapes);
}

/** The push-forward of the standard normal through `flow` (see {@link PushForward}). */
export function pushForward<I extends readonly Shape[], O extends readonly Shape[], C extends readonly Shape[]>(flow: Flow<I, O, C>): PushForward<I, C> {
  return new PushForward<I, C>(flow);
}
