/**
 * The `sequential` subnet of freia-reference/1 documents (a PyTorch
 * nn.Sequential described layer by layer): hand-written documents import and
 * give the numbers that plain-JS arithmetic gives (channels first, PyTorch's
 * layouts, evaluation-mode BatchNorm and Dropout); bad layer entries fail
 * with problems naming node, layer and field, before anything is allocated.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { importProblems } from './helpers/import-problems.js';
import { importFreia, loadFlow, memoryHandler, saveFlow, verifyFreia, type FreiaDocument, type FreiaTensor } from '../src/index.js';

/** Deterministic numbers in (-1, 1). */
function numbers(count: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: count }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return Math.fround((s / 2147483648) * 2 - 1);
  });
}

const param = (shape: number[], data: number[], dtype: FreiaTensor['dtype'] = 'float32'): FreiaTensor => ({ shape, data, dtype });

// ---- plain-JS layers, PyTorch's layouts and meaning (evaluation mode) ----
type Vec = number[];
/** Linear on one sample: weight [out][in] (flat, row-major), bias [out]. */
const linear = (x: Vec, w: number[], b: number[]) => b.map((bo, o) => x.reduce((acc, xi, i) => acc + w[o * x.length + i] * xi, bo));
const batchNorm = (x: Vec, mean: number[], variance: number[], eps: number, w: number[], b: number[]) => x.map((v, c) => ((v - mean[c]) / Math.sqrt(variance[c] + eps)) * w[c] + b[c]);
const leaky = (slope: number) => (x: Vec) => x.map((v) => (v > 0 ? v : slope * v));
const tanh = (x: Vec) => x.map(Math.tanh);

/** A sample's image [C][H][W] flattened channels first. */
type Img = { c: number; h: number; w: number; data: number[] };
function conv2d(x: Img, weight: number[], bias: number[], out: number, k: number, pad: number): Img {
  const data: number[] = [];
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < x.h; i++) {
      for (let j = 0; j < x.w; j++) {
        let acc = bias[o];
        for (let c = 0; c < x.c; c++) {
          for (let u = 0; u < k; u++) {
            for (let v = 0; v < k; v++) {
              const [ii, jj] = [i + u - pad, j + v - pad];
              if (ii < 0 || jj < 0 || ii >= x.h || jj >= x.w) continue;
              acc += weight[((o * x.c + c) * k + u) * k + v] * x.data[(c * x.h + ii) * x.w + jj];
            }
          }
        }
        data.push(acc);
      }
    }
  }
  return { c: out, h: x.h, w: x.w, data };
}
const perChannel = (x: Img, f: (v: number, c: number) => number): Img => ({ ...x, data: x.data.map((v, k) => f(v, Math.floor(k / (x.h * x.w)))) });

function expectClose(actual: ArrayLike<number>, expected: readonly number[], tolerance = 1e-5) {
  expect(actual.length).toBe(expected.length);
  const worst = expected.reduce((m, e, k) => Math.max(m, Math.abs(e - actual[k])), 0);
  expect(worst).toBeLessThan(tolerance);
}

// ---- a NICE block on vectors [4]: y1 = x1 + F(x2), y2 = x2 + G(y1) ----
// F, G: Linear(2, 3) → BatchNorm1d(3) → LeakyReLU(0.2) → Dropout(0.3) → Linear(3, 2) → Tanh
const VECTOR_LAYERS = [
  { type: 'Linear', out_features: 3, bias: true },
  { type: 'BatchNorm1d', eps: 1e-5, affine: true },
  { type: 'LeakyReLU', negative_slope: 0.2 },
  { type: 'Dropout', p: 0.3 },
  { type: 'Linear', out_features: null, bias: true },
  { type: 'Tanh' },
];

function vectorParams(name: string, seed: number) {
  const r = numbers(32, seed);
  return {
    [`${name}.0.weight`]: r.slice(0, 6), [`${name}.0.bias`]: r.slice(6, 9),
    [`${name}.1.weight`]: r.slice(9, 12).map((v) => 1 + v / 2), [`${name}.1.bias`]: r.slice(12, 15),
    [`${name}.1.running_mean`]: r.slice(15, 18), [`${name}.1.running_var`]: r.slice(18, 21).map((v) => 0.5 + v * v),
    [`${name}.4.weight`]: r.slice(21, 27), [`${name}.4.bias`]: r.slice(27, 29),
  };
}
const VECTOR_SHAPES: Record<string, number[]> = { '0.weight': [3, 2], '0.bias': [3], '1.weight': [3], '1.bias': [3], '1.running_mean': [3], '1.running_var': [3], '4.weight': [2, 3], '4.bias': [2] };

