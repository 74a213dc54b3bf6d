/**
 * Checkpoints (issue 11): training resumed from a checkpoint takes exactly
 * the steps the saved run takes (our Adam and tfjs's optimizers), a fresh
 * optimizer does not (so the comparison can fail), loadFlow reads a
 * checkpoint as its flow, and a corrupt or mismatched checkpoint is a
 * CheckpointError naming the weight and both shapes, with nothing left
 * allocated. Also measures a checkpoint of a flow of about a million
 * parameters (docs/checkpoints.md quotes the number).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  inn, subnets, train, saveCheckpoint, loadCheckpoint, loadFlow, memoryHandler, setGlobalSeed, CheckpointError, FlowFormatError, ValidationError,
  type AnyFlow, type CheckpointTopology, type Flow,
} from '../src/index.js';
import { fileSystem } from '../src/node/index.js';

/** How many tensors and variables exist: both must be back after a failure. */
const allocated = () => ({ tensors: tf.memory().numTensors, variables: Object.keys(tf.engine().registeredVariables).length });

const network = () => inn.input([4]).repeat(3, (c) => c.allInOne({ subnet: subnets.mlp({ hidden: 16 }) })).build();

/** Batch k of a fixed sequence of batches (seeded, so every run sees the same). */
const batch = (k: number) => tf.tidy(() => tf.add(tf.mul(tf.randomNormal([32, 4], 0, 1, 'float32', 1000 + k), tf.tensor1d([1, 0.5, 2, 1])), 0.3));

/** Steps `from` .. `to - 1`: one gradient step on batch k each, as train.fit would take them. */
function steps(flow: AnyFlow, optimizer: tf.Optimizer, from: number, to: number): void {
  for (let k = from; k < to; k++) {
    tf.tidy(() => {
      const x = batch(k);
      optimizer.applyGradients(tf.variableGrads(() => train.nll(flow, x), flow.trainableVariables).grads);
    });
  }
}

/** A flow and its Adam (learning rate 0.01) after steps 0 and 1 from seed 5, and the checkpoint of step 2 in memory. */
async function checkpointAfterTwoSteps() {
  setGlobalSeed(5);
  const flow = network();
  const optimizer = train.adam(0.01);
  steps(flow, optimizer, 0, 2);
  const store = memoryHandler();
  await saveCheckpoint({ flow, optimizer, step: 2 }, store);
  return { flow, optimizer, store };
}

/** The largest difference between the parameters of two flows of one architecture. */
function parameterDistance(a: AnyFlow, b: AnyFlow): number {
  let most = 0;
  a.modules.forEach((module, i) => {
    for (const [name, v] of module?.params ?? []) {
      const w = b.modules[i]!.params.get(name)!;
      most = Math.max(most, tf.tidy(() => tf.max(tf.abs(tf.sub(v, w))).dataSync()[0]));
    }
  });
  return most;
}

const optimizers: [string, () => tf.Optimizer][] = [
  ['train.adam (FreiaAdam)', () => train.adam(0.01)],
  ["tfjs's tf.train.adam", () => tf.train.adam(0.01)],
  ["tfjs's tf.train.momentum", () => tf.train.momentum(0.01, 0.9)],
];

