/**
 * Training helpers: the negative log-likelihood loss, and a loop with Adam,
 * gradient clipping and a progress bar.
 */
import * as tf from '@tensorflow/tfjs';
import type { AnyFlow, ForwardRunOptions, GradientMemory } from '../runtime/flow.js';
import { standardNormalLogProb } from './distributions.js';
import { ProgressBar } from './progress.js';
import { adam } from './adam.js';

/**
 * Mean negative log-likelihood in nats per sample,
 * `−log N(f(x); 0, I) − log|det J_f(x)|`, including the `log 2π` constant.
 * With `memory: 'invert'` its gradient recomputes activations by inversion,
 * so training memory does not grow with depth (docs/memory.md).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { inn, subnets, train } from 'freia-ts';
 * const flow = inn.input([4]).repeat(16, (c) => c.glow({ subnet: subnets.mlp({ hidden: 32 }) })).build();
 * const x = tf.randomNormal([64, 4]);
 * const { value, grads } = tf.variableGrads(() => train.nll(flow, x, { memory: 'invert' }), flow.trainableVariables);
 * ```
 */
export function nll(flow: AnyFlow, x: tf.Tensor | readonly tf.Tensor[], options: ForwardRunOptions = {}): tf.Scalar {
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
  /**
   * What each step keeps for its gradient (default `'store'`): `'invert'`
   * recomputes activations by inversion, so memory does not grow with depth,
   * at the cost of one more forward and one inverse pass (docs/memory.md).
   */
  readonly memory?: GradientMemory;
}

/** Scales gradients so that their global L2 norm is at most `maxNorm` (as `torch.nn.utils.clip_grad_norm_`). */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number): Record<string, tf.Tensor> {
  return tf.tidy(() => {
    const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))));
    const factor = tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1);
    return Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.mul(g, factor)]));
  });
}

/** What both training loops share: the optimizer, the variables, the progress bar, and one step. */
function trainer(flow: AnyFlow, options: FitOptions) {
  const optimizer = options.optimizer ?? adam(options.learningRate ?? 1e-3);
  const variables = flow.trainableVariables;
  const progressOption = options.progress ?? true;
  const bar = progressOption
    ? new ProgressBar({ total: options.steps, label: typeof progressOption === 'object' ? progressOption.label ?? 'train' : 'train', stream: typeof progressOption === 'object' ? progressOption.stream : undefined })
    : undefined;
  return {
    /** One optimizer step on the batch of `step`; returns the loss tensor (the caller reads and disposes it). */
    step(step: number): tf.Scalar {
      const batch = options.data(step);
      try {
        return tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => nll(flow, batch.x, { c: batch.c, memory: options.memory }), variables);
          const clipped = options.clipNorm === undefined ? grads : clipByGlobalNorm(grads, options.clipNorm);
          optimizer.applyGradients(clipped);
          return value;
        });
      } finally {
        tf.dispose([batch.x, batch.c ?? []] as tf.TensorContainer);
      }
    },
    report(step: number, loss: number): void {
      options.onStep?.(step, loss);
      bar?.tick(1, { loss });
    },
    done(): void {
      bar?.done();
      if (!options.optimizer) optimizer.dispose();
    },
  };
}

/**
 * Trains `flow` by maximum likelihood. Returns the loss of every step.
 * It reads each step's loss synchronously: on WebGPU in Node, which cannot,
 * use {@link fitAsync}.
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
  const run = trainer(flow, options);
  const losses: number[] = [];
  try {
    for (let step = 0; step < options.steps; step++) {
      const loss = run.step(step);
      const value = loss.dataSync()[0];
      loss.dispose();
      losses.push(value);
      run.report(step, value);
    }
  } finally {
    run.done();
  }
  return losses;
}

/**
 * {@link fit} for every backend, WebGPU in Node included: each step's loss
 * is read asynchronously, while the next step is already queued, so a GPU
 * is not left idle waiting for the read. `onStep` and the progress bar see
 * every step's loss in order, one step late.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { inn, subnets, train } from 'freia-ts';
 * const flow = inn.input([2]).allInOne({ subnet: subnets.mlp({ hidden: 64 }) }).build();
 * const losses = await train.fitAsync(flow, { steps: 100, data: () => ({ x: tf.randomNormal([100, 2]) }) });
 * ```
 */
export async function fitAsync(flow: AnyFlow, options: FitOptions): Promise<number[]> {
  const run = trainer(flow, options);
  const losses: number[] = [];
  let pending: { step: number; loss: tf.Scalar; value: Promise<tf.backend_util.TypedArray> } | undefined;
  const settle = async () => {
    if (!pending) return;
    const { step, loss, value } = pending;
    pending = undefined;
    try {
      const loss0 = (await value)[0];
      losses.push(loss0);
      run.report(step, loss0);
    } finally {
      loss.dispose();
    }
  };
  try {
    for (let step = 0; step < options.steps; step++) {
      const loss = run.step(step);
      const previous = settle();
      const value = loss.data();
      // Its rejection is handled when the next step settles it; this keeps Node from calling it unhandled meanwhile.
      value.catch(() => undefined);
      pending = { step, loss, value };
      await previous;
    }
    await settle();
  } finally {
    if (pending) pending.loss.dispose();
    run.done();
  }
  return losses;
}
