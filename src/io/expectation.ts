/**
 * What a loaded or imported flow is expected to be. A saved document carries
 * no TypeScript types, so the caller says which flow it should hold (its
 * shapes, or a chain that describes the same network); the document is
 * checked against that before anything is allocated, and the flow comes back
 * typed as promised.
 */
import { className, type GraphDef, type Shape } from '../core/graph.js';
import { FreiaError, formatShape } from '../core/errors.js';
import type { AnyFlow, Flow } from '../runtime/flow.js';
import type { MutableShape, Shapes } from '../types/shape.js';

/**
 * The shapes of a flow, without batch: `{ inputs: [[1, 28, 28]], outputs: [[784]], conditions: [[10]] }`.
 * Leaving out `conditions` means the flow declares none.
 *
 * @group Import/export
 */
export interface FlowShapes<I extends Shapes, O extends Shapes, C extends Shapes> {
  /** The inputs' shapes. */
  readonly inputs: I;
  /** The outputs' shapes. */
  readonly outputs: O;
  /** The conditions' shapes (none when absent). */
  readonly conditions?: C;
}

/**
 * A description of the network a document should hold: an unbuilt chain
 * (`inn.input([2]).glow(...)`, as it was written before `build()`), whose
 * module kinds and shapes the document must have.
 *
 * @group Import/export
 */
export interface DescribesFlow<I extends Shapes, O extends Shapes, C extends Shapes> {
  /**
   * The definition data.
   *
   * @example
   * ```ts
   * import { inn, subnets } from 'freia-ts';
   * const architecture = inn.input([2]).glow({ subnet: subnets.mlp({ hidden: 32 }) }); // a chain describes a flow
   * const graph = architecture.toGraph(); // nodes, module kinds, options and shapes; nothing allocated
   * console.log(graph.nodes.map((n) => n.kind)); // ['input', 'module', 'output']
   * ```
   */
  toGraph(): GraphDef;
  /**
   * Instantiates the network.
   *
   * @example
   * ```ts
   * import { inn, subnets, loadFlow, memoryHandler, saveFlow } from 'freia-ts';
   * const architecture = inn.input([2]).glow({ subnet: subnets.mlp({ hidden: 32 }) });
   * const flow = architecture.build(); // fresh weights
   * const store = memoryHandler();
   * await saveFlow(flow, store);
   * const restored = await loadFlow(store, { expect: architecture }); // Flow<[[2]], [[2]], []>
   * ```
   */
  build(): Flow<I, O, C>;
}

/**
 * A flow type to check a document against: its shapes, or a chain describing it.
 *
 * @group Import/export
 */
export type FlowExpectation<I extends Shapes, O extends Shapes, C extends Shapes> = FlowShapes<I, O, C> | DescribesFlow<I, O, C>;

/**
 * Shapes as the builder writes them (mutable tuples), so an expected flow's
 * type equals a built one's: `MutableShapes<readonly [readonly [2], readonly [3, 8, 8]]>`
 * is `[[2], [3, 8, 8]]`.
 *
 * @group Import/export
 */
export type MutableShapes<S extends Shapes> = number extends S['length'] ? Shape[] : { -readonly [K in keyof S]: S[K] extends Shape ? MutableShape<S[K]> : never };

/**
 * The old name of {@link MutableShapes}.
 *
 * @deprecated Renamed `MutableShapes` (0.1.x), with {@link MutableShape}.
 * @group Import/export
 */
export type LiteralShapes<S extends Shapes> = MutableShapes<S>;

/**
 * What `expect` accepts (the flow type is read from the value given).
 *
 * @group Import/export
 */
export type FlowExpectationOf = FlowShapes<Shapes, Shapes, Shapes> | {
  /** The definition data. */
  toGraph(): GraphDef;
  /** Instantiates the network. */
  build(): AnyFlow;
};

/**
 * The flow type an expectation promises.
 *
 * @group Import/export
 */
export type ExpectedFlow<E> =
  E extends DescribesFlow<infer I, infer O, infer C>
    ? Flow<I, O, C>
    : E extends { readonly inputs: infer I extends Shapes; readonly outputs: infer O extends Shapes }
      ? Flow<MutableShapes<I>, MutableShapes<O>, E extends { readonly conditions: infer C extends Shapes } ? MutableShapes<C> : []>
      : never;

