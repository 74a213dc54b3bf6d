/**
 * FrEIA's API, for people porting FrEIA code: `InputNode`, `ConditionNode`,
 * `Node`, `OutputNode`, `GraphINN`, `SequenceINN`, `out0`/`out1` and
 * `[node, i]` connections, FrEIA's module names (`Fm.GLOWCouplingBlock`) and
 * FrEIA's snake_case constructor arguments (`subnet_constructor`,
 * `affine_clamping`, ...). The same definition data and runtime as the typed
 * builders underneath; shapes are checked when a node is created and errors
 * name the node.
 *
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { Fm, InputNode, Node, OutputNode, GraphINN, subnets } from 'freia-ts';
 * const inp = new InputNode(2, { name: 'in' });
 * const block = new Node(inp, Fm.AllInOneBlock, { subnet_constructor: subnets.mlp({ hidden: 64 }) });
 * const net = new GraphINN([inp, block, new OutputNode(block)]);
 * const x = tf.randomNormal([16, 2]);
 * const [z, logJacDet] = net.forward(x);
 * const [xBack] = net.forward(z, { rev: true });
 * ```
 */
import * as tf from '@tensorflow/tfjs';
import type { GraphDef, ModuleDef, NodeDef, Shape, TensorRef } from '../core/graph.js';
import { className, deepFreeze } from '../core/graph.js';
import { Flow, withVariableCleanup, type AnyFlow, type RunOptions, type SeveralTensors, type Tensors, type TensorFits, type TensorsFit } from '../runtime/flow.js';
import type { MutableShape, ShapeError } from '../types/shape.js';
import { FreiaError, WiringError, formatShape } from '../core/errors.js';
import { catalogue, defineModule, freiaArgs, moduleSpec, type BuiltInKind, type InvertibleModule } from '../modules/index.js';
import type { CustomModuleClass } from '../modules/custom.js';
import { checkUnused, copyData, kindOf, nodeName, unusedOutput } from './plumbing.js';

/**
 * FrEIA's module names, one per catalogue entry; `Fm.X` is what `new Node(x, Fm.X, args)` takes (or a custom module class).
 *
 * @group Building
 */
export const Fm: { readonly [K in BuiltInKind]: K } = Object.freeze(
  // Built from the catalogue's entries, each under its own kind: exactly the mapped type above.
  Object.fromEntries(Object.values(catalogue).map((entry) => [entry.kind, entry.kind])) as { readonly [K in BuiltInKind]: K },
);

/**
 * A node's definition arguments: a custom class gets the user's arguments as
 * they are; a built-in module gets FrEIA's snake_case arguments mapped onto
 * its options. Either way they are copied, so that freezing the definition
 * leaves the caller's arrays alone.
 */
function moduleArguments(moduleType: ModuleType, kind: string, args: Readonly<Record<string, unknown>>): object {
  return typeof moduleType === 'function' ? { args: copyData(args) } : freiaArgs(kind, copyData(args));
}

/**
 * A FrEIA module name, or a custom module class.
 *
 * @group Building
 */
export type ModuleType = BuiltInKind | CustomModuleClass<never>;

/**
 * `[node, outputIndex]`, as FrEIA's `node.out1`.
 *
 * @group Building
 */
export type Connection = readonly [AbstractNode, number];

/**
 * What a node accepts as inputs: a node (its output 0), a connection, or a list of either.
 *
 * @group Building
 */
export type FlexibleInputs = AbstractNode | Connection | readonly (AbstractNode | Connection)[];

interface NodeOptions {
  readonly name?: string;
}

let anonymous = 0;

/**
 * Base of all nodes: a name, output shapes, and `outN` connections.
 *
 * @group Building
 */
export abstract class AbstractNode {
  /** The node's name. */
  readonly name: string;
  /** Output shapes (FrEIA's `output_dims`). */
  abstract readonly outputDims: readonly Shape[];
  /** Who consumes each output (FrEIA raises when an output is consumed twice; so do we). */
  readonly consumers: (string | null)[] = [];

