/**
 * Importing FrEIA exports: bad documents fail with every problem listed,
 * and nothing is left allocated.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { importProblems } from './helpers/import-problems.js';
import { readFixture } from './helpers/fixtures.js';
import { importFreia, type FreiaDocument } from '../src/index.js';

const load = readFixture;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

describe('importFreia', () => {
  it('imports a model and runs it (graph_moons: 8 AllInOne blocks)', () => {
    const doc = load('graph_moons');
    const flow = importFreia(doc);
    expect(flow.graph.nodes.filter((n) => n.kind === 'module')).toHaveLength(8);
    const x = tf.tensor(doc.cases![0].inputs[0].data as number[], [...doc.cases![0].inputs[0].shape]);
    const { out, logDet } = flow.forward(x);
    expect((out as tf.Tensor).shape).toEqual(x.shape);
    tf.dispose([x, out as tf.Tensor, logDet]);
    flow.dispose();
  });

  it('rejects another format', () => {
    const doc = { ...load('split'), format: 'something-else/2' };
    expect(importProblems(doc)).toEqual(['format is "something-else/2", expected "freia-reference/1"']);
  });

  it('lists every problem: unknown module, missing parameter, wrong shape, unowned parameter', () => {
    const doc = structuredClone(load('graph_moons')) as Mutable<FreiaDocument>;
    const nodes = doc.graph.nodes as unknown as Record<string, unknown>[];
    nodes[1] = { ...nodes[1], module: 'NoSuchBlock' };
    const params = { ...doc.params } as Record<string, unknown>;
    const keys = Object.keys(params);
    const moduleTwo = keys.filter((k) => k.startsWith(String(nodes[2].param_prefix)));
    delete params[moduleTwo.find((k) => k.endsWith('global_offset'))!];
    const weight = moduleTwo.find((k) => k.endsWith('subnet.0.weight'))!;
    params[weight] = { shape: [3, 3], data: new Array(9).fill(0), dtype: 'float32' };
    params['stray.weight'] = { shape: [1], data: [0], dtype: 'float32' };
    doc.params = params as FreiaDocument['params'];
    const problems = importProblems(doc);
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toContain('unknown module kind "NoSuchBlock"');
    expect(problems.join('\n')).toContain('missing parameter');
    expect(problems.join('\n')).toContain('expected shape [1, 512] (ours) or its PyTorch layout, got [3, 3]');
    expect(problems.join('\n')).toContain('parameter "stray.weight" belongs to no module');
  });

  it('reports parameter problems of a well-formed graph all at once', () => {
    const doc = structuredClone(load('graph_moons')) as Mutable<FreiaDocument>;
    const prefix = String((doc.graph.nodes[1] as { param_prefix: string }).param_prefix);
    const params = { ...doc.params } as Record<string, unknown>;
    delete params[`${prefix}global_offset`];
    params[`${prefix}subnet.0.weight`] = { shape: [3, 3], data: new Array(9).fill(0), dtype: 'float32' };
    params['stray.weight'] = { shape: [1], data: [0], dtype: 'float32' };
    doc.params = params as FreiaDocument['params'];
    const problems = importProblems(doc);
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toContain(`missing parameter "${prefix}global_offset"`);
    expect(problems.join('\n')).toContain('parameter "subnet.0.weight": expected shape [1, 512] (ours) or its PyTorch layout, got [3, 3]');
    expect(problems.join('\n')).toContain('parameter "stray.weight" belongs to no module');
  });

  it('names a wiring mistake', () => {
    const doc = structuredClone(load('split')) as Mutable<FreiaDocument>;
    const nodes = doc.graph.nodes as unknown as Record<string, unknown>[];
    const output = nodes.find((n) => n.kind === 'output')!;
    output.inputs = [['nowhere', 0]];
    expect(importProblems(doc)).toEqual([`output "${String(output.name)}": reads "nowhere", which is not defined before it (unknown node, or a cycle)`]);
  });
});
