/**
 * FrEIA's Split and Concat: the only modules with several outputs or inputs.
 * `dim` counts non-batch dimensions of the public (channels-first) shape, as
 * in FrEIA: 0 is the channel axis. Both are permutations, log-det 0.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModuleDef, Shape } from '../core/graph.js';
import { ShapeMismatchError, formatShape } from '../core/errors.js';
import { is } from '../core/validation.js';
import { internalAxis } from '../math/layout.js';
import { InvertibleModule, type ForwardOptions, type ModuleResult } from './base.js';
import { moduleEntry } from './registry.js';
import type { AllLiteral, IsLiteral, Sum } from '../types/arithmetic.js';
import type { FormatShape, SetDim, ShapeError, Shapes } from '../types/shape.js';

/**
 * Options of {@link Split} (FrEIA's `section_sizes`, `n_sections`, `dim`).
 *
 * @group Modules
 */
export interface SplitOptions {
  /**
   * Section sizes (FrEIA's `section_sizes`): a list (a sum below the axis
   * length gets the rest appended as one more section, as in FrEIA) or one
   * number `s` meaning `[s, L − s]`.
   */
  readonly sections?: readonly number[] | number;
  /** Equal sections as numpy's `array_split` (larger ones first: 7 → 4, 3); default 2. */
  readonly nSections?: number;
  /** Dimension to split (without batch; 0 = channels). */
  readonly dim?: number;
}

/** The section sizes FrEIA's Split computes for an axis of length `length`. */
export function splitSections(node: string, length: number, options: SplitOptions): number[] {
  const { sections, nSections = 2 } = options;
  if (sections === undefined) {
    // Each section needs at least one element; checked before the list of sections is made (a document may say 1e9).
    if (!Number.isInteger(nSections) || nSections < 2 || nSections > length) {
      throw new ShapeMismatchError(node, `nSections from 2 to the axis length ${length}`, String(nSections));
    }
    const base = Math.floor(length / nSections);
    return Array.from({ length: nSections }, (_, i) => base + (i < length % nSections ? 1 : 0));
  }
  const list = typeof sections === 'number' ? [sections, length - sections] : [...sections];
  const total = list.reduce((a, b) => a + b, 0);
  if (list.some((s) => !Number.isInteger(s) || s < 1) || total > length) {
    throw new ShapeMismatchError(node, `positive sections summing to at most the axis length ${length}`, formatShape(list));
  }
  if (total < length) list.push(length - total);
  return list;
}

function checkDim(node: string, shape: Shape, dim: number): void {
  if (!Number.isInteger(dim) || dim < 0 || dim >= shape.length) {
    throw new ShapeMismatchError(node, `dim in 0..${shape.length - 1} for shape ${formatShape(shape)}`, String(dim));
  }
}

/**
 * FrEIA's Split: one stream into several along `dim` (0, the channels,
 * by default), `x → [x[..s₀], x[s₀..s₀+s₁], …]`; a permutation, log|det J| = 0.
 * Options {@link SplitOptions}; the sections must sum to the axis, which the
 * compiler checks ({@link SplitSections}). Built by {@link Chain.split} and
 * {@link GraphBuilder.split}.
 *
 * @example
 * ```ts
 * import { inn } from 'freia-ts';
 * inn.input([6]).split([4, 2]).on(0, (s) => s.actNorm()).concat().build();
 * // with the graph builder
 * const g = inn.graph();
 * const [a, b] = g.split(g.input([6]), [4, 2]);
 * g.build({ outputs: [a, b] });
 * ```
 *
 * @group Modules
 */
export class Split extends InvertibleModule {
  private readonly sections: number[];
  private readonly dim: number;
  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<SplitOptions>) {
    super(def.inputShapes, def.conditionShapes);
    const args = def.args;
    this.dim = args.dim ?? 0;
    this.sections = splitSections(def.kind, def.inputShapes[0][this.dim], args);
  }
  forward(xs: readonly tf.Tensor[], _cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    const axis = internalAxis(this.dim, this.dimsIn[0].length);
    return { out: rev ? [tf.concat([...xs], axis)] : tf.split(xs[0], this.sections, axis), logDet: 0 };
  }
}

/**
 * Options of {@link Concat}.
 *
 * @group Modules
 */
export interface ConcatOptions {
  /** Dimension to join (without batch; 0 = channels). */
  readonly dim?: number;
}

/**
 * FrEIA's Concat: several streams into one along `dim` (0, the channels,
 * by default), `[x₀, x₁, …] → x₀ ⧺ x₁ ⧺ …`; every other dimension must
 * agree ({@link ConcatShape}); a permutation, log|det J| = 0. Options
 * {@link ConcatOptions}. Built by {@link Chain.concat} (joining every live
 * stream) and {@link GraphBuilder.concat}.
 *
 * @example
 * ```ts
 * import { inn } from 'freia-ts';
 * inn.input([6]).split([3, 3]).concat().build();
 * // streams of images join along the channels (dim 0) by default
 * inn.input([4, 8, 8]).split([1, 3]).concat().build();
 * ```
 *
 * @group Modules
 */
export class Concat extends InvertibleModule {
  private readonly dim: number;
  /** @hidden The builder constructs modules from their node's definition. */
  constructor(def: ModuleDef<ConcatOptions>) {
    super(def.inputShapes, def.conditionShapes);
    this.dim = def.args.dim ?? 0;
  }
  forward(xs: readonly tf.Tensor[], _cs: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    const axis = internalAxis(this.dim, this.dimsIn[0].length);
    const sizes = this.dimsIn.map((s) => s[this.dim]);
    return { out: rev ? tf.split(xs[0], sizes, axis) : [tf.concat([...xs], axis)], logDet: 0 };
  }
}

