/**
 * The chain builder's shape rules: for every rule, cases that compile with
 * the exact resulting shape, and cases that must not compile.
 */
import { expectError, expectType } from 'tsd';
import { inn, subnets, type Chain, type Flow } from '../dist/index.js';

const mlp = subnets.mlp({ hidden: 512 });
const conv = subnets.conv({ hidden: 256, kernel: 3 });

// ---- the seed's three networks, with the shapes DESIGN.md gives ----

const moons = inn.input([2]).repeat(8, (c) => c.allInOne({ subnet: mlp, permuteSoft: true })).build();
expectType<Flow<[[2]], [[2]], []>>(moons);

const mnist = inn.input([784]).condition([10]).repeat(12, (c) => c.allInOne({ subnet: mlp, cond: 0 })).build();
expectType<Flow<[[784]], [[784]], [[10]]>>(mnist);

const down = inn.input([3, 32, 32])
  .repeat(4, (c) => c.glow({ subnet: conv, clamp: 1.2 }).permuteRandom())
  .irevnetDownsample();
expectType<Chain<[[12, 16, 16]], [], [[3, 32, 32]]>>(down);
const flat = down.repeat(12, (c, k) => c.glow({ subnet: subnets.conv({ hidden: 256, kernel: k % 2 ? 3 : 1 }), clamp: 1.2 }).permuteRandom({ seed: k })).flatten();
expectType<Chain<[[3072]], [], [[3, 32, 32]]>>(flat);
const twoStreams = flat.split([768, 2304]);
expectType<Chain<[[768], [2304]], [], [[3, 32, 32]]>>(twoStreams);
const cifar = twoStreams
  .on(0, (s) => s.repeat(12, (c) => c.glow({ subnet: mlp, clamp: 2 }).permuteRandom()))
  .concat()
  .build();
expectType<Flow<[[3, 32, 32]], [[3072]], []>>(cifar);

// ---- split ----
expectType<Chain<[[1], [2], [3]], [], [[6]]>>(inn.input([6]).split([1, 2, 3]));
expectType<Chain<[[4, 2, 8], [4, 6, 8]], [], [[4, 8, 8]]>>(inn.input([4, 8, 8]).split([2, 6], { dim: 1 }));
expectType<Chain<[[4, 8, 3], [4, 8, 5]], [], [[4, 8, 8]]>>(inn.input([4, 8, 8]).split([3, 5], { dim: 2 }));
expectType<Chain<[[5000000], [5000000]], [], [[10000000]]>>(inn.input([10000000]).split([5000000, 5000000]));
expectError(inn.input([3, 32, 32]).flatten().split([1000, 2000]));
expectError(inn.input([6]).split([1, 2, 4]));
expectError(inn.input([4, 8, 8]).split([2, 2], { dim: 1 }));
expectError(inn.input([4, 8, 8]).split([2, 2], { dim: 3 }));
expectError(inn.input([10000000]).split([5000000, 5000001]));

// ---- concat ----
expectType<Chain<[[6]], [], [[6]]>>(inn.input([6]).split([2, 4]).concat());
expectType<Chain<[[4, 8, 8]], [], [[4, 8, 8]]>>(inn.input([4, 8, 8]).split([2, 6], { dim: 1 }).concat({ dim: 1 }));
expectError(inn.input([8, 32, 32]).split([4, 4]).on(1, (s) => s.reshape([4, 16, 64])).concat());
expectError(inn.input([8, 32, 32]).split([4, 4]).on(1, (s) => s.reshape([4, 32, 32]).irevnetDownsample().reshape([4, 32, 32]).haarDownsample().reshape([16, 16, 16])).concat());
expectError(inn.input([4, 8, 8]).split([2, 6], { dim: 1 }).concat());
expectError(inn.input([6]).concat());

