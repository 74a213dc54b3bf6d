/**
 * FrEIA's PermuteRandom: a fixed random permutation of the channels,
 * `y = x[:, perm]`, log-det 0. The permutation is drawn from `seed` (our own
 * generator: FrEIA's numpy draws cannot be reproduced, so imported models
 * load `perm` and `perm_inv` instead of regenerating them).
 */
import * as tf from '@tensorflow/tfjs';
import type { ModuleDef } from '../core/graph.js';
import { globalRng, invertPermutation, mulberry32, randomPermutation } from '../math/rng.js';
import { InvertibleModule, type ForwardOptions, type ModuleResult } from './base.js';
import { moduleEntry } from './registry.js';
import { is } from '../core/validation.js';
import { sameShapeWithConditions } from './coupling.js';

/**
 * Options of {@link PermuteRandom}.
 *
 * @group Modules
 */
export interface PermuteRandomOptions {
  /** Seed of the permutation; the shared generator when absent. */
  readonly seed?: number;
}

/**
 * `x[..., perm]` on the channel axis. Its gradient is the gather by the
 * inverse permutation: tfjs's generic gather gradient is an
 * `UnsortedSegmentSum`, which the wasm backend lacks (we would run it on the
 * cpu backend, copying the data both ways).
 */
export function permuteChannels(x: tf.Tensor, perm: tf.Tensor, inverse: tf.Tensor): tf.Tensor {
  // customGrad passes the inputs followed by a save function; the first argument is our tensor.
  const gather = tf.customGrad((input: tf.Tensor | tf.GradSaveFunc) => ({
    value: tf.gather(input as tf.Tensor, perm, -1),
    gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.gather(Array.isArray(dy) ? dy[0] : dy, inverse, -1),
  }));
  return gather(x);
}

/**
 * FrEIA's PermuteRandom: a fixed random permutation of the channels,
 *
 * ```text
 * y = x[:, perm],   log|det J| = 0
 * ```
 *
 * drawn from `seed` ({@link PermuteRandomOptions}) or the shared generator
 * ({@link setGlobalSeed}). FrEIA's numpy draws cannot be reproduced, so an
 * imported model loads `perm` and `perm_inv` rather than regenerating them.
 * Put one between couplings so every channel is transformed.
 *
 * @example
 * ```ts
 * import { inn, subnets } from 'freia-ts';
 * inn.input([4]).glow({ subnet: subnets.mlp({ hidden: 64 }) }).permuteRandom({ seed: 1 }).build();
 * ```
 *
 * @group Modules
 */
export class PermuteRandom extends InvertibleModule {
  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<PermuteRandomOptions>) {
    super(def.inputShapes, def.conditionShapes);
    const { seed } = def.args;
    const perm = randomPermutation(def.inputShapes[0][0], seed === undefined ? globalRng() : mulberry32(seed));
    this.addParam('perm', tf.tensor1d(perm, 'int32'), false);
    this.addParam('perm_inv', tf.tensor1d(invertPermutation(perm), 'int32'), false);
  }

  forward(xs: readonly tf.Tensor[], _cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    const perm = this.params.get('perm')!;
    const inverse = this.params.get('perm_inv')!;
    return { out: [rev ? permuteChannels(xs[0], inverse, perm) : permuteChannels(xs[0], perm, inverse)], logDet: 0 };
  }
}

export const permuteRandom = moduleEntry<PermuteRandomOptions>()({ kind: 'PermuteRandom', conditions: 'none',
  outputShapes: (node, inputShapes) => sameShapeWithConditions(node, inputShapes, []),
  create: (def) => new PermuteRandom(def),
  options: { seed: is.number({ integer: true }) },
  permutations: [['perm', 'perm_inv']],
});
