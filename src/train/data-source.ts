/**
 * Where `train.fit` gets its batches: a function of the step, rows held in
 * memory (tensors or arrays, batched and shuffled here), or a stream of
 * ready batches (an array or iterable of batches, an async iterable, a
 * `tf.data` dataset). Every form becomes a {@link BatchSource} that hands out
 * one epoch at a time.
 *
 * Ownership: a fit disposes the tensors that came into being while it asked
 * for a batch (what `data(step)` made, a dataset's batches, the slices cut
 * here), and never a tensor that existed before (a full batch the user holds).
 */
import * as tf from '@tensorflow/tfjs';
import { FreiaError, OptionError, describeValue } from '../core/errors.js';
import { randomPermutation, type Rng } from '../math/rng.js';

/**
 * One batch: the inputs and, for conditional flows, the conditions.
 *
 * @group Training
 */
export interface Batch {
  /** The flow's input(s), `[batch, ...shape]` each. */
  readonly x: tf.Tensor | readonly tf.Tensor[];
  /** The flow's condition(s), for conditional flows. */
  readonly c?: tf.Tensor | readonly tf.Tensor[];
  /** The base's condition, for a conditional base (a one-hot class for `dist.classConditionalNormal`). */
  readonly cBase?: tf.Tensor;
}

/** Numbers nested to any depth, one sample per entry of the outer array: `[[0.1, 2], [0.3, 4]]`. */
export type NestedNumbers = readonly (number | NestedNumbers)[];

/** Samples on the first axis: a tensor, nested arrays, or (for a flow with several inputs) one of those per input. */
export type Rows = tf.Tensor | NestedNumbers;

/** A data set held in memory, batched and shuffled by the fit: `{ x, c?, cBase? }` with one row per sample. */
export interface InMemoryData {
  readonly x: Rows | readonly tf.Tensor[];
  readonly c?: Rows | readonly tf.Tensor[];
  readonly cBase?: Rows;
}

/** A `tf.data.Dataset` as the fit reads it: ready batches from `iterator()`. */
export interface DatasetLike<T> {
  iterator(): Promise<{ next(): Promise<IteratorResult<T>> }>;
}

/** A batch as a stream yields it: `{ x, c?, cBase? }`, or the inputs alone. */
export type BatchLike = Batch | tf.Tensor;

/**
 * What `train.fit` trains on:
 * - `(step) => ({ x, c? })`: a batch per step (give `steps`);
 * - rows in memory: a tensor, nested arrays, or `{ x, c?, cBase? }` of them,
 *   cut into batches of `batchSize` and shuffled every epoch;
 * - ready batches: an array or iterable of batches, an async iterable, or a
 *   `tf.data` dataset (`tf.data.array(...).shuffle(n).batch(b)`); one pass is
 *   one epoch. Async forms need `train.fitAsync`.
 */
export type FitData =
  | ((step: number) => Batch)
  | Rows
  | InMemoryData
  | Iterable<BatchLike>
  | AsyncIterable<BatchLike>
  | DatasetLike<tf.TensorContainer>;

/** What `train.fit` validates on: the same forms as {@link FitData}, without the function. */
export type ValidationData = Exclude<FitData, (step: number) => Batch>;

/** A batch handed out, with the tensors the fit must dispose after its step. */
export interface Fetched {
  readonly batch: Batch;
  readonly owned: tf.Tensor[];
}

/** One pass over the data. */
export interface EpochReader {
  /** The next batch, or undefined at the end of the epoch (sources read synchronously). */
  nextSync(): Fetched | undefined;
  next(): Promise<Fetched | undefined>;
}

/** The data, prepared: epochs on demand, and what the fit must free at the end. */
export interface BatchSource {
  /** `'step'`: a function of the step, never ending; `'sync'` and `'async'`: epochs of batches. */
  readonly kind: 'step' | 'sync' | 'async';
  /** Batches per epoch, where known before reading (rows in memory). */
  readonly batchesPerEpoch?: number;
  epoch(firstStep: number): EpochReader;
  dispose(): void;
}

const isTensor = (value: unknown): value is tf.Tensor => value instanceof tf.Tensor;
const isTensorList = (value: unknown): value is readonly tf.Tensor[] => Array.isArray(value) && value.length > 0 && value.every(isTensor);
const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object';
const isNumberRows = (value: unknown): value is NestedNumbers => Array.isArray(value) && value.length > 0 && (typeof value[0] === 'number' || Array.isArray(value[0]));
const isDataset = (value: unknown): value is DatasetLike<unknown> => isObject(value) && typeof value.iterator === 'function' && !(Symbol.iterator in value);
const isInMemory = (value: unknown): value is InMemoryData => isObject(value) && !isTensor(value) && 'x' in value && (isTensor(value.x) || isTensorList(value.x) || isNumberRows(value.x));

