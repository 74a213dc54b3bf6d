/**
 * The async forms that WebGPU in Node needs give what the synchronous ones
 * give, on the backend the tests run on (fitAsync and fit, verifyFreiaAsync
 * and verifyFreia, the numerical log-det); and the reads that became
 * conditional still happen where the backend can read synchronously (a
 * loaded ActNorm reads its buffer; the mixture checks its index condition).
 * test/webgpu runs the same paths on WebGPU.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  canReadSync, inn, loadFlow, logJacobianNumerical, logJacobianNumericalAsync, memoryHandler, saveFlow, setGlobalSeed, subnets, train,
  verifyFreia, verifyFreiaAsync, ActNorm,
} from '../src/index.js';
import { readFixture } from './helpers/fixtures.js';

describe('async forms', () => {
  it('this backend reads synchronously', () => {
    expect(canReadSync()).toBe(true);
  });

  it('fitAsync gives the losses fit gives, reports every step in order, and leaks nothing', async () => {
    const build = () => {
      setGlobalSeed(3);
      return inn.input([2]).actNorm().allInOne({ subnet: subnets.mlp({ hidden: 16 }), permuteSoft: true }).build();
    };
    const options = (steps: number[]) => ({
      steps: 12, learningRate: 1e-2, progress: false as const, onStep: (step: number) => steps.push(step),
      data: (step: number) => ({ x: tf.randomNormal([32, 2], 0, 1, 'float32', step + 1) }),
    });
    const a = build();
    const syncSteps: number[] = [];
    const losses = train.fit(a, options(syncSteps)).loss;
    const b = build();
    const before = tf.memory().numTensors;
    const asyncSteps: number[] = [];
    const asyncLosses = (await train.fitAsync(b, options(asyncSteps))).loss;
    expect(tf.memory().numTensors).toBe(before);
    expect(asyncLosses).toEqual(losses);
    expect(asyncSteps).toEqual(syncSteps);
    expect(asyncSteps).toEqual(Array.from({ length: 12 }, (_, i) => i));
    a.dispose();
    b.dispose();
  });

  it('fitAsync stops at the first failing step and frees what it holds', async () => {
    const flow = inn.input([2]).glow({ subnet: subnets.mlp({ hidden: 8 }) }).build();
    const before = tf.memory().numTensors;
    const data = (step: number) => {
      if (step === 3) throw new Error('no batch 3');
      return { x: tf.randomNormal([8, 2]) };
    };
    await expect(train.fitAsync(flow, { steps: 6, data, progress: false })).rejects.toThrow('no batch 3');
    expect(tf.memory().numTensors).toBe(before);
    flow.dispose();
  });

  it('verifyFreiaAsync reports what verifyFreia reports', async () => {
    for (const name of ['glow_conv', 'actnorm', 'elementwise_rq_spline']) {
      const doc = readFixture(name);
      expect(await verifyFreiaAsync(doc)).toEqual(verifyFreia(doc));
    }
  });

  it('logJacobianNumericalAsync gives what logJacobianNumerical gives', async () => {
    setGlobalSeed(5);
    const flow = inn.input([3]).glow({ subnet: subnets.mlp({ hidden: 8 }) }).build();
    const x = tf.randomNormal([4, 3], 0, 1, 'float32', 1);
    expect(await logJacobianNumericalAsync(flow, x)).toEqual(logJacobianNumerical(flow, x));
    x.dispose();
    flow.dispose();
  });

  it('a loaded ActNorm reads its buffer: initialised weights stay, uninitialised ones initialise from the next batch', async () => {
    const initialised = inn.input([2]).actNorm().build();
    const batch = tf.add(tf.mul(tf.randomNormal([20, 2], 0, 1, 'float32', 2), 3), 1);
    tf.dispose(initialised.forward(batch) as unknown as tf.Tensor[]);
    const store = memoryHandler();
    await saveFlow(initialised, store);
    const loaded = await loadFlow(store);
    const norm = loaded.modules.find((m) => m instanceof ActNorm) as ActNorm;
    expect(norm.isInitialized).toBe(true);
    const other = tf.randomNormal([20, 2], 0, 1, 'float32', 4);
    const [a, b] = [initialised, loaded].map((f) => f.forward(other).out as tf.Tensor);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    // Assigning the buffer from outside is seen too.
    norm.params.get('is_initialized')!.assign(tf.scalar(0, 'bool'));
    expect(norm.isInitialized).toBe(false);
    tf.dispose([batch, other, a, b]);
    initialised.dispose();
    loaded.dispose();
  });

  it('the mixture still checks its index condition where the backend reads synchronously', () => {
    const flow = inn.input([2]).condition([2]).condition([2, 2]).condition([2, 3]).condition([1]).gaussianMixture({ cond: [0, 1, 2, 3] }).build();
    const c = [tf.tensor2d([[0.5, 0.5]]), tf.zeros([1, 2, 2]), tf.zeros([1, 2, 3]), tf.tensor2d([[2]])];
    const x = tf.zeros([1, 2]);
    expect(() => flow.forward(x, { c })).toThrow('component index 2 is not in 0..1');
    tf.dispose([x, ...c]);
    flow.dispose();
  });
});
