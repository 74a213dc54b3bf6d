/**
 * FrEIA's `Inverse`: a module run backwards. Its forward pass is the wrapped
 * module's inverse, and its inverse the wrapped module's forward:
 *
 *     Inverse(f)(x) = f⁻¹(x),   log|det J_{Inverse(f)}(x)| = −log|det J_f(f⁻¹(x))|
 *
 * (the wrapped module's reverse pass returns exactly that log-det). Useful
 * where the cheap direction of a module should be the sampling one, as
 * between MAF and IAF.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModuleDef } from '../core/graph.js';
import { InvertibleModule, type ForwardOptions, type ModuleResult } from './base.js';

/**
 * Options of {@link Inverse}: the wrapped module's kind (FrEIA's class name) and its options.
 *
 * @group Modules
 */
export interface InverseOptions {
  /** The wrapped module's kind, e.g. `'GLOWCouplingBlock'` (the builders take the method name instead). */
  readonly module: string;
  /** The wrapped module's options. */
  readonly args?: object;
}

/**
 * FrEIA's Inverse: `module` with its directions swapped. The wrapped module
 * keeps its input's shape (so the wrapper does too) and has an exact
 * inverse. Its parameters are this module's, under `module.` (FrEIA's
 * state-dict names: `module.subnet1.0.weight`).
 *
 * Where we differ from FrEIA: FrEIA wraps any module instance, including
 * those that change shapes; here the wrapped module must keep its shape
 * (use the opposite module, `haarUpsample` for `haarDownsample`, instead)
 * and invert exactly (not IResNetLayer or the InvAuto family).
 *
 * Options: {@link InverseOptions}.
 *
 * @example
 * ```ts
 * import { inn, subnets } from 'freia-ts';
 * // A GLOW block whose cheap direction is the inverse.
 * const flow = inn.input([4]).inverseOf('glow')({ subnet: subnets.mlp({ hidden: 32 }) }).build();
 * ```
 *
 * @group Modules
 */
export class Inverse extends InvertibleModule {
  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<InverseOptions>, private readonly wrapped: InvertibleModule) {
    super(def.inputShapes, def.conditionShapes);
    for (const [name, variable] of wrapped.params) this.params.set(`module.${name}`, variable);
  }

  forward(xs: readonly tf.Tensor[], cs: readonly tf.Tensor[], { rev, jac }: ForwardOptions): ModuleResult {
    return this.wrapped.forward(xs, cs, { rev: !rev, jac });
  }

  /**
   * The wrapped module's own loading rules (its layouts and buffers) apply under `module.`.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn } from 'freia-ts';
   * const inverse = inn.input([4]).inverseOf('actNorm')().build().modules[1]!;
   * inverse.loadParam('module.loc', tf.zeros([1, 4, 1, 1])); // ActNorm's rules: FrEIA's [1, C, 1, 1] → [4]
   * ```
   */
  override loadParam(name: string, value: tf.Tensor): void {
    if (name.startsWith('module.') && this.params.has(name)) this.wrapped.loadParam(name.slice('module.'.length), value);
    else super.loadParam(name, value);
  }

  /**
   * The wrapped module's own entries (its layouts and derived buffers), under `module.`.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn, subnets } from 'freia-ts';
   * const inverse = inn.input([4]).inverseOf('glow')({ subnet: subnets.mlp({ hidden: 32 }) }).build().modules[1]!;
   * const state = inverse.freiaState(); // 'module.subnet1.0.weight', …, 'module.subnet2.2.bias'
   * tf.dispose([...state.values()]);
   * ```
   */
  override freiaState(): Map<string, tf.Tensor> {
    return new Map([...this.wrapped.freiaState()].map(([name, value]) => [`module.${name}`, value]));
  }
}
