// Issue 5 in a real browser (Chromium, software WebGL): a map click opens the lookup card with the grid,
// its manager and the covering cameras the server reports for that point, and a covering camera opens
// from the card; the analyst panel queries a drawn polygon, shows the server's counts, links a row to the
// map and exports CSV; the hot-spot layer draws a density grid in 2D and 3D and follows its time slider.
// No request may leave 127.0.0.1. Needs geodata/build (npm run data && npm run tiles, incl. incidents.fgb)
// and Debian packages chromium + fonts-noto-cjk.
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { decodePng, useBrowserFixture, type RgbaImage } from './helpers/browser.ts';
/** The map right of the side panels, clear of the title bar, controls and readouts. */
const MAP_REGION = { x: 370, y: 60, width: 820, height: 620 };
const CENTRE = { lon: 120.75, lat: 31.65 };

async function waitForMap(page: Page): Promise<void> {
  await page.waitForFunction(() => document.documentElement.dataset.mapReady === '1', null, { timeout: 180_000, polling: 250 });
  await settle(page);
}

async function settle(page: Page, ms = 500): Promise<void> {
  await page.evaluate((wait) => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, wait)))), ms);
}

/** Clicks (x, y) until `done` (a press may be read as a drag under load); false if it never takes. */
async function clickUntil(page: Page, x: number, y: number, done: () => Promise<boolean>, attempts = 3): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    await page.mouse.move(x - 2, y - 2);
    await page.mouse.move(x, y);
    await settle(page, 200);
    await page.mouse.click(x, y);
    for (let t = 0; t < 60; t++) {
      if (await done()) return true;
      await page.waitForTimeout(250);
    }
  }
  return false;
}

/** Pixels in the map region that look like the hot-spot ramp (orange to dark red) and nothing of the light basemap. */
function hotPixels(img: RgbaImage): number {
  let n = 0;
  const r = MAP_REGION;
  for (let y = r.y; y < r.y + r.height; y++) {
    for (let x = r.x; x < r.x + r.width; x++) {
      const o = (y * img.width + x) * 4;
      const [R, G, B] = [img.data[o], img.data[o + 1], img.data[o + 2]];
      if (R > 170 && R - G > 70 && R - B > 90) n++;
    }
  }
  return n;
}

