/**
 * Distributions: base distributions for flows (standard, diagonal,
 * class-conditional and mixture normals, a uniform box) and FrEIA's two
 * transformed distributions, the push-forward and the pull-back of a base
 * through a flow.
 *
 * Shapes are typed as the builder types them: `dist.diagonalNormal([2])` is
 * a `Distribution<[[2]]>`, and `dist.pullBack(flow, base)` compiles only if
 * the base lives on the flow's output shapes.
 */
import * as tf from '@tensorflow/tfjs';
import type { Shape } from '../core/graph.js';
import { ShapeMismatchError, ValidationError, formatShape } from '../core/errors.js';
import { describeValue } from '../core/validation.js';
import type { MutableShape } from '../types/shape.js';
import type { AnyFlow, Flow, GradientMemory, Tensors } from '../runtime/flow.js';

const LOG_2PI = Math.log(2 * Math.PI);

function asList(t: tf.Tensor | readonly tf.Tensor[]): tf.Tensor[] {
  return t instanceof tf.Tensor ? [t] : [...t];
}

/** One tensor for one shape, a list for several: how flows take and return tensors. */
function asTensors<S extends readonly Shape[]>(list: tf.Tensor[]): Tensors<S> {
  // Tensors<S> is a lone tensor for one shape and a list otherwise, which is what this returns.
  return (list.length === 1 ? list[0] : list) as unknown as Tensors<S>;
}

/**
 * Per-sample `log N(z; 0, I)` summed over every non-batch dimension of every tensor, including the `log 2π` constant.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { dist } from 'freia-ts';
 * const logp = dist.standardNormalLogProb(tf.zeros([3, 2])); // [3]: each −log 2π
 * ```
 */
export function standardNormalLogProb(z: tf.Tensor | readonly tf.Tensor[]): tf.Tensor1D {
  return tf.tidy(() => {
    const parts = asList(z).map((t) => {
      const flat = tf.reshape(t, [t.shape[0], -1]);
      return tf.sub(tf.mul(tf.sum(tf.square(flat), 1), -0.5), (0.5 * LOG_2PI) * flat.shape[1]!);
    });
    return parts.reduce((a, b) => tf.add(a, b)) as tf.Tensor1D;
  });
}

/**
 * What `sample` takes.
 *
 * @group Distributions
 */
export interface SampleOptions {
  /**
   * Scales the base's spread (default 1): the standard deviations of normal
   * bases (Glow's temperature, Kingma & Dhariwal 2018), each component's for
   * a mixture, the box about its centre for a uniform base.
   */
  readonly temperature?: number;
  /** Seed of the draws (default: tfjs's global random state). */
  readonly seed?: number;
  /** The base's condition, for a conditional base (a one-hot class `[n, K]` for {@link ClassConditionalNormal}). */
  readonly cBase?: tf.Tensor;
}

/**
 * What `logProb` takes.
 *
 * @group Distributions
 */
export interface LogProbOptions {
  /** The base's condition, for a conditional base. */
  readonly cBase?: tf.Tensor;
}

/**
 * A distribution on one or more shapes (without batch), in the layout flows
 * use (channels first). `logProb` returns one value per sample, `[batch]`.
 *
 * @group Distributions
 */
export interface Distribution<S extends readonly Shape[] = readonly Shape[]> {
  /** The shapes of the samples, without batch. */
  readonly shapes: S;
  /** The shape of the condition a conditional base reads (`cBase`), or undefined. */
  readonly conditionShape: Shape | undefined;
  /** Parameters that train with the flow (empty for fixed bases). */
  readonly trainableVariables: readonly tf.Variable[];
  /**
   * The log-density of each sample, `[batch]`.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { dist, type Distribution } from 'freia-ts';
   * const base: Distribution<[[2]]> = dist.diagonalNormal([2]);
   * const logp = base.logProb(tf.randomNormal([16, 2])); // [16]
   * ```
   */
  logProb(z: Tensors<S> | readonly tf.Tensor[], options?: LogProbOptions): tf.Tensor1D;
  /**
   * `n` samples, `[n, ...shape]` for each shape.
   *
   * @example
   * ```ts
   * import { dist, type Distribution } from 'freia-ts';
   * const base: Distribution<[[2]]> = dist.gaussianMixture([2], 3);
   * const z = base.sample(16, { temperature: 0.8, seed: 1 }); // [16, 2]
   * ```
   */
  sample(n: number, options?: SampleOptions): Tensors<S>;
  /**
   * What the base is, as JSON data: enough to make it again (its weights are {@link Distribution.variables}).
   *
   * @example
   * ```ts
   * import { dist, type Distribution } from 'freia-ts';
   * const base: Distribution<[[2]]> = dist.uniformBox([2], -1, 1);
   * console.log(JSON.stringify(base.describe())); // {"kind":"UniformBox","shape":[2],"low":[-1,-1],"high":[1,1]}
   * ```
   */
  describe(): BaseDescription;
  /** Every parameter by name (saved with the model). */
  readonly variables: ReadonlyMap<string, tf.Variable>;
  /**
   * Frees the parameters.
   *
   * @example
   * ```ts
   * import { dist, type Distribution } from 'freia-ts';
   * const base: Distribution<[[2]]> = dist.diagonalNormal([2]);
   * base.dispose(); // frees its mean and log-scale
   * ```
   */
  dispose(): void;
}

/**
 * A base as saved with its flow (`saveModel`): its kind and what its constructor took.
 *
 * @group Distributions
 */
