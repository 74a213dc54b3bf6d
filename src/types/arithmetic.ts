/**
 * Exact type-level arithmetic on non-negative integer literal types, used to
 * check tensor shapes at compile time.
 *
 * Numbers are turned into decimal strings with a template literal and worked on
 * one digit at a time, so the recursion depth grows with the number of digits
 * (about 16 for any safe integer) rather than with the value, as a tuple-length
 * encoding would. Addition, subtraction and multiplication run on the string
 * reversed (least significant digit first) because a template literal can only
 * peel characters off the front, and carries travel from the low end.
 *
 * An operand that is not a single non-negative integer literal (the wide
 * `number`, a union, `1.5`, `-3`) gives `number`: the answer is then unknown
 * at compile time, and `number` keeps the call site compiling instead of
 * wrongly rejecting it. A `never` operand gives `never`, as with other types.
 *
 * @module
 */

type Digit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9';
type Bit = 0 | 1;

// Tuple lengths are the only arithmetic the checker does natively, so single
// digits are spelled in unary and only ever summed in spreads of at most 20.
type Unary = {
  '0': [];
  '1': [0];
  '2': [0, 0];
  '3': [0, 0, 0];
  '4': [0, 0, 0, 0];
  '5': [0, 0, 0, 0, 0];
  '6': [0, 0, 0, 0, 0, 0];
  '7': [0, 0, 0, 0, 0, 0, 0];
  '8': [0, 0, 0, 0, 0, 0, 0, 0];
  '9': [0, 0, 0, 0, 0, 0, 0, 0, 0];
};
type BitUnary = [[], [0]];
type Ten = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

// Returns the carry alongside the digit so the caller can thread it through
// its accumulator parameters and stay tail-recursive.
type AddDigit<A extends Digit, B extends Digit, C extends Bit> =
  [...Unary[A], ...Unary[B], ...BitUnary[C]]['length'] extends infer S extends number
    ? `${S}` extends `1${infer D extends Digit}`
      ? [D, 1]
      : [`${S}` & Digit, 0]
    : never;

// Borrowing is adding ten to the minuend, so the subtraction can always be
// done by peeling one unary tuple off another.
type SubDigit<A extends Digit, B extends Digit, C extends Bit> =
  Unary[A] extends [...Unary[B], ...BitUnary[C], ...infer R]
    ? [`${R['length']}` & Digit, 0]
    : [...Ten, ...Unary[A]] extends [...Unary[B], ...BitUnary[C], ...infer R]
      ? [`${R['length']}` & Digit, 1]
      : never;

// Tail-recursive (accumulator) so the checker unrolls it into a loop.
type Reverse<S extends string, Acc extends string = ''> = S extends `${infer H}${infer R}`
  ? Reverse<R, `${H}${Acc}`>
  : Acc;

// Subtraction and halving can leave leading zeros that the number parser
// rejects ("0042" does not round-trip), so they are removed first.
type StripZeros<S extends string> = S extends `0${infer R extends `${Digit}${string}`}`
  ? StripZeros<R>
  : S;

// Beyond 2^53 the digit string no longer round-trips through a JS number, the
// parse fails, and `number` is the honest answer.
type ToNumber<S extends string> = S extends `${infer N extends number}` ? N : number;

type Rev<N extends number> = Reverse<`${N}`>;
type FromRev<S extends string> = ToNumber<StripZeros<Reverse<S>>>;

// Stays in reversed form so that Mul and Sum can chain additions without
// converting back to a number in between. Once the carry is spent the rest of
// the longer operand is copied in one step instead of digit by digit.
type AddRev<A extends string, B extends string, C extends Bit = 0, Acc extends string = ''> =
  A extends `${infer DA extends Digit}${infer RA}`
    ? B extends `${infer DB extends Digit}${infer RB}`
      ? AddDigit<DA, DB, C> extends [infer D extends Digit, infer C2 extends Bit]
        ? AddRev<RA, RB, C2, `${Acc}${D}`>
        : never
      : C extends 0
        ? `${Acc}${A}`
        : AddDigit<DA, '0', C> extends [infer D extends Digit, infer C2 extends Bit]
          ? AddRev<RA, '', C2, `${Acc}${D}`>
          : never
    : B extends `${Digit}${string}`
      ? AddRev<B, '', C, Acc>
      : C extends 1
        ? `${Acc}1`
        : Acc;

