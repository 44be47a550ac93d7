// The PostgreSQL edit store (schema `editing`, chosen when a database URL is given). A commit runs in one
// transaction that first takes a transaction-scoped advisory lock: commits are serialised, so
//  - the version check and the insert see the same state (two saves based on one version: exactly one wins,
//    the other sees the new version and gets EditConflictError; UNIQUE (layer, id, version) backs this up), and
//  - seq (an identity column) is assigned in commit order, so changesSince() never skips a commit that was
//    still in flight when a later seq became visible.
// Edits are rare and small next to reads, so one writer at a time costs nothing noticeable; a big import is
// one statement per 1000 rows.
import pg from 'pg';
import { openMigratedPg } from '../incidents/pg-store.ts';
import type { FeatureVersion } from '../../layers/editing/model.ts';
import {
  auditFromRow, checkCommitItems, EditConflictError, versionFromRow, versionOf,
  type AuditEntry, type CommitItem, type EditStore,
} from './edit-store.ts';
import { EDIT_MIGRATIONS } from './migrations.ts';

type Row = Record<string, unknown>;
const CHUNK = 1000;
const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

export async function openPgEditStore(databaseUrl: string, opts: { schema?: string; max?: number } = {}): Promise<EditStore> {
  const schema = opts.schema ?? 'editing';
  const pool = await openMigratedPg(databaseUrl, { schema, migrations: EDIT_MIGRATIONS, max: opts.max, durable: true, name: { zh: '编辑库', en: 'edit' } });
  return new PgEditStore(pool, schema);
}

class PgEditStore implements EditStore {
  readonly kind = 'postgres' as const;
  private readonly t: string;
  private readonly a: string;

  constructor(private readonly pool: pg.Pool, private readonly schema: string) {
    this.t = `${quoteIdent(schema)}.feature_versions`;
    this.a = `${quoteIdent(schema)}.edit_audit`;
  }

  private async rows(sql: string, args: unknown[] = []): Promise<Row[]> {
    return (await this.pool.query(sql, args)).rows as Row[];
  }

  async current(layer?: string): Promise<FeatureVersion[]> {
    const rows = await this.rows(`SELECT * FROM (SELECT DISTINCT ON (layer, id) * FROM ${this.t} ${layer === undefined ? '' : 'WHERE layer = $1'}
      ORDER BY layer, id, version DESC) f ORDER BY seq`, layer === undefined ? [] : [layer]);
    return rows.map(versionFromRow);
  }

  async latest(layer: string, id: string): Promise<FeatureVersion | null> {
    const r = await this.rows(`SELECT * FROM ${this.t} WHERE layer = $1 AND id = $2 ORDER BY version DESC LIMIT 1`, [layer, id]);
    return r.length ? versionFromRow(r[0]) : null;
  }

  async history(layer: string, id: string): Promise<FeatureVersion[]> {
    return (await this.rows(`SELECT * FROM ${this.t} WHERE layer = $1 AND id = $2 ORDER BY version`, [layer, id])).map(versionFromRow);
  }

