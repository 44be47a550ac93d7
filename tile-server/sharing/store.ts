// The sharing store (issue 10): requests with their approvals, decision and feedback, and the usage log of grants.
// Twins like the other stores: SQLite file `sharing.sqlite` beside the incidents (WAL, synchronous=FULL), or
// schema `sharing` in PostgreSQL; versioned with the incidents' migration runner (never edit a released migration).
// A request is one row: approvals (≤ 2), the proposed and granted scope, the decision and the feedback (≤ 100) are
// JSON columns, written together, so a request is never half-approved on disk. The usage log is its own table (it
// grows with every response that carried the layer, and is purged by retention: purgeUsageBefore).
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GrantUse } from '../../layers/governance/model.ts';
import type { Migration } from '../incidents/migrations.ts';
import type { StoredRequest } from './model.ts';

export interface SharingStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Every request, oldest first (the service keeps them in memory: they are few, and grants are read on every request). */
  all(): Promise<StoredRequest[]>;
  insert(r: StoredRequest): Promise<void>;
  /** Replaces the request's row (all but uses/last_used_at, which only appendUses changes). */
  update(r: StoredRequest): Promise<void>;
  /** Writes uses (one transaction) and adds them to their requests' uses / last_used_at. */
  appendUses(uses: readonly GrantUse[]): Promise<void>;
  /** The grant's uses, newest first. */
  usage(grantId: string, limit: number): Promise<GrantUse[]>;
  /** Deletes usage rows older than `cutoff` (ms); the count of deleted rows (retention, issue 10 life cycle). */
  purgeUsageBefore(cutoff: number): Promise<number>;
  close(): Promise<void>;
}

export const SHARING_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'sharing requests and grant usage',
    sqlite: `
      CREATE TABLE requests (
        id TEXT PRIMARY KEY, layer TEXT NOT NULL, requester TEXT NOT NULL, requester_name TEXT NOT NULL,
        requester_department TEXT, purpose TEXT NOT NULL, fields TEXT, areas TEXT, days INTEGER NOT NULL,
        status TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, approvals TEXT NOT NULL,
        proposed TEXT, scope TEXT, decision TEXT, feedback TEXT NOT NULL, uses INTEGER NOT NULL DEFAULT 0, last_used_at INTEGER
      ) STRICT;
      CREATE INDEX requests_requester ON requests (requester);
      CREATE TABLE grant_usage (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, grant_id TEXT NOT NULL, layer TEXT NOT NULL, grantee TEXT NOT NULL,
        at INTEGER NOT NULL, route TEXT NOT NULL, rows INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX grant_usage_grant ON grant_usage (grant_id, at);
      CREATE INDEX grant_usage_at ON grant_usage (at);`,
    postgres: `
      CREATE TABLE {s}.requests (
        id text PRIMARY KEY, layer text NOT NULL, requester text NOT NULL, requester_name text NOT NULL,
        requester_department text, purpose text NOT NULL, fields jsonb, areas jsonb, days integer NOT NULL,
        status text NOT NULL, created_at bigint NOT NULL, updated_at bigint NOT NULL, approvals jsonb NOT NULL,
        proposed jsonb, scope jsonb, decision jsonb, feedback jsonb NOT NULL, uses bigint NOT NULL DEFAULT 0, last_used_at bigint
      );
      CREATE INDEX requests_requester ON {s}.requests (requester);
      CREATE TABLE {s}.grant_usage (
        seq bigserial PRIMARY KEY, grant_id text NOT NULL, layer text NOT NULL, grantee text NOT NULL,
        at bigint NOT NULL, route text NOT NULL, rows integer NOT NULL
      );
      CREATE INDEX grant_usage_grant ON {s}.grant_usage (grant_id, at);
      CREATE INDEX grant_usage_at ON {s}.grant_usage (at);`,
  },
];

const REQUEST_COLUMNS = ['id', 'layer', 'requester', 'requester_name', 'requester_department', 'purpose', 'fields', 'areas', 'days',
  'status', 'created_at', 'updated_at', 'approvals', 'proposed', 'scope', 'decision', 'feedback'] as const;
