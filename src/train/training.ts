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
import { rngFrom } from '../math/rng.js';
import { batchSource, dataForm, type Batch, type BatchSource, type EpochReader, type Fetched, type FitData, type ValidationData } from './data-source.js';

/**
 * A density over data with parameters: what `dist.pullBack(flow, base)` and `dist.pushForward(flow, base)` return.
 *
 * @group Training
 */
export interface DensityModel {
  /** Its trainable variables. */
  readonly trainableVariables: readonly tf.Variable[];
  /**
   * The log-density of each sample, `[batch]`.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn, dist, subnets, type DensityModel } from 'freia-ts';
   * const model: DensityModel = dist.pullBack(inn.input([2]).glow({ subnet: subnets.mlp({ hidden: 32 }) }).build(), dist.diagonalNormal([2]));
   * const logp = model.logProb(tf.randomNormal([16, 2])); // [16]: train.nll averages and negates it
   * ```
   */
  logProb(x: tf.Tensor | readonly tf.Tensor[], options?: TransformedOptions): tf.Tensor1D;
}

/**
 * What can be trained by maximum likelihood: a flow (with the standard normal base) or a flow with its base.
 *
 * @group Training
 */
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

export type { Batch } from './data-source.js';

/** What a validation reports: the mean NLL per sample over the whole validation set. */
export interface ValidationLogs {
  readonly loss: number;
  /** Whether this is the lowest validation loss so far (the weights {@link FitOptions.keepBest} keeps). */
  readonly best: boolean;
}

/** What an epoch reports: its mean training loss and, when it ended with a validation, that loss. */
export interface EpochLogs {
  readonly loss: number;
  readonly validationLoss?: number;
}

/**
 * Options of {@link train.fit} and {@link train.fitAsync}: the data, the
 * optimizer and its schedule, the number of steps or epochs, validation,
 * clipping, early stopping, progress and cancellation.
 *
 * @group Training
 */
