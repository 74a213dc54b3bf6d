/**
 * train.fit and train.fitAsync under faults: a non-finite loss or gradient
 * is refused before its update (the weights and Adam's state are exactly
 * those after the previous step), a fit that throws mid-run (bad batch,
 * throwing data function or callback) leaves no tensor behind, and options
 * a fit cannot use are refused, typed and named, before anything is allocated.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  inn, subnets, train, setGlobalSeed, FreiaError, InvertibleModule, NonFiniteError, OptionError, ShapeMismatchError,
  type AnyFlow, type FitOptions, type ForwardOptions, type ModuleResult, type Shape,
} from '../src/index.js';
import { ActNorm } from '../src/modules/actnorm.js';
import { thrownBy, thrownByAsync } from './helpers/thrown.js';

const smallFlow = (): AnyFlow => {
  setGlobalSeed(5);
  return inn.input([2]).allInOne({ subnet: subnets.mlp({ hidden: 8 }) }).glow({ subnet: subnets.mlp({ hidden: 8 }) }).build();
};

/** A fixed, finite batch for step `step` (a fresh tensor: fit disposes it). */
const batchOf = (step: number) => ({ x: tf.tensor2d(Array.from({ length: 16 * 2 }, (_, i) => Math.sin(0.37 * i + step)), [16, 2]) });

/** The same batch with one NaN. */
const poisoned = (step: number) => ({ x: tf.tensor2d(Array.from({ length: 16 * 2 }, (_, i) => (i === 7 ? NaN : Math.sin(0.37 * i + step))), [16, 2]) });

const snapshot = (flow: AnyFlow) => flow.trainableVariables.map((v) => Float32Array.from(v.dataSync()));

/** Adds `sqrt(w) · 0` to its input: the output and log-det are finite, the gradient of w (at 0) is NaN. */
class FiniteLossNaNGradient extends InvertibleModule {
  private readonly w: tf.Variable;
  constructor(dimsIn: readonly Shape[], dimsC: readonly Shape[] = []) {
    super(dimsIn, dimsC);
    this.w = this.addParam('w', tf.zeros([dimsIn[0][0]]));
  }
  forward([x]: readonly tf.Tensor[], _c: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    const shift = tf.mul(tf.sqrt(this.w), 0);
    return { out: [rev ? tf.sub(x, shift) : tf.add(x, shift)], logDet: 0 };
  }
}

