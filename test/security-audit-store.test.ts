// The security audit store, both engines through one suite: SQLite always, PostgreSQL when TEST_DATABASE_URL
// is set (scripts/test.sh starts it; without it the PostgreSQL run FAILS unless ONEMAP_SKIP_POSTGIS=1).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listAudit, openPgSecurityAudit, openSqliteSecurityAudit, parseAuditQuery, SecurityAudit, type SecurityAuditStore } from '../tile-server/auth/audit.ts';
import { createFreshDatabase } from './helpers/fresh-pg.ts';

const engines: { name: string; open(): Promise<{ store: SecurityAuditStore; done(): Promise<void> }> }[] = [{
  name: 'sqlite',
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'onemap-audit-'));
    let t = 1000;
    const store = await openSqliteSecurityAudit(join(dir, 'a.sqlite'), () => t++);
    return { store, async done() { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
  },
}];
if (process.env.TEST_DATABASE_URL) engines.push({
  name: 'postgres',
  async open() {
    const db = await createFreshDatabase(process.env.TEST_DATABASE_URL!, 'onemap_audit');
    let t = 1000;
    const store = await openPgSecurityAudit(db.url, { clock: () => t++ });
    return { store, async done() { await store.close(); await db.drop(); } };
  },
});

it('PostgreSQL is part of the run (TEST_DATABASE_URL), or skipped on purpose (ONEMAP_SKIP_POSTGIS=1)', () => {
  expect(!!process.env.TEST_DATABASE_URL || process.env.ONEMAP_SKIP_POSTGIS === '1').toBe(true);
});

for (const engine of engines) {
  describe(`security audit store (${engine.name})`, () => {
    const cleanup: (() => Promise<void>)[] = [];
    afterAll(async () => { for (const c of cleanup) await c(); });

    it('appends, filters by action/actor/since, newest first, and keeps the detail', async () => {
      const { store, done } = await engine.open();
      cleanup.push(done);
      await store.append({ action: 'sign_in', actor: 'analyst:analyst', target: 'analyst', ip: '127.0.0.1' });
      await store.append({ action: 'sign_in_failed', actor: null, target: 'nobody', detail: { code: 'bad_credentials' } });
      const u = await store.append({ action: 'unmask', actor: 'analyst:analyst', target: '/ogc/x', reason: '核查投诉当事人', detail: { records: { grids: 1 } } });
      expect(u).toMatchObject({ action: 'unmask', reason: '核查投诉当事人', detail: { records: { grids: 1 } }, at: 1002 });
      expect((await store.list({ limit: 10 })).map((e) => e.action)).toEqual(['unmask', 'sign_in_failed', 'sign_in']);
      expect((await store.list({ actor: 'analyst:analyst', limit: 10 })).map((e) => e.action)).toEqual(['unmask', 'sign_in']);
      expect((await store.list({ action: 'sign_in_failed', limit: 10 }))[0]).toMatchObject({ actor: null, target: 'nobody', detail: { code: 'bad_credentials' } });
      expect((await store.list({ since: 1001, limit: 10 })).length).toBe(2);
      expect((await store.list({ limit: 1 })).length).toBe(1);
    });

    it('SecurityAudit records without awaiting and merges with edits in GET /api/audit order', async () => {
      const { store } = await engine.open().then((o) => { cleanup.push(o.done); return o; });
      const audit = new SecurityAudit(Promise.resolve(store));
      audit.record({ action: 'view_personal', actor: 'operator:operator', target: '/data/grids.fgb' });
      const edits = { audit: async () => [{ seq: 1, at: 999, actor: 'planner:planner', action: 'update', layer: 'grids', id: 'g', detail: {} }] };
      const all = await listAudit(parseAuditQuery(new URLSearchParams('kind=all')), audit, edits);
      expect(all.map((x) => `${x.kind}:${x.action}`)).toEqual(['security:view_personal', 'edit:update']);
      expect((await listAudit(parseAuditQuery(new URLSearchParams('')), audit, edits)).map((x) => x.kind)).toEqual(['edit']);
      expect((await listAudit(parseAuditQuery(new URLSearchParams('action=view_personal')), audit, edits)).map((x) => x.kind)).toEqual(['security']);
      expect(() => parseAuditQuery(new URLSearchParams('action=nope'))).toThrow(/action/);
    });
  });
}
