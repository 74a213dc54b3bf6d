#!/usr/bin/env node
/**
 * `npm run bench`: the benchmark workloads, one JSON line each, with the
 * median and minimum milliseconds over repeated runs after warm-up (the
 * machines are shared and noisy: compare medians, not single runs).
 *
 * - `moons-train-step`: one Adam step of the seed's moons INN, batch 100.
 * - `moons-sample-10k`: 10,000 samples through the inverse pass.
 * - `conv-train-step`: one Adam step of 4 GLOW blocks with 3×3 conv subnets
 *   (hidden 64) and permutations on `[3, 32, 32]`, batch 16.
 * - `typecheck-conv-inn`, `typecheck-1000-blocks`: how long the TypeScript
 *   checker takes on the builder types (the seed's conv INN of DESIGN.md; a
 *   1,000-block chain written as ten statements). Needs the dev dependencies.
 *
 * `--runs N` (default 20), `--profile`: also print the kernels that take the
 * time in each workload.
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { inn, subnets, train, ready, setGlobalSeed, type AnyFlow } from '../index.js';
import { makeMoons } from './datasets/moons.js';

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

const convFlow: AnyFlow = inn.input([3, 32, 32])
  .repeat(4, (c) => c.glow({ subnet: subnets.conv({ hidden: 64, kernel: 3 }), clamp: 1.2 }).permuteRandom())
  .build();
const convOptimizer: tf.Optimizer = tf.train.adam(1e-3);
const images = tf.randomUniform([16, 3, 32, 32], 0, 1, 'float32', 3);
workloads.push({
  name: 'conv-train-step',
  detail: '4 GLOW blocks, 3x3 conv subnets (hidden 64) + PermuteRandom on [3, 32, 32]; batch 16; forward + backward + Adam',
  run: () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => train.nll(convFlow, images), convFlow.trainableVariables);
      convOptimizer.applyGradients(grads);
      value.dataSync();
    }),
});

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
// ---- the compiler on the builder types ----
const typecheckRuns = Math.max(3, Math.min(runs, 10));
const conv = `import { inn, subnets } from 'freia-ts';
const flow = inn.input([3, 32, 32])
  .repeat(4, (c) => c.glow({ subnet: subnets.conv({ hidden: 256, kernel: 3 }), clamp: 1.2 }).permuteRandom())
  .irevnetDownsample()
  .repeat(12, (c, k) => c.glow({ subnet: subnets.conv({ hidden: 256, kernel: k % 2 ? 3 : 1 }), clamp: 1.2 }).permuteRandom({ seed: k }))
  .flatten()
  .split([768, 2304])
  .on(0, (s) => s.repeat(12, (c) => c.glow({ subnet: subnets.mlp({ hidden: 512 }), clamp: 2 }).permuteRandom()))
  .concat()
  .build();
export default flow;
`;
const blocks = Array.from({ length: 10 }, (_, k) =>
  `const c${k + 1} = c${k}${Array.from({ length: 100 }, (_, i) => (i % 2 ? '.permuteRandom()' : '.glow({ subnet: mlp })')).join('')};`,
).join('\n');
const long = `import { inn, subnets } from 'freia-ts';\nconst mlp = subnets.mlp({ hidden: 8 });\nconst c0 = inn.input([3072]);\n${blocks}\nexport default c10;\n`;

async function typecheckSeconds(source: string): Promise<number> {
  const ts = (await import('typescript')).default;
  const file = path.resolve('freia-bench-snippet.ts');
  const options = { strict: true, noEmit: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: [] as string[] };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host);
  const exists = host.fileExists.bind(host);
  const get = host.getSourceFile.bind(host);
  host.readFile = (f) => (path.resolve(f) === file ? source : read(f));
  host.fileExists = (f) => path.resolve(f) === file || exists(f);
  host.getSourceFile = (f, language, onError) => (path.resolve(f) === file ? ts.createSourceFile(f, source, language) : get(f, language, onError));
  const t0 = performance.now();
  const program = ts.createProgram([file], options, host);
  const diagnostics = ts.getPreEmitDiagnostics(program);
  const ms = performance.now() - t0;
  if (diagnostics.length) throw new Error(ts.flattenDiagnosticMessageText(diagnostics[0].messageText, ' '));
  return ms;
}

for (const [name, source, detail] of [
  ['typecheck-conv-inn', conv, "tsc on the seed's CIFAR-style conv INN of DESIGN.md (program creation + full check)"],
  ['typecheck-1000-blocks', long, 'tsc on a 1,000-block chain written as ten statements of 100 calls'],
] as const) {
  let times: number[];
  try {
    await typecheckSeconds(source);
    times = [];
    for (let i = 0; i < typecheckRuns; i++) times.push(await typecheckSeconds(source));
  } catch (error) {
    console.log(JSON.stringify({ name, skipped: `needs the dev dependencies (typescript) and the built package: ${error instanceof Error ? error.message : String(error)}` }));
    continue;
  }
  console.log(JSON.stringify({ name, runs: typecheckRuns, warmup: 1, ...stats(times), detail }));
}

tf.dispose([batch, z, images]);
convOptimizer.dispose();
convFlow.dispose();
optimizer.dispose();
flow.dispose();
