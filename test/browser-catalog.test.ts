// The data catalog and the sharing process in the client (issue 10, H6), in Chromium against a real server:
// the analyst (公安局) finds 危险化学品企业 by a Chinese search, with its owner 应急管理局, grade 敏感 and freshness,
// and cannot switch it on; they ask for it through the request dialog; steward-emergency (应急管理局数据员, a second
// browser) approves it from the inbox for two towns, without contact_phone, for 7 days; the analyst's map then loads
// exactly the hazards of those two towns (the count the map drew, and the file it fetched), leaves feedback and
// finds that fetch in the grant's use log. No request leaves 127.0.0.1 (the fixture checks after every test).
// Needs: geodata/build with hazards.fgb (npm run data && npm run tiles) and Debian packages chromium + fonts-noto-cjk.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { openFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import { DATA_DIR, useBrowser, useTestServer } from './helpers/browser.ts';

interface Hazard { id: string; grid_code: string | null; town_code: string | null; [k: string]: unknown }

function readHazards(bytes: Uint8Array): Hazard[] {
  const f = openFlatGeobuf(bytes);
  return Array.from({ length: f.count }, (_, i) => f.feature(i).properties as Hazard);
}

/** Area code of a hazard as layers/governance/access.ts areaCodeOf takes it: its grid, else its town. */
const areaOf = (h: Hazard) => String(h.grid_code ?? h.town_code ?? '');

async function openDataCatalog(page: Page): Promise<void> {
  const head = page.locator('[data-panel="datacatalog"] h2 button');
  await head.waitFor({ timeout: 120_000 });
  if ((await head.getAttribute('aria-expanded')) !== 'true') await head.click();
  await page.locator('.data-catalog').waitFor({ timeout: 30_000 });
}

const pointsDrawn = (page: Page) => page.evaluate(() => document.querySelector<HTMLElement>('.engine-host')?.dataset.pointsDrawn ?? '');

