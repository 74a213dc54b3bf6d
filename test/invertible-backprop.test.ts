/**
 * Gradients by inversion (`memory: 'invert'`) against ordinary backprop
 * (`memory: 'store'`, tfjs's own tape): every row of the module table, the
 * seed's three networks, and graphs with splits, skips, conditions and
 * several outputs, on wasm and cpu. The truth is the plain path beside the
 * recomputing one: same flow, same weights, same batch.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inn, subnets, train, useBackend, setGlobalSeed, InvertibleModule, FreiaError, type AnyFlow, type ForwardOptions, type ModuleResult } from '../src/index.js';
import { moduleTable } from './cases/index.js';
import { ConditionalSwap, FixedRandomElementwiseMultiply } from './helpers/custom-modules.js';

let start = '';
beforeAll(() => {
  start = tf.getBackend();
});
afterAll(async () => {
  await useBackend(start);
});

/**
 * Moves every trainable parameter to a random, non-trivial value (as the
 * module table does), seeded: recomputed inputs differ from stored ones by
 * rounding, so a ReLU input within rounding of zero can switch sides and
 * change a gradient by more than rounding (docs/memory.md). Seeded draws keep
 * the comparison repeatable.
 */
function randomize(flow: AnyFlow, scale = 0.3): void {
  flow.trainableVariables.forEach((v, k) => tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, scale, 'float32', 1000 + k)))));
}

/**
 * A loss that reaches every output and the log-det with different weights,
 * so a wrong gradient in any of them shows. Each element has its own weight:
 * a plain sum of squares is invariant under orthogonal modules (Householder),
 * whose parameter gradients would then be rounding noise.
 */
function loss(flow: AnyFlow, x: tf.Tensor | tf.Tensor[], c: tf.Tensor[], memory: 'store' | 'invert'): tf.Scalar {
  return tf.tidy(() => {
    const { out, logDet } = flow.forward(x, { c, memory });
    const outs = Array.isArray(out) ? out : [out];
    const terms = outs.map((t, k) => {
      const weights = tf.reshape(tf.linspace(0.5 + k, 1.5 + k, t.size), t.shape);
      return tf.div(tf.sum(tf.add(tf.mul(tf.square(t), weights), tf.mul(t, tf.sub(weights, 1)))), t.shape[0]!);
    });
    return tf.sub(tf.addN(terms), tf.mul(tf.mean(logDet), 1.3)) as tf.Scalar;
  });
}

interface Gradients {
  readonly value: number;
  readonly variables: Float32Array[];
  readonly inputs: Float32Array[];
  readonly conditions: Float32Array[];
}

/** The loss's gradients with respect to every parameter, input and condition, read back (one backward pass). */
function gradients(flow: AnyFlow, x: tf.Tensor[], c: tf.Tensor[], memory: 'store' | 'invert'): Gradients {
  const variables = flow.trainableVariables;
  return tf.tidy(() => {
    const targets = [...x, ...c, ...variables];
    // tfjs's public tf.grads insists that every argument reaches the loss; a mixture's weights reach only its component choice.
    const { value, grads } = tf.engine().gradients(() => loss(flow, x.length === 1 ? x[0] : x, c, memory), targets, undefined, true);
    const read = (k: number) => ((grads[k] as tf.Tensor | undefined) ?? tf.zerosLike(targets[k])).dataSync() as Float32Array;
    return {
      value: value.dataSync()[0],
      inputs: x.map((_, k) => read(k)),
      conditions: c.map((_, k) => read(x.length + k)),
      variables: variables.map((_, k) => read(x.length + c.length + k)),
    };
  });
}

/** Largest |a − b| over max(|b|∞, 1e-3·…): one relative figure per gradient tensor. */
function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