export type BaseDescription =
  | {
    /** Which base. */
    readonly kind: 'StandardNormal';
    /** Its shapes. */
    readonly shapes: readonly Shape[];
  }
  | {
    /** Which base. */
    readonly kind: 'DiagonalNormal';
    /** Its shape. */
    readonly shape: Shape;
    /** Whether μ and σ train. */
    readonly trainable: boolean;
  }
  | {
    /** Which base. */
    readonly kind: 'ClassConditionalNormal';
    /** Its shape. */
    readonly shape: Shape;
    /** The number of classes. */
    readonly classes: number;
  }
  | {
    /** Which base. */
    readonly kind: 'GaussianMixture';
    /** Its shape. */
    readonly shape: Shape;
    /** The number of components. */
    readonly components: number;
  }
  | {
    /** Which base. */
    readonly kind: 'UniformBox';
    /** Its shape. */
    readonly shape: Shape;
    /** The box's lower corner, per element. */
    readonly low: readonly number[];
    /** The box's upper corner, per element. */
    readonly high: readonly number[];
  };

function checkCount(owner: string, n: unknown): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) throw new ValidationError(owner, 'n', 'a whole number of samples >= 1', describeValue(n));
  return n;
}

function checkTemperature(owner: string, temperature: unknown): number {
  if (temperature === undefined) return 1;
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature <= 0) throw new ValidationError(owner, 'temperature', 'a finite number > 0', describeValue(temperature));
  return temperature;
}

/** Checks the tensors a base is evaluated on: one per shape, batch first, the same batch. */
function checkSamples(owner: string, shapes: readonly Shape[], z: tf.Tensor | readonly tf.Tensor[]): tf.Tensor[] {
  const list = asList(z);
  if (list.length !== shapes.length) throw new ShapeMismatchError(owner, `${shapes.length} tensor(s) of shapes ${shapes.map(formatShape).join(', ')}`, `${list.length}`);
  list.forEach((t, k) => {
    const expected = [t.shape[0], ...shapes[k]];
    if (!(t instanceof tf.Tensor) || t.rank !== expected.length || t.shape.some((d, j) => d !== expected[j]) || t.shape[0] !== list[0].shape[0]) {
      throw new ShapeMismatchError(`${owner}: tensor ${k}`, `[batch, ${shapes[k].join(', ')}]`, t instanceof tf.Tensor ? formatShape(t.shape) : describeValue(t));
    }
  });
  return list;
}

const sizeOf = (shape: Shape) => shape.reduce((a, b) => a * b, 1);

/**
 * The standard normal `N(0, I)` on one or more shapes.
 *
 * @example
 * ```ts
 * import { dist } from 'freia-ts';
 * const base = dist.standardNormal([2]);
 * const z = base.sample(8, { temperature: 0.7 });
 * const logp = base.logProb(z); // [8]
 * ```
 *
 * @group Distributions
 */
export class StandardNormal<S extends readonly Shape[] = readonly Shape[]> implements Distribution<S> {
  readonly conditionShape = undefined;
  readonly trainableVariables: readonly tf.Variable[] = [];
  constructor(readonly shapes: S) {}

  /**
   * `n` draws per shape, `z = T · ε`, `ε ~ N(0, I)`.
   *
   * @example
   * ```ts
   * import { dist } from 'freia-ts';
   * const [a, b] = dist.standardNormal([2], [3, 4, 4]).sample(8); // [8, 2] and [8, 3, 4, 4]
   * const cooler = dist.standardNormal([2]).sample(8, { temperature: 0.7, seed: 0 }); // σ = 0.7
   * ```
   */
  sample(n: number, options: SampleOptions = {}): Tensors<S> {
    checkCount('StandardNormal.sample', n);
    const t = checkTemperature('StandardNormal.sample', options.temperature);
    return asTensors<S>(this.shapes.map((s, k) => tf.randomNormal([n, ...s], 0, t, 'float32', options.seed === undefined ? undefined : options.seed + k)));
  }

  /**
   * `Σ log N(z; 0, 1)` over every element of every tensor, per sample.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { dist } from 'freia-ts';
   * const base = dist.standardNormal([2], [3, 4, 4]);
   * const logp = base.logProb([tf.zeros([8, 2]), tf.zeros([8, 3, 4, 4])]); // [8]: each −25 log 2π
   * ```
   */
  logProb(z: Tensors<S> | readonly tf.Tensor[]): tf.Tensor1D {
    return standardNormalLogProb(checkSamples('StandardNormal.logProb', this.shapes, z as tf.Tensor | tf.Tensor[]));
  }

  /**
   * Its kind and shapes.
   *
   * @example
   * ```ts
   * import { dist } from 'freia-ts';
   * dist.standardNormal([2], [3, 4, 4]).describe(); // { kind: 'StandardNormal', shapes: [[2], [3, 4, 4]] }
   * ```
   */
  describe(): BaseDescription {
    return { kind: 'StandardNormal', shapes: this.shapes.map((s) => [...s]) };
  }

  readonly variables: ReadonlyMap<string, tf.Variable> = new Map();

  /**
   * Nothing to free: the standard normal has no parameters.
   *
   * @example
   * ```ts
   * import { dist } from 'freia-ts';
   * dist.standardNormal([2]).dispose(); // a no-op, for code that handles any Distribution
   * ```
   */
  dispose(): void {}
}

/**
 * A normal with a learned mean and log-scale per element:
 * `log p(z) = Σ [−½((z − μ)/σ)² − log σ − ½ log 2π]`, `σ = exp(logScale)`.
 * Starts as the standard normal.
 *
 * @group Distributions
 */