export interface FitOptions {
  /**
   * What to train on (`FitData`): a function `(step) => ({ x, c? })`
   * (give `steps`); rows in memory (a tensor, nested arrays, or
   * `{ x, c?, cBase? }` of them), batched by `batchSize` and shuffled every
   * epoch; or ready batches (an array or iterable of them, an async
   * iterable, a `tf.data` dataset; the async forms need {@link train.fitAsync}).
   * The fit disposes the tensors made while it fetched a batch (what `data`
   * made, the slices it cut), never a tensor that existed before.
   */
  readonly data: FitData;
  /** Steps this call runs (required for a function; otherwise the fit ends after `epochs` or these steps, whichever is first). */
  readonly steps?: number;
  /** Passes over the data (rows or batches; default 1 when `steps` is left out, otherwise as many as `steps` takes). */
  readonly epochs?: number;
  /** Samples per batch for rows in memory (default 32; the last batch of an epoch may be smaller). */
  readonly batchSize?: number;
  /** Shuffle rows in memory at the start of every epoch (default true). */
  readonly shuffle?: boolean;
  /** Seed of the shuffling (default: a new order every run). */
  readonly seed?: number;
  /**
   * The number of the first step (default 0), for a fit that resumes
   * another: `data(step)`, schedules, `onStep`, `validationEvery` and errors
   * count from here.
   */
  readonly initialStep?: number;
  /** Data to measure the validation loss on: rows or batches, as {@link FitOptions.data} takes them (no function). */
  readonly validationData?: ValidationData;
  /**
   * Validate after every this many steps (default: at the end of every
   * epoch, and for a function `data` ten times over the run); the fit also
   * validates after its last step.
   */
  readonly validationEvery?: number;
  /** Batch size for validation rows in memory (default 256). */
  readonly validationBatchSize?: number;
  /**
   * Keep the weights with the lowest validation loss (default true when
   * there is validation data): the fit ends with them, and `History.best`
   * says which step they are from.
   */
  readonly keepBest?: boolean;
  /** Stop after this many validations in a row without a new lowest loss (default: never). */
  readonly patience?: number;
  /** Stops the fit before its next step when aborted; the fit returns its history with `stopped: 'signal'`. */
  readonly signal?: {
    /** True once aborted. */
    readonly aborted: boolean;
  };
  /** Adam's learning rate (default 1e-3; the optimizer is {@link train.adam}, tfjs's Adam with one fused update). */
  readonly learningRate?: number | Schedule;
  /** Clip the gradients' global norm to this value (default: no clipping). */
  readonly clipNorm?: number;
  /**
   * Show a progress bar (default true). `stream` is where its line goes
   * (default: stderr in Node, whole lines to `console.log` in a browser);
   * the bar redraws in place when `stream.isTTY` is true.
   */
  readonly progress?:
    | boolean
    | {
        /** Printed before the bar. */
        readonly label?: string;
        /** Where the bar goes (default `process.stderr`). */
        readonly stream?: {
          /** Writes text. */
          write(chunk: string): unknown;
          /** Whether it is a terminal (the bar then redraws in place). */
          readonly isTTY?: boolean;
          /** Its width in characters. */
          readonly columns?: number;
        };
      };
  /** Called after every step with the loss and the learning rate the step used. */
  readonly onStep?: (step: number, loss: number, info: { readonly learningRate: number }) => void;
  /** Called at the end of every epoch (counted from 0) with its mean loss. */
  readonly onEpochEnd?: (epoch: number, logs: EpochLogs) => void;
  /** Called after every validation with the step it followed. */
  readonly onValidation?: (step: number, logs: ValidationLogs) => void;
  /** An optimizer instead of Adam (then leave `learningRate` out: set it on the optimizer). It is not disposed by the fit. */
  readonly optimizer?: tf.Optimizer;
  /**
   * Stop on a non-finite loss or gradient before the update is applied
   * (default true): the fit throws a {@link NonFiniteError} naming the step
   * (and the variable whose gradient is not finite), and the weights and the
   * optimizer's state are those after the previous step. The check is one
   * reduction over the gradients, read together with the loss the loop
   * reads anyway; `false` skips it, and lets {@link train.fitAsync} overlap the
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

/** What a fit returns, as tfjs-layers' `History`: one entry per step run, and the validations. */
export interface History {
  /** The loss of every step run (`loss[i]` is step `initialStep + i`). */
  readonly loss: number[];
  /** The learning rate every step used (NaN for another optimizer than train.adam's). */
  readonly learningRate: number[];
  /** Every validation: the step it followed and the mean NLL per sample. */
  readonly validation: { readonly step: number; readonly loss: number }[];
  /** The lowest validation loss and its step; with `keepBest`, the flow ends with those weights. */
  readonly best?: { readonly step: number; readonly loss: number };
  /** Epochs completed. */
  readonly epochs: number;
  /** Steps run. */
  readonly steps: number;
  /**
   * Why the fit ended: its steps or epochs done, `patience` validations
   * without improvement, the `signal`, or a stream that ran out of batches
   * before `steps` (a one-shot generator; a warning says so).
   */
  readonly stopped: 'completed' | 'patience' | 'signal' | 'exhausted';
}

/** Every option of {@link FitOptions}: `satisfies` makes a new option fail to compile until it is listed here. */
const fitOptionNames = {
  data: true, steps: true, epochs: true, batchSize: true, shuffle: true, seed: true, initialStep: true,
  validationData: true, validationEvery: true, validationBatchSize: true, keepBest: true, patience: true, signal: true,
  learningRate: true, clipNorm: true, progress: true, onStep: true, onEpochEnd: true, onValidation: true, optimizer: true, checkFinite: true, memory: true,
} as const satisfies Record<keyof FitOptions, true>;

/** Whether an optimizer is {@link Adam}: not `instanceof`, which tfjs's Optimizer answers for any optimizer (its Symbol.hasInstance). */
const isOurAdam = (optimizer: unknown): optimizer is Adam => Adam.prototype.isPrototypeOf(optimizer as object);

const isPositiveFinite = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value) && value > 0;
const isWhole = (value: unknown, least: number): boolean => typeof value === 'number' && Number.isSafeInteger(value) && value >= least;

