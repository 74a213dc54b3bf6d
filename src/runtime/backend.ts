/**
 * Picks one TensorFlow.js backend at start: `@tensorflow/tfjs-node-gpu` or
 * `@tensorflow/tfjs-node` when the user installed them (optional peers: their
 * install downloads libtensorflow), else WebAssembly (SIMD), else pure JS;
 * in a browser WebGPU (if loaded), WebGL, WebAssembly, pure JS.
 * `FREIA_BACKEND` (`node-gpu`, `node`, `wasm`, `cpu`, or any registered
 * tfjs backend name) overrides the choice.
 */
import * as tf from '@tensorflow/tfjs';
import { fillBackendGaps } from './kernels.js';
import { FreiaError } from '../core/errors.js';

const nativePackages: Record<string, string> = {
  'node-gpu': '@tensorflow/tfjs-node-gpu',
  node: '@tensorflow/tfjs-node',
};

async function tryImport(specifier: string): Promise<boolean> {
  try {
    // A variable specifier keeps TypeScript and bundlers from resolving an optional peer.
    await import(specifier);
    return true;
  } catch {
    return false;
  }
}

async function activate(name: string): Promise<boolean> {
  // A backend the page or program registered itself (a bundled wasm backend, WebGPU) needs no import.
  if (name === 'wasm' && !tf.findBackendFactory('wasm')) {
    if (!(await tryImport('@tensorflow/tfjs-backend-wasm'))) return false;
  }
  if (nativePackages[name]) {
    if (!(await tryImport(nativePackages[name]))) return false;
    name = 'tensorflow';
  }
  try {
    if (!(await tf.setBackend(name))) return false;
    await tf.ready();
    fillBackendGaps(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * The order in which backends are tried: in Node the native bindings (when
 * installed), then WebAssembly, then pure JS; in a browser WebGPU (when the
 * user loaded `@tensorflow/tfjs-backend-webgpu`), WebGL, WebAssembly, pure JS.
 */
export function backendOrder(browser: boolean): string[] {
  return browser ? ['webgpu', 'webgl', 'wasm', 'cpu'] : ['node-gpu', 'node', 'wasm', 'cpu'];
}

/** A browser page or worker: there is a `document` or a worker scope (no DOM types needed). */
function isBrowser(): boolean {
  const scope = globalThis as { document?: unknown; importScripts?: unknown; process?: { versions?: { node?: string } } };
  return !scope.process?.versions?.node && (scope.document !== undefined || typeof scope.importScripts === 'function');
}

let selected: Promise<string> | undefined;

/**
 * Initialises the backend once and resolves to its tfjs name. Call (and
 * await) before the first tensor operation; later calls return the same choice.
 *
 * @example
 * ```ts
 * import { ready } from 'freia-ts';
 * const backend = await ready(); // 'tensorflow', 'wasm' or 'cpu'
 * ```
 */
export function ready(): Promise<string> {
  selected ??= (async () => {
    const forced = globalThis.process?.env?.FREIA_BACKEND;
    if (forced) {
      if (await activate(forced)) return tf.getBackend();
      throw new FreiaError(`FREIA_BACKEND=${forced}: that backend could not be initialised`);
    }
    for (const name of backendOrder(isBrowser())) {
      if (await activate(name)) return tf.getBackend();
    }
    throw new FreiaError('no TensorFlow.js backend could be initialised');
  })();
  return selected;
}

/** Switches to another backend (for tests comparing backends); fills its gaps too. */
export async function useBackend(name: string): Promise<void> {
  if (!(await activate(name))) throw new FreiaError(`backend ${name} could not be initialised`);
  selected = Promise.resolve(tf.getBackend());
}
