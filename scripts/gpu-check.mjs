#!/usr/bin/env node
// The device check: freia-ts on WebGPU, on whatever adapter this machine has.
//
//   npm run gpu-check [-- --runs N] [--warmup N] [--only NAME,...] [--compare BACKEND|none] [--skip-lane]
//
// 1. Prints the adapter ready() chose with FREIA_BACKEND=webgpu (Dawn's
//    Vulkan on a Linux machine with a GPU and its driver; OpenGL through
//    EGL only when there is no Vulkan adapter; Mesa's llvmpipe, a software
//    rasteriser, when there is no GPU at all).
// 2. Runs the WebGPU lane of npm test (vitest.webgpu.config.ts: the module
//    table, the seed networks, training, FrEIA parity, all against the cpu
//    backend or FrEIA's numbers) on that adapter. `--skip-lane` skips it
//    (it needs the dev dependencies).
// 3. Times the four benchmark workloads of `npm run bench` on WebGPU, then on
//    `--compare` (default wasm) for reference, one JSON line each: median
//    and minimum milliseconds of `--runs` runs (default 10) after `--warmup`
//    (default 2). Each run ends by reading its result back (await data()),
//    which waits for the GPU: a run is the whole step, not its submission.
//
// Exits non-zero when WebGPU cannot be had, the lane fails, or a workload
// throws. docs/performance.md ("GPU") says how to run it on a GPU machine.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    only: { type: 'string', multiple: true },
    compare: { type: 'string', default: 'wasm' },
    'skip-lane': { type: 'boolean', default: false },
  },
});
const runs = Math.max(1, Number(values.runs));
const warmup = Math.max(0, Number(values.warmup));
const only = new Set((values.only ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean));

const built = spawnSync(process.execPath, [path.join(root, 'scripts', 'ensure-build.mjs')], { cwd: root, stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);

process.env.FREIA_BACKEND ||= 'webgpu';
const dist = (file) => import(pathToFileURL(path.join(root, 'dist', file)).href);
const tf = await import('@tensorflow/tfjs');
const { inn, subnets, train, ready, useBackend, backendInfo, setGlobalSeed } = await dist('index.js');
const { makeMoons } = await dist('cli/datasets/moons.js');

await ready();
const info = backendInfo();
console.log(JSON.stringify({ check: 'adapter', backend: info.name, description: info.description, adapter: info.adapter ?? null, node: process.version, tfjs: tf.version.tfjs }));
if (info.name !== 'webgpu') {
  console.error(`gpu-check: FREIA_BACKEND=${process.env.FREIA_BACKEND} gave ${info.name}, not webgpu`);
  process.exit(1);
}
if (info.adapter?.software) console.log(JSON.stringify({ check: 'note', note: 'a software rasteriser, not a GPU: timings measure the CPU' }));

let failures = 0;
if (!values['skip-lane']) {
  const started = Date.now();
  const lane = spawnSync(path.join(root, 'node_modules', '.bin', 'vitest'), ['run', '--config', 'vitest.webgpu.config.ts'], { cwd: root, stdio: 'inherit', env: { ...process.env, FREIA_BACKEND: 'webgpu' } });
  console.log(JSON.stringify({ check: 'lane', ok: lane.status === 0, seconds: Number(((Date.now() - started) / 1000).toFixed(1)) }));
  if (lane.status !== 0) failures++;
}

/** One Adam step by maximum likelihood; resolves when its loss is back on the host. */
async function trainStep(flow, optimizer, x, c) {
  const loss = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => train.nll(flow, x, { c }), flow.trainableVariables);
    optimizer.applyGradients(grads);
    return value;
  });
  await loss.data();
  loss.dispose();
}

const moonsFlow = () => inn.input([2]).repeat(8, (c) => c.allInOne({ subnet: subnets.mlp({ hidden: 512 }), permuteSoft: true })).build();