export class DiagonalNormal<S extends readonly [Shape] = readonly [Shape]> implements Distribution<S> {
  readonly conditionShape = undefined;
  /** The mean μ, `[...shape]`. */
  readonly mean: tf.Variable;
  /** The log standard deviation log σ, `[...shape]`. */
  readonly logScale: tf.Variable;
  readonly shapes: S;

  constructor(shape: Shape, options: { readonly trainable?: boolean } = {}) {
    this.shapes = [shape] as unknown as S; // one shape: the tuple S is [shape]
    const trainable = options.trainable ?? true;
    this.mean = tf.tidy(() => tf.variable(tf.zeros([...shape]), trainable));
    this.logScale = tf.tidy(() => tf.variable(tf.zeros([...shape]), trainable));
  }

  get trainableVariables(): readonly tf.Variable[] {
    return [this.mean, this.logScale].filter((v) => v.trainable);
  }

  /**
   * `n` draws `z = μ + T · σ · ε`, `ε ~ N(0, I)`, `[n, ...shape]`.
   *
   * @example
   * ```ts
   * import { dist } from 'freia-ts';
   * const base = dist.diagonalNormal([2]);
   * const z = base.sample(8, { seed: 0 }); // [8, 2]
   * ```
   */
  sample(n: number, options: SampleOptions = {}): Tensors<S> {
    checkCount('DiagonalNormal.sample', n);
    const t = checkTemperature('DiagonalNormal.sample', options.temperature);
    return asTensors<S>([tf.tidy(() => tf.add(this.mean, tf.mul(tf.mul(tf.exp(this.logScale), t), tf.randomNormal([n, ...this.shapes[0]], 0, 1, 'float32', options.seed))))]);
  }

  /**
   * `Σ [−½((z − μ)/σ)² − log σ − ½ log 2π]` per sample, `[batch]`.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { dist } from 'freia-ts';
   * const base = dist.diagonalNormal([2]);
   * const logp = base.logProb(tf.randomNormal([16, 2])); // [16]; gradients reach base.mean and base.logScale
   * ```
   */
  logProb(z: Tensors<S> | readonly tf.Tensor[]): tf.Tensor1D {
    const [x] = checkSamples('DiagonalNormal.logProb', this.shapes, z as tf.Tensor | tf.Tensor[]);
    return tf.tidy(() => normalLogProb(x, this.mean, this.logScale));
  }

  /**
   * Its kind, shape and whether it trains (μ and σ are its {@link DiagonalNormal.variables}).
   *
   * @example
   * ```ts
   * import { dist } from 'freia-ts';
   * dist.diagonalNormal([2]).describe(); // { kind: 'DiagonalNormal', shape: [2], trainable: true }
   * ```
   */
  describe(): BaseDescription {
    return { kind: 'DiagonalNormal', shape: [...this.shapes[0]], trainable: this.mean.trainable };
  }

  get variables(): ReadonlyMap<string, tf.Variable> {
    return new Map([['mean', this.mean], ['log_scale', this.logScale]]);
  }

  /**
   * Frees μ and log σ.
   *
   * @example
   * ```ts
   * import { dist } from 'freia-ts';
   * const base = dist.diagonalNormal([2]);
   * base.dispose(); // base.mean and base.logScale are freed
   * ```
   */
  dispose(): void {
    tf.dispose([this.mean, this.logScale]);
  }
}

/** `Σ log N(x; μ, exp(logScale))` per sample, over every non-batch element. */
function normalLogProb(x: tf.Tensor, mean: tf.Tensor, logScale: tf.Tensor): tf.Tensor1D {
  const u = tf.mul(tf.sub(x, mean), tf.exp(tf.neg(logScale)));
  const elementwise = tf.sub(tf.sub(tf.mul(tf.square(u), -0.5), tf.add(logScale, tf.zerosLike(x))), 0.5 * LOG_2PI);
  return tf.sum(tf.reshape(elementwise, [x.shape[0], -1]), 1) as tf.Tensor1D;
}

/**
 * A diagonal normal whose mean and log-scale are read from a condition
 * `c: [K]` (a one-hot class, or class weights), linearly:
 * `μ = c · M`, `log σ = c · L` with learned `M, L: [K, ...shape]`. For a
 * one-hot `c` that is one learned normal per class. Starts as the standard
 * normal for every class.
 *
 * @group Distributions
 */
export class ClassConditionalNormal<S extends readonly [Shape] = readonly [Shape]> implements Distribution<S> {
  /** The mean of each class, `[classes, ...shape]`. */
  readonly means: tf.Variable;
  /** The log standard deviation of each class, `[classes, ...shape]`. */
  readonly logScales: tf.Variable;
  readonly shapes: S;
  readonly conditionShape: Shape;

  /** @param classes - The number of classes. */
  constructor(shape: Shape, readonly classes: number) {
    if (!Number.isSafeInteger(classes) || classes < 1) throw new ValidationError('dist.classConditionalNormal', 'classes', 'a whole number >= 1', describeValue(classes));
    this.shapes = [shape] as unknown as S; // one shape: the tuple S is [shape]
    this.conditionShape = [classes];
    this.means = tf.tidy(() => tf.variable(tf.zeros([classes, sizeOf(shape)])));
    this.logScales = tf.tidy(() => tf.variable(tf.zeros([classes, sizeOf(shape)])));
  }

  get trainableVariables(): readonly tf.Variable[] {
    return [this.means, this.logScales];
  }