describe('a resumed run takes the steps the saved run takes', () => {
  const [K, M] = [4, 3];
  for (const [label, make] of optimizers) {
    it(label, async () => {
      // tfjs's momentum optimizer leaks one scalar on dispose (its dispose skips SGD's); count that as tfjs's, not ours
      const probe = allocated();
      make().dispose();
      const tfjsLeak = allocated().tensors - probe.tensors;
      const before = allocated();
      setGlobalSeed(5);
      const flowA = network();
      const optimizerA = make();
      steps(flowA, optimizerA, 0, K);
      const store = memoryHandler();
      await saveCheckpoint({ flow: flowA, optimizer: optimizerA, step: K }, store);
      steps(flowA, optimizerA, K, K + M); // A: the run that never stopped

      const resumed = await loadCheckpoint(store); // B: a fresh flow and optimizer from the checkpoint
      expect(resumed.step).toBe(K);
      expect(resumed.optimizer.constructor).toBe(optimizerA.constructor);
      steps(resumed.flow, resumed.optimizer, K, K + M);
      expect(parameterDistance(flowA, resumed.flow)).toBeLessThan(1e-6);

      // Control: the same weights with a fresh optimizer end somewhere else, so the comparison above can fail.
      const control = await loadFlow(store);
      const fresh = make();
      steps(control, fresh, K, K + M);
      expect(parameterDistance(flowA, control)).toBeGreaterThan(1e-4);

      for (const thing of [flowA, optimizerA, resumed.flow, resumed.optimizer, control, fresh]) thing.dispose();
      expect(allocated()).toEqual({ ...before, tensors: before.tensors + 3 * tfjsLeak });
    });
  }

  it('what is stored: the step and optimizer in the topology, the state under the flow\'s weight names', async () => {
    const { flow, optimizer, store } = await checkpointAfterTwoSteps();
    const topology = store.artifacts!.modelTopology as { checkpoint: CheckpointTopology };
    expect(topology.checkpoint).toEqual({ step: 2, optimizer: { className: 'FreiaAdam', config: { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: optimizer.epsilon } } });
    const names = store.artifacts!.weightSpecs!.map((s) => s.name);
    const params = flow.trainableVariables.length;
    const firstNode = flow.graph.nodes[1].name;
    expect(names.filter((n) => n.startsWith('~optimizer/'))).toHaveLength(1 + 2 * params);
    expect(names).toContain('~optimizer/iterations');
    expect(names).toContain(`~optimizer/${firstNode}/subnet.0.weight/m`);
    expect(names).toContain(`~optimizer/${firstNode}/subnet.2.bias/v`);
    // loadFlow reads a checkpoint as its flow, and ignores the optimizer
    const plain = await loadFlow(store);
    expect(parameterDistance(flow, plain)).toBe(0);
    for (const thing of [flow, optimizer, plain]) thing.dispose();
  });

  it('an optimizer loaded before any step (no state yet) resumes too', async () => {
    const flow = network();
    const store = memoryHandler();
    const optimizer = train.adam(0.02);
    await saveCheckpoint({ flow, optimizer, step: 0 }, store);
    const resumed = await loadCheckpoint(store);
    expect((resumed.optimizer as ReturnType<typeof train.adam>).learningRate).toBe(0.02);
    steps(flow, optimizer, 0, 2);
    steps(resumed.flow, resumed.optimizer, 0, 2);
    expect(parameterDistance(flow, resumed.flow)).toBeLessThan(1e-6);
    for (const thing of [flow, optimizer, resumed.flow, resumed.optimizer]) thing.dispose();
  });
});