// A borrow left over after the last digit of A means B > A, which shapes
// cannot express, hence `never`.
type SubRev<A extends string, B extends string, C extends Bit = 0, Acc extends string = ''> =
  A extends `${infer DA extends Digit}${infer RA}`
    ? B extends `${infer DB extends Digit}${infer RB}`
      ? SubDigit<DA, DB, C> extends [infer D extends Digit, infer C2 extends Bit]
        ? SubRev<RA, RB, C2, `${Acc}${D}`>
        : never
      : C extends 0
        ? `${Acc}${A}`
        : SubDigit<DA, '0', C> extends [infer D extends Digit, infer C2 extends Bit]
          ? SubRev<RA, '', C2, `${Acc}${D}`>
          : never
    : B extends ''
      ? C extends 0
        ? Acc
        : never
      : never;

// 0·A … 9·A, computed once per multiplicand (nine additions) so each digit of
// the multiplier is a lookup rather than a nested loop.
type Multiples<A extends string, Prev extends string = '0', Acc extends string[] = ['0']> =
  Acc['length'] extends 10
    ? Acc
    : AddRev<Prev, A> extends infer N extends string
      ? Multiples<A, N, [...Acc, N]>
      : never;

// Indexes the multiples tuple: a generic `string[]` cannot be indexed by "3".
type DigitValue = { '0': 0; '1': 1; '2': 2; '3': 3; '4': 4; '5': 5; '6': 6; '7': 7; '8': 8; '9': 9 };

type MulLoop<M extends string[], B extends string, Shift extends string, Acc extends string> =
  B extends `${infer DB extends Digit}${infer RB}`
    ? MulLoop<M, RB, `0${Shift}`, DB extends '0' ? Acc : AddRev<Acc, `${Shift}${M[DigitValue[DB]]}`>>
    : Acc;

// A zero operand skips the nine additions that build the multiples table.
type MulRev<A extends string, B extends string> = A extends '0'
  ? '0'
  : B extends '0'
    ? '0'
    : MulLoop<Multiples<A>, B, '', '0'>;

type CompareDigit<A extends Digit, B extends Digit> = A extends B
  ? 'eq'
  : '0123456789' extends `${string}${A}${string}${B}${string}`
    ? 'lt'
    : 'gt';

// Forward strings: the first differing digit decides, unless one number has
// more digits, which overrides it at the end.
type CompareFwd<A extends string, B extends string, Res extends 'lt' | 'eq' | 'gt' = 'eq'> =
  A extends `${infer DA extends Digit}${infer RA}`
    ? B extends `${infer DB extends Digit}${infer RB}`
      ? CompareFwd<RA, RB, Res extends 'eq' ? CompareDigit<DA, DB> : Res>
      : 'gt'
    : B extends ''
      ? Res
      : 'lt';

type HalfLow = { '0': '0'; '1': '0'; '2': '1'; '3': '1'; '4': '2'; '5': '2'; '6': '3'; '7': '3'; '8': '4'; '9': '4' };
type HalfHigh = { '0': '5'; '1': '5'; '2': '6'; '3': '6'; '4': '7'; '5': '7'; '6': '8'; '7': '8'; '8': '9'; '9': '9' };
type OddDigit = '1' | '3' | '5' | '7' | '9';

// Schoolbook division by 2 from the most significant digit; the remainder
// carried into the next digit is just the parity of the current one.
type HalfFwd<S extends string, R extends Bit = 0, Acc extends string = ''> =
  S extends `${infer D extends Digit}${infer Rest}`
    ? HalfFwd<Rest, D extends OddDigit ? 1 : 0, `${Acc}${R extends 0 ? HalfLow[D] : HalfHigh[D]}`>
    : R extends 0
      ? Acc
      : never;

// A union must not count as a literal: each member would be checked on its
// own and the answer would be a meaningless union.
type IsUnion<T, U = T> = T extends unknown ? ([U] extends [T] ? false : true) : never;

/**
 * Whether `N` is one known non-negative integer, i.e. whether the other
 * operations can give an exact answer for it.
 *
 * @group Type machinery
 */
export type IsLiteral<N extends number> = [N] extends [never]
  ? false
  : number extends N
    ? false
    : IsUnion<N> extends false
      ? `${N}` extends `${string}${'.' | '-' | 'e'}${string}`
        ? false
        : true
      : false;

// 'never' first so that it propagates like it does through ordinary types.
type Kind<A extends number> = [A] extends [never] ? 'never' : IsLiteral<A> extends true ? 'lit' : 'wide';
// The kind of a result computed from A and B: `KindOfBoth<2, 3>` is 'lit', `KindOfBoth<2, number>` is 'wide'.
type KindOfBoth<A extends number, B extends number> = Kind<A> extends 'never'
  ? 'never'
  : Kind<B> extends 'never'
    ? 'never'
    : Kind<A> extends 'lit'
      ? Kind<B>
      : 'wide';

