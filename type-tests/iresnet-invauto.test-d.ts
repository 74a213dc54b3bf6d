/**
 * Builder types of iresnet, the invAuto* layers and gaussianMixture: the
 * shape each yields (kept, or set by dimsOut / the convolution), and the
 * wirings that must not compile (several live streams, undeclared
 * conditions, wrong ranks, options the module does not take).
 */
import { expectError, expectType } from 'tsd';
import { inn, type Chain, type Flow } from '../dist/index.js';

// ---- iresnet ----
expectType<Chain<[[6]], [], [[6]]>>(inn.input([6]).iresnet());
expectType<Chain<[[3, 8, 8]], [], [[3, 8, 8]]>>(inn.input([3, 8, 8]).iresnet({ internalSize: 16, nInternalLayers: 2, exactLogDet: true, spectralNorm: 'forward', name: 'res' }));
expectType<Flow<[[6]], [[6]], []>>(inn.input([6]).repeat(3, (c) => c.iresnet({ hutchinsonSamples: 2, jacobianIterations: 10 })).build());
expectError(inn.input([6]).split([3, 3]).iresnet());
expectError(inn.input([4, 4]).iresnet());
expectError(inn.input([6]).condition([2]).iresnet({ cond: 0 }));
expectError(inn.input([6]).iresnet({ spectralNorm: 'always' }));
expectError(inn.input([6]).iresnet({ exactLogDet: 'yes' }));

// ---- the activations keep any shape ----
expectType<Chain<[[5]], [], [[5]]>>(inn.input([5]).invAutoAct({ slopeInit: 1.5, learnable: false }));
expectType<Chain<[[3, 4, 4]], [], [[3, 4, 4]]>>(inn.input([3, 4, 4]).invAutoAct());
expectType<Chain<[[3, 4, 4]], [], [[3, 4, 4]]>>(inn.input([3, 4, 4]).invAutoActFixed());
expectType<Chain<[[2, 3]], [], [[2, 3]]>>(inn.input([2, 3]).invAutoActTwoSided({ initPos: 3, initNeg: 0.2 }));
expectError(inn.input([6]).split([3, 3]).invAutoAct());
expectError(inn.input([6]).split([3, 3]).invAutoActTwoSided());
expectError(inn.input([6]).invAutoAct({ initPos: 2 }));
expectError(inn.input([6]).condition([2]).invAutoAct({ cond: 0 }));

// ---- invAutoFC: [C] → [dimsOut] ----
expectType<Chain<[[5]], [], [[5]]>>(inn.input([5]).invAutoFC());
expectType<Chain<[[3]], [], [[5]]>>(inn.input([5]).invAutoFC({ dimsOut: 3 }));
expectType<Flow<[[3, 4, 4]], [[10]], []>>(inn.input([3, 4, 4]).flatten().invAutoFC({ dimsOut: 10, name: 'fc' }).build());
expectError(inn.input([3, 4, 4]).invAutoFC());
expectError(inn.input([6]).split([3, 3]).invAutoFC());

// ---- invAutoConv2D: [C, H, W] → [C', H + 2P − K + 1, W + 2P − K + 1] ----
expectType<Chain<[[3, 8, 6]], [], [[3, 8, 6]]>>(inn.input([3, 8, 6]).invAutoConv2D());
expectType<Chain<[[3, 6, 4]], [], [[3, 8, 6]]>>(inn.input([3, 8, 6]).invAutoConv2D({ padding: 0 }));
expectType<Chain<[[5, 8, 6]], [], [[3, 8, 6]]>>(inn.input([3, 8, 6]).invAutoConv2D({ dimsOut: [5, 8, 6] }));
expectType<Chain<[[2, 10, 8]], [], [[3, 8, 6]]>>(inn.input([3, 8, 6]).invAutoConv2D({ kernelSize: 1, padding: 1, dimsOut: [2, 10, 8] }));
expectType<Chain<[[3, 8, 6]], [], [[3, 8, 6]]>>(inn.input([3, 8, 6]).invAutoConv2D({ kernelSize: 5, padding: 2 }));
expectError(inn.input([3, 8, 6]).invAutoConv2D({ dimsOut: [5, 8, 8] }));
expectError(inn.input([3, 8, 6]).invAutoConv2D({ padding: 0, dimsOut: [5, 8, 6] }));
expectError(inn.input([12]).invAutoConv2D());
expectError(inn.input([3, 2, 2]).invAutoConv2D({ kernelSize: 5, padding: 0 }));
expectError(inn.input([3, 8, 6]).split([1, 2]).invAutoConv2D());

// ---- gaussianMixture: conditions required and declared ----
const mixture = inn.input([4]).condition([3]).condition([3, 4]).condition([3, 10]);
expectType<Chain<[[4]], [[3], [3, 4], [3, 10]], [[4]]>>(mixture.gaussianMixture({ cond: [0, 1, 2], component: { seed: 1 } }));
expectType<Chain<[[3, 4]], [[3], [3, 4], [3, 10]], [[3, 4]]>>(inn.input([3, 4]).condition([3]).condition([3, 4]).condition([3, 10]).gaussianMixture({ cond: [0, 1, 2], component: 'all' }));
expectType<Chain<[[4]], [[3], [3, 4], [3, 10], [1]], [[4]]>>(mixture.condition([1]).gaussianMixture({ cond: [0, 1, 2, 3], component: 'fromCondition' }));
expectError(mixture.gaussianMixture({ component: 'all' }));
expectError(mixture.gaussianMixture({ cond: [0, 1, 3] }));
expectError(inn.input([4]).gaussianMixture({ cond: 0 }));
expectError(mixture.gaussianMixture({ cond: [0, 1, 2], component: 'some' }));
expectError(mixture.split([2, 2]).gaussianMixture({ cond: [0, 1, 2] }));
