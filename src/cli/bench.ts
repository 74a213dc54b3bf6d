#!/usr/bin/env node
/**
 * `npm run bench`: the benchmark workloads, one JSON line each, with the
 * median and minimum milliseconds over repeated runs after warm-up (the
 * machines are shared and noisy: compare medians, not single runs).
 *
 * FrEIA's workloads (issue 8; `bench/freia_bench.py` runs the same ones on
 * PyTorch):
 * - `moons-train-step`: one Adam step (1e-3) of 8 AllInOne blocks (mlp 512,
 *   permuteSoft) on `[2]`, batch 100 of moons.
 * - `mnist-cinn-train-step`: one Adam step (1e-4) of FrEIA's MNIST cINN: 12
 *   AllInOne blocks on `[784]` with a one-hot `[10]` condition, subnets
 *   `Linear(c, 512) → ReLU → Linear(512, c')`, batch 64 uniform in [0, 1).
 * - `conv-inn-fwd-inv`: FrEIA's convolutional tutorial INN on `[3, 32, 32]`
 *   (4 GLOW conv 256 k3 + PermuteRandom, IRevNet downsampling, 12 GLOW conv
 *   256 alternating k1/k3 + PermuteRandom, flatten, split [768, 2304], 12
 *   GLOW mlp 512 clamp 2 + PermuteRandom on the first part, concat), batch
 *   16: forward with log-det, then inverse without, no gradients.
 * - `moons-sample-10k`: 10,000 standard-normal samples through the inverse
 *   of the moons INN.
 *
 * Ours only:
 * - `conv-train-step`: one Adam step of 4 GLOW blocks with 3×3 conv subnets
 *   (hidden 64) and permutations on `[3, 32, 32]`, batch 16.
 * - `train-peak-memory`: peak memory and median time of one Adam step of a
 *   chain of GLOW blocks with 3×3 conv subnets (hidden 16) + PermuteRandom on
 *   `[3, 32, 32]`, batch 16, by ordinary backprop (`"mode": "store"`) and by
 *   inversion (`"mode": "invert"`), one line per mode and depth:
 *   `{"name":"train-peak-memory","mode","blocks","peakBytes","medianMs"}`,
 *   then `{"name":"train-peak-memory-resident","mode","blocks","residentBytes"}`
 *   (parameters, Adam's moments and the batch, held before the step).
 *   `peakBytes` is `tf.profile`'s (src/cli/peak-memory.ts). Depths: `--depths`
 *   (default `8,64`); `--peak-runs N` timed steps each (default 5);
 *   `--plot FILE` writes peak memory against depth for both modes as SVG.
 * - `typecheck-conv-inn`, `typecheck-1000-blocks`: how long the TypeScript
 *   checker takes on the builder types (the seed's conv INN of DESIGN.md; a
 *   1,000-block chain written as ten statements). Needs the dev dependencies.
 *
 * FrEIA in the same run: when `FREIA_SRC` points at FrEIA's source and the
 * Python in `FREIA_PYTHON` (default `python3`) imports torch, each FrEIA
 * workload is followed at once by FrEIA's run of it (a FrEIA line) and a
 * ratio line `{"name", "oursMs", "freiaMs", "ratio"}` (ours / FrEIA, below 1
 * is faster); otherwise one line says why FrEIA was skipped.
 *
 * `native` names the package whose native kernels ran the large products and
 * convolutions (onnxruntime-node, when installed; see src/runtime/kernels-native.ts).
 *
 * Flags (checked before any work; `--help` lists them): `--runs N` (default 20, at least 10), `--warmup N` and `--warmup-ms T`
 * (warm up for at least N runs and T milliseconds, default 20 and 2000: V8's
 * optimising compiler needs 20–100 steps of the moons INN to settle, more
 * when the cores are busy; FrEIA gets the same warm-up),
 * `--only NAME` (repeatable or comma-separated), `--backend NAME` (switches
 * with `useBackend`), `--profile` (adds the kernels that take the time).
 */
import * as tf from '@tensorflow/tfjs';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inn, subnets, train, ready, useBackend, setGlobalSeed, type AnyFlow } from '../index.js';
import { makeMoons } from './datasets/moons.js';
import { NATIVE_PACKAGE, nativeActive } from '../runtime/kernels-native.js';
import { measurePeakMemory } from './peak-memory.js';
import { linePlotSvg } from './plots/svg.js';
import { writeFileSync } from 'node:fs';
import { outputFileFlag, parseCommandLine, wholeNumberFlag } from './command-line.js';

