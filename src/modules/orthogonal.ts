/**
 * FrEIA's learned orthogonal maps of vectors: OrthogonalTransform (a free
 * weight matrix kept orthogonal, with a bias and a clamped scaling) and
 * HouseholderPerm (a product of learned Householder reflections).
 */
import * as tf from '@tensorflow/tfjs';
import type { ModuleDef, Shape } from '../core/graph.js';
import { FreiaError, ShapeMismatchError, formatShape } from '../core/errors.js';
import { is, checkElements } from '../core/validation.js';
import { gaussian, globalRng } from '../math/rng.js';
import { householderProduct, randomRotation, tfOrthonormalRows } from '../math/linalg.js';
import { numel, toPublic } from '../math/layout.js';
import { InvertibleModule, type ForwardOptions, type ModuleResult } from './base.js';
import { moduleEntry } from './registry.js';
import { unconditionalSameShape, type VectorRule } from './fixed.js';

/**
 * Options of {@link OrthogonalTransform} (FrEIA's `correction_interval`, `clamp`).
 *
 * @group Modules
 */
export interface OrthogonalOptions {
  /**
   * FrEIA re-orthogonalises its weights every this many backward passes
   * (default 256). Accepted and kept for FrEIA compatibility, but it has no
   * effect here: the weights are orthonormalised in every forward pass
   * instead (see {@link OrthogonalTransform}).
   */
  readonly correctionInterval?: number;
  /** Soft clamp α of the log-scaling, `α·0.636·atan(scaling/α)` (default 5). */
  readonly clamp?: number;
}

/**
 * Options of {@link HouseholderPerm} (FrEIA's `n_reflections`, `fixed`).
 *
 * @group Modules
 */
export interface HouseholderPermOptions {
  /** Number of reflections `k` (default 1; FrEIA demands at least 2, we take any k ≥ 1). */
  readonly nReflections?: number;
  /** Draw the reflections at random once and never train them (default false). */
  readonly fixed?: boolean;
}

/**
 * FrEIA's OrthogonalTransform on vectors `[C]`: an orthogonal matrix `Q`, a
 * bias `b` and a per-channel scaling, all learned,
 *
 *     y = (x · Q + b) ⊙ exp(s'),   s' = α · 0.636 · atan(scaling / α),
 *     log|det J| = Σ s',
 *
 * with row vectors, i.e. `Qᵀ x` for a column x (FrEIA's code; its docstring's
 * `Ψ(s) ⊙ Rx + b`, bias outside the scaling and 2/π for 0.636, is not what
 * it computes). Note `scaling` **is** divided by the clamp here, unlike the
 * couplings' `clamp·0.636·atan(raw)`.
 *
 * Where we differ, and why: FrEIA trains `weights` as a free matrix and only
 * every `correction_interval` (±random jitter) backward passes projects it
 * back onto the orthogonal matrices by row-wise Gram-Schmidt, in a backward
 * hook. In between, its reverse (which multiplies by `weightsᵀ`) is not the
 * inverse of its forward, and its log-det ignores `log|det weights|`. We
 * instead apply that same row-wise Gram-Schmidt to `weights` in every pass,
 * differentiably, `Q = orthonormalRows(weights)`, so the map is orthogonal
 * at every step: the inverse and log-det are exact whatever the optimiser
 * does to `weights`. For FrEIA's weights, orthogonal to float32 round-off,
 * `Q = weights` and the outputs agree. `correctionInterval` therefore has no
 * effect (the stored `weights` are never rewritten). The cost is about `C`
 * sequential small ops per pass (a forward pass at C = 256 takes ~0.15 s,
 * a training step ~0.8 s, on the wasm backend): fine for the small vectors
 * this module is meant for; for wide inputs prefer `conv1x1LU` or
 * `householderPerm`.
 *
 * Parameters (FrEIA's names): `weights` `[C, C]`, `bias` and `scaling`
 * `[C]` (`[1, C]` in FrEIA). Initialised like FrEIA: a random rotation,
 * `bias ~ 0.05·N(0, 1)`, `scaling ~ 0.02·N(0, 1)`.
 *
 * Options: {@link OrthogonalOptions}.
 *
 * @example
 * ```ts
 * import { inn } from 'freia-ts';
 * inn.input([6]).orthogonal().build();
 * ```
 *
 * @group Modules
 */
