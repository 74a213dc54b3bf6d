/**
 * Adam with one fused update for all variables: the same step as tfjs's
 * `tf.train.adam`, but where the backend has the fused kernel (wasm and cpu,
 * src/runtime/kernels-wasm.ts) every variable's `w, m, v` is updated in one
 * kernel call instead of about ten elementwise kernels per variable.
 * Elsewhere (WebGL, WebGPU, tfjs-node) it runs tfjs's own operations.
 */
import * as tf from '@tensorflow/tfjs';
import { ADAM_KERNEL, type AdamStepAttrs } from '../runtime/kernels-fused.js';
import { fusionEnabled } from '../math/fusion.js';
import { OptionError, describeValue } from '../core/errors.js';

/** tfjs's `NamedTensor` (not exported from the package root). */
interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/**
 * Adam (Kingma & Ba), as tfjs's `AdamOptimizer`:
 *
 *     m ← β1 m + (1 − β1) g,   v ← β2 v + (1 − β2) g²
 *     w ← w − lr · (m / (1 − β1^t)) / (√(v / (1 − β2^t)) + ε)
 *
 * with ε the backend's epsilon (1e-7 for float32) unless given. Its state
 * (`getWeights`) has tfjs's layout: the iteration count, then every first
 * moment, then every second moment.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { train, inn, subnets } from 'freia-ts';
 * const flow = inn.input([2]).allInOne({ subnet: subnets.mlp({ hidden: 64 }) }).build();
 * const optimizer = train.adam(1e-3);
 * tf.tidy(() => optimizer.applyGradients(tf.variableGrads(() => train.nll(flow, tf.randomNormal([100, 2])), flow.trainableVariables).grads));
 * ```
 *
 * @group Training
 */
export class Adam extends tf.Optimizer {
  /** tfjs's name for its serialisable optimizer registry (registered below, so checkpoints rebuild it by name). */
  static get className(): string {
    return 'FreiaAdam';
  }

