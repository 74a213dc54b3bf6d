/**
 * `freia-ts example custom-module`: the seed's two custom modules (FrEIA's
 * tutorial "Invertible Operations"), written here as a user writes them,
 * inside a trained conditional network.
 *
 * The data are 4-D, given a condition c = ±1: for c = +1 the two moons lie
 * in (x1, x2) and Gaussian noise in (x3, x4); for c = -1 the other way
 * round. The network splits x into two pairs, multiplies the first by fixed
 * random factors (FixedRandomElementwiseMultiply), swaps the pairs where
 * c ≤ 0 (ConditionalSwap), so that the moons always reach the first pair,
 * and ends with conditioned AllInOne couplings. It reports the held-out NLL
 * in nats per sample, checks that inverse(forward(x)) gives x back, and
 * draws data beside samples for each condition.
 */
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { InvertibleModule, inn, subnets, train, setGlobalSeed, type ForwardOptions, type ModuleResult, type Shape } from '../../index.js';
import { makeMoons } from '../datasets/moons.js';
import { gaussian, mulberry32 } from '../../math/rng.js';
import { scatterPlotPng } from '../plots/png.js';
import type { Example, ExampleContext, ExampleResult } from './types.js';

/**
 * Multiplies each channel by a fixed random integer factor in {1, 2}:
 * `y = f ⊙ x`, `log|det J| = Σ log f`. The factors are a parameter that is
 * saved but not trained (FrEIA's tutorial draws them with `torch.randint`;
 * the seed is ours, so that a run is reproducible).
 */
export class FixedRandomElementwiseMultiply extends InvertibleModule {
  private readonly factor: tf.Variable;
  constructor(dimsIn: readonly Shape[], dimsC: readonly Shape[], { seed }: { readonly seed: number }) {
    super(dimsIn, dimsC);
    this.factor = this.addParam('random_factor', tf.tidy(() => tf.randomUniformInt([1, dimsIn[0][0]], 1, 3, seed).asType('float32')), false);
  }
  forward([x]: readonly tf.Tensor[], _c: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    const logDet = tf.sum(tf.log(this.factor));
    return rev ? { out: [tf.div(x, this.factor)], logDet: tf.neg(logDet) } : { out: [tf.mul(x, this.factor)], logDet };
  }
}

/**
 * Swaps its two inputs for the samples whose condition is not positive:
 * `(y1, y2) = c > 0 ? (x1, x2) : (x2, x1)`. A swap is its own inverse and
 * moves no volume, so `rev` changes nothing and the log-det is 0.
 */
export class ConditionalSwap extends InvertibleModule {
  forward([x1, x2]: readonly tf.Tensor[], [c]: readonly tf.Tensor[]): ModuleResult {
    const keep = tf.greater(c, 0);
    return { out: [tf.where(keep, x1, x2), tf.where(keep, x2, x1)], logDet: 0 };
  }
}

/** The recipe, in one place (docs/examples/custom-module.md quotes it). */
export const CUSTOM_MODULE_RECIPE = { blocks: 8, hidden: 256, batchSize: 200, learningRate: 1e-3, clipNorm: 5, noise: 0.05, spread: 0.5 } as const;

/** The network: split [4] into two [2], multiply the first, swap given c, join, 8 × AllInOne(cond: c). */
export function customModuleFlow(seed: number) {
  const g = inn.graph();
  const x = g.input([4]);
  const c = g.condition([1]);
  const [first, second] = g.split(x, [2, 2]);
  const [scaled] = g.apply(FixedRandomElementwiseMultiply, [first], { seed }, { name: 'multiply' });
  const [moons, noise] = g.apply(ConditionalSwap, [scaled, second], undefined, { cond: c, name: 'swap' });
  let h = g.concat([moons, noise]);
  for (let k = 0; k < CUSTOM_MODULE_RECIPE.blocks; k++) {
    h = g.allInOne(h, { subnet: subnets.mlp({ hidden: CUSTOM_MODULE_RECIPE.hidden }), cond: c, permuteSoft: true, name: `coupling${k}` });
  }
  return g.build({ inputs: [x], conditions: [c], outputs: [h] });
}

/**
 * `n` samples of the data, as `{ x: [n, 4], c: [n, 1] }` plain arrays: c = +1
 * or -1 at random; the moons in the first pair for +1, in the second for -1.
 */
export function swappedMoons(n: number, seed: number): { x: Float32Array; c: Float32Array } {
  const rng = mulberry32(seed);
  const moons = makeMoons(n, { noise: CUSTOM_MODULE_RECIPE.noise, seed: Math.floor(rng() * 2 ** 31) });
  const x = new Float32Array(4 * n);
  const c = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    c[i] = rng() < 0.5 ? 1 : -1;
    const moonAt = c[i] > 0 ? 0 : 2;
    const noiseAt = 2 - moonAt;
    x[4 * i + moonAt] = moons[2 * i];
    x[4 * i + moonAt + 1] = moons[2 * i + 1];
    x[4 * i + noiseAt] = CUSTOM_MODULE_RECIPE.spread * gaussian(rng);
    x[4 * i + noiseAt + 1] = CUSTOM_MODULE_RECIPE.spread * gaussian(rng);
  }
  return { x, c };
}

