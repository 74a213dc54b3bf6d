/**
 * ActNorm (Kingma & Dhariwal 2018) as FrEIA has it: a per-channel affine map
 * that *divides*,
 *
 *     y = (x − loc) / exp(log_scale),   log|det J| = −H·W · Σ log_scale,
 *
 * initialised from the first batch it sees (either direction) so that its
 * output has zero mean and unit standard deviation per channel. The standard
 * deviation is PyTorch's unbiased one (n − 1), as in FrEIA.
 *
 * Whether it is initialised lives in the `is_initialized` buffer (saved and
 * loaded with the weights) and in a JavaScript mirror of it, so a forward
 * pass reads nothing back from the device: the mirror is set by the
 * initialisation and forgotten whenever the buffer is assigned from outside
 * (loading weights). A forgotten mirror is read back where the backend can
 * read synchronously; on WebGPU in Node the pass instead initialises on the
 * device unless the buffer says it is initialised (`where(is_initialized,
 * loc, mean)`, the same numbers), after which it is initialised either way.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModuleDef } from '../core/graph.js';
import { FreiaError, NonFiniteError } from '../core/errors.js';
import { canReadSync } from '../math/readback.js';
import { InvertibleModule, type ForwardOptions, type ModuleResult } from './base.js';
import { moduleEntry, type NoOptions } from './registry.js';
import { sameShapeWithConditions } from './coupling.js';

/**
 * FrEIA's ActNorm (Glow's activation normalisation): a per-channel affine map
 * that divides, initialised from the first batch it sees so that its
 * output has zero mean and unit standard deviation per channel:
 *
 * ```text
 * y = (x − loc) / exp(log_scale),   log|det J| = −H·W · Σ log_scale
 * ```
 *
 * The standard deviation is PyTorch's unbiased one (n − 1), as in FrEIA.
 * Parameters `log_scale`, `loc` (`[C]`) and the buffer `is_initialized`,
 * saved and loaded with the weights. Built by {@link Chain.actNorm} (and
 * `g.actNorm(x)`); no options.
 *
 * @example
 * ```ts
 * import { inn } from 'freia-ts';
 * inn.input([4]).actNorm().build();
 * // a [3, 8, 8] image: one loc and log-scale per channel
 * inn.input([3, 8, 8]).actNorm({ name: 'norm' }).build();
 * ```
 *
 * @group Modules
 */
export class ActNorm extends InvertibleModule {
  private readonly spatial: number;
  private readonly logScale: tf.Variable;
  private readonly loc: tf.Variable;
  private readonly initialized: tf.Variable;
  /** The buffer's value as last set here; undefined once it was assigned from outside. */
  private initializedMirror: boolean | undefined = false;

  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef) {
    super(def.inputShapes, def.conditionShapes);
    const [channels, ...rest] = def.inputShapes[0];
    this.spatial = rest.reduce((a, b) => a * b, 1);
    this.logScale = this.addParam('log_scale', tf.zeros([channels]));
    this.loc = this.addParam('loc', tf.zeros([channels]));
    this.initialized = this.addParam('is_initialized', tf.scalar(0, 'bool'), false);
    // Loading weights (tf.io, FrEIA's state dict, a restored backup) assigns the buffer: forget the mirror then.
    const assign = this.initialized.assign.bind(this.initialized);
    this.initialized.assign = (value: tf.Tensor) => {
      assign(value);
      this.initializedMirror = undefined;
    };
  }

  /**
   * True once the data-dependent initialisation ran (or initialised weights
   * were loaded). After loading, this reads the buffer back, which WebGPU in
   * Node cannot do synchronously until a forward pass has run.
   */
  get isInitialized(): boolean {
    this.initializedMirror ??= this.initialized.dataSync()[0] !== 0;
    return this.initializedMirror;
  }

  /** Per-channel mean and PyTorch's unbiased standard deviation of a batch (channels-last). */
  private static statistics(batch: tf.Tensor): { mean: tf.Tensor; std: tf.Tensor } {
    const axes = Array.from({ length: batch.rank - 1 }, (_, i) => i);
    const n = batch.size / batch.shape[batch.rank - 1];
    const { mean, variance } = tf.moments(batch, axes);
    return { mean, std: tf.sqrt(tf.mul(variance, n / Math.max(n - 1, 1))) };
  }

  /**
   * Sets loc and log_scale from a batch (channels-last), like FrEIA's
   * `initialize`. Where the backend reads synchronously (not WebGPU in Node),
   * a batch holding NaN or ±Infinity is a `NonFiniteError` and a channel with
   * zero standard deviation an error, rather than weights poisoned for good;
   * either way the module stays uninitialised and unchanged.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn, type ActNorm } from 'freia-ts';
   * const actNorm = inn.input([2]).actNorm().build().modules[1] as ActNorm;
   * actNorm.initialize(tf.randomNormal([256, 2], 3, 2)); // loc ≈ 3, exp(log_scale) ≈ 2
   * console.log(actNorm.isInitialized); // true: the first forward pass keeps these
   * ```
   */
  initialize(batch: tf.Tensor): void {
    tf.tidy(() => {
      const { mean, std } = ActNorm.statistics(batch);
      if (canReadSync()) {
        // One read: a NaN or ±Infinity anywhere in the batch makes its channel's standard deviation NaN.
        const deviations = std.dataSync();
        const nonFinite = deviations.findIndex((s) => !Number.isFinite(s));
        if (nonFinite >= 0) {
          throw new NonFiniteError('ActNorm', `ActNorm: cannot initialise from a first batch holding NaN or Infinity (channel ${nonFinite}); it stays uninitialised`);
        }
        if (deviations.some((s) => Math.abs(s) < 1e-8)) {
          throw new FreiaError('ActNorm: cannot initialise, one or more channels have zero standard deviation in the first batch');
        }
      }
      this.loc.assign(mean);
      this.logScale.assign(tf.log(std));
      this.initialized.assign(tf.scalar(1, 'bool'));
    });
    this.initializedMirror = true;
  }

  /** The initialisation decided on the device: loc and log_scale from the batch unless the buffer says initialised. */
  private initializeOnDevice(batch: tf.Tensor): void {
    tf.tidy(() => {
      const { mean, std } = ActNorm.statistics(batch);
      this.loc.assign(tf.where(this.initialized, this.loc, mean));
      this.logScale.assign(tf.where(this.initialized, this.logScale, tf.log(std)));
      this.initialized.assign(tf.scalar(1, 'bool'));
    });
    this.initializedMirror = true;
  }

  forward(xs: readonly tf.Tensor[], _cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    const x = xs[0];
    if (this.initializedMirror === undefined && !canReadSync()) this.initializeOnDevice(x);
    else if (!this.isInitialized) this.initialize(x);
    const logDet = tf.mul(tf.sum(this.logScale), this.spatial);
    if (!rev) return { out: [tf.mul(tf.sub(x, this.loc), tf.exp(tf.neg(this.logScale)))], logDet: tf.neg(logDet) };
    return { out: [tf.add(tf.mul(x, tf.exp(this.logScale)), this.loc)], logDet };
  }
}

export const actNorm = moduleEntry<NoOptions>()({ kind: 'ActNorm', conditions: 'none',
  outputShapes: (node, inputShapes) => sameShapeWithConditions(node, inputShapes, []),
  create: (def) => new ActNorm(def),
  freia: { drop: ['init_data'] },
});