describe('train.fit: non-finite steps are refused before their update', () => {
  for (const form of ['fit', 'fitAsync'] as const) {
    it(`${form}: a NaN in the batch of step 3 throws NonFiniteError naming step 3; weights, Adam's moments and step count are those after step 2; nothing leaks`, async () => {
      const flow = smallFlow();
      const optimizer = train.adam(1e-2);
      const before = tf.memory().numTensors;
      let afterStep2: Float32Array[] = [];
      let momentsAfterStep2: Float32Array[] = [];
      let iterationsAfterStep2 = -1;
      const options: FitOptions = {
        steps: 6, optimizer, progress: false,
        data: (step) => (step === 3 ? poisoned(step) : batchOf(step)),
        onStep: (step) => {
          if (step !== 2) return;
          afterStep2 = snapshot(flow);
          iterationsAfterStep2 = optimizer.iterations;
        },
      };
      const moments = async () => {
        const [iterations, ...state] = await optimizer.getWeights();
        iterations.tensor.dispose();
        return state.map((w) => Float32Array.from(w.tensor.dataSync()));
      };
      const run = form === 'fit' ? async () => train.fit(flow, options) : () => train.fitAsync(flow, options);
      // In fitAsync onStep runs right after the step's update too (checked steps are not pipelined).
      const error = await run().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(NonFiniteError);
      expect((error as NonFiniteError).step).toBe(3);
      expect((error as NonFiniteError).where).toBe('loss');
      expect((error as Error).message).toMatch(new RegExp(`^train\\.${form}: step 3: the loss is NaN; no update was applied \\(the weights are those after step 2\\)`));
      expect(snapshot(flow)).toEqual(afterStep2);
      expect(afterStep2.every((w) => w.every(Number.isFinite))).toBe(true);
      expect(optimizer.iterations).toBe(iterationsAfterStep2);
      expect(iterationsAfterStep2).toBe(3);
      momentsAfterStep2 = await moments();
      expect(momentsAfterStep2.every((m) => m.every(Number.isFinite))).toBe(true);
      // The optimizer the caller owns keeps its moments (one m and one v per variable); nothing else is left.
      expect(tf.memory().numTensors).toBe(before + 2 * flow.trainableVariables.length);
      optimizer.dispose();
      expect(tf.memory().numTensors).toBe(before);
      flow.dispose();
    });
  }

  it('the check runs on step 0 too, and the weights stay as before the fit', () => {
    const flow = smallFlow();
    const initial = snapshot(flow);
    const before = tf.memory().numTensors;
    expect(() => train.fit(flow, { steps: 3, progress: false, data: poisoned })).toThrow(/step 0: the loss is NaN; no update was applied \(the weights are as before the fit\)/);
    expect(snapshot(flow)).toEqual(initial);
    expect(tf.memory().numTensors).toBe(before);
    flow.dispose();
  });

  it('a finite loss with a NaN gradient is refused, naming the variable', () => {
    const flow = inn.input([2]).apply(FiniteLossNaNGradient).build();
    const initial = snapshot(flow);
    const before = tf.memory().numTensors;
    const error = thrownBy(() => train.fit(flow, { steps: 2, progress: false, data: batchOf }));
    expect(error).toBeInstanceOf(NonFiniteError);
    expect((error as NonFiniteError).where).toBe('gradient');
    expect((error as Error).message).toMatch(/^train\.fit: step 0: the gradient of \S+ is not finite \(loss \d/);
    expect(snapshot(flow)).toEqual(initial);
    expect(tf.memory().numTensors).toBe(before);
    flow.dispose();
  });

  it('checkFinite: false lets the NaN through (the opt-out), as before this check existed', () => {
    const flow = smallFlow();
    const losses = train.fit(flow, { steps: 2, progress: false, checkFinite: false, data: poisoned }).loss;
    expect(losses.every(Number.isNaN)).toBe(true);
    expect(snapshot(flow).some((w) => w.some(Number.isNaN))).toBe(true);
    flow.dispose();
  });

  it('a checked fit and an unchecked fit of finite steps give the same weights', () => {
    const checked = smallFlow();
    const unchecked = smallFlow();
    const lossesChecked = train.fit(checked, { steps: 4, progress: false, learningRate: 1e-2, clipNorm: 1, data: batchOf });
    const lossesUnchecked = train.fit(unchecked, { steps: 4, progress: false, learningRate: 1e-2, clipNorm: 1, data: batchOf, checkFinite: false });
    expect(lossesChecked).toEqual(lossesUnchecked);
    expect(snapshot(checked)).toEqual(snapshot(unchecked));
    checked.dispose();
    unchecked.dispose();
  });
});

describe('train.fit: a fit that throws mid-run leaves nothing behind', () => {
  const faults: [string, Partial<FitOptions>, RegExp | (new (...args: never[]) => Error)][] = [
    ['a batch of the wrong shape at step 2', { data: (step) => (step === 2 ? { x: tf.zeros([16, 3]) } : batchOf(step)) }, ShapeMismatchError],
    ['a data function that throws at step 2', { data: (step) => { if (step === 2) throw new Error('no more data'); return batchOf(step); } }, /no more data/],
    ['a data function that returns undefined at step 2', { data: (step) => (step === 2 ? (undefined as never) : batchOf(step)) }, /^train\.fit(Async)?: step 2: data\(2\) must return \{ x, c\? \} holding live tensors, got undefined$/],
    ['a batch holding a disposed tensor at step 2', { data: (step) => { const b = batchOf(step); if (step === 2) b.x.dispose(); return b; } }, /step 2: data\(2\) must return \{ x, c\? \} holding live tensors/],
    ['an onStep callback that throws at step 1', { onStep: (step) => { if (step === 1) throw new Error('callback failed'); } }, /callback failed/],
  ];
  for (const [name, fault, expected] of faults) {
    for (const form of ['fit', 'fitAsync'] as const) {
      it(`${form}: ${name}`, async () => {
        const flow = smallFlow();
        let lastGood: Float32Array[] = [];
        const onStep = fault.onStep;
        const options: FitOptions = {
          steps: 5, progress: false, data: batchOf, ...fault,
          onStep: (step, loss, info) => {
            lastGood = snapshot(flow);
            onStep?.(step, loss, info);
          },
        };
        const before = tf.memory().numTensors;
        const error = await (form === 'fit' ? (async () => train.fit(flow, options))() : train.fitAsync(flow, options)).then(() => undefined, (e: unknown) => e);
        if (expected instanceof RegExp) expect((error as Error).message).toMatch(expected);
        else expect(error).toBeInstanceOf(expected);
        expect(tf.memory().numTensors).toBe(before);
        // The failing step applied nothing: the weights are those the last completed step left.
        expect(snapshot(flow)).toEqual(lastGood);
        flow.dispose();
      });
    }
  }
});

describe('train.fit and train.adam: options are checked before anything is allocated', () => {
  const bad: [string, Record<string, unknown>, string, RegExp][] = [
    ['steps -5', { steps: -5 }, 'steps', /option "steps" must be a whole number ≥ 0, got -5/],
    ['steps 1.5', { steps: 1.5 }, 'steps', /got 1\.5/],
    ['steps as a string', { steps: '10' }, 'steps', /got "10"/],
    ['learningRate NaN', { learningRate: NaN }, 'learningRate', /option "learningRate" must be a finite number > 0, got NaN/],
    ['learningRate 0', { learningRate: 0 }, 'learningRate', /got 0/],
    ['learningRate -1', { learningRate: -1 }, 'learningRate', /got -1/],
    ['learningRate Infinity', { learningRate: Infinity }, 'learningRate', /got Infinity/],
    ['clipNorm -1', { clipNorm: -1 }, 'clipNorm', /option "clipNorm" must be a finite number > 0 \(leave it out for no clipping\), got -1/],
    ['clipNorm 0', { clipNorm: 0 }, 'clipNorm', /got 0/],
    ['clipNorm NaN', { clipNorm: NaN }, 'clipNorm', /got NaN/],
    ['data of no form', { data: 42 }, 'data', /option "data" must be a function \(step\) => \(\{ x, c\? \}\), rows .*, got 42/],
    ['data an empty array', { data: [] }, 'data', /option "data" must be at least one row or batch, got an empty array/],
    ['onStep not a function', { onStep: 1 }, 'onStep', /option "onStep" must be a function/],
    ['checkFinite "yes"', { checkFinite: 'yes' }, 'checkFinite', /must be true or false, got "yes"/],
    ['a misspelt option', { clipNom: 1 }, 'clipNom', /^train\.fit: unknown option "clipNom" \(did you mean "clipNorm"\?\); the options are data, steps/],
    ['an optimizer and a learning rate', { optimizer: tf.train.sgd(0.1), learningRate: 0.1 }, 'learningRate', /left out when an optimizer is given/],
    ['an optimizer that is not one', { optimizer: { applyGradients() {} } }, 'optimizer', /must be a tf\.Optimizer/],
    ['progress with a stream that cannot write', { progress: { stream: {} } }, 'progress', /must be true, false or \{ label\?, stream\? \}/],
  ];
  for (const [name, patch, field, message] of bad) {
    it(`train.fit refuses ${name} (OptionError naming "${field}"), allocating nothing`, async () => {
      const flow = smallFlow();
      const initial = snapshot(flow);
      let calls = 0;
      const options = { steps: 3, progress: false, data: (step: number) => (calls++, batchOf(step)), ...patch } as unknown as FitOptions; // cast: deliberately ill-typed options
      const before = tf.memory();
      for (const run of [() => train.fit(flow, options), () => train.fitAsync(flow, options)]) {
        const error = await thrownByAsync(run);
        expect(error).toBeInstanceOf(OptionError);
        expect((error as OptionError).field).toBe(field);
        expect((error as Error).message.replace(/^train\.fitAsync/, 'train.fit')).toMatch(message);
      }
      expect(calls).toBe(0);
      expect(tf.memory().numTensors).toBe(before.numTensors);
      expect(tf.memory().numBytes).toBe(before.numBytes);
      expect(snapshot(flow)).toEqual(initial);
      flow.dispose();
    });
  }

  it('train.fit refuses options that are not an object', () => {
    const flow = smallFlow();
    expect(() => train.fit(flow, undefined as unknown as FitOptions)).toThrow(/train\.fit: option "options" must be an object/); // cast: deliberately missing
    flow.dispose();
  });

  const adamBad: [string, () => unknown, string][] = [
    ['learningRate NaN', () => train.adam(NaN), 'learningRate'],
    ['learningRate -1e-3', () => train.adam(-1e-3), 'learningRate'],
    ['learningRate 0', () => train.adam(0), 'learningRate'],
    ['beta1 1', () => train.adam(1e-3, 1), 'beta1'],
    ['beta2 -0.1', () => train.adam(1e-3, 0.9, -0.1), 'beta2'],
    ['beta2 NaN', () => train.adam(1e-3, 0.9, NaN), 'beta2'],
    ['epsilon 0', () => train.adam(1e-3, 0.9, 0.999, 0), 'epsilon'],
  ];
  for (const [name, make, field] of adamBad) {
    it(`train.adam refuses ${name}`, () => {
      const before = tf.memory().numTensors;
      const error = thrownBy(make);
      expect(error).toBeInstanceOf(OptionError);
      expect((error as OptionError).owner).toBe('train.adam');
      expect((error as OptionError).field).toBe(field);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

describe('ActNorm refuses to initialise from non-finite data', () => {
  for (const [name, value] of [['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity]] as const) {
    it(`a first batch holding ${name}: NonFiniteError naming the channel, still uninitialised, unchanged, nothing leaked; a finite batch then initialises it`, () => {
      const flow = inn.input([3]).actNorm().build();
      const module = flow.modules.find((m) => m instanceof ActNorm) as ActNorm; // cast: find's result narrowed by the instanceof test
      const initial = snapshot(flow);
      const bad = tf.tensor2d([1, 2, 3, 4, value, 6, 7, 8, 9], [3, 3]);
      const before = tf.memory().numTensors;
      expect(() => flow.forward(bad)).toThrow(NonFiniteError);
      expect(() => flow.forward(bad)).toThrow(/^node "ActNorm_1" \(ActNorm, forward, inputs \[3\]\): ActNorm: cannot initialise from a first batch holding NaN or Infinity \(channel 1\)/);
      expect(tf.memory().numTensors).toBe(before);
      expect(module.isInitialized).toBe(false);
      expect(snapshot(flow)).toEqual(initial);
      const good = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8, 9], [3, 3]);
      const { out, logDet } = flow.forward(good);
      // Independent truth: per channel, (x − mean) / unbiased std.
      const expected = [[-1, -1, -1], [0, 0, 0], [1, 1, 1]];
      (out.arraySync() as number[][]).forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(expected[i][j], 5)));
      expect(module.isInitialized).toBe(true);
      tf.dispose([bad, good, out, logDet]);
      flow.dispose();
    });
  }

  it('a fit whose first batch holds NaN stops at the ActNorm, before any update', () => {
    const flow = inn.input([2]).actNorm().allInOne({ subnet: subnets.mlp({ hidden: 8 }) }).build();
    const initial = snapshot(flow);
    const before = tf.memory().numTensors;
    expect(() => train.fit(flow, { steps: 2, progress: false, data: poisoned })).toThrow(NonFiniteError);
    expect(snapshot(flow)).toEqual(initial);
    expect(tf.memory().numTensors).toBe(before);
    flow.dispose();
  });
});

describe('FreiaError is the base of the new errors', () => {
  it('OptionError and NonFiniteError are FreiaErrors with their own names', () => {
    const option = new OptionError('train.fit', 'steps', 'a whole number', '-1');
    const nonFinite = new NonFiniteError('loss', 'm', 3);
    expect(option).toBeInstanceOf(FreiaError);
    expect(option.name).toBe('OptionError');
    expect(nonFinite).toBeInstanceOf(FreiaError);
    expect(nonFinite.name).toBe('NonFiniteError');
  });
});
