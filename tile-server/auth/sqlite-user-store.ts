// The embedded user store: one SQLite file (var/users.sqlite), WAL, synchronous=FULL.
import Database from 'better-sqlite3';
import { migrateSqlite } from '../incidents/sqlite-store.ts';
import { AUTH_MIGRATIONS } from './migrations.ts';
import { sessionFromRow, userFromRow, userValues, USER_COLUMNS, type SessionRecord, type UserRecord, type UserStore } from './user-store.ts';

type Row = Record<string, unknown>;

export function openSqliteUserStore(file: string): UserStore {
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 10000');
    if (file !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    migrateSqlite(db, AUTH_MIGRATIONS, file);
  } catch (e) {
    db.close();
    throw new Error(`无法打开用户库 ${file} / cannot open the user database ${file}: ${(e as Error).message}. Check that the directory is writable, or set ONEMAP_USERS_FILE.`);
  }
  return new SqliteUserStore(db);
}

class SqliteUserStore implements UserStore {
  readonly kind = 'sqlite' as const;
  private readonly st;

  constructor(private readonly db: Database.Database) {
    const p = (sql: string) => db.prepare(sql);
    this.st = {
      count: p('SELECT count(*) AS n FROM users'),
      get: p('SELECT * FROM users WHERE username = ?'),
      list: p('SELECT * FROM users ORDER BY username'),
      insert: p(`INSERT INTO users (${USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      update: p(`UPDATE users SET role = ?, name = ?, grids = ?, layers = ?, disabled = ?, password_hash = ?, failed_count = ?, locked_until = ?, created_at = ?, updated_at = ?, department = ? WHERE username = ?`),
      del: p('DELETE FROM users WHERE username = ?'),
      getMeta: p('SELECT value FROM auth_meta WHERE key = ?'),
      setMeta: p('INSERT INTO auth_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      createSession: p('INSERT INTO sessions (token_hash, username, created_at, last_seen, expires_at) VALUES (?, ?, ?, ?, ?)'),
      getSession: p('SELECT * FROM sessions WHERE token_hash = ?'),
      touch: p('UPDATE sessions SET last_seen = ? WHERE token_hash = ?'),
      delSession: p('DELETE FROM sessions WHERE token_hash = ?'),
      delSessionsOf: p('DELETE FROM sessions WHERE username = ?'),
      purge: p('DELETE FROM sessions WHERE expires_at <= ? OR last_seen < ?'),
    };
  }

  async count(): Promise<number> { return Number((this.st.count.get() as { n: number }).n); }
  async get(username: string): Promise<UserRecord | null> {
    const r = this.st.get.get(username) as Row | undefined;
    return r ? userFromRow(r) : null;
  }
  async list(): Promise<UserRecord[]> { return (this.st.list.all() as Row[]).map(userFromRow); }
  async insert(users: UserRecord[]): Promise<void> {
    this.db.transaction(() => { for (const u of users) this.st.insert.run(...userValues(u, (b) => (b ? 1 : 0))); })();
  }
  async update(u: UserRecord): Promise<boolean> {
    const [username, ...rest] = userValues(u, (b) => (b ? 1 : 0));
    return this.st.update.run(...rest, username).changes > 0;
  }
  async delete(username: string): Promise<boolean> {
    return this.db.transaction(() => {
      this.st.delSessionsOf.run(username);
      return this.st.del.run(username).changes > 0;
    })();
  }
  async getMeta(key: string): Promise<string | null> {
    const r = this.st.getMeta.get(key) as { value: string } | undefined;
    return r ? r.value : null;
  }
  async setMeta(key: string, value: string): Promise<void> { this.st.setMeta.run(key, value); }
  async createSession(s: SessionRecord): Promise<void> { this.st.createSession.run(s.tokenHash, s.username, s.createdAt, s.lastSeen, s.expiresAt); }
  async getSession(tokenHash: string): Promise<SessionRecord | null> {
    const r = this.st.getSession.get(tokenHash) as Row | undefined;
    return r ? sessionFromRow(r) : null;
  }
  async touchSession(tokenHash: string, lastSeen: number): Promise<void> { this.st.touch.run(lastSeen, tokenHash); }
  async deleteSession(tokenHash: string): Promise<void> { this.st.delSession.run(tokenHash); }
  async deleteSessionsOf(username: string): Promise<void> { this.st.delSessionsOf.run(username); }
  async purgeSessions(now: number, idleBefore: number): Promise<number> { return this.st.purge.run(now, idleBefore).changes; }
  async close(): Promise<void> { if (this.db.open) this.db.close(); }
}
