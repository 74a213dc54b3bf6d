/**
 * FrEIA's GaussianMixtureModel: an invertible map between data x and a
 * standard-normal latent z under one component of a Gaussian mixture whose
 * parameters arrive as conditions (typically from a mixture density network).
 *
 * Component k has weight w_k, mean μ_k and precision matrix Λ_k = U_kᵀ U_k,
 * with U_k upper triangular: its diagonal is `exp` of the first D entries of
 * the parameter vector, and its strict upper triangle is filled row by row
 * ((0,1), (0,2), …, (1,2), …) from the remaining D(D−1)/2 entries. Then
 *
 *     z = U_k (x − μ_k),        x = μ_k + U_k⁻¹ z,
 *     log|det ∂z/∂x| = log det U_k = Σ_d (entries)_d,
 *
 * and the mixture density is closed-form:
 *
 *     p(x) = Σ_k w_k (2π)^{−D/2} det U_k exp(−½ |U_k (x − μ_k)|²).
 *
 * FrEIA's NLL helpers (without the constant D/2·log 2π) are the static
 * methods {@link GaussianMixtureModel.nllLoss} and
 * {@link GaussianMixtureModel.nllUpperBound}.
 */
import * as tf from '@tensorflow/tfjs';
import { tfBatchedSolveUpper } from '../math/linalg.js';
import type { ModuleDef, Shape } from '../core/graph.js';
import { FreiaError, ShapeMismatchError, formatShape } from '../core/errors.js';
import { is } from '../core/validation.js';
import { toInternal, toPublic } from '../math/layout.js';
import { globalRng, mulberry32 } from '../math/rng.js';
import { canReadSync } from '../math/readback.js';
import { InvertibleModule, type ForwardOptions, type ModuleResult } from './base.js';
import { moduleEntry } from './registry.js';

/**
 * Which mixture component maps each sample: FrEIA's fourth conditional input
 * `i`, which here is an option because only tensors flow through a network.
 * - `'fromCondition'` (FrEIA: a tensor of indices): a fourth condition of
 *   shape `[1]` holds each sample's component index (a whole number stored as
 *   a float). The default when four conditions are given.
 * - `{ seed }` (FrEIA: an int): each call draws components from the weights
 *   with {@link GaussianMixtureModel.pickMixtureComponent} and this seed, so
 *   forward and inverse with the same weights pick the same components. Our
 *   generator is not PyTorch's: the picks differ from FrEIA's for the same seed.
 * - `'all'` (FrEIA: None): the input is `[K, D]`, row k mapped by component k,
 *   all at once. The default when three conditions are given and the input is
 *   `[K, D]`. FrEIA also accepts a `[D]` input here and broadcasts it to every
 *   component; that changes the shape and has no inverse, so we ask for `[K, D]`
 *   (tile the input yourself).
 *
 * @group Modules
 */
export type MixtureComponent = 'fromCondition' | 'all' | {
  /** The seed of the draw. */
  readonly seed: number;
};

/**
 * Options of {@link GaussianMixtureModel}.
 *
 * @group Modules
 */
export interface GaussianMixtureOptions {
  /** Which component transforms each sample: drawn from the weights (default), read from the condition (`'fromCondition'`), all of them (`'all'`), or drawn with a seed. */
  readonly component?: MixtureComponent;
}

/** D from the number of Cholesky entries T = D(D+1)/2, or NaN. */
function dimsFromEntries(t: number): number {
  const d = Math.round((Math.sqrt(8 * t + 1) - 1) / 2);
  return (d * (d + 1)) / 2 === t ? d : NaN;
}

/**
 * The upper-triangular factors `[..., D, D]` from their entries `[..., T]`:
 * `exp` of the first D on the diagonal, the rest row by row above it
 * (PyTorch's boolean-mask fill order, which FrEIA uses).
 */
export function choleskyFactors(entries: tf.Tensor, d: number): tf.Tensor {
  return tf.tidy(() => {
    const lead = entries.shape.slice(0, -1);
    const t = entries.shape[entries.rank - 1];
    const flat = tf.reshape(entries, [-1, t]);
    const diagonal = new Float32Array(d * d * d);
    for (let i = 0; i < d; i++) diagonal[i * d * d + i * d + i] = 1;
    let u = tf.matMul(tf.exp(tf.slice(flat, [0, 0], [-1, d])), tf.tensor2d(diagonal, [d, d * d]));
    if (t > d) {
      const upper = new Float32Array((t - d) * d * d);
      let row = 0;
      for (let r = 0; r < d; r++) for (let c = r + 1; c < d; c++) upper[row++ * d * d + r * d + c] = 1;
      u = tf.add(u, tf.matMul(tf.slice(flat, [0, d], [-1, t - d]), tf.tensor2d(upper, [t - d, d * d])));
    }
    return tf.reshape(u, [...lead, d, d]);
  });
}

