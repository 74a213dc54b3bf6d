/**
 * FrEIA's affine coupling family. The two-sided blocks (GLOWCouplingBlock,
 * RNVPCouplingBlock, NICECouplingBlock, GINCouplingBlock) split the input
 * along channels into `x1 | x2` (`splitLen`, FrEIA's `split_len`), append
 * the conditions to whatever a subnet reads, and compute
 *
 *     y1 = x1 · exp(s2(x2)) + t2(x2)
 *     y2 = x2 · exp(s1(y1)) + t1(y1)
 *
 * with the soft clamp `s = clamp · f(raw)`, `f = 0.636·atan` (FrEIA's literal
 * 0.636, not 2/π), `tanh`, or `2·(sigmoid − 0.5)`. log|det J| = Σ s1 + Σ s2.
 * AffineCouplingOneSided does only the second half-step, and
 * ConditionalAffineTransform maps the whole input with `s, t` read from the
 * conditions alone.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModuleDef, Shape } from '../core/graph.js';
import { ShapeMismatchError, WiringError, formatShape } from '../core/errors.js';
import { is } from '../core/validation.js';
import { sumExceptBatch } from '../math/layout.js';
import { InvertibleModule, type ForwardOptions, type ModuleResult } from './base.js';
import { moduleEntry, type KeepRule } from './registry.js';
import type { AnySubnet } from './subnets.js';
import type { IsLiteral } from '../types/arithmetic.js';
import type { FormatShape, ShapeError } from '../types/shape.js';

/**
 * FrEIA's clamp activations (`clamp_activation`).
 *
 * @group Modules
 */
export type ClampActivation = 'ATAN' | 'TANH' | 'SIGMOID';

/**
 * Options every affine coupling takes.
 *
 * @group Modules
 */
export interface CouplingOptions {
  /** Builds each subnet as `subnet(cIn, cOut)`. */
  readonly subnet: AnySubnet;
  /** Soft clamp of the log-scale, FrEIA's `clamp` (default 2). */
  readonly clamp?: number;
  /** The soft clamp's shape: ATAN (default), TANH or SIGMOID, as FrEIA. */
  readonly clampActivation?: ClampActivation;
  /**
   * Channels of the first half: a fraction in (0, 1) rounded half-to-even as
   * Python's `round(C · f)` (C=7 → 4|3, C=5 → 2|3), or a whole number of
   * channels. Default 0.5. (FrEIA tells `1.0` from `1` by type; here a whole
   * number is always a channel count.)
   */
  readonly splitLen?: number;
}

/**
 * The type-level rule of blocks that split the channels into two halves
 * that each transform the other: at least 2 channels, when the count is a
 * literal. `TwoHalves<[1, 28, 28], 'glow'>` is an error that suggests a
 * downsampling first; `TwoHalves<[6, 8, 8], 'glow'>` is `[6, 8, 8]`.
 */
export type TwoHalves<S, M extends string> = S extends readonly [infer C extends number, ...infer Rest extends readonly number[]]
  ? IsLiteral<C> extends true
    ? C extends 0 | 1
      ? ShapeError<`${M} splits the channels into two non-empty halves, but ${FormatShape<S>} has ${C} channel${C extends 1 ? '' : 's'}${Rest extends readonly [number, number] ? ': downsample first (haarDownsample or irevnetDownsample gives 4 channels)' : ''}`>
      : S
    : S
  : S;

/** The catalogue rule of the two-sided couplings: {@link TwoHalves} naming the builder method. */
export interface TwoHalvesRule extends KeepRule {
  readonly result: TwoHalves<this['shape'], this['method']>;
}

/** Both halves of a two-sided coupling must be non-empty: each half's subnet reads one and writes the other. */
export function requireTwoHalves(node: string, kind: string, shape: Shape, halves: readonly [number, number]): void {
  if (halves[0] === 0 || halves[1] === 0) {
    throw new ShapeMismatchError(node, `two non-empty channel halves (${kind} transforms each half from the other)`, `a split ${halves[0]}|${halves[1]} of ${formatShape(shape)}`);
  }
}

