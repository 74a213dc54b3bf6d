/**
 * Our errors reach the user first and alone. The wasm backend's emscripten
 * runtime adds `process` handlers for `uncaughtException` and
 * `unhandledRejection` that re-throw from inside its own (minified) code, so
 * Node printed emscripten's source line before our message and exited with
 * code 7. `ready()` removes them again; these tests run the published build
 * (`dist/index.js`) in a fresh Node process, as a user's program would.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const dist = pathToFileURL(path.join(root, 'dist', 'index.js')).href;

/** Runs an ES module: `before`, then `await ready()` on wasm (exits 5 if another backend was chosen), then `body`. */
function runAfterReady(body: string, before = '') {
  const script = [
    `import * as tf from '@tensorflow/tfjs';`,
    `import { inn, ready } from ${JSON.stringify(dist)};`,
    before,
    `const backend = await ready();`,
    `if (backend !== 'wasm') { console.log('backend=' + backend); process.exit(5); }`,
    body,
  ].join('\n');
  // cwd is the repository, so `@tensorflow/tfjs` resolves as in a user's project.
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root, encoding: 'utf8', env: { ...process.env, FREIA_BACKEND: 'wasm' },
  });
}

/** Node's own report of an uncaught error: exit code 1, our message as the error line, nothing of emscripten. */
function expectNodesOwnReport(result: ReturnType<typeof runAfterReady>, message: string): void {
  expect(result.stdout).toBe('');
  expect(result.status).toBe(1);
  const errorLine = result.stderr.split('\n').find((line) => /^\w*Error\b/.test(line));
  expect(errorLine).toBe(`ShapeMismatchError: ${message}`);
  expect(result.stderr.length).toBeLessThan(2048);
  // The source line Node prints above the error is ours, not the re-throw inside emscripten's runtime.
  expect(result.stderr).not.toMatch(/tfjs-backend-wasm|ExitStatus|throw ex|throw reason/);
}

describe('uncaught errors after ready() on the wasm backend', () => {
  it('an uncaught ShapeMismatchError is reported by Node alone (exit code 1)', () => {
    const result = runAfterReady(`inn.input([4]).split([1, 2]);`);
    expectNodesOwnReport(result, 'split: expected sections summing to 4 (dim 0 of [4]), got [1,2]');
  });

  it('an unhandled rejection is reported by Node alone (exit code 1)', () => {
    const result = runAfterReady([
      `const flow = inn.input([2]).actNorm().build();`,
      `Promise.resolve().then(() => flow.forward(tf.zeros([3, 5])));`,
    ].join('\n'));
    expectNodesOwnReport(result, 'input "input_0": expected [batch, 2], got [3, 5]');
  });

  it('handlers the program added before ready() stay', () => {
    const result = runAfterReady(
      `setTimeout(() => inn.input([4]).split([1, 2]));`,
      `process.on('uncaughtException', (e) => { console.log('mine: ' + e.message); process.exit(0); });`,
    );
    expect(result.stdout.trim()).toBe('mine: split: expected sections summing to 4 (dim 0 of [4]), got [1,2]');
    expect(result.status).toBe(0);
  });
});