export class OrthogonalTransform extends InvertibleModule {
  private readonly clamp: number;
  private readonly weights: tf.Variable;
  private readonly bias: tf.Variable;
  private readonly scaling: tf.Variable;

  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<OrthogonalOptions>) {
    super(def.inputShapes, def.conditionShapes);
    const channels = def.inputShapes[0][0];
    this.clamp = def.args.clamp ?? 5;
    const rng = globalRng();
    this.weights = this.addParam('weights', tf.tensor2d(randomRotation(channels, rng)));
    this.bias = this.addParam('bias', tf.tensor1d(Array.from({ length: channels }, () => 0.05 * gaussian(rng))));
    this.scaling = this.addParam('scaling', tf.tensor1d(Array.from({ length: channels }, () => 0.02 * gaussian(rng))));
  }

  forward(xs: readonly tf.Tensor[], _cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    // `weights` was created from a 2-D tensor and loads keep its shape: it is rank 2.
    const q = tfOrthonormalRows(this.weights as tf.Tensor as tf.Tensor2D);
    const logScale = tf.mul(tf.atan(tf.div(this.scaling, this.clamp)), this.clamp * 0.636);
    const logDet = tf.sum(logScale);
    if (!rev) return { out: [tf.mul(tf.add(tf.matMul(xs[0], q), this.bias), tf.exp(logScale))], logDet };
    return { out: [tf.matMul(tf.sub(tf.mul(xs[0], tf.exp(tf.neg(logScale))), this.bias), q, false, true)], logDet: tf.neg(logDet) };
  }
}

/**
 * FrEIA's HouseholderPerm on vectors `[C]`: a product of `k` Householder
 * reflections `H(v) = I − 2 v vᵀ/|v|²`,
 *
 *     y = x · W,   W = H(v_1) · H(v_2) ⋯ H(v_k),   log|det J| = 0,
 *
 * with row vectors (`Wᵀ x` for a column x); the inverse is `y · Wᵀ`. The
 * reflections are applied one after another (`k` rank-one updates), never
 * forming `W`.
 *
 * Three modes, as in FrEIA:
 * - learned (default): the rows of the parameter `Vs` `[k, C]` are the `v_i`,
 *   initialised near the first `k` unit vectors (`I + 0.1·N(0, 1)`);
 * - `fixed`: `Vs` is drawn from N(0, 1) and `W` is computed once and kept in
 *   the buffer `weight` `[C, C]`, which the map uses; nothing is trained.
 *   (In FrEIA `Vs` stays a trainable parameter in this mode, by an
 *   oversight, though nothing reads it; ours is a buffer.)
 * - conditional: one condition with `C·k` elements holds the reflections,
 *   read as FrEIA does, a `[C, k]` matrix (row-major, channels-first) whose
 *   columns are the `v_i`; a different `W` per sample, and no parameters.
 *
 * FrEIA refuses `k < 2` (an artefact of its blocked product); any `k ≥ 1`
 * works here, and the default is FrEIA's nominal 1.
 *
 * Options: {@link HouseholderPermOptions}.
 *
 * @example
 * ```ts
 * import { inn } from 'freia-ts';
 * inn.input([6]).householderPerm({ nReflections: 3 }).build();
 * ```
 *
 * @group Modules
 */