/** Python's `round()`: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The `[len1, len2]` channel split of FrEIA's `_BaseCouplingBlock`. */
export function couplingSplit(node: string, channels: number, splitLen = 0.5): [number, number] {
  const len1 = Number.isInteger(splitLen) ? splitLen : roundHalfEven(channels * splitLen);
  if (splitLen < 0 || len1 > channels || (!Number.isInteger(splitLen) && splitLen > 1)) {
    throw new ShapeMismatchError(node, `splitLen in [0, 1] or a channel count up to ${channels}`, String(splitLen));
  }
  return [len1, channels - len1];
}

/** `s = clamp · f(raw)`. */
export function softClamp(raw: tf.Tensor, clamp: number, activation: ClampActivation = 'ATAN'): tf.Tensor {
  switch (activation) {
    case 'ATAN':
      return tf.mul(tf.atan(raw), 0.636 * clamp);
    case 'TANH':
      return tf.mul(tf.tanh(raw), clamp);
    case 'SIGMOID':
      return tf.mul(tf.sub(tf.sigmoid(raw), 0.5), 2 * clamp);
  }
}

/** Appends the condition channels after the data channels (FrEIA's `cat([x, *c], 1)`). */
export function withConditions(x: tf.Tensor, cs: readonly tf.Tensor[]): tf.Tensor {
  return cs.length === 0 ? x : tf.concat([x, ...cs], -1);
}

/**
 * The run-time shape rule shared by every module that keeps one input's shape
 * and reads conditions of the same spatial size.
 */
export function sameShapeWithConditions(node: string, inputShapes: readonly Shape[], conditionShapes: readonly Shape[]): Shape[] {
  if (inputShapes.length !== 1) throw new ShapeMismatchError(node, 'exactly 1 input', `${inputShapes.length} inputs`);
  const [x] = inputShapes;
  for (const c of conditionShapes) {
    if (c.length !== x.length || c.slice(1).some((d, i) => d !== x[i + 1])) {
      throw new ShapeMismatchError(node, `a condition with the input's spatial size ${formatShape(x.slice(1))}`, formatShape(c), `input ${formatShape(x)}`);
    }
  }
  return [x];
}

/** Channels of all conditions together (they are concatenated after the data). */
export function conditionChannels(def: ModuleDef): number {
  return def.conditionShapes.reduce((sum, c) => sum + c[0], 0);
}

/** Structure shared by the two-sided couplings: split, two half-steps, concat. */
abstract class TwoSidedCoupling extends InvertibleModule {
  /** @internal */
  protected readonly len1: number;
  /** @internal */
  protected readonly len2: number;
  /** @internal */
  protected readonly clamp: number;
  /** @internal */
  protected readonly activation: ClampActivation;
  /** @internal */
  protected readonly condChannels: number;

  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<CouplingOptions>) {
    super(def.inputShapes, def.conditionShapes);
    const args = def.args;
    [this.len1, this.len2] = couplingSplit(def.kind, def.inputShapes[0][0], args.splitLen);
    this.clamp = args.clamp ?? 2;
    this.activation = args.clampActivation ?? 'ATAN';
    this.condChannels = conditionChannels(def);
  }

  /** Transforms `x` given the other half `u` (with conditions); returns the result and Σ s. */
  protected abstract coupling1(x1: tf.Tensor, u2: tf.Tensor, rev: boolean): [tf.Tensor, tf.Tensor | number];
  /** @internal */
  protected abstract coupling2(x2: tf.Tensor, u1: tf.Tensor, rev: boolean): [tf.Tensor, tf.Tensor | number];

  forward(xs: readonly tf.Tensor[], cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    const [x1, x2] = tf.split(xs[0], [this.len1, this.len2], -1);
    if (!rev) {
      const [y1, j1] = this.coupling1(x1, withConditions(x2, cs), false);
      const [y2, j2] = this.coupling2(x2, withConditions(y1, cs), false);
      return { out: [tf.concat([y1, y2], -1)], logDet: addLogDets(j1, j2) };
    }
    const [y2, j2] = this.coupling2(x2, withConditions(x1, cs), true);
    const [y1, j1] = this.coupling1(x1, withConditions(y2, cs), true);
    return { out: [tf.concat([y1, y2], -1)], logDet: addLogDets(j1, j2) };
  }

  /** `y = x·exp(s) + t` or its inverse; the log-det sign follows the direction. */
  protected affine(x: tf.Tensor, rawS: tf.Tensor, t: tf.Tensor, rev: boolean): [tf.Tensor, tf.Tensor | number] {
    const s = softClamp(rawS, this.clamp, this.activation);
    return [affineMap(x, s, t, rev), signedLogDet(s, rev)];
  }
}

