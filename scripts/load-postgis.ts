// Loads the built demo city (geodata/build/*.fgb) into PostGIS: `npm run db:load` with DATABASE_URL set
// (or `npx tsx scripts/load-postgis.ts [--force]`). Every catalog layer whose .fgb exists becomes a table
// `onemap.layer_<id>` (tile-server/storage/sql.ts has the layout), filled by COPY in batches, indexed and
// analysed. All of it is built in a scratch schema and swapped in with one transaction, so a failed or
// interrupted load leaves the previous tables untouched. A meta table records the data build stamp and the
// loader version: a second run with the same data does nothing.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { LAYERS, type LayerDef } from '../layers/catalog.ts';
import { transformGeometry } from '../layers/crs.ts';
import { openFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import { copyField, copyIn } from '../tile-server/storage/pg-copy.ts';
import {
  createIndexSql, createTableSql, hasIdField, ident, LOADER_VERSION, SCHEMA, SRID_GK, SRID_WGS84, tableName,
} from '../tile-server/storage/sql.ts';
import { encodeWkbHex } from '../tile-server/storage/wkb.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_DATA_DIR = join(ROOT, 'geodata', 'build');
const SCRATCH = `${SCHEMA}_load`;
const BATCH = 20_000;
/** pg_advisory_lock key: one loader at a time per database (tests and the bench may both call it). */
const LOCK_KEY = 5_180_4549;

export interface LoadOptions {
  dataDir?: string;
  /** Reload even when the stamp matches. */
  force?: boolean;
  log?: (msg: string) => void;
}

export interface LoadResult {
  /** False when the database already held this data (nothing was done). */
  loaded: boolean;
  layers: { id: string; rows: number }[];
  stamp: string;
  ms: number;
}

/** Layers to load: every catalog layer with an id field whose .fgb exists in dataDir. */
export function loadableLayers(dataDir: string): LayerDef[] {
  return LAYERS.filter((l) => hasIdField(l) && existsSync(join(dataDir, l.fgb)));
}

/** What the loaded database must match: the data build stamp, the loader version and the files present. */
export function dataStamp(dataDir: string): string {
  const stampFile = join(dataDir, '.stamp-data');
  if (!existsSync(stampFile)) {
    throw new Error(`${stampFile} is missing: build the demo data first (\`npm run data\`), then load.`);
  }
  const files = loadableLayers(dataDir).map((l) => `${l.id}:${statSync(join(dataDir, l.fgb)).size}`);
  return `data ${readFileSync(stampFile, 'utf8').trim()}; loader v${LOADER_VERSION}; ${files.join(',')}`;
}

export async function loadedStamp(client: pg.ClientBase): Promise<string | null> {
  const r = await client.query(`SELECT to_regclass($1) AS t`, [`${SCHEMA}.meta`]);
  if (!r.rows[0].t) return null;
  const m = await client.query(`SELECT value FROM ${ident(SCHEMA)}.meta WHERE key = 'stamp'`);
  return m.rows[0]?.value ?? null;
}

async function loadLayer(client: pg.ClientBase, def: LayerDef, dataDir: string, log: (m: string) => void): Promise<number> {
  const t0 = performance.now();
  const file = openFlatGeobuf(new Uint8Array(readFileSync(join(dataDir, def.fgb))));
  for (const sql of createTableSql(def, SCRATCH)) await client.query(sql);
  const target = `${tableName(def.id, SCRATCH)} (${[...def.fields.map((f) => ident(f.name)), 'geom', 'geom_m'].join(', ')})`;
  const n = file.count;
  let lines: string[] = [];
  let done = 0;
  let lastLog = t0;
  const flush = async () => {
    if (!lines.length) return;
    done += await copyIn(client, target, [Buffer.from(lines.join(''), 'utf8')]);
    lines = [];
    const now = performance.now();
    if (now - lastLog > 1000 || done === n) {
      lastLog = now;
      log(`  ${def.id}: ${done.toLocaleString('en')} / ${n.toLocaleString('en')} rows (${((100 * done) / n).toFixed(0)}%, ${Math.round(done / ((now - t0) / 1000)).toLocaleString('en')} rows/s)`);
    }
  };
  let i = 0;
  for (const f of file.features()) {
    const p = f.properties ?? {};
    if (!f.geometry) throw new Error(`${def.fgb}: feature ${i} has no geometry; rebuild the data (\`npm run data\`)`);
    if (p.id === undefined || p.id === null) throw new Error(`${def.fgb}: feature ${i} has no id; every loaded layer needs one`);
    const cells = def.fields.map((fd) => copyField(p[fd.name]));
    cells.push(encodeWkbHex(f.geometry, SRID_WGS84), encodeWkbHex(transformGeometry('EPSG:4326', 'EPSG:4549', f.geometry), SRID_GK));
    lines.push(cells.join('\t') + '\n');
    i++;
    if (lines.length >= BATCH) await flush();
  }
  await flush();
  const t1 = performance.now();
  for (const sql of createIndexSql(def, SCRATCH)) await client.query(sql);
  await client.query(`ANALYZE ${tableName(def.id, SCRATCH)}`);
  log(`  ${def.id}: ${done.toLocaleString('en')} rows, COPY ${((t1 - t0) / 1000).toFixed(1)} s, indexes + ANALYZE ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  return done;
}

/** Loads the data into the database unless it already holds this build. */
export async function loadPostgis(databaseUrl: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const t0 = performance.now();
  const dataDir = opts.dataDir ?? DEFAULT_DATA_DIR;
  const log = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const stamp = dataStamp(dataDir);
  const client = new pg.Client({ connectionString: databaseUrl, options: '-c TimeZone=UTC' });
  try {
    await client.connect();
  } catch (e) {
    throw new Error(`cannot connect to ${databaseUrl.replace(/:[^:@/]*@/, ':***@')}: ${(e as Error).message}. ` +
      'Start the local server with `npx tsx scripts/pg-local.ts start` or fix DATABASE_URL.');
  }
  try {
    const ext = await client.query(`SELECT 1 FROM pg_extension WHERE extname = 'postgis'`);
    if (!ext.rowCount) {
      try { await client.query('CREATE EXTENSION IF NOT EXISTS postgis'); } catch (e) {
        throw new Error(`PostGIS is not available in this database (${(e as Error).message}). Install it (Debian: \`apt-get install postgresql-15-postgis-3\`) and run CREATE EXTENSION postgis.`);
      }
    }
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    try {
      const layers = loadableLayers(dataDir);
      if (!opts.force && (await loadedStamp(client)) === stamp) {
        const counts = await client.query(`SELECT key, value FROM ${ident(SCHEMA)}.meta WHERE key LIKE 'rows:%'`);
        return {
          loaded: false, stamp, ms: performance.now() - t0,
          layers: counts.rows.map((r) => ({ id: String(r.key).slice(5), rows: Number(r.value) })),
        };
      }
      log(`load-postgis: loading ${layers.length} layers from ${dataDir} (${stamp})`);
      await client.query(`DROP SCHEMA IF EXISTS ${ident(SCRATCH)} CASCADE`);
      await client.query(`CREATE SCHEMA ${ident(SCRATCH)}`);
      const out: { id: string; rows: number }[] = [];
      for (const def of layers) out.push({ id: def.id, rows: await loadLayer(client, def, dataDir, log) });
      await client.query(`CREATE TABLE ${ident(SCRATCH)}.meta (key text PRIMARY KEY, value text NOT NULL)`);
      const meta: [string, string][] = [
        ['stamp', stamp], ['loader_version', String(LOADER_VERSION)], ['loaded_at', new Date().toISOString()],
        ['layers', out.map((l) => l.id).join(',')], ...out.map((l): [string, string] => [`rows:${l.id}`, String(l.rows)]),
      ];
      for (const [k, v] of meta) await client.query(`INSERT INTO ${ident(SCRATCH)}.meta VALUES ($1, $2)`, [k, v]);
      // The swap: readers see either the old schema or the new one, never a half-loaded one.
      await client.query('BEGIN');
      await client.query(`DROP SCHEMA IF EXISTS ${ident(SCHEMA)} CASCADE`);
      await client.query(`ALTER SCHEMA ${ident(SCRATCH)} RENAME TO ${ident(SCHEMA)}`);
      await client.query('COMMIT');
      const ms = performance.now() - t0;
      log(`load-postgis: done in ${(ms / 1000).toFixed(1)} s`);
      return { loaded: true, layers: out, stamp, ms };
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => {});
    }
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error('load-postgis: set DATABASE_URL (for the local server: DATABASE_URL=$(npx tsx scripts/pg-local.ts start) npm run db:load)');
    process.exitCode = 2;
    return;
  }
  try {
    const r = await loadPostgis(url, { force: process.argv.includes('--force') });
    console.log(r.loaded
      ? `loaded ${r.layers.map((l) => `${l.id} ${l.rows}`).join(', ')} in ${(r.ms / 1000).toFixed(1)} s`
      : `already up to date (${r.stamp}); checked in ${r.ms.toFixed(0)} ms`);
  } catch (e) {
    console.error(`load-postgis: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
