// The grid manager's phone view in a real browser (Chromium at 390×844, touch, software WebGL): signed in as
// grid-{code}, the page shows that grid's open cases with the time left and not another grid's; with the
// phone's location granted inside the grid and the network OFF, a report with a photo and a patrol check-in
// queue in IndexedDB and show as 待发送; when the network returns they arrive on the server exactly once —
// one incident, with the photo (same SHA-256), and one check-in on today's track. The service worker is
// registered from / and the manifest is served. No request leaves 127.0.0.1.
// Needs: geodata/build (npm run data && npm run tiles) and Debian packages chromium + fonts-noto-cjk.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { openFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import { bboxOf, chinaDay, pointInGeometry } from '../web/src/phone/geo.ts';
import { DATA_DIR, signInContext, useBrowserFixture } from './helpers/browser.ts';
import { asUser } from './helpers/session.ts';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'test-results');
const PHOTO = readFileSync(join(ROOT, 'web', 'public', 'icons', 'icon-192.png'));

/** A point well inside a grid polygon: the first of a 9×9 lattice over its bbox that falls inside. */
function inside(g: GeoJSON.Geometry): [number, number] {
  const [w, s, e, n] = bboxOf(g);
  for (let i = 4, k = 0; k < 81; k++, i = (i + 5) % 81) {
    const lon = w + ((i % 9) + 0.5) / 9 * (e - w), lat = s + (Math.floor(i / 9) + 0.5) / 9 * (n - s);
    if (pointInGeometry(g, lon, lat)) return [Number(lon.toFixed(6)), Number(lat.toFixed(6))];
  }
  throw new Error('no interior point found');
}

function twoGrids(): { mine: { code: string; at: [number, number] }; other: { code: string; at: [number, number] } } {
  const f = openFlatGeobuf(readFileSync(join(DATA_DIR, 'grids.fgb')));
  const pick = (i: number) => { const x = f.feature(i); return { code: String(x.properties!.code), at: inside(x.geometry) }; };
  return { mine: pick(Math.floor(f.count / 2)), other: pick(0) };
}

async function settle(page: Page, ms = 400): Promise<void> {
  await page.evaluate((wait) => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, wait)))), ms);
}

