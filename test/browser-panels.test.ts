// The side panels in a real browser (Chromium, software WebGL, the 2D engine): the layer catalog
// toggles a layer on the map and filters its tree by search, a click on a camera opens its feature
// info, the measure tool measures a distance — all in Chinese, and no request leaves 127.0.0.1.
// Needs: geodata/build (npm run data && npm run tiles) and Debian packages chromium + fonts-noto-cjk.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { getLayer } from '../layers/catalog.ts';
import { countColour, decodePng, useBrowserFixture } from './helpers/browser.ts';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'test-results');
/** The map right of the side panels (340 px from x = 12), clear of the title bar, the controls and the readouts. */
const MAP_REGION = { x: 370, y: 60, width: 820, height: 620 };

async function waitForMap(page: Page): Promise<void> {
  await page.waitForFunction(() => document.documentElement.dataset.mapReady === '1', null, { timeout: 120_000, polling: 250 });
  await settle(page);
}

/** Lets deck.gl draw the frames that follow the last change. */
async function settle(page: Page, ms = 500): Promise<void> {
  await page.evaluate((wait) => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, wait)))), ms);
}

/**
 * Clicks the map at (x, y), runs `after` once, then polls `done` (cheap checks only: every pointer move
 * costs a picking pass, slow in software WebGL). Up to `attempts` clicks: under heavy load a click may
 * still be read as a drag. A click that never takes effect fails the test.
 */
async function clickMapUntil(page: Page, x: number, y: number, done: () => Promise<boolean>,
  after: () => Promise<void> = async () => {}, attempts = 3): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    await page.mouse.move(x - 3, y - 3);
    await page.mouse.move(x, y);
    await settle(page, 300);
    await page.mouse.click(x, y);
    await after();
    for (let t = 0; t < 40; t++) {
      if (await done()) return true;
      await page.waitForTimeout(250);
    }
  }
  return false;
}

/** "当前：1.25 公里" → 1250, "当前：850 米" → 850, anything else → 0. */
function runningMetres(text: string): number {
  const m = /([\d.]+) (米|公里)/.exec(text);
  return m ? Number(m[1]) * (m[2] === '公里' ? 1000 : 1) : 0;
}

async function screenshot(page: Page, name: string) {
  const png = await page.screenshot();
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, `${name}.png`), png);
  return decodePng(png);
}

