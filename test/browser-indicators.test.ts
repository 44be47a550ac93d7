// The city indicators in the client (issue 10 item 4, H7), in Chromium against a real server on the built data:
//  1. a planner adds an indicator through the "新增指标" form — a formula error is shown at the position the server
//     reports for the same text, the preview lists every town coloured by the thresholds typed, and after saving
//     the indicator is in the panel's list with a value for every town;
//  2. the map, coloured by that indicator per town (2D), is drawn, and at points sampled inside each town the
//     screen has the colour of that town's status (thresholds chosen from the data so all three colours occur);
//  3. the command-centre wall at 3840×2160 shows the town indicator panel with the API's values and statuses.
//     The same choropleth on the 3D globe (Cesium) shows all three colours.
// Screenshots are kept in test-results/ (git-ignored): indicators-form-error.png,
// indicators-town-choropleth(-3d).png, indicators-wall-3840x2160.png.
// Needs: geodata/build (npm run data && npm run tiles) and Debian packages chromium + fonts-noto-cjk.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { booleanPointInPolygon } from '@turf/turf';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { openFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import { statusOf, type IndicatorDef, type IndicatorStatus, type IndicatorValue } from '../layers/indicators/model.ts';
import { createRng } from '../scripts/data/rng.ts';
import { DATA_DIR, decodePng, distinctColours, openBrowser, useBrowserFixture, type GuardedBrowser, type RgbaImage } from './helpers/browser.ts';

const W = 1280, H = 800;
/** Whole city in view, north up, only the town outlines under the choropleth (no basemap colours to confuse it). */
const VIEW = { lon: 120.78, lat: 31.66, zoom: 9.6 };
const NEW_ID = 'town_area_test';
const ARTIFACTS = resolve(import.meta.dirname, '..', 'test-results');

interface Snapshot { at: number | null; level: string; definitions: IndicatorDef[]; values: IndicatorValue[] }

/** deck.gl's Web Mercator: 512-px world at zoom 0. */
function mercator(lon: number, lat: number, zoom: number): [number, number] {
  const s = 512 * 2 ** zoom;
  const φ = (lat * Math.PI) / 180;
  return [((lon + 180) / 360) * s, ((1 - Math.log(Math.tan(Math.PI / 4 + φ / 2)) / Math.PI) / 2) * s];
}

/** The status a screen colour shows: the choropleth's fills over the light basemap background differ by hue. */
function classify(img: RgbaImage, x: number, y: number): IndicatorStatus | null {
  const o = (Math.round(y) * img.width + Math.round(x)) * 4;
  const r = img.data[o], g = img.data[o + 1], b = img.data[o + 2];
  const max = Math.max(r, g, b), min = Math.min(r, g, b);
  if (max === 0 || (max - min) / max < 0.15) return 'none';
  const d = max - min;
  const hue = max === r ? (60 * ((g - b) / d) + 360) % 360 : max === g ? 60 * ((b - r) / d) + 120 : 60 * ((r - g) / d) + 240;
  if (hue >= 90 && hue <= 180) return 'green';
  if (hue >= 20 && hue <= 60) return 'amber';
  if (hue <= 12 || hue >= 340) return 'red';
  return null;
}

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  let v = await read();
  while (!ok(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 300));
    v = await read();
  }
  return v;
}

