/**
 * `freia-ts/node`: files in tfjs-node's `file://` layout (model.json +
 * weights.bin), the `file://` router it registers, freia-ts/1 files of
 * earlier versions, and reading a saved graph without building it.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { inn, subnets, saveFlow, loadFlow, FlowFormatError, FreiaError, type AnyFlow } from '../src/index.js';
import { saveFlowFile, loadFlowFile, loadFlowGraph, fileSystem } from '../src/node/index.js';
import { ConditionalSwap, FixedRandomElementwiseMultiply, customModuleFlow } from './helpers/custom-modules.js';
import { maxAbsDiff } from './helpers/jacobian.js';

const savedDir = path.join(import.meta.dirname, 'fixtures', 'saved');
const created: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'freia-node-'));
  created.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});
afterAll(() => expect(created.filter((dir) => existsSync(dir))).toEqual([]));

function sameNumbers(a: AnyFlow, b: AnyFlow, x: tf.Tensor | tf.Tensor[], c?: tf.Tensor): void {
  const fa = a.forward(x, { c });
  const fb = b.forward(x, { c });
  expect(maxAbsDiff(fa.out, fb.out)).toBe(0);
  expect(maxAbsDiff(fa.logDet, fb.logDet)).toBe(0);
  tf.dispose([fa.out, fb.out, fa.logDet, fb.logDet] as tf.TensorContainer);
}

const conditionalFlow = () => inn.input([3]).condition([2]).actNorm({ name: 'norm' }).glow({ subnet: subnets.mlp({ hidden: 8 }), cond: 0, name: 'glow' }).permuteRandom({ name: 'perm' }).build();

describe('freia-ts/node', () => {
  it("saveFlowFile writes tfjs-node's layout, and loadFlowFile reads the directory or its model.json", async () => {
    const flow = conditionalFlow();
    const dir = path.join(scratch(), 'models', 'cond'); // parents are created
    const result = await saveFlowFile(flow, dir);
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
    const modelJson = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
    expect(Object.keys(modelJson)).toEqual(['modelTopology', 'weightsManifest', 'format', 'generatedBy', 'convertedBy']);
    expect(modelJson.modelTopology).toMatchObject({ format: 'freia-ts', version: 2 });
    expect(modelJson.weightsManifest).toHaveLength(1);
    expect(modelJson.weightsManifest[0].paths).toEqual(['weights.bin']);
    const specs: { name: string; shape: number[]; dtype: string }[] = modelJson.weightsManifest[0].weights;
    expect(specs.map((s) => s.name)).toContain('glow/subnet1.0.weight');
    const bytes = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * (s.dtype === 'bool' ? 1 : 4), 0);
    expect(statSync(path.join(dir, 'weights.bin')).size).toBe(bytes);
    expect(result.modelArtifactsInfo.weightDataBytes).toBe(bytes);

    const x = tf.randomNormal([4, 3]);
    const c = tf.randomNormal([4, 2]);
    for (const where of [dir, path.join(dir, 'model.json')]) {
      const again = await loadFlowFile(where);
      sameNumbers(flow, again, x, c);
      again.dispose();
    }
    tf.dispose([x, c]);
    flow.dispose();
  });

  it("the files read the way tfjs-node's handler reads them (tf.io.getModelArtifactsForJSON)", async () => {
    const flow = conditionalFlow();
    const dir = scratch();
    await saveFlowFile(flow, dir);
    // tfjs-node's NodeFileSystem.load: parse model.json, read each manifest path beside it, concatenate.
    const modelJson = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
    const artifacts = await tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
      const buffers = manifest.flatMap((group) => group.paths.map((p) => readFileSync(path.join(dir, p))));
      const data = Buffer.concat(buffers);
      return [manifest.flatMap((group) => group.weights), data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer];
    });
    const again = await loadFlow(tf.io.fromMemory(artifacts));
    const x = tf.randomNormal([4, 3]);
    const c = tf.randomNormal([4, 2]);
    sameNumbers(flow, again, x, c);
    tf.dispose([x, c]);
    flow.dispose();
    again.dispose();
  });

  it('importing the entry makes file:// URLs work without tfjs-node', async () => {
    expect(tf.io.getSaveHandlers('file:///tmp/x')).toHaveLength(1);
    expect(tf.io.getLoadHandlers('file:///tmp/x')).toHaveLength(1);
    const flow = conditionalFlow();
    const dir = scratch();
    await saveFlow(flow, `file://${dir}/flow`);
    const again = await loadFlow(`file://${dir}/flow/model.json`);
    const x = tf.randomNormal([2, 3]);
    const c = tf.randomNormal([2, 2]);
    sameNumbers(flow, again, x, c);
    tf.dispose([x, c]);
    flow.dispose();
    again.dispose();
  });

  it('freia-ts/1 files of earlier versions load, by path and by file:// URL, with their recorded outputs', async () => {
    const recorded = JSON.parse(readFileSync(path.join(savedDir, 'graph-splits.expected.json'), 'utf8'));
    const dir = scratch();
    const file = path.join(dir, 'old-flow.json');
    copyFileSync(path.join(savedDir, 'graph-splits.json'), file);
    const tensor = (r: { shape: number[]; values: number[] }) => tf.tensor(r.values, r.shape);
    const xs: tf.Tensor[] = recorded.inputs.map(tensor);
    const c = tensor(recorded.conditions[0]);
    const expected: tf.Tensor[] = recorded.outputs.map(tensor);
    const expectedLogDet = tensor(recorded.logDet);
    for (const flow of [await loadFlowFile(file), await loadFlow(`file://${file}`)]) {
      const { out, logDet } = flow.forward(xs, { c });
      expect(maxAbsDiff(out as tf.Tensor[], expected)).toBeLessThan(1e-5);
      expect(maxAbsDiff(logDet, expectedLogDet)).toBeLessThan(1e-5);
      tf.dispose([out, logDet] as tf.TensorContainer);
      flow.dispose();
    }
    tf.dispose([...xs, c, ...expected, expectedLogDet]);
  });

  it('custom modules are passed as with loadFlow', async () => {
    const flow = customModuleFlow();
    const dir = scratch();
    await saveFlowFile(flow, dir);
    await expect(loadFlowFile(dir)).rejects.toThrow(FlowFormatError);
    const again = await loadFlowFile(dir, { modules: { FixedRandomElementwiseMultiply, ConditionalSwap } });
    const xs = [tf.randomNormal([4, 2]), tf.randomNormal([4, 2])];
    const c = tf.tensor2d([1, -1, 1, -1], [4, 1]);
    sameNumbers(flow, again, xs, c);
    tf.dispose([...xs, c]);
    flow.dispose();
    again.dispose();
  });

  it('loadFlowGraph reads the definition data without building anything', async () => {
    const flow = conditionalFlow();
    const dir = scratch();
    await saveFlowFile(flow, dir);
    flow.dispose();
    const before = { tensors: tf.memory().numTensors, variables: Object.keys(tf.engine().registeredVariables).length };
    rmSync(path.join(dir, 'weights.bin')); // not needed to draw
    const graph = await loadFlowGraph(dir);
    expect(graph.nodes.map((n) => n.name)).toEqual(['input_0', 'condition_0', 'norm', 'glow', 'perm', 'output_0']);
    expect(graph.nodes[3]).toMatchObject({ kind: 'module', module: { kind: 'GLOWCouplingBlock', args: { subnet: { $subnet: { kind: 'mlp', hidden: 8 } } } } });
    const old = await loadFlowGraph(path.join(savedDir, 'custom-modules.json'));
    expect(old.nodes.find((n) => n.name === 'conditional_swap')).toMatchObject({ module: { kind: 'ConditionalSwap' } });
    expect({ tensors: tf.memory().numTensors, variables: Object.keys(tf.engine().registeredVariables).length }).toEqual(before);
    const other = path.join(dir, 'other.json');
    writeFileSync(other, JSON.stringify({ format: 'layers-model', modelTopology: { class_name: 'Sequential' } }));
    await expect(loadFlowGraph(other)).rejects.toThrow('modelTopology.format: is undefined, expected "freia-ts"');
  });

  it('says what is wrong with a path', async () => {
    const dir = scratch();
    await expect(loadFlowFile(path.join(dir, 'nothing'))).rejects.toThrow(`${path.join(dir, 'nothing')} does not exist`);
    await expect(loadFlowFile(dir)).rejects.toThrow(`${path.join(dir, 'model.json')}`);
    writeFileSync(path.join(dir, 'model.json'), '{ not json');
    await expect(loadFlowFile(dir)).rejects.toThrow(/model\.json: not JSON/);
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['gone.bin'], weights: [] }] }));
    await expect(loadFlowFile(dir)).rejects.toThrow('weight file gone.bin does not exist');
    const file = path.join(dir, 'a-file');
    writeFileSync(file, '');
    const flow = inn.input([2]).actNorm().build();
    await expect(saveFlowFile(flow, file)).rejects.toThrow(FreiaError);
    await expect(saveFlowFile(flow, file)).rejects.toThrow('is a file; saving needs a directory');
    flow.dispose();
  });

  // Last: it registers a second file:// router for the rest of this file.
  it("steps aside when another file:// router (tfjs-node's) is registered after it", async () => {
    const saved: tf.io.ModelArtifacts[] = [];
    const other = tf.io.withSaveHandler(async (artifacts) => {
      saved.push(artifacts);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    });
    const router = (url: string | string[]) => (typeof url === 'string' && url.startsWith('file://') ? other : null);
    tf.io.registerSaveRouter(router as Parameters<typeof tf.io.registerSaveRouter>[0]); // tf.io's type leaves out the null its registry skips
    expect(tf.io.getSaveHandlers('file:///tmp/x')).toEqual([other]);
    const flow = inn.input([2]).actNorm().build();
    await saveFlow(flow, 'file:///nowhere/flow');
    expect(saved).toHaveLength(1);
    expect(fileSystem('.').save).toBeTypeOf('function');
    flow.dispose();
  });
});