  constructor(name: string | undefined, kind: string) {
    this.name = name ?? `${kind}_${++anonymous}`;
  }

  /**
   * Connection to output `index`; FrEIA's `node.out{index}`.
   *
   * @example
   * ```ts
   * import { Fm, InputNode, Node } from 'freia-ts';
   * const x = new InputNode(4);
   * const split = new Node(x, Fm.Split, { section_sizes: [1, 1, 2] });
   * const last = new Node(split.out(2), Fm.ActNorm, {}); // [split, 2]: the same as split.out2
   * ```
   */
  out(index: number): Connection {
    if (!Number.isInteger(index) || index < 0 || index >= this.outputDims.length) {
      throw new WiringError(`node "${this.name}" has ${this.outputDims.length} output(s): out${index} does not exist`);
    }
    return [this, index];
  }
  /** Output 0, as FrEIA's `node.out0`. */
  get out0(): Connection { return this.out(0); }
  /** Output 1. */
  get out1(): Connection { return this.out(1); }
  /** Output 2. */
  get out2(): Connection { return this.out(2); }
  /** Output 3. */
  get out3(): Connection { return this.out(3); }

  /** @internal Marks output `index` as consumed by `consumer`. */
  consume(index: number, consumer: string): void {
    checkUnused(consumer, [{ node: this.name, output: index, usedBy: this.consumers[index] ?? undefined }]);
    this.consumers[index] = consumer;
  }
}

function dims(args: readonly (number | NodeOptions)[], what: string): { shape: number[]; options: NodeOptions } {
  const last = args[args.length - 1];
  const options = typeof last === 'object' && last !== null ? (last as NodeOptions) : {};
  const shape = args.filter((a): a is number => typeof a === 'number');
  if (shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new WiringError(`${what}${options.name ? ` "${options.name}"` : ''}: dims must be positive integers, got ${JSON.stringify(shape)}`);
  }
  return { shape, options };
}

/**
 * A network input: `new InputNode(3, 32, 32, { name: 'x' })` is an `InputNode<[3, 32, 32]>`.
 *
 * @group Building
 */
export class InputNode<const S extends number[] = number[]> extends AbstractNode {
  /** Tells inputs from conditions in a node list's type (the two are otherwise alike). */
  readonly role = 'input';
  readonly outputDims: readonly [S];
  constructor(...dims: S);
  constructor(...args: [...dims: S, options: NodeOptions]);
  constructor(...args: (number | NodeOptions)[]) {
    const { shape, options } = dims(args, 'InputNode');
    super(options.name, 'input');
    this.outputDims = [shape as S]; // the numbers given, in order, are `S`
  }
}

/**
 * A condition input: `new ConditionNode(10, { name: 'label' })` is a `ConditionNode<[10]>`.
 *
 * @group Building
 */
export class ConditionNode<const S extends number[] = number[]> extends AbstractNode {
  /** Tells conditions from inputs in a node list's type. */
  readonly role = 'condition';
  readonly outputDims: readonly [S];
  constructor(...dims: S);
  constructor(...args: [...dims: S, options: NodeOptions]);
  constructor(...args: (number | NodeOptions)[]) {
    const { shape, options } = dims(args, 'ConditionNode');
    super(options.name, 'condition');
    this.outputDims = [shape as S]; // the numbers given, in order, are `S`
  }
}

function isConnection(x: unknown): x is Connection {
  return Array.isArray(x) && x.length === 2 && x[0] instanceof AbstractNode && typeof x[1] === 'number';
}

function parseInputs(inputs: FlexibleInputs, where: string): Connection[] {
  const one = (x: unknown): Connection => {
    if (x instanceof AbstractNode) return x.out(0);
    if (isConnection(x)) return x[0].out(x[1]);
    throw new WiringError(`${where}: cannot use ${String(x)} as an input (a node, node.outN or [node, i])`);
  };
  if (inputs instanceof AbstractNode || isConnection(inputs)) return [one(inputs)];
  if (Array.isArray(inputs)) return inputs.map(one);
  throw new WiringError(`${where}: inputs must be a node, a connection or a list of them`);
}

