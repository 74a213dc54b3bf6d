/**
 * Saving and loading flows through tf.io: bit-exact round trips (every module
 * of the module table, every FrEIA fixture), the freia-ts/1 documents of
 * earlier versions (test/fixtures/saved) reproduce their recorded outputs,
 * tf.io's URL handlers (http://, localstorage://) and in-memory handlers
 * work, and bad input fails with a FlowFormatError naming the field, with
 * nothing left allocated.
 */
import { createServer, type Server } from 'node:http';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  inn, subnets, train, saveFlow, loadFlow, memoryHandler, importFreia, FlowFormatError, FreiaError, UnsavableSubnetError, setGlobalSeed,
  type AnyFlow, type FlowTopology, type ModuleNodeDef, type FlowDocument, type FreiaDocument, type LoadFlowOptions, type SubnetFactory,
} from '../src/index.js';
import { moduleSpec } from '../src/modules/catalogue.js';
import { ConditionalSwap, FixedRandomElementwiseMultiply, customModuleFlow } from './helpers/custom-modules.js';
import { maxAbsDiff } from './helpers/jacobian.js';
import { fixturesDir } from './helpers/fixtures.js';
import type { ModuleCase } from './helpers/module-case.js';
import { cases as couplingCases } from './cases/couplings.js';
import { cases as splineCases } from './cases/splines.js';
import { cases as fixedCases } from './cases/fixed.js';
import { cases as iresnetInvAutoCases } from './cases/iresnet-invauto.js';
import { cases as preprocessingCases } from './cases/preprocessing.js';

const savedDir = path.join(import.meta.dirname, 'fixtures', 'saved');

function sameNumbers(a: AnyFlow, b: AnyFlow, x: tf.Tensor | tf.Tensor[], c?: tf.Tensor | tf.Tensor[]): void {
  const fa = a.forward(x, { c });
  const fb = b.forward(x, { c });
  expect(maxAbsDiff(fa.out, fb.out)).toBe(0);
  expect(maxAbsDiff(fa.logDet, fb.logDet)).toBe(0);
  tf.dispose([fa.out, fb.out, fa.logDet, fb.logDet] as tf.TensorContainer);
}

/** Every parameter of `b` holds exactly the bytes of `a`'s, node by node. */
function sameParameters(a: AnyFlow, b: AnyFlow): void {
  expect(b.graph.nodes.map((n) => n.name)).toEqual(a.graph.nodes.map((n) => n.name));
  a.modules.forEach((module, i) => {
    const other = b.modules[i];
    expect([...(other?.params.keys() ?? [])]).toEqual([...(module?.params.keys() ?? [])]);
    for (const [name, v] of module?.params ?? []) {
      const w = other!.params.get(name)!;
      expect(w.dtype, `${a.graph.nodes[i].name}/${name}`).toBe(v.dtype);
      expect(w.shape).toEqual(v.shape);
      const bytes = (t: tf.Tensor) => { const d = t.dataSync(); return [...new Uint8Array(d.buffer, d.byteOffset, d.byteLength)]; };
      expect(bytes(w), `${a.graph.nodes[i].name}/${name}`).toEqual(bytes(v));
    }
  });
}

/** How many tensors and variables exist: both must be back after a failed load. */
const allocated = () => ({ tensors: tf.memory().numTensors, variables: Object.keys(tf.engine().registeredVariables).length });

/** The FlowFormatError problems of a load that must fail. */
async function problemsOf(load: Promise<unknown>): Promise<readonly string[]> {
  const error = await load.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(FlowFormatError);
  return (error as FlowFormatError).problems;
}

async function roundTrip(flow: AnyFlow, options?: LoadFlowOptions): Promise<AnyFlow> {
  const store = memoryHandler();
  await saveFlow(flow, store);
  return loadFlow(store, options);
}

