/**
 * Picks one TensorFlow.js backend at start: `@tensorflow/tfjs-node-gpu` or
 * `@tensorflow/tfjs-node` when the user installed them (optional peers: their
 * install downloads libtensorflow), else WebAssembly (SIMD, the optional peer
 * `@tensorflow/tfjs-backend-wasm`), else pure JS; in a browser WebGPU (if
 * loaded), WebGL, WebAssembly, pure JS.
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
const wasmPackage = '@tensorflow/tfjs-backend-wasm';

/** Why a backend could not be used: a reason per backend tried, for the messages. */
type Attempt = { ok: true } | { ok: false; reason: string };

/** Imports an optional peer; the reason says whether it is missing or failed to load. */
async function tryImport(specifier: string): Promise<Attempt> {
  try {
    // A variable specifier keeps TypeScript and bundlers from resolving an optional peer.
    await import(specifier);
    return { ok: true };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // Cast: Node's resolution errors carry a `code`; anything else thrown has none.
    const code = (error as { code?: unknown } | null)?.code;
    // The package itself is missing (not one of its own dependencies).
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(`'${specifier}'`)) {
      return { ok: false, reason: `${specifier} is not installed` };
    }
    return { ok: false, reason: `${specifier} failed to load: ${message}` };
  }
}

type ProcessEvent = 'uncaughtException' | 'unhandledRejection';
type Listener = (...args: unknown[]) => unknown;
/** The part of Node's `process` used here, typed by hand: the library also runs in browsers, without Node's types. */
interface ProcessLike {
  env?: Record<string, string | undefined>;
  versions?: { node?: string };
  listeners?(event: ProcessEvent): Listener[];
  removeListener?(event: ProcessEvent, listener: Listener): unknown;
}

/** Node's `process` when there is one (reached through `globalThis`, so a browser bundle needs no shim). */
function nodeProcess(): ProcessLike | undefined {
  // Cast: `globalThis` carries no `process` in a browser; in Node it is a superset of ProcessLike.
  return (globalThis as { process?: ProcessLike }).process;
}

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
  const events: ProcessEvent[] = ['uncaughtException', 'unhandledRejection'];
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

/** Imports a backend's package when needed, switches to it, and fills its gaps. */
async function activate(name: string): Promise<Attempt> {
  let tfName = name;
  let source: string | undefined;
  // A backend the page or program registered itself (a bundled wasm backend, WebGPU) needs no import.
  if (name === 'wasm' && !tf.findBackendFactory('wasm')) source = wasmPackage;
  if (nativePackages[name]) {
    source = nativePackages[name];
    tfName = 'tensorflow';
  }
  if (source) {
    const imported = await tryImport(source);
    if (!imported.ok) return imported;
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
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: `${tfName} failed to initialise: ${error instanceof Error ? error.message : String(error)}` };
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
 */
export function ready(): Promise<string> {
  selected ??= (async () => {
    const forced = nodeProcess()?.env?.FREIA_BACKEND;
    if (forced) {
      const attempt = await activate(forced);
      if (attempt.ok) return tf.getBackend();
      throw new FreiaError(`FREIA_BACKEND=${forced}: that backend could not be initialised`, { cause: attempt.reason });
    }
    const reasons = new Map<string, string>();
    for (const name of backendOrder(isBrowser())) {
      const attempt = await activate(name);
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

/** Switches to another backend (for tests comparing backends); fills its gaps too. */
export async function useBackend(name: string): Promise<void> {
  const attempt = await activate(name);
  if (!attempt.ok) throw new FreiaError(`backend ${name} could not be initialised: ${attempt.reason}`);
  selected = Promise.resolve(tf.getBackend());
}
