// Writes a layer as an OGC GeoPackage 1.2 (OGC 12-128r15) for GeoServer's file upload: one feature table
// with an R-tree spatial index, in EPSG:4326. SQLite does the file format (better-sqlite3 in a temp file);
// this module only lays out the tables the standard requires.
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FieldDef, FieldType } from '../../layers/catalog.ts';
import { encodeWkb } from '../storage/wkb.ts';

/** Req 2/3: application_id "GPKG" and user_version 10200 for version 1.2. */
export const GPKG_APPLICATION_ID = 0x47504b47;
export const GPKG_USER_VERSION = 10200;

// Table 2 of the standard maps column types; DATETIME is ISO 8601 text "YYYY-MM-DDTHH:MM:SS.SSSZ" (Req 5).
const SQL_TYPE: Record<FieldType, string> = { string: 'TEXT', int: 'INTEGER', number: 'DOUBLE', boolean: 'BOOLEAN', datetime: 'DATETIME' };

const WGS84_WKT = 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],' +
  'PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]]';

const GEOM_COLUMN = 'geom';
const FID_COLUMN = 'fid';
const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

export interface GeoPackageOptions {
  /** Feature table name; GeoServer names the feature type after it. */
  table: string;
  srsId: 4326;
  /** gpkg_contents.identifier / description (human-readable title). */
  title?: string;
  description?: string;
}

type Bbox = [number, number, number, number];

function geometryBbox(g: GeoJSON.Geometry): Bbox | null {
  const b: Bbox = [Infinity, Infinity, -Infinity, -Infinity];
  const visit = (c: unknown): void => {
    if (typeof (c as number[])[0] === 'number') {
      const [x, y] = c as number[];
      if (x! < b[0]) b[0] = x!; if (y! < b[1]) b[1] = y!; if (x! > b[2]) b[2] = x!; if (y! > b[3]) b[3] = y!;
    } else for (const s of c as unknown[]) visit(s);
  };
  if (g.type === 'GeometryCollection') throw new Error('GeometryCollection cannot be written to a GeoPackage layer here; split it into single geometries.');
  visit(g.coordinates);
  return b[0] <= b[2] ? b : null;
}

/**
 * The column's geometry type (Req 25 names). Singles and their Multi form mixed (Polygon + MultiPolygon, as
 * edits and imports produce) are written as the Multi type, each single promoted, so GDAL and GeoServer see
 * one declared type that every row matches.
 */
export function geometryTypeOf(features: GeoJSON.Feature[]): { name: string; promote: boolean } {
  const types = new Set(features.map((f) => f.geometry?.type).filter((t): t is GeoJSON.Geometry['type'] => !!t));
  if (types.size === 0) return { name: 'GEOMETRY', promote: false };
  const base = new Set([...types].map((t) => t.replace(/^Multi/, '')));
  if (base.size > 1 || types.has('GeometryCollection')) return { name: 'GEOMETRY', promote: false };
  const single = [...base][0]!;
  if (types.size === 1) return { name: [...types][0]!.toUpperCase(), promote: false };
  return { name: `MULTI${single.toUpperCase()}`, promote: true };
}

function promote(g: GeoJSON.Geometry): GeoJSON.Geometry {
  switch (g.type) {
    case 'Point': return { type: 'MultiPoint', coordinates: [g.coordinates] };
    case 'LineString': return { type: 'MultiLineString', coordinates: [g.coordinates] };
    case 'Polygon': return { type: 'MultiPolygon', coordinates: [g.coordinates] };
    default: return g;
  }
}

/**
 * StandardGeoPackageBinary (§2.1.3): "GP", version 0, flags (little endian, XY envelope), srs_id, envelope
 * minx maxx miny maxy, then ISO WKB. An empty geometry sets the empty flag and carries no envelope.
 */
