// Sign-in, sessions, lockout, rate limits, expiry, the admin's user API and the demo users (issue 9), on the
// embedded SQLite user store and on PostgreSQL (TEST_DATABASE_URL; fail, not skip, unless ONEMAP_SKIP_POSTGIS=1).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { getLayer } from '../layers/catalog.ts';
import { encodeFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import { startServer, type RunningServer, type ServerOptions } from '../tile-server/server.ts';
import { buildFixture, type Fixture } from './helpers/fixture-data.ts';
import { createFreshDatabase } from './helpers/fresh-pg.ts';
import { signIn, TEST_PASSWORD } from './helpers/session.ts';

const PG_URL = process.env.TEST_DATABASE_URL;

it('PostgreSQL is part of the run (TEST_DATABASE_URL), or skipped on purpose (ONEMAP_SKIP_POSTGIS=1)', () => {
  if (!PG_URL && process.env.ONEMAP_SKIP_POSTGIS !== '1') {
    throw new Error('TEST_DATABASE_URL is not set: start PostgreSQL (npx tsx scripts/pg-local.ts start) and export TEST_DATABASE_URL, or set ONEMAP_SKIP_POSTGIS=1 to test the SQLite user store only.');
  }
});

/** Two grids, so the demo users include grid-{code} managers named after the grid's manager_name. */
const GRIDS = [
  { code: '320581001001001', manager: '张三丰', box: [120.70, 31.60, 120.76, 31.65] },
  { code: '320581001001002', manager: '李四光', box: [120.76, 31.60, 120.82, 31.65] },
];

function writeGrids(dir: string): void {
  const def = getLayer('grids')!;
  const features: GeoJSON.Feature[] = GRIDS.map((g, i) => {
    const [w, s, e, n] = g.box;
    const props: Record<string, unknown> = {};
    for (const f of def.fields) props[f.name] = f.type === 'string' ? '' : null;
    Object.assign(props, { id: `g${i}`, code: g.code, name: `网格 ${i + 1}`, manager_id: `m${i}`, manager_name: g.manager, manager_phone: '13800000000' });
    return { type: 'Feature', id: `g${i}`, geometry: { type: 'Polygon', coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]] }, properties: props };
  });
  writeFileSync(join(dir, def.fgb), encodeFlatGeobuf(features, { layerName: 'grids', fields: def.fields }));
}

