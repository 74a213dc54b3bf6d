/**
 * The contract between modules and the fused kernels they call: names,
 * attributes and the order of inputs and outputs. The kernels themselves are
 * backend code (src/runtime/kernels-fused.ts, for the wasm and cpu backends,
 * registered by `ready()`); a module uses them only where they are
 * registered and fusion is on (src/math/fusion.ts), and otherwise runs its
 * plain tfjs operations, which stay the reference the fused path is tested
 * against.
 */
import * as tf from '@tensorflow/tfjs';
import { fusionEnabled } from '../math/fusion.js';

/**
 * AllInOneBlock's forward pass (`rev: false`) with an mlp subnet, as one
 * kernel: inputs in the order of {@link allInOneInputs}, attributes
 * {@link AllInOneAttrs}; outputs `y [N, C]`, `logDet [B]`, then what the
 * gradient needs: the subnet's input `u [N, len1 + cond]`, each hidden
 * activation `h_i [N, hidden]` (after ReLU) and the subnet's raw output
 * `a [N, 2·len2]` (before FrEIA's ×0.1), and `tanh(0.1 a_s / clamp)` and
 * `exp(s)` `[N, len2]`. `N` is batch × pixels: the module flattens the
 * spatial axes.
 */
export const ALL_IN_ONE_KERNEL = 'FreiaAllInOne';

/**
 * The gradient of {@link ALL_IN_ONE_KERNEL}: inputs `[dy, dLogDet, x, g,
 * perm, permInverse?, u, h_0, …, a, tanh, exp, W_0, …]`, the same attributes; outputs
 * `[dx, dg, dOffset, dCond?, dW_0, db_0, dW_1, db_1, …]`.
 */
export const ALL_IN_ONE_GRAD_KERNEL = 'FreiaAllInOneGrad';

/** The attributes of {@link ALL_IN_ONE_KERNEL} (and of its gradient). */
export interface AllInOneAttrs {
  readonly len1: number;
  readonly len2: number;
  /** Channels of all conditions together (0: none). */
  readonly condChannels: number;
  readonly clamp: number;
  readonly scaleType: 'SOFTPLUS' | 'SIGMOID' | 'EXP';
  /** Pixels per sample (1 for vectors). */
  readonly spatial: number;
  /** Linear layers of the subnet. */
  readonly layers: number;
  /** A rotation (`y = W z` per pixel) rather than a hard permutation. */
  readonly soft: boolean;
}

/** Where each input of {@link ALL_IN_ONE_KERNEL} sits. */
export interface AllInOneLayout {
  readonly x: 0;
  readonly g: 1;
  readonly offset: 2;
  /** The rotation `W [C, C]` (soft) or the permutation (int32 `[C]`). */
  readonly perm: 3;
  /** The inverse permutation (hard only; -1 when soft). */
  readonly permInverse: number;
  /** The conditions `[N, condChannels]` (-1 when there are none). */
  readonly cond: number;
  /** Layer `i`'s weight is at `weights + 2i`, its bias at `weights + 2i + 1`. */
  readonly weights: number;
  /** Number of inputs. */
  readonly count: number;
}

/** The input positions for `attrs`. */
export function allInOneLayout(attrs: Pick<AllInOneAttrs, 'soft' | 'condChannels' | 'layers'>): AllInOneLayout {
  const permInverse = attrs.soft ? -1 : 4;
  const cond = attrs.condChannels > 0 ? (attrs.soft ? 4 : 5) : -1;
  const weights = 4 + (attrs.soft ? 0 : 1) + (attrs.condChannels > 0 ? 1 : 0);
  return { x: 0, g: 1, offset: 2, perm: 3, permInverse, cond, weights, count: weights + 2 * attrs.layers };
}

/** Whether the fused kernel `name` can run now: fusion on, and registered for the current backend. */
export function fusedKernelReady(name: string): boolean {
  return fusionEnabled() && tf.getKernel(name, tf.getBackend()) !== undefined;
}
