/**
 * Errors raised by freia-ts. Every message names the node (or module) and the
 * shapes involved, so a user can find the wiring mistake without a debugger.
 */

/** Base class of every error freia-ts throws on purpose. */
export class FreiaError extends Error {
  override readonly name: string = 'FreiaError';
}

/** A tensor or a declared shape does not fit what a node expects. */
export class ShapeMismatchError extends FreiaError {
  override readonly name = 'ShapeMismatchError';
  constructor(
    readonly node: string,
    readonly expected: string,
    readonly actual: string,
    detail?: string,
  ) {
    super(`${node}: expected ${expected}, got ${actual}${detail ? ` (${detail})` : ''}`);
  }
}

/** The network was wired or called with the wrong number of inputs, outputs or conditions. */
export class WiringError extends FreiaError {
  override readonly name = 'WiringError';
}

/**
 * A value handed to freia-ts (an option, a shape, a tensor, a field of a
 * saved file) is not what was expected. `node` names the node (or the file
 * or argument), `field` the option or field, `expected` what would have been
 * accepted; nothing was allocated or changed.
 */
export class ValidationError extends FreiaError {
  override readonly name: string = 'ValidationError';
  constructor(
    readonly node: string,
    readonly field: string,
    readonly expected: string,
    readonly actual: string,
    readonly hint?: string,
  ) {
    super(`${node}: ${field}: expected ${expected}, got ${actual}${hint ? ` (${hint})` : ''}`);
  }
}

/** A flow (or a tensor handed to one) was used after `dispose()`. */
export class DisposedError extends FreiaError {
  override readonly name = 'DisposedError';
}

/** Formats a shape the way users write it: `[3, 32, 32]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
