// The telemetry store (issue 7): readings (history per device, with retention), alarms and the rule set.
// Two engines behind one interface (STYLE.md §3), sharing every test: SQLite through better-sqlite3 (the
// embedded default, var/telemetry.sqlite or ONEMAP_TELEMETRY_FILE) and PostgreSQL (schema `telemetry`,
// when a database URL is given).
// Readings are keyed by (device_id, ts): a redelivered QoS 1 message or a replayed batch inserts nothing.
// Every append is one transaction. Durability: SQLite runs WAL with synchronous=NORMAL — a power cut may
// lose the last committed batches but never corrupts the file (https://sqlite.org/wal.html); a reading is
// a sample, not a case, and fsync per batch would halve the ingest rate.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Alarm, DeviceKind, Reading, Rule } from '../../layers/telemetry/model.ts';

export interface TimeSeriesPoint { ts: number; value: number; lon?: number; lat?: number }

export interface TimeSeriesStore {
  /** Idempotent on (deviceId, ts); one transaction per call. Returns the rows inserted. */
  append(batch: Reading[]): Promise<number>;
  /** Readings of a device with from ≤ ts ≤ to, oldest first, at most `limit` (the newest ones when cut). */
  range(deviceId: string, from: number, to: number, limit: number): Promise<TimeSeriesPoint[]>;
  /** Deletes readings with ts < olderThan and alarms cleared before it. Returns the rows deleted. */
  purge(olderThan: number): Promise<number>;
  /** Retention (issue 10, tile-server/lifecycle), each with its own period: readings with ts < before. */
  purgeReadings(before: number): Promise<number>;
  /** Alarms cleared before `before` (active ones are never deleted). */
  purgeClearedAlarms(before: number): Promise<number>;
  /** Inserts or replaces the alarm with this id. */
  saveAlarm(a: Alarm): Promise<void>;
  /** Alarms started or cleared at/after `since`, newest first. */
  alarms(f: { since?: number; status?: 'active' | 'cleared'; limit: number }): Promise<Alarm[]>;
  saveRules(rules: Rule[]): Promise<void>;
  /** The saved rule set, or null when none was ever saved (the engine then uses the defaults). */
  loadRules(): Promise<Rule[] | null>;
  close(): Promise<void>;
}

export interface TimeSeriesStoreOptions {
  /** PostgreSQL URL; when absent or null, SQLite is used. */
  databaseUrl?: string | null;
  /** SQLite file (default ONEMAP_TELEMETRY_FILE or var/telemetry.sqlite); ':memory:' for a throwaway store. */
  file?: string;
  /** PostgreSQL schema (default `telemetry`); tests use their own. */
  schema?: string;
}

/** Version of the table layout, kept in the database (SQLite user_version / telemetry.meta). */
export const TELEMETRY_SCHEMA_VERSION = 1;

export async function openTimeSeriesStore(opts: TimeSeriesStoreOptions = {}): Promise<TimeSeriesStore> {
  if (opts.databaseUrl) return openPg(opts.databaseUrl, opts.schema ?? 'telemetry');
  return openSqlite(opts.file ?? process.env.ONEMAP_TELEMETRY_FILE ?? resolve('var/telemetry.sqlite'));
}

type Row = Record<string, unknown>;
const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function alarmFromRow(r: Row): Alarm {
  return {
    id: String(r.id), ruleId: String(r.rule_id), deviceId: String(r.device_id), kind: String(r.kind) as DeviceKind,
    severity: Number(r.severity) as Alarm['severity'], status: r.status === 'active' ? 'active' : 'cleared', message: String(r.message),
    startedAt: Number(r.started_at), clearedAt: n(r.cleared_at), lastValue: n(r.last_value), repeats: Number(r.repeats),
    incidentId: r.incident_id === null || r.incident_id === undefined ? null : String(r.incident_id), lon: Number(r.lon), lat: Number(r.lat),
  };
}
const alarmValues = (a: Alarm) => [a.id, a.ruleId, a.deviceId, a.kind, a.severity, a.status, a.message, a.startedAt, a.clearedAt, a.lastValue, a.repeats, a.incidentId, a.lon, a.lat];
const ALARM_COLS = 'id, rule_id, device_id, kind, severity, status, message, started_at, cleared_at, last_value, repeats, incident_id, lon, lat';

