/**
 * Asking whether numbers are finite: `checkFinite(flow.forward(x))` throws a
 * {@link NonFiniteError} naming the field (`out[1]`, `logDet`) that holds a
 * NaN or an infinity, and otherwise returns its argument unchanged. All the
 * tensors are tested on the device and read back once, as one small vector
 * of counts; the values themselves are read only to describe a failure.
 */
import * as tf from '@tensorflow/tfjs';
import { FreiaError, NonFiniteError } from '../core/errors.js';
import { canReadSync } from './readback.js';

/** The tensors of a result with their paths (`out[0]`, `logDet`), in a stable order. */
function tensorsIn(value: unknown, path: string, found: { path: string; tensor: tf.Tensor }[] = []): { path: string; tensor: tf.Tensor }[] {
  if (value instanceof tf.Tensor) found.push({ path, tensor: value });
  else if (Array.isArray(value)) value.forEach((item, i) => tensorsIn(item, `${path}[${i}]`, found));
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) tensorsIn(item, path ? `${path}.${key}` : key, found);
  }
  return found;
}

/** The float tensors of `value` (integer and boolean tensors are always finite); refuses disposed ones. */
function floatTensors(value: unknown, label: string): { path: string; tensor: tf.Tensor }[] {
  const all = tensorsIn(value, '');
  for (const { path, tensor } of all) {
    if (tensor.isDisposed) throw new FreiaError(`${label}: ${path || 'the tensor'} is disposed`);
  }
  return all.filter(({ tensor }) => tensor.dtype === 'float32');
}

/** One vector on the device: how many non-finite numbers each tensor holds. */
function nonFiniteCounts(tensors: readonly { tensor: tf.Tensor }[]): tf.Tensor1D {
  return tf.tidy(() => tf.stack(tensors.map(({ tensor }) => tf.sum(tf.cast(tf.logicalNot(tf.isFinite(tensor)), 'int32')))) as tf.Tensor1D);
}

/** The error for the first tensor with a non-finite count, its first bad element located. */
function describe(label: string, tensors: readonly { path: string; tensor: tf.Tensor }[], counts: ArrayLike<number>, values: (t: tf.Tensor) => ArrayLike<number>): NonFiniteError {
  const bad = tensors.findIndex((_, i) => counts[i] > 0);
  const { path, tensor } = tensors[bad];
  const data = values(tensor);
  let first = 0;
  while (first < data.length && Number.isFinite(data[first])) first++;
  const index = tensor.rank === 0 ? '' : ` at [${unravel(first, tensor.shape).join(', ')}]`;
  const name = path || 'the tensor';
  const others = tensors.filter((_, i) => i !== bad && counts[i] > 0).map((t) => t.path);
  return new NonFiniteError(
    `${label}${path ? `.${path}` : ''}`,
    `${label}: ${name} holds ${counts[bad]} non-finite value(s) of ${tensor.size} (first${index}: ${String(data[first])})${others.length ? `; so do ${others.join(', ')}` : ''}`,
  );
}

function unravel(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    index[axis] = flat % shape[axis];
    flat = Math.floor(flat / shape[axis]);
  }
  return index;
}

/**
 * Throws a {@link NonFiniteError} when any tensor in `value` (a tensor, an
 * array, or an object such as `{ out, logDet }`, searched recursively) holds
 * NaN or ±Infinity; returns `value` unchanged otherwise. The error names the
 * field, how many values are bad and where the first one is. Reads the
 * device synchronously: on WebGPU in Node use {@link checkFiniteAsync}.
 * It allocates nothing that outlives the call.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { inn, subnets, checkFinite } from 'freia-ts';
 * const flow = inn.input([2]).allInOne({ subnet: subnets.mlp({ hidden: 16 }) }).build();
 * const { out, logDet } = checkFinite(flow.forward(tf.randomNormal([8, 2])));
 * ```
 *
 * @group Training
 */
export function checkFinite<T>(value: T, label = 'checkFinite'): T {
  const tensors = floatTensors(value, label);
  if (tensors.length === 0) return value;
  if (!canReadSync()) throw new FreiaError(`${label}: this backend (${tf.getBackend()}) cannot read tensors synchronously; use checkFiniteAsync`);
  const counts = nonFiniteCounts(tensors);
  try {
    const read = counts.dataSync();
    if (read.some((c) => c > 0)) throw describe(label, tensors, read, (t) => t.dataSync());
  } finally {
    counts.dispose();
  }
  return value;
}

/**
 * {@link checkFinite} for every backend, WebGPU in Node included: resolves
 * to `value`, or rejects with the {@link NonFiniteError}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { inn, subnets, checkFiniteAsync } from 'freia-ts';
 * const flow = inn.input([2]).allInOne({ subnet: subnets.mlp({ hidden: 16 }) }).build();
 * const { out } = await checkFiniteAsync(flow.inverse(tf.randomNormal([8, 2])));
 * ```
 *
 * @group Training
 */
export async function checkFiniteAsync<T>(value: T, label = 'checkFinite'): Promise<T> {
  const tensors = floatTensors(value, label);
  if (tensors.length === 0) return value;
  const counts = nonFiniteCounts(tensors);
  try {
    const read = await counts.data();
    if (read.some((c) => c > 0)) {
      const bad = tensors.find((_, i) => read[i] > 0)!;
      const data = await bad.tensor.data();
      throw describe(label, tensors, read, (t) => (t === bad.tensor ? data : []));
    }
  } finally {
    counts.dispose();
  }
  return value;
}