  async commit(items: CommitItem[], at: number, audit?: Omit<AuditEntry, 'seq' | 'at'>): Promise<FeatureVersion[]> {
    checkCommitItems(items);
    const c = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await c.query('BEGIN');
      await c.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`onemap.edits.commit.${this.schema}`]);
      // Versions check, per layer in chunks.
      const byLayer = new Map<string, CommitItem[]>();
      for (const it of items) { let l = byLayer.get(it.layer); if (!l) byLayer.set(it.layer, l = []); l.push(it); }
      for (const [layer, list] of byLayer) {
        for (let i = 0; i < list.length; i += CHUNK) {
          const part = list.slice(i, i + CHUNK);
          const have = new Map((await c.query(`SELECT id, max(version) AS v FROM ${this.t} WHERE layer = $1 AND id = ANY($2::text[]) GROUP BY id`,
            [layer, part.map((x) => x.id)])).rows.map((r: Row) => [String(r.id), Number(r.v)]));
          for (const it of part) {
            if ((have.get(it.id) ?? 0) !== it.expectVersion) {
              const cur = await c.query(`SELECT * FROM ${this.t} WHERE layer = $1 AND id = $2 ORDER BY version DESC LIMIT 1`, [layer, it.id]);
              throw new EditConflictError(layer, it.id, cur.rows.length ? versionFromRow(cur.rows[0]) : null);
            }
          }
        }
      }
      const out: FeatureVersion[] = [];
      for (let i = 0; i < items.length; i += CHUNK) {
        const part = items.slice(i, i + CHUNK).map((it) => versionOf(it, at, 0));
        const r = await c.query(`INSERT INTO ${this.t} (layer, id, version, deleted, feature, op, actor, at, comment)
          SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::boolean[], $5::jsonb[], $6::text[], $7::text[], $8::bigint[], $9::text[])
          RETURNING seq, layer, id`, [
          part.map((v) => v.layer), part.map((v) => v.id), part.map((v) => v.version), part.map((v) => v.deleted),
          part.map((v) => (v.feature ? JSON.stringify(v.feature) : null)), part.map((v) => v.op), part.map((v) => v.actor),
          part.map(() => at), part.map((v) => v.comment ?? null),
        ]);
        const seqs = new Map(r.rows.map((x: Row) => [`${x.layer}\u0000${x.id}`, Number(x.seq)]));
        for (const v of part) { v.seq = seqs.get(`${v.layer}\u0000${v.id}`)!; out.push(v); }
      }
      if (audit) {
        await c.query(`INSERT INTO ${this.a} (at, actor, action, layer, id, detail) VALUES ($1, $2, $3, $4, $5, $6)`,
          [at, audit.actor, audit.action, audit.layer, audit.id, JSON.stringify(audit.detail)]);
      }
      await c.query('COMMIT');
      out.sort((x, y) => x.seq - y.seq);
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch((re: Error) => { broken = re; });
      // Backstop: a unique violation means another writer stored this version (should not happen under the lock).
      if ((e as { code?: string }).code === '23505') {
        const it = items[0];
        throw new EditConflictError(it.layer, it.id, await this.latest(it.layer, it.id));
      }
      throw e;
    } finally {
      c.release(broken);
    }
  }

  async changesSince(seq: number, limit: number): Promise<FeatureVersion[]> {
    return (await this.rows(`SELECT * FROM ${this.t} WHERE seq > $1 ORDER BY seq LIMIT $2`, [seq, limit])).map(versionFromRow);
  }

  async maxSeq(): Promise<number> {
    return Number((await this.rows(`SELECT coalesce(max(seq), 0) AS s FROM ${this.t}`))[0].s);
  }

  async addAudit(e: Omit<AuditEntry, 'seq'>): Promise<void> {
    await this.pool.query(`INSERT INTO ${this.a} (at, actor, action, layer, id, detail) VALUES ($1, $2, $3, $4, $5, $6)`,
      [e.at, e.actor, e.action, e.layer, e.id, JSON.stringify(e.detail)]);
  }

  async audit(f: { layer?: string; actor?: string; since?: number; limit: number }): Promise<AuditEntry[]> {
    const w: string[] = [], args: unknown[] = [];
    if (f.layer !== undefined) { args.push(f.layer); w.push(`layer = $${args.length}`); }
    if (f.actor !== undefined) { args.push(f.actor); w.push(`actor = $${args.length}`); }
    if (f.since !== undefined) { args.push(f.since); w.push(`at >= $${args.length}`); }
    args.push(Math.max(0, Math.trunc(f.limit)));
    return (await this.rows(`SELECT * FROM ${this.a} ${w.length ? `WHERE ${w.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT $${args.length}`, args)).map(auditFromRow);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
