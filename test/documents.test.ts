/**
 * Documents (issue 13, deliverables 1 and 2): saved flows and FrEIA exports
 * are checked whole before anything is allocated; every failure names the
 * field, leaves no tensor or variable behind, and never touches the caller's
 * document or an existing flow.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  inn, subnets, saveFlow, loadFlow, memoryHandler, importFreia, loadFreiaWeights, InvertibleModule, DisposedError, FlowFormatError, FreiaImportError,
  type FlowDocument, type FreiaDocument, type ModuleResult, type Shape,
} from '../src/index.js';
import { fixturesDir } from './helpers/fixtures.js';
import { thrownBy } from './helpers/thrown.js';

/** How many tensors and variables exist: both must be back after a failure. */
const allocated = () => ({ tensors: tf.memory().numTensors, variables: Object.keys(tf.engine().registeredVariables).length });

type Json = Record<string, unknown>;
const clone = <T>(value: T): T => structuredClone(value);

/** The problems of a failing `loadFlow`, checking that nothing was left allocated and the document is untouched. */
async function loadProblems(source: FlowDocument | tf.io.IOHandler): Promise<string> {
  const before = allocated();
  const snapshot = JSON.stringify(source);
  const error = await loadFlow(source).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(FlowFormatError);
  expect(allocated()).toEqual(before);
  expect(JSON.stringify(source)).toBe(snapshot);
  return (error as FlowFormatError).problems.join('\n');
}

/** The artifacts of a saved flow, as plain data to corrupt (weights as bytes). */
async function artifactsOf(build: () => { dispose(): void } & Parameters<typeof saveFlow>[0]): Promise<tf.io.ModelArtifacts> {
  const flow = build();
  const store = memoryHandler();
  await saveFlow(flow, store);
  flow.dispose();
  return store.artifacts!;
}

const handlerOf = (artifacts: tf.io.ModelArtifacts): tf.io.IOHandler => ({ load: async () => artifacts });
const topologyOf = (artifacts: tf.io.ModelArtifacts) => artifacts.modelTopology as { graph: { nodes: Json[] } };
const savedDir = path.join(import.meta.dirname, 'fixtures', 'saved');
const savedDocument = (name: string) => JSON.parse(readFileSync(path.join(savedDir, `${name}.json`), 'utf8')) as Json;
const freiaDocument = (name: string) => JSON.parse(readFileSync(path.join(fixturesDir, `${name}.json`), 'utf8')) as FreiaDocument;

