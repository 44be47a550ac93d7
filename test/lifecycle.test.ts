// Retention and purge (issue 10 item 3: "a scheduled purge that really deletes, and says what it deleted in the
// audit log"). On SQLite and on PostgreSQL (an empty database of its own): every store is filled with rows just
// past their rule's period and rows just inside it; one purge run deletes exactly the former — counted in the raw
// tables, not through the stores' readers — and the security audit holds one `purge` event with the counts.
// Then over HTTP (SQLite): an admin reads the rules and purges on demand, others may not, and the run is in
// GET /api/audit; a patrol check-in stored through the API is gone once the server's clock passes 180 days.
// Last, scripts/purge.ts does the same on the SQLite files a server without a database URL uses.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, resolveRetention } from '../layers/governance/retention.ts';
import { openFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import type { Incident } from '../layers/incidents/model.ts';
import { openSecurityAudit, SecurityAudit } from '../tile-server/auth/audit.ts';
import { openUserStore, type UserStore } from '../tile-server/auth/user-store.ts';
import { openIncidentStore, type IncidentStore } from '../tile-server/incidents/incident-store.ts';
import { PurgeService, type PurgeRun } from '../tile-server/lifecycle/purge-service.ts';
import { purgersFor } from '../tile-server/lifecycle/purgers.ts';
import { openPatrolStore, type PatrolStore } from '../tile-server/patrol.ts';
import { openSharingStore, type SharingStore } from '../tile-server/sharing/store.ts';
import { openTimeSeriesStore, type TimeSeriesStore } from '../tile-server/telemetry/timeseries-store.ts';
import { DATA_DIR, startTestServer, type TestServer } from './helpers/browser.ts';
import { createFreshDatabase } from './helpers/fresh-pg.ts';
import { bump, makeIncident, OPERATOR, reportTransition } from './helpers/incident-fixtures.ts';
import { asUser } from './helpers/session.ts';

const NOW = Date.UTC(2026, 10, 29, 4);
const ago = (days: number, ms = 0) => NOW - days * DAY_MS + ms;
const HOUR = 3_600_000;
const RULES = resolveRetention({}); // the defaults, whatever the environment of the test run says
const keep = (id: string) => RULES.find((r) => r.id === id)!.keepDays;

type StoreName = 'incidents' | 'patrols' | 'audit' | 'telemetry' | 'users' | 'sharing';
const PG_SCHEMA: Record<StoreName, string> = { incidents: 'ops', patrols: 'patrol', audit: 'security', telemetry: 'telemetry', users: 'auth', sharing: 'sharing' };

interface Engine {
  name: string;
  open(): Promise<{ url: string | null; file(s: StoreName): string | undefined; drop(): Promise<void> }>;
}

const ENGINES: Engine[] = [{
  name: 'SQLite',
  open: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onemap-lifecycle-'));
    return { url: null, file: (s) => join(dir, `${s}.sqlite`), drop: async () => rmSync(dir, { recursive: true, force: true }) };
  },
}, {
  name: 'PostgreSQL',
  open: async () => {
    const base = process.env.TEST_DATABASE_URL;
    if (!base) {
      if (process.env.ONEMAP_SKIP_POSTGIS === '1') return { url: null, file: () => undefined, drop: async () => {} };
      throw new Error('TEST_DATABASE_URL is not set: start PostgreSQL (npx tsx scripts/pg-local.ts start) and export TEST_DATABASE_URL=postgres://postgres@127.0.0.1:54329/onemap, or set ONEMAP_SKIP_POSTGIS=1.');
    }
    const fresh = await createFreshDatabase(base, 'onemap_lifecycle');
    return { url: fresh.url, file: () => undefined, drop: fresh.drop };
  },
}];

