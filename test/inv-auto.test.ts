/**
 * InvAutoFC and InvAutoConv2D, which are not invertible in general: what
 * FrEIA promises of them, checked against float64 references. The forward
 * map is `W x + b` (a convolution for images); the "inverse" is the adjoint
 * `Wᵀ(y − b)`, which inverts the forward map exactly when `W` is orthogonal;
 * the log-det is 0 both ways. Weights are also imported from a FrEIA-style
 * document, where the convolution kernel's layout is the trap.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { FreiaError, InvAutoConv2D, InvAutoFC, ShapeMismatchError, defineModule, importFreia, inn, setGlobalSeed, type AnyFlow, type FreiaDocument } from '../src/index.js';
import { randomRotation } from '../src/math/linalg.js';
import { mulberry32 } from '../src/math/rng.js';
import { autodiffLogDet, maxAbsDiff } from './helpers/jacobian.js';

function moduleOf<T>(flow: AnyFlow, kind: new (...args: never[]) => T): T {
  const m = flow.modules.find((x) => x instanceof kind);
  if (!m) throw new Error('module not found');
  return m as T;
}

function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

function dot(a: tf.Tensor, b: tf.Tensor): number {
  const x = values(a);
  const y = values(b);
  return x.reduce((s, v, i) => s + v * y[i], 0);
}

/** PyTorch's conv2d (cross-correlation, zero padding `p`, stride 1) in float64: x `[B, C, H, W]`, w `[O, C, k, k]`. */
function torchConv(x: number[], [b, c, h, w]: number[], kernel: number[], [o, , k]: number[], p: number, bias: number[]): number[] {
  const oh = h + 2 * p - k + 1;
  const ow = w + 2 * p - k + 1;
  const out: number[] = [];
  for (let n = 0; n < b; n++)
    for (let q = 0; q < o; q++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          let s = bias[q];
          for (let ch = 0; ch < c; ch++)
            for (let u = 0; u < k; u++)
              for (let v = 0; v < k; v++) {
                const [r, col] = [i + u - p, j + v - p];
                if (r >= 0 && r < h && col >= 0 && col < w) s += kernel[((q * c + ch) * k + u) * k + v] * x[((n * c + ch) * h + r) * w + col];
              }
          out.push(s);
        }
  return out;
}

function randomValues(n: number, seed: number): number[] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, () => 2 * rng() - 1);
}

function expectClose(ours: number[], reference: number[], tolerance = 1e-5): void {
  expect(ours).toHaveLength(reference.length);
  const worst = Math.max(...ours.map((v, i) => Math.abs(v - reference[i])));
  expect(worst).toBeLessThan(tolerance);
}

describe('InvAutoFC', () => {
  it('forward is W x + b, the inverse is Wᵀ(y − b), the log-det is 0: not an inverse for a general W', () => {
    setGlobalSeed(3);
    const flow = inn.input([5]).invAutoFC().build();
    const fc = moduleOf(flow, InvAutoFC);
    const w = values(fc.params.get('weights')!);
    const b = values(fc.params.get('bias')!);
    const x = tf.tensor2d(randomValues(10, 1), [2, 5]);
    const y = tf.tensor2d(randomValues(10, 2), [2, 5]);
    const fwd = flow.forward(x);
    const inv = flow.inverse(y);
    const xs = values(x);
    const ys = values(y);
    expectClose(values(fwd.out as tf.Tensor), [0, 1].flatMap((n) => [0, 1, 2, 3, 4].map((o) => b[o] + [0, 1, 2, 3, 4].reduce((s, i) => s + w[o * 5 + i] * xs[n * 5 + i], 0))));
    expectClose(values(inv.out as tf.Tensor), [0, 1].flatMap((n) => [0, 1, 2, 3, 4].map((i) => [0, 1, 2, 3, 4].reduce((s, o) => s + w[o * 5 + i] * (ys[n * 5 + o] - b[o]), 0))));
    expect(values(fwd.logDet)).toEqual([0, 0]);
    expect(values(inv.logDet)).toEqual([0, 0]);
    // FrEIA's inverse does not invert a random W, and its log-det 0 is not log|det W|.
    const back = flow.inverse(fwd.out as tf.Tensor).out as tf.Tensor;
    expect(maxAbsDiff(back, x)).toBeGreaterThan(1e-2);
    expect(Math.abs(autodiffLogDet(flow, x)[0])).toBeGreaterThan(1e-2);
    tf.dispose([x, y, back, fwd.out as tf.Tensor, fwd.logDet, inv.out as tf.Tensor, inv.logDet]);
    flow.dispose();
  });

  it('with an orthogonal W (where a reconstruction loss converges) it is an exact flow layer with log-det 0', () => {
    setGlobalSeed(4);
    const flow = inn.input([6]).invAutoFC().build();
    const q = randomRotation(6, mulberry32(9));
    moduleOf(flow, InvAutoFC).params.get('weights')!.assign(tf.tensor2d(q));
    const x = tf.tensor2d(randomValues(18, 5), [3, 6]);
    const fwd = flow.forward(x);
    const back = flow.inverse(fwd.out as tf.Tensor);
    expect(maxAbsDiff(back.out as tf.Tensor, x)).toBeLessThan(1e-5);
    autodiffLogDet(flow, x).forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-5));
    tf.dispose([x, fwd.out as tf.Tensor, fwd.logDet, back.out as tf.Tensor, back.logDet]);
    flow.dispose();
  });

  it('dimsOut changes the size, and the inverse stays the adjoint: ⟨f(x) − b, u⟩ = ⟨x, f⁻¹(u + b)⟩', () => {
    setGlobalSeed(5);
    const flow = inn.input([5]).invAutoFC({ dimsOut: 3 }).build();
    const b = moduleOf(flow, InvAutoFC).params.get('bias')!;
    const x = tf.tensor2d(randomValues(5, 7), [1, 5]);
    const u = tf.tensor2d(randomValues(3, 8), [1, 3]);
    const fx = flow.forward(x).out as tf.Tensor;
    const back = flow.inverse(tf.add(u, b)).out as tf.Tensor;
    expect(fx.shape).toEqual([1, 3]);
    expect(back.shape).toEqual([1, 5]);
    expect(Math.abs(dot(tf.sub(fx, b), u) - dot(x, back))).toBeLessThan(1e-5);
    tf.dispose([x, u, fx, back]);
    flow.dispose();
  });
});