  private parameters(owner: string, c: tf.Tensor | undefined, batch: number): [tf.Tensor, tf.Tensor] {
    if (!(c instanceof tf.Tensor) || c.rank !== 2 || c.shape[1] !== this.classes || c.shape[0] !== batch) {
      throw new ShapeMismatchError(`${owner}: cBase`, `a class condition [${batch}, ${this.classes}] (one-hot)`, c instanceof tf.Tensor ? formatShape(c.shape) : describeValue(c));
    }
    const shape = [batch, ...this.shapes[0]];
    return [tf.reshape(tf.matMul(c, this.means), shape), tf.reshape(tf.matMul(c, this.logScales), shape)];
  }

  /**
   * `n` draws of the classes given as `cBase` (`[n, K]`): `z = c · M + T · exp(c · L) · ε`.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { dist } from 'freia-ts';
   * const base = dist.classConditionalNormal([2], 10);
   * const z = base.sample(8, { cBase: tf.oneHot(tf.fill([8], 3, 'int32'), 10) }); // 8 draws of class 3
   * ```
   */
  sample(n: number, options: SampleOptions = {}): Tensors<S> {
    checkCount('ClassConditionalNormal.sample', n);
    const t = checkTemperature('ClassConditionalNormal.sample', options.temperature);
    return asTensors<S>([tf.tidy(() => {
      const [mean, logScale] = this.parameters('ClassConditionalNormal.sample', options.cBase, n);
      return tf.add(mean, tf.mul(tf.mul(tf.exp(logScale), t), tf.randomNormal([n, ...this.shapes[0]], 0, 1, 'float32', options.seed)));
    })]);
  }

  /**
   * `log N(z; c · M, exp(c · L)²)` per sample, each under its own class `cBase` (`[batch, K]`).
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { dist } from 'freia-ts';
   * const base = dist.classConditionalNormal([2], 10);
   * const labels = tf.oneHot(tf.tensor1d([0, 3, 9], 'int32'), 10);
   * const logp = base.logProb(tf.randomNormal([3, 2]), { cBase: labels }); // [3]
   * ```
   */
  logProb(z: Tensors<S> | readonly tf.Tensor[], options: LogProbOptions = {}): tf.Tensor1D {
    const [x] = checkSamples('ClassConditionalNormal.logProb', this.shapes, z as tf.Tensor | tf.Tensor[]);
    return tf.tidy(() => {
      const [mean, logScale] = this.parameters('ClassConditionalNormal.logProb', options.cBase, x.shape[0]);
      return normalLogProb(x, mean, logScale);
    });
  }

  /**
   * Its kind, shape and number of classes.
   *
   * @example
   * ```ts
   * import { dist } from 'freia-ts';
   * dist.classConditionalNormal([2], 10).describe(); // { kind: 'ClassConditionalNormal', shape: [2], classes: 10 }
   * ```
   */
  describe(): BaseDescription {
    return { kind: 'ClassConditionalNormal', shape: [...this.shapes[0]], classes: this.classes };
  }

  get variables(): ReadonlyMap<string, tf.Variable> {
    return new Map([['means', this.means], ['log_scales', this.logScales]]);
  }

  /**
   * Frees every class's mean and log-scale.
   *
   * @example
   * ```ts
   * import { dist } from 'freia-ts';
   * const base = dist.classConditionalNormal([2], 10);
   * base.dispose(); // base.means and base.logScales are freed
   * ```
   */
  dispose(): void {
    tf.dispose([this.means, this.logScales]);
  }
}

/**
 * A mixture of `K` diagonal normals with learned weights, means and
 * log-scales: `log p(z) = logsumexp_k [log π_k + log N(z; μ_k, σ_k)]`,
 * `π = softmax(logits)`. The means start spread out (seeded N(0, 1) draws),
 * the scales at 1 and the weights equal, so that the components differ.
 *
 * @group Distributions
 */
export class GaussianMixture<S extends readonly [Shape] = readonly [Shape]> implements Distribution<S> {
  readonly conditionShape = undefined;
  /** The components' unnormalised log-weights, `[K]`. */
  readonly logits: tf.Variable;
  /** The components' means, `[K, ...shape]`. */
  readonly means: tf.Variable;
  /** The components' log standard deviations, `[K, ...shape]`. */
  readonly logScales: tf.Variable;
  readonly shapes: S;

  /** @param components - The number of components K. */
  constructor(shape: Shape, readonly components: number, options: { readonly seed?: number } = {}) {
    if (!Number.isSafeInteger(components) || components < 1) throw new ValidationError('dist.gaussianMixture', 'components', 'a whole number >= 1', describeValue(components));
    this.shapes = [shape] as unknown as S; // one shape: the tuple S is [shape]
    const d = sizeOf(shape);
    this.logits = tf.tidy(() => tf.variable(tf.zeros([components])));
    this.means = tf.tidy(() => tf.variable(tf.randomNormal([components, d], 0, 1, 'float32', options.seed ?? 0)));
    this.logScales = tf.tidy(() => tf.variable(tf.zeros([components, d])));
  }

  get trainableVariables(): readonly tf.Variable[] {
    return [this.logits, this.means, this.logScales];
  }