const DATA_FORMS = 'a function (step) => ({ x, c? }), rows (a tensor, nested arrays, { x, c? }), an array or iterable of batches, an async iterable or a tf.data dataset';

/** Refuses options a fit cannot use, before anything is allocated: unknown names, wrong types, values out of range, forms that do not go together. */
function validateFitOptions(owner: string, options: FitOptions, readsSync: boolean): void {
  if (options === null || typeof options !== 'object') throw new OptionError(owner, 'options', 'an object { data, steps?, epochs?, ... }', describeValue(options));
  for (const key of Object.keys(options)) {
    if (key in fitOptionNames) continue;
    const near = didYouMean(key, Object.keys(fitOptionNames));
    throw new OptionError(owner, key, `one of ${Object.keys(fitOptionNames).join(', ')}`, 'an unknown option', `${owner}: unknown option "${key}"${near ? ` (did you mean "${near}"?)` : ''}; the options are ${Object.keys(fitOptionNames).join(', ')}`);
  }
  const { data, steps, epochs, learningRate, clipNorm, progress, optimizer, checkFinite } = options;
  const form = dataForm(data);
  if (form === undefined) throw new OptionError(owner, 'data', DATA_FORMS, describeValue(data));
  if (Array.isArray(data) && data.length === 0) throw new OptionError(owner, 'data', 'at least one row or batch', 'an empty array');
  if (readsSync && form === 'async-stream') throw new OptionError(owner, 'data', 'data read synchronously (train.fit); for an async iterable or a tf.data dataset use train.fitAsync', 'an async iterable or dataset');
  if (steps !== undefined && !isWhole(steps, 0)) throw new OptionError(owner, 'steps', 'a whole number ≥ 0', describeValue(steps));
  if (form === 'step' && steps === undefined) throw new OptionError(owner, 'steps', 'a whole number ≥ 0 (a data function has no end of its own)', 'undefined');
  if (epochs !== undefined) {
    if (form === 'step') throw new OptionError(owner, 'epochs', 'left out for a data function (it has no epochs: give steps)', describeValue(epochs));
    if (!isWhole(epochs, 1)) throw new OptionError(owner, 'epochs', 'a whole number ≥ 1', describeValue(epochs));
  }
  for (const name of ['batchSize', 'shuffle', 'seed'] as const) {
    if (options[name] !== undefined && form !== 'rows') throw new OptionError(owner, name, `left out: ${name} applies to rows in memory, and this data ${form === 'step' ? 'is a function of the step' : 'gives ready batches'}`, describeValue(options[name]));
  }
  if (options.batchSize !== undefined && !isWhole(options.batchSize, 1)) throw new OptionError(owner, 'batchSize', 'a whole number ≥ 1', describeValue(options.batchSize));
  if (options.shuffle !== undefined && typeof options.shuffle !== 'boolean') throw new OptionError(owner, 'shuffle', 'true or false', describeValue(options.shuffle));
  if (options.seed !== undefined && !isWhole(options.seed, 0)) throw new OptionError(owner, 'seed', 'a whole number ≥ 0', describeValue(options.seed));
  if (options.initialStep !== undefined && !isWhole(options.initialStep, 0)) throw new OptionError(owner, 'initialStep', 'a whole number ≥ 0', describeValue(options.initialStep));
  const validationForm = options.validationData === undefined ? undefined : dataForm(options.validationData);
  if (options.validationData !== undefined) {
    if (Array.isArray(options.validationData) && options.validationData.length === 0) throw new OptionError(owner, 'validationData', 'at least one row or batch', 'an empty array');
    if (validationForm === undefined || validationForm === 'step') throw new OptionError(owner, 'validationData', 'rows (a tensor, nested arrays, { x, c? }), an array or iterable of batches, an async iterable or a tf.data dataset', describeValue(options.validationData));
    if (readsSync && validationForm === 'async-stream') throw new OptionError(owner, 'validationData', 'data read synchronously (train.fit); for an async iterable or a tf.data dataset use train.fitAsync', 'an async iterable or dataset');
  }
  for (const name of ['validationEvery', 'validationBatchSize', 'patience'] as const) {
    const value = options[name];
    if (value === undefined) continue;
    if (options.validationData === undefined) throw new OptionError(owner, name, 'left out without validationData', describeValue(value));
    if (!isWhole(value, 1)) throw new OptionError(owner, name, 'a whole number ≥ 1', describeValue(value));
  }
  if (options.validationBatchSize !== undefined && validationForm !== 'rows') throw new OptionError(owner, 'validationBatchSize', 'left out: it applies to validation rows in memory, and this validation data gives ready batches', describeValue(options.validationBatchSize));
  if (options.keepBest !== undefined) {
    if (typeof options.keepBest !== 'boolean') throw new OptionError(owner, 'keepBest', 'true or false', describeValue(options.keepBest));
    if (options.keepBest && options.validationData === undefined) throw new OptionError(owner, 'keepBest', 'false or left out without validationData (the best weights are those of the lowest validation loss)', 'true');
  }
  if (options.signal !== undefined && (options.signal === null || typeof options.signal !== 'object' || typeof options.signal.aborted !== 'boolean')) throw new OptionError(owner, 'signal', 'an AbortSignal (or { aborted: boolean })', describeValue(options.signal));
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
  for (const name of ['onStep', 'onEpochEnd', 'onValidation'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') throw new OptionError(owner, name, 'a function', describeValue(options[name]));
  }
  if (optimizer !== undefined && !(optimizer instanceof tf.Optimizer)) throw new OptionError(owner, 'optimizer', 'a tf.Optimizer', describeValue(optimizer));
  if (checkFinite !== undefined && typeof checkFinite !== 'boolean') throw new OptionError(owner, 'checkFinite', 'true or false', describeValue(checkFinite));
  if (options.memory !== undefined && options.memory !== 'store' && options.memory !== 'invert') throw new OptionError(owner, 'memory', "'store' or 'invert'", describeValue(options.memory));
}

/** A batch as the data must give it: `{ x, c? }` with live tensors. `what` names it: `data(3) must return` or `the data's batch must be`. */
function checkBatch(owner: string, what: string, batch: unknown): asserts batch is Batch {
  const live = (t: unknown) => (t instanceof tf.Tensor && !t.isDisposed) || (Array.isArray(t) && t.length > 0 && t.every((u) => u instanceof tf.Tensor && !u.isDisposed));
  const ok = batch !== null && typeof batch === 'object' && live((batch as Batch).x) && ((batch as Batch).c === undefined || live((batch as Batch).c))
    && ((batch as Batch).cBase === undefined || live((batch as Batch).cBase));
  // Casts: `batch` is unknown until this check; the properties are only read to describe it.
  if (!ok) throw new FreiaError(`${owner}: ${what} { x, c? } holding live tensors, got ${batch !== null && typeof batch === 'object' ? `{ x: ${describeValue((batch as Batch).x)}, c: ${describeValue((batch as Batch).c)} }` : describeValue(batch)}`);
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

/**
 * Scales gradients so that their global L2 norm is at most `maxNorm` (as `torch.nn.utils.clip_grad_norm_`).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { train } from 'freia-ts';
 * const grads = { w: tf.tensor([3, 4]) };
 * const clipped = train.clipByGlobalNorm(grads, 1); // { w: [0.6, 0.8] }
 * ```
 */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number): Record<string, tf.Tensor> {
  return tf.tidy(() => {
    const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))));
    const factor = tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1);
    return Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.mul(g, factor)]));
  });
}