/** `U v` for `[N, D, D]` and `[N, D]`. */
function applyFactor(u: tf.Tensor, v: tf.Tensor): tf.Tensor {
  const [n, d] = v.shape;
  // Rank casts: u is [N, D, D] by construction and v is reshaped to [N, D, 1] here.
  return tf.reshape(tf.matMul(u as tf.Tensor3D, tf.reshape(v, [n, d, 1]) as tf.Tensor3D), [n, d]);
}

/**
 * FrEIA's GaussianMixtureModel (see the file's summary for the mathematics).
 *
 * Wiring: one input x, `[D]` (one component per sample) or `[K, D]`
 * (`component: 'all'`), and the conditions, in this order:
 * weights `w` `[K]` (positive, summing to one: see
 * {@link GaussianMixtureModel.normalizeWeights}), means `μ` `[K, D]`,
 * Cholesky entries `[K, D(D+1)/2]`, and for `component: 'fromCondition'` the
 * index `[1]`. In a chain: `.condition([K]).condition([K, D]).condition([K, T])
 * .gaussianMixture({ cond: [0, 1, 2], component: { seed: 0 } })`.
 *
 * Where we differ from FrEIA: the component choice is an option rather than
 * a fourth input (see {@link MixtureComponent}); with `'all'` the log-det is
 * the joint map's `Σ_k log det U_k` of shape `[batch]` (FrEIA returns the
 * per-component `[batch, K]`, which a flow cannot carry; get it from
 * {@link GaussianMixtureModel.componentLogDets}); the inverse solves the
 * triangular system by back substitution (FrEIA inverts `U` with
 * `torch.inverse`: the same map, slightly different rounding); drawn indices
 * are clamped to K − 1 where the weights' cumulative sum stays below 1 by
 * rounding (FrEIA would return the out-of-range K). `exportFreia` writes a
 * small subclass of FrEIA's class that takes the `component` option, so the
 * exported network maps as this one does (seeded picks included).
 *
 * Options: {@link GaussianMixtureOptions}.
 *
 * @example
 * ```ts
 * import { inn } from 'freia-ts';
 * // weights [K], means [K, D], Cholesky entries [K, D(D+1)/2] for K = 3, D = 2
 * inn.input([2]).condition([3]).condition([3, 2]).condition([3, 3]).gaussianMixture({ cond: [0, 1, 2] }).build();
 * ```
 *
 * @group Modules
 */
