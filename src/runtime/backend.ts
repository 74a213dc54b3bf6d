/**
 * Picks one TensorFlow.js backend at start: `@tensorflow/tfjs-node-gpu` or
 * `@tensorflow/tfjs-node` when the user installed them (optional peers: their
 * install downloads libtensorflow), else WebGPU on a hardware GPU when
 * `webgpu` and `@tensorflow/tfjs-backend-webgpu` are installed (Dawn, see
 * webgpu.ts), else WebAssembly (SIMD, the optional peer
 * `@tensorflow/tfjs-backend-wasm`), else pure JS; in a browser WebGPU (if
 * loaded), WebGL, WebAssembly, pure JS.
 * `FREIA_BACKEND` (`node-gpu`, `node`, `webgpu`, `wasm`, `cpu`, or any
 * registered tfjs backend name) overrides the choice.
 */
import * as tf from '@tensorflow/tfjs';
import { fillBackendGaps } from './kernels.js';
import { fillWebGpuGaps } from './kernels-webgpu.js';
import { FreiaError } from '../core/errors.js';
import { importOptional, nodeProcess } from './host.js';
import { formatAdapter, registerNodeWebGpu, registeredWebGpuAdapter, type GpuAdapterReport } from './webgpu.js';

const nativePackages: Record<string, string> = {
  'node-gpu': '@tensorflow/tfjs-node-gpu',
  node: '@tensorflow/tfjs-node',
};
const wasmPackage = '@tensorflow/tfjs-backend-wasm';

/** Why a backend could not be used: a reason per backend tried, for the messages. */
type Attempt = { ok: true } | { ok: false; reason: string };

/**
 * Runs `init` and removes the `uncaughtException` and `unhandledRejection`
 * handlers that were added while it ran. The wasm backend's emscripten
 * runtime adds two in Node that re-throw every error from inside its own
 * code: Node then prints emscripten's (minified, up to 36 KB) source line
 * before the user's error and exits with code 7 instead of 1. Without them
 * Node reports uncaught errors itself. tfjs's own clean-up (`_dispose`) cannot
 * be used: it runs only when the backend is disposed and its filter is
 * inverted (it removes every handler, the program's too). Handlers the
 * program added before stay; one it adds while the backend initialises
 * (between calling and awaiting `ready()`) would be removed as well.
 */
async function withoutAddedProcessHandlers<T>(init: () => Promise<T>): Promise<T> {
  const proc = nodeProcess();
  const events = ['uncaughtException', 'unhandledRejection'] as const;
  if (typeof proc?.listeners !== 'function' || typeof proc.removeListener !== 'function') return init();
  const before = new Map(events.map((event) => [event, new Set(proc.listeners?.(event))]));
  try {
    return await init();
  } finally {
    for (const event of events) {
      for (const listener of proc.listeners(event)) {
        if (!before.get(event)?.has(listener)) proc.removeListener(event, listener);
      }
    }
  }
}

/**
 * Imports a backend's package when needed, switches to it, and fills its
 * gaps. `explicit`: the backend was asked for by name (FREIA_BACKEND,
 * useBackend), which lets WebGPU in Node run on a software adapter.
 */
