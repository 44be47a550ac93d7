// Store suites run once on SQLite and once on PostgreSQL. This gives each run a fresh target — a SQLite file in
// a temporary folder, or a PostgreSQL schema — and removes them all after the file's tests. Without
// TEST_DATABASE_URL the PostgreSQL half FAILS (a test says how to start it) unless ONEMAP_SKIP_POSTGIS=1.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, it } from 'vitest';

export interface StoreTargets {
  /** TEST_DATABASE_URL, when set. */
  readonly pgUrl: string | undefined;
  /** Whether the PostgreSQL half runs (it does unless skipped on purpose; it then fails without a URL). */
  readonly withPostgres: boolean;
  /** A new SQLite file path, `{stem}-{n}.sqlite`. */
  sqliteFile(stem: string): string;
  /** A new schema name (dropped after the file), `{stem}_{pid}_{n}`. */
  pgSchema(stem: string): string;
  /** TEST_DATABASE_URL, or an error that says how to get one. */
  requirePg(): string;
}

export function useStoreTargets(prefix: string): StoreTargets {
  const pgUrl = process.env.TEST_DATABASE_URL;
  const skip = process.env.ONEMAP_SKIP_POSTGIS === '1';
  const tmp = mkdtempSync(join(tmpdir(), `onemap-${prefix}-`));
  const schemas: string[] = [];
  let n = 0;

  it('PostgreSQL is tested (TEST_DATABASE_URL), or skipped on purpose (ONEMAP_SKIP_POSTGIS=1)', () => {
    if (!pgUrl && !skip) {
      throw new Error('TEST_DATABASE_URL is not set: start PostgreSQL (npx tsx scripts/pg-local.ts start) and export ' +
        'TEST_DATABASE_URL=postgres://postgres@127.0.0.1:54329/onemap, or set ONEMAP_SKIP_POSTGIS=1 to test SQLite alone.');
    }
  });

  afterAll(async () => {
    rmSync(tmp, { recursive: true, force: true });
    if (pgUrl && schemas.length) {
      const c = new pg.Client({ connectionString: pgUrl });
      await c.connect();
      for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
      await c.end();
    }
  });

  return {
    pgUrl,
    withPostgres: Boolean(pgUrl) || !skip,
    sqliteFile: (stem) => join(tmp, `${stem}-${++n}.sqlite`),
    pgSchema(stem) {
      const s = `${stem}_${process.pid}_${++n}`;
      schemas.push(s);
      return s;
    },
    requirePg() {
      if (!pgUrl) throw new Error('no PostgreSQL: set TEST_DATABASE_URL (or ONEMAP_SKIP_POSTGIS=1)');
      return pgUrl;
    },
  };
}
