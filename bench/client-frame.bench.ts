// Frame time while panning the 2D map in headless Chromium (software WebGL: only the ratio means
// anything), the app with the demo city's layers on (basemap + overlay tiles, cameras, sensors,
// facilities, responders: 34 835 points) against a bare deck.gl page that draws the same points with
// one ScatterplotLayer and nothing else — the application's overhead (issue 3 aims ≤ 1.5×).
// Run: npx tsx bench/client-frame.bench.ts   (about 1–2 min; needs the built data, chromium)
//
// Both pages get the same scripted drag (fixed path, fixed timing) after one identical warm-up drag,
// so tiles along the path are cached and the timing is rendering + app work, not the network.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { openFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import { startServer } from '../tile-server/server.ts';
import { launchBrowser } from '../test/helpers/browser.ts';

const ROOT = resolve(import.meta.dirname, '..');
const DATA_DIR = resolve(process.env.DATA_DIR ?? join(ROOT, 'geodata', 'build'));
const WEB_DIR = join(ROOT, 'dist', 'web');
const POINT_LAYERS = ['cameras', 'sensors', 'facilities', 'responders'];
const VIEW = { longitude: 120.752, latitude: 31.654, zoom: 14, bearing: 0, pitch: 0 };
const WIDTH = 960, HEIGHT = 600;

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function ensureWebBuilt(): void {
  const index = join(WEB_DIR, 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newestMtime(join(ROOT, 'web'))) return;
  console.log('building the web bundle (vite build)…');
  execFileSync('npx', ['vite', 'build'], { cwd: ROOT, stdio: 'pipe' });
}

/** The peer: deck.gl with one ScatterplotLayer of the same points (binary, Float64 positions). */
const BARE_PAGE = `
import { Deck, MapView } from '@deck.gl/core';
import { ScatterplotLayer } from '@deck.gl/layers';
const pos = new Float64Array(await (await fetch('/points.bin')).arrayBuffer());
let viewState = ${JSON.stringify(VIEW)};
let drawn = false;
const deck = new Deck({
  parent: document.getElementById('map'),
  views: new MapView({ id: 'map', repeat: false, controller: true }),
  viewState,
  onViewStateChange: ({ viewState: v }) => { viewState = v; deck.setProps({ viewState }); },
  layers: [new ScatterplotLayer({ id: 'points', data: { length: pos.length / 2, attributes: { getPosition: { value: pos, size: 2 } } },
    radiusUnits: 'pixels', getRadius: 4, getFillColor: [30, 140, 255, 255], stroked: true, getLineColor: [255, 255, 255, 220],
    lineWidthUnits: 'pixels', getLineWidth: 1 })],
  onAfterRender: () => { if (!drawn) { drawn = true; document.documentElement.dataset.ready = '1'; } },
});
`;

