/**
 * The image-preprocessing modules' builder methods (beyond FrEIA):
 * dequantize and logit keep any shape; wrong option types, unknown options
 * and conditions (they read none) must not compile.
 */
import { expectError, expectType } from 'tsd';
import { inn, type Chain } from '../dist/index.js';

// ---- shapes kept, exact chain types ----
expectType<Chain<[[3, 8, 8]], [], [[3, 8, 8]]>>(inn.input([3, 8, 8]).dequantize());
expectType<Chain<[[3, 8, 8]], [], [[3, 8, 8]]>>(inn.input([3, 8, 8]).dequantize({ levels: 32, noise: false }));
expectType<Chain<[[6]], [], [[6]]>>(inn.input([6]).dequantize({ name: 'pixels' }));
expectType<Chain<[[3, 8, 8]], [], [[3, 8, 8]]>>(inn.input([3, 8, 8]).logit());
expectType<Chain<[[3, 8, 8]], [], [[3, 8, 8]]>>(inn.input([3, 8, 8]).logit({ alpha: 0.05 }));
expectType<Chain<[[192]], [], [[3, 8, 8]]>>(inn.input([3, 8, 8]).dequantize().logit().flatten());

// the graph builder has the same faces
const g = inn.graph();
const x = g.input([1, 4, 4]);
g.logit(g.dequantize(x, { levels: 2 }), { alpha: 0.1 });

// ---- two live streams ----
expectError(inn.input([6]).split([3, 3]).dequantize());
expectError(inn.input([6]).split([3, 3]).logit());

// ---- conditions: these modules read none ----
expectError(inn.input([3]).condition([2]).dequantize({ cond: 0 }));
expectError(inn.input([3]).condition([2]).logit({ cond: 0 }));

// ---- options ----
expectError(inn.input([3]).dequantize({ levels: '256' }));
expectError(inn.input([3]).dequantize({ noise: 1 }));
expectError(inn.input([3]).dequantize({ bits: 8 }));
expectError(inn.input([3]).logit({ alpha: '0.05' }));
expectError(inn.input([3]).logit({ lambda: 0.05 }));