/** Checks that inversion's gradients equal ordinary backprop's to `tolerance` relative, and that nothing leaks. */
function expectSameGradients(flow: AnyFlow, x: tf.Tensor[], c: tf.Tensor[], tolerance = 1e-4): void {
  // The same seed for both passes: a module that draws noise per call (dequantization) then draws the same noise in each.
  setGlobalSeed(4242);
  const store = gradients(flow, x, c, 'store');
  const before = tf.memory().numTensors;
  setGlobalSeed(4242);
  const invert = gradients(flow, x, c, 'invert');
  expect(tf.memory().numTensors).toBe(before);
  expect(Math.abs(invert.value - store.value)).toBeLessThan(tolerance * Math.max(1, Math.abs(store.value)));
  const errors = [
    ...store.variables.map((g, k) => ({ what: flow.trainableVariables[k].name, error: relativeError(invert.variables[k], g) })),
    ...store.inputs.map((g, k) => ({ what: `input ${k}`, error: relativeError(invert.inputs[k], g) })),
    ...store.conditions.map((g, k) => ({ what: `condition ${k}`, error: relativeError(invert.conditions[k], g) })),
  ];
  const worst = errors.reduce((a, b) => (b.error > a.error ? b : a), { what: 'none', error: 0 });
  if (process.env.FREIA_SHOW_GRADIENT_ERRORS) console.log(`worst relative gradient error ${worst.error.toExponential(2)} (${worst.what})`);
  expect(errors.filter((e) => !(e.error < tolerance))).toEqual([]);
  // A gradient of zero everywhere would pass the comparison trivially.
  expect(store.inputs.some((g) => g.some((v) => v !== 0))).toBe(true);
}

for (const backend of ['wasm', 'cpu']) {
  describe(`gradients by inversion equal ordinary backprop (${backend})`, () => {
    beforeAll(async () => {
      await useBackend(backend);
    });

    for (const testCase of moduleTable) {
      it(testCase.name, () => {
        setGlobalSeed(7);
        const flow = testCase.build();
        const batch = 3;
        const x = testCase.sample ? testCase.sample([batch, ...testCase.input]) : tf.randomNormal([batch, ...testCase.input], 0, 1, 'float32', 1);
        const c = (testCase.conditions ?? []).map((s, k) => tf.randomNormal([batch, ...s], 0, 1, 'float32', 2 + k));
        tf.dispose(flow.forward(x, { c }) as unknown as tf.Tensor[]);
        randomize(flow, testCase.perturbation);
        expectSameGradients(flow, [x], c);
        tf.dispose([x, ...c]);
        flow.dispose();
      });
    }

    for (const seed of seedNetworks(backend)) {
      it(`the seed's ${seed.name}`, () => {
        setGlobalSeed(seed.seed);
        const flow = seed.build();
        seed.init?.(flow);
        const x = seed.sample();
        const c = seed.condition ? [seed.condition()] : [];
        expectSameGradients(flow, [x], c);
        tf.dispose([x, ...c]);
        flow.dispose();
      });
    }

    it('a graph with two inputs, a condition, splits, a skip connection, an IResNet and a custom module between segments, and two outputs', () => {
      setGlobalSeed(11);
      const g = inn.graph();
      const a = g.input([10]);
      const b = g.input([4]);
      const c = g.condition([3]);
      const swap = g.condition([1]);
      const [a1, a2] = g.split(g.permuteRandom(a, { seed: 1 }), [4, 6]);
      const mixed = g.glow(g.concat([a2, b]), { subnet: mlp, cond: c, name: 'mix' });
      const [m1, m2] = g.split(mixed, [5, 5]);
      const kept = g.iresnet(g.actNorm(m1), { exactLogDet: true, spectralNorm: 'forward', internalSize: 8 });
      const [s1, s2] = g.apply(ConditionalSwap, [kept, g.allInOne(m2, { subnet: mlp, cond: c })], undefined, { cond: swap });
      const [skip] = g.apply(FixedRandomElementwiseMultiply, [g.actNorm(a1)]);
      const flow = g.build({ outputs: [g.rnvp(g.concat([s1, s2]), { subnet: mlp }), skip] });
      const xs = [tf.randomNormal([5, 10], 0, 1, 'float32', 8), tf.randomNormal([5, 4], 0, 1, 'float32', 9)];
      const cond = [tf.randomNormal([5, 3], 0, 1, 'float32', 10), tf.tensor2d([[1], [-1], [1], [-1], [-1]])];
      tf.dispose(flow.forward(xs, { c: cond }).out as tf.Tensor[]);
      randomize(flow);
      expectSameGradients(flow, xs, cond);
      tf.dispose([...xs, ...cond]);
      flow.dispose();
    });

    it('an image chain with downsampling, a split whose halves take different paths, and an output per scale', () => {
      setGlobalSeed(12);
      const flow = inn.input([2, 8, 8])
        .glow({ subnet: subnets.conv({ hidden: 8, kernel: 3 }) })
        .haarDownsample()
        .split([4, 4])
        .on(0, (s) => s.actNorm().allInOne({ subnet: subnets.conv({ hidden: 8, kernel: 1 }), permuteSoft: true }))
        .on(1, (s) => s.invAutoAct().glow({ subnet: subnets.conv({ hidden: 8, kernel: 3 }) }).flatten())
        .build();
      const x = tf.randomNormal([3, 2, 8, 8], 0, 1, 'float32', 11);
      tf.dispose(flow.forward(x).out as tf.Tensor[]);
      randomize(flow, 0.1);
      expectSameGradients(flow, [x], []);
      x.dispose();
      flow.dispose();
    });
  });
}

