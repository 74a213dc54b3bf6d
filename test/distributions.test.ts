/**
 * Distributions (issue 10, part 1): each base against its closed form,
 * sampling moments and temperature, the pull-back and push-forward against
 * the flow's own passes, densities that integrate to 1 on a grid, bases
 * that train with the flow, and bad input refused without leaking.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { dist, inn, setGlobalSeed, subnets, train, ShapeMismatchError, ValidationError, type Distribution } from '../src/index.js';

const LOG_2PI = Math.log(2 * Math.PI);
const read = (t: tf.Tensor | tf.Tensor[]) => Array.from((t as tf.Tensor).dataSync());

/** `f` leaves no tensor behind. */
function leakless<T>(f: () => T): T {
  const before = tf.memory().numTensors;
  const result = f();
  const made = result instanceof tf.Tensor ? 1 : Array.isArray(result) ? result.filter((r) => r instanceof tf.Tensor).length : 0;
  expect(tf.memory().numTensors - made).toBe(before);
  return result;
}

describe('bases against their closed forms', () => {
  it('standard and diagonal normal', () => {
    const z = tf.tensor2d([[0.5, -1], [2, 0.25]]);
    const standard = dist.standardNormal([2]);
    const expected = [[0.5, -1], [2, 0.25]].map((row) => row.reduce((s, v) => s - 0.5 * v * v - 0.5 * LOG_2PI, 0));
    read(leakless(() => standard.logProb(z))).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));

    const normal = dist.diagonalNormal([2]);
    normal.mean.assign(tf.tensor1d([1, -2]));
    normal.logScale.assign(tf.tensor1d([Math.log(2), Math.log(0.5)]));
    const byHand = [[0.5, -1], [2, 0.25]].map((row) => row.reduce((s, v, j) => {
      const [m, sd] = [[1, -2][j], [2, 0.5][j]];
      return s - 0.5 * ((v - m) / sd) ** 2 - Math.log(sd) - 0.5 * LOG_2PI;
    }, 0));
    read(leakless(() => normal.logProb(z))).forEach((v, i) => expect(v).toBeCloseTo(byHand[i], 5));
    normal.dispose();
    z.dispose();
  });

  it('class-conditional normal: a one-hot class picks that class\'s mean and scale', () => {
    const base = dist.classConditionalNormal([2], 3);
    base.means.assign(tf.tensor2d([[0, 0], [5, -5], [1, 1]]));
    base.logScales.assign(tf.tensor2d([[0, 0], [Math.log(3), 0], [0, Math.log(0.1)]]));
    const z = tf.tensor2d([[5, -4], [1, 1.05]]);
    const c = tf.tensor2d([[0, 1, 0], [0, 0, 1]]);
    const byHand = [
      -0.5 * (0 / 3) ** 2 - Math.log(3) - 0.5 * 1 - 0 - LOG_2PI,
      -0 - 0.5 * (0.05 / 0.1) ** 2 - Math.log(0.1) - LOG_2PI,
    ];
    read(leakless(() => base.logProb(z, { cBase: c }))).forEach((v, i) => expect(v).toBeCloseTo(byHand[i], 4));
    expect(() => base.logProb(z)).toThrow(ShapeMismatchError);
    expect(() => base.logProb(z)).toThrow(/cBase: expected a class condition \[2, 3\] \(one-hot\), got undefined/);
    tf.dispose([z, c]);
    base.dispose();
  });

  it('Gaussian mixture: logsumexp of weighted components, computed by hand', () => {
    const base = dist.gaussianMixture([2], 2);
    base.logits.assign(tf.tensor1d([0, Math.log(3)])); // weights 1/4, 3/4
    base.means.assign(tf.tensor2d([[-1, 0], [2, 1]]));
    base.logScales.assign(tf.tensor2d([[0, 0], [Math.log(0.5), Math.log(2)]]));
    const points = [[0, 0], [2, 1.5]];
    const density = (p: number[]) => {
      const component = (m: number[], s: number[]) => p.reduce((prod, v, j) => prod * Math.exp(-0.5 * ((v - m[j]) / s[j]) ** 2) / (s[j] * Math.sqrt(2 * Math.PI)), 1);
      return 0.25 * component([-1, 0], [1, 1]) + 0.75 * component([2, 1], [0.5, 2]);
    };
    const z = tf.tensor2d(points);
    read(leakless(() => base.logProb(z))).forEach((v, i) => expect(v).toBeCloseTo(Math.log(density(points[i])), 4));
    z.dispose();
    base.dispose();
  });

  it('uniform box: −log volume inside, −∞ outside', () => {
    const box = dist.uniformBox([2], [0, -1], [2, 3]);
    const z = tf.tensor2d([[1, 0], [2, 3], [2.1, 0]]);
    expect(read(leakless(() => box.logProb(z)))).toEqual([-Math.log(8), -Math.log(8), -Infinity].map(Math.fround));
    z.dispose();
  });
});