// Optional elements make `length` a union, rest elements make it `number`;
// either way the total is unknown, so both must be refused.
type IsFixedTuple<T extends readonly number[]> = IsLiteral<T['length']>;

/**
 * `A + B`; `number` when an operand is not a literal.
 *
 * @group Type machinery
 */
export type Add<A extends number, B extends number> = KindOfBoth<A, B> extends 'lit'
  ? FromRev<AddRev<Rev<A>, Rev<B>>>
  : KindOfBoth<A, B> extends 'wide'
    ? number
    : never;

/**
 * `A - B`, or `never` when `B > A` since shapes cannot be negative.
 *
 * @group Type machinery
 */
export type Sub<A extends number, B extends number> = KindOfBoth<A, B> extends 'lit'
  ? SubRev<Rev<A>, Rev<B>> extends infer S extends string
    ? [S] extends [never]
      ? never
      : FromRev<S>
    : never
  : KindOfBoth<A, B> extends 'wide'
    ? number
    : never;

/**
 * `A * B`. Exact up to `Number.MAX_SAFE_INTEGER`; a product beyond it is
 * `number` unless its exact decimal spelling is also a JS number's spelling.
 *
 * @group Type machinery
 */
export type Mul<A extends number, B extends number> = KindOfBoth<A, B> extends 'lit'
  ? FromRev<MulRev<Rev<A>, Rev<B>>>
  : KindOfBoth<A, B> extends 'wide'
    ? number
    : never;

type SumLoop<T extends readonly number[], Acc extends string> = T extends readonly [
  infer H extends number,
  ...infer R extends readonly number[],
]
  ? Kind<H> extends 'lit'
    ? SumLoop<R, AddRev<Acc, Rev<H>>>
    : Kind<H> extends 'wide'
      ? number
      : never
  : FromRev<Acc>;

type ProductLoop<T extends readonly number[], Acc extends string> = T extends readonly [
  infer H extends number,
  ...infer R extends readonly number[],
]
  ? Kind<H> extends 'lit'
    ? ProductLoop<R, MulRev<Acc, Rev<H>>>
    : Kind<H> extends 'wide'
      ? number
      : never
  : FromRev<Acc>;

/**
 * Sum of a tuple, e.g. the size of a concatenation axis; `0` for `[]` so that
 * an empty split adds nothing.
 *
 * @group Type machinery
 */
export type Sum<T extends readonly number[]> = IsFixedTuple<T> extends true ? SumLoop<T, '0'> : number;

/**
 * Product of a tuple, e.g. the element count of a shape; `1` for `[]` so that
 * a scalar has one element.
 *
 * @group Type machinery
 */
export type Product<T extends readonly number[]> = IsFixedTuple<T> extends true
  ? ProductLoop<T, '1'>
  : number;

/**
 * `A / 2` for even `A`, `never` for odd `A`, so that splitting an odd channel
 * count in two is a compile error rather than a silent rounding.
 *
 * @group Type machinery
 */
export type Half<A extends number> = Kind<A> extends 'lit'
  ? HalfFwd<`${A}`> extends infer S extends string
    ? [S] extends [never]
      ? never
      : ToNumber<StripZeros<S>>
    : never
  : Kind<A> extends 'wide'
    ? number
    : never;

/**
 * Parity from the last digit alone; `boolean` when `A` is not a literal.
 *
 * @group Type machinery
 */
export type IsEven<A extends number> = Kind<A> extends 'lit'
  ? `${A}` extends `${string}${'0' | '2' | '4' | '6' | '8'}`
    ? true
    : false
  : Kind<A> extends 'wide'
    ? boolean
    : never;

/**
 * Ordering of `A` and `B`; every outcome is possible (`'lt' | 'eq' | 'gt'`)
 * when an operand is not a literal.
 *
 * @group Type machinery
 */
export type Compare<A extends number, B extends number> = KindOfBoth<A, B> extends 'lit'
  ? CompareFwd<`${A}`, `${B}`>
  : KindOfBoth<A, B> extends 'wide'
    ? 'lt' | 'eq' | 'gt'
    : never;

type AllLiteralLoop<T extends readonly number[]> = T extends readonly [
  infer H extends number,
  ...infer R extends readonly number[],
]
  ? IsLiteral<H> extends true
    ? AllLiteralLoop<R>
    : false
  : true;

/**
 * Whether a shape is fully known at compile time: fixed length and every
 * dimension a literal, so that shape checks can be exact rather than skipped.
 *
 * @group Type machinery
 */
export type AllLiteral<T extends readonly number[]> = IsFixedTuple<T> extends true
  ? AllLiteralLoop<T>
  : false;