/**
 * A document is not the flow the caller said it should be; `problems` lists each difference.
 *
 * @group Errors
 */
export class FlowMismatchError extends FreiaError {
  /** Always `'FlowMismatchError'` (for `error.name` checks). */
  override readonly name = 'FlowMismatchError';
  constructor(
    /** Where the flow came from (a path, a URL, `'document'`). */
    readonly source: string,
    /** Each input, output or condition whose shape differs, with both shapes. */
    readonly problems: readonly string[],
  ) {
    super(`${source}: the document is not the flow expected: ${problems.length} difference(s)\n  - ${problems.join('\n  - ')}`);
  }
}

type Role = 'input' | 'condition' | 'output';

function shapesOf(graph: GraphDef, role: Role): Shape[] {
  return graph.nodes.flatMap((node) => (node.kind === role ? [node.shape] : []));
}

// A document names a custom module by its class alone.
const moduleKinds = (graph: GraphDef) => graph.nodes.flatMap((node) => (node.kind === 'module' ? [className(node.module.kind)] : []));

const listShapes = (shapes: readonly (readonly number[])[]) => `[${shapes.map(formatShape).join(', ')}]`;

function isShapeList(value: unknown): value is readonly (readonly number[])[] {
  return Array.isArray(value) && value.every((shape) => Array.isArray(shape) && shape.every((d) => Number.isInteger(d) && d >= 0));
}

function isDescription(expected: object): expected is DescribesFlow<Shapes, Shapes, Shapes> {
  return typeof (expected as { toGraph?: unknown }).toGraph === 'function';
}

/**
 * Checks `graph` (a document's, before anything is built) against what the
 * caller expects: the same input, condition and output shapes in order, and
 * for a chain also the same module kinds in the same order. Throws a
 * {@link FlowMismatchError} naming every difference; an `expected` that is
 * neither shapes nor a chain is refused the same way.
 */
export function checkExpectedFlow(source: string, graph: GraphDef, expected: unknown): void {
  if (expected === undefined) return;
  if (typeof expected !== 'object' || expected === null) {
    throw new FlowMismatchError(source, [`expect: expected { inputs, outputs, conditions? } or an unbuilt chain, got ${String(expected)}`]);
  }
  const problems: string[] = [];
  let want: Record<Role, readonly (readonly number[])[]>;
  let kinds: string[] | undefined;
  if (isDescription(expected)) {
    const described = expected.toGraph();
    want = { input: shapesOf(described, 'input'), condition: shapesOf(described, 'condition'), output: shapesOf(described, 'output') };
    kinds = moduleKinds(described);
  } else {
    const { inputs, outputs, conditions = [] } = expected as Partial<FlowShapes<Shapes, Shapes, Shapes>>;
    for (const [field, value] of [['inputs', inputs], ['outputs', outputs], ['conditions', conditions]] as const) {
      if (!isShapeList(value)) problems.push(`expect.${field}: expected a list of shapes such as [[2]], got ${JSON.stringify(value)}`);
    }
    if (problems.length) throw new FlowMismatchError(source, problems);
    want = { input: inputs as Shapes, condition: conditions, output: outputs as Shapes };
  }
  for (const role of ['input', 'condition', 'output'] as const) {
    const found = shapesOf(graph, role);
    if (listShapes(found) !== listShapes(want[role])) problems.push(`${role}s: expected ${listShapes(want[role])}, the document has ${listShapes(found)}`);
  }
  if (kinds) {
    const found = moduleKinds(graph);
    const at = kinds.findIndex((kind, k) => found[k] !== kind);
    if (found.length !== kinds.length) problems.push(`modules: expected ${kinds.length} (${kinds.join(', ')}), the document has ${found.length} (${found.join(', ')})`);
    else if (at >= 0) problems.push(`module ${at}: expected ${kinds[at]}, the document has ${found[at]}`);
  }
  if (problems.length) throw new FlowMismatchError(source, problems);
}
