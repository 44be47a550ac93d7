// Data sharing through HTTP (issue 10, tile-server/sharing), on SQLite and on PostgreSQL: an analyst (公安局) asks
// for the sensitive hazards layer of 应急管理局; public/internal layers and users who see the layer already need no
// request; bad input is a 4xx with its code; the requester, other departments and other roles cannot approve; the
// owner's data steward approves with a narrower scope (fields, towns, days) — never a wider one; the grant is in
// force at once (GrantSource.activeGrants) and gone when the server's clock passes its expiry; refusal and revocation
// need a reason, revocation takes effect at once; the core responders layer needs two approvals by two users, one of
// them 城运中心's steward; feedback and the usage log; a restarted service has the same grants (the store).
// Then the users' department: migration v2 of an old user store, role defaults, the demo stewards added to an
// existing store, and /api/users accepting and validating it.
// Needs geodata/build with hazards.fgb (npm run data).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import type { Grant } from '../layers/governance/model.ts';
import { AuthService, actorOfUser } from '../tile-server/auth/auth-service.ts';
import { AUTH_MIGRATIONS } from '../tile-server/auth/migrations.ts';
import { openPgUserStore } from '../tile-server/auth/pg-user-store.ts';
import { openUserStore, type UserStore } from '../tile-server/auth/user-store.ts';
import { migrateSqlite } from '../tile-server/incidents/sqlite-store.ts';
import { SharingService } from '../tile-server/sharing/service.ts';
import { DATA_DIR, startTestServer, type TestServer } from './helpers/browser.ts';
import { createFreshDatabase } from './helpers/fresh-pg.ts';
import { json, raw } from './helpers/http.ts';
import { asUser, TEST_PASSWORD } from './helpers/session.ts';
import { useStoreTargets } from './helpers/store-targets.ts';

const DAY = 86_400_000;
const TOWNS = (() => {
  const f = openFlatGeobuf(readFileSync(join(DATA_DIR, 'towns.fgb')));
  return [...f.features()].map((x) => String(x.properties!.code)).sort();
})();

