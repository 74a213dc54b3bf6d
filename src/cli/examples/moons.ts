/**
 * `freia-ts example moons` (and `freia-ts demo`): the seed's moons INN
 * (8 AllInOne blocks, mlp hidden 512, soft permutations) with the seed's
 * recipe (Adam 1e-3, batch 100, moons with noise 0.05), the held-out
 * negative log-likelihood in nats per sample on 10,000 fresh points, and a
 * PNG of the data beside 2,000 samples from the inverse pass.
 */
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { inn, subnets, train, backendInfo, setGlobalSeed } from '../../index.js';
import { makeMoons } from '../datasets/moons.js';
import { gaussian, mulberry32 } from '../../math/rng.js';
import { scatterPlotPng } from '../plots/png.js';
import type { Example, ExampleContext, ExampleResult } from './types.js';

/** Trains and draws the moons INN; `clip` is the gradients' global-norm bound (0: none, exactly the seed's recipe). */
export async function runMoons(context: ExampleContext, { clip = 5 }: { readonly clip?: number } = {}): Promise<ExampleResult> {
  const { steps, seed, log } = context;
  log(`freia-ts moons demo: backend ${backendInfo().description}, ${steps} steps, seed ${seed}, clip ${clip}`);
  setGlobalSeed(seed);
  const rng = mulberry32(seed + 1);
  const noise = 0.05;
  const batchSize = 100;
  const moons = (n: number) => tf.tensor2d(makeMoons(n, { noise, seed: Math.floor(rng() * 2 ** 31) }), [n, 2]);

  const flow = inn.input([2])
    .repeat(8, (c) => c.allInOne({ subnet: subnets.mlp({ hidden: 512 }), permuteSoft: true }))
    .build();

  const started = performance.now();
  // Clipping is our addition to the seed's recipe: without it about one seed in five
  // diverges from a gradient spike and ends above 0.9 nats (docs/performance.md).
  const clipNorm = clip > 0 ? clip : undefined;
  // Async reads throughout: every backend can, WebGPU in Node only so.
  await train.fitAsync(flow, { steps, learningRate: 1e-3, clipNorm, data: () => ({ x: moons(batchSize) }), progress: { ...context.progress, label: 'moons' } });
  const seconds = (performance.now() - started) / 1000;

  const heldOut = moons(10_000);
  const nllTensor = train.nll(flow, heldOut);
  const nll = (await nllTensor.data())[0];
  log(`held-out NLL: ${nll.toFixed(4)} nats per sample (10,000 fresh points; FrEIA on PyTorch reaches 0.54-0.82)`);

  const nSamples = 2000;
  const z = tf.tensor2d(Float32Array.from({ length: 2 * nSamples }, () => gaussian(rng)), [nSamples, 2]);
  const { out: samples } = flow.inverse(z);
  const data = moons(nSamples);
  const png = scatterPlotPng(
    [
      { title: 'data: two moons (noise 0.05)', points: (await data.data()) as Float32Array, color: [31, 119, 180] },
      { title: `samples (NLL ${nll.toFixed(3)})`, points: (await samples.data()) as Float32Array, color: [214, 39, 40] },
    ],
    { range: [-2, 3] },
  );
  const picture = path.join(context.outDir, 'moons.png');
  writeFileSync(picture, png);
  log(`picture: ${picture}`);
  tf.dispose([heldOut, nllTensor, z, samples, data]);
  flow.dispose();
  return { metric: 'held-out NLL (nats)', value: nll, nll, picture, trainSeconds: Number(seconds.toFixed(2)) };
}

export const moons: Example = {
  summary: "the seed's moons INN",
  defaultSteps: 1000,
  run: (context) => runMoons(context),
};
