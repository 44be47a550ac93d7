// The incident store contract (pinned in issue 6) and the factory that picks SQLite or PostgreSQL.
// Both implementations run every mutation in one transaction and append an audit row with it.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FieldCipher } from '../crypto/field-cipher.ts';
import { INCIDENT_STATUSES, OPEN_STATUSES, type Actor, type Attachment, type Incident, type IncidentFilter, type Transition } from '../../layers/incidents/model.ts';

export interface AuditEntry { id?: number; at: number; actor: Actor; action: string; entity: 'incident' | 'attachment' | 'responder'; entityId: string; detail: Record<string, unknown> }

export interface IncidentStore {
  readonly kind: 'sqlite' | 'postgres';
  /** One transaction: the incident row, its first transition (seq 1, action 'report') and an audit row. With an
   *  idempotency key already used: same requestHash → { existing incident, created: false }; another hash → IdempotencyConflict. */
  create(incident: Incident, first: Transition, opts?: { idempotencyKey?: string; requestHash?: string }): Promise<{ incident: Incident; created: boolean }>;
  /** One transaction: fails with VersionConflict(current) unless the stored version === expectedVersion; writes `next`
   *  (whose version must be expectedVersion + 1), appends the transition (seq = previous + 1) and an audit row. */
  update(next: Incident, expectedVersion: number, t: Omit<Transition, 'seq'>): Promise<{ incident: Incident; transition: Transition }>;
  get(id: string): Promise<Incident | null>;
  /** Newest updatedAt first, then id. `now` (default Date.now()) is the clock for `f.overdue` — an addition to the
   *  pinned signature so a service with a fake clock gets consistent answers. */
  list(f: IncidentFilter, now?: number): Promise<{ total: number; items: Incident[] }>;
  transitions(id: string): Promise<Transition[]>;                          // by seq
  /** Atomic per-day counter for case codes: 1, 2, … for day 'YYYYMMDD'. */
  nextSeq(day: string): Promise<number>;
  addAttachment(meta: Omit<Attachment, 'id' | 'bytes' | 'sha256' | 'createdAt'>, data: Uint8Array, at: number, actor: Actor): Promise<Attachment>;
  getAttachment(id: string): Promise<{ meta: Attachment; data: Uint8Array } | null>;
  attachments(incidentId: string): Promise<Attachment[]>;
  /** Open incidents (OPEN_STATUSES) assigned per responder id. */
  workload(): Promise<Map<string, number>>;
  setResponderPosition(id: string, lon: number, lat: number, at: number): Promise<void>;
  responderPositions(): Promise<Map<string, { lon: number; lat: number; at: number }>>;
  /** Open incidents whose deadline < t (for the sweeper). */
  overdue(t: number): Promise<Incident[]>;
  audit(e: AuditEntry): Promise<void>;
  auditLog(f: { entity?: string; entityId?: string; limit: number }): Promise<AuditEntry[]>;
  /** Retention (issue 10, tile-server/lifecycle): deletes, in one transaction, the incidents that ended (closed,
   *  rejected, merged) before `cutoff` — by closedAt, else updatedAt — with their transitions, attachments,
   *  idempotency keys and audit rows. Open incidents are never deleted. */
  purgeEndedBefore(cutoff: number): Promise<IncidentPurge>;
  close(): Promise<void>;
}

/** Rows deleted by purgeEndedBefore, per table. */
export interface IncidentPurge { incidents: number; transitions: number; attachments: number; idempotencyKeys: number; auditRows: number }

/** The statuses an incident ends in (never reopened): the ones retention may delete. */
export const ENDED_STATUSES = INCIDENT_STATUSES.filter((st) => !OPEN_STATUSES.includes(st));

/**
 * The purge's statements for either engine, in order (children before the incidents they reference). `t(name)` is
 * the table's qualified name, `p` the cutoff's placeholder (each statement has exactly one parameter).
 */
export function purgeStatements(t: (name: string) => string, p: string): { key: keyof IncidentPurge; sql: string }[] {
  const ended = ENDED_STATUSES.map((st) => `'${st}'`).join(', ');
  const doomed = `SELECT id FROM ${t('incidents')} WHERE status IN (${ended}) AND coalesce(closed_at, updated_at) < ${p}`;
  return [
    { key: 'auditRows', sql: `DELETE FROM ${t('audit_log')} WHERE (entity = 'incident' AND entity_id IN (${doomed}))
      OR (entity = 'attachment' AND entity_id IN (SELECT id FROM ${t('attachments')} WHERE incident_id IN (${doomed})))` },
    { key: 'attachments', sql: `DELETE FROM ${t('attachments')} WHERE incident_id IN (${doomed})` },
    { key: 'transitions', sql: `DELETE FROM ${t('transitions')} WHERE incident_id IN (${doomed})` },
    { key: 'idempotencyKeys', sql: `DELETE FROM ${t('idempotency_keys')} WHERE incident_id IN (${doomed})` },
    { key: 'incidents', sql: `DELETE FROM ${t('incidents')} WHERE id IN (${doomed})` },
  ];
}