describe('saving through tf.io', () => {
  it('a trained conditional conv flow comes back with identical numbers (ActNorm initialised, permutations, LU), leaking nothing', async () => {
    setGlobalSeed(3);
    const flow = inn.input([4, 4, 4]).condition([1, 4, 4])
      .actNorm().glow({ subnet: subnets.conv({ hidden: 8 }), cond: 0 }).permuteRandom().conv1x1LU().haarDownsample()
      .allInOne({ subnet: subnets.mlp({ hidden: 8 }), permuteSoft: true }).build();
    const x = tf.randomNormal([3, 4, 4, 4]);
    const c = tf.randomNormal([3, 1, 4, 4]);
    tf.dispose(flow.forward(x, { c }) as unknown as tf.Tensor[]); // ActNorm's data-dependent init
    for (const v of flow.trainableVariables) tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.1))));
    const store = memoryHandler();
    const tensorsBeforeSave = tf.memory().numTensors;
    const result = await saveFlow(flow, store);
    expect(tf.memory().numTensors).toBe(tensorsBeforeSave);
    expect(result.modelArtifactsInfo.modelTopologyType).toBe('JSON');
    expect(result.modelArtifactsInfo.weightDataBytes).toBeGreaterThan(0);

    // What tf.io holds: the topology, and binary weights named <node>/<param>.
    const artifacts = store.artifacts!;
    expect(artifacts.format).toBe('freia-ts');
    expect(artifacts.modelTopology).toMatchObject({ format: 'freia-ts', version: 2, customModules: [] });
    const specs = artifacts.weightSpecs!;
    const params = flow.graph.nodes.flatMap((n, i) => [...(flow.modules[i]?.params.keys() ?? [])].map((p) => `${n.name}/${p}`));
    expect(specs.map((s) => s.name)).toEqual(params);
    expect(specs.find((s) => s.name.endsWith('/perm'))?.dtype).toBe('int32');
    expect(specs.find((s) => s.name.endsWith('/is_initialized'))?.dtype).toBe('bool');
    expect((artifacts.weightData as ArrayBuffer).byteLength).toBe(result.modelArtifactsInfo.weightDataBytes);
    // the first weight's bytes are its float32 values, little-endian, as tf.io encodes them
    const first = flow.modules.find((m) => m && m.params.size)!.params.values().next().value!;
    expect([...new Float32Array(artifacts.weightData as ArrayBuffer, 0, first.size)]).toEqual([...first.dataSync()]);

    const before = tf.memory().numTensors;
    const again = await loadFlow(store);
    sameParameters(flow, again);
    sameNumbers(flow, again, x, c);
    again.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, c]);
    flow.dispose();
  });

  it('graphs with several inputs, outputs and a condition', async () => {
    const g = inn.graph();
    const a = g.input([3], { name: 'a' });
    const b = g.input([5], { name: 'b' });
    const cond = g.condition([2], { name: 'c' });
    const [p, q] = g.split(g.concat([a, b]), [2, 6]);
    const flow = g.build({ outputs: [g.rnvp(q, { subnet: subnets.mlp({ hidden: 8 }), cond, name: 'coupling' }), g.actNorm(p, { name: 'node/with/slashes' })] });
    const again = await roundTrip(flow);
    const xs = [tf.randomNormal([2, 3]), tf.randomNormal([2, 5])];
    const c = tf.randomNormal([2, 2]);
    sameParameters(flow, again);
    sameNumbers(flow, again, xs, c);
    tf.dispose([...xs, c]);
    flow.dispose();
    again.dispose();
  });

  it("tf.io's own in-memory handlers work too (withSaveHandler, fromMemory)", async () => {
    const flow = inn.input([4]).glow({ subnet: subnets.mlp({ hidden: 8 }) }).build();
    let captured: tf.io.ModelArtifacts | undefined;
    await saveFlow(flow, tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }));
    const again = await loadFlow(tf.io.fromMemory(captured!));
    const x = tf.randomNormal([3, 4]);
    sameNumbers(flow, again, x);
    tf.dispose(x);
    flow.dispose();
    again.dispose();
  });

  it('custom modules come back when their classes are passed, and are named when they are not', async () => {
    const flow = customModuleFlow();
    const store = memoryHandler();
    await saveFlow(flow, store);
    expect(store.artifacts!.modelTopology).toMatchObject({ customModules: ['ConditionalSwap', 'FixedRandomElementwiseMultiply'] });
    const before = allocated();
    const problems = await problemsOf(loadFlow(store, { modules: { ConditionalSwap } }));
    expect(problems).toEqual([
      'modelTopology.graph.nodes[3].module.kind: unknown module kind "FixedRandomElementwiseMultiply" at node "mult" (custom modules are passed as loadFlow(source, { modules: { FixedRandomElementwiseMultiply } }))',
    ]);
    expect(allocated()).toEqual(before);
    const again = await loadFlow(store, { modules: { FixedRandomElementwiseMultiply, ConditionalSwap } });
    const xs = [tf.randomNormal([4, 2]), tf.randomNormal([4, 2])];
    const c = tf.tensor2d([1, -1, 1, -1], [4, 1]);
    sameNumbers(flow, again, xs, c);
    tf.dispose([...xs, c]);
    flow.dispose();
    again.dispose();
  });

  describe("a user's tfjs-layers subnet is saved as its architecture and weights", () => {
    const denseNet = (cIn: number, cOut: number) => tf.sequential({ layers: [tf.layers.dense({ inputShape: [cIn], units: 8, activation: 'relu' }), tf.layers.dense({ units: cOut })] });
    const normedNet = (cIn: number, cOut: number) =>
      tf.sequential({ layers: [tf.layers.dense({ inputShape: [cIn], units: 8 }), tf.layers.batchNormalization(), tf.layers.activation({ activation: 'relu' }), tf.layers.dense({ units: cOut })] });

    it('trained, saved and loaded, it gives the same outputs and log-dets, and nothing leaks', async () => {
      const before = allocated();
      setGlobalSeed(11);
      const flow = inn.input([5]).glow({ subnet: denseNet, name: 'dense' }).allInOne({ subnet: normedNet, name: 'normed' }).build();
      // the moving statistics are non-trainable weights (s0, s1): give them values a fresh model does not have
      for (const module of flow.modules) {
        for (const [name, v] of module?.params ?? []) if (/\.s\d+$/.test(name)) tf.tidy(() => v.assign(tf.randomUniform(v.shape, 0.5, 1.5)));
      }
      const x = tf.randomNormal([16, 5]);
      const optimizer = train.adam(0.05);
      tf.tidy(() => optimizer.applyGradients(tf.variableGrads(() => train.nll(flow, x), flow.trainableVariables).grads));
      const store = memoryHandler();
      await saveFlow(flow, store);
      const names = store.artifacts!.weightSpecs!.map((s) => s.name);
      expect(names).toContain('dense/subnet1.w0');
      expect(names).toContain('dense/subnet2.w3');
      expect(names).toContain('normed/subnet.s1');
      const args = ((store.artifacts!.modelTopology as FlowTopology).graph.nodes[1] as ModuleNodeDef).module.args;
      expect((args as Record<string, unknown>).subnet).toMatchObject({ $layers: [{ channels: [2, 6], className: 'Sequential' }, { channels: [3, 4], className: 'Sequential' }] });

      const again = await loadFlow(store);
      const [a, b] = [flow.forward(x), again.forward(x)];
      expect(maxAbsDiff(a.out, b.out)).toBeLessThan(1e-6);
      expect(maxAbsDiff(a.logDet, b.logDet)).toBeLessThan(1e-6);
      sameParameters(flow, again);
      // a loaded flow saves again, to the same bytes
      const twice = memoryHandler();
      await saveFlow(again, twice);
      expect(new Uint8Array(twice.artifacts!.weightData as ArrayBuffer)).toEqual(new Uint8Array(store.artifacts!.weightData as ArrayBuffer));
      tf.dispose([x, a.out, a.logDet, b.out, b.logDet] as tf.TensorContainer);
      optimizer.dispose();
      flow.dispose();
      again.dispose();
      expect(allocated()).toEqual(before);
    });

    it('a subnet function whose model is no tfjs-layers model is refused, naming the node and what can be saved', async () => {
      const inner = subnets.mlp({ hidden: 4 });
      const wrapped = (cIn: number, cOut: number) => inner(cIn, cOut);
      const flow = inn.input([4]).glow({ subnet: wrapped, name: 'handmade' }).build();
      const store = memoryHandler();
      const error = await saveFlow(flow, store).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(UnsavableSubnetError);
      expect((error as UnsavableSubnetError).node).toBe('handmade');
      expect((error as Error).message).toBe('node "handmade": option "subnet" is a user function whose model is no tfjs-layers model; only subnets.mlp/subnets.conv subnets and user functions that return tfjs-layers models (tf.sequential, tf.model) can be saved');
      expect(store.artifacts).toBeUndefined();
      flow.dispose();
    });

    it('a bad $layers description is a FlowFormatError naming the field, with nothing allocated', async () => {
      const flow = inn.input([4]).glow({ subnet: denseNet, name: 'g' }).build();
      const store = memoryHandler();
      await saveFlow(flow, store);
      flow.dispose();
      const artifacts = store.artifacts!;
      const topology = JSON.parse(JSON.stringify(artifacts.modelTopology)) as { graph: { nodes: { module?: { args: { subnet: { $layers: { className: string }[] } } } }[] } };
      topology.graph.nodes[1].module!.args.subnet.$layers[0].className = 'Dense';
      const before = allocated();
      const problems = await problemsOf(loadFlow(tf.io.fromMemory({ ...artifacts, modelTopology: topology })));
      expect(problems).toEqual(['modelTopology.graph.nodes[1].module.args.subnet.$layers[0].className: expected a tfjs-layers model class ("Sequential", "Model" or one registered with tf.serialization.registerClass), got "Dense"']);
      expect(allocated()).toEqual(before);
    });
  });

  it('reports every weight problem at once and frees what it made', async () => {
    const flow = inn.input([4]).actNorm({ name: 'norm' }).glow({ subnet: subnets.mlp({ hidden: 8 }), name: 'g' }).build();
    const store = memoryHandler();
    await saveFlow(flow, store);
    const { modelTopology, weightSpecs, weightData } = store.artifacts!;
    // A user's edit of the weights, re-encoded with tf.io: one missing, one mis-shaped, one for no node, one for no parameter.
    const weights = tf.io.decodeWeights(weightData!, weightSpecs!);
    tf.dispose([weights['norm/loc'], weights['g/subnet1.0.weight']]);
    delete weights['norm/loc'];
    weights['g/subnet1.0.weight'] = tf.zeros([3, 8]);
    weights['ghost/w'] = tf.zeros([2]);
    weights['g/extra'] = tf.zeros([1]);
    const { data, specs } = await tf.io.encodeWeights(weights);
    tf.dispose(Object.values(weights));
    const before = allocated();
    const problems = await problemsOf(loadFlow(tf.io.fromMemory({ modelTopology, weightSpecs: specs, weightData: data })));
    expect(problems).toEqual([
      'node "norm": missing weight "loc"',
      'node "g": weight "subnet1.0.weight" has shape [3, 8], expected [2, 8]',
      'node "g": weight "extra" belongs to no parameter',
      'weights for "ghost", which is no module node',
    ]);
    expect(allocated()).toEqual(before);
    flow.dispose();
  });

  it('a module that fails to build leaves nothing behind', async () => {
    const flow = inn.input([4]).actNorm({ name: 'norm' }).allInOne({ subnet: subnets.mlp({ hidden: 8 }), name: 'aio' }).build();
    const store = memoryHandler();
    await saveFlow(flow, store);
    const artifacts = structuredClone(store.artifacts!);
    const topology = artifacts.modelTopology as { graph: { nodes: { module?: { args: Record<string, unknown> } }[] } };
    topology.graph.nodes[2].module!.args.globalAffineType = 'BOGUS'; // fails in the constructor, after ActNorm made its variables
    const before = allocated();
    const problems = await problemsOf(loadFlow(tf.io.fromMemory(artifacts)));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/globalAffineType/);
    expect(allocated()).toEqual(before);
    flow.dispose();
  });

  describe('bad input is refused naming the field, before anything is allocated', () => {
    const good = async () => {
      const flow = inn.input([4]).actNorm({ name: 'norm' }).glow({ subnet: subnets.mlp({ hidden: 8 }), name: 'g' }).build();
      const store = memoryHandler();
      await saveFlow(flow, store);
      flow.dispose();
      return structuredClone(store.artifacts!);
    };
    type Artifacts = tf.io.ModelArtifacts & { modelTopology: { graph: { nodes: Record<string, unknown>[] } } & Record<string, unknown> };
    const cases: [string, (a: Artifacts) => unknown, RegExp][] = [
      ['no topology', (a) => ({ ...a, modelTopology: undefined }), /^modelTopology: missing/],
      ['a tfjs-layers model', (a) => ({ ...a, format: 'layers-model', modelTopology: { class_name: 'Sequential' } }), /^modelTopology\.format: is undefined, expected "freia-ts" \(a tfjs-layers model: load it with tf\.loadLayersModel\)$/],
      ['a newer version', (a) => ({ ...a, modelTopology: { ...a.modelTopology, version: 3 } }), /^modelTopology\.version: is 3; this freia-ts reads version 2$/],
      ['no nodes', (a) => ({ ...a, modelTopology: { ...a.modelTopology, graph: {} } }), /^modelTopology\.graph\.nodes: expected a non-empty list/],
      ['an unknown node kind', (a) => { a.modelTopology.graph.nodes[1].kind = 'layer'; return a; }, /^modelTopology\.graph\.nodes\[1\]\.kind: is "layer"/],
      ['a reference to a later node', (a) => { a.modelTopology.graph.nodes[1].inputs = [{ node: 2, output: 0 }]; return a; }, /^modelTopology\.graph\.nodes\[1\]\.inputs\[0\]: expected \{ node, output \} naming an output of an earlier node$/],
      ['a shape that does not fit', (a) => { a.modelTopology.graph.nodes[0].shape = [5]; return a; }, /^modelTopology\.graph\.nodes\[1\]\.inputs\[0\]: is \[5\], but module\.inputShapes\[0\] is \[4\]$/],
      ['a duplicate node name', (a) => { a.modelTopology.graph.nodes[2].name = 'norm'; return a; }, /^modelTopology\.graph\.nodes\[2\]\.name: "norm" is already the name of an earlier node$/],
      ['a bad subnet description', (a) => { ((a.modelTopology.graph.nodes[2].module as { args: { subnet: { $subnet: { hidden: number } } } }).args.subnet.$subnet.hidden = -1); return a; }, /^modelTopology\.graph\.nodes\[2\]\.module\.args\.subnet\.\$subnet: expected/],
      ['custom module names that are no list', (a) => ({ ...a, modelTopology: { ...a.modelTopology, customModules: 'x' } }), /^modelTopology\.customModules: expected a list/],
      ['a string weight', (a) => { a.weightSpecs![0].dtype = 'string'; return a; }, /^weightSpecs\[0\]\.dtype: is "string", expected "float32", "int32" or "bool" \(weight "norm\/log_scale"\)$/],
      ['a weight named twice', (a) => { a.weightSpecs![1].name = a.weightSpecs![0].name; return a; }, /^weightSpecs\[1\]\.name: "norm\/log_scale" appears twice$/],
      ['too few bytes', (a) => ({ ...a, weightData: (a.weightData as ArrayBuffer).slice(4) }), /^weightData: has \d+ bytes, but weightSpecs describe \d+$/],
      ['no weight data', (a) => ({ ...a, weightData: undefined }), /^weightData: missing/],
      ['no weight specs', (a) => ({ ...a, weightSpecs: undefined }), /^weightSpecs: expected a list/],
    ];
    for (const [what, spoil, message] of cases) {
      it(what, async () => {
        const artifacts = spoil(await good() as Artifacts);
        const before = allocated();
        const problems = await problemsOf(loadFlow({ load: async () => artifacts as tf.io.ModelArtifacts }));
        expect(problems.some((p) => message.test(p)), problems.join('\n')).toBe(true);
        expect(allocated()).toEqual(before);
      });
    }

    it('freia-ts/1 documents: each bad field is named', async () => {
      const doc = JSON.parse(readFileSync(path.join(savedDir, 'graph-splits.json'), 'utf8'));
      doc.weights.norm.loc.data = '***';
      doc.weights.norm.log_scale.data = btoa('abc');
      doc.weights.coupling['subnet_s1.0.weight'].dtype = 'float64';
      doc.graph.nodes[4].module.args.subnet = { $subnet: { kind: 'resnet', hidden: 8, layers: 2 } };
      const before = allocated();
      const problems = await problemsOf(loadFlow(doc));
      expect(problems).toEqual([
        'weights["coupling"]["subnet_s1.0.weight"]: expected { shape, dtype: "float32" | "int32" | "bool", data: base64 }',
        'weights["norm"]["log_scale"].data: has 3 bytes, shape [2] of float32 needs 8',
        'weights["norm"]["loc"].data: is not base64',
      ]);
      expect(allocated()).toEqual(before);
      const other = JSON.parse(readFileSync(path.join(savedDir, 'graph-splits.json'), 'utf8'));
      other.graph.nodes[4].module.args.subnet = { $subnet: { kind: 'resnet', hidden: 8, layers: 2 } };
      expect(await problemsOf(loadFlow(other))).toEqual([
        'graph.nodes[4].module.args.subnet.$subnet: expected { kind: "mlp" | "conv3x3" | "conv1x1", hidden, layers, init?, zeroLast? }, got {"kind":"resnet","hidden":8,"layers":2}',
      ]);
      expect(allocated()).toEqual(before);
    });

    it('neither a URL, a handler nor a document', async () => {
      await expect(loadFlow({ format: 'freia-ts/2' } as unknown as FlowDocument)).rejects.toThrow(/loadFlow: source: expected a URL, an IOHandler with a load method, or a freia-ts\/1 document, got \{"format":"freia-ts\/2"\}/);
      await expect(saveFlow(inn.input([2]).build(), {})).rejects.toThrow('saveFlow: the IOHandler has no save method');
      await expect(loadFlow(memoryHandler())).rejects.toThrow('memoryHandler: nothing has been saved to it yet');
    });
  });
});

