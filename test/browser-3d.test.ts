// The 3D engine in a real browser: the Cesium globe over the city's own basemap (rasterised vector
// tiles), DEM terrain with 虞山 in relief, point layers and labels, all from 127.0.0.1 (no Cesium ion,
// no CDN). Runs the engine on a test-only page (test/globe-page: the engine alone, view from the URL),
// built with the app's vite config, so Cesium's assets are served from /cesium/ exactly as in the app.
// Needs: the demo data (npm run data && npm run tiles) and Debian packages chromium + fonts-noto-cjk.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { getLayer } from '../layers/catalog.ts';
import { countColour, decodePng, distinctColours, useBrowserFixture } from './helpers/browser.ts';
import { fractionDifferent, newestMtime } from './helpers/web-build.ts';

const ROOT = resolve(import.meta.dirname, '..');
const PAGE_SRC = join(ROOT, 'test', 'globe-page');
const PAGE_DIR = join(ROOT, 'dist', 'test-globe');
const SCREENSHOT = join(ROOT, 'test-results', '3d-yushan.png');
const GOLDEN = join(ROOT, 'test', 'golden', '3d-yushan.png');
/** The view over 虞山 and 尚湖, pitched, as the app's URL state writes it. */
const VIEW = 'lon=120.70&lat=31.655&zoom=13&pitch=60&bearing=20';
/** The globe without the credit line at the bottom. */
const MAP_REGION = { x: 0, y: 0, width: 1280, height: 740 };
/** Golden comparison: a pixel differs when a channel moves by more than 40 (software rendering, label
 *  placement and tile refinement order vary a little); the images match when under 20 % of pixels differ. */
const PIXEL_DELTA = 40;
const MAX_DIFFERENT = 0.2;

/** Builds the test page when missing or older than its sources (the engine in web/, the page, the vite config). */
function ensurePageBuilt(): void {
  const index = join(PAGE_DIR, 'index.html');
  const newest = Math.max(newestMtime(join(ROOT, 'web')), newestMtime(PAGE_SRC), statSync(join(ROOT, 'vite.config.ts')).mtimeMs);
  if (existsSync(index) && existsSync(join(PAGE_DIR, 'cesium', 'Workers')) && statSync(index).mtimeMs >= newest) return;
  execFileSync('npx', ['vite', 'build', PAGE_SRC, '--config', join(ROOT, 'vite.config.ts'), '--outDir', PAGE_DIR, '--emptyOutDir'], { cwd: ROOT, stdio: 'pipe' });
}

