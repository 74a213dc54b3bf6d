/**
 * FrEIA's binned splines: the rational-quadratic ones (Durkan et al. 2019,
 * "Neural Spline Flows", arXiv:1906.04032): RationalQuadraticSpline, a
 * two-sided coupling whose halves are pushed through monotone piecewise
 * rational-quadratic maps, and ElementwiseRationalQuadraticSpline, one such
 * map per element with learned (or condition-predicted) knots; and
 * LinearSpline, the same coupling with piecewise-linear maps.
 *
 * Per channel a spline has `K = bins` bins. Between the knots
 * `(x_k, y_k)` with derivatives `d_k` it is, with `s = Δy/Δx` and
 * `ξ = (x − x_k)/Δx ∈ (0, 1]`,
 *
 *     y = y_k + Δy · (s ξ² + d_k ξ(1−ξ)) / (s + (d_k + d_{k+1} − 2s) ξ(1−ξ))
 *     dy/dx = s² (d_{k+1} ξ² + 2s ξ(1−ξ) + d_k (1−ξ)²) / (s + (d_k + d_{k+1} − 2s) ξ(1−ξ))²
 *
 * and outside the domain `(x_0, x_K]` it is affine with the mean slope
 * `scale = Σ heights / Σ widths`: `y = scale · x + (y_0 − scale · x_0)`. The
 * boundary derivatives `d_0 = d_K = scale` make the map C¹ across the domain
 * ends. The inverse solves the quadratic `a ξ² + b ξ + c = 0` of the paper's
 * eq. 6–8 in the cancellation-free form `ξ = 2c / (−b − √(b² − 4ac))`.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModuleDef, Shape } from '../core/graph.js';
import { FreiaError, ShapeMismatchError } from '../core/errors.js';
import { is } from '../core/validation.js';
import { sumExceptBatch } from '../math/layout.js';
import { InvertibleModule, convertLayout, type ForwardOptions, type ModuleResult } from './base.js';
import { moduleEntry } from './registry.js';
import { addLogDets, conditionChannels, couplingSplit, sameShapeWithConditions, withConditions, type TwoHalvesRule } from './coupling.js';
import type { AnySubnet, Subnet } from './subnets.js';

/**
 * How the knots of every spline are parametrised (FrEIA's `BinnedSplineBase`
 * arguments in camelCase). With zero raw parameters a spline is the identity
 * on `defaultDomain` with its default bins, and affine with slope 1 outside.
 *
 * @group Modules
 */
export interface SplineOptions {
  /** Number of bins `K` per spline (default 10, at least 1). */
  readonly bins?: number;
  /**
   * `[minWidth, minHeight]`: every bin is at least this wide and tall
   * (default `[0.1, 0.1]`). Ignored with `identityTails`, as in FrEIA.
   */
  readonly minBinSizes?: readonly [number, number];
  /**
   * `[left, right, bottom, top]` of the spline when the raw parameters are
   * zero (default `[-3, 3, -3, 3]`). With `identityTails` only the width
   * `right − left` is used.
   */
  readonly defaultDomain?: readonly [number, number, number, number];
  /**
   * Identity outside the domain instead of FrEIA's default affine tails
   * (default false). The domain is then the centred square
   * `[−w/2, w/2]²` with `w = (right − left) · softplus(raw + log(e − 1))`,
   * and bins are `w · softmax(raw)`.
   */
  readonly identityTails?: boolean;
  /**
   * Soft limit `D` of the domain's size: a size `w` becomes `D · tanh(w / D)`.
   * Without `identityTails` the widths, heights, left and bottom are rescaled
   * by that factor, as FrEIA does (so the domain's position is scaled too).
   * Absent: no limit.
   */
  readonly domainClamping?: number;
}

/**
 * Options of {@link RationalQuadraticSpline}.
 *
 * `subnet1: len2 + cond → len1 · P` and `subnet2: len1 + cond → len2 · P`
 * with `P = 3K + 1` raw parameters per channel (`3K` with `identityTails`).
 *
 * @group Modules
 */
