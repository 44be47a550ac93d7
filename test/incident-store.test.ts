// The incident store contract (tile-server/incidents/incident-store.ts), one suite run on SQLite and on
// PostgreSQL: create + idempotency keys, versioned updates (concurrent ones: exactly one wins), list
// filters against a brute-force filter over seeded incidents, case counters, attachments, workload,
// positions, the sweeper query, the audit log, migrations (re-run, upgrade, refusal of a newer schema)
// and a crash test (a writer child killed with SIGKILL; every acknowledged write must be there).
//
// PostgreSQL comes from TEST_DATABASE_URL; each run uses its own schema (dropped afterwards) so the
// server's `ops` data is never touched. Without it the PostgreSQL half FAILS unless ONEMAP_SKIP_POSTGIS=1.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { useStoreTargets } from './helpers/store-targets.ts';
import { createRng } from '../scripts/data/rng.ts';
import {
  IdempotencyConflict, IncidentNotFound, openIncidentStore, VersionConflict, type IncidentStore,
} from '../tile-server/incidents/incident-store.ts';
import { MIGRATIONS } from '../tile-server/incidents/migrations.ts';
import { INCIDENT_STATUSES, OPEN_STATUSES, type Incident, type IncidentFilter, type IncidentStatus } from '../layers/incidents/model.ts';
import { openPgIncidentStore } from '../tile-server/incidents/pg-store.ts';
import { openSqliteIncidentStore } from '../tile-server/incidents/sqlite-store.ts';
import { bump, makeIncident, OPERATOR, reportTransition } from './helpers/incident-fixtures.ts';

const targets = useStoreTargets('incident-store');
const PG_URL = targets.pgUrl;

/** One engine: how to get a fresh empty store, and one more handle on the same database. */
interface Engine {
  name: 'sqlite' | 'postgres';
  /** A new empty database; `target` identifies it for reopen() and the crash writer. */
  fresh(): Promise<{ store: IncidentStore; target: string }>;
  reopen(target: string): Promise<IncidentStore>;
  /** The versions in schema_migrations. */
  versions(target: string): Promise<number[]>;
  /** Makes the database claim a schema version from the future. */
  fakeFutureVersion(target: string): Promise<void>;
  writerArgs(target: string): string[];
}

const sqliteEngine: Engine = {
  name: 'sqlite',
  async fresh() {
    const target = targets.sqliteFile('store');
    return { store: await openIncidentStore({ file: target }), target };
  },
  reopen: async (target) => openIncidentStore({ file: target }),
  async versions(target) {
    const db = new Database(target, { readonly: true });
    try { return (db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((r) => r.version); } finally { db.close(); }
  },
  async fakeFutureVersion(target) {
    const db = new Database(target);
    db.prepare('INSERT INTO schema_migrations VALUES (999, ?, 0)').run('from the future');
    db.close();
  },
  writerArgs: (target) => ['sqlite', target],
};

const pgEngine: Engine = {
  name: 'postgres',
  async fresh() {
    const target = targets.pgSchema('ops_test');
    return { store: await openPgIncidentStore(PG_URL!, { schema: target }), target };
  },
  reopen: (target) => openPgIncidentStore(PG_URL!, { schema: target }),
  async versions(target) {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try { return (await c.query(`SELECT version FROM "${target}".schema_migrations ORDER BY version`)).rows.map((r) => Number(r.version)); } finally { await c.end(); }
  },
  async fakeFutureVersion(target) {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`INSERT INTO "${target}".schema_migrations VALUES (999, 'from the future', 0)`);
    await c.end();
  },
  writerArgs: (target) => ['postgres', PG_URL!, target],
};

const engines = [sqliteEngine, ...(targets.withPostgres ? [pgEngine] : [])];