/** `y = x·exp(s) + t`, or its inverse `x = (y − t)·exp(−s)`, for an already clamped `s`. */
function affineMap(x: tf.Tensor, s: tf.Tensor, t: tf.Tensor, rev: boolean): tf.Tensor {
  return rev ? tf.mul(tf.sub(x, t), tf.exp(tf.neg(s))) : tf.add(tf.mul(x, tf.exp(s)), t);
}

/** Σ s per sample, negated for the inverse. */
function signedLogDet(s: tf.Tensor, rev: boolean): tf.Tensor {
  const j = sumExceptBatch(s);
  return rev ? tf.neg(j) : j;
}

export function addLogDets(a: tf.Tensor | number, b: tf.Tensor | number): tf.Tensor | number {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  return tf.add(a, b);
}

/**
 * GLOW's coupling: one subnet per half predicts `[s | t]` together.
 * `subnet1: len1 + cond → 2·len2`, `subnet2: len2 + cond → 2·len1`.
 *
 * ```text
 * x = [x1 | x2],  y1 = x1 · exp(s2(x2)) + t2(x2),  y2 = x2 · exp(s1(y1)) + t1(y1)
 * s = clamp · f(raw s),  f = 0.636·atan (ATAN), tanh or 2·(sigmoid − ½)
 * log|det J| = Σ s1 + Σ s2
 * ```
 *
 * Options: {@link CouplingOptions}.
 *
 * @example
 * ```ts
 * import { inn, subnets } from 'freia-ts';
 * inn.input([4]).glow({ subnet: subnets.mlp({ hidden: 64 }), clamp: 2 }).build();
 * ```
 *
 * @group Modules
 */
export class GlowCoupling extends TwoSidedCoupling {
  private readonly subnet1;
  private readonly subnet2;

  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<CouplingOptions>) {
    super(def);
    const factory = def.args.subnet;
    this.subnet1 = this.addSubnet('subnet1', factory, this.len1 + this.condChannels, 2 * this.len2);
    this.subnet2 = this.addSubnet('subnet2', factory, this.len2 + this.condChannels, 2 * this.len1);
  }

  protected coupling1(x1: tf.Tensor, u2: tf.Tensor, rev: boolean): [tf.Tensor, tf.Tensor | number] {
    const [s, t] = tf.split(this.subnet2.apply(u2), [this.len1, this.len1], -1);
    return this.affine(x1, s, t, rev);
  }

  protected coupling2(x2: tf.Tensor, u1: tf.Tensor, rev: boolean): [tf.Tensor, tf.Tensor | number] {
    const [s, t] = tf.split(this.subnet1.apply(u1), [this.len2, this.len2], -1);
    return this.affine(x2, s, t, rev);
  }
}

/**
 * Real NVP's coupling: separate subnets `subnet_s1, subnet_t1, subnet_s2, subnet_t2` for scale and shift.
 *
 * ```text
 * x = [x1 | x2],  y1 = x1 · exp(s2(x2)) + t2(x2),  y2 = x2 · exp(s1(y1)) + t1(y1)
 * s = clamp · f(raw s),  f = 0.636·atan (ATAN), tanh or 2·(sigmoid − ½)
 * log|det J| = Σ s1 + Σ s2
 * ```
 *
 * Options: {@link CouplingOptions}.
 *
 * @example
 * ```ts
 * import { inn, subnets } from 'freia-ts';
 * inn.input([4]).rnvp({ subnet: subnets.mlp({ hidden: 64 }) }).build();
 * ```
 *
 * @group Modules
 */
