// The PostGIS implementation of SpatialStore (chosen when DATABASE_URL is set). Tables come from
// scripts/load-postgis.ts; the SQL follows the shared rules in tile-server/storage/README.md so that the
// answers equal the embedded store's: closed polygons and the smallest code on shared edges
// (ST_Intersects … ORDER BY code COLLATE "C" LIMIT 1), metres as planar distance in EPSG:4549 on the
// `geom_m` column (query shapes projected here with layers/crs.ts, the same numbers the embedded engine
// uses), ids in byte order, within = ST_CoveredBy, contains = ST_Covers. Geometry travels as WKB both ways.

import pg from 'pg';
import { getLayer, type LayerDef } from '../../layers/catalog.ts';
import { transform, transformGeometry } from '../../layers/crs.ts';
import { QueryInputError } from '../../layers/query/filters.ts';
import {
  MAX_DISTANCE_M, type AdminHit, type AdminUnit, type FeatureHit, type GridUnit, type LayerQueryResult,
  type NearestSpec, type QuerySpec,
} from '../../layers/query/types.ts';
import type { SpatialStore } from './spatial-store.ts';
import { ident, Params, propertyColumnsSql, rowProperties, SCHEMA, SRID_GK, SRID_WGS84, tableName, whereSql } from './sql.ts';
import { decodeWkb, encodeWkb } from './wkb.ts';

/** Points per gridCodesAt round trip: large enough to amortise the round trip, small enough for one statement. */
const LOOKUP_BATCH = 20_000;

export interface PostgisStoreOptions {
  /** Pool size (default 4). */
  max?: number;
}

function unknownLayer(id: string, have: string[]): QueryInputError {
  return new QueryInputError('unknown_layer', `未知图层 ${id}（unknown layer "${id}"; loaded layers: ${have.join(', ')}）`);
}

