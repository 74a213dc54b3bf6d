/**
 * FrEIA's AllInOneBlock: affine coupling, then a global affine scaling
 * (ActNorm-like), then a permutation, in one module.
 *
 *     x = [x1 | x2],  x1: C − ⌊C/2⌋ channels (passive), x2: ⌊C/2⌋
 *     a = 0.1 · subnet([x1, c])                 (cIn = |x1| + cond, cOut = 2|x2|)
 *     s = clamp · tanh(a_s / clamp),  y2 = x2 · exp(s) + a_t
 *     out = P(u · scale + offset),  u = [x1 | y2]
 *     log|det J| = Σ s + H·W · Σ log scale
 *
 * `scale = 0.1 · softplus_β=0.5(g)` (SOFTPLUS), `10 · sigmoid(g − 2)`
 * (SIGMOID) or `exp(g)` (EXP), with `g` initialised so that scale starts at
 * `globalAffineInit`. P is a hard permutation (`y = u[:, perm]`) or, with
 * `permuteSoft`, a random rotation `y = W u` per pixel. In GIN mode `s` has its
 * mean over all non-batch dimensions removed and there is no global scale
 * (the global offset stays).
 * Note the passive half is the *ceil* half, the opposite of the couplings'
 * rounding for odd C.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModuleDef, Shape } from '../core/graph.js';
import { FreiaError } from '../core/errors.js';
import { checkElements, is } from '../core/validation.js';
import { gaussian, globalRng, invertPermutation, mulberry32, randomPermutation } from '../math/rng.js';
import { randomRotation } from '../math/linalg.js';
import { sumExceptBatch } from '../math/layout.js';
import { InvertibleModule, type ForwardOptions, type ModuleResult } from './base.js';
import { moduleEntry } from './registry.js';
import { conditionChannels, requireTwoHalves, sameShapeWithConditions, withConditions, type TwoHalvesRule } from './coupling.js';
import { permuteChannels } from './permute.js';
import type { AnySubnet, Subnet } from './subnets.js';
import { ALL_IN_ONE_KERNEL, fusedKernelReady, type AllInOneAttrs } from './fused-kernels.js';

/**
 * Options of {@link AllInOneBlock} (FrEIA's argument names in camelCase).
 *
 * @group Modules
 */
export interface AllInOneOptions {
  /** The subnet: `subnets.mlp(...)`, `subnets.conv(...)` or your own. */
  readonly subnet: AnySubnet;
  /** FrEIA's `affine_clamping` (default 2). */
  readonly clamp?: number;
  /** Volume-preserving GIN coupling, no global scale (default false). */
  readonly gin?: boolean;
  /** The global scale's starting value (default 1). */
  readonly globalAffineInit?: number;
  /** How the global scale is parameterised (default SOFTPLUS). */
  readonly globalAffineType?: 'SOFTPLUS' | 'SIGMOID' | 'EXP';
  /** A random rotation instead of a hard permutation (default false). */
  readonly permuteSoft?: boolean;
  /** Number of learned Householder reflections applied to the permutation (default 0). */
  readonly learnedHouseholderPermutation?: number;
  /** Apply P⁻¹ before the coupling (Putzky et al.) (default false). */
  readonly reversePermutation?: boolean;
  /** Seed of the permutation or rotation; the shared generator when absent. */
  readonly seed?: number;
}

function softplusHalfBeta(g: tf.Tensor): tf.Tensor {
  // torch.nn.Softplus(beta=0.5): (1/β)·log(1 + exp(β g)), linear once β g > 20.
  const bg = tf.mul(g, 0.5);
  return tf.where(tf.greater(bg, 20), g, tf.mul(tf.softplus(bg), 2));
}