  /**
   * Draws a component per sample by its weight, then a point of it (with σ_k scaled by the temperature).
   *
   * @example
   * ```ts
   * import { dist } from 'freia-ts';
   * const base = dist.gaussianMixture([2], 3);
   * const z = base.sample(100, { seed: 7 }); // [100, 2], about a third from each component at first
   * ```
   */
  sample(n: number, options: SampleOptions = {}): Tensors<S> {
    checkCount('GaussianMixture.sample', n);
    const t = checkTemperature('GaussianMixture.sample', options.temperature);
    return asTensors<S>([tf.tidy(() => {
      const logits = tf.tile(tf.expandDims(tf.logSoftmax(this.logits), 0), [n, 1]) as tf.Tensor2D;
      const k = tf.reshape(tf.multinomial(logits, 1, options.seed), [n]);
      const mean = tf.gather(this.means, k);
      const scale = tf.exp(tf.gather(this.logScales, k));
      const noise = tf.randomNormal(mean.shape, 0, 1, 'float32', options.seed === undefined ? undefined : options.seed + 1);
      return tf.reshape(tf.add(mean, tf.mul(tf.mul(scale, t), noise)), [n, ...this.shapes[0]]);
    })]);
  }

  /**
   * `logsumexp_k [log π_k + log N(z; μ_k, σ_k²)]` per sample, `[batch]`.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { dist } from 'freia-ts';
   * const base = dist.gaussianMixture([2], 3);
   * const logp = base.logProb(tf.randomNormal([16, 2])); // [16]
   * ```
   */
  logProb(z: Tensors<S> | readonly tf.Tensor[]): tf.Tensor1D {
    const [x] = checkSamples('GaussianMixture.logProb', this.shapes, z as tf.Tensor | tf.Tensor[]);
    return tf.tidy(() => {
      const flat = tf.expandDims(tf.reshape(x, [x.shape[0], -1]), 1); // [B, 1, D]
      const u = tf.mul(tf.sub(flat, this.means), tf.exp(tf.neg(this.logScales))); // [B, K, D]
      const perComponent = tf.sum(tf.sub(tf.sub(tf.mul(tf.square(u), -0.5), this.logScales), 0.5 * LOG_2PI), 2); // [B, K]
      return tf.logSumExp(tf.add(perComponent, tf.logSoftmax(this.logits)), 1) as tf.Tensor1D;
    });
  }

  /**
   * Its kind, shape and number of components.
   *
   * @example
   * ```ts
   * import { dist } from 'freia-ts';
   * dist.gaussianMixture([2], 3).describe(); // { kind: 'GaussianMixture', shape: [2], components: 3 }
   * ```
   */
  describe(): BaseDescription {
    return { kind: 'GaussianMixture', shape: [...this.shapes[0]], components: this.components };
  }

  get variables(): ReadonlyMap<string, tf.Variable> {
    return new Map([['logits', this.logits], ['means', this.means], ['log_scales', this.logScales]]);
  }

  /**
   * Frees the weights' logits, the means and the log-scales.
   *
   * @example
   * ```ts
   * import { dist } from 'freia-ts';
   * const base = dist.gaussianMixture([2], 3);
   * base.dispose();
   * ```
   */
  dispose(): void {
    tf.dispose([this.logits, this.means, this.logScales]);
  }
}

/**
 * The uniform distribution on a box `[low, high]` (per element, or the same
 * bounds everywhere): `log p(z) = −Σ log(high − low)` inside, `−∞` outside.
 * For splines on bounded data. Temperature `T` scales the box about its
 * centre for sampling (the density is that of the unscaled box).
 *
 * @group Distributions
 */
export class UniformBox<S extends readonly [Shape] = readonly [Shape]> implements Distribution<S> {
  readonly conditionShape = undefined;
  readonly trainableVariables: readonly tf.Variable[] = [];
  readonly shapes: S;
  private readonly low: Float32Array;
  private readonly high: Float32Array;

  constructor(shape: Shape, low: number | readonly number[], high: number | readonly number[]) {
    this.shapes = [shape] as unknown as S; // one shape: the tuple S is [shape]
    const d = sizeOf(shape);
    const bounds = (value: number | readonly number[], field: string) => {
      const list = typeof value === 'number' ? Array.from({ length: d }, () => value) : [...value];
      if (list.length !== d || list.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
        throw new ValidationError('dist.uniformBox', field, `a finite number or ${d} finite numbers (one per element of ${formatShape(shape)})`, describeValue(value));
      }
      return Float32Array.from(list);
    };
    this.low = bounds(low, 'low');
    this.high = bounds(high, 'high');
    const bad = this.low.findIndex((l, i) => !(this.high[i] > l));
    if (bad >= 0) throw new ValidationError('dist.uniformBox', 'high', `greater than low everywhere`, `high[${bad}] = ${this.high[bad]} <= low[${bad}] = ${this.low[bad]}`);
  }

  /**
   * `n` uniform draws in the box scaled by the temperature about its centre, `[n, ...shape]`.
   *
   * @example
   * ```ts
   * import { dist } from 'freia-ts';
   * const base = dist.uniformBox([2], [0, -1], [1, 1]);
   * const z = base.sample(8, { seed: 0 }); // [8, 2]: z[:, 0] in [0, 1], z[:, 1] in [−1, 1]
   * ```
   */
  sample(n: number, options: SampleOptions = {}): Tensors<S> {
    checkCount('UniformBox.sample', n);
    const t = checkTemperature('UniformBox.sample', options.temperature);
    return asTensors<S>([tf.tidy(() => {
      const low = tf.tensor1d(this.low);
      const high = tf.tensor1d(this.high);
      const centre = tf.mul(tf.add(low, high), 0.5);
      const half = tf.mul(tf.sub(high, low), 0.5 * t);
      const u = tf.randomUniform([n, this.low.length], -1, 1, 'float32', options.seed);
      return tf.reshape(tf.add(centre, tf.mul(half, u)), [n, ...this.shapes[0]]);
    })]);
  }

