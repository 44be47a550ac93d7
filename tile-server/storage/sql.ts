// The PostGIS schema for catalog layers and the SQL fragments the loader and the store share. Identifiers
// come only from the catalog (checked against a strict pattern); user values always go in as $n parameters.
//
// One table per layer, `onemap.layer_<id>`: one typed column per catalog field (text COLLATE "C", so that
// ORDER BY is byte order — the order both stores return), `geom geometry(Geometry,4326)` and
// `geom_m geometry(Geometry,4549)` (Gauss–Krüger metres, projected by layers/crs.ts in the loader so the
// metric coordinates are the same numbers the embedded store uses), GiST on both.

import type { FieldDef, FieldType, LayerDef } from '../../layers/catalog.ts';
import { compileFilters, parseTime, QueryInputError } from '../../layers/query/filters.ts';
import type { AttributeFilter, FilterOp, TimeFilter } from '../../layers/query/types.ts';

export const SCHEMA = 'onemap';
/** Bump when the table layout or the loading rules change: a loader run with a new version reloads. */
export const LOADER_VERSION = 1;
export const SRID_WGS84 = 4326;
export const SRID_GK = 4549;

const IDENT = /^[a-z_][a-z0-9_]*$/;

/** A double-quoted identifier; throws on anything that is not a plain lower-case catalog name. */
export function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`"${name}" is not a valid layer or field name for SQL (want ${IDENT}); fix layers/catalog.ts`);
  return `"${name}"`;
}

export function tableName(layerId: string, schema = SCHEMA): string {
  return `${ident(schema)}.${ident(`layer_${layerId}`)}`;
}

const SQL_TYPE: Record<FieldType, string> = {
  string: 'text COLLATE "C"', int: 'integer', number: 'double precision', boolean: 'boolean', datetime: 'timestamptz',
};

export function createTableSql(def: LayerDef, schema: string): string[] {
  const t = tableName(def.id, schema);
  const cols = def.fields.map((f) => `${ident(f.name)} ${SQL_TYPE[f.type]}${f.name === 'id' ? ' NOT NULL' : ''}`);
  cols.push(`geom geometry(Geometry,${SRID_WGS84}) NOT NULL`, `geom_m geometry(Geometry,${SRID_GK}) NOT NULL`);
  return [`CREATE TABLE ${t} (${cols.join(', ')})`];
}

/** Indexes, built after COPY (faster than maintaining them row by row). */
export function createIndexSql(def: LayerDef, schema: string): string[] {
  const t = tableName(def.id, schema);
  const ix = (suffix: string) => ident(`layer_${def.id}_${suffix}`);
  const out = [
    `ALTER TABLE ${t} ADD CONSTRAINT ${ix('pkey')} PRIMARY KEY (id)`,
    `CREATE INDEX ${ix('geom')} ON ${t} USING gist (geom)`,
    `CREATE INDEX ${ix('geom_m')} ON ${t} USING gist (geom_m)`,
  ];
  if (def.fields.some((f) => f.name === 'code')) out.push(`CREATE INDEX ${ix('code')} ON ${t} (code)`);
  if (def.time) out.push(`CREATE INDEX ${ix(def.time)} ON ${t} (${ident(def.time)})`);
  return out;
}

export function hasIdField(def: LayerDef): boolean {
  return def.fields.some((f) => f.name === 'id' && f.type === 'string');
}

/** SELECT list for the catalog fields; datetimes come back as ISO UTC text (seconds, or milliseconds when present). */
export function propertyColumnsSql(def: LayerDef, alias = 't'): string {
  return def.fields.map((f) => {
    const c = `${alias}.${ident(f.name)}`;
    if (f.type !== 'datetime') return c;
    return `CASE WHEN ${c} IS NULL THEN NULL ELSE to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')` +
      ` || CASE WHEN date_part('milliseconds', ${c})::numeric % 1000 = 0 THEN '' ELSE to_char(${c} AT TIME ZONE 'UTC', '.MS') END || 'Z' END AS ${ident(f.name)}`;
  }).join(', ');
}

/** Catalog-typed properties from a row; absent (NULL) values are left out, as openFlatGeobuf does. */
export function rowProperties(def: LayerDef, row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of def.fields) {
    const v = row[f.name];
    if (v !== null && v !== undefined) out[f.name] = v;
  }
  return out;
}