function point(r: Row): TimeSeriesPoint {
  const p: TimeSeriesPoint = { ts: Number(r.ts), value: Number(r.value) };
  if (r.lon !== null && r.lon !== undefined) { p.lon = Number(r.lon); p.lat = Number(r.lat); }
  return p;
}

function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new RangeError(`limit must be an integer 1–100000, got ${limit}`);
  return limit;
}

function alarmWhere(f: { since?: number; status?: string }, ph: (i: number) => string): { sql: string; args: unknown[] } {
  const parts: string[] = [];
  const args: unknown[] = [];
  if (f.since !== undefined) { args.push(f.since, f.since); parts.push(`(started_at >= ${ph(args.length - 1)} OR cleared_at >= ${ph(args.length)})`); }
  if (f.status) { args.push(f.status); parts.push(`status = ${ph(args.length)}`); }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', args };
}

/** Readings per multi-row SQLite INSERT (5 parameters each; well under SQLITE_MAX_VARIABLE_NUMBER = 32766). */
const SQLITE_ROWS = 200;

// ---------------------------------------------------------------------------------------------------------
function openSqlite(file: string): TimeSeriesStore {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  const have = db.pragma('user_version', { simple: true }) as number;
  if (have > TELEMETRY_SCHEMA_VERSION) {
    db.close();
    throw new Error(`${file} has telemetry schema version ${have}, this build knows ${TELEMETRY_SCHEMA_VERSION}: upgrade the server or point ONEMAP_TELEMETRY_FILE elsewhere.`);
  }
  db.exec(`
    CREATE TABLE IF NOT EXISTS readings (device_id TEXT NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL, lon REAL, lat REAL,
      PRIMARY KEY (device_id, ts)) WITHOUT ROWID, STRICT;
    CREATE INDEX IF NOT EXISTS readings_ts ON readings (ts);
    CREATE TABLE IF NOT EXISTS alarms (id TEXT PRIMARY KEY, rule_id TEXT NOT NULL, device_id TEXT NOT NULL, kind TEXT NOT NULL,
      severity INTEGER NOT NULL, status TEXT NOT NULL, message TEXT NOT NULL, started_at INTEGER NOT NULL, cleared_at INTEGER,
      last_value REAL, repeats INTEGER NOT NULL, incident_id TEXT, lon REAL NOT NULL, lat REAL NOT NULL) STRICT;
    CREATE INDEX IF NOT EXISTS alarms_started ON alarms (started_at);
    CREATE INDEX IF NOT EXISTS alarms_status ON alarms (status);
    CREATE TABLE IF NOT EXISTS rules (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL, saved_at INTEGER NOT NULL) STRICT;
    PRAGMA user_version = ${TELEMETRY_SCHEMA_VERSION};
  `);
  // Multi-row statements: one run() per SQLITE_ROWS readings instead of one per reading, which saves better-sqlite3's
  // per-call cost (argument marshalling, statement reset): 200k readings in 5000-row batches took ~855 ms of CPU
  // one row at a time and ~725 ms this way (2026-11-29). The rest is the two B-trees (key and ts index).
  const rowsSql = (k: number) => `INSERT OR IGNORE INTO readings (device_id, ts, value, lon, lat) VALUES ${Array.from({ length: k }, () => '(?, ?, ?, ?, ?)').join(', ')}`;
  const ins = db.prepare(rowsSql(1));
  const insMany = db.prepare(rowsSql(SQLITE_ROWS));
  const args: unknown[] = new Array(SQLITE_ROWS * 5);
  const appendTx = db.transaction((batch: Reading[]) => {
    let added = 0, i = 0;
    for (; i + SQLITE_ROWS <= batch.length; i += SQLITE_ROWS) {
      for (let j = 0, k = 0; j < SQLITE_ROWS; j++) {
        const r = batch[i + j];
        args[k++] = r.deviceId; args[k++] = Math.round(r.ts); args[k++] = r.value; args[k++] = r.lon ?? null; args[k++] = r.lat ?? null;
      }
      added += insMany.run(args).changes;
    }
    for (; i < batch.length; i++) { const r = batch[i]; added += ins.run(r.deviceId, Math.round(r.ts), r.value, r.lon ?? null, r.lat ?? null).changes; }
    return added;
  });
  const rangeQ = db.prepare(`SELECT ts, value, lon, lat FROM (SELECT ts, value, lon, lat FROM readings WHERE device_id = ? AND ts >= ? AND ts <= ? ORDER BY ts DESC LIMIT ?) ORDER BY ts`);
  const saveAlarmQ = db.prepare(`INSERT OR REPLACE INTO alarms (${ALARM_COLS}) VALUES (${ALARM_COLS.split(',').map(() => '?').join(', ')})`);
  let closed = false;
  const open = () => { if (closed) throw new Error('telemetry store is closed'); };
  return {
    async append(batch) { open(); return batch.length ? appendTx(batch) : 0; },
    async range(deviceId, from, to, limit) { open(); return (rangeQ.all(deviceId, from, to, checkLimit(limit)) as Row[]).map(point); },
    async purge(olderThan) {
      open();
      return db.transaction(() => db.prepare(`DELETE FROM readings WHERE ts < ?`).run(olderThan).changes
        + db.prepare(`DELETE FROM alarms WHERE status = 'cleared' AND cleared_at < ?`).run(olderThan).changes)();
    },
    async purgeReadings(before) { open(); return db.prepare(`DELETE FROM readings WHERE ts < ?`).run(before).changes; },
    async purgeClearedAlarms(before) { open(); return db.prepare(`DELETE FROM alarms WHERE status = 'cleared' AND cleared_at < ?`).run(before).changes; },
    async saveAlarm(a) { open(); saveAlarmQ.run(...alarmValues(a)); },
    async alarms(f) {
      open();
      const w = alarmWhere(f, () => '?');
      return (db.prepare(`SELECT ${ALARM_COLS} FROM alarms ${w.sql} ORDER BY started_at DESC, id LIMIT ?`).all(...w.args, checkLimit(f.limit)) as Row[]).map(alarmFromRow);
    },
    async saveRules(rules) { open(); db.prepare(`INSERT OR REPLACE INTO rules (id, body, saved_at) VALUES (1, ?, ?)`).run(JSON.stringify(rules), Date.now()); },
    async loadRules() { open(); const r = db.prepare(`SELECT body FROM rules WHERE id = 1`).get() as Row | undefined; return r ? (JSON.parse(String(r.body)) as Rule[]) : null; },
    async close() { if (!closed) { closed = true; db.close(); } },
  };
}