/** Ids below this existed before it was taken: `tf.Tensor.id` grows with every tensor made. */
const tensorIdMark = (): number => {
  const marker = tf.scalar(0);
  marker.dispose();
  return marker.id;
};

/** The tensors of a batch made after `mark` (the fit's to dispose). */
function madeSince(batch: unknown, mark: number): tf.Tensor[] {
  const found: tf.Tensor[] = [];
  const visit = (value: unknown) => {
    if (isTensor(value)) {
      if (value.id > mark && !found.includes(value)) found.push(value);
    } else if (Array.isArray(value)) value.forEach(visit);
  };
  if (isTensor(batch)) visit(batch);
  else if (isObject(batch)) [batch.x, batch.c, batch.cBase].forEach(visit);
  return found;
}

/** A stream's element as a batch (a bare tensor is the inputs). */
const asBatch = (element: unknown): Batch => (isTensor(element) ? { x: element } : (element as Batch)); // cast: checked by the fit's batch check

/** Options that shape in-memory batching. */
export interface BatchingOptions {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly rng: Rng;
}

/** Turns rows into a tensor the source owns (nested arrays) or borrows (the user's tensor), with its sample count. */
function rowsTensor(owner: string, field: string, rows: unknown, made: tf.Tensor[]): tf.Tensor {
  if (isTensor(rows)) {
    if (rows.isDisposed) throw new OptionError(owner, field, 'a live tensor', 'a disposed tensor');
    if (rows.rank < 1) throw new OptionError(owner, field, 'samples on the first axis (rank ≥ 1)', 'a scalar');
    return rows;
  }
  if (!isNumberRows(rows)) throw new OptionError(owner, field, 'a tensor or nested arrays of numbers with one entry per sample', describeValue(rows));
  let tensor: tf.Tensor;
  try {
    tensor = tf.tensor(rows as number[]); // cast: nested number arrays of any depth; tf.tensor infers the shape and refuses ragged ones
  } catch (error) {
    throw new OptionError(owner, field, 'nested arrays of numbers, every sample the same shape', `arrays tf.tensor cannot read (${(error as Error).message})`);
  }
  made.push(tensor);
  return tensor;
}

/** Rows in memory, cut into batches; shuffled with `rng` at the start of every epoch. */
function inMemorySource(owner: string, field: string, data: InMemoryData | Rows, batching: BatchingOptions): BatchSource {
  const made: tf.Tensor[] = [];
  try {
    const whole: InMemoryData = isInMemory(data) ? data : { x: data as Rows };
    const part = (value: unknown, name: string): tf.Tensor[] | undefined => {
      if (value === undefined) return undefined;
      if (isTensorList(value)) return value.map((t, k) => rowsTensor(owner, `${field}.${name}[${k}]`, t, made));
      return [rowsTensor(owner, `${field}.${name}`, value, made)];
    };
    const x = part(whole.x, 'x') ?? [];
    const c = part(whole.c, 'c');
    const cBase = part(whole.cBase, 'cBase');
    const count = x[0].shape[0];
    for (const [name, tensors] of [['x', x], ['c', c], ['cBase', cBase]] as const) {
      for (const t of tensors ?? []) {
        if (t.shape[0] !== count) throw new OptionError(owner, `${field}.${name}`, `${count} samples on the first axis, as ${field}.x has`, `${t.shape[0]} (shape [${t.shape.join(', ')}])`);
      }
    }
    if (count === 0) throw new OptionError(owner, field, 'at least one sample', 'no samples (first axis 0)');
    const batchSize = Math.min(batching.batchSize, count);
    const batchesPerEpoch = Math.ceil(count / batchSize);
    const single = (tensors: tf.Tensor[] | undefined, pick: (t: tf.Tensor) => tf.Tensor) => (tensors === undefined ? undefined : tensors.length === 1 && !isTensorList(whole.x) ? pick(tensors[0]) : tensors.map(pick));
    return {
      kind: 'sync',
      batchesPerEpoch,
      epoch() {
        const order = batching.shuffle ? randomPermutation(count, batching.rng) : undefined;
        let next = 0;
        const cut = (): Fetched | undefined => {
          if (next >= batchesPerEpoch) return undefined;
          const start = next * batchSize;
          const size = Math.min(batchSize, count - start);
          next++;
          const owned: tf.Tensor[] = [];
          const pick = (t: tf.Tensor) => {
            const slice = order ? tf.tidy(() => tf.gather(t, tf.tensor1d(order.slice(start, start + size), 'int32'))) : tf.slice(t, start, size);
            owned.push(slice);
            return slice;
          };
          const batch: Batch = { x: single(x, pick) ?? [], c: single(c, pick), cBase: cBase?.map(pick)[0] };
          return { batch, owned };
        };
        return { nextSync: cut, next: async () => cut() };
      },
      dispose: () => tf.dispose(made),
    };
  } catch (error) {
    tf.dispose(made);
    throw error;
  }
}

