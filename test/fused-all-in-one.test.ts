/**
 * AllInOneBlock's fused kernel and its hand-written gradient
 * (src/runtime/kernels-fused.ts) against the plain tfjs path of the same
 * module (src/modules/all-in-one.ts, which the module table and the FrEIA
 * parity fixtures check): outputs, log-dets, and gradients with respect to
 * every parameter, the input and the conditions, on wasm and cpu.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { inn, subnets, train, useBackend, setGlobalSeed, type AllInOneOptions, type AnyFlow } from '../src/index.js';
import { withFusion } from '../src/math/fusion.js';
import { ALL_IN_ONE_GRAD_KERNEL, ALL_IN_ONE_KERNEL } from '../src/modules/fused-kernels.js';
import { withSimd } from '../src/runtime/kernels-fused.js';

const start = tf.getBackend();
afterAll(async () => {
  await useBackend(start);
});

interface Case {
  readonly name: string;
  readonly shape: number[];
  readonly cond?: number[];
  readonly options: Omit<AllInOneOptions, 'subnet'>;
  readonly layers: number;
}

const cases: Case[] = [
  { name: 'soft rotation on [2] (the moons INN)', shape: [2], options: { permuteSoft: true }, layers: 2 },
  { name: 'hard permutation, odd channels, a condition', shape: [5], cond: [3], options: {}, layers: 2 },
  { name: 'SIGMOID scale, three layers, a condition', shape: [6], cond: [2], options: { permuteSoft: true, globalAffineType: 'SIGMOID' }, layers: 3 },
  { name: 'EXP scale on an image (pixels flattened), one layer', shape: [3, 2, 2], options: { globalAffineType: 'EXP', clamp: 1.5 }, layers: 1 },
  { name: 'a wide rotation (through the product kernel)', shape: [20], options: { permuteSoft: true, globalAffineInit: 0.7 }, layers: 2 },
  { name: 'eight active channels (on wasm the SIMD coupling loop), a condition', shape: [17], cond: [4], options: { clamp: 1.1 }, layers: 2 },
];

function build(c: Case): AnyFlow {
  setGlobalSeed(11);
  const subnet = subnets.mlp({ hidden: 12, layers: c.layers });
  // Two blocks, so that a block's input gradient flows into the one before.
  if (c.cond) {
    const opts = { ...c.options, subnet, cond: 0 as const };
    return inn.input(c.shape).condition(c.cond).allInOne(opts).allInOne(opts).build();
  }
  const opts = { ...c.options, subnet };
  return inn.input(c.shape).allInOne(opts).allInOne(opts).build();
}

/** Loss, per-sample log-det, output, and the gradients of a weighted loss with respect to x, c and every parameter. */
function evaluate(flow: AnyFlow, c: Case): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.tensor(Array.from({ length: 6 * c.shape.reduce((a, b) => a * b) }, (_, i) => Math.sin(0.9 * i) * 1.3), [6, ...c.shape]);
    const cond = c.cond ? tf.tensor(Array.from({ length: 6 * c.cond[0] }, (_, i) => Math.cos(0.4 * i)), [6, ...c.cond]) : undefined;
    const { out, logDet } = flow.forward(x, { c: cond });
    const f = (xv: tf.Tensor, cv?: tf.Tensor) => {
      const r = flow.forward(xv, { c: cv });
      // weights that differ per element, so every gradient entry matters
      const w = tf.tensor(Array.from({ length: (r.out as tf.Tensor).size }, (_, i) => 0.5 + Math.cos(i)), (r.out as tf.Tensor).shape);
      return tf.add(tf.sum(tf.mul(r.out as tf.Tensor, w)), tf.sum(tf.mul(r.logDet, tf.range(1, 7))));
    };
    const inputGrads = cond ? tf.grads((xv: tf.Tensor, cv: tf.Tensor) => f(xv, cv))([x, cond]) : [tf.grad((xv: tf.Tensor) => f(xv))(x)];
    const { value, grads } = tf.variableGrads(() => train.nll(flow, x, { c: cond }), flow.trainableVariables);
    return [out as tf.Tensor, logDet, value, ...inputGrads, ...Object.values(grads)].map((t) => t.dataSync() as Float32Array);
  });
}

describe('fused AllInOneBlock', () => {
  for (const backend of ['wasm', 'cpu']) {
    for (const c of cases) {
      it(`${backend}, ${c.name}: the fused kernel matches the plain path in values and gradients`, async () => {
        await useBackend(backend);
        const flow = build(c);
        const spy = vi.spyOn(tf.engine(), 'runKernel');
        const fused = evaluate(flow, c);
        const names = spy.mock.calls.map(([name]) => name);
        spy.mockClear();
        const plain = withFusion(false, () => evaluate(flow, c));
        const plainNames = spy.mock.calls.map(([name]) => name);
        spy.mockRestore();
        expect(names).toContain(ALL_IN_ONE_KERNEL);
        expect(names).toContain(ALL_IN_ONE_GRAD_KERNEL);
        expect(plainNames).not.toContain(ALL_IN_ONE_KERNEL);
        // on wasm the gradient's ReLU masks and narrow weight gradients run our SIMD loops; also without them
        const javascript = withSimd(false, () => evaluate(flow, c));
        for (const result of [fused, javascript]) {
          expect(result).toHaveLength(plain.length);
          result.forEach((t, k) => {
            expect(t.length).toBe(plain[k].length);
            t.forEach((v, i) => expect(Math.abs(v - plain[k][i])).toBeLessThan(2e-5 * Math.max(1, Math.abs(plain[k][i]))));
          });
        }
        // the gradients are not all zero (a broken backward could match a broken plain path only by luck)
        expect(fused.slice(3).some((g) => g.some((v) => Math.abs(v) > 1e-3))).toBe(true);
        flow.dispose();
      });
    }
  }

  it('the inverse stays the plain path and inverts the fused forward; nothing leaks', async () => {
    await useBackend(start);
    const c = cases[1];
    const flow = build(c);
    const x = tf.randomNormal([4, ...c.shape], 0, 1, 'float32', 5);
    const cond = tf.randomNormal([4, ...c.cond!], 0, 1, 'float32', 6);
    const before = tf.memory().numTensors;
    const back = tf.tidy(() => flow.inverse(flow.forward(x, { c: cond }).out, { c: cond }).out as tf.Tensor);
    expect(tf.memory().numTensors).toBe(before + 1);
    const err = tf.tidy(() => tf.max(tf.abs(tf.sub(back, x))).dataSync()[0]);
    expect(err).toBeLessThan(1e-5);
    tf.dispose([x, cond, back]);
    flow.dispose();
  });
});
