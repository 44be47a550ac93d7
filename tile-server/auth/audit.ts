// The security audit (issue 9 item 2: "an audit log of who saw and changed what"): sign-in ok/failed/locked,
// sign-out, user changes, unmasking with its reason, and every response that carried personal data in full.
// Edits are audited by the edit store (tile-server/editing); GET /api/audit (admin) shows both.
// Two engines behind one interface, as the other stores: SQLite (WAL, synchronous=FULL) by default, PostgreSQL
// schema `security` when a database URL is given; versioned with the incidents' migration runner.
// Writes never fail a request: the audit of an answer that was already allowed must not turn it into a 500,
// so record() logs and swallows errors (the caller passes `log`).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, resolve } from 'node:path';
import { badRequest, HttpError, sendJson } from '../http-errors.ts';
import type { Migration } from '../incidents/migrations.ts';

export const SECURITY_ACTIONS = [
  'sign_in', 'sign_in_failed', 'account_locked', 'sign_out', 'session_expired',
  'user_created', 'user_changed', 'user_deleted', 'password_reset',
  'unmask', 'unmask_refused', 'view_personal',
  // Sharing of graded layers (issue 10, tile-server/sharing): a request filed, approved, refused, revoked.
  'share_request', 'share_approve', 'share_refuse', 'share_revoke',
  // Retention (issue 10, tile-server/lifecycle): one event per purge run, with what each rule deleted.
  'purge',
] as const;
export type SecurityAction = (typeof SECURITY_ACTIONS)[number];

export interface SecurityEvent {
  seq: number;
  /** ms since epoch */
  at: number;
  action: SecurityAction;
  /** 'role:id' of the signed-in actor, or the user name tried at a failed sign-in; null when unknown. */
  actor: string | null;
  /** What was seen or changed: a path, 'layer:id', a user name. */
  target: string | null;
  /** The unmask reason as given. */
  reason: string | null;
  ip: string | null;
  detail: Record<string, unknown>;
}
export type NewSecurityEvent = Omit<SecurityEvent, 'seq' | 'at' | 'target' | 'reason' | 'ip' | 'detail'>
  & Partial<Pick<SecurityEvent, 'at' | 'target' | 'reason' | 'ip' | 'detail'>>;

export interface SecurityAuditFilter { action?: SecurityAction; actor?: string; since?: number; limit: number }

export interface SecurityAuditStore {
  readonly kind: 'sqlite' | 'postgres';
  append(e: NewSecurityEvent): Promise<SecurityEvent>;
  /** Newest first. */
  list(f: SecurityAuditFilter): Promise<SecurityEvent[]>;
  /** Retention (issue 10, tile-server/lifecycle): deletes events with at < cutoff; the rows deleted. */
  purgeBefore(cutoff: number): Promise<number>;
  close(): Promise<void>;
}

export const SECURITY_MIGRATIONS: readonly Migration[] = [{
  version: 1,
  name: 'security audit log',
  sqlite: `
    CREATE TABLE security_audit (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, action TEXT NOT NULL, actor TEXT,
      target TEXT, reason TEXT, ip TEXT, detail TEXT NOT NULL
    );
    CREATE INDEX security_audit_at ON security_audit (at);
    CREATE INDEX security_audit_actor ON security_audit (actor, at);`,
  postgres: `
    CREATE TABLE {s}.security_audit (
      seq bigserial PRIMARY KEY, at bigint NOT NULL, action text NOT NULL, actor text,
      target text, reason text, ip text, detail jsonb NOT NULL
    );
    CREATE INDEX security_audit_at ON {s}.security_audit (at);
    CREATE INDEX security_audit_actor ON {s}.security_audit (actor, at);`,
}];