function vectorDocument(): FreiaDocument {
  const values = { ...vectorParams('F', 11), ...vectorParams('G', 23) };
  const params: Record<string, FreiaTensor> = {};
  for (const [key, data] of Object.entries(values)) params[`module_list.0.${key}`] = param(VECTOR_SHAPES[key.slice(2)], data);
  for (const net of ['F', 'G']) params[`module_list.0.${net}.1.num_batches_tracked`] = param([], [7], 'int64');
  return {
    format: 'freia-reference/1',
    name: 'nice_sequential',
    graph: {
      nodes: [
        { name: 'in0', kind: 'input', shape: [4] },
        {
          name: 'b0', kind: 'module', module: 'NICECouplingBlock', inputs: [['in0', 0]], conditions: [], args: { split_len: 2 },
          subnet: { kind: 'sequential', layers: VECTOR_LAYERS } as never, output_shapes: [[4]], param_prefix: 'module_list.0.',
        },
        { name: 'out0', kind: 'output', inputs: [['b0', 0]], shape: [4] },
      ],
    },
    params,
  };
}

function vectorSubnet(name: string, seed: number) {
  const p = vectorParams(name, seed);
  return (x: Vec) => {
    let h = linear(x, p[`${name}.0.weight`], p[`${name}.0.bias`]);
    h = batchNorm(h, p[`${name}.1.running_mean`], p[`${name}.1.running_var`], 1e-5, p[`${name}.1.weight`], p[`${name}.1.bias`]);
    h = leaky(0.2)(h); // Dropout: the identity
    return tanh(linear(h, p[`${name}.4.weight`], p[`${name}.4.bias`]));
  };
}

// ---- a NICE block on images [2, 3, 3]: Conv2d(1, 2, 3, padding=1) → ReLU → BatchNorm2d(2) → Conv2d(2, 1, 1) → Sigmoid ----
const IMAGE_LAYERS = [
  { type: 'Conv2d', out_channels: 2, kernel_size: [3, 3], stride: [1, 1], padding: [1, 1], bias: true },
  { type: 'ReLU' },
  { type: 'BatchNorm2d', eps: 1e-3, affine: false },
  { type: 'Conv2d', out_channels: null, kernel_size: [1, 1], stride: [1, 1], padding: [0, 0], bias: false },
  { type: 'Sigmoid' },
];

function imageParams(name: string, seed: number) {
  const r = numbers(40, seed);
  return {
    [`${name}.0.weight`]: r.slice(0, 18), [`${name}.0.bias`]: r.slice(18, 20),
    [`${name}.2.running_mean`]: r.slice(20, 22), [`${name}.2.running_var`]: r.slice(22, 24).map((v) => 0.5 + v * v),
    [`${name}.3.weight`]: r.slice(24, 26),
  };
}
const IMAGE_SHAPES: Record<string, number[]> = { '0.weight': [2, 1, 3, 3], '0.bias': [2], '2.running_mean': [2], '2.running_var': [2], '3.weight': [1, 2, 1, 1] };

function imageDocument(): FreiaDocument {
  const params: Record<string, FreiaTensor> = {};
  for (const [key, data] of Object.entries({ ...imageParams('F', 5), ...imageParams('G', 9) })) params[`p.${key}`] = param(IMAGE_SHAPES[key.slice(2)], data);
  for (const net of ['F', 'G']) params[`p.${net}.2.num_batches_tracked`] = param([], [0], 'int64');
  return {
    format: 'freia-reference/1',
    name: 'nice_sequential_conv',
    graph: {
      nodes: [
        { name: 'in0', kind: 'input', shape: [2, 3, 3] },
        {
          name: 'b0', kind: 'module', module: 'NICECouplingBlock', inputs: [['in0', 0]], conditions: [], args: { split_len: 0.5 },
          subnet: { kind: 'sequential', layers: IMAGE_LAYERS } as never, output_shapes: [[2, 3, 3]], param_prefix: 'p.',
        },
        { name: 'out0', kind: 'output', inputs: [['b0', 0]], shape: [2, 3, 3] },
      ],
    },
    params,
  };
}

function imageSubnet(name: string, seed: number) {
  const p = imageParams(name, seed);
  return (x: Img): Img => {
    let h = conv2d(x, p[`${name}.0.weight`], p[`${name}.0.bias`], 2, 3, 1);
    h = perChannel(h, (v) => Math.max(v, 0));
    h = perChannel(h, (v, c) => (v - p[`${name}.2.running_mean`][c]) / Math.sqrt(p[`${name}.2.running_var`][c] + 1e-3));
    h = conv2d(h, p[`${name}.3.weight`], [0], 1, 1, 0);
    return perChannel(h, (v) => 1 / (1 + Math.exp(-v)));
  };
}

