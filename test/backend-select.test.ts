/** Which backend `ready()` picks, and the FREIA_BACKEND override (in fresh processes). */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backendOrder } from '../src/index.js';

const root = path.resolve(import.meta.dirname, '..');
const probe = `import('${path.join(root, 'dist', 'index.js')}').then(async (m) => console.log('backend=' + await m.ready())).catch((e) => { console.log('error=' + e.message); process.exit(3); })`;
const run = (env: Record<string, string>) =>
  spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8', env: { ...process.env, ...env } });

describe('backend selection', () => {
  it('tries native bindings, then WebGPU (on a GPU), wasm, cpu in Node; WebGPU, WebGL, wasm, cpu in a browser', () => {
    expect(backendOrder(false)).toEqual(['node-gpu', 'node', 'webgpu', 'wasm', 'cpu']);
    expect(backendOrder(true)).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
  });

  it('picks wasm here (tfjs-node is not installable without internet; WebGPU finds no GPU, and llvmpipe only serves when asked for)', () => {
    const result = run({ FREIA_BACKEND: '' });
    expect(result.stdout.trim()).toBe('backend=wasm');
  });

  it('FREIA_BACKEND overrides the choice', () => {
    expect(run({ FREIA_BACKEND: 'cpu' }).stdout.trim()).toBe('backend=cpu');
  });

  it('FREIA_BACKEND naming a backend that cannot start is an error, not a silent fallback', () => {
    const result = run({ FREIA_BACKEND: 'node-gpu' });
    expect(result.status).toBe(3);
    expect(result.stdout.trim()).toBe('error=FREIA_BACKEND=node-gpu: that backend could not be initialised');
  });
});
