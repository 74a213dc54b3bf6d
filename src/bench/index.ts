#!/usr/bin/env node
/**
 * `npm run bench`: the benchmark workloads, one JSON line each, with the
 * median and minimum milliseconds over repeated runs after warm-up (the
 * machines are shared and noisy: compare medians, not single runs).
 *
 * - `moons-train-step`: one Adam step of the seed's moons INN, batch 100.
 * - `moons-sample-10k`: 10,000 samples through the inverse pass.
 *
 * `--runs N` (default 20), `--profile`: also print the kernels that take the
 * time in each workload.
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { inn, subnets, train, ready, setGlobalSeed, type AnyFlow } from '../index.js';
import { makeMoons } from '../runtime/moons.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' }, profile: { type: 'boolean', default: false } } });
const runs = Math.max(10, Number(values.runs));
const warmup = 5;

interface Workload {
  readonly name: string;
  readonly detail: string;
  run(): void;
}

function stats(times: number[]) {
  const sorted = [...times].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { medianMs: Number(median.toFixed(3)), minMs: Number(sorted[0].toFixed(3)), maxMs: Number(sorted[sorted.length - 1].toFixed(3)) };
}

async function kernelProfile(workload: Workload): Promise<Record<string, number>> {
  const profile = await tf.profile(() => workload.run());
  const totals: Record<string, number> = {};
  for (const k of profile.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : Number((await k.kernelTimeMs as unknown as { kernelMs?: number }).kernelMs ?? 0);
    totals[k.name] = (totals[k.name] ?? 0) + ms;
  }
  return Object.fromEntries(Object.entries(totals).sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, v]) => [k, Number(v.toFixed(3))]));
}

const backend = await ready();
setGlobalSeed(0);
const flow: AnyFlow = inn.input([2]).repeat(8, (c) => c.allInOne({ subnet: subnets.mlp({ hidden: 512 }), permuteSoft: true })).build();
const optimizer: tf.Optimizer = tf.train.adam(1e-3);
const variables = flow.trainableVariables;
const batch = tf.tensor2d(makeMoons(100, { noise: 0.05, seed: 1 }), [100, 2]);
const z = tf.randomNormal([10_000, 2], 0, 1, 'float32', 2);

const workloads: Workload[] = [
  {
    name: 'moons-train-step',
    detail: '8 AllInOne blocks, mlp 512, permuteSoft; batch 100; forward + backward + Adam',
    run: () =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => train.nll(flow, batch), variables);
        optimizer.applyGradients(grads);
        value.dataSync();
      }),
  },
  {
    name: 'moons-sample-10k',
    detail: '10,000 samples through the inverse pass of the same INN',
    run: () =>
      tf.tidy(() => {
        (flow.inverse(z, { jac: false }).out as tf.Tensor).dataSync();
      }),
  },
];

for (const workload of workloads) {
  for (let i = 0; i < warmup; i++) workload.run();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    workload.run();
    times.push(performance.now() - t0);
  }
  const line: Record<string, unknown> = { name: workload.name, backend, runs, warmup, ...stats(times), detail: workload.detail };
  if (values.profile) line.kernelsMs = await kernelProfile(workload);
  console.log(JSON.stringify(line));
}
tf.dispose([batch, z]);
optimizer.dispose();
flow.dispose();