export interface RqSplineOptions extends SplineOptions {
  /** Builds each subnet as `subnet(cIn, cOut)`. */
  readonly subnet: AnySubnet;
  /**
   * Channels of the first half: a fraction in (0, 1) rounded half-to-even as
   * Python's `round(C · f)` (C=7 → 4|3), or a whole number of channels.
   * Default 0.5. Both halves must be non-empty.
   */
  readonly splitLen?: number;
}

/**
 * Options of {@link LinearSpline}: those of {@link RqSplineOptions}, with
 * `P = 2K + 2` raw parameters per channel (`2K + 1` with `identityTails`).
 *
 * @group Modules
 */
export type LinearSplineOptions = RqSplineOptions;

/**
 * Options of {@link ElementwiseRationalQuadraticSpline}: unconditional (the
 * raw parameters are learned directly) or, with conditions, predicted by
 * `subnet: cond → C · P` from the concatenated conditions.
 *
 * @group Modules
 */
export interface ElementwiseRqSplineOptions extends SplineOptions {
  /** Required exactly when the block reads conditions. */
  readonly subnet?: AnySubnet;
}

/**
 * The builder's pairing of `subnet` and `cond` for
 * {@link ElementwiseRationalQuadraticSpline}: both or neither. (FrEIA
 * silently ignores a subnet without conditions; here that does not compile,
 * and fails at run time, because the subnet would never be trained.)
 *
 * @group Modules
 */
export type ElementwiseConditioning<Cond> =
  | {
    /** No subnet: learned splines. */
    readonly subnet?: undefined;
    /** No condition without a subnet. */
    readonly cond?: undefined;
  }
  | {
    /** The subnet predicting the splines from the condition. */
    readonly subnet: AnySubnet;
    /** The condition(s) it reads. */
    readonly cond: Cond;
  };

/** The constrained spline of every channel: knots, knot derivatives, and the affine tails. */
interface Knots {
  /** `[..., C, K+1]`: `x_0 … x_K`. */
  readonly x: tf.Tensor;
  /** `[..., C, K+1]`: `y_0 … y_K`. */
  readonly y: tf.Tensor;
  /** `[..., C, K+1]`: `d_0 … d_K` (the ends equal `scale`); absent for linear curves. */
  readonly d?: tf.Tensor;
  /** `[..., C, 1]`: the tails' slope `Σ heights / Σ widths`. */
  readonly scale: tf.Tensor;
  /** `[..., C, 1]`: the tails' intercept `y_0 − scale · x_0`. */
  readonly shift: tf.Tensor;
}

/** `t[..., start : start + size]`. */
function lastSlice(t: tf.Tensor, start: number, size: number): tf.Tensor {
  const last = t.rank - 1;
  return tf.slice(t, t.shape.map((_, i) => (i === last ? start : 0)), t.shape.map((_, i) => (i === last ? size : -1)));
}

const LOG_E_MINUS_1 = Math.log(Math.E - 1);

/** The curve between knots: FrEIA's RationalQuadraticSpline or its LinearSpline. */
export type SplineCurve = 'rational-quadratic' | 'linear';

/** FrEIA's `BinnedSplineBase` (+ the RQ derivative constraint for rational-quadratic curves), for one set of options. */
export class SplineParametrisation {
  readonly bins: number;
  /** Raw parameters per channel. */
  readonly count: number;
  private readonly identityTails: boolean;
  private readonly domainClamping: number | undefined;
  private readonly minWidth: number;
  private readonly minHeight: number;
  private readonly domain: readonly [number, number, number, number];

  constructor(options: SplineOptions, private readonly curve: SplineCurve = 'rational-quadratic') {
    this.bins = options.bins ?? 10;
    [this.minWidth, this.minHeight] = options.minBinSizes ?? [0.1, 0.1];
    this.domain = options.defaultDomain ?? [-3, 3, -3, 3];
    this.identityTails = options.identityTails ?? false;
    this.domainClamping = options.domainClamping ?? undefined;
    // widths, heights, (bottom, left | total_width), then for RQ curves the inner derivatives
    this.count = 2 * this.bins + (this.identityTails ? 1 : 2) + (curve === 'rational-quadratic' ? this.bins - 1 : 0);
  }

