/**
 * What the MNIST examples share: the digits as tensors, split with a seed
 * into training, validation (held back from training) and test digits; the
 * test bits/dim in batches; and the samples written as a grid of digits.
 */
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { train, imageGridAsync, type Trainable } from '../../index.js';
import type { ExampleContext } from './types.js';
import { mulberry32, randomPermutation } from '../../math/rng.js';
import { loadMnist, MNIST_PIXELS, type DigitSet } from '../datasets/mnist.js';

/** Digits as the flows take them: grey levels [n, ...shape] and one-hot labels [n, 10]. */
export interface DigitTensors {
  readonly x: tf.Tensor;
  readonly c: tf.Tensor2D;
  readonly count: number;
}

/** Rows `rows` of a set, the levels reshaped to `[n, ...shape]` and reduced to `bits` bits (`⌊k / 2^(8 − bits)⌋`). */
function tensorsOf(set: DigitSet, rows: readonly number[], shape: readonly number[], bits: number): DigitTensors {
  const levels = new Float32Array(rows.length * MNIST_PIXELS);
  const step = 2 ** (8 - bits);
  rows.forEach((r, k) => {
    for (let i = 0; i < MNIST_PIXELS; i++) levels[k * MNIST_PIXELS + i] = Math.floor(set.levels[r * MNIST_PIXELS + i] / step);
  });
  const oneHot = new Float32Array(rows.length * 10);
  rows.forEach((r, k) => (oneHot[k * 10 + set.labels[r]] = 1));
  return { x: tf.tensor(levels, [rows.length, ...shape]), c: tf.tensor2d(oneHot, [rows.length, 10]), count: rows.length };
}

/**
 * The digits split: `validation` training digits held back (a seeded draw),
 * the rest to train on, the package's test split to report; grey levels of
 * `bits` bits (8: the files' 0…255).
 */
export function mnistTensors(seed: number, validation: number, shape: readonly number[], log: (line: string) => void, bits = 8) {
  const digits = loadMnist();
  log(`mnist: ${digits.train.count} training and ${digits.test.count} test digits (${digits.dropped} dropped by the checks); ${validation} training digits held back for validation`);
  const order = randomPermutation(digits.train.count, mulberry32(seed + 1));
  const sets = {
    train: tensorsOf(digits.train, order.slice(validation), shape, bits),
    validation: tensorsOf(digits.train, order.slice(0, validation), shape, bits),
    test: tensorsOf(digits.test, Array.from({ length: digits.test.count }, (_, i) => i), shape, bits),
  };
  return { ...sets, dispose: () => tf.dispose(Object.values(sets).flatMap((s) => [s.x, s.c])) };
}

/** Mean bits/dim over a set, 500 digits at a time (with the flow's dequantization noise: an upper bound on the discrete NLL). */
async function bitsPerDimOn(flow: Trainable, set: DigitTensors, conditional: boolean): Promise<number> {
  let nllSum = 0;
  for (let start = 0; start < set.count; start += 500) {
    const size = Math.min(500, set.count - start);
    const sum = tf.tidy(() => {
      const x = tf.slice(set.x, start, size);
      return tf.mul(train.nll(flow, x, conditional ? { c: tf.slice(set.c, start, size) } : {}), size);
    });
    nllSum += (await sum.data())[0];
    sum.dispose();
  }
  return train.bitsPerDim(nllSum / set.count, MNIST_PIXELS);
}

/** Writes grey levels `[n, ...]` (0…`top`) as a PNG grid of 28×28 digits, `columns` per row. */
export async function writeDigits(levels: tf.Tensor, columns: number, file: string, top = 255): Promise<void> {
  const n = levels.shape[0];
  const images = tf.tidy(() => tf.reshape(tf.div(levels, top), [n, 28, 28]));
  try {
    writeFileSync(file, await imageGridAsync(images, { columns, padding: 2 }));
  } finally {
    images.dispose();
  }
}

/** What both MNIST recipes fix: the grey levels' bits and the optimisation. */
export interface DigitRecipe {
  readonly bits: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly warmup: number;
  readonly clipNorm: number;
}

/**
 * The MNIST examples' run: Adam with a warm-up and a half cosine, clipping,
 * validation every 250 steps with the best weights kept, then the test
 * bits/dim; `conditional` gives the flow the one-hot labels. Returns the
 * report's fields but the picture.
 */
export async function trainAndTest(flow: Trainable, digits: ReturnType<typeof mnistTensors>, recipe: DigitRecipe, context: ExampleContext, conditional: boolean) {
  const { steps, seed, log } = context;
  const rows = (set: DigitTensors) => (conditional ? { x: set.x, c: set.c } : set.x);
  const started = performance.now();
  const history = steps === 0 ? undefined : await train.fitAsync(flow, {
    data: rows(digits.train), batchSize: recipe.batchSize, steps, seed,
    learningRate: train.schedules.cosine({ initial: recipe.learningRate, steps, warmup: Math.min(recipe.warmup, Math.ceil(steps / 10)) }),
    clipNorm: recipe.clipNorm,
    validationData: rows(digits.validation), validationEvery: Math.max(1, Math.min(250, steps)),
    onValidation: (step, { loss }) => log(`step ${step}: validation ${train.bitsPerDim(loss, MNIST_PIXELS).toFixed(3)} bits/dim`),
    progress: context.progress,
  });
  const trainSeconds = (performance.now() - started) / 1000;
  const testBitsPerDim = await bitsPerDimOn(flow, digits.test, conditional);
  log(`test: ${testBitsPerDim.toFixed(4)} bits/dim (${recipe.bits}-bit digits) on ${digits.test.count} held-out digits`);
  return {
    metric: `test bits/dim (${recipe.bits}-bit digits)`, value: testBitsPerDim,
    trainSeconds: Number(trainSeconds.toFixed(1)),
    bestValidation: history?.best ? { step: history.best.step, bitsPerDim: Number(train.bitsPerDim(history.best.loss, MNIST_PIXELS).toFixed(4)) } : undefined,
  };
}