async function activate(name: string, explicit: boolean): Promise<Attempt> {
  let tfName = name;
  let source: string | undefined;
  // A backend the page or program registered itself (a bundled wasm backend, WebGPU) needs no import.
  if (name === 'wasm' && !tf.findBackendFactory('wasm')) source = wasmPackage;
  if (nativePackages[name]) {
    source = nativePackages[name];
    tfName = 'tensorflow';
  }
  if (source) {
    const imported = await importOptional(source);
    if (!imported.ok) return imported;
  }
  // WebGPU in Node: set up on Dawn unless the program registered a WebGPU backend itself.
  if (name === 'webgpu' && !tf.findBackendFactory('webgpu') && !isBrowser() && nodeProcess()?.versions?.node) {
    const setUp = await registerNodeWebGpu(explicit);
    if (!setUp.ok) return setUp;
  }
  if (!tf.findBackendFactory(tfName)) return { ok: false, reason: `no backend "${tfName}" is registered` };
  try {
    const init = async (): Promise<boolean> => {
      if (!(await tf.setBackend(tfName))) return false;
      await tf.ready();
      return true;
    };
    // Only the wasm backend's runtime adds process handlers; see withoutAddedProcessHandlers.
    if (!(await (tfName === 'wasm' ? withoutAddedProcessHandlers(init) : init()))) return { ok: false, reason: `${tfName} failed to initialise` };
    await fillBackendGaps(tfName);
    if (tfName === 'webgpu') fillWebGpuGaps();
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: `${tfName} failed to initialise: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/**
 * The order in which backends are tried: in Node the native bindings (when
 * installed), then WebGPU (when installed, and only on a hardware GPU), then
 * WebAssembly, then pure JS; in a browser WebGPU (when the user loaded
 * `@tensorflow/tfjs-backend-webgpu`), WebGL, WebAssembly, pure JS.
 *
 * @example
 * ```ts
 * import { backendOrder } from 'freia-ts';
 * backendOrder(false); // ['node-gpu', 'node', 'webgpu', 'wasm', 'cpu']
 * ```
 *
 * @group Backends
 */
export function backendOrder(browser: boolean): string[] {
  return browser ? ['webgpu', 'webgl', 'wasm', 'cpu'] : ['node-gpu', 'node', 'webgpu', 'wasm', 'cpu'];
}

/** A browser page or worker: there is a `document` or a worker scope (no DOM types needed). */
function isBrowser(): boolean {
  // Cast: neither property exists in Node's or ES2022's global types.
  const scope = globalThis as { document?: unknown; importScripts?: unknown };
  return !nodeProcess()?.versions?.node && (scope.document !== undefined || typeof scope.importScripts === 'function');
}

let selected: Promise<string> | undefined;

/**
 * Initialises the backend once and resolves to its tfjs name. Call (and
 * await) before the first tensor operation; later calls return the same choice.
 * Falling back to the slow pure-JS backend prints one warning saying why
 * WebAssembly was not used; when nothing works, the error lists every reason.
 *
 * @example
 * ```ts
 * import { ready } from 'freia-ts';
 * const backend = await ready(); // 'tensorflow', 'wasm' or 'cpu'
 * ```
 *
 * @group Backends
 */
export function ready(): Promise<string> {
  selected ??= (async () => {
    const forced = nodeProcess()?.env?.FREIA_BACKEND;
    if (forced) {
      const attempt = await activate(forced, true);
      if (attempt.ok) return tf.getBackend();
      throw new FreiaError(`FREIA_BACKEND=${forced}: that backend could not be initialised`, { cause: attempt.reason });
    }
    const reasons = new Map<string, string>();
    for (const name of backendOrder(isBrowser())) {
      const attempt = await activate(name, false);
      if (attempt.ok) {
        const wasm = reasons.get('wasm');
        if (name === 'cpu' && wasm) {
          const hint = isBrowser() ? '' : ` (npm install ${wasmPackage}@${tf.version.tfjs})`;
          console.warn(`freia-ts: running on the pure-JS cpu backend, which is slow: ${wasm}${hint}`);
        }
        return tf.getBackend();
      }
      reasons.set(name, attempt.reason);
    }
    const list = [...reasons].map(([name, reason]) => `${name}: ${reason}`).join('; ');
    throw new FreiaError(`no TensorFlow.js backend could be initialised (${list})`);
  })();
  return selected;
}

/**
 * Switches to another backend (for tests and benchmarks comparing backends);
 * fills its gaps too. A backend named here counts as asked for by name:
 * `useBackend('webgpu')` in Node may run on a software adapter when there is
 * no GPU (see {@link backendInfo}).
 *
 * @example
 * ```ts
 * import { useBackend, backendInfo } from 'freia-ts';
 * await useBackend('webgpu');
 * console.log(backendInfo().description); // 'webgpu on NVIDIA ... (Vulkan)'
 * ```
 *
 * @group Backends
 */
export async function useBackend(name: string): Promise<void> {
  const attempt = await activate(name, true);
  if (!attempt.ok) throw new FreiaError(`backend ${name} could not be initialised: ${attempt.reason}`);
  selected = Promise.resolve(tf.getBackend());
}

/**
 * What runs now: the tfjs backend's name and, for WebGPU, the adapter underneath.
 *
 * @group Backends
 */
export interface BackendInfo {
  /** The tfjs backend's name: `'tensorflow'`, `'webgpu'`, `'webgl'`, `'wasm'` or `'cpu'`. */
  readonly name: string;
  /** The GPU adapter, on WebGPU (as far as it is known: a browser tells vendor and architecture only). */
  readonly adapter?: GpuAdapterReport;
  /** One line for people: `'wasm'`, or `'webgpu on <adapter>'`, saying when the adapter is a software rasteriser. */
  readonly description: string;
}

/**
 * The backend in use and, on WebGPU, its adapter: what `ready()` chose, for
 * logs and benchmarks. `ready()` itself still resolves to the backend's name.
 *
 * @example
 * ```ts
 * import { ready, backendInfo } from 'freia-ts';
 * await ready();
 * const info = backendInfo();
 * console.log(info.description);       // 'wasm', or 'webgpu on llvmpipe-... (OpenGL ...), a software rasteriser, not a GPU, through OpenGL'
 * if (info.adapter?.software) console.warn('WebGPU without a GPU: slow');
 * ```
 *
 * @group Backends
 */
export function backendInfo(): BackendInfo {
  const name = tf.getBackend();
  const adapter = name === 'webgpu' ? registeredWebGpuAdapter() : undefined;
  if (!adapter) return { name, description: name };
  return { name, adapter, description: `${name} on ${formatAdapter(adapter)}` };
}
