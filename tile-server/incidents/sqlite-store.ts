// The embedded incident store: one SQLite file through better-sqlite3.
// Durability: WAL with synchronous=FULL, so a commit returns only after the WAL is fsynced — an
// acknowledged write survives a process kill and a power cut (https://sqlite.org/pragma.html#pragma_synchronous).
// Several processes may share the file: writers take the lock up front (BEGIN IMMEDIATE, better-sqlite3's
// `.immediate()`) and wait up to busy_timeout for it, so a read-then-write transaction cannot fail midway
// with SQLITE_BUSY on the upgrade from a read lock.
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import {
  IdempotencyConflict, IncidentNotFound, VersionConflict, attachmentFromRow, auditFromRow, checkFirst, checkLimit,
  checkUpdateArgs, INCIDENT_FIELDS, incidentFromRow, incidentValues, listWhere, openStatusList, plainBytes,
  transitionAudit, transitionFromRow, purgeStatements, type AuditEntry, type IncidentPurge, type IncidentStore,
} from './incident-store.ts';
import { MIGRATIONS, newerSchemaError, type Migration } from './migrations.ts';
import type { Actor, Attachment, Incident, IncidentFilter, Transition } from '../../layers/incidents/model.ts';

type Row = Record<string, unknown>;

/** How long a writer waits for another process's lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * A store's SQLite file, made ready: its folder created, a busy timeout, WAL (files only), the given pragmas
 * (default `synchronous = FULL`), and its migrations applied. On failure the handle is closed and the error says
 * which database (`what`: Chinese / English) and what to do (`hint`).
 */
export function openMigratedSqlite(file: string, migrations: readonly Migration[], what: { zh: string; en: string; hint: string; pragmas?: readonly string[] }): Database.Database {
  if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 5000');
    if (file !== ':memory:') db.pragma('journal_mode = WAL');
    for (const p of what.pragmas ?? ['synchronous = FULL']) db.pragma(p);
    migrateSqlite(db, migrations, file);
  } catch (e) {
    db.close();
    throw new Error(`无法打开${what.zh} ${file} / cannot open the ${what.en} ${file}: ${(e as Error).message}. ${what.hint}`);
  }
  return db;
}

/** Applies the migrations not yet recorded, each in its own transaction. Returns the versions applied. */
export function migrateSqlite(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS, where = 'sqlite'): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`);
  const applied: number[] = [];
  const know = Math.max(0, ...migrations.map((m) => m.version));
  for (const m of migrations) {
    db.transaction(() => {
      // Re-read inside the write lock: another process may have migrated meanwhile.
      const have = db.prepare(`SELECT coalesce(max(version), 0) AS v FROM schema_migrations`).get() as { v: number };
      if (have.v > know) throw newerSchemaError(where, have.v, know);
      if (db.prepare(`SELECT 1 FROM schema_migrations WHERE version = ?`).get(m.version)) return;
      db.exec(m.sqlite);
      db.prepare(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`).run(m.version, m.name, Date.now());
      applied.push(m.version);
    }).immediate();
  }
  return applied;
}

export function openSqliteIncidentStore(file: string, opts: { migrations?: readonly Migration[] } = {}): IncidentStore {
  const db = new Database(file);
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (file !== ':memory:') {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (String(mode).toLowerCase() !== 'wal') throw new Error(`could not switch ${file} to WAL (journal_mode is ${mode})`);
    }
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrateSqlite(db, opts.migrations ?? MIGRATIONS, file);
  } catch (e) {
    db.close();
    throw new Error(`无法打开事件库 ${file} / cannot open the incident database ${file}: ${(e as Error).message}. ` +
      'Check that the directory is writable, or set ONEMAP_DB_FILE to another file.');
  }
  return new SqliteIncidentStore(db);
}

const COLS = INCIDENT_FIELDS.map(([, c]) => c);
const OPEN = openStatusList();

class SqliteIncidentStore implements IncidentStore {
  readonly kind = 'sqlite' as const;
  private readonly st;