  /**
   * An Adam from {@link Adam.getConfig}'s fields (tf.serialization's contract; as tfjs's `AdamOptimizer.fromConfig`).
   *
   * @example
   * ```ts
   * import { train, Adam } from 'freia-ts';
   * const optimizer = train.adam(1e-3, 0.8);
   * const copy = Adam.fromConfig(Adam, optimizer.getConfig()); // the same learning rate, betas and ε; fresh moments
   * ```
   */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    // cls is Adam itself (or a subclass), whose constructor takes these four numbers
    const make = cls as unknown as new (learningRate?: number, beta1?: number, beta2?: number, epsilon?: number) => T;
    const field = (key: string) => (config[key] === undefined || config[key] === null ? undefined : (config[key] as number)); // the constructor checks each
    return new make(field('learningRate'), field('beta1'), field('beta2'), field('epsilon'));
  }

  private readonly moments = new Map<string, { m: tf.Tensor; v: tf.Tensor }>();
  /** Variable names in the order they were first seen (the order of `getWeights`). */
  private readonly order: string[] = [];
  /** Adam's ε, added to √v. */
  readonly epsilon: number;

  private rate: number;

  /** The step size; a schedule in `train.fit` sets it before every step. */
  get learningRate(): number {
    return this.rate;
  }

  /** Sets the step size. */
  set learningRate(value: number) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new OptionError('train.adam', 'learningRate', 'a finite number > 0', describeValue(value));
    this.rate = value;
  }

  constructor(
    learningRate = 1e-3,
    /** Decay of the first moment. */
    readonly beta1 = 0.9,
    /** Decay of the second moment. */
    readonly beta2 = 0.999,
    epsilon?: number,
  ) {
    super();
    const finite = (value: number) => typeof value === 'number' && Number.isFinite(value);
    if (!finite(learningRate) || learningRate <= 0) throw new OptionError('train.adam', 'learningRate', 'a finite number > 0', describeValue(learningRate));
    this.rate = learningRate;
    for (const [field, beta] of [['beta1', beta1], ['beta2', beta2]] as const) {
      if (!finite(beta) || beta < 0 || beta >= 1) throw new OptionError('train.adam', field, 'a number in [0, 1)', describeValue(beta));
    }
    if (epsilon !== undefined && (!finite(epsilon) || epsilon <= 0)) throw new OptionError('train.adam', 'epsilon', 'a finite number > 0', describeValue(epsilon));
    this.epsilon = epsilon ?? tf.backend().epsilon();
  }

  /**
   * One step for every variable named in `variableGradients` (tfjs's optimizer contract).
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn, subnets, train } from 'freia-ts';
   * const flow = inn.input([2]).glow({ subnet: subnets.mlp({ hidden: 32 }) }).build();
   * const optimizer = train.adam(1e-3);
   * const { value, grads } = tf.variableGrads(() => train.nll(flow, tf.randomNormal([64, 2])), flow.trainableVariables);
   * optimizer.applyGradients(grads);
   * tf.dispose([value, ...Object.values(grads)]);
   * ```
   */
  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const named = Array.isArray(variableGradients) ? variableGradients.map((v) => [v.name, v.tensor] as const) : Object.entries(variableGradients);
    const step = this.iterations + 1;
    const attrs: AdamStepAttrs = {
      count: 0,
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      correction1: 1 - this.beta1 ** step,
      correction2: 1 - this.beta2 ** step,
    };
    const updates: { variable: tf.Variable; gradient: tf.Tensor; state: { m: tf.Tensor; v: tf.Tensor } }[] = [];
    for (const [name, gradient] of named) {
      const variable = tf.engine().registeredVariables[name];
      if (!variable || !gradient) continue;
      let state = this.moments.get(name);
      if (!state) {
        state = { m: tf.keep(tf.zerosLike(variable)), v: tf.keep(tf.zerosLike(variable)) };
        this.moments.set(name, state);
        this.order.push(name);
      }
      updates.push({ variable, gradient, state });
    }
    tf.tidy(() => {
      const fused = fusionEnabled() && tf.getKernel(ADAM_KERNEL, tf.getBackend()) && updates.every((u) => u.variable.dtype === 'float32' && u.gradient.dtype === 'float32');
      const results = fused ? this.fusedStep(updates, attrs) : updates.map((u) => this.plainStep(u.variable, u.gradient, u.state, attrs));
      updates.forEach(({ variable, state }, i) => {
        const [w, m, v] = results[i];
        variable.assign(w);
        tf.dispose([state.m, state.v]);
        state.m = tf.keep(m);
        state.v = tf.keep(v);
      });
    });
    this.incrementIterations();
  }

  /** All variables in one kernel call. */
  private fusedStep(updates: readonly { variable: tf.Variable; gradient: tf.Tensor; state: { m: tf.Tensor; v: tf.Tensor } }[], attrs: AdamStepAttrs): tf.Tensor[][] {
    if (updates.length === 0) return [];
    const inputs: tf.NamedTensorMap = {};
    updates.forEach(({ variable, gradient, state }, i) => Object.assign(inputs, { [`w${i}`]: variable, [`g${i}`]: gradient, [`m${i}`]: state.m, [`v${i}`]: state.v }));
    // Cast: a kernel with several outputs returns a tensor array; attributes travel as a NamedAttrMap.
    const out = tf.engine().runKernel(ADAM_KERNEL, inputs, { ...attrs, count: updates.length } as unknown as tf.NamedAttrMap) as tf.Tensor[];
    return updates.map((_, i) => out.slice(3 * i, 3 * i + 3));
  }

  /** tfjs's operations for one variable (the path of backends without the fused kernel). */
  private plainStep(w: tf.Tensor, g: tf.Tensor, state: { m: tf.Tensor; v: tf.Tensor }, attrs: AdamStepAttrs): tf.Tensor[] {
    const m = tf.add(tf.mul(state.m, this.beta1), tf.mul(g, 1 - this.beta1));
    const v = tf.add(tf.mul(state.v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
    const update = tf.div(tf.div(m, attrs.correction1), tf.add(tf.sqrt(tf.div(v, attrs.correction2)), this.epsilon));
    return [tf.sub(w, tf.mul(update, this.learningRate)), m, v];
  }

  /**
   * Frees the moments; the next step starts them again from zero.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn, train } from 'freia-ts';
   * const flow = inn.input([2]).learnedElementwiseScaling().build();
   * const optimizer = train.adam(1e-3);
   * optimizer.minimize(() => train.nll(flow, tf.randomNormal([64, 2])), false, flow.trainableVariables);
   * optimizer.dispose(); // s's moments are freed
   * ```
   */
  override dispose(): void {
    for (const { m, v } of this.moments.values()) tf.dispose([m, v]);
    this.moments.clear();
    this.order.length = 0;
  }

  /**
   * The iteration count, then every first moment (`<variable>/m`), then every second moment (`<variable>/v`).
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn, train } from 'freia-ts';
   * const flow = inn.input([2]).learnedElementwiseScaling().build();
   * const optimizer = train.adam(1e-3);
   * optimizer.minimize(() => train.nll(flow, tf.randomNormal([64, 2])), false, flow.trainableVariables);
   * const weights = await optimizer.getWeights(); // names: 'iter', '<s>/m', '<s>/v' (s's tfjs variable name)
   * ```
   */
  override async getWeights(): Promise<NamedTensor[]> {
    const states = this.order.map((name) => [name, this.moments.get(name)!] as const);
    return [
      await this.saveIterations(),
      ...states.map(([name, s]) => ({ name: `${name}/m`, tensor: s.m })),
      ...states.map(([name, s]) => ({ name: `${name}/v`, tensor: s.v })),
    ];
  }

  /**
   * Restores what {@link getWeights} returned (the variables' names must match).
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn, train } from 'freia-ts';
   * const flow = inn.input([2]).learnedElementwiseScaling().build();
   * const optimizer = train.adam(1e-3);
   * optimizer.minimize(() => train.nll(flow, tf.randomNormal([64, 2])), false, flow.trainableVariables);
   * const resumed = train.adam(1e-3);
   * await resumed.setWeights(await optimizer.getWeights()); // the same iteration count and moments
   * ```
   */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    const half = rest.length / 2;
    this.dispose();
    for (let i = 0; i < half; i++) {
      const name = rest[i].name.replace(/\/m$/, '');
      this.moments.set(name, { m: tf.keep(tf.clone(rest[i].tensor)), v: tf.keep(tf.clone(rest[half + i].tensor)) });
      this.order.push(name);
    }
  }

  /**
   * The constructor's arguments, as tf.serialization saves them (see {@link Adam.fromConfig}).
   *
   * @example
   * ```ts
   * import { train } from 'freia-ts';
   * train.adam(1e-3).getConfig(); // { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }
   * ```
   */
  getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

// Registered with tf.serialization like tfjs's own optimizers, so that a checkpoint (src/io/checkpoint.ts,
// which may not import this folder) finds the class by its name.
tf.serialization.registerClass(Adam);

/**
 * Adam with the fused update (see {@link Adam}); the defaults are tfjs's and
 * PyTorch's. Throws an `OptionError` for a learning rate that is not a
 * finite number > 0, betas outside [0, 1) or an epsilon that is not > 0.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { inn, train, subnets } from 'freia-ts';
 * const flow = inn.input([2]).glow({ subnet: subnets.mlp({ hidden: 32 }) }).build();
 * const optimizer = train.adam(1e-3);
 * await train.fitAsync(flow, { data: () => ({ x: tf.randomNormal([64, 2]) }), steps: 10, optimizer });
 * ```
 */
export function adam(learningRate = 1e-3, beta1 = 0.9, beta2 = 0.999, epsilon?: number): Adam {
  return new Adam(learningRate, beta1, beta2, epsilon);
}