for (const engine of ENGINES) {
  const skip = engine.name === 'PostgreSQL' && !process.env.TEST_DATABASE_URL && process.env.ONEMAP_SKIP_POSTGIS === '1';
  describe.skipIf(skip)(`purge on ${engine.name}`, () => {
    let target: Awaited<ReturnType<Engine['open']>>;
    let incidents: IncidentStore, patrols: PatrolStore, telemetry: TimeSeriesStore, users: UserStore, sharing: SharingStore;
    let security: SecurityAudit;
    let run: PurgeRun;
    const before: Record<string, number> = {};

    /** Rows of a raw table: `{s}.` is the store's PostgreSQL schema (nothing on SQLite, one file per store). */
    async function rows<T = Record<string, unknown>>(store: StoreName, sql: string, args: unknown[] = []): Promise<T[]> {
      if (target.url) {
        const c = new pg.Client({ connectionString: target.url });
        await c.connect();
        try {
          return (await c.query(sql.replaceAll('{s}.', `"${PG_SCHEMA[store]}".`), args)).rows as T[];
        } finally {
          await c.end();
        }
      }
      const db = new Database(target.file(store)!, { readonly: true });
      try {
        return db.prepare(sql.replaceAll('{s}.', '').replace(/\$\d+/g, '?')).all(...args) as T[];
      } finally {
        db.close();
      }
    }
    const count = async (store: StoreName, sql: string, args: unknown[] = []) => Number((await rows<{ n: unknown }>(store, sql, args))[0].n);

    // Incidents: A ended just past 3 years (deleted with its timeline, photo, key and audit rows), B ended just inside,
    // C is open however old (never deleted), D merged long ago without closedAt (its updatedAt counts).
    const A = makeIncident('00000000-0000-4000-8000-00000000000a', { code: 'SJ-A', createdAt: ago(keep('closed_incidents') + 30) });
    const B = makeIncident('00000000-0000-4000-8000-00000000000b', { code: 'SJ-B', createdAt: ago(keep('closed_incidents') + 30) });
    const C = makeIncident('00000000-0000-4000-8000-00000000000c', { code: 'SJ-C', createdAt: ago(2000) });
    const D = makeIncident('00000000-0000-4000-8000-00000000000d', { code: 'SJ-D', createdAt: ago(keep('closed_incidents') + 5) });

    beforeAll(async () => {
      target = await engine.open();
      const url = target.url;
      incidents = await openIncidentStore({ databaseUrl: url, file: target.file('incidents'), cipher: null });
      patrols = await openPatrolStore({ databaseUrl: url, file: target.file('patrols') });
      telemetry = await openTimeSeriesStore({ databaseUrl: url, file: target.file('telemetry') });
      users = await openUserStore({ databaseUrl: url, file: target.file('users') });
      sharing = await openSharingStore({ databaseUrl: url, file: target.file('sharing') });
      security = new SecurityAudit(openSecurityAudit({ databaseUrl: url, file: target.file('audit') }));

      const close = async (i: Incident, over: Partial<Incident>, at: number) => {
        const next = bump(i, over, at);
        await incidents.update(next, i.version, { incidentId: i.id, action: 'verify', from: i.status, to: next.status, actor: OPERATOR, at, reason: null, data: {} });
        return next;
      };
      for (const i of [A, B, C, D]) await incidents.create(i, reportTransition(i), { idempotencyKey: `key-${i.code}`, requestHash: 'h' });
      await close(A, { status: 'closed', closedAt: ago(keep('closed_incidents'), -HOUR) }, ago(keep('closed_incidents'), -HOUR));
      await close(B, { status: 'closed', closedAt: ago(keep('closed_incidents'), HOUR) }, ago(keep('closed_incidents'), HOUR));
      await close(D, { status: 'merged', mergedInto: B.id, closedAt: null }, ago(keep('closed_incidents'), -HOUR));
      await incidents.addAttachment({ incidentId: A.id, kind: 'before', mime: 'image/png' }, new Uint8Array([1, 2, 3]), A.createdAt, OPERATOR);
      await incidents.addAttachment({ incidentId: B.id, kind: 'before', mime: 'image/png' }, new Uint8Array([4, 5, 6]), B.createdAt, OPERATOR);

      const p = keep('patrol_tracks');
      for (const [user, at] of [['grid-1', ago(p, -HOUR)], ['grid-1', ago(p, -2 * HOUR)], ['grid-2', ago(p, HOUR)], ['grid-2', ago(1)]] as const) {
        await patrols.add({ userId: user, lon: 120.75, lat: 31.65, at, accuracy: null, receivedAt: at });
      }

      const r = keep('telemetry_readings');
      await telemetry.append([ago(r, -HOUR), ago(r, -1), ago(r, HOUR), ago(0)].map((ts) => ({ deviceId: 'wl-1', kind: 'water_level' as const, ts, value: 1.5, receivedAt: ts })));
      const a = keep('cleared_alarms');
      const alarm = { ruleId: 'r1', deviceId: 'wl-1', kind: 'water_level' as const, severity: 2 as const, message: '水位超警戒', lastValue: 3, repeats: 0, incidentId: null, lon: 120.75, lat: 31.65 };
      await telemetry.saveAlarm({ ...alarm, id: 'old-cleared', status: 'cleared', startedAt: ago(a + 1), clearedAt: ago(a, -HOUR) });
      await telemetry.saveAlarm({ ...alarm, id: 'new-cleared', status: 'cleared', startedAt: ago(a + 1), clearedAt: ago(a, HOUR) });
      await telemetry.saveAlarm({ ...alarm, id: 'old-active', status: 'active', startedAt: ago(a + 100), clearedAt: null });

      const idle = 30 * 60_000;
      await users.createSession({ tokenHash: 'expired', username: 'admin', createdAt: ago(1), lastSeen: NOW - 60_000, expiresAt: NOW - 1 });
      await users.createSession({ tokenHash: 'idle', username: 'admin', createdAt: ago(0, -2 * HOUR), lastSeen: NOW - idle - 1, expiresAt: NOW + HOUR });
      await users.createSession({ tokenHash: 'live', username: 'admin', createdAt: ago(0, -HOUR), lastSeen: NOW - 60_000, expiresAt: NOW + HOUR });

      const u = keep('sharing_usage');
      await sharing.appendUses([ago(u, -HOUR), ago(u, HOUR), ago(3)].map((at, i) => ({ grantId: `g${i}`, layer: 'hazards', grantee: 'analyst', at, route: '/data/hazards.fgb', rows: 5 })));

      const s = keep('security_audit');
      for (const at of [ago(s, -HOUR), ago(s, -2 * HOUR), ago(s, HOUR), ago(1)]) security.record({ action: 'sign_in', actor: 'admin:admin', at });
      await security.flush();

      before.incidents = await count('incidents', 'SELECT count(*) AS n FROM {s}.incidents');
      before.audit = await count('audit', 'SELECT count(*) AS n FROM {s}.security_audit');
      const svc = new PurgeService({
        rules: RULES, clock: () => NOW, audit: (e) => security.record(e), log: () => {}, intervalMs: 0,
        purgers: purgersFor({
          incidents: async () => incidents, patrols: async () => patrols, telemetry: async () => telemetry,
          sessions: async () => ({ store: users, idleMs: idle, clock: () => NOW }), sharingUsage: async () => sharing,
          audit: async () => security,
        }),
      });
      run = await svc.run({ trigger: 'manual', by: 'admin:admin' });
    });

    afterAll(async () => {
      for (const s of [incidents, patrols, telemetry, users, sharing, security]) await s?.close().catch(() => {});
      await target?.drop();
    });

    const result = (rule: string) => run.results.find((r) => r.rule === rule)!;

    it('deletes the incidents that ended before the cutoff, with their timeline, photos, keys and audit rows', async () => {
      expect(before.incidents).toBe(4);
      const left = (await rows<{ id: string }>('incidents', 'SELECT id FROM {s}.incidents ORDER BY id')).map((r) => r.id);
      expect(left).toEqual([B.id, C.id]);
      for (const [table, col] of [['transitions', 'incident_id'], ['attachments', 'incident_id'], ['idempotency_keys', 'incident_id']]) {
        expect(await count('incidents', `SELECT count(*) AS n FROM {s}.${table} WHERE ${col} IN ($1, $2)`, [A.id, D.id]), table).toBe(0);
        expect(await count('incidents', `SELECT count(*) AS n FROM {s}.${table} WHERE ${col} = $1`, [B.id]), table).toBeGreaterThan(0);
      }
      expect(await count('incidents', `SELECT count(*) AS n FROM {s}.audit_log WHERE entity_id IN ($1, $2)`, [A.id, D.id])).toBe(0);
      expect(await count('incidents', `SELECT count(*) AS n FROM {s}.audit_log WHERE entity = 'attachment'`)).toBe(1); // B's photo
      expect(result('closed_incidents')).toMatchObject({
        deleted: 2, cutoff: ago(keep('closed_incidents')),
        rows: { incidents: 2, transitions: 4, attachments: 1, idempotencyKeys: 2, auditRows: 5 },
      });
      // What is left still reads through the store.
      expect((await incidents.get(B.id))?.status).toBe('closed');
      expect(await incidents.get(A.id)).toBeNull();
    });

    it('deletes patrol check-ins, readings, cleared alarms, sessions, usage rows and audit events past their periods only', async () => {
      expect((await rows<{ user_id: string }>('patrols', 'SELECT user_id FROM {s}.checkins ORDER BY at')).map((r) => r.user_id)).toEqual(['grid-2', 'grid-2']);
      expect(result('patrol_tracks').deleted).toBe(2);

      expect((await rows<{ ts: unknown }>('telemetry', 'SELECT ts FROM {s}.readings ORDER BY ts')).map((r) => Number(r.ts)))
        .toEqual([ago(keep('telemetry_readings'), HOUR), NOW]);
      expect(result('telemetry_readings').deleted).toBe(2);
      expect((await rows<{ id: string }>('telemetry', 'SELECT id FROM {s}.alarms ORDER BY id')).map((r) => r.id)).toEqual(['new-cleared', 'old-active']);
      expect(result('cleared_alarms').deleted).toBe(1);

      expect((await rows<{ token_hash: string }>('users', 'SELECT token_hash FROM {s}.sessions')).map((r) => r.token_hash)).toEqual(['live']);
      expect(result('expired_sessions').deleted).toBe(2);

      expect((await rows<{ grant_id: string }>('sharing', 'SELECT grant_id FROM {s}.grant_usage ORDER BY grant_id')).map((r) => r.grant_id)).toEqual(['g1', 'g2']);
      expect(result('sharing_usage').deleted).toBe(1);

      expect(before.audit).toBe(4);
      expect(result('security_audit').deleted).toBe(2);
      const ats = (await rows<{ at: unknown; action: string }>('audit', 'SELECT at, action FROM {s}.security_audit ORDER BY at'));
      expect(ats.every((r) => Number(r.at) >= ago(keep('security_audit')))).toBe(true);
      expect(run.total).toBe(2 + 2 + 2 + 1 + 2 + 1 + 2);
    });

    it('records the run in the security audit: who, when, and per rule the cutoff and the rows deleted', async () => {
      const [event, ...more] = await security.list({ action: 'purge', limit: 10 });
      expect(more).toHaveLength(0);
      expect(event).toMatchObject({ action: 'purge', actor: 'admin:admin', at: NOW, target: 'retention', detail: { trigger: 'manual', total: run.total } });
      const results = (event.detail as { results: { rule: string; deleted: number; cutoff: number }[] }).results;
      expect(results.map((r) => [r.rule, r.deleted, r.cutoff])).toEqual(run.results.map((r) => [r.rule, r.deleted, r.cutoff]));
      expect(results.find((r) => r.rule === 'closed_incidents')?.deleted).toBe(2);
    });
  });
}