// The workloads of `npm run bench` (src/cli/bench.ts), with every read awaited.
const workloads = [
  {
    name: 'moons-train-step',
    detail: '8 AllInOne blocks, mlp 512, permuteSoft on [2]; batch 100; forward + backward + Adam 1e-3',
    setup() {
      setGlobalSeed(0);
      const flow = moonsFlow();
      const optimizer = tf.train.adam(1e-3);
      const batch = tf.tensor2d(makeMoons(100, { noise: 0.05, seed: 1 }), [100, 2]);
      return { run: () => trainStep(flow, optimizer, batch), dispose: () => (batch.dispose(), optimizer.dispose(), flow.dispose()) };
    },
  },
  {
    name: 'mnist-cinn-train-step',
    detail: '12 AllInOne blocks on [784], one-hot condition [10], mlp 512; batch 64 uniform [0, 1); forward + backward + Adam 1e-4',
    setup() {
      setGlobalSeed(0);
      const flow = inn.input([784]).condition([10]).repeat(12, (c) => c.allInOne({ subnet: subnets.mlp({ hidden: 512 }), cond: 0 })).build();
      const optimizer = tf.train.adam(1e-4);
      const x = tf.randomUniform([64, 784], 0, 1, 'float32', 4);
      const c = tf.oneHot(tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 10), 'int32'), 10).toFloat();
      return { run: () => trainStep(flow, optimizer, x, c), dispose: () => (tf.dispose([x, c]), optimizer.dispose(), flow.dispose()) };
    },
  },
  {
    name: 'conv-inn-fwd-inv',
    detail: "FrEIA's convolutional tutorial INN on [3, 32, 32]; batch 16; forward (log-det) + inverse, no gradients",
    setup() {
      setGlobalSeed(0);
      const flow = inn.input([3, 32, 32])
        .repeat(4, (c, k) => c.glow({ subnet: subnets.conv({ hidden: 256, kernel: 3 }), clamp: 1.2 }).permuteRandom({ seed: k }))
        .irevnetDownsample()
        .repeat(12, (c, k) => c.glow({ subnet: subnets.conv({ hidden: 256, kernel: k % 2 ? 3 : 1 }), clamp: 1.2 }).permuteRandom({ seed: k }))
        .flatten()
        .split([768, 2304])
        .on(0, (s) => s.repeat(12, (c, k) => c.glow({ subnet: subnets.mlp({ hidden: 512 }), clamp: 2 }).permuteRandom({ seed: k })))
        .concat()
        .build();
      const images = tf.randomUniform([16, 3, 32, 32], 0, 1, 'float32', 3);
      const run = async () => {
        const [back, logDet] = tf.tidy(() => {
          const { out, logDet: ld } = flow.forward(images);
          return [flow.inverse(out, { jac: false }).out, ld];
        });
        await Promise.all([back.data(), logDet.data()]);
        tf.dispose([back, logDet]);
      };
      return { run, dispose: () => (images.dispose(), flow.dispose()) };
    },
  },
  {
    name: 'moons-sample-10k',
    detail: '10,000 standard-normal samples through the inverse of the moons INN',
    setup() {
      setGlobalSeed(0);
      const flow = moonsFlow();
      const z = tf.randomNormal([10_000, 2], 0, 1, 'float32', 2);
      const run = async () => {
        const x = tf.tidy(() => flow.inverse(z, { jac: false }).out);
        await x.data();
        x.dispose();
      };
      return { run, dispose: () => (z.dispose(), flow.dispose()) };
    },
  },
].filter((w) => only.size === 0 || only.has(w.name));

function stats(times) {
  const sorted = [...times].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { medianMs: Number(median.toFixed(2)), minMs: Number(sorted[0].toFixed(2)) };
}

const backends = ['webgpu', ...(values.compare && values.compare !== 'none' ? [values.compare] : [])];
for (const backend of backends) {
  try {
    await useBackend(backend);
  } catch (error) {
    console.log(JSON.stringify({ check: 'bench', backend, error: error instanceof Error ? error.message : String(error) }));
    failures++;
    continue;
  }
  const description = backendInfo().description;
  for (const workload of workloads) {
    try {
      const { run, dispose } = workload.setup();
      for (let i = 0; i < warmup; i++) await run();
      const times = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await run();
        times.push(performance.now() - t0);
      }
      dispose();
      console.log(JSON.stringify({ check: 'bench', name: workload.name, backend: description, runs, warmup, ...stats(times), detail: workload.detail }));
    } catch (error) {
      console.log(JSON.stringify({ check: 'bench', name: workload.name, backend: description, error: error instanceof Error ? error.message : String(error) }));
      failures++;
    }
  }
}
console.log(JSON.stringify({ check: 'done', failures }));
process.exit(failures ? 1 : 0);
