/**
 * `@tensorflow/tfjs-backend-wasm` is an optional peer: without it `ready()`
 * falls back to the cpu backend and says why once, `FREIA_BACKEND=wasm`
 * fails naming the missing package, and when nothing works the error lists
 * every backend with its reason. Each case runs the build in a fresh Node
 * process whose module resolution hides the wasm package (a resolve hook
 * registered with `--import`), as in a project that did not install it.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';

const root = path.resolve(import.meta.dirname, '..');
const dist = pathToFileURL(path.join(root, 'dist', 'index.js')).href;

// WebGPU's packages are hidden too, so the outcome does not depend on the machine's GPU.
const hideWasm = `export async function resolve(specifier, context, next) {
  if (['@tensorflow/tfjs-backend-wasm', 'webgpu', '@tensorflow/tfjs-backend-webgpu'].includes(specifier)) {
    const error = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}`;
const dataUrl = (code: string) => `data:text/javascript,${encodeURIComponent(code)}`;
const registerHook = dataUrl(`import { register } from 'node:module'; register(${JSON.stringify(dataUrl(hideWasm))});`);

/** Runs `before`, then prints `ready()`'s backend or its error (with its cause) as one line each. */
function runWithoutWasm(env: Record<string, string>, before = '') {
  const script = `${before}
const { ready } = await import(${JSON.stringify(dist)});
try { console.log('backend=' + await ready()); } catch (e) { console.log('error=' + e.message); console.log('cause=' + e.cause); }`;
  return spawnSync(process.execPath, ['--import', registerHook, '--input-type=module', '-e', script], {
    cwd: root, encoding: 'utf8', env: { ...process.env, ...env },
  });
}

describe('without @tensorflow/tfjs-backend-wasm', () => {
  it('ready() falls back to cpu and warns once, naming the package to install', () => {
    const result = runWithoutWasm({ FREIA_BACKEND: '' });
    expect(result.stdout.trim()).toBe('backend=cpu');
    const warnings = result.stderr.split('\n').filter((line) => line.startsWith('freia-ts:'));
    expect(warnings).toEqual([
      `freia-ts: running on the pure-JS cpu backend, which is slow: @tensorflow/tfjs-backend-wasm is not installed (npm install @tensorflow/tfjs-backend-wasm@${tf.version.tfjs})`,
    ]);
  });

  it('FREIA_BACKEND=wasm fails, and the cause names the missing package', () => {
    const result = runWithoutWasm({ FREIA_BACKEND: 'wasm' });
    expect(result.stdout.trim().split('\n')).toEqual([
      'error=FREIA_BACKEND=wasm: that backend could not be initialised',
      'cause=@tensorflow/tfjs-backend-wasm is not installed',
    ]);
  });

  it('when no backend works, the error lists each one with its reason', () => {
    const result = runWithoutWasm({ FREIA_BACKEND: '' }, `import * as tf from '@tensorflow/tfjs'; tf.removeBackend('cpu');`);
    expect(result.stdout.trim().split('\n')[0]).toBe(
      'error=no TensorFlow.js backend could be initialised (node-gpu: @tensorflow/tfjs-node-gpu is not installed; ' +
        'node: @tensorflow/tfjs-node is not installed; webgpu: webgpu is not installed; wasm: @tensorflow/tfjs-backend-wasm is not installed; cpu: no backend "cpu" is registered)',
    );
  });
});
