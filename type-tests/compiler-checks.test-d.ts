/**
 * The rules of issue 15 at compile time: couplings need two channels, conv
 * subnets need images, and a flow's forward/inverse calls are checked
 * against its inputs, outputs and conditions.
 */
import * as tf from '@tensorflow/tfjs';
import { expectAssignable, expectError, expectType } from 'tsd';
import { inn, subnets, type Chain, type Handle, type SeveralTensors, type SubnetFactory, type SubnetKind } from '../dist/index.js';

const mlp = subnets.mlp({ hidden: 8 });
const conv = subnets.conv({ hidden: 8 });

// ---- two-sided couplings need at least two channels ----
expectType<Chain<[[2]], [], [[2]]>>(inn.input([2]).glow({ subnet: mlp }));
expectType<Chain<[[4, 14, 14]], [], [[1, 28, 28]]>>(inn.input([1, 28, 28]).haarDownsample().glow({ subnet: conv }));
expectError(inn.input([1, 28, 28]).glow({ subnet: conv }));
expectError(inn.input([1]).allInOne({ subnet: mlp }));
expectError(inn.input([1]).rnvp({ subnet: mlp }));
expectError(inn.input([1]).nice({ subnet: mlp }));
expectError(inn.input([1]).gin({ subnet: mlp }));
expectError(inn.input([1, 8, 8]).rqSpline({ subnet: conv }));
// dynamic channel counts are checked at run time
expectType<Chain<[number[]], [], [number[]]>>(inn.input([1] as number[]).glow({ subnet: mlp }));
// modules that do not split channels take one channel
expectType<Chain<[[1]], [], [[1]]>>(inn.input([1]).actNorm());
const g = inn.graph();
expectError(g.glow(g.input([1, 8, 8]), { subnet: conv }));
expectType<Handle<[2, 8, 8]>>(g.glow(g.input([2, 8, 8]), { subnet: conv }));

// ---- a conv subnet needs an image ----
expectType<SubnetFactory<'mlp'>>(mlp);
expectType<SubnetFactory<'conv (needs an image [C, H, W])'>>(conv);
expectError(inn.input([3072]).glow({ subnet: conv }));
expectError(inn.input([3, 32, 32]).flatten().allInOne({ subnet: conv }));
expectError(inn.input([6]).condition([4]).conditionalAffine({ subnet: conv, cond: 0 }));
expectError(g.allInOne(g.input([8]), { subnet: conv }));
// an mlp works on images (on each pixel's channels), and a user's subnet of unknown kind fits every stream
expectType<Chain<[[4, 8, 8]], [], [[4, 8, 8]]>>(inn.input([4, 8, 8]).glow({ subnet: mlp }));
declare const mine: SubnetFactory;
expectType<Chain<[[8]], [], [[8]]>>(inn.input([8]).glow({ subnet: mine }));
expectType<Chain<[[8]], [], [[8]]>>(inn.input([8]).glow({ subnet: (cIn: number, cOut: number) => subnets.mlp({ hidden: 4 })(cIn, cOut) }));
// a wrapper keeps the kind
declare function damped<K extends SubnetKind>(subnet: SubnetFactory<K>): SubnetFactory<K>;
expectError(inn.input([8]).glow({ subnet: damped(conv) }));
expectType<Chain<[[8, 4, 4]], [], [[8, 4, 4]]>>(inn.input([8, 4, 4]).glow({ subnet: damped(conv) }));

// ---- forward and inverse: ranks, tuples, conditions ----
const flat = inn.input([784]).allInOne({ subnet: mlp }).build();
declare const x2: tf.Tensor2D;
declare const x3: tf.Tensor3D;
declare const x4: tf.Tensor4D;
declare const anyRank: tf.Tensor;
expectType<tf.Tensor>(flat.forward(x2).out);
expectType<tf.Tensor>(flat.forward(anyRank).out);
expectType<tf.Tensor>(flat.inverse(x2).out);
expectError(flat.forward(x3));
expectError(flat.inverse(x4));
expectError(flat.forward([x2, x2]));
expectType<tf.Tensor>(flat.forward([x2]).out);
// tensors whose type carries sizes are checked against the shape
declare const sized: tf.Tensor2D & { readonly shape: [8, 784] };
declare const missized: tf.Tensor2D & { readonly shape: [8, 100] };
expectType<tf.Tensor>(flat.forward(sized).out);
expectError(flat.forward(missized));

const image = inn.input([4, 8, 8]).glow({ subnet: conv }).build();
expectType<tf.Tensor>(image.forward(x4).out);
expectError(image.forward(x2));

// conditions: required exactly when declared
const conditional = inn.input([784]).condition([10]).allInOne({ subnet: mlp, cond: 0 }).build();
expectType<tf.Tensor>(conditional.forward(x2, { c: x2 }).out);
expectType<tf.Tensor>(conditional.inverse(x2, { c: x2, jac: false }).out);
expectError(conditional.forward(x2));
expectError(conditional.forward(x2, {}));
expectError(conditional.inverse(x2, { jac: false }));
expectType<tf.Tensor>(flat.forward(x2, { jac: false }).out);
expectError(flat.forward(x2, { c: x2 }));

// several inputs and outputs are tuples, and say so where one tensor was expected
const two = inn.input([4]).split([2, 2]).build();
const { out } = two.forward(x2);
expectType<[tf.Tensor, tf.Tensor] & SeveralTensors<2>>(out);
expectAssignable<readonly tf.Tensor[]>(out);
expectError<tf.Tensor>(out);
expectType<tf.Tensor>(two.inverse([x2, x2]).out);
expectError(two.inverse(x2));
expectError(two.inverse([x2, x2, x2]));
expectError(two.inverse([x2, x3]));