describe('analysis in the browser', () => {
  // The analyst's scenario: lookups, drawn-polygon queries and hot spots (personal fields come masked).
  const { srv: server, browser } = useBrowserFixture({ user: 'analyst', requireData: ['basemap.pmtiles', 'overlay.pmtiles', 'incidents.fgb', 'grids.fgb', 'cameras.fgb'] });

  it('a map click opens the lookup card: grid, manager, address, covering cameras; a camera opens from it', async () => {
    const { page } = browser;
    await page.goto(`${server.url}/?lon=${CENTRE.lon}&lat=${CENTRE.lat}&zoom=16&layers=roads`);
    await waitForMap(page);
    const size = page.viewportSize()!;
    const answer = page.waitForResponse((r) => r.url().includes('/api/lookup?'), { timeout: 120_000 });
    const card = page.locator('.lookup-card[data-state="ready"]');
    const opened = await clickUntil(page, size.width / 2, size.height / 2, async () => (await card.count()) > 0);
    expect(opened, 'lookup card after a map click').toBe(true);
    const body = (await (await answer).json()) as {
      query: { lon: number; lat: number }; town: { name: string }; village: { name: string };
      grid: { name: string; manager: { name: string; phone: string } }; address: { full: string }; cameras: { id: string; name: string }[];
    };
    // the click landed at the view centre (within ~30 m)
    expect(Math.abs(body.query.lon - CENTRE.lon)).toBeLessThan(3e-4);
    expect(Math.abs(body.query.lat - CENTRE.lat)).toBeLessThan(3e-4);
    const text = await card.innerText();
    for (const s of [body.town.name, body.village.name, body.grid.name, body.grid.manager.name, body.grid.manager.phone, body.address.full, '网格员', '最近标准地址', '周边 300 米内']) {
      expect(text).toContain(s);
    }
    expect(text).toContain(`视域覆盖该点的摄像头（${body.cameras.length}）`);
    expect(body.cameras.length, 'a camera covers the centre of 海虞北路 here (demo data)').toBeGreaterThan(0);
    const cam = body.cameras[0];
    await card.locator(`[data-camera="${cam.id}"] button`).click();
    const info = page.locator('.feature-info[data-layer="cameras"]');
    await info.waitFor({ timeout: 30_000 });
    expect(await info.innerText()).toContain(cam.name);
    expect(await info.innerText()).toContain('视域范围');
  }, 400_000);

  it('the analyst panel queries a drawn polygon, links a row to the map and exports CSV', async () => {
    const { page } = browser;
    await page.goto(`${server.url}/?lon=${CENTRE.lon}&lat=${CENTRE.lat}&zoom=16&layers=roads`);
    await waitForMap(page);
    await page.getByRole('button', { name: '空间分析' }).click();
    const panel = page.locator('.analyst-panel');
    await panel.locator('[data-draw="polygon"]').click();
    const corners = [[500, 250], [900, 250], [900, 550], [500, 550]];
    for (const [x, y] of corners) {
      await page.mouse.click(x, y);
      await settle(page, 300);
    }
    await page.keyboard.press('Enter');
    await expect.poll(() => panel.locator('select[name="ap-shape"] option').count(), { timeout: 30_000 }).toBe(1);

    const sent = page.waitForRequest((r) => r.url().endsWith('/api/query') && r.method() === 'POST', { timeout: 60_000 });
    await panel.locator('[data-action="run"]').click();
    const request = (await sent).postDataJSON() as { geometry: GeoJSON.Polygon; layers: string[] };
    expect(request.layers).toEqual(['addresses', 'cameras']);
    expect(request.geometry.type).toBe('Polygon');
    // The same query straight to the server: the panel shows its counts.
    const direct = (await (await browser.fetch(`${server.url}/api/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) })).json()) as {
      layers: { layer: string; count: number }[];
    };
    const results = panel.locator('.results');
    await results.waitFor({ timeout: 60_000 });
    for (const l of direct.layers) {
      expect(await results.locator(`[data-count-layer="${l.layer}"] strong`).innerText()).toBe(String(l.count));
    }
    expect(direct.layers.find((l) => l.layer === 'cameras')!.count, 'cameras in a 400×300 px box on 海虞北路').toBeGreaterThan(0);

    // a row → the feature is selected and the map flies to it
    const row = results.locator('tbody tr').first();
    const key = (await row.getAttribute('data-row'))!;
    const camBefore = await page.evaluate(() => document.documentElement.dataset.camera);
    await row.click();
    await expect.poll(() => row.getAttribute('class'), { timeout: 10_000 }).toContain('focused');
    await page.locator(`.feature-info[data-layer="${key.split('/')[0]}"]`).waitFor({ timeout: 30_000 });
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.camera), { timeout: 30_000 }).not.toBe(camBefore);

    // CSV export: a download, UTF-8 with BOM, one row per feature found
    const download = page.waitForEvent('download', { timeout: 120_000 });
    await results.locator('[data-export="csv"]').click();
    const file = await (await download).path();
    const bytes = readFileSync(file);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.toString('utf8').slice(1).trim().split(/\r?\n/);
    expect(lines[0]).toMatch(/^layer,id,lon,lat/);
    const total = direct.layers.reduce((n, l) => n + l.count, 0);
    expect(lines.length - 1).toBe(total);
  }, 400_000);

  it('the hot-spot layer draws a density grid in 2D and follows the time slider', async () => {
    const { page } = browser;
    await page.goto(`${server.url}/?lon=${CENTRE.lon}&lat=${CENTRE.lat}&zoom=12&layers=towns`);
    await waitForMap(page);
    const before = hotPixels(decodePng(await page.screenshot()));
    await page.getByRole('button', { name: '事件热点' }).click();
    const first = page.waitForResponse((r) => r.url().includes('/api/hotspots?'), { timeout: 120_000 });
    await page.getByRole('checkbox', { name: '显示事件热点' }).check();
    const body = (await (await first).json()) as { count: number; window: { from: string; to: string }; clusters: unknown[] };
    expect(body.count).toBeGreaterThan(0);
    const control = page.locator('.hotspot-control[data-state="ready"]');
    await control.waitFor({ timeout: 60_000 });
    expect(await control.innerText()).toContain(`${body.count} 起事件，${body.clusters.length} 个聚集区`);
    let after = 0;
    for (let i = 0; i < 20 && after < before + 2000; i++) { await settle(page); after = hotPixels(decodePng(await page.screenshot())); }
    expect(after, `hot-spot pixels before ${before}, after ${after}`).toBeGreaterThan(before + 2000);

    // one day back on the slider → a new window, one day earlier
    const next = page.waitForResponse((r) => r.url().includes('/api/hotspots?') && r.url().includes('from='), { timeout: 60_000 });
    const slider = page.getByRole('slider', { name: '滑动时间窗口（按天）' });
    await slider.focus();
    await page.keyboard.press('ArrowLeft');
    const url = new URL((await next).url());
    const to = Date.parse(url.searchParams.get('to')!);
    const from = Date.parse(url.searchParams.get('from')!);
    expect((to - from) / 86_400_000).toBe(30);
    expect(to).toBeLessThan(Date.parse(body.window.to));

    await page.getByRole('checkbox', { name: '显示事件热点' }).uncheck();
    let off = after;
    for (let i = 0; i < 20 && off > before + 500; i++) { await settle(page); off = hotPixels(decodePng(await page.screenshot())); }
    expect(off, `hot-spot pixels after turning it off (was ${after}, map alone ${before})`).toBeLessThan(before + 500);
  }, 400_000);

  it('the hot-spot layer draws on the 3D globe too', async () => {
    const { page } = browser;
    await page.goto(`${server.url}/?view=3d&lon=${CENTRE.lon}&lat=${CENTRE.lat}&zoom=12&layers=towns`);
    // Software WebGL: a Cesium globe with terrain takes a while on a shared 2-core machine.
    await page.waitForFunction(() => document.documentElement.dataset.engine === '3d' && document.documentElement.dataset.engineReady === '1',
      null, { timeout: 300_000, polling: 500 });
    await settle(page, 1500);
    const before = hotPixels(decodePng(await page.screenshot()));
    await page.getByRole('button', { name: '事件热点' }).click();
    const first = page.waitForResponse((r) => r.url().includes('/api/hotspots?'), { timeout: 120_000 });
    await page.getByRole('checkbox', { name: '显示事件热点' }).check();
    await first;
    let after = 0;
    for (let i = 0; i < 40 && after < before + 2000; i++) { await settle(page, 1000); after = hotPixels(decodePng(await page.screenshot())); }
    expect(after, `3D hot-spot pixels before ${before}, after ${after}`).toBeGreaterThan(before + 2000);
  }, 500_000);
});
