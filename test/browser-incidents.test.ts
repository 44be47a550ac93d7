// The operator's board in a real browser (Chromium, software WebGL, the 2D engine): report an incident by
// clicking the map → it is filed (201), appears in the queue and as a marker on the map; open it from the
// queue (the map flies there and the lookup card answers for its place) → register → the dispatch
// candidates come with their reasons → dispatch the first → the case is dispatched to them, its marker
// turns the dispatched colour and the timeline holds every step. No request leaves 127.0.0.1.
// Needs: geodata/build (npm run data && npm run tiles) and Debian packages chromium + fonts-noto-cjk.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { STATUS_COLOURS } from '../web/src/map/incident-overlay.ts';
import { countColour, decodePng, signInContext, useBrowserFixture, type Region } from './helpers/browser.ts';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'test-results');
const SIZE = { width: 1280, height: 800 };
/** Right of the side panels (340 px from x = 12), clear of the title bar and the controls. */
const CLICK = { x: 800, y: 420 };
const around = (p: { x: number; y: number }, r = 24): Region => ({ x: p.x - r, y: p.y - r, width: 2 * r, height: 2 * r });

async function settle(page: Page, ms = 500): Promise<void> {
  await page.evaluate((wait) => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, wait)))), ms);
}

async function shot(page: Page, name: string) {
  const png = await page.screenshot();
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, `${name}.png`), png);
  return decodePng(png);
}

/** Screenshots until at least `min` pixels of `rgb` are near `p` (deck.gl redraws a frame or two later in software). */
async function waitForColour(page: Page, name: string, rgb: readonly number[], p: { x: number; y: number }, min: number): Promise<number> {
  let n = 0;
  for (let i = 0; i < 20 && n < min; i++) { await settle(page, 400); n = countColour(await shot(page, name), rgb, 12, around(p)); }
  return n;
}