  /** FrEIA's constructor assertions, as errors naming the node. */
  static check(node: string, options: SplineOptions): void {
    const bins = options.bins ?? 10;
    const [minW, minH] = options.minBinSizes ?? [0.1, 0.1];
    const [left, right, bottom, top] = options.defaultDomain ?? [-3, 3, -3, 3];
    const fail = (what: string) => {
      throw new FreiaError(`${node}: ${what}`);
    };
    if (!Number.isInteger(bins) || bins < 1) fail(`bins must be a whole number ≥ 1, got ${bins}`);
    if (!(minW >= 0 && minH >= 0)) fail(`minBinSizes must be non-negative, got [${minW}, ${minH}]`);
    if (!(right > left) || !(top > bottom)) fail(`defaultDomain [left, right, bottom, top] must increase, got [${left}, ${right}, ${bottom}, ${top}]`);
    if (right - left < minW * bins) fail(`${bins} bins of width ≥ ${minW} do not fit in the x domain [${left}, ${right}]`);
    if (top - bottom < minH * bins) fail(`${bins} bins of height ≥ ${minH} do not fit in the y domain [${bottom}, ${top}]`);
    if (options.domainClamping !== undefined && options.domainClamping !== null && !(options.domainClamping > 0)) {
      fail(`domainClamping must be positive, got ${options.domainClamping}`);
    }
  }

  private clampSize(size: tf.Tensor): tf.Tensor {
    const limit = this.domainClamping;
    return limit === undefined ? size : tf.mul(tf.tanh(tf.div(size, limit)), limit);
  }

  /** Raw parameters `[..., C, P]` (FrEIA's per-channel layout) → the constrained spline. */
  constrain(raw: tf.Tensor): Knots {
    const K = this.bins;
    const last = raw.rank - 1;
    const rawWidths = lastSlice(raw, 0, K);
    const rawHeights = lastSlice(raw, K, K);
    let widths: tf.Tensor;
    let heights: tf.Tensor;
    let left: tf.Tensor;
    let bottom: tf.Tensor;
    if (this.identityTails) {
      const width = this.domain[1] - this.domain[0];
      const total = this.clampSize(tf.mul(tf.softplus(tf.add(lastSlice(raw, 2 * K, 1), LOG_E_MINUS_1)), width));
      left = tf.mul(total, -0.5);
      bottom = left;
      widths = tf.mul(total, tf.softmax(rawWidths));
      heights = tf.mul(total, tf.softmax(rawHeights));
    } else {
      // Shift the softplus so that raw 0 gives the default bin size even with a minimum size.
      const shiftX = Math.log(Math.expm1((this.domain[1] - this.domain[0]) / K - this.minWidth));
      const shiftY = Math.log(Math.expm1((this.domain[3] - this.domain[2]) / K - this.minHeight));
      widths = tf.add(tf.softplus(tf.add(rawWidths, shiftX)), this.minWidth);
      heights = tf.add(tf.softplus(tf.add(rawHeights, shiftY)), this.minHeight);
      bottom = tf.add(lastSlice(raw, 2 * K, 1), this.domain[2]);
      left = tf.add(lastSlice(raw, 2 * K + 1, 1), this.domain[0]);
      if (this.domainClamping !== undefined) {
        const sumW = tf.sum(widths, last, true);
        const sumH = tf.sum(heights, last, true);
        const resizeW = tf.div(this.clampSize(sumW), sumW);
        const resizeH = tf.div(this.clampSize(sumH), sumH);
        widths = tf.mul(widths, resizeW);
        left = tf.mul(left, resizeW);
        heights = tf.mul(heights, resizeH);
        bottom = tf.mul(bottom, resizeH);
      }
    }
    const scale = tf.div(tf.sum(heights, last, true), tf.sum(widths, last, true));
    const inner = K > 1 && this.curve === 'rational-quadratic' ? [tf.softplus(tf.add(lastSlice(raw, this.count - (K - 1), K - 1), LOG_E_MINUS_1))] : [];
    return {
      x: tf.concat([left, tf.add(left, tf.cumsum(widths, last))], last),
      y: tf.concat([bottom, tf.add(bottom, tf.cumsum(heights, last))], last),
      d: this.curve === 'rational-quadratic' ? tf.concat([scale, ...inner, scale], last) : undefined,
      scale,
      shift: tf.sub(bottom, tf.mul(scale, left)),
    };
  }

