/**
 * Types that survive a round trip (issue 15): `loadFlow`/`importFreia` with
 * `expect` give the flow type promised (checked at run time in
 * test/expected-flow.test.ts); without it the flow's shapes are unknown.
 * The FrEIA-style SequenceINN knows its input shape.
 */
import * as tf from '@tensorflow/tfjs';
import { expectError, expectNotType, expectType } from 'tsd';
import { inn, subnets, loadFlow, importFreia, memoryHandler, SequenceINN, Fm, InputNode, ConditionNode, Node, OutputNode, GraphINN, type Flow, type FreiaDocument, type Shape, type MutableShape, type MutableShapes, type Literal, type LiteralShapes } from '../dist/index.js';

const store = memoryHandler();
const doc = {} as FreiaDocument;
const network = () => inn.input([4]).glow({ subnet: subnets.mlp({ hidden: 8 }) }).split([1, 3]);

// ---- loadFlow: typed from a chain, or from shapes ----
expectType<Promise<Flow<[[4]], [[1], [3]], []>>>(loadFlow(store, { expect: network() }));
expectType<Promise<Flow<[[4]], [[1], [3]], []>>>(loadFlow(store, { expect: { inputs: [[4]], outputs: [[1], [3]] } }));
expectType<Promise<Flow<[[1, 28, 28]], [[784]], [[10]]>>>(loadFlow(store, { expect: { inputs: [[1, 28, 28]], outputs: [[784]], conditions: [[10]] } }));
expectType<Promise<Flow>>(loadFlow(store));
// the expectation must be shapes or a chain
expectError(loadFlow(store, { expect: { inputs: [4], outputs: [[4]] } }));
expectError(loadFlow(store, { expect: 'flow' }));

async function typedRoundTrip() {
  const flow = await loadFlow(store, { expect: network() });
  // two outputs destructure (TS2488 without `expect`)
  const { out: [z1, z2] } = flow.forward(tf.randomNormal([8, 4]) as tf.Tensor2D);
  expectType<tf.Tensor>(z1);
  expectType<tf.Tensor>(z2);
  // and the call sites are checked as a built flow's are
  expectError(flow.forward(tf.randomNormal([8, 4, 1]) as tf.Tensor3D));
  expectError(flow.forward(tf.randomNormal([8, 4]), { c: tf.zeros([8, 1]) }));
  const untyped = await loadFlow(store);
  expectType<tf.Tensor | tf.Tensor[]>(untyped.forward(tf.randomNormal([8, 4])).out);
}
void typedRoundTrip;

// ---- importFreia ----
const imported = importFreia(doc, { expect: { inputs: [[1, 28, 28]], outputs: [[784]], conditions: [[10]] } });
expectType<Flow<[[1, 28, 28]], [[784]], [[10]]>>(imported);
expectError(imported.forward(tf.randomNormal([8, 1, 28, 28]) as tf.Tensor4D)); // the condition is required
expectType<tf.Tensor>(imported.forward(tf.randomNormal([8, 1, 28, 28]) as tf.Tensor4D, { c: tf.oneHot([1], 10) }).out);
expectType<Flow<[[7]], [[7]], []>>(importFreia(doc, { expect: inn.input([7]).glow({ subnet: subnets.mlp({ hidden: 32 }) }) }));
expectType<Flow>(importFreia(doc));

// ---- SequenceINN knows its input ----
const seq = new SequenceINN(2);
expectType<SequenceINN<[2]>>(seq);
expectType<SequenceINN<[1, 28, 28]>>(new SequenceINN(1, 28, 28));
expectType<SequenceINN<number[]>>(new SequenceINN(...([2] as number[])));
seq.append(Fm.AllInOneBlock, { subnet_constructor: subnets.mlp({ hidden: 8 }) });
expectType<[tf.Tensor, tf.Tensor1D]>(seq.forward(tf.randomNormal([8, 2]) as tf.Tensor2D));
expectType<[tf.Tensor, tf.Tensor1D]>(seq.forward(tf.randomNormal([8, 2])));
expectError(seq.forward(tf.randomNormal([8, 1, 2]) as tf.Tensor3D));
expectError(new SequenceINN(1, 28, 28).forward(tf.randomNormal([8, 784]) as tf.Tensor2D));
// reversed, the output's shape is not known to the compiler
expectType<[tf.Tensor, tf.Tensor1D]>(seq.forward(tf.randomNormal([8, 2, 1]) as tf.Tensor3D, { rev: true }));
expectType<Flow<[[2]]>>(seq.flow);

// ---- FrEIA's nodes and GraphINN know what the node list says ----
const inp = new InputNode(1, 28, 28, { name: 'x' });
expectType<InputNode<[1, 28, 28]>>(inp);
expectType<ConditionNode<[10]>>(new ConditionNode(10));
const label = new ConditionNode(10, { name: 'label' });
const flat = new Node(inp, Fm.Flatten, {});
const coupled = new Node(flat, Fm.AllInOneBlock, { subnet_constructor: subnets.mlp({ hidden: 8 }) }, { conditions: label });
const net = new GraphINN([inp, label, flat, coupled, new OutputNode(coupled)]);
expectType<Flow<[[1, 28, 28]], Shape[], [[10]]>>(net.flow);
const labels = tf.oneHot([1, 2], 10);
expectType<[tf.Tensor, tf.Tensor1D]>(net.forward(tf.randomNormal([2, 1, 28, 28]) as tf.Tensor4D, { c: labels }));
expectError(net.forward(tf.randomNormal([2, 1, 28, 28]) as tf.Tensor4D)); // the condition is required
expectError(net.forward(tf.randomNormal([2, 784]) as tf.Tensor2D, { c: labels })); // rank 2 into [1, 28, 28]
expectError(net.forward([tf.randomNormal([2, 1, 28, 28]), tf.randomNormal([2, 1, 28, 28])], { c: labels })); // one input
expectType<[tf.Tensor | tf.Tensor[], tf.Tensor1D]>(net.forward(tf.randomNormal([2, 784]), { c: labels, rev: true }));

const a = new InputNode(4);
const split = new Node(a, Fm.Split, { section_sizes: [2, 2] });
const two = new GraphINN([a, split, new OutputNode(split.out0), new OutputNode(split.out1)]);
const [out2] = two.forward(tf.randomNormal([3, 4]) as tf.Tensor2D);
expectType<tf.Tensor>(out2[0]);
expectError(two.forward(tf.randomNormal([3, 4]) as tf.Tensor2D, { c: labels })); // no ConditionNode
// a list built at run time keeps the loose types
const list: InputNode[] = [new InputNode(4)];
expectType<[tf.Tensor | tf.Tensor[], tf.Tensor1D]>(new GraphINN(list).forward(tf.randomNormal([3, 4])));

// ---- MutableShape / MutableShapes (formerly Literal / LiteralShapes): readonly dropped, values kept ----
expectType<[3, 32, 32]>({} as MutableShape<readonly [3, 32, 32]>);
expectType<number[]>({} as MutableShape<readonly number[]>);
expectType<[[2], [3, 8, 8]]>({} as MutableShapes<readonly [readonly [2], readonly [3, 8, 8]]>);
expectType<[3, 32, 32]>({} as Literal<readonly [3, 32, 32]>);
expectType<[[2]]>({} as LiteralShapes<readonly [readonly [2]]>);
expectNotType<readonly [3, 32, 32]>({} as MutableShape<readonly [3, 32, 32]>);
