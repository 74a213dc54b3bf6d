/**
 * What freia-ts does for WebGPU in Node besides running kernels, each
 * against the cpu backend where there is a number to compare:
 * the backend report, the errors for synchronous reads and for errors the
 * device reports, ActNorm's data-dependent initialisation on the device
 * (fresh, and after loading weights), the Gaussian mixture's component
 * choice and index condition, IResNet's Lipschitz correction, saving and
 * loading, sampling and log-densities, and the numerical log-det. Values
 * agree to 1e-5 relative (no long sums here), log-dets to 1e-4.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  backendInfo, dist, inn, loadFlow, logJacobianNumericalAsync, memoryHandler, saveFlow, setGlobalSeed, subnets,
  FreiaError, GaussianMixtureModel, IResNetLayer, type AnyFlow,
} from '../../src/index.js';
import { expectClose, onCpu, read } from './helpers.js';

const image = (seed: number) => tf.add(tf.mul(tf.randomNormal([6, 3, 4, 4], 0, 1, 'float32', seed), 2), 1);
const forwardOf = async (flow: AnyFlow, x: tf.Tensor) => {
  const { out, logDet } = flow.forward(x);
  const result = [...(await read(out)), ...(await read(logDet))];
  tf.dispose([out as tf.Tensor, logDet]);
  return result;
};

describe('WebGPU in Node', () => {
  it('backendInfo names the backend and the adapter, and says whether it is a software rasteriser', () => {
    const info = backendInfo();
    expect(info.name).toBe('webgpu');
    expect(info.adapter).toBeDefined();
    expect(info.description.startsWith('webgpu on ')).toBe(true);
    const names = `${info.adapter?.device} ${info.adapter?.description}`;
    expect(info.adapter?.software).toBe(/llvmpipe|lavapipe|swiftshader/i.test(names));
    if (info.adapter?.software) expect(info.description).toContain('a software rasteriser, not a GPU');
  });

  it('a synchronous read of a GPU tensor fails with a FreiaError naming the async reads', async () => {
    // A matMul runs on the GPU (small elementwise ops on host data may run on the host).
    const t = tf.reshape(tf.matMul(tf.tensor2d([[1, 2, 3]]), tf.eye(3)), [3]);
    expect(() => t.dataSync()).toThrow(FreiaError);
    expect(() => t.arraySync()).toThrow(/await tensor\.data\(\)/);
    expect(await t.array()).toEqual([1, 2, 3]);
    t.dispose();
  });

  it('an error the device reports makes the next read fail instead of returning garbage', async () => {
    // Cast: tfjs's WebGPUBackend keeps its GPUDevice in `device`; a buffer without usages is invalid.
    const device = (tf.backend() as unknown as { device: { createBuffer(d: object): unknown } }).device;
    device.createBuffer({ size: 4, usage: 0 });
    const t = tf.add(tf.tensor1d([1, 2]), 1);
    await expect(t.data()).rejects.toThrow(/WebGPU reported an error since the last read.*usage/i);
    expect(await t.array()).toEqual([2, 3]);
    t.dispose();
  });

  it('ActNorm initialises from its first batch on the device, as on cpu', async () => {
    const build = () => inn.input([3, 4, 4]).actNorm().build();
    const truth = await onCpu(async () => {
      const flow = build();
      const result = [...(await forwardOf(flow, image(1))), ...(await forwardOf(flow, image(2)))];
      flow.dispose();
      return result;
    });
    const flow = build();
    expectClose([...(await forwardOf(flow, image(1))), ...(await forwardOf(flow, image(2)))], truth, 1e-5, 'ActNorm init');
    flow.dispose();
  });

  it('a loaded ActNorm keeps loaded initialised weights and initialises uninitialised ones, on the device', async () => {
    const stores = await onCpu(async () => {
      const fresh = inn.input([3, 4, 4]).actNorm().build();
      const initialised = inn.input([3, 4, 4]).actNorm().build();
      tf.dispose(initialised.forward(image(3)) as unknown as tf.Tensor[]);
      const a = memoryHandler();
      const b = memoryHandler();
      await saveFlow(fresh, a);
      await saveFlow(initialised, b);
      const truth = [...(await forwardOf(fresh, image(4))), ...(await forwardOf(initialised, image(4)))];
      fresh.dispose();
      initialised.dispose();
      return { a, b, truth };
    });
    const fresh = await loadFlow(stores.a);
    const initialised = await loadFlow(stores.b);
    expectClose([...(await forwardOf(fresh, image(4))), ...(await forwardOf(initialised, image(4)))], stores.truth, 1e-5, 'loaded ActNorm');
    fresh.dispose();
    initialised.dispose();
  });

  it('a saved and loaded flow computes what it did, on WebGPU', async () => {
    setGlobalSeed(11);
    const flow = inn.input([4]).glow({ subnet: subnets.mlp({ hidden: 16 }) }).permuteRandom().build();
    const x = tf.randomNormal([5, 4], 0, 1, 'float32', 5);
    const before = await forwardOf(flow, x);
    const store = memoryHandler();
    await saveFlow(flow, store);
    const again = await loadFlow(store);
    expectClose(await forwardOf(again, x), before, 1e-6, 'loaded flow');
    tf.dispose([x]);
    flow.dispose();
    again.dispose();
  });

  it('the Gaussian mixture draws the same components as on cpu, and reads its index condition on the device', async () => {
    const run = async () => {
      // Made on each backend: a WebGPU tensor cannot move to cpu synchronously.
      const weights = tf.softmax(tf.randomNormal([200, 4], 0, 1, 'float32', 6));
      const index = tf.tensor2d(Array.from({ length: 200 }, (_, i) => i % 4), [200, 1]);
      const picks = GaussianMixtureModel.pickMixtureComponent(weights, 9);
      const flow = inn.input([2]).condition([4]).condition([4, 2]).condition([4, 3]).condition([1]).gaussianMixture({ cond: [0, 1, 2, 3] }).build();
      const mu = tf.randomNormal([200, 4, 2], 0, 1, 'float32', 7);
      const entries = tf.mul(tf.randomNormal([200, 4, 3], 0, 1, 'float32', 8), 0.3);
      const x = tf.randomNormal([200, 2], 0, 1, 'float32', 10);
      const { out, logDet } = flow.forward(x, { c: [weights, mu, entries, index] });
      const result = await read([picks, out as tf.Tensor, logDet]);
      tf.dispose([weights, index, picks, mu, entries, x, out as tf.Tensor, logDet]);
      flow.dispose();
      return result;
    };
    const truth = await onCpu(run);
    const ours = await run();
    expect(ours[0]).toEqual(truth[0]);
    expectClose(ours.slice(1), truth.slice(1), 1e-5, 'mixture');
  });

  it("IResNet's Lipschitz correction scales the same weights as on cpu", async () => {
    const run = async () => {
      setGlobalSeed(12);
      const flow = inn.input([4]).iresnet({ internalSize: 8, spectralNormMax: 0.5 }).build();
      for (const v of flow.trainableVariables) tf.tidy(() => v.assign(tf.mul(v, 3)));
      const layer = flow.modules.find((m) => m instanceof IResNetLayer) as IResNetLayer;
      setGlobalSeed(13);
      layer.lipschitzCorrection();
      const result = await read(flow.trainableVariables);
      flow.dispose();
      return result;
    };
    const truth = await onCpu(run);
    expectClose(await run(), truth, 1e-5, 'corrected weights');
  });

  it('sampling, log-densities and the numerical log-det agree with cpu', async () => {
    const run = async () => {
      setGlobalSeed(14);
      const flow = inn.input([3]).allInOne({ subnet: subnets.mlp({ hidden: 16 }), permuteSoft: true }).build();
      const model = dist.pullBack(flow);
      const samples = model.sample(50, { seed: 3 });
      const logp = model.logProb(samples);
      const x = tf.randomNormal([4, 3], 0, 1, 'float32', 15);
      const numeric = await logJacobianNumericalAsync(flow, x);
      const analytic = flow.forward(x).logDet;
      const result = [...(await read([samples, logp, analytic])), numeric];
      tf.dispose([samples, logp, x, analytic]);
      flow.dispose();
      return result;
    };
    const truth = await onCpu(run);
    const ours = await run();
    expectClose(ours.slice(0, 3), truth.slice(0, 3), 1e-4, 'samples, log p, log-det');
    // Finite differences in float32 (h = 1e-3): about 1e-3 relative against the analytic log-det.
    expectClose([ours[3]], [ours[2]], 2e-3, 'numerical against analytic log-det');
  });
});