async function until<T>(what: string, f: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const targets = useStoreTargets('sharing');
const ENGINES = ['sqlite', ...(targets.withPostgres ? ['postgres'] : [])] as const;

describe.each(ENGINES)('sharing over HTTP on %s', (engine) => {
  let srv: TestServer;
  let drop: (() => Promise<void>) | undefined;
  let sharingOpts: { file?: string; databaseUrl?: string };
  let now = Date.UTC(2026, 10, 29, 2, 0, 0);
  const changes: string[][] = [];
  const h: Record<string, Record<string, string>> = {};

  beforeAll(async () => {
    let pgUrl: string | undefined;
    if (engine === 'postgres') {
      const fresh = await createFreshDatabase(targets.requirePg(), 'sharing_api');
      pgUrl = fresh.url;
      drop = fresh.drop;
    }
    srv = await startTestServer({
      webDir: join(DATA_DIR, 'no-web'), requireData: ['hazards.fgb', 'towns.fgb', 'grids.fgb'],
      server: (dir) => {
        sharingOpts = pgUrl ? { databaseUrl: pgUrl } : { file: join(dir, 'sharing.sqlite') };
        return {
          clock: () => now, telemetry: false, indicatorIntervalMs: 0, purgeIntervalMs: 0, sweepIntervalMs: 0,
          ...(pgUrl ? { sharingDatabaseUrl: pgUrl } : { sharingDbFile: sharingOpts.file, sharingDatabaseUrl: null }),
        };
      },
    });
    srv.server.sharing!.onChange((u) => changes.push(u));
    for (const u of ['admin', 'operator', 'planner', 'analyst', 'steward-emergency', 'steward-city']) h[u] = await asUser(srv.url, u);
  }, 120_000);
  afterAll(async () => {
    await srv?.close();
    await drop?.();
  });

  const call = async (who: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const r = await raw(srv.url, path, {
      method, headers: { ...h[who], ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: r.status, body: r.body.length ? json(r) : null };
  };
  const code = (r: { body: any }) => r.body?.error?.code;
  const ask = (who: string, layer: string, body: unknown) => call(who, 'POST', `/api/catalog/${layer}/requests`, body);
  const act = (who: string, id: string, action: string, body: unknown = {}) => call(who, 'POST', `/api/sharing/${id}/${action}`, body);
  const grants = (u: string): readonly Grant[] => srv.server.sharing!.activeGrants(u, now);
  const purpose = '分析危化企业周边治安风险，部署巡逻力量';
  const hazardFields = ['name', 'kind', 'hazard_class', 'storage_t', 'contact_phone'];

  it('shows each user\'s department (stored, else the role\'s default)', async () => {
    const dept = async (u: string) => (await call(u, 'GET', '/api/session')).body.user.department;
    expect(await dept('analyst')).toBe('police');
    expect(await dept('planner')).toBe('planning');
    expect(await dept('operator')).toBe('city');
    expect(await dept('steward-emergency')).toBe('emergency');
    expect(await dept('steward-city')).toBe('city');
  });

  it('needs no request for public and internal layers, nor from who sees the layer already', async () => {
    for (const [who, layer] of [['analyst', 'towns'], ['analyst', 'grids'], ['steward-emergency', 'hazards'], ['operator', 'hazards'], ['admin', 'hazards'], ['steward-city', 'responders']]) {
      const r = await ask(who, layer, { purpose, days: 7 });
      expect(r.status, `${who} ${layer}`).toBe(409);
      expect(code(r)).toBe('no_request_needed');
    }
  });

  it('refuses bad input with a 4xx and its code', async () => {
    const cases: [unknown, number, string][] = [
      [{ purpose: '太短了', days: 7 }, 400, 'bad_purpose'],
      [{ purpose: 'x'.repeat(501), days: 7 }, 400, 'bad_purpose'],
      [{ purpose }, 400, 'bad_days'],
      [{ purpose, days: 0 }, 400, 'bad_days'],
      [{ purpose, days: 366 }, 400, 'bad_days'],
      [{ purpose, days: 1.5 }, 400, 'bad_days'],
      [{ purpose, days: 7, fields: ['no_such_field'] }, 400, 'bad_fields'],
      [{ purpose, days: 7, fields: [] }, 400, 'bad_fields'],
      [{ purpose, days: 7, areas: ['12345'] }, 400, 'bad_areas'],
      [{ purpose, days: 7, areas: ['999999999'] }, 400, 'unknown_area'],
      [{ purpose, days: 7, extra: 1 }, 400, 'unknown_param'],
      [[1, 2], 400, 'bad_body'],
      ['{not json', 400, 'bad_json'],
    ];
    for (const [body, status, c] of cases) {
      const r = await ask('analyst', 'hazards', body);
      expect([r.status, code(r)], JSON.stringify(body).slice(0, 80)).toEqual([status, c]);
    }
    const r415 = await call('analyst', 'POST', '/api/catalog/hazards/requests', 'purpose=x', { 'Content-Type': 'text/plain' });
    expect(r415.status).toBe(415);
    expect((await ask('analyst', 'no_such_layer', { purpose, days: 7 })).status).toBe(404);
    expect((await call('analyst', 'GET', '/api/sharing?box=everything')).status).toBe(400);
    expect((await call('analyst', 'GET', '/api/sharing?status=lost')).status).toBe(400);
    expect((await call('analyst', 'GET', '/api/sharing/sr-nope')).status).toBe(404);
    expect((await call('analyst', 'GET', '/api/sharing?box=all')).status).toBe(403);
    expect((await raw(srv.url, '/api/sharing')).status).toBe(401);
    // Nothing was stored by any of them.
    expect((await call('analyst', 'GET', '/api/sharing?box=mine')).body.items).toEqual([]);
  });

  let first: any;
  it('files a request; only admin and the owner department\'s steward may decide it', async () => {
    const r = await ask('analyst', 'hazards', { purpose, fields: hazardFields, areas: TOWNS.slice(0, 3), days: 10 });
    expect(r.status).toBe(201);
    first = r.body.request;
    expect(first).toMatchObject({
      layer: 'hazards', grade: 'sensitive', owner: 'emergency', status: 'pending', needed: 1, days: 10, fields: hazardFields,
      areas: TOWNS.slice(0, 3), requester: { username: 'analyst', department: 'police' }, approvals: [], scope: null, createdAt: now,
    });
    expect(code(await ask('analyst', 'hazards', { purpose, days: 3 }))).toBe('request_pending');
    expect(grants('analyst')).toEqual([]);

    const ids = async (who: string, box: string) => (await call(who, 'GET', `/api/sharing?box=${box}`)).body.items.map((x: any) => x.id);
    expect(await ids('analyst', 'mine')).toEqual([first.id]);
    expect(await ids('steward-emergency', 'inbox')).toEqual([first.id]);
    expect(await ids('admin', 'inbox')).toEqual([first.id]);
    expect(await ids('admin', 'all')).toEqual([first.id]);
    expect(await ids('steward-city', 'inbox')).toEqual([]);
    expect(await ids('planner', 'inbox')).toEqual([]);
    expect(await ids('analyst', 'inbox')).toEqual([]);
    expect((await call('steward-emergency', 'GET', '/api/sharing?box=inbox')).body.items[0].actions).toEqual(['approve', 'refuse']);

    for (const [who, c] of [['analyst', 'own_request'], ['planner', 'not_approver'], ['steward-city', 'not_approver'], ['operator', 'not_approver']]) {
      const a = await act(who, first.id, 'approve');
      expect([a.status, code(a)], who).toEqual([403, c]);
    }
    expect((await call('planner', 'GET', `/api/sharing/${first.id}`)).status).toBe(403);
    expect(grants('analyst')).toEqual([]);
  });

  it('lets the steward narrow the scope but never widen it', async () => {
    for (const body of [{ fields: [...hazardFields, 'contact_name'] }, { days: 11 }, { areas: null }, { fields: null }]) {
      const a = await act('steward-emergency', first.id, 'approve', body);
      expect([a.status, code(a)], JSON.stringify(body)).toEqual([400, 'scope_wider']);
    }
    expect(code(await act('steward-emergency', first.id, 'approve', { days: 0 }))).toBe('bad_days');
    expect(code(await act('steward-emergency', first.id, 'approve', { areas: ['1'] }))).toBe('bad_areas');
    expect(code(await act('steward-emergency', first.id, 'approve', { other: 1 }))).toBe('unknown_param');
    expect((await call('steward-emergency', 'GET', `/api/sharing/${first.id}`)).body.request.status).toBe('pending');
  });

  it('approves two towns for 7 days without the phone: in force at once, gone at expiry by the server clock', async () => {
    const fields = ['name', 'kind', 'hazard_class', 'storage_t'];
    const areas = TOWNS.slice(0, 2);
    changes.length = 0;
    const a = await act('steward-emergency', first.id, 'approve', { fields, areas, days: 7 });
    expect(a.status).toBe(200);
    expect(a.body.request).toMatchObject({ status: 'approved', scope: { fields, areas, expiresAt: now + 7 * DAY }, approvals: [{ by: 'steward-emergency', name: '应急管理局数据员', at: now }] });
    expect(grants('analyst')).toEqual([{ id: first.id, layer: 'hazards', grantee: 'analyst', fields, areas, expiresAt: now + 7 * DAY }]);
    expect(changes).toEqual([['analyst']]);
    expect(code(await act('steward-emergency', first.id, 'approve'))).toBe('not_pending');
    expect(code(await act('admin', first.id, 'refuse', { reason: '已经批准了' }))).toBe('not_pending');

    // Use and feedback.
    srv.server.sharing!.recordUse({ grantId: first.id, layer: 'hazards', grantee: 'analyst', at: now + 1000, route: 'GET /ogc/collections/hazards/items', rows: 12 });
    srv.server.sharing!.recordUse({ grantId: first.id, layer: 'hazards', grantee: 'analyst', at: now + 2000, route: 'GET /data/hazards.fgb', rows: 30 });
    const seen = await call('steward-emergency', 'GET', `/api/sharing/${first.id}`);
    expect(seen.body.request).toMatchObject({ uses: 2, lastUsedAt: now + 2000 });
    expect(seen.body.usage).toEqual([
      { grantId: first.id, layer: 'hazards', grantee: 'analyst', at: now + 2000, route: 'GET /data/hazards.fgb', rows: 30 },
      { grantId: first.id, layer: 'hazards', grantee: 'analyst', at: now + 1000, route: 'GET /ogc/collections/hazards/items', rows: 12 },
    ]);
    expect(code(await act('steward-emergency', first.id, 'feedback', { text: '不是我的申请' }))).toBe('not_requester');
    expect(code(await act('analyst', first.id, 'feedback', { rating: 6, text: '好' }))).toBe('bad_rating');
    expect(code(await act('analyst', first.id, 'feedback', { text: '' }))).toBe('bad_text');
    const fb = await act('analyst', first.id, 'feedback', { rating: 4, text: '数据及时，缺少联系电话影响核实' });
    expect(fb.status).toBe(200);
    expect(fb.body.request.feedback).toEqual([{ at: now, rating: 4, text: '数据及时，缺少联系电话影响核实' }]);

    // One millisecond before expiry it is in force; at expiry it is not — with no call to the service in between.
    now += 7 * DAY - 1;
    expect(grants('analyst')).toHaveLength(1);
    now += 1;
    expect(grants('analyst')).toEqual([]);
    expect((await call('analyst', 'GET', `/api/sharing/${first.id}`)).body.request.status).toBe('expired');
    expect(code(await act('steward-emergency', first.id, 'revoke', { reason: '到期后撤销' }))).toBe('not_in_force');
    await until('the expiry announced to onChange listeners', () => (changes.length >= 2 ? true : undefined));
    expect(changes[1]).toEqual(['analyst']);
  });

  it('refuses with a reason; revokes at once', async () => {
    const r = (await ask('analyst', 'hazards', { purpose, days: 30 })).body.request;
    expect(code(await act('steward-emergency', r.id, 'refuse', { reason: '短' }))).toBe('bad_reason');
    expect(code(await act('steward-emergency', r.id, 'refuse', {}))).toBe('bad_reason');
    expect(code(await act('planner', r.id, 'refuse', { reason: '不是我的部门' }))).toBe('not_approver');
    const refused = await act('steward-emergency', r.id, 'refuse', { reason: '用途不明确，请说明具体区域' });
    expect(refused.body.request).toMatchObject({ status: 'refused', decision: { action: 'refuse', by: 'steward-emergency', reason: '用途不明确，请说明具体区域', at: now }, scope: null });
    expect(code(await act('analyst', r.id, 'feedback', { text: '为何拒绝' }))).toBe('not_approved');
    expect(code(await act('steward-emergency', r.id, 'approve'))).toBe('not_pending');

    const again = (await ask('analyst', 'hazards', { purpose, areas: [TOWNS[3]], days: 30 })).body.request;
    expect((await act('admin', again.id, 'approve')).body.request.status).toBe('approved');
    expect(grants('analyst').map((g) => g.id)).toEqual([again.id]);
    changes.length = 0;
    expect(code(await act('analyst', again.id, 'revoke', { reason: '我不再需要这些数据' }))).toBe('not_approver');
    const revoked = await act('steward-emergency', again.id, 'revoke', { reason: '任务结束，收回授权' });
    expect(revoked.body.request).toMatchObject({ status: 'revoked', decision: { action: 'revoke', by: 'steward-emergency' } });
    expect(grants('analyst')).toEqual([]);
    expect(changes).toEqual([['analyst']]);
  });

  it('needs two approvals by two users for the core responders layer, one of them 城运中心\'s steward', async () => {
    const admin2 = await call('admin', 'POST', '/api/users', { username: 'admin2', role: 'admin', name: '第二管理员', password: TEST_PASSWORD });
    expect(admin2.status).toBe(201);
    h.admin2 = await asUser(srv.url, 'admin2');
    const r = (await ask('analyst', 'responders', { purpose: '统计各镇处置力量分布情况', fields: ['kind', 'grid_code'], days: 14 })).body.request;
    expect(r).toMatchObject({ grade: 'core', owner: 'city', needed: 2 });
    const one = await act('admin', r.id, 'approve', { days: 10 });
    expect(one.body.request).toMatchObject({ status: 'approving', scope: null, proposed: { fields: ['kind', 'grid_code'], areas: null, days: 10 } });
    expect(grants('analyst')).toEqual([]);
    expect(code(await act('admin', r.id, 'approve'))).toBe('already_approved');
    expect(code(await act('admin2', r.id, 'approve'))).toBe('owner_approval_required');
    expect(code(await act('steward-emergency', r.id, 'approve'))).toBe('not_approver');
    expect(code(await act('steward-city', r.id, 'approve', { days: 11 }))).toBe('scope_wider');
    const two = await act('steward-city', r.id, 'approve', { areas: [TOWNS[0]] });
    expect(two.body.request).toMatchObject({ status: 'approved', scope: { fields: ['kind', 'grid_code'], areas: [TOWNS[0]], expiresAt: now + 10 * DAY } });
    expect(two.body.request.approvals.map((x: any) => x.by)).toEqual(['admin', 'steward-city']);
    expect(grants('analyst').map((g) => g.layer)).toEqual(['responders']);

    // The owner's steward first, then an admin, is enough too.
    const p = (await ask('planner', 'responders', { purpose: '规划应急站点需要处置力量分布', days: 5 })).body.request;
    expect((await act('steward-city', p.id, 'approve')).body.request.status).toBe('approving');
    expect((await act('admin2', p.id, 'approve')).body.request.status).toBe('approved');
  });

  it('records share_* events in the security audit', async () => {
    const actions = new Set<string>();
    for (const a of ['share_request', 'share_approve', 'share_refuse', 'share_revoke']) {
      const r = await call('admin', 'GET', `/api/audit?action=${a}&limit=50`);
      expect(r.status).toBe(200);
      for (const x of r.body.items) actions.add(x.action);
    }
    expect([...actions].sort()).toEqual(['share_approve', 'share_refuse', 'share_request', 'share_revoke']);
  });

  it('keeps requests and grants in the store: a service reopened on it answers the same', async () => {
    await srv.server.sharing!.flush();
    const again = await SharingService.open({ ...sharingOpts, clock: () => now, log: () => {}, tickMs: 0 });
    try {
      for (const u of ['analyst', 'planner']) expect(again.activeGrants(u, now)).toEqual(grants(u));
      expect(again.activeGrants('analyst', now)).toHaveLength(1);
      const viewer = { id: 'admin', role: 'admin', department: 'city' as const };
      expect(again.list(viewer, 'all', null)).toEqual(srv.server.sharing!.list(viewer, 'all', null));
      expect((await again.get(viewer, first.id)).usage).toHaveLength(2);
      expect(await again.store.purgeUsageBefore(first.createdAt + 1500)).toBe(1);
    } finally {
      await again.close();
    }
  });

  it('lets an admin set a user\'s department (validated); a planner of the owner department then approves', async () => {
    expect(code(await call('admin', 'PUT', '/api/users/planner', { department: 'nowhere' }))).toBe('bad_department');
    const r = (await ask('analyst', 'hazards', { purpose, days: 2 })).body.request;
    expect(code(await act('planner', r.id, 'approve'))).toBe('not_approver');
    const put = await call('admin', 'PUT', '/api/users/planner', { department: 'emergency' });
    expect(put.body.user).toMatchObject({ department: 'emergency', departmentSet: true });
    expect((await act('planner', r.id, 'approve')).body.request.status).toBe('approved');
    const back = await call('admin', 'PUT', '/api/users/planner', { department: null });
    expect(back.body.user).toMatchObject({ department: 'planning', departmentSet: false });
  });
});

describe.each(ENGINES)('users\' department in the store on %s', (engine) => {
  const open = async (): Promise<{ store: UserStore; reopen: () => Promise<UserStore> }> => {
    if (engine === 'sqlite') {
      const file = targets.sqliteFile('users');
      // A store of before issue 10: migration 1 only, one user.
      const db = new Database(file);
      migrateSqlite(db, AUTH_MIGRATIONS.slice(0, 1), file);
      db.prepare(`INSERT INTO users (username, role, name, grids, layers, disabled, password_hash, failed_count, locked_until, created_at, updated_at)
        VALUES ('old-analyst', 'analyst', '老用户', NULL, NULL, 0, 'demo', 0, NULL, 1, 1)`).run();
      db.prepare(`INSERT INTO auth_meta (key, value) VALUES ('demo_password_hash', 'scrypt$x')`).run();
      db.close();
      return { store: await openUserStore({ file }), reopen: () => openUserStore({ file }) };
    }
    const url = targets.requirePg();
    const schema = targets.pgSchema('users');
    const old = await import('../tile-server/incidents/pg-store.ts');
    const pg = (await import('pg')).default;
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    await old.migratePg(pool, schema, AUTH_MIGRATIONS.slice(0, 1));
    await pool.query(`INSERT INTO "${schema}".users (username, role, name, disabled, password_hash, failed_count, created_at, updated_at)
      VALUES ('old-analyst', 'analyst', '老用户', false, 'demo', 0, 1, 1)`);
    await pool.query(`INSERT INTO "${schema}".auth_meta (key, value) VALUES ('demo_password_hash', 'scrypt$x')`);
    await pool.end();
    return { store: await openPgUserStore(url, { schema }), reopen: () => openPgUserStore(url, { schema }) };
  };

  it('migrates an old store (department null → the role default) and adds the demo stewards to it', async () => {
    const { store, reopen } = await open();
    try {
      const u = (await store.get('old-analyst'))!;
      expect(u.department).toBeNull();
      expect(actorOfUser(u).department).toBe('police');
      await store.update({ ...u, department: 'fire', updatedAt: 2 });
      expect((await store.get('old-analyst'))!.department).toBe('fire');
      const auth = new AuthService(store, { log: () => {} });
      expect(await auth.ensureDemoUsers(async () => [], 'irrelevant-password-1')).toBeNull();
      const steward = (await store.get('steward-emergency'))!;
      expect(steward).toMatchObject({ role: 'planner', name: '应急管理局数据员', department: 'emergency', layers: ['hazards'], passwordHash: 'demo' });
      expect((await store.get('steward-city'))!).toMatchObject({ role: 'planner', department: 'city', layers: ['grids'] });
      expect(await auth.ensureStewards()).toEqual([]);
    } finally {
      await store.close();
    }
    const again = await reopen();
    try {
      expect((await again.get('old-analyst'))!.department).toBe('fire');
      expect((await again.list()).map((x) => x.username).sort()).toEqual(['old-analyst', 'steward-city', 'steward-emergency']);
    } finally {
      await again.close();
    }
  });
});
