/**
 * Reading tensors back to JavaScript. Every tfjs backend can read a tensor
 * synchronously (`dataSync`), except WebGPU outside a browser: tfjs reads a
 * GPU buffer synchronously through an `OffscreenCanvas`, which Node lacks.
 * Library code that needs a value on the host either avoids the read (keeps
 * the decision on the device) or reads only where {@link canReadSync} says
 * it may, and offers an async form.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Whether tensors of the current backend can be read synchronously
 * (`dataSync`, `arraySync`): true on cpu, wasm, WebGL, tfjs-node and WebGPU
 * in a browser; false on WebGPU in Node, where only `await t.data()` works.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { canReadSync } from 'freia-ts';
 * const t = tf.ones([3]);
 * const values = canReadSync() ? t.dataSync() : await t.data();
 * ```
 *
 * @group Backends
 */
export function canReadSync(): boolean {
  // Cast: `OffscreenCanvas` is a DOM global, absent from ES2022's types and from Node.
  return tf.getBackend() !== 'webgpu' || typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas === 'function';
}