const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
function fromRow(r: Record<string, unknown>): SecurityEvent {
  const d = r.detail;
  return {
    seq: Number(r.seq), at: Number(r.at), action: String(r.action) as SecurityAction, actor: str(r.actor),
    target: str(r.target), reason: str(r.reason), ip: str(r.ip),
    detail: typeof d === 'string' ? JSON.parse(d) as Record<string, unknown> : (d as Record<string, unknown>) ?? {},
  };
}
function row(e: NewSecurityEvent, now: number) {
  return [e.at ?? now, e.action, e.actor, e.target ?? null, e.reason ?? null, e.ip ?? null, JSON.stringify(e.detail ?? {})] as const;
}

// ------------------------------------------------------------------------------------------ SQLite

export async function openSqliteSecurityAudit(file: string, clock: () => number = Date.now): Promise<SecurityAuditStore> {
  const { openMigratedSqlite } = await import('../incidents/sqlite-store.ts');
  const db = openMigratedSqlite(file, SECURITY_MIGRATIONS, { zh: '安全审计库', en: 'security audit database', hint: 'Check that the directory is writable, or set ONEMAP_AUDIT_FILE.' });
  const insert = db.prepare(`INSERT INTO security_audit (at, action, actor, target, reason, ip, detail) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`);
  return {
    kind: 'sqlite',
    async append(e) { return fromRow(insert.get(...row(e, clock())) as Record<string, unknown>); },
    async list(f) {
      const where: string[] = [], args: unknown[] = [];
      if (f.action) { where.push('action = ?'); args.push(f.action); }
      if (f.actor) { where.push('actor = ?'); args.push(f.actor); }
      if (f.since !== undefined) { where.push('at >= ?'); args.push(f.since); }
      const sql = `SELECT * FROM security_audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
      return (db.prepare(sql).all(...args, f.limit) as Record<string, unknown>[]).map(fromRow);
    },
    async purgeBefore(cutoff) { return db.prepare(`DELETE FROM security_audit WHERE at < ?`).run(cutoff).changes; },
    async close() { db.close(); },
  };
}

// ------------------------------------------------------------------------------------------ PostgreSQL

export async function openPgSecurityAudit(databaseUrl: string, opts: { schema?: string; clock?: () => number } = {}): Promise<SecurityAuditStore> {
  const { openMigratedPg } = await import('../incidents/pg-store.ts');
  const schema = opts.schema ?? 'security';
  const clock = opts.clock ?? Date.now;
  const pool = await openMigratedPg(databaseUrl, { schema, migrations: SECURITY_MIGRATIONS, max: 2, name: { zh: '安全审计库', en: 'security audit' } });
  const s = `"${schema}"`;
  return {
    kind: 'postgres',
    async append(e) {
      const r = await pool.query(`INSERT INTO ${s}.security_audit (at, action, actor, target, reason, ip, detail) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) RETURNING *`, [...row(e, clock())]);
      return fromRow(r.rows[0]);
    },
    async list(f) {
      const where: string[] = [], args: unknown[] = [];
      if (f.action) { args.push(f.action); where.push(`action = $${args.length}`); }
      if (f.actor) { args.push(f.actor); where.push(`actor = $${args.length}`); }
      if (f.since !== undefined) { args.push(f.since); where.push(`at >= $${args.length}`); }
      args.push(f.limit);
      const r = await pool.query(`SELECT * FROM ${s}.security_audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT $${args.length}`, args);
      return r.rows.map(fromRow);
    },
    async purgeBefore(cutoff) { return (await pool.query(`DELETE FROM ${s}.security_audit WHERE at < $1`, [cutoff])).rowCount ?? 0; },
    async close() { await pool.end(); },
  };
}

/** `ONEMAP_AUDIT_FILE`, else security-audit.sqlite beside `nextTo` (the incidents' file), else var/security-audit.sqlite. */
export function defaultAuditFile(nextTo?: string): string {
  if (process.env.ONEMAP_AUDIT_FILE) return process.env.ONEMAP_AUDIT_FILE;
  if (nextTo && nextTo !== ':memory:') return resolve(dirname(resolve(nextTo)), 'security-audit.sqlite');
  return resolve(import.meta.dirname, '../../var/security-audit.sqlite');
}

export async function openSecurityAudit(opts: { databaseUrl?: string | null; file?: string; clock?: () => number }): Promise<SecurityAuditStore> {
  if (opts.databaseUrl) return openPgSecurityAudit(opts.databaseUrl, { clock: opts.clock });
  return openSqliteSecurityAudit(opts.file ?? defaultAuditFile(), opts.clock);
}

// ------------------------------------------------------------------------------------------ recording

/**
 * What request handlers hold: records without awaiting and without failing the request. `store` may be a
 * promise (the store opens while the server already listens); until it resolves, events wait for it.
 */
export class SecurityAudit {
  private pending = new Set<Promise<unknown>>();
  constructor(private readonly store: Promise<SecurityAuditStore>, private readonly log: (msg: string) => void = () => {}) {
    store.catch((err: unknown) => log(`security audit unavailable: ${(err as Error).message}`));
  }

  record(e: NewSecurityEvent): void {
    const p = this.store.then((s) => s.append(e)).catch((err: unknown) => this.log(`security audit: could not record ${e.action}: ${(err as Error).message}`));
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Resolves when every event recorded so far is written (tests, shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  async list(f: SecurityAuditFilter): Promise<SecurityEvent[]> {
    await this.flush();
    return (await this.store).list(f);
  }

  /** Retention: deletes the events recorded before `cutoff` (after writing the pending ones). */
  async purgeBefore(cutoff: number): Promise<number> {
    await this.flush();
    return (await this.store).purgeBefore(cutoff);
  }

  async close(): Promise<void> {
    await this.flush();
    await (await this.store.catch(() => null))?.close();
  }
}

/** The client address for the audit: the socket's (X-Forwarded-For is not trusted: any client can send it). */
export function ipOf(req: IncomingMessage): string | null {
  return req.socket?.remoteAddress ?? null;
}

// ------------------------------------------------------------------------------------------ GET /api/audit

export const AUDIT_LIMIT = { def: 100, max: 1000 } as const;
const ACTOR_RE = /^[a-z_]{1,20}:[A-Za-z0-9_.:@-]{1,64}$/;

/** An edit audit entry as the edit service lists it (tile-server/editing/edit-store.ts AuditEntry). */
export interface EditAuditEntry { seq: number; at: number; actor: string; action: string; layer: string | null; id: string | null; detail: Record<string, unknown> }
export interface EditAuditSource { audit(f: { layer?: string; actor?: string; since?: number; limit?: number }): Promise<EditAuditEntry[]> }

export interface AuditQuery { kind: 'edit' | 'security' | 'all'; layer?: string; actor?: string; action?: SecurityAction; since?: number; limit: number }

/**
 * GET /api/audit?kind=edit|security|all&layer=&actor=&action=&since=&limit=
 * kind defaults to `edit` (what the route returned before issue 9), or `security` when `action` is given.
 * `layer` applies to edits only, `action` to security events only.
 */
export function parseAuditQuery(q: URLSearchParams): AuditQuery {
  for (const k of q.keys()) {
    if (!['kind', 'layer', 'actor', 'action', 'since', 'limit'].includes(k)) throw badRequest('unknown_param', `不认识的参数「${k.slice(0, 40)}」；可用：kind, layer, actor, action, since, limit。Unknown parameter; allowed: kind, layer, actor, action, since, limit.`);
  }
  const kind = q.get('kind'), layer = q.get('layer'), actor = q.get('actor'), action = q.get('action'), since = q.get('since'), limit = q.get('limit');
  const out: AuditQuery = { kind: 'edit', limit: AUDIT_LIMIT.def };
  if (action !== null) {
    if (!(SECURITY_ACTIONS as readonly string[]).includes(action)) throw badRequest('bad_action', `action 须为 ${SECURITY_ACTIONS.join('、')} 之一。action must be one of ${SECURITY_ACTIONS.join(', ')}.`);
    out.action = action as SecurityAction;
    out.kind = 'security';
  }
  if (kind !== null) {
    if (kind !== 'edit' && kind !== 'security' && kind !== 'all') throw badRequest('bad_kind', 'kind 须为 edit（编辑）、security（安全：登录、查看明文等）或 all。kind must be edit, security or all.');
    out.kind = kind;
  }
  if (layer !== null) { if (!/^[a-z0-9_]{1,64}$/.test(layer)) throw badRequest('bad_layer', 'layer 须为图层标识（小写字母、数字、_）。layer must be a layer id.'); out.layer = layer; }
  if (actor !== null) { if (!ACTOR_RE.test(actor)) throw badRequest('bad_actor', 'actor 须为「角色:标识」，如 planner:p-01。actor must be role:id.'); out.actor = actor; }
  if (since !== null) {
    const t = /^\d{1,15}$/.test(since) ? Number(since) : Date.parse(since);
    if (!Number.isFinite(t)) throw badRequest('bad_since', 'since 须为毫秒时间戳或 ISO 8601 时间。since must be ms since epoch or ISO 8601.');
    out.since = t;
  }
  if (limit !== null) {
    if (!/^\d{1,5}$/.test(limit) || Number(limit) < 1 || Number(limit) > AUDIT_LIMIT.max) throw badRequest('bad_limit', `limit 须为 1–${AUDIT_LIMIT.max} 的整数。limit must be 1–${AUDIT_LIMIT.max}.`);
    out.limit = Number(limit);
  }
  return out;
}

export type AuditItem = (EditAuditEntry & { kind: 'edit' }) | (SecurityEvent & { kind: 'security' });

/** The audit items for a query, newest first, each marked with its kind. */
export async function listAudit(q: AuditQuery, security: SecurityAudit | undefined, edits: EditAuditSource | undefined): Promise<AuditItem[]> {
  const out: AuditItem[] = [];
  if (q.kind !== 'security') {
    if (!edits) {
      if (q.kind === 'edit') throw new HttpError(503, 'editing_unavailable', '编辑审计暂不可用（编辑库未打开，见服务日志）。The edit audit is unavailable: the edit store did not open (see the server log).');
    } else {
      for (const e of await edits.audit({ layer: q.layer, actor: q.actor, since: q.since, limit: q.limit })) out.push({ ...e, kind: 'edit' });
    }
  }
  if (q.kind !== 'edit' && !(q.layer && q.kind === 'all')) {
    if (!security) throw new HttpError(503, 'audit_unavailable', '安全审计暂不可用（见服务日志）。The security audit is unavailable (see the server log).');
    for (const e of await security.list({ action: q.action, actor: q.actor, since: q.since, limit: q.limit })) out.push({ ...e, kind: 'security' });
  }
  out.sort((a, b) => b.at - a.at || (a.kind === b.kind ? b.seq - a.seq : a.kind === 'security' ? -1 : 1));
  return out.slice(0, q.limit);
}

/** GET /api/audit. The router's policy admits admins only; this answers. */
export async function handleAudit(req: IncomingMessage, res: ServerResponse, query: string, head: boolean,
  deps: { security?: SecurityAudit; edits?: () => Promise<EditAuditSource> }): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method_not_allowed', '审计日志只读：请用 GET。The audit log is read-only: use GET.', { Allow: 'GET, HEAD' });
  const q = parseAuditQuery(new URLSearchParams(query));
  let edits: EditAuditSource | undefined;
  if (q.kind !== 'security' && deps.edits) edits = await deps.edits().catch(() => undefined);
  sendJson(res, { items: await listAudit(q, deps.security, edits) }, { head, cacheControl: 'no-store' });
}