interface Req { status: number; headers: Headers; body: any }
async function call(base: string, method: string, path: string, opts: { cookie?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Req> {
  const r = await fetch(base + path, {
    method,
    headers: { ...(opts.body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...(opts.cookie ? { Cookie: opts.cookie } : {}), ...opts.headers },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: text ? JSON.parse(text) : null };
}
const tryIn = (base: string, username: string, password: string, headers: Record<string, string> = {}) =>
  call(base, 'POST', '/api/session', { body: { username, password }, headers });

let fx: Fixture;
let dir: string;
beforeAll(async () => {
  fx = await buildFixture({ web: true });
  writeGrids(fx.dir);
  dir = mkdtempSync(join(tmpdir(), 'onemap-auth-'));
});
afterAll(async () => {
  await fx?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const STORES = [{ name: 'sqlite' as const }, ...(PG_URL ? [{ name: 'postgres' as const }] : [])];

for (const { name } of STORES) {
  describe(`auth (${name} user store)`, () => {
    let fresh: { url: string; drop(): Promise<void> } | undefined;
    let n = 0;
    /** A server with its own user store: a new file (SQLite) or the fresh database (PostgreSQL, emptied first). */
    async function start(extra: Partial<ServerOptions> = {}, reuse?: string): Promise<{ srv: RunningServer; where: string }> {
      const where = reuse ?? (name === 'sqlite' ? join(dir, `users-${n++}.sqlite`) : fresh!.url);
      if (name === 'postgres' && !reuse) {
        const pg = (await import('pg')).default;
        const c = new pg.Client({ connectionString: fresh!.url });
        await c.connect();
        try { await c.query('DROP SCHEMA IF EXISTS auth CASCADE'); } finally { await c.end(); }
      }
      const srv = await startServer({
        dataDir: fx.dir, webDir: fx.webDir, port: 0, telemetry: false, incidentDatabaseUrl: null, incidentDbFile: join(dir, 'incidents.sqlite'),
        editDatabaseUrl: null, editDbFile: join(dir, `edits-${n++}.sqlite`),
        ...(name === 'sqlite' ? { userDbFile: where, userDatabaseUrl: null } : { userDatabaseUrl: where }),
        ...extra,
      });
      return { srv, where };
    }

    beforeAll(async () => {
      if (name === 'postgres') fresh = await createFreshDatabase(PG_URL!, 'onemap_auth');
    });
    afterAll(async () => { await fresh?.drop(); });

    describe('sessions', () => {
      let srv: RunningServer;
      let now = Date.UTC(2026, 10, 29, 8);
      beforeAll(async () => {
        ({ srv } = await start({ demoPassword: TEST_PASSWORD, auth: { clock: () => now, signInPerMinute: 1000 } }));
      });
      afterAll(async () => { await srv?.close(); });

      it('signs in with an HttpOnly, SameSite=Strict cookie (Secure behind https), says who, and signs out', async () => {
        const r = await tryIn(srv.url, 'operator', TEST_PASSWORD);
        expect(r.status).toBe(200);
        expect(r.body.user).toEqual({ username: 'operator', role: 'operator', name: '值班调度员', department: 'city', departmentTitle: '城运中心' });
        const set = r.headers.getSetCookie().find((c) => c.startsWith('onemap_session='))!;
        expect(set).toMatch(/^onemap_session=[A-Za-z0-9_-]{43};/);
        expect(set).toMatch(/; HttpOnly/);
        expect(set).toMatch(/; SameSite=Strict/);
        expect(set).toMatch(/; Path=\//);
        expect(set).not.toMatch(/Secure/);
        const https = await tryIn(srv.url, 'operator', TEST_PASSWORD, { 'X-Forwarded-Proto': 'https' });
        expect(https.headers.getSetCookie().join(';')).toMatch(/; Secure/);
        const cookie = set.split(';')[0];
        expect((await call(srv.url, 'GET', '/api/session', { cookie })).body.user.username).toBe('operator');
        expect((await call(srv.url, 'GET', '/api/session')).body.error.code).toBe('not_signed_in');
        const out = await call(srv.url, 'DELETE', '/api/session', { cookie });
        expect(out.status).toBe(204);
        expect(out.headers.getSetCookie()[0]).toMatch(/^onemap_session=; .*Max-Age=0/);
        const after = await call(srv.url, 'GET', '/api/session', { cookie });
        expect([after.status, after.body.error.code]).toEqual([401, 'not_signed_in']);
      });

      it('refuses a wrong password and unknown users alike, and takes no identity from a header', async () => {
        const wrong = await tryIn(srv.url, 'analyst', 'not-the-password');
        const nobody = await tryIn(srv.url, 'no-such-user', TEST_PASSWORD);
        expect([wrong.status, wrong.body.error.code]).toEqual([401, 'bad_credentials']);
        expect([nobody.status, nobody.body.error.code]).toEqual([401, 'bad_credentials']);
        expect(wrong.body.error.message).toMatch(/^用户名或密码错误/);
        const claimed = await call(srv.url, 'GET', '/api/incidents', { headers: { 'X-OneMap-Actor': 'admin:root' } });
        expect([claimed.status, claimed.body.error.code]).toEqual([401, 'not_signed_in']);
        // The basemap stays public; the overlay needs a session.
        expect((await call(srv.url, 'GET', '/tiles/basemap.json')).status).toBe(200);
        expect((await call(srv.url, 'GET', '/tiles/overlay.json')).status).toBe(401);
      });

      it('locks an account for 15 minutes after 5 wrong passwords; the admin can unlock it', async () => {
        for (let i = 0; i < 4; i++) expect((await tryIn(srv.url, 'planner', `wrong-${i}`)).status).toBe(401);
        const fifth = await tryIn(srv.url, 'planner', 'wrong-5');
        expect([fifth.status, fifth.body.error.code]).toEqual([423, 'account_locked']);
        expect(Number(fifth.headers.get('retry-after'))).toBe(900);
        expect(fifth.body.error.message).toMatch(/15 分钟/);
        // Even the right password is refused while locked; Retry-After counts down with the clock.
        now += 5 * 60_000;
        const still = await tryIn(srv.url, 'planner', TEST_PASSWORD);
        expect([still.status, Number(still.headers.get('retry-after'))]).toEqual([423, 600]);
        const admin = (await signIn(srv.url, 'admin')).cookie;
        const listed = await call(srv.url, 'GET', '/api/users/planner', { cookie: admin });
        expect(listed.body.user).toMatchObject({ locked: true });
        expect((await call(srv.url, 'PUT', '/api/users/planner', { cookie: admin, body: { unlock: true } })).status).toBe(200);
        expect((await tryIn(srv.url, 'planner', TEST_PASSWORD)).status).toBe(200);
        // Or it unlocks itself after 15 minutes.
        for (let i = 0; i < 5; i++) await tryIn(srv.url, 'planner', `again-${i}`);
        expect((await tryIn(srv.url, 'planner', TEST_PASSWORD)).status).toBe(423);
        now += 15 * 60_000 + 1000;
        expect((await tryIn(srv.url, 'planner', TEST_PASSWORD)).status).toBe(200);
      });

      it('expires a session after 30 idle minutes and after 12 hours in any case', async () => {
        const { cookie } = await signIn(srv.url, 'operator');
        now += 29 * 60_000;
        expect((await call(srv.url, 'GET', '/api/session', { cookie })).status).toBe(200);
        now += 31 * 60_000;
        const idle = await call(srv.url, 'GET', '/api/incidents/categories', { cookie });
        expect([idle.status, idle.body.error.code]).toEqual([401, 'session_expired']);
        expect(idle.headers.getSetCookie()[0]).toMatch(/Max-Age=0/);
        // Active all the time: still ends after 12 h.
        const active = (await signIn(srv.url, 'operator')).cookie;
        for (let h = 0; h < 12 * 3; h++) {
          now += 20 * 60_000;
          const r = await call(srv.url, 'GET', '/api/session', { cookie: active });
          if (h < 12 * 3 - 1) expect(r.status, `after ${(h + 1) * 20} min`).toBe(200);
          else expect([r.status, r.body.error.code]).toEqual([401, 'session_expired']);
        }
      });

      it('creates the demo users: admin, operator, planner, analyst and one grid manager per grid, named from grids.fgb', async () => {
        const admin = (await signIn(srv.url, 'admin')).cookie;
        const all = await call(srv.url, 'GET', '/api/users', { cookie: admin });
        expect(all.body.users.map((u: { username: string }) => u.username).sort()).toEqual(
          ['admin', 'analyst', ...GRIDS.map((g) => `grid-${g.code}`), 'operator', 'planner', 'steward-city', 'steward-emergency'].sort());
        const gm = await signIn(srv.url, `grid-${GRIDS[1].code}`);
        expect(gm.user).toEqual({ username: `grid-${GRIDS[1].code}`, role: 'grid_manager', name: GRIDS[1].manager, department: 'city', departmentTitle: '城运中心', grids: [GRIDS[1].code] });
      });

      it('lets only admins manage users, never returns a password hash, and applies changes to open sessions at once', async () => {
        const admin = (await signIn(srv.url, 'admin')).cookie;
        const op = (await signIn(srv.url, 'operator')).cookie;
        expect((await call(srv.url, 'GET', '/api/users', { cookie: op })).status).toBe(403);
        expect((await call(srv.url, 'GET', '/api/users')).status).toBe(401);
        const made = await call(srv.url, 'POST', '/api/users', { cookie: admin, body: { username: 'zhang.wei', role: 'planner', name: '张伟', password: 'first-pass-1', layers: ['facilities'] } });
        expect(made.status).toBe(201);
        expect(made.body.user).toMatchObject({ username: 'zhang.wei', role: 'planner', layers: ['facilities'], disabled: false });
        for (const r of [made, await call(srv.url, 'GET', '/api/users', { cookie: admin }), await call(srv.url, 'GET', '/api/users/zhang.wei', { cookie: admin })]) {
          const text = JSON.stringify(r.body);
          expect(text).not.toMatch(/scrypt|password|hash/i);
        }
        expect((await call(srv.url, 'POST', '/api/users', { cookie: admin, body: { username: 'zhang.wei', role: 'planner', name: 'x', password: 'first-pass-1' } })).status).toBe(409);
        expect((await call(srv.url, 'POST', '/api/users', { cookie: admin, body: { username: 'short', role: 'planner', name: 'x', password: 'short' } })).body.error.code).toBe('bad_password');
        expect((await call(srv.url, 'POST', '/api/users', { cookie: admin, body: { username: 'gm-x', role: 'grid_manager', name: 'x', password: 'long-enough-1' } })).body.error.code).toBe('missing_grids');
        expect((await call(srv.url, 'POST', '/api/users', { cookie: admin, body: { username: 'boss', role: 'root', name: 'x', password: 'long-enough-1' } })).body.error.code).toBe('bad_role');
        const zw = (await signIn(srv.url, 'zhang.wei', 'first-pass-1')).cookie;
        // A planner scoped to facilities may not write other layers (the gate refuses before the handler).
        const other = await call(srv.url, 'POST', '/api/layers/towns/edits', { cookie: zw, body: { changes: [] } });
        expect([other.status, other.body.error.code]).toEqual([403, 'layer_not_assigned']);
        // A role change shows at once on the open session.
        expect((await call(srv.url, 'PUT', '/api/users/zhang.wei', { cookie: admin, body: { role: 'analyst' } })).status).toBe(200);
        expect((await call(srv.url, 'GET', '/api/session', { cookie: zw })).body.user.role).toBe('analyst');
        // A new password ends the user's sessions; the old password stops working.
        expect((await call(srv.url, 'PUT', '/api/users/zhang.wei', { cookie: admin, body: { password: 'second-pass-2' } })).status).toBe(200);
        expect((await call(srv.url, 'GET', '/api/session', { cookie: zw })).status).toBe(401);
        expect((await tryIn(srv.url, 'zhang.wei', 'first-pass-1')).status).toBe(401);
        const zw2 = (await signIn(srv.url, 'zhang.wei', 'second-pass-2')).cookie;
        // Disabled: sessions end, sign-in refused.
        expect((await call(srv.url, 'PUT', '/api/users/zhang.wei', { cookie: admin, body: { disabled: true } })).body.user.disabled).toBe(true);
        expect((await call(srv.url, 'GET', '/api/session', { cookie: zw2 })).status).toBe(401);
        expect((await tryIn(srv.url, 'zhang.wei', 'second-pass-2')).body.error.code).toBe('account_disabled');
        // The admin cannot lock themselves out.
        expect((await call(srv.url, 'PUT', '/api/users/admin', { cookie: admin, body: { disabled: true } })).status).toBe(409);
        expect((await call(srv.url, 'DELETE', '/api/users/admin', { cookie: admin })).status).toBe(409);
        expect((await call(srv.url, 'DELETE', '/api/users/zhang.wei', { cookie: admin })).status).toBe(204);
        expect((await call(srv.url, 'GET', '/api/users/zhang.wei', { cookie: admin })).status).toBe(404);
      });

      it('checks LayerDef.roles on /ogc/collections/{layer} and needs a session for the live feed', async () => {
        const gm = (await signIn(srv.url, `grid-${GRIDS[0].code}`)).cookie;
        expect((await call(srv.url, 'GET', '/ogc/collections/towns', { cookie: gm })).status).toBe(200);
        // responders: a core layer of 城运中心 (issue 10) — an analyst (公安局) without a grant is refused on any route
        // naming the layer, with the code that says a request is needed.
        const analyst = (await signIn(srv.url, 'analyst')).cookie;
        for (const path of ['/ogc/collections/responders/items', '/data/responders.fgb']) {
          const r = await call(srv.url, 'GET', path, { cookie: analyst });
          expect([r.status, r.body.error.code], path).toEqual([403, 'grant_required']);
        }
        const listed = (await call(srv.url, 'GET', '/ogc/collections', { cookie: analyst })).body.collections.map((c: { id: string }) => c.id);
        expect(listed).toContain('towns');
        expect(listed).not.toContain('responders');
        const ws = (cookie?: string) => new Promise<number>((resolve) => {
          const s = new WebSocket(`${srv.url.replace('http', 'ws')}/ws`, cookie ? { headers: { Cookie: cookie } } : {});
          s.once('open', () => { s.close(); resolve(101); });
          s.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
          s.once('error', () => {});
        });
        expect(await ws()).toBe(401);
        expect(await ws(gm)).toBe(101);
      });
    });

    it('limits sign-in to 10 attempts a minute per address (429 with Retry-After)', async () => {
      let now = Date.UTC(2026, 10, 29, 9);
      const { srv } = await start({ demoPassword: TEST_PASSWORD, auth: { clock: () => now } });
      try {
        for (let i = 0; i < 10; i++) expect((await tryIn(srv.url, 'nobody', 'x')).status).toBe(401);
        const limited = await tryIn(srv.url, 'admin', TEST_PASSWORD);
        expect([limited.status, limited.body.error.code]).toEqual([429, 'rate_limited']);
        expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
        now += 61_000;
        expect((await tryIn(srv.url, 'admin', TEST_PASSWORD)).status).toBe(200);
      } finally {
        await srv.close();
      }
    });

    it('prints a generated demo password once at first start, never a fixed one, and stores only hashes', async () => {
      const saved = process.env.ONEMAP_DEMO_PASSWORD;
      delete process.env.ONEMAP_DEMO_PASSWORD;
      const log = vi.spyOn(console, 'log').mockImplementation(() => {});
      try {
        const first = await start();
        const printed = log.mock.calls.map((c) => String(c[0])).join('\n');
        const m = /demo password \(shown once\): (\S{16})/.exec(printed);
        expect(m, printed).not.toBeNull();
        const password = m![1];
        expect(printed).toMatch(/admin, operator, planner, analyst/);
        expect((await tryIn(first.srv.url, 'admin', password)).status).toBe(200);
        expect((await tryIn(first.srv.url, `grid-${GRIDS[0].code}`, password)).status).toBe(200);
        await first.srv.close();
        if (name === 'sqlite') {
          const bytes = readFileSync(first.where).toString('latin1');
          expect(bytes).not.toContain(password);
          expect(bytes).toMatch(/scrypt\$32768\$8\$1\$/);
        } else {
          const pg = (await import('pg')).default;
          const c = new pg.Client({ connectionString: first.where });
          await c.connect();
          try {
            const rows = (await c.query('SELECT username, password_hash FROM auth.users')).rows as { username: string; password_hash: string }[];
            const own = rows.filter((r) => r.password_hash !== 'demo').map((r) => r.password_hash);
            expect(own.length).toBe(2); // the two who signed in have their own hashes (own salts)
            expect(new Set(own.map((h) => h.split('$')[4])).size).toBe(2);
            expect(rows.every((r) => !r.password_hash.includes(password))).toBe(true);
          } finally { await c.end(); }
        }
        log.mockClear();
        const again = await start({}, first.where);
        expect(log.mock.calls.map((c) => String(c[0])).join('\n')).not.toMatch(/demo password/);
        expect((await tryIn(again.srv.url, 'admin', password)).status).toBe(200);
        await again.srv.close();
        // Another first start: another password.
        log.mockClear();
        const other = await start();
        const second = /demo password \(shown once\): (\S{16})/.exec(log.mock.calls.map((c) => String(c[0])).join('\n'));
        expect(second).not.toBeNull();
        expect(second![1]).not.toBe(password);
        await other.srv.close();
      } finally {
        log.mockRestore();
        if (saved !== undefined) process.env.ONEMAP_DEMO_PASSWORD = saved;
      }
    });
  });
}