  /**
   * `−Σ log(high − low)` for a sample inside the box, `−∞` outside, `[batch]`.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { dist } from 'freia-ts';
   * const base = dist.uniformBox([2], 0, 2);
   * base.logProb(tf.tensor2d([[0.5, 1.5], [3, 0]])); // [−log 4, −Infinity]
   * ```
   */
  logProb(z: Tensors<S> | readonly tf.Tensor[]): tf.Tensor1D {
    const [x] = checkSamples('UniformBox.logProb', this.shapes, z as tf.Tensor | tf.Tensor[]);
    const logVolume = this.low.reduce((sum, l, i) => sum + Math.log(this.high[i] - l), 0);
    return tf.tidy(() => {
      const flat = tf.reshape(x, [x.shape[0], -1]);
      const inside = tf.logicalAnd(tf.greaterEqual(flat, tf.tensor1d(this.low)), tf.lessEqual(flat, tf.tensor1d(this.high))).all(1);
      return tf.where(inside, tf.fill([x.shape[0]], -logVolume), tf.fill([x.shape[0]], -Infinity)) as tf.Tensor1D;
    });
  }

  /**
   * Its kind, shape and bounds (per element).
   *
   * @example
   * ```ts
   * import { dist } from 'freia-ts';
   * dist.uniformBox([2], 0, 1).describe(); // { kind: 'UniformBox', shape: [2], low: [0, 0], high: [1, 1] }
   * ```
   */
  describe(): BaseDescription {
    return { kind: 'UniformBox', shape: [...this.shapes[0]], low: Array.from(this.low), high: Array.from(this.high) };
  }

  readonly variables: ReadonlyMap<string, tf.Variable> = new Map();

  /**
   * Nothing to free: the box's bounds are plain numbers, not tensors.
   *
   * @example
   * ```ts
   * import { dist } from 'freia-ts';
   * dist.uniformBox([2], 0, 1).dispose(); // a no-op, for code that handles any Distribution
   * ```
   */
  dispose(): void {}
}

/**
 * What a transformed distribution's calls take: the flow's conditions `c`, the base's `cBase`.
 *
 * @group Distributions
 */
export interface TransformedOptions<C extends readonly Shape[] = readonly Shape[]> {
  /** The flow's conditions. */
  readonly c?: Tensors<C> | tf.Tensor | readonly tf.Tensor[];
  /** The base's condition (a one-hot class for a class-conditional base). */
  readonly cBase?: tf.Tensor;
  /** For `logProb` of a pull-back under a gradient: what the flow's forward pass keeps (docs/memory.md). */
  readonly memory?: GradientMemory;
}

/**
 * A flow and a base, as one distribution (FrEIA's `PushForwardDistribution`
 * and `PullBackDistribution`).
 *
 * - **Pull-back** (`dist.pullBack(flow, base)`), the usual density model: the
 *   base lives on the flow's outputs, `x = flow⁻¹(z)`,
 *   `log p(x) = log p_base(flow(x)) + log|det J_flow(x)|`.
 * - **Push-forward** (`dist.pushForward(flow, base)`): the base lives on the
 *   flow's inputs, `x = flow(z)`,
 *   `log p(x) = log p_base(flow⁻¹(x)) + log|det J_flow⁻¹(x)|`.
 *
 * Where we differ from FrEIA: FrEIA's `log_prob` runs the transform with
 * `jac=False`, so its log-det term is zero; ours is the log-det.
 *
 * @example
 * ```ts
 * import { inn, dist, subnets } from 'freia-ts';
 * const flow = inn.input([2]).glow({ subnet: subnets.mlp({ hidden: 32 }) }).build();
 * const model = dist.pullBack(flow, dist.gaussianMixture([2], 4)); // x = flow⁻¹(z), z from the mixture
 * const x = model.sample(100);
 * const logp = model.logProb(x);
 * ```
 *
 * @group Distributions
 */
export class TransformedDistribution<X extends readonly Shape[] = readonly Shape[], C extends readonly Shape[] = readonly Shape[]> {
  constructor(
    /** The flow. */
    readonly flow: AnyFlow,
    /** The base distribution. */
    readonly base: Distribution,
    /** `'pull'`: `x = flow⁻¹(z)`; `'push'`: `x = flow(z)`. */
    readonly direction: 'pull' | 'push',
  ) {
    const baseShapes = direction === 'pull' ? flow.outputShapes : flow.inputShapes;
    const same = baseShapes.length === base.shapes.length && baseShapes.every((s, k) => formatShape(s) === formatShape(base.shapes[k]));
    if (!same) {
      throw new ShapeMismatchError(`dist.${direction === 'pull' ? 'pullBack' : 'pushForward'}`, `a base on the flow's ${direction === 'pull' ? 'output' : 'input'} shapes ${baseShapes.map(formatShape).join(', ')}`, base.shapes.map(formatShape).join(', '));
    }
  }

  /** The data's shapes. */
  get shapes(): X {
    // The data side of the flow: its inputs for a pull-back, its outputs for a push-forward.
    return (this.direction === 'pull' ? this.flow.inputShapes : this.flow.outputShapes) as unknown as X;
  }

  /** The flow's and the base's parameters. */
  get trainableVariables(): tf.Variable[] {
    return [...this.flow.trainableVariables, ...this.base.trainableVariables];
  }