describe('phone view (grid manager)', () => {
  const { srv, browser } = useBrowserFixture({ width: 390, height: 844, hasTouch: true, requireData: ['grids.fgb'] });

  it('shows only its grid, queues a report and a check-in offline and delivers each once', async () => {
    const { mine, other } = twoGrids();
    await srv.server.incidents;
    const op = { ...(await asUser(srv.url, 'operator')), 'content-type': 'application/json' };
    const file = async (at: [number, number], title: string) => {
      const r = await fetch(`${srv.url}/api/incidents`, { method: 'POST', headers: op, body: JSON.stringify({ lon: at[0], lat: at[1], category: '0101', title, description: '', source: 'hotline' }) });
      expect(r.status, await r.clone().text()).toBe(201);
      return (await r.json()) as { id: string; code: string; gridCode: string };
    };
    const ours = await file(mine.at, '本网格井盖缺失');
    const theirs = await file(other.at, '别的网格井盖缺失');
    expect(ours.gridCode).toBe(mine.code);
    expect(theirs.gridCode).toBe(other.code);
    const inGrid = async () => ((await (await fetch(`${srv.url}/api/incidents?grid=${mine.code}&limit=100`, { headers: op })).json()) as { items: { id: string; title: string; source: string }[] }).items;

    const { context, page } = browser;
    const user = await signInContext(context, srv.url, `grid-${mine.code}`);
    expect(user.grids).toEqual([mine.code]);
    await context.grantPermissions(['geolocation'], { origin: srv.url });
    await context.setGeolocation({ longitude: mine.at[0], latitude: mine.at[1], accuracy: 8 });

    await page.goto(`${srv.url}/?layout=phone`);
    await page.locator(`[data-incident="${ours.id}"]`).waitFor({ timeout: 120_000 });
    expect(await page.locator(`[data-incident="${theirs.id}"]`).count(), "another grid's case is not shown").toBe(0);
    expect(await page.locator(`[data-incident="${ours.id}"] .left`).innerText()).toMatch(/剩|超时/);
    await page.waitForFunction(() => document.documentElement.dataset.mapReady === '1', null, { timeout: 180_000, polling: 250 });
    // The service worker is ours, from the root, and the manifest is served as a manifest.
    await page.waitForFunction(() => navigator.serviceWorker.getRegistration().then((r) => !!r?.active), null, { timeout: 60_000 });
    expect(await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r?.scope))).toBe(`${srv.url}/`);
    const manifest = await fetch(`${srv.url}/manifest.webmanifest`);
    expect(manifest.headers.get('content-type')).toMatch(/^application\/manifest\+json/);
    await settle(page, 800);
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, 'phone-cases.png'), await page.screenshot());

    // Network off: report with a photo, then check in on patrol.
    await context.setOffline(true);
    await page.locator('[data-tab="report"]').click();
    await page.locator('[data-category="1101"]').click();
    await page.locator('[data-location][data-in-grid="1"]').waitFor({ timeout: 20_000 });
    await page.locator('input[name="photo"]').setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer: PHOTO });
    writeFileSync(join(OUT, 'phone-report.png'), await page.screenshot());
    await page.locator('form[data-form="phone-report"] button[type="submit"]').click();
    await page.locator('[data-outbox-count]', { hasText: '待发送 1' }).waitFor({ timeout: 10_000 });
    await page.locator('[data-tab="patrol"]').click();
    await page.locator('[data-action="checkin"]').click();
    await page.locator('[data-outbox-count]', { hasText: '待发送 2' }).waitFor({ timeout: 20_000 });
    await settle(page, 300);
    writeFileSync(join(OUT, 'phone-offline.png'), await page.screenshot());
    // Nothing reached the server while offline (the outbox also retried on its timer meanwhile).
    await page.waitForTimeout(6_000);
    expect((await inGrid()).map((i) => i.id)).toEqual([ours.id]);
    expect(await page.evaluate(() => document.documentElement.dataset.outbox)).toBe('2');

    // Network back: the `online` event sends both; nothing is left and nothing doubled.
    await context.setOffline(false);
    await page.waitForFunction(() => document.documentElement.dataset.outbox === '0', null, { timeout: 60_000, polling: 250 });
    expect(await page.locator('[data-outbox-count]').count()).toBe(0);
    const after = await inGrid();
    expect(after).toHaveLength(2);
    const reported = after.find((i) => i.id !== ours.id)!;
    expect(reported).toMatchObject({ title: '暴露垃圾', source: 'grid' });
    const detail = (await (await fetch(`${srv.url}/api/incidents/${reported.id}`, { headers: op })).json()) as { incident: { reporter: { id: string } }; attachments: { sha256: string; kind: string }[] };
    expect(detail.incident.reporter.id).toBe(`grid-${mine.code}`);
    expect(detail.attachments.map((a) => [a.kind, a.sha256])).toEqual([['before', createHash('sha256').update(PHOTO).digest('hex')]]);
    const me = await asUser(srv.url, `grid-${mine.code}`);
    const track = (await (await fetch(`${srv.url}/api/patrols/track?date=${chinaDay(Date.now())}`, { headers: me })).json()) as { points: { lon: number; lat: number }[] };
    expect(track.points).toHaveLength(1);
    expect(track.points[0].lon).toBeCloseTo(mine.at[0], 6);

    // A reload (and another online flush) sends nothing again.
    await page.reload();
    await page.locator(`[data-incident="${reported.id}"]`).waitFor({ timeout: 60_000 });
    await page.evaluate(() => window.dispatchEvent(new Event('online')));
    await settle(page, 1500);
    expect(await inGrid()).toHaveLength(2);
    writeFileSync(join(OUT, 'phone-after.png'), await page.screenshot());

    // Offline again, a fresh load comes from the service worker: the app shell, the grid and the last cases.
    await context.setOffline(true);
    const fromWorker: string[] = [];
    const onResponse = (r: import('playwright-core').Response) => { if (r.fromServiceWorker() && r.ok() && /\/tiles\/\w+\/\d+\//.test(r.url())) fromWorker.push(r.url()); };
    page.on('response', onResponse);
    await page.reload();
    await page.locator(`[data-incident="${reported.id}"]`).waitFor({ timeout: 60_000 });
    expect(await page.locator('.phone').getAttribute('data-online')).toBe('0');
    await page.waitForFunction(() => document.documentElement.dataset.mapReady === '1', null, { timeout: 120_000, polling: 250 });
    page.off('response', onResponse);
    expect(fromWorker.length, 'the map drew tiles of the grid from the service worker while offline').toBeGreaterThan(0);
    await settle(page, 800);
    writeFileSync(join(OUT, 'phone-offline-reload.png'), await page.screenshot());
    await context.setOffline(false);

    // Without ?layout=, a grid manager on a narrow screen gets the phone view too.
    await page.goto(`${srv.url}/`);
    await page.locator(`.phone[data-grid="${mine.code}"]`).waitFor({ timeout: 60_000 });
  }, 600_000);
});
