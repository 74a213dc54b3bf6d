/**
 * FrEIA's PermuteRandom: a fixed random permutation of the channels,
 * `y = x[:, perm]`, log-det 0. The permutation is drawn from `seed` (our own
 * generator: FrEIA's numpy draws cannot be reproduced, so imported models
 * load `perm` and `perm_inv` instead of regenerating them).
 */
import * as tf from '@tensorflow/tfjs';
import type { ModuleDef } from '../runtime/graph.js';
import { globalRng, invertPermutation, mulberry32, randomPermutation } from '../runtime/rng.js';
import { InvertibleModule, argsOf, registerModule, type ForwardOptions, type ModuleResult } from './base.js';
import { sameShapeWithConditions } from './coupling.js';

export interface PermuteRandomOptions {
  /** Seed of the permutation; the shared generator when absent. */
  readonly seed?: number;
}

export class PermuteRandom extends InvertibleModule {
  constructor(def: ModuleDef) {
    super(def.inputShapes, def.conditionShapes);
    const { seed } = argsOf<PermuteRandomOptions>(def);
    const perm = randomPermutation(def.inputShapes[0][0], seed === undefined ? globalRng() : mulberry32(seed));
    this.addParam('perm', tf.tensor1d(perm, 'int32'), false);
    this.addParam('perm_inv', tf.tensor1d(invertPermutation(perm), 'int32'), false);
  }

  forward(xs: readonly tf.Tensor[], _cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    return { out: [tf.gather(xs[0], this.params.get(rev ? 'perm_inv' : 'perm')!, -1)], logDet: 0 };
  }
}

registerModule({
  kind: 'PermuteRandom',
  outputShapes: (node, inputShapes) => sameShapeWithConditions(node, inputShapes, []),
  create: (def) => new PermuteRandom(def),
});
