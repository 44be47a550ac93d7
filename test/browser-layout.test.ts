// The layouts and map controls in a real browser (Chromium, software WebGL, the 2D engine): the phone
// layout works by touch at 390×844 (the 4K wall has its own test, browser-wall.test.ts), "my location"
// moves the view to an emulated position (and explains a refusal), the full-screen button toggles,
// and the place search flies to a town and a grid by name or code; in 3D the world around the city is
// Natural Earth from our own server, not a blank globe. No request leaves 127.0.0.1.
// Needs: geodata/build (npm run data && npm run tiles) and Debian packages chromium + fonts-noto-cjk.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { CITY } from '../layers/catalog.ts';
import { geometryBbox } from '../layers/formats/flatgeobuf.ts';
import { fitBboxView } from '../web/src/map/places-index.ts';
import { decodePng, distinctColours, useBrowser, useTestServer, type TestServer } from './helpers/browser.ts';

interface Camera { lon: number; lat: number; zoom: number }

async function camera(page: Page): Promise<Camera> {
  const [lon, lat, zoom] = (await page.evaluate(() => document.documentElement.dataset.camera ?? '')).split(',').map(Number);
  return { lon, lat, zoom };
}

/** Polls the view until `ok` holds (fly-to animations take ~1 s, longer when frames are slow). */
async function waitForCamera(page: Page, ok: (c: Camera) => boolean, timeoutMs = 60_000): Promise<Camera> {
  const end = Date.now() + timeoutMs;
  let c = await camera(page);
  while (!ok(c) && Date.now() < end) {
    await page.waitForTimeout(250);
    c = await camera(page);
  }
  return c;
}

async function waitForMap(page: Page): Promise<void> {
  await page.waitForFunction(() => document.documentElement.dataset.mapReady === '1', null, { timeout: 180_000, polling: 250 });
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 300)))));
}

/** The element on top at (x, y): its class list and whether it lies inside the map or the given selector. */
function topAt(page: Page, x: number, y: number, inside: string): Promise<boolean> {
  return page.evaluate(([px, py, sel]) => !!document.elementFromPoint(px as number, py as number)?.closest(sel as string), [x, y, inside] as const);
}

interface Box { x: number; y: number; width: number; height: number }
async function box(page: Page, selector: string): Promise<Box> {
  const b = await page.locator(selector).first().boundingBox();
  expect(b, `${selector} is laid out`).not.toBeNull();
  return b!;
}

/**
 * A browser per describe block on the shared server, signed in as the operator (the wall, the desktop and
 * the map's phone layout are theirs); the fixture fails a test on a request leaving 127.0.0.1 or a page error.
 */
function useOperatorBrowser(srv: TestServer, opts: { width: number; height: number; hasTouch?: boolean }) {
  const browser = useBrowser(() => srv, { ...opts, user: 'operator' });
  return { get browser() { return browser; }, get requests() { return browser.requests; } };
}

/** Share of a grid of sample points over the viewport where the map itself is on top (not a panel). */
async function mapShare(page: Page, width: number, height: number, step = 40): Promise<number> {
  return page.evaluate(([w, h, s]) => {
    let on = 0, all = 0;
    for (let y = s / 2; y < h; y += s) {
      for (let x = s / 2; x < w; x += s) {
        all++;
        if (document.elementFromPoint(x, y)?.closest('.map')) on++;
      }
    }
    return on / all;
  }, [width, height, step] as const);
}