describe('freia-ts/1 documents written by earlier versions', () => {
  const names = ['conditional-chain', 'graph-splits', 'custom-modules'];
  type Recorded = { shape: number[]; values: number[] };
  const tensor = (r: Recorded) => tf.tensor(r.values, r.shape);

  for (const name of names) {
    it(`${name} loads and reproduces its recorded outputs and log-dets, with its weights bit for bit`, async () => {
      const doc = JSON.parse(readFileSync(path.join(savedDir, `${name}.json`), 'utf8')) as FlowDocument;
      const recorded = JSON.parse(readFileSync(path.join(savedDir, `${name}.expected.json`), 'utf8')) as { inputs: Recorded[]; conditions: Recorded[]; outputs: Recorded[]; logDet: Recorded };
      const before = allocated();
      const flow = await loadFlow(doc, { modules: { FixedRandomElementwiseMultiply, ConditionalSwap } });

      // weights: the document's base64 bytes, decoded here with Node's Buffer, not by the loader
      flow.graph.nodes.forEach((node, i) => {
        for (const [param, v] of flow.modules[i]?.params ?? []) {
          const saved = doc.weights[node.name][param];
          const d = v.dataSync();
          expect([...new Uint8Array(d.buffer, d.byteOffset, d.byteLength)], `${node.name}/${param}`).toEqual([...Buffer.from(saved.data, 'base64')]);
        }
      });

      const xs = recorded.inputs.map(tensor);
      const cs = recorded.conditions.map(tensor);
      const { out, logDet } = flow.forward(xs.length === 1 ? xs[0] : xs, { c: cs });
      const outs = Array.isArray(out) ? out : [out];
      expect(outs.map((t) => t.shape)).toEqual(recorded.outputs.map((r) => r.shape));
      outs.forEach((t, k) => Array.from(t.dataSync()).forEach((v, j) => expect(Math.abs(v - recorded.outputs[k].values[j])).toBeLessThan(1e-5 * Math.max(1, Math.abs(v)))));
      Array.from(logDet.dataSync()).forEach((v, j) => expect(Math.abs(v - recorded.logDet.values[j])).toBeLessThan(1e-5 * Math.max(1, Math.abs(v))));

      // and they move to the new format unchanged
      const again = await roundTrip(flow, { modules: { FixedRandomElementwiseMultiply, ConditionalSwap } });
      sameParameters(flow, again);
      sameNumbers(flow, again, xs.length === 1 ? xs[0] : xs, cs);
      again.dispose();
      tf.dispose([...xs, ...cs, ...outs, logDet]);
      flow.dispose();
      expect(allocated()).toEqual(before);
    });
  }

  it('a missing weight, a mis-shaped one and weights for no node are reported together', async () => {
    const doc = JSON.parse(readFileSync(path.join(savedDir, 'graph-splits.json'), 'utf8'));
    delete doc.weights.norm.loc;
    doc.weights.coupling['subnet_s1.0.weight'] = { shape: [3, 8], dtype: 'float32', data: btoa(String.fromCharCode(...new Uint8Array(new Float32Array(24).buffer))) };
    doc.weights.ghost = {};
    const before = allocated();
    expect(await problemsOf(loadFlow(doc))).toEqual([
      'node "coupling": weight "subnet_s1.0.weight" has shape [3, 8], expected [5, 8]',
      'node "norm": missing weight "loc"',
      'weights for "ghost", which is no module node',
    ]);
    expect(allocated()).toEqual(before);
  });
});

