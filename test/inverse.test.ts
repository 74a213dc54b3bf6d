/**
 * FrEIA's Inverse (`inverseOf`): the wrapper's forward is the wrapped
 * module's inverse and the other way round, checked against the plain
 * module with the same weights; unknown or unsuitable modules are refused.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { inn, setGlobalSeed, subnets, ValidationError, type AnyFlow } from '../src/index.js';
import { thrownBy } from './helpers/thrown.js';

const mlp = subnets.mlp({ hidden: 16 });

/** Gives the wrapper the plain flow's weights (the wrapper's are under `module.`). */
function copyWeights(from: AnyFlow, to: AnyFlow): void {
  const source = from.modules.find((m) => m !== null)!;
  const target = to.modules.find((m) => m !== null)!;
  for (const [name, variable] of source.params) target.params.get(`module.${name}`)!.assign(variable);
}

const read = (t: tf.Tensor | tf.Tensor[]) => Array.from((t as tf.Tensor).dataSync());

describe('inverseOf', () => {
  it("runs the wrapped module's inverse forward and its forward in reverse, with the same log-dets", () => {
    setGlobalSeed(4);
    const plain = inn.input([5]).condition([2]).glow({ subnet: mlp, cond: 0, clamp: 1.5 }).build();
    const wrapped = inn.input([5]).condition([2]).inverseOf('glow')({ subnet: mlp, cond: 0, clamp: 1.5 }).build();
    copyWeights(plain, wrapped);
    const x = tf.randomNormal([3, 5], 0, 1, 'float32', 1);
    const c = tf.randomNormal([3, 2], 0, 1, 'float32', 2);
    const before = tf.memory().numTensors;
    const [plainInverse, wrappedForward] = [plain.inverse(x, { c }), wrapped.forward(x, { c })];
    const [plainForward, wrappedInverse] = [plain.forward(x, { c }), wrapped.inverse(x, { c })];
    expect(read(wrappedForward.out)).toEqual(read(plainInverse.out));
    expect(read(wrappedForward.logDet)).toEqual(read(plainInverse.logDet));
    expect(read(wrappedInverse.out)).toEqual(read(plainForward.out));
    expect(read(wrappedInverse.logDet)).toEqual(read(plainForward.logDet));
    // It is not the identity: the wrapped module does something.
    expect(Math.max(...read(wrappedForward.out).map((v, i) => Math.abs(v - read(x)[i])))).toBeGreaterThan(1e-3);
    tf.dispose([plainInverse, wrappedForward, plainForward, wrappedInverse].flatMap((r) => [r.out as tf.Tensor, r.logDet]));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, c]);
    plain.dispose();
    wrapped.dispose();
  });

  it('names the wrapped parameters as FrEIA does, and trains them', () => {
    const flow = inn.input([4]).inverseOf('rqSpline')({ subnet: mlp, bins: 4 }).build();
    const names = [...flow.modules.find((m) => m !== null)!.params.keys()];
    expect(names).toContain('module.subnet1.0.weight');
    expect(names.every((n) => n.startsWith('module.'))).toBe(true);
    expect(flow.trainableVariables.length).toBe(8);
    flow.dispose();
  });

  it('refuses an unknown method with a near miss, and modules without an exact inverse', () => {
    const variables = Object.keys(tf.engine().registeredVariables).length;
    const unknown = thrownBy(() => (inn.input([4]) as unknown as { inverseOf(m: string): unknown }).inverseOf('glw'));
    expect(unknown).toBeInstanceOf(ValidationError);
    expect((unknown as Error).message).toMatch(/^inverseOf: method: expected the name of a shape-keeping builder method \(allInOne, glow, .*, maf, iaf, arSpline, .*\), got "glw" \(did you mean "glow"\?\)$/);
    const approximate = thrownBy(() => inn.input([4]).inverseOf('iresnet')({}).build());
    expect((approximate as Error).message).toMatch(/^Inverse_1: module: expected the kind of a shape-keeping module with an exact inverse \(.*\), got "IResNetLayer"$/);
    const badOption = thrownBy(() => inn.input([4]).inverseOf('glow')({ subnet: mlp, clampp: 2 } as never));
    expect((badOption as Error).message).toMatch(/option "clampp".*did you mean "clamp"/);
    expect(Object.keys(tf.engine().registeredVariables).length).toBe(variables);
  });
});
