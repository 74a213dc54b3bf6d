/**
 * Learning-rate schedules (issue 11, part 1): their values against the
 * closed forms, and train.fit setting Adam's rate before every step (the
 * first Adam step moves each weight by about the rate), a bad rate refused
 * before its update.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { inn, setGlobalSeed, subnets, train, OptionError } from '../src/index.js';

describe('schedules', () => {
  it('step decay, exponential and cosine with warm-up follow their formulas', () => {
    const step = train.schedules.stepDecay({ initial: 1e-2, every: 3, factor: 0.5 });
    expect([0, 2, 3, 5, 6, 9].map(step)).toEqual([1e-2, 1e-2, 5e-3, 5e-3, 2.5e-3, 1.25e-3]);
    const exp = train.schedules.exponential({ initial: 2e-3, rate: 0.9 });
    [0, 1, 10].forEach((k) => expect(exp(k)).toBeCloseTo(2e-3 * 0.9 ** k, 12));
    const cos = train.schedules.cosine({ initial: 1e-3, steps: 110, warmup: 10, final: 1e-5 });
    expect(cos(0)).toBeCloseTo(1e-4, 12);
    expect(cos(9)).toBeCloseTo(1e-3, 12);
    expect(cos(10)).toBeCloseTo(1e-3, 12);
    expect(cos(60)).toBeCloseTo(1e-5 + 0.5 * (1e-3 - 1e-5), 12);
    expect(cos(110)).toBeCloseTo(1e-5, 12);
    expect(cos(500)).toBeCloseTo(1e-5, 12);
    expect(train.schedules.cosine({ initial: 1, steps: 4 })(4)).toBeGreaterThan(0);
  });

  it('refuses bad settings, naming the schedule and the field', () => {
    expect(() => train.schedules.stepDecay({ initial: 1e-3, every: 0, factor: 0.5 })).toThrow(/train.schedules.stepDecay.*every/);
    expect(() => train.schedules.cosine({ initial: 1e-3, steps: 10, warmup: 10 })).toThrow(/warmup.*below steps \(10\)/);
    expect(() => train.schedules.exponential({ initial: -1, rate: 0.9 })).toThrow(OptionError);
  });
});

describe('train.fit with a schedule', () => {
  const smallFlow = () => {
    setGlobalSeed(5);
    return inn.input([2]).glow({ subnet: subnets.mlp({ hidden: 8 }) }).build();
  };
  const data = (step: number) => ({ x: tf.randomNormal([32, 2], 0, 1, 'float32', step) });

  it('sets the rate before every step and reports it; the first step moves the weights by about that rate', () => {
    const rates = [5e-2, 1e-3];
    for (const initial of rates) {
      const flow = smallFlow();
      const before = flow.trainableVariables.map((v) => Array.from(v.dataSync()));
      const seen: number[] = [];
      const schedule = train.schedules.exponential({ initial, rate: 0.5 });
      let moved = 0;
      train.fit(flow, {
        steps: 4, progress: false, data, learningRate: schedule,
        onStep: (step, _loss, { learningRate }) => {
          seen.push(learningRate);
          // Adam's first step moves every weight with a non-zero gradient by the rate, to within ε.
          if (step === 0) moved = Math.max(...flow.trainableVariables.flatMap((v, k) => Array.from(v.dataSync()).map((w, i) => Math.abs(w - before[k][i]))));
        },
      });
      expect(seen).toEqual([0, 1, 2, 3].map(schedule));
      expect(moved / initial).toBeCloseTo(1, 2);
      flow.dispose();
    }
  });

  it('a schedule giving a bad rate stops before that step\'s update, naming the step; nothing leaks', () => {
    const flow = smallFlow();
    let after1: number[][] = [];
    const tensors = tf.memory().numTensors;
    const schedule = (step: number) => (step < 2 ? 1e-3 : NaN);
    expect(() => train.fit(flow, {
      steps: 4, progress: false, data, learningRate: schedule,
      onStep: () => (after1 = flow.trainableVariables.map((v) => Array.from(v.dataSync()))),
    })).toThrow(/option "learningRate" must be a schedule giving a finite rate > 0 \(step 2; no update was applied\), got NaN/);
    expect(flow.trainableVariables.map((v) => Array.from(v.dataSync()))).toEqual(after1);
    expect(tf.memory().numTensors).toBe(tensors);
    flow.dispose();
  });

  it('a schedule needs Adam: another optimizer is refused before anything runs', () => {
    const flow = smallFlow();
    const sgd = tf.train.sgd(0.1);
    expect(() => train.fit(flow, { steps: 1, progress: false, data, optimizer: sgd, learningRate: () => 1e-3 })).toThrow(/a schedule with train.adam's optimizer/);
    const adam = train.adam();
    const seen: number[] = [];
    train.fit(flow, { steps: 2, progress: false, data, optimizer: adam, learningRate: (k) => 1e-3 * (k + 1), onStep: (_s, _l, info) => seen.push(info.learningRate) });
    expect(seen).toEqual([1e-3, 2e-3]);
    expect(adam.learningRate).toBe(2e-3);
    adam.dispose();
    flow.dispose();
  });
});
