// The indicators' store, SQLite and PostgreSQL twins (versioned migrations, the incidents' runner): the planners'
// definitions, and the time series — one row per (snapshot, indicator, level) holding every area's value as a
// binary column, not one row per area: a run writes ~2,400 areas × each indicator every 15 min, which as rows
// would be ~1.4 M rows a day. The area codes of a row are a shared, content-addressed list (code_sets).
// Value column layout (little-endian): bytes 0–1 'IV', byte 2 format version (1), byte 3 reserved 0, then one
// float64 per area in the order of its code set; NaN = null (nothing to measure).
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { IndicatorDef, IndicatorLevel } from '../../layers/indicators/model.ts';
import type { Migration } from '../incidents/migrations.ts';

export interface SeriesRow {
  at: number; indicator: string; level: IndicatorLevel;
  /** The thresholds in force when computed (status of a past value is judged by them). */
  better: 'lower' | 'higher'; green: number; red: number;
  codes: readonly string[]; values: readonly (number | null)[];
}

export interface IndicatorStore {
  readonly kind: 'sqlite' | 'postgres';
  /** The stored (planners') definitions, oldest first. */
  definitions(): Promise<IndicatorDef[]>;
  putDefinition(def: IndicatorDef, now: number): Promise<void>;
  deleteDefinition(id: string): Promise<boolean>;
  /** One transaction: the snapshot and all its rows (a reader never sees half a run). */
  saveSnapshot(at: number, tookMs: number, rows: readonly SeriesRow[]): Promise<void>;
  /** The latest snapshot time ≤ atMost, or null. */
  latestSnapshot(atMost: number): Promise<number | null>;
  snapshotRows(at: number, level: IndicatorLevel, indicator?: string): Promise<SeriesRow[]>;
  /** Rows of one indicator and level with from ≤ at ≤ to, oldest first, at most `limit`. */
  seriesRows(indicator: string, level: IndicatorLevel, from: number, to: number, limit: number): Promise<SeriesRow[]>;
  /** Snapshot times < before, oldest first. */
  snapshotTimes(before: number): Promise<number[]>;
  deleteSnapshots(ats: readonly number[]): Promise<number>;
  close(): Promise<void>;
}

export const INDICATOR_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'indicator definitions and series',
    sqlite: `
      CREATE TABLE definitions (id TEXT PRIMARY KEY, body TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL) STRICT;
      CREATE TABLE snapshots (at INTEGER PRIMARY KEY, took_ms INTEGER NOT NULL) STRICT;
      CREATE TABLE code_sets (id TEXT PRIMARY KEY, codes TEXT NOT NULL) STRICT;
      CREATE TABLE series (
        indicator TEXT NOT NULL, level TEXT NOT NULL, at INTEGER NOT NULL REFERENCES snapshots(at) ON DELETE CASCADE,
        better TEXT NOT NULL, green REAL NOT NULL, red REAL NOT NULL, codes_id TEXT NOT NULL, vals BLOB NOT NULL,
        PRIMARY KEY (indicator, level, at)
      ) STRICT;
      CREATE INDEX series_at ON series (at, level);`,
    postgres: `
      CREATE TABLE {s}.definitions (id text PRIMARY KEY, body jsonb NOT NULL, created_at bigint NOT NULL, updated_at bigint NOT NULL);
      CREATE TABLE {s}.snapshots (at bigint PRIMARY KEY, took_ms integer NOT NULL);
      CREATE TABLE {s}.code_sets (id text PRIMARY KEY, codes jsonb NOT NULL);
      CREATE TABLE {s}.series (
        indicator text NOT NULL, level text NOT NULL, at bigint NOT NULL REFERENCES {s}.snapshots(at) ON DELETE CASCADE,
        better text NOT NULL, green double precision NOT NULL, red double precision NOT NULL, codes_id text NOT NULL, vals bytea NOT NULL,
        PRIMARY KEY (indicator, level, at)
      );
      CREATE INDEX series_at ON {s}.series (at, level);`,
  },
];