  private toLatent(x: tf.Tensor | readonly tf.Tensor[], c: TransformedOptions['c'], memory: GradientMemory | undefined) {
    return this.direction === 'pull' ? this.flow.forward(x as tf.Tensor, { c, memory }) : this.flow.inverse(x as tf.Tensor, { c });
  }

  private toData(z: tf.Tensor | readonly tf.Tensor[], c: TransformedOptions['c'], jac: boolean) {
    return this.direction === 'pull' ? this.flow.inverse(z as tf.Tensor, { c, jac }) : this.flow.forward(z as tf.Tensor, { c, jac });
  }

  /**
   * Per-sample log-density of `x`, `[batch]`.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn, dist, subnets } from 'freia-ts';
   * const model = dist.pullBack(inn.input([2]).glow({ subnet: subnets.mlp({ hidden: 32 }) }).build());
   * const nll = tf.neg(tf.mean(model.logProb(tf.randomNormal([64, 2])))); // the loss train.fit minimises
   * ```
   */
  logProb(x: Tensors<X> | readonly tf.Tensor[], options: TransformedOptions<C> = {}): tf.Tensor1D {
    return tf.tidy(() => {
      const { out, logDet } = this.toLatent(x as tf.Tensor, options.c, options.memory);
      return tf.add(this.base.logProb(out as tf.Tensor, { cBase: options.cBase }), logDet) as tf.Tensor1D;
    });
  }

  /**
   * `n` samples in data space; `temperature` scales the base's spread.
   *
   * @example
   * ```ts
   * import { inn, dist, subnets } from 'freia-ts';
   * const model = dist.pullBack(inn.input([2]).glow({ subnet: subnets.mlp({ hidden: 32 }) }).build());
   * const x = model.sample(100, { temperature: 0.8 }); // [100, 2]
   * ```
   */
  sample(n: number, options: TransformedOptions<C> & SampleOptions = {}): Tensors<X> {
    return tf.tidy(() => {
      const z = this.base.sample(n, options);
      return this.toData(z as tf.Tensor, options.c, false).out;
    }) as Tensors<X>;
  }

  /**
   * Samples and their log-density under the model (at temperature 1: a
   * tempered sample's density is still the model's), from one pass:
   * `log p(x) = log p_base(z) − log|det J_{z→x}|`.
   *
   * @example
   * ```ts
   * import { inn, dist, subnets } from 'freia-ts';
   * const model = dist.pullBack(inn.input([2]).glow({ subnet: subnets.mlp({ hidden: 32 }) }).build());
   * const { x, logProb } = model.sampleAndLogProb(100); // one pass instead of two
   * ```
   */
  sampleAndLogProb(n: number, options: TransformedOptions<C> & SampleOptions = {}): {
    /** The samples. */
    readonly x: Tensors<X>;
    /** Their log-density, `[n]`. */
    readonly logProb: tf.Tensor1D;
  } {
    const result = tf.tidy(() => {
      const z = this.base.sample(n, options);
      const { out, logDet } = this.toData(z as tf.Tensor, options.c, true);
      return { x: asList(out), logProb: tf.sub(this.base.logProb(z as tf.Tensor, { cBase: options.cBase }), logDet) as tf.Tensor1D };
    });
    return { x: asTensors<X>(result.x), logProb: result.logProb };
  }
}

/**
 * The standard normal on the given shapes.
 *
 * @example
 * ```ts
 * import { inn, dist } from 'freia-ts';
 * const flow = inn.input([2]).split([1, 1]).build();
 * const base = dist.standardNormal([1], [1]); // on both outputs
 * const model = dist.pullBack(flow, base);
 * ```
 */
export function standardNormal<const X extends readonly Shape[]>(...shapes: X): StandardNormal<{ -readonly [K in keyof X]: MutableShape<X[K]> }> {
  return new StandardNormal(shapes.map((s) => [...s]) as unknown as { -readonly [K in keyof X]: MutableShape<X[K]> });
}

/**
 * A diagonal normal on `shape` with a learned mean and log-scale (see {@link DiagonalNormal}).
 *
 * @example
 * ```ts
 * import { inn, dist, subnets } from 'freia-ts';
 * const flow = inn.input([2]).glow({ subnet: subnets.mlp({ hidden: 32 }) }).build();
 * const model = dist.pullBack(flow, dist.diagonalNormal([2])); // μ and σ train with the flow
 * ```
 */
export function diagonalNormal<const X extends Shape>(shape: X, options?: { readonly trainable?: boolean }): DiagonalNormal<[MutableShape<X>]> {
  return new DiagonalNormal<[MutableShape<X>]>(shape, options);
}

/**
 * A class-conditional diagonal normal on `shape` for `classes` classes (see {@link ClassConditionalNormal}).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { inn, dist, subnets } from 'freia-ts';
 * const flow = inn.input([2]).glow({ subnet: subnets.mlp({ hidden: 32 }) }).build();
 * const model = dist.pullBack(flow, dist.classConditionalNormal([2], 3));
 * const samples = model.sample(4, { cBase: tf.oneHot([0, 1, 2, 2], 3).toFloat() });
 * ```
 */
export function classConditionalNormal<const X extends Shape>(shape: X, classes: number): ClassConditionalNormal<[MutableShape<X>]> {
  return new ClassConditionalNormal<[MutableShape<X>]>(shape, classes);
}