/**
 * FrEIA's AllInOneBlock: an affine coupling, a global affine scaling
 * (ActNorm-like) and a permutation in one module; options {@link AllInOneOptions}.
 *
 * ```text
 * x = [x1 | x2],  x1: C − ⌊C/2⌋ channels (passive), x2: ⌊C/2⌋
 * a = 0.1 · subnet([x1, c]),  s = clamp · tanh(a_s / clamp),  y2 = x2 · exp(s) + a_t
 * y = P(u · scale + offset),  u = [x1 | y2]
 * log|det J| = Σ s + H·W · Σ log scale
 * ```
 *
 * `scale` is `0.1 · softplus_β=0.5(g)` (SOFTPLUS, the default), `10 · sigmoid(g − 2)`
 * (SIGMOID) or `exp(g)` (EXP), starting at `globalAffineInit`. P is a hard
 * permutation, or with `permuteSoft` a random rotation per pixel. With
 * `gin`, `s` has its mean removed (volume preserving) and there is no
 * global scale. The passive half is the *ceil* half, the opposite of the
 * couplings' rounding for odd C.
 *
 * @example
 * ```ts
 * import { inn, subnets } from 'freia-ts';
 * inn.input([4]).allInOne({ subnet: subnets.mlp({ hidden: 64 }), permuteSoft: true }).build();
 * ```
 *
 * @group Modules
 */
