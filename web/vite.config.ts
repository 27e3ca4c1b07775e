// The web UI's build. Paths come from this file's location, so `vite build --config web/vite.config.ts`
// works from any working directory; the server serves web/dist at `/`.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
  publicDir: false,
  build: { outDir: fileURLToPath(new URL('./dist', import.meta.url)), emptyOutDir: true },
  // `vite --config web/vite.config.ts` during development, beside `trainguard serve` on its default port.
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