/**
 * A module node: `new Node(inputs, Fm.GLOWCouplingBlock, { subnet_constructor, clamp: 1.2 }, { conditions, name })`.
 *
 * @example
 * ```ts
 * import { Fm, InputNode, ConditionNode, Node, OutputNode, GraphINN, subnets } from 'freia-ts';
 * const x = new InputNode(4, { name: 'x' });
 * const label = new ConditionNode(10, { name: 'label' });
 * const split = new Node(x, Fm.Split, { section_sizes: [2, 2] });
 * const coupled = new Node(split.out1, Fm.GLOWCouplingBlock, { subnet_constructor: subnets.mlp({ hidden: 32 }) }, { conditions: label });
 * const joined = new Node([split.out0, coupled.out0], Fm.Concat, {});
 * const net = new GraphINN([x, label, split, coupled, joined, new OutputNode(joined)]);
 * ```
 *
 * @group Building
 */
export class Node extends AbstractNode {
  readonly outputDims: readonly Shape[];
  /** The outputs it reads. */
  readonly inputs: readonly Connection[];
  /** The condition nodes it reads. */
  readonly conditions: readonly ConditionNode[];
  /** @internal The definition this node lowers to. */
  readonly definition: ModuleDef;

  constructor(inputs: FlexibleInputs, moduleType: ModuleType, moduleArgs: Readonly<Record<string, unknown>> = {}, options: NodeOptions & { readonly conditions?: ConditionNode | readonly ConditionNode[] } = {}) {
    const kind = kindOf(moduleType);
    super(options.name, className(kind));
    const connections = parseInputs(inputs, `node "${this.name}"`);
    const conditions = options.conditions === undefined ? [] : Array.isArray(options.conditions) ? [...options.conditions] : [options.conditions as ConditionNode];
    for (const c of conditions) {
      if (!(c instanceof ConditionNode)) throw new WiringError(`node "${this.name}": conditions must be ConditionNodes`);
    }
    this.definition = defineModule(this.name, kind, moduleArguments(moduleType, kind, moduleArgs), connections.map(([n, i]) => n.outputDims[i]), conditions.map((c) => c.outputDims[0]));
    this.outputDims = this.definition.outputShapes;
    // Consume only once everything is valid, so a failed Node leaves its inputs free.
    checkUnused(this.name, connections.map(([n, i]) => ({ node: n.name, output: i, usedBy: n.consumers[i] ?? undefined })));
    for (const [n, i] of connections) n.consume(i, this.name);
    this.inputs = connections;
    this.conditions = conditions;
  }
}

/**
 * A network output: `new OutputNode(node.out1, { name: 'z' })`.
 *
 * @group Building
 */
export class OutputNode extends AbstractNode {
  /** Tells outputs from other nodes in a node list's type. */
  readonly role = 'output';
  readonly outputDims: readonly Shape[] = [];
  /** The output it exposes. */
  readonly input: Connection;
  constructor(input: AbstractNode | Connection, options: NodeOptions = {}) {
    super(options.name, 'output');
    [this.input] = parseInputs(input, `output "${this.name}"`);
    this.input[0].consume(this.input[1], this.name);
  }
}

/**
 * FrEIA's forward/inverse call: `[out, logJacDet]`; `rev` runs the inverse.
 *
 * @group Building
 */
export interface FreiaRunOptions extends RunOptions {
  /** Run the inverse. */
  readonly rev?: boolean;
}

/**
 * {@link SequenceINN.forward}'s options: the conditions as a list indexed by each block's `cond`.
 *
 * @group Building
 */
export interface SequenceRunOptions {
  /** The conditions, indexed by each block's `cond`. */
  readonly c?: readonly tf.Tensor[];
  /** Compute the log-det (default true). */
  readonly jac?: boolean;
}

type AnyNode = InputNode | ConditionNode | Node | OutputNode;

