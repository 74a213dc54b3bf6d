import { defineConfig } from 'vite';

// `npm run playground` serves playground/ (Vite's dev server); `vite build --config
// playground/vite.config.ts` (run by `npm run check:browser`) builds it into
// playground/dist as one page with relative paths, which any static host can serve.
export default defineConfig({
  root: 'playground',
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 4096 },
});
