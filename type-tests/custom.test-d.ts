/** Custom modules declare type-level shape rules; the builders check them like built-in ones. */
import * as tf from '@tensorflow/tfjs';
import { expectError, expectType } from 'tsd';
import { inn, InvertibleModule, type Chain, type Handle, type ModuleResult, type Mul, type Shape, type ShapeError, type ShapeRule } from '../dist/index.js';

interface DoubleChannels extends ShapeRule {
  readonly outputs: [[Mul<this['inputs'][0][0], 2>]];
}
declare class Doubler extends InvertibleModule {
  declare static readonly shapeRule: DoubleChannels;
  forward(xs: readonly tf.Tensor[]): ModuleResult;
}

interface TwoEqual extends ShapeRule {
  readonly outputs: this['inputs'] extends readonly [infer A extends Shape, infer B extends Shape]
    ? [A] extends [B] ? [A, B] : ShapeError<'ConditionalSwap needs two inputs of the same shape'>
    : ShapeError<'ConditionalSwap needs exactly two inputs'>;
}
declare class Swap extends InvertibleModule {
  declare static readonly shapeRule: TwoEqual;
  forward(xs: readonly tf.Tensor[], cs: readonly tf.Tensor[]): ModuleResult;
}

declare class Scale extends InvertibleModule {
  constructor(dimsIn: readonly Shape[], dimsC: readonly Shape[], args: { factor: number });
  forward(xs: readonly tf.Tensor[]): ModuleResult;
}

// a declared rule computes the shape
expectType<Chain<[[6]], [], [[3]]>>(inn.input([3]).apply(Doubler));
// no rule: the module keeps the shapes
expectType<Chain<[[3]], [], [[3]]>>(inn.input([3]).apply(Scale, { factor: 2 }));
expectError(inn.input([3]).apply(Scale, { factor: 'two' }));
// a rule over several streams
expectType<Chain<[[2], [2]], [], [[4]]>>(inn.input([4]).split([2, 2]).apply(Swap));
expectError(inn.input([5]).split([2, 3]).apply(Swap));
expectError(inn.input([4]).apply(Swap));

// the graph builder checks the same rules
const g = inn.graph();
const a = g.input([2]);
const b = g.input([2]);
expectType<[Handle<[2]>, Handle<[2]>]>(g.apply(Swap, [a, b]));
expectType<[Handle<[4]>]>(g.apply(Doubler, [g.input([2])]));
expectError(g.apply(Swap, [g.input([2]), g.input([3])]));
expectError(g.apply(Swap, [g.input([2])]));
