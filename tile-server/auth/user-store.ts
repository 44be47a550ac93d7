// The user and session store contract, with SQLite and PostgreSQL twins (like the incident and edit stores).
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DepartmentId, Role } from '../../layers/catalog.ts';

/** The roles a user can have ('public' is the anonymous visitor, never a user). */
export type UserRole = Exclude<Role, 'public'>;
export const USER_ROLES: readonly UserRole[] = ['admin', 'operator', 'grid_manager', 'planner', 'analyst'];

export interface UserRecord {
  username: string;
  role: UserRole;
  name: string;
  grids: string[] | null;
  layers: string[] | null;
  /** The user's department (issue 10); null → the default of the role (auth-service.ts defaultDepartment). */
  department: DepartmentId | null;
  disabled: boolean;
  /** `scrypt$…`, or DEMO_HASH_MARKER (see migrations.ts). Never leaves the server. */
  passwordHash: string;
  failedCount: number;
  lockedUntil: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface SessionRecord { tokenHash: string; username: string; createdAt: number; lastSeen: number; expiresAt: number }

export const DEMO_HASH_MARKER = 'demo';

export interface UserStore {
  readonly kind: 'sqlite' | 'postgres';
  count(): Promise<number>;
  get(username: string): Promise<UserRecord | null>;
  list(): Promise<UserRecord[]>;
  /** Inserts new users (one transaction); fails on an existing username. */
  insert(users: UserRecord[]): Promise<void>;
  /** Replaces the stored row of `u.username`; false when there is none. */
  update(u: UserRecord): Promise<boolean>;
  /** Deletes the user and their sessions. */
  delete(username: string): Promise<boolean>;
  getMeta(key: string): Promise<string | null>;
  setMeta(key: string, value: string): Promise<void>;
  createSession(s: SessionRecord): Promise<void>;
  getSession(tokenHash: string): Promise<SessionRecord | null>;
  touchSession(tokenHash: string, lastSeen: number): Promise<void>;
  deleteSession(tokenHash: string): Promise<void>;
  deleteSessionsOf(username: string): Promise<void>;
  /** Drops sessions past their absolute expiry or idle since before `idleBefore`. */
  purgeSessions(now: number, idleBefore: number): Promise<number>;
  close(): Promise<void>;
}

const list = (v: unknown): string[] | null => v === null || v === undefined ? null : (typeof v === 'string' ? JSON.parse(v) : v) as string[];

export function userFromRow(r: Record<string, unknown>): UserRecord {
  return {
    username: String(r.username), role: r.role as UserRole, name: String(r.name), grids: list(r.grids), layers: list(r.layers),
    disabled: r.disabled === true || r.disabled === 1, passwordHash: String(r.password_hash), failedCount: Number(r.failed_count),
    lockedUntil: r.locked_until === null || r.locked_until === undefined ? null : Number(r.locked_until),
    createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
    department: r.department === null || r.department === undefined ? null : String(r.department) as DepartmentId,
  };
}

export function sessionFromRow(r: Record<string, unknown>): SessionRecord {
  return { tokenHash: String(r.token_hash), username: String(r.username), createdAt: Number(r.created_at), lastSeen: Number(r.last_seen), expiresAt: Number(r.expires_at) };
}

/** Column values in order: username, role, name, grids, layers, disabled, password_hash, failed_count, locked_until, created_at, updated_at, department. */
export function userValues(u: UserRecord, bool: (b: boolean) => unknown): unknown[] {
  return [u.username, u.role, u.name, u.grids ? JSON.stringify(u.grids) : null, u.layers ? JSON.stringify(u.layers) : null,
    bool(u.disabled), u.passwordHash, u.failedCount, u.lockedUntil, u.createdAt, u.updatedAt, u.department ?? null];
}
export const USER_COLUMNS = 'username, role, name, grids, layers, disabled, password_hash, failed_count, locked_until, created_at, updated_at, department';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** SQLite file (`file`, else ONEMAP_USERS_FILE, else var/users.sqlite) or PostgreSQL schema `auth`. Runs migrations. */
export async function openUserStore(opts: { databaseUrl?: string | null; file?: string }): Promise<UserStore> {
  if (opts.databaseUrl) {
    const { openPgUserStore } = await import('./pg-user-store.ts');
    return openPgUserStore(opts.databaseUrl);
  }
  const file = opts.file ?? (process.env.ONEMAP_USERS_FILE || resolve(REPO_ROOT, 'var/users.sqlite'));
  if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
  const { openSqliteUserStore } = await import('./sqlite-user-store.ts');
  return openSqliteUserStore(file);
}