  /**
   * The spline (or its inverse) of `x: [B, ..., C]` with knots broadcastable
   * to `[B, ..., C, K+1]`; returns the result and the elementwise
   * log|dy/dx| (at the input for forward, at the result for the inverse).
   */
  apply(x: tf.Tensor, knots: Knots, rev: boolean): [tf.Tensor, tf.Tensor] {
    const K = this.bins;
    const v = tf.expandDims(x, -1);
    const last = v.rank - 1;
    const edges = rev ? knots.y : knots.x;
    const lo = lastSlice(edges, 0, 1);
    const hi = lastSlice(edges, K, 1);
    // `lo < v <= hi` by products, not logicalAnd: tfjs has no gradient for
    // LogicalAnd, and autodiff w.r.t. x would pass through it.
    const inside = tf.greater(tf.mul(tf.cast(tf.less(lo, v), 'float32'), tf.cast(tf.lessEqual(v, hi), 'float32')), 0.5);
    // tf.where broadcasts its branches with a Tile whose gradient tfjs lacks above rank 4
    // (images give rank 5 here); an add broadcasts with a gradient at any rank.
    const zeros = tf.zeros(inside.shape);
    const select = (a: tf.Tensor, b: tf.Tensor) => tf.where(inside, tf.add(a, zeros), tf.add(b, zeros));
    // Outside points are evaluated at the domain's centre and then discarded:
    // a finite dummy keeps NaNs out of the gradients of the discarded branch.
    const u = select(v, tf.mul(tf.add(lo, hi), 0.5));
    // searchsorted(edges, u, side='left') − 1 as a one-hot over the bins:
    // `below` is 1 for every knot < u (a run of ones, as the knots increase),
    // so its first difference marks the bin with x_k < u <= x_{k+1}.
    const below = tf.cast(tf.less(edges, u), 'float32');
    const bin = tf.sub(lastSlice(below, 0, K), lastSlice(below, 1, K));
    const atLeft = (t: tf.Tensor) => tf.sum(tf.mul(bin, lastSlice(t, 0, K)), last, true);
    const atRight = (t: tf.Tensor) => tf.sum(tf.mul(bin, lastSlice(t, 1, K)), last, true);
    const xk = atLeft(knots.x);
    const yk = atLeft(knots.y);
    const dx = tf.sub(atRight(knots.x), xk);
    const dy = tf.sub(atRight(knots.y), yk);
    const [inner, logSlope] = knots.d ? this.rationalQuadratic(u, xk, yk, dx, dy, atLeft(knots.d), atRight(knots.d), rev) : this.linear(u, xk, yk, dx, dy, rev);
    const tail = rev ? tf.div(tf.sub(v, knots.shift), knots.scale) : tf.add(tf.mul(knots.scale, v), knots.shift);
    const out = select(inner, tail);
    const logJac = select(logSlope, tf.log(knots.scale));
    return [tf.squeeze(out, [last]), tf.squeeze(logJac, [last])];
  }

