/**
 * The graph IR: plain, frozen definition data produced by the builders and
 * consumed by the executor, the serialiser and the picture renderers. Nothing
 * here knows about tensors or about the builder that produced it.
 */

/** A tensor shape without the batch dimension, channels first (FrEIA's convention). */
export type Shape = readonly number[];

/** One output of one node: `[node index, output index]`. */
export interface TensorRef {
  readonly node: number;
  readonly output: number;
}

/**
 * What a module node computes: its kind (registry key), arguments and
 * shapes. `A` is the module's options type; code that handles any kind sees
 * them as an `object`.
 */
export interface ModuleDef<A extends object = object> {
  readonly kind: string;
  readonly args: A;
  readonly inputShapes: readonly Shape[];
  readonly conditionShapes: readonly Shape[];
  readonly outputShapes: readonly Shape[];
}

export interface InputNodeDef {
  readonly kind: 'input';
  readonly name: string;
  readonly shape: Shape;
}

export interface ConditionNodeDef {
  readonly kind: 'condition';
  readonly name: string;
  readonly shape: Shape;
}

export interface ModuleNodeDef {
  readonly kind: 'module';
  readonly name: string;
  readonly module: ModuleDef;
  readonly inputs: readonly TensorRef[];
  /** Indices (into `nodes`) of the condition nodes this module reads, concatenated in this order. */
  readonly conditions: readonly number[];
}

export interface OutputNodeDef {
  readonly kind: 'output';
  readonly name: string;
  readonly input: TensorRef;
  readonly shape: Shape;
}

export type NodeDef = InputNodeDef | ConditionNodeDef | ModuleNodeDef | OutputNodeDef;

/**
 * A whole network. `nodes` is in an order where every node comes after the
 * nodes it reads, so forward is one pass in order and inverse one pass in reverse.
 */
export interface GraphDef {
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
