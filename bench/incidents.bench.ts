// Incidents created per second through the IncidentStore (the row with all its indexes, the first transition
// and the audit row, one durable transaction each) against a bare INSERT of the same row into a table with
// the same columns and no index, in the same database with the same durability (SQLite WAL + synchronous=FULL;
// PostgreSQL's default synchronous_commit=on) — so the figure is the price of the bookkeeping, not of fsync.
// One write at a time (a report is acknowledged only once durable), seeded incidents, in one run:
//   SQLite: a temp file;  PostgreSQL: an empty database created beside the local cluster's (scripts/pg-local.ts).
// Run: npx tsx bench/incidents.bench.ts   (BENCH_PARTS=sqlite or postgres to run one). About a minute.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { CITY } from '../layers/catalog.ts';
import { INCIDENT_CATEGORIES, type IncidentSource } from '../layers/incident-categories.ts';
import { createRng } from '../scripts/data/rng.ts';
import { start as startLocalPg } from '../scripts/pg-local.ts';
import { INCIDENT_FIELDS, incidentValues, openIncidentStore, type IncidentStore } from '../tile-server/incidents/incident-store.ts';
import type { Incident, Transition } from '../layers/incidents/model.ts';
import { createFreshDatabase } from '../test/helpers/fresh-pg.ts';

const SEED = 20261129;
const N = { sqlite: 2000, postgres: 2000 };
const WARM = 100;
const PARTS = new Set((process.env.BENCH_PARTS ?? 'sqlite,postgres').split(','));
const SOURCES: IncidentSource[] = ['grid', 'sensor', 'camera', 'hotline', 'public'];

function incidents(n: number, label: string): { incident: Incident; first: Transition }[] {
  const rng = createRng(SEED).fork(label);
  const [w, s, e, nn] = CITY.bounds;
  const t0 = Date.UTC(2026, 10, 29);
  return Array.from({ length: n }, (_, i) => {
    const cat = INCIDENT_CATEGORIES[Math.floor(rng.next() * INCIDENT_CATEGORIES.length)];
    const at = t0 + i * 1000;
    const incident: Incident = {
      id: randomUUID(), code: `SJ20261129${String(i + 1).padStart(4, '0')}`, status: 'reported', level: 'grid',
      category: cat.code, categoryName: cat.name, severity: cat.severity, source: SOURCES[i % SOURCES.length],
      title: `${cat.name} ${i}`, description: '基准测试上报', lon: w + rng.next() * (e - w), lat: s + rng.next() * (nn - s),
      address: '常熟市虞山街道海虞北路18号', addressCode: '320581001001000180', gridCode: '320581001001001', villageCode: '320581001001',
      townCode: '320581001', department: cat.department, assigneeId: null, handlerId: null, reporter: { role: 'grid_manager', id: 'gm-bench' },
      mergedInto: null, deadline: at + 2 * 3_600_000, supervisions: 0, createdAt: at, updatedAt: at, closedAt: null, version: 1,
    };
    const first: Transition = { incidentId: incident.id, seq: 1, action: 'report', from: null, to: 'reported', actor: incident.reporter, at, reason: null, data: { source: incident.source } };
    return { incident, first };
  });
}

async function timeRate(label: string, items: unknown[], write: (x: any, i: number) => Promise<void> | void): Promise<{ perSec: number; p95ms: number }> {
  for (let i = 0; i < WARM; i++) await write(items[i], i);
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = WARM; i < items.length; i++) {
    const a = performance.now();
    await write(items[i], i);
    lat.push(performance.now() - a);
  }
  const s = (performance.now() - t0) / 1000;
  lat.sort((x, y) => x - y);
  const out = { perSec: (items.length - WARM) / s, p95ms: lat[Math.floor(lat.length * 0.95)] };
  console.log(`  ${label}: ${out.perSec.toFixed(0)}/s, p95 ${out.p95ms.toFixed(2)} ms (${items.length - WARM} writes)`);
  return out;
}

