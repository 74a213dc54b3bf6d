/**
 * train.fit's data forms, epochs, validation and stopping, as tfjs-layers'
 * model.fit: rows (tensors or arrays) batched and shuffled by the fit, ready
 * batches (arrays, iterables, async iterables, tf.data datasets), a function
 * of the step; the user's tensors are never disposed; validation is the mean
 * NLL over the whole set; the best weights are kept; memory stays flat.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { inn, subnets, train, setGlobalSeed, OptionError, type AnyFlow, type FitOptions } from '../src/index.js';
import { thrownByAsync } from './helpers/thrown.js';

const flow2 = (): AnyFlow => {
  setGlobalSeed(11);
  return inn.input([2]).allInOne({ subnet: subnets.mlp({ hidden: 8 }) }).allInOne({ subnet: subnets.mlp({ hidden: 8 }) }).build();
};

/** `n` rows of a fixed 2-D point cloud (no randomness: a fixed function of the row). */
const rows = (n: number, shift = 0): number[][] => Array.from({ length: n }, (_, i) => [Math.sin(1.7 * i) * 0.8 + shift, Math.cos(0.9 * i) * 0.5 - shift]);

const weights = (flow: AnyFlow) => flow.trainableVariables.map((v) => Array.from(v.dataSync()));
const quiet = { progress: false } as const;

describe('train.fit: data forms and ownership', () => {
  it('trains on a full batch the user holds, many steps, without disposing it (the issue\'s step-2 failure)', () => {
    const flow = flow2();
    const full = tf.tensor2d(rows(64));
    const before = tf.memory().numTensors;
    const history = train.fit(flow, { ...quiet, steps: 5, data: () => ({ x: full }) });
    expect(history.loss).toHaveLength(5);
    expect(full.isDisposed).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
    full.dispose();
    flow.dispose();
  });

  it('rows as a tensor: batches of batchSize, epochs, the user\'s tensor kept', () => {
    const flow = flow2();
    const data = tf.tensor2d(rows(100));
    const before = tf.memory().numTensors;
    const epochs: number[] = [];
    const history = train.fit(flow, { ...quiet, data, epochs: 3, batchSize: 32, seed: 1, onEpochEnd: (epoch) => epochs.push(epoch) });
    // ceil(100 / 32) = 4 batches per epoch.
    expect(history.steps).toBe(12);
    expect(history.epochs).toBe(3);
    expect(history.stopped).toBe('completed');
    expect(epochs).toEqual([0, 1, 2]);
    expect(data.isDisposed).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
    data.dispose();
    flow.dispose();
  });

  it('unshuffled rows give the same steps as a function slicing the rows in order (the plain path beside)', () => {
    const all = rows(100);
    const a = flow2();
    const byRows = train.fit(a, { ...quiet, data: all, batchSize: 25, shuffle: false, epochs: 2, learningRate: 1e-2 });
    const b = flow2();
    const byFunction = train.fit(b, { ...quiet, steps: 8, learningRate: 1e-2, data: (step) => ({ x: tf.tensor2d(all.slice((step % 4) * 25, (step % 4) * 25 + 25)) }) });
    expect(byRows.loss).toHaveLength(8);
    byRows.loss.forEach((loss, k) => expect(loss).toBeCloseTo(byFunction.loss[k], 5));
    expect(weights(a)).toEqual(weights(b));
    a.dispose();
    b.dispose();
  });

  it('shuffling is seeded: the same seed repeats a run, another seed changes the order', () => {
    const run = (seed: number) => {
      const flow = flow2();
      const history = train.fit(flow, { ...quiet, data: rows(64), batchSize: 16, epochs: 2, seed, learningRate: 1e-2 });
      flow.dispose();
      return history.loss;
    };
    expect(run(3)).toEqual(run(3));
    expect(run(3)).not.toEqual(run(4));
  });

  it('conditional rows { x, c } and steps that run over several epochs', () => {
    setGlobalSeed(2);
    const flow = inn.input([2]).condition([3]).allInOne({ subnet: subnets.mlp({ hidden: 8 }), cond: 0 }).build();
    const x = tf.tensor2d(rows(40));
    const c = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(Array.from({ length: 40 }, (_, i) => i % 3), 'int32'), 3), 'float32'));
    const before = tf.memory().numTensors;
    const history = train.fit(flow, { ...quiet, data: { x, c }, batchSize: 16, steps: 7 });
    // 3 batches per epoch: 7 steps complete 2 epochs.
    expect(history.steps).toBe(7);
    expect(history.epochs).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, c]);
    flow.dispose();
  });

  it('refuses rows whose x and c disagree on the sample count, naming the field, leaving no tensor', async () => {
    const flow = inn.input([2]).condition([3]).allInOne({ subnet: subnets.mlp({ hidden: 8 }), cond: 0 }).build();
    const before = tf.memory().numTensors;
    const error = await thrownByAsync(() => train.fit(flow, { ...quiet, data: { x: rows(10), c: rows(9).map(() => [0, 0, 1]) }, epochs: 1 }));
    expect(error).toBeInstanceOf(OptionError);
    expect((error as OptionError).field).toBe('data.c');
    expect((error as Error).message).toMatch(/10 samples on the first axis, as data.x has, got 9/);
    expect(tf.memory().numTensors).toBe(before);
    flow.dispose();
  });

  it('an array of ready batches is one epoch; its tensors are the user\'s and stay', () => {
    const flow = flow2();
    const batches = [0, 1, 2].map((k) => ({ x: tf.tensor2d(rows(16, k * 0.1)) }));
    const before = tf.memory().numTensors;
    const history = train.fit(flow, { ...quiet, data: batches, epochs: 2 });
    expect(history.steps).toBe(6);
    expect(history.epochs).toBe(2);
    expect(batches.every((b) => !b.x.isDisposed)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(batches.map((b) => b.x));
    flow.dispose();
  });

  describe('a one-shot generator', () => {
    let warn: ReturnType<typeof vi.spyOn>;
    beforeEach(() => { warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined); });
    afterEach(() => warn.mockRestore());
    it('ends with stopped "exhausted" and a warning when steps ask for more than it gives; the tensors it made are freed', () => {
      const flow = flow2();
      function* batches() {
        for (let k = 0; k < 4; k++) yield tf.tensor2d(rows(16, k * 0.1));
      }
      const before = tf.memory().numTensors;
      const history = train.fit(flow, { ...quiet, data: batches(), steps: 10 });
      expect(history.steps).toBe(4);
      expect(history.stopped).toBe('exhausted');
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/ran out of batches after 4 steps/));
      expect(tf.memory().numTensors).toBe(before);
      flow.dispose();
    });
  });

  it('fitAsync reads a tf.data dataset and an async iterable; fit refuses both, before anything is allocated', async () => {
    const flow = flow2();
    const dataset = tf.data.array(rows(64)).batch(16);
    const before = tf.memory().numTensors;
    const fromDataset = await train.fitAsync(flow, { ...quiet, data: dataset, epochs: 2 });
    expect(fromDataset.steps).toBe(8);
    expect(fromDataset.epochs).toBe(2);
    async function* stream() {
      for (let k = 0; k < 3; k++) yield { x: tf.tensor2d(rows(8, k)) };
    }
    const fromStream = await train.fitAsync(flow, { ...quiet, data: stream() });
    expect(fromStream.steps).toBe(3);
    expect(tf.memory().numTensors).toBe(before);
    for (const data of [dataset, stream()]) {
      const error = await thrownByAsync(() => train.fit(flow, { ...quiet, data }));
      expect(error).toBeInstanceOf(OptionError);
      expect((error as Error).message).toMatch(/use train\.fitAsync/);
    }
    expect(tf.memory().numTensors).toBe(before);
    flow.dispose();
  });

  it('fitAsync with the overlapped reads (checkFinite: false) reports the same losses as fit', async () => {
    const a = flow2();
    const sync = train.fit(a, { ...quiet, data: rows(48), batchSize: 16, epochs: 2, seed: 9, checkFinite: false });
    const b = flow2();
    const overlapped = await train.fitAsync(b, { ...quiet, data: rows(48), batchSize: 16, epochs: 2, seed: 9, checkFinite: false });
    expect(overlapped.loss).toEqual(sync.loss);
    a.dispose();
    b.dispose();
  });

  it('initialStep numbers the steps of a fit that resumes another', () => {
    const flow = flow2();
    const asked: number[] = [];
    const reported: number[] = [];
    train.fit(flow, { ...quiet, steps: 3, initialStep: 100, data: (step) => (asked.push(step), { x: tf.tensor2d(rows(8)) }), onStep: (step) => reported.push(step) });
    expect(asked).toEqual([100, 101, 102]);
    expect(reported).toEqual([100, 101, 102]);
    flow.dispose();
  });
});

