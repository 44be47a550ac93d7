// The planner's editor in a real browser (Chromium, software WebGL, the 2D engine) against the real server
// (issue 8 "done when"): open a grid from the map, drag a vertex it shares with a neighbouring grid of the
// same village (topological editing moves both; the map must not pan meanwhile), save → one atomic batch,
// both stored at version 1 with the vertex where it was dropped, the overlay tiles are fetched again with
// ?rev=N. Then another planner saves the same grid over HTTP: the editor warns that it changed (live /ws
// feed), a save based on the old version answers 409, the conflict dialog shows both, "keep mine" saves on
// top of the current version, and nothing is lost. Last, a department's Gauss–Krüger shapefile (GBK .dbf)
// is uploaded in the import dialog: the preview names its CRS and finds no problem, and applying it adds
// every feature at once. No request leaves 127.0.0.1.
// Needs: geodata/build (npm run data && npm run tiles) and Debian packages chromium + fonts-noto-cjk.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { booleanPointInPolygon } from '@turf/turf';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EditFeature } from '../layers/editing/model.ts';
import { openFlatGeobuf, type FgbFile } from '../layers/formats/flatgeobuf.ts';
import { DATA_DIR, useBrowserFixture } from './helpers/browser.ts';
import { asUser, TEST_PASSWORD } from './helpers/session.ts';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'test-results');
const SIZE = { width: 1280, height: 800 };
const ZOOM = 17;

type Pos = [number, number];
const key = (p: GeoJSON.Position) => `${p[0]},${p[1]}`;

function readFgb(name: string): FgbFile {
  const b = readFileSync(join(DATA_DIR, name));
  return openFlatGeobuf(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
}

/**
 * A vertex shared by exactly two grids of one village whose ring neighbours are shared too (an inner vertex
 * of their common boundary, not on the village's edge), and a move of about 12 m towards the middle of it
 * and its two ring neighbours: moving it in both grids keeps them a partition of the village.
 */
function sharedVertex(grids: FgbFile): { a: GeoJSON.Feature; b: GeoJSON.Feature; v: Pos; to: Pos } {
  const feats = [...grids.features()].filter((f) => f.geometry.type === 'Polygon');
  const owners = new Map<string, Set<number>>();
  feats.forEach((f, i) => {
    for (const p of (f.geometry as GeoJSON.Polygon).coordinates[0]) {
      let s = owners.get(key(p));
      if (!s) owners.set(key(p), (s = new Set()));
      s.add(i);
    }
  });
  for (let i = 0; i < feats.length; i++) {
    const f = feats[i];
    const ring = (f.geometry as GeoJSON.Polygon).coordinates[0];
    for (let k = 1; k < ring.length - 2; k++) {
      const own = owners.get(key(ring[k]))!;
      if (own.size !== 2) continue;
      const j = [...own].find((x) => x !== i)!;
      if (feats[j].properties!.village_code !== f.properties!.village_code) continue;
      const both = (p: GeoJSON.Position) => { const o = owners.get(key(p))!; return o.size === 2 && o.has(i) && o.has(j); };
      if (!both(ring[k - 1]) || !both(ring[k + 1])) continue;
      const prev = ring[k - 1], next = ring[k + 1];
      const c = [(prev[0] + ring[k][0] + next[0]) / 3, (prev[1] + ring[k][1] + next[1]) / 3];
      const d = Math.hypot((c[0] - ring[k][0]) * 0.85, c[1] - ring[k][1]);
      // About 12 m (≈ 24 px at zoom 17): clear of the handle's own hit radius, short of the neighbours.
      const step = Math.min(1.1e-4 / d, 0.4);
      if (!Number.isFinite(step) || d < 1.5e-4) continue;
      return { a: f, b: feats[j], v: [ring[k][0], ring[k][1]], to: [ring[k][0] + step * (c[0] - ring[k][0]), ring[k][1] + step * (c[1] - ring[k][1])] };
    }
  }
  throw new Error('no inner shared grid vertex in grids.fgb: rebuild the data (npm run data)');
}

/** Screen position of a place in deck.gl's Web Mercator view (512-px tiles), from the camera the page reports. */
async function toScreen(page: Page, p: Pos): Promise<{ x: number; y: number }> {
  const [lon0, lat0, zoom] = (await page.evaluate(() => document.documentElement.dataset.camera ?? '')).split(',').map(Number);
  const box = (await page.locator('.map').boundingBox())!;
  const scale = (512 * 2 ** zoom) / (2 * Math.PI);
  const merc = (lat: number) => Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360));
  return {
    x: box.x + box.width / 2 + ((p[0] - lon0) * Math.PI / 180) * scale,
    y: box.y + box.height / 2 - (merc(p[1]) - merc(lat0)) * scale,
  };
}