export class AllInOneBlock extends InvertibleModule {
  private readonly len1: number;
  private readonly len2: number;
  private readonly clamp: number;
  private readonly gin: boolean;
  private readonly scaleType: 'SOFTPLUS' | 'SIGMOID' | 'EXP';
  private readonly soft: boolean;
  private readonly householder: number;
  private readonly reversePre: boolean;
  private readonly subnet: Subnet;
  private readonly spatial: number;

  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<AllInOneOptions>) {
    super(def.inputShapes, def.conditionShapes);
    const args = def.args;
    const shape = def.inputShapes[0];
    const channels = shape[0];
    this.len2 = Math.floor(channels / 2);
    this.len1 = channels - this.len2;
    this.spatial = shape.slice(1).reduce((a, b) => a * b, 1);
    this.clamp = args.clamp ?? 2;
    this.gin = args.gin ?? false;
    this.scaleType = args.globalAffineType ?? 'SOFTPLUS';
    this.householder = args.learnedHouseholderPermutation ?? 0;
    this.soft = (args.permuteSoft ?? false) || this.householder > 0;
    this.reversePre = args.reversePermutation ?? false;

    const init = args.globalAffineInit ?? 1;
    const g = { SIGMOID: 2 - Math.log(10 / init - 1), SOFTPLUS: 2 * Math.log(Math.exp(0.5 * 10 * init) - 1), EXP: Math.log(init) }[this.scaleType];
    if (g === undefined || Number.isNaN(g)) throw new FreiaError(`AllInOneBlock: globalAffineType must be SOFTPLUS, SIGMOID or EXP with a valid init, got ${this.scaleType} ${init}`);
    // GIN mode never reads the global scale; it stays (FrEIA's state dict has it) but is not trained.
    this.addParam('global_scale', tf.fill([channels], g), !this.gin);
    this.addParam('global_offset', tf.zeros([channels]));

    const rng = args.seed === undefined ? globalRng() : mulberry32(args.seed);
    if (this.soft) {
      const w = randomRotation(channels, rng);
      if (this.householder > 0) {
        const v = Array.from({ length: this.householder }, () => Array.from({ length: channels }, () => 0.2 * gaussian(rng)));
        this.addParam('vk_householder', tf.tensor2d(v));
        this.addParam('w_0', tf.tensor2d(w), false);
      } else {
        this.addParam('w_perm', tf.tensor2d(w), false);
      }
    } else {
      const perm = randomPermutation(channels, rng);
      this.addParam('w_perm', tf.tensor1d(perm, 'int32'), false);
      this.addParam('w_perm_inv', tf.tensor1d(invertPermutation(perm), 'int32'), false);
    }
    const condChannels = conditionChannels(def);
    this.subnet = this.addSubnet('subnet', args.subnet, this.len1 + condChannels, 2 * this.len2);
  }

  /**
   * FrEIA also stores a soft permutation's inverse, `w_perm_inv = w_permᵀ` (we transpose on the fly).
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn, subnets } from 'freia-ts';
   * const block = inn.input([2]).allInOne({ subnet: subnets.mlp({ hidden: 8 }), permuteSoft: true }).build().modules[1]!;
   * const state = block.freiaState(); // global_scale, global_offset, w_perm, subnet.*, and w_perm_inv
   * tf.dispose([...state.values()]);
   * ```
   */
  override freiaState(): Map<string, tf.Tensor> {
    const state = super.freiaState();
    if (this.soft && this.householder === 0) state.set('w_perm_inv', tf.transpose(this.params.get('w_perm')!));
    return state;
  }

  private globalScale(): tf.Tensor {
    const g = this.params.get('global_scale')!;
    switch (this.scaleType) {
      case 'SIGMOID':
        return tf.mul(tf.sigmoid(tf.sub(g, 2)), 10);
      case 'SOFTPLUS':
        return tf.mul(softplusHalfBeta(g), 0.1);
      case 'EXP':
        return tf.exp(g);
    }
  }

  /** The soft permutation matrix W (y = W u per pixel). */
  private rotation(): tf.Tensor2D {
    if (this.householder === 0) return this.params.get('w_perm')! as tf.Tensor2D;
    // Slices rather than unstack/split: their tfjs gradients fail when there is a single piece.
    const all = this.params.get('vk_householder')!;
    const vs = Array.from({ length: this.householder }, (_, i) => tf.squeeze(tf.slice(all, [i, 0], [1, -1]), [0]));
    let w = this.params.get('w_0')! as tf.Tensor2D;
    const eye = tf.eye(w.shape[0]);
    for (const v of vs) {
      const outer = tf.outerProduct(v as tf.Tensor1D, v as tf.Tensor1D);
      w = tf.matMul(w, tf.sub(eye, tf.div(tf.mul(outer, 2), tf.sum(tf.square(v)))));
    }
    return w;
  }

  /** y = P x (`inverse`: P⁻¹ x) on the channel axis. */
  private permute(x: tf.Tensor, inverse: boolean): tf.Tensor {
    if (!this.soft) {
      const [perm, inv] = [this.params.get('w_perm')!, this.params.get('w_perm_inv')!];
      return inverse ? permuteChannels(x, inv, perm) : permuteChannels(x, perm, inv);
    }
    const w = this.rotation();
    const flat = tf.reshape(x, [-1, x.shape[x.rank - 1]]);
    // Channels-last: per-pixel y = W u is (u as rows) · Wᵀ; the inverse of a rotation is Wᵀ.
    return tf.reshape(tf.matMul(flat, w, false, !inverse), x.shape);
  }

  private affine(x2: tf.Tensor, a: tf.Tensor, rev: boolean): [tf.Tensor, tf.Tensor] {
    const [rawS, t] = tf.split(tf.mul(a, 0.1), [this.len2, this.len2], -1);
    let s = tf.mul(tf.tanh(tf.div(rawS, this.clamp)), this.clamp);
    if (this.gin) s = tf.sub(s, tf.mean(s, Array.from({ length: s.rank - 1 }, (_, i) => i + 1), true));
    const j = sumExceptBatch(s);
    return rev ? [tf.mul(tf.sub(x2, t), tf.exp(tf.neg(s))), tf.neg(j)] : [tf.add(tf.mul(x2, tf.exp(s)), t), j];
  }

  /**
   * The forward pass as one fused kernel (and its gradient as one more) where
   * the backend has it: an mlp subnet, no GIN, Householder or reversed
   * permutation. Same maths as the plain path below; null when not possible.
   */
  private fusedForward(x: tf.Tensor, cs: readonly tf.Tensor[]): ModuleResult | null {
    const dense = this.subnet.dense;
    if (!dense || this.gin || this.householder > 0 || this.reversePre || !fusedKernelReady(ALL_IN_ONE_KERNEL)) return null;
    const flat = (t: tf.Tensor) => (t.rank === 2 ? t : tf.reshape(t, [-1, t.shape[t.rank - 1]]));
    const cond = cs.length === 0 ? null : cs.length === 1 ? flat(cs[0]) : flat(tf.concat([...cs], -1));
    const attrs: AllInOneAttrs = {
      len1: this.len1,
      len2: this.len2,
      condChannels: cond ? cond.shape[1]! : 0,
      clamp: this.clamp,
      scaleType: this.scaleType,
      spatial: this.spatial,
      layers: dense.length,
      soft: this.soft,
    };
    const p = (name: string) => this.params.get(name)!;
    const inputs = [
      flat(x),
      p('global_scale'),
      p('global_offset'),
      p('w_perm'),
      ...(this.soft ? [] : [p('w_perm_inv')]),
      ...(cond ? [cond] : []),
      ...dense.flatMap((l) => [l.weight, l.bias]),
    ];
    // Cast: the kernel takes its inputs as a list (allInOneLayout) and returns several outputs.
    const [y, logDet] = tf.engine().runKernel(ALL_IN_ONE_KERNEL, inputs as unknown as tf.NamedTensorMap, { ...attrs } as unknown as tf.NamedAttrMap) as tf.Tensor[];
    return { out: [x.rank === 2 ? y : tf.reshape(y, x.shape)], logDet };
  }

  forward(xs: readonly tf.Tensor[], cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    let x = xs[0];
    const fused = rev ? null : this.fusedForward(x, cs);
    if (fused) return fused;
    const scale = this.gin ? null : this.globalScale();
    const offset = this.params.get('global_offset')!;
    if (rev) {
      x = this.permute(x, true);
      // GIN mode has no global scale but keeps the global offset (as FrEIA).
      x = tf.sub(x, offset);
      if (scale) x = tf.div(x, scale);
    } else if (this.reversePre) {
      x = this.permute(x, true);
    }
    const [x1, x2] = tf.split(x, [this.len1, this.len2], -1);
    const [y2, j] = this.affine(x2, this.subnet.apply(withConditions(x1, cs)), rev);
    let out = tf.concat([x1, y2], -1);
    if (!rev) {
      out = tf.add(scale ? tf.mul(out, scale) : out, offset);
      out = this.permute(out, false);
    } else if (this.reversePre) {
      out = this.permute(out, false);
    }
    if (!scale) return { out: [out], logDet: j };
    const scaleLogDet = tf.mul(tf.sum(tf.log(scale)), this.spatial);
    return { out: [out], logDet: rev ? tf.sub(j, scaleLogDet) : tf.add(j, scaleLogDet) };
  }
}

