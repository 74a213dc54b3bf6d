/**
 * Just enough of the ONNX format to describe one small graph (a product or a
 * convolution with its transposes): the protobuf encoding of a `ModelProto`
 * with float32 inputs and outputs of fixed shapes, nodes with integer and
 * integer-list attributes, opset 17. The native kernels
 * (src/runtime/kernels-native.ts) hand such models to ONNX Runtime.
 *
 * Field numbers are those of onnx.proto (ModelProto: ir_version 1,
 * opset_import 8, graph 7; GraphProto: node 1, name 2, input 11, output 12;
 * NodeProto: input 1, output 2, op_type 4, attribute 5; AttributeProto: name
 * 1, i 3, ints 8, type 20; ValueInfoProto: name 1, type 2; TypeProto:
 * tensor_type 1; TypeProto.Tensor: elem_type 1, shape 2; TensorShapeProto:
 * dim 1; Dimension: dim_value 1).
 */

/** A node attribute: one integer or a list of integers. */
export type OnnxAttribute = number | readonly number[];

/** One operator of the graph. */
export interface OnnxNode {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes?: Readonly<Record<string, OnnxAttribute>>;
}

/** A float32 graph input or output of fixed shape. */
export interface OnnxValue {
  readonly name: string;
  readonly shape: readonly number[];
}

const textEncoder = new TextEncoder();

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`onnx-model: ${value} is not a non-negative integer`);
  do {
    const low = v % 128;
    v = Math.floor(v / 128);
    out.push(v > 0 ? low + 128 : low);
  } while (v > 0);
  return out;
}

const tag = (field: number, wire: 0 | 2) => varint(field * 8 + wire);
const lengthDelimited = (field: number, bytes: readonly number[]) => [...tag(field, 2), ...varint(bytes.length), ...bytes];
const text = (field: number, s: string) => lengthDelimited(field, [...textEncoder.encode(s)]);
/** An int64 field; every value written here (shapes, pads, permutations) is non-negative. */
const integer = (field: number, n: number) => [...tag(field, 0), ...varint(n)];

function attribute(name: string, value: OnnxAttribute): number[] {
  // AttributeProto.AttributeType: INT = 2, INTS = 7.
  if (typeof value === 'number') return [...text(1, name), ...integer(3, value), ...integer(20, 2)];
  return [...text(1, name), ...value.flatMap((v) => integer(8, v)), ...integer(20, 7)];
}

function valueInfo({ name, shape }: OnnxValue): number[] {
  const dims = shape.flatMap((d) => lengthDelimited(1, integer(1, d)));
  // elem_type 1 is FLOAT.
  const tensorType = [...integer(1, 1), ...lengthDelimited(2, dims)];
  return [...text(1, name), ...lengthDelimited(2, lengthDelimited(1, tensorType))];
}

function nodeProto(node: OnnxNode): number[] {
  return [
    ...node.inputs.flatMap((i) => text(1, i)),
    ...node.outputs.flatMap((o) => text(2, o)),
    ...text(4, node.op),
    ...Object.entries(node.attributes ?? {}).flatMap(([name, value]) => lengthDelimited(5, attribute(name, value))),
  ];
}

/** The serialised `ModelProto` (IR version 8, default domain at opset 17) of one graph. */
export function onnxModel(nodes: readonly OnnxNode[], inputs: readonly OnnxValue[], outputs: readonly OnnxValue[]): Uint8Array<ArrayBuffer> {
  const graph = [
    ...nodes.flatMap((n) => lengthDelimited(1, nodeProto(n))),
    ...text(2, 'freia'),
    ...inputs.flatMap((v) => lengthDelimited(11, valueInfo(v))),
    ...outputs.flatMap((v) => lengthDelimited(12, valueInfo(v))),
  ];
  const opset = [...text(1, ''), ...integer(2, 17)];
  return Uint8Array.from([...integer(1, 8), ...lengthDelimited(8, opset), ...lengthDelimited(7, graph)]);
}