  /** Inside the domain, rational-quadratic: the result and log|dy/dx| (paper eq. 4–8, with the derivatives `dk`, `dkp` at the bin's ends). */
  private rationalQuadratic(u: tf.Tensor, xk: tf.Tensor, yk: tf.Tensor, dx: tf.Tensor, dy: tf.Tensor, dk: tf.Tensor, dkp: tf.Tensor, rev: boolean): [tf.Tensor, tf.Tensor] {
    const s = tf.div(dy, dx);
    const curvature = tf.sub(tf.add(dk, dkp), tf.mul(s, 2));

    let xi: tf.Tensor;
    let inner: tf.Tensor;
    if (!rev) {
      xi = tf.div(tf.sub(u, xk), dx);
      const xi1 = tf.mul(xi, tf.sub(1, xi));
      const numerator = tf.mul(dy, tf.add(tf.mul(s, tf.square(xi)), tf.mul(dk, xi1)));
      inner = tf.add(yk, tf.div(numerator, tf.add(s, tf.mul(curvature, xi1))));
    } else {
      const rise = tf.sub(u, yk);
      const a = tf.add(tf.mul(dy, tf.sub(s, dk)), tf.mul(rise, curvature));
      const b = tf.sub(tf.mul(dy, dk), tf.mul(rise, curvature));
      const c = tf.neg(tf.mul(s, rise));
      // b² − 4ac ≥ 0 in exact arithmetic; round-off may dip below 0 (FrEIA raises there).
      const root = tf.sqrt(tf.relu(tf.sub(tf.square(b), tf.mul(tf.mul(a, c), 4))));
      xi = tf.div(tf.mul(c, 2), tf.sub(tf.neg(b), root));
      inner = tf.add(tf.mul(xi, dx), xk);
    }
    const xi1 = tf.mul(xi, tf.sub(1, xi));
    const slopeNumerator = tf.mul(
      tf.square(s),
      tf.add(tf.add(tf.mul(dkp, tf.square(xi)), tf.mul(tf.mul(s, 2), xi1)), tf.mul(dk, tf.square(tf.sub(1, xi)))),
    );
    const logSlope = tf.sub(tf.log(slopeNumerator), tf.mul(tf.log(tf.add(s, tf.mul(curvature, xi1))), 2));

    return [inner, logSlope];
  }

  /**
   * Inside the domain, linear (FrEIA's `linear_spline`): with `scale = Δy/Δx`
   * and `shift = y_k − scale · x_k`, `y = scale · x + shift`, inverse
   * `x = (y − shift) / scale`, log|dy/dx| = `log Δy − log Δx`, each computed
   * as FrEIA writes it.
   */
  private linear(u: tf.Tensor, xk: tf.Tensor, yk: tf.Tensor, dx: tf.Tensor, dy: tf.Tensor, rev: boolean): [tf.Tensor, tf.Tensor] {
    const scale = tf.div(dy, dx);
    const shift = tf.sub(yk, tf.mul(scale, xk));
    const inner = rev ? tf.div(tf.sub(u, shift), scale) : tf.add(tf.mul(scale, u), shift);
    return [inner, tf.sub(tf.log(dy), tf.log(dx))];
  }

  /** `x: [B, ..., C]`, raw `[..., C·P]` channel-major → result and the per-sample log-det of this direction. */
  transform(x: tf.Tensor, raw: tf.Tensor, rev: boolean): [tf.Tensor, tf.Tensor] {
    const channels = x.shape[x.rank - 1];
    // FrEIA's movedim(1, −1).reshape(..., C, P): channel c owns the raw
    // channels c·P … c·P + P − 1. Channels-last, that is a plain reshape.
    const perChannel = tf.reshape(raw, [...raw.shape.slice(0, -1), channels, this.count]);
    const [y, logJac] = this.apply(x, this.constrain(perChannel), rev);
    const logDet = sumExceptBatch(logJac);
    return [y, rev ? tf.neg(logDet) : logDet];
  }
}

/**
 * The two-sided spline coupling both {@link RationalQuadraticSpline} and
 * {@link LinearSpline} are (FrEIA's `BinnedSpline`): `subnet1` reads x2 and
 * parametrises the splines of x1, `subnet2` reads y1 and parametrises x2's.
 *
 * Options: {@link RqSplineOptions}.
 *
 * @example
 * ```ts
 * import { inn, subnets } from 'freia-ts';
 * inn.input([4]).rqSpline({ subnet: subnets.mlp({ hidden: 64 }) }).linearSpline({ subnet: subnets.mlp({ hidden: 64 }) }).build();
 * ```
 *
 * @group Modules
 */
