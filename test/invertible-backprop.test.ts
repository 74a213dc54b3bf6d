/**
 * Gradients by inversion (`memory: 'invert'`) against ordinary backprop
 * (`memory: 'store'`, tfjs's own tape): every row of the module table, the
 * seed's three networks, and graphs with splits, skips, conditions and
 * several outputs, on wasm and cpu. The truth is the plain path beside the
 * recomputing one: same flow, same weights, same batch.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inn, subnets, train, useBackend, setGlobalSeed, InvertibleModule, FreiaError, type AnyFlow, type ForwardOptions, type ModuleResult } from '../src/index.js';
import { moduleTable } from './cases/index.js';

let start = '';
beforeAll(() => {
  start = tf.getBackend();
});
afterAll(async () => {
  await useBackend(start);
});

/** Moves every trainable parameter to a random, non-trivial value (as the module table does). */
function randomize(flow: AnyFlow, scale = 0.3): void {
  for (const v of flow.trainableVariables) tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, scale))));
}

/**
 * A loss that reaches every output and the log-det with different weights,
 * so a wrong gradient in any of them shows. Each element has its own weight:
 * a plain sum of squares is invariant under orthogonal modules (Householder),
 * whose parameter gradients would then be rounding noise.
 */
function loss(flow: AnyFlow, x: tf.Tensor | tf.Tensor[], c: tf.Tensor[], memory: 'store' | 'invert'): tf.Scalar {
  return tf.tidy(() => {
    const { out, logDet } = flow.forward(x, { c, memory });
    const outs = Array.isArray(out) ? out : [out];
    const terms = outs.map((t, k) => {
      const weights = tf.reshape(tf.linspace(0.5 + k, 1.5 + k, t.size), t.shape);
      return tf.div(tf.sum(tf.add(tf.mul(tf.square(t), weights), tf.mul(t, tf.sub(weights, 1)))), t.shape[0]!);
    });
    return tf.sub(tf.addN(terms), tf.mul(tf.mean(logDet), 1.3)) as tf.Scalar;
  });
}

interface Gradients {
  readonly value: number;
  readonly variables: Float32Array[];
  readonly inputs: Float32Array[];
  readonly conditions: Float32Array[];
}

/** The loss's gradients with respect to every parameter, input and condition, read back. */
function gradients(flow: AnyFlow, x: tf.Tensor[], c: tf.Tensor[], memory: 'store' | 'invert'): Gradients {
  const variables = flow.trainableVariables;
  return tf.tidy(() => {
    const withParams = variables.length > 0 ? tf.variableGrads(() => loss(flow, x.length === 1 ? x[0] : x, c, memory), variables) : undefined;
    const data = [...x, ...c];
    // tf.grads insists that every argument reaches the loss; a mixture's weights reach only its component choice.
    const found = tf.engine().gradients(() => loss(flow, x.length === 1 ? x[0] : x, c, memory), data, undefined, true).grads as (tf.Tensor | undefined)[];
    const dataGrads = found.map((g, k) => g ?? tf.zerosLike(data[k]));
    return {
      value: withParams ? withParams.value.dataSync()[0] : 0,
      variables: variables.map((v) => withParams!.grads[v.name].dataSync() as Float32Array),
      inputs: dataGrads.slice(0, x.length).map((g) => g.dataSync() as Float32Array),
      conditions: dataGrads.slice(x.length).map((g) => g.dataSync() as Float32Array),
    };
  });
}

/** Largest |a − b| over max(|b|∞, 1e-3·…): one relative figure per gradient tensor. */
function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

/** Checks that inversion's gradients equal ordinary backprop's to `tolerance` relative, and that nothing leaks. */
function expectSameGradients(flow: AnyFlow, x: tf.Tensor[], c: tf.Tensor[], tolerance = 1e-4): void {
  const store = gradients(flow, x, c, 'store');
  const before = tf.memory().numTensors;
  const invert = gradients(flow, x, c, 'invert');
  expect(tf.memory().numTensors).toBe(before);
  expect(Math.abs(invert.value - store.value)).toBeLessThan(tolerance * Math.max(1, Math.abs(store.value)));
  const errors = [
    ...store.variables.map((g, k) => ({ what: flow.trainableVariables[k].name, error: relativeError(invert.variables[k], g) })),
    ...store.inputs.map((g, k) => ({ what: `input ${k}`, error: relativeError(invert.inputs[k], g) })),
    ...store.conditions.map((g, k) => ({ what: `condition ${k}`, error: relativeError(invert.conditions[k], g) })),
  ];
  expect(errors.filter((e) => !(e.error < tolerance))).toEqual([]);
  // A gradient of zero everywhere would pass the comparison trivially.
  expect(store.inputs.some((g) => g.some((v) => v !== 0))).toBe(true);
}

for (const backend of ['wasm', 'cpu']) {
  describe(`gradients by inversion equal ordinary backprop (${backend})`, () => {
    beforeAll(async () => {
      await useBackend(backend);
    });

    for (const testCase of moduleTable) {
      it(testCase.name, () => {
        setGlobalSeed(7);
        const flow = testCase.build();
        const batch = 3;
        const x = testCase.sample ? testCase.sample([batch, ...testCase.input]) : tf.randomNormal([batch, ...testCase.input]);
        const c = (testCase.conditions ?? []).map((s) => tf.randomNormal([batch, ...s]));
        tf.dispose(flow.forward(x, { c }) as unknown as tf.Tensor[]);
        randomize(flow);
        expectSameGradients(flow, [x], c);
        tf.dispose([x, ...c]);
        flow.dispose();
      });
    }
  });
}
