// Views you can share, in a real browser: a permalink restores the engine, camera and visible layers;
// switching 2D → 3D → 2D keeps the camera; the phone layout (390×844) shows the map and the panels
// without overflow. Every test fails on a request to any host but 127.0.0.1. Needs the demo data
// (npm run data && npm run tiles) and Debian's chromium + fonts-noto-cjk.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { getLayer } from '../layers/catalog.ts';
import { countColour, decodePng, openBrowser, useBrowser, useTestServer, type RequestLog } from './helpers/browser.ts';

const ROOT = resolve(import.meta.dirname, '..');
const RESULTS = join(ROOT, 'test-results');

interface Camera { lon: number; lat: number; zoom: number; bearing: number; pitch: number }

/** The camera the shell reports on <html data-camera="lon,lat,zoom,bearing,pitch">. */
async function camera(page: Page): Promise<Camera> {
  const s = await page.evaluate(() => document.documentElement.dataset.camera ?? '');
  const [lon, lat, zoom, bearing, pitch] = s.split(',').map(Number);
  return { lon, lat, zoom, bearing, pitch };
}

async function waitEngine(page: Page, kind: '2d' | '3d', timeout: number): Promise<void> {
  await page.waitForFunction((k) => document.documentElement.dataset.engine === k && document.documentElement.dataset.engineReady === '1',
    kind, { timeout, polling: 250 });
  // Let the engine draw the frame that follows the last tile.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 500)))));
}

/** Ground metres per CSS pixel of deck.gl's map (512-px Web Mercator tiles). */
function metersPerPixel(lat: number, zoom: number): number {
  return (2 * Math.PI * 6_378_137 * Math.cos((lat * Math.PI) / 180)) / (512 * 2 ** zoom);
}

/**
 * Same camera within what a user could notice: the centre within 6 screen pixels (a 3D engine puts
 * the centre on the terrain, a few metres from the ellipsoid point), a tenth of a zoom level, and
 * half a degree of bearing and pitch.
 */
function expectClose(actual: Camera, expected: Camera, what: string): void {
  const dBearing = Math.abs(((actual.bearing - expected.bearing + 540) % 360) - 180);
  const msg = `${what}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`;
  const mPerDeg = 111_320;
  const dx = (actual.lon - expected.lon) * mPerDeg * Math.cos((expected.lat * Math.PI) / 180);
  const dy = (actual.lat - expected.lat) * mPerDeg;
  expect(Math.hypot(dx, dy) / metersPerPixel(expected.lat, expected.zoom), `${msg} (centre offset in pixels)`).toBeLessThan(6);
  expect(Math.abs(actual.zoom - expected.zoom), msg).toBeLessThan(0.1);
  expect(dBearing, msg).toBeLessThan(0.5);
  expect(Math.abs(actual.pitch - expected.pitch), msg).toBeLessThan(0.5);
}

function expectLocalOnly(requests: RequestLog, pageErrors: string[]): void {
  expect(requests.foreign, `requests to hosts other than 127.0.0.1:\n${requests.foreign.join('\n')}`).toEqual([]);
  expect(requests.failed.filter((f) => !f.error.includes('ERR_ABORTED')), 'failed requests').toEqual([]);
  expect(pageErrors, 'uncaught page errors').toEqual([]);
}

