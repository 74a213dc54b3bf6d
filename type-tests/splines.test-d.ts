/**
 * Builder types of rqSpline, linearSpline and elementwiseRqSpline: the shape is kept,
 * conditions must be declared, the domain options are tuples of the right
 * length, elementwiseRqSpline takes `subnet` and `cond` together or not at
 * all, and neither runs while several streams are live.
 */
import { expectError, expectType } from 'tsd';
import { inn, subnets, type Chain, type Flow } from '../dist/index.js';

const mlp = subnets.mlp({ hidden: 64 });
const conv = subnets.conv({ hidden: 32, kernel: 3 });

// ---- rqSpline (coupling) ----
expectType<Chain<[[7]], [], [[7]]>>(inn.input([7]).rqSpline({ subnet: mlp }));
expectType<Chain<[[6]], [[3]], [[6]]>>(
  inn.input([6]).condition([3]).rqSpline({ subnet: mlp, cond: 0, bins: 8, minBinSizes: [0.05, 0.2], defaultDomain: [-4, 4, -2, 2], domainClamping: 5, splitLen: 2, name: 'spline' }),
);
expectType<Chain<[[5]], [[2], [3]], [[5]]>>(inn.input([5]).condition([2]).condition([3]).rqSpline({ subnet: mlp, cond: [1, 0], identityTails: true }));
expectType<Flow<[[3, 8, 8]], [[3, 8, 8]], []>>(inn.input([3, 8, 8]).rqSpline({ subnet: conv }).permuteRandom().build());
expectError(inn.input([6]).rqSpline({ subnet: mlp, cond: 0 }));
expectError(inn.input([6]).condition([3]).rqSpline({ subnet: mlp, cond: 1 }));
expectError(inn.input([6]).rqSpline({ bins: 4 }));
expectError(inn.input([6]).rqSpline({ subnet: mlp, minBinSizes: [0.1] }));
expectError(inn.input([6]).rqSpline({ subnet: mlp, defaultDomain: [-3, 3, -3] }));
expectError(inn.input([6]).rqSpline({ subnet: mlp, identityTails: 1 }));
expectError(inn.input([6]).split([3, 3]).rqSpline({ subnet: mlp }));

// ---- linearSpline (coupling): the rules of rqSpline ----
expectType<Chain<[[7]], [], [[7]]>>(inn.input([7]).linearSpline({ subnet: mlp }));
expectType<Chain<[[5]], [[2]], [[5]]>>(inn.input([5]).condition([2]).linearSpline({ subnet: mlp, cond: 0, bins: 4, identityTails: true }));
expectType<Flow<[[3, 8, 8]], [[3, 8, 8]], []>>(inn.input([3, 8, 8]).linearSpline({ subnet: conv }).build());
expectError(inn.input([6]).linearSpline({ subnet: mlp, cond: 0 }));
expectError(inn.input([6]).linearSpline({ bins: 4 }));
expectError(inn.input([6]).linearSpline({ subnet: mlp, defaultDomain: [-3, 3] }));
expectError(inn.input([6]).split([3, 3]).linearSpline({ subnet: mlp }));

// ---- elementwiseRqSpline ----
expectType<Chain<[[5]], [], [[5]]>>(inn.input([5]).elementwiseRqSpline());
expectType<Chain<[[3, 8, 8]], [], [[3, 8, 8]]>>(inn.input([3, 8, 8]).elementwiseRqSpline({ bins: 6, identityTails: true, domainClamping: 4 }));
expectType<Chain<[[4]], [[2]], [[4]]>>(inn.input([4]).condition([2]).elementwiseRqSpline({ subnet: mlp, cond: 0 }));
expectType<Flow<[[4]], [[4]], [[2], [3]]>>(inn.input([4]).condition([2]).condition([3]).elementwiseRqSpline({ subnet: mlp, cond: [0, 1] }).build());
// A condition without a subnet to read it, or a subnet that nothing feeds.
expectError(inn.input([4]).condition([2]).elementwiseRqSpline({ cond: 0 }));
expectError(inn.input([4]).elementwiseRqSpline({ subnet: mlp }));
expectError(inn.input([4]).elementwiseRqSpline({ subnet: mlp, cond: 0 }));
expectError(inn.input([4]).condition([2]).elementwiseRqSpline({ subnet: mlp, cond: 2 }));
expectError(inn.input([4]).elementwiseRqSpline({ defaultDomain: [-3, 3] }));
expectError(inn.input([4]).split([1, 3]).elementwiseRqSpline());