export class SplineCoupling extends InvertibleModule {
  private readonly len1: number;
  private readonly len2: number;
  private readonly spline: SplineParametrisation;
  private readonly subnet1: Subnet;
  private readonly subnet2: Subnet;

  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<RqSplineOptions>, curve: SplineCurve) {
    super(def.inputShapes, def.conditionShapes);
    const args = def.args;
    [this.len1, this.len2] = couplingSplit(def.kind, def.inputShapes[0][0], args.splitLen);
    this.spline = new SplineParametrisation(args, curve);
    const cond = conditionChannels(def);
    this.subnet1 = this.addSubnet('subnet1', args.subnet, this.len2 + cond, this.len1 * this.spline.count);
    this.subnet2 = this.addSubnet('subnet2', args.subnet, this.len1 + cond, this.len2 * this.spline.count);
  }

  forward(xs: readonly tf.Tensor[], cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    const [x1, x2] = tf.split(xs[0], [this.len1, this.len2], -1);
    if (!rev) {
      const [y1, j1] = this.spline.transform(x1, this.subnet1.apply(withConditions(x2, cs)), false);
      const [y2, j2] = this.spline.transform(x2, this.subnet2.apply(withConditions(y1, cs)), false);
      return { out: [tf.concat([y1, y2], -1)], logDet: addLogDets(j1, j2) };
    }
    const [y2, j2] = this.spline.transform(x2, this.subnet2.apply(withConditions(x1, cs)), true);
    const [y1, j1] = this.spline.transform(x1, this.subnet1.apply(withConditions(y2, cs)), true);
    return { out: [tf.concat([y1, y2], -1)], logDet: addLogDets(j1, j2) };
  }
}

/**
 * FrEIA's RationalQuadraticSpline: a two-sided coupling of RQ splines.
 *
 *     x = [x1 | x2]   (splitLen, FrEIA's rounding)
 *     y1 = RQ(x1; subnet1([x2, c])),   y2 = RQ(x2; subnet2([y1, c]))
 *     log|det J| = Σ log RQ'(x1) + Σ log RQ'(x2)
 *
 * Note the naming is the opposite of GLOWCouplingBlock's: here `subnet1`
 * reads x2 and parametrises x1, and x1 is transformed first. The subnet
 * output holds `P` raw parameters per transformed channel, channel-major,
 * each laid out `[widths(K), heights(K), bottom, left, inner derivatives(K−1)]`
 * (`[widths, heights, total width, inner derivatives]` with `identityTails`);
 * for images the parameters are per pixel.
 *
 * Where we differ from FrEIA: FrEIA raises when round-off makes the inverse's
 * discriminant negative; we clamp it at 0. FrEIA's buffers `spline_base.*`
 * (bins, min_bin_sizes, default_domain, identity_tails, default_width) only
 * repeat the options, so we rebuild them from the options instead of
 * storing them.
 *
 * Options: {@link RqSplineOptions}.
 *
 * @example
 * ```ts
 * import { inn, subnets } from 'freia-ts';
 * inn.input([4]).rqSpline({ subnet: subnets.mlp({ hidden: 64 }) }).build();
 * ```
 *
 * @group Modules
 */
export class RationalQuadraticSpline extends SplineCoupling {
  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<RqSplineOptions>) {
    super(def, 'rational-quadratic');
  }
}

/**
 * FrEIA's LinearSpline: the coupling of {@link RationalQuadraticSpline} with
 * piecewise-linear splines (monotone, continuous, with kinks at the knots).
 *
 *     x = [x1 | x2]
 *     y1 = L(x1; subnet1([x2, c])),   y2 = L(x2; subnet2([y1, c]))
 *     inside bin k:  L(x) = s_k x + (y_k − s_k x_k),  s_k = Δy_k / Δx_k
 *     outside:       L(x) = scale · x + (y_0 − scale · x_0),  scale = Σ heights / Σ widths
 *     log|det J| = Σ log L'(x1) + Σ log L'(x2),  log L' = log Δy_k − log Δx_k inside
 *
 * The subnets give `P = 2K + 2` raw parameters per transformed channel,
 * `[widths(K), heights(K), bottom, left]` (`2K + 1`, `[widths, heights,
 * total width]`, with `identityTails`), constrained as in
 * {@link RationalQuadraticSpline}. With zero raw parameters it is the
 * identity.
 *
 * As FrEIA, the derivative jumps at the knots, so the density of a flow of
 * linear splines is piecewise constant along each coordinate. FrEIA's
 * buffers `spline_base.*` are rebuilt from the options, not stored.
 *
 * Options: {@link LinearSplineOptions}.
 *
 * @example
 * ```ts
 * import { inn, subnets } from 'freia-ts';
 * inn.input([4]).linearSpline({ subnet: subnets.mlp({ hidden: 64 }) }).build();
 * ```
 *
 * @group Modules
 */
