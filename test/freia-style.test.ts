/** The FrEIA-style API: SequenceINN, GraphINN, nodes, custom modules, and FrEIA's classic mistakes. */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Fm, InputNode, ConditionNode, Node, OutputNode, GraphINN, SequenceINN, subnets, WiringError, ShapeMismatchError, FreiaError } from '../src/index.js';
import { ConditionalSwap, FixedRandomElementwiseMultiply } from './helpers/custom-modules.js';
import { maxAbsDiff } from './helpers/jacobian.js';

const subnet = subnets.mlp({ hidden: 16 });

describe('SequenceINN', () => {
  it('appends FrEIA modules with snake_case arguments and runs both ways', () => {
    const net = new SequenceINN(4);
    for (let k = 0; k < 3; k++) net.append(Fm.AllInOneBlock, { subnet_constructor: subnet, permute_soft: true, affine_clamping: 1.5 });
    const x = tf.randomNormal([6, 4]);
    const [z, logJac] = net.forward(x);
    const [back, revJac] = net.forward(z, { rev: true });
    expect(maxAbsDiff(back, x)).toBeLessThan(1e-5);
    expect(tf.tidy(() => maxAbsDiff(revJac, tf.neg(logJac)))).toBeLessThan(1e-5);
    expect(net.trainableVariables.length).toBe(3 * 6);
    tf.dispose([x, z, logJac, back, revJac]);
    net.dispose();
  });

  it('conditions by index with cond and cond_shape, as FrEIA', () => {
    const net = new SequenceINN(6);
    net.append(Fm.GLOWCouplingBlock, { subnet_constructor: subnet, cond: 1, cond_shape: [3] });
    net.append(Fm.PermuteRandom, { seed: 1 });
    net.append(Fm.GLOWCouplingBlock, { subnet_constructor: subnet, cond: 1 });
    const x = tf.randomNormal([2, 6]);
    const c1 = tf.randomNormal([2, 3]);
    expect(() => net.forward(x, { c: [] })).toThrow('SequenceINN: forward needs c[1]');
    const [z] = net.forward(x, { c: [tf.zeros([2, 9]), c1] });
    const [back] = net.forward(z, { c: [tf.zeros([2, 9]), c1], rev: true });
    expect(maxAbsDiff(back, x)).toBeLessThan(1e-5);
    expect(() => net.append(Fm.GLOWCouplingBlock, { subnet_constructor: subnet, cond: 1, cond_shape: [4] })).toThrow('cond 1 was declared with shape [3], now [4]');
    net.dispose();
  });

  it('runs the seed\'s basic custom-module example', () => {
    const net = new SequenceINN(2);
    for (let i = 0; i < 2; i++) net.append(FixedRandomElementwiseMultiply);
    const x = tf.randomNormal([10, 2]);
    const [z, logJac] = net.forward(x);
    const [back, revJac] = net.forward(z, { rev: true });
    expect(maxAbsDiff(back, x)).toBeLessThan(1e-6);
    expect(tf.tidy(() => maxAbsDiff(revJac, tf.neg(logJac)))).toBeLessThan(1e-6);
    net.dispose();
  });
});

describe('GraphINN', () => {
  it("runs the seed's more complicated example (ConditionalSwap with a condition, two outputs)", () => {
    const input1 = new InputNode(2, { name: 'input_1' });
    const input2 = new InputNode(2, { name: 'input_2' });
    const cond = new ConditionNode(1, { name: 'condition' });
    const mult1 = new Node(input1.out0, FixedRandomElementwiseMultiply, {}, { name: 'mult_1' });
    const condSwap = new Node([mult1.out0, input2.out0], ConditionalSwap, {}, { conditions: cond, name: 'conditional_swap' });
    const mult2 = new Node(condSwap.out1, FixedRandomElementwiseMultiply, {}, { name: 'mult_2' });
    const output1 = new OutputNode(condSwap.out0, { name: 'output_1' });
    const output2 = new OutputNode(mult2.out0, { name: 'output_2' });
    const net = new GraphINN([input1, input2, cond, mult1, condSwap, mult2, output1, output2]);
    const x1 = tf.randomNormal([10, 2]);
    const x2 = tf.randomNormal([10, 2]);
    const c = tf.randomNormal([10, 1]);
    const [[z1, z2]] = net.forward([x1, x2], { c }) as [tf.Tensor[], tf.Tensor];
    const [[x1Rev, x2Rev]] = net.forward([z1, z2], { c, rev: true, jac: false }) as [tf.Tensor[], tf.Tensor];
    expect(maxAbsDiff([x1Rev, x2Rev], [x1, x2])).toBeLessThan(1e-6);
    expect(net.getModuleByName('mult_1')).not.toBeNull();
    net.dispose();
  });

  it('takes the node list in any order', () => {
    const inp = new InputNode(4, { name: 'in' });
    const a = new Node(inp, Fm.ActNorm, {}, { name: 'a' });
    const out = new OutputNode(a, { name: 'out' });
    const net = new GraphINN([out, a, inp]);
    expect(net.flow.graph.nodes.map((n) => n.name)).toEqual(['in', 'a', 'out']);
    net.dispose();
  });
});