  constructor(private readonly db: Database.Database) {
    const p = (sql: string) => db.prepare(sql);
    this.st = {
      insertIncident: p(`INSERT INTO incidents (${COLS.join(', ')}) VALUES (${COLS.map(() => '?').join(', ')})`),
      updateIncident: p(`UPDATE incidents SET ${COLS.filter((c) => c !== 'id').map((c) => `${c} = ?`).join(', ')} WHERE id = ?`),
      getIncident: p(`SELECT * FROM incidents WHERE id = ?`),
      insertTransition: p(`INSERT INTO transitions (incident_id, seq, action, from_status, to_status, actor, at, reason, data)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      lastSeq: p(`SELECT coalesce(max(seq), 0) AS s FROM transitions WHERE incident_id = ?`),
      transitions: p(`SELECT * FROM transitions WHERE incident_id = ? ORDER BY seq`),
      getKey: p(`SELECT request_hash, incident_id FROM idempotency_keys WHERE key = ?`),
      insertKey: p(`INSERT INTO idempotency_keys (key, request_hash, incident_id, created_at) VALUES (?, ?, ?, ?)`),
      nextSeq: p(`INSERT INTO case_counters (day, seq) VALUES (?, 1) ON CONFLICT (day) DO UPDATE SET seq = seq + 1 RETURNING seq`),
      insertAttachment: p(`INSERT INTO attachments (id, incident_id, kind, mime, bytes, sha256, created_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      getAttachment: p(`SELECT * FROM attachments WHERE id = ?`),
      attachments: p(`SELECT id, incident_id, kind, mime, bytes, sha256, created_at FROM attachments WHERE incident_id = ? ORDER BY created_at, id`),
      workload: p(`SELECT assignee_id, count(*) AS n FROM incidents WHERE assignee_id IS NOT NULL AND status IN (${OPEN}) GROUP BY assignee_id`),
      setPosition: p(`INSERT INTO responder_positions (id, lon, lat, at) VALUES (?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET lon = excluded.lon, lat = excluded.lat, at = excluded.at WHERE excluded.at >= responder_positions.at`),
      positions: p(`SELECT id, lon, lat, at FROM responder_positions`),
      overdue: p(`SELECT * FROM incidents WHERE status IN (${OPEN}) AND deadline IS NOT NULL AND deadline < ? ORDER BY deadline, id`),
      audit: p(`INSERT INTO audit_log (at, actor, action, entity, entity_id, detail) VALUES (?, ?, ?, ?, ?, ?)`),
    };
  }

  private writeAudit(e: AuditEntry): void {
    this.st.audit.run(e.at, JSON.stringify(e.actor), e.action, e.entity, e.entityId, JSON.stringify(e.detail));
  }

  private insertTransition(t: Transition): void {
    this.st.insertTransition.run(t.incidentId, t.seq, t.action, t.from, t.to, JSON.stringify(t.actor), t.at, t.reason, JSON.stringify(t.data));
  }

  private getRow(id: string): Incident | null {
    const r = this.st.getIncident.get(id) as Row | undefined;
    return r ? incidentFromRow(r) : null;
  }

  async create(incident: Incident, first: Transition, opts: { idempotencyKey?: string; requestHash?: string } = {}) {
    checkFirst(incident, first);
    const hash = opts.requestHash ?? '';
    return this.db.transaction((): { incident: Incident; created: boolean } => {
      if (opts.idempotencyKey !== undefined) {
        const k = this.st.getKey.get(opts.idempotencyKey) as { request_hash: string; incident_id: string } | undefined;
        if (k) {
          if (k.request_hash !== hash) throw new IdempotencyConflict();
          return { incident: this.getRow(k.incident_id)!, created: false };
        }
      }
      this.st.insertIncident.run(...incidentValues(incident));
      this.insertTransition(first);
      if (opts.idempotencyKey !== undefined) this.st.insertKey.run(opts.idempotencyKey, hash, incident.id, first.at);
      this.writeAudit(transitionAudit(incident, first));
      return { incident: this.getRow(incident.id)!, created: true };
    }).immediate();
  }

  async update(next: Incident, expectedVersion: number, t: Omit<Transition, 'seq'>) {
    checkUpdateArgs(next, expectedVersion, t);
    return this.db.transaction(() => {
      const cur = this.getRow(next.id);
      if (!cur) throw new IncidentNotFound(next.id);
      if (cur.version !== expectedVersion) throw new VersionConflict(cur);
      const values = incidentValues(next);
      this.st.updateIncident.run(...values.slice(1), next.id);
      const seq = (this.st.lastSeq.get(next.id) as { s: number }).s + 1;
      const transition: Transition = { ...t, seq };
      this.insertTransition(transition);
      this.writeAudit(transitionAudit(next, transition));
      return { incident: this.getRow(next.id)!, transition };
    }).immediate();
  }

  async get(id: string) {
    return this.getRow(id);
  }

  async list(f: IncidentFilter, now = Date.now()) {
    const { limit, offset } = checkLimit(f);
    const params: unknown[] = [];
    const where = listWhere(f, now, (v) => { params.push(v); return '?'; });
    // One read transaction so total and items come from the same snapshot.
    return this.db.transaction(() => {
      const total = (this.db.prepare(`SELECT count(*) AS n FROM incidents ${where}`).get(...params) as { n: number }).n;
      const rows = this.db.prepare(`SELECT * FROM incidents ${where} ORDER BY updated_at DESC, id LIMIT ? OFFSET ?`)
        .all(...params, limit, offset) as Row[];
      return { total, items: rows.map(incidentFromRow) };
    }).deferred();
  }

  async transitions(id: string) {
    return (this.st.transitions.all(id) as Row[]).map(transitionFromRow);
  }

  async nextSeq(day: string) {
    if (!/^\d{8}$/.test(day)) throw new RangeError(`nextSeq(): day must be YYYYMMDD (got ${JSON.stringify(day)})`);
    return (this.st.nextSeq.get(day) as { seq: number }).seq;
  }

  async addAttachment(meta: Omit<Attachment, 'id' | 'bytes' | 'sha256' | 'createdAt'>, data: Uint8Array, at: number, actor: Actor) {
    const a: Attachment = {
      id: randomUUID(), incidentId: meta.incidentId, kind: meta.kind, mime: meta.mime,
      bytes: data.byteLength, sha256: createHash('sha256').update(data).digest('hex'), createdAt: at,
    };
    this.db.transaction(() => {
      if (!this.st.getIncident.get(a.incidentId)) throw new IncidentNotFound(a.incidentId);
      this.st.insertAttachment.run(a.id, a.incidentId, a.kind, a.mime, a.bytes, a.sha256, a.createdAt, data);
      this.writeAudit({ at, actor, action: 'attach', entity: 'attachment', entityId: a.id,
        detail: { incidentId: a.incidentId, kind: a.kind, mime: a.mime, bytes: a.bytes, sha256: a.sha256 } });
    }).immediate();
    return a;
  }

  async getAttachment(id: string) {
    const r = this.st.getAttachment.get(id) as Row | undefined;
    return r ? { meta: attachmentFromRow(r), data: plainBytes(r.data as Uint8Array) } : null;
  }

  async attachments(incidentId: string) {
    return (this.st.attachments.all(incidentId) as Row[]).map(attachmentFromRow);
  }

  async workload() {
    const m = new Map<string, number>();
    for (const r of this.st.workload.all() as { assignee_id: string; n: number }[]) m.set(r.assignee_id, r.n);
    return m;
  }

  async setResponderPosition(id: string, lon: number, lat: number, at: number) {
    this.st.setPosition.run(id, lon, lat, at);
  }

  async responderPositions() {
    const m = new Map<string, { lon: number; lat: number; at: number }>();
    for (const r of this.st.positions.all() as { id: string; lon: number; lat: number; at: number }[]) m.set(r.id, { lon: r.lon, lat: r.lat, at: r.at });
    return m;
  }

  async overdue(t: number) {
    return (this.st.overdue.all(t) as Row[]).map(incidentFromRow);
  }

  async audit(e: AuditEntry) {
    this.writeAudit(e);
  }

  async auditLog(f: { entity?: string; entityId?: string; limit: number }) {
    const w: string[] = [], params: unknown[] = [];
    if (f.entity !== undefined) { w.push('entity = ?'); params.push(f.entity); }
    if (f.entityId !== undefined) { w.push('entity_id = ?'); params.push(f.entityId); }
    const rows = this.db.prepare(`SELECT * FROM audit_log ${w.length ? `WHERE ${w.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`)
      .all(...params, Math.max(0, Math.trunc(f.limit))) as Row[];
    return rows.map(auditFromRow);
  }

  async purgeEndedBefore(cutoff: number): Promise<IncidentPurge> {
    const out: IncidentPurge = { incidents: 0, transitions: 0, attachments: 0, idempotencyKeys: 0, auditRows: 0 };
    const steps = purgeStatements((name) => name, '@cutoff').map((x) => ({ key: x.key, st: this.db.prepare(x.sql) }));
    this.db.transaction(() => { for (const x of steps) out[x.key] = x.st.run({ cutoff }).changes; }).immediate();
    return out;
  }

  async close() {
    if (this.db.open) this.db.close();
  }
}