describe('loadFlow checks the whole saved flow first', () => {
  it('a 200-byte document declaring an input of [1e9] is refused at once', async () => {
    const doc = {
      format: 'freia-ts/1',
      graph: { nodes: [
        { kind: 'input', name: 'x', shape: [1e9] },
        { kind: 'module', name: 'norm', module: { kind: 'ActNorm', args: {}, inputShapes: [[1e9]], conditionShapes: [], outputShapes: [[1e9]] }, inputs: [{ node: 0, output: 0 }], conditions: [] },
        { kind: 'output', name: 'z', input: { node: 1, output: 0 }, shape: [1e9] },
      ] },
      weights: {},
    };
    expect(JSON.stringify(doc).length).toBeLessThan(400);
    const problems = await loadProblems(doc as unknown as FlowDocument);
    expect(problems).toContain('graph.nodes[0].shape: expected a list of positive whole numbers (at most 67108864 elements)');
  });

  it('an ActNorm declared on [1] over a 4-channel stream is refused', async () => {
    const artifacts = await artifactsOf(() => inn.input([4]).actNorm({ name: 'norm' }).build());
    const nodes = topologyOf(artifacts).graph.nodes;
    const norm = nodes[1] as { module: Json };
    norm.module = { ...norm.module, outputShapes: [[1]] };
    nodes[2] = { ...nodes[2], shape: [1] };
    expect(await loadProblems(handlerOf(artifacts))).toContain('modelTopology.graph.nodes[1].module.outputShapes: is [1], but ActNorm on [4] gives [4] (node "norm")');
  });

  it('a permutation buffer [0, 0, 0, 0] is refused', async () => {
    const doc = clone(savedDocument('conditional-chain'));
    const perm = (doc.weights as Record<string, Record<string, { data: string; shape: number[] }>>).perm.perm;
    perm.data = btoa(String.fromCharCode(...new Uint8Array(new Int32Array(perm.shape[0]).buffer)));
    expect(await loadProblems(doc as unknown as FlowDocument)).toMatch(/node "perm": weight "perm" is not a permutation with its inverse "perm_inv": 0 appears twice/);
  });

  it('clamp: "abc" is refused, naming the node and the option', async () => {
    const artifacts = await artifactsOf(() => inn.input([4]).glow({ subnet: subnets.mlp({ hidden: 4 }), name: 'glow' }).build());
    const glow = topologyOf(artifacts).graph.nodes[1] as { module: { args: Json } };
    glow.module.args.clamp = 'abc';
    expect(await loadProblems(handlerOf(artifacts))).toMatch(/modelTopology\.graph\.nodes\[1\] \(node "glow"\): glow: option "clamp": expected a finite number > 0, got "abc"/);
  });

  it('NaN and Infinity weights are refused', async () => {
    const artifacts = await artifactsOf(() => inn.input([3]).actNorm({ name: 'norm' }).build());
    const values = new Float32Array(artifacts.weightData as ArrayBuffer, 0, 6);
    values[1] = NaN;
    values[4] = Infinity;
    const problems = await loadProblems(handlerOf(artifacts));
    expect(problems).toContain('weight "norm/log_scale": element 1 is NaN, expected finite numbers');
    expect(problems).toContain('weight "norm/loc": element 1 is Infinity, expected finite numbers');
  });

  it('dangling references, nodes reading later nodes, out-of-range outputs and outputs read twice are refused', async () => {
    const artifacts = await artifactsOf(() => inn.input([4]).actNorm({ name: 'a' }).actNorm({ name: 'b' }).build());
    const variants: [(nodes: Json[]) => void, string][] = [
      [(nodes) => { nodes[2].inputs = [{ node: 9, output: 0 }]; }, 'modelTopology.graph.nodes[2].inputs[0]: expected { node, output } naming an output of an earlier node'],
      [(nodes) => { nodes[1].inputs = [{ node: 2, output: 0 }]; }, 'modelTopology.graph.nodes[1].inputs[0]: expected { node, output } naming an output of an earlier node'],
      [(nodes) => { nodes[3].input = { node: 2, output: 1 }; }, 'modelTopology.graph.nodes[3].input: expected { node, output } naming an output of an earlier node'],
      [(nodes) => { nodes[3].input = { node: 1, output: 0 }; }, 'modelTopology.graph.nodes[3].input: output 0 of nodes[1] is already read by modelTopology.graph.nodes[2].inputs[0]'],
    ];
    for (const [corrupt, message] of variants) {
      const copy = { ...artifacts, modelTopology: clone(artifacts.modelTopology) } as tf.io.ModelArtifacts;
      corrupt(topologyOf(copy).graph.nodes);
      expect(await loadProblems(handlerOf(copy))).toContain(message);
    }
  });

  it('duplicate node names are refused by name', async () => {
    const artifacts = await artifactsOf(() => inn.input([4]).actNorm({ name: 'a' }).actNorm({ name: 'b' }).build());
    topologyOf(artifacts).graph.nodes[2].name = 'a';
    expect(await loadProblems(handlerOf(artifacts))).toContain('modelTopology.graph.nodes[2].name: "a" is already the name of an earlier node');
  });

  it('a node named "__proto__" keeps its weights through save and load, in both formats', async () => {
    const flow = inn.input([3]).actNorm({ name: '__proto__' }).build();
    const x = tf.randomNormal([5, 3]);
    const first = flow.forward(x);
    const store = memoryHandler();
    await saveFlow(flow, store);
    const again = await loadFlow(store);
    expect([...again.modules[1]!.params.keys()]).toEqual(['log_scale', 'loc', 'is_initialized']);
    const second = again.forward(x);
    expect(await (second.out as tf.Tensor).data()).toEqual(await (first.out as tf.Tensor).data());
    tf.dispose([x, first.out, first.logDet, second.out, second.logDet]);
    flow.dispose();
    again.dispose();
    const old = JSON.parse('{"format":"freia-ts/1","graph":{"nodes":[{"kind":"input","name":"x","shape":[2]},{"kind":"module","name":"__proto__","module":{"kind":"PermuteRandom","args":{},"inputShapes":[[2]],"conditionShapes":[],"outputShapes":[[2]]},"inputs":[{"node":0,"output":0}],"conditions":[]},{"kind":"output","name":"z","input":{"node":1,"output":0},"shape":[2]}]},"weights":{"__proto__":{"perm":{"shape":[2],"dtype":"int32","data":"AQAAAAAAAAA="},"perm_inv":{"shape":[2],"dtype":"int32","data":"AQAAAAAAAAA="}}}}') as FlowDocument;
    const loaded = await loadFlow(old);
    expect(await loaded.modules[1]!.params.get('perm')!.data()).toEqual(new Int32Array([1, 0]));
    loaded.dispose();
  });

  it('non-finite arguments survive save and load (clamp: Infinity is refused when built: it computes NaN)', async () => {
    class Limit extends InvertibleModule {
      constructor(dimsIn: readonly Shape[], dimsC: readonly Shape[], readonly args: { readonly bound: number }) {
        super(dimsIn, dimsC);
      }
      forward(xs: readonly tf.Tensor[]): ModuleResult {
        return { out: xs.map((x) => tf.clipByValue(x, -this.args.bound, this.args.bound)), logDet: 0 };
      }
    }
    const flow = inn.input([2]).apply(Limit, { bound: Infinity }, { name: 'limit' }).build();
    const store = memoryHandler();
    await saveFlow(flow, store);
    const loaded = await loadFlow(store, { modules: { Limit } });
    const node = loaded.graph.nodes[1];
    expect(node.kind === 'module' && (node.module.args as { args: { bound: number } }).args.bound).toBe(Infinity);
    flow.dispose();
    loaded.dispose();
    expect(() => inn.input([4]).glow({ subnet: subnets.mlp({ hidden: 4 }), clamp: Infinity })).toThrow(/option "clamp": expected a finite number > 0, got Infinity/);
  });

  it('saving a disposed flow is refused', async () => {
    const flow = inn.input([3]).actNorm().build();
    flow.dispose();
    const store = memoryHandler();
    await expect(saveFlow(flow, store)).rejects.toThrow(DisposedError);
    expect(store.artifacts).toBeUndefined();
  });

  it("the caller's document is neither mutated nor frozen by a successful load", async () => {
    const doc = savedDocument('conditional-chain');
    const snapshot = JSON.stringify(doc);
    const flow = await loadFlow(doc as unknown as FlowDocument);
    expect(JSON.stringify(doc)).toBe(snapshot);
    const nodes = (doc.graph as { nodes: Json[] }).nodes;
    expect(nodes.some((n) => Object.isFrozen(n) || Object.isFrozen(n.shape ?? []))).toBe(false);
    flow.dispose();
    const artifacts = await artifactsOf(() => inn.input([3]).actNorm().build());
    const again = await loadFlow(handlerOf(artifacts));
    expect(Object.isFrozen(topologyOf(artifacts).graph.nodes[0])).toBe(false);
    again.dispose();
  });

  it('failing loads (missing weight, wrong data length, bad base64, wrong dtype) leave nothing allocated', async () => {
    const base = savedDocument('conditional-chain');
    const weights = (doc: Json) => doc.weights as Record<string, Record<string, { data: string; dtype: string; shape: number[] }>>;
    const missing = clone(base);
    delete weights(missing).glow['subnet1.0.weight'];
    expect(await loadProblems(missing as unknown as FlowDocument)).toContain('node "glow": missing weight "subnet1.0.weight"');
    const short = clone(base);
    weights(short).norm.loc.data = btoa('abc');
    expect(await loadProblems(short as unknown as FlowDocument)).toMatch(/weights\["norm"\]\["loc"\]\.data: has 3 bytes/);
    const base64 = clone(base);
    weights(base64).norm.loc.data = '***';
    expect(await loadProblems(base64 as unknown as FlowDocument)).toContain('weights["norm"]["loc"].data: is not base64');
    const dtype = clone(base);
    weights(dtype).perm.perm.dtype = 'float32';
    expect(await loadProblems(dtype as unknown as FlowDocument)).toContain('node "perm": weight "perm" has dtype "float32", expected "int32"');
  });
});

