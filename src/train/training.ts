/**
 * Training helpers: the negative log-likelihood loss, and a loop with Adam,
 * gradient clipping and a progress bar.
 */
import * as tf from '@tensorflow/tfjs';
import type { AnyFlow, ForwardRunOptions, GradientMemory } from '../runtime/flow.js';
import { standardNormalLogProb, type TransformedOptions } from '../distributions/index.js';
import { ProgressBar } from './progress.js';
import { Adam, adam } from './adam.js';
import type { Schedule } from './schedules.js';
import { FreiaError, NonFiniteError, OptionError, describeValue } from '../core/errors.js';
import { canReadSync } from '../math/readback.js';
import { didYouMean } from '../core/validation.js';

/** A density over data with parameters: what `dist.pullBack(flow, base)` and `dist.pushForward(flow, base)` return. */
export interface DensityModel {
  readonly trainableVariables: readonly tf.Variable[];
  logProb(x: tf.Tensor | readonly tf.Tensor[], options?: TransformedOptions): tf.Tensor1D;
}

/** What can be trained by maximum likelihood: a flow (with the standard normal base) or a flow with its base. */
export type Trainable = AnyFlow | DensityModel;

/**
 * Mean negative log-likelihood in nats per sample,
 * `−log N(f(x); 0, I) − log|det J_f(x)|`, including the `log 2π` constant;
 * for a transformed distribution (`dist.pullBack(flow, base)`), `−log p(x)`
 * under its base (`cBase`: the base's condition).
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
export function nll(flow: Trainable, x: tf.Tensor | readonly tf.Tensor[], options: ForwardRunOptions & { readonly cBase?: tf.Tensor } = {}): tf.Scalar {
  if ('logProb' in flow) return tf.tidy(() => tf.neg(tf.mean(flow.logProb(x, options))) as tf.Scalar);
  const { cBase: _unused, ...runOptions } = options;
  return tf.tidy(() => {
    const { out, logDet } = flow.forward(x as tf.Tensor, runOptions);
    return tf.neg(tf.mean(tf.add(standardNormalLogProb(out), logDet))) as tf.Scalar;
  });
}

/** One batch: the inputs and, for conditional flows, the conditions. */
export interface Batch {
  readonly x: tf.Tensor | readonly tf.Tensor[];
  readonly c?: tf.Tensor | readonly tf.Tensor[];
  /** The base's condition, for a conditional base (a one-hot class for `dist.classConditionalNormal`). */
  readonly cBase?: tf.Tensor;
}

export interface FitOptions {
  /** Produces the batch of step `step` (it is disposed after the step). */
  readonly data: (step: number) => Batch;
  readonly steps: number;
  /** Adam's learning rate (default 1e-3; the optimizer is {@link adam}, tfjs's Adam with one fused update). */
  readonly learningRate?: number | Schedule;
  /** Clip the gradients' global norm to this value (default: no clipping). */
  readonly clipNorm?: number;
  /**
   * Show a progress bar (default true). `stream` is where its line goes
   * (default: stderr in Node, whole lines to `console.log` in a browser);
   * the bar redraws in place when `stream.isTTY` is true.
   */
  readonly progress?: boolean | { readonly label?: string; readonly stream?: { write(chunk: string): unknown; readonly isTTY?: boolean; readonly columns?: number } };
  /** Called after every step with the loss and the learning rate the step used. */
  readonly onStep?: (step: number, loss: number, info: { readonly learningRate: number }) => void;
  /** An optimizer instead of Adam (then leave `learningRate` out: set it on the optimizer). */
  readonly optimizer?: tf.Optimizer;
  /**
   * Stop on a non-finite loss or gradient before the update is applied
   * (default true): the fit throws a {@link NonFiniteError} naming the step
   * (and the variable whose gradient is not finite), and the weights and the
   * optimizer's state are those after the previous step. The check is one
   * reduction over the gradients, read together with the loss the loop
   * reads anyway; `false` skips it, and lets {@link fitAsync} overlap the
   * next step with the read of the loss.
   */
  readonly checkFinite?: boolean;
  /**
   * What each step keeps for its gradient (default `'store'`): `'invert'`
   * recomputes activations by inversion, so memory does not grow with depth,
   * at the cost of one more forward and one inverse pass (docs/memory.md).
   */
  readonly memory?: GradientMemory;
}

