/**
 * The graph IR: plain, frozen definition data produced by the builders and
 * consumed by the executor, the serialiser and the picture renderers. Nothing
 * here knows about tensors or about the builder that produced it.
 */

/** A tensor shape without the batch dimension, channels first (FrEIA's convention). */
export type Shape = readonly number[];

/**
 * One output of one node: `[node index, output index]`.
 *
 * @group Building
 */
export interface TensorRef {
  /** The producing node's index in {@link GraphDef.nodes}. */
  readonly node: number;
  /** Which of that node's outputs (0 for inputs and single-output modules). */
  readonly output: number;
}

/**
 * What a module node computes: its kind (registry key), arguments and
 * shapes. `A` is the module's options type; code that handles any kind sees
 * them as an `object`.
 *
 * @group Building
 */
export interface ModuleDef<A extends object = object> {
  /** The module's kind: FrEIA's class name (`'GLOWCouplingBlock'`) or a custom module's registered name. */
  readonly kind: string;
  /** The module's options as given to the builder method (a subnet as its factory). */
  readonly args: A;
  /** The shapes of the streams it reads, channels first, without batch. */
  readonly inputShapes: readonly Shape[];
  /** The shapes of the conditions it reads, in the order they are concatenated. */
  readonly conditionShapes: readonly Shape[];
  /** The shapes it produces (its run-time shape rule applied to the above). */
  readonly outputShapes: readonly Shape[];
}

/**
 * A network input: `forward` takes one tensor of `[batch, ...shape]` for it.
 *
 * @group Building
 */
export interface InputNodeDef {
  /** Tags the node's variant. */
  readonly kind: 'input';
  /** The node's name (`input_0` unless given). */
  readonly name: string;
  /** The input's shape, channels first, without batch. */
  readonly shape: Shape;
}

/**
 * A condition input: a tensor the modules that name it read (concatenated to
 * their subnets' inputs), never transformed itself.
 *
 * @group Building
 */
export interface ConditionNodeDef {
  /** Tags the node's variant. */
  readonly kind: 'condition';
  /** The node's name (`condition_0` unless given). */
  readonly name: string;
  /** The condition's shape, channels first, without batch. */
  readonly shape: Shape;
}

/**
 * One invertible module applied to earlier nodes' outputs.
 *
 * @group Building
 */
export interface ModuleNodeDef {
  /** Tags the node's variant. */
  readonly kind: 'module';
  /** The node's name (`<Kind>_<index>` unless given); its parameters are saved under it. */
  readonly name: string;
  /** What the module is: kind, options and shapes. */
  readonly module: ModuleDef;
  /** The outputs it reads, in order. */
  readonly inputs: readonly TensorRef[];
  /** Indices (into `nodes`) of the condition nodes this module reads, concatenated in this order. */
  readonly conditions: readonly number[];
}

/**
 * A network output: `forward` returns one tensor for each, in node order.
 *
 * @group Building
 */
export interface OutputNodeDef {
  /** Tags the node's variant. */
  readonly kind: 'output';
  /** The node's name (`output_0`, ...). */
  readonly name: string;
  /** The stream it exposes. */
  readonly input: TensorRef;
  /** That stream's shape. */
  readonly shape: Shape;
}

/**
 * One node of a {@link GraphDef}, told apart by `kind`.
 *
 * @group Building
 */
export type NodeDef = InputNodeDef | ConditionNodeDef | ModuleNodeDef | OutputNodeDef;

/**
 * A whole network. `nodes` is in an order where every node comes after the
 * nodes it reads, so forward is one pass in order and inverse one pass in reverse.
 *
 * @group Building
 */
export interface GraphDef {
  /** Every node after the nodes it reads; the outputs last. */
  readonly nodes: readonly NodeDef[];
}

/** The shape a reference points at. */
export function shapeOf(graph: GraphDef, ref: TensorRef): Shape {
  const node = graph.nodes[ref.node];
  switch (node.kind) {
    case 'input':
    case 'condition':
      return node.shape;
    case 'module':
      return node.module.outputShapes[ref.output];
    case 'output':
      return node.shape;
  }
}

/** Freezes a definition deeply so that no builder or runtime can mutate shared data. */
/**
 * The class name a module kind stands for: a custom module class is
 * registered as `Class#n` (one kind per class in a process), and people,
 * documents and pictures know it as `Class`.
 */
export function className(kind: string): string {
  return kind.replace(/#\d+$/, '');
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
