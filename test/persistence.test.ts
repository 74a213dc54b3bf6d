/** Saving and loading flows: same numbers after a round trip through JSON and a file; clear errors. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { inn, subnets, saveFlow, loadFlow, saveFlowFile, loadFlowFile, FlowFormatError, setGlobalSeed, type AnyFlow } from '../src/index.js';
import { FixedRandomElementwiseMultiply } from './helpers/custom-modules.js';
import { maxAbsDiff } from './helpers/jacobian.js';

function sameNumbers(a: AnyFlow, b: AnyFlow, x: tf.Tensor | tf.Tensor[], c?: tf.Tensor): void {
  const fa = a.forward(x, { c });
  const fb = b.forward(x, { c });
  expect(maxAbsDiff(fa.out, fb.out)).toBe(0);
  expect(maxAbsDiff(fa.logDet, fb.logDet)).toBe(0);
  tf.dispose([fa.out, fb.out, fa.logDet, fb.logDet] as tf.TensorContainer);
}

describe('persistence', () => {
  it('a trained conditional conv flow survives JSON with identical numbers (ActNorm initialised, permutations, LU)', () => {
    setGlobalSeed(3);
    const flow = inn.input([4, 4, 4]).condition([1, 4, 4])
      .actNorm().glow({ subnet: subnets.conv({ hidden: 8 }), cond: 0 }).permuteRandom().conv1x1LU().haarDownsample()
      .allInOne({ subnet: subnets.mlp({ hidden: 8 }), permuteSoft: true }).build();
    const x = tf.randomNormal([3, 4, 4, 4]);
    const c = tf.randomNormal([3, 1, 4, 4]);
    tf.dispose(flow.forward(x, { c }) as unknown as tf.Tensor[]); // ActNorm's data-dependent init
    for (const v of flow.trainableVariables) tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.1))));
    const json = JSON.stringify(saveFlow(flow));
    const before = tf.memory().numTensors;
    const again = loadFlow(JSON.parse(json));
    sameNumbers(flow, again, x, c);
    again.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, c]);
    flow.dispose();
  });

  it('round-trips through a file, and graphs with several inputs and outputs', async () => {
    const g = inn.graph();
    const a = g.input([3], { name: 'a' });
    const b = g.input([5], { name: 'b' });
    const [p, q] = g.split(g.concat([a, b]), [2, 6]);
    const flow = g.build({ outputs: [g.rnvp(q, { subnet: subnets.mlp({ hidden: 8 }), name: 'coupling' }), p] });
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'freia-save-')), 'flow.json');
    await saveFlowFile(flow, file);
    const again = await loadFlowFile(file);
    expect(again.graph.nodes.map((n) => n.name)).toEqual(flow.graph.nodes.map((n) => n.name));
    const xs = [tf.randomNormal([2, 3]), tf.randomNormal([2, 5])];
    sameNumbers(flow, again, xs);
    tf.dispose(xs);
    flow.dispose();
    again.dispose();
  });

  it('custom modules come back when their classes are passed', () => {
    const flow = inn.input([2]).apply(FixedRandomElementwiseMultiply).build();
    const doc = JSON.parse(JSON.stringify(saveFlow(flow)));
    expect(() => loadFlow(doc)).toThrow(/unknown module kind "FixedRandomElementwiseMultiply".*loadFlow\(doc, \{ modules: \{ MyModule \} \}\)/s);
    const again = loadFlow(doc, { modules: { FixedRandomElementwiseMultiply } });
    const x = tf.randomNormal([4, 2]);
    sameNumbers(flow, again, x);
    tf.dispose(x);
    flow.dispose();
    again.dispose();
  });

  it('a user-written subnet cannot be saved, and the error names the node', () => {
    const custom = (cIn: number, cOut: number) => tf.sequential({ layers: [tf.layers.dense({ inputShape: [cIn], units: cOut })] });
    const flow = inn.input([4]).glow({ subnet: custom, name: 'handmade' }).build();
    expect(() => saveFlow(flow)).toThrow('node "handmade": option "subnet" is a user function; only subnets.mlp/subnets.conv subnets can be saved');
    flow.dispose();
  });

  it('reports every weight problem at once and frees what it made', () => {
    const flow = inn.input([4]).actNorm({ name: 'norm' }).glow({ subnet: subnets.mlp({ hidden: 8 }), name: 'g' }).build();
    const doc = JSON.parse(JSON.stringify(saveFlow(flow)));
    delete doc.weights.norm.loc;
    doc.weights.g['subnet1.0.weight'].shape = [3, 8];
    doc.weights.ghost = {};
    const before = tf.memory().numTensors;
    let problems: readonly string[] = [];
    try {
      loadFlow(doc);
    } catch (error) {
      expect(error).toBeInstanceOf(FlowFormatError);
      problems = (error as FlowFormatError).problems;
    }
    expect(problems).toEqual([
      'node "norm": missing weight "loc"',
      'node "g": weight "subnet1.0.weight" has shape [3, 8], expected [2, 8]',
      'weights for "ghost", which is no module node',
    ]);
    expect(tf.memory().numTensors).toBe(before);
    flow.dispose();
  });
});