describe('train.fit: validation, best weights, stopping', () => {
  /** Training data far from the standard normal, validation data from it: the validation loss is best early and then worsens. */
  const drifting = (): FitOptions & { validationData: tf.Tensor } => ({ data: rows(64, 2.5), validationData: tf.randomNormal([200, 2], 0, 1, 'float32', 7), batchSize: 16, learningRate: 2e-2, seed: 1 });

  it('the validation loss is the mean NLL over the whole validation set, batched or not', () => {
    const flow = flow2();
    const validationData = tf.randomNormal([200, 2], 0, 1, 'float32', 3);
    const seen: number[] = [];
    const history = train.fit(flow, { ...quiet, data: rows(64), epochs: 2, batchSize: 32, validationData, validationBatchSize: 64, keepBest: false, onValidation: (_step, logs) => seen.push(logs.loss) });
    // One validation per epoch; the last after the last step.
    expect(history.validation.map((v) => v.step)).toEqual([1, 3]);
    expect(seen).toEqual(history.validation.map((v) => v.loss));
    const direct = train.nll(flow, validationData);
    expect(history.validation[1].loss).toBeCloseTo(direct.dataSync()[0], 4);
    tf.dispose([direct, validationData]);
    flow.dispose();
  });

  it('keepBest ends with the weights of the lowest validation loss, not the last step\'s', () => {
    const flow = flow2();
    const options = drifting();
    const history = train.fit(flow, { ...quiet, ...options, steps: 40, validationEvery: 4 });
    expect(history.validation).toHaveLength(10);
    const lowest = Math.min(...history.validation.map((v) => v.loss));
    expect(history.best?.loss).toBe(lowest);
    // The drift makes the best an early step, so the test can tell kept weights from the last ones.
    expect(history.best!.step).toBeLessThan(39);
    const now = train.nll(flow, options.validationData);
    expect(now.dataSync()[0]).toBeCloseTo(lowest, 4);
    tf.dispose([now, options.validationData]);
    flow.dispose();
  });

  it('patience stops after that many validations without a new best', () => {
    const flow = flow2();
    const options = drifting();
    const history = train.fit(flow, { ...quiet, ...options, steps: 400, validationEvery: 4, patience: 2 });
    expect(history.stopped).toBe('patience');
    const bestIndex = history.validation.findIndex((v) => v.step === history.best!.step);
    expect(history.validation.length).toBe(bestIndex + 3);
    expect(history.steps).toBe(4 * history.validation.length);
    tf.dispose(options.validationData);
    flow.dispose();
  });

  it('an aborted signal stops before the next step and returns the history', () => {
    const flow = flow2();
    const controller = new AbortController();
    const history = train.fit(flow, { ...quiet, data: rows(64), epochs: 100, batchSize: 8, signal: controller.signal, onStep: (step) => { if (step === 5) controller.abort(); } });
    expect(history.steps).toBe(6);
    expect(history.stopped).toBe('signal');
    flow.dispose();
  });

  it('onEpochEnd reports each epoch\'s mean loss', () => {
    const flow = flow2();
    const means: number[] = [];
    const history = train.fit(flow, { ...quiet, data: rows(60), batchSize: 20, epochs: 3, onEpochEnd: (_e, logs) => means.push(logs.loss) });
    const expected = [0, 1, 2].map((e) => history.loss.slice(3 * e, 3 * e + 3).reduce((a, b) => a + b) / 3);
    means.forEach((m, k) => expect(m).toBeCloseTo(expected[k], 10));
    flow.dispose();
  });
});