describe('incident board', () => {
  // The operator runs the board (report, register, dispatch); the fixture keeps the stores in a temp directory.
  const { srv: server, browser } = useBrowserFixture({ user: 'operator' });
  let dispatched: { id: string; assignee: string } | null = null;
  beforeAll(async () => { await server.server.incidents; });

  it('reports on the map, queues, opens, registers and dispatches with reasons', async () => {
    const { page, requests, pageErrors } = browser;
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => document.documentElement.dataset.mapReady === '1', null, { timeout: 180_000, polling: 250 });
    await settle(page);
    const board = page.locator('[data-panel="incidents"]');
    await board.locator('h2 button').click();
    await page.locator('.incident-board[data-live="open"]').waitFor({ timeout: 30_000 });
    const baseline = countColour(await shot(page, 'incidents-before'), STATUS_COLOURS.reported, 12, around(CLICK));

    // Report: arm the pick, click the map (a click under load may read as a drag: retry), fill the form.
    await board.locator('[data-action="report"]').click();
    const form = page.locator('form[data-form="report"]');
    for (let i = 0; i < 3 && !(await form.isVisible()); i++) {
      await page.mouse.move(CLICK.x - 3, CLICK.y - 3);
      await page.mouse.move(CLICK.x, CLICK.y);
      await settle(page, 300);
      await page.mouse.click(CLICK.x, CLICK.y);
      await form.waitFor({ timeout: 10_000 }).catch(() => {});
    }
    await expect(form.isVisible()).resolves.toBe(true);
    await form.locator('select[name="category"]').selectOption('0101');
    expect(await form.locator('input[name="title"]').inputValue()).toBe('井盖破损或缺失'); // the category's name until typed over
    await form.locator('input[name="title"]').fill('人行道井盖缺失');
    await form.locator('textarea[name="description"]').fill('浏览器测试：井盖缺失，有行人踩空风险');
    await form.locator('select[name="source"]').selectOption('public');
    const created = page.waitForResponse((r) => r.url().endsWith('/api/incidents') && r.request().method() === 'POST', { timeout: 60_000 });
    await form.locator('button[type="submit"]').click();
    const res = await created;
    expect(res.status()).toBe(201);
    expect(res.request().headers()['idempotency-key']).toMatch(/.{8,}/);
    const incident = (await res.json()) as { id: string; code: string; status: string; gridCode: string | null; lon: number; lat: number };
    expect(incident.status).toBe('reported');
    expect(incident.gridCode, 'the server routed it to a grid').toMatch(/^\d{15}$/);

    // The case opens; the map shows its marker where the click was.
    const detail = page.locator(`.incident-detail[data-incident="${incident.id}"]`);
    await detail.waitFor({ timeout: 30_000 });
    expect(await detail.getAttribute('data-status')).toBe('reported');
    expect(await detail.locator('[data-field="grid"]').innerText()).toBe(incident.gridCode);
    const orange = await waitForColour(page, 'incidents-reported', STATUS_COLOURS.reported, CLICK, baseline + 80);
    expect(orange, `reported-colour pixels at the click (baseline ${baseline})`).toBeGreaterThan(baseline + 80);

    // Back to the queue: the new case is there.
    await detail.locator('button.back').click();
    const row = board.locator(`.queue li[data-incident="${incident.id}"]`);
    await row.waitFor({ timeout: 30_000 });
    expect(await row.getAttribute('data-status')).toBe('reported');
    expect(await row.innerText()).toContain('人行道井盖缺失');

    // One click: the case, the map flown onto it, the lookup card for its place.
    await row.locator('button').click();
    await detail.waitFor({ timeout: 30_000 });
    await page.locator('[data-panel="lookup"] .lookup-card[data-state="ready"]').waitFor({ timeout: 60_000 });
    await page.waitForFunction(([lon, lat]) => {
      const [cl, ca] = (document.documentElement.dataset.camera ?? '').split(',').map(Number);
      return Math.abs(cl - lon) < 1e-4 && Math.abs(ca - lat) < 1e-4;
    }, [incident.lon, incident.lat], { timeout: 30_000, polling: 250 });

    // Register → candidates with reasons.
    await detail.locator('button[data-action="register"]').click();
    await page.locator(`.incident-detail[data-incident="${incident.id}"][data-status="registered"]`).waitFor({ timeout: 30_000 });
    const candidates = detail.locator('.candidates li[data-candidate]');
    await candidates.first().waitFor({ timeout: 60_000 });
    expect(await candidates.count()).toBeGreaterThan(1);
    const firstId = (await candidates.first().getAttribute('data-candidate'))!;
    const reasons = await candidates.first().locator('[data-field="reasons"] li').allInnerTexts();
    expect(reasons.length, 'the first candidate comes with reasons').toBeGreaterThan(0);
    expect(reasons.join('')).toMatch(/[\u4e00-\u9fff]/);
    expect(await candidates.first().innerText()).toMatch(/分钟|路网不可达/);

    // Dispatch the best: the case is theirs, the marker turns blue, the timeline has every step.
    await candidates.first().locator(`button[data-dispatch="${firstId}"]`).click();
    await page.locator(`.incident-detail[data-incident="${incident.id}"][data-status="dispatched"]`).waitFor({ timeout: 30_000 });
    expect(await detail.locator('[data-field="assignee"]').innerText()).toBe(firstId);
    expect(await detail.locator('.timeline li').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.action))).toEqual(['report', 'register', 'dispatch']);
    const centre = { x: SIZE.width / 2, y: SIZE.height / 2 };
    const blue = await waitForColour(page, 'incidents-dispatched', STATUS_COLOURS.dispatched, centre, 80);
    expect(blue, 'dispatched-colour pixels at the case (map centre)').toBeGreaterThan(80);

    // The server agrees (nothing only in the page).
    const stored = await (await browser.fetch(`${server.url}/api/incidents/${incident.id}`)).json() as { incident: { status: string; assigneeId: string }; transitions: unknown[] };
    expect(stored.incident).toMatchObject({ status: 'dispatched', assigneeId: firstId });
    expect(stored.transitions).toHaveLength(3);

    dispatched = { id: incident.id, assignee: firstId };
    expect(requests.foreign, `requests to hosts other than 127.0.0.1:\n${requests.foreign.join('\n')}`).toEqual([]);
    expect(pageErrors, 'uncaught page errors').toEqual([]);
  }, 600_000);

  it("lists the case in the assigned grid manager's own cases once they sign in, and lets them accept it", async () => {
    expect(dispatched, 'needs the dispatched case of the test above').not.toBeNull();
    const { id, assignee } = dispatched!;
    // A grid-level case goes to its grid's own manager first (tile-server/incidents/dispatcher.ts), whose account is grid-{code}.
    const grid = /^gm-(\d+)$/.exec(assignee)?.[1];
    expect(grid, `the best candidate ${assignee} is the grid's manager`).toBeTruthy();
    const { page, context, requests, pageErrors } = browser;
    await context.clearCookies();
    const me = await signInContext(context, server.url, `grid-${grid}`);
    expect(me).toMatchObject({ role: 'grid_manager', grids: [grid] });
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => document.documentElement.dataset.mapReady === '1', null, { timeout: 180_000, polling: 250 });
    const mine = page.locator(`[data-panel="mycases"] .my-cases li[data-incident="${id}"]`);
    await mine.waitFor({ timeout: 60_000 });
    await mine.locator('button').click();
    const detail = page.locator(`.incident-detail[data-incident="${id}"]`);
    await detail.waitFor({ timeout: 30_000 });
    // The assignee acts as themself: accept is theirs, register/dispatch are not offered.
    const group = detail.locator('.group[data-actor^="grid_manager:"]').first();
    expect(await group.locator('button').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.action))).toEqual(expect.arrayContaining(['accept', 'decline']));
    await group.locator('button[data-action="accept"]').click();
    await page.locator(`.incident-detail[data-incident="${id}"][data-status="handling"]`).waitFor({ timeout: 30_000 });
    const stored = await (await browser.fetch(`${server.url}/api/incidents/${id}`)).json() as { transitions: { action: string; actor: { id: string } }[] };
    // Recorded as the assignee (the responder gm-{grid}) that the signed-in grid manager is.
    expect(stored.transitions.at(-1)).toMatchObject({ action: 'accept', actor: { id: assignee } });
    expect(requests.foreign).toEqual([]);
    expect(pageErrors, 'uncaught page errors').toEqual([]);
  }, 600_000);
});
