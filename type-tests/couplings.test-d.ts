/**
 * Builder types of gin, affineCouplingOneSided and conditionalAffine: the
 * shape is kept, conditions must be declared, conditionalAffine cannot be
 * written without one, and none of them runs while several streams are live.
 */
import { expectError, expectType } from 'tsd';
import { inn, subnets, type Chain, type Flow } from '../dist/index.js';

const mlp = subnets.mlp({ hidden: 64 });
const conv = subnets.conv({ hidden: 32, kernel: 3 });

// ---- gin ----
expectType<Chain<[[5]], [], [[5]]>>(inn.input([5]).gin({ subnet: mlp, clamp: 1.5, clampActivation: 'TANH', splitLen: 0.7 }));
expectType<Chain<[[3, 8, 8]], [[2, 8, 8]], [[3, 8, 8]]>>(inn.input([3, 8, 8]).condition([2, 8, 8]).gin({ subnet: conv, cond: 0 }));
expectError(inn.input([4]).gin({ subnet: mlp, cond: 0 }));
expectError(inn.input([4]).condition([3]).gin({ subnet: mlp, cond: 1 }));
expectError(inn.input([4]).gin({ subnet: mlp, clampActivation: 'RELU' }));
expectError(inn.input([4]).gin({ clamp: 2 }));
expectError(inn.input([4]).split([2, 2]).gin({ subnet: mlp }));

// ---- affineCouplingOneSided ----
expectType<Chain<[[7]], [], [[7]]>>(inn.input([7]).affineCouplingOneSided({ subnet: mlp, splitLen: 3 }));
expectType<Chain<[[6]], [[2], [3]], [[6]]>>(inn.input([6]).condition([2]).condition([3]).affineCouplingOneSided({ subnet: mlp, cond: [1, 0], name: 'one-sided' }));
expectType<Flow<[[4, 4, 4]], [[4, 4, 4]], []>>(inn.input([4, 4, 4]).affineCouplingOneSided({ subnet: conv, clampActivation: 'SIGMOID' }).permuteRandom().build());
expectError(inn.input([6]).affineCouplingOneSided({ subnet: mlp, cond: 0 }));
expectError(inn.input([6]).condition([3]).affineCouplingOneSided({ subnet: mlp, cond: [0, 1] }));
expectError(inn.input([6]).split([3, 3]).affineCouplingOneSided({ subnet: mlp }));

// ---- conditionalAffine: `cond` is required ----
expectType<Chain<[[5]], [[3]], [[5]]>>(inn.input([5]).condition([3]).conditionalAffine({ subnet: mlp, cond: 0 }));
expectType<Chain<[[4]], [[2], [3]], [[4]]>>(inn.input([4]).condition([2]).condition([3]).conditionalAffine({ subnet: mlp, cond: [1, 0], clamp: 3, clampActivation: 'TANH' }));
expectType<Chain<[[3, 8, 8]], [[1, 8, 8]], [[3, 8, 8]]>>(inn.input([3, 8, 8]).condition([1, 8, 8]).conditionalAffine({ subnet: conv, cond: 0, name: 'spade' }));
expectError(inn.input([5]).conditionalAffine({ subnet: mlp }));
expectError(inn.input([5]).conditionalAffine({ subnet: mlp, cond: 0 }));
expectError(inn.input([5]).condition([3]).conditionalAffine({ subnet: mlp }));
expectError(inn.input([5]).condition([3]).conditionalAffine({ subnet: mlp, cond: 1 }));
expectError(inn.input([5]).condition([3]).conditionalAffine({ subnet: mlp, cond: [] }));
expectError(inn.input([5]).condition([3]).conditionalAffine({ subnet: mlp, cond: 0, splitLen: 0.5 }));
expectError(inn.input([6]).condition([3]).split([3, 3]).conditionalAffine({ subnet: mlp, cond: 0 }));