/** Lowers FrEIA-style nodes (any order) to definition data, checking what FrEIA's GraphINN checks. */
function lower(nodeList: readonly AbstractNode[]): GraphDef {
  const names = new Set<string>();
  for (const n of nodeList) {
    if (!(n instanceof AbstractNode)) throw new WiringError(`GraphINN: ${String(n)} is not a node`);
    if (names.has(n.name)) throw new WiringError(`GraphINN: node name "${n.name}" is used twice`);
    names.add(n.name);
  }
  const listed = new Set(nodeList);
  const problems: string[] = [];
  for (const n of nodeList as AnyNode[]) {
    const reads = n instanceof Node ? [...n.inputs.map(([m]) => m), ...n.conditions] : n instanceof OutputNode ? [n.input[0]] : [];
    for (const m of reads) if (!listed.has(m)) problems.push(`node "${n.name}" reads "${m.name}", which is not in the node list`);
    if (!(n instanceof OutputNode) && !(n instanceof ConditionNode)) {
      n.outputDims.forEach((shape, i) => {
        if (!n.consumers[i]) problems.push(unusedOutput(n.name, i, shape));
      });
    }
  }
  if (!nodeList.some((n) => n instanceof OutputNode)) problems.push('the graph has no OutputNode');
  if (problems.length) throw new WiringError(`GraphINN: the graph is not fully wired:\n  - ${problems.join('\n  - ')}`);

  // Kahn's algorithm: every node after what it reads; a cycle leaves nodes behind.
  const pending = new Map<AbstractNode, number>();
  const readers = new Map<AbstractNode, AbstractNode[]>();
  for (const n of nodeList as AnyNode[]) {
    const reads = n instanceof Node ? [...n.inputs.map(([m]) => m), ...n.conditions] : n instanceof OutputNode ? [n.input[0]] : [];
    pending.set(n, new Set(reads).size);
    for (const m of new Set(reads)) readers.set(m, [...(readers.get(m) ?? []), n]);
  }
  // Inputs and conditions first, in list order (the order forward takes them).
  const ready = [...nodeList.filter((n) => n instanceof InputNode), ...nodeList.filter((n) => n instanceof ConditionNode), ...nodeList.filter((n) => pending.get(n) === 0 && !(n instanceof InputNode) && !(n instanceof ConditionNode))];
  const order: AbstractNode[] = [];
  while (ready.length) {
    const n = ready.shift()!;
    order.push(n);
    for (const r of readers.get(n) ?? []) {
      pending.set(r, pending.get(r)! - 1);
      if (pending.get(r) === 0) ready.push(r);
    }
  }
  if (order.length !== nodeList.length) {
    const stuck = nodeList.filter((n) => !order.includes(n)).map((n) => `"${n.name}"`);
    throw new WiringError(`GraphINN: the graph has a cycle through ${stuck.join(', ')}`);
  }
  // Outputs last, in list order.
  const sorted = [...order.filter((n) => !(n instanceof OutputNode)), ...nodeList.filter((n) => n instanceof OutputNode)];
  const index = new Map(sorted.map((n, i) => [n, i]));
  const ref = ([n, i]: Connection): TensorRef => ({ node: index.get(n)!, output: i });
  const nodes: NodeDef[] = sorted.map((n) => {
    if (n instanceof InputNode) return { kind: 'input', name: n.name, shape: n.outputDims[0] };
    if (n instanceof ConditionNode) return { kind: 'condition', name: n.name, shape: n.outputDims[0] };
    if (n instanceof OutputNode) return { kind: 'output', name: n.name, input: ref(n.input), shape: n.input[0].outputDims[n.input[1]] };
    const m = n as Node;
    return { kind: 'module', name: m.name, module: m.definition, inputs: m.inputs.map(ref), conditions: m.conditions.map((c) => index.get(c)!) };
  });
  return deepFreeze({ nodes });
}

function tensors(t: tf.Tensor | readonly tf.Tensor[]): tf.Tensor | tf.Tensor[] {
  return t instanceof tf.Tensor ? t : [...t];
}

