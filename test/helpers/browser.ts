// Browser tests run the system Chromium (Debian package `chromium`) through playwright-core, with
// WebGL on SwiftShader (no GPU on CI), a fresh profile per launch and no background traffic, plus a
// request log that proves the page never contacts a host other than 127.0.0.1.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inflateSync } from 'node:zlib';
import { chromium, type BrowserContext, type Page, type Request, type Response } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { startServer, type RunningServer, type ServerOptions } from '../../tile-server/server.ts';
import { TEST_AUTH, TEST_PASSWORD } from './session.ts';
import { ensureWebBuilt, requireBuiltData } from './web-build.ts';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Software WebGL (SwiftShader) and no calls home: the machine has no GPU and no internet. */
export const CHROMIUM_ARGS = [
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--ignore-gpu-blocklist',
  '--headless',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
];

export interface LaunchedBrowser {
  context: BrowserContext;
  page: Page;
  /** Closes the browser and deletes its temporary profile. */
  close(): Promise<void>;
}

/** `hasTouch` emulates a touch screen (Playwright's page.touchscreen, `pointer: coarse`), as on a phone. */
export async function launchBrowser(opts: { width?: number; height?: number; hasTouch?: boolean } = {}): Promise<LaunchedBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install it with \`apt-get install chromium fonts-noto-cjk\` (Debian), then rerun the test.`);
  }
  const profile = await mkdtemp(join(tmpdir(), 'onemap-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      args: CHROMIUM_ARGS,
      headless: true,
      viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 },
      deviceScaleFactor: 1,
      locale: 'zh-CN',
      hasTouch: opts.hasTouch ?? false,
    });
  } catch (err) {
    await rm(profile, { recursive: true, force: true });
    throw err;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export interface RequestLog {
  /** Every request URL, in order. */
  readonly urls: string[];
  /** Requests to anything but 127.0.0.1 (data: and blob: URLs are local and allowed). */
  readonly foreign: string[];
  /** Finished responses: URL and HTTP status. */
  readonly responses: { url: string; status: number }[];
  /** Requests that failed at the network level, with the reason. */
  readonly failed: { url: string; error: string }[];
  /** Requests that name their own actor in a header (X-OneMap-Actor): issue 9 removed it, the session says who. */
  readonly actorHeader: string[];
}

export function isLocalUrl(url: string): boolean {
  if (url.startsWith('data:') || url.startsWith('blob:') || url === 'about:blank') return true;
  try {
    return new URL(url).hostname === '127.0.0.1';
  } catch {
    return false;
  }
}

/** Records every request of a page or a whole browser context (which includes its workers). */
export function watchRequests(target: Page | BrowserContext): RequestLog {
  const log = {
    urls: [] as string[], foreign: [] as string[], responses: [] as { url: string; status: number }[], failed: [] as { url: string; error: string }[],
    actorHeader: [] as string[],
  };
  const on = target as unknown as {
    on(e: 'request', f: (r: Request) => void): void;
    on(e: 'response', f: (r: Response) => void): void;
    on(e: 'requestfailed', f: (r: Request) => void): void;
  };
  on.on('request', (r) => {
    log.urls.push(r.url());
    if (!isLocalUrl(r.url())) log.foreign.push(r.url());
    if (r.headers()['x-onemap-actor'] !== undefined) log.actorHeader.push(`${r.method()} ${r.url()}`);
  });
  on.on('response', (r) => log.responses.push({ url: r.url(), status: r.status() }));
  on.on('requestfailed', (r) => log.failed.push({ url: r.url(), error: r.failure()?.errorText ?? 'unknown' }));
  return log;
}

export interface RgbaImage { width: number; height: number; data: Uint8Array }

/**
 * Decodes an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium screenshots are) to RGBA.
 * PNG spec: https://www.w3.org/TR/png-3/ (chunks §5, filters §7.3, §9).
 */
export function decodePng(png: Uint8Array): RgbaImage {
  const sig = [137, 80, 78, 71, 13, 10, 26, 10];
  if (!sig.every((b, i) => png[i] === b)) throw new Error('Not a PNG file (bad signature)');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let width = 0, height = 0, colorType = -1;
  const idat: Uint8Array[] = [];
  for (let off = 8; off < png.length;) {
    const len = view.getUint32(off);
    const type = String.fromCharCode(...png.subarray(off + 4, off + 8));
    const body = png.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = view.getUint32(off + 8);
      height = view.getUint32(off + 12);
      const depth = body[8];
      colorType = body[9];
      if (depth !== 8 || (colorType !== 2 && colorType !== 6) || body[12] !== 0) {
        throw new Error(`Unsupported PNG: bit depth ${depth}, colour type ${colorType}, interlace ${body[12]} (need 8-bit RGB/RGBA, not interlaced)`);
      }
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      break;
    }
    off += 12 + len;
  }
  const bpp = colorType === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const out = new Uint8Array(width * height * 4);
  let prev = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const cur = new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp] : 0;
      const b = prev[i];
      const c = i >= bpp ? prev[i - bpp] : 0;
      let v = line[i];
      switch (filter) {
        case 0: break;
        case 1: v += a; break;
        case 2: v += b; break;
        case 3: v += (a + b) >> 1; break;
        case 4: {
          const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
          v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: throw new Error(`Bad PNG filter type ${filter} on row ${y}`);
      }
      cur[i] = v & 255;
    }
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      out[o] = cur[x * bpp];
      out[o + 1] = cur[x * bpp + 1];
      out[o + 2] = cur[x * bpp + 2];
      out[o + 3] = bpp === 4 ? cur[x * bpp + 3] : 255;
    }
    prev = cur;
  }
  return { width, height, data: out };
}