const FORMAT_VERSION = 1;

export function encodeValues(values: readonly (number | null)[]): Buffer {
  const b = Buffer.alloc(4 + values.length * 8);
  b.write('IV', 0, 'latin1');
  b[2] = FORMAT_VERSION;
  values.forEach((v, i) => b.writeDoubleLE(v === null ? NaN : v, 4 + i * 8));
  return b;
}

export function decodeValues(b: Uint8Array): (number | null)[] {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (buf.length < 4 || buf.toString('latin1', 0, 2) !== 'IV') throw new Error('指标序列数据损坏（缺少 IV 标记）indicator series value is corrupt (no IV magic)');
  if (buf[2] !== FORMAT_VERSION) throw new Error(`指标序列格式版本 ${buf[2]} 不受支持（本程序为 ${FORMAT_VERSION}）；请升级服务。Unsupported indicator series format version ${buf[2]}.`);
  const out: (number | null)[] = [];
  for (let o = 4; o + 8 <= buf.length; o += 8) {
    const v = buf.readDoubleLE(o);
    out.push(Number.isNaN(v) ? null : v);
  }
  return out;
}

const codesId = (codes: readonly string[]) => createHash('sha1').update(codes.join(',')).digest('hex');

/** Row → SeriesRow with the code set looked up (and cached: there are a handful of distinct sets). */
async function toRow(r: Record<string, unknown>, codesOf: (id: string) => Promise<string[]>): Promise<SeriesRow> {
  return {
    at: Number(r.at), indicator: String(r.indicator), level: String(r.level) as IndicatorLevel,
    better: r.better === 'higher' ? 'higher' : 'lower', green: Number(r.green), red: Number(r.red),
    codes: await codesOf(String(r.codes_id)), values: decodeValues(r.vals as Uint8Array),
  };
}

const parseDef = (body: unknown): IndicatorDef => (typeof body === 'string' ? JSON.parse(body) : body) as IndicatorDef;