/** The shapes of the nodes of `L` whose `role` is `R`, in list order (`Shape[]` when `L` is not a tuple). */
type RoleShapes<L extends readonly AbstractNode[], R extends string> = number extends L['length'] ? Shape[] : RoleShapesOf<L, R>;
type RoleShapesOf<L, R extends string> = L extends readonly [infer Head, ...infer Rest]
  ? Head extends { readonly role: R; readonly outputDims: readonly [infer S extends Shape] }
    ? [S, ...RoleShapesOf<Rest, R>]
    : RoleShapesOf<Rest, R>
  : [];
/** How many of the nodes of `L` are outputs (`number` when `L` is not a tuple). */
type OutputCount<L extends readonly AbstractNode[]> = number extends L['length'] ? number : CountOutputs<L>['length'];
type CountOutputs<L> = L extends readonly [infer Head, ...infer Rest] ? (Head extends { readonly role: 'output' } ? [Head, ...CountOutputs<Rest>] : CountOutputs<Rest>) : [];

/** What {@link GraphINN.forward} returns as `out`: a lone tensor for one output, a tuple for several. */
export type GraphINNOutput<N extends number> = N extends 1 ? tf.Tensor : number extends N ? tf.Tensor | tf.Tensor[] : tf.Tensor[] & SeveralTensors<N>;

/** The options argument, required exactly when conditions `C` are declared. */
type OptionalUnless<C extends readonly Shape[], Options> = number extends C['length'] ? [options?: Options] : C extends readonly [] ? [options?: Options] : [options: Options];

/** {@link GraphINN.forward}'s options forward: `c` required exactly when the list has condition nodes. */
export type GraphINNRunOptions<C extends readonly Shape[]> = number extends C['length']
  ? FreiaRunOptions & { readonly rev?: false }
  : C extends readonly []
    ? { readonly c?: ShapeError<'this GraphINN has no ConditionNode'>; readonly jac?: boolean; readonly rev?: false }
    : { readonly c: Tensors<C>; readonly jac?: boolean; readonly rev?: false };

/**
 * FrEIA's GraphINN: a network from a list of nodes (any order). Inputs,
 * conditions and outputs are taken in the order they appear in the list.
 * Given the list as written (`new GraphINN([inp, block, new OutputNode(block)])`),
 * the compiler knows the inputs' and conditions' shapes and how many outputs
 * there are, and checks `forward` as it checks a built flow's.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { Fm, InputNode, Node, OutputNode, GraphINN, subnets } from 'freia-ts';
 * const inp = new InputNode(2, { name: 'in' });
 * const block = new Node(inp, Fm.AllInOneBlock, { subnet_constructor: subnets.mlp({ hidden: 64 }) });
 * const net = new GraphINN([inp, block, new OutputNode(block)]);
 * const [z, logJacDet] = net.forward(tf.randomNormal([16, 2]));
 * const [xBack] = net.forward(z, { rev: true });
 * ```
 *
 * @group Building
 */
export class GraphINN<const L extends readonly AbstractNode[] = readonly AbstractNode[]> {
  /** The built flow that runs the graph. */
  readonly flow: Flow<RoleShapes<L, 'input'>, Shape[], RoleShapes<L, 'condition'>>;
  /** @param nodeList - Every node of the graph, in any order (FrEIA's `node_list`). */
  constructor(readonly nodeList: L) {
    // The input and condition nodes of `L`, in list order, are the flow's inputs and conditions.
    this.flow = new Flow(lower(nodeList)) as unknown as Flow<RoleShapes<L, 'input'>, Shape[], RoleShapes<L, 'condition'>>;
  }