describe('tf.io URL schemes', () => {
  let server: Server | undefined;
  afterAll(() => server?.close());

  it('http:// saves with a multipart POST and loads model.json plus its weights, as with model.save and loadLayersModel', async () => {
    const files = new Map<string, Buffer>();
    server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      if (req.method === 'POST') {
        // tf.io.http posts model.json and model.weights.bin as multipart/form-data
        const form = await new Response(Buffer.concat(chunks), { headers: { 'content-type': req.headers['content-type'] ?? '' } }).formData();
        for (const [name, value] of form) files.set(name, Buffer.from(await (value as Blob).arrayBuffer()));
        res.writeHead(200).end('{}');
      } else {
        const body = files.get(path.basename(req.url ?? ''));
        if (body) res.writeHead(200).end(body);
        else res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const base = `http://127.0.0.1:${port}/flows`;

    const flow = inn.input([3]).actNorm().rnvp({ subnet: subnets.mlp({ hidden: 8 }) }).build();
    const result = await saveFlow(flow, `${base}/upload`);
    expect(result.responses?.[0].status).toBe(200);
    expect([...files.keys()].sort()).toEqual(['model.json', 'model.weights.bin']);
    const modelJson = JSON.parse(files.get('model.json')!.toString('utf8'));
    expect(modelJson.modelTopology.format).toBe('freia-ts');
    expect(modelJson.weightsManifest[0].paths).toEqual(['./model.weights.bin']);

    const again = await loadFlow(`${base}/model.json`);
    const x = tf.randomNormal([5, 3]);
    sameParameters(flow, again);
    sameNumbers(flow, again, x);
    tf.dispose(x);
    flow.dispose();
    again.dispose();
  });

  it("localstorage:// goes through tf.io's browser handler (here with a stand-in localStorage)", async () => {
    const storage = new Map<string, string>();
    const localStorage = {
      getItem: (k: string) => storage.get(k) ?? null,
      setItem: (k: string, v: string) => void storage.set(k, v),
      removeItem: (k: string) => void storage.delete(k),
      get length() { return storage.size; },
      key: (i: number) => [...storage.keys()][i] ?? null,
    };
    const global = globalThis as { window?: unknown };
    const wasBrowser = tf.env().getBool('IS_BROWSER');
    global.window = { localStorage };
    tf.env().set('IS_BROWSER', true);
    try {
      const flow = inn.input([2]).allInOne({ subnet: subnets.mlp({ hidden: 8 }) }).build();
      await saveFlow(flow, 'localstorage://my-flow');
      expect([...storage.keys()].filter((k) => k.includes('my-flow')).length).toBeGreaterThanOrEqual(4);
      const again = await loadFlow('localstorage://my-flow');
      const x = tf.randomNormal([4, 2]);
      sameNumbers(flow, again, x);
      tf.dispose(x);
      flow.dispose();
      again.dispose();
    } finally {
      tf.env().set('IS_BROWSER', wasBrowser);
      delete global.window;
    }
  });

  it('a scheme nobody handles here fails clearly, as model.save does', async () => {
    const flow = inn.input([2]).actNorm().build();
    await expect(saveFlow(flow, 'indexeddb://x')).rejects.toThrow(FreiaError);
    await expect(saveFlow(flow, 'indexeddb://x')).rejects.toThrow("cannot find any save handlers for URL 'indexeddb://x' (indexeddb://, localstorage:// and downloads:// exist only in a browser)");
    await expect(loadFlow('indexeddb://x')).rejects.toThrow("cannot find any load handlers for URL 'indexeddb://x'");
    flow.dispose();
  });

  it('a tfjs-layers model is not a flow, and the error says how to load it', async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] });
    const store = memoryHandler();
    await model.save(store);
    expect(await problemsOf(loadFlow(store))).toEqual(['modelTopology.format: is undefined, expected "freia-ts" (a tfjs-layers model: load it with tf.loadLayersModel)']);
    model.dispose();
  });
});