// ---- downsampling and upsampling ----
expectType<Chain<[[12, 16, 16]], [], [[3, 32, 32]]>>(inn.input([3, 32, 32]).haarDownsample());
expectType<Chain<[[3, 32, 32]], [], [[12, 16, 16]]>>(inn.input([12, 16, 16]).irevnetUpsample());
expectType<Chain<[[3, 64, 64]], [], [[12, 32, 32]]>>(inn.input([12, 32, 32]).haarUpsample());
expectType<Chain<[[48, 8, 8]], [], [[3, 32, 32]]>>(inn.input([3, 32, 32]).irevnetDownsample().haarDownsample());
expectError(inn.input([3, 31, 32]).irevnetDownsample());
expectError(inn.input([3, 32, 31]).irevnetDownsample());
expectError(inn.input([3, 31, 32]).haarDownsample());
expectError(inn.input([3, 32, 32]).irevnetDownsample().irevnetDownsample().irevnetDownsample().irevnetDownsample().irevnetDownsample().irevnetDownsample());
expectError(inn.input([6, 16, 16]).irevnetUpsample());
expectError(inn.input([6, 16, 16]).haarUpsample());
expectError(inn.input([48]).haarDownsample());

// ---- flatten and reshape ----
expectType<Chain<[[3072]], [], [[3, 32, 32]]>>(inn.input([3, 32, 32]).flatten());
expectType<Chain<[[3, 32, 32]], [], [[3072]]>>(inn.input([3072]).reshape([3, 32, 32]));
expectType<Chain<[[1000, 1000, 10]], [], [[10000000]]>>(inn.input([10000000]).reshape([1000, 1000, 10]));
expectError(inn.input([12]).reshape([5, 2]));
expectError(inn.input([3, 32, 32]).reshape([3, 32, 31]));
expectError(inn.input([10000000]).reshape([1000, 1000, 11]));

// ---- conditions ----
expectType<Chain<[[4]], [[3], [2]], [[4]]>>(inn.input([4]).condition([3]).condition([2]).glow({ subnet: mlp, cond: [1, 0] }));
expectError(inn.input([4]).allInOne({ subnet: mlp, cond: 0 }));
expectError(inn.input([4]).condition([3]).allInOne({ subnet: mlp, cond: 1 }));
expectError(inn.input([4]).condition([3]).glow({ subnet: mlp, cond: [0, 1] }));

// ---- single-stream methods while several streams are live ----
expectError(inn.input([4]).split([2, 2]).allInOne({ subnet: mlp }));
expectError(inn.input([4]).split([2, 2]).glow({ subnet: mlp }));
expectError(inn.input([4]).split([2, 2]).flatten());
expectError(inn.input([4]).split([2, 2]).actNorm());
expectError(inn.input([4, 4, 4]).split([2, 2]).irevnetDownsample());
expectError(inn.input([4]).split([2, 2]).split([1, 1]));
expectError(inn.input([4]).split([2, 2]).permuteRandom());

// ---- on(i, fn) ----
expectType<Chain<[[2], [1], [1]], [], [[4]]>>(inn.input([4]).split([2, 2]).on(1, (s) => s.split([1, 1])));
expectType<Chain<[[2], [2, 1, 1]], [], [[4]]>>(inn.input([4]).split([2, 2]).on(1, (s) => s.reshape([2, 1, 1])));
expectError(inn.input([4]).split([2, 2]).on(2, (s) => s));
expectError(inn.input([4]).on(1, (s) => s));

// ---- repeat keeps the shapes ----
expectType<Chain<[[3, 32, 32]], [], [[3, 32, 32]]>>(inn.input([3, 32, 32]).repeat(3, (c) => c.actNorm()));
expectError(inn.input([3, 32, 32]).repeat(2, (c) => c.irevnetDownsample()));
expectError(inn.input([12]).repeat(2, (c) => c.reshape([3, 4])));

// ---- dynamic shapes: checks move to run time, nothing stops compiling ----
declare const dynamic: number[];
declare const n: number;
expectType<Chain<[number[]], [], [number[]]>>(inn.input(dynamic).actNorm());
inn.input(dynamic).split([1, 2]);
inn.input(dynamic).irevnetDownsample();
inn.input([3, n, n]).irevnetDownsample();
expectType<Chain<[[12, number, number]], [], [[3, number, number]]>>(inn.input([3, n, n]).haarDownsample());
expectType<Chain<[[number]], [], [[3, number, 32]]>>(inn.input([3, n, 32]).flatten());
inn.input([n]).split([10, 20]);
inn.input([n]).reshape([2, 5]);
