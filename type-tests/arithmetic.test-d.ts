import { expectType, expectError, expectAssignable, expectNotType } from 'tsd';
import type {
  Add,
  Sub,
  Mul,
  Sum,
  Product,
  Half,
  IsEven,
  Compare,
  IsLiteral,
  AllLiteral,
} from '../src/types/arithmetic.js';

// --- Add ---------------------------------------------------------------------
expectType<3>({} as Add<1, 2>);
expectType<0>({} as Add<0, 0>);
expectType<7>({} as Add<0, 7>);
expectType<7>({} as Add<7, 0>);
expectType<10>({} as Add<5, 5>);
expectType<18>({} as Add<9, 9>);
expectType<1000>({} as Add<999, 1>);
expectType<1000>({} as Add<1, 999>);
expectType<10000000>({} as Add<9999999, 1>);
expectType<3072>({} as Add<768, 2304>);
expectType<1998>({} as Add<999, 999>);
expectType<1000000000>({} as Add<999999999, 1>);
expectType<2000000000>({} as Add<1000000000, 1000000000>);
expectType<9007199254740991>({} as Add<9007199254740990, 1>);
// The result is a number literal, not its digit string.
expectNotType<'3'>({} as Add<1, 2>);
expectAssignable<number>({} as Add<1, 2>);

// --- Sub ---------------------------------------------------------------------
expectType<2>({} as Sub<5, 3>);
expectType<0>({} as Sub<5, 5>);
expectType<0>({} as Sub<0, 0>);
expectType<7>({} as Sub<7, 0>);
expectType<999>({} as Sub<1000, 1>);
expectType<1>({} as Sub<100000, 99999>);
expectType<9999999>({} as Sub<10000000, 1>);
expectType<2304>({} as Sub<3072, 768>);
expectType<9>({} as Sub<1000000009, 1000000000>);
expectType<never>({} as Sub<3, 5>);
expectType<never>({} as Sub<0, 1>);
expectType<never>({} as Sub<999, 1000>);
expectType<never>({} as Sub<1000, 1001>);

// --- Mul ---------------------------------------------------------------------
expectType<6>({} as Mul<2, 3>);
expectType<0>({} as Mul<0, 10>);
expectType<0>({} as Mul<10, 0>);
expectType<0>({} as Mul<0, 0>);
expectType<1>({} as Mul<1, 1>);
expectType<81>({} as Mul<9, 9>);
expectType<100>({} as Mul<10, 10>);
expectType<12288>({} as Mul<3072, 4>);
expectType<9437184>({} as Mul<3072, 3072>);
expectType<97406784>({} as Mul<123456, 789>);
expectType<97406784>({} as Mul<789, 123456>);
expectType<1000000000>({} as Mul<1000, 1000000>);
expectType<998001>({} as Mul<999, 999>);
expectType<9007199136250225>({} as Mul<94906265, 94906265>);

// --- Sum ---------------------------------------------------------------------
expectType<0>({} as Sum<[]>);
expectType<5>({} as Sum<[5]>);
expectType<3072>({} as Sum<[768, 2304]>);
expectType<1000>({} as Sum<[1, 999]>);
expectType<6>({} as Sum<readonly [1, 2, 3]>);
expectType<210>({} as Sum<[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]>);
expectType<2469135780>(
  {} as Sum<
    [
      123456789, 123456789, 123456789, 123456789, 123456789, 123456789, 123456789, 123456789,
      123456789, 123456789, 123456789, 123456789, 123456789, 123456789, 123456789, 123456789,
      123456789, 123456789, 123456789, 123456789,
    ]
  >,
);

// --- Product -----------------------------------------------------------------
expectType<1>({} as Product<[]>);
expectType<7>({} as Product<[7]>);
expectType<3072>({} as Product<[3, 32, 32]>);
expectType<3072>({} as Product<readonly [3, 32, 32]>);
expectType<64000000>({} as Product<[64, 1000, 1000]>);
expectType<0>({} as Product<[3, 0, 32]>);
expectType<5040>({} as Product<[2, 3, 4, 5, 6, 7]>);
expectType<1000000000000000>({} as Product<[1000, 1000, 1000, 1000, 1000]>);
expectType<9633792>({} as Product<[32, 3, 224, 224, 2]>);

// --- Half / IsEven -----------------------------------------------------------
expectType<1536>({} as Half<3072>);
expectType<0>({} as Half<0>);
expectType<1>({} as Half<2>);
expectType<5>({} as Half<10>);
expectType<50>({} as Half<100>);
expectType<500000000>({} as Half<1000000000>);
expectType<4503599627370495>({} as Half<9007199254740990>);
expectType<never>({} as Half<7>);
expectType<never>({} as Half<1>);
expectType<never>({} as Half<3073>);
expectType<true>({} as IsEven<0>);
expectType<true>({} as IsEven<3072>);
expectType<false>({} as IsEven<7>);
expectType<false>({} as IsEven<1000000001>);

// --- Compare -----------------------------------------------------------------
expectType<'eq'>({} as Compare<0, 0>);
expectType<'eq'>({} as Compare<3072, 3072>);
expectType<'lt'>({} as Compare<3, 5>);
expectType<'gt'>({} as Compare<5, 3>);
expectType<'lt'>({} as Compare<9, 10>);
expectType<'gt'>({} as Compare<100, 99>);
expectType<'lt'>({} as Compare<1234, 1243>);
expectType<'gt'>({} as Compare<1000000000, 999999999>);
expectType<'lt'>({} as Compare<0, 1>);

// --- IsLiteral / AllLiteral --------------------------------------------------
expectType<true>({} as IsLiteral<0>);
expectType<true>({} as IsLiteral<3072>);
expectType<false>({} as IsLiteral<number>);
expectType<false>({} as IsLiteral<1 | 2>);
expectType<false>({} as IsLiteral<1.5>);
expectType<false>({} as IsLiteral<-3>);
expectType<false>({} as IsLiteral<never>);
expectType<true>({} as AllLiteral<[]>);
expectType<true>({} as AllLiteral<[3, 32, 32]>);
expectType<true>({} as AllLiteral<readonly [3, 32, 32]>);
expectType<false>({} as AllLiteral<[3, number, 32]>);
expectType<false>({} as AllLiteral<number[]>);
expectType<false>({} as AllLiteral<[3, ...number[]]>);

// --- wide `number` propagation ----------------------------------------------
expectType<number>({} as Add<number, 1>);
expectType<number>({} as Add<1, number>);
expectType<number>({} as Sub<number, 3>);
expectType<number>({} as Sub<3, number>);
expectType<number>({} as Mul<number, 0>);
expectType<number>({} as Mul<4, number>);
expectType<number>({} as Half<number>);
expectType<boolean>({} as IsEven<number>);
expectType<'lt' | 'eq' | 'gt'>({} as Compare<number, 3>);
expectType<number>({} as Sum<number[]>);
expectType<number>({} as Sum<[1, number, 3]>);
expectType<number>({} as Product<number[]>);
expectType<number>({} as Product<[3, number, 32]>);
expectType<number>({} as Product<[3, ...number[]]>);
// Non-literal operands other than `number` are just as unknown.
expectType<number>({} as Add<1 | 2, 1>);
expectType<number>({} as Add<1.5, 1>);

// --- misuse is rejected ------------------------------------------------------
// @ts-expect-error: parameters are constrained to numbers.
type BadAdd = Add<'1', 2>;
expectError<Sum<[1, '2']>>([] as never);