describe('sampling and temperature', () => {
  const moments = (values: number[]) => {
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    return { mean, sd: Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length) };
  };

  it('a diagonal normal samples its mean and its scale times the temperature', () => {
    const normal = dist.diagonalNormal([1]);
    normal.mean.assign(tf.tensor1d([3]));
    normal.logScale.assign(tf.tensor1d([Math.log(2)]));
    for (const temperature of [1, 0.5]) {
      const s = normal.sample(20_000, { temperature, seed: 1 });
      const { mean, sd } = moments(read(s));
      expect(mean).toBeCloseTo(3, 1);
      expect(sd / (2 * temperature)).toBeCloseTo(1, 1);
      s.dispose();
    }
    normal.dispose();
  });

  it('a mixture draws its components by weight; a box scales about its centre', () => {
    const mixture = dist.gaussianMixture([1], 2);
    mixture.logits.assign(tf.tensor1d([0, Math.log(4)])); // 20% / 80%
    mixture.means.assign(tf.tensor2d([[-10], [10]]));
    const s = mixture.sample(10_000, { seed: 2, temperature: 0.5 });
    const values = read(s);
    expect(values.filter((v) => v > 0).length / values.length).toBeCloseTo(0.8, 1);
    expect(moments(values.filter((v) => v > 0)).sd).toBeCloseTo(0.5, 1);
    s.dispose();
    mixture.dispose();

    const box = dist.uniformBox([1], 2, 6);
    const u = read(box.sample(5000, { seed: 3, temperature: 0.5 }) as tf.Tensor);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(3);
    expect(Math.max(...u)).toBeLessThanOrEqual(5);
    expect(moments(u).mean).toBeCloseTo(4, 1);
  });

  it('a pull-back passes the temperature to its base: the latents of its samples have standard deviation T', () => {
    setGlobalSeed(11);
    const flow = inn.input([2]).repeat(2, (c) => c.allInOne({ subnet: subnets.mlp({ hidden: 8 }) })).build();
    for (const v of flow.trainableVariables) tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.3, 'float32', 5))));
    const model = dist.pullBack(flow);
    for (const temperature of [1, 0.6, 0.25]) {
      const x = model.sample(8000, { temperature, seed: 4 });
      const z = flow.forward(x).out;
      const flat = read(z);
      for (const d of [0, 1]) {
        const { mean, sd } = moments(flat.filter((_, i) => i % 2 === d));
        // 8000 draws: the sample sd is within ~1% of T; 5% is generous, and T = 1 vs 0.6 vs 0.25 differ far more.
        expect(Math.abs(sd / temperature - 1)).toBeLessThan(0.05);
        expect(Math.abs(mean)).toBeLessThan(0.05 * temperature + 0.01);
      }
      tf.dispose([x, z]);
    }
    flow.dispose();
  });

  it('refuses a bad count or temperature, naming it', () => {
    const base = dist.standardNormal([2]);
    expect(() => base.sample(0)).toThrow(ValidationError);
    expect(() => base.sample(3, { temperature: 0 })).toThrow(/StandardNormal.sample: temperature: expected a finite number > 0, got 0/);
    expect(() => dist.uniformBox([2], [0, 1], [1, 1])).toThrow(/high\[1\] = 1 <= low\[1\] = 1/);
    expect(() => dist.gaussianMixture([2], 0)).toThrow(/components: expected a whole number >= 1, got 0/);
  });
});

