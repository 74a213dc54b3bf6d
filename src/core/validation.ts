/**
 * Checking what users and files hand us before anything is allocated: option
 * names and values, sizes against a documented limit, plain-data copies.
 * Nothing here touches tensors; every rejection is a {@link ValidationError}
 * naming the node (or file), the field and what was expected.
 */
import { ValidationError, formatShape } from './errors.js';

/**
 * The size limits: see {@link sizeLimits}.
 *
 * @group Backends
 */
export interface SizeLimits {
  /** The most elements of one tensor: a stream per sample, or a parameter. Default 2^26. */
  readonly tensorElements: number;
  /** The most parameter elements of one flow in all. Default 2^28. */
  readonly flowParameters: number;
}

/**
 * The defaults of {@link sizeLimits}.
 *
 * @group Backends
 */
export const SIZE_LIMITS: SizeLimits = Object.freeze({ tensorElements: 2 ** 26, flowParameters: 2 ** 28 });

let limits: SizeLimits = SIZE_LIMITS;

/**
 * The size limits every door checks before allocating (builders, subnets,
 * `loadFlow`, `importFreia`): a tensor is refused above `tensorElements`
 * elements (per sample for the streams, in all for a parameter), a flow
 * above `flowParameters` parameter elements in all. 2^26 float32 elements
 * are 256 MiB: beyond that one tensor no longer fits the wasm backend's
 * heap beside its gradient and optimizer state, and a 200-byte file could
 * make the process allocate gigabytes.
 *
 * @example
 * ```ts
 * import { sizeLimits } from 'freia-ts';
 * sizeLimits().tensorElements; // 67108864
 * ```
 *
 * @group Backends
 */
export function sizeLimits(): SizeLimits {
  return limits;
}

/**
 * Changes the size limits (for a machine with more memory, or a test that
 * wants a small one); returns the previous ones.
 *
 * @example
 * ```ts
 * import { setSizeLimits } from 'freia-ts';
 * const previous = setSizeLimits({ flowParameters: 2 ** 30 });
 * setSizeLimits(previous);
 * ```
 *
 * @group Backends
 */
export function setSizeLimits(changes: Partial<SizeLimits>): SizeLimits {
  checkOptions('setSizeLimits', changes, { tensorElements: is.number({ integer: true, min: 1 }), flowParameters: is.number({ integer: true, min: 1 }) });
  const previous = limits;
  limits = Object.freeze({ ...limits, ...Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)) });
  return previous;
}

/**
 * The product of `dims`, or `Infinity` once it exceeds `limit` (so a huge
 * shape never overflows to a wrong finite number).
 *
 * @example
 * ```ts
 * import { elementCount } from 'freia-ts';
 * elementCount([3, 32, 32]);        // 3072
 * elementCount([1e9, 1e9, 1e9]);    // Infinity (above sizeLimits().tensorElements)
 * ```
 *
 * @group Type machinery
 */
export function elementCount(dims: readonly number[], limit: number = limits.tensorElements): number {
  let count = 1;
  for (const d of dims) {
    count *= d;
    if (count > limit) return Infinity;
  }
  return count;
}

/** Throws a {@link ValidationError} when a tensor of shape `dims` would exceed `sizeLimits().tensorElements`. */
export function checkElements(node: string, field: string, dims: readonly number[]): void {
  if (elementCount(dims) === Infinity) {
    throw new ValidationError(node, field, `at most ${limits.tensorElements} elements (sizeLimits().tensorElements)`, formatShape(dims));
  }
}

/** A value as a user wrote it, for messages: `"RELU"`, `NaN`, `[1,2]`, `a function`. */
export function describeValue(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'number' || typeof value === 'bigint' || value === undefined) return String(value);
  if (typeof value === 'symbol') return value.toString();
  try {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Edit distance counting a swap of neighbours as one edit (optimal string alignment), for "did you mean". */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The candidate closest to `name` when it is a near miss (a different case,
 * snake_case for camelCase, a longer or shorter form of the name, or at
 * most a third of the letters wrong).
 *
 * @example
 * ```ts
 * import { didYouMean } from 'freia-ts';
 * didYouMean('permute_soft', ['permuteSoft', 'clamp']); // 'permuteSoft'
 * didYouMean('banana', ['permuteSoft', 'clamp']);       // undefined
 * ```
 *
 * @group Type machinery
 */
export function didYouMean(name: string, candidates: readonly string[]): string | undefined {
  const plain = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const [p, q] = [plain(name), plain(candidate)];
    const distance = p === q ? 0 : p.startsWith(q) || q.startsWith(p) ? 1 : editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(name.length / 3)) ? best : undefined;
}

/**
 * One option's rule: what it must be (for the message) and the test.
 *
 * @group Modules
 */
export interface OptionCheck {
  /** What is expected, as a message says it: `a number > 0`, `"ATAN", "TANH" or "SIGMOID"`. */
  readonly expected: string;
  /** Whether a value passes. */
  readonly test: (value: unknown) => boolean;
}

/**
 * The rules of every option of a module, keyed by option name: the keys
 * are exactly the options type's keys, so the compiler keeps both in step.
 *
 * @group Modules
 */
export type OptionChecks<O> = { readonly [K in keyof O]-?: OptionCheck };