// ------------------------------------------------------- every module ----

/** The modules of test/modules.test.ts's own rows, which live in that file: one flow per family and option that changes the parameters. */
const mlp = subnets.mlp({ hidden: 6 });
const conv = subnets.conv({ hidden: 4, kernel: 3 });
const coreCases: ModuleCase[] = [
  { name: 'AllInOne permuteSoft', input: [6], outputs: [[6]], build: () => inn.input([6]).allInOne({ subnet: mlp, permuteSoft: true, clamp: 1.5 }).build() },
  { name: 'AllInOne conditional GIN', input: [4], conditions: [[3]], outputs: [[4]], build: () => inn.input([4]).condition([3]).allInOne({ subnet: mlp, cond: 0, gin: true }).build() },
  { name: 'AllInOne householder', input: [4], outputs: [[4]], build: () => inn.input([4]).allInOne({ subnet: mlp, learnedHouseholderPermutation: 2 }).build() },
  { name: 'AllInOne conv', input: [3, 4, 4], outputs: [[3, 4, 4]], build: () => inn.input([3, 4, 4]).allInOne({ subnet: conv, globalAffineType: 'EXP' }).build() },
  { name: 'GLOW, RNVP, NICE', input: [5], outputs: [[5]], build: () => inn.input([5]).glow({ subnet: mlp, clamp: 1.2 }).rnvp({ subnet: mlp, splitLen: 0.4 }).nice({ subnet: mlp }).build() },
  { name: 'ActNorm, PermuteRandom', input: [2, 3, 3], outputs: [[2, 3, 3]], build: () => inn.input([2, 3, 3]).actNorm().permuteRandom({ seed: 3 }).build() },
  { name: 'reshapes', input: [2, 4, 4], outputs: [[2, 4, 4]], build: () => inn.input([2, 4, 4]).irevnetDownsample().irevnetUpsample().haarDownsample({ rebalance: 0.7 }).haarUpsample({ rebalance: 0.7 }).flatten().reshape([2, 4, 4]).build() },
  { name: 'Split, Concat', input: [6], outputs: [[6]], build: () => inn.input([6]).split([2, 4]).on(1, (s) => s.glow({ subnet: mlp })).concat().build() },
  // the spline rows of the table wrap their subnets in a user function, which cannot be saved
  { name: 'RQ spline with a built-in subnet', input: [5], conditions: [[2]], outputs: [[5]], build: () => inn.input([5]).condition([2]).rqSpline({ subnet: mlp, cond: 0, bins: 4 }).build() },
  { name: 'linear spline with a built-in subnet', input: [5], conditions: [[2]], outputs: [[5]], build: () => inn.input([5]).condition([2]).linearSpline({ subnet: mlp, cond: 0, bins: 4, identityTails: true }).build() },
  { name: 'Inverse of a conditional GLOW', input: [4], conditions: [[2]], outputs: [[4]], build: () => inn.input([4]).condition([2]).inverseOf('glow')({ subnet: mlp, cond: 0 }).build() },
  { name: 'MAF with a random order, conditional', input: [4], conditions: [[2]], outputs: [[4]], build: () => inn.input([4]).condition([2]).maf({ hidden: 8, order: 'random', seed: 3, cond: 0 }).build() },
  { name: 'IAF', input: [3], outputs: [[3]], build: () => inn.input([3]).iaf({ hidden: 8 }).build() },
  { name: 'AR spline', input: [3], outputs: [[3]], build: () => inn.input([3]).arSpline({ hidden: 8, bins: 3, order: 'reversed' }).build() },
  // not invertible (kept out of the invertibility table), but saved like any other module
  { name: 'InvAutoFC, InvAutoConv2D', input: [3, 3, 3], outputs: [[3, 3, 3]], build: () => inn.input([3, 3, 3]).invAutoConv2D().flatten().invAutoFC().reshape([3, 3, 3]).build() },
];
const tableCases = [...coreCases, ...couplingCases, ...splineCases, ...fixedCases, ...iresnetInvAutoCases, ...preprocessingCases];