describe('importFreia and loadFreiaWeights check the whole document first', () => {
  /** The problems of a failing import, checking that nothing was left allocated and the document is untouched. */
  function importProblems(doc: unknown): string {
    const before = allocated();
    const snapshot = JSON.stringify(doc);
    const error = thrownBy(() => importFreia(doc as FreiaDocument).dispose());
    expect(error).toBeInstanceOf(FreiaImportError);
    expect(allocated()).toEqual(before);
    expect(JSON.stringify(doc)).toBe(snapshot);
    return (error as FreiaImportError).problems.join('\n');
  }

  it('not a document at all', () => {
    expect(importProblems(null)).toBe('document: expected a freia-reference/1 object, got null');
    expect(importProblems({ format: 'freia-reference/1', name: 'x' })).toContain('graph.nodes: expected a non-empty list of nodes');
  });

  it('parameter data of the wrong length, non-finite or not whole', () => {
    const doc = clone(freiaDocument('glow_fc')) as unknown as { params: Record<string, { data: number[]; dtype?: string }> };
    const [first, second] = Object.keys(doc.params);
    doc.params[first].data = doc.params[first].data.slice(1);
    doc.params[second].data[2] = NaN;
    const problems = importProblems(doc);
    expect(problems).toMatch(new RegExp(`params\\["${first.replace(/\./g, '\\.')}"\\]\\.data: expected \\d+ numbers for shape`));
    expect(problems).toContain(`params["${second}"].data[2]: expected a finite number, got NaN`);
  });

  it('a huge declared shape, an out-of-range output index, a dangling reference', () => {
    const huge = clone(freiaDocument('actnorm')) as unknown as { graph: { nodes: Json[] } };
    huge.graph.nodes[0].shape = [1e9];
    expect(importProblems(huge)).toContain('graph.nodes[0].shape: expected a list of positive whole numbers, at most 67108864 elements, got [1000000000]');
    const outOfRange = clone(freiaDocument('actnorm')) as unknown as { graph: { nodes: Json[] } };
    const output = outOfRange.graph.nodes.find((n) => n.kind === 'output')!;
    output.inputs = [[(output.inputs as [string, number][])[0][0], 3]];
    expect(importProblems(outOfRange)).toMatch(/output "[^"]+": reads output 3 of "[^"]+", which has 1 output\(s\)/);
    const dangling = clone(freiaDocument('actnorm')) as unknown as { graph: { nodes: Json[] } };
    dangling.graph.nodes.find((n) => n.kind === 'module')!.inputs = [['nowhere', 0]];
    expect(importProblems(dangling)).toContain('reads "nowhere", which is not defined before it');
  });

  it('a permutation that is not one', () => {
    const doc = clone(freiaDocument('permute_random')) as unknown as { params: Record<string, { data: number[] }> };
    doc.params['module_list.0.perm'].data = [0, 0, 0, 0, 0, 0, 0];
    expect(importProblems(doc)).toContain('node "b0": parameter "module_list.0.perm" is not a permutation with its inverse "module_list.0.perm_inv": 0 appears twice');
  });

  it('a misspelt constructor argument is refused with a near miss', () => {
    const doc = clone(freiaDocument('glow_fc')) as unknown as { graph: { nodes: Json[] } };
    const module = doc.graph.nodes.find((n) => n.kind === 'module')!;
    module.args = { ...(module.args as Json), clampp: 2 };
    expect(importProblems(doc)).toMatch(/option "clampp": expected a known option, got an unknown option \(did you mean "clamp"\?\)/);
  });

  it('the caller’s document is not frozen by a successful import', () => {
    const doc = freiaDocument('glow_fc');
    const flow = importFreia(doc);
    expect(Object.isFrozen(doc.graph.nodes[0])).toBe(false);
    expect(Object.isFrozen((doc.graph.nodes[0] as { shape: unknown }).shape)).toBe(false);
    flow.dispose();
  });

  it('loadFreiaWeights leaves every weight exactly as it was when any part fails', async () => {
    const doc = freiaDocument('glow_fc');
    const flow = importFreia(doc);
    const bytes = async () => Promise.all(flow.modules.flatMap((m) => [...(m?.params.values() ?? [])].map((v) => v.data())));
    const before = await bytes();
    const other = clone(doc) as unknown as { params: Record<string, { data: number[]; shape: number[] }> };
    const keys = Object.keys(other.params);
    for (const key of keys) other.params[key].data = other.params[key].data.map((v) => v + 1); // every weight changes...
    const last = keys[keys.length - 1];
    other.params[last] = { ...other.params[last], shape: [other.params[last].data.length + 1], data: [...other.params[last].data, 0] }; // ...but the last does not fit
    const counts = allocated();
    expect(() => loadFreiaWeights(flow, other as unknown as FreiaDocument)).toThrow(FreiaImportError);
    expect(allocated()).toEqual(counts);
    expect(await bytes()).toEqual(before);
    // a structurally broken document is refused before any weight is touched
    const broken = clone(other);
    broken.params[keys[1]].data = [1];
    expect(() => loadFreiaWeights(flow, broken as unknown as FreiaDocument)).toThrow(/params\[".*"\]\.data: expected \d+ numbers/);
    expect(await bytes()).toEqual(before);
    flow.dispose();
    expect(() => loadFreiaWeights(flow, doc)).toThrow(DisposedError);
  });
});
