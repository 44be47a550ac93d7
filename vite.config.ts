import { resolve } from 'node:path';
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

// The web client is built into dist/web and served by tile-server at `/`. In development `vite`
// serves web/ on :5173 and forwards every API path to a tile-server on :8080 (`npm run serve`).
const repo = import.meta.dirname;
const API = 'http://127.0.0.1:8080';
const proxied = ['/tiles', '/pmtiles', '/data', '/ogc', '/healthz', '/api'];

export default defineConfig({
  root: resolve(repo, 'web'),
  base: '/',
  plugins: [vue()],
  // Everything ships from our own origin: no CDN, no web fonts (COMMON.md: never contact another host).
  publicDir: false,
  server: {
    host: '127.0.0.1',
    port: 5173,
    strictPort: true,
    proxy: Object.fromEntries(proxied.map((path) => [path, { target: API, changeOrigin: false, ws: path === '/api' }])),
  },
  build: {
    outDir: resolve(repo, 'dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    // deck.gl + luma.gl alone are ~1 MB minified; they get their own long-cached chunk, so the
    // limit below is about the app code growing unnoticed rather than about the engine.
    chunkSizeWarningLimit: 1600,
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            { name: 'deckgl', test: /node_modules[\\/](@deck\.gl|@luma\.gl|@loaders\.gl|@math\.gl|@probe\.gl|earcut|mjolnir\.js)/ },
            { name: 'vue', test: /node_modules[\\/](vue|@vue|pinia)[\\/]/ },
          ],
        },
      },
    },
  },
});
