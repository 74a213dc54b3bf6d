/**
 * Errors raised by freia-ts. Every message names the node (or module) and the
 * shapes involved, so a user can find the wiring mistake without a debugger.
 */

/**
 * Base class of every error freia-ts throws on purpose.
 *
 * @example
 * ```ts
 * import { inn, FreiaError, ShapeMismatchError } from 'freia-ts';
 * const shape: number[] = [3, 7, 7]; // known only at run time
 * try {
 *   inn.input(shape).haarDownsample();
 * } catch (error) {
 *   if (error instanceof ShapeMismatchError) console.log(error.node, error.expected, error.actual);
 *   else if (error instanceof FreiaError) console.log(error.message);
 * }
 * ```
 *
 * @group Errors
 */
export class FreiaError extends Error {
  /** The error's class name (`'FreiaError'` here, each subclass its own). */
  override readonly name: string = 'FreiaError';
}

/**
 * A tensor or a declared shape does not fit what a node expects.
 *
 * @group Errors
 */
export class ShapeMismatchError extends FreiaError {
  /** Always `'ShapeMismatchError'` (for `error.name` checks). */
  override readonly name = 'ShapeMismatchError';
  constructor(
    /** The node (or call) where the shapes disagree. */
    readonly node: string,
    /** The shape it needs, in words. */
    readonly expected: string,
    /** The shape it got. */
    readonly actual: string,
    detail?: string,
  ) {
    super(`${node}: expected ${expected}, got ${actual}${detail ? ` (${detail})` : ''}`);
  }
}

/**
 * The network was wired or called with the wrong number of inputs, outputs or conditions.
 *
 * @group Errors
 */
export class WiringError extends FreiaError {
  /** Always `'WiringError'` (for `error.name` checks). */
  override readonly name = 'WiringError';
}

/**
 * A value handed to freia-ts (an option, a shape, a tensor, a field of a
 * saved file) is not what was expected. `node` names the node (or the file
 * or argument), `field` the option or field, `expected` what would have been
 * accepted; nothing was allocated or changed.
 *
 * @group Errors
 */
export class ValidationError extends FreiaError {
  /** The error's class name (`'ValidationError'` here, `'OptionError'` for that subclass). */
  override readonly name: string = 'ValidationError';
  constructor(
    /** The node (or function) whose input is wrong. */
    readonly node: string,
    /** The option or field at fault. */
    readonly field: string,
    /** What it must be. */
    readonly expected: string,
    /** What it was. */
    readonly actual: string,
    /** How to fix it, where there is a likely fix. */
    readonly hint?: string,
  ) {
    super(`${node}: ${field}: expected ${expected}, got ${actual}${hint ? ` (${hint})` : ''}`);
  }
}

/**
 * A flow (or a tensor handed to one) was used after `dispose()`.
 *
 * @group Errors
 */
export class DisposedError extends FreiaError {
  /** Always `'DisposedError'` (for `error.name` checks). */
  override readonly name = 'DisposedError';
}

/** Formats a shape the way users write it: `[3, 32, 32]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * An option has a value its owner cannot use: `owner` is the function or
 * command (`train.fit`, `train.adam`), `field` the option's name.
 *
 * @group Errors
 */
export class OptionError extends ValidationError {
  /** Always `'OptionError'` (for `error.name` checks). */
  override readonly name = 'OptionError';
  constructor(
    /** The function whose option is wrong (`train.fit`, ...). */
    readonly owner: string,
    field: string,
    expected: string,
    actual: string,
    message?: string,
  ) {
    super(owner, field, expected, actual);
    // One family with ValidationError (catch either); the training loop's own wording.
    this.message = message ?? `${owner}: option "${field}" must be ${expected}, got ${actual}`;
  }
}

/**
 * A number that must be finite is NaN or infinite: `where` names it (a
 * training step's loss or gradient, a result's field), `step` is the
 * training step when there is one.
 *
 * @group Errors
 */
export class NonFiniteError extends FreiaError {
  /** Always `'NonFiniteError'` (for `error.name` checks). */
  override readonly name = 'NonFiniteError';
  constructor(
    /** What is not finite (a step's loss, a gradient, a result's field). */
    readonly where: string,
    message: string,
    /** The training step, when there is one. */
    readonly step?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** How a value reads in an error message: strings quoted, everything else as JavaScript prints it. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value !== null && typeof value === 'object') return `an object (${value.constructor?.name ?? 'no prototype'})`;
  return String(value);
}