describe('checkpoints of other flows, and on disk', () => {
  it("a flow with a user's tfjs-layers subnet (variables named with '/') resumes too", async () => {
    const before = allocated();
    const layered = () => inn.input([4]).glow({ subnet: (cIn: number, cOut: number) => tf.sequential({ layers: [tf.layers.dense({ inputShape: [cIn], units: 8, activation: 'relu' }), tf.layers.dense({ units: cOut })] }) }).build();
    const flow = layered();
    expect(flow.trainableVariables.some((v) => v.name.includes('/'))).toBe(true);
    const optimizer = train.adam(0.01);
    steps(flow, optimizer, 0, 2);
    const store = memoryHandler();
    await saveCheckpoint({ flow, optimizer, step: 2 }, store);
    expect(store.artifacts!.weightSpecs!.map((s) => s.name)).toContain(`~optimizer/${flow.graph.nodes[1].name}/subnet1.w0/m`);
    steps(flow, optimizer, 2, 4);
    const resumed = await loadCheckpoint(store);
    steps(resumed.flow, resumed.optimizer, 2, 4);
    expect(parameterDistance(flow, resumed.flow)).toBeLessThan(1e-6);
    for (const thing of [flow, optimizer, resumed.flow, resumed.optimizer]) thing.dispose();
    expect(allocated()).toEqual(before);
  });

  it("to a directory with freia-ts/node's fileSystem (model.json + weights.bin)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'freia-checkpoint-'));
    try {
      setGlobalSeed(5);
      const flow = network();
      const optimizer = train.adam(0.01);
      steps(flow, optimizer, 0, 2);
      await saveCheckpoint({ flow, optimizer, step: 2 }, fileSystem(dir));
      steps(flow, optimizer, 2, 3);
      const resumed = await loadCheckpoint(fileSystem(dir));
      expect(resumed.step).toBe(2);
      steps(resumed.flow, resumed.optimizer, 2, 3);
      expect(parameterDistance(flow, resumed.flow)).toBeLessThan(1e-6);
      for (const thing of [flow, optimizer, resumed.flow, resumed.optimizer]) thing.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('saving refuses what could not be resumed, writing nothing', () => {
  it('state for a variable that is no parameter of the flow', async () => {
    const flow = network();
    const optimizer = train.adam(0.01);
    const extra = tf.variable(tf.zeros([3]));
    tf.tidy(() => optimizer.applyGradients({ [extra.name]: tf.ones([3]) }));
    const store = memoryHandler();
    const error = await saveCheckpoint({ flow, optimizer, step: 1 }, store).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as Error).message).toContain(`the optimizer holds state "${extra.name}/m" for a variable that is no trainable parameter of the flow`);
    expect(store.artifacts).toBeUndefined();
    for (const thing of [flow, optimizer, extra]) thing.dispose();
  });

  it("an optimizer whose getWeights does not work (tfjs's Adamax), and a bad step", async () => {
    const flow = network();
    const adamax = tf.train.adamax(0.01);
    const store = memoryHandler();
    await expect(saveCheckpoint({ flow, optimizer: adamax, step: 0 }, store)).rejects.toThrow(/cannot save the checkpoint: 1 problem\(s\)\n {2}- saveCheckpoint: the optimizer \(Adamax\) cannot report its state/);
    await expect(saveCheckpoint({ flow, optimizer: train.adam(), step: -1 }, store)).rejects.toThrow(ValidationError);
    expect(store.artifacts).toBeUndefined();
    adamax.dispose();
    flow.dispose();
  });
});

describe('a corrupt or mismatched checkpoint is a CheckpointError naming the weight, with nothing allocated', () => {
  /** A checkpoint after two steps, as plain artifacts to corrupt. */
  async function saved(): Promise<{ artifacts: tf.io.ModelArtifacts; node: string }> {
    const { flow, optimizer, store } = await checkpointAfterTwoSteps();
    const node = flow.graph.nodes[1].name;
    flow.dispose();
    optimizer.dispose();
    return { artifacts: store.artifacts!, node };
  }

  async function problems(artifacts: tf.io.ModelArtifacts): Promise<readonly string[]> {
    const before = allocated();
    const error = await loadCheckpoint(tf.io.fromMemory(artifacts)).then((c) => { c.flow.dispose(); c.optimizer.dispose(); }, (e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    expect(allocated()).toEqual(before);
    return (error as CheckpointError).problems;
  }

  const respec = (artifacts: tf.io.ModelArtifacts, change: (spec: tf.io.WeightsManifestEntry) => tf.io.WeightsManifestEntry) => ({ ...artifacts, weightSpecs: artifacts.weightSpecs!.map(change) });

  it('a slot of the wrong shape (same bytes)', async () => {
    const { artifacts, node } = await saved();
    const name = `~optimizer/${node}/subnet.0.weight/m`;
    expect(await problems(respec(artifacts, (s) => (s.name === name ? { ...s, shape: [16, 2] } : s)))).toEqual([`weight "${name}": has shape [16, 2], expected [2, 16] (the shape of "${node}/subnet.0.weight")`]);
  });

  it('a slot for a weight the flow does not have, a missing iteration count, an unknown optimizer, a bad step', async () => {
    const { artifacts, node } = await saved();
    const renamed = respec(artifacts, (s) => (s.name === `~optimizer/${node}/subnet.0.bias/v` ? { ...s, name: `~optimizer/${node}/subnet.9.bias/v` } : s.name === '~optimizer/iterations' ? { ...s, name: '~optimizer/iters' } : s));
    const topology = structuredClone(artifacts.modelTopology) as { checkpoint: { step: unknown; optimizer: { className: string } } };
    topology.checkpoint.optimizer.className = 'NoSuchOptimizer';
    topology.checkpoint.step = 1.5;
    expect(await problems({ ...renamed, modelTopology: topology })).toEqual([
      'modelTopology.checkpoint.step: expected a whole number ≥ 0, got 1.5',
      'modelTopology.checkpoint.optimizer.className: "NoSuchOptimizer" is no optimizer registered with tf.serialization (train.adam\'s is "FreiaAdam"; import freia-ts, or register your class)',
      'weight "~optimizer/iters": names no weight of the flow (expected ~optimizer/<node>/<param>/<slot>)',
      `weight "~optimizer/${node}/subnet.9.bias/v": names no weight of the flow (expected ~optimizer/<node>/<param>/<slot>)`,
      'weight "~optimizer/iterations": missing (the optimizer\'s iteration count)',
    ]);
  });

  it('a slot holding NaN, and a plain saved flow', async () => {
    const { artifacts, node } = await saved();
    const specs = artifacts.weightSpecs!;
    const name = `~optimizer/${node}/subnet.2.bias/m`;
    const index = specs.findIndex((s) => s.name === name);
    const offset = specs.slice(0, index).reduce((n, s) => n + 4 * s.shape.reduce((a, b) => a * b, 1), 0);
    const data = (artifacts.weightData as ArrayBuffer).slice(0);
    new Float32Array(data, offset, 1)[0] = NaN;
    expect(await problems({ ...artifacts, weightData: data })).toEqual([`weight "${name}": element 0 is NaN, expected finite numbers`]);
    const { checkpoint: _dropped, ...flowOnly } = artifacts.modelTopology as Record<string, unknown>;
    expect((await problems({ ...artifacts, modelTopology: flowOnly }))[0]).toMatch(/^modelTopology.checkpoint: missing/);
  });

  it("a fault in the flow's part is the flow's FlowFormatError", async () => {
    const { artifacts, node } = await saved();
    const before = allocated();
    const bad = respec(artifacts, (s) => (s.name === `${node}/subnet.0.weight` ? { ...s, shape: [16, 2] } : s));
    // the optimizer's slot now disagrees with the flow's weight, which is named first
    const error = await loadCheckpoint(tf.io.fromMemory(bad)).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as CheckpointError).problems).toContain(`weight "~optimizer/${node}/subnet.0.weight/m": has shape [2, 16], expected [16, 2] (the shape of "${node}/subnet.0.weight")`);
    const topology = structuredClone(artifacts.modelTopology) as { graph: { nodes: { name: string }[] } };
    topology.graph.nodes[0].name = '';
    await expect(loadCheckpoint(tf.io.fromMemory({ ...artifacts, modelTopology: topology }))).rejects.toThrow(FlowFormatError);
    expect(allocated()).toEqual(before);
  });
});

describe('the size of a checkpoint', () => {
  it('a flow of about a million parameters with Adam: about 12 bytes a parameter', async () => {
    setGlobalSeed(1);
    const flow: Flow = inn.input([64]).repeat(8, (c) => c.allInOne({ subnet: subnets.mlp({ hidden: 1280 }) })).build();
    const parameters = flow.trainableVariables.reduce((n, v) => n + v.size, 0);
    const optimizer = train.adam(1e-4);
    tf.tidy(() => {
      const x = tf.randomNormal([16, 64]);
      optimizer.applyGradients(tf.variableGrads(() => train.nll(flow, x), flow.trainableVariables).grads);
    });
    const store = memoryHandler();
    await saveCheckpoint({ flow, optimizer, step: 1 }, store);
    const artifacts = store.artifacts!;
    const binary = (artifacts.weightData as ArrayBuffer).byteLength;
    const json = JSON.stringify({ modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] }).length;
    console.log(`checkpoint of ${parameters} parameters: weights.bin ${binary} bytes, model.json ${json} bytes, ${((binary + json) / 1e6).toFixed(2)} MB in all`);
    expect(parameters).toBeGreaterThan(0.95e6);
    expect(parameters).toBeLessThan(1.05e6);
    const all = flow.modules.reduce((n, m) => n + [...(m?.params.values() ?? [])].reduce((k, v) => k + v.size, 0), 0);
    expect(binary).toBe(4 * all + 4 * 2 * parameters + 4); // every weight, two moments per trainable one, the iteration count
    flow.dispose();
    optimizer.dispose();
  });
});

describe('train.fit resumes from a checkpoint as if it never stopped', () => {
  it('K steps, a checkpoint, M more with initialStep: the weights and losses of K + M straight (schedule and clipping included)', async () => {
    const [K, M] = [5, 4];
    const options = (optimizer: tf.Optimizer, initialStep: number, steps: number) => ({
      data: (step: number) => ({ x: batch(step) }), steps, initialStep, optimizer, clipNorm: 5, progress: false as const,
      learningRate: train.schedules.cosine({ initial: 0.02, steps: K + M, warmup: 2 }),
    });
    setGlobalSeed(7);
    const straight = network();
    const straightOptimizer = train.adam(0.02);
    const straightLosses = train.fit(straight, options(straightOptimizer, 0, K + M)).loss;

    setGlobalSeed(7);
    const first = network();
    const firstOptimizer = train.adam(0.02);
    train.fit(first, options(firstOptimizer, 0, K));
    const store = memoryHandler();
    await saveCheckpoint({ flow: first, optimizer: firstOptimizer, step: K }, store);
    const resumed = await loadCheckpoint(store);
    const resumedLosses = train.fit(resumed.flow, options(resumed.optimizer, resumed.step, M)).loss;
    resumedLosses.forEach((loss, k) => expect(loss).toBeCloseTo(straightLosses[K + k], 5));
    expect(parameterDistance(straight, resumed.flow)).toBeLessThan(1e-6);

    // Control: resuming the flow alone (a fresh Adam) does not give the same run.
    const control = await loadFlow(store);
    const controlOptimizer = train.adam(0.02);
    train.fit(control, options(controlOptimizer, K, M));
    expect(parameterDistance(straight, control)).toBeGreaterThan(1e-4);
    for (const thing of [straight, straightOptimizer, first, firstOptimizer, resumed.flow, resumed.optimizer, control, controlOptimizer]) thing.dispose();
  });
});