export interface Region { x: number; y: number; width: number; height: number }

/** Pixels of `img` inside `region` within `tolerance` (per channel) of `rgb`. */
export function countColour(img: RgbaImage, rgb: readonly number[], tolerance: number, region?: Region): number {
  const r = region ?? { x: 0, y: 0, width: img.width, height: img.height };
  let n = 0;
  for (let y = r.y; y < r.y + r.height; y++) {
    for (let x = r.x; x < r.x + r.width; x++) {
      const o = (y * img.width + x) * 4;
      if (Math.abs(img.data[o] - rgb[0]) <= tolerance && Math.abs(img.data[o + 1] - rgb[1]) <= tolerance
        && Math.abs(img.data[o + 2] - rgb[2]) <= tolerance) n++;
    }
  }
  return n;
}

/** Number of distinct colours in `region` after dropping the low `dropBits` bits of each channel. */
export function distinctColours(img: RgbaImage, region?: Region, dropBits = 2): number {
  const r = region ?? { x: 0, y: 0, width: img.width, height: img.height };
  const seen = new Set<number>();
  for (let y = r.y; y < r.y + r.height; y++) {
    for (let x = r.x; x < r.x + r.width; x++) {
      const o = (y * img.width + x) * 4;
      seen.add(((img.data[o] >> dropBits) << 16) | ((img.data[o + 1] >> dropBits) << 8) | (img.data[o + 2] >> dropBits));
    }
  }
  return seen.size;
}

// ---------------------------------------------------------------------------------------------------------
// The shared fixture of the browser tests (issue 9): a server on the built data with its own temporary
// stores (so the demo users are created with TEST_PASSWORD, never the shared var/ files), Chromium with the
// flags above, signed in as a demo user through POST /api/session, and a request log that fails the test
// on any request leaving 127.0.0.1.

const ROOT = resolve(import.meta.dirname, '..', '..');
/** Same variables as tile-server/main.ts, so a test run can point at another build. */
export const DATA_DIR = resolve(process.env.DATA_DIR ?? join(ROOT, 'geodata', 'build'));
export const WEB_DIR = resolve(process.env.WEB_DIR ?? join(ROOT, 'dist', 'web'));
/** The session cookie A1's tile-server/auth/api.ts sets. */
export const SESSION_COOKIE = 'onemap_session';

export interface TestServerOptions {
  /** Files the test needs in the data dir (checked first, with the command that builds them). */
  requireData?: string[];
  /** Served web root; default WEB_DIR, rebuilt when stale unless WEB_DIR is set in the environment. */
  webDir?: string;
  /** Merged over the defaults (data dir, port 0, SQLite stores in a temporary directory, demo password);
   *  a function gets that temporary directory, for more files to put there. */
  server?: Partial<ServerOptions> | ((dir: string) => Partial<ServerOptions>);
}

export interface TestServer {
  server: RunningServer;
  url: string;
  /** The temporary directory holding this server's SQLite stores (incidents, edits, telemetry, users). */
  dir: string;
  close(): Promise<void>;
}