const usage = `usage: freia-ts bench [--runs N] [--warmup N] [--warmup-ms T] [--only NAME[,NAME...]] [--backend NAME]
                     [--profile] [--depths N,N,...] [--peak-runs N] [--plot FILE.svg]

Runs the benchmark workloads and prints one JSON line each (medians over --runs
timed runs after warm-up); with FREIA_SRC set, FrEIA runs the same workloads
and a ratio line follows each. See src/cli/bench.ts for the workloads.`;

const { values, runs, warmup, warmupMs, depths, peakRuns, plot } = parseCommandLine({
  name: 'bench',
  usage,
  options: {
    runs: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '20' },
    'warmup-ms': { type: 'string', default: '2000' },
    profile: { type: 'boolean', default: false },
    backend: { type: 'string' },
    only: { type: 'string', multiple: true },
    depths: { type: 'string', default: '8,64' },
    'peak-runs': { type: 'string', default: '5' },
    plot: { type: 'string' },
  },
}, ({ values }) => ({
  values,
  runs: wholeNumberFlag('runs', values.runs, 10),
  warmup: wholeNumberFlag('warmup', values.warmup, 1),
  warmupMs: wholeNumberFlag('warmup-ms', values['warmup-ms'], 0),
  depths: values.depths.split(',').map((d) => wholeNumberFlag('depths', d, 1, 10_000)),
  peakRuns: wholeNumberFlag('peak-runs', values['peak-runs'], 1),
  plot: values.plot === undefined ? undefined : outputFileFlag('plot', values.plot, ['.svg']),
}));
const only = new Set((values.only ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean));
const wanted = (name: string) => only.size === 0 || only.has(name);

/** A workload: `setup` builds its flow and data and returns the timed step and the clean-up. */
interface Workload {
  readonly name: string;
  readonly detail: string;
  /** FrEIA runs the same workload (bench/freia_bench.py). */
  readonly freia: boolean;
  setup(): { run(): void; dispose(): void };
}

function stats(times: number[]) {
  const sorted = [...times].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { medianMs: Number(median.toFixed(3)), minMs: Number(sorted[0].toFixed(3)), maxMs: Number(sorted[sorted.length - 1].toFixed(3)) };
}

async function kernelProfile(run: () => void): Promise<Record<string, number>> {
  const profile = await tf.profile(() => run());
  const totals: Record<string, number> = {};
  for (const k of profile.kernels) {
    // Cast: tfjs types kernelTimeMs as a number or a promise of a timing object, depending on the backend.
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : Number((await k.kernelTimeMs as unknown as { kernelMs?: number }).kernelMs ?? 0);
    totals[k.name] = (totals[k.name] ?? 0) + ms;
  }
  const top = Object.entries(totals).sort((a, b) => b[1] - a[1]).slice(0, 10).map(([k, v]) => [k, Number(v.toFixed(3))]);
  return { kernels: profile.kernels.length, ...Object.fromEntries(top) };
}

/** One training step by maximum likelihood: what `train.fit` does per batch. */
function trainStep(flow: AnyFlow, optimizer: tf.Optimizer, x: tf.Tensor, c?: tf.Tensor): void {
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => train.nll(flow, x, { c }), flow.trainableVariables);
    optimizer.applyGradients(grads);
    value.dataSync();
  });
}

const moonsFlow = (): AnyFlow => inn.input([2]).repeat(8, (c) => c.allInOne({ subnet: subnets.mlp({ hidden: 512 }), permuteSoft: true })).build();