/** Every registered built-in kind; the registry names them in its error for an unknown kind. */
function registeredKinds(): string[] {
  try {
    moduleSpec('(none)');
  } catch (error) {
    const known = /\(known: ([^)]*)\)/.exec(error instanceof Error ? error.message : '');
    if (known) return known[1].split(', ').filter((k) => !k.includes('#'));
  }
  throw new Error("moduleSpec's message no longer lists the known kinds; update registeredKinds()");
}

describe('every module survives saving bit for bit', () => {
  const kinds = new Set<string>();
  for (const testCase of tableCases) {
    it(testCase.name, async () => {
      setGlobalSeed(7);
      const flow = testCase.build();
      const x = testCase.sample ? testCase.sample([3, ...testCase.input]) : tf.randomNormal([3, ...testCase.input]);
      const c = (testCase.conditions ?? []).map((s) => tf.randomNormal([3, ...s]));
      tf.dispose(flow.forward(x, { c }) as unknown as tf.Tensor[]); // data-dependent init
      for (const v of flow.trainableVariables) tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.3))));
      const handmade = flow.graph.nodes.find((n) => n.kind === 'module' && Object.values(n.module.args).some((v) => typeof v === 'function' && !(v as SubnetFactory).spec));
      if (handmade) {
        // a row whose subnet is a user function: saving must refuse it, naming the node
        await expect(saveFlow(flow, memoryHandler())).rejects.toThrow(`node "${handmade.name}": option "subnet" is a user function`);
        tf.dispose([x, ...c]);
        flow.dispose();
        return;
      }
      for (const node of flow.graph.nodes) if (node.kind === 'module') kinds.add(node.module.kind);

      const before = tf.memory().numTensors;
      const again = await roundTrip(flow);
      sameParameters(flow, again);
      setGlobalSeed(1); // stochastic log-dets draw the same noise in both flows
      const fa = flow.forward(x, { c });
      setGlobalSeed(1);
      const fb = again.forward(x, { c });
      expect(maxAbsDiff(fa.out, fb.out)).toBe(0);
      expect(maxAbsDiff(fa.logDet, fb.logDet)).toBe(0);
      tf.dispose([fa.out, fb.out, fa.logDet, fb.logDet] as tf.TensorContainer);
      again.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, ...c]);
      flow.dispose();
    });
  }

  it('the table above holds every registered module kind', () => {
    const missing = registeredKinds().filter((k) => !kinds.has(k));
    expect(missing).toEqual([]);
  });
});

