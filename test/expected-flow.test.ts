/**
 * `loadFlow(source, { expect })` and `importFreia(doc, { expect })`: a
 * document that is the flow expected loads and runs as the flow it was saved
 * from; one that is not is refused with a FlowMismatchError naming each
 * difference, before anything is allocated. (The types these give are
 * checked in type-tests/expected-flow.test-d.ts.)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { inn, subnets, saveFlow, loadFlow, memoryHandler, importFreia, toTensor, FlowMismatchError, type FreiaDocument } from '../src/index.js';
import { loadFlowFile, saveFlowFile } from '../src/node/index.js';
import { fixturePath } from './helpers/fixtures.js';
import { maxAbsDiff } from './helpers/jacobian.js';
import { thrownByAsync } from './helpers/thrown.js';

const network = () => inn.input([4]).actNorm().glow({ subnet: subnets.mlp({ hidden: 8 }) }).split([1, 3]);

async function saved() {
  const flow = network().build();
  const store = memoryHandler();
  await saveFlow(flow, store);
  return { flow, store };
}

/** The mismatch `run` throws, with the tensors and variables it left behind (none expected). */
async function refusal(run: () => Promise<unknown> | unknown): Promise<{ error: FlowMismatchError; leaked: number; leakedVariables: number }> {
  const before = tf.memory().numTensors;
  const variables = Object.keys(tf.engine().registeredVariables).length;
  const caught = await thrownByAsync(run);
  expect(caught).toBeInstanceOf(FlowMismatchError);
  return { error: caught as FlowMismatchError, leaked: tf.memory().numTensors - before, leakedVariables: Object.keys(tf.engine().registeredVariables).length - variables };
}

describe('loadFlow with expect', () => {
  it('loads a document that is the chain expected, and runs as the flow that was saved', async () => {
    const { flow, store } = await saved();
    const loaded = await loadFlow(store, { expect: network() });
    const x = tf.randomNormal([5, 4]);
    const [a1, a2] = flow.forward(x).out;
    const [b1, b2] = loaded.forward(x).out;
    expect(maxAbsDiff(a1, b1)).toBe(0);
    expect(maxAbsDiff(a2, b2)).toBe(0);
    expect(b1.shape).toEqual([5, 1]);
    tf.dispose([x, a1, a2, b1, b2]);
    flow.dispose();
    loaded.dispose();
  });

  it('loads a document with the shapes expected', async () => {
    const { flow, store } = await saved();
    const loaded = await loadFlow(store, { expect: { inputs: [[4]], outputs: [[1], [3]] } });
    expect(loaded.outputShapes).toEqual([[1], [3]]);
    flow.dispose();
    loaded.dispose();
  });

  it('refuses other output shapes, naming both, with nothing allocated', async () => {
    const { flow, store } = await saved();
    const { error, leaked, leakedVariables } = await refusal(() => loadFlow(store, { expect: { inputs: [[4]], outputs: [[4]] } }));
    expect(error.message).toContain('outputs: expected [[4]], the document has [[1], [3]]');
    expect(error.problems).toHaveLength(1);
    expect([leaked, leakedVariables]).toEqual([0, 0]);
    flow.dispose();
  });

  it('refuses a condition the document does not declare, and lists every difference', async () => {
    const { flow, store } = await saved();
    const { error } = await refusal(() => loadFlow(store, { expect: { inputs: [[2]], outputs: [[1], [3]], conditions: [[10]] } }));
    expect(error.problems).toEqual(['inputs: expected [[2]], the document has [[4]]', 'conditions: expected [[10]], the document has []']);
    flow.dispose();
  });

  it('refuses a chain with other modules (same shapes), naming the first that differs', async () => {
    const { flow, store } = await saved();
    const other = inn.input([4]).actNorm().rnvp({ subnet: subnets.mlp({ hidden: 8 }) }).split([1, 3]);
    const { error, leaked } = await refusal(() => loadFlow(store, { expect: other }));
    expect(error.problems).toEqual(['module 1: expected RNVPCouplingBlock, the document has GLOWCouplingBlock']);
    expect(leaked).toBe(0);
    const longer = inn.input([4]).actNorm().actNorm().glow({ subnet: subnets.mlp({ hidden: 8 }) }).split([1, 3]);
    const { error: count } = await refusal(() => loadFlow(store, { expect: longer }));
    expect(count.problems[0]).toMatch(/^modules: expected 4 \(ActNorm, ActNorm, GLOWCouplingBlock, Split\), the document has 3/);
    flow.dispose();
  });

  it('refuses an expectation that is neither shapes nor a chain', async () => {
    const { flow, store } = await saved();
    // @ts-expect-error deliberately not a shape list
    const { error } = await refusal(() => loadFlow(store, { expect: { inputs: 4, outputs: [[1], [3]] } }));
    expect(error.problems).toEqual(['expect.inputs: expected a list of shapes such as [[2]], got 4']);
    // @ts-expect-error deliberately not an object
    const { error: scalar } = await refusal(() => loadFlow(store, { expect: 'flow' }));
    expect(scalar.message).toContain('expect: expected { inputs, outputs, conditions? } or an unbuilt chain');
    flow.dispose();
  });
});

describe('loadFlowFile with expect', () => {
  it('checks a file as loadFlow checks a handler', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'freia-expect-'));
    try {
      const flow = network().build();
      await saveFlowFile(flow, path.join(dir, 'flow'));
      const loaded = await loadFlowFile(path.join(dir, 'flow'), { expect: network() });
      expect(loaded.outputShapes).toEqual([[1], [3]]);
      const { error } = await refusal(() => loadFlowFile(path.join(dir, 'flow'), { expect: { inputs: [[4]], outputs: [[4]] } }));
      expect(error.problems).toEqual(['outputs: expected [[4]], the document has [[1], [3]]']);
      flow.dispose();
      loaded.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('importFreia with expect', () => {
  const glow = (): FreiaDocument => JSON.parse(readFileSync(fixturePath('glow_fc'), 'utf8')) as FreiaDocument;

  it('imports a FrEIA export that is the chain expected, with FrEIA\'s outputs', () => {
    const doc = glow();
    const flow = importFreia(doc, { expect: inn.input([7]).glow({ subnet: subnets.mlp({ hidden: 32 }) }) });
    const first = doc.cases![0]; // every fixture has cases
    const x = toTensor(first.inputs[0]);
    const z = flow.forward(x).out;
    const want = toTensor(first.outputs[0]);
    expect(maxAbsDiff(z, want)).toBeLessThan(1e-4);
    tf.dispose([x, z, want]);
    flow.dispose();
  });

  it('refuses an export of other shapes before creating a weight', async () => {
    const { error, leaked, leakedVariables } = await refusal(() => importFreia(glow(), { expect: { inputs: [[8]], outputs: [[8]] } }));
    expect(error.message).toMatch(/^importFreia "[^"]+": the document is not the flow expected: 2 difference\(s\)/);
    expect([leaked, leakedVariables]).toEqual([0, 0]);
  });
});