export class GaussianMixtureModel extends InvertibleModule {
  private readonly d: number;
  private readonly k: number;
  private readonly component: MixtureComponent;

  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<GaussianMixtureOptions>) {
    super(def.inputShapes, def.conditionShapes);
    const [w, mu] = def.conditionShapes;
    this.k = w[0];
    this.d = mu[1];
    this.component = resolveComponent(def.kind, def.inputShapes, def.conditionShapes, def.args);
  }

  forward(xs: readonly tf.Tensor[], cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    const [w, muInternal, entriesInternal, index] = cs;
    const mu = toPublic(muInternal);
    const entries = toPublic(entriesInternal);
    const factors = choleskyFactors(entries, this.d);
    const logDets = GaussianMixtureModel.componentLogDets(entries);
    if (this.component === 'all') {
      const batch = xs[0].shape[0];
      const n = batch * this.k;
      const x = tf.reshape(toPublic(xs[0]), [n, this.d]);
      const u = tf.reshape(factors, [n, this.d, this.d]);
      const m = tf.reshape(mu, [n, this.d]);
      const out = rev ? tf.add(m, tfBatchedSolveUpper(u, x)) : applyFactor(u, tf.sub(x, m));
      const logDet = tf.sum(logDets, 1);
      return { out: [toInternal(tf.reshape(out, [batch, this.k, this.d]))], logDet: rev ? tf.neg(logDet) : logDet };
    }
    const indices = this.component === 'fromCondition' ? this.indicesFrom(index) : GaussianMixtureModel.pickMixtureComponent(w, this.component.seed);
    // tfjs's oneHot needs a depth of at least 2.
    const select = this.k === 1 ? tf.ones([indices.shape[0], 1]) : tf.oneHot(indices, this.k).toFloat();
    const u = tf.sum(tf.mul(tf.reshape(select, [-1, this.k, 1, 1]), factors), 1);
    const m = tf.sum(tf.mul(tf.expandDims(select, 2), mu), 1);
    const logDet = tf.sum(tf.mul(select, logDets), 1);
    const x = xs[0];
    const out = rev ? tf.add(m, tfBatchedSolveUpper(u, x)) : applyFactor(u, tf.sub(x, m));
    return { out: [out], logDet: rev ? tf.neg(logDet) : logDet };
  }

  /**
   * The component index condition as int32 (rounded on the device). Where the
   * backend reads synchronously (not WebGPU in Node) an index outside
   * 0..K−1 is an error; on WebGPU in Node it is not checked, and a sample
   * with such an index maps to zero.
   */
  private indicesFrom(index: tf.Tensor): tf.Tensor1D {
    const indices = tf.tidy(() => tf.cast(tf.round(tf.reshape(index, [-1])), 'int32')) as tf.Tensor1D;
    if (canReadSync()) {
      const bad = Array.from(index.dataSync(), Math.round).find((v) => !(v >= 0 && v < this.k));
      if (bad !== undefined) {
        indices.dispose();
        throw new FreiaError(`GaussianMixtureModel: component index ${bad} is not in 0..${this.k - 1}`);
      }
    }
    return indices;
  }

  /**
   * FrEIA's `normalize_weights`: softmax over the last axis, after
   * subtracting the largest value (which changes nothing but the rounding):
   * `w_k = exp(w_k − max w) / Σ_j exp(w_j − max w)`.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { GaussianMixtureModel } from 'freia-ts';
   * // a mixture density network's raw outputs [B, K] → the weights condition
   * GaussianMixtureModel.normalizeWeights(tf.tensor2d([[0, 1, 2]])).print(); // [[0.090, 0.245, 0.665]]
   * ```
   */
  static normalizeWeights(w: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.softmax(tf.sub(w, tf.max(w))));
  }

  /**
   * FrEIA's `pick_mixture_component`: for weights `w` `[B, K]` (positive,
   * summing to one), draws one uniform u per row and returns the number of
   * cumulative weights below it, i.e. index k with probability w_k (int32
   * `[B]`). With a seed the draws repeat (our generator, not PyTorch's);
   * without one they come from the generator {@link setGlobalSeed} seeds.
   * The draws and the cumulative weights are float32, as PyTorch's, and the
   * count is taken on the device, so nothing is read back.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { GaussianMixtureModel } from 'freia-ts';
   * const w = tf.tensor2d([[0.2, 0.5, 0.3], [1, 0, 0]]);
   * GaussianMixtureModel.pickMixtureComponent(w, 0).print(); // int32 [2]; the second row always picks 0
   * ```
   */
  static pickMixtureComponent(w: tf.Tensor, seed?: number): tf.Tensor1D {
    const [batch, k] = w.shape;
    const rng = seed === undefined ? globalRng() : mulberry32(seed);
    const draws = Float32Array.from({ length: batch }, () => rng());
    // On the device, so nothing is read back: count the float32 cumulative weights below each draw.
    return tf.tidy(() => {
      const cumulative = tf.cumsum(w, 1);
      const below = tf.cast(tf.greater(tf.tensor2d(draws, [batch, 1]), cumulative), 'int32');
      return tf.minimum(tf.sum(below, 1), tf.scalar(k - 1, 'int32'));
    }) as tf.Tensor1D;
  }

  /**
   * log det U_k per component: the sum of the first D Cholesky entries, `[B, K, T]` → `[B, K]`.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { GaussianMixtureModel } from 'freia-ts';
   * // K = 3 components in D = 2: T = 3 entries each (2 log-diagonal, 1 above it)
   * const entries = tf.tensor3d([[[0.5, 0.1, 9], [0, 0, 1], [1, 1, 0]]]); // [1, 3, 3]
   * GaussianMixtureModel.componentLogDets(entries).print(); // [[0.6, 0, 2]]
   * ```
   */
  static componentLogDets(entries: tf.Tensor): tf.Tensor {
    const t = entries.shape[entries.rank - 1];
    const d = dimsFromEntries(t);
    if (Number.isNaN(d)) throw new FreiaError(`GaussianMixtureModel: ${t} Cholesky entries is not D(D+1)/2 for any D`);
    return tf.tidy(() => tf.sum(tf.slice(entries, new Array<number>(entries.rank).fill(0), [...entries.shape.slice(0, -1), d]), -1));
  }

  /**
   * FrEIA's `nll_loss`: `−log Σ_k w_k exp(−½|z_k|² + log det U_k)` per
   * sample, for `w` `[B, K]`, latent codes of every component `z` `[B, K, D]`
   * (`component: 'all'`), and `logJacobian` `[B, K]`
   * ({@link GaussianMixtureModel.componentLogDets}). This is −log p(x) minus
   * the constant D/2·log 2π.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn, GaussianMixtureModel } from 'freia-ts';
   * const flow = inn.input([3, 2]).condition([3]).condition([3, 2]).condition([3, 3]).gaussianMixture({ cond: [0, 1, 2], component: 'all' }).build();
   * const [w, mu, entries] = [GaussianMixtureModel.normalizeWeights(tf.randomNormal([8, 3])), tf.randomNormal([8, 3, 2]), tf.randomNormal([8, 3, 3], 0, 0.1)];
   * const x = tf.tile(tf.randomNormal([8, 1, 2]), [1, 3, 1]); // each sample once per component
   * const { out: z } = flow.forward(x, { c: [w, mu, entries] }); // [8, 3, 2]
   * const nll = GaussianMixtureModel.nllLoss(w, z, GaussianMixtureModel.componentLogDets(entries)); // [8]
   * ```
   */
  static nllLoss(w: tf.Tensor, z: tf.Tensor, logJacobian: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.neg(tf.log(tf.sum(tf.mul(tf.exp(tf.add(tf.mul(tf.sum(tf.square(z), -1), -0.5), logJacobian)), w), -1))));
  }

  /**
   * FrEIA's `nll_upper_bound`: `−Σ_k (log w_k − ½|z_k|² + log det U_k)`, numerically safer than {@link GaussianMixtureModel.nllLoss}.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn, GaussianMixtureModel } from 'freia-ts';
   * const flow = inn.input([3, 2]).condition([3]).condition([3, 2]).condition([3, 3]).gaussianMixture({ cond: [0, 1, 2], component: 'all' }).build();
   * const [w, mu, entries] = [GaussianMixtureModel.normalizeWeights(tf.randomNormal([8, 3])), tf.randomNormal([8, 3, 2]), tf.randomNormal([8, 3, 3], 0, 0.1)];
   * const { out: z } = flow.forward(tf.tile(tf.randomNormal([8, 1, 2]), [1, 3, 1]), { c: [w, mu, entries] });
   * const bound = GaussianMixtureModel.nllUpperBound(w, z, GaussianMixtureModel.componentLogDets(entries)); // [8]
   * ```
   */
  static nllUpperBound(w: tf.Tensor, z: tf.Tensor, logJacobian: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.neg(tf.sum(tf.add(tf.sub(tf.log(w), tf.mul(tf.sum(tf.square(z), -1), 0.5)), logJacobian), -1)));
  }
}