/** Builders of {@link OptionCheck}s. */
export const is = {
  /** A number in a range; `integer` for whole numbers; `Infinity` only when `infinite` allows it; never NaN. */
  number(options: { readonly min?: number; readonly max?: number; readonly above?: number; readonly integer?: boolean; readonly infinite?: boolean } = {}): OptionCheck {
    const { min, max, above, integer = false, infinite = false } = options;
    const parts = [integer ? 'a whole number' : infinite ? 'a number (Infinity allowed)' : 'a finite number'];
    if (above !== undefined) parts.push(`> ${above}`);
    if (min !== undefined) parts.push(`>= ${min}`);
    if (max !== undefined) parts.push(`<= ${max}`);
    return {
      expected: parts.join(' '),
      test: (v) =>
        typeof v === 'number' && !Number.isNaN(v) && (Number.isFinite(v) || (infinite && v === Infinity && !integer))
        && (!integer || Number.isInteger(v)) && (above === undefined || v > above) && (min === undefined || v >= min) && (max === undefined || v <= max),
    };
  },
  boolean: { expected: 'true or false', test: (v: unknown) => typeof v === 'boolean' } as OptionCheck,
  /** One of the listed strings or numbers, exactly. */
  oneOf(values: readonly (string | number)[]): OptionCheck {
    const shown = values.map((v) => JSON.stringify(v));
    return { expected: shown.length === 1 ? shown[0] : `${shown.slice(0, -1).join(', ')} or ${shown[shown.length - 1]}`, test: (v) => values.includes(v as string | number) };
  },
  /** A subnet constructor: `subnets.mlp(...)`, `subnets.conv(...)` or a function `(cIn, cOut) => model`. */
  subnet: { expected: 'a subnet constructor such as subnets.mlp({ hidden: 64 }), or a function (cIn, cOut) => model', test: (v: unknown) => typeof v === 'function' } as OptionCheck,
  /** A shape: a non-empty list of positive whole numbers. */
  shape: { expected: 'a non-empty list of positive whole numbers like [3, 32, 32]', test: (v: unknown) => Array.isArray(v) && v.length > 0 && v.every((d) => Number.isInteger(d) && d >= 1) } as OptionCheck,
  /** A list of finite numbers. */
  numbers: { expected: 'a list of finite numbers', test: (v: unknown) => Array.isArray(v) && v.every((d) => typeof d === 'number' && Number.isFinite(d)) } as OptionCheck,
  /** Rows of a matrix: a non-empty list of equally long lists of finite numbers. */
  matrix: {
    expected: 'a matrix as a list of rows of finite numbers',
    test: (v: unknown) => Array.isArray(v) && v.length > 0 && v.every((row) => Array.isArray(row) && row.length === (v[0] as unknown[]).length && row.every((d) => typeof d === 'number' && Number.isFinite(d))),
  } as OptionCheck,
  /** Anything: options whose meaning the module checks itself. */
  anything: { expected: 'any value', test: () => true } as OptionCheck,
  /** Either of two checks. */
  either(a: OptionCheck, b: OptionCheck): OptionCheck {
    return { expected: `${a.expected}, or ${b.expected}`, test: (v) => a.test(v) || b.test(v) };
  },
  /** A list of exactly `length` values, each passing `item`. */
  tuple(length: number, item: OptionCheck): OptionCheck {
    return { expected: `a list of ${length} values, each ${item.expected}`, test: (v) => Array.isArray(v) && v.length === length && v.every(item.test) };
  },
} as const;

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/**
 * Checks a module's options against its rules: an unknown key is refused
 * (with the near miss it was probably meant to be), `undefined` counts as
 * absent, every other value must pass its rule. Throws a
 * {@link ValidationError} naming the node and the option.
 */
export function checkOptions(node: string, options: unknown, checks: Readonly<Record<string, OptionCheck>>, where = 'option'): void {
  if (options === undefined) return;
  if (!isPlainObject(options)) throw new ValidationError(node, 'options', 'an object of options', describeValue(options));
  const known = Object.keys(checks);
  for (const key of Object.keys(options)) {
    const check = Object.prototype.hasOwnProperty.call(checks, key) ? checks[key] : undefined;
    if (!check) {
      const near = didYouMean(key, known);
      const hint = near ? `did you mean "${near}"?` : known.length ? `known: ${known.join(', ')}` : 'it takes no options';
      throw new ValidationError(node, `${where} "${key}"`, 'a known option', 'an unknown option', hint);
    }
    const value = options[key];
    if (value !== undefined && !check.test(value)) throw new ValidationError(node, `${where} "${key}"`, check.expected, describeValue(value));
  }
}

/**
 * A deep copy of plain data (arrays and plain objects, all the way down),
 * so that checking, completing or freezing a document never touches the
 * caller's; anything else (functions, typed arrays, buffers) is kept as is.
 */
export function copyPlain<T>(value: T): T {
  if (Array.isArray(value)) return value.map(copyPlain) as T;
  if (isPlainObject(value)) {
    const copy: Record<string, unknown> = {};
    // defineProperty, so that a key named "__proto__" stays an own key instead of setting the prototype.
    for (const [key, v] of Object.entries(value)) Object.defineProperty(copy, key, { value: copyPlain(v), enumerable: true, writable: true, configurable: true });
    return copy as T; // the same keys and (copied) values as the input
  }
  return value;
}

/**
 * Why `values` is not a permutation of `0..n-1` (or, with `inverse`, not
 * the inverse of that permutation), or undefined when it is.
 */
export function permutationProblem(values: ArrayLike<number>, inverse?: ArrayLike<number>): string | undefined {
  const n = values.length;
  const seen = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < 0 || v >= n) return `entry ${i} is ${v}, outside 0..${n - 1}`;
    if (seen[v]) return `${v} appears twice`;
    seen[v] = 1;
  }
  if (inverse) {
    if (inverse.length !== n) return `its inverse has ${inverse.length} entries, expected ${n}`;
    for (let i = 0; i < n; i++) if (inverse[values[i]] !== i) return `the inverse maps ${values[i]} to ${inverse[values[i]]}, expected ${i}`;
  }
  return undefined;
}
