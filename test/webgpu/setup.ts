/**
 * The WebGPU lane (`npm test` runs it as a second vitest run with
 * FREIA_BACKEND=webgpu): every file starts on WebGPU, or fails saying why
 * WebGPU could not be had. It never falls back silently.
 */
import { backendInfo, ready } from '../../src/index.js';

let name: string;
try {
  name = await ready();
} catch (error) {
  // ready() puts the reason in the error's cause, which vitest does not print for a setup file.
  const cause = error instanceof Error && error.cause !== undefined ? `: ${String(error.cause)}` : '';
  throw new Error(`the WebGPU lane cannot run, WebGPU could not be had: ${error instanceof Error ? error.message : String(error)}${cause}`);
}
if (name !== 'webgpu') throw new Error(`the WebGPU lane runs on WebGPU, but ready() chose ${name}: run it with FREIA_BACKEND=webgpu (npm test does)`);
if (!backendInfo().adapter) throw new Error('the WebGPU lane: ready() chose webgpu but reports no adapter');