export async function openSqliteIndicatorStore(file: string): Promise<IndicatorStore> {
  const { openMigratedSqlite } = await import('../incidents/sqlite-store.ts');
  const db = openMigratedSqlite(file, INDICATOR_MIGRATIONS, { zh: '指标库', en: 'indicator database', hint: 'Check that the directory is writable.', pragmas: ['foreign_keys = ON'] });
  const codeCache = new Map<string, string[]>();
  const getCodes = db.prepare(`SELECT codes FROM code_sets WHERE id = ?`);
  const codesOf = async (id: string) => {
    let c = codeCache.get(id);
    if (!c) {
      const r = getCodes.get(id) as { codes: string } | undefined;
      if (!r) throw new Error(`指标库缺少区域代码集 ${id} / indicator store lacks code set ${id}`);
      c = JSON.parse(r.codes) as string[];
      codeCache.set(id, c);
    }
    return c;
  };
  const st = {
    defs: db.prepare(`SELECT body FROM definitions ORDER BY created_at, id`),
    putDef: db.prepare(`INSERT INTO definitions (id, body, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`),
    delDef: db.prepare(`DELETE FROM definitions WHERE id = ?`),
    snap: db.prepare(`INSERT OR REPLACE INTO snapshots (at, took_ms) VALUES (?, ?)`),
    putCodes: db.prepare(`INSERT OR IGNORE INTO code_sets (id, codes) VALUES (?, ?)`),
    putRow: db.prepare(`INSERT OR REPLACE INTO series (indicator, level, at, better, green, red, codes_id, vals) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    latest: db.prepare(`SELECT max(at) AS at FROM snapshots WHERE at <= ?`),
    rowsAt: db.prepare(`SELECT * FROM series WHERE at = ? AND level = ? ORDER BY indicator`),
    rowsAtOne: db.prepare(`SELECT * FROM series WHERE at = ? AND level = ? AND indicator = ?`),
    series: db.prepare(`SELECT * FROM series WHERE indicator = ? AND level = ? AND at >= ? AND at <= ? ORDER BY at LIMIT ?`),
    times: db.prepare(`SELECT at FROM snapshots WHERE at < ? ORDER BY at`),
    delSnap: db.prepare(`DELETE FROM snapshots WHERE at = ?`),
  };
  const save = db.transaction((at: number, tookMs: number, rows: readonly SeriesRow[]) => {
    st.snap.run(at, tookMs);
    for (const r of rows) {
      const id = codesId(r.codes);
      if (!codeCache.has(id)) { st.putCodes.run(id, JSON.stringify(r.codes)); codeCache.set(id, [...r.codes]); }
      st.putRow.run(r.indicator, r.level, at, r.better, r.green, r.red, id, encodeValues(r.values));
    }
  });
  const del = db.transaction((ats: readonly number[]) => ats.reduce((n, at) => n + st.delSnap.run(at).changes, 0));
  const rows = (list: unknown[]) => Promise.all((list as Record<string, unknown>[]).map((r) => toRow(r, codesOf)));
  return {
    kind: 'sqlite',
    async definitions() { return (st.defs.all() as { body: string }[]).map((r) => parseDef(r.body)); },
    async putDefinition(def, now) { st.putDef.run(def.id, JSON.stringify(def), def.createdAt, now); },
    async deleteDefinition(id) { return st.delDef.run(id).changes === 1; },
    async saveSnapshot(at, tookMs, r) { save(at, tookMs, r); },
    async latestSnapshot(atMost) { const r = st.latest.get(atMost) as { at: number | null }; return r.at === null ? null : Number(r.at); },
    async snapshotRows(at, level, indicator) { return rows(indicator ? st.rowsAtOne.all(at, level, indicator) : st.rowsAt.all(at, level)); },
    async seriesRows(indicator, level, from, to, limit) { return rows(st.series.all(indicator, level, from, to, limit)); },
    async snapshotTimes(before) { return (st.times.all(before) as { at: number }[]).map((r) => Number(r.at)); },
    async deleteSnapshots(ats) { return del(ats); },
    async close() { db.close(); },
  };
}

export async function openPgIndicatorStore(databaseUrl: string, schema = 'indicators'): Promise<IndicatorStore> {
  const { openMigratedPg } = await import('../incidents/pg-store.ts');
  const pool = await openMigratedPg(databaseUrl, { schema, migrations: INDICATOR_MIGRATIONS, max: 3, name: { zh: '指标库', en: 'indicator' } });
  const s = `"${schema}"`;
  const codeCache = new Map<string, string[]>();
  const codesOf = async (id: string) => {
    let c = codeCache.get(id);
    if (!c) {
      const r = await pool.query(`SELECT codes FROM ${s}.code_sets WHERE id = $1`, [id]);
      if (!r.rows[0]) throw new Error(`指标库缺少区域代码集 ${id} / indicator store lacks code set ${id}`);
      c = r.rows[0].codes as string[];
      codeCache.set(id, c);
    }
    return c;
  };
  const rows = (list: Record<string, unknown>[]) => Promise.all(list.map((r) => toRow(r, codesOf)));
  return {
    kind: 'postgres',
    async definitions() { return (await pool.query(`SELECT body FROM ${s}.definitions ORDER BY created_at, id`)).rows.map((r) => parseDef(r.body)); },
    async putDefinition(def, now) {
      await pool.query(`INSERT INTO ${s}.definitions (id, body, created_at, updated_at) VALUES ($1, $2, $3, $4)
        ON CONFLICT (id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`, [def.id, JSON.stringify(def), def.createdAt, now]);
    },
    async deleteDefinition(id) { return (await pool.query(`DELETE FROM ${s}.definitions WHERE id = $1`, [id])).rowCount === 1; },
    async saveSnapshot(at, tookMs, list) {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        await c.query(`INSERT INTO ${s}.snapshots (at, took_ms) VALUES ($1, $2) ON CONFLICT (at) DO UPDATE SET took_ms = excluded.took_ms`, [at, tookMs]);
        for (const r of list) {
          const id = codesId(r.codes);
          if (!codeCache.has(id)) await c.query(`INSERT INTO ${s}.code_sets (id, codes) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [id, JSON.stringify(r.codes)]);
          await c.query(`INSERT INTO ${s}.series (indicator, level, at, better, green, red, codes_id, vals) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (indicator, level, at) DO UPDATE SET better = excluded.better, green = excluded.green, red = excluded.red, codes_id = excluded.codes_id, vals = excluded.vals`,
          [r.indicator, r.level, at, r.better, r.green, r.red, id, encodeValues(r.values)]);
        }
        await c.query('COMMIT');
        for (const r of list) codeCache.set(codesId(r.codes), [...r.codes]);
      } catch (e) {
        await c.query('ROLLBACK').catch(() => {});
        throw e;
      } finally {
        c.release();
      }
    },
    async latestSnapshot(atMost) {
      const r = await pool.query(`SELECT max(at) AS at FROM ${s}.snapshots WHERE at <= $1`, [atMost]);
      return r.rows[0].at === null ? null : Number(r.rows[0].at);
    },
    async snapshotRows(at, level, indicator) {
      const r = indicator
        ? await pool.query(`SELECT * FROM ${s}.series WHERE at = $1 AND level = $2 AND indicator = $3`, [at, level, indicator])
        : await pool.query(`SELECT * FROM ${s}.series WHERE at = $1 AND level = $2 ORDER BY indicator`, [at, level]);
      return rows(r.rows);
    },
    async seriesRows(indicator, level, from, to, limit) {
      return rows((await pool.query(`SELECT * FROM ${s}.series WHERE indicator = $1 AND level = $2 AND at >= $3 AND at <= $4 ORDER BY at LIMIT $5`, [indicator, level, from, to, limit])).rows);
    },
    async snapshotTimes(before) { return (await pool.query(`SELECT at FROM ${s}.snapshots WHERE at < $1 ORDER BY at`, [before])).rows.map((r) => Number(r.at)); },
    async deleteSnapshots(ats) {
      if (!ats.length) return 0;
      return (await pool.query(`DELETE FROM ${s}.snapshots WHERE at = ANY($1::bigint[])`, [ats.map(String)])).rowCount ?? 0;
    },
    async close() { await pool.end(); },
  };
}