export const split = moduleEntry<SplitOptions>()({ kind: 'Split', conditions: 'none',
  outputShapes: (node, inputShapes, _c, args) => {
    if (inputShapes.length !== 1) throw new ShapeMismatchError(node, 'exactly 1 input', `${inputShapes.length} inputs`);
    const shape = inputShapes[0];
    const dim = args.dim ?? 0;
    checkDim(node, shape, dim);
    return splitSections(node, shape[dim], args).map((size) => shape.map((d, j) => (j === dim ? size : d)));
  },
  create: (def) => new Split(def),
  options: { sections: is.either(is.number({ integer: true, min: 1 }), { expected: 'a list of positive whole numbers', test: (v) => Array.isArray(v) && v.every((d) => Number.isInteger(d) && d >= 1) }), nSections: is.number({ integer: true, min: 2 }), dim: is.number({ integer: true, min: 0 }) },
  freia: { rename: { section_sizes: 'sections' } },
});

export const concat = moduleEntry<ConcatOptions>()({ kind: 'Concat', conditions: 'none',
  outputShapes: (node, inputShapes, _c, args) => {
    if (inputShapes.length < 2) throw new ShapeMismatchError(node, 'at least 2 inputs', `${inputShapes.length}`);
    const dim = args.dim ?? 0;
    const first = inputShapes[0];
    checkDim(node, first, dim);
    for (const s of inputShapes) {
      if (s.length !== first.length || s.some((d, j) => j !== dim && d !== first[j])) {
        throw new ShapeMismatchError(node, `shapes equal to ${formatShape(first)} except in dim ${dim}`, inputShapes.map(formatShape).join(' and '));
      }
    }
    return [first.map((d, j) => (j === dim ? inputShapes.reduce((sum, s) => sum + s[dim], 0) : d))];
  },
  create: (def) => new Concat(def),
  options: { dim: is.number({ integer: true, min: 0 }) },
});

// ---- type-level shape rules (the compile-time twins of the rules above) ----

type SplitCheckedSections<S extends Shape, P extends readonly number[], D extends number> = `${D}` extends keyof S
  ? IsLiteral<S[D]> extends true
    ? AllLiteral<P> extends true
      ? Sum<P> extends S[D]
        ? P
        : ShapeError<`split sections sum to ${Sum<P>} but the axis has ${S[D]}`>
      : P
    : P
  : number extends S['length']
    ? P
    : ShapeError<`split dim ${D} is out of range for shape ${FormatShape<S>}`>;

/**
 * The sections a split of `S` along `D` accepts: `P` itself when they sum to
 * the axis (or sizes are dynamic), else a {@link ShapeError}. Unlike FrEIA's
 * Split, the typed builders want the sections to add up exactly.
 *
 * @group Type machinery
 */
export type SplitSections<S extends Shape | ShapeError<string>, P extends readonly number[], D extends number> = S extends Shape
  ? SplitCheckedSections<S, P, D>
  : S;

/**
 * The streams a split of `S` into sections `P` along `D` produces.
 *
 * @group Type machinery
 */
export type SplitShapes<S extends Shape, P extends readonly number[], D extends number> = number extends P['length']
  ? Shape[]
  : P extends readonly [infer H extends number, ...infer Rest extends readonly number[]]
    ? [SetDim<S, D, H>, ...SplitShapes<S, Rest, D>]
    : [];

type DimsMatch<A extends Shape, B extends Shape, D extends number> = number extends A['length'] | B['length']
  ? true
  : A['length'] extends B['length']
    ? false extends { [K in keyof A]: K extends `${D}` ? true : K extends keyof B ? (IsLiteral<A[K]> extends true ? (IsLiteral<B[K] & number> extends true ? (A[K] extends B[K] ? true : false) : true) : true) : true }[number]
      ? false
      : true
    : false;

type ConcatCheck<First extends Shape, Rest extends Shapes, D extends number> = Rest extends readonly [infer B extends Shape, ...infer More extends Shapes]
  ? DimsMatch<First, B, D> extends true
    ? ConcatCheck<First, More, D>
    : ShapeError<`concat needs shapes equal except in dim ${D}, got ${FormatShape<First>} and ${FormatShape<B>}`>
  : true;

type DimSizes<Ss extends Shapes, D extends number> = { -readonly [K in keyof Ss]: Ss[K] extends Shape ? (Ss[K][D] & number) : never };

/**
 * The shape a concat of `Ss` along `D` produces, or a {@link ShapeError}
 * (fewer than two streams, ranks or other dimensions that differ).
 *
 * @group Type machinery
 */
export type ConcatShape<Ss extends Shapes, D extends number> = number extends Ss['length']
  ? Shape
  : Ss extends readonly [infer First extends Shape, infer _Second extends Shape, ...Shapes]
    ? `${D}` extends keyof First
      ? ConcatCheck<First, Ss, D> extends infer Check
        ? Check extends true
          ? SetDim<First, D, Sum<DimSizes<Ss, D>>>
          : Check
        : never
      : number extends First['length']
        ? Shape
        : ShapeError<`concat dim ${D} is out of range for shape ${FormatShape<First>}`>
    : ShapeError<`concat needs at least two live streams, but only ${Ss['length']} is live`>;
