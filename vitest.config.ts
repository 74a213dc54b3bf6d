import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The WebGPU lane has its own run (vitest.webgpu.config.ts, FREIA_BACKEND=webgpu).
    exclude: [...configDefaults.exclude, 'test/webgpu/**'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