describe('data catalog and sharing in the browser (issue 10)', () => {
  const srv = useTestServer({ requireData: ['basemap.pmtiles', 'overlay.pmtiles', 'hazards.fgb', 'towns.fgb'] });
  const analyst = useBrowser(() => srv, { user: 'analyst' });
  const steward = useBrowser(() => srv, { user: 'steward-emergency' });

  const all = readHazards(new Uint8Array(readFileSync(join(DATA_DIR, 'hazards.fgb'))));
  // Two towns that have hazards (the first two by code), and the hazards the grant covers there.
  const towns = [...new Set(all.map((h) => String(h.town_code)))].sort().slice(0, 2);
  const expected = all.filter((h) => towns.some((t) => areaOf(h).startsWith(t))).map((h) => h.id).sort();
  let requestId = '';

  it('finds 危险化学品企业 by a Chinese search with owner, grade and freshness, and it is locked for the analyst', async () => {
    expect(towns).toHaveLength(2);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(all.length);
    const { page } = analyst;
    await page.goto(`${srv.url}/?zoom=13`);
    await page.waitForFunction(() => document.documentElement.dataset.mapReady === '1', null, { timeout: 180_000, polling: 250 });
    await openDataCatalog(page);
    await page.locator('.data-catalog input[type="search"]').fill('危险化学品');
    const entry = page.locator('.data-catalog [data-entry="hazards"]');
    await entry.waitFor({ timeout: 30_000 });
    // The search narrowed the list (roads, towns … do not mention 危险化学品).
    await page.waitForFunction(() => !document.querySelector('.data-catalog [data-entry="roads"]'), null, { timeout: 30_000 });
    const shown = await entry.evaluate((el) => ({
      department: el.closest<HTMLElement>('[data-department]')?.dataset.department,
      group: el.closest('[data-department]')?.querySelector('h3')?.textContent ?? '',
      owner: el.querySelector('[data-owner]')?.textContent?.trim(),
      grade: el.querySelector('.grade')?.textContent?.trim(),
      gradeAttr: (el as HTMLElement).dataset.grade,
      access: (el as HTMLElement).dataset.access,
      fresh: el.querySelector<HTMLElement>('[data-fresh]')?.dataset.fresh,
      freshText: el.querySelector('[data-fresh]')?.textContent?.trim() ?? '',
    }));
    expect(shown).toMatchObject({ department: 'emergency', owner: '应急管理局', grade: '敏感', gradeAttr: 'sensitive', access: 'none' });
    expect(shown.group).toContain('应急管理局');
    expect(['fresh', 'stale']).toContain(shown.fresh);
    expect(shown.freshText).toMatch(/^更新于 /);

    // The layer panel knows too: no switching it on without a grant, and nothing of it was fetched.
    const box = page.locator('.layer-catalog [data-layer="hazards"] input[type="checkbox"]');
    await expect.poll(() => box.isDisabled(), { timeout: 30_000 }).toBe(true);
    expect(analyst.requests.urls.filter((u) => u.includes('/data/hazards.fgb'))).toEqual([]);
  }, 300_000);

  it('the analyst asks for it through the request dialog', async () => {
    const { page } = analyst;
    await page.locator('.data-catalog [data-entry="hazards"] .title').click();
    const detail = page.locator('.catalog-detail[data-detail="hazards"]');
    await detail.locator('[data-field="contact_phone"]').waitFor({ timeout: 30_000 });
    expect(await detail.locator('[data-owner]').textContent()).toBe('应急管理局');
    expect((await detail.locator('[data-field="contact_phone"]').textContent()) ?? '').toContain('个人信息');
    await detail.locator('[data-action="request"]').click();
    const dialog = page.locator('[data-dialog="sharing-request"]');
    await dialog.locator('textarea[name="purpose"]').fill('研判危化品企业周边的治安风险，部署巡逻防控');
    await dialog.locator('input[name="days"]').fill('7');
    const answer = page.waitForResponse((r) => r.url().endsWith('/api/catalog/hazards/requests') && r.request().method() === 'POST', { timeout: 30_000 });
    await dialog.locator('button[type="submit"]').click();
    const res = await answer;
    expect(res.status()).toBe(201);
    requestId = ((await res.json()) as { request: { id: string } }).request.id;
    await dialog.waitFor({ state: 'detached', timeout: 30_000 });
    await page.locator('[data-tab="mine"]').click();
    const mine = page.locator(`.sharing-inbox [data-request="${requestId}"]`);
    await mine.waitFor({ timeout: 30_000 });
    expect(await mine.getAttribute('data-status')).toBe('pending');
  }, 120_000);

  it('steward-emergency approves it for two towns, without contact_phone, for 7 days', async () => {
    expect(requestId).not.toBe('');
    const { page } = steward;
    await page.goto(`${srv.url}/`);
    await page.waitForFunction(() => document.documentElement.dataset.mapReady === '1', null, { timeout: 180_000, polling: 250 });
    await openDataCatalog(page);
    await page.locator('[data-tab="inbox"]').click();
    const item = page.locator(`.sharing-inbox [data-request="${requestId}"]`);
    await item.waitFor({ timeout: 30_000 });
    await item.locator('[data-action="approve"]').click();
    const form = item.locator('[data-form="approve"]');
    await form.locator('input[data-field="contact_phone"]').uncheck();
    await form.locator('input[data-area-mode="chosen"]').check();
    for (const t of towns) await form.locator(`input[data-area="${t}"]`).check({ timeout: 60_000 });
    await form.locator('input[name="days"]').fill('7');
    const answer = page.waitForResponse((r) => r.url().endsWith(`/api/sharing/${requestId}/approve`), { timeout: 30_000 });
    await form.locator('[data-action="confirm"]').click();
    const res = await answer;
    const body = await res.json() as { request: { status: string; scope: { fields: string[] | null; areas: string[] | null; expiresAt: number } } };
    expect(res.status(), JSON.stringify(body)).toBe(200);
    expect(body.request.status).toBe('approved');
    expect([...body.request.scope.areas!].sort()).toEqual(towns);
    expect(body.request.scope.fields).not.toContain('contact_phone');
    await expect.poll(() => item.getAttribute('data-status'), { timeout: 30_000 }).toBe('approved');
  }, 300_000);

  it('the analyst then sees exactly the hazards of those two towns, and leaves feedback', async () => {
    const { page } = analyst;
    // The analyst's client polls "my requests": the grant arrives without a reload, and unlocks the layer.
    const mine = page.locator(`.sharing-inbox [data-request="${requestId}"]`);
    await expect.poll(() => mine.getAttribute('data-status'), { timeout: 60_000 }).toBe('approved');
    expect((await mine.locator('[data-scope]').textContent()) ?? '').toContain('至 ');
    const box = page.locator('.layer-catalog [data-layer="hazards"] input[type="checkbox"]');
    await expect.poll(() => box.isEnabled(), { timeout: 30_000 }).toBe(true);
    const loaded = page.waitForResponse((r) => r.url().includes('/data/hazards.fgb') && r.status() === 200, { timeout: 60_000 });
    await box.check();
    const file = await loaded;
    // What the map drew (every point of the layer it loaded, at zoom ≥ 13 drawn one by one)…
    await page.waitForFunction(() => /hazards:\d+/.test(document.querySelector<HTMLElement>('.engine-host')?.dataset.pointsDrawn ?? ''), null, { timeout: 60_000, polling: 250 });
    const drawn = Number(/hazards:(\d+)/.exec(await pointsDrawn(page))![1]);
    expect(drawn).toBe(expected.length);
    // …and the rows of the file it fetched: the two towns' hazards, and no phone number.
    const got = readHazards(new Uint8Array(await file.body()));
    expect(got.map((h) => h.id).sort()).toEqual(expected);
    expect(got.every((h) => towns.some((t) => areaOf(h).startsWith(t)))).toBe(true);
    expect(got.some((h) => h.contact_phone !== undefined && h.contact_phone !== null && h.contact_phone !== '')).toBe(false);

    // Feedback on the grant (反馈), shown back in the list.
    await mine.locator('[data-action="feedback"]').click();
    const form = mine.locator('[data-form="feedback"]');
    await form.locator('select[name="rating"]').selectOption({ label: '★★★★' });
    await form.locator('textarea[name="text"]').fill('数据完整，满足研判需要');
    const answer = page.waitForResponse((r) => r.url().endsWith(`/api/sharing/${requestId}/feedback`), { timeout: 30_000 });
    await form.locator('[data-action="confirm"]').click();
    expect((await answer).status()).toBe(200);
    await expect.poll(async () => (await mine.textContent()) ?? '', { timeout: 30_000 }).toContain('数据完整，满足研判需要');

    // The use of the grant is logged (使用): the map's fetch of the layer is a row of the use log.
    await expect.poll(async () => {
      const toggle = mine.locator('[data-action="usage"]');
      if ((await toggle.textContent())?.includes('收起')) await toggle.click();
      await toggle.click();
      await mine.locator('[data-usage]').waitFor({ timeout: 10_000 });
      return mine.locator('[data-usage] tbody tr').filter({ hasText: '/data/hazards.fgb' }).count();
    }, { timeout: 60_000, interval: 1000 }).toBeGreaterThan(0);
  }, 300_000);
});
