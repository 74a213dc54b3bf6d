/**
 * The one table every module joins: random non-trivial parameters, then
 * output shapes, inverse(forward(x)) = x, forward log-det = −inverse log-det,
 * log-det = log|det J| by autodiff, and no leaked tensors.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { setGlobalSeed, type AnyFlow } from '../src/index.js';
import { autodiffLogDet, maxAbsDiff } from './helpers/jacobian.js';
import { moduleTable as cases } from './cases/index.js';

/** Moves every trainable parameter (subnet last layers included) to a random, non-trivial value. */
function randomize(flow: AnyFlow, scale = 0.3): void {
  for (const v of flow.trainableVariables) {
    tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, scale))));
  }
}

describe('every module (table)', () => {
  for (const testCase of cases) {
    it(testCase.name, () => {
      setGlobalSeed(7);
      const flow = testCase.build();
      const batch = 3;
      const x = testCase.sample ? testCase.sample([batch, ...testCase.input]) : tf.randomNormal([batch, ...testCase.input]);
      const c = (testCase.conditions ?? []).map((s) => tf.randomNormal([batch, ...s]));
      tf.dispose(flow.forward(x, { c }) as unknown as tf.Tensor[]); // data-dependent init (ActNorm) before perturbing
      randomize(flow, testCase.perturbation);

      const before = tf.memory().numTensors;
      const fwd = flow.forward(x, { c });
      const outs = Array.isArray(fwd.out) ? fwd.out : [fwd.out];
      expect(outs.map((t) => t.shape.slice(1))).toEqual(testCase.outputs);
      const inv = flow.inverse(fwd.out, { c });
      expect(maxAbsDiff(inv.out as tf.Tensor, x)).toBeLessThan(1e-4);
      expect(tf.tidy(() => maxAbsDiff(inv.logDet, tf.neg(fwd.logDet)))).toBeLessThan(1e-4);
      tf.dispose([outs, inv.out, fwd.logDet, inv.logDet] as tf.TensorContainer);
      expect(tf.memory().numTensors).toBe(before);

      const logDet = flow.forward(x, { c }).logDet;
      const truth = autodiffLogDet(flow, x, c);
      const ours = Array.from(logDet.dataSync());
      const tolerance = testCase.logDetTolerance ?? 1e-3;
      ours.forEach((v, b) => expect(Math.abs(v - truth[b])).toBeLessThan(tolerance * Math.max(1, Math.abs(truth[b]))));

      // Every trainable parameter must receive a finite, not identically zero gradient of a
      // training-like loss (catches kernels or masks that silently cut the gradient).
      const variables = flow.trainableVariables;
      if (variables.length > 0) {
        const names = tf.tidy(() => {
          const { grads } = tf.variableGrads(() => {
            const { out, logDet: ld } = flow.forward(x, { c });
            const outs = Array.isArray(out) ? out : [out];
            return tf.sub(tf.addN(outs.map((t) => tf.sum(tf.square(t)))), tf.sum(ld)) as tf.Scalar;
          }, variables);
          return variables.map((v) => {
            const g = grads[v.name];
            const values = g ? g.dataSync() : new Float32Array();
            return { name: v.name, ok: g !== undefined && values.every(Number.isFinite) && values.some((value) => value !== 0) };
          });
        });
        expect(names.filter((n) => !n.ok).map((n) => n.name)).toEqual([]);
      }
      tf.dispose([x, logDet, ...c]);
      flow.dispose();
    });
  }
});