/** Collects parameter values and hands out their $n placeholders. */
export class Params {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

/** Bad filter input: the same error class and code ('bad_filter') as the embedded engine, so the API answers 400. */
function filterError(message: string): QueryInputError {
  return new QueryInputError('bad_filter', message);
}

const OPS: readonly FilterOp[] = ['eq', 'ne', 'in', 'lt', 'le', 'gt', 'ge', 'prefix', 'contains'];
const CMP: Partial<Record<FilterOp, string>> = { eq: '=', lt: '<', le: '<=', gt: '>', ge: '>=' };

function castFor(f: FieldDef): string {
  return f.type === 'string' ? 'text' : f.type === 'int' || f.type === 'number' ? 'float8' : f.type === 'boolean' ? 'boolean' : 'timestamptz';
}

function checkScalar(f: FieldDef, v: unknown, op: FilterOp): unknown {
  const bad = (want: string) =>
    filterError(`字段 ${f.name} 的条件 ${op} 需要${want}（field ${f.name}, op ${op}: expected ${want}, got ${JSON.stringify(v)}）`);
  switch (f.type) {
    case 'int': case 'number': if (typeof v !== 'number' || !Number.isFinite(v)) throw bad('a finite number'); return v;
    case 'boolean': if (typeof v !== 'boolean') throw bad('a boolean'); return v;
    case 'string': if (typeof v !== 'string') throw bad('a string'); return v;
    case 'datetime':
      if (Number.isNaN(parseTime(v))) throw bad('an ISO 8601 time such as 2026-05-01T08:00:00Z');
      return new Date(parseTime(v)).toISOString();
  }
}

/**
 * SQL condition (AND of all) for attribute filters and a [from, to) time window, or 'TRUE'. Validation is the
 * embedded engine's own (compileFilters: same errors, same limits); the semantics match it too: a missing
 * value (NULL) fails every test, 'ne' included; datetimes compare as instants.
 */
export function whereSql(def: LayerDef, p: Params, where?: AttributeFilter[], time?: TimeFilter, alias = 't'): string {
  compileFilters(def, where, time);
  const parts: string[] = [];
  for (const w of where ?? []) {
    const f = def.fields.find((x) => x.name === w?.field);
    if (!f) throw filterError(`图层 ${def.id} 没有字段 ${String(w?.field)}（unknown field; fields: ${def.fields.map((x) => x.name).join(', ')}）`);
    if (!OPS.includes(w.op)) throw filterError(`不支持的条件 ${String(w.op)}（unknown op; use ${OPS.join(', ')}）`);
    const c = `${alias}.${ident(f.name)}`;
    const cast = castFor(f);
    switch (w.op) {
      case 'eq': case 'lt': case 'le': case 'gt': case 'ge':
        if (f.type === 'boolean' && w.op !== 'eq') throw filterError(`布尔字段 ${f.name} 只能用 eq/ne/in（boolean fields take eq, ne, in）`);
        parts.push(`${c} ${CMP[w.op]} ${p.add(checkScalar(f, w.value, w.op))}::${cast}`);
        break;
      case 'ne':
        parts.push(`${c} <> ${p.add(checkScalar(f, w.value, w.op))}::${cast}`);
        break;
      case 'in': {
        if (!Array.isArray(w.value)) throw filterError(`条件 in 需要数组（op in on ${f.name}: expected an array）`);
        const vals = w.value.map((v) => checkScalar(f, v, w.op));
        parts.push(`${c} = ANY(${p.add(vals)}::${cast}[])`);
        break;
      }
      case 'prefix': case 'contains':
        if (f.type !== 'string') throw filterError(`条件 ${w.op} 只用于文本字段（op ${w.op} needs a string field; ${f.name} is ${f.type}）`);
        checkScalar(f, w.value, w.op);
        parts.push(w.op === 'prefix' ? `starts_with(${c}, ${p.add(w.value)}::text)` : `strpos(${c}, ${p.add(w.value)}::text) > 0`);
        break;
    }
  }
  if (time && (time.from !== undefined || time.to !== undefined)) {
    if (!def.time) throw filterError(`图层 ${def.id} 没有时间字段，不能按时间筛选（layer has no time field）`);
    const f = def.fields.find((x) => x.name === def.time)!;
    const c = `${alias}.${ident(f.name)}`;
    if (time.from !== undefined) parts.push(`${c} >= ${p.add(checkScalar(f, time.from, 'ge'))}::timestamptz`);
    if (time.to !== undefined) parts.push(`${c} < ${p.add(checkScalar(f, time.to, 'lt'))}::timestamptz`);
  }
  return parts.length ? parts.join(' AND ') : 'TRUE';
}