/** Every option of {@link FitOptions}: `satisfies` makes a new option fail to compile until it is listed here. */
const fitOptionNames = {
  data: true, steps: true, learningRate: true, clipNorm: true, progress: true, onStep: true, optimizer: true, checkFinite: true, memory: true,
} as const satisfies Record<keyof FitOptions, true>;

/** Whether an optimizer is {@link Adam}: not `instanceof`, which tfjs's Optimizer answers for any optimizer (its Symbol.hasInstance). */
const isOurAdam = (optimizer: unknown): optimizer is Adam => Adam.prototype.isPrototypeOf(optimizer as object);

const isPositiveFinite = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value) && value > 0;

/** Refuses options a fit cannot use, before anything is allocated: unknown names, wrong types, values out of range. */
function validateFitOptions(owner: string, options: FitOptions): void {
  if (options === null || typeof options !== 'object') throw new OptionError(owner, 'options', 'an object { data, steps, ... }', describeValue(options));
  for (const key of Object.keys(options)) {
    if (key in fitOptionNames) continue;
    const near = didYouMean(key, Object.keys(fitOptionNames));
    throw new OptionError(owner, key, `one of ${Object.keys(fitOptionNames).join(', ')}`, 'an unknown option', `${owner}: unknown option "${key}"${near ? ` (did you mean "${near}"?)` : ''}; the options are ${Object.keys(fitOptionNames).join(', ')}`);
  }
  const { data, steps, learningRate, clipNorm, progress, onStep, optimizer, checkFinite } = options;
  if (typeof data !== 'function') throw new OptionError(owner, 'data', 'a function (step) => ({ x, c? })', describeValue(data));
  if (typeof steps !== 'number' || !Number.isSafeInteger(steps) || steps < 0) throw new OptionError(owner, 'steps', 'a whole number ≥ 0', describeValue(steps));
  if (learningRate !== undefined && typeof learningRate !== 'function' && !isPositiveFinite(learningRate)) throw new OptionError(owner, 'learningRate', 'a finite number > 0', describeValue(learningRate));
  if (typeof learningRate === 'number' && optimizer !== undefined) {
    throw new OptionError(owner, 'learningRate', 'left out when an optimizer is given (it would be ignored: set it on the optimizer)', describeValue(learningRate));
  }
  if (typeof learningRate === 'function' && optimizer !== undefined && !isOurAdam(optimizer)) {
    throw new OptionError(owner, 'learningRate', 'a number, or a schedule with train.adam\'s optimizer (only its rate can be set per step)', 'a schedule with another optimizer');
  }
  if (clipNorm !== undefined && !isPositiveFinite(clipNorm)) throw new OptionError(owner, 'clipNorm', 'a finite number > 0 (leave it out for no clipping)', describeValue(clipNorm));
  const progressOk = progress === undefined || typeof progress === 'boolean'
    || (typeof progress === 'object' && progress !== null && (progress.stream === undefined || typeof progress.stream?.write === 'function'));
  if (!progressOk) throw new OptionError(owner, 'progress', 'true, false or { label?, stream? } with stream.write a function', describeValue(progress));
  if (onStep !== undefined && typeof onStep !== 'function') throw new OptionError(owner, 'onStep', 'a function (step, loss) => void', describeValue(onStep));
  if (optimizer !== undefined && !(optimizer instanceof tf.Optimizer)) throw new OptionError(owner, 'optimizer', 'a tf.Optimizer', describeValue(optimizer));
  if (checkFinite !== undefined && typeof checkFinite !== 'boolean') throw new OptionError(owner, 'checkFinite', 'true or false', describeValue(checkFinite));
  if (options.memory !== undefined && options.memory !== 'store' && options.memory !== 'invert') throw new OptionError(owner, 'memory', "'store' or 'invert'", describeValue(options.memory));
}

/** A batch as `data(step)` must return it: `{ x, c? }` with live tensors. */
function checkBatch(owner: string, step: number, batch: unknown): asserts batch is Batch {
  const live = (t: unknown) => (t instanceof tf.Tensor && !t.isDisposed) || (Array.isArray(t) && t.length > 0 && t.every((u) => u instanceof tf.Tensor && !u.isDisposed));
  const ok = batch !== null && typeof batch === 'object' && live((batch as Batch).x) && ((batch as Batch).c === undefined || live((batch as Batch).c))
    && ((batch as Batch).cBase === undefined || live((batch as Batch).cBase));
  // Casts: `batch` is unknown until this check; the properties are only read to describe it.
  if (!ok) throw new FreiaError(`${owner}: step ${step}: data(${step}) must return { x, c? } holding live tensors, got ${batch !== null && typeof batch === 'object' ? `{ x: ${describeValue((batch as Batch).x)}, c: ${describeValue((batch as Batch).c)} }` : describeValue(batch)}`);
}

