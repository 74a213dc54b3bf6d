/**
 * `freia-ts example mnist-conv`: a multi-scale convolutional INN on the
 * MNIST digits (unconditional), as in RealNVP and Glow and FrEIA's README
 * conv example: the digits at 5 bits (as mnist-cinn), dequantized, logit, Haar downsampling to [4, 14, 14],
 * four AllInOne blocks with conv subnets, half the channels split off, Haar
 * downsampling of the rest to [8, 7, 7] and four more blocks; both streams
 * flattened and joined to 784 values. Reports test bits/dim and draws 100
 * samples at temperature 0.8.
 */
import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { inn, subnets, setGlobalSeed } from '../../index.js';
import { MNIST_PIXELS } from '../datasets/mnist.js';
import { mnistTensors, trainAndTest, writeDigits } from './mnist-common.js';
import type { Example, ExampleContext, ExampleResult } from './types.js';

export const MNIST_CONV_RECIPE = { bits: 5, hidden: [32, 64], blocksPerScale: 4, batchSize: 64, learningRate: 1e-3, warmup: 100, clipNorm: 10, validationDigits: 500, temperature: 0.8 } as const;

/** The two-scale conv INN: [1, 28, 28] in, [784] out. */
export function mnistConvFlow() {
  const [hidden1, hidden2] = MNIST_CONV_RECIPE.hidden;
  const blocks = MNIST_CONV_RECIPE.blocksPerScale;
  return inn.input([1, 28, 28])
    .dequantize({ levels: 2 ** MNIST_CONV_RECIPE.bits })
    .logit({ alpha: 0.05 })
    .haarDownsample() // [4, 14, 14]
    .repeat(blocks, (c) => c.allInOne({ subnet: subnets.conv({ hidden: hidden1, zeroLast: true }) }))
    .split([2, 2]) // [2, 14, 14] leaves here; [2, 14, 14] goes on
    .on(1, (s) => s.haarDownsample() // [8, 7, 7]
      .repeat(blocks, (c) => c.allInOne({ subnet: subnets.conv({ hidden: hidden2, zeroLast: true }) }))
      .flatten())
    .on(0, (s) => s.flatten())
    .concat() // [784]
    .build();
}

export async function runMnistConv(context: ExampleContext): Promise<ExampleResult> {
  const { seed, log } = context;
  const recipe = MNIST_CONV_RECIPE;
  setGlobalSeed(seed);
  const digits = mnistTensors(seed, recipe.validationDigits, [1, 28, 28], log, recipe.bits);
  const flow = mnistConvFlow();
  const parameters = flow.trainableVariables.reduce((n, v) => n + v.size, 0);
  log(`conv INN: two scales of ${recipe.blocksPerScale} AllInOne blocks (conv hidden ${recipe.hidden.join(', ')}), ${(parameters / 1e3).toFixed(0)} k parameters; batch ${recipe.batchSize}, Adam ${recipe.learningRate} (cosine, warm-up ${recipe.warmup}), clip ${recipe.clipNorm}`);
  const report = await trainAndTest(flow, digits, recipe, context, false);

  const z = tf.mul(tf.randomNormal([100, MNIST_PIXELS], 0, 1, 'float32', seed + 2), recipe.temperature);
  const { out: levels } = flow.inverse(z);
  const picture = path.join(context.outDir, 'mnist-conv.png');
  await writeDigits(levels as tf.Tensor, 10, picture, 2 ** recipe.bits - 1);
  tf.dispose([z, levels]);
  digits.dispose();
  flow.dispose();
  return { ...report, picture, parameters };
}

export const mnistConvExample: Example = { summary: 'multi-scale conv INN on MNIST', defaultSteps: 2000, run: runMnistConv };
