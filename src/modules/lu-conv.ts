/**
 * Glow's learned invertible 1×1 convolution in its LU parameterisation
 * (Kingma & Dhariwal 2018, section 3.2). Not a FrEIA module: FrEIA's
 * AllInOneBlock and Fixed1x1Conv only have fixed channel mixes.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModuleDef } from '../core/graph.js';
import { FreiaError } from '../core/errors.js';
import { is } from '../core/validation.js';
import { globalRng, mulberry32 } from '../math/rng.js';
import { luFactors, randomRotation, tfSolveTriangular } from '../math/linalg.js';
import { numel } from '../math/layout.js';
import { InvertibleModule, type ForwardOptions, type ModuleResult } from './base.js';
import { moduleEntry } from './registry.js';
import { channelMatMul, unconditionalSameShape } from './fixed.js';

/**
 * Options of {@link InvertibleConv1x1LU}.
 *
 * @group Modules
 */
export interface Conv1x1LUOptions {
  /** Seed of the initial random rotation; the shared generator when absent. */
  readonly seed?: number;
}

/**
 * Glow's invertible 1×1 convolution, learned, with the LU parameterisation:
 * one `C × C` matrix `W` applied to the channel vector at every position
 * (vectors `[C]` or images `[C, H, W]`),
 *
 *     y = W x,   W = P · L · (U + diag(sign_s ⊙ exp(log_s))),
 *     log|det J| = H·W · Σ log_s,
 *
 * with `P` a fixed permutation matrix, `L` unit lower triangular, `U`
 * strictly upper triangular and `sign_s` fixed signs. The log-det costs
 * nothing and the inverse is two triangular solves,
 * `W⁻¹ = (U + diag)⁻¹ · L⁻¹ · Pᵀ` (done on the `C × C` matrix, then one
 * product with the data). The forward pass is three matrix products; the
 * solves are `C` sequential small steps each (an inverse at C = 256 takes
 * ~0.1 s on the wasm backend, whatever the batch). Initialised from a random
 * rotation (uniform on SO(C)) factored as `P·L·U`, so the module starts
 * orthogonal (log-det 0).
 *
 * Parameters: `w_l` and `w_u` `[C, C]` (only their strict lower / strict
 * upper triangles are read: the other entries are unused and get no
 * gradient), `log_s` `[C]`; buffers `w_p` `[C, C]` and `sign_s` `[C]`. The
 * names follow the common PyTorch Glow ports; FrEIA has no such module.
 *
 * Options: {@link Conv1x1LUOptions}.
 *
 * @example
 * ```ts
 * import { inn, subnets } from 'freia-ts';
 * inn.input([3, 8, 8]).conv1x1LU().glow({ subnet: subnets.conv({ hidden: 16 }) }).build();
 * ```
 *
 * @group Modules
 */
export class InvertibleConv1x1LU extends InvertibleModule {
  private readonly pixels: number;
  private readonly channels: number;

  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<Conv1x1LUOptions>) {
    super(def.inputShapes, def.conditionShapes);
    const [channels, ...spatial] = def.inputShapes[0];
    this.channels = channels;
    this.pixels = numel(spatial);
    const { seed } = def.args;
    const { p, l, u } = luFactors(randomRotation(channels, seed === undefined ? globalRng() : mulberry32(seed)));
    const diagonal = u.map((row, i) => row[i]);
    this.addParam('w_p', tf.tensor2d(p), false);
    this.addParam('w_l', tf.tensor2d(l.map((row, i) => row.map((v, j) => (j < i ? v : 0)))));
    this.addParam('w_u', tf.tensor2d(u.map((row, i) => row.map((v, j) => (j > i ? v : 0)))));
    this.addParam('log_s', tf.tensor1d(diagonal.map((d) => Math.log(Math.abs(d)))));
    this.addParam('sign_s', tf.tensor1d(diagonal.map((d) => (d < 0 ? -1 : 1))), false);
  }

  /** `L` (unit lower) and `U + diag(sign_s·exp(log_s))` (upper) from the parameters. */
  private factors(): { lower: tf.Tensor2D; upper: tf.Tensor2D } {
    const eye = tf.eye(this.channels);
    // Masks multiply the parameters: tfjs's bandPart has no working gradient (its unstack's fails).
    const ones = tf.ones([this.channels, this.channels]);
    const strict = (w: tf.Tensor, lower: boolean): tf.Tensor =>
      tf.mul(w, tf.sub(lower ? tf.linalg.bandPart(ones, -1, 0) : tf.linalg.bandPart(ones, 0, -1), eye));
    const diagonal = tf.mul(this.params.get('sign_s')!, tf.exp(this.params.get('log_s')!));
    // Both are sums of [C, C] matrices, so rank 2.
    const lower = tf.add(strict(this.params.get('w_l')!, true), eye) as tf.Tensor2D;
    const upper = tf.add(strict(this.params.get('w_u')!, false), tf.mul(eye, diagonal)) as tf.Tensor2D;
    return { lower, upper };
  }

  forward(xs: readonly tf.Tensor[], _cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    const { lower, upper } = this.factors();
    const p = this.params.get('w_p')! as tf.Tensor as tf.Tensor2D; // created from a [C, C] matrix
    const logDet = tf.mul(tf.sum(this.params.get('log_s')!), this.pixels);
    if (!rev) {
      const w = tf.matMul(p, tf.matMul(lower, upper));
      // Channels-last rows: y = W x per position is `row · Wᵀ`.
      return { out: [channelMatMul(xs[0], tf.transpose(w))], logDet };
    }
    const lInvPt = tfSolveTriangular(lower, tf.transpose(p), { lower: true, unitDiagonal: true });
    const wInv = tfSolveTriangular(upper, lInvPt, { lower: false });
    return { out: [channelMatMul(xs[0], tf.transpose(wInv))], logDet: tf.neg(logDet) };
  }
}

export const invertibleConv1x1LU = moduleEntry<Conv1x1LUOptions>()({ kind: 'InvertibleConv1x1LU', conditions: 'none',
  outputShapes: (node, inputShapes, conditionShapes, args) => {
    const seed = args.seed;
    if (seed !== undefined && !Number.isInteger(seed)) throw new FreiaError(`${node}: seed must be a whole number, got ${String(seed)}`);
    return unconditionalSameShape(node, inputShapes, conditionShapes);
  },
  create: (def) => new InvertibleConv1x1LU(def),
  options: { seed: is.number({ integer: true }) },
  freia: { notExported: 'beyond FrEIA: FrEIA has no learned LU 1×1 convolution (its Fixed1x1Conv is not learned)' },
});
