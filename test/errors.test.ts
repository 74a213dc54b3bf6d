/**
 * Bad input: clear, typed errors that name the node and the shapes, and
 * nothing half-built left behind.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { inn, subnets, FreiaError, ShapeMismatchError, WiringError } from '../src/index.js';

const mlp = subnets.mlp({ hidden: 8 });

describe('run-time errors name the node and the shapes', () => {
  const flow = inn.input([4]).condition([3]).glow({ subnet: mlp, cond: 0, name: 'coupling' }).build();

  it('a tensor of the wrong shape', () => {
    const x = tf.zeros([5, 6]);
    const c = tf.zeros([5, 3]);
    expect(() => flow.forward(x, { c })).toThrow(ShapeMismatchError);
    expect(() => flow.forward(x, { c })).toThrow('input "input_0": expected [batch, 4], got [5, 6]');
    tf.dispose([x, c]);
  });

  it('a tensor of the wrong rank', () => {
    const x = tf.zeros([4]);
    const c = tf.zeros([1, 3]);
    expect(() => flow.forward(x, { c })).toThrow('input "input_0": expected [batch, 4], got [4]');
    tf.dispose([x, c]);
  });

  it('a missing condition', () => {
    const x = tf.zeros([2, 4]);
    // @ts-expect-error the compiler asks for the condition too
    expect(() => flow.forward(x)).toThrow(WiringError);
    // @ts-expect-error the compiler asks for the condition too
    expect(() => flow.forward(x)).toThrow('expected 1 condition tensor(s) ("condition_0"), got 0');
    x.dispose();
  });

  it('a condition of the wrong shape or batch', () => {
    const x = tf.zeros([2, 4]);
    const c = tf.zeros([3, 3]);
    expect(() => flow.forward(x, { c })).toThrow('condition "condition_0": expected batch size 2 like the other tensors, got [3, 3]');
    const c2 = tf.zeros([2, 5]);
    expect(() => flow.inverse(x, { c: c2 })).toThrow('condition "condition_0": expected [batch, 3], got [2, 5]');
    tf.dispose([x, c, c2]);
  });

  it('a wrong number of inputs', () => {
    const x = tf.zeros([2, 4]);
    const c = tf.zeros([2, 3]);
    // @ts-expect-error the compiler counts the inputs too
    expect(() => flow.forward([x, x], { c })).toThrow('expected 1 input tensor(s) ("input_0"), got 2');
    tf.dispose([x, c]);
  });

  it('no tensors leak when a call is rejected', () => {
    const x = tf.zeros([2, 5]);
    const before = tf.memory().numTensors;
    // @ts-expect-error the compiler asks for the condition too
    expect(() => flow.forward(x)).toThrow(FreiaError);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('an error inside a module names the node', () => {
    const bad = inn.input([4]).glow({ subnet: () => ({ apply: () => tf.zeros([1, 1]), variables: new Map() }), name: 'broken' }).build();
    const x = tf.zeros([2, 4]);
    const before = tf.memory().numTensors;
    expect(() => bad.forward(x)).toThrow(/node "broken" \(GLOWCouplingBlock, forward, inputs \[4\]\)/);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe('build-time errors (shapes only known at run time)', () => {
  const dynamic = (shape: number[]) => shape;

  it('split sections that do not sum to the axis', () => {
    const chain = inn.input(dynamic([3, 32, 32])).flatten();
    expect(() => chain.split([1000, 2000])).toThrow('split: expected sections summing to 3072 (dim 0 of [3072]), got [1000,2000]');
  });

  it('downsampling an odd height names the node', () => {
    expect(() => inn.input(dynamic([3, 31, 32])).irevnetDownsample({ name: 'down' })).toThrow('down: expected an even height and width, got [3, 31, 32]');
  });

  it('reshape to a different element count', () => {
    expect(() => inn.input(dynamic([12])).reshape([5, 2])).toThrow('expected a shape with 12 elements like [12], got [5, 2]');
  });

  it('concat of images with different sizes', () => {
    const chain = inn.input(dynamic([8, 32, 32])).split([4, 4]).on(1, (s) => s.reshape(dynamic([4, 16, 64])));
    expect(() => chain.concat()).toThrow('expected shapes equal to [4, 32, 32] except in dim 0, got [4, 32, 32] and [4, 16, 64]');
  });

  it('a single-stream method with two live streams', () => {
    const chain = inn.input([4]).split([2, 2]) as unknown as { actNorm(): unknown };
    expect(() => chain.actNorm()).toThrow('ActNorm needs exactly one live stream, but 2 are live ([2], [2])');
  });

  it('an undeclared condition', () => {
    const chain = inn.input([4]) as unknown as { glow(o: object): unknown };
    expect(() => chain.glow({ subnet: mlp, cond: 0, name: 'g' })).toThrow('g: condition 0 is not declared (declared: 0)');
  });

  it('a condition of the wrong spatial size', () => {
    const chain = inn.input([2, 8, 8]).condition([1, 4, 4]);
    expect(() => chain.glow({ subnet: mlp, cond: 0, name: 'g' })).toThrow("g: expected a condition with the input's spatial size [8, 8], got [1, 4, 4]");
  });

  it('a two-sided coupling on one channel, before anything is allocated', () => {
    const before = tf.memory().numTensors;
    for (const [method, kind] of [['glow', 'GLOWCouplingBlock'], ['rnvp', 'RNVPCouplingBlock'], ['nice', 'NICECouplingBlock'], ['gin', 'GINCouplingBlock'], ['allInOne', 'AllInOneBlock']] as const) {
      const chain = inn.input(dynamic([1, 28, 28])) as unknown as Record<string, (o: object) => unknown>;
      expect(() => chain[method]({ subnet: mlp, name: 'c' })).toThrow(`c: expected two non-empty channel halves (${kind} transforms each half from the other), got a split 0|1 of [1, 28, 28]`.replace('0|1', kind === 'AllInOneBlock' ? '1|0' : '0|1'));
    }
    expect(() => inn.input(dynamic([1])).rqSpline({ subnet: mlp })).toThrow(ShapeMismatchError);
    expect(() => inn.input(dynamic([4])).affineCouplingOneSided({ subnet: mlp, splitLen: 4, name: 'one' })).toThrow('one: expected a non-empty transformed half');
    expect(() => inn.input(dynamic([4])).affineCouplingOneSided({ subnet: mlp, splitLen: 0, name: 'one' })).toThrow('one: expected a non-empty transformed half and a non-empty subnet input');
    // with conditions the one-sided coupling may read no channels of its own
    inn.input(dynamic([4])).condition([2]).affineCouplingOneSided({ subnet: mlp, splitLen: 0, cond: 0 });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a conv subnet on a vector, before anything is allocated', () => {
    const before = tf.memory().numTensors;
    const conv = subnets.conv({ hidden: 8 });
    const chain = inn.input(dynamic([3, 32, 32])).flatten() as unknown as { glow(o: object): unknown };
    expect(() => chain.glow({ subnet: conv, name: 'g' })).toThrow('g: expected an image [C, H, W] for a conv subnet (an mlp subnet works on vectors), got [3072] (GLOWCouplingBlock with subnets.conv)');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a repeat body that changes the shape', () => {
    const chain = inn.input(dynamic([3, 32, 32]));
    expect(() => chain.repeat(2, (c) => c.irevnetDownsample() as unknown as typeof c)).toThrow('repeat step 0: expected a body that keeps the shapes [[3,32,32]], got [[12,16,16]]');
  });

  it('a failed step leaves the chain it was called on intact', () => {
    const chain = inn.input(dynamic([6])).actNorm();
    expect(() => chain.split([1, 2])).toThrow(ShapeMismatchError);
    const flow = chain.split([2, 4]).concat().build();
    expect(flow.graph.nodes.map((n) => n.kind)).toEqual(['input', 'module', 'module', 'module', 'output']);
    flow.dispose();
  });

  it('a network whose construction fails frees what it made', () => {
    const before = tf.memory().numTensors;
    const failing = () => { throw new Error('subnet construction failed'); };
    const chain = inn.input([4]).glow({ subnet: mlp }).glow({ subnet: failing });
    expect(() => chain.build()).toThrow('subnet construction failed');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a module whose constructor fails halfway frees its first subnet', () => {
    const before = tf.memory().numTensors;
    let calls = 0;
    const secondFails = (cIn: number, cOut: number) => {
      if (++calls === 2) throw new Error('second subnet failed');
      return mlp(cIn, cOut);
    };
    expect(() => inn.input([4]).glow({ subnet: secondFails }).build()).toThrow('second subnet failed');
    expect(calls).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
  });
});