/** The stored version differs from the one the caller read; `current` is what is stored now. */
export class VersionConflict extends Error {
  constructor(readonly current: Incident) {
    super(`事件 ${current.id} 已被他人修改（当前版本 ${current.version}），请刷新后重试 / incident ${current.id} changed (version ${current.version}); reload and retry`);
    this.name = 'VersionConflict';
  }
}

/** The idempotency key was already used for a different request body. */
export class IdempotencyConflict extends Error {
  constructor(message = '幂等键已用于另一个请求，请换一个键 / idempotency key already used with a different request; use a new key') {
    super(message);
    this.name = 'IdempotencyConflict';
  }
}

/** Thrown by update() for an id that is not stored. */
export class IncidentNotFound extends Error {
  constructor(readonly id: string) {
    super(`事件 ${id} 不存在 / incident ${id} not found`);
    this.name = 'IncidentNotFound';
  }
}

// ---- Row mapping shared by both engines (snake_case columns, see migrations.ts) ----

/** Incident fields in column order. */
export const INCIDENT_FIELDS: readonly (readonly [keyof Incident, string])[] = [
  ['id', 'id'], ['code', 'code'], ['status', 'status'], ['level', 'level'], ['category', 'category'],
  ['categoryName', 'category_name'], ['severity', 'severity'], ['source', 'source'], ['title', 'title'],
  ['description', 'description'], ['lon', 'lon'], ['lat', 'lat'], ['address', 'address'], ['addressCode', 'address_code'],
  ['gridCode', 'grid_code'], ['villageCode', 'village_code'], ['townCode', 'town_code'], ['department', 'department'],
  ['assigneeId', 'assignee_id'], ['handlerId', 'handler_id'], ['reporter', 'reporter'], ['mergedInto', 'merged_into'],
  ['deadline', 'deadline'], ['supervisions', 'supervisions'], ['createdAt', 'created_at'], ['updatedAt', 'updated_at'],
  ['closedAt', 'closed_at'], ['version', 'version'],
];
const NUMERIC = new Set<keyof Incident>(['severity', 'lon', 'lat', 'deadline', 'supervisions', 'createdAt', 'updatedAt', 'closedAt', 'version']);

/** Parameter values in INCIDENT_FIELDS order; JSON as text (SQLite TEXT; PostgreSQL casts it to jsonb). */
export function incidentValues(i: Incident): unknown[] {
  return INCIDENT_FIELDS.map(([f]) => f === 'reporter' ? JSON.stringify(i.reporter) : (i[f] ?? null));
}

/** PostgreSQL returns bigint as text and jsonb parsed; SQLite returns numbers and JSON text. */
const num = (v: unknown): number | null => v === null || v === undefined ? null : Number(v);
const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;

export function incidentFromRow(row: Record<string, unknown>): Incident {
  const out: Record<string, unknown> = {};
  for (const [f, c] of INCIDENT_FIELDS) {
    const v = row[c];
    out[f] = f === 'reporter' ? json<Actor>(v) : NUMERIC.has(f) ? num(v) : (v ?? null);
  }
  return out as unknown as Incident;
}

export function transitionFromRow(row: Record<string, unknown>): Transition {
  return {
    incidentId: String(row.incident_id), seq: Number(row.seq), action: row.action as Transition['action'],
    from: (row.from_status ?? null) as Transition['from'], to: row.to_status as Transition['to'],
    actor: json<Actor>(row.actor), at: Number(row.at), reason: (row.reason ?? null) as string | null,
    data: json<Record<string, unknown>>(row.data),
  };
}

export function attachmentFromRow(row: Record<string, unknown>): Attachment {
  return {
    id: String(row.id), incidentId: String(row.incident_id), kind: row.kind as Attachment['kind'],
    mime: row.mime as Attachment['mime'], bytes: Number(row.bytes), sha256: String(row.sha256), createdAt: Number(row.created_at),
  };
}

export function auditFromRow(row: Record<string, unknown>): AuditEntry {
  return {
    id: Number(row.id), at: Number(row.at), actor: json<Actor>(row.actor), action: String(row.action),
    entity: row.entity as AuditEntry['entity'], entityId: String(row.entity_id), detail: json<Record<string, unknown>>(row.detail),
  };
}

/** A Buffer from either driver as a plain Uint8Array over the same bytes. */
export function plainBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** The audit row written with each incident change (same shape on both engines). */
export function transitionAudit(next: Incident, t: Transition): AuditEntry {
  return {
    at: t.at, actor: t.actor, action: t.action, entity: 'incident', entityId: next.id,
    detail: { seq: t.seq, from: t.from, to: t.to, version: next.version, code: next.code, reason: t.reason, data: t.data },
  };
}

