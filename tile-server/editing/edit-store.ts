// The edit store contract (issue 8) and the factory picking SQLite (default) or PostgreSQL. Both keep every
// version of every edited feature; a commit is all-or-nothing and checks each item's expected version against
// the latest stored one, so of two concurrent saves based on the same version exactly one wins.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EditFeature, EditOp, FeatureVersion } from '../../layers/editing/model.ts';
import { FieldCipher } from '../crypto/field-cipher.ts';

/** The stored version is not the one the caller based its change on; `current` is what is stored (null: none). */
export class EditConflictError extends Error {
  constructor(readonly layer: string, readonly id: string, readonly current: FeatureVersion | null) {
    super(`要素 ${layer}/${id} 已被修改（当前版本 ${current?.version ?? 0}），请刷新后合并再保存 / ` +
      `feature ${layer}/${id} changed meanwhile (now version ${current?.version ?? 0}); reload, merge and save again`);
    this.name = 'EditConflictError';
  }
}

export interface CommitItem { layer: string; id: string; expectVersion: number; next: EditFeature | null; op: EditOp; actor: string; comment?: string }
export interface AuditEntry { seq: number; at: number; actor: string; action: string; layer: string | null; id: string | null; detail: Record<string, unknown> }

export interface EditStore {
  readonly kind: 'sqlite' | 'postgres';
  /** All or every layer's latest version of each edited feature (tombstones included), seq order. */
  current(layer?: string): Promise<FeatureVersion[]>;
  latest(layer: string, id: string): Promise<FeatureVersion | null>;
  /** Oldest first. */
  history(layer: string, id: string): Promise<FeatureVersion[]>;
  /** All-or-nothing: every item's expectVersion must equal its latest stored version (0 when none), else
   *  EditConflictError, nothing written. Addition to the pinned signature: `audit`, written in the same
   *  transaction (so the audit log never misses a commit nor records one that did not happen). */
  commit(items: CommitItem[], at: number, audit?: Omit<AuditEntry, 'seq' | 'at'>): Promise<FeatureVersion[]>;
  /** Versions with seq > `seq`, seq order (other processes' commits, e.g. `npm run import`). */
  changesSince(seq: number, limit: number): Promise<FeatureVersion[]>;
  maxSeq(): Promise<number>;
  addAudit(e: Omit<AuditEntry, 'seq'>): Promise<void>;
  /** Newest first. */
  audit(f: { layer?: string; actor?: string; since?: number; limit: number }): Promise<AuditEntry[]>;
  close(): Promise<void>;
}

/** Programming errors in commit() arguments (not conflicts): duplicate items, bad versions, feature/op mismatch. */
export function checkCommitItems(items: readonly CommitItem[]): void {
  const seen = new Set<string>();
  for (const it of items) {
    const k = `${it.layer}\u0000${it.id}`;
    if (seen.has(k)) throw new Error(`commit(): ${it.layer}/${it.id} appears twice; one version per feature per commit`);
    seen.add(k);
    if (!Number.isSafeInteger(it.expectVersion) || it.expectVersion < 0) throw new Error(`commit(): expectVersion of ${it.layer}/${it.id} must be an integer ≥ 0`);
    // A tombstone is a delete, or an import's delete; a delete always is one.
    if (it.op === 'delete' ? it.next !== null : it.next === null && it.op !== 'import') throw new Error(`commit(): ${it.layer}/${it.id}: next must be null for op 'delete' (or an import's delete) and only then`);
    if (it.next && it.next.id !== it.id) throw new Error(`commit(): feature id ${it.next.id} differs from item id ${it.id}`);
  }
}

/** PostgreSQL returns bigint as text and jsonb parsed; SQLite numbers, 0/1 and JSON text. */
const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;

export function versionFromRow(r: Record<string, unknown>): FeatureVersion {
  const out: FeatureVersion = {
    layer: String(r.layer), id: String(r.id), version: Number(r.version), deleted: r.deleted === true || r.deleted === 1,
    feature: r.feature === null || r.feature === undefined ? null : json<EditFeature>(r.feature),
    op: r.op as EditOp, actor: String(r.actor), at: Number(r.at), seq: Number(r.seq),
  };
  if (r.comment !== null && r.comment !== undefined) out.comment = String(r.comment);
  return out;
}

export function auditFromRow(r: Record<string, unknown>): AuditEntry {
  return {
    seq: Number(r.seq), at: Number(r.at), actor: String(r.actor), action: String(r.action),
    layer: r.layer === null ? null : String(r.layer), id: r.id === null ? null : String(r.id), detail: json<Record<string, unknown>>(r.detail),
  };
}

/** The version a commit item stores (seq filled in by the engine). */
export function versionOf(it: CommitItem, at: number, seq: number): FeatureVersion {
  const v: FeatureVersion = {
    layer: it.layer, id: it.id, version: it.expectVersion + 1, deleted: it.next === null, feature: it.next,
    op: it.op, actor: it.actor, at, seq,
  };
  if (it.comment !== undefined) v.comment = it.comment;
  return v;
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** `ONEMAP_EDITS_FILE`, else `var/edits.sqlite` under the repo (git-ignored). */
export function defaultEditDbFile(): string {
  return process.env.ONEMAP_EDITS_FILE || resolve(REPO_ROOT, 'var/edits.sqlite');
}

/** SQLite (WAL, synchronous=FULL) by default; PostgreSQL schema `editing` when databaseUrl is given. Runs migrations.
 *  Sensitive and core fields are encrypted at rest (tile-server/crypto, issue 10) with `cipher`, by default the data
 *  key from the environment (ONEMAP_DATA_KEY / ONEMAP_DATA_KEY_FILE / var/keys/data.key); null = stored plain. */
export async function openEditStore(opts: { databaseUrl?: string | null; file?: string; schema?: string; cipher?: FieldCipher | null }): Promise<EditStore> {
  const store = await openEngine(opts);
  const cipher = opts.cipher === undefined ? FieldCipher.fromEnv() : opts.cipher;
  if (!cipher) return store;
  const { encryptingEditStore } = await import('../crypto/encrypted-edit-store.ts');
  return encryptingEditStore(store, cipher);
}

async function openEngine(opts: { databaseUrl?: string | null; file?: string; schema?: string }): Promise<EditStore> {
  if (opts.databaseUrl) {
    const { openPgEditStore } = await import('./pg-edit-store.ts');
    return openPgEditStore(opts.databaseUrl, { schema: opts.schema });
  }
  const file = opts.file ?? defaultEditDbFile();
  if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
  const { openSqliteEditStore } = await import('./sqlite-edit-store.ts');
  return openSqliteEditStore(file);
}
