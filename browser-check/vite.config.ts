import { defineConfig } from 'vite';

// Builds the browser smoke test into browser-check/dist as one page with relative paths.
export default defineConfig({
  root: 'browser-check',
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
});