async function settle(page: Page, ms = 400): Promise<void> {
  await page.evaluate((wait) => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, wait)))), ms);
}

/** The other planner, created by the admin for this test (the demo users have one planner). */
const OTHER_PLANNER = 'planner-other';
/** The other planner's session (a Cookie header), set in beforeAll. */
let otherCookie: Record<string, string> = {};

/** An API call as the other planner. */
async function api<T>(base: string, path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`, {
    ...init,
    headers: { 'content-type': 'application/json', ...otherCookie, ...(init.headers as Record<string, string> | undefined) },
  });
  return { status: res.status, body: (await res.json()) as T };
}

const closeTo = (p: GeoJSON.Position, q: Pos, tol: number) => Math.abs(p[0] - q[0]) <= tol && Math.abs(p[1] - q[1]) <= tol;

describe('the planner edits a grid boundary in the browser', () => {
  // The browser is the planner; the "other planner" saving over HTTP has a session of its own (otherCookie).
  const { srv: server, browser } = useBrowserFixture({ user: 'planner', width: SIZE.width, height: SIZE.height });
  const pick = sharedVertex(readFgb('grids.fgb'));
  const aId = String(pick.a.properties!.id ?? pick.a.id);
  const bId = String(pick.b.properties!.id ?? pick.b.id);

  beforeAll(async () => {
    await server.server.editing;
    const admin = await asUser(server.url, 'admin');
    const made = await fetch(`${server.url}/api/users`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...admin },
      body: JSON.stringify({ username: OTHER_PLANNER, role: 'planner', name: '另一位规划员', password: TEST_PASSWORD }),
    });
    expect(made.status, await made.text()).toBe(201);
    otherCookie = await asUser(server.url, OTHER_PLANNER);
    browser.page.on('console', (m) => { if (m.type() === 'error') console.log('page console:', m.text()); });
  }, 600_000);

  it('moves a shared vertex in both grids, saves once, and the map reloads the edited tiles', { timeout: 420_000 }, async () => {
    const { page, requests, pageErrors } = browser;
    await page.goto(`${server.url}/?lon=${pick.v[0]}&lat=${pick.v[1]}&zoom=${ZOOM}&layers=towns,villages,grids`);
    await page.waitForFunction(() => document.documentElement.dataset.mapReady === '1', null, { timeout: 180_000, polling: 250 });
    await settle(page);

    // Open the editor on the grids layer, snapping off (the drop point must be exactly where the mouse lets go).
    await page.locator('[data-panel="editor"] h2 button').click();
    await page.locator('[data-action="edit-start"]').click();
    await page.locator('[data-edit="layer"]').selectOption('grids');
    await page.locator('.edit-toolbar details.snap summary').click();
    for (const box of await page.locator('[data-snap]').all()) if (await box.isChecked()) await box.click();

    // Click inside grid a, near the shared vertex, until the editor has it open (a click under load may read as a drag).
    console.log(`editing grid ${aId}; it shares vertex ${pick.v.join(',')} with grid ${bId}`);
    mkdirSync(OUT, { recursive: true });
    const ring = (pick.a.geometry as GeoJSON.Polygon).coordinates;
    let inside: Pos | null = null;
    for (let k = 0; k < 24 && !inside; k++) {
      const ang = (k / 24) * 2 * Math.PI, p: Pos = [pick.v[0] + 1.5e-4 * Math.cos(ang), pick.v[1] + 1.3e-4 * Math.sin(ang)];
      if (booleanPointInPolygon(p, { type: 'Polygon', coordinates: ring }) && !booleanPointInPolygon(p, pick.b.geometry as GeoJSON.Polygon)) inside = p;
    }
    expect(inside, 'a point of grid a beside the vertex').not.toBeNull();
    const open = page.locator('[data-edit="open"]');
    for (let i = 0; i < 5 && !(await open.textContent().catch(() => ''))?.includes(aId); i++) {
      const at = await toScreen(page, inside!);
      await page.mouse.click(at.x, at.y);
      await open.waitFor({ timeout: 20_000 }).catch(() => undefined);
      await settle(page, 600);
    }
    await expect.poll(() => open.textContent(), { timeout: 30_000 }).toContain(aId);
    await page.locator('.editor-panel[data-busy="0"]').waitFor({ timeout: 30_000 });
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('.engine-host')?.dataset.editHandles ?? 0) > 3, null, { timeout: 30_000 });
    await page.locator('[data-tool="vertex"]').click();
    await settle(page);

    // Drag the shared vertex; the camera must not move.
    const camera = await page.evaluate(() => document.documentElement.dataset.camera);
    const from = await toScreen(page, pick.v), to = await toScreen(page, pick.to);
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    for (let s = 1; s <= 6; s++) { await page.mouse.move(from.x + ((to.x - from.x) * s) / 6, from.y + ((to.y - from.y) * s) / 6); await settle(page, 50); }
    await page.mouse.up();
    await settle(page);
    expect(await page.evaluate(() => document.documentElement.dataset.camera)).toBe(camera);
    await expect.poll(() => page.locator('.editor-panel').getAttribute('data-dirty')).toBe('1');
    // Topology on (the default): the neighbour moves too, so two changes are saved together.
    await expect.poll(() => page.locator('.editor-panel .pending').textContent()).toContain('2');
    // Keyboard: Ctrl+Z undoes the whole drag, Ctrl+Y brings it back.
    await page.keyboard.press('Control+z');
    await expect.poll(() => page.locator('.editor-panel').getAttribute('data-dirty')).toBe('0');
    await page.keyboard.press('Control+y');
    await expect.poll(() => page.locator('.editor-panel').getAttribute('data-dirty')).toBe('1');

    const tilesBefore = requests.urls.filter((u) => /\/tiles\/overlay\/.*rev=/.test(u)).length;
    await page.locator('[data-action="save"]').click();
    await page.locator('[data-edit="notice"]').waitFor({ timeout: 30_000 });
    expect(await page.locator('[data-edit="error"]').count()).toBe(0);
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, 'editing-saved.png'), await page.screenshot());

    // Stored: both grids at version 1, the vertex where it was dropped (within a pixel, ~0.5 m), the same in both.
    const tol = 1e-5;
    const a = await api<{ feature: EditFeature; version: number }>(server.url, `/api/layers/grids/features/${encodeURIComponent(aId)}`);
    const b = await api<{ feature: EditFeature; version: number }>(server.url, `/api/layers/grids/features/${encodeURIComponent(bId)}`);
    expect([a.status, a.body.version, b.status, b.body.version]).toEqual([200, 1, 200, 1]);
    const ra = (a.body.feature.geometry as GeoJSON.Polygon).coordinates[0], rb = (b.body.feature.geometry as GeoJSON.Polygon).coordinates[0];
    const moved = ra.find((p) => closeTo(p, pick.to, tol));
    expect(moved, 'the dropped vertex in grid a').toBeDefined();
    expect(ra.some((p) => closeTo(p, pick.v, 1e-9))).toBe(false);
    expect(rb.some((p) => p[0] === moved![0] && p[1] === moved![1])).toBe(true);
    expect(rb.some((p) => closeTo(p, pick.v, 1e-9))).toBe(false);

    // The map fetched the overlay tiles again (cache-busting ?rev=N).
    await expect.poll(() => requests.urls.filter((u) => /\/tiles\/overlay\/.*rev=/.test(u)).length, { timeout: 30_000 }).toBeGreaterThan(tilesBefore);
  });

  it('warns when another planner saves the open grid, shows the conflict on save, and "keep mine" wins without losing theirs', async () => {
    const { page, requests, pageErrors } = browser;
    const cur = await api<{ feature: EditFeature; version: number }>(server.url, `/api/layers/grids/features/${encodeURIComponent(aId)}`);
    const other = await api<{ version: number }>(server.url, `/api/layers/grids/features/${encodeURIComponent(aId)}`, {
      method: 'PUT',
      body: JSON.stringify({ version: cur.body.version, feature: { ...cur.body.feature, properties: { ...cur.body.feature.properties, name: '他人修改的网格' } } }),
    });
    expect(other.status).toBe(200);
    // The live feed reaches the editor: the open feature changed under it.
    await page.locator('[data-edit="changed-under-you"]').waitFor({ timeout: 30_000 });

    await page.locator('.attribute-form [data-field="name"]').fill('编辑器保存的网格');
    await page.locator('[data-action="save"]').click();
    const dialog = page.locator('[data-dialog="conflict"]');
    await dialog.waitFor({ timeout: 30_000 });
    expect(await dialog.textContent()).toContain('他人修改的网格');
    expect(await dialog.textContent()).toContain('编辑器保存的网格');
    writeFileSync(join(OUT, 'editing-conflict.png'), await page.screenshot());
    await dialog.locator('[data-action="keep-mine"]').click();
    await page.locator('[data-edit="notice"]').waitFor({ timeout: 30_000 });

    const after = await api<{ feature: EditFeature; version: number }>(server.url, `/api/layers/grids/features/${encodeURIComponent(aId)}`);
    expect(after.body.version).toBe(other.body.version + 1);
    expect(after.body.feature.properties.name).toBe('编辑器保存的网格');
    // Nothing lost: their version is in the history.
    const hist = await api<{ items: { version: number; feature: EditFeature | null }[] }>(server.url, `/api/layers/grids/features/${encodeURIComponent(aId)}/history`);
    expect(hist.body.items.some((h) => h.version === other.body.version && h.feature?.properties.name === '他人修改的网格')).toBe(true);

  });

  it('imports a Gauss–Krüger shapefile through the dialog: preview without problems, then all of it at once', async () => {
    const { page, requests, pageErrors } = browser;
    const fixture = join(ROOT, 'test', 'fixtures', 'import', 'facilities-4549-gbk.zip');
    // Where the file's features land (asked from the server's own preview), counted before and after.
    const pre = await browser.fetch(`${server.url}/api/imports?layer=facilities&mode=preview&filename=f.zip`, {
      method: 'POST', body: readFileSync(fixture), headers: { 'content-type': 'application/octet-stream' },
    });
    expect(pre.status).toBe(200);
    const bbox = ((await pre.json()) as { bbox: number[] }).bbox.map((v, i) => v + (i < 2 ? -1e-4 : 1e-4));
    const count = async () => (await api<GeoJSON.FeatureCollection>(server.url, `/ogc/collections/facilities/items?bbox=${bbox.join(',')}&limit=10000`)).body.features.length;
    const before = await count();

    await page.locator('[data-action="cancel"]').click();
    const dialog = page.locator('[data-dialog="import"]');
    await dialog.locator('summary').click();
    await dialog.locator('select').first().selectOption('facilities');
    await dialog.locator('[data-edit="import-file"]').setInputFiles(fixture);
    await dialog.locator('[data-action="import-preview"]').click();
    const summary = dialog.locator('[data-import="summary"]');
    await summary.waitFor({ timeout: 60_000 });
    expect(await summary.textContent()).toMatch(/共 20 条：新增 20.*有错误 0/);
    expect(await dialog.textContent()).toContain('EPSG:4549');
    await dialog.locator('[data-action="import-apply"]').click();
    await expect.poll(() => dialog.textContent(), { timeout: 60_000 }).toContain('已导入 20 个要素');
    writeFileSync(join(OUT, 'editing-imported.png'), await page.screenshot());
    expect(await count()).toBe(before + 20);

    expect(pageErrors).toEqual([]);
    expect(requests.foreign).toEqual([]);
  });
});