  /**
   * `[out, logJacDet]` (a lone tensor when there is one output); `{ rev: true }`
   * runs the inverse. Forward, the inputs' ranks, the number of inputs and
   * the conditions are checked by the compiler.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { Fm, InputNode, ConditionNode, Node, OutputNode, GraphINN, subnets } from 'freia-ts';
   * const x = new InputNode(2);
   * const label = new ConditionNode(10);
   * const block = new Node(x, Fm.GLOWCouplingBlock, { subnet_constructor: subnets.mlp({ hidden: 32 }) }, { conditions: label });
   * const net = new GraphINN([x, label, block, new OutputNode(block)]);
   * const c = tf.oneHot(tf.fill([16], 3, 'int32'), 10).toFloat();
   * const [z, logJacDet] = net.forward(tf.randomNormal([16, 2]), { c }); // [16, 2], [16]
   * const [xBack] = net.forward(z, { c: [c], rev: true });
   * ```
   */
  forward<const X extends tf.Tensor | readonly tf.Tensor[]>(
    x: X & TensorsFit<NoInfer<X>, RoleShapes<L, 'input'>, 'input'>,
    ...options: OptionalUnless<RoleShapes<L, 'condition'>, GraphINNRunOptions<RoleShapes<L, 'condition'>>>
  ): [GraphINNOutput<OutputCount<L>>, tf.Tensor1D];
  forward(z: tf.Tensor | readonly tf.Tensor[], options: FreiaRunOptions & { readonly rev: boolean }): [tf.Tensor | tf.Tensor[], tf.Tensor1D];
  forward(xOrZ: tf.Tensor | readonly tf.Tensor[], options: { readonly c?: unknown; readonly rev?: boolean; readonly jac?: boolean } = {}): [tf.Tensor | tf.Tensor[], tf.Tensor1D] {
    const flow: AnyFlow = this.flow;
    const run = options.rev ? flow.inverse.bind(flow) : flow.forward.bind(flow);
    // The overloads let through only tensors (or a compile-time error type no value has); the flow checks them at run time.
    const { out, logDet } = run(tensors(xOrZ), { c: options.c as RunOptions['c'], jac: options.jac });
    return [out, logDet];
  }

  /** Every trainable variable (FrEIA's `parameters()`). */
  get trainableVariables(): tf.Variable[] {
    return this.flow.trainableVariables;
  }

  /**
   * The module of the node named `name` (FrEIA's `get_module_by_name`); null for an unknown name or a node without a module (an input, a condition, an output).
   *
   * @example
   * ```ts
   * import { Fm, InputNode, Node, OutputNode, GraphINN, subnets } from 'freia-ts';
   * const x = new InputNode(2, { name: 'x' });
   * const block = new Node(x, Fm.AllInOneBlock, { subnet_constructor: subnets.mlp({ hidden: 64 }) }, { name: 'block' });
   * const net = new GraphINN([x, block, new OutputNode(block)]);
   * console.log([...net.getModuleByName('block')!.params.keys()]); // ['global_scale', 'global_offset', 'w_perm', …]
   * ```
   */
  getModuleByName(name: string): InvertibleModule | null {
    const i = this.flow.graph.nodes.findIndex((n) => n.name === name);
    return i < 0 ? null : this.flow.modules[i];
  }

  /**
   * The node called `name`, or null (FrEIA's `get_node_by_name`).
   *
   * @example
   * ```ts
   * import { Fm, InputNode, Node, OutputNode, GraphINN, subnets } from 'freia-ts';
   * const x = new InputNode(2, { name: 'x' });
   * const block = new Node(x, Fm.AllInOneBlock, { subnet_constructor: subnets.mlp({ hidden: 64 }) }, { name: 'block' });
   * const net = new GraphINN([x, block, new OutputNode(block, { name: 'z' })]);
   * console.log(net.getNodeByName('block')?.outputDims); // [[2]]
   * ```
   */
  getNodeByName(name: string): AbstractNode | null {
    return this.nodeList.find((n) => n.name === name) ?? null;
  }

  /**
   * Frees the parameters' memory.
   *
   * @example
   * ```ts
   * import { Fm, InputNode, Node, OutputNode, GraphINN, subnets } from 'freia-ts';
   * const x = new InputNode(2);
   * const block = new Node(x, Fm.AllInOneBlock, { subnet_constructor: subnets.mlp({ hidden: 64 }) });
   * const net = new GraphINN([x, block, new OutputNode(block)]);
   * net.dispose(); // net.flow.isDisposed === true
   * ```
   */
  dispose(): void {
    this.flow.dispose();
  }
}