/** Columns the JSON values go to (PostgreSQL casts them to jsonb). */
const JSON_COLUMNS = new Set(['fields', 'areas', 'approvals', 'proposed', 'scope', 'decision', 'feedback']);

const j = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));
const parse = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;
const nul = <T>(v: unknown): T | null => (v === null || v === undefined ? null : parse<T>(v));

function requestValues(r: StoredRequest): unknown[] {
  return [r.id, r.layer, r.requester, r.requesterName, r.requesterDepartment, r.purpose, j(r.fields), j(r.areas), r.days,
    r.status, r.createdAt, r.updatedAt, j(r.approvals), j(r.proposed), j(r.scope), j(r.decision), j(r.feedback)];
}

function requestFromRow(x: Record<string, unknown>): StoredRequest {
  return {
    id: String(x.id), layer: String(x.layer), requester: String(x.requester), requesterName: String(x.requester_name),
    requesterDepartment: (x.requester_department ?? null) as StoredRequest['requesterDepartment'], purpose: String(x.purpose),
    fields: nul(x.fields), areas: nul(x.areas), days: Number(x.days), status: String(x.status) as StoredRequest['status'],
    createdAt: Number(x.created_at), updatedAt: Number(x.updated_at), approvals: parse(x.approvals), proposed: nul(x.proposed),
    scope: nul(x.scope), decision: nul(x.decision), feedback: parse(x.feedback), uses: Number(x.uses),
    lastUsedAt: x.last_used_at === null || x.last_used_at === undefined ? null : Number(x.last_used_at),
  };
}

function useFromRow(x: Record<string, unknown>): GrantUse {
  return { grantId: String(x.grant_id), layer: String(x.layer), grantee: String(x.grantee), at: Number(x.at), route: String(x.route), rows: Number(x.rows) };
}

/** Per request: how many uses a batch adds and its latest. */
function perGrant(uses: readonly GrantUse[]): Map<string, { n: number; last: number }> {
  const m = new Map<string, { n: number; last: number }>();
  for (const u of uses) {
    const t = m.get(u.grantId);
    if (t) { t.n++; t.last = Math.max(t.last, u.at); } else m.set(u.grantId, { n: 1, last: u.at });
  }
  return m;
}

// ------------------------------------------------------------------------------------------ SQLite

export async function openSqliteSharingStore(file: string): Promise<SharingStore> {
  const { openMigratedSqlite } = await import('../incidents/sqlite-store.ts');
  const db = openMigratedSqlite(file, SHARING_MIGRATIONS, { zh: '数据共享库', en: 'sharing database', hint: 'Check that the directory is writable, or set ONEMAP_SHARING_FILE.' });
  const cols = REQUEST_COLUMNS.join(', ');
  const st = {
    all: db.prepare('SELECT * FROM requests ORDER BY created_at, id'),
    insert: db.prepare(`INSERT INTO requests (${cols}) VALUES (${REQUEST_COLUMNS.map(() => '?').join(', ')})`),
    update: db.prepare(`UPDATE requests SET ${REQUEST_COLUMNS.slice(1).map((c) => `${c} = ?`).join(', ')} WHERE id = ?`),
    use: db.prepare('INSERT INTO grant_usage (grant_id, layer, grantee, at, route, rows) VALUES (?, ?, ?, ?, ?, ?)'),
    bump: db.prepare('UPDATE requests SET uses = uses + ?, last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?'),
    usage: db.prepare('SELECT * FROM grant_usage WHERE grant_id = ? ORDER BY at DESC, seq DESC LIMIT ?'),
    purge: db.prepare('DELETE FROM grant_usage WHERE at < ?'),
  };
  const append = db.transaction((uses: readonly GrantUse[]) => {
    for (const u of uses) st.use.run(u.grantId, u.layer, u.grantee, u.at, u.route, u.rows);
    for (const [id, t] of perGrant(uses)) st.bump.run(t.n, t.last, id);
  });
  return {
    kind: 'sqlite',
    async all() { return (st.all.all() as Record<string, unknown>[]).map(requestFromRow); },
    async insert(r) { st.insert.run(...requestValues(r)); },
    async update(r) {
      const [id, ...rest] = requestValues(r);
      if (st.update.run(...rest, id).changes !== 1) throw new Error(`sharing request ${r.id} is not in the store`);
    },
    async appendUses(uses) { if (uses.length) append(uses); },
    async usage(grantId, limit) { return (st.usage.all(grantId, limit) as Record<string, unknown>[]).map(useFromRow); },
    async purgeUsageBefore(cutoff) { return st.purge.run(cutoff).changes; },
    async close() { if (db.open) db.close(); },
  };
}