/** PostgreSQL (schema `indicators`) when a URL is given, else `indicators.sqlite` beside the incident file (or ONEMAP_INDICATORS_FILE, var/indicators.sqlite). */
export function openIndicatorStore(opts: { databaseUrl?: string | null; incidentDbFile?: string; file?: string }): Promise<IndicatorStore> {
  if (opts.databaseUrl) return openPgIndicatorStore(opts.databaseUrl);
  const file = opts.file ?? (opts.incidentDbFile && opts.incidentDbFile !== ':memory:' ? join(dirname(opts.incidentDbFile), 'indicators.sqlite')
    : process.env.ONEMAP_INDICATORS_FILE || 'var/indicators.sqlite');
  return openSqliteIndicatorStore(file);
}

/**
 * Snapshots to delete so the series stays bounded: all kept for 2 days, then the first of each hour up to 30 days,
 * then the first of each day (China time) — a 15-min schedule keeps ~192 + 672 + 1 per day instead of 96 per day forever.
 */
export function thinning(ats: readonly number[], now: number): number[] {
  const H = 3_600_000, D = 86_400_000, CST = 8 * H;
  const seen = new Set<string>();
  const out: number[] = [];
  for (const at of [...ats].sort((a, b) => a - b)) {
    const age = now - at;
    if (age <= 2 * D) continue;
    const key = age <= 30 * D ? `h${Math.floor(at / H)}` : `d${Math.floor((at + CST) / D)}`;
    if (seen.has(key)) out.push(at); else seen.add(key);
  }
  return out;
}