/** Ready batches from an iterable, an async iterable or a dataset: one pass per epoch. */
function streamSource(owner: string, field: string, data: Iterable<unknown> | AsyncIterable<unknown> | DatasetLike<unknown>): BatchSource {
  const fetched = (element: unknown, mark: number): Fetched => ({ batch: asBatch(element), owned: madeSince(element, mark) });
  if (isDataset(data)) {
    return {
      kind: 'async',
      epoch() {
        let iterator: { next(): Promise<IteratorResult<unknown>> } | undefined;
        return {
          nextSync: () => { throw new FreiaError(`${owner}: option "${field}": a tf.data dataset is read asynchronously: use train.fitAsync`); },
          next: async () => {
            const mark = tensorIdMark();
            iterator ??= await data.iterator();
            const result = await iterator.next();
            return result.done ? undefined : fetched(result.value, mark);
          },
        };
      },
      dispose: () => undefined,
    };
  }
  if (Symbol.asyncIterator in data) {
    const iterable = data as AsyncIterable<unknown>; // cast: the `in` check above
    return {
      kind: 'async',
      epoch() {
        const iterator = iterable[Symbol.asyncIterator]();
        return {
          nextSync: () => { throw new FreiaError(`${owner}: option "${field}": an async iterable is read asynchronously: use train.fitAsync`); },
          next: async () => {
            const mark = tensorIdMark();
            const result = await iterator.next();
            return result.done ? undefined : fetched(result.value, mark);
          },
        };
      },
      dispose: () => undefined,
    };
  }
  const iterable = data as Iterable<unknown>; // cast: the caller checked Symbol.iterator
  return {
    kind: 'sync',
    epoch() {
      const iterator = iterable[Symbol.iterator]();
      const nextSync = () => {
        const mark = tensorIdMark();
        const result = iterator.next();
        return result.done ? undefined : fetched(result.value, mark);
      };
      return { nextSync, next: async () => nextSync() };
    },
    dispose: () => undefined,
  };
}

/** A function of the step: every call's new tensors are the fit's. */
function stepSource(data: (step: number) => Batch): BatchSource {
  return {
    kind: 'step',
    epoch(firstStep: number) {
      let step = firstStep;
      const nextSync = () => {
        const mark = tensorIdMark();
        const batch = data(step++);
        return { batch, owned: madeSince(batch, mark) };
      };
      return { nextSync, next: async () => nextSync() };
    },
    dispose: () => undefined,
  };
}

/** Which form `data` has, for the option checks (nothing is allocated): a function, rows in memory, or batches read synchronously or asynchronously. */
export function dataForm(data: unknown): 'step' | 'rows' | 'stream' | 'async-stream' | undefined {
  if (typeof data === 'function') return 'step';
  if (isTensor(data) || isNumberRows(data) || isInMemory(data)) return 'rows';
  if (isDataset(data) || (isObject(data) && Symbol.asyncIterator in data)) return 'async-stream';
  if (isObject(data) && Symbol.iterator in data) return 'stream';
  return undefined;
}

/** Prepares `data` (of a form {@link dataForm} recognised); rows given as arrays become tensors the source frees. */
export function batchSource(owner: string, field: string, data: FitData, batching: BatchingOptions): BatchSource {
  const form = dataForm(data);
  if (form === 'step') return stepSource(data as (step: number) => Batch); // cast: dataForm checked it is a function
  if (form === 'rows') return inMemorySource(owner, field, data as InMemoryData | Rows, batching); // cast: dataForm checked the form
  return streamSource(owner, field, data as Iterable<unknown> | AsyncIterable<unknown> | DatasetLike<unknown>); // cast: dataForm checked the form
}
