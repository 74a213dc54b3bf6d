/**
 * ActNorm (Kingma & Dhariwal 2018) as FrEIA has it: a per-channel affine map
 * that *divides*,
 *
 *     y = (x − loc) / exp(log_scale),   log|det J| = −H·W · Σ log_scale,
 *
 * initialised from the first batch it sees (either direction) so that its
 * output has zero mean and unit standard deviation per channel. The standard
 * deviation is PyTorch's unbiased one (n − 1), as in FrEIA.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModuleDef } from '../core/graph.js';
import { FreiaError } from '../core/errors.js';
import { InvertibleModule, type ForwardOptions, type ModuleResult } from './base.js';
import { moduleEntry, type NoOptions } from './registry.js';
import { sameShapeWithConditions } from './coupling.js';

export class ActNorm extends InvertibleModule {
  private readonly spatial: number;
  private readonly logScale: tf.Variable;
  private readonly loc: tf.Variable;
  private readonly initialized: tf.Variable;

  constructor(def: ModuleDef) {
    super(def.inputShapes, def.conditionShapes);
    const [channels, ...rest] = def.inputShapes[0];
    this.spatial = rest.reduce((a, b) => a * b, 1);
    this.logScale = this.addParam('log_scale', tf.zeros([channels]));
    this.loc = this.addParam('loc', tf.zeros([channels]));
    this.initialized = this.addParam('is_initialized', tf.scalar(0, 'bool'), false);
  }

  /** True once the data-dependent initialisation ran (or weights were loaded). */
  get isInitialized(): boolean {
    return this.initialized.dataSync()[0] !== 0;
  }

  /** Sets loc and log_scale from a batch (channels-last), like FrEIA's `initialize`. */
  initialize(batch: tf.Tensor): void {
    tf.tidy(() => {
      const axes = Array.from({ length: batch.rank - 1 }, (_, i) => i);
      const n = batch.size / batch.shape[batch.rank - 1];
      const { mean, variance } = tf.moments(batch, axes);
      const std = tf.sqrt(tf.mul(variance, n / Math.max(n - 1, 1)));
      if (std.dataSync().some((s) => Math.abs(s) < 1e-8)) {
        throw new FreiaError('ActNorm: cannot initialise, one or more channels have zero standard deviation in the first batch');
      }
      this.loc.assign(mean);
      this.logScale.assign(tf.log(std));
      this.initialized.assign(tf.scalar(1, 'bool'));
    });
  }

  forward(xs: readonly tf.Tensor[], _cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    const x = xs[0];
    if (!this.isInitialized) this.initialize(x);
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