/**
 * What the training session asks of its driver; the sync driver answers at
 * once, the async one awaits. `loss`: a step's loss to read and report (the
 * async driver may let it overlap the next step); `settle`: report every
 * loss still being read, before anything that needs them in order.
 */
type Request =
  | { readonly kind: 'fetch'; readonly reader: EpochReader }
  | { readonly kind: 'read'; readonly tensor: tf.Tensor }
  | { readonly kind: 'loss'; readonly step: number; readonly loss: tf.Scalar }
  | { readonly kind: 'settle' };

/** A session's steps as requests, and where the driver reports each loss it read. */
interface Session {
  readonly requests: Generator<Request, History, unknown>;
  record(step: number, loss: number): void;
}

/** The number of samples of a batch: the first axis of its (first) input. */
const samplesOf = (batch: Batch): number => (Array.isArray(batch.x) ? (batch.x as readonly tf.Tensor[])[0] : (batch.x as tf.Tensor)).shape[0] ?? 1;

/**
 * One fit, written once for both drivers: options checked, data prepared,
 * then every epoch's steps, validations and callbacks, as requests for
 * batches and reads. Whatever it allocated is freed when it ends, however it
 * ends.
 */
function session(owner: string, flow: Trainable, options: FitOptions, readsSync: boolean): Session {
  validateFitOptions(owner, options, readsSync);
  const variables = [...flow.trainableVariables];
  const check = options.checkFinite ?? true;
  const initialStep = options.initialStep ?? 0;
  const schedule = typeof options.learningRate === 'function' ? options.learningRate : undefined;
  const keepBest = options.keepBest ?? options.validationData !== undefined;
  const history = { loss: [] as number[], learningRate: [] as number[], validation: [] as { step: number; loss: number }[], best: undefined as { step: number; loss: number } | undefined };
  /** The rate each applied step used, until its report (fitAsync may compute a step before the last is reported). */
  const rates = new Map<number, number>();
  let bar: ProgressBar | undefined;

  const record = (step: number, loss: number): void => {
    const learningRate = rates.get(step) ?? NaN;
    rates.delete(step);
    history.loss.push(loss);
    history.learningRate.push(learningRate);
    options.onStep?.(step, loss, { learningRate });
    bar?.tick(1, { loss });
  };

  function* requests(): Generator<Request, History, unknown> {
    let source: BatchSource | undefined;
    let validationSource: BatchSource | undefined;
    let optimizer: tf.Optimizer | undefined;
    let snapshot: tf.Tensor[] | undefined;
    try {
      source = batchSource(owner, 'data', options.data, { batchSize: options.batchSize ?? 32, shuffle: options.shuffle ?? true, rng: rngFrom(options.seed) });
      if (options.validationData !== undefined) {
        validationSource = batchSource(owner, 'validationData', options.validationData, { batchSize: options.validationBatchSize ?? 256, shuffle: false, rng: rngFrom(0) });
      }
      // A schedule's first rate is set before the first step; a fixed rate is Adam's from the start.
      optimizer = options.optimizer ?? adam(typeof options.learningRate === 'number' ? options.learningRate : 1e-3);
      const theOptimizer = optimizer;
      const end = options.steps === undefined ? Infinity : initialStep + options.steps;
      const maxEpochs = source.kind === 'step' ? 1 : options.epochs ?? (options.steps === undefined ? 1 : Infinity);
      const perEpoch = source.batchesPerEpoch;
      const total = options.steps !== undefined
        ? Math.min(options.steps, perEpoch !== undefined && Number.isFinite(maxEpochs) ? perEpoch * maxEpochs : Infinity)
        : perEpoch !== undefined ? perEpoch * maxEpochs : undefined;
      const validationEvery = options.validationEvery ?? (source.kind === 'step' && options.steps !== undefined ? Math.max(1, Math.ceil(options.steps / 10)) : undefined);
      const progressOption = options.progress ?? true;
      if (progressOption) {
        bar = new ProgressBar({ total, label: typeof progressOption === 'object' ? progressOption.label ?? 'train' : 'train', stream: typeof progressOption === 'object' ? progressOption.stream : undefined });
      }

      /** The rate of step `step`: the schedule's (checked), or the optimizer's own. */
      const rateFor = (step: number): number => {
        if (!schedule) return isOurAdam(theOptimizer) ? theOptimizer.learningRate : NaN;
        const rate = schedule(step);
        if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0) throw new OptionError(owner, 'learningRate', `a schedule giving a finite rate > 0 (step ${step}; no update was applied)`, describeValue(rate));
        (theOptimizer as Adam).learningRate = rate; // cast: validateFitOptions allows a schedule only with our Adam
        return rate;
      };

      /** The error for a refused step; reads the gradients (only on this path, only where it may) to name the first bad variable. */
      const refusal = (step: number, grads: tf.NamedTensorMap, loss: number): NonFiniteError => {
        const previous = step === initialStep ? 'as before the fit' : `those after step ${step - 1}`;
        const remedy = 'lower the learning rate, clip the gradients (clipNorm), or check the batch for NaN and Infinity';
        if (!Number.isFinite(loss)) {
          return new NonFiniteError('loss', `${owner}: step ${step}: the loss is ${loss}; no update was applied (the weights are ${previous}): ${remedy}`, step);
        }
        const bad = canReadSync() ? Object.entries(grads).find(([, g]) => g.dataSync().some((v) => !Number.isFinite(v)))?.[0] : undefined;
        return new NonFiniteError('gradient', `${owner}: step ${step}: the gradient${bad ? ` of ${bad}` : ''} is not finite (loss ${loss}); no update was applied (the weights are ${previous}): ${remedy}`, step);
      };

      /** One step on a fetched batch: loss and gradients, the verdict read where checking, the update, the loss reported. */
      function* trainStep(step: number, fetched: Fetched): Generator<Request, void, unknown> {
        let loss: tf.Scalar;
        let grads: tf.NamedTensorMap;
        let verdict: tf.Tensor1D | undefined;
        try {
          checkBatch(owner, source?.kind === 'step' ? `step ${step}: data(${step}) must return` : `step ${step}: the data's batch must be`, fetched.batch);
          const batch = fetched.batch;
          ({ loss, grads, verdict } = tf.tidy(() => {
            const { value, grads: raw } = variableGradsOrFree(() => nll(flow, batch.x, { c: batch.c, cBase: batch.cBase, memory: options.memory }), variables);
            const all = Object.values(raw);
            // The raw gradients' sum times zero: 0 when every gradient is finite, NaN otherwise; read with the loss.
            const verdictTensor = check ? tf.stack([value, tf.mul(all.length ? tf.addN(all.map((g) => tf.sum(g))) : tf.scalar(0), 0)]) as tf.Tensor1D : undefined;
            const clipped = options.clipNorm === undefined ? raw : clipByGlobalNorm(raw, options.clipNorm);
            return { loss: value, grads: clipped, verdict: verdictTensor };
          }));
        } finally {
          tf.dispose(fetched.owned);
        }
        let handedOver = false;
        try {
          let lossValue: number | undefined;
          if (verdict) {
            const read = (yield { kind: 'read', tensor: verdict }) as ArrayLike<number>; // cast: a read is answered with the tensor's values
            if (!(Number.isFinite(read[0]) && read[1] === 0)) throw refusal(step, grads, read[0]);
            lossValue = read[0];
          }
          rates.set(step, rateFor(step));
          tf.tidy(() => theOptimizer.applyGradients(grads));
          tf.dispose([verdict ?? [], ...Object.values(grads)]);
          verdict = undefined;
          grads = {};
          if (lossValue !== undefined) {
            record(step, lossValue);
          } else {
            handedOver = true;
            yield { kind: 'loss', step, loss };
          }
        } finally {
          tf.dispose([verdict ?? [], ...Object.values(grads)]);
          if (!handedOver) loss.dispose();
        }
      }

      let sinceBest = 0;
      /** The validation loss after step `step`: Σ (mean NLL × samples) / samples, summed on tensors and read once. */
      function* validate(step: number): Generator<Request, ValidationLogs | undefined, unknown> {
        if (!validationSource) return undefined;
        yield { kind: 'settle' };
        const reader = validationSource.epoch(0);
        let sum: tf.Scalar | undefined;
        let count = 0;
        try {
          for (;;) {
            const fetched = (yield { kind: 'fetch', reader }) as Fetched | undefined; // cast: a fetch is answered with the next batch
            if (!fetched) break;
            try {
              checkBatch(owner, `validation after step ${step}: the validation data's batch must be`, fetched.batch);
              const batch = fetched.batch;
              const n = samplesOf(batch);
              const previous: tf.Scalar | undefined = sum;
              sum = tf.tidy(() => {
                const term = tf.mul(nll(flow, batch.x, { c: batch.c, cBase: batch.cBase }), n) as tf.Scalar;
                return previous ? tf.add(previous, term) as tf.Scalar : term;
              });
              previous?.dispose();
              count += n;
            } finally {
              tf.dispose(fetched.owned);
            }
          }
          if (sum === undefined || count === 0) throw new OptionError(owner, 'validationData', 'at least one batch with samples', 'no batches');
          const read = (yield { kind: 'read', tensor: sum }) as ArrayLike<number>; // cast: a read is answered with the tensor's values
          const loss = read[0] / count;
          const best = history.best === undefined || loss < history.best.loss;
          history.validation.push({ step, loss });
          if (best) {
            history.best = { step, loss };
            sinceBest = 0;
            if (keepBest) {
              tf.dispose(snapshot ?? []);
              snapshot = variables.map((v) => tf.clone(v));
            }
          } else {
            sinceBest++;
          }
          const logs = { loss, best };
          options.onValidation?.(step, logs);
          return logs;
        } finally {
          sum?.dispose();
        }
      }

      let step = initialStep;
      let epochs = 0;
      let stopped: History['stopped'] = 'completed';
      let lastValidated = -1;
      const stopForPatience = () => options.patience !== undefined && sinceBest >= options.patience;
      training: while (epochs < maxEpochs && step < end) {
        const reader = source.epoch(step);
        const firstLoss = history.loss.length;
        let batches = 0;
        let ended = false;
        while (step < end) {
          if (options.signal?.aborted) {
            stopped = 'signal';
            break training;
          }
          const fetched = (yield { kind: 'fetch', reader }) as Fetched | undefined; // cast: a fetch is answered with the next batch
          if (!fetched) {
            ended = true;
            break;
          }
          batches++;
          yield* trainStep(step, fetched);
          step++;
          if (validationEvery !== undefined && (step - initialStep) % validationEvery === 0) {
            yield* validate(step - 1);
            lastValidated = step - 1;
            if (stopForPatience()) {
              stopped = 'patience';
              break training;
            }
          }
        }
        if (batches === 0) {
          if (epochs === 0) throw new OptionError(owner, 'data', 'at least one batch', 'no batches');
          // A one-shot generator gives one epoch; tfjs-layers warns and stops likewise.
          console.warn(`${owner}: the data ran out of batches after ${step - initialStep} steps (epoch ${epochs + 1} gave none); give steps ≤ one pass, or data that can be read again (an array, rows, a dataset)`);
          stopped = 'exhausted';
          break;
        }
        if (!ended && !(perEpoch !== undefined && batches === perEpoch)) break;
        epochs++;
        yield { kind: 'settle' };
        let validationLoss: number | undefined;
        if (validationEvery === undefined && validationSource) {
          validationLoss = (yield* validate(step - 1))?.loss;
          lastValidated = step - 1;
        }
        const epochLosses = history.loss.slice(firstLoss);
        options.onEpochEnd?.(epochs - 1, { loss: epochLosses.reduce((a, b) => a + b, 0) / epochLosses.length, ...(validationLoss === undefined ? {} : { validationLoss }) });
        if (stopForPatience()) {
          stopped = 'patience';
          break;
        }
      }
      yield { kind: 'settle' };
      if (validationSource && stopped !== 'signal' && step > initialStep && lastValidated !== step - 1) yield* validate(step - 1);
      if (keepBest && snapshot && history.best && history.best.step !== step - 1) {
        const kept = snapshot;
        tf.tidy(() => variables.forEach((v, k) => v.assign(kept[k])));
      }
      return { loss: history.loss, learningRate: history.learningRate, validation: history.validation, ...(history.best ? { best: history.best } : {}), epochs, steps: step - initialStep, stopped };
    } finally {
      bar?.done();
      tf.dispose(snapshot ?? []);
      source?.dispose();
      validationSource?.dispose();
      if (optimizer && !options.optimizer) optimizer.dispose();
    }
  }
  return { requests: requests(), record };
}