const workloads: Workload[] = [
  {
    name: 'moons-train-step',
    detail: '8 AllInOne blocks, mlp 512, permuteSoft on [2]; batch 100; forward + backward + Adam 1e-3',
    freia: true,
    setup() {
      setGlobalSeed(0);
      const flow = moonsFlow();
      const optimizer = train.adam(1e-3);
      const batch = tf.tensor2d(makeMoons(100, { noise: 0.05, seed: 1 }), [100, 2]);
      return { run: () => trainStep(flow, optimizer, batch), dispose: () => (batch.dispose(), optimizer.dispose(), flow.dispose()) };
    },
  },
  {
    name: 'mnist-cinn-train-step',
    detail: '12 AllInOne blocks on [784], one-hot condition [10], mlp 512; batch 64 uniform [0, 1); forward + backward + Adam 1e-4',
    freia: true,
    setup() {
      setGlobalSeed(0);
      const flow: AnyFlow = inn.input([784]).condition([10])
        .repeat(12, (c) => c.allInOne({ subnet: subnets.mlp({ hidden: 512 }), cond: 0 }))
        .build();
      const optimizer = train.adam(1e-4);
      const x = tf.randomUniform([64, 784], 0, 1, 'float32', 4);
      const c = tf.oneHot(tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 10), 'int32'), 10).toFloat();
      return { run: () => trainStep(flow, optimizer, x, c), dispose: () => (tf.dispose([x, c]), optimizer.dispose(), flow.dispose()) };
    },
  },
  {
    name: 'conv-inn-fwd-inv',
    detail: "FrEIA's convolutional tutorial INN on [3, 32, 32]; batch 16; forward (log-det) + inverse, no gradients",
    freia: true,
    setup() {
      setGlobalSeed(0);
      const flow: AnyFlow = inn.input([3, 32, 32])
        .repeat(4, (c, k) => c.glow({ subnet: subnets.conv({ hidden: 256, kernel: 3 }), clamp: 1.2 }).permuteRandom({ seed: k }))
        .irevnetDownsample()
        .repeat(12, (c, k) => c.glow({ subnet: subnets.conv({ hidden: 256, kernel: k % 2 ? 3 : 1 }), clamp: 1.2 }).permuteRandom({ seed: k }))
        .flatten()
        .split([768, 2304])
        .on(0, (s) => s.repeat(12, (c, k) => c.glow({ subnet: subnets.mlp({ hidden: 512 }), clamp: 2 }).permuteRandom({ seed: k })))
        .concat()
        .build();
      const images = tf.randomUniform([16, 3, 32, 32], 0, 1, 'float32', 3);
      const run = () =>
        tf.tidy(() => {
          const { out, logDet } = flow.forward(images);
          const { out: back } = flow.inverse(out, { jac: false });
          (back as tf.Tensor).dataSync();
          logDet.dataSync();
        });
      return { run, dispose: () => (images.dispose(), flow.dispose()) };
    },
  },
  {
    name: 'moons-sample-10k',
    detail: '10,000 standard-normal samples through the inverse of the moons INN',
    freia: true,
    setup() {
      setGlobalSeed(0);
      const flow = moonsFlow();
      const z = tf.randomNormal([10_000, 2], 0, 1, 'float32', 2);
      const run = () =>
        tf.tidy(() => {
          (flow.inverse(z, { jac: false }).out as tf.Tensor).dataSync();
        });
      return { run, dispose: () => (z.dispose(), flow.dispose()) };
    },
  },
  {
    name: 'conv-train-step',
    detail: '4 GLOW blocks, 3x3 conv subnets (hidden 64) + PermuteRandom on [3, 32, 32]; batch 16; forward + backward + Adam',
    freia: false,
    setup() {
      setGlobalSeed(0);
      const flow: AnyFlow = inn.input([3, 32, 32])
        .repeat(4, (c) => c.glow({ subnet: subnets.conv({ hidden: 64, kernel: 3 }), clamp: 1.2 }).permuteRandom())
        .build();
      const optimizer = train.adam(1e-3);
      const images = tf.randomUniform([16, 3, 32, 32], 0, 1, 'float32', 3);
      return { run: () => trainStep(flow, optimizer, images), dispose: () => (images.dispose(), optimizer.dispose(), flow.dispose()) };
    },
  },
];

// ---- FrEIA, in a Python child that runs a workload when asked ----

interface Line {
  readonly [key: string]: unknown;
}