describe('side panels', () => {
  // The operator: the catalog lists every staff layer, cameras among them. The fixture fails a test on a
  // request leaving 127.0.0.1 or an uncaught page error.
  const { srv: server, browser } = useBrowserFixture({ user: 'operator' });

  it('toggles a layer on the map and filters the catalog by search', async () => {
    const { page } = browser;
    await page.goto(`${server.url}/`);
    await waitForMap(page);
    const water = getLayer('water')!.style.fill!;
    const waterPixels = async (name: string) => countColour(await screenshot(page, name), water, 4, MAP_REGION);
    /** Screenshots until `ok(count)` or ~20 s: tiles are cached, but a frame can be slow in software. */
    const waitForWater = async (name: string, ok: (n: number) => boolean) => {
      let n = -1;
      for (let i = 0; i < 20 && !ok(n); i++) { await settle(page); n = await waterPixels(name); }
      return n;
    };

    const before = await waterPixels('panels-water-on');
    expect(before, 'water pixels with 水系 on').toBeGreaterThan(2000);

    // Chinese catalog: department groups with counts, legend categories translated.
    const catalog = page.locator('.layer-catalog');
    const text = await catalog.innerText();
    for (const s of ['按部门', '按主题', '水务局', '民政局', '公安局', '水系', '在线', '离线', '故障', '主干路']) expect(text).toContain(s);
    expect(text).toMatch(/\d+\/\d+ 可见/);

    const box = page.getByRole('checkbox', { name: '水系', exact: true });
    await expect(box.isChecked()).resolves.toBe(true);
    await box.uncheck();
    const off = await waitForWater('panels-water-off', (n) => n >= 0 && n < before * 0.1);
    expect(off, `water pixels with 水系 off (was ${before})`).toBeLessThan(before * 0.1);
    await box.check();
    const on = await waitForWater('panels-water-back', (n) => n > before * 0.8);
    expect(on, `water pixels with 水系 back on (was ${before})`).toBeGreaterThan(before * 0.8);

    // Search by Chinese title, English title, department; no match says so.
    const search = page.getByRole('searchbox', { name: '搜索图层' });
    const shown = () => catalog.locator('.layer').evaluateAll((els) => els.filter((e) => (e as HTMLElement).offsetParent).map((e) => (e as HTMLElement).dataset.layer));
    await search.fill('视频');
    await expect(shown()).resolves.toEqual(['cameras']);
    await search.fill('Water');
    await expect(shown()).resolves.toEqual(['water']);
    await search.fill('民政局');
    await expect(shown()).resolves.toEqual(['towns', 'villages', 'places', 'addresses']);
    await search.fill('不存在的图层');
    await expect(shown()).resolves.toEqual([]);
    expect(await catalog.innerText()).toContain('没有与“不存在的图层”匹配的图层');
    await search.fill('');
    expect((await shown()).length).toBeGreaterThan(10);

    // Grouping by theme, and the data source in a layer's details.
    await page.getByRole('button', { name: '按主题' }).click();
    expect(await catalog.locator('.group-title').allInnerTexts()).toEqual(expect.arrayContaining(['基础底图', '物联感知', '行政区划与网格']));
    const details = page.getByRole('button', { name: '水系 的详情' });
    await expect(details.getAttribute('aria-expanded')).resolves.toBe('false');
    await details.click();
    await expect(details.getAttribute('aria-expanded')).resolves.toBe('true');
    expect(await catalog.innerText()).toContain(getLayer('water')!.sourceNote);
  }, 300_000);

  it('opens a camera’s info on click, and Escape closes it', async () => {
    const { page } = browser;
    const res = await browser.fetch(`${server.url}/ogc/collections/cameras/items?limit=1`);
    const cam = ((await res.json()) as GeoJSON.FeatureCollection<GeoJSON.Point>).features[0];
    const [lon, lat] = cam.geometry.coordinates;
    const props = cam.properties as { name: string; status: string };
    const points = page.waitForResponse((r) => r.url().endsWith('/data/cameras.fgb'), { timeout: 120_000 });
    await page.goto(`${server.url}/?lon=${lon}&lat=${lat}&zoom=16&layers=cameras`);
    await waitForMap(page);
    await (await points).finished();
    await settle(page, 1000);

    const info = page.locator('.feature-info');
    const size = page.viewportSize()!;
    const opened = await clickMapUntil(page, size.width / 2, size.height / 2, async () => (await info.count()) > 0);
    await screenshot(page, 'panels-camera-info');
    expect(opened, 'feature info opened after clicking the camera').toBe(true);
    const text = await info.innerText();
    expect(text).toContain('视频监控');
    expect(text).toContain(props.name);
    expect(text).toContain({ online: '在线', offline: '离线', fault: '故障' }[props.status] ?? props.status);
    for (const s of ['朝向', '视场角', '可视距离', '安装高度', '视域范围']) expect(text).toContain(s);
    // focus moved into the panel; Escape closes it
    expect(await page.evaluate(() => !!document.activeElement?.closest('.feature-info'))).toBe(true);
    await page.keyboard.press('Escape');
    await expect(info.count()).resolves.toBe(0);
  }, 300_000);

  it('highlights the building under a resting pointer, and a click on it opens its info', async () => {
    // The 2D map draws tiles as a picture (fills and lines, drawn once per tile) under a vector layer
    // kept for labels and picking: the highlight and the click must still find the feature itself.
    const { page } = browser;
    const res = await browser.fetch(`${server.url}/ogc/collections/buildings/items?bbox=120.74,31.64,120.76,31.66&limit=1`);
    const building = ((await res.json()) as GeoJSON.FeatureCollection<GeoJSON.Polygon>).features[0];
    const ring = building.geometry.coordinates[0];
    const lon = ring.reduce((a, p) => a + p[0], 0) / ring.length, lat = ring.reduce((a, p) => a + p[1], 0) / ring.length;
    await page.goto(`${server.url}/?lon=${lon}&lat=${lat}&zoom=19&layers=buildings`);
    await waitForMap(page);
    await settle(page, 1000);
    const size = page.viewportSize()!;
    const [cx, cy] = [size.width / 2, size.height / 2];
    const around = { x: cx - 60, y: cy - 60, width: 120, height: 120 };
    // The hover colour (255, 200, 0 at 110/255) over the building fill.
    const fill = getLayer('buildings')!.style.fill!;
    const a = 110 / 255;
    const hovered = [0, 1, 2].map((i) => Math.round([255, 200, 0][i] * a + fill[i] * (1 - a)));
    const before = countColour(await screenshot(page, 'panels-building-before-hover'), hovered, 10, around);
    let after = 0;
    for (let i = 0; i < 20 && after < 500; i++) {
      await page.mouse.move(cx - 2 + (i % 2) * 4, cy);
      await settle(page, 500);
      after = countColour(await screenshot(page, 'panels-building-hover'), hovered, 10, around);
    }
    expect(before, 'highlight-coloured pixels before hovering').toBeLessThan(50);
    expect(after, 'highlight-coloured pixels with the pointer resting on the building').toBeGreaterThan(500);

    const info = page.locator('.feature-info');
    const opened = await clickMapUntil(page, cx, cy, async () => (await info.count()) > 0);
    expect(opened, 'feature info opened after clicking the building').toBe(true);
    expect(await info.innerText()).toContain(getLayer('buildings')!.title);
  }, 300_000);

  it('measures a distance on the map', async () => {
    const { page } = browser;
    // A street-level view (zoom 16) with few layers: clicks are picked quickly.
    await page.goto(`${server.url}/?lon=120.7&lat=31.6&zoom=16&layers=roads`);
    await waitForMap(page);
    await page.getByRole('button', { name: '测量与绘制' }).click();
    await page.getByRole('button', { name: '测距离' }).click();
    await expect(page.getByRole('button', { name: '测距离' }).getAttribute('aria-pressed')).resolves.toBe('true');
    const running = page.locator('.measure-tool .running');
    const a = { x: 500, y: 300 }, b = { x: 900, y: 300 };
    // 400 px at zoom 16 on this latitude; deck.gl zooms count 512-px tiles: the equator is 512 × 2^z px long.
    const lat = 31.6;
    const expected = (400 * 40_075_016.686 * Math.cos((lat * Math.PI) / 180)) / (512 * 2 ** 16);
    // The first point is in once moving the pointer shows a running length.
    const first = await clickMapUntil(page, a.x, a.y, async () => runningMetres(await running.innerText()) > 0,
      () => page.mouse.move(a.x + 50, a.y, { steps: 2 }));
    expect(first, 'first measure point placed').toBe(true);
    // With B placed, pointing back near A makes the running length A→B→pointer (≈ 1.9 × AB); without it, ≈ 0.1 × AB.
    const second = await clickMapUntil(page, b.x, b.y, async () => runningMetres(await running.innerText()) > expected,
      () => page.mouse.move(a.x + 50, a.y + 10, { steps: 2 }));
    expect(second, 'second measure point placed').toBe(true);
    await page.keyboard.press('Enter');
    const result = page.locator('.measure-tool .results li');
    await expect(result.count()).resolves.toBe(1);
    await screenshot(page, 'panels-measure');
    const text = await result.innerText();
    expect(text).toContain('距离 1');
    const m = /([\d.]+) 米/.exec(text);
    expect(m, `a length in 米 in "${text}"`).not.toBeNull();
    expect(Math.abs(Number(m![1]) / expected - 1), `measured ${m![1]} m, expected ≈ ${expected.toFixed(0)} m`).toBeLessThan(0.05);
    expect(await page.getByRole('button', { name: '下载 GeoJSON' }).count()).toBe(1);
  }, 300_000);
});
