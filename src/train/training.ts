/**
 * Training helpers: the negative log-likelihood loss, and a loop with Adam,
 * gradient clipping and a progress bar.
 */
import * as tf from '@tensorflow/tfjs';
import type { AnyFlow, RunOptions } from '../runtime/flow.js';
import { standardNormalLogProb } from './distributions.js';
import { ProgressBar } from './progress.js';
import { adam } from './adam.js';

/**
 * Mean negative log-likelihood in nats per sample,
 * `−log N(f(x); 0, I) − log|det J_f(x)|`, including the `log 2π` constant.
 */
export function nll(flow: AnyFlow, x: tf.Tensor | readonly tf.Tensor[], options: RunOptions = {}): tf.Scalar {
  return tf.tidy(() => {
    const { out, logDet } = flow.forward(x as tf.Tensor, options);
    return tf.neg(tf.mean(tf.add(standardNormalLogProb(out), logDet))) as tf.Scalar;
  });
}

/** One batch: the inputs and, for conditional flows, the conditions. */
export interface Batch {
  readonly x: tf.Tensor | readonly tf.Tensor[];
  readonly c?: tf.Tensor | readonly tf.Tensor[];
}

export interface FitOptions {
  /** Produces the batch of step `step` (it is disposed after the step). */
  readonly data: (step: number) => Batch;
  readonly steps: number;
  /** Adam's learning rate (default 1e-3; the optimizer is {@link adam}, tfjs's Adam with one fused update). */
  readonly learningRate?: number;
  /** Clip the gradients' global norm to this value (default: no clipping). */
  readonly clipNorm?: number;
  /**
   * Show a progress bar (default true). `stream` is where its line goes
   * (default: stderr in Node, whole lines to `console.log` in a browser);
   * the bar redraws in place when `stream.isTTY` is true.
   */
  readonly progress?: boolean | { readonly label?: string; readonly stream?: { write(chunk: string): unknown; readonly isTTY?: boolean; readonly columns?: number } };
  /** Called after every step with the loss. */
  readonly onStep?: (step: number, loss: number) => void;
  /** An optimizer instead of Adam. */
  readonly optimizer?: tf.Optimizer;
}

/** Scales gradients so that their global L2 norm is at most `maxNorm` (as `torch.nn.utils.clip_grad_norm_`). */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number): Record<string, tf.Tensor> {
  return tf.tidy(() => {
    const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))));
    const factor = tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1);
    return Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.mul(g, factor)]));
  });
}

/**
 * Trains `flow` by maximum likelihood. Returns the loss of every step.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { inn, subnets, train } from 'freia-ts';
 * const flow = inn.input([2]).allInOne({ subnet: subnets.mlp({ hidden: 64 }) }).build();
 * const losses = train.fit(flow, { steps: 100, data: () => ({ x: tf.randomNormal([100, 2]) }) });
 * ```
 */
export function fit(flow: AnyFlow, options: FitOptions): number[] {
  const optimizer = options.optimizer ?? adam(options.learningRate ?? 1e-3);
  const variables = flow.trainableVariables;
  const progressOption = options.progress ?? true;
  const bar = progressOption
    ? new ProgressBar({ total: options.steps, label: typeof progressOption === 'object' ? progressOption.label ?? 'train' : 'train', stream: typeof progressOption === 'object' ? progressOption.stream : undefined })
    : undefined;
  const losses: number[] = [];
  for (let step = 0; step < options.steps; step++) {
    const batch = options.data(step);
    try {
      const lossValue = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => nll(flow, batch.x, { c: batch.c }), variables);
        const clipped = options.clipNorm === undefined ? grads : clipByGlobalNorm(grads, options.clipNorm);
        optimizer.applyGradients(clipped);
        return value.dataSync()[0];
      });
      losses.push(lossValue);
      options.onStep?.(step, lossValue);
      bar?.tick(1, { loss: lossValue });
    } finally {
      tf.dispose([batch.x, batch.c ?? []] as tf.TensorContainer);
    }
  }
  bar?.done();
  if (!options.optimizer) optimizer.dispose();
  return losses;
}
