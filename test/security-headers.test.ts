// Security headers on every response, and a Content-Security-Policy the map still runs under: the 2D map
// (deck.gl) and the 3D globe (Cesium: workers, blob:, WebAssembly) load in Chromium with NO
// `securitypolicyviolation` event and no CSP error on the console (page or workers). A positive control (an
// inline script the policy must block) proves the listener would have seen a violation.
// Needs the demo data (npm run data && npm run tiles) and Debian's chromium + fonts-noto-cjk.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECURITY_HEADERS } from '../tile-server/security-headers.ts';
import { startServer, type RunningServer } from '../tile-server/server.ts';
import { launchBrowser, watchRequests, type LaunchedBrowser, type RequestLog } from './helpers/browser.ts';
import { raw } from './helpers/http.ts';
import { TEST_PASSWORD } from './helpers/session.ts';
import { ensureWebBuilt, requireBuiltData } from './helpers/web-build.ts';

const ROOT = resolve(import.meta.dirname, '..');
const DATA = resolve(process.env.DATA_DIR ?? join(ROOT, 'geodata', 'build'));
// Its own build folder: other browser tests rebuild dist/web when the sources change, and a page whose
// assets vanish mid-load would fail for reasons that have nothing to do with the policy.
const WEB = join(ROOT, 'dist', 'web-security-headers');

declare global { interface Window { __csp?: string[] } }

describe('security headers', () => {
  let server: RunningServer;
  let dir: string;

  beforeAll(async () => {
    requireBuiltData(DATA);
    ensureWebBuilt(WEB);
    dir = mkdtempSync(join(tmpdir(), 'onemap-headers-'));
    server = await startServer({
      dataDir: DATA, webDir: WEB, port: 0, databaseUrl: null, incidentDatabaseUrl: null, userDatabaseUrl: null,
      incidentDbFile: join(dir, 'onemap.sqlite'), telemetry: false, sweepIntervalMs: 0, editSyncIntervalMs: 0, demoPassword: TEST_PASSWORD,
    });
  }, 300_000);

  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('are on every kind of response: page, tile, API JSON, 401, 404', async () => {
    for (const path of ['/', '/tiles/basemap.json', '/healthz', '/api/incidents', '/no/such/thing']) {
      const r = await raw(server.url, path);
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) expect(r.headers[k.toLowerCase()], `${k} on ${path} (${r.status})`).toBe(v);
    }
    const csp = SECURITY_HEADERS['Content-Security-Policy'];
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(csp).toMatch(/object-src 'none'/);
    expect(csp).not.toMatch(/'unsafe-eval'/);
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
    expect(csp).not.toMatch(/https?:|\*/); // nothing but our own origin (and data:/blob:)
  });

  describe('in Chromium', () => {
    let browser: LaunchedBrowser;
    let requests: RequestLog;
    const consoleCsp: string[] = [];
    const pageErrors: string[] = [];

    beforeAll(async () => {
      browser = await launchBrowser({ width: 1280, height: 800 });
      requests = watchRequests(browser.context);
      const { context, page } = browser;
      // Record violations from the first script on (before the app's own code runs).
      await context.addInitScript(() => {
        window.__csp = [];
        document.addEventListener('securitypolicyviolation', (e) => {
          window.__csp!.push(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`);
        });
      });
      const onConsole = (text: string) => { if (/Content Security Policy/i.test(text)) consoleCsp.push(text); };
      context.on('console', (m) => onConsole(m.text()));
      page.on('worker', (w) => w.on('console', (m) => onConsole(m.text())));
      page.on('pageerror', (e) => pageErrors.push(e.message));
      const r = await context.request.post(`${server.url}/api/session`, { data: { username: 'operator', password: TEST_PASSWORD }, failOnStatusCode: false });
      expect(r.status(), await r.text()).toBe(200);
    }, 60_000);

    afterAll(async () => { await browser?.close(); });

    const violations = (page: Page) => page.evaluate(() => window.__csp ?? ['listener missing']);

    it('the 2D map loads with no CSP violation', async () => {
      const { page } = browser;
      const res = await page.goto(`${server.url}/`);
      expect(res?.headers()['content-security-policy']).toBe(SECURITY_HEADERS['Content-Security-Policy']);
      await page.waitForFunction(() => document.documentElement.dataset.mapReady === '1' && Number(document.documentElement.dataset.tilesLoaded) > 0,
        null, { timeout: 120_000, polling: 250 });
      await page.waitForTimeout(1000);
      expect(await violations(page)).toEqual([]);
      expect(consoleCsp).toEqual([]);
      expect(pageErrors).toEqual([]);
      expect(requests.foreign).toEqual([]);
    }, 180_000);

    it('the 3D globe (Cesium workers, blob:, wasm) loads with no CSP violation', async () => {
      const { page } = browser;
      await page.goto(`${server.url}/?view=3d&lon=120.70&lat=31.655&zoom=13&pitch=60&bearing=20`);
      await page.waitForFunction(() => (document.documentElement.dataset.engine === '3d' && document.documentElement.dataset.engineReady === '1')
        || Number(document.documentElement.dataset.mapErrors) > 0, null, { timeout: 240_000, polling: 500 });
      // Let the globe refine and its workers decode a few tiles.
      await page.waitForTimeout(3000);
      // The app's page-progress counts engine errors in data-map-errors.
      expect(Number(await page.evaluate(() => document.documentElement.dataset.mapErrors ?? '0'))).toBe(0);
      expect(await page.evaluate(() => document.documentElement.dataset.engine)).toBe('3d');
      expect(await violations(page)).toEqual([]);
      expect(consoleCsp).toEqual([]);
      expect(pageErrors).toEqual([]);
      expect(requests.foreign).toEqual([]);
    }, 300_000);

    it('positive control: an injected inline script is blocked and reported', async () => {
      const { page } = browser;
      await page.evaluate(() => {
        const s = document.createElement('script');
        s.textContent = 'window.__injected = 1';
        document.head.appendChild(s);
      });
      await page.waitForFunction(() => (window.__csp ?? []).length > 0, null, { timeout: 5000 });
      expect((await violations(page))[0]).toMatch(/script-src/);
      expect(await page.evaluate(() => (window as unknown as { __injected?: number }).__injected)).toBeUndefined();
    });
  });
});
