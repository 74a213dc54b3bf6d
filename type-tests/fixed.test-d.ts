/**
 * The fixed-transform family's builder methods: the exact resulting Chain
 * types, and the wirings that must not compile (wrong rank, two live
 * streams, conditions where none is read or none is declared, bad options).
 */
import { expectError, expectType } from 'tsd';
import { inn, subnets, type Chain } from '../dist/index.js';

const M3 = [[1, 0.5, 0], [0, 2, 0], [0.1, 0, 3]];
const M4 = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];

// ---- shapes kept, exact chain types ----
expectType<Chain<[[3]], [], [[3]]>>(inn.input([3]).fixedLinear({ M: M3, b: [1, 2, 3] }));
expectType<Chain<[[3]], [], [[3]]>>(inn.input([3]).fixedLinear({ M: M3, name: 'whiten' }));
expectType<Chain<[[3, 8, 8]], [], [[3, 8, 8]]>>(inn.input([3, 8, 8]).fixed1x1Conv({ M: M3 }));
expectType<Chain<[[6]], [], [[6]]>>(inn.input([6]).invertibleSigmoid());
expectType<Chain<[[2, 4, 4]], [], [[2, 4, 4]]>>(inn.input([2, 4, 4]).invertibleSigmoid({ name: 'squash' }));
expectType<Chain<[[2, 4, 4]], [], [[2, 4, 4]]>>(inn.input([2, 4, 4]).learnedElementwiseScaling({ initScale: 0.5 }));
expectType<Chain<[[7]], [], [[7]]>>(inn.input([7]).orthogonal({ correctionInterval: 128, clamp: 3 }));
expectType<Chain<[[7]], [], [[7]]>>(inn.input([7]).householderPerm({ nReflections: 3, fixed: true }));
expectType<Chain<[[4]], [[8]], [[4]]>>(inn.input([4]).condition([8]).householderPerm({ nReflections: 2, cond: 0 }));
expectType<Chain<[[5]], [], [[5]]>>(inn.input([5]).conv1x1LU({ seed: 1 }));
expectType<Chain<[[3, 8, 8]], [], [[3, 8, 8]]>>(inn.input([3, 8, 8]).conv1x1LU());
expectType<Chain<[[32]], [], [[2, 4, 4]]>>(inn.input([2, 4, 4]).conv1x1LU().glow({ subnet: subnets.conv({ hidden: 8, kernel: 3 }) }).flatten().orthogonal().householderPerm());
expectType<Chain<[[4], [2]], [], [[6]]>>(inn.input([6]).split([4, 2]).on(0, (s) => s.fixedLinear({ M: M4 }).orthogonal()));

// A shape known only at run time passes the rank rules (checked when the chain is built).
declare const n: number;
expectType<Chain<[number[]], [], [number[]]>>(inn.input([n] as number[]).orthogonal());

// ---- wrong rank ----
expectError(inn.input([3, 8, 8]).fixedLinear({ M: M3 }));
expectError(inn.input([3]).fixed1x1Conv({ M: M3 }));
expectError(inn.input([3, 8]).fixed1x1Conv({ M: M3 }));
expectError(inn.input([4, 4, 4]).orthogonal());
expectError(inn.input([4, 4, 4]).householderPerm());

// ---- two live streams ----
expectError(inn.input([6]).split([3, 3]).orthogonal());
expectError(inn.input([6]).split([3, 3]).invertibleSigmoid());
expectError(inn.input([6]).split([3, 3]).conv1x1LU());
expectError(inn.input([6]).split([3, 3]).fixedLinear({ M: M3 }));

// ---- conditions: none declared, or a module that reads none ----
expectError(inn.input([4]).householderPerm({ nReflections: 2, cond: 0 }));
expectError(inn.input([4]).condition([8]).householderPerm({ nReflections: 2, cond: 1 }));
expectError(inn.input([3]).condition([2]).fixedLinear({ M: M3, cond: 0 }));
expectError(inn.input([3]).condition([2]).conv1x1LU({ cond: 0 }));

// ---- options ----
expectError(inn.input([3]).fixedLinear({}));
expectError(inn.input([3]).fixedLinear({ M: [1, 2, 3] }));
expectError(inn.input([3, 8, 8]).fixed1x1Conv());
expectError(inn.input([3]).learnedElementwiseScaling({ initScale: '1' }));
expectError(inn.input([3]).householderPerm({ nReflections: 2, fixed: 'yes' }));
expectError(inn.input([3]).conv1x1LU({ seed: 'x' }));