const mlp = subnets.mlp({ hidden: 16 });

/**
 * The seed's three networks (tests/seed-networks.test.ts). On wasm they are
 * the seed's exactly; on cpu (plain JavaScript, some 30 times slower) the
 * same wiring with narrower subnets, which changes no path of the executor.
 */
function seedNetworks(backend: string) {
  const wide = backend !== 'cpu';
  return [
    {
      name: 'moons INN (8 AllInOne, soft permutations)',
      seed: 1,
      build: () => inn.input([2]).repeat(8, (c) => c.allInOne({ subnet: subnets.mlp({ hidden: wide ? 512 : 64 }), permuteSoft: true })).build(),
      init: undefined as ((flow: AnyFlow) => void) | undefined,
      sample: () => tf.randomNormal([100, 2], 0, 1, 'float32', 6),
      condition: undefined as (() => tf.Tensor) | undefined,
    },
    {
      name: 'MNIST cINN (12 conditional AllInOne on [784])',
      seed: 2,
      build: () => inn.input([784]).condition([10]).repeat(12, (c) => c.allInOne({ subnet: subnets.mlp({ hidden: wide ? 512 : 32 }), cond: 0, permuteSoft: false })).build(),
      init: (flow: AnyFlow) => randomize(flow, 0.01),
      sample: () => tf.randomUniform([8, 784], 0, 1, 'float32', 7),
      condition: () => tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), 10).asType('float32')),
    },
    {
      name: 'CIFAR-style conv INN of DESIGN.md',
      seed: 3,
      build: () => {
        const hidden = wide ? 256 : 8;
        return inn.input([3, 32, 32])
          .repeat(4, (c) => c.glow({ subnet: subnets.conv({ hidden, kernel: 3 }), clamp: 1.2 }).permuteRandom())
          .irevnetDownsample()
          .repeat(12, (c, k) => c.glow({ subnet: subnets.conv({ hidden, kernel: k % 2 ? 3 : 1 }), clamp: 1.2 }).permuteRandom({ seed: k }))
          .flatten()
          .split([768, 2304])
          .on(0, (s) => s.repeat(12, (c) => c.glow({ subnet: subnets.mlp({ hidden: wide ? 512 : 32 }), clamp: 2 }).permuteRandom()))
          .concat()
          .build();
      },
      // The seed's recipe: every parameter 0.01·N(0, 1) (FrEIA's CIFAR example).
      init: (flow: AnyFlow) => {
        flow.trainableVariables.forEach((v, k) => tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.01, 'float32', 100 + k))));
      },
      // One image: the seed's network is large (some 70 GFLOP for both gradients), the wiring is what is tested.
      sample: () => tf.randomUniform([1, 3, 32, 32], 0, 1, 'float32', 5),
      condition: undefined,
    },
  ];
}