/** A server on the built data whose stores live in a fresh temporary directory, demo users on TEST_PASSWORD. */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  requireBuiltData(DATA_DIR, opts.requireData);
  const webDir = opts.webDir ?? WEB_DIR;
  if (!opts.webDir && !process.env.WEB_DIR) ensureWebBuilt();
  const dir = await mkdtemp(join(tmpdir(), 'onemap-browser-test-'));
  let server: RunningServer;
  try {
    server = await startServer({
      dataDir: DATA_DIR, webDir, port: 0,
      incidentDbFile: join(dir, 'incidents.sqlite'), incidentDatabaseUrl: null, editDatabaseUrl: null,
      ...TEST_AUTH, auth: { ...TEST_AUTH.auth },
      ...(typeof opts.server === 'function' ? opts.server(dir) : opts.server),
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    server, url: server.url, dir,
    async close() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface SignedInUser { username: string; role: string; name?: string; grids?: string[]; layers?: string[] }

/**
 * Signs `username` in through POST /api/session with the context's own request client, so the session cookie
 * lands in the context's cookie jar exactly as a browser sign-in would put it there (HttpOnly, SameSite=Strict).
 */
export async function signInContext(context: BrowserContext, baseUrl: string, username: string, password = TEST_PASSWORD): Promise<SignedInUser> {
  const res = await context.request.post(`${baseUrl}/api/session`, { data: { username, password }, failOnStatusCode: false });
  const text = await res.text();
  if (res.status() !== 200) {
    throw new Error(`Sign-in as ${username} failed: HTTP ${res.status()} ${text.slice(0, 300)} (is the server started with demoPassword: TEST_PASSWORD and a fresh user store?)`);
  }
  const cookies = await context.cookies(baseUrl);
  if (!cookies.some((c) => c.name === SESSION_COOKIE && c.value)) {
    throw new Error(`Sign-in as ${username} answered 200 but set no ${SESSION_COOKIE} cookie for ${baseUrl}: check Set-Cookie in tile-server/auth/api.ts`);
  }
  return (JSON.parse(text) as { user: SignedInUser }).user;
}

/** The context's session cookie as a Cookie header, for API calls from the test beside the page. */
export async function cookieHeader(context: BrowserContext, baseUrl: string): Promise<Record<string, string>> {
  const c = (await context.cookies(baseUrl)).find((x) => x.name === SESSION_COOKIE);
  return c ? { Cookie: `${c.name}=${c.value}` } : {};
}

export interface GuardedBrowser extends LaunchedBrowser {
  requests: RequestLog;
  /** Uncaught errors of the page. */
  pageErrors: string[];
  /** Who the context is signed in as; null when signed out. */
  user: SignedInUser | null;
  /** fetch against the server with the context's session (a path or a full URL). */
  fetch(pathOrUrl: string, init?: RequestInit): Promise<globalThis.Response>;
  /** Fails when a request left 127.0.0.1 or named its actor in a header (and, unless `allowPageErrors`, when the page threw). */
  expectLocalOnly(allowPageErrors?: boolean): void;
}

export interface BrowserOptions { width?: number; height?: number; hasTouch?: boolean; /** demo user to sign in as; omitted = signed out */ user?: string }

/** Launches Chromium, watches every request of the context (workers included) and signs in as `opts.user`. */
export async function openBrowser(baseUrl: string, opts: BrowserOptions = {}): Promise<GuardedBrowser> {
  const launched = await launchBrowser({ width: opts.width ?? 1280, height: opts.height ?? 800, hasTouch: opts.hasTouch });
  const requests = watchRequests(launched.context);
  const pageErrors: string[] = [];
  launched.page.on('pageerror', (e) => pageErrors.push(e.message));
  let user: SignedInUser | null = null;
  try {
    if (opts.user) user = await signInContext(launched.context, baseUrl, opts.user);
  } catch (err) {
    await launched.close();
    throw err;
  }
  return {
    ...launched, requests, pageErrors, user,
    async fetch(pathOrUrl, init = {}) {
      const url = /^https?:/.test(pathOrUrl) ? pathOrUrl : `${baseUrl}${pathOrUrl}`;
      const headers = { ...(await cookieHeader(launched.context, baseUrl)), ...(init.headers as Record<string, string> | undefined) };
      return fetch(url, { ...init, headers });
    },
    expectLocalOnly(allowPageErrors = false) {
      expect(requests.foreign, `requests to hosts other than 127.0.0.1:\n${requests.foreign.join('\n')}`).toEqual([]);
      expect(requests.actorHeader, `requests choosing their identity by the X-OneMap-Actor header (removed in issue 9; the session cookie says who):\n${requests.actorHeader.slice(0, 10).join('\n')}`).toEqual([]);
      if (!allowPageErrors) expect(pageErrors, 'uncaught page errors').toEqual([]);
    },
  };
}

/** Vitest hooks: one test server for the enclosing describe block (read `.server`, `.url` inside tests). */
export function useTestServer(opts: TestServerOptions = {}): TestServer {
  const handle = {} as TestServer;
  beforeAll(async () => { Object.assign(handle, await startTestServer(opts)); }, 600_000);
  afterAll(async () => { await handle.close?.(); });
  return handle;
}

/**
 * Vitest hooks: one signed-in browser for the enclosing describe block, on the server `server` returns.
 * After every test it fails on a request that left 127.0.0.1 (and on uncaught page errors unless
 * `allowPageErrors`).
 */
export function useBrowser(server: () => { url: string }, opts: BrowserOptions & { allowPageErrors?: boolean } = {}): GuardedBrowser {
  const handle = {} as GuardedBrowser;
  beforeAll(async () => { Object.assign(handle, await openBrowser(server().url, opts)); }, 300_000);
  afterEach(() => { handle.expectLocalOnly?.(opts.allowPageErrors); });
  afterAll(async () => { await handle.close?.(); });
  return handle;
}

export interface BrowserFixture { srv: TestServer; browser: GuardedBrowser }

/** The common case: one server and one browser signed in as `opts.user` for the describe block. */
export function useBrowserFixture(opts: TestServerOptions & BrowserOptions & { allowPageErrors?: boolean } = {}): BrowserFixture {
  const srv = useTestServer(opts);
  const browser = useBrowser(() => srv, opts);
  return { srv, browser };
}