export class RnvpCoupling extends TwoSidedCoupling {
  private readonly s1;
  private readonly t1;
  private readonly s2;
  private readonly t2;

  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<CouplingOptions>) {
    super(def);
    const factory = def.args.subnet;
    this.s1 = this.addSubnet('subnet_s1', factory, this.len1 + this.condChannels, this.len2);
    this.t1 = this.addSubnet('subnet_t1', factory, this.len1 + this.condChannels, this.len2);
    this.s2 = this.addSubnet('subnet_s2', factory, this.len2 + this.condChannels, this.len1);
    this.t2 = this.addSubnet('subnet_t2', factory, this.len2 + this.condChannels, this.len1);
  }

  protected coupling1(x1: tf.Tensor, u2: tf.Tensor, rev: boolean): [tf.Tensor, tf.Tensor | number] {
    return this.affine(x1, this.s2.apply(u2), this.t2.apply(u2), rev);
  }

  protected coupling2(x2: tf.Tensor, u1: tf.Tensor, rev: boolean): [tf.Tensor, tf.Tensor | number] {
    return this.affine(x2, this.s1.apply(u1), this.t1.apply(u1), rev);
  }
}

/**
 * NICE's additive coupling: `y1 = x1 + F(x2)`, `y2 = x2 + G(y1)`; volume preserving (log-det 0).
 *
 * Options: {@link NiceOptions}.
 *
 * @example
 * ```ts
 * import { inn, subnets } from 'freia-ts';
 * inn.input([4]).nice({ subnet: subnets.mlp({ hidden: 64 }) }).build();
 * ```
 *
 * @group Modules
 */
export class NiceCoupling extends TwoSidedCoupling {
  private readonly f;
  private readonly g;

  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<CouplingOptions>) {
    super(def);
    const factory = def.args.subnet;
    this.f = this.addSubnet('F', factory, this.len2 + this.condChannels, this.len1);
    this.g = this.addSubnet('G', factory, this.len1 + this.condChannels, this.len2);
  }

  protected coupling1(x1: tf.Tensor, u2: tf.Tensor, rev: boolean): [tf.Tensor, number] {
    const shift = this.f.apply(u2);
    return [rev ? tf.sub(x1, shift) : tf.add(x1, shift), 0];
  }

  protected coupling2(x2: tf.Tensor, u1: tf.Tensor, rev: boolean): [tf.Tensor, number] {
    const shift = this.g.apply(u1);
    return [rev ? tf.sub(x2, shift) : tf.add(x2, shift), 0];
  }
}

/**
 * GINCouplingBlock (Sorrenson et al. 2020): GLOW's coupling made volume
 * preserving. Each half-step's clamped log-scale loses its mean over the
 * channels of that half, per pixel,
 *
 *     s ← s − mean_channels(s),   y = x·exp(s) + t,
 *
 * so every pixel's Jacobian has determinant 1 and log|det J| = 0 (returned
 * exactly, as FrEIA does, not as the ≈1e-7 a sum would give). Subnets and
 * their shapes are GLOW's: `subnet1: len1 + cond → 2·len2`,
 * `subnet2: len2 + cond → 2·len1`, each predicting `[s | t]`.
 *
 * Like FrEIA (and unlike the GIN paper, which rescales the last component of
 * `s` so that the sum vanishes) we subtract the mean. The mean is over
 * channels only, not over the spatial axes as in AllInOneBlock's `gin` mode.
 *
 * Options: {@link CouplingOptions}.
 *
 * @example
 * ```ts
 * import { inn, subnets } from 'freia-ts';
 * inn.input([4]).gin({ subnet: subnets.mlp({ hidden: 64 }) }).build();
 * ```
 *
 * @group Modules
 */
export class GinCoupling extends GlowCoupling {
  /** GLOW's affine step with `s` centred over the channels: volume preserving, so the log-det is 0. */
  protected override affine(x: tf.Tensor, rawS: tf.Tensor, t: tf.Tensor, rev: boolean): [tf.Tensor, number] {
    const s = softClamp(rawS, this.clamp, this.activation);
    return [affineMap(x, tf.sub(s, tf.mean(s, -1, true)), t, rev), 0];
  }
}