/**
 * FrEIA's SequenceINN: `new SequenceINN(2)` then `append(Fm.AllInOneBlock,
 * { subnet_constructor, cond: 0, cond_shape: [10] })`. `forward(x, { c: [c0, c1], rev })`
 * takes the conditions as a list indexed by `cond`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { Fm, SequenceINN, subnets } from 'freia-ts';
 * const net = new SequenceINN(2);
 * for (let k = 0; k < 4; k++) net.append(Fm.AllInOneBlock, { subnet_constructor: subnets.mlp({ hidden: 64 }), permute_soft: true });
 * const [z, logJacDet] = net.forward(tf.randomNormal([16, 2]));
 * ```
 *
 * @group Building
 */
export class SequenceINN<const I extends number[] = number[]> {
  private readonly inputShape: Shape;
  private readonly blocks: { node: string; def: ModuleDef; module: InvertibleModule; cond?: number }[] = [];
  private readonly condShapes = new Map<number, Shape>();
  private built?: { flow: Flow; conds: number[] };

  /** `new SequenceINN(1, 28, 28)` is a `SequenceINN<[1, 28, 28]>`: `forward` checks its input's rank against it. */
  constructor(...dimsIn: I) {
    this.inputShape = dims(dimsIn, 'SequenceINN').shape;
  }

  /** The current output shape. */
  get outputDims(): Shape {
    return this.blocks.length ? this.blocks[this.blocks.length - 1].def.outputShapes[0] : this.inputShape;
  }

  /**
   * Appends a module; `cond`/`cond_shape` name the condition (an index into `forward`'s `c`) and its shape.
   *
   * @example
   * ```ts
   * import { Fm, SequenceINN, subnets } from 'freia-ts';
   * const net = new SequenceINN(2)
   *   .append(Fm.ActNorm)
   *   .append(Fm.AllInOneBlock, { subnet_constructor: subnets.mlp({ hidden: 64 }), cond: 0, cond_shape: [10] })
   *   .append(Fm.AllInOneBlock, { subnet_constructor: subnets.mlp({ hidden: 64 }), cond: 0 }); // cond 0's shape is known
   * ```
   */
  append(moduleType: ModuleType, moduleArgs: Readonly<Record<string, unknown>> & { readonly cond?: number; readonly cond_shape?: readonly number[]; readonly name?: string } = {}): this {
    const { cond, cond_shape: condShape, name, ...rest } = moduleArgs;
    const kind = kindOf(moduleType);
    const node = nodeName(kind, name, this.blocks.length, (taken) => this.blocks.some((b) => b.node === taken));
    let conditionShapes: Shape[] = [];
    if (cond !== undefined) {
      if (!Number.isInteger(cond) || cond < 0) throw new WiringError(`${node}: cond must be an index into forward's c, got ${cond}`);
      const known = this.condShapes.get(cond);
      const shape = condShape ? [...condShape] : known;
      if (!shape) throw new WiringError(`${node}: cond ${cond} needs cond_shape the first time it is used`);
      if (known && formatShape(known) !== formatShape(shape)) throw new WiringError(`${node}: cond ${cond} was declared with shape ${formatShape(known)}, now ${formatShape(shape)}`);
      conditionShapes = [shape];
    }
    const def = defineModule(node, kind, moduleArguments(moduleType, kind, rest), [this.outputDims], conditionShapes);
    if (def.outputShapes.length !== 1) throw new WiringError(`${node}: SequenceINN needs modules with one output, ${kind} has ${def.outputShapes.length}`);
    const module = withVariableCleanup(() => moduleSpec(kind).create(def));
    if (cond !== undefined) this.condShapes.set(cond, conditionShapes[0]);
    this.blocks.push({ node, def, module, cond });
    this.built = undefined;
    return this;
  }