describe('train.fit: memory over a long run', () => {
  it('stays flat over 3000 steps with rows, shuffling and validation (tensors and bytes at step 100 and at the end)', () => {
    const flow = flow2();
    const data = tf.tensor2d(rows(256));
    const validationData = rows(64, 0.5);
    let at100: tf.MemoryInfo | undefined;
    let atEnd: tf.MemoryInfo | undefined;
    train.fit(flow, {
      ...quiet, data, batchSize: 32, steps: 3000, validationData, validationEvery: 500, keepBest: false, learningRate: 1e-3,
      onStep: (step) => {
        if (step === 100) at100 = tf.memory();
        if (step === 2999) atEnd = tf.memory();
      },
    });
    expect(at100).toBeDefined();
    expect(atEnd!.numTensors).toBe(at100!.numTensors);
    expect(atEnd!.numBytes).toBe(at100!.numBytes);
    data.dispose();
    flow.dispose();
  }, 120_000);
});

describe('train.fit: options that do not go together are refused before anything is allocated', () => {
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['a function without steps', { data: () => ({ x: tf.zeros([2, 2]) }) }, 'steps', /a data function has no end of its own/],
    ['epochs with a function', { data: () => ({ x: tf.zeros([2, 2]) }), steps: 2, epochs: 2 }, 'epochs', /left out for a data function/],
    ['batchSize with a function', { data: () => ({ x: tf.zeros([2, 2]) }), steps: 2, batchSize: 8 }, 'batchSize', /applies to rows in memory/],
    ['shuffle with ready batches', { data: [{ x: tf.zeros([2, 2]) }], shuffle: false }, 'shuffle', /gives ready batches/],
    ['batchSize 0', { data: rows(4), batchSize: 0 }, 'batchSize', /a whole number ≥ 1, got 0/],
    ['epochs 0', { data: rows(4), epochs: 0 }, 'epochs', /a whole number ≥ 1, got 0/],
    ['patience without validation data', { data: rows(4), patience: 3 }, 'patience', /left out without validationData/],
    ['keepBest without validation data', { data: rows(4), keepBest: true }, 'keepBest', /without validationData/],
    ['validation data that is a function', { data: rows(4), validationData: () => ({ x: tf.zeros([2, 2]) }) }, 'validationData', /rows .*, got a function/],
    ['a signal that is not one', { data: rows(4), signal: 'stop' }, 'signal', /an AbortSignal/],
  ];
  for (const [name, options, field, message] of cases) {
    it(`refuses ${name}`, async () => {
      const flow = flow2();
      const before = tf.memory();
      const error = await thrownByAsync(() => train.fit(flow, { ...quiet, ...options } as unknown as FitOptions)); // cast: deliberately ill-typed options
      expect(error).toBeInstanceOf(OptionError);
      expect((error as OptionError).field).toBe(field);
      expect((error as Error).message).toMatch(message);
      expect(tf.memory().numBytes).toBe(before.numBytes);
      flow.dispose();
    });
  }
});
