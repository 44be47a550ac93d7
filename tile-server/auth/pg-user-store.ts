// The PostgreSQL user store (schema `auth`, chosen when a database URL is given).
import pg from 'pg';
import { openMigratedPg } from '../incidents/pg-store.ts';
import { AUTH_MIGRATIONS } from './migrations.ts';
import { sessionFromRow, userFromRow, userValues, USER_COLUMNS, type SessionRecord, type UserRecord, type UserStore } from './user-store.ts';

type Row = Record<string, unknown>;
const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

export async function openPgUserStore(databaseUrl: string, opts: { schema?: string } = {}): Promise<UserStore> {
  const schema = opts.schema ?? 'auth';
  const pool = await openMigratedPg(databaseUrl, { schema, migrations: AUTH_MIGRATIONS, max: 4, name: { zh: '用户库', en: 'user' } });
  return new PgUserStore(pool, quoteIdent(schema));
}

class PgUserStore implements UserStore {
  readonly kind = 'postgres' as const;
  constructor(private readonly pool: pg.Pool, private readonly s: string) {}

  private async rows(sql: string, args: unknown[] = []): Promise<Row[]> {
    return (await this.pool.query(sql, args)).rows as Row[];
  }

  async count(): Promise<number> { return Number((await this.rows(`SELECT count(*) AS n FROM ${this.s}.users`))[0].n); }
  async get(username: string): Promise<UserRecord | null> {
    const r = await this.rows(`SELECT * FROM ${this.s}.users WHERE username = $1`, [username]);
    return r.length ? userFromRow(r[0]) : null;
  }
  async list(): Promise<UserRecord[]> { return (await this.rows(`SELECT * FROM ${this.s}.users ORDER BY username`)).map(userFromRow); }
  async insert(users: UserRecord[]): Promise<void> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      // 1000 rows per statement: ~3k demo users in a few round trips.
      for (let i = 0; i < users.length; i += 1000) {
        const part = users.slice(i, i + 1000);
        const args: unknown[] = [];
        const tuples = part.map((u) => {
          const v = userValues(u, (b) => b);
          const base = args.length;
          args.push(...v);
          return `(${v.map((_, k) => `$${base + k + 1}${k === 3 || k === 4 ? '::jsonb' : ''}`).join(', ')})`;
        });
        await c.query(`INSERT INTO ${this.s}.users (${USER_COLUMNS}) VALUES ${tuples.join(', ')}`, args);
      }
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      c.release();
    }
  }
  async update(u: UserRecord): Promise<boolean> {
    const [username, ...rest] = userValues(u, (b) => b);
    const r = await this.pool.query(`UPDATE ${this.s}.users SET role = $1, name = $2, grids = $3::jsonb, layers = $4::jsonb, disabled = $5, password_hash = $6,
      failed_count = $7, locked_until = $8, created_at = $9, updated_at = $10, department = $11 WHERE username = $12`, [...rest, username]);
    return (r.rowCount ?? 0) > 0;
  }
  async delete(username: string): Promise<boolean> {
    await this.pool.query(`DELETE FROM ${this.s}.sessions WHERE username = $1`, [username]);
    const r = await this.pool.query(`DELETE FROM ${this.s}.users WHERE username = $1`, [username]);
    return (r.rowCount ?? 0) > 0;
  }
  async getMeta(key: string): Promise<string | null> {
    const r = await this.rows(`SELECT value FROM ${this.s}.auth_meta WHERE key = $1`, [key]);
    return r.length ? String(r[0].value) : null;
  }
  async setMeta(key: string, value: string): Promise<void> {
    await this.pool.query(`INSERT INTO ${this.s}.auth_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [key, value]);
  }
  async createSession(x: SessionRecord): Promise<void> {
    await this.pool.query(`INSERT INTO ${this.s}.sessions (token_hash, username, created_at, last_seen, expires_at) VALUES ($1, $2, $3, $4, $5)`,
      [x.tokenHash, x.username, x.createdAt, x.lastSeen, x.expiresAt]);
  }
  async getSession(tokenHash: string): Promise<SessionRecord | null> {
    const r = await this.rows(`SELECT * FROM ${this.s}.sessions WHERE token_hash = $1`, [tokenHash]);
    return r.length ? sessionFromRow(r[0]) : null;
  }
  async touchSession(tokenHash: string, lastSeen: number): Promise<void> {
    await this.pool.query(`UPDATE ${this.s}.sessions SET last_seen = $1 WHERE token_hash = $2`, [lastSeen, tokenHash]);
  }
  async deleteSession(tokenHash: string): Promise<void> { await this.pool.query(`DELETE FROM ${this.s}.sessions WHERE token_hash = $1`, [tokenHash]); }
  async deleteSessionsOf(username: string): Promise<void> { await this.pool.query(`DELETE FROM ${this.s}.sessions WHERE username = $1`, [username]); }
  async purgeSessions(now: number, idleBefore: number): Promise<number> {
    return (await this.pool.query(`DELETE FROM ${this.s}.sessions WHERE expires_at <= $1 OR last_seen < $2`, [now, idleBefore])).rowCount ?? 0;
  }
  async close(): Promise<void> { await this.pool.end(); }
}