// ------------------------------------------------------------------------------------------ PostgreSQL

export async function openPgSharingStore(databaseUrl: string, schema = 'sharing'): Promise<SharingStore> {
  const { openMigratedPg } = await import('../incidents/pg-store.ts');
  const pool = await openMigratedPg(databaseUrl, { schema, migrations: SHARING_MIGRATIONS, max: 3, name: { zh: '数据共享库', en: 'sharing' } });
  const s = `"${schema}"`;
  const ph = (i: number, c: string) => `$${i}${JSON_COLUMNS.has(c) ? '::jsonb' : ''}`;
  const insertSql = `INSERT INTO ${s}.requests (${REQUEST_COLUMNS.join(', ')}) VALUES (${REQUEST_COLUMNS.map((c, i) => ph(i + 1, c)).join(', ')})`;
  const updateSql = `UPDATE ${s}.requests SET ${REQUEST_COLUMNS.slice(1).map((c, i) => `${c} = ${ph(i + 1, c)}`).join(', ')} WHERE id = $${REQUEST_COLUMNS.length}`;
  return {
    kind: 'postgres',
    async all() { return (await pool.query(`SELECT * FROM ${s}.requests ORDER BY created_at, id`)).rows.map(requestFromRow); },
    async insert(r) { await pool.query(insertSql, requestValues(r)); },
    async update(r) {
      const [id, ...rest] = requestValues(r);
      const out = await pool.query(updateSql, [...rest, id]);
      if (out.rowCount !== 1) throw new Error(`sharing request ${r.id} is not in the store`);
    },
    async appendUses(uses) {
      if (!uses.length) return;
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        for (let i = 0; i < uses.length; i += 500) {
          const part = uses.slice(i, i + 500);
          const args: unknown[] = [];
          const tuples = part.map((u) => {
            const b = args.length;
            args.push(u.grantId, u.layer, u.grantee, u.at, u.route, u.rows);
            return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6})`;
          });
          await c.query(`INSERT INTO ${s}.grant_usage (grant_id, layer, grantee, at, route, rows) VALUES ${tuples.join(', ')}`, args);
        }
        for (const [id, t] of perGrant(uses)) {
          await c.query(`UPDATE ${s}.requests SET uses = uses + $1, last_used_at = greatest(coalesce(last_used_at, 0), $2) WHERE id = $3`, [t.n, t.last, id]);
        }
        await c.query('COMMIT');
      } catch (e) {
        await c.query('ROLLBACK').catch(() => {});
        throw e;
      } finally {
        c.release();
      }
    },
    async usage(grantId, limit) {
      return (await pool.query(`SELECT * FROM ${s}.grant_usage WHERE grant_id = $1 ORDER BY at DESC, seq DESC LIMIT $2`, [grantId, limit])).rows.map(useFromRow);
    },
    async purgeUsageBefore(cutoff) { return (await pool.query(`DELETE FROM ${s}.grant_usage WHERE at < $1`, [cutoff])).rowCount ?? 0; },
    async close() { await pool.end(); },
  };
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * PostgreSQL (schema `sharing`) when a URL is given, else the SQLite file: `file`, else `sharing.sqlite` beside the
 * incident file, else ONEMAP_SHARING_FILE or var/sharing.sqlite.
 */
export function openSharingStore(o: { databaseUrl?: string | null; file?: string; incidentDbFile?: string; schema?: string }): Promise<SharingStore> {
  if (o.databaseUrl) return openPgSharingStore(o.databaseUrl, o.schema);
  const file = o.file ?? (o.incidentDbFile && o.incidentDbFile !== ':memory:' ? join(dirname(o.incidentDbFile), 'sharing.sqlite')
    : process.env.ONEMAP_SHARING_FILE || resolve(REPO_ROOT, 'var/sharing.sqlite'));
  return openSqliteSharingStore(file);
}
