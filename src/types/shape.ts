/**
 * Shapes as literal tuple types, the branded error a failed rule produces,
 * and the small tuple utilities every shape rule uses.
 *
 * A shape rule is one named type that returns either the resulting shape(s)
 * or a {@link ShapeError} whose text the user reads in the editor, e.g.
 * `ShapeError<"split sections sum to 3000 but the axis has 3072">`.
 * Shapes that are only `number` (not literals) pass every rule: their checks
 * move to run time, where the builder throws an error naming the node.
 */
import type { AllLiteral, IsEven, IsLiteral } from './arithmetic.js';

/**
 * A tensor shape without batch, channels first: `[C]`, `[C, H, W]`.
 *
 * @group Building
 */
export type Shape = readonly number[];

/**
 * The shapes of several streams (or inputs, outputs, conditions).
 *
 * @group Building
 */
export type Shapes = readonly Shape[];

declare const shapeErrorBrand: unique symbol;

/**
 * What a shape rule returns when the wiring is wrong. It stands where the
 * offending argument (or the `this` of an argument-less method) is expected,
 * so the compiler prints the message at the mistake.
 *
 * @group Type machinery
 */
export interface ShapeError<Message extends string> {
  /** The message, readable in the editor. */
  readonly [shapeErrorBrand]: Message;
}

/** `true` when `T` is a {@link ShapeError}. */
export type IsShapeError<T> = [T] extends [ShapeError<string>] ? true : false;

type JoinNumbers<T extends readonly number[]> = T extends readonly [infer H extends number]
  ? `${H}`
  : T extends readonly [infer H extends number, ...infer R extends readonly number[]]
    ? `${H}, ${JoinNumbers<R>}`
    : T extends readonly []
      ? ''
      : '...';

/**
 * A shape as users write it, for messages: `[3, 32, 32]`.
 *
 * @group Type machinery
 */
export type FormatShape<S extends Shape> = number extends S['length'] ? 'a shape of unknown rank' : `[${JoinNumbers<S>}]`;

/**
 * The index literals of a tuple: `Indices<[A, B, C]>` is `0 | 1 | 2`.
 *
 * @group Type machinery
 */
export type Indices<T extends readonly unknown[]> = number extends T['length']
  ? number
  : T extends readonly [...infer Init, unknown]
    ? Indices<Init> | Init['length']
    : never;

/**
 * `T` with element `I` replaced by the elements of `X`.
 *
 * @group Type machinery
 */
export type ReplaceAt<T extends readonly unknown[], I extends number, X extends readonly unknown[]> = number extends T['length']
  ? T
  : T extends readonly [...infer Init, infer Last]
    ? Init['length'] extends I
      ? [...Init, ...X]
      : [...ReplaceAt<Init, I, X>, Last]
    : [];

/**
 * `S` with dimension `D` set to `N`.
 *
 * @group Type machinery
 */
export type SetDim<S extends Shape, D extends number, N extends number, Done extends number[] = []> = number extends S['length']
  ? number[]
  : S extends readonly [infer H extends number, ...infer Rest extends readonly number[]]
    ? SetDim<Rest, D, N, [...Done, Done['length'] extends D ? N : H]>
    : Done;

/** True when every dimension is a literal, so rules can be decided at compile time. */
export type IsStatic<S extends Shape> = AllLiteral<S>;

/**
 * True when `N` is a literal and odd: dynamic sizes are never reported as odd.
 *
 * @group Type machinery
 */
export type IsOdd<N extends number> = IsLiteral<N> extends true ? (IsEven<N> extends true ? false : true) : false;

/**
 * The single live stream's shape, or the error a single-stream method reports.
 *
 * @group Type machinery
 */
export type Single<S extends Shapes> = number extends S['length']
  ? Shape
  : S extends readonly [infer X extends Shape]
    ? X
    : ShapeError<`this operation needs exactly one live stream, but ${S['length']} are live: use .on(i, ...) or .concat() first`>;

/**
 * The shape itself when `T` is one (used where a rule's success branch feeds another type).
 *
 * @group Type machinery
 */
export type AsShape<T> = T extends Shape ? T : never;

/**
 * A shape as a mutable tuple, so hovers read `[3, 32, 32]` rather than
 * `readonly [3, 32, 32]`: `MutableShape<readonly [3, 32, 32]>` is
 * `[3, 32, 32]`; a shape of unknown rank stays `number[]`.
 *
 * @group Type machinery
 */
export type MutableShape<X extends Shape> = number extends X['length'] ? number[] : { -readonly [K in keyof X]: X[K] };

/**
 * The old name of {@link MutableShape}.
 *
 * @deprecated Renamed `MutableShape` (0.1.x): "literal" said nothing about what it does, which is dropping `readonly`.
 * @group Type machinery
 */
export type Literal<X extends Shape> = MutableShape<X>;

/** The shapes themselves when `T` is a tuple of shapes (a rule's success branch). */
export type AsShapes<T> = T extends Shapes ? T : never;
