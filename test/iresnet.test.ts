/**
 * IResNetLayer beyond the module table: FrEIA's stochastic log-det estimate
 * against the exact value, its reverse-at-z convention, gradients through
 * both log-dets (ELU included, on whatever backend runs the tests), the two
 * spectral-normalisation modes, and the imported FrEIA model in exact mode.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { readFixture } from './helpers/fixtures.js';
import { IResNetLayer, ShapeMismatchError, defineModule, importFreia, inn, lipschitzCorrection, setGlobalSeed, type AnyFlow } from '../src/index.js';
import { autodiffLogDet, maxAbsDiff } from './helpers/jacobian.js';

function layerOf(flow: AnyFlow): IResNetLayer {
  const layer = flow.modules.find((m) => m instanceof IResNetLayer);
  if (!(layer instanceof IResNetLayer)) throw new Error('no IResNetLayer in the flow');
  return layer;
}

function copyWeights(from: AnyFlow, to: AnyFlow): void {
  for (const [name, v] of layerOf(from).params) layerOf(to).params.get(name)!.assign(v);
}

function scaleWeights(flow: AnyFlow, factor: number): void {
  for (const [name, v] of layerOf(flow).params) if (name.endsWith('weight')) tf.tidy(() => v.assign(tf.mul(v, factor)));
}

/** The spectral norm of a Linear weight stored `[in, out]`, by float64 power iteration to convergence. */
function spectralNorm(weight: tf.Tensor): number {
  const [n, m] = weight.shape;
  const w = Array.from(weight.dataSync());
  let v = Array.from({ length: n }, (_, i) => 1 + 0.1 * i);
  let sigma = 0;
  for (let step = 0; step < 2000; step++) {
    const u = Array.from({ length: m }, (_, j) => v.reduce((s, vi, i) => s + vi * w[i * m + j], 0));
    const back = Array.from({ length: n }, (_, i) => u.reduce((s, uj, j) => s + uj * w[i * m + j], 0));
    const norm = Math.hypot(...back);
    sigma = Math.sqrt(norm / Math.hypot(...v));
    v = back.map((b) => b / norm);
  }
  return sigma;
}