/** Checks the caller's side of update(): programming errors, not conflicts. */
export function checkUpdateArgs(next: Incident, expectedVersion: number, t: Omit<Transition, 'seq'>): void {
  if (next.version !== expectedVersion + 1) {
    throw new Error(`update(): next.version must be expectedVersion + 1 (got ${next.version} for expected ${expectedVersion})`);
  }
  if (t.incidentId !== next.id) throw new Error(`update(): transition is for ${t.incidentId}, incident is ${next.id}`);
}

export function checkFirst(incident: Incident, first: Transition): void {
  if (first.incidentId !== incident.id || first.seq !== 1 || first.action !== 'report') {
    throw new Error(`create(): the first transition must be seq 1, action 'report', for incident ${incident.id}`);
  }
}

/** Incidents of OPEN_STATUSES, as SQL literals (constant, so safe to inline). */
export function openStatusList(): string {
  return OPEN_STATUSES.map((s) => `'${s}'`).join(', ');
}

/**
 * WHERE clause of list() for either engine; `ph(value)` adds a parameter and returns its placeholder.
 * overdue: open, with a deadline before `now` (the caller's clock; the service passes its own).
 */
export function listWhere(f: IncidentFilter, now: number, ph: (v: unknown) => string): string {
  const w: string[] = [];
  if (f.bbox) {
    const [minLon, minLat, maxLon, maxLat] = f.bbox;
    w.push(`lon BETWEEN ${ph(minLon)} AND ${ph(maxLon)} AND lat BETWEEN ${ph(minLat)} AND ${ph(maxLat)}`);
  }
  if (f.status && f.status.length) w.push(`status IN (${f.status.map((s) => ph(s)).join(', ')})`);
  if (f.grid !== undefined) w.push(`grid_code = ${ph(f.grid)}`);
  if (f.grids !== undefined) w.push(f.grids.length ? `grid_code IN (${f.grids.map((g) => ph(g)).join(', ')})` : '1 = 0');
  if (f.town !== undefined) w.push(`town_code = ${ph(f.town)}`);
  if (f.category !== undefined) w.push(`category = ${ph(f.category)}`);
  if (f.assignee !== undefined) w.push(`assignee_id = ${ph(f.assignee)}`);
  if (f.since !== undefined) w.push(`updated_at >= ${ph(f.since)}`);
  if (f.overdue !== undefined) {
    const od = `(status IN (${openStatusList()}) AND deadline IS NOT NULL AND deadline < ${ph(now)})`;
    w.push(f.overdue ? od : `NOT ${od}`);
  }
  return w.length ? `WHERE ${w.join(' AND ')}` : '';
}

export function checkLimit(f: IncidentFilter): { limit: number; offset: number } {
  const limit = Math.trunc(f.limit), offset = Math.trunc(f.offset ?? 0);
  if (!(limit >= 0) || !(offset >= 0)) throw new RangeError(`list(): limit and offset must be ≥ 0 (got ${f.limit}, ${f.offset})`);
  return { limit, offset };
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** `ONEMAP_DB_FILE`, else `var/onemap.sqlite` under the repo (git-ignored). */
export function defaultIncidentDbFile(): string {
  return process.env.ONEMAP_DB_FILE || resolve(REPO_ROOT, 'var/onemap.sqlite');
}

/** SQLite file (WAL, synchronous=FULL) by default; PostgreSQL when databaseUrl is given. Runs migrations.
 *  People's names (reporter, timeline actors) are encrypted at rest (tile-server/crypto, issue 10) with `cipher`, by
 *  default the data key from the environment (ONEMAP_DATA_KEY / ONEMAP_DATA_KEY_FILE / var/keys/data.key); null = plain. */
export async function openIncidentStore(opts: { databaseUrl?: string | null; file?: string; cipher?: FieldCipher | null }): Promise<IncidentStore> {
  const store = await openEngine(opts);
  const cipher = opts.cipher === undefined ? FieldCipher.fromEnv() : opts.cipher;
  if (!cipher) return store;
  const { encryptingIncidentStore } = await import('../crypto/encrypted-incident-store.ts');
  return encryptingIncidentStore(store, cipher);
}

async function openEngine(opts: { databaseUrl?: string | null; file?: string }): Promise<IncidentStore> {
  if (opts.databaseUrl) {
    const { openPgIncidentStore } = await import('./pg-store.ts');
    return openPgIncidentStore(opts.databaseUrl);
  }
  const file = opts.file ?? defaultIncidentDbFile();
  if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
  const { openSqliteIncidentStore } = await import('./sqlite-store.ts');
  return openSqliteIncidentStore(file);
}