export class HouseholderPerm extends InvertibleModule {
  private readonly channels: number;
  private readonly reflections: number;
  private readonly fixed: boolean;

  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<HouseholderPermOptions>) {
    super(def.inputShapes, def.conditionShapes);
    const args = def.args;
    this.channels = def.inputShapes[0][0];
    this.reflections = args.nReflections ?? 1;
    this.fixed = args.fixed ?? false;
    if (def.conditionShapes.length > 0) return;
    const rng = globalRng();
    const vs = Array.from({ length: this.reflections }, (_, i) =>
      Array.from({ length: this.channels }, (_, j) => (this.fixed ? gaussian(rng) : (i === j ? 1 : 0) + 0.1 * gaussian(rng))),
    );
    this.addParam('Vs', tf.tensor2d(vs), !this.fixed);
    if (this.fixed) this.addParam('weight', tf.tensor2d(householderProduct(vs)), false);
  }

  /**
   * FrEIA registers a fixed product twice, as `W` and `weight`.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn } from 'freia-ts';
   * const perm = inn.input([6]).householderPerm({ nReflections: 3, fixed: true }).build().modules[1]!;
   * const state = perm.freiaState(); // Vs [3, 6], weight [6, 6] and the same product as W
   * tf.dispose([...state.values()]);
   * ```
   */
  override freiaState(): Map<string, tf.Tensor> {
    const state = super.freiaState();
    if (this.fixed) state.set('W', state.get('weight')!.clone());
    return state;
  }

  forward(xs: readonly tf.Tensor[], cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    const x = xs[0];
    if (this.fixed) return { out: [tf.matMul(x, this.params.get('weight')!, false, rev)], logDet: 0 };
    // v: [1 or batch, k, C], the reflections of every sample.
    const v =
      cs.length > 0
        ? tf.transpose(tf.reshape(toPublic(cs[0]), [-1, this.channels, this.reflections]), [0, 2, 1])
        : tf.expandDims(this.params.get('Vs')!, 0);
    // Slices rather than unstack/split: their tfjs gradients fail when there is a single piece.
    const vectors = Array.from({ length: this.reflections }, (_, i) => tf.squeeze(tf.slice(v, [0, i, 0], [-1, 1, -1]), [1]));
    if (rev) vectors.reverse();
    let y = x;
    for (const vi of vectors) {
      const coefficient = tf.div(tf.mul(tf.sum(tf.mul(y, vi), -1, true), 2), tf.sum(tf.square(vi), -1, true));
      y = tf.sub(y, tf.mul(coefficient, vi));
    }
    return { out: [y], logDet: 0 };
  }
}

export const orthogonalTransform = moduleEntry<OrthogonalOptions, VectorRule>()({ kind: 'OrthogonalTransform', conditions: 'none',
  outputShapes: (node, inputShapes, conditionShapes, args) => {
    const clamp = args.clamp;
    if (clamp !== undefined && !(typeof clamp === 'number' && clamp > 0 && Number.isFinite(clamp))) {
      throw new FreiaError(`${node}: clamp must be a positive number, got ${String(clamp)}`);
    }
    return unconditionalSameShape(node, inputShapes, conditionShapes, 1);
  },
  create: (def) => new OrthogonalTransform(def),
  options: { correctionInterval: is.number({ integer: true, min: 1 }), clamp: is.number({ above: 0 }) },
});

export const householderPerm = moduleEntry<HouseholderPermOptions, VectorRule>()({ kind: 'HouseholderPerm', conditions: 'optional',
  outputShapes: (node, inputShapes, conditionShapes, args) => {
    const { nReflections = 1, fixed = false } = args;
    if (!Number.isInteger(nReflections) || nReflections < 1) throw new FreiaError(`${node}: nReflections must be a whole number ≥ 1, got ${String(nReflections)}`);
    // The reflections are [nReflections, C], made element by element: bounded before anything is made.
    if (inputShapes.length === 1) checkElements(node, 'nReflections (reflections × channels)', [nReflections, inputShapes[0][0]]);
    if (conditionShapes.length === 0) return unconditionalSameShape(node, inputShapes, [], 1);
    const shapes = unconditionalSameShape(node, inputShapes, [], 1);
    if (fixed) throw new FreiaError(`${node}: the reflections cannot be both fixed and given by a condition`);
    const width = inputShapes[0][0];
    const given = conditionShapes.map((c) => formatShape(c as Shape)).join(', ');
    if (conditionShapes.length !== 1 || numel(conditionShapes[0]) !== width * nReflections) {
      throw new ShapeMismatchError(node, `one condition with C·nReflections = ${width}·${nReflections} = ${width * nReflections} elements (the reflection vectors)`, given);
    }
    return shapes;
  },
  create: (def) => new HouseholderPerm(def),
  options: { nReflections: is.number({ integer: true, min: 1 }), fixed: is.boolean },
});
