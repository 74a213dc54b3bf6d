#!/usr/bin/env node
// docs/guides/temperature.png: the moons INN (8 AllInOne blocks, mlp 128,
// soft permutations; Adam 1e-3, batch 100, gradients clipped at 5, seed 0)
// trained for 3000 steps, then 2000 samples at temperatures 1, 0.8 and 0.6
// beside the data. About a minute on two CPU cores:
//
//   node scripts/ensure-build.mjs && node scripts/guide-temperature.mjs
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inn, subnets, train, dist, ready, setGlobalSeed } from '../dist/index.js';
import { makeMoons } from '../dist/cli/datasets/moons.js';
import { scatterPlotPng } from '../dist/cli/plots/png.js';

await ready();
setGlobalSeed(0);
const moons = (n, seed) => tf.tensor2d(makeMoons(n, { noise: 0.05, seed }), [n, 2]);
const flow = inn.input([2])
  .repeat(8, (c) => c.allInOne({ subnet: subnets.mlp({ hidden: 128 }), permuteSoft: true }))
  .build();
const history = await train.fitAsync(flow, { steps: 3000, learningRate: 1e-3, clipNorm: 5, data: (step) => ({ x: moons(100, step + 1) }), progress: false });
const heldOut = moons(10_000, 1e6);
const nll = tf.tidy(() => train.nll(flow, heldOut).dataSync()[0]);
console.log(`held-out NLL ${nll.toFixed(3)} nats/sample after ${history.steps} steps`);

const model = dist.pullBack(flow);
const panels = [{ title: 'data', points: makeMoons(2000, { noise: 0.05, seed: 7 }), color: [31, 119, 180] }];
for (const temperature of [1, 0.8, 0.6]) {
  const samples = model.sample(2000, { temperature, seed: 3 });
  panels.push({ title: `T = ${temperature}`, points: await samples.data(), color: [214, 39, 40] });
  samples.dispose();
}
const out = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'guides', 'temperature.png');
writeFileSync(out, scatterPlotPng(panels, { size: 260, range: [-1.6, 2.6] }));
tf.dispose(heldOut);
flow.dispose();
console.log(out);