async function bareServer(points: Float64Array): Promise<{ url: string; close(): Promise<void> }> {
  const js = await build({
    stdin: { contents: BARE_PAGE, resolveDir: ROOT, loader: 'js' }, bundle: true, format: 'esm', write: false, target: 'es2022', minify: true,
    define: { 'process.env.NODE_ENV': '"production"' }, logLevel: 'error',
  });
  const bundle = js.outputFiles[0].contents;
  const html = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><style>html,body{margin:0;height:100%;overflow:hidden}#map{position:absolute;inset:0}</style></head><body><div id="map"></div><script type="module" src="/bare.js"></script></body></html>`;
  const server = createServer((req, res) => {
    if (req.url === '/') { res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }); res.end(html); }
    else if (req.url === '/bare.js') { res.writeHead(200, { 'content-type': 'text/javascript' }); res.end(bundle); }
    else if (req.url === '/points.bin') { res.writeHead(200, { 'content-type': 'application/octet-stream' }); res.end(Buffer.from(points.buffer)); }
    else { res.writeHead(404); res.end(); }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

/** Mean ms per frame (requestAnimationFrame intervals) during a scripted drag across the map. */
async function panFrameMs(page: Page): Promise<{ ms: number; frames: number }> {
  const durationMs = 4500;
  // A string, not a function: tsx would wrap named inner functions in a `__name` helper the page lacks.
  const frames = page.evaluate(`new Promise((done) => {
    const ts = [];
    const t0 = performance.now();
    const tick = (t) => { ts.push(t); if (t - t0 < ${durationMs}) requestAnimationFrame(tick); else done(ts); };
    requestAnimationFrame(tick);
  })`) as Promise<number[]>;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  // Left and back along the same line over the middle-right of the map (clear of the side panel).
  await page.mouse.move(800, 300);
  await page.mouse.down();
  for (let i = 1; i <= 40; i++) { await page.mouse.move(800 - i * 10, 300 - i * 3); await sleep(50); }
  for (let i = 39; i >= 0; i--) { await page.mouse.move(800 - i * 10, 300 - i * 3); await sleep(50); }
  await page.mouse.up();
  const ts = await frames;
  return { ms: (ts[ts.length - 1] - ts[0]) / Math.max(1, ts.length - 1), frames: ts.length };
}

async function measure(url: string, readyFn: string, label: string): Promise<number> {
  const b = await launchBrowser({ width: WIDTH, height: HEIGHT });
  try {
    await b.page.goto(url);
    await b.page.waitForFunction(readyFn, null, { timeout: 120_000, polling: 250 });
    await b.page.waitForTimeout(1000);
    const warm = await panFrameMs(b.page);
    await b.page.waitForTimeout(1500);
    const run = await panFrameMs(b.page);
    console.log(`  ${label.padEnd(44)} warm-up ${warm.ms.toFixed(1)} ms/frame, measured ${run.ms.toFixed(1)} ms/frame (${run.frames} frames)`);
    return run.ms;
  } finally {
    await b.close();
  }
}

const parts = POINT_LAYERS.map((l) => {
  const f = openFlatGeobuf(new Uint8Array(readFileSync(join(DATA_DIR, `${l}.fgb`))));
  const xy = new Float64Array(f.count * 2);
  for (let i = 0; i < f.count; i++) {
    const g = f.feature(i).geometry as GeoJSON.Point;
    xy[2 * i] = g.coordinates[0];
    xy[2 * i + 1] = g.coordinates[1];
  }
  return xy;
});
const points = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
parts.reduce((off, p) => { points.set(p, off); return off + p.length; }, 0);
const count = points.length / 2;
console.log(`client-frame: ${count} points (${POINT_LAYERS.join(', ')}), ${WIDTH}×${HEIGHT}, zoom ${VIEW.zoom}, headless Chromium (SwiftShader)`);

ensureWebBuilt();
const app = await startServer({ dataDir: DATA_DIR, webDir: WEB_DIR, port: 0 });
const bare = await bareServer(points);
try {
  const layers = ['towns', 'villages', 'city', 'landuse', 'water', 'roads', 'buildings', 'places', ...POINT_LAYERS].join(',');
  const appUrl = `${app.url}/?view=2d&lon=${VIEW.longitude}&lat=${VIEW.latitude}&zoom=${VIEW.zoom}&bearing=0&pitch=0&layers=${layers}`;
  const appReady = `document.documentElement.dataset.engineReady === '1' && ${JSON.stringify(POINT_LAYERS)}.every((l) => (document.querySelector('.engine-host')?.dataset.pointsDrawn ?? '').includes(l + ':'))`;
  const peerMs = await measure(`${bare.url}/`, `document.documentElement.dataset.ready === '1'`, 'bare deck.gl, one ScatterplotLayer');
  const oursMs = await measure(appUrl, appReady, 'OneMap 2D (tiles + 4 point layers + UI)');
  const ratio = peerMs / oursMs;
  console.log(`BENCH\t2D frame time while panning (${count} points + city tiles)\t${oursMs.toFixed(1)} ms/frame\tbare deck.gl ScatterplotLayer\t${peerMs.toFixed(1)} ms/frame\t${ratio.toFixed(2)}x\t`
    + `>1 = app faster; app overhead = ${(1 / ratio).toFixed(2)}x the bare page's frame time (aim ≤ 1.5x); software WebGL, ratio only`);
} finally {
  await bare.close();
  await app.close();
}
