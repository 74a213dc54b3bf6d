/**
 * The image-preprocessing modules' builder methods (beyond FrEIA):
 * dequantize and logit keep any shape; wrong option types, unknown options
 * and conditions (they read none) must not compile; train.bitsPerDim and
 * imageGrid keep their argument and result types.
 */
import { expectError, expectType } from 'tsd';
import type * as tf from '@tensorflow/tfjs';
import { imageGrid, imageGridAsync, imageGridSvg, inn, train, type Chain } from '../dist/index.js';

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

// ---- train.bitsPerDim: a number gives a number, a tensor a tensor of its kind ----
declare const nats: tf.Scalar;
declare const perSample: tf.Tensor1D;
expectType<number>(train.bitsPerDim(5000, 3072));
expectType<tf.Scalar>(train.bitsPerDim(nats, 3072));
expectType<tf.Tensor1D>(train.bitsPerDim(perSample, 3072));
expectError(train.bitsPerDim('5000', 3072));
expectError(train.bitsPerDim(5000));

// ---- imageGrid: PNG bytes, an SVG string; options typed ----
declare const images: tf.Tensor4D;
expectType<Uint8Array>(imageGrid(images, { columns: 4, padding: 1, range: [-1, 1], layout: 'nhwc' }));
expectType<Promise<Uint8Array>>(imageGridAsync(images));
expectType<string>(imageGridSvg(images, { scale: 4 }));
expectError(imageGrid(images, { layout: 'chw' }));
expectError(imageGrid(images, { range: [0, 1, 2] }));
expectError(imageGrid(images, { colums: 4 }));
expectError(imageGrid([[0]]));