/** Runs a session answering each request at once: batches read and values read synchronously. */
function driveSync(run: Session): History {
  const answer = (request: Request): unknown => {
    switch (request.kind) {
      case 'fetch': return request.reader.nextSync();
      case 'read': return request.tensor.dataSync();
      case 'loss': {
        let value: number;
        try {
          value = request.loss.dataSync()[0];
        } finally {
          request.loss.dispose();
        }
        run.record(request.step, value);
        return undefined;
      }
      case 'settle': return undefined;
    }
  };
  let result = run.requests.next();
  while (!result.done) {
    let reply: unknown;
    let failure: { error: unknown } | undefined;
    try {
      reply = answer(result.value);
    } catch (error) {
      failure = { error };
    }
    result = failure ? run.requests.throw(failure.error) : run.requests.next(reply);
  }
  return result.value;
}

/** Runs a session with awaited reads; a loss's read overlaps the next step until something needs it in order. */
async function driveAsync(run: Session): Promise<History> {
  let pending: { step: number; loss: tf.Scalar; value: Promise<tf.backend_util.TypedArray> } | undefined;
  const settle = async () => {
    if (!pending) return;
    const { step, loss, value } = pending;
    pending = undefined;
    try {
      run.record(step, (await value)[0]);
    } finally {
      loss.dispose();
    }
  };
  const answer = async (request: Request): Promise<unknown> => {
    switch (request.kind) {
      case 'fetch': return request.reader.next();
      case 'read':
        await settle();
        return request.tensor.data();
      case 'loss': {
        const previous = settle();
        const value = request.loss.data();
        // Its rejection is handled when it is settled; this keeps Node from calling it unhandled meanwhile.
        value.catch(() => undefined);
        pending = { step: request.step, loss: request.loss, value };
        await previous;
        return undefined;
      }
      case 'settle':
        await settle();
        return undefined;
    }
  };
  try {
    let result = run.requests.next();
    while (!result.done) {
      let reply: unknown;
      let failure: { error: unknown } | undefined;
      try {
        reply = await answer(result.value);
      } catch (error) {
        failure = { error };
      }
      result = failure ? run.requests.throw(failure.error) : run.requests.next(reply);
    }
    return result.value;
  } finally {
    pending?.loss.dispose();
  }
}