describe('layouts and map controls', () => {
  const srv = useTestServer();

  describe('phone layout (390×844, touch)', () => {
    const W = 390, H = 844;
    const b = useOperatorBrowser(srv, { width: W, height: H, hasTouch: true });

    it('puts the panels in a bottom sheet reachable by tap, with 44-px targets', async () => {
      const { page } = b.browser;
      await page.goto(`${srv.server.url}/?lon=${CITY.center[0]}&lat=${CITY.center[1]}&zoom=12`);
      await waitForMap(page);
      expect(await page.evaluate(() => matchMedia('(pointer: coarse)').matches), 'touch screen emulated').toBe(true);
      const dock = await box(page, '.side-panels-dock');
      expect(dock.x).toBeLessThanOrEqual(1);
      expect(dock.width).toBeGreaterThanOrEqual(W - 2);
      expect(dock.y, 'sheet starts in the lower half').toBeGreaterThan(H * 0.5);
      expect(dock.y + dock.height).toBeLessThanOrEqual(H);
      // Every control and panel header is on screen, not covered, and at least 44×44 px (WCAG 2.5.5).
      for (const sel of ['.nav-home', '.nav-zoom-in', '.nav-zoom-out', '.nav-locate', '.nav-fullscreen',
        '.side-panels-dock [data-panel="catalog"] h2 button', '.side-panels-dock [data-panel="measure"] h2 button']) {
        const el = page.locator(sel).first();
        await el.scrollIntoViewIfNeeded();
        const r = await box(page, sel);
        expect(r.x, sel).toBeGreaterThanOrEqual(0);
        expect(r.x + r.width, sel).toBeLessThanOrEqual(W);
        expect(r.y + r.height, sel).toBeLessThanOrEqual(H);
        expect(r.height, `${sel} height`).toBeGreaterThanOrEqual(44);
        if (sel.startsWith('.nav')) expect(r.width, `${sel} width`).toBeGreaterThanOrEqual(44);
        expect(await topAt(page, r.x + r.width / 2, r.y + r.height / 2, sel), `${sel} is on top`).toBe(true);
      }
      // The map above the sheet is not covered.
      expect(await topAt(page, W / 2, dock.y * 0.6, '.map')).toBe(true);

      // A tap on a layer's checkbox in the sheet toggles it.
      const water = page.getByRole('checkbox', { name: '水系', exact: true });
      await water.scrollIntoViewIfNeeded();
      const before = await water.isChecked();
      const wb = (await water.boundingBox())!;
      await page.touchscreen.tap(wb.x + wb.width / 2, wb.y + wb.height / 2);
      await expect.poll(() => water.isChecked(), { timeout: 10_000 }).toBe(!before);

      // A tap on the zoom-in button zooms the map by one level.
      const z0 = (await camera(page)).zoom;
      const zin = await box(page, '.nav-zoom-in');
      await page.touchscreen.tap(zin.x + zin.width / 2, zin.y + zin.height / 2);
      const z1 = (await waitForCamera(page, (c) => Math.abs(c.zoom - (z0 + 1)) < 0.05)).zoom;
      expect(z1).toBeCloseTo(z0 + 1, 1);
    }, 400_000);

    it('opens a camera’s info with a tap on the map', async () => {
      const { page } = b.browser;
      const res = await b.browser.fetch(`${srv.server.url}/ogc/collections/cameras/items?limit=1`);
      const cam = ((await res.json()) as GeoJSON.FeatureCollection<GeoJSON.Point>).features[0];
      const [lon, lat] = cam.geometry.coordinates;
      // The view centre sits above the bottom sheet (the sheet covers the lower 42 %).
      const points = page.waitForResponse((r) => r.url().endsWith('/data/cameras.fgb'), { timeout: 120_000 });
      await page.goto(`${srv.server.url}/?lon=${lon}&lat=${lat}&zoom=17&layers=cameras`);
      await waitForMap(page);
      await (await points).finished();
      await page.waitForFunction(() => (document.querySelector('.engine-host') as HTMLElement | null)?.dataset.pointsDrawn?.includes('cameras:'),
        null, { timeout: 60_000, polling: 250 });
      expect(await topAt(page, W / 2, H / 2, '.map'), 'view centre is map, not sheet').toBe(true);
      const info = page.locator('.feature-info');
      let opened = false;
      // A tap on software WebGL may take seconds to pick; retry a couple of times before failing.
      for (let i = 0; i < 3 && !opened; i++) {
        await page.touchscreen.tap(W / 2, H / 2);
        for (let t = 0; t < 40 && !opened; t++) { opened = (await info.count()) > 0; if (!opened) await page.waitForTimeout(250); }
      }
      expect(opened, 'feature info opened after tapping the camera').toBe(true);
      const text = await info.innerText();
      expect(text).toContain('视频监控');
      expect(text).toContain(String((cam.properties as { name: string }).name));
    }, 400_000);
  });

  describe('3D world background (960×600)', () => {
    const b = useOperatorBrowser(srv, { width: 960, height: 600 });

    it('shows Natural Earth from our server around the city, not a blank globe', async () => {
      const { page } = b.browser;
      // Far out (the engine's smallest zoom, 6): the city is a small patch mid-screen, around it the
      // lower Yangtze and the East China Sea.
      await page.goto(`${srv.server.url}/?view=3d&lon=${CITY.center[0]}&lat=${CITY.center[1]}&zoom=6&bearing=0&pitch=0`);
      await page.waitForFunction(() => document.documentElement.dataset.globeReady === '1', null, { timeout: 240_000, polling: 500 });
      await page.waitForTimeout(1500);
      const tiles = b.requests.responses.filter((r) => r.url.includes('/cesium/Assets/Textures/NaturalEarthII/') && /\.jpg$/.test(r.url));
      expect(tiles.length, 'Natural Earth tiles fetched').toBeGreaterThan(0);
      expect(tiles.every((r) => r.status === 200), 'every Natural Earth tile answered 200').toBe(true);
      // Right of the city, clear of panels and controls: the texture of land and sea, not the globe's one
      // flat base colour (with the Natural Earth tiles blocked this region has fewer than 10 colours).
      const img = decodePng(await page.screenshot());
      const outside = { x: 560, y: 120, width: 300, height: 260 };
      expect(distinctColours(img, outside), 'distinct colours on the globe outside the city').toBeGreaterThan(100);
    }, 400_000);
  });

  describe('desktop controls (1280×800)', () => {
    const b = useOperatorBrowser(srv, { width: 1280, height: 800 });
    /** A point inside the city, off its centre, so a move to it is unmistakable. */
    const HERE = { longitude: 120.71, latitude: 31.62 };

    it('zooms to my location when the browser grants it', async () => {
      const { page, context } = b.browser;
      await page.goto(`${srv.server.url}/?lon=${CITY.center[0]}&lat=${CITY.center[1]}&zoom=12`);
      await waitForMap(page);
      await context.grantPermissions(['geolocation'], { origin: srv.server.url });
      await context.setGeolocation({ ...HERE, accuracy: 10 });
      await page.getByRole('button', { name: '定位到我的位置' }).click();
      const c = await waitForCamera(page, (v) => Math.abs(v.lon - HERE.longitude) < 1e-4 && Math.abs(v.lat - HERE.latitude) < 1e-4 && v.zoom >= 15.99);
      expect(c.lon).toBeCloseTo(HERE.longitude, 4);
      expect(c.lat).toBeCloseTo(HERE.latitude, 4);
      expect(c.zoom).toBeGreaterThanOrEqual(15.99);
      expect(await page.locator('.notice').count(), 'no message on success').toBe(0);
    }, 300_000);

    it('explains a position outside the city and a refused permission, leaving the view alone', async () => {
      const { page, context } = b.browser;
      await page.goto(`${srv.server.url}/?lon=${CITY.center[0]}&lat=${CITY.center[1]}&zoom=12`);
      await waitForMap(page);
      const before = await camera(page);
      const notice = page.locator('.notice');

      await context.grantPermissions(['geolocation'], { origin: srv.server.url });
      await context.setGeolocation({ longitude: 116.397, latitude: 39.909, accuracy: 10 }); // Beijing
      await page.getByRole('button', { name: '定位到我的位置' }).click();
      await expect.poll(() => notice.innerText().catch(() => ''), { timeout: 30_000 }).toContain('不在常熟市范围内');

      await page.getByRole('button', { name: '关闭提示' }).click();
      await expect.poll(() => notice.count()).toBe(0);
      // Without the grant, the headless browser refuses the position (as a user saying "block" would).
      await context.clearPermissions();
      await page.getByRole('button', { name: '定位到我的位置' }).click();
      await expect.poll(() => notice.innerText().catch(() => ''), { timeout: 30_000 }).toContain('未获准使用位置信息');
      const after = await camera(page);
      expect(after.lon).toBeCloseTo(before.lon, 5);
      expect(after.lat).toBeCloseTo(before.lat, 5);
      expect(after.zoom).toBeCloseTo(before.zoom, 3);
    }, 300_000);

    it('toggles full screen with the button', async () => {
      const { page } = b.browser;
      await page.goto(`${srv.server.url}/?lon=${CITY.center[0]}&lat=${CITY.center[1]}&zoom=12`);
      await waitForMap(page);
      const full = () => page.evaluate(() => document.fullscreenElement === document.documentElement);
      expect(await full()).toBe(false);
      await page.getByRole('button', { name: '全屏', exact: true }).click();
      await expect.poll(full, { timeout: 15_000 }).toBe(true);
      const exit = page.getByRole('button', { name: '退出全屏', exact: true });
      await expect.poll(() => exit.getAttribute('aria-pressed'), { timeout: 15_000 }).toBe('true');
      await exit.click();
      await expect.poll(full, { timeout: 15_000 }).toBe(false);
      await expect.poll(() => page.getByRole('button', { name: '全屏', exact: true }).getAttribute('aria-pressed'), { timeout: 15_000 }).toBe('false');
    }, 300_000);

    it('flies to a town by name and a grid by code from the place search', async () => {
      const { page } = b.browser;
      await page.goto(`${srv.server.url}/?lon=${CITY.center[0]}&lat=${CITY.center[1]}&zoom=11`);
      await waitForMap(page);
      const size = await page.evaluate(() => { const m = document.querySelector('.map') as HTMLElement; return { w: m.clientWidth, h: m.clientHeight }; });
      const search = page.getByRole('combobox', { name: '地名搜索' });

      for (const [layer, by] of [['towns', 'name'], ['grids', 'code']] as const) {
        // The last feature of the collection: not the first one, which a default might hit by luck.
        const all = (await (await b.browser.fetch(`${srv.server.url}/ogc/collections/${layer}/items?limit=1000`)).json()) as GeoJSON.FeatureCollection;
        const f = all.features[all.features.length - 1];
        const props = f.properties as { name: string; code: string | number };
        const query = String(props[by]);
        const expected = fitBboxView(geometryBbox(f.geometry), size.w, size.h);
        await search.fill('');
        await search.click();
        await search.pressSequentially(query, { delay: 30 });
        const first = page.locator('#place-results [role="option"]').first();
        await expect.poll(() => first.innerText().catch(() => ''), { timeout: 30_000 }).toContain(query);
        await search.press('Enter');
        const c = await waitForCamera(page, (v) => Math.abs(v.lon - expected.lon) < 1e-4 && Math.abs(v.lat - expected.lat) < 1e-4
          && Math.abs(v.zoom - expected.zoom) < 0.01);
        expect(c.lon, `${layer} ${query}: centre lon`).toBeCloseTo(expected.lon, 4);
        expect(c.lat, `${layer} ${query}: centre lat`).toBeCloseTo(expected.lat, 4);
        expect(c.zoom, `${layer} ${query}: zoom`).toBeCloseTo(expected.zoom, 2);
        // The unit is selected: its info panel names it.
        await expect.poll(() => page.locator('.feature-info').innerText().catch(() => ''), { timeout: 15_000 }).toContain(props.name);
      }
    }, 300_000);
  });
});