const COLS = INCIDENT_FIELDS.map(([, c]) => c);

function line(engine: string, ours: { perSec: number }, bare: { perSec: number }, n: number, extra = ''): void {
  const ratio = ours.perSec / bare.perSec;
  console.log(['BENCH', `incidents created/s (${engine}, one durable transaction each)`, `${ours.perSec.toFixed(0)}/s`,
    `bare INSERT, same table columns, no index/transition/audit (${engine})`, `${bare.perSec.toFixed(0)}/s`, `${ratio.toFixed(2)}x`,
    `ratio = store ÷ bare insert (>1 = faster); incident + first transition + audit row with all indexes; ${n} seeded incidents, one at a time${extra}`].join('\t'));
}

async function runSqlite(): Promise<void> {
  console.log('SQLite (WAL, synchronous=FULL), temp file');
  const dir = mkdtempSync(join(tmpdir(), 'onemap-bench-incidents-'));
  try {
    const file = join(dir, 'incidents.sqlite');
    const store: IncidentStore = await openIncidentStore({ file });
    const items = incidents(N.sqlite, 'sqlite');
    const ours = await timeRate('IncidentStore.create', items, (x) => store.create(x.incident, x.first).then(() => {}));
    await store.close();
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(`CREATE TABLE bench_bare (${COLS.map((c) => `${c}`).join(', ')})`);
    const ins = db.prepare(`INSERT INTO bench_bare (${COLS.join(', ')}) VALUES (${COLS.map(() => '?').join(', ')})`);
    const bareItems = incidents(N.sqlite, 'sqlite-bare');
    const bare = await timeRate('bare INSERT', bareItems, (x) => { ins.run(...incidentValues(x.incident)); });
    db.close();
    line('SQLite', ours, bare, N.sqlite);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runPostgres(): Promise<void> {
  const base = process.env.DATABASE_URL || await startLocalPg();
  const fresh = await createFreshDatabase(base, 'onemap_bench_incidents');
  console.log(`PostgreSQL, empty database ${new URL(fresh.url).pathname.slice(1)}`);
  try {
    const store = await openIncidentStore({ databaseUrl: fresh.url });
    const items = incidents(N.postgres, 'pg');
    const ours = await timeRate('IncidentStore.create', items, (x) => store.create(x.incident, x.first).then(() => {}));
    await store.close();
    const c = new pg.Client({ connectionString: fresh.url });
    await c.connect();
    await c.query(`CREATE TABLE bench_bare (${COLS.map((col) => `${col} ${['lon', 'lat'].includes(col) ? 'double precision' : ['severity', 'supervisions', 'version', 'deadline', 'created_at', 'updated_at', 'closed_at'].includes(col) ? 'bigint' : 'text'}`).join(', ')})`);
    const sql = `INSERT INTO bench_bare (${COLS.join(', ')}) VALUES (${COLS.map((_, i) => `$${i + 1}`).join(', ')})`;
    const bare = await timeRate('bare INSERT', incidents(N.postgres, 'pg-bare'), (x) => c.query({ name: 'bare', text: sql, values: incidentValues(x.incident) }).then(() => {}));
    await c.end();
    const conf = new pg.Client({ connectionString: fresh.url });
    await conf.connect();
    const show = async (k: string) => String((await conf.query(`SHOW ${k}`)).rows[0][k]);
    const settings = `; cluster fsync=${await show('fsync')}, synchronous_commit=${await show('synchronous_commit')} (scripts/pg-local.ts dev cluster: commits cost no fsync, so round trips dominate)`;
    await conf.end();
    line('PostgreSQL', ours, bare, N.postgres, settings);
  } finally {
    await fresh.drop();
  }
}

if (PARTS.has('sqlite')) await runSqlite();
if (PARTS.has('postgres')) await runPostgres();