describe('pull-back and push-forward', () => {
  const flow2d = () => {
    setGlobalSeed(21);
    const flow = inn.input([2]).repeat(2, (c) => c.allInOne({ subnet: subnets.mlp({ hidden: 16 }), permuteSoft: true })).build();
    // Perturbed so that the flow is far from the identity.
    flow.trainableVariables.forEach((v, k) => v.assign(tf.tidy(() => tf.add(v, tf.randomNormal(v.shape, 0, 0.3, 'float32', 100 + k)))));
    return flow;
  };

  it('pullBack: x = flow⁻¹(z), log p(x) = log p_base(flow(x)) + log|det J|, and sampleAndLogProb agrees', () => {
    const flow = flow2d();
    const base = dist.diagonalNormal([2]);
    base.mean.assign(tf.tensor1d([0.5, -0.5]));
    const model = dist.pullBack(flow, base);
    const x = tf.randomNormal([6, 2], 0, 1, 'float32', 4);
    const { out: z, logDet } = flow.forward(x);
    const byParts = read(tf.add(base.logProb(z as tf.Tensor), logDet));
    read(leakless(() => model.logProb(x))).forEach((v, i) => expect(v).toBeCloseTo(byParts[i], 4));

    const drawn = base.sample(5, { seed: 9 }) as tf.Tensor;
    const expected = read(flow.inverse(drawn).out);
    expect(read(model.sample(5, { seed: 9 }))).toEqual(expected);

    const { x: xs, logProb } = model.sampleAndLogProb(5, { seed: 9 });
    read(model.logProb(xs as tf.Tensor)).forEach((v, i) => expect(v).toBeCloseTo(read(logProb)[i], 4));
    flow.dispose();
    base.dispose();
  });

  it('pushForward: x = flow(z), log p(x) = log p_base(flow⁻¹(x)) + log|det J_flow⁻¹(x)|', () => {
    const flow = flow2d();
    const model = dist.pushForward(flow);
    const z = tf.randomNormal([5, 2], 0, 1, 'float32', 10);
    expect(read(model.sample(5, { seed: 10 }))).toEqual(read(flow.forward(z).out));
    const x = tf.randomNormal([4, 2], 0, 1, 'float32', 11);
    const { out, logDet } = flow.inverse(x);
    const byParts = read(tf.add(dist.standardNormalLogProb(out), logDet));
    read(leakless(() => model.logProb(x))).forEach((v, i) => expect(v).toBeCloseTo(byParts[i], 4));
    flow.dispose();
  });

  it('exp(log p) of both, and of a mixture base, integrates to 1 within 1% on a grid', () => {
    const flow = flow2d();
    const bases: Distribution<[[2]]>[] = [dist.standardNormal([2]), dist.diagonalNormal([2]), dist.gaussianMixture([2], 3, { seed: 5 })];
    const n = 300;
    const [lo, hi] = [-8, 8];
    const step = (hi - lo) / n;
    const grid = tf.tidy(() => {
      const axis = tf.add(tf.mul(tf.range(0, n), step), lo + step / 2);
      const xs = tf.reshape(tf.tile(tf.expandDims(axis, 0), [n, 1]), [-1]);
      const ys = tf.reshape(tf.tile(tf.expandDims(axis, 1), [1, n]), [-1]);
      return tf.stack([xs, ys], 1);
    });
    for (const model of [...bases.map((b) => dist.pullBack(flow, b)), dist.pushForward(flow)]) {
      const mass = tf.tidy(() => tf.sum(tf.exp(model.logProb(grid))).dataSync()[0] * step * step);
      expect(mass).toBeGreaterThan(0.99);
      expect(mass).toBeLessThan(1.01);
    }
    grid.dispose();
    bases.forEach((b) => b.dispose());
    flow.dispose();
  });

  it('a base on other shapes is refused, naming both', () => {
    const flow = inn.input([2]).actNorm().build();
    // Cast: the compiler refuses this (type-tests/distributions.test-d.ts); plain JavaScript reaches the run-time check.
    expect(() => dist.pullBack(flow, dist.diagonalNormal([3]) as never)).toThrow("dist.pullBack: expected a base on the flow's output shapes [2], got [3]");
    flow.dispose();
  });
});

describe('bases train with the flow', () => {
  it('train.fit on a pull-back moves the base\'s parameters and lowers the loss', () => {
    setGlobalSeed(3);
    const flow = inn.input([2]).glow({ subnet: subnets.mlp({ hidden: 16 }) }).build();
    const base = dist.diagonalNormal([2]);
    const model = dist.pullBack(flow, base);
    expect(model.trainableVariables).toHaveLength(flow.trainableVariables.length + 2);
    // Data far from the standard normal: N((4, −3), 0.5²).
    const data = () => ({ x: tf.tidy(() => tf.add(tf.mul(tf.randomNormal([128, 2]), 0.5), tf.tensor1d([4, -3]))) });
    const before = tf.memory().numTensors;
    const losses = train.fit(model, { steps: 300, learningRate: 1e-2, data, progress: false }).loss;
    expect(tf.memory().numTensors).toBe(before);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] - 2);
    // The base's parameters received gradients and moved (the coupling learns part of the shift itself).
    const moved = [...read(base.mean), ...read(base.logScale)].reduce((sum, v) => sum + Math.abs(v), 0);
    expect(moved).toBeGreaterThan(0.2);
    flow.dispose();
    base.dispose();
  });

  it('a class-conditional base trains from cBase in the batches', () => {
    setGlobalSeed(4);
    const flow = inn.input([1, 1, 1]).actNorm().build();
    const base = dist.classConditionalNormal([1, 1, 1], 2);
    const model = dist.pullBack(flow, base);
    const data = () => tf.tidy(() => {
      const labels = tf.cast(tf.greater(tf.randomUniform([64]), 0.5), 'int32');
      const cBase = tf.oneHot(labels, 2).toFloat();
      const x = tf.reshape(tf.add(tf.mul(tf.randomNormal([64]), 0.3), tf.mul(tf.cast(labels, 'float32'), 6)), [64, 1, 1, 1]);
      return { x, cBase };
    });
    train.fit(model, { steps: 300, learningRate: 5e-2, data, progress: false });
    // Class 1's mean sits about 6 above class 0's (in the latent space after ActNorm's scaling).
    const means = read(base.means);
    expect(means[1] - means[0]).toBeGreaterThan(2);
    flow.dispose();
    base.dispose();
  });
});