describe('InvAutoConv2D', () => {
  it('forward is PyTorch’s conv2d plus bias; the inverse is its adjoint (transposed convolution)', () => {
    setGlobalSeed(6);
    const flow = inn.input([3, 5, 4]).invAutoConv2D().build();
    const conv = moduleOf(flow, InvAutoConv2D);
    // The ambiguous case for layout conversion: [out, in, k, k] = [3, 3, 3, 3] has our layout's shape too.
    const kernel = randomValues(81, 11);
    const kernelTensor = tf.tensor4d(kernel, [3, 3, 3, 3]);
    conv.loadParam('conv2d.weight', kernelTensor);
    const bias = [0.3, -0.2, 0.5];
    const biasTensor = tf.tensor4d(bias, [1, 3, 1, 1]);
    conv.loadParam('bias', biasTensor);
    const x = tf.tensor4d(randomValues(2 * 60, 12), [2, 3, 5, 4]);
    const fwd = flow.forward(x);
    expectClose(values(fwd.out as tf.Tensor), torchConv(values(x), [2, 3, 5, 4], kernel, [3, 3, 3, 3], 1, bias));
    expect(values(fwd.logDet)).toEqual([0, 0]);
    const u = tf.tensor4d(randomValues(2 * 60, 13), [2, 3, 5, 4]);
    const inv = flow.inverse(tf.add(u, tf.reshape(biasTensor, [1, 3, 1, 1])));
    expect(Math.abs(dot(tf.sub(fwd.out as tf.Tensor, tf.reshape(biasTensor, [1, 3, 1, 1])), u) - dot(x, inv.out as tf.Tensor))).toBeLessThan(1e-4);
    expect(values(inv.logDet)).toEqual([0, 0]);
    const back = flow.inverse(fwd.out as tf.Tensor).out as tf.Tensor;
    expect(maxAbsDiff(back, x)).toBeGreaterThan(1e-2); // not an inverse for this kernel
    tf.dispose([kernelTensor, biasTensor, x, u, back, fwd.out as tf.Tensor, fwd.logDet, inv.out as tf.Tensor, inv.logDet]);
    flow.dispose();
  });

  it('with an orthogonal convolution (an orthogonal channel mix at the centre tap) it inverts exactly', () => {
    setGlobalSeed(7);
    const flow = inn.input([4, 3, 3]).invAutoConv2D().build();
    const q = randomRotation(4, mulberry32(2));
    const kernel = new Array<number>(4 * 4 * 9).fill(0);
    for (let o = 0; o < 4; o++) for (let c = 0; c < 4; c++) kernel[((o * 4 + c) * 3 + 1) * 3 + 1] = q[o][c];
    const k = tf.tensor4d(kernel, [4, 4, 3, 3]);
    moduleOf(flow, InvAutoConv2D).loadParam('conv2d.weight', k);
    const x = tf.randomNormal([2, 4, 3, 3], 0, 1, 'float32', 3);
    const z = flow.forward(x).out as tf.Tensor;
    const back = flow.inverse(z).out as tf.Tensor;
    expect(maxAbsDiff(back, x)).toBeLessThan(1e-5);
    tf.dispose([k, x, z, back]);
    flow.dispose();
  });

  it('kernelSize, padding and dimsOut set the output shape; the inverse returns the input shape', () => {
    setGlobalSeed(8);
    const shrink = inn.input([2, 6, 5]).invAutoConv2D({ padding: 0, dimsOut: [5, 4, 3] }).build();
    const x = tf.randomNormal([2, 2, 6, 5], 0, 1, 'float32', 4);
    const z = shrink.forward(x).out as tf.Tensor;
    expect(z.shape).toEqual([2, 5, 4, 3]);
    const conv = moduleOf(shrink, InvAutoConv2D);
    const kernel = values(tf.transpose(conv.params.get('conv2d.weight')!, [3, 2, 0, 1]));
    expectClose(values(z), torchConv(values(x), [2, 2, 6, 5], kernel, [5, 2, 3, 3], 0, values(conv.params.get('bias')!)));
    expect((shrink.inverse(z).out as tf.Tensor).shape).toEqual([2, 2, 6, 5]);
    expect(inn.input([3, 4, 4]).invAutoConv2D({ kernelSize: 1, padding: 0 }).shapes).toEqual([[3, 4, 4]]);
    expect(() => inn.input([3, 4, 4]).invAutoConv2D({ dimsOut: [3, 5, 5] } as never)).toThrow(ShapeMismatchError);
    tf.dispose([x, z]);
    shrink.dispose();
  });
});