/**
 * AffineCouplingOneSided: half of a GLOW block. `x1` passes unchanged and
 * parametrises `x2` through one subnet (`subnet: len1 + cond → 2·len2`),
 *
 *     [s | t] = subnet([x1, c]),   y = [x1, x2·exp(clamp·f(s)) + t],
 *
 * log|det J| = Σ clamp·f(s). Follow it with a permutation (PermuteRandom, an
 * orthogonal transform) so that every channel gets transformed eventually.
 *
 * Options: {@link CouplingOptions}.
 *
 * @example
 * ```ts
 * import { inn, subnets } from 'freia-ts';
 * inn.input([4]).affineCouplingOneSided({ subnet: subnets.mlp({ hidden: 64 }) }).permuteRandom().build();
 * ```
 *
 * @group Modules
 */
export class AffineCouplingOneSided extends InvertibleModule {
  private readonly len1: number;
  private readonly len2: number;
  private readonly clamp: number;
  private readonly activation: ClampActivation;
  private readonly subnet;

  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<CouplingOptions>) {
    super(def.inputShapes, def.conditionShapes);
    const args = def.args;
    [this.len1, this.len2] = couplingSplit(def.kind, def.inputShapes[0][0], args.splitLen);
    this.clamp = args.clamp ?? 2;
    this.activation = args.clampActivation ?? 'ATAN';
    this.subnet = this.addSubnet('subnet', args.subnet, this.len1 + conditionChannels(def), 2 * this.len2);
  }

  forward(xs: readonly tf.Tensor[], cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    const [x1, x2] = tf.split(xs[0], [this.len1, this.len2], -1);
    const [rawS, t] = tf.split(this.subnet.apply(withConditions(x1, cs)), [this.len2, this.len2], -1);
    const s = softClamp(rawS, this.clamp, this.activation);
    return { out: [tf.concat([x1, affineMap(x2, s, t, rev)], -1)], logDet: signedLogDet(s, rev) };
  }
}

/**
 * Options of ConditionalAffineTransform: those of a coupling, less the split it does not make.
 *
 * @group Modules
 */
export type ConditionalAffineOptions = Omit<CouplingOptions, 'splitLen'>;

/**
 * Options of {@link NiceCoupling}: additive, so no clamp.
 *
 * @group Modules
 */
export type NiceOptions = Omit<CouplingOptions, 'clamp' | 'clampActivation'>;

/**
 * ConditionalAffineTransform (the conditioning of SPADE, Park et al. 2019):
 * every channel gets an affine map whose coefficients come from the
 * conditions alone (`subnet: cond → 2·C`, conditions concatenated in order),
 *
 *     [s | t] = subnet(c),   y = x·exp(clamp·f(s)) + t,
 *
 * log|det J| = Σ clamp·f(s). For images the conditions need the input's
 * spatial size; the subnet maps them per pixel (or with its own kernel).
 *
 * At least one condition is required: FrEIA raises in its constructor; here
 * the builder's types reject a chain without one and the definition throws a
 * WiringError. FrEIA also takes (and range-checks) a `split_len` it never
 * uses; we have no such option and drop it on import.
 *
 * Options: {@link ConditionalAffineOptions}.
 *
 * @example
 * ```ts
 * import { inn, subnets } from 'freia-ts';
 * inn.input([4]).condition([2]).conditionalAffine({ subnet: subnets.mlp({ hidden: 32 }), cond: 0 }).build();
 * ```
 *
 * @group Modules
 */
export class ConditionalAffineTransform extends InvertibleModule {
  private readonly channels: number;
  private readonly clamp: number;
  private readonly activation: ClampActivation;
  private readonly subnet;

  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<ConditionalAffineOptions>) {
    super(def.inputShapes, def.conditionShapes);
    const args = def.args;
    this.channels = def.inputShapes[0][0];
    this.clamp = args.clamp ?? 2;
    this.activation = args.clampActivation ?? 'ATAN';
    this.subnet = this.addSubnet('subnet', args.subnet, conditionChannels(def), 2 * this.channels);
  }

  forward(xs: readonly tf.Tensor[], cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    const condition = cs.length === 1 ? cs[0] : tf.concat([...cs], -1);
    const [rawS, t] = tf.split(this.subnet.apply(condition), [this.channels, this.channels], -1);
    const s = softClamp(rawS, this.clamp, this.activation);
    return { out: [affineMap(xs[0], s, t, rev)], logDet: signedLogDet(s, rev) };
  }
}