describe('shareable views', () => {
  // Every view as the operator (the layers of the links are staff layers).
  const server = useTestServer();
  beforeAll(() => { mkdirSync(RESULTS, { recursive: true }); });

  describe('desktop 1280×800', () => {
    const browser = useBrowser(() => server, { user: 'operator', width: 1280, height: 800 });

    it('a permalink restores engine, camera and layers, and the cameras are drawn', async () => {
      const { page, requests, pageErrors } = browser;
      const link: Camera = { lon: 120.7612, lat: 31.6583, zoom: 14, bearing: 30, pitch: 40 };
      await page.goto(`${server.url}/?view=2d&lon=${link.lon}&lat=${link.lat}&zoom=14&bearing=30&pitch=40&layers=cameras,towns`);
      await waitEngine(page, '2d', 90_000);
      await page.waitForFunction(() => /cameras:\d+/.test(document.querySelector<HTMLElement>('.engine-host')?.dataset.pointsDrawn ?? ''),
        null, { timeout: 30_000, polling: 250 });
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 500)))));

      expectClose(await camera(page), link, 'camera after opening the link');
      // The shell writes the (debounced) URL back: same view, exactly the linked layers.
      await page.waitForFunction(() => new URLSearchParams(location.search).get('layers') !== null, null, { timeout: 10_000 });
      const q = new URLSearchParams(await page.evaluate(() => location.search));
      expect(q.get('view')).toBe('2d');
      expect(q.get('layers')!.split(',').sort()).toEqual(['cameras', 'towns']);
      expectClose({ lon: Number(q.get('lon')), lat: Number(q.get('lat')), zoom: Number(q.get('zoom')), bearing: Number(q.get('bearing')), pitch: Number(q.get('pitch')) },
        link, 'camera in the rewritten URL');
      const drawn = await page.evaluate(() => document.querySelector<HTMLElement>('.engine-host')?.dataset.pointsDrawn ?? '');
      expect(Number(/cameras:(\d+)/.exec(drawn)![1])).toBeGreaterThan(100);

      const png = await page.screenshot();
      writeFileSync(join(RESULTS, 'views-permalink.png'), png);
      // Camera dots in the catalog's "online" blue are on screen (the basemap is off: nothing else is that blue).
      const online = getLayer('cameras')!.style.categories!.online;
      const img = decodePng(png);
      expect(countColour(img, online, 12, { x: 360, y: 50, width: 800, height: 690 }), 'online-camera pixels').toBeGreaterThan(200);
      expectLocalOnly(requests, pageErrors);
    });

    it('switching 2D → 3D → 2D keeps the camera', async () => {
      const { page, requests, pageErrors } = browser;
      await page.goto(`${server.url}/?view=2d&lon=120.7450&lat=31.6620&zoom=13.5&bearing=-20&pitch=30`);
      await waitEngine(page, '2d', 90_000);
      const before = await camera(page);
      expectClose(before, { lon: 120.745, lat: 31.662, zoom: 13.5, bearing: -20, pitch: 30 }, 'camera from the link');
      const to3d = page.locator('.engine-switch button[data-engine="3d"]');
      expect(await to3d.isDisabled(), 'the 3D engine (web/src/map/cesium-engine.ts) is not available').toBe(false);
      await to3d.click();
      // Software WebGL: a Cesium globe with terrain takes a while.
      await waitEngine(page, '3d', 150_000);
      writeFileSync(join(RESULTS, 'views-3d.png'), await page.screenshot());
      expectClose(await camera(page), before, 'camera in 3D');
      await page.waitForFunction(() => new URLSearchParams(location.search).get('view') === '3d', null, { timeout: 10_000 });
      await page.locator('.engine-switch button[data-engine="2d"]').click();
      await waitEngine(page, '2d', 90_000);
      expectClose(await camera(page), before, 'camera back in 2D');
      expectLocalOnly(requests, pageErrors);
    });
  });

  it('phone 390×844: map and panels fit without overflow, controls are touch-sized', async () => {
    const browser = await openBrowser(server.url, { user: 'operator', width: 390, height: 844 });
    try {
      const { page, requests, pageErrors } = browser;
      await page.goto(`${server.url}/`);
      await waitEngine(page, '2d', 90_000);
      writeFileSync(join(RESULTS, 'views-phone.png'), await page.screenshot());
      const layout = await page.evaluate(() => {
        const box = (sel: string) => {
          const el = document.querySelector(sel);
          if (!el) return null;
          const r = el.getBoundingClientRect();
          return { left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height };
        };
        const buttons = [...document.querySelectorAll('.nav-controls button, .engine-switch button, .north-arrow')]
          .map((b) => { const r = b.getBoundingClientRect(); return Math.min(r.width, r.height); });
        return {
          scrollWidth: document.documentElement.scrollWidth, scrollHeight: document.documentElement.scrollHeight,
          canvas: box('.map canvas'), panels: box('.side-panels-dock'), controls: box('.map-controls'), buttons,
        };
      });
      expect(layout.scrollWidth, 'horizontal overflow').toBeLessThanOrEqual(390);
      expect(layout.scrollHeight, 'vertical overflow').toBeLessThanOrEqual(844);
      expect(layout.canvas!.width).toBe(390);
      expect(layout.canvas!.height).toBeGreaterThan(400);
      // Panels: a bottom sheet inside the screen that leaves the upper map free.
      const p = layout.panels!;
      expect(p.width).toBeGreaterThan(300);
      expect(p.left).toBeGreaterThanOrEqual(0);
      expect(p.right).toBeLessThanOrEqual(390);
      expect(p.bottom).toBeLessThanOrEqual(844);
      expect(p.top).toBeGreaterThan(844 / 2);
      const c = layout.controls!;
      expect(c.right).toBeLessThanOrEqual(390);
      expect(c.bottom).toBeLessThanOrEqual(p.top);
      expect(layout.buttons.length).toBeGreaterThanOrEqual(7);
      expect(Math.min(...layout.buttons), 'smallest touch target (px)').toBeGreaterThanOrEqual(44);
      expectLocalOnly(requests, pageErrors);
    } finally {
      await browser.close();
    }
  });
});
