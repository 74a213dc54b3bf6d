/**
 * Design here, train there: the training script `exportFreiaTraining`
 * writes. Always: its structure (DDP, torchrun's environment, the sampler,
 * the loss, the checkpoint) and, where a Python runs, its syntax. Where
 * FrEIA and torch are available: a two-process `torchrun` run on CPUs
 * (gloo) trains an exported flow for 20 steps, and its checkpoint comes
 * back through `importFreia` and `verifyFreia`. Where that cannot run, the
 * test says so in its title and on stderr, and fails instead when
 * FREIA_REQUIRE_ROUNDTRIP=1.
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportFreia, exportFreiaTraining, FreiaError, importFreia, inn, setGlobalSeed, subnets, train, verifyFreia, type AnyFlow, type FreiaDocument } from '../src/index.js';
import { freiaSetup, itIsValidPython, runs } from './helpers/freia-python.js';

const dir = mkdtempSync(path.join(tmpdir(), 'freia-scale-out-'));
// FREIA_EXPORT_KEEP=1 keeps the script, the data and the checkpoint (for a look in Python).
afterAll(() => (process.env.FREIA_EXPORT_KEEP ? console.log(`scale-out.test: files kept in ${dir}`) : rmSync(dir, { recursive: true, force: true })));
const root = path.resolve(import.meta.dirname, '..');

/** A conditional chain on 2-D points: ActNorm (left uninitialised: FrEIA initialises it from the data), 4 AllInOne blocks. */
function moonsFlow(): AnyFlow {
  return inn.input([2]).condition([1])
    .actNorm({ name: 'norm' })
    .repeat(4, (c, k) => c.allInOne({ subnet: subnets.mlp({ hidden: 32 }), cond: 0, permuteSoft: true, name: `block${k}` }))
    .build();
}

/** Two half circles (c = ±1 says which), with a little noise: `n` rows of x [n, 2] and c [n, 1]. */
function moons(n: number, seed: number): { x: number[][]; c: number[][] } {
  const u = tf.tidy(() => tf.randomUniform([n], 0, Math.PI, 'float32', seed).arraySync() as number[]);
  const noise = tf.tidy(() => tf.randomNormal([n, 2], 0, 0.05, 'float32', seed + 1).arraySync() as number[][]);
  const x = u.map((t, i) => (i % 2 === 0 ? [Math.cos(t), Math.sin(t)] : [1 - Math.cos(t), 0.5 - Math.sin(t)]).map((v, j) => v + noise[i][j]));
  return { x, c: u.map((_, i) => [i % 2 === 0 ? 1 : -1]) };
}

describe('exportFreiaTraining: the script', () => {
  it('runs DDP under torchrun: the process group from the environment, a DistributedSampler per epoch, Adam, rank 0 checkpoints', () => {
    const flow = moonsFlow();
    const py = exportFreiaTraining(flow, { name: 'moons', model: 'moons.py' });
    expect(py).toContain('MODEL_FILE = "moons.py"');
    expect(py).toMatch(/INPUTS = \[\["\w+", \[2\]\]\]/);
    expect(py).toMatch(/CONDITIONS = \[\["\w+", \[1\]\]\]/);
    expect(py).toContain('OUTPUT_DIMS = 2');
    expect(py).toContain('dist.init_process_group(backend)');
    expect(py).toContain('("nccl" if cuda else "gloo")');
    expect(py).toContain('DistributedDataParallel(inn,');
    expect(py).toContain('DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True');
    expect(py).toContain('sampler.set_epoch(epoch)');
    expect(py).toContain('torch.optim.Adam(');
    expect(py).toContain('torch.nn.utils.clip_grad_norm_(');
    expect(py).toContain('0.5 * squares + 0.5 * OUTPUT_DIMS * math.log(2 * math.pi) - log_jac_det.reshape(-1)');
    // the checkpoint is the network inside DDP (no "module." prefix), written by rank 0 only
    expect(py).toContain('exporter.export(inn, tmp,');
    expect(py).toMatch(/if rank == 0:\n\s+after = recorded_nll\(\)\n\s+checkpoint\(step\)/);
    for (const flag of ['--data', '--model', '--exporter', '--out', '--epochs', '--steps', '--batch-size', '--lr', '--clip-norm', '--record', '--checkpoint-every', '--backend']) {
      expect(py).toContain(`p.add_argument("${flag}"`);
    }
    flow.dispose();
  });

  it('sums the sizes of every output into D; refuses a model path with a folder', () => {
    const g = inn.graph();
    const [a, b] = g.split(g.input([3, 4, 4]), [1, 2]);
    const flow = g.build({ outputs: [a, b] });
    expect(exportFreiaTraining(flow)).toContain('OUTPUT_DIMS = 48');
    expect(() => exportFreiaTraining(flow, { model: 'models/moons.py' })).toThrow(FreiaError);
    expect(() => exportFreiaTraining(flow, { model: 'models/moons.py' })).toThrow('expected a file name ending in .py (no folder), got "models/moons.py"');
    flow.dispose();
  });

  itIsValidPython('the training script', () => {
    const flow = moonsFlow();
    const file = path.join(dir, 'train_syntax.py');
    writeFileSync(file, exportFreiaTraining(flow));
    flow.dispose();
    return [file];
  });
});

const setup = freiaSetup('torch, torch.distributed, numpy');