function resolveComponent(node: string, inputShapes: readonly Shape[], conditionShapes: readonly Shape[], args: GaussianMixtureOptions): MixtureComponent {
  if (inputShapes.length !== 1) throw new ShapeMismatchError(node, 'exactly 1 input', `${inputShapes.length} inputs`);
  const [x] = inputShapes;
  const shown = conditionShapes.map(formatShape).join(', ') || 'none';
  if (conditionShapes.length !== 3 && conditionShapes.length !== 4) {
    throw new ShapeMismatchError(node, 'conditions weights [K], means [K, D], Cholesky entries [K, D(D+1)/2] and optionally a component index [1]', shown);
  }
  const [w, mu, entries, index] = conditionShapes;
  const d = x[x.length - 1];
  const k = w.length === 1 ? w[0] : NaN;
  const t = (d * (d + 1)) / 2;
  const fits = w.length === 1 && mu.length === 2 && mu[0] === k && mu[1] === d && entries.length === 2 && entries[0] === k && entries[1] === t;
  if (!fits || (index && (index.length !== 1 || index[0] !== 1))) {
    throw new ShapeMismatchError(node, `conditions [K], [K, ${d}], [K, ${t}]${index ? ', [1]' : ''} (D = ${d} from the input ${formatShape(x)})`, shown);
  }
  const component = args.component ?? (index ? 'fromCondition' : x.length === 2 ? 'all' : undefined);
  if (component === undefined) {
    throw new ShapeMismatchError(node, "a component index condition [1], or component: { seed } (or 'all' with an input [K, D])", `3 conditions and an input ${formatShape(x)}`);
  }
  if (component === 'all') {
    if (index) throw new ShapeMismatchError(node, "3 conditions with component: 'all'", '4');
    if (x.length !== 2 || x[0] !== k) throw new ShapeMismatchError(node, `an input [${k}, ${d}] (one row per component) with component: 'all'`, formatShape(x));
  } else {
    if (x.length !== 1) throw new ShapeMismatchError(node, `an input [D] when one component is picked per sample`, formatShape(x));
    if (component === 'fromCondition' && !index) throw new ShapeMismatchError(node, "a fourth condition [1] (the component index) with component: 'fromCondition'", '3 conditions');
    if (typeof component === 'object' && (index || !Number.isInteger(component.seed))) {
      throw new ShapeMismatchError(node, 'component: { seed } with a whole-number seed and 3 conditions', `seed ${component.seed}, ${conditionShapes.length} conditions`);
    }
  }
  return component;
}