/** Interleaved (a, b) pairs of columns `at`, `at + 1` of the rows of a [n, 4] array whose condition is `sign`. */
function pairOf(rows: Float32Array, c: Float32Array, sign: number, at: number): Float32Array {
  const pairs: number[] = [];
  c.forEach((ci, i) => {
    if (Math.sign(ci) === sign) pairs.push(rows[4 * i + at], rows[4 * i + at + 1]);
  });
  return Float32Array.from(pairs);
}

export async function runCustomModule(context: ExampleContext): Promise<ExampleResult> {
  const { steps, seed, log } = context;
  const recipe = CUSTOM_MODULE_RECIPE;
  setGlobalSeed(seed);
  const rng = mulberry32(seed + 1);
  const draw = (n: number) => {
    const { x, c } = swappedMoons(n, Math.floor(rng() * 2 ** 31));
    return { x: tf.tensor2d(x, [n, 4]), c: tf.tensor2d(c, [n, 1]) };
  };

  const flow = customModuleFlow(seed);
  const parameters = flow.trainableVariables.reduce((n, v) => n + v.size, 0);
  log(`custom-module: split, FixedRandomElementwiseMultiply, ConditionalSwap, ${recipe.blocks} AllInOne (hidden ${recipe.hidden}, cond c); ${parameters} parameters`);

  const started = performance.now();
  // A fresh batch every step: the data are unlimited, so nothing is fitted twice.
  await train.fitAsync(flow, { steps, learningRate: recipe.learningRate, clipNorm: recipe.clipNorm, data: () => draw(recipe.batchSize), progress: context.progress });
  const trainSeconds = (performance.now() - started) / 1000;

  const heldOut = draw(10_000);
  const nllTensor = train.nll(flow, heldOut.x, { c: heldOut.c });
  const nll = (await nllTensor.data())[0];
  log(`held-out NLL: ${nll.toFixed(4)} nats per sample (10,000 fresh points, 4 dimensions)`);

  // Invertibility: the custom modules' inverses (division, the swap again) undo the forward pass.
  const { out: z } = flow.forward(heldOut.x, { c: heldOut.c });
  const { out: back } = flow.inverse(z, { c: heldOut.c });
  const errorTensor = tf.max(tf.abs(tf.sub(back, heldOut.x)));
  const reconstructionError = (await errorTensor.data())[0];
  log(`max |inverse(forward(x)) - x| = ${reconstructionError.toExponential(2)} on 10,000 points`);

  // Samples for both conditions: the same number of +1 and -1, drawn through the inverse.
  const nSamples = 2000;
  const sampleC = Float32Array.from({ length: nSamples }, (_, i) => (i % 2 === 0 ? 1 : -1));
  const zSamples = tf.tensor2d(Float32Array.from({ length: 4 * nSamples }, () => gaussian(rng)), [nSamples, 4]);
  const cSamples = tf.tensor2d(sampleC, [nSamples, 1]);
  const { out: samples } = flow.inverse(zSamples, { c: cSamples });
  const sampleRows = (await samples.data()) as Float32Array;
  const data = swappedMoons(nSamples, Math.floor(rng() * 2 ** 31));
  const blue: [number, number, number] = [31, 119, 180];
  const red: [number, number, number] = [214, 39, 40];
  const png = scatterPlotPng(
    [
      { title: 'c=+1 data (x1, x2)', points: pairOf(data.x, data.c, 1, 0), color: blue },
      { title: 'c=+1 samples (x1, x2)', points: pairOf(sampleRows, sampleC, 1, 0), color: red },
      { title: 'c=-1 data (x3, x4)', points: pairOf(data.x, data.c, -1, 2), color: blue },
      { title: 'c=-1 samples (x3, x4)', points: pairOf(sampleRows, sampleC, -1, 2), color: red },
    ],
    { range: [-2, 3], size: 320 },
  );
  const picture = path.join(context.outDir, 'custom-module.png');
  writeFileSync(picture, png);
  tf.dispose([heldOut.x, heldOut.c, nllTensor, z, back, errorTensor, zSamples, cSamples, samples]);
  flow.dispose();
  return {
    metric: 'held-out NLL (nats)', value: nll, picture, parameters, reconstructionError,
    trainSeconds: Number(trainSeconds.toFixed(1)),
  };
}

export const customModuleExample: Example = {
  summary: "the seed's two custom modules (FixedRandomElementwiseMultiply, ConditionalSwap) in a trained conditional INN: held-out NLL, samples per condition",
  defaultSteps: 4000,
  run: runCustomModule,
};