export const allInOneBlock = moduleEntry<AllInOneOptions, TwoHalvesRule>()({ kind: 'AllInOneBlock', conditions: 'optional',
  outputShapes: (node, inputShapes: readonly Shape[], conditionShapes: readonly Shape[], args) => {
    const shapes = sameShapeWithConditions(node, inputShapes, conditionShapes);
    const channels = inputShapes[0][0];
    // The reflections are a [count, channels] parameter, built element by element: bounded before anything is made.
    const reflections = args.learnedHouseholderPermutation;
    if (typeof reflections === 'number' && reflections > 0) checkElements(node, 'learnedHouseholderPermutation (reflections × channels)', [reflections, channels]);
    // FrEIA's split: the first half gets the odd channel.
    requireTwoHalves(node, 'AllInOneBlock', inputShapes[0], [channels - Math.floor(channels / 2), Math.floor(channels / 2)]);
    return shapes;
  },
  create: (def) => new AllInOneBlock(def),
  freia: { rename: { affine_clamping: 'clamp', gin_block: 'gin' }, derived: ['w_perm_inv'], oursOnly: ['seed'],
    // Householder reflections imply a soft permutation here; FrEIA needs it said (it fails otherwise).
    adjustExport: (args) => (args.learnedHouseholderPermutation ? { ...args, permuteSoft: true } : args) },
  permutations: [['w_perm', 'w_perm_inv']],
  options: {
    subnet: is.subnet,
    clamp: is.number({ above: 0 }),
    gin: is.boolean,
    globalAffineInit: is.number({ above: 0 }),
    globalAffineType: is.oneOf(['SOFTPLUS', 'SIGMOID', 'EXP']),
    permuteSoft: is.boolean,
    learnedHouseholderPermutation: is.number({ integer: true, min: 0 }),
    reversePermutation: is.boolean,
    seed: is.number({ integer: true }),
  },
});