describe('IResNetLayer', () => {
  it("FrEIA's stochastic estimate averages to the exact log-det (forward at x, reverse at z)", () => {
    setGlobalSeed(11);
    const stochastic = inn.input([4]).iresnet({ hutchinsonSamples: 400, internalSize: 10 }).build();
    const exact = inn.input([4]).iresnet({ exactLogDet: true, internalSize: 10, spectralNormMax: 0.9 }).build();
    // Weights far from the initial ones, then made contractive again, as after a training step.
    for (const v of layerOf(exact).params.values()) tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.5, 'float32', 6))));
    lipschitzCorrection(exact);
    copyWeights(exact, stochastic);
    const x = tf.randomNormal([3, 4], 0, 1.5, 'float32', 2);
    const truth = exact.forward(x);
    const estimate = stochastic.forward(x);
    const t = Array.from(truth.logDet.dataSync());
    expect(Math.max(...t.map(Math.abs))).toBeGreaterThan(0.1); // a log-det worth estimating
    expect(maxAbsDiff(estimate.logDet, truth.logDet)).toBeLessThan(0.03);
    expect(maxAbsDiff(estimate.out as tf.Tensor, truth.out as tf.Tensor)).toBeLessThan(1e-6);

    // FrEIA's reverse: minus the estimate at its input z, not at the reconstructed x (same probes, same numbers).
    const z = truth.out as tf.Tensor;
    setGlobalSeed(21);
    const reverse = stochastic.inverse(z);
    setGlobalSeed(21);
    const atZ = stochastic.forward(z);
    setGlobalSeed(21);
    const atX = stochastic.forward(x);
    expect(maxAbsDiff(reverse.out as tf.Tensor, x)).toBeLessThan(1e-4);
    expect(maxAbsDiff(reverse.logDet, tf.neg(atZ.logDet))).toBeLessThan(1e-6);
    expect(maxAbsDiff(reverse.logDet, tf.neg(atX.logDet))).toBeGreaterThan(1e-2);
    // The exact mode's reverse is minus the forward log-det at the reconstructed x.
    const exactBack = exact.inverse(z);
    expect(maxAbsDiff(exactBack.logDet, tf.neg(truth.logDet))).toBeLessThan(1e-4);
    tf.dispose([exactBack.out as tf.Tensor, exactBack.logDet]);
    tf.dispose([x, z, truth.logDet, estimate.out as tf.Tensor, estimate.logDet, reverse.out as tf.Tensor, reverse.logDet, atZ.out as tf.Tensor, atZ.logDet, atX.out as tf.Tensor, atX.logDet]);
    stochastic.dispose();
    exact.dispose();
  });

  it('draws fresh probes on every call and leaks nothing', () => {
    setGlobalSeed(5);
    const flow = inn.input([6]).iresnet().build();
    const x = tf.randomNormal([4, 6], 0, 1, 'float32', 1);
    const first = flow.forward(x);
    const before = tf.memory().numTensors;
    const second = flow.forward(x);
    const back = flow.inverse(second.out as tf.Tensor);
    tf.dispose([second.out as tf.Tensor, second.logDet, back.out as tf.Tensor, back.logDet]);
    expect(tf.memory().numTensors).toBe(before);
    const again = flow.forward(x);
    expect(maxAbsDiff(again.logDet, first.logDet)).toBeGreaterThan(0);
    tf.dispose([x, first.out as tf.Tensor, first.logDet, again.out as tf.Tensor, again.logDet]);
    flow.dispose();
  });

  for (const exactLogDet of [false, true]) {
    for (const shape of [[5], [2, 3, 3]]) {
      it(`log-det gradients reach every weight (${exactLogDet ? 'exact' : 'estimate'}, ${shape.length === 1 ? 'vectors' : 'images'})`, () => {
        setGlobalSeed(2);
        const flow = inn.input(shape).iresnet({ exactLogDet, internalSize: 6 }).build();
        const x = tf.randomNormal([2, ...shape], 0, 1, 'float32', 4);
        const { grads, value } = tf.variableGrads(() => tf.sum(flow.forward(x).logDet) as tf.Scalar, flow.trainableVariables);
        // ELU's gradient (EluGrad) and the conv kernels' run on this backend; every weight and bias gets a gradient.
        // Every weight and bias but the last bias (which J_g does not depend on) gets a finite, non-zero gradient.
        const params = [...layerOf(flow).params];
        const last = params[params.length - 1][0];
        expect(last).toBe('residual.4.bias');
        for (const [name, v] of params) {
          const g = grads[v.name];
          if (name === last) continue;
          const size = tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]);
          expect(Number.isFinite(size) && size > 0, name).toBe(true);
        }
        tf.dispose([x, value, ...Object.values(grads)]);
        flow.dispose();
      });
    }
  }

  it('lipschitzCorrection brings inflated weights back under spectralNormMax and restores the inverse', () => {
    setGlobalSeed(8);
    const flow = inn.input([5]).iresnet({ internalSize: 12, spectralNormMax: 0.7 }).build();
    scaleWeights(flow, 4);
    const x = tf.randomNormal([3, 5], 0, 1, 'float32', 3);
    const broken = flow.inverse(flow.forward(x, { jac: false }).out as tf.Tensor, { jac: false }).out as tf.Tensor;
    expect(maxAbsDiff(broken, x)).toBeGreaterThan(1e-2);
    expect(lipschitzCorrection(flow)).toBe(1);
    const weights = [...layerOf(flow).params].filter(([name]) => name.endsWith('weight'));
    expect(weights).toHaveLength(3);
    for (const [, w] of weights) expect(spectralNorm(w)).toBeLessThan(0.7 * 1.05);
    const z = flow.forward(x, { jac: false }).out as tf.Tensor;
    const back = flow.inverse(z, { jac: false }).out as tf.Tensor;
    expect(maxAbsDiff(back, x)).toBeLessThan(1e-4);
    tf.dispose([x, broken, z, back]);
    flow.dispose();
  });

  it("spectralNorm 'forward' leaves contractive weights alone and contracts the others", () => {
    setGlobalSeed(4);
    const manual = inn.input([4]).iresnet({ internalSize: 8 }).build();
    const forward = inn.input([4]).iresnet({ internalSize: 8, spectralNorm: 'forward' }).build();
    copyWeights(manual, forward);
    scaleWeights(manual, 0.5);
    scaleWeights(forward, 0.5);
    const x = tf.randomNormal([3, 4], 0, 1, 'float32', 9);
    const a = manual.forward(x, { jac: false }).out as tf.Tensor;
    const b = forward.forward(x, { jac: false }).out as tf.Tensor;
    expect(maxAbsDiff(a, b)).toBe(0);
    scaleWeights(forward, 10);
    const z = forward.forward(x, { jac: false }).out as tf.Tensor;
    const back = forward.inverse(z, { jac: false }).out as tf.Tensor;
    expect(maxAbsDiff(back, x)).toBeLessThan(1e-4);
    tf.dispose([x, a, b, z, back]);
    manual.dispose();
    forward.dispose();
  });

  it("spectralNorm 'forward': the gradient through σ̂ agrees with finite differences (one start counts when the starts tie)", () => {
    setGlobalSeed(6);
    const flow = inn.input([4]).iresnet({ internalSize: 8, spectralNorm: 'forward' }).build();
    scaleWeights(flow, 10);
    // Every power-iteration start the same vector, so that the estimates tie exactly (on a GPU they
    // often do anyway, having converged): tf.max's gradient would count the σ̂ term once per start.
    // Cast: the starts are the layer's private state, reached here only to make the tie certain.
    for (const start of (layerOf(flow) as unknown as { starts: tf.Variable[] }).starts) {
      tf.tidy(() => start.assign(tf.tile(tf.slice(start, [0, 0], [1, -1]), [start.shape[0], 1])));
    }
    const x = tf.randomNormal([5, 4], 0, 1, 'float32', 3);
    const weight = layerOf(flow).params.get('residual.0.weight')!;
    const loss = () => tf.tidy(() => tf.sum(tf.square(flow.forward(x, { jac: false }).out as tf.Tensor)) as tf.Scalar);
    const grad = tf.tidy(() => tf.variableGrads(loss, [weight]).grads[weight.name]);
    const analytic = grad.dataSync();
    const values = weight.dataSync().slice();
    const h = 1e-2;
    for (const i of [0, 5, 13, 22]) {
      const at = (delta: number) => {
        const shifted = values.slice();
        shifted[i] += delta;
        tf.tidy(() => weight.assign(tf.tensor(shifted, weight.shape)));
        return loss().dataSync()[0];
      };
      const numeric = (at(h) - at(-h)) / (2 * h);
      expect(Math.abs(analytic[i] - numeric), `entry ${i}: autodiff ${analytic[i]}, finite differences ${numeric}`).toBeLessThan(0.05 * Math.max(1, Math.abs(numeric)));
    }
    tf.dispose([x, grad]);
    flow.dispose();
  });

  it('the imported FrEIA model in exact mode: the same outputs, an exact log-det', () => {
    const doc = readFixture('iresnet');
    const nodes = doc.graph.nodes.map((n) => (n.kind === 'module' ? { ...n, args: { ...n.args, exact_log_det: true } } : n));
    const flow = importFreia({ ...doc, graph: { nodes } });
    const c = doc.cases![0];
    const x = tf.tensor(c.inputs[0].data as number[], [...c.inputs[0].shape]);
    const expected = tf.tensor(c.outputs[0].data as number[], [...c.outputs[0].shape]);
    const fwd = flow.forward(x);
    expect(maxAbsDiff(fwd.out as tf.Tensor, expected)).toBeLessThan(1e-5);
    const truth = autodiffLogDet(flow, x);
    Array.from(fwd.logDet.dataSync()).forEach((v, b) => expect(Math.abs(v - truth[b])).toBeLessThan(1e-5));
    const inv = flow.inverse(expected);
    expect(maxAbsDiff(inv.out as tf.Tensor, x)).toBeLessThan(1e-5);
    expect(maxAbsDiff(inv.logDet, tf.neg(fwd.logDet))).toBeLessThan(1e-5);
    tf.dispose([x, expected, fwd.out as tf.Tensor, fwd.logDet, inv.out as tf.Tensor, inv.logDet]);
    flow.dispose();
  });

  it('refuses conditions, other ranks and a bound outside (0, 1]', () => {
    expect(() => defineModule('block', 'IResNetLayer', {}, [[3]], [[2]])).toThrow(ShapeMismatchError);
    expect(() => defineModule('block', 'IResNetLayer', {}, [[3, 4]])).toThrow(/vector \[C\] or an image/);
    expect(() => defineModule('block', 'IResNetLayer', { spectralNormMax: 1.5 }, [[3]])).toThrow(/spectralNormMax/);
  });
});
