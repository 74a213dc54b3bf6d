/**
 * The seed's README graph (two inputs of 100 and 20, a condition of 42,
 * PermuteRandom, two Splits, ActNorm, Concat with the second input, a
 * conditioned AffineCouplingOneSided, Concat, two outputs), written in both
 * APIs with the fixture's node names, loaded with FrEIA's weights from
 * graph_readme.json and matched against FrEIA's recorded numbers.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { readFixture } from './helpers/fixtures.js';
import {
  inn, subnets, loadFreiaWeights, toTensor, FreiaImportError,
  InputNode, ConditionNode, Node, OutputNode, GraphINN, Fm,
  type AnyFlow, type FreiaDocument,
} from '../src/index.js';

// Read inside each test, so a missing fixture fails the tests, not the file's loading.
const readme = () => readFixture('graph_readme');
const subnet = subnets.mlp({ hidden: 64 });

function typedGraph(): AnyFlow {
  const g = inn.graph();
  const in1 = g.input([100], { name: 'in1' });
  const in2 = g.input([20], { name: 'in2' });
  const cond = g.condition([42], { name: 'cond' });
  const perm = g.permuteRandom(in1, { name: 'perm' });
  const [split1a, split1b] = g.split(perm, [50, 50], { name: 'split1' });
  const [split2a, split2b] = g.split(split1b, [25, 25], { name: 'split2' });
  const actnorm = g.actNorm(split2b, { name: 'actnorm' });
  const concat1 = g.concat([actnorm, in2], { name: 'concat1' });
  const affine = g.affineCouplingOneSided(concat1, { subnet, cond, name: 'affine' });
  const concat2 = g.concat([split2a, affine], { name: 'concat2' });
  return g.build({ outputs: [split1a, concat2] });
}

function freiaStyle(): GraphINN {
  const in1 = new InputNode(100, { name: 'in1' });
  const in2 = new InputNode(20, { name: 'in2' });
  const cond = new ConditionNode(42, { name: 'cond' });
  const perm = new Node(in1, Fm.PermuteRandom, {}, { name: 'perm' });
  const split1 = new Node(perm, Fm.Split, {}, { name: 'split1' });
  const split2 = new Node(split1.out1, Fm.Split, {}, { name: 'split2' });
  const actnorm = new Node(split2.out1, Fm.ActNorm, {}, { name: 'actnorm' });
  const concat1 = new Node([actnorm.out0, in2.out0], Fm.Concat, {}, { name: 'concat1' });
  const affine = new Node(concat1, Fm.AffineCouplingOneSided, { subnet_constructor: subnet }, { conditions: cond, name: 'affine' });
  const concat2 = new Node([split2.out0, affine.out0], Fm.Concat, {}, { name: 'concat2' });
  const output1 = new OutputNode(split1.out0, { name: 'output1' });
  const output2 = new OutputNode(concat2, { name: 'output2' });
  return new GraphINN([in1, in2, cond, perm, split1, split2, actnorm, concat1, affine, concat2, output1, output2]);
}

function compare(flow: AnyFlow, doc: FreiaDocument): { out: number; logDet: number; inverse: number; inverseLogDet: number } {
  const c = doc.cases![0];
  return tf.tidy(() => {
    const diff = (a: tf.Tensor | tf.Tensor[], b: readonly { shape: readonly number[]; data: readonly number[] }[]) =>
      Math.max(...(Array.isArray(a) ? a : [a]).map((t, k) => tf.max(tf.abs(tf.sub(t, toTensor(b[k])))).dataSync()[0]));
    const conds = c.conditions.map(toTensor);
    const fwd = flow.forward(c.inputs.map(toTensor), { c: conds });
    const inv = flow.inverse(c.outputs.map(toTensor), { c: conds });
    return { out: diff(fwd.out, c.outputs), logDet: diff(fwd.logDet, [c.log_jac_det]), inverse: diff(inv.out, c.rev_inputs), inverseLogDet: diff(inv.logDet, [c.rev_log_jac_det]) };
  });
}

describe("the seed's README graph with FrEIA's weights", () => {
  for (const [api, make] of [['typed graph builder', typedGraph], ['FrEIA-style API', () => freiaStyle().flow]] as const) {
    it(`${api}: matches graph_readme.json`, () => {
      const doc = readme();
      const flow = make();
      loadFreiaWeights(flow, doc);
      const errors = compare(flow, doc);
      expect(errors.out).toBeLessThan(1e-4);
      expect(errors.inverse).toBeLessThan(1e-4);
      expect(errors.logDet).toBeLessThan(1e-3);
      expect(errors.inverseLogDet).toBeLessThan(1e-3);
      flow.dispose();
    });
  }

  it('FrEIA-style forward returns [out, logJacDet] and runs in reverse with rev', () => {
    const doc = readme();
    const net = freiaStyle();
    loadFreiaWeights(net.flow, doc);
    const c = doc.cases![0];
    const [z, logJac] = net.forward(c.inputs.map(toTensor), { c: c.conditions.map(toTensor) });
    expect((z as tf.Tensor[]).map((t) => t.shape)).toEqual([[4, 50], [4, 70]]);
    const [x] = net.forward(z, { c: c.conditions.map(toTensor), rev: true });
    expect(tf.max(tf.abs(tf.sub((x as tf.Tensor[])[0], toTensor(c.inputs[0])))).dataSync()[0]).toBeLessThan(1e-4);
    expect(logJac.shape).toEqual([4]);
    net.dispose();
  });

  it('reports every node or parameter it cannot place, and leaves the weights as they were', () => {
    const doc = readme();
    const g = inn.graph();
    const in1 = g.input([100], { name: 'in1' });
    const normed = g.actNorm(in1, { name: 'renamed' });
    const flow = g.build({ outputs: [normed] });
    const before = flow.modules[1]!.params.get('loc')!.dataSync().slice();
    let problems: readonly string[] = [];
    try {
      loadFreiaWeights(flow, doc);
    } catch (error) {
      expect(error).toBeInstanceOf(FreiaImportError);
      problems = (error as FreiaImportError).problems;
    }
    expect(problems).toEqual(expect.arrayContaining([
      'node "perm" (PermuteRandom) of "graph_readme" has no module node of that name in the flow',
      'node "actnorm" (ActNorm) of "graph_readme" has no module node of that name in the flow',
      'node "affine" (AffineCouplingOneSided) of "graph_readme" has no module node of that name in the flow',
      'node "renamed" of the flow has parameters but no node of that name in "graph_readme"',
    ]));
    expect(Array.from(flow.modules[1]!.params.get('loc')!.dataSync())).toEqual(Array.from(before));
    flow.dispose();
  });
});