/**
 * The export's FrEIA class: FrEIA's GaussianMixtureModel taking our
 * `component` option where FrEIA takes a fourth input `i`, so that the
 * exported network maps as ours does. `'fromCondition'`: the fourth
 * condition `[B, 1]` holds the indices as floats (FrEIA wants a long `[B]`);
 * `'all'`: `i` is None, and the log-dets of the K components are summed to
 * the joint map's `[B]` (a GraphINN adds `[B]` log-dets); `{ seed }`: the
 * components are drawn as {@link GaussianMixtureModel.pickMixtureComponent}
 * draws them (our mulberry32 generator written in Python, float32 draws and
 * cumulative weights, the index clamped to K − 1), not with PyTorch's
 * generator, which would pick others. FrEIA reads D from the input's first
 * axis, which is K for an input `[K, D]`: the class reads the last.
 */
const PYTHON_CLASS = `class GaussianMixtureModel(Fm.GaussianMixtureModel):
    """FrEIA's GaussianMixtureModel with freia-ts's "component" option in place of the fourth input i:
    "fromCondition" (a fourth condition [B, 1] holds each sample's index), "all" (every component at once,
    log-dets summed over them) or {"seed": n} (components drawn from the weights as freia-ts draws them)."""

    def __init__(self, dims_in, dims_c, component=None):
        super().__init__(dims_in, dims_c)
        self.x_dims = dims_in[0][-1]
        self.mask_upper = torch.triu(torch.ones(self.x_dims, self.x_dims), diagonal=1) == 1
        self.mask_diagonal = torch.eye(self.x_dims, self.x_dims).bool()
        self.component = component if component is not None else ("fromCondition" if len(dims_c) == 4 else "all")

    @staticmethod
    def _uniforms(seed, n):
        """freia-ts's mulberry32 generator: n uniform draws in [0, 1) from a seed."""
        state, draws = seed & 0xFFFFFFFF, []
        for _ in range(n):
            state = (state + 0x6D2B79F5) & 0xFFFFFFFF
            t = ((state ^ (state >> 15)) * (state | 1)) & 0xFFFFFFFF
            t ^= (t + ((t ^ (t >> 7)) * (t | 61))) & 0xFFFFFFFF
            draws.append(((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296)
        return draws

    def _pick(self, w, seed):
        u = torch.tensor(self._uniforms(seed, w.shape[0]), dtype=torch.float32, device=w.device)[:, None]
        below = (u > torch.cumsum(w.float(), dim=1)).sum(dim=1)
        return below.clamp(max=w.shape[1] - 1).long()

    def forward(self, x, c, rev=False, jac=True):
        w, mu, u_entries = c[0], c[1], c[2]
        if self.component == "fromCondition":
            i = c[3].reshape(-1).round().long()
        elif self.component == "all":
            i = None
        else:
            i = self._pick(w, int(self.component["seed"]))
        out, j = super().forward(x, [w, mu, u_entries, i], rev=rev, jac=jac)
        if i is None and j is not None:
            j = j.sum(dim=-1)
        return out, j
`;

export const gaussianMixtureModel = moduleEntry<GaussianMixtureOptions>()({ kind: 'GaussianMixtureModel', conditions: 'required',
  outputShapes: (node, inputShapes, conditionShapes, args) => {
    resolveComponent(node, inputShapes, conditionShapes, args);
    return [inputShapes[0]];
  },
  create: (def) => new GaussianMixtureModel(def),
  options: {
    component: is.either(is.oneOf(['fromCondition', 'all']), {
      expected: '{ seed: a whole number }',
      test: (v) => v !== null && typeof v === 'object' && Object.keys(v).length === 1 && Number.isInteger((v as { seed?: unknown }).seed),
    }),
  },
  freia: { pythonClass: PYTHON_CLASS },
});