describe('3D globe (Cesium engine)', () => {
  // Built before the fixture's server starts serving it (hooks run in the order they are registered).
  beforeAll(() => ensurePageBuilt());
  // The overlay tiles (points, labels) need a session; the operator sees them all.
  const { srv: server, browser } = useBrowserFixture({ user: 'operator', webDir: PAGE_DIR, requireData: ['basemap.pmtiles', 'overlay.pmtiles', 'terrain/dem.f32'] });

  it('drapes our basemap on DEM terrain over 虞山, from 127.0.0.1 only', async () => {
    const { page, requests, pageErrors } = browser;
    const started = Date.now();
    await page.goto(`${server.url}/?${VIEW}`);
    // A pitched globe in software WebGL on a shared 2-core machine: generous.
    await page.waitForFunction(() => document.documentElement.dataset.globeReady === '1' || !!document.documentElement.dataset.mapErrors,
      null, { timeout: 240_000, polling: 500 });
    console.log(`globe ready after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await page.waitForTimeout(1000); // the frame after the last tile
    const png = await page.screenshot();
    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    writeFileSync(SCREENSHOT, png);

    const ds = await page.evaluate(() => ({ ...document.documentElement.dataset }));
    expect(ds.mapErrors ?? '', 'engine errors').toBe('');
    expect(ds.engine).toBe('3d');
    expect(pageErrors, 'uncaught page errors').toEqual([]);

    // Nothing left the machine: no Cesium ion, no CDN, no online imagery.
    expect(requests.foreign, `requests to hosts other than 127.0.0.1:\n${requests.foreign.join('\n')}`).toEqual([]);
    expect(requests.urls.filter((u) => /cesium\.com|ion\./i.test(new URL(u).hostname))).toEqual([]);
    expect(requests.failed.filter((f) => !f.error.includes('ERR_ABORTED')), 'failed requests').toEqual([]);
    const ok = (re: RegExp) => requests.responses.filter((r) => r.status === 200 && re.test(new URL(r.url).pathname));
    expect(ok(/^\/terrain\/dem\.f32$/).length, 'DEM fetched').toBe(1);
    expect(ok(/^\/cesium\/(Workers|Assets|ThirdParty|Widgets)\//).length, 'Cesium assets from our /cesium/').toBeGreaterThan(0);
    expect(ok(/^\/tiles\/basemap\/\d+\/\d+\/\d+\.mvt$/).length, 'basemap tiles').toBeGreaterThan(0);
    expect(ok(/^\/tiles\/overlay\/\d+\/\d+\/\d+\.mvt$/).length, 'overlay tiles').toBeGreaterThan(0);

    // The terrain on the globe (not just the grid) stands high under 虞山's summit.
    expect(Number(ds.globeYushanM), `terrain height under 虞山: ${ds.globeYushanM}`).toBeGreaterThan(100);
    // Chinese place names are on the globe.
    const names = (ds.labelNames ?? '').split('|').filter(Boolean);
    expect(names).toContain('虞山街道');
    expect(names.every((n) => /[\u4e00-\u9fff]/.test(n))).toBe(true);

    // Not blank: many colours, and the catalog's own water and land-use colours.
    const img = decodePng(png);
    expect([img.width, img.height]).toEqual([1280, 800]);
    expect(distinctColours(img, MAP_REGION)).toBeGreaterThan(100);
    const seen = (rgba: readonly number[]) => countColour(img, rgba, 8, MAP_REGION);
    expect(seen(getLayer('water')!.style.fill!), 'water pixels').toBeGreaterThan(2000);
    const landuse = Object.values(getLayer('landuse')!.style.categories!).filter((c) => seen(c) > 500);
    expect(landuse.length, 'land-use categories drawn').toBeGreaterThanOrEqual(2);

    // Golden image: created only on purpose (REGEN=1), compared with an explicit tolerance.
    if (process.env.REGEN === '1' || !existsSync(GOLDEN)) {
      if (process.env.REGEN !== '1') throw new Error(`${GOLDEN} is missing: run REGEN=1 npx vitest run --project integration test/browser-3d.test.ts, look at it, commit it.`);
      mkdirSync(join(ROOT, 'test', 'golden'), { recursive: true });
      writeFileSync(GOLDEN, png);
    }
    const golden = decodePng(new Uint8Array(readFileSync(GOLDEN)));
    expect([golden.width, golden.height]).toEqual([img.width, img.height]);
    const diff = fractionDifferent(img, golden, PIXEL_DELTA);
    console.log(`golden: ${(diff * 100).toFixed(2)} % of pixels differ by > ${PIXEL_DELTA}`);
    expect(diff, `share of pixels differing by > ${PIXEL_DELTA} from ${GOLDEN} (see ${SCREENSHOT})`).toBeLessThan(MAX_DIFFERENT);
  }, 300_000);

  it('picks the ground and a feature under a click', async () => {
    const { page } = browser;
    await page.mouse.click(640, 400);
    await page.waitForFunction(() => !!document.documentElement.dataset.clicked, null, { timeout: 30_000 });
    const clicked = JSON.parse((await page.evaluate(() => document.documentElement.dataset.clicked)) ?? '{}') as
      { layerId: string | null; lonLat: [number, number] | null };
    // The screen centre is the view centre (within ~300 m: terrain under it shifts the hit a little).
    expect(clicked.lonLat).not.toBeNull();
    expect(Math.abs(clicked.lonLat![0] - 120.70)).toBeLessThan(0.004);
    expect(Math.abs(clicked.lonLat![1] - 31.655)).toBeLessThan(0.004);
    // Something is there: a point, or the village/town polygon from the OGC API.
    expect(clicked.layerId).not.toBeNull();
  });
});