export class LinearSpline extends SplineCoupling {
  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<LinearSplineOptions>) {
    super(def, 'linear');
  }
}

/**
 * FrEIA's ElementwiseRationalQuadraticSpline: every element `x[c]` (every
 * pixel of every channel, for images) goes through its own RQ spline,
 *
 *     y = RQ(x; θ),   log|det J| = Σ log RQ'(x),
 *
 * with `θ` either learned directly (`spline_parameters`, zeros at first, so
 * the block starts as the identity) or, when the block reads conditions,
 * `θ = subnet(c)` with `subnet: cond → C·P`. The per-channel layout of `θ`
 * is that of {@link RationalQuadraticSpline}.
 *
 * Where we differ from FrEIA: `spline_parameters` is stored channels-last,
 * `[..., H, W, C·P]` (FrEIA `[C·P, H, W]`), and converted on import; a
 * subnet without conditions is an error (FrEIA ignores it); the inverse's
 * discriminant is clamped at 0 (FrEIA raises). The buffers bins,
 * min_bin_sizes, default_domain, identity_tails and default_width are
 * rebuilt from the options.
 *
 * Options: {@link ElementwiseRqSplineOptions}.
 *
 * @example
 * ```ts
 * import { inn, subnets } from 'freia-ts';
 * inn.input([4]).elementwiseRqSpline().build();
 * // splines predicted from a condition
 * inn.input([4]).condition([2]).elementwiseRqSpline({ subnet: subnets.mlp({ hidden: 32 }), cond: 0 }).build();
 * ```
 *
 * @group Modules
 */
export class ElementwiseRationalQuadraticSpline extends InvertibleModule {
  private readonly spline: SplineParametrisation;
  /** Where the raw parameters come from: a subnet of the conditions, or learned directly. */
  private readonly source: { readonly subnet: Subnet } | { readonly raw: tf.Variable };

  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<ElementwiseRqSplineOptions>) {
    super(def.inputShapes, def.conditionShapes);
    const args = def.args;
    this.spline = new SplineParametrisation(args);
    const [channels, ...spatial] = def.inputShapes[0];
    const width = channels * this.spline.count;
    // The shape rule has made sure that conditions come with a subnet.
    this.source = def.conditionShapes.length > 0 && args.subnet
      ? { subnet: this.addSubnet('subnet', args.subnet, conditionChannels(def), width) }
      : { raw: this.addParam('spline_parameters', tf.zeros([...spatial, width])) };
  }

  /**
   * FrEIA stores `spline_parameters` channels-first, `[C·P, H, W]`; ours is `[H, W, C·P]`.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn } from 'freia-ts';
   * const spline = inn.input([2, 4, 4]).elementwiseRqSpline().build().modules[1]!;
   * const [h, w, cp] = spline.params.get('spline_parameters')!.shape; // [4, 4, 2·P]
   * spline.loadParam('spline_parameters', tf.zeros([cp, h, w])); // FrEIA's layout: the identity spline
   * ```
   */
  override loadParam(name: string, value: tf.Tensor): void {
    if (name !== 'spline_parameters' || value.rank < 2 || !('raw' in this.source)) {
      super.loadParam(name, value);
      return;
    }
    const target = this.source.raw;
    const moved = tf.tidy(() => {
      const perm = [...Array.from({ length: value.rank - 1 }, (_, i) => i + 1), 0];
      return convertLayout(name, tf.transpose(value, perm), target.shape);
    });
    target.assign(moved);
    moved.dispose();
  }

  /**
   * Ours `[H, W, C·P]`, FrEIA's `[C·P, H, W]` (the inverse of `loadParam`).
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn } from 'freia-ts';
   * const spline = inn.input([2, 4, 4]).elementwiseRqSpline().build().modules[1]!;
   * const state = spline.freiaState();
   * console.log(state.get('spline_parameters')!.shape); // [2·P, 4, 4]
   * tf.dispose([...state.values()]);
   * ```
   */
  override freiaState(): Map<string, tf.Tensor> {
    const state = super.freiaState();
    const raw = state.get('spline_parameters');
    if (raw && raw.rank >= 2) {
      state.set('spline_parameters', tf.transpose(raw, [raw.rank - 1, ...Array.from({ length: raw.rank - 1 }, (_, i) => i)]));
      raw.dispose();
    }
    return state;
  }

  forward(xs: readonly tf.Tensor[], cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    // Without conditions the raw parameters have no batch axis; broadcasting supplies it.
    const raw = 'subnet' in this.source ? this.source.subnet.apply(tf.concat([...cs], -1)) : this.source.raw;
    const [y, logDet] = this.spline.transform(xs[0], raw, rev);
    return { out: [y], logDet };
  }
}

