// The PostgreSQL incident store (chosen when DATABASE_URL is set). Tables live in schema `ops`, apart
// from the loader's layer tables in `public`. Every change is one transaction; update() locks the
// incident row (SELECT … FOR UPDATE) before comparing versions, so of two concurrent updates at the same
// version exactly one commits and the other sees the new version and fails with VersionConflict.
// Durability: synchronous_commit=on for these sessions (COMMIT returns after the WAL is flushed), whatever
// the server default is.
import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import {
  IdempotencyConflict, IncidentNotFound, VersionConflict, attachmentFromRow, auditFromRow, checkFirst, checkLimit,
  checkUpdateArgs, INCIDENT_FIELDS, incidentFromRow, incidentValues, listWhere, openStatusList, plainBytes,
  transitionAudit, transitionFromRow, purgeStatements, type AuditEntry, type IncidentPurge, type IncidentStore,
} from './incident-store.ts';
import { MIGRATIONS, newerSchemaError, type Migration } from './migrations.ts';
import type { Actor, Attachment, Incident, IncidentFilter, Transition } from '../../layers/incidents/model.ts';

type Row = Record<string, unknown>;
type Client = pg.PoolClient;

export interface PgIncidentStoreOptions {
  /** Schema for the tables (default `ops`); tests use their own. */
  schema?: string;
  /** Pool size (default 4). */
  max?: number;
  migrations?: readonly Migration[];
}

const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;
const redact = (url: string) => url.replace(/:[^:@/]*@/, ':***@');

/** Applies the migrations not yet recorded, all in one transaction under an advisory lock (two servers
 *  starting at once must not both run a migration). Returns the versions applied. */
export async function migratePg(pool: pg.Pool, schema: string, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const s = quoteIdent(schema);
  return inTx(pool, async (c) => {
    await c.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`onemap.migrate.${schema}`]);
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await c.query(`CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`);
    const have = new Set((await c.query(`SELECT version FROM ${s}.schema_migrations`)).rows.map((r) => Number(r.version)));
    const know = Math.max(0, ...migrations.map((m) => m.version));
    const top = Math.max(0, ...have);
    if (top > know) throw newerSchemaError(`schema ${schema}`, top, know);
    const applied: number[] = [];
    for (const m of migrations) {
      if (have.has(m.version)) continue;
      await c.query(m.postgres.replaceAll('{s}', s));
      await c.query(`INSERT INTO ${s}.schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`, [m.version, m.name, Date.now()]);
      applied.push(m.version);
    }
    return applied;
  });
}

async function inTx<T>(pool: pg.Pool, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  let broken: Error | undefined;
  try {
    await c.query('BEGIN');
    const r = await fn(c);
    await c.query('COMMIT');
    return r;
  } catch (e) {
    await c.query('ROLLBACK').catch((re: Error) => { broken = re; });
    throw e;
  } finally {
    // A connection that could not even roll back is discarded rather than reused.
    c.release(broken);
  }
}

/** What a store is called in the error when its database cannot be used. */
export interface PgStoreName { zh: string; en: string }

/**
 * The PostgreSQL side of every small store: a pool (durable commits when `durable`), an idle-error
 * handler (a dropped connection must not crash the server; the next query reconnects), the schema's
 * migrations, and on failure the pool closed and an error naming the store, the database (password
 * masked) and what to do. The twin of openMigratedSqlite.
 */
export async function openMigratedPg(databaseUrl: string, opts: {
  schema: string; migrations: readonly Migration[]; name: PgStoreName; max?: number; durable?: boolean;
}): Promise<pg.Pool> {
  const { schema } = opts;
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`schema name must be lower-case letters, digits and _ (got ${JSON.stringify(schema)})`);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: opts.max ?? 4, ...(opts.durable ? { options: '-c synchronous_commit=on' } : {}) });
  pool.on('error', () => { /* an idle client died (server restart); the next query reconnects */ });
  try {
    await migratePg(pool, schema, opts.migrations);
  } catch (e) {
    await pool.end().catch(() => {});
    throw new Error(`无法使用 PostgreSQL ${opts.name.zh} / cannot use the ${opts.name.en} database at ${redact(databaseUrl)} (schema ${schema}): ` +
      `${(e as Error).message}. Start it (\`npx tsx scripts/pg-local.ts start\`), or unset the database URL for the SQLite file.`);
  }
  return pool;
}