describe("memory: 'invert' in use", () => {
  /** An exact module whose inverse is deliberately off by 1 %: only recomputation by inversion can see it. */
  class SlightlyWrongInverse extends InvertibleModule {
    forward([x]: readonly tf.Tensor[], _c: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
      return { out: [rev ? tf.mul(x, 1.01) : tf.mul(x, 1)], logDet: 0 };
    }
  }
  class OptedOut extends SlightlyWrongInverse {
    static readonly recomputeByInversion = false;
  }

  it('recomputes inputs by the inverse pass, unless the module opts out', () => {
    setGlobalSeed(5);
    const x = tf.randomNormal([4, 6]);
    const chain = (module: typeof SlightlyWrongInverse) => inn.input([6]).glow({ subnet: mlp }).apply(module).glow({ subnet: mlp }).build();
    const wrong = chain(SlightlyWrongInverse);
    randomize(wrong);
    const store = gradients(wrong, [x], [], 'store');
    const invert = gradients(wrong, [x], [], 'invert');
    // The first block's parameter gradients were taken at an input recomputed 1 % off.
    const firstBlock = wrong.trainableVariables.length / 2;
    expect(Math.max(...store.variables.slice(0, firstBlock).map((g, k) => relativeError(invert.variables[k], g)))).toBeGreaterThan(1e-3);
    wrong.dispose();

    const optedOut = chain(OptedOut);
    randomize(optedOut);
    expectSameGradients(optedOut, [x], []);
    optedOut.dispose();
    x.dispose();
  });

  it('trains with train.fit({ memory: "invert" }) to the same losses as store mode', () => {
    const losses = (memory: 'store' | 'invert') => {
      setGlobalSeed(9);
      const flow = inn.input([2]).repeat(4, (c) => c.allInOne({ subnet: subnets.mlp({ hidden: 32 }), permuteSoft: true })).actNorm().build();
      const data = tf.randomNormal([64, 2], 0, 1, 'float32', 4);
      const result = train.fit(flow, { steps: 5, memory, progress: false, data: () => ({ x: tf.clone(data) }) }).loss;
      data.dispose();
      flow.dispose();
      return result;
    };
    const store = losses('store');
    const invert = losses('invert');
    expect(new Set(store).size).toBe(5);
    invert.forEach((loss, k) => expect(Math.abs(loss - store[k])).toBeLessThan(1e-4 * Math.max(1, Math.abs(store[k]))));
  });

  it('refuses an unknown memory mode, naming the option, before allocating anything', () => {
    const flow = inn.input([3]).glow({ subnet: mlp }).build();
    const x = tf.randomNormal([2, 3]);
    const before = tf.memory().numTensors;
    // Cast: a caller without types (JavaScript) can pass anything.
    expect(() => flow.forward(x, { memory: 'recompute' as unknown as 'invert' })).toThrow(FreiaError);
    expect(() => flow.forward(x, { memory: 'recompute' as unknown as 'invert' })).toThrow('flow.forward: option "memory": expected "store" or "invert", got "recompute"');
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    flow.dispose();
  });

  it('keeps the peak memory of a gradient flat over depth, where store mode grows with it', async () => {
    /** Peak bytes of one gradient above what was allocated before it (the parameters, the batch). */
    const stepPeak = async (blocks: number, memory: 'store' | 'invert') => {
      setGlobalSeed(6);
      const flow = inn.input([2, 16, 16]).repeat(blocks, (c) => c.glow({ subnet: subnets.conv({ hidden: 8, kernel: 3 }) }).permuteRandom()).build();
      const x = tf.randomNormal([8, 2, 16, 16]);
      const resident = tf.memory().numBytes;
      const profile = await tf.profile(() => {
        tf.tidy(() => {
          tf.variableGrads(() => train.nll(flow, x, { memory }), flow.trainableVariables);
        });
      });
      x.dispose();
      flow.dispose();
      return profile.peakBytes - resident;
    };
    const store4 = await stepPeak(4, 'store');
    const store16 = await stepPeak(16, 'store');
    const invert4 = await stepPeak(4, 'invert');
    const invert16 = await stepPeak(16, 'invert');
    expect(store16 / store4).toBeGreaterThan(3);
    // Issue 9's goal is 64 blocks at most 1.3 times 8. What still grows is the parameters' gradients,
    // a few percent of what store mode adds. Holding a segment's intermediates until its forward pass
    // ended (the first version) gave 1.8 and 10%.
    expect(invert16 / invert4).toBeLessThan(1.3);
    expect((invert16 - invert4) / (store16 - store4)).toBeLessThan(0.03);
    expect(invert16).toBeLessThan(store16 / 4);
  });
});
