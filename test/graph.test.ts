/** The graph builder: DAGs with several inputs, outputs and conditions; wiring errors name the node. */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { inn, subnets, WiringError, setGlobalSeed } from '../src/index.js';
import { maxAbsDiff } from './helpers/jacobian.js';

const mlp = subnets.mlp({ hidden: 16 });

describe('graph builder', () => {
  it('builds a DAG with two inputs, a condition, a skip connection and two outputs, and inverts it', () => {
    setGlobalSeed(4);
    const g = inn.graph();
    const a = g.input([10]);
    const b = g.input([4]);
    const c = g.condition([3]);
    const [a1, a2] = g.split(g.permuteRandom(a, { seed: 1 }), [4, 6]);
    const mixed = g.glow(g.concat([a2, b]), { subnet: mlp, cond: c, name: 'mix' });
    const skip = g.actNorm(a1);
    const flow = g.build({ outputs: [skip, mixed] });
    expect(flow.inputShapes).toEqual([[10], [4]]);
    expect(flow.outputShapes).toEqual([[4], [10]]);
    expect(flow.conditionShapes).toEqual([[3]]);
    const xs = [tf.randomNormal([5, 10]), tf.randomNormal([5, 4])];
    const cond = tf.randomNormal([5, 3]);
    const before = tf.memory().numTensors;
    const fwd = flow.forward(xs, { c: cond });
    const inv = flow.inverse(fwd.out, { c: cond });
    expect(maxAbsDiff(inv.out, xs)).toBeLessThan(1e-5);
    expect(tf.tidy(() => maxAbsDiff(inv.logDet, tf.neg(fwd.logDet)))).toBeLessThan(1e-5);
    tf.dispose([fwd.out, inv.out, fwd.logDet, inv.logDet] as tf.TensorContainer);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...xs, cond]);
    flow.dispose();
  });

  it('takes inputs in the order build names them', () => {
    const g = inn.graph();
    const a = g.input([2], { name: 'a' });
    const b = g.input([3], { name: 'b' });
    const flow = g.build({ outputs: [g.concat([a, b])], inputs: [b, a] });
    expect(flow.inputShapes).toEqual([[3], [2]]);
    expect(flow.graph.nodes.slice(0, 2).map((n) => n.name)).toEqual(['b', 'a']);
    flow.dispose();
  });

  it('rejects an output used twice, naming both nodes', () => {
    const g = inn.graph();
    const a = g.input([4]);
    g.actNorm(a, { name: 'first' });
    expect(() => g.actNorm(a, { name: 'second' })).toThrow('second: output 0 of "input_0" is already used by "first"');
  });

  it('rejects unused outputs, unread conditions and inputs that reach no output, all at once', () => {
    const g = inn.graph();
    const a = g.input([4]);
    g.input([2], { name: 'lonely' });
    g.condition([3], { name: 'unread' });
    const [p, q] = g.split(a, [2, 2], { name: 'halves' });
    void q;
    expect(() => g.build({ outputs: [p] })).toThrow(WiringError);
    expect(() => g.build({ outputs: [p] })).toThrow(/input "lonely" reaches no output\n.*condition "unread" is read by no node\n.*output 1 \[2\] of "halves" is used by no node/);
  });

  it('rejects a handle from another graph', () => {
    const other = inn.graph().input([4]);
    const g = inn.graph();
    expect(() => g.actNorm(other, { name: 'x' })).toThrow('x input 0: not a stream handle of this graph');
  });

  it('checks shapes at run time when they are dynamic, naming the node', () => {
    const g = inn.graph();
    const dynamic = (s: number[]) => s;
    const a = g.input(dynamic([3, 32, 32]));
    const b = g.input(dynamic([3, 16, 16]));
    expect(() => g.concat([a, b], { name: 'join' })).toThrow('join: expected shapes equal to [3, 32, 32] except in dim 0, got [3, 32, 32] and [3, 16, 16]');
  });
});
