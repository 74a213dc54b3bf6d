/** Which backend `ready()` picks, and the FREIA_BACKEND override (in fresh processes). */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backendOrder } from '../src/index.js';

const root = path.resolve(import.meta.dirname, '..');
const probe = `import('${path.join(root, 'dist', 'index.js')}').then(async (m) => console.log('backend=' + await m.ready())).catch((e) => { console.log('error=' + e.message); process.exit(3); })`;
// Whether this machine has a hardware WebGPU adapter (a GPU with its driver): asked for by name, ready() also takes a software one.
const adapterProbe = `import('${path.join(root, 'dist', 'index.js')}').then(async (m) => { await m.ready(); const a = m.backendInfo().adapter; console.log(a === undefined ? 'adapter=none' : a.software ? 'adapter=software' : 'adapter=hardware'); }).catch(() => console.log('adapter=none'))`;
const run = (env: Record<string, string>) =>
  spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8', env: { ...process.env, ...env } });

describe('backend selection', () => {
  it('tries native bindings, then WebGPU (on a GPU), wasm, cpu in Node; WebGPU, WebGL, wasm, cpu in a browser', () => {
    expect(backendOrder(false)).toEqual(['node-gpu', 'node', 'webgpu', 'wasm', 'cpu']);
    expect(backendOrder(true)).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
  });

  it('picks WebGPU only on a hardware adapter, else wasm here (tfjs-node is not installable without internet; llvmpipe only serves when asked for)', () => {
    const result = run({ FREIA_BACKEND: '' });
    const gpu = spawnSync(process.execPath, ['-e', adapterProbe], { encoding: 'utf8', env: { ...process.env, FREIA_BACKEND: 'webgpu' } });
    const hardware = gpu.stdout.trim() === 'adapter=hardware';
    expect(result.stdout.trim()).toBe(hardware ? 'backend=webgpu' : 'backend=wasm');
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