/** tfjs's engine state that a failed gradient leaves behind (internal to tfjs, so not in its public types). */
interface TapeState {
  state: { activeTape: { saved?: tf.Tensor[] }[] | null; gradientDepth: number };
}

/**
 * `tf.variableGrads`, without the leak when `f` throws: tfjs keeps a clone of
 * every tensor the backward pass will need, outside every tidy, and frees
 * them only in the backward pass, which a throw skips. Here the tape nodes
 * recorded by this call are freed on the way out.
 */
function variableGradsOrFree(f: () => tf.Scalar, variables: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  // Cast: the engine's state is internal; its shape is checked before use below.
  const { state } = tf.engine() as unknown as TapeState;
  const recorded = state.gradientDepth > 0 && Array.isArray(state.activeTape) ? state.activeTape.length : 0;
  try {
    return tf.variableGrads(f, variables);
  } catch (error) {
    if (Array.isArray(state.activeTape)) {
      for (const node of state.activeTape.splice(recorded)) tf.dispose(node.saved ?? []);
    }
    throw error;
  }
}

/** The tensors of one computed step: the loss, the gradients to apply and, when checking, `[loss, 0 or NaN]` to read. */
interface ComputedStep {
  readonly loss: tf.Scalar;
  readonly grads: tf.NamedTensorMap;
  /** The raw gradients' sum times zero: 0 when every gradient is finite, NaN otherwise. */
  readonly verdict?: tf.Tensor1D;
}

/** Scales gradients so that their global L2 norm is at most `maxNorm` (as `torch.nn.utils.clip_grad_norm_`). */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number): Record<string, tf.Tensor> {
  return tf.tidy(() => {
    const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))));
    const factor = tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1);
    return Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.mul(g, factor)]));
  });
}