describe('saved with the flow', () => {
  it('saveModel / loadModel bring back the flow, the base and their weights (binary, through tf.io), for every base', async () => {
    const { saveModel, loadModel, loadFlow, memoryHandler } = await import('../src/index.js');
    setGlobalSeed(8);
    const bases = [
      dist.standardNormal([2]), dist.diagonalNormal([2]), dist.gaussianMixture([2], 3, { seed: 2 }), dist.uniformBox([2], -4, [4, 5]), dist.classConditionalNormal([2], 3),
    ] as const;
    for (const base of bases) {
      const flow = inn.input([2]).glow({ subnet: subnets.mlp({ hidden: 8 }) }).build();
      for (const v of [...flow.trainableVariables, ...base.trainableVariables]) v.assign(tf.randomNormal(v.shape, 0, 0.2, 'float32', 3));
      const model = dist.pullBack(flow, base as Distribution<[[2]]>);
      const store = memoryHandler();
      await saveModel(model, store);
      expect(store.artifacts!.weightSpecs!.filter((s) => s.name.startsWith('~base/')).map((s) => s.name)).toEqual([...base.variables.keys()].map((k) => `~base/${k}`));
      const x = tf.randomNormal([5, 2], 0, 1, 'float32', 6);
      const cBase = base.conditionShape ? tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1], 'int32'), 3).toFloat()) : undefined;
      const before = tf.memory().numTensors;
      const again = await loadModel(store);
      expect(again.base.describe()).toEqual(base.describe());
      expect(tf.tidy(() => read(again.logProb(x, { cBase })))).toEqual(tf.tidy(() => read(model.logProb(x, { cBase }))));
      // loadFlow reads the same artifacts and gives the flow alone.
      const flowAgain = await loadFlow(store);
      expect(tf.tidy(() => read(flowAgain.forward(x).out))).toEqual(tf.tidy(() => read(flow.forward(x).out)));
      flowAgain.dispose();
      again.flow.dispose();
      again.base.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, cBase ?? []]);
      flow.dispose();
      base.dispose();
    }
  });

  it('a broken base record or weight is refused, naming it, and leaves nothing allocated', async () => {
    const { saveModel, loadModel, memoryHandler } = await import('../src/index.js');
    const flow = inn.input([2]).actNorm().build();
    const base = dist.diagonalNormal([2]);
    const store = memoryHandler();
    await saveModel(dist.pullBack(flow, base), store);
    const saved = store.artifacts!;
    const variants: [string, (a: tf.io.ModelArtifacts) => tf.io.ModelArtifacts, RegExp][] = [
      ['an unknown kind', (a) => ({ ...a, modelTopology: { ...(a.modelTopology as object), distribution: { direction: 'pull', base: { kind: 'Cauchy', shape: [2] } } } }), /modelTopology.distribution.base: kind: expected "StandardNormal", .*got "Cauchy"/],
      ['a base on other shapes', (a) => ({ ...a, modelTopology: { ...(a.modelTopology as object), distribution: { direction: 'pull', base: { kind: 'StandardNormal', shapes: [[3]] } } } }), /expected a base on the flow's output shapes \[2\], got \[3\]/],
      ['a bad direction', (a) => ({ ...a, modelTopology: { ...(a.modelTopology as object), distribution: { direction: 'up', base: { kind: 'StandardNormal', shapes: [[2]] } } } }), /direction: is "up", expected "pull" or "push"/],
      ['a missing base weight', (a) => ({ ...a, weightSpecs: a.weightSpecs!.slice(0, -1), weightData: (a.weightData as ArrayBuffer).slice(0, -8) }), /missing the base's "~base\/log_scale"/],
      ['a lone flow', (a) => ({ ...a, modelTopology: { ...(a.modelTopology as Record<string, unknown>), distribution: undefined } }), /distribution: missing \(a flow saved with saveFlow: load it with loadFlow\)/],
    ];
    for (const [name, change, message] of variants) {
      const broken = memoryHandler();
      await broken.save(change(saved));
      const before = tf.memory().numTensors;
      const variables = Object.keys(tf.engine().registeredVariables).length;
      const error = await loadModel(broken).then(() => undefined, (e: unknown) => e);
      expect((error as Error)?.message, name).toMatch(message);
      expect(tf.memory().numTensors, name).toBe(before);
      expect(Object.keys(tf.engine().registeredVariables).length, name).toBe(variables);
    }
    flow.dispose();
    base.dispose();
  });
});