// ---------------------------------------------------------------------------------------------------------
const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;
const redact = (url: string) => url.replace(/:[^:@/]*@/, ':***@');
/** Rows per INSERT … SELECT unnest(…): large enough to amortize the round trip, small enough for one packet burst. */
const PG_CHUNK = 5000;

async function openPg(url: string, schema: string): Promise<TimeSeriesStore> {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // An idle client losing its connection (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const s = quoteIdent(schema);
  const c = await pool.connect().catch((e: Error) => {
    void pool.end();
    throw new Error(`cannot connect to PostgreSQL at ${redact(url)} (${e.message}): start it (npx tsx scripts/pg-local.ts start) or unset DATABASE_URL to use SQLite.`);
  });
  try {
    await c.query('BEGIN');
    await c.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`onemap.migrate.${schema}`]);
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await c.query(`CREATE TABLE IF NOT EXISTS ${s}.meta (key text PRIMARY KEY, value text NOT NULL)`);
    const v = await c.query(`SELECT value FROM ${s}.meta WHERE key = 'schema_version'`);
    if (v.rows.length && Number(v.rows[0].value) > TELEMETRY_SCHEMA_VERSION) {
      throw new Error(`schema ${schema} has telemetry schema version ${v.rows[0].value}, this build knows ${TELEMETRY_SCHEMA_VERSION}: upgrade the server.`);
    }
    await c.query(`
      CREATE TABLE IF NOT EXISTS ${s}.readings (device_id text NOT NULL, ts bigint NOT NULL, value double precision NOT NULL,
        lon double precision, lat double precision, PRIMARY KEY (device_id, ts));
      CREATE INDEX IF NOT EXISTS readings_ts ON ${s}.readings (ts);
      CREATE TABLE IF NOT EXISTS ${s}.alarms (id text PRIMARY KEY, rule_id text NOT NULL, device_id text NOT NULL, kind text NOT NULL,
        severity integer NOT NULL, status text NOT NULL, message text NOT NULL, started_at bigint NOT NULL, cleared_at bigint,
        last_value double precision, repeats integer NOT NULL, incident_id text, lon double precision NOT NULL, lat double precision NOT NULL);
      CREATE INDEX IF NOT EXISTS alarms_started ON ${s}.alarms (started_at);
      CREATE INDEX IF NOT EXISTS alarms_status ON ${s}.alarms (status);
      CREATE TABLE IF NOT EXISTS ${s}.rules (id integer PRIMARY KEY CHECK (id = 1), body jsonb NOT NULL, saved_at bigint NOT NULL);
      INSERT INTO ${s}.meta (key, value) VALUES ('schema_version', '${TELEMETRY_SCHEMA_VERSION}') ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;
    `);
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    c.release();
    await pool.end();
    throw e;
  }
  c.release();
  let closed = false;
  const open = () => { if (closed) throw new Error('telemetry store is closed'); };
  return {
    async append(batch) {
      open();
      if (!batch.length) return 0;
      const cl = await pool.connect();
      try {
        await cl.query('BEGIN');
        let added = 0;
        for (let i = 0; i < batch.length; i += PG_CHUNK) {
          const part = batch.slice(i, i + PG_CHUNK);
          const r = await cl.query(
            `INSERT INTO ${s}.readings (device_id, ts, value, lon, lat)
             SELECT * FROM unnest($1::text[], $2::bigint[], $3::float8[], $4::float8[], $5::float8[]) ON CONFLICT DO NOTHING`,
            [part.map((r) => r.deviceId), part.map((r) => Math.round(r.ts)), part.map((r) => r.value), part.map((r) => r.lon ?? null), part.map((r) => r.lat ?? null)],
          );
          added += r.rowCount ?? 0;
        }
        await cl.query('COMMIT');
        return added;
      } catch (e) {
        await cl.query('ROLLBACK').catch(() => {});
        throw e;
      } finally {
        cl.release();
      }
    },
    async range(deviceId, from, to, limit) {
      open();
      const r = await pool.query(`SELECT ts, value, lon, lat FROM (SELECT ts, value, lon, lat FROM ${s}.readings WHERE device_id = $1 AND ts >= $2 AND ts <= $3 ORDER BY ts DESC LIMIT $4) x ORDER BY ts`,
        [deviceId, Math.floor(from), Math.ceil(to), checkLimit(limit)]);
      return r.rows.map(point);
    },
    async purge(olderThan) {
      open();
      const a = await pool.query(`DELETE FROM ${s}.readings WHERE ts < $1`, [Math.floor(olderThan)]);
      const b = await pool.query(`DELETE FROM ${s}.alarms WHERE status = 'cleared' AND cleared_at < $1`, [Math.floor(olderThan)]);
      return (a.rowCount ?? 0) + (b.rowCount ?? 0);
    },
    async purgeReadings(before) {
      open();
      return (await pool.query(`DELETE FROM ${s}.readings WHERE ts < $1`, [Math.floor(before)])).rowCount ?? 0;
    },
    async purgeClearedAlarms(before) {
      open();
      return (await pool.query(`DELETE FROM ${s}.alarms WHERE status = 'cleared' AND cleared_at < $1`, [Math.floor(before)])).rowCount ?? 0;
    },
    async saveAlarm(a) {
      open();
      const cols = ALARM_COLS.split(', ');
      await pool.query(`INSERT INTO ${s}.alarms (${ALARM_COLS}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})
        ON CONFLICT (id) DO UPDATE SET ${cols.slice(1).map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`, alarmValues(a));
    },
    async alarms(f) {
      open();
      const w = alarmWhere(f, (i) => `$${i}`);
      const r = await pool.query(`SELECT ${ALARM_COLS} FROM ${s}.alarms ${w.sql} ORDER BY started_at DESC, id LIMIT $${w.args.length + 1}`, [...w.args, checkLimit(f.limit)]);
      return r.rows.map(alarmFromRow);
    },
    async saveRules(rules) {
      open();
      await pool.query(`INSERT INTO ${s}.rules (id, body, saved_at) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body, saved_at = EXCLUDED.saved_at`,
        [JSON.stringify(rules), Date.now()]);
    },
    async loadRules() {
      open();
      const r = await pool.query(`SELECT body FROM ${s}.rules WHERE id = 1`);
      return r.rows.length ? (r.rows[0].body as Rule[]) : null;
    },
    async close() { if (!closed) { closed = true; await pool.end(); } },
  };
}