export async function openPgIncidentStore(databaseUrl: string, opts: PgIncidentStoreOptions = {}): Promise<IncidentStore> {
  const schema = opts.schema ?? 'ops';
  const pool = await openMigratedPg(databaseUrl, { schema, migrations: opts.migrations ?? MIGRATIONS, max: opts.max, durable: true, name: { zh: '事件库', en: 'incident' } });
  return new PgIncidentStore(pool, quoteIdent(schema));
}

const COLS = INCIDENT_FIELDS.map(([, c]) => c);
const OPEN = openStatusList();

class PgIncidentStore implements IncidentStore {
  readonly kind = 'postgres' as const;
  private readonly sql;

  constructor(private readonly pool: pg.Pool, s: string) {
    this.sql = {
      insertIncident: `INSERT INTO ${s}.incidents (${COLS.join(', ')}) VALUES (${COLS.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`,
      updateIncident: `UPDATE ${s}.incidents SET ${COLS.slice(1).map((c, i) => `${c} = $${i + 2}`).join(', ')} WHERE id = $1 RETURNING *`,
      getIncident: `SELECT * FROM ${s}.incidents WHERE id = $1`,
      lockIncident: `SELECT * FROM ${s}.incidents WHERE id = $1 FOR UPDATE`,
      insertTransition: `INSERT INTO ${s}.transitions (incident_id, seq, action, from_status, to_status, actor, at, reason, data)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      lastSeq: `SELECT coalesce(max(seq), 0) AS s FROM ${s}.transitions WHERE incident_id = $1`,
      transitions: `SELECT * FROM ${s}.transitions WHERE incident_id = $1 ORDER BY seq`,
      // DO NOTHING waits for a concurrent insert of the same key to commit or roll back, then reports whether
      // this one won; so two racing requests with one key never both create.
      claimKey: `INSERT INTO ${s}.idempotency_keys (key, request_hash, incident_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING RETURNING key`,
      getKey: `SELECT request_hash, incident_id FROM ${s}.idempotency_keys WHERE key = $1`,
      nextSeq: `INSERT INTO ${s}.case_counters (day, seq) VALUES ($1, 1) ON CONFLICT (day) DO UPDATE SET seq = case_counters.seq + 1 RETURNING seq`,
      insertAttachment: `INSERT INTO ${s}.attachments (id, incident_id, kind, mime, bytes, sha256, created_at, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      getAttachment: `SELECT * FROM ${s}.attachments WHERE id = $1`,
      attachments: `SELECT id, incident_id, kind, mime, bytes, sha256, created_at FROM ${s}.attachments WHERE incident_id = $1 ORDER BY created_at, id`,
      workload: `SELECT assignee_id, count(*) AS n FROM ${s}.incidents WHERE assignee_id IS NOT NULL AND status IN (${OPEN}) GROUP BY assignee_id`,
      setPosition: `INSERT INTO ${s}.responder_positions AS p (id, lon, lat, at) VALUES ($1, $2, $3, $4)
        ON CONFLICT (id) DO UPDATE SET lon = excluded.lon, lat = excluded.lat, at = excluded.at WHERE excluded.at >= p.at`,
      positions: `SELECT id, lon, lat, at FROM ${s}.responder_positions`,
      overdue: `SELECT * FROM ${s}.incidents WHERE status IN (${OPEN}) AND deadline IS NOT NULL AND deadline < $1 ORDER BY deadline, id COLLATE "C"`,
      audit: `INSERT INTO ${s}.audit_log (at, actor, action, entity, entity_id, detail) VALUES ($1, $2, $3, $4, $5, $6)`,
      incidents: `${s}.incidents`,
      schema: s,
      auditLog: `${s}.audit_log`,
    };
  }

  private tx<T>(fn: (c: Client) => Promise<T>): Promise<T> {
    return inTx(this.pool, fn);
  }

  private async writeAudit(c: Client | pg.Pool, e: AuditEntry): Promise<void> {
    await c.query(this.sql.audit, [e.at, JSON.stringify(e.actor), e.action, e.entity, e.entityId, JSON.stringify(e.detail)]);
  }

  private async insertTransition(c: Client, t: Transition): Promise<void> {
    await c.query(this.sql.insertTransition, [t.incidentId, t.seq, t.action, t.from, t.to, JSON.stringify(t.actor), t.at, t.reason, JSON.stringify(t.data)]);
  }

  async create(incident: Incident, first: Transition, opts: { idempotencyKey?: string; requestHash?: string } = {}) {
    checkFirst(incident, first);
    const hash = opts.requestHash ?? '';
    return this.tx(async (c): Promise<{ incident: Incident; created: boolean }> => {
      // Claim the key first (its FK to the incident is deferred to COMMIT): a concurrent create with the same
      // key waits on the unique index until this one commits, then finds the key taken and returns this incident.
      if (opts.idempotencyKey !== undefined) {
        const won = (await c.query(this.sql.claimKey, [opts.idempotencyKey, hash, incident.id, first.at])).rowCount === 1;
        if (!won) {
          const k = (await c.query(this.sql.getKey, [opts.idempotencyKey])).rows[0] as { request_hash: string; incident_id: string };
          return this.existing(c, k, hash);
        }
      }
      const row = (await c.query(this.sql.insertIncident, incidentValues(incident))).rows[0] as Row;
      await this.insertTransition(c, first);
      await this.writeAudit(c, transitionAudit(incident, first));
      return { incident: incidentFromRow(row), created: true };
    });
  }

  private async existing(c: Client, k: { request_hash: string; incident_id: string }, hash: string) {
    if (k.request_hash !== hash) throw new IdempotencyConflict();
    const r = (await c.query(this.sql.getIncident, [k.incident_id])).rows[0] as Row;
    return { incident: incidentFromRow(r), created: false };
  }

  async update(next: Incident, expectedVersion: number, t: Omit<Transition, 'seq'>) {
    checkUpdateArgs(next, expectedVersion, t);
    return this.tx(async (c) => {
      const curRow = (await c.query(this.sql.lockIncident, [next.id])).rows[0] as Row | undefined;
      if (!curRow) throw new IncidentNotFound(next.id);
      const cur = incidentFromRow(curRow);
      if (cur.version !== expectedVersion) throw new VersionConflict(cur);
      const row = (await c.query(this.sql.updateIncident, incidentValues(next))).rows[0] as Row;
      const seq = Number((await c.query(this.sql.lastSeq, [next.id])).rows[0].s) + 1;
      const transition: Transition = { ...t, seq };
      await this.insertTransition(c, transition);
      await this.writeAudit(c, transitionAudit(next, transition));
      return { incident: incidentFromRow(row), transition };
    });
  }

  async get(id: string) {
    const r = (await this.pool.query(this.sql.getIncident, [id])).rows[0] as Row | undefined;
    return r ? incidentFromRow(r) : null;
  }

  async list(f: IncidentFilter, now = Date.now()) {
    const { limit, offset } = checkLimit(f);
    const params: unknown[] = [];
    const where = listWhere(f, now, (v) => { params.push(v); return `$${params.length}`; });
    // count(*) OVER () gives the total from the same snapshot as the page; an empty page needs a count.
    const rows = (await this.pool.query(
      `SELECT *, count(*) OVER () AS total__ FROM ${this.sql.incidents} ${where} ORDER BY updated_at DESC, id COLLATE "C" LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, limit, offset])).rows as Row[];
    const total = rows.length ? Number(rows[0].total__)
      : Number((await this.pool.query(`SELECT count(*) AS n FROM ${this.sql.incidents} ${where}`, params)).rows[0].n);
    return { total, items: rows.map(incidentFromRow) };
  }

  async transitions(id: string) {
    return ((await this.pool.query(this.sql.transitions, [id])).rows as Row[]).map(transitionFromRow);
  }

  async nextSeq(day: string) {
    if (!/^\d{8}$/.test(day)) throw new RangeError(`nextSeq(): day must be YYYYMMDD (got ${JSON.stringify(day)})`);
    return Number((await this.pool.query(this.sql.nextSeq, [day])).rows[0].seq);
  }

  async addAttachment(meta: Omit<Attachment, 'id' | 'bytes' | 'sha256' | 'createdAt'>, data: Uint8Array, at: number, actor: Actor) {
    const a: Attachment = {
      id: randomUUID(), incidentId: meta.incidentId, kind: meta.kind, mime: meta.mime,
      bytes: data.byteLength, sha256: createHash('sha256').update(data).digest('hex'), createdAt: at,
    };
    await this.tx(async (c) => {
      if (!(await c.query(this.sql.getIncident, [a.incidentId])).rowCount) throw new IncidentNotFound(a.incidentId);
      await c.query(this.sql.insertAttachment, [a.id, a.incidentId, a.kind, a.mime, a.bytes, a.sha256, a.createdAt, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
      await this.writeAudit(c, { at, actor, action: 'attach', entity: 'attachment', entityId: a.id,
        detail: { incidentId: a.incidentId, kind: a.kind, mime: a.mime, bytes: a.bytes, sha256: a.sha256 } });
    });
    return a;
  }

  async getAttachment(id: string) {
    const r = (await this.pool.query(this.sql.getAttachment, [id])).rows[0] as Row | undefined;
    return r ? { meta: attachmentFromRow(r), data: plainBytes(r.data as Uint8Array) } : null;
  }

  async attachments(incidentId: string) {
    return ((await this.pool.query(this.sql.attachments, [incidentId])).rows as Row[]).map(attachmentFromRow);
  }

  async workload() {
    const m = new Map<string, number>();
    for (const r of (await this.pool.query(this.sql.workload)).rows) m.set(String(r.assignee_id), Number(r.n));
    return m;
  }

  async setResponderPosition(id: string, lon: number, lat: number, at: number) {
    await this.pool.query(this.sql.setPosition, [id, lon, lat, at]);
  }

  async responderPositions() {
    const m = new Map<string, { lon: number; lat: number; at: number }>();
    for (const r of (await this.pool.query(this.sql.positions)).rows) m.set(String(r.id), { lon: Number(r.lon), lat: Number(r.lat), at: Number(r.at) });
    return m;
  }

  async overdue(t: number) {
    return ((await this.pool.query(this.sql.overdue, [t])).rows as Row[]).map(incidentFromRow);
  }

  async audit(e: AuditEntry) {
    await this.writeAudit(this.pool, e);
  }

  async auditLog(f: { entity?: string; entityId?: string; limit: number }) {
    const w: string[] = [], params: unknown[] = [];
    if (f.entity !== undefined) { params.push(f.entity); w.push(`entity = $${params.length}`); }
    if (f.entityId !== undefined) { params.push(f.entityId); w.push(`entity_id = $${params.length}`); }
    params.push(Math.max(0, Math.trunc(f.limit)));
    const rows = (await this.pool.query(`SELECT * FROM ${this.sql.auditLog} ${w.length ? `WHERE ${w.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.length}`, params)).rows as Row[];
    return rows.map(auditFromRow);
  }

  async purgeEndedBefore(cutoff: number): Promise<IncidentPurge> {
    const out: IncidentPurge = { incidents: 0, transitions: 0, attachments: 0, idempotencyKeys: 0, auditRows: 0 };
    const steps = purgeStatements((name) => `${this.sql.schema}.${name}`, '$1');
    await this.tx(async (c) => { for (const x of steps) out[x.key] = (await c.query(x.sql, [cutoff])).rowCount ?? 0; });
    return out;
  }

  private closed = false;
  async close() {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
