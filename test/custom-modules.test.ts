/** Custom modules in the chain and the graph builder: the seed's two examples and its "more complicated example". */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { inn, ShapeMismatchError } from '../src/index.js';
import { ConditionalSwap, Doubler, FixedRandomElementwiseMultiply } from './helpers/custom-modules.js';
import { maxAbsDiff } from './helpers/jacobian.js';

describe('custom modules', () => {
  it('FixedRandomElementwiseMultiply twice in a chain (the basic usage example)', () => {
    const flow = inn.input([2]).apply(FixedRandomElementwiseMultiply).apply(FixedRandomElementwiseMultiply).build();
    const x = tf.randomNormal([10, 2]);
    const before = tf.memory().numTensors;
    const { out: z, logDet } = flow.forward(x);
    const factors = flow.modules.filter((m) => m).map((m) => m!.params.get('random_factor')!.dataSync());
    const expectedZ = tf.tidy(() => tf.mul(x, tf.tensor2d([[factors[0][0] * factors[1][0], factors[0][1] * factors[1][1]]])));
    expect(maxAbsDiff(z, expectedZ)).toBeLessThan(1e-6);
    const expectedLogDet = [...factors[0], ...factors[1]].reduce((s, f) => s + Math.log(f), 0);
    logDet.dataSync().forEach((v) => expect(v).toBeCloseTo(expectedLogDet, 5));
    const { out: back, logDet: reverse } = flow.inverse(z);
    expect(maxAbsDiff(back, x)).toBeLessThan(1e-6);
    reverse.dataSync().forEach((v) => expect(v).toBeCloseTo(-expectedLogDet, 5));
    tf.dispose([z, logDet, back, reverse, expectedZ]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    flow.dispose();
  });

  it('the more complicated example as a graph: two inputs, a condition, ConditionalSwap, two outputs', () => {
    const g = inn.graph();
    const input1 = g.input([2], { name: 'input_1' });
    const input2 = g.input([2], { name: 'input_2' });
    const cond = g.condition([1], { name: 'condition' });
    const [mult1] = g.apply(FixedRandomElementwiseMultiply, [input1], undefined, { name: 'mult_1' });
    const [swap0, swap1] = g.apply(ConditionalSwap, [mult1, input2], undefined, { cond, name: 'conditional_swap' });
    const [mult2] = g.apply(FixedRandomElementwiseMultiply, [swap1], undefined, { name: 'mult_2' });
    const flow = g.build({ outputs: [swap0, mult2] });

    const x1 = tf.randomNormal([10, 2]);
    const x2 = tf.randomNormal([10, 2]);
    const c = tf.tensor2d([1, -1, 1, -1, 1, -1, 1, -1, 1, -1], [10, 1]);
    const { out, logDet } = flow.forward([x1, x2], { c });
    const [z1, z2] = out as tf.Tensor[];
    const f1 = flow.modules.find((m) => m && m.params.has('random_factor'))!.params.get('random_factor')!;
    // Samples with c > 0 keep their order: z1 = x1·f1; the others are swapped: z1 = x2.
    const z1Rows = z1.arraySync() as number[][];
    const x1f = (tf.mul(x1, f1).arraySync() as number[][]);
    const x2Rows = x2.arraySync() as number[][];
    z1Rows.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(i % 2 === 0 ? x1f[i][j] : x2Rows[i][j], 5)));
    const { out: back } = flow.inverse([z1, z2], { c, jac: false });
    expect(maxAbsDiff(back as tf.Tensor[], [x1, x2])).toBeLessThan(1e-5);
    tf.dispose([x1, x2, c, z1, z2, logDet, ...(back as tf.Tensor[])]);
    flow.dispose();
  });

  it('a custom module gets channels-first tensors, as in FrEIA', () => {
    const seen: number[][] = [];
    class ScaleChannels extends FixedRandomElementwiseMultiply {
      override forward(xs: readonly tf.Tensor[], _cs: readonly tf.Tensor[], options: { rev: boolean; jac: boolean }) {
        seen.push(xs[0].shape);
        // Scale channel k by k + 1: an index into axis 1 only makes sense channels-first.
        const scale = tf.reshape(tf.range(1, xs[0].shape[1]! + 1), [1, -1, 1, 1]);
        return { out: [options.rev ? tf.div(xs[0], scale) : tf.mul(xs[0], scale)], logDet: 0 };
      }
    }
    const flow = inn.input([3, 2, 2]).apply(ScaleChannels).build();
    const x = tf.ones([1, 3, 2, 2]);
    const { out, logDet } = flow.forward(x);
    expect(seen).toEqual([[1, 3, 2, 2]]);
    expect(Array.from((out as tf.Tensor).dataSync())).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
    expect(flow.graph.nodes[1].name).toBe('ScaleChannels_1');
    tf.dispose([x, out as tf.Tensor, logDet]);
    flow.dispose();
  });

  it('a declared shape rule is used at run time too, and a failing module names the node', () => {
    const chain = inn.input([3]).apply(Doubler);
    expect(chain.shapes).toEqual([[6]]);
    class Broken extends FixedRandomElementwiseMultiply {}
    expect(() => inn.input([3, 4]).apply(Broken, undefined, { name: 'broken' })).not.toThrow();
    class Picky extends ConditionalSwap {
      override outputShapes(shapes: readonly (readonly number[])[]): number[][] {
        if (shapes.length !== 2) throw new Error('needs two inputs');
        return shapes.map((s) => [...s]);
      }
    }
    expect(() => inn.input([4]).apply(Picky, undefined, { name: 'picky' })).toThrow(ShapeMismatchError);
    expect(() => inn.input([4]).apply(Picky, undefined, { name: 'picky' })).toThrow('picky: expected inputs Picky accepts, got [4] (needs two inputs)');
  });
});
