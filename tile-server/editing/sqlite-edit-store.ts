// The embedded edit store: one SQLite file (var/edits.sqlite) through better-sqlite3. WAL with
// synchronous=FULL: a commit returns after the WAL is fsynced (https://sqlite.org/pragma.html#pragma_synchronous).
// Writers take the lock up front (BEGIN IMMEDIATE), so the version check and the insert see the same state even
// with another process (npm run import) writing the same file; busy_timeout makes the loser wait, not fail.
import Database from 'better-sqlite3';
import { migrateSqlite } from '../incidents/sqlite-store.ts';
import type { FeatureVersion } from '../../layers/editing/model.ts';
import {
  auditFromRow, checkCommitItems, EditConflictError, versionFromRow, versionOf,
  type AuditEntry, type CommitItem, type EditStore,
} from './edit-store.ts';
import { EDIT_MIGRATIONS } from './migrations.ts';

type Row = Record<string, unknown>;
const BUSY_TIMEOUT_MS = 10_000;

export function openSqliteEditStore(file: string): EditStore {
  const db = new Database(file);
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (file !== ':memory:') {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (String(mode).toLowerCase() !== 'wal') throw new Error(`could not switch ${file} to WAL (journal_mode is ${mode})`);
    }
    db.pragma('synchronous = FULL');
    migrateSqlite(db, EDIT_MIGRATIONS, file);
  } catch (e) {
    db.close();
    throw new Error(`无法打开编辑库 ${file} / cannot open the edit database ${file}: ${(e as Error).message}. ` +
      'Check that the directory is writable, or set ONEMAP_EDITS_FILE to another file.');
  }
  return new SqliteEditStore(db);
}

class SqliteEditStore implements EditStore {
  readonly kind = 'sqlite' as const;
  private readonly st;

  constructor(private readonly db: Database.Database) {
    const p = (sql: string) => db.prepare(sql);
    const latestJoin = `FROM feature_versions f JOIN (SELECT layer, id, max(version) AS v FROM feature_versions %W GROUP BY layer, id) m
      ON f.layer = m.layer AND f.id = m.id AND f.version = m.v ORDER BY f.seq`;
    this.st = {
      currentAll: p(`SELECT f.* ${latestJoin.replace('%W', '')}`),
      currentLayer: p(`SELECT f.* ${latestJoin.replace('%W', 'WHERE layer = ?')}`),
      latest: p(`SELECT * FROM feature_versions WHERE layer = ? AND id = ? ORDER BY version DESC LIMIT 1`),
      latestVersion: p(`SELECT max(version) AS v FROM feature_versions WHERE layer = ? AND id = ?`),
      history: p(`SELECT * FROM feature_versions WHERE layer = ? AND id = ? ORDER BY version`),
      insert: p(`INSERT INTO feature_versions (layer, id, version, deleted, feature, op, actor, at, comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`),
      since: p(`SELECT * FROM feature_versions WHERE seq > ? ORDER BY seq LIMIT ?`),
      maxSeq: p(`SELECT coalesce(max(seq), 0) AS s FROM feature_versions`),
      addAudit: p(`INSERT INTO edit_audit (at, actor, action, layer, id, detail) VALUES (?, ?, ?, ?, ?, ?)`),
    };
  }

  async current(layer?: string): Promise<FeatureVersion[]> {
    const rows = (layer === undefined ? this.st.currentAll.all() : this.st.currentLayer.all(layer)) as Row[];
    return rows.map(versionFromRow);
  }

  async latest(layer: string, id: string): Promise<FeatureVersion | null> {
    const r = this.st.latest.get(layer, id) as Row | undefined;
    return r ? versionFromRow(r) : null;
  }

  async history(layer: string, id: string): Promise<FeatureVersion[]> {
    return (this.st.history.all(layer, id) as Row[]).map(versionFromRow);
  }

  async commit(items: CommitItem[], at: number, audit?: Omit<AuditEntry, 'seq' | 'at'>): Promise<FeatureVersion[]> {
    checkCommitItems(items);
    return this.db.transaction((): FeatureVersion[] => {
      for (const it of items) {
        const have = Number((this.st.latestVersion.get(it.layer, it.id) as { v: number | null }).v ?? 0);
        if (have !== it.expectVersion) {
          const cur = this.st.latest.get(it.layer, it.id) as Row | undefined;
          throw new EditConflictError(it.layer, it.id, cur ? versionFromRow(cur) : null);
        }
      }
      const out = items.map((it) => {
        const v = versionOf(it, at, 0);
        const r = this.st.insert.get(v.layer, v.id, v.version, v.deleted ? 1 : 0, v.feature ? JSON.stringify(v.feature) : null,
          v.op, v.actor, at, v.comment ?? null) as { seq: number };
        v.seq = Number(r.seq);
        return v;
      });
      if (audit) this.writeAudit({ ...audit, at });
      return out;
    }).immediate();
  }

  async changesSince(seq: number, limit: number): Promise<FeatureVersion[]> {
    return (this.st.since.all(seq, limit) as Row[]).map(versionFromRow);
  }

  async maxSeq(): Promise<number> {
    return Number((this.st.maxSeq.get() as { s: number }).s);
  }

  private writeAudit(e: Omit<AuditEntry, 'seq'>): void {
    this.st.addAudit.run(e.at, e.actor, e.action, e.layer, e.id, JSON.stringify(e.detail));
  }

  async addAudit(e: Omit<AuditEntry, 'seq'>): Promise<void> {
    this.writeAudit(e);
  }

  async audit(f: { layer?: string; actor?: string; since?: number; limit: number }): Promise<AuditEntry[]> {
    const w: string[] = [], args: unknown[] = [];
    if (f.layer !== undefined) { w.push('layer = ?'); args.push(f.layer); }
    if (f.actor !== undefined) { w.push('actor = ?'); args.push(f.actor); }
    if (f.since !== undefined) { w.push('at >= ?'); args.push(f.since); }
    const sql = `SELECT * FROM edit_audit ${w.length ? `WHERE ${w.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, Math.max(0, Math.trunc(f.limit))) as Row[]).map(auditFromRow);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