describe('sequential subnets in FrEIA documents', () => {
  it('a NICE block with Linear, BatchNorm1d, LeakyReLU, Dropout and Tanh gives the plain-JS numbers, both ways', () => {
    const before = tf.memory().numTensors;
    const flow = importFreia(vectorDocument());
    const xs = [numbers(4, 101), numbers(4, 202).map((v) => 3 * v), numbers(4, 303)];
    const [F, G] = [vectorSubnet('F', 11), vectorSubnet('G', 23)];
    const expected = xs.flatMap((x) => {
      const y1 = [x[0], x[1]].map((v, k) => v + F([x[2], x[3]])[k]);
      const y2 = [x[2], x[3]].map((v, k) => v + G(y1)[k]);
      return [...y1, ...y2];
    });
    const x = tf.tensor2d(xs);
    const { out, logDet } = flow.forward(x);
    expectClose((out as tf.Tensor).dataSync(), expected);
    expectClose(logDet.dataSync(), [0, 0, 0]);
    const back = flow.inverse(out as tf.Tensor);
    expectClose((back.out as tf.Tensor).dataSync(), xs.flat());
    tf.dispose([x, out as tf.Tensor, logDet, back.out as tf.Tensor, back.logDet]);
    flow.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a NICE block on images with Conv2d (3×3, padding 1; 1×1 without bias), ReLU, BatchNorm2d without affine and Sigmoid gives the plain-JS numbers', () => {
    const before = tf.memory().numTensors;
    const flow = importFreia(imageDocument());
    const [F, G] = [imageSubnet('F', 5), imageSubnet('G', 9)];
    const samples = [numbers(18, 7), numbers(18, 8)];
    const expected = samples.flatMap((s) => {
      const x1 = { c: 1, h: 3, w: 3, data: s.slice(0, 9) };
      const x2 = { c: 1, h: 3, w: 3, data: s.slice(9) };
      const y1 = x1.data.map((v, k) => v + F(x2).data[k]);
      const y2 = x2.data.map((v, k) => v + G({ c: 1, h: 3, w: 3, data: y1 }).data[k]);
      return [...y1, ...y2];
    });
    const x = tf.tensor4d(samples.flat(), [2, 2, 3, 3]);
    const { out, logDet } = flow.forward(x);
    expectClose((out as tf.Tensor).dataSync(), expected);
    tf.dispose([x, out as tf.Tensor, logDet]);
    flow.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('verify reads recorded evaluations of a sequential subnet, and a wrong recording fails', () => {
    const doc = vectorDocument();
    const x = numbers(8, 5);
    const flow = importFreia(doc);
    const input = tf.tensor2d(x, [2, 4]);
    const { out, logDet } = flow.forward(input);
    const z = [...(out as tf.Tensor).dataSync()];
    tf.dispose([input, out as tf.Tensor, logDet]);
    flow.dispose();
    const tensor = (shape: number[], data: number[]) => ({ shape, data });
    const recorded = { inputs: [tensor([2, 4], x)], conditions: [], outputs: [tensor([2, 4], z)], log_jac_det: tensor([2], [0, 0]), rev_inputs: [tensor([2, 4], x)], rev_log_jac_det: tensor([2], [0, 0]) };
    expect(verifyFreia({ ...doc, cases: [recorded] }).ok).toBe(true);
    const wrong = { ...recorded, outputs: [tensor([2, 4], z.map((v) => v + 0.1))] };
    expect(verifyFreia({ ...doc, cases: [wrong] }).ok).toBe(false);
  });

  it('a flow imported with sequential subnets saves and loads (layers and running statistics included) and gives the same numbers', async () => {
    const flow = importFreia(imageDocument());
    const store = memoryHandler();
    await saveFlow(flow, store);
    const again = await loadFlow(store);
    const x = tf.tensor4d(numbers(36, 3), [2, 2, 3, 3]);
    const [a, b] = [flow.forward(x), again.forward(x)];
    expectClose((b.out as tf.Tensor).dataSync(), [...(a.out as tf.Tensor).dataSync()], 1e-7);
    expect([...again.modules[1]!.params.keys()].sort()).toEqual([...flow.modules[1]!.params.keys()].sort());
    tf.dispose([x, a.out as tf.Tensor, a.logDet, b.out as tf.Tensor, b.logDet]);
    flow.dispose();
    again.dispose();
  });

  it('trains: gradients reach every Linear and BatchNorm affine weight; running statistics are buffers and stay', () => {
    const flow = importFreia(vectorDocument());
    const names = [...flow.modules[1]!.params.entries()].filter(([, v]) => v.trainable).map(([k]) => k).sort();
    expect(names).toEqual(['F.0.bias', 'F.0.weight', 'F.1.bias', 'F.1.weight', 'F.4.bias', 'F.4.weight', 'G.0.bias', 'G.0.weight', 'G.1.bias', 'G.1.weight', 'G.4.bias', 'G.4.weight']);
    const x = tf.tensor2d(numbers(12, 4), [3, 4]);
    const { value, grads } = tf.variableGrads(() => {
      const { out, logDet } = flow.forward(x);
      return tf.add(tf.sum(tf.square(out as tf.Tensor)), tf.sum(logDet)) as tf.Scalar;
    }, flow.trainableVariables);
    const norms = Object.values(grads).map((g) => tf.norm(g).dataSync()[0]);
    expect(norms).toHaveLength(12);
    expect(norms.every((n) => Number.isFinite(n) && n > 0)).toBe(true);
    tf.dispose([x, value, ...Object.values(grads)]);
    flow.dispose();
  });

  it('names node, layer and field of each bad layer entry, before anything is allocated', () => {
    const doc = vectorDocument();
    const withLayers = (layers: unknown[]) => ({
      ...doc,
      graph: { nodes: doc.graph.nodes.map((n) => (n.kind === 'module' ? { ...n, subnet: { kind: 'sequential', layers } } : n)) },
    });
    const at = 'graph.nodes[1].subnet (node "b0").layers';
    const bad = [
      [{ ...VECTOR_LAYERS[0], type: 'GELU' }, `${at}[0].type: expected one of Linear, Conv2d, ReLU, LeakyReLU, Tanh, Sigmoid, Dropout, BatchNorm1d, BatchNorm2d, got "GELU"`],
      [{ type: 'LeakyReLU', negative_slope: 'steep' }, `${at}[2].negative_slope: expected a finite number, got "steep"`],
      [{ type: 'BatchNorm1d', eps: 0, affine: true }, `${at}[1].eps: expected a positive number, got 0`],
    ] as const;
    const index = { GELU: 0, LeakyReLU: 2, BatchNorm1d: 1 } as Record<string, number>;
    for (const [layer, message] of bad) {
      const layers: unknown[] = [...VECTOR_LAYERS];
      layers[index[layer.type]] = layer;
      expect(importProblems(withLayers(layers))).toEqual([message]);
    }
    expect(importProblems(withLayers([{ ...VECTOR_LAYERS[0], out_features: null }, ...VECTOR_LAYERS.slice(1)]))).toEqual([
      expect.stringMatching(/^graph\.nodes\[1\]\.subnet \(node "b0"\)\.layers\[0\]\.out_features: expected a whole number from 1 to \d+ \(null only on the last Linear or Conv2d\), got null$/),
    ]);
    expect(importProblems(withLayers([...VECTOR_LAYERS.slice(0, 4), { ...VECTOR_LAYERS[4], out_features: 2 }, VECTOR_LAYERS[5]]))).toEqual([
      `${at}[4].out_features: expected null (the last Linear or Conv2d has the width its module chooses), got 2`,
    ]);
    expect(importProblems(withLayers([]))).toEqual([`${at}: expected a list of 1 to 1000 layers, got []`]);
    expect(importProblems(withLayers([...VECTOR_LAYERS, IMAGE_LAYERS[0]])).join('\n')).toContain('Linear or BatchNorm1d together with Conv2d or BatchNorm2d cannot be described');
  });

  it('refuses a subnet that does not fit its stream, naming the node, and leaves nothing allocated', () => {
    const image = imageDocument();
    const onVectors = {
      ...vectorDocument(),
      graph: { nodes: vectorDocument().graph.nodes.map((n) => (n.kind === 'module' ? { ...n, subnet: { kind: 'sequential', layers: IMAGE_LAYERS } } : n)) },
    };
    expect(importProblems(onVectors).join('\n')).toContain('node "b0" (NICECouplingBlock): its sequential subnet (Conv2d, BatchNorm2d) needs images [C, H, W], got [4]');
    const strided = {
      ...image,
      graph: { nodes: image.graph.nodes.map((n) => (n.kind === 'module' ? { ...n, subnet: { kind: 'sequential', layers: [{ ...IMAGE_LAYERS[0], stride: [2, 2] }, ...IMAGE_LAYERS.slice(1)] } } : n)) },
    };
    expect(importProblems(strided).join('\n')).toContain('node "b0" (NICECouplingBlock): its sequential subnet turns 3×3 pixels into 2×2; its convolutions must keep the height and width');
    const missing = { ...image, params: Object.fromEntries(Object.entries(image.params).filter(([key]) => !key.endsWith('G.2.running_var'))) };
    expect(importProblems(missing)).toEqual(['node "b0": missing parameter "p.G.2.running_var"']);
    const wrongShape = { ...image, params: { ...image.params, 'p.F.0.weight': param([2, 1, 2, 2], numbers(8, 1)) } };
    expect(importProblems(wrongShape)).toEqual(['node "b0": parameter "F.0.weight": expected shape [3, 3, 1, 2] (ours) or its PyTorch layout, got [2, 1, 2, 2]']);
  });
});