export async function openPostgisStore(databaseUrl: string, opts: PostgisStoreOptions = {}): Promise<SpatialStore> {
  // Session time zone UTC: timestamptz text and the ::timestamptz casts of filter values are then unambiguous.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: opts.max ?? 4, options: '-c TimeZone=UTC' });
  pool.on('error', () => { /* an idle client died (server restart); the next query reconnects */ });
  let layerIds: string[];
  try {
    const r = await pool.query(`SELECT to_regclass($1) AS t`, [`${SCHEMA}.meta`]);
    if (!r.rows[0].t) {
      throw new Error(`the database has no OneMap tables (${SCHEMA}.meta is missing): load them with \`DATABASE_URL=… npm run db:load\``);
    }
    const m = await pool.query(`SELECT value FROM ${ident(SCHEMA)}.meta WHERE key = 'layers'`);
    layerIds = String(m.rows[0]?.value ?? '').split(',').filter((id) => id && getLayer(id));
  } catch (e) {
    await pool.end().catch(() => {});
    const msg = (e as Error).message;
    throw new Error(msg.includes('db:load') ? msg : `cannot use PostGIS at ${databaseUrl.replace(/:[^:@/]*@/, ':***@')}: ${msg}. ` +
      'Start it (`npx tsx scripts/pg-local.ts start`) and load the data (`npm run db:load`), or unset DATABASE_URL for the embedded store.');
  }
  const loaded = new Set(layerIds);

  // Named (prepared) statements for the fixed-shape hot queries: PostgreSQL then plans them once per
  // connection instead of on every call (planning costs more than executing a 10-nearest lookup).
  const names = new Map<string, string>();
  const named = (text: string): string => {
    let n = names.get(text);
    if (!n && names.size < 500) { n = `onemap_${names.size}`; names.set(text, n); }
    return n ?? '';
  };

  function layer(id: string): LayerDef {
    const def = getLayer(id);
    if (!def || !loaded.has(id)) throw unknownLayer(id, layerIds);
    return def;
  }

  function hit(def: LayerDef, row: Record<string, unknown>): FeatureHit {
    const h: FeatureHit = { layer: def.id, id: String(row.id), properties: rowProperties(def, row), geometry: decodeWkb(row.wkb as Uint8Array) };
    if (row.dist !== undefined && row.dist !== null) h.distanceM = Number(row.dist);
    return h;
  }

  const adminSql = (() => {
    const unit = (id: string, alias: string, extra: string) => loaded.has(id)
      ? `LEFT JOIN LATERAL (SELECT code, name${extra} FROM ${tableName(id)} WHERE ST_Intersects(geom, p.pt) ` +
        `ORDER BY code COLLATE "C" LIMIT 1) ${alias} ON true`
      : `LEFT JOIN LATERAL (SELECT NULL::text AS code, NULL::text AS name${extra ? ', NULL::text AS manager_id, NULL::text AS manager_name, NULL::text AS manager_phone' : ''} WHERE false) ${alias} ON true`;
    return `SELECT tw.code AS t_code, tw.name AS t_name, vl.code AS v_code, vl.name AS v_name, gr.code AS g_code, gr.name AS g_name,
        gr.manager_id, gr.manager_name, gr.manager_phone
      FROM (SELECT ST_SetSRID(ST_MakePoint($1::float8, $2::float8), ${SRID_WGS84}) AS pt) p
      ${unit('towns', 'tw', '')} ${unit('villages', 'vl', '')} ${unit('grids', 'gr', ', manager_id, manager_name, manager_phone')}`;
  })();

  const gridSql = loaded.has('grids')
    ? `SELECT g.code FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS p(lon, lat, i)
       LEFT JOIN LATERAL (SELECT code FROM ${tableName('grids')}
         WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint(p.lon, p.lat), ${SRID_WGS84}))
         ORDER BY code COLLATE "C" LIMIT 1) g ON true
       ORDER BY p.i`
    : null;

  const store: SpatialStore = {
    kind: 'postgis',
    layers: () => [...layerIds],

    async adminAt(lon, lat) {
      const r = await pool.query({ name: named(adminSql), text: adminSql, values: [lon, lat] });
      const row = r.rows[0] ?? {};
      const unit = (code: unknown, name: unknown): AdminUnit | null =>
        code === null || code === undefined ? null : { code: String(code), name: String(name ?? '') };
      const town = unit(row.t_code, row.t_name);
      const village = unit(row.v_code, row.v_name);
      const g = unit(row.g_code, row.g_name);
      const grid: GridUnit | null = g && {
        ...g,
        manager: row.manager_id ? { id: String(row.manager_id), name: String(row.manager_name ?? ''), phone: String(row.manager_phone ?? '') } : null,
      };
      const out: AdminHit = { town, village, grid };
      return out;
    },

    async gridCodesAt(lons, lats) {
      if (lons.length !== lats.length) throw new Error(`gridCodesAt: ${lons.length} longitudes but ${lats.length} latitudes`);
      const out: (string | null)[] = new Array(lons.length).fill(null);
      if (!gridSql) return out;
      for (let s = 0; s < lons.length; s += LOOKUP_BATCH) {
        const e = Math.min(lons.length, s + LOOKUP_BATCH);
        // Arrays go in as text literals; JS prints the shortest round-trip decimal, which float8in reads back exactly.
        const r = await pool.query({ name: named(gridSql), text: gridSql, values: [Array.from(lons.subarray(s, e)), Array.from(lats.subarray(s, e))], rowMode: 'array' });
        for (let i = 0; i < r.rows.length; i++) out[s + i] = r.rows[i][0] ?? null;
      }
      return out;
    },

    async nearest(spec: NearestSpec) {
      const def = layer(spec.layer);
      if (!(spec.k > 0)) return [];
      const [x, y] = transform('EPSG:4326', 'EPSG:4549', spec.lon, spec.lat);
      const p = new Params();
      const px = p.add(x), py = p.add(y), pk = p.add(Math.floor(spec.k)), pmax = p.add(spec.maxDistanceM ?? MAX_DISTANCE_M);
      const w = whereSql(def, p, spec.where, spec.time);
      const t = tableName(def.id);
      // KNN (<->, GiST-ordered; the point must be an expression of parameters, not a joined column, for the
      // index to order the scan) finds the k-th distance; the final pass takes every feature up to it (+1 µm,
      // in case <-> and ST_Distance differ in the last bit) and orders by exact distance, then id — ties included.
      const pm = `ST_SetSRID(ST_MakePoint(${px}::float8, ${py}::float8), ${SRID_GK})`;
      const sql = `WITH knn AS (SELECT t.geom_m <-> ${pm} AS d FROM ${t} t WHERE ${w} ORDER BY t.geom_m <-> ${pm} LIMIT ${pk}::int),
        lim AS (SELECT max(d) AS dk FROM knn WHERE d <= ${pmax}::float8)
        SELECT ${propertyColumnsSql(def)}, ST_AsBinary(t.geom) AS wkb, ST_Distance(t.geom_m, ${pm}) AS dist
        FROM ${t} t, lim
        WHERE lim.dk IS NOT NULL AND ST_DWithin(t.geom_m, ${pm}, LEAST(lim.dk + 1e-6, ${pmax}::float8)) AND ${w}
        ORDER BY dist, t.id COLLATE "C" LIMIT ${pk}::int`;
      const r = await pool.query({ name: named(sql), text: sql, values: p.values });
      return r.rows.map((row) => hit(def, row));
    },

    async query(spec: QuerySpec) {
      const def = layer(spec.layer);
      const p = new Params();
      let cond: string;
      let distSel = '';
      if (spec.predicate === 'dwithin') {
        const d = spec.distanceM;
        if (typeof d !== 'number' || !(d >= 0 && d <= MAX_DISTANCE_M)) {
          throw new QueryInputError('bad_predicate', `dwithin 需要 0–${MAX_DISTANCE_M} 米的距离（dwithin needs distanceM in 0…${MAX_DISTANCE_M}）`);
        }
        const gm = `ST_GeomFromWKB(${p.add(encodeWkb(transformGeometry('EPSG:4326', 'EPSG:4549', spec.geometry)))}::bytea, ${SRID_GK})`;
        cond = `ST_DWithin(t.geom_m, ${gm}, ${p.add(d)}::float8)`;
        distSel = `, ST_Distance(t.geom_m, ${gm}) AS dist`;
      } else {
        const fn = { intersects: 'ST_Intersects', within: 'ST_CoveredBy', contains: 'ST_Covers' }[spec.predicate];
        if (!fn) throw new QueryInputError('bad_predicate', `未知的空间关系 ${String(spec.predicate)}（unknown predicate; use intersects, within, contains, dwithin）`);
        cond = `${fn}(t.geom, ST_GeomFromWKB(${p.add(encodeWkb(spec.geometry))}::bytea, ${SRID_WGS84}))`;
      }
      const w = whereSql(def, p, spec.where, spec.time);
      const t = tableName(def.id);
      const countP = pool.query(`SELECT count(*)::int AS n FROM ${t} t WHERE ${cond} AND ${w}`, p.values.slice());
      const limit = Math.max(0, Math.floor(spec.limit));
      let rowsP: Promise<pg.QueryResult | null> = Promise.resolve(null);
      if (limit > 0) {
        const pl = p.add(limit), po = p.add(Math.max(0, Math.floor(spec.offset ?? 0)));
        rowsP = pool.query(`SELECT ${propertyColumnsSql(def)}, ST_AsBinary(t.geom) AS wkb${distSel} FROM ${t} t
          WHERE ${cond} AND ${w} ORDER BY t.id COLLATE "C" LIMIT ${pl}::int OFFSET ${po}::int`, p.values);
      }
      const [c, rows] = await Promise.all([countP, rowsP]);
      const out: LayerQueryResult = { layer: def.id, count: c.rows[0].n, features: rows ? rows.rows.map((row) => hit(def, row)) : [] };
      return out;
    },

    async points(spec) {
      const def = layer(spec.layer);
      const p = new Params();
      const conds: string[] = [];
      if (spec.geometry) conds.push(`ST_Intersects(t.geom, ST_GeomFromWKB(${p.add(encodeWkb(spec.geometry))}::bytea, ${SRID_WGS84}))`);
      conds.push(whereSql(def, p, spec.where, spec.time));
      // Point layers: the point itself; other layers: a point on the feature (ST_PointOnSurface).
      const pt = def.geometry === 'point' ? 't.geom' : 'ST_PointOnSurface(t.geom)';
      const time = def.time ? `extract(epoch FROM t.${ident(def.time)}) * 1000` : 'NULL::float8';
      const r = await pool.query({
        text: `SELECT t.id, ST_X(${pt}) AS x, ST_Y(${pt}) AS y, ${time} AS ms FROM ${ident(SCHEMA)}.${ident(`layer_${def.id}`)} t
               WHERE ${conds.join(' AND ')} ORDER BY t.id COLLATE "C"`,
        values: p.values,
        rowMode: 'array',
      });
      const n = r.rows.length;
      const coords = new Float64Array(2 * n);
      const times = new Float64Array(n);
      const ids: string[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const row = r.rows[i];
        ids[i] = row[0];
        coords[2 * i] = row[1];
        coords[2 * i + 1] = row[2];
        times[i] = row[3] === null ? NaN : Number(row[3]);
      }
      return { coords, times, ids };
    },

    async getFeature(layerId, id) {
      const def = layer(layerId);
      const r = await pool.query(`SELECT ${propertyColumnsSql(def)}, ST_AsBinary(t.geom) AS wkb FROM ${tableName(def.id)} t WHERE t.id = $1`, [id]);
      return r.rows.length ? hit(def, r.rows[0]) : null;
    },

    async warm() {
      // The database keeps its own indexes; a round trip opens a pooled connection so the first click does not.
      await pool.query('SELECT 1');
    },

    async applyEdits(layerId, changes) {
      // Layers the loader did not load stay unqueryable here (no table); nothing to do.
      if (!loaded.has(layerId) || !changes.length) return;
      const def = getLayer(layerId)!;
      const t = tableName(def.id);
      const cols = [...def.fields.map((f) => ident(f.name)), 'geom', 'geom_m'];
      const insert = `INSERT INTO ${t} (${cols.join(', ')}) VALUES (${def.fields.map((_, i) => `$${i + 1}`).join(', ')}, ` +
        `ST_GeomFromEWKB($${def.fields.length + 1}::bytea), ST_GeomFromEWKB($${def.fields.length + 2}::bytea))`;
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        // Delete then insert: idempotent, so the start-up replay of every stored edit can run after a reload.
        await client.query(`DELETE FROM ${t} WHERE id = ANY($1::text[])`, [changes.map((c) => c.id)]);
        for (const { id, feature } of changes) {
          if (!feature) continue;
          const p = feature.properties ?? {};
          const values: unknown[] = def.fields.map((f) => (f.name === 'id' ? id : p[f.name] ?? null));
          values.push(Buffer.from(encodeWkb(feature.geometry, SRID_WGS84)),
            Buffer.from(encodeWkb(transformGeometry('EPSG:4326', 'EPSG:4549', feature.geometry), SRID_GK)));
          await client.query(insert, values);
        }
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
  return store;
}
