/**
 * Distribution types: bases carry their shapes as literal tuples, and a
 * transformed distribution compiles only when its base lives on the flow's
 * output shapes (pull-back) or input shapes (push-forward).
 */
import * as tf from '@tensorflow/tfjs';
import { expectError, expectType } from 'tsd';
import { dist, inn, subnets, type DiagonalNormal, type GaussianMixture, type TransformedDistribution, type StandardNormal } from '../dist/index.js';

const mlp = subnets.mlp({ hidden: 16 });

expectType<DiagonalNormal<[[2]]>>(dist.diagonalNormal([2]));
expectType<GaussianMixture<[[4]]>>(dist.gaussianMixture([4], 3));
expectType<StandardNormal<[[3, 8, 8], [10]]>>(dist.standardNormal([3, 8, 8], [10]));

const moons = inn.input([2]).allInOne({ subnet: mlp }).build();
expectType<TransformedDistribution<[[2]], []>>(dist.pullBack(moons, dist.diagonalNormal([2])));
expectType<tf.Tensor>(dist.pullBack(moons, dist.gaussianMixture([2], 4)).sample(10));
expectError(dist.pullBack(moons, dist.diagonalNormal([3])));
expectError(dist.pullBack(moons, dist.standardNormal([2], [2])));

// A flow that changes shapes: the pull-back's base is on its outputs, the push-forward's on its inputs.
const image = inn.input([3, 8, 8]).haarDownsample().flatten().build();
expectType<TransformedDistribution<[[3, 8, 8]], []>>(dist.pullBack(image, dist.diagonalNormal([192])));
expectError(dist.pullBack(image, dist.diagonalNormal([3, 8, 8])));
expectType<TransformedDistribution<[[192]], []>>(dist.pushForward(image, dist.uniformBox([3, 8, 8], -1, 1)));
expectError(dist.pushForward(image, dist.diagonalNormal([192])));
