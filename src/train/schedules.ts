/**
 * Learning-rate schedules for `train.fit`: functions from the step (0, 1,
 * …) to the learning rate, as Keras' and PyTorch's schedulers compute them.
 * Pass one as `learningRate`; the loop sets Adam's rate before every step.
 */
import { OptionError, describeValue } from '../core/errors.js';

/**
 * A learning rate per step.
 *
 * @group Training
 */
export type Schedule = (step: number) => number;

const positive = (owner: string, field: string, value: unknown): number => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new OptionError(owner, field, 'a finite number > 0', describeValue(value));
  return value;
};
const wholeNumber = (owner: string, field: string, value: unknown, min: number): number => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) throw new OptionError(owner, field, `a whole number ≥ ${min}`, describeValue(value));
  return value;
};

/**
 * Step decay: `initial · factor^⌊step / every⌋` (PyTorch's `StepLR`).
 *
 * @example
 * ```ts
 * import { train } from 'freia-ts';
 * const lr = train.schedules.stepDecay({ initial: 1e-3, every: 1000, factor: 0.5 }); // 1e-3, then 5e-4 from step 1000
 * ```
 */
export function stepDecay(options: { readonly initial: number; readonly every: number; readonly factor: number }): Schedule {
  const owner = 'train.schedules.stepDecay';
  const initial = positive(owner, 'initial', options?.initial);
  const every = wholeNumber(owner, 'every', options.every, 1);
  const factor = positive(owner, 'factor', options.factor);
  return (step) => initial * factor ** Math.floor(step / every);
}

/**
 * Exponential decay: `initial · rate^step` (PyTorch's `ExponentialLR`, one step per batch).
 *
 * @example
 * ```ts
 * import { train } from 'freia-ts';
 * const rate = train.schedules.exponential({ initial: 1e-3, rate: 0.999 });
 * rate(1000); // 1e-3 · 0.999¹⁰⁰⁰
 * ```
 */
export function exponential(options: { readonly initial: number; readonly rate: number }): Schedule {
  const owner = 'train.schedules.exponential';
  const initial = positive(owner, 'initial', options?.initial);
  const rate = positive(owner, 'rate', options.rate);
  return (step) => initial * rate ** step;
}

/**
 * Cosine decay with linear warm-up: `initial · (step + 1) / warmup` for the
 * first `warmup` steps, then `final + ½ (initial − final)(1 + cos(π t))`
 * with `t = (step − warmup) / (steps − warmup)` (SGDR's half cosine,
 * Loshchilov & Hutter 2017), and `final` after `steps`.
 *
 * @example
 * ```ts
 * import { train } from 'freia-ts';
 * const rate = train.schedules.cosine({ initial: 1e-3, steps: 10000, warmup: 500 });
 * ```
 */
export function cosine(options: { readonly initial: number; readonly steps: number; readonly warmup?: number; readonly final?: number }): Schedule {
  const owner = 'train.schedules.cosine';
  const initial = positive(owner, 'initial', options?.initial);
  const steps = wholeNumber(owner, 'steps', options.steps, 1);
  const warmup = wholeNumber(owner, 'warmup', options.warmup ?? 0, 0);
  if (warmup >= steps) throw new OptionError(owner, 'warmup', `a whole number below steps (${steps})`, describeValue(warmup));
  const final = options.final ?? 0;
  if (typeof final !== 'number' || !Number.isFinite(final) || final < 0 || final > initial) throw new OptionError(owner, 'final', `a number from 0 to initial (${initial})`, describeValue(final));
  return (step) => {
    if (step < warmup) return (initial * (step + 1)) / warmup;
    const t = Math.min(1, (step - warmup) / (steps - warmup));
    // A rate of exactly 0 would stop learning silently; the last steps keep a sliver of the final rate.
    return Math.max(final + 0.5 * (initial - final) * (1 + Math.cos(Math.PI * t)), Number.MIN_VALUE);
  };
}