/**
 * A mixture of `components` diagonal normals on `shape` (see {@link GaussianMixture}).
 *
 * @example
 * ```ts
 * import { inn, dist, subnets } from 'freia-ts';
 * const flow = inn.input([2]).glow({ subnet: subnets.mlp({ hidden: 32 }) }).build();
 * const model = dist.pullBack(flow, dist.gaussianMixture([2], 4, { seed: 1 }));
 * ```
 */
export function gaussianMixture<const X extends Shape>(shape: X, components: number, options?: { readonly seed?: number }): GaussianMixture<[MutableShape<X>]> {
  return new GaussianMixture<[MutableShape<X>]>(shape, components, options);
}

/**
 * The uniform distribution on the box `[low, high]` (see {@link UniformBox}).
 *
 * @example
 * ```ts
 * import { dist } from 'freia-ts';
 * const box = dist.uniformBox([2], 0, 1); // [0, 1]²
 * const z = box.sample(8);
 * const logp = box.logProb(z); // 0 inside the box
 * ```
 */
export function uniformBox<const X extends Shape>(shape: X, low: number | readonly number[], high: number | readonly number[]): UniformBox<[MutableShape<X>]> {
  return new UniformBox<[MutableShape<X>]>(shape, low, high);
}

/**
 * FrEIA's PullBackDistribution, the usual flow density model: `x =
 * flow⁻¹(z)`, `z ~ base` (default: the standard normal on the flow's
 * outputs). The base must live on the flow's output shapes; the compiler
 * checks it.
 *
 * @example
 * ```ts
 * import { dist, inn, subnets } from 'freia-ts';
 * const flow = inn.input([2]).allInOne({ subnet: subnets.mlp({ hidden: 32 }) }).build();
 * const model = dist.pullBack(flow, dist.diagonalNormal([2]));
 * const x = model.sample(1000, { temperature: 0.8 });   // [1000, 2]
 * const logp = model.logProb(x);                         // [1000]
 * ```
 */
export function pullBack<I extends readonly Shape[], O extends readonly Shape[], C extends readonly Shape[]>(flow: Flow<I, O, C>, base?: Distribution<O>): TransformedDistribution<I, C> {
  // Cast: Tensors<O> of a generic O is deferred; the base was checked against O by the compiler at the call.
  return new TransformedDistribution<I, C>(flow, (base ?? new StandardNormal(flow.outputShapes)) as unknown as Distribution, 'pull');
}

/**
 * FrEIA's PushForwardDistribution: `x = flow(z)`, `z ~ base` (default: the
 * standard normal on the flow's inputs). The base must live on the flow's
 * input shapes; the compiler checks it.
 *
 * @example
 * ```ts
 * import { inn, dist, subnets } from 'freia-ts';
 * const flow = inn.input([2]).glow({ subnet: subnets.mlp({ hidden: 32 }) }).build();
 * const generator = dist.pushForward(flow); // x = flow(z), z ~ N(0, I)
 * const x = generator.sample(16);
 * ```
 */
export function pushForward<I extends readonly Shape[], O extends readonly Shape[], C extends readonly Shape[]>(flow: Flow<I, O, C>, base?: Distribution<I>): TransformedDistribution<O, C> {
  // Cast: as in pullBack.
  return new TransformedDistribution<O, C>(flow, (base ?? new StandardNormal(flow.inputShapes)) as unknown as Distribution, 'push');
}

/**
 * A base made again from its description (`saveModel`'s record), with fresh
 * parameters; throws a message naming the field when the description is
 * not one.
 */
export function baseFromDescription(description: unknown): Distribution {
  const at = 'modelTopology.distribution.base';
  const d = description as Record<string, unknown> | null;
  const fail = (field: string, expected: string, value: unknown): never => {
    throw new ValidationError(at, field, expected, describeValue(value));
  };
  if (d === null || typeof d !== 'object') return fail('base', 'a base description { kind, ... }', d);
  const shape = (value: unknown, field: string): Shape =>
    Array.isArray(value) && value.length > 0 && value.every((v) => Number.isSafeInteger(v) && v >= 1) && sizeOf(value) <= 2 ** 26 ? value : fail(field, 'a shape (positive whole numbers, at most 2^26 elements)', value);
  const count = (value: unknown, field: string): number => (Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= 2 ** 16 ? value as number : fail(field, 'a whole number from 1 to 65536', value));
  switch (d.kind) {
    case 'StandardNormal':
      return new StandardNormal(Array.isArray(d.shapes) && d.shapes.length > 0 ? d.shapes.map((s, k) => shape(s, `shapes[${k}]`)) : fail('shapes', 'a non-empty list of shapes', d.shapes));
    case 'DiagonalNormal':
      return new DiagonalNormal(shape(d.shape, 'shape'), { trainable: typeof d.trainable === 'boolean' ? d.trainable : fail('trainable', 'true or false', d.trainable) });
    case 'ClassConditionalNormal':
      return new ClassConditionalNormal(shape(d.shape, 'shape'), count(d.classes, 'classes'));
    case 'GaussianMixture':
      return new GaussianMixture(shape(d.shape, 'shape'), count(d.components, 'components'));
    case 'UniformBox':
      // Cast: UniformBox checks the bounds itself, naming the field.
      return new UniformBox(shape(d.shape, 'shape'), d.low as number[], d.high as number[]);
    default:
      return fail('kind', '"StandardNormal", "DiagonalNormal", "ClassConditionalNormal", "GaussianMixture" or "UniformBox"', d.kind);
  }
}

/** Whether `value` is a transformed distribution (for the training loss). */
export function isTransformed(value: unknown): value is TransformedDistribution {
  return value instanceof TransformedDistribution;
}