describe('city indicators: planner form, choropleth by town, wall panel', () => {
  // No scheduled computation: the test computes on demand, so every figure it compares is from one snapshot.
  const { srv, browser } = useBrowserFixture({ width: W, height: H, user: 'planner', server: { indicatorIntervalMs: 0 } });
  let wall: GuardedBrowser | null = null;
  afterAll(async () => { await wall?.close(); });

  async function api<T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
    const res = await browser.fetch(path, { ...init, headers: { 'Content-Type': 'application/json', ...(init?.headers as Record<string, string>) } });
    return { status: res.status, body: await res.json() as T };
  }
  const panel = (page: Page) => page.locator('[data-panel="indicators"]');

  it('a planner adds an indicator through the form: formula error at the server\'s position, preview, saved and listed', async () => {
    expect((await api('/api/indicators/compute', { method: 'POST', body: '{}' })).status).toBe(200);
    const { page } = browser;
    await page.goto(`${srv.url}/?view=2d&lon=${VIEW.lon}&lat=${VIEW.lat}&zoom=${VIEW.zoom}&bearing=0&pitch=0&layers=towns`);
    await page.waitForFunction(() => document.documentElement.dataset.mapReady === '1', null, { timeout: 180_000, polling: 250 });
    await panel(page).locator('h2 button').click({ timeout: 60_000 });
    await panel(page).locator('.indicator-panel[data-state="ready"]').waitFor({ timeout: 60_000 });
    // The built-ins are listed and the town values are those of the API.
    const town = (await api<Snapshot>('/api/indicators?level=town')).body;
    expect(town.at).not.toBeNull();
    const builtin = await panel(page).locator('select[name="indicator-id"] option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(builtin).toEqual(town.definitions.map((d) => d.id));

    await panel(page).locator('[data-action="add-indicator"]').click();
    const form = panel(page).locator('[data-form="indicator"]');
    await form.locator('input[name="name"]').fill('镇街面积（测试）');
    await form.locator('input[name="id"]').fill(NEW_ID);
    await form.locator('textarea[name="meaning"]').fill('镇（街道）的椭球面积，浏览器测试用。');
    // A formula with an error: the form marks the character the server names for the same text.
    const bad = 'area_km2 * (2 + ';
    await form.locator('textarea[name="formula"]').fill(bad);
    const server = await api<{ error: { position: number; field: string } }>('/api/indicators/preview', { method: 'POST', body: JSON.stringify({ formula: bad, level: 'town' }) });
    expect(server.status).toBe(422);
    expect(server.body.error.field).toBe('formula');
    const err = form.locator('[data-field="formula-error"]');
    await err.waitFor({ timeout: 10_000 });
    expect(await err.getAttribute('data-position')).toBe(String(server.body.error.position));
    expect(await err.locator('mark').count()).toBe(1);
    mkdirSync(ARTIFACTS, { recursive: true });
    await err.scrollIntoViewIfNeeded();
    writeFileSync(join(ARTIFACTS, 'indicators-form-error.png'), await page.locator('#sp-indicators').screenshot({ type: 'png', timeout: 60_000 }));

    // The fixed formula, thresholds at the terciles of the preview (lower is better) so all three colours occur.
    await form.locator('textarea[name="formula"]').fill('area_km2');
    await expect.poll(() => err.count()).toBe(0);
    const pv = (await api<{ values: IndicatorValue[] }>('/api/indicators/preview', { method: 'POST', body: JSON.stringify({ formula: 'area_km2', level: 'town' }) })).body.values;
    const areas = pv.map((v) => v.value).filter((v): v is number => v !== null).sort((a, b) => a - b);
    expect(areas.length).toBeGreaterThanOrEqual(6);
    const green = Math.round(areas[Math.floor(areas.length / 3)] * 10) / 10;
    const red = Math.round(areas[Math.floor((2 * areas.length) / 3)] * 10) / 10;
    expect(green).toBeLessThan(red);
    await form.locator('input[name="green"]').fill(String(green));
    await form.locator('input[name="red"]').fill(String(red));
    await form.locator('input[name="unit"]').fill('平方公里');
    await form.locator('[data-action="preview"]').click();
    const preview = form.locator('[data-field="preview"]');
    await preview.waitFor({ timeout: 60_000 });
    expect(Number(await preview.getAttribute('data-count'))).toBe(pv.length);
    const shown = await preview.locator('[data-preview-row]').evaluateAll((rs) => rs.map((r) => [(r as HTMLElement).dataset.code, (r as HTMLElement).dataset.status]));
    const draftDef = { better: 'lower' as const, thresholds: { green, red } };
    const want = new Map(pv.map((v) => [v.code, statusOf(draftDef, v.value)]));
    expect(shown.length).toBeGreaterThan(0);
    for (const [code, status] of shown) expect(status, `preview status of ${code}`).toBe(want.get(code!));

    await form.locator('[data-action="save-indicator"]').click();
    await panel(page).locator('[data-field="saved"]').waitFor({ timeout: 60_000 });
    const defs = (await api<{ items: IndicatorDef[] }>('/api/indicators/definitions')).body.items;
    const made = defs.find((d) => d.id === NEW_ID);
    expect(made, 'the new definition is stored').toBeTruthy();
    expect(made).toMatchObject({ name: '镇街面积（测试）', formula: 'area_km2', levels: ['town'], better: 'lower', thresholds: { green, red }, builtin: false, createdBy: 'planner' });
    // Listed in the panel, chosen, with a value for every town.
    await expect.poll(() => panel(page).locator('select[name="indicator-id"]').inputValue(), { timeout: 30_000 }).toBe(NEW_ID);
    const values = (await api<Snapshot>(`/api/indicators?level=town&indicator=${NEW_ID}`)).body.values;
    expect(values.length).toBe(pv.length);
    await expect.poll(() => panel(page).locator('[data-indicator-row]').count(), { timeout: 30_000 }).toBe(values.length);
  }, 900_000);

  it('colours the 2D map by town with the status of each town\'s value', async () => {
    const { page } = browser;
    const snap = (await api<Snapshot>(`/api/indicators?level=town&indicator=${NEW_ID}`)).body;
    const status = new Map(snap.values.map((v) => [v.code, v.status]));
    expect(new Set(status.values()), 'thresholds at the terciles give all three colours').toEqual(new Set(['green', 'amber', 'red']));

    await panel(page).locator('input[name="indicator-on-map"]').check();
    const hook = await until(() => page.evaluate(() => document.documentElement.dataset.indicatorMap ?? ''), (h) => h.startsWith(`${NEW_ID}|town|`), 60_000);
    expect(Number(hook.split('|')[3]), 'one area per town value').toBe(snap.values.length);
    // Fold the panels away from the map as far as they go, then let deck.gl draw.
    await page.waitForTimeout(1500);
    const png = await page.screenshot({ type: 'png', timeout: 120_000 });
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'indicators-town-choropleth.png'), png);
    const img = decodePng(png);
    expect(distinctColours(img), 'a drawn map, not a blank page').toBeGreaterThan(50);

    const cam = (await page.evaluate(() => document.documentElement.dataset.camera ?? '')).split(',').map(Number);
    const rect = await page.evaluate(() => { const r = document.querySelector('.map')!.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; });
    const [cx, cy] = mercator(cam[0], cam[1], cam[2]);
    const toScreen = (lon: number, lat: number): [number, number] => {
      const [x, y] = mercator(lon, lat, cam[2]);
      return [rect.x + rect.w / 2 + (x - cx), rect.y + rect.h / 2 + (y - cy)];
    };

    // Points inside each town (seeded), kept where the map itself is on top (not under a panel or a button).
    const file = openFlatGeobuf(new Uint8Array(readFileSync(join(DATA_DIR, 'towns.fgb'))));
    const rng = createRng(20261129).fork('indicator-samples');
    const samples: { code: string; x: number; y: number }[] = [];
    for (const f of file.features()) {
      const code = String(f.properties?.code);
      if (!status.has(code)) continue;
      const [w, s, e, n] = [Infinity, Infinity, -Infinity, -Infinity];
      const ring = (f.geometry as GeoJSON.Polygon | GeoJSON.MultiPolygon).type === 'Polygon'
        ? (f.geometry as GeoJSON.Polygon).coordinates.flat() : (f.geometry as GeoJSON.MultiPolygon).coordinates.flat(2);
      const box = ring.reduce((b, [x, y]) => [Math.min(b[0], x), Math.min(b[1], y), Math.max(b[2], x), Math.max(b[3], y)], [w, s, e, n]);
      for (let k = 0, tries = 0; k < 40 && tries < 2000; tries++) {
        const lon = box[0] + rng.next() * (box[2] - box[0]), lat = box[1] + rng.next() * (box[3] - box[1]);
        if (!booleanPointInPolygon([lon, lat], f as GeoJSON.Feature<GeoJSON.Polygon | GeoJSON.MultiPolygon>)) continue;
        const [x, y] = toScreen(lon, lat);
        if (x < 1 || y < 1 || x > W - 2 || y > H - 2) continue;
        samples.push({ code, x, y });
        k++;
      }
    }
    const onMap = await page.evaluate((pts) => pts.map(([x, y]) => !!document.elementFromPoint(x, y)?.closest('.map')), samples.map((p) => [p.x, p.y]));
    const perTown = new Map<string, { ok: number; n: number; seen: Record<string, number> }>();
    samples.forEach((p, i) => {
      if (!onMap[i]) return;
      const t = perTown.get(p.code) ?? { ok: 0, n: 0, seen: {} };
      const c = classify(img, p.x, p.y) ?? 'other';
      t.n++;
      t.seen[c] = (t.seen[c] ?? 0) + 1;
      if (c === status.get(p.code)) t.ok++;
      perTown.set(p.code, t);
    });
    const judged = [...perTown].filter(([, t]) => t.n >= 8);
    expect(judged.length, 'towns with enough visible samples').toBeGreaterThanOrEqual(Math.min(8, status.size));
    const coloursSeen = new Set<string>();
    for (const [code, t] of judged) {
      // Town outlines, labels and live markers cover a few samples; the fill colour must dominate.
      expect(t.ok / t.n, `town ${code}: expected ${status.get(code)}, screen ${JSON.stringify(t.seen)}`).toBeGreaterThanOrEqual(0.6);
      coloursSeen.add(status.get(code)!);
    }
    expect(coloursSeen.size, 'all three colours checked on screen').toBe(3);
    // The legend names the thresholds.
    const def = snap.definitions.find((d) => d.id === NEW_ID)!;
    const legend = (await panel(page).locator('[data-field="legend"] li').allTextContents()).join(' ');
    expect(legend).toContain(`≤ ${def.thresholds.green.toFixed(def.decimals)}`);
    expect(legend).toContain(`≥ ${def.thresholds.red.toFixed(def.decimals)}`);
    // The legend on the map counts the towns of each colour.
    for (const st of ['green', 'amber', 'red'] as const) {
      const n = [...status.values()].filter((x) => x === st).length;
      expect(await page.locator(`[data-indicator-legend] li[data-status="${st}"] b`).textContent(), `legend count of ${st}`).toBe(String(n));
    }
    // Switched off, the map has no choropleth.
    await panel(page).locator('input[name="indicator-on-map"]').uncheck();
    await until(() => page.evaluate(() => document.documentElement.dataset.indicatorMap ?? ''), (h) => h === '', 10_000);
  }, 900_000);

  it('draws the same choropleth on the 3D globe', async () => {
    const { page } = browser;
    await panel(page).locator('input[name="indicator-on-map"]').check();
    await until(() => page.evaluate(() => document.documentElement.dataset.indicatorMap ?? ''), (h) => h.startsWith(`${NEW_ID}|town|`), 60_000);
    await page.locator('.engine-switch button', { hasText: '三维' }).click();
    // Cesium in software WebGL on a shared 2-core machine: generous.
    await page.waitForFunction(() => document.documentElement.dataset.engine === '3d' && document.documentElement.dataset.globeReady === '1',
      null, { timeout: 240_000, polling: 500 });
    // Ground primitives are built asynchronously (web workers): wait until the three colours are on screen.
    const counts = await until(async () => {
      const img = decodePng(await page.screenshot({ type: 'png', timeout: 120_000 }));
      const c: Record<string, number> = { green: 0, amber: 0, red: 0 };
      for (let y = 60; y < H - 60; y += 3) for (let x = 370; x < W - 80; x += 3) { const k = classify(img, x, y); if (k && k in c) c[k]++; }
      return c;
    }, (c) => c.green > 500 && c.amber > 500 && c.red > 500, 120_000);
    writeFileSync(join(ARTIFACTS, 'indicators-town-choropleth-3d.png'), await page.screenshot({ type: 'png', timeout: 120_000 }));
    expect(counts.green, `sampled pixels per status ${JSON.stringify(counts)}`).toBeGreaterThan(500);
    expect(counts.amber, `sampled pixels per status ${JSON.stringify(counts)}`).toBeGreaterThan(500);
    expect(counts.red, `sampled pixels per status ${JSON.stringify(counts)}`).toBeGreaterThan(500);
    expect(Number(await page.evaluate(() => document.documentElement.dataset.mapErrors ?? '0')), 'engine errors').toBe(0);
  }, 900_000);

  it('shows the indicators by town on the wall at 3840×2160', async () => {
    wall = await openBrowser(srv.url, { width: 3840, height: 2160, user: 'operator' });
    const page = wall.page;
    const cols = ['incidents_per_10k', 'closed_on_time_rate', NEW_ID];
    await page.goto(`${srv.url}/?layout=wall&indicators=${cols.join(',')}`);
    await page.waitForFunction(() => !!document.documentElement.dataset.wallTownIndicatorsAt, null, { timeout: 180_000, polling: 250 });
    const snap = (await api<Snapshot>('/api/indicators?level=town')).body;
    const table = await page.evaluate(() => {
      const el = document.querySelector('[data-wall-town-indicators]')!;
      const r = el.getBoundingClientRect();
      const col = el.closest('.wall-col')!.getBoundingClientRect();
      const cells = [...el.querySelectorAll<HTMLElement>('td[data-ti]')];
      // Nothing covers the table and nothing of it is cut off: the first and the last cell are on top at their centres.
      const onTop = (td: HTMLElement | undefined) => {
        if (!td) return false;
        const c = td.getBoundingClientRect();
        return document.elementFromPoint(c.x + c.width / 2, c.y + c.height / 2) === td && c.bottom <= col.bottom && c.top >= col.top;
      };
      return {
        box: { top: r.top, bottom: r.bottom, left: r.left, right: r.right },
        columns: [...el.querySelectorAll<HTMLElement>('[data-ti-column]')].map((h) => h.dataset.tiColumn),
        rows: [...el.querySelectorAll<HTMLElement>('[data-ti-town]')].map((row) => ({
          code: row.dataset.tiTown!,
          cells: [...row.querySelectorAll<HTMLElement>('td[data-ti]')].map((td) => [td.dataset.ti, td.dataset.status, td.textContent!.trim()]),
        })),
        fontPx: cells[0] ? parseFloat(getComputedStyle(cells[0]).fontSize) : 0,
        visible: onTop(cells[0]) && onTop(cells[cells.length - 1]),
      };
    });
    expect(table.columns).toEqual(cols);
    const towns = new Set(snap.values.filter((v) => cols.includes(v.indicator)).map((v) => v.code));
    expect(table.rows.map((r) => r.code).sort()).toEqual([...towns].sort());
    const defs = new Map(snap.definitions.map((d) => [d.id, d]));
    const byKey = new Map(snap.values.map((v) => [`${v.indicator}|${v.code}`, v]));
    for (const row of table.rows) {
      for (const [id, st, text] of row.cells) {
        const v = byKey.get(`${id}|${row.code}`);
        expect(st, `${id} of ${row.code}`).toBe(v?.status ?? 'none');
        expect(text, `${id} of ${row.code}`).toBe(v?.value === null || v === undefined ? '—' : v.value.toFixed(defs.get(id!)!.decimals));
      }
    }
    expect(new Set(table.rows.flatMap((r) => r.cells.map((c) => c[1]))).size, 'several statuses on the wall').toBeGreaterThan(1);
    expect(table.fontPx, 'readable across the room').toBeGreaterThanOrEqual(24);
    expect(table.box.bottom).toBeLessThanOrEqual(2160);
    expect(table.box.top).toBeGreaterThanOrEqual(0);
    expect(table.visible, 'the first and the last cell are on screen, inside the column, not covered').toBe(true);
    writeFileSync(join(ARTIFACTS, 'indicators-wall-3840x2160.png'), await page.screenshot({ type: 'png', timeout: 240_000 }));
    wall.expectLocalOnly();
  }, 900_000);
});
