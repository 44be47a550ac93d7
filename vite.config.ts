import { cpSync, createReadStream, existsSync, statSync } from 'node:fs';
import { extname, resolve, sep } from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import vue from '@vitejs/plugin-vue';

// The web client is built into dist/web and served by tile-server at `/`. In development `vite`
// serves web/ on :5173 and forwards every API path to a tile-server on :8080 (`npm run serve`).
const repo = import.meta.dirname;
const API = 'http://127.0.0.1:8080';
const proxied = ['/tiles', '/pmtiles', '/data', '/ogc', '/healthz', '/api'];

// Cesium's runtime files (web workers, textures, the IAU tables, third-party wasm, widget images) are
// loaded by URL at run time, from CESIUM_BASE_URL; we set it to our own /cesium/ (cesium-engine.ts), so
// they ship with the app instead of coming from a CDN or Cesium ion.
const CESIUM_BUILD = resolve(repo, 'node_modules/cesium/Build/Cesium');
const CESIUM_DIRS = ['Workers', 'Assets', 'ThirdParty', 'Widgets'];
const CESIUM_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8', '.json': 'application/json; charset=utf-8', '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8', '.png': 'image/png', '.jpg': 'image/jpeg', '.svg': 'image/svg+xml', '.xml': 'application/xml',
};

function cesiumAssets(): Plugin {
  return {
    name: 'onemap-cesium-assets',
    configureServer(server) {
      server.middlewares.use('/cesium', (req, res, next) => {
        const rel = decodeURIComponent((req.url ?? '/').split('?')[0]).replace(/^\/+/, '');
        const path = resolve(CESIUM_BUILD, rel);
        const top = rel.split('/')[0];
        if (!CESIUM_DIRS.includes(top) || !path.startsWith(CESIUM_BUILD + sep) || !existsSync(path) || !statSync(path).isFile()) return next();
        res.setHeader('Content-Type', CESIUM_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream');
        createReadStream(path).pipe(res);
      });
    },
    writeBundle(options) {
      const out = resolve(options.dir ?? resolve(repo, 'dist/web'), 'cesium');
      for (const dir of CESIUM_DIRS) cpSync(resolve(CESIUM_BUILD, dir), resolve(out, dir), { recursive: true });
    },
  };
}

export default defineConfig({
  root: resolve(repo, 'web'),
  base: '/',
  plugins: [vue(), cesiumAssets()],
  // Everything ships from our own origin: no CDN, no web fonts (COMMON.md: never contact another host).
  // web/public (the service worker, the PWA manifest and icons) is copied to the root of dist/web as is.
  publicDir: resolve(repo, 'web/public'),
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
            { name: 'cesium', test: /node_modules[\\/](cesium|@cesium)[\\/]/ },
            { name: 'vue', test: /node_modules[\\/](vue|@vue|pinia)[\\/]/ },
          ],
        },
      },
    },
  },
});