function conditionalAffineShapes(node: string, inputShapes: readonly Shape[], conditionShapes: readonly Shape[]): Shape[] {
  if (conditionShapes.length === 0) {
    throw new WiringError(`${node}: ConditionalAffineTransform needs at least one condition (its scale and shift are computed from the conditions alone)`);
  }
  return sameShapeWithConditions(node, inputShapes, conditionShapes);
}

function couplingShapes(kind: string) {
  return (node: string, inputShapes: readonly Shape[], conditionShapes: readonly Shape[], args: Pick<CouplingOptions, 'splitLen'>): Shape[] => {
    const shapes = sameShapeWithConditions(node, inputShapes, conditionShapes);
    requireTwoHalves(node, kind, inputShapes[0], couplingSplit(node, inputShapes[0][0], args.splitLen));
    return shapes;
  };
}

/** AffineCouplingOneSided: the second half is transformed, from the first half and the conditions (which may not both be empty). */
function oneSidedShapes(node: string, inputShapes: readonly Shape[], conditionShapes: readonly Shape[], args: Pick<CouplingOptions, 'splitLen'>): Shape[] {
  const shapes = sameShapeWithConditions(node, inputShapes, conditionShapes);
  const [len1, len2] = couplingSplit(node, inputShapes[0][0], args.splitLen);
  const conditionChannelCount = conditionShapes.reduce((sum, c) => sum + c[0], 0);
  if (len2 === 0 || len1 + conditionChannelCount === 0) {
    throw new ShapeMismatchError(node, 'a non-empty transformed half and a non-empty subnet input (the first half or conditions)', `a split ${len1}|${len2} of ${formatShape(inputShapes[0])} with ${conditionChannelCount} condition channels`);
  }
  return shapes;
}

/** The options every affine coupling takes. */
const couplingOptions = {
  subnet: is.subnet,
  clamp: is.number({ above: 0 }),
  clampActivation: is.oneOf(['ATAN', 'TANH', 'SIGMOID']),
  splitLen: is.number({ min: 0 }),
} as const;
const { clamp: _clamp, clampActivation: _activation, ...niceOptions } = couplingOptions;
const { splitLen: _splitLen, ...conditionalAffineOptions } = couplingOptions;

export const glowCouplingBlock = moduleEntry<CouplingOptions, TwoHalvesRule>()({ kind: 'GLOWCouplingBlock', conditions: 'optional', options: couplingOptions, outputShapes: couplingShapes('GLOWCouplingBlock'), create: (def) => new GlowCoupling(def) });
export const rnvpCouplingBlock = moduleEntry<CouplingOptions, TwoHalvesRule>()({ kind: 'RNVPCouplingBlock', conditions: 'optional', options: couplingOptions, outputShapes: couplingShapes('RNVPCouplingBlock'), create: (def) => new RnvpCoupling(def) });
export const niceCouplingBlock = moduleEntry<NiceOptions, TwoHalvesRule>()({ kind: 'NICECouplingBlock', conditions: 'optional', options: niceOptions, outputShapes: couplingShapes('NICECouplingBlock'), create: (def) => new NiceCoupling(def) });
export const ginCouplingBlock = moduleEntry<CouplingOptions, TwoHalvesRule>()({ kind: 'GINCouplingBlock', conditions: 'optional', options: couplingOptions, outputShapes: couplingShapes('GINCouplingBlock'), create: (def) => new GinCoupling(def) });
export const affineCouplingOneSided = moduleEntry<CouplingOptions>()({ kind: 'AffineCouplingOneSided', conditions: 'optional', options: couplingOptions, outputShapes: oneSidedShapes, create: (def) => new AffineCouplingOneSided(def) });
export const conditionalAffineTransform = moduleEntry<ConditionalAffineOptions>()({ kind: 'ConditionalAffineTransform', conditions: 'required',
  outputShapes: conditionalAffineShapes,
  create: (def) => new ConditionalAffineTransform(def),
  options: conditionalAffineOptions,
  freia: { drop: ['split_len'] },
});
