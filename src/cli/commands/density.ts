/**
 * `freia-ts density`: the density-estimation comparison of docs/density.md.
 * Trains each flow family (AllInOne couplings, RQ spline couplings, MAF,
 * autoregressive NSF) on each 2-D data set (moons, eight Gaussians,
 * checkerboard) with the same budget, prints one line (or JSON line) per
 * run with the held-out NLL, the training time and the grid integral of
 * the density, and writes DIR/density.png (data sets by row, families by
 * column).
 */
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { backendInfo, ready, setGlobalSeed } from '../../index.js';
import { outputFolderFlag, runCommand, wholeNumberFlag } from '../command-line.js';
import { datasets2d, families2d, histogram2d, runDensity } from '../density-compare.js';
import { heatmapPng } from '../plots/png.js';

const usage = `usage: freia-ts density [--steps N] [--hidden N] [--seed N] [--out DIR] [--json] [--debug]

Trains every flow family on every 2-D data set with the same budget and
writes DIR/density.png.
  --steps N    Adam steps per run, batch 256 (default 2000)
  --hidden N   hidden width of every subnet and MADE (default 64)
  --seed N     seed (default 0)
  --out DIR    output folder, made if missing (default out)
  --json       one JSON object per run on stdout, then a summary object`;

await runCommand({
  name: 'density',
  usage,
  options: {
    steps: { type: 'string', default: '2000' },
    hidden: { type: 'string', default: '64' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string', default: 'out' },
    json: { type: 'boolean', default: false },
  },
}, async ({ values }) => {
  const steps = wholeNumberFlag('steps', values.steps, 1);
  const hidden = wholeNumberFlag('hidden', values.hidden, 1, 4096);
  const seed = wholeNumberFlag('seed', values.seed, 0, 2 ** 31 - 1);
  const outDir = outputFolderFlag('out', values.out);
  await ready();
  const backend = backendInfo().description;
  if (!values.json) console.log(`backend ${backend}; ${steps} steps, batch 256, Adam 1e-3, clip 5, hidden ${hidden}, seed ${seed}`);
  const panels = [];
  for (const dataset of datasets2d) {
    panels.push({ title: `${dataset.name}: data`, values: histogram2d(dataset.sample(200_000, 424_242), 240, 6), n: 240 });
    for (const family of families2d) {
      setGlobalSeed(seed);
      const run = runDensity(dataset, family, { steps, hidden, seed });
      panels.push({ title: `${dataset.name}: ${family.name}`, values: run.density, n: 240 });
      const line = { dataset: run.dataset, family: run.family, nll: Number(run.nll.toFixed(4)), trainSeconds: Number(run.trainSeconds.toFixed(1)), mass: Number(run.mass.toFixed(4)) };
      console.log(values.json ? JSON.stringify(line) : `${line.dataset.padEnd(16)} ${line.family.padEnd(20)} NLL ${line.nll.toFixed(3).padStart(7)}  ${String(line.trainSeconds).padStart(6)} s  mass ${line.mass.toFixed(4)}`);
    }
  }
  const picture = path.join(outDir, 'density.png');
  writeFileSync(picture, heatmapPng(panels, { columns: families2d.length + 1, size: 240 }));
  console.log(values.json ? JSON.stringify({ summary: true, picture, backend, steps, hidden, seed, tensors: tf.memory().numTensors }) : `picture: ${picture}`);
});
