/**
 * The seed's two custom modules (FrEIA's tutorial "Invertible Operations"),
 * ported: each is a few lines.
 */
import * as tf from '@tensorflow/tfjs';
import { InvertibleModule, inn, type Flow, type ForwardOptions, type ModuleResult, type Shape, type ShapeRule, type Mul } from '../../src/index.js';

/** Multiplies each channel by a fixed random integer factor in {1, 2}. */
export class FixedRandomElementwiseMultiply extends InvertibleModule {
  private readonly factor: tf.Variable;
  constructor(dimsIn: readonly Shape[], dimsC: readonly Shape[] = []) {
    super(dimsIn, dimsC);
    this.factor = this.addParam('random_factor', tf.tidy(() => tf.randomUniformInt([1, dimsIn[0][0]], 1, 3).asType('float32')), false);
  }
  forward([x]: readonly tf.Tensor[], _c: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    const logDet = tf.sum(tf.log(this.factor));
    return rev ? { out: [tf.div(x, this.factor)], logDet: tf.neg(logDet) } : { out: [tf.mul(x, this.factor)], logDet };
  }
}

/** Swaps its two inputs for the samples whose condition is not positive. */
export class ConditionalSwap extends InvertibleModule {
  forward([x1, x2]: readonly tf.Tensor[], [c]: readonly tf.Tensor[]): ModuleResult {
    const keep = tf.greater(c, 0);
    return { out: [tf.where(keep, x1, x2), tf.where(keep, x2, x1)], logDet: 0 };
  }
}

/** Doubles the channels by appending a copy scaled by 2 — not invertible; only here to exercise a declared shape rule. */
export interface DoubleChannels extends ShapeRule {
  readonly outputs: [[Mul<this['inputs'][0][0], 2>]];
}
export class Doubler extends InvertibleModule {
  declare static readonly shapeRule: DoubleChannels;
  forward([x]: readonly tf.Tensor[], _c: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
    if (rev) return { out: [tf.slice(x, [0, 0], [-1, this.dimsIn[0][0]])], logDet: 0 };
    return { out: [tf.concat([x, tf.mul(x, 2)], 1)], logDet: 0 };
  }
  override outputShapes([s]: readonly Shape[]): Shape[] {
    return [[2 * s[0]]];
  }
}

/** A graph of both seed modules: `mult` on the first input, then `swap` of both inputs under condition `[1]`. */
export function customModuleFlow(): Flow<Shape[], [[2], [2]], Shape[]> {
  const g = inn.graph();
  const x1 = g.input([2]);
  const x2 = g.input([2]);
  const cond = g.condition([1]);
  const [m] = g.apply(FixedRandomElementwiseMultiply, [x1], undefined, { name: 'mult' });
  const [s0, s1] = g.apply(ConditionalSwap, [m, x2], undefined, { cond, name: 'swap' });
  return g.build({ outputs: [s0, s1] });
}
