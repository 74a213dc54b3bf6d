/**
 * The WebGPU lane: `npm test` runs it after the main run, with
 * FREIA_BACKEND=webgpu (on a machine without a GPU, Dawn on Mesa's llvmpipe).
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/webgpu/**/*.test.ts'],
    setupFiles: ['test/webgpu/setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