/** What both training loops share: the optimizer, the variables, the progress bar, and one step in two halves. */
function trainer(owner: string, flow: Trainable, options: FitOptions) {
  validateFitOptions(owner, options);
  const variables = [...flow.trainableVariables];
  const check = options.checkFinite ?? true;
  const progressOption = options.progress ?? true;
  const schedule = typeof options.learningRate === 'function' ? options.learningRate : undefined;
  // A schedule's first rate is set before step 0; a fixed rate is Adam's from the start.
  const optimizer = options.optimizer ?? adam(typeof options.learningRate === 'number' ? options.learningRate : 1e-3);
  /** The rate of step `step`: the schedule's (checked), or the optimizer's own. */
  const rateFor = (step: number): number => {
    if (!schedule) return isOurAdam(optimizer) ? optimizer.learningRate : NaN;
    const rate = schedule(step);
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0) throw new OptionError(owner, 'learningRate', `a schedule giving a finite rate > 0 (step ${step}; no update was applied)`, describeValue(rate));
    (optimizer as Adam).learningRate = rate;
    return rate;
  };
  /** The rate each applied step used, until its report (fitAsync may compute a step before the last is reported). */
  const rates = new Map<number, number>();
  const bar = progressOption
    ? new ProgressBar({ total: options.steps, label: typeof progressOption === 'object' ? progressOption.label ?? 'train' : 'train', stream: typeof progressOption === 'object' ? progressOption.stream : undefined })
    : undefined;
  const discard = (computed: ComputedStep) => tf.dispose([computed.loss, computed.verdict ?? [], ...Object.values(computed.grads)]);
  /** The error for a refused step; reads the gradients (only on this path, only where it may) to name the first bad variable. */
  const refusal = (step: number, computed: ComputedStep, loss: number): NonFiniteError => {
    const previous = step === 0 ? 'as before the fit' : `those after step ${step - 1}`;
    const remedy = 'lower the learning rate, clip the gradients (clipNorm), or check the batch for NaN and Infinity';
    if (!Number.isFinite(loss)) {
      return new NonFiniteError('loss', `${owner}: step ${step}: the loss is ${loss}; no update was applied (the weights are ${previous}): ${remedy}`, step);
    }
    const bad = canReadSync() ? Object.entries(computed.grads).find(([, g]) => g.dataSync().some((v) => !Number.isFinite(v)))?.[0] : undefined;
    return new NonFiniteError('gradient', `${owner}: step ${step}: the gradient${bad ? ` of ${bad}` : ''} is not finite (loss ${loss}); no update was applied (the weights are ${previous}): ${remedy}`, step);
  };
  return {
    /** Loss and gradients of step `step` (and the verdict to read, when checking); nothing is applied yet. */
    compute(step: number): ComputedStep {
      const batch: unknown = options.data(step);
      try {
        checkBatch(owner, step, batch);
        return tf.tidy(() => {
          const { value, grads } = variableGradsOrFree(() => nll(flow, batch.x, { c: batch.c, cBase: batch.cBase, memory: options.memory }), variables);
          const raw = Object.values(grads);
          const verdict = check ? tf.stack([value, tf.mul(raw.length ? tf.addN(raw.map((g) => tf.sum(g))) : tf.scalar(0), 0)]) as tf.Tensor1D : undefined;
          const clipped = options.clipNorm === undefined ? grads : clipByGlobalNorm(grads, options.clipNorm);
          return { loss: value, grads: clipped, verdict };
        });
      } finally {
        if (batch !== null && typeof batch === 'object') {
          // Cast: whatever `data` returned is disposed, tensors or not (tf.dispose skips the rest).
          const { x, c, cBase } = batch as Partial<Batch>;
          tf.dispose([x ?? [], c ?? [], cBase ?? []] as tf.TensorContainer);
        }
      }
    },
    /**
     * Applies a computed step, after checking its verdict `[loss, 0 or NaN]`
     * when there is one; a refused step is disposed and throws. Frees the
     * gradients either way; the loss tensor stays with the caller.
     */
    apply(step: number, computed: ComputedStep, verdict?: ArrayLike<number>): void {
      try {
        if (verdict && !(Number.isFinite(verdict[0]) && verdict[1] === 0)) throw refusal(step, computed, verdict[0]);
        rates.set(step, rateFor(step));
        tf.tidy(() => optimizer.applyGradients(computed.grads));
      } catch (error) {
        computed.loss.dispose();
        throw error;
      } finally {
        tf.dispose([computed.verdict ?? [], ...Object.values(computed.grads)]);
      }
    },
    discard,
    report(step: number, loss: number): void {
      const learningRate = rates.get(step) ?? NaN;
      rates.delete(step);
      options.onStep?.(step, loss, { learningRate });
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
export function fit(flow: Trainable, options: FitOptions): number[] {
  const run = trainer('train.fit', flow, options);
  const losses: number[] = [];
  try {
    for (let step = 0; step < options.steps; step++) {
      const computed = run.compute(step);
      let value: number;
      if (computed.verdict) {
        let verdict: ArrayLike<number>;
        try {
          verdict = computed.verdict.dataSync();
        } catch (error) {
          run.discard(computed);
          throw error;
        }
        run.apply(step, computed, verdict);
        value = verdict[0];
      } else {
        run.apply(step, computed);
        value = computed.loss.dataSync()[0];
      }
      computed.loss.dispose();
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
 * is read asynchronously. With `checkFinite: false` the read overlaps the
 * next step, already queued, so a GPU is not left idle waiting for it, and
 * `onStep` and the progress bar see every step's loss in order, one step
 * late; with the check (the default) each update waits for its step's
 * verdict, so that a non-finite step is refused before it is applied.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { inn, subnets, train } from 'freia-ts';
 * const flow = inn.input([2]).allInOne({ subnet: subnets.mlp({ hidden: 64 }) }).build();
 * const losses = await train.fitAsync(flow, { steps: 100, data: () => ({ x: tf.randomNormal([100, 2]) }) });
 * ```
 */
export async function fitAsync(flow: Trainable, options: FitOptions): Promise<number[]> {
  const run = trainer('train.fitAsync', flow, options);
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
      const computed = run.compute(step);
      if (computed.verdict) {
        // Checked: the update waits for the verdict, so nothing overlaps it.
        let verdict: ArrayLike<number>;
        try {
          verdict = await computed.verdict.data();
        } catch (error) {
          run.discard(computed);
          throw error;
        }
        run.apply(step, computed, verdict);
        computed.loss.dispose();
        losses.push(verdict[0]);
        run.report(step, verdict[0]);
        continue;
      }
      run.apply(step, computed);
      const loss = computed.loss;
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