describe('lifecycle over HTTP', () => {
  let srv: TestServer;
  let now = Date.now();
  const grid = (() => String(openFlatGeobuf(readFileSync(join(DATA_DIR, 'grids.fgb'))).feature(0).properties!.code))();

  beforeAll(async () => {
    srv = await startTestServer({ webDir: join(DATA_DIR, 'no-web'), requireData: ['grids.fgb'], server: { clock: () => now, purgeIntervalMs: 0, telemetry: false } });
  });
  afterAll(async () => { await srv?.close(); });

  it('shows the rules and runs to admins only, and a purge removes a patrol track once the clock passes its period', async () => {
    const admin = await asUser(srv.url, 'admin');
    const status = await fetch(`${srv.url}/api/lifecycle`, { headers: admin });
    expect(status.status).toBe(200);
    const body = await status.json() as { rules: { id: string; keepDays: number; env: string; cutoff: number }[]; intervalMs: number; nextRunAt: number | null; lastRuns: unknown[] };
    expect(body.rules.map((r) => r.id)).toEqual(RULES.map((r) => r.id));
    expect(body.rules.find((r) => r.id === 'patrol_tracks')).toMatchObject({ env: 'ONEMAP_RETENTION_PATROL_TRACKS_DAYS' });
    expect(body).toMatchObject({ intervalMs: 0, nextRunAt: null, lastRuns: [] });
    for (const who of ['operator', 'planner', 'analyst']) {
      const h = await asUser(srv.url, who);
      expect((await fetch(`${srv.url}/api/lifecycle`, { headers: h })).status, who).toBe(403);
      expect((await fetch(`${srv.url}/api/lifecycle/purge`, { method: 'POST', headers: h })).status, who).toBe(403);
    }
    expect((await fetch(`${srv.url}/api/lifecycle/purge`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${srv.url}/api/lifecycle/purge`, { headers: admin })).status).toBe(405);

    const me = await asUser(srv.url, `grid-${grid}`);
    const at = now - 60_000;
    const checkin = await fetch(`${srv.url}/api/patrols/checkin`, { method: 'POST', headers: { ...me, 'content-type': 'application/json' }, body: JSON.stringify({ lon: 120.75, lat: 31.65, at }) });
    expect(checkin.status).toBe(201);
    const day = new Date(at + 8 * HOUR).toISOString().slice(0, 10);
    const track = async () => ((await (await fetch(`${srv.url}/api/patrols/track?date=${day}&user=grid-${grid}`, { headers: admin })).json()) as { points: unknown[] }).points.length;
    expect(await track()).toBe(1);

    // Inside the period: kept.
    now += (keep('patrol_tracks') - 1) * DAY_MS;
    const first = await (await fetch(`${srv.url}/api/lifecycle/purge`, { method: 'POST', headers: admin })).json() as PurgeRun;
    expect(first.results.find((r) => r.rule === 'patrol_tracks')?.deleted).toBe(0);
    expect(first.results.find((r) => r.rule === 'telemetry_readings')).toMatchObject({ deleted: null, unavailable: true }); // telemetry is off
    expect(await track()).toBe(1);
    // Past it: gone, and the audit says so.
    now += 2 * DAY_MS;
    const second = await (await fetch(`${srv.url}/api/lifecycle/purge`, { method: 'POST', headers: admin })).json() as PurgeRun;
    expect(second).toMatchObject({ trigger: 'manual', by: 'admin:admin', ranAt: now });
    expect(second.results.find((r) => r.rule === 'patrol_tracks')?.deleted).toBe(1);
    expect(await track()).toBe(0);

    const audit = await (await fetch(`${srv.url}/api/audit?action=purge`, { headers: admin })).json() as { items: { actor: string; detail: { results: { rule: string; deleted: number | null }[] } }[] };
    expect(audit.items).toHaveLength(2);
    expect(audit.items[0].actor).toBe('admin:admin');
    expect(audit.items[0].detail.results.find((r) => r.rule === 'patrol_tracks')?.deleted).toBe(1);
    const runs = (await (await fetch(`${srv.url}/api/lifecycle`, { headers: admin })).json() as { lastRuns: PurgeRun[] }).lastRuns;
    expect(runs.map((r) => r.ranAt)).toEqual([second.ranAt, first.ranAt]);
  });
});

describe('scripts/purge.ts', () => {
  it('purges the stores named by the environment and records the run as trigger "script"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onemap-purge-cli-'));
    try {
      const env: Record<string, string> = {
        ONEMAP_DB_FILE: join(dir, 'onemap.sqlite'), ONEMAP_TELEMETRY_FILE: join(dir, 'telemetry.sqlite'), ONEMAP_PATROL_FILE: join(dir, 'patrols.sqlite'),
        ONEMAP_USERS_FILE: join(dir, 'users.sqlite'), ONEMAP_SHARING_FILE: join(dir, 'sharing.sqlite'), ONEMAP_AUDIT_FILE: join(dir, 'audit.sqlite'),
        ONEMAP_RETENTION_PATROL_TRACKS_DAYS: '2',
      };
      const patrols = await openPatrolStore({ file: env.ONEMAP_PATROL_FILE });
      const t = Date.now();
      for (const at of [t - 3 * DAY_MS, t - DAY_MS]) await patrols.add({ userId: 'grid-1', lon: 120.75, lat: 31.65, at, accuracy: null, receivedAt: at });
      await patrols.close();
      const childEnv = { ...process.env, ...env };
      for (const k of ['DATABASE_URL', 'INCIDENT_DATABASE_URL', 'TELEMETRY_DATABASE_URL', 'AUTH_DATABASE_URL', 'AUDIT_DATABASE_URL', 'SHARING_DATABASE_URL']) delete childEnv[k];
      const out = await new Promise<string>((resolve, reject) => execFile(process.execPath, ['--import', 'tsx', 'scripts/purge.ts', '--json'], { env: childEnv, cwd: join(import.meta.dirname, '..') },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))));
      const run = JSON.parse(out) as PurgeRun;
      expect(run).toMatchObject({ trigger: 'script', by: null });
      expect(run.results.find((r) => r.rule === 'patrol_tracks')).toMatchObject({ deleted: 1, keepDays: 2 });
      expect(run.results.filter((r) => r.error)).toEqual([]);
      const db = new Database(env.ONEMAP_PATROL_FILE, { readonly: true });
      expect((db.prepare('SELECT at FROM checkins').all() as { at: number }[]).map((r) => r.at)).toEqual([t - DAY_MS]);
      db.close();
      const audit = new Database(env.ONEMAP_AUDIT_FILE, { readonly: true });
      const events = audit.prepare(`SELECT actor, detail FROM security_audit WHERE action = 'purge'`).all() as { actor: string; detail: string }[];
      audit.close();
      expect(events).toHaveLength(1);
      expect(JSON.parse(events[0].detail)).toMatchObject({ trigger: 'script', total: run.total });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