/**
 * Trains `flow` by maximum likelihood, as tfjs-layers' `model.fit`: on rows
 * batched and shuffled per epoch, on ready batches, or on a function of the
 * step; with validation, best-weight keeping, early stopping, schedules and
 * clipping. Returns the `History`. It reads each step's loss
 * synchronously: on WebGPU in Node, which cannot, and for async data, use
 * {@link train.fitAsync}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { inn, subnets, train } from 'freia-ts';
 * const flow = inn.input([2]).allInOne({ subnet: subnets.mlp({ hidden: 64 }) }).build();
 * const points = tf.randomNormal([1000, 2]);
 * const history = train.fit(flow, { data: points, epochs: 5, batchSize: 100, validationData: tf.randomNormal([200, 2]), progress: false });
 * console.log(history.loss.length, history.best); // 50 steps; the best validation loss and its step
 * ```
 */
export function fit(flow: Trainable, options: FitOptions): History {
  return driveSync(session('train.fit', flow, options, true));
}

/**
 * {@link train.fit} for every backend, WebGPU in Node included, and for async data
 * (async iterables, `tf.data` datasets): each step's loss is read
 * asynchronously. With `checkFinite: false` the read overlaps the next step,
 * already queued, so a GPU is not left idle waiting for it, and `onStep` and
 * the progress bar see every step's loss in order, one step late; with the
 * check (the default) each update waits for its step's verdict, so that a
 * non-finite step is refused before it is applied.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { inn, subnets, train } from 'freia-ts';
 * const flow = inn.input([2]).allInOne({ subnet: subnets.mlp({ hidden: 64 }) }).build();
 * const batches = tf.data.array([...Array(1000)].map(() => [Math.random(), Math.random()])).batch(100);
 * const history = await train.fitAsync(flow, { data: batches, epochs: 2, progress: false });
 * ```
 */
export async function fitAsync(flow: Trainable, options: FitOptions): Promise<History> {
  return driveAsync(session('train.fitAsync', flow, options, false));
}