describe.each(engines)('incident store on $name', (engine) => {
  async function withStore<T>(fn: (s: IncidentStore, target: string) => Promise<T>): Promise<T> {
    if (engine.name === 'postgres') targets.requirePg();
    const { store, target } = await engine.fresh();
    try { return await fn(store, target); } finally { await store.close(); }
  }
  const register = (i: Incident, at: number) => ({ incidentId: i.id, action: 'register' as const, from: i.status, to: 'registered' as const, actor: OPERATOR, at, reason: null, data: {} });

  it('creates an incident with its first transition and an audit row, and reads it back unchanged', () => withStore(async (s) => {
    expect(s.kind).toBe(engine.name);
    const inc = makeIncident('inc-0001', { address: null, addressCode: null, lon: 114.123456789, lat: 30.987654321 });
    const r = await s.create(inc, reportTransition(inc));
    expect(r).toEqual({ incident: inc, created: true });
    expect(await s.get(inc.id)).toEqual(inc);
    expect(await s.get('missing')).toBeNull();
    expect(await s.transitions(inc.id)).toEqual([reportTransition(inc)]);
    const audit = await s.auditLog({ entity: 'incident', entityId: inc.id, limit: 10 });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'report', entity: 'incident', entityId: inc.id, actor: OPERATOR, at: inc.createdAt });
    // A second incident with the same id or case code is refused, and leaves nothing behind.
    await expect(s.create(inc, reportTransition(inc))).rejects.toThrow();
    const dupCode = makeIncident('inc-0002', { code: inc.code });
    await expect(s.create(dupCode, reportTransition(dupCode))).rejects.toThrow();
    expect(await s.get('inc-0002')).toBeNull();
    expect(await s.transitions('inc-0002')).toEqual([]);
    expect(await s.auditLog({ limit: 10 })).toHaveLength(1);
  }));

  it('idempotency keys: same key and hash returns the first incident; another hash conflicts; racing creates make one', () => withStore(async (s) => {
    const a = makeIncident('idem-0001');
    expect((await s.create(a, reportTransition(a), { idempotencyKey: 'k1', requestHash: 'h1' })).created).toBe(true);
    const retry = makeIncident('idem-0002');   // a retry gets a fresh id from the service; the key decides
    const r = await s.create(retry, reportTransition(retry), { idempotencyKey: 'k1', requestHash: 'h1' });
    expect(r).toEqual({ incident: a, created: false });
    await expect(s.create(retry, reportTransition(retry), { idempotencyKey: 'k1', requestHash: 'other' })).rejects.toBeInstanceOf(IdempotencyConflict);
    expect(await s.get('idem-0002')).toBeNull();

    const racers = Array.from({ length: 8 }, (_, i) => makeIncident(`race-000${i}`));
    const results = await Promise.all(racers.map((x) => s.create(x, reportTransition(x), { idempotencyKey: 'k-race', requestHash: 'h' })));
    expect(results.filter((x) => x.created)).toHaveLength(1);
    expect(new Set(results.map((x) => x.incident.id)).size).toBe(1);
    expect((await s.list({ limit: 100 })).total).toBe(2);

    // A create that failed (here: a taken case code) does not use up its key.
    const bad = makeIncident('idem-0003', { code: a.code });
    await expect(s.create(bad, reportTransition(bad), { idempotencyKey: 'k3', requestHash: 'h' })).rejects.toThrow();
    const good = makeIncident('idem-0004');
    expect((await s.create(good, reportTransition(good), { idempotencyKey: 'k3', requestHash: 'h' })).created).toBe(true);
  }));

  it('update: writes next, appends seq n+1 and an audit row; a stale version fails with the current incident', () => withStore(async (s) => {
    const inc = makeIncident('upd-0001');
    await s.create(inc, reportTransition(inc));
    const next = bump(inc, { status: 'registered', deadline: inc.createdAt + 3600_000 }, inc.createdAt + 1000);
    const r = await s.update(next, 1, register(inc, next.updatedAt));
    expect(r.incident).toEqual(next);
    expect(r.transition).toMatchObject({ seq: 2, action: 'register', from: 'reported', to: 'registered' });
    expect(await s.get(inc.id)).toEqual(next);
    expect((await s.transitions(inc.id)).map((t) => t.seq)).toEqual([1, 2]);
    expect((await s.auditLog({ entityId: inc.id, limit: 10 })).map((e) => e.action)).toEqual(['register', 'report']);

    const stale = bump(inc, { status: 'rejected' }, inc.createdAt + 2000);
    const err = await s.update(stale, 1, { ...register(inc, 0), action: 'reject', to: 'rejected' }).catch((e) => e);
    expect(err).toBeInstanceOf(VersionConflict);
    expect((err as VersionConflict).current).toEqual(next);
    expect(await s.get(inc.id)).toEqual(next);
    expect(await s.transitions(inc.id)).toHaveLength(2);
    // Caller errors: a version that does not follow, an unknown id.
    await expect(s.update({ ...next, version: 5 }, 2, register(next, 0))).rejects.toThrow(/expectedVersion \+ 1/);
    const ghost = makeIncident('ghost');
    await expect(s.update(bump(ghost, {}, 0), 1, register(ghost, 0))).rejects.toBeInstanceOf(IncidentNotFound);
  }));

  it('concurrent updates at one version: exactly one wins, on one handle and across two handles', () => withStore(async (s, target) => {
    const other = await engine.reopen(target);
    try {
      const inc = makeIncident('conc-0001');
      await s.create(inc, reportTransition(inc));
      const attempts = Array.from({ length: 10 }, (_, k) => {
        const st = k % 2 ? other : s;
        const next = bump(inc, { status: 'dispatched', assigneeId: `resp-${k}` }, inc.createdAt + k);
        return st.update(next, 1, { ...register(inc, next.updatedAt), action: 'dispatch', to: 'dispatched', data: { responderId: `resp-${k}` } });
      });
      const settled = await Promise.allSettled(attempts);
      const won = settled.filter((x) => x.status === 'fulfilled');
      const lost = settled.filter((x): x is PromiseRejectedResult => x.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(9);
      for (const l of lost) expect(l.reason).toBeInstanceOf(VersionConflict);
      const stored = (await s.get(inc.id))!;
      expect(stored.version).toBe(2);
      expect(stored.assigneeId).toBe((won[0] as PromiseFulfilledResult<{ incident: Incident }>).value.incident.assigneeId);
      expect((await s.transitions(inc.id)).map((t) => t.seq)).toEqual([1, 2]);
    } finally { await other.close(); }
  }));

  it('list: every filter, the order and paging agree with a brute-force filter over seeded incidents', () => withStore(async (s) => {
    const rng = createRng('incident-store-list');
    const grids = ['G1', 'G2', 'G3'], towns = ['T1', 'T2'], cats = ['0101', '0103', '0201'], people = ['r1', 'r2', null];
    const all: Incident[] = [];
    for (let i = 0; i < 60; i++) {
      const status = rng.pick(INCIDENT_STATUSES);
      const t = 1_780_000_000_000 + rng.int(0, 20) * 60_000;   // shared updatedAt values exercise the id tie-break
      const inc = makeIncident(`L-${String(rng.int(0, 99999)).padStart(5, '0')}-${i}`, {
        code: `SJ2026${String(i).padStart(6, '0')}`, status, gridCode: rng.pick(grids), townCode: rng.pick(towns),
        category: rng.pick(cats), assigneeId: rng.pick(people), lon: rng.range(114, 115), lat: rng.range(30, 31),
        createdAt: t, updatedAt: t, deadline: OPEN_STATUSES.includes(status) ? t + rng.int(-3, 3) * 3600_000 : null,
      });
      all.push(inc);
      await s.create(inc, reportTransition(inc));
    }
    const now = 1_780_000_000_000 + 10 * 60_000;
    const isOverdue = (i: Incident) => OPEN_STATUSES.includes(i.status) && i.deadline !== null && i.deadline < now;
    const order = (a: Incident, b: Incident) => b.updatedAt - a.updatedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    const brute = (f: IncidentFilter) => all.filter((i) =>
      (!f.bbox || (i.lon >= f.bbox[0] && i.lon <= f.bbox[2] && i.lat >= f.bbox[1] && i.lat <= f.bbox[3])) &&
      (!f.status?.length || f.status.includes(i.status)) && (f.grid === undefined || i.gridCode === f.grid) &&
      (f.town === undefined || i.townCode === f.town) && (f.category === undefined || i.category === f.category) &&
      (f.assignee === undefined || i.assigneeId === f.assignee) && (f.since === undefined || i.updatedAt >= f.since) &&
      (f.overdue === undefined || isOverdue(i) === f.overdue)).sort(order);
    const filters: IncidentFilter[] = [
      { limit: 1000 },
      { limit: 1000, bbox: [114.2, 30.3, 114.7, 30.8] },
      { limit: 1000, status: ['reported', 'handling'] },
      { limit: 1000, grid: 'G2' }, { limit: 1000, town: 'T1' }, { limit: 1000, category: '0103' },
      { limit: 1000, assignee: 'r1' }, { limit: 1000, since: now },
      { limit: 1000, overdue: true }, { limit: 1000, overdue: false },
      { limit: 1000, status: [...OPEN_STATUSES] as IncidentStatus[], grid: 'G1', overdue: false, bbox: [114, 30, 114.8, 31] },
    ];
    for (const f of filters) {
      const want = brute(f);
      const got = await s.list(f, now);
      expect({ f, total: got.total, ids: got.items.map((i) => i.id) }).toEqual({ f, total: want.length, ids: want.map((i) => i.id) });
    }
    expect(brute({ limit: 1, overdue: true }).length).toBeGreaterThan(0);   // the data does exercise overdue
    const pages: string[] = [];
    for (let off = 0; off < 60; off += 7) {
      const p = await s.list({ limit: 7, offset: off, town: 'T2' }, now);
      expect(p.total).toBe(brute({ limit: 0, town: 'T2' }).length);
      pages.push(...p.items.map((i) => i.id));
    }
    expect(pages).toEqual(brute({ limit: 0, town: 'T2' }).map((i) => i.id));
    expect((await s.list({ limit: 5, offset: 1000 }, now)).total).toBe(60);
    await expect(s.list({ limit: -1 })).rejects.toThrow(RangeError);
  }));

  it('nextSeq counts 1, 2, … per day, without duplicates under concurrency', () => withStore(async (s) => {
    expect(await s.nextSeq('20260601')).toBe(1);
    expect(await s.nextSeq('20260601')).toBe(2);
    expect(await s.nextSeq('20260602')).toBe(1);
    const got = await Promise.all(Array.from({ length: 20 }, () => s.nextSeq('20260601')));
    expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 3));
    await expect(s.nextSeq('2026-06-01')).rejects.toThrow(RangeError);
  }));

  it('attachments: bytes and sha256 round-trip, listed per incident, audited; unknown incident refused', () => withStore(async (s) => {
    const inc = makeIncident('att-0001');
    await s.create(inc, reportTransition(inc));
    const rng = createRng('attachments');
    const big = Uint8Array.from({ length: 1 << 20 }, () => rng.int(0, 255));
    const small = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]);
    const a1 = await s.addAttachment({ incidentId: inc.id, kind: 'before', mime: 'image/jpeg' }, big, 1000, OPERATOR);
    const a2 = await s.addAttachment({ incidentId: inc.id, kind: 'after', mime: 'image/png' }, small, 2000, OPERATOR);
    expect(a1).toMatchObject({ incidentId: inc.id, kind: 'before', mime: 'image/jpeg', bytes: big.length, createdAt: 1000,
      sha256: createHash('sha256').update(big).digest('hex') });
    const got = (await s.getAttachment(a1.id))!;
    expect(got.meta).toEqual(a1);
    expect(got.data).toBeInstanceOf(Uint8Array);
    expect(Buffer.compare(Buffer.from(got.data), Buffer.from(big))).toBe(0);
    expect((await s.getAttachment(a2.id))!.data).toEqual(small);
    expect(await s.attachments(inc.id)).toEqual([a1, a2]);
    expect(await s.attachments('nobody')).toEqual([]);
    expect(await s.getAttachment('nope')).toBeNull();
    expect((await s.auditLog({ entity: 'attachment', limit: 10 })).map((e) => e.entityId)).toEqual([a2.id, a1.id]);
    await expect(s.addAttachment({ incidentId: 'nobody', kind: 'before', mime: 'image/png' }, small, 0, OPERATOR)).rejects.toBeInstanceOf(IncidentNotFound);
  }));

  it('workload, responder positions (newest wins) and the overdue sweep query', () => withStore(async (s) => {
    const t = 1_780_000_000_000;
    const rows = [
      makeIncident('w-1', { code: 'C1', status: 'dispatched', assigneeId: 'r1', deadline: t - 1 }),
      makeIncident('w-2', { code: 'C2', status: 'handling', assigneeId: 'r1', deadline: t + 1 }),
      makeIncident('w-3', { code: 'C3', status: 'handled', assigneeId: 'r2', deadline: t - 5 }),
      makeIncident('w-4', { code: 'C4', status: 'closed', assigneeId: 'r2', deadline: null }),
      makeIncident('w-5', { code: 'C5', status: 'rejected', assigneeId: null, deadline: t - 100 }),   // closed states never overdue
      makeIncident('w-6', { code: 'C6', status: 'reported', deadline: t }),                          // deadline < t is strict
    ];
    for (const r of rows) await s.create(r, reportTransition(r));
    expect(Object.fromEntries(await s.workload())).toEqual({ r1: 2, r2: 1 });
    expect((await s.overdue(t)).map((i) => i.id)).toEqual(['w-3', 'w-1']);
    await s.setResponderPosition('r1', 114.1, 30.1, 100);
    await s.setResponderPosition('r1', 114.2, 30.2, 200);
    await s.setResponderPosition('r1', 114.9, 30.9, 150);   // arrives late: older than the stored fix
    await s.setResponderPosition('r2', 114.5, 30.5, 300);
    expect(Object.fromEntries(await s.responderPositions())).toEqual({ r1: { lon: 114.2, lat: 30.2, at: 200 }, r2: { lon: 114.5, lat: 30.5, at: 300 } });
  }));

  it('audit log: explicit entries, filters, newest first, limit', () => withStore(async (s) => {
    await s.audit({ at: 1, actor: OPERATOR, action: 'login', entity: 'responder', entityId: 'r1', detail: { ip: '127.0.0.1' } });
    await s.audit({ at: 2, actor: { id: 'sys', role: 'system' }, action: 'sweep', entity: 'incident', entityId: 'x', detail: { n: 3, nested: { a: [1, '二'] } } });
    await s.audit({ at: 3, actor: OPERATOR, action: 'move', entity: 'responder', entityId: 'r2', detail: {} });
    const all = await s.auditLog({ limit: 10 });
    expect(all.map((e) => e.at)).toEqual([3, 2, 1]);
    expect(all[1]).toMatchObject({ actor: { id: 'sys', role: 'system' }, detail: { n: 3, nested: { a: [1, '二'] } } });
    expect(typeof all[0].id).toBe('number');
    expect((await s.auditLog({ entity: 'responder', limit: 10 })).map((e) => e.entityId)).toEqual(['r2', 'r1']);
    expect((await s.auditLog({ entity: 'responder', entityId: 'r1', limit: 10 })).map((e) => e.action)).toEqual(['login']);
    expect(await s.auditLog({ limit: 1 })).toHaveLength(1);
  }));

  it('migrations: recorded once, re-run on reopen is a no-op that keeps data, an old schema is upgraded, a newer one refused', async () => {
    if (engine.name === 'postgres') targets.requirePg();
    const all = MIGRATIONS.map((m) => m.version);
    const { store, target } = await engine.fresh();
    const inc = makeIncident('mig-0001');
    await store.create(inc, reportTransition(inc));
    await store.close();
    expect(await engine.versions(target)).toEqual(all);
    const again = await engine.reopen(target);
    expect(await again.get(inc.id)).toEqual(inc);
    await again.close();
    expect(await engine.versions(target)).toEqual(all);

    // A database made by a build that knew only migration 1 gets the rest on open.
    let oldTarget: string;
    if (engine.name === 'sqlite') {
      oldTarget = targets.sqliteFile('old');
      await openSqliteIncidentStore(oldTarget, { migrations: MIGRATIONS.slice(0, 1) }).close();
    } else {
      oldTarget = targets.pgSchema('ops_test_old');
      await (await openPgIncidentStore(PG_URL!, { schema: oldTarget, migrations: MIGRATIONS.slice(0, 1) })).close();
    }
    expect(await engine.versions(oldTarget)).toEqual([1]);
    await (await engine.reopen(oldTarget)).close();
    expect(await engine.versions(oldTarget)).toEqual(all);

    await engine.fakeFutureVersion(target);
    await expect(engine.reopen(target)).rejects.toThrow(/schema version 999/);
  });

  it('crash: a writer killed with SIGKILL loses no acknowledged write, and leaves no half-written change', async () => {
    if (engine.name === 'postgres') targets.requirePg();
    const { store, target } = await engine.fresh();
    await store.close();
    const killAfter = createRng(`crash-${engine.name}`).int(40, 120);   // acknowledged lines before the kill
    const lines: string[] = [];
    const child = spawn(process.execPath, ['--import', 'tsx', join(process.cwd(), 'test/helpers/incident-store-writer.ts'), ...engine.writerArgs(target)],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const exit = new Promise<NodeJS.Signals | number | null>((res) => child.on('exit', (code, sig) => res(sig ?? code)));
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) { lines.push(buf.slice(0, nl)); buf = buf.slice(nl + 1); }
      if (lines.length >= killAfter && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    const how = await exit;
    expect(how, `writer exited by itself: ${stderr}`).toBe('SIGKILL');
    const acks = lines.filter((l) => l !== 'READY');
    expect(acks.length).toBeGreaterThanOrEqual(killAfter - 1);

    const s = await engine.reopen(target);
    try {
      for (const l of acks) {
        const [k, a, b, c] = l.split(' ');
        if (k === 'C') expect(await s.get(a), l).not.toBeNull();
        else if (k === 'U') expect((await s.get(a))!.version, l).toBeGreaterThanOrEqual(Number(b));
        else if (k === 'A') {
          const att = await s.getAttachment(a);
          expect(att?.meta.incidentId, l).toBe(c);
          expect(createHash('sha256').update(att!.data).digest('hex'), l).toBe(b);
        } else throw new Error(`unexpected line from the writer: ${l}`);
      }
      // Atomicity: every stored incident has exactly `version` transitions and audit rows.
      const { items } = await s.list({ limit: 100_000 });
      expect(items.length).toBeGreaterThanOrEqual(acks.filter((l) => l.startsWith('C ')).length);
      for (const i of items) {
        expect((await s.transitions(i.id)).map((t) => t.seq), i.id).toEqual(Array.from({ length: i.version }, (_, k) => k + 1));
        expect(await s.auditLog({ entity: 'incident', entityId: i.id, limit: 100 }), i.id).toHaveLength(i.version);
      }
      // The reopened store is writable.
      const after = makeIncident('after-crash', { code: 'AFTER' });
      expect((await s.create(after, reportTransition(after))).created).toBe(true);
    } finally { await s.close(); }
  });
});
