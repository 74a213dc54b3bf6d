/**
 * train.adam: the fused step (one kernel for every variable, on wasm and cpu)
 * and its plain path against tfjs's own AdamOptimizer, the independent truth,
 * over several steps of a real flow's gradients.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { inn, subnets, train, useBackend, setGlobalSeed, Adam } from '../src/index.js';
import { withFusion } from '../src/math/fusion.js';
import { ADAM_KERNEL, withSimd } from '../src/runtime/kernels-fused.js';
import { hostMemory } from '../src/runtime/host-memory.js';
import { simdLoops } from '../src/runtime/simd.js';

const start = tf.getBackend();
afterAll(async () => {
  await useBackend(start);
});

/** Five steps of `optimizer` on a small conditional flow; the weights after each step, and the kernels run in the last. */
function trainWith(optimizer: tf.Optimizer): { weights: Float32Array[][]; kernels: string[] } {
  setGlobalSeed(3);
  const flow = inn.input([6]).condition([2]).allInOne({ subnet: subnets.mlp({ hidden: 16 }), cond: 0 }).glow({ subnet: subnets.mlp({ hidden: 8 }) }).build();
  const x = tf.tensor2d(Array.from({ length: 40 * 6 }, (_, i) => Math.sin(0.3 * i)), [40, 6]);
  const c = tf.tensor2d(Array.from({ length: 40 * 2 }, (_, i) => Math.cos(0.7 * i)), [40, 2]);
  const weights: Float32Array[][] = [];
  let kernels: string[] = [];
  for (let step = 0; step < 5; step++) {
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => train.nll(flow, x, { c }), flow.trainableVariables);
      // Record which kernels the step runs (the fused path is one call).
      const spy = vi.spyOn(tf.engine(), 'runKernel');
      try {
        optimizer.applyGradients(grads);
        kernels = spy.mock.calls.map(([name]) => name);
      } finally {
        spy.mockRestore();
      }
    });
    weights.push(flow.trainableVariables.map((v) => v.dataSync() as Float32Array));
  }
  tf.dispose([x, c]);
  flow.dispose();
  optimizer.dispose();
  return { weights, kernels };
}

function expectClose(actual: Float32Array[][], expected: Float32Array[][]): void {
  actual.forEach((step, s) =>
    step.forEach((w, k) => w.forEach((v, i) => expect(Math.abs(v - expected[s][k][i])).toBeLessThan(2e-6 * Math.max(1, Math.abs(expected[s][k][i]))))),
  );
}

describe('train.adam', () => {
  for (const backend of ['wasm', 'cpu']) {
    it(`on ${backend}: the fused step (one kernel) and the plain step match tfjs's Adam over five steps`, async () => {
      await useBackend(backend);
      expect(tf.getKernel(ADAM_KERNEL, backend)).toBeDefined();
      const truth = trainWith(tf.train.adam(1e-2)).weights;
      const fused = trainWith(train.adam(1e-2));
      const plain = withFusion(false, () => trainWith(train.adam(1e-2)));
      expect(fused.kernels).toEqual([ADAM_KERNEL]);
      expect(plain.kernels).not.toContain(ADAM_KERNEL);
      expect(plain.kernels.length).toBeGreaterThan(20);
      // the weights move (a step that did nothing would match too)
      expect(Math.abs(truth[4][0][0] - truth[0][0][0])).toBeGreaterThan(1e-3);
      expectClose(fused.weights, truth);
      expectClose(plain.weights, truth);
      const wasm = hostMemory(backend, tf.backend()).wasm;
      expect(wasm === undefined ? null : simdLoops(wasm.memory)).toSatisfy((loops) => (backend === 'wasm') === (loops !== null));
      // on wasm the fused step runs our SIMD loop (four parameters at a time, the rest in JavaScript); here without it
      const javascript = withSimd(false, () => trainWith(train.adam(1e-2)));
      expectClose(javascript.weights, truth);
      // variables of every size modulo 4, so the SIMD loop and its JavaScript tail both run
      expect(new Set(fused.weights[0].map((w) => w.length % 4)).size).toBeGreaterThan(1);
    });
  }

  it('leaks nothing, and its state round-trips through getWeights/setWeights in tfjs\'s layout', async () => {
    await useBackend(start);
    const v = tf.variable(tf.tensor1d([1, 2, 3]), true, 'adam-test-v');
    const optimizer = train.adam(0.1);
    const grad = tf.tensor1d([0.5, -1, 2]);
    optimizer.applyGradients({ [v.name]: grad });
    const tensors = tf.memory().numTensors;
    optimizer.applyGradients({ [v.name]: grad });
    expect(tf.memory().numTensors).toBe(tensors);
    const saved = await optimizer.getWeights();
    expect(saved.map((w) => w.name)).toEqual(['iter', 'adam-test-v/m', 'adam-test-v/v']);
    const copy = new Adam(0.1);
    await copy.setWeights(saved);
    const w1 = v.clone();
    optimizer.applyGradients({ [v.name]: grad });
    const afterOriginal = v.dataSync().slice();
    v.assign(w1);
    copy.applyGradients({ [v.name]: grad });
    expect(Array.from(v.dataSync())).toEqual(Array.from(afterOriginal));
    tf.dispose([v, grad, w1, ...saved.map((w) => w.tensor)]);
    optimizer.dispose();
    copy.dispose();
  });
});