export function gpkgGeometry(g: GeoJSON.Geometry, srsId: number): Buffer {
  const wkb = encodeWkb(g);
  const bbox = geometryBbox(g);
  const head = Buffer.alloc(bbox ? 40 : 8);
  head.write('GP', 0, 'latin1');
  head[2] = 0;
  head[3] = bbox ? 0b0000_0011 : 0b0001_0001; // bit0 little endian; bits1-3 envelope 1 = [minx,maxx,miny,maxy]; bit4 empty
  head.writeInt32LE(srsId, 4);
  if (bbox) { head.writeDoubleLE(bbox[0], 8); head.writeDoubleLE(bbox[2], 16); head.writeDoubleLE(bbox[1], 24); head.writeDoubleLE(bbox[3], 32); }
  return Buffer.concat([head, wkb]);
}

function cell(type: FieldType, v: unknown): string | number | bigint | null {
  if (v === null || v === undefined || v === '') return type === 'string' && v === '' ? '' : null;
  switch (type) {
    case 'boolean': return v === true || v === 1 || v === 'true' ? 1 : 0;
    case 'int': { const n = Number(v); return Number.isFinite(n) ? Math.trunc(n) : null; }
    case 'number': { const n = Number(v); return Number.isFinite(n) ? n : null; }
    case 'datetime': { const d = new Date(String(v)); return Number.isNaN(d.getTime()) ? String(v) : d.toISOString(); }
    default: return typeof v === 'string' ? v : JSON.stringify(v);
  }
}

/**
 * One GeoPackage holding `features` as table `opts.table`: columns `fid` (INTEGER PRIMARY KEY), `geom` and one
 * per field in `fields` order; an R-tree index `rtree_<table>_geom` with the standard's triggers (§F.3).
 */
export function writeGeoPackage(features: GeoJSON.Feature[], fields: FieldDef[], opts: GeoPackageOptions): Uint8Array {
  const b = new GpkgBuilder(fields, opts, geometryTypeOf(features));
  try {
    b.insert(features);
    return b.finish();
  } finally { b.dispose(); }
}

/** What the cooperative writer reads: an FgbFile (the effective layer) fits. */
export interface FeatureSource {
  readonly count: number;
  features(): Iterable<GeoJSON.Feature>;
  /** Cheap geometry types without building GeoJSON (FgbFile). */
  rawGeometry?(i: number): { type: string } | null;
}

const tick = () => new Promise<void>((ok) => setImmediate(ok));

/**
 * writeGeoPackage for a server that must keep answering: the work is cut into slices of ~`sliceMs` with the
 * event loop let through between them, and features are decoded as they are written (no array of 486k
 * GeoJSON features). Same file as writeGeoPackage for the same features.
 */
export async function writeGeoPackageAsync(source: FeatureSource, fields: FieldDef[], opts: GeoPackageOptions & { sliceMs?: number }): Promise<Uint8Array> {
  const sliceMs = opts.sliceMs ?? 50;
  // Pass 1: the declared geometry type (raw types when the source has them, else GeoJSON).
  const types: { geometry: { type: GeoJSON.Geometry['type'] } | null }[] = [];
  const seen = new Set<string>();
  let t0 = Date.now();
  const note = (type: string | undefined) => { if (type && !seen.has(type)) { seen.add(type); types.push({ geometry: { type: type as GeoJSON.Geometry['type'] } }); } };
  if (source.rawGeometry) {
    for (let i = 0; i < source.count; i++) {
      note(source.rawGeometry(i)?.type);
      if (Date.now() - t0 > sliceMs) { await tick(); t0 = Date.now(); }
    }
  } else {
    for (const f of source.features()) {
      note(f.geometry?.type);
      if (Date.now() - t0 > sliceMs) { await tick(); t0 = Date.now(); }
    }
  }
  const b = new GpkgBuilder(fields, opts, geometryTypeOf(types as GeoJSON.Feature[]));
  try {
    // Pass 2: decode and write in groups of 256 rows (one transaction each), the clock read once per group.
    const it = source.features()[Symbol.iterator]();
    for (let done = false; !done;) {
      const batch: GeoJSON.Feature[] = [];
      t0 = Date.now();
      while (Date.now() - t0 <= sliceMs) {
        for (let k = 0; k < 256; k++) {
          const r = it.next();
          if (r.done) { done = true; break; }
          batch.push(r.value);
        }
        b.insert(batch.splice(0));
        if (done) break;
      }
      await tick();
    }
    return b.finish();
  } finally { b.dispose(); }
}