/** bench/freia_bench.py, started once and asked for one workload at a time. */
class FreiaChild {
  private readonly lines: AsyncIterator<string>;
  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }

  /** Starts the script; resolves to the child, or to the reason FrEIA is skipped. */
  static async start(): Promise<FreiaChild | string> {
    const source = process.env.FREIA_SRC;
    if (!source) return 'FREIA_SRC is not set (the folder holding FrEIA/, e.g. a clone of github.com/vislearn/FrEIA)';
    const python = process.env.FREIA_PYTHON ?? 'python3';
    const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'freia_bench.py');
    const child = spawn(python, [script], { env: process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let startError: Error | undefined;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    child.on('error', (error) => (startError = error));
    const freia = new FreiaChild(child);
    const first = await freia.next();
    if (first === undefined) {
      await closed;
      if (startError) return `${python} could not be started: ${startError.message}`;
      return `${python} ${script} ended without a word: ${stderr.trim().split('\n').pop() ?? ''}`;
    }
    if (first.ready !== true) {
      freia.close();
      return String(first.skip ?? JSON.stringify(first));
    }
    return freia;
  }

  private async next(): Promise<Line | undefined> {
    const { value, done } = await this.lines.next();
    // Cast: the script writes one JSON object per line.
    return done ? undefined : (JSON.parse(value) as Line);
  }

  /** FrEIA's result line for one workload. */
  async measure(name: string): Promise<Line> {
    this.child.stdin.write(`${JSON.stringify({ name, runs, warmup, warmupMs })}\n`);
    const line = await this.next();
    if (!line) throw new Error(`the FrEIA bench ended while measuring ${name}`);
    return line;
  }

  close(): void {
    this.child.stdin.end('\n');
  }
}

// ---- run ----

const backend = values.backend ? (await useBackend(values.backend), tf.getBackend()) : await ready();
const typecheckNames = ['typecheck-conv-inn', 'typecheck-1000-blocks'];
const otherNames = ['train-peak-memory', ...typecheckNames];
const unknown = [...only].filter((name) => !workloads.some((w) => w.name === name) && !otherNames.includes(name));
if (unknown.length) {
  console.error(`freia-ts bench: --only: no workload ${unknown.join(', ')} (there are ${[...workloads.map((w) => w.name), ...otherNames].join(', ')})`);
  process.exit(2);
}
const selected = workloads.filter((w) => wanted(w.name));
const freia = selected.some((w) => w.freia) ? await FreiaChild.start() : undefined;
if (typeof freia === 'string') console.log(JSON.stringify({ freia: 'skipped', reason: freia }));

for (const workload of selected) {
  const { run, dispose } = workload.setup();
  try {
    const warmupStart = performance.now();
    for (let i = 0; i < warmup || performance.now() - warmupStart < warmupMs; i++) run();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      run();
      times.push(performance.now() - t0);
    }
    const ours = stats(times);
    const line: Record<string, unknown> = { name: workload.name, backend, native: nativeActive() ? NATIVE_PACKAGE : false, runs, warmup, warmupMs, ...ours, detail: workload.detail };
    if (values.profile) line.kernelsMs = await kernelProfile(run);
    console.log(JSON.stringify(line));
    if (workload.freia && freia instanceof FreiaChild) {
      const theirs = await freia.measure(workload.name);
      console.log(JSON.stringify(theirs));
      if (typeof theirs.medianMs === 'number') {
        console.log(JSON.stringify({ name: workload.name, oursMs: ours.medianMs, freiaMs: theirs.medianMs, ratio: Number((ours.medianMs / theirs.medianMs).toFixed(3)) }));
      }
    }
  } finally {
    dispose();
  }
}
if (freia instanceof FreiaChild) freia.close();

// ---- peak memory over depth, by ordinary backprop and by inversion ----
if (wanted('train-peak-memory')) {
  const peaks: Record<string, [number, number][]> = { store: [], invert: [] };
  for (const blocks of depths) {
    for (const mode of ['store', 'invert'] as const) {
      const { peakBytes, residentBytes, medianMs } = await measurePeakMemory(blocks, mode, peakRuns);
      console.log(JSON.stringify({ name: 'train-peak-memory', mode, blocks, peakBytes, medianMs }));
      console.log(JSON.stringify({ name: 'train-peak-memory-resident', mode, blocks, residentBytes }));
      peaks[mode].push([blocks, peakBytes / 2 ** 20]);
    }
  }
  if (plot) {
    writeFileSync(plot, linePlotSvg({
      title: 'Peak memory of one training step against depth',
      xLabel: 'GLOW blocks (conv subnets, [3, 32, 32], batch 16)',
      yLabel: 'peak memory (MiB, tf.profile)',
      xTicks: depths,
      series: [
        { label: "memory: 'store'", color: '#d62728', points: peaks.store },
        { label: "memory: 'invert'", color: '#1f77b4', points: peaks.invert },
      ],
    }));
  }
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
  if (!wanted(name)) continue;
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