describe('exportFreiaTraining: two processes under torchrun (gloo, CPU), and back', () => {
  if (!setup.python) {
    it(`NOT RUN: ${setup.reason}`, () => {
      console.warn(`scale-out.test: the torchrun run did not run: ${setup.reason}`);
      if (process.env.FREIA_REQUIRE_ROUNDTRIP === '1') throw new Error(`FREIA_REQUIRE_ROUNDTRIP=1, but the torchrun run cannot run: ${setup.reason}`);
    });
    return;
  }

  it('trains 20 steps with DistributedDataParallel; the checkpoint imports, verifies to 1e-5 and has the loss the script printed', () => {
    setGlobalSeed(21);
    const flow = moonsFlow();
    writeFileSync(path.join(dir, 'moons.py'), exportFreia(flow, { name: 'moons' }));
    writeFileSync(path.join(dir, 'train.py'), exportFreiaTraining(flow, { name: 'moons', model: 'moons.py' }));
    copyFileSync(path.join(root, 'python', 'freia_export.py'), path.join(dir, 'freia_export.py'));
    const data = moons(1024, 5);
    writeFileSync(path.join(dir, 'moons.json'), JSON.stringify(data));
    const out = path.join(dir, 'moons-trained.json');

    // torchrun is torch.distributed.run's console script: the one beside the Python, or the module itself.
    const torchrun = path.join(path.dirname(setup.python!), 'torchrun');
    const launcher = existsSync(torchrun) ? [torchrun] : [setup.python!, '-m', 'torch.distributed.run'];
    // torch 1.13 under Python 3.11 reads torchrun's default --redirects/--tee "0" as None and fails (Python 3.11's enum
    // leaves Std.NONE out of iteration): a mapping for a local rank that does not exist means "none" for every rank.
    const broken = runs(setup.python!, ['-c', 'from torch.distributed.elastic.multiprocessing.api import Std; assert Std.from_str("0") is None']).status === 0;
    const args = [...(broken ? ['--redirects', '9:3', '--tee', '9:3'] : []), '--standalone', '--nproc_per_node', '2', path.join(dir, 'train.py'), '--data', path.join(dir, 'moons.json'), '--steps', '20',
      '--batch-size', '64', '--lr', '3e-3', '--clip-norm', '5', '--record', '16', '--log-every', '5', '--out', out, '--cpu'];
    const started = Date.now();
    const result = spawnSync(launcher[0], [...launcher.slice(1), ...args], {
      encoding: 'utf8', cwd: dir, timeout: 300_000, killSignal: 'SIGKILL',
      env: { ...process.env, OMP_NUM_THREADS: '1', PYTHONPATH: [setup.src, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter) },
    });
    const seconds = (Date.now() - started) / 1000;
    expect(result.error, `torchrun did not finish: ${result.error?.message}\n${result.stdout}\n${result.stderr}`).toBeUndefined();
    expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
    const stdout = result.stdout;

    // both ranks ran, on CPUs, with gloo; each took half the rows
    expect(stdout).toMatch(/rank 0\/2: 512 of 1024 rows, 8 batches of 64 per epoch, cpu, backend gloo/);
    expect(stdout).toMatch(/rank 1\/2: 512 of 1024 rows, 8 batches of 64 per epoch, cpu, backend gloo/);
    const done = /done: 20 steps, 3 epochs, 2 processes, [\d.]+s of training; loss first (\S+) last (\S+); wrote/.exec(stdout);
    const recorded = /recorded rows \(16\): nll before (\S+) after (\S+)/.exec(stdout);
    expect(done, stdout).not.toBeNull();
    expect(recorded, stdout).not.toBeNull();
    const [first, last] = [Number(done![1]), Number(done![2])];
    const [before, after] = [Number(recorded![1]), Number(recorded![2])];

    // the checkpoint: FrEIA's recorded evaluations hold here
    const doc = JSON.parse(readFileSync(out, 'utf8')) as FreiaDocument;
    expect(doc.name).toBe('moons');
    expect(doc.notes).toEqual(['trained by freia-ts\'s train.py: 20 steps, 2 processes, DistributedDataParallel (gloo)']);
    expect(Object.keys(doc.params).every((key) => !key.startsWith('module.'))).toBe(true);
    const report = verifyFreia(doc);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    const verifyError = Math.max(report.outputs.error / Math.max(1, report.outputs.scale), report.logDet.error / Math.max(1, report.logDet.scale), report.inputs.error / Math.max(1, report.inputs.scale));
    expect(verifyError).toBeLessThan(1e-5);

    // the script's loss is train.nll: the checkpoint's NLL on the recorded rows, here, is what the script printed
    const trained = importFreia(doc);
    const rows = { x: tf.tensor2d(data.x.slice(0, 16)), c: tf.tensor2d(data.c.slice(0, 16)) };
    const nllHere = tf.tidy(() => train.nll(trained, rows.x, { c: [rows.c] }).dataSync()[0]);
    expect(Math.abs(nllHere - after)).toBeLessThan(1e-4);

    // it trained: the loss went down and the weights moved from the exported ones
    expect(after).toBeLessThan(before);
    expect(last).toBeLessThan(first);
    const moved = tf.tidy(() => {
      const ours = flow.forward(rows.x, { c: [rows.c] }).out as tf.Tensor;
      const theirs = trained.forward(rows.x, { c: [rows.c] }).out as tf.Tensor;
      return tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0];
    });
    expect(moved).toBeGreaterThan(1e-3);
    console.log(`scale-out torchrun: 2 processes (gloo, CPU), 20 steps in ${seconds.toFixed(1)}s; batch loss ${first.toFixed(4)} → ${last.toFixed(4)}; `
      + `NLL on the 16 recorded rows ${before.toFixed(4)} → ${after.toFixed(4)} (here: ${nllHere.toFixed(4)}); verify error ${verifyError.toExponential(2)}`);
    tf.dispose([rows.x, rows.c]);
    trained.dispose();
    flow.dispose();
  }, 360_000);
});