/** FrEIA's buffers that only repeat the options (the coupling keeps them under `spline_base.`). */
const optionBuffers = ['bins', 'min_bin_sizes', 'default_domain', 'identity_tails', 'default_width'];

/** The options both splines take. */
const splineOptions = {
  bins: is.number({ integer: true, min: 1 }),
  minBinSizes: is.tuple(2, is.number({ min: 0 })),
  defaultDomain: is.tuple(4, is.number()),
  identityTails: is.boolean,
  domainClamping: is.number({ above: 0 }),
} as const;

/** The run-time shape rule of the two spline couplings: two non-empty halves, a subnet, FrEIA's assertions. */
function splineCouplingShapes(kind: string) {
  // A document may omit any option (or give nonsense): each is checked before use.
  return (node: string, inputShapes: readonly Shape[], conditionShapes: readonly Shape[], options: RqSplineOptions): Shape[] => {
    const shapes = sameShapeWithConditions(node, inputShapes, conditionShapes);
    const [len1, len2] = couplingSplit(node, inputShapes[0][0], options.splitLen);
    if (len1 === 0 || len2 === 0) {
      throw new ShapeMismatchError(node, 'two non-empty halves', `a split ${len1}|${len2}`, `input [${inputShapes[0].join(', ')}], splitLen ${options.splitLen ?? 0.5}`);
    }
    if (!options.subnet) throw new FreiaError(`${node}: ${kind} needs a subnet`);
    SplineParametrisation.check(node, options);
    return shapes;
  };
}

const splineCouplingOptions = { ...splineOptions, subnet: is.subnet, splitLen: is.number({ min: 0 }) };

export const rationalQuadraticSpline = moduleEntry<RqSplineOptions, TwoHalvesRule>()({ kind: 'RationalQuadraticSpline', conditions: 'optional',
  outputShapes: splineCouplingShapes('RationalQuadraticSpline'),
  create: (def) => new RationalQuadraticSpline(def),
  options: splineCouplingOptions,
  freia: { derived: optionBuffers.map((key) => `spline_base.${key}`) },
});

export const linearSpline = moduleEntry<LinearSplineOptions, TwoHalvesRule>()({ kind: 'LinearSpline', conditions: 'optional',
  outputShapes: splineCouplingShapes('LinearSpline'),
  create: (def) => new LinearSpline(def),
  options: splineCouplingOptions,
  freia: { derived: optionBuffers.map((key) => `spline_base.${key}`) },
});

export const elementwiseRationalQuadraticSpline = moduleEntry<ElementwiseRqSplineOptions>()({ kind: 'ElementwiseRationalQuadraticSpline', conditions: 'with-subnet',
  outputShapes(node: string, inputShapes: readonly Shape[], conditionShapes: readonly Shape[], options) {
    const shapes = sameShapeWithConditions(node, inputShapes, conditionShapes);
    if (conditionShapes.length > 0 && !options.subnet) {
      throw new FreiaError(`${node}: a conditional ElementwiseRationalQuadraticSpline needs a subnet (conditions → parameters)`);
    }
    if (conditionShapes.length === 0 && options.subnet) {
      throw new FreiaError(`${node}: an ElementwiseRationalQuadraticSpline without conditions learns its parameters directly; its subnet would never be used (give it conditions, or drop the subnet)`);
    }
    SplineParametrisation.check(node, options);
    return shapes;
  },
  create: (def) => new ElementwiseRationalQuadraticSpline(def),
  options: { ...splineOptions, subnet: is.subnet },
  freia: { derived: optionBuffers },
});
