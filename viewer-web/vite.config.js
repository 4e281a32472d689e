// Builds the viewer into dist/, which `twin serve` serves at `/`. `npm run dev` proxies the
// protocol and the twin assets to a `twin serve` on port 8765 (TWIN_SERVER to change it).
import { defineConfig } from 'vite';

const server = process.env.TWIN_SERVER || 'http://127.0.0.1:8765';

export default defineConfig({
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1500, sourcemap: false },
  server: {
    proxy: {
      '/twins': server,
      '/ws': { target: server.replace(/^http/, 'ws'), ws: true },
    },
  },
});