describe("FrEIA's classic mistakes get errors that name the node", () => {
  it('a node nobody consumes', () => {
    const inp = new InputNode(4, { name: 'in' });
    const split = new Node(inp, Fm.Split, {}, { name: 'halves' });
    const out = new OutputNode(split.out0, { name: 'out' });
    expect(() => new GraphINN([inp, split, out])).toThrow('output 1 [2] of "halves" is used by no node');
  });

  it('out1 of a single-output node', () => {
    const inp = new InputNode(4, { name: 'in' });
    const a = new Node(inp, Fm.ActNorm, {}, { name: 'norm' });
    expect(() => a.out1).toThrow(WiringError);
    expect(() => a.out1).toThrow('node "norm" has 1 output(s): out1 does not exist');
  });

  it('an output consumed twice', () => {
    const inp = new InputNode(4, { name: 'in' });
    new Node(inp, Fm.ActNorm, {}, { name: 'first' });
    expect(() => new Node(inp, Fm.ActNorm, {}, { name: 'second' })).toThrow('second: output 0 of "in" is already used by "first"');
  });

  it('a wrong number of inputs', () => {
    const a = new InputNode(4, { name: 'a' });
    const b = new InputNode(4, { name: 'b' });
    expect(() => new Node([a, b], Fm.GLOWCouplingBlock, { subnet_constructor: subnet }, { name: 'glow' })).toThrow(ShapeMismatchError);
    expect(() => new Node([a, b], Fm.GLOWCouplingBlock, { subnet_constructor: subnet }, { name: 'glow' })).toThrow('glow: expected exactly 1 input, got 2 inputs');
    // the failed node consumed nothing: a is still free
    expect(() => new Node(a, Fm.ActNorm, {}, { name: 'ok' })).not.toThrow();
  });

  it('a condition of the wrong width at run time', () => {
    const inp = new InputNode(4, { name: 'in' });
    const cond = new ConditionNode(3, { name: 'label' });
    const block = new Node(inp, Fm.GLOWCouplingBlock, { subnet_constructor: subnet }, { conditions: cond, name: 'glow' });
    const net = new GraphINN([inp, cond, block, new OutputNode(block)]);
    const x = tf.zeros([2, 4]);
    const c = tf.zeros([2, 5]);
    expect(() => net.forward(x, { c })).toThrow('condition "label": expected [batch, 3], got [2, 5]');
    tf.dispose([x, c]);
    net.dispose();
  });

  it('a condition of the wrong spatial size at build time', () => {
    const inp = new InputNode(2, 8, 8, { name: 'img' });
    const cond = new ConditionNode(1, 4, 4, { name: 'small' });
    expect(() => new Node(inp, Fm.GLOWCouplingBlock, { subnet_constructor: subnets.conv({ hidden: 4 }) }, { conditions: cond, name: 'glow' })).toThrow("glow: expected a condition with the input's spatial size [8, 8], got [1, 4, 4]");
  });

  it('an unknown module name', () => {
    const inp = new InputNode(4, { name: 'in' });
    expect(() => new Node(inp, 'GlowCouplingBlock' as typeof Fm.GLOWCouplingBlock, {}, { name: 'typo' })).toThrow(FreiaError);
    expect(() => new Node(inp, 'GlowCouplingBlock' as typeof Fm.GLOWCouplingBlock, {}, { name: 'typo' })).toThrow('unknown module kind "GlowCouplingBlock"');
  });

  it('a node that reads a node missing from the list', () => {
    const inp = new InputNode(4, { name: 'in' });
    const a = new Node(inp, Fm.ActNorm, {}, { name: 'a' });
    const out = new OutputNode(a, { name: 'out' });
    expect(() => new GraphINN([inp, out])).toThrow('node "out" reads "a", which is not in the node list');
  });
});