  private network(): { flow: Flow; conds: number[] } {
    if (this.built) return this.built;
    const conds = [...this.condShapes.keys()].sort((a, b) => a - b);
    const nodes: NodeDef[] = [{ kind: 'input', name: 'input', shape: this.inputShape }];
    const condIndex = new Map<number, number>();
    for (const c of conds) {
      condIndex.set(c, nodes.length);
      nodes.push({ kind: 'condition', name: `cond_${c}`, shape: this.condShapes.get(c)! });
    }
    const modules: (InvertibleModule | null)[] = nodes.map(() => null);
    let previous: TensorRef = { node: 0, output: 0 };
    for (const block of this.blocks) {
      nodes.push({ kind: 'module', name: block.node, module: block.def, inputs: [previous], conditions: block.cond === undefined ? [] : [condIndex.get(block.cond)!] });
      modules.push(block.module);
      previous = { node: nodes.length - 1, output: 0 };
    }
    nodes.push({ kind: 'output', name: 'output', input: previous, shape: this.outputDims });
    modules.push(null);
    this.built = { flow: new Flow(deepFreeze({ nodes }), modules), conds };
    return this.built;
  }

  /** The network as a {@link Flow} (shares the modules). */
  get flow(): Flow<[MutableShape<I>]> {
    // The input node is built from the constructor's dims, so the flow's one input has shape `I`.
    return this.network().flow as Flow<[MutableShape<I>]>;
  }

  /**
   * `[out, logJacDet]`; `c` is the list of conditions indexed by each block's
   * `cond`. Forward, the compiler checks `x`'s rank against the input shape
   * (`new SequenceINN(2)` takes a `Tensor2D`, `[batch, 2]`); with `rev: true`
   * the output's shape is known only at run time (modules are appended then).
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { Fm, SequenceINN, subnets } from 'freia-ts';
   * const net = new SequenceINN(2).append(Fm.AllInOneBlock, { subnet_constructor: subnets.mlp({ hidden: 64 }), cond: 0, cond_shape: [10] });
   * const c = [tf.oneHot(tf.fill([16], 3, 'int32'), 10).toFloat()];
   * const [z, logJacDet] = net.forward(tf.randomNormal([16, 2]), { c }); // [16, 2], [16]
   * const [x] = net.forward(z, { c, rev: true });
   * ```
   */
  forward<const X extends tf.Tensor>(x: X & TensorFits<NoInfer<X>, I, 'input'>, options?: SequenceRunOptions & { readonly rev?: false }): [tf.Tensor, tf.Tensor1D];
  forward(z: tf.Tensor, options: SequenceRunOptions & { readonly rev: boolean }): [tf.Tensor, tf.Tensor1D];
  forward(xOrZ: tf.Tensor, options: SequenceRunOptions & { readonly rev?: boolean } = {}): [tf.Tensor, tf.Tensor1D] {
    const { flow, conds } = this.network();
    const given = options.c ?? [];
    const missing = conds.filter((i) => !given[i]);
    if (missing.length) throw new WiringError(`SequenceINN: forward needs c[${missing.join('], c[')}] (the blocks' cond indices), got ${given.length} condition(s)`);
    const c = conds.map((i) => given[i]);
    const run = options.rev ? flow.inverse.bind(flow) : flow.forward.bind(flow);
    const { out, logDet } = run(xOrZ, { c, jac: options.jac });
    if (Array.isArray(out)) throw new FreiaError('SequenceINN: expected one output');
    return [out as tf.Tensor, logDet];
  }

  /** Every trainable variable (FrEIA's `parameters()`). */
  get trainableVariables(): tf.Variable[] {
    return this.blocks.flatMap((b) => b.module.trainableVariables);
  }

  /**
   * Frees the parameters' memory.
   *
   * @example
   * ```ts
   * import { Fm, SequenceINN, subnets } from 'freia-ts';
   * const net = new SequenceINN(2).append(Fm.AllInOneBlock, { subnet_constructor: subnets.mlp({ hidden: 64 }) });
   * net.dispose(); // every block's parameters are freed
   * ```
   */
  dispose(): void {
    for (const b of this.blocks) b.module.dispose();
  }
}