/** The file under construction (a temp SQLite database); insert in any number of batches, then finish. */
class GpkgBuilder {
  private readonly dir = mkdtempSync(join(tmpdir(), 'onemap-gpkg-'));
  private readonly file: string;
  private readonly db: Database.Database;
  private readonly insertRow: Database.Statement;
  private readonly indexRow: Database.Statement;
  private readonly total: Bbox = [Infinity, Infinity, -Infinity, -Infinity];
  private closed = false;

  constructor(private readonly fields: FieldDef[], private readonly opts: GeoPackageOptions, private readonly geomType: { name: string; promote: boolean }) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(opts.table)) throw new Error(`GeoPackage table name "${opts.table}" must be letters, digits and _ (it becomes the GeoServer layer name).`);
    for (const f of fields) {
      if (f.name === FID_COLUMN || f.name === GEOM_COLUMN) throw new Error(`Field "${f.name}" clashes with the GeoPackage ${f.name} column; rename it in the catalog.`);
    }
    this.file = join(this.dir, `${opts.table}.gpkg`);
    this.db = new Database(this.file);
    const db = this.db;
    db.pragma('journal_mode = OFF'); // one writer, a temp file: no rollback journal needed
    db.pragma('synchronous = OFF');
    db.pragma(`application_id = ${GPKG_APPLICATION_ID}`);
    db.pragma(`user_version = ${GPKG_USER_VERSION}`);
    const t = opts.table;
    db.exec(`
      CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
        organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
      CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '',
        last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
        srs_id INTEGER, CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
      CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
        srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL, CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
        CONSTRAINT uk_gc_table_name UNIQUE (table_name), CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
        CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
      CREATE TABLE gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
        scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
      CREATE TABLE ${ident(t)} (${ident(FID_COLUMN)} INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, ${ident(GEOM_COLUMN)} ${geomType.name}` +
      fields.map((f) => `, ${ident(f.name)} ${SQL_TYPE[f.type]}`).join('') + `);
      CREATE VIRTUAL TABLE ${ident(`rtree_${t}_${GEOM_COLUMN}`)} USING rtree(id, minx, maxx, miny, maxy);`);
    // Req 11: the three mandatory rows (-1 undefined Cartesian, 0 undefined geographic, 4326 WGS 84).
    const srs = db.prepare('INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)');
    srs.run('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system');
    srs.run('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system');
    srs.run('WGS 84 geodetic', 4326, 'EPSG', 4326, WGS84_WKT, 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
    this.insertRow = db.prepare(`INSERT INTO ${ident(t)} (${[GEOM_COLUMN, ...fields.map((f) => f.name)].map(ident).join(', ')}) VALUES (${['?', ...fields.map(() => '?')].join(', ')})`);
    this.indexRow = db.prepare(`INSERT INTO ${ident(`rtree_${t}_${GEOM_COLUMN}`)} VALUES (?, ?, ?, ?, ?)`);
  }

  insert(features: GeoJSON.Feature[]): void {
    const { fields, opts, total } = this;
    this.db.transaction(() => {
      for (const f of features) {
        const g = f.geometry ? (this.geomType.promote ? promote(f.geometry) : f.geometry) : null;
        const props = (f.properties ?? {}) as Record<string, unknown>;
        const r = this.insertRow.run(g ? gpkgGeometry(g, opts.srsId) : null, ...fields.map((d) => cell(d.type, d.name === 'id' && props.id === undefined ? f.id : props[d.name])));
        const b = g ? geometryBbox(g) : null;
        if (b) {
          this.indexRow.run(r.lastInsertRowid, b[0], b[2], b[1], b[3]);
          total[0] = Math.min(total[0], b[0]); total[1] = Math.min(total[1], b[1]); total[2] = Math.max(total[2], b[2]); total[3] = Math.max(total[3], b[3]);
        }
      }
    })();
  }

  finish(): Uint8Array {
    const { db, opts, total } = this;
    const t = opts.table;
    const has = total[0] <= total[2];
    db.prepare('INSERT INTO gpkg_contents (table_name, data_type, identifier, description, min_x, min_y, max_x, max_y, srs_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(t, 'features', opts.title ?? t, opts.description ?? '', has ? total[0] : null, has ? total[1] : null, has ? total[2] : null, has ? total[3] : null, opts.srsId);
    db.prepare('INSERT INTO gpkg_geometry_columns VALUES (?, ?, ?, ?, 0, 0)').run(t, GEOM_COLUMN, this.geomType.name, opts.srsId);
    db.prepare('INSERT INTO gpkg_extensions VALUES (?, ?, ?, ?, ?)')
      .run(t, GEOM_COLUMN, 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only');
    db.exec(rtreeTriggers(t, GEOM_COLUMN, FID_COLUMN));
    db.close();
    this.closed = true;
    return new Uint8Array(readFileSync(this.file));
  }

  dispose(): void {
    if (!this.closed) { this.db.close(); this.closed = true; }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The six triggers of the R-tree extension (GeoPackage 1.2, Annex F.3), keeping the index in step with later edits. */
function rtreeTriggers(t: string, c: string, i: string): string {
  const r = ident(`rtree_${t}_${c}`), T = ident(t), C = ident(c), I = ident(i);
  const name = (s: string) => ident(`rtree_${t}_${c}_${s}`);
  const ins = (row: 'NEW') => `INSERT OR REPLACE INTO ${r} VALUES (${row}.${I}, ST_MinX(${row}.${C}), ST_MaxX(${row}.${C}), ST_MinY(${row}.${C}), ST_MaxY(${row}.${C}))`;
  return `
    CREATE TRIGGER ${name('insert')} AFTER INSERT ON ${T} WHEN (new.${C} NOT NULL AND NOT ST_IsEmpty(NEW.${C}))
    BEGIN ${ins('NEW')}; END;
    CREATE TRIGGER ${name('update1')} AFTER UPDATE OF ${C} ON ${T} WHEN OLD.${I} = NEW.${I} AND (NEW.${C} NOTNULL AND NOT ST_IsEmpty(NEW.${C}))
    BEGIN ${ins('NEW')}; END;
    CREATE TRIGGER ${name('update2')} AFTER UPDATE OF ${C} ON ${T} WHEN OLD.${I} = NEW.${I} AND (NEW.${C} ISNULL OR ST_IsEmpty(NEW.${C}))
    BEGIN DELETE FROM ${r} WHERE id = OLD.${I}; END;
    CREATE TRIGGER ${name('update3')} AFTER UPDATE ON ${T} WHEN OLD.${I} != NEW.${I} AND (NEW.${C} NOTNULL AND NOT ST_IsEmpty(NEW.${C}))
    BEGIN DELETE FROM ${r} WHERE id = OLD.${I}; ${ins('NEW')}; END;
    CREATE TRIGGER ${name('update4')} AFTER UPDATE ON ${T} WHEN OLD.${I} != NEW.${I} AND (NEW.${C} ISNULL OR ST_IsEmpty(NEW.${C}))
    BEGIN DELETE FROM ${r} WHERE id IN (OLD.${I}, NEW.${I}); END;
    CREATE TRIGGER ${name('delete')} AFTER DELETE ON ${T} WHEN old.${C} NOT NULL
    BEGIN DELETE FROM ${r} WHERE id = OLD.${I}; END;`;
}
