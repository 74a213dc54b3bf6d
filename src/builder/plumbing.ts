/**
 * What every face (the chain, the graph builder, FrEIA's API) does the same
 * way when it adds a node: check a declared shape, name the node, separate
 * the block options from the module's arguments and copy them, check a split,
 * and make sure each output feeds exactly one node.
 */
import { className, type Shape } from '../core/graph.js';
import { ShapeMismatchError, ValidationError, WiringError, formatShape } from '../core/errors.js';
import { checkElements, describeValue, didYouMean } from '../core/validation.js';
import { customKind, moduleSpec, shapeKeeping, type CustomModuleClass } from '../modules/index.js';

/** A declared input or condition shape: a non-empty list of positive integers, copied and frozen. */
export function checkShape(what: string, shape: unknown): Shape {
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ShapeMismatchError(what, 'a non-empty list of positive integers like [3, 32, 32]', JSON.stringify(shape));
  }
  checkElements(what, 'shape', shape);
  return Object.freeze([...(shape as number[])]);
}

/**
 * The node's name: the one given, else `<Kind>_<index>` (custom kinds carry
 * a registry suffix, `MyModule#3`, that names do not show). A name used
 * twice in one network is refused.
 */
export function nodeName(kind: string, given: unknown, index: number, taken: (name: string) => boolean): string {
  const name = typeof given === 'string' ? given : `${className(kind)}_${index}`;
  if (taken(name)) throw new WiringError(`node name "${name}" is used twice`);
  return name;
}

/** The registry kind of a module type: a kind name (checked, so an unknown one lists the known ones), or a custom class. */
export function kindOf(moduleType: string | CustomModuleClass<never>): string {
  if (typeof moduleType === 'function') return customKind(moduleType as CustomModuleClass<unknown>);
  return moduleSpec(String(moduleType)).kind;
}

/**
 * A copy of the caller's data: arrays and plain objects are copied all the
 * way down, so that freezing a definition never freezes (or shares) the
 * caller's own `M` matrix or `sections`; functions (subnet factories),
 * tensors and class instances are kept as they are.
 */
export function copyData<T>(value: T): T {
  if (Array.isArray(value)) return value.map(copyData) as T;
  if (value !== null && typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      // The entries are copied one by one; the result has the input's type.
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copyData(v)])) as T;
    }
  }
  return value;
}

/** A block's options split into what the builder reads (`cond`, `name`) and the module's own arguments (copied). */
export function splitOptions(options: object | undefined): { readonly cond: unknown; readonly name: unknown; readonly args: Record<string, unknown> } {
  const { cond, name, ...args } = (options ?? {}) as { cond?: unknown; name?: unknown };
  return { cond, name, args: copyData(args) };
}

/** `cond` as a list: absent is none, one value is a list of one. */
export function conditionList(cond: unknown): readonly unknown[] {
  return cond === undefined ? [] : Array.isArray(cond) ? cond : [cond];
}

/**
 * The typed `split` wants sections that add up to the axis (FrEIA's `Split`
 * would append a slack section; the runtime module keeps that for imports).
 */
export function checkSplit(node: string, shape: Shape, sections: unknown, dim: number): readonly number[] {
  const total = Array.isArray(sections) ? sections.reduce((a: number, b: unknown) => a + (b as number), 0) : NaN;
  if (total !== shape[dim]) {
    throw new ShapeMismatchError(node, `sections summing to ${shape[dim]} (dim ${dim} of ${formatShape(shape)})`, JSON.stringify(sections));
  }
  return Object.freeze([...(sections as number[])]);
}

/** One output of one node, as the wiring checks see it. */
export interface OutputUse {
  /** The producing node's name. */
  readonly node: string;
  readonly output: number;
  /** Who reads it already, if anyone. */
  readonly usedBy: string | undefined;
}

/**
 * Checks that `consumer` may read `outputs`: none is read by another node
 * yet, none is passed twice. Throws before anything is marked, so a failed
 * node leaves its inputs free.
 */
export function checkUnused(consumer: string, outputs: readonly OutputUse[]): void {
  const seen = new Set<string>();
  for (const { node, output, usedBy } of outputs) {
    if (usedBy) throw new WiringError(`${consumer}: output ${output} of "${node}" is already used by "${usedBy}" (each output feeds exactly one node: use a Split to use it twice)`);
    const key = `${node}:${output}`;
    if (seen.has(key)) throw new WiringError(`${consumer}: output ${output} of "${node}" is passed twice`);
    seen.add(key);
  }
}

/** The message for an output nobody reads (it would be lost in the inverse). */
export function unusedOutput(node: string, output: number, shape: Shape): string {
  return `output ${output} ${formatShape(shape)} of "${node}" is used by no node: pass it on or make it a network output`;
}

/**
 * The options of FrEIA's Inverse around a shape-keeping method's options:
 * `name` and `cond` stay the node's, everything else is the wrapped module's.
 * An unknown method is refused, naming the near miss.
 */
export function inverseOptions(method: string, options: object | undefined): object {
  if (typeof method !== 'string' || !Object.hasOwn(shapeKeeping, method)) {
    const near = typeof method === 'string' ? didYouMean(method, Object.keys(shapeKeeping)) : undefined;
    throw new ValidationError('inverseOf', 'method', `the name of a shape-keeping builder method (${Object.keys(shapeKeeping).join(', ')})`, describeValue(method), near && `did you mean "${near}"?`);
  }
  const { kind } = shapeKeeping[method as keyof typeof shapeKeeping];
  const { name, cond, ...args } = (options ?? {}) as { name?: unknown; cond?: unknown };
  return { ...(name === undefined ? {} : { name }), ...(cond === undefined ? {} : { cond }), module: kind, args };
}