describe('InvAuto imports and wiring', () => {
  it('imports FrEIA-layout weights: weights [out, in], bias [1, out], conv2d.weight [out, in, k, k], bias [1, out, 1, 1]', () => {
    const fcW = randomValues(12, 21);
    const fcB = randomValues(3, 22);
    const kW = randomValues(2 * 2 * 9, 23);
    const kB = randomValues(2, 24);
    const doc: FreiaDocument = {
      format: 'freia-reference/1',
      name: 'inv_auto_import',
      graph: {
        nodes: [
          { kind: 'input', name: 'in0', shape: [2, 3, 2] },
          { kind: 'module', name: 'c', module: 'InvAutoConv2D', inputs: [['in0', 0]], conditions: [], args: { dims_out: null, kernel_size: 3, padding: 1 }, subnet: null, output_shapes: [[2, 3, 2]], param_prefix: 'module_list.0.' },
          { kind: 'module', name: 'a', module: 'InvAutoActTwoSided', inputs: [['c', 0]], conditions: [], args: { init_pos: 2, init_neg: 0.5, learnable: true }, subnet: null, output_shapes: [[2, 3, 2]], param_prefix: 'module_list.1.' },
          { kind: 'module', name: 'f', module: 'Flatten', inputs: [['a', 0]], conditions: [], args: {}, subnet: null, output_shapes: [[12]], param_prefix: 'module_list.2.' },
          { kind: 'module', name: 'fc', module: 'InvAutoFC', inputs: [['f', 0]], conditions: [], args: { dims_out: 3 }, subnet: null, output_shapes: [[3]], param_prefix: 'module_list.3.' },
          { kind: 'output', name: 'out0', inputs: [['fc', 0]], shape: [3] },
        ],
      },
      params: {
        'module_list.0.conv2d.weight': { shape: [2, 2, 3, 3], dtype: 'float32', data: kW },
        'module_list.0.bias': { shape: [1, 2, 1, 1], dtype: 'float32', data: kB },
        'module_list.1.alpha_pos': { shape: [1, 2, 1, 1], dtype: 'float32', data: [0.7, 0.1] },
        'module_list.1.alpha_neg': { shape: [1, 2, 1, 1], dtype: 'float32', data: [-0.4, 0.2] },
        'module_list.3.weights': { shape: [3, 12], dtype: 'float32', data: fcW.concat(randomValues(24, 25)) },
        'module_list.3.bias': { shape: [1, 3], dtype: 'float32', data: fcB },
      },
    };
    const flow = importFreia(doc);
    const x = tf.tensor4d(randomValues(12, 26), [1, 2, 3, 2]);
    const conv = torchConv(values(x), [1, 2, 3, 2], kW, [2, 2, 3, 3], 1, kB);
    const act = conv.map((v, i) => v * Math.exp(v >= 0 ? [0.7, 0.1][Math.floor(i / 6)] : [-0.4, 0.2][Math.floor(i / 6)]));
    const w = fcW.concat(randomValues(24, 25));
    const expected = [0, 1, 2].map((o) => fcB[o] + act.reduce((s, v, i) => s + w[o * 12 + i] * v, 0));
    const out = flow.forward(x);
    expectClose(values(out.out as tf.Tensor), expected);
    // Only the activation contributes to the log-det.
    const logDet = conv.reduce((s, v, i) => s + (v >= 0 ? [0.7, 0.1][Math.floor(i / 6)] : [-0.4, 0.2][Math.floor(i / 6)]), 0);
    expectClose(values(out.logDet), [logDet]);
    tf.dispose([x, out.out as tf.Tensor, out.logDet]);
    flow.dispose();
  });

  it('refuses conditions, vector input for the convolution, image input for the linear layer, bad slopes', () => {
    expect(() => defineModule('n', 'InvAutoAct', {}, [[3]], [[2]])).toThrow(ShapeMismatchError);
    expect(() => defineModule('n', 'InvAutoConv2D', {}, [[3]])).toThrow(/image input/);
    expect(() => defineModule('n', 'InvAutoFC', {}, [[3, 2, 2]])).toThrow(/flattened input/);
    expect(() => inn.input([3]).invAutoAct({ slopeInit: 0 }).build()).toThrow(FreiaError);
    expect(() => inn.input([3]).invAutoActTwoSided({ initNeg: -1 }).build()).toThrow(/initNeg/);
  });
});