describe('every FrEIA fixture survives saving bit for bit', () => {
  const files = readdirSync(fixturesDir).filter((f) => f.endsWith('.json')).sort();
  it('finds the fixtures', () => expect(files.length).toBeGreaterThan(20));
  for (const file of files) {
    it(file, async () => {
      const doc = JSON.parse(readFileSync(path.join(fixturesDir, file), 'utf8')) as FreiaDocument;
      const flow = importFreia(doc);
      const again = await roundTrip(flow);
      sameParameters(flow, again);
      const xs = flow.inputShapes.map((s) => tf.mul(tf.randomNormal([2, ...s], 0, 1, 'float32', 5), 0.5));
      const cs = flow.conditionShapes.map((s) => tf.randomNormal([2, ...s], 0, 1, 'float32', 6));
      const x = xs.length === 1 ? xs[0] : xs;
      setGlobalSeed(1);
      const fa = flow.forward(x, { c: cs });
      setGlobalSeed(1);
      const fb = again.forward(x, { c: cs });
      const values = (t: tf.Tensor | tf.Tensor[]) => (Array.isArray(t) ? t : [t]).map((u) => Array.from(u.dataSync()));
      expect(values(fb.out)).toEqual(values(fa.out));
      expect(values(fb.logDet)).toEqual(values(fa.logDet));
      tf.dispose([fa.out, fb.out, fa.logDet, fb.logDet, ...xs, ...cs] as tf.TensorContainer);
      flow.dispose();
      again.dispose();
    });
  }
});
