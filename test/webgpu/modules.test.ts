/**
 * The module table (test/cases) on WebGPU, against the cpu backend: each
 * row's flow is built, initialised and perturbed on cpu, which computes the
 * truth (outputs, log-dets, inverse, the gradients of a training-like loss);
 * then the same flow runs on WebGPU (its weights move there), which must
 * agree, invert its own forward pass, and leak nothing.
 *
 * Tolerances, relative to max(1, max |truth|): outputs and inverses 1e-4 as
 * in the cpu lane's round trip; log-dets 1e-3 as the cpu lane's log-det
 * check; gradients 1e-3: WebGPU sums in another order (tiled matMul and
 * reductions) and its exp/log/atan are the GPU's, so float32 results differ
 * from the cpu's in the last digits, which a backward pass through a subnet
 * amplifies.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { setGlobalSeed, type AnyFlow } from '../../src/index.js';
import { moduleTable } from '../cases/index.js';
import { expectClose, onCpu, read } from './helpers.js';

/** Moves every trainable parameter to a random, non-trivial value (as the cpu lane's table does). */
function randomize(flow: AnyFlow, scale = 0.3): void {
  for (const v of flow.trainableVariables) tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, scale))));
}

/** Everything the table compares, read back as arrays. */
async function results(flow: AnyFlow, x: tf.Tensor, c: tf.Tensor[]) {
  const fwd = flow.forward(x, { c });
  const inv = flow.inverse(fwd.out, { c });
  const variables = flow.trainableVariables;
  const grads = variables.length === 0 ? [] : tf.tidy(() => {
    const { grads: g } = tf.variableGrads(() => {
      const { out, logDet } = flow.forward(x, { c });
      const outs = Array.isArray(out) ? out : [out];
      return tf.sub(tf.addN(outs.map((t) => tf.sum(tf.square(t)))), tf.sum(logDet)) as tf.Scalar;
    }, variables);
    return variables.map((v) => g[v.name]);
  });
  const outs = Array.isArray(fwd.out) ? fwd.out : [fwd.out];
  const read_ = { out: await read(outs), logDet: await read(fwd.logDet), back: await read(inv.out), backLogDet: await read(inv.logDet), grads: await read(grads) };
  tf.dispose([outs, fwd.logDet, inv.out, inv.logDet, grads] as tf.TensorContainer);
  return read_;
}

describe('every module (table) on WebGPU, against cpu', () => {
  for (const testCase of moduleTable) {
    it(testCase.name, async () => {
      const { flow, x, c, truth } = await onCpu(async () => {
        setGlobalSeed(7);
        const flow = testCase.build();
        const batch = 3;
        const x = testCase.sample ? testCase.sample([batch, ...testCase.input]) : tf.randomNormal([batch, ...testCase.input]);
        const c = (testCase.conditions ?? []).map((s) => tf.randomNormal([batch, ...s]));
        tf.dispose(flow.forward(x, { c }) as unknown as tf.Tensor[]); // data-dependent init (ActNorm) before perturbing
        randomize(flow, testCase.perturbation);
        return { flow, x, c, truth: await results(flow, x, c) };
      });
      expect(tf.getBackend()).toBe('webgpu');
      const before = tf.memory().numTensors;
      const ours = await results(flow, x, c);
      expect(tf.memory().numTensors).toBe(before);

      if (!testCase.drawsNoise) expectClose(ours.out, truth.out, 1e-4, 'outputs');
      expectClose(ours.logDet, truth.logDet, 1e-3, 'log-det');
      expectClose(ours.back, await read(x), 1e-4, 'inverse(forward(x)) against x');
      expectClose(ours.backLogDet, truth.backLogDet, 1e-3, 'inverse log-det');
      if (!testCase.drawsNoise) expectClose(ours.grads, truth.grads, 1e-3, 'gradients');
      tf.dispose([x, ...c]);
      flow.dispose();
    });
  }
});
