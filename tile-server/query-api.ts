// Spatial queries over HTTP (issue 5): incident lookup, analyst queries with exports, hot spots.
//   GET  /api/lookup?lon=&lat= | ?address= | ?layer=&id=   where is this, whose is it, what is around
//   POST /api/query                                          shape × layers × predicate → counts + features / export
//   GET  /api/hotspots?layer=&from=&to=&category=&cell=&bandwidth=&bbox=&eps=&minPts=
// Everything goes through a SpatialStore, so the embedded engine and PostGIS answer the same requests with
// the same JS around them (camera cones, sorting, limits). Input is checked here before any store sees it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CITY, getLayer, type LayerDef } from '../layers/catalog.ts';
import { createTransformer } from '../layers/crs.ts';
import { INCIDENT_CATEGORIES } from '../layers/incident-categories.ts';
import { bufferGeometry } from '../layers/query/buffer.ts';
import { compileFilters, QueryInputError } from '../layers/query/filters.ts';
import { clusters, kernelDensity } from '../layers/query/hotspot.ts';
import {
  MAX_DISTANCE_M, MAX_EXPORT_LIMIT, MAX_QUERY_LIMIT, PREDICATES,
  type AttributeFilter, type FeatureHit, type LayerQueryResult, type Predicate, type QuerySpec, type TimeFilter,
} from '../layers/query/types.ts';
import { validateGeometry } from '../layers/query/validate.ts';
import { coversPoint } from '../address-standards/links.ts';
import type { SpatialStore } from './storage/spatial-store.ts';
import type { AddressApi } from './address-api.ts';
import {
  CONTENT_TYPES, EXPORT_FORMATS, GEOJSON_HEAD, GEOJSON_TAIL, UTF8_BOM, attachment, csvColumns, csvFeatureRow, csvRow,
  encodeFgbExport, hitToFeature, pointOnGeometry, type ExportFormat,
} from './export-formats.ts';
import { HttpError, badRequest, notFound, sendJson } from './http-errors.ts';
import { readBody } from './request-body.ts';
import { parseBbox } from './params.ts';
import type { SecurityAudit } from './auth/audit.ts';
import { personalView, PersonalView } from './personal-data.ts';

export const QUERY_PATH = '/api/query';
export const QUERY_ROUTES = ['lookup', 'query', 'hotspots'] as const;
export const MAX_QUERY_BODY = 1024 * 1024;
/** Lookup: sensors, facilities and incidents within this many metres count as "around". */
export const LOOKUP_RADIUS_M = 300;
export const LOOKUP_LIST_MAX = 50;
export const LOOKUP_INCIDENTS = 10;
/** The nearest standard address is reported when within this distance (as /api/address/reverse). */
export const LOOKUP_ADDRESS_MAX_M = 1000;
export const DEFAULT_QUERY_LIMIT = 1000;
/** Exports page through the store this many features at a time, so memory stays bounded while streaming. */
export const EXPORT_PAGE = 5000;
export const HOTSPOT = {
  cell: { min: 50, max: 2000, def: 200 },
  bandwidth: { min: 100, max: 5000, def: 500 },
  eps: { min: 10, max: 2000, def: 150 },
  minPts: { min: 2, max: 1000, def: 5 },
  maxCells: 250_000,
  windowDays: 30,
} as const;

// ------------------------------------------------------------------------------------------ errors

/** A 400 whose body carries the offending position (`at`: [lon, lat]) next to code and message. */
export class GeometryHttpError extends HttpError {
  constructor(code: string, message: string, readonly at?: [number, number]) {
    super(400, code, message);
  }
}

function sendGeometryError(res: ServerResponse, err: GeometryHttpError, head: boolean): void {
  if (res.headersSent) { res.destroy(); return; }
  const body = JSON.stringify({ error: { code: err.code, message: err.message, ...(err.at ? { at: err.at } : {}) } });
  res.writeHead(400, {
    'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store', 'Access-Control-Allow-Origin': '*',
  });
  res.end(head ? undefined : body);
}

const unknownLayer = (id: string, known: string[]) =>
  badRequest('unknown_layer', `没有可查询的图层「${String(id).slice(0, 64)}」；可用：${known.join(', ')}。Unknown layer "${String(id).slice(0, 64)}"; queryable layers: ${known.join(', ')}.`);

// ------------------------------------------------------------------------------------------ parsing (pure)

/** A decimal degree within ±max; 400 bad_coordinate otherwise (also for non-numbers). */
export function parseCoordinate(s: string | null, name: 'lon' | 'lat'): number {
  const max = name === 'lon' ? 180 : 90;
  const v = s !== null && /^\s*[-+]?(\d{1,3}(\.\d{0,17})?|\.\d{1,17})\s*$/.test(s) ? Number(s) : NaN;
  if (!Number.isFinite(v) || Math.abs(v) > max) {
    throw badRequest('bad_coordinate', `${name} 必须是 -${max}..${max} 的十进制度数（WGS84），如 lon=120.75&lat=31.65。${name} must be decimal degrees within ±${max} (WGS84), e.g. lon=120.75&lat=31.65; got "${String(s).slice(0, 40)}".`);
  }
  return v;
}

/** A number parameter within [min, max]; `def` when absent. */
export function parseRange(s: string | null, name: string, r: { min: number; max: number; def: number }, integer = false): number {
  if (s === null || s === '') return r.def;
  const v = /^\s*\d{1,7}(\.\d{1,6})?\s*$/.test(s) ? Number(s) : NaN;
  if (!Number.isFinite(v) || v < r.min || v > r.max || (integer && !Number.isInteger(v))) {
    throw badRequest(`bad_${name.toLowerCase()}`, `${name} 必须是 ${r.min}–${r.max} 之间的${integer ? '整数' : '数'}（默认 ${r.def}）。${name} must be a${integer ? 'n integer' : ' number'} in ${r.min}–${r.max} (default ${r.def}); got "${s.slice(0, 40)}".`);
  }
  return v;
}

const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_SEC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?Z$/;

/**
 * An instant as the catalog's datetime text (`YYYY-MM-DDTHH:MM:SSZ`, UTC, whole seconds — so text order
 * is time order). Accepts that form, with milliseconds (truncated to the second), or a date (its 00:00 UTC).
 */
export function parseInstant(s: unknown, name: string): string {
  const bad = () => badRequest('bad_time', `${name} 须为 UTC 时间，如 2026-05-01 或 2026-05-01T08:00:00Z。${name} must be a UTC date or time such as 2026-05-01 or 2026-05-01T08:00:00Z; got "${String(s).slice(0, 40)}".`);
  if (typeof s !== 'string') throw bad();
  const d = ISO_DAY.exec(s);
  const t = d ? null : ISO_SEC.exec(s);
  if (!d && !t) throw bad();
  const text = d ? `${s}T00:00:00Z` : s.replace(/\.\d{1,3}Z$/, 'Z');
  const ms = Date.parse(text);
  // Date.parse rolls 2026-02-30 over to March; a round trip catches that.
  if (!Number.isFinite(ms) || isoSeconds(ms) !== text) throw bad();
  return text;
}

export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** A time window [from, to); both optional; from < to when both given. */
export function parseWindow(from: unknown, to: unknown): TimeFilter | undefined {
  const out: TimeFilter = {};
  if (from !== undefined && from !== null && from !== '') out.from = parseInstant(from, 'from');
  if (to !== undefined && to !== null && to !== '') out.to = parseInstant(to, 'to');
  if (out.from && out.to && !(out.from < out.to)) {
    throw badRequest('bad_time', `时间窗口起点须早于终点（[from, to)）。The window must start before it ends: from < to.`);
  }
  return out.from || out.to ? out : undefined;
}

export type QueryFormat = 'json' | ExportFormat;

export interface QueryRequest {
  geometry?: GeoJSON.Geometry;
  feature?: { layer: string; id: string };
  buffer: number;
  layers: string[];
  predicate: Predicate;
  distance: number;
  where: Record<string, AttributeFilter[]>;
  time?: TimeFilter;
  limit: number;
  format: QueryFormat;
}

const BODY_KEYS = new Set(['geometry', 'feature', 'buffer', 'layers', 'predicate', 'distance', 'where', 'time', 'limit', 'format']);

function metres(v: unknown, name: 'buffer' | 'distance'): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_DISTANCE_M) {
    throw badRequest(`bad_${name}`, `${name} 须为 0–${MAX_DISTANCE_M} 米的数。${name} must be a number of metres in 0–${MAX_DISTANCE_M}.`);
  }
  return v;
}

/**
 * Checks a parsed POST /api/query body against the catalog and the limits; throws HttpError (400) with a
 * stable code. `known` = layers the store serves.
 */
export function parseQueryBody(value: unknown, known: string[]): QueryRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest('bad_body', '正文须为 JSON 对象，如 {"geometry": {...}, "layers": ["cameras"], "predicate": "intersects"}。The body must be a JSON object such as {"geometry": {...}, "layers": ["cameras"], "predicate": "intersects"}.');
  }
  const b = value as Record<string, unknown>;
  for (const k of Object.keys(b)) {
    if (!BODY_KEYS.has(k)) throw badRequest('unknown_param', `不认识的字段「${k.slice(0, 40)}」；可用：${[...BODY_KEYS].join(', ')}。Unknown field "${k.slice(0, 40)}"; allowed: ${[...BODY_KEYS].join(', ')}.`);
  }
  const format = (b.format ?? 'json') as QueryFormat;
  if (format !== 'json' && !EXPORT_FORMATS.includes(format as ExportFormat)) {
    throw badRequest('bad_format', `format 须为 json、geojson、csv 或 fgb。format must be json, geojson, csv or fgb.`);
  }
  const buffer = metres(b.buffer, 'buffer');
  const predicate = (b.predicate ?? 'intersects') as Predicate;
  if (!PREDICATES.includes(predicate)) {
    throw badRequest('bad_predicate', `predicate 须为 ${PREDICATES.join('、')} 之一。predicate must be one of ${PREDICATES.join(', ')}.`);
  }
  // The shape: a geometry or a feature, exactly one.
  let geometry: GeoJSON.Geometry | undefined;
  let feature: { layer: string; id: string } | undefined;
  if ((b.geometry === undefined) === (b.feature === undefined)) {
    throw badRequest('missing_geometry', '须给出 geometry（GeoJSON 几何）或 feature（{layer, id}）之一。Give exactly one of geometry (a GeoJSON geometry) or feature ({layer, id}).');
  }
  if (b.geometry !== undefined) {
    const v = validateGeometry(b.geometry);
    if (!v.ok) throw new GeometryHttpError(v.code, v.message, v.at);
    geometry = v.geometry;
    if (predicate === 'dwithin' || buffer > 0) assertMeasurable(geometry);
  } else {
    const f = b.feature as { layer?: unknown; id?: unknown } | null;
    if (typeof f !== 'object' || f === null || typeof f.layer !== 'string' || typeof f.id !== 'string' || !f.id || f.id.length > 256) {
      throw badRequest('bad_feature', 'feature 须为 {"layer": "图层", "id": "要素标识"}。feature must be {"layer": "<layer id>", "id": "<feature id>"}.');
    }
    if (!known.includes(f.layer)) throw unknownLayer(f.layer, known);
    feature = { layer: f.layer, id: f.id };
  }
  // Layers.
  if (!Array.isArray(b.layers) || b.layers.length === 0 || b.layers.length > known.length) {
    throw badRequest('unknown_layer', `layers 须为非空的图层 id 数组；可用：${known.join(', ')}。layers must be a non-empty array of layer ids; available: ${known.join(', ')}.`);
  }
  const layers: string[] = [];
  for (const l of b.layers) {
    if (typeof l !== 'string' || !known.includes(l)) throw unknownLayer(String(l), known);
    if (!layers.includes(l)) layers.push(l);
  }
  // Distance.
  if (predicate === 'dwithin' && b.distance === undefined) {
    throw badRequest('bad_distance', `dwithin 需要 distance（0–${MAX_DISTANCE_M} 米）。dwithin needs distance (metres, 0–${MAX_DISTANCE_M}).`);
  }
  const distance = metres(b.distance, 'distance');
  if (predicate === 'dwithin' && distance + buffer > MAX_DISTANCE_M) {
    throw badRequest('bad_distance', `distance 与 buffer 之和不能超过 ${MAX_DISTANCE_M} 米。distance + buffer must not exceed ${MAX_DISTANCE_M} m.`);
  }
  // Filters: validated per layer against the catalog (the stores compile them again).
  const time = b.time === undefined || b.time === null ? undefined : parseTimeObject(b.time);
  const where: Record<string, AttributeFilter[]> = {};
  if (b.where !== undefined && b.where !== null) {
    if (typeof b.where !== 'object' || Array.isArray(b.where)) {
      throw badRequest('bad_filter', 'where 须为 {图层: [条件, …]}。where must be an object {layer: [filters…]}.');
    }
    for (const [layer, list] of Object.entries(b.where as Record<string, unknown>)) {
      if (!layers.includes(layer)) throw badRequest('bad_filter', `where 中的图层「${layer.slice(0, 64)}」不在 layers 中。where names layer "${layer.slice(0, 64)}", which is not in layers.`);
      if (!Array.isArray(list)) throw badRequest('bad_filter', `where.${layer} 须为条件数组。where.${layer} must be an array of filters.`);
      where[layer] = list as AttributeFilter[];
    }
  }
  for (const layer of layers) {
    const def = getLayer(layer)!;
    try {
      compileFilters(def, where[layer], def.time ? time : undefined);
    } catch (err) {
      if (err instanceof QueryInputError) throw badRequest('bad_filter', err.message);
      throw err;
    }
  }
  // Limit.
  const max = format === 'json' ? MAX_QUERY_LIMIT : MAX_EXPORT_LIMIT;
  let limit = format === 'json' ? DEFAULT_QUERY_LIMIT : MAX_EXPORT_LIMIT;
  if (b.limit !== undefined && b.limit !== null) {
    if (typeof b.limit !== 'number' || !Number.isInteger(b.limit) || b.limit < 0) {
      throw badRequest('bad_limit', `limit 须为 0–${max} 的整数（0 = 只计数）。limit must be an integer 0–${max} (0 = counts only).`);
    }
    if (b.limit > max) {
      throw badRequest('limit_too_large', `limit 最大 ${max}${format === 'json' ? `；更多结果请导出（format: csv/geojson/fgb，最多 ${MAX_EXPORT_LIMIT}）` : ''}。limit is at most ${max}${format === 'json' ? `; export more with format csv/geojson/fgb (up to ${MAX_EXPORT_LIMIT})` : ''}.`);
    }
    limit = b.limit;
  }
  if (format === 'fgb' && layers.length !== 1) {
    throw badRequest('fgb_one_layer', 'FlatGeobuf 每个文件只含一个图层：请只选一个图层，或改用 CSV / GeoJSON 导出多个图层。A FlatGeobuf file holds one layer: choose one layer, or export several as CSV or GeoJSON.');
  }
  return { geometry, feature, buffer, layers, predicate, distance, where, time, limit, format };
}

function parseTimeObject(t: unknown): TimeFilter | undefined {
  if (typeof t !== 'object' || t === null || Array.isArray(t)) {
    throw badRequest('bad_time', 'time 须为 {"from": "…", "to": "…"}（UTC，[from, to)）。time must be {"from": "…", "to": "…"} (UTC, half-open [from, to)).');
  }
  const o = t as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'from' && k !== 'to') throw badRequest('bad_time', `time 只能有 from 和 to。time takes only from and to (got "${k.slice(0, 40)}").`);
  return parseWindow(o.from, o.to);
}

/**
 * Distances are planar metres in the city's Gauss–Krüger zone (EPSG:4549, CM 120°E), which layers/crs.ts
 * (and so both stores) accepts up to 60° of longitude from the central meridian. A shape measured in
 * metres must lie there; elsewhere a distance has no meaning, so say so instead of failing in a store.
 */
export const GK_LON_RANGE: [number, number] = [60, 180];

function assertMeasurable(g: GeoJSON.Geometry): void {
  const bad = (lon: number) => badRequest('bad_coordinate', `按米计算的查询（dwithin、buffer）只能用于 ${GK_LON_RANGE[0]}°–${GK_LON_RANGE[1]}°E 的几何（城市所在的高斯–克吕格投影带）；经度 ${lon} 超出。Queries in metres (dwithin, buffer) need geometry within ${GK_LON_RANGE[0]}–${GK_LON_RANGE[1]}°E (the city's Gauss–Krüger zone); longitude ${lon} is outside.`);
  const walk = (c: unknown): void => {
    if (Array.isArray(c) && typeof c[0] === 'number') {
      if (!(c[0] >= GK_LON_RANGE[0] && c[0] <= GK_LON_RANGE[1])) throw bad(c[0]);
    } else if (Array.isArray(c)) for (const x of c) walk(x);
  };
  if (g.type === 'GeometryCollection') g.geometries.forEach(assertMeasurable);
  else walk(g.coordinates);
}

/** How one layer is asked, after applying the buffer (see README "buffer"). */
export interface LayerPlan { predicate: Predicate; geometry: GeoJSON.Geometry; distanceM?: number }

/**
 * Buffer rules. Without a buffer the request goes as it is. With one:
 *   intersects → dwithin(buffer) on the unbuffered shape (exact: "within buffer metres of the shape");
 *   dwithin d  → dwithin(d + buffer);
 *   within     → points: dwithin(buffer) (a point is covered by the buffer iff it is that close);
 *                lines/polygons: within the polygon bufferGeometry makes (an approximation of the round ends);
 *   contains   → contains the buffer polygon.
 */
export function planLayer(req: Pick<QueryRequest, 'predicate' | 'buffer' | 'distance'>, def: LayerDef, shape: GeoJSON.Geometry, buffered: () => GeoJSON.Geometry): LayerPlan {
  const { predicate, buffer, distance } = req;
  if (predicate === 'dwithin') return { predicate, geometry: shape, distanceM: distance + buffer };
  if (buffer <= 0) return { predicate, geometry: shape };
  if (predicate === 'intersects' || (predicate === 'within' && def.geometry === 'point')) return { predicate: 'dwithin', geometry: shape, distanceM: buffer };
  return { predicate, geometry: buffered() };
}

// ------------------------------------------------------------------------------------------ the API

const json = (res: ServerResponse, v: unknown, head: boolean) => sendJson(res, v, { head, cacheControl: 'no-store' });
const round1 = (v: number | undefined) => (v === undefined ? undefined : Math.round(v * 10) / 10);
const byDistanceThenId = (a: FeatureHit, b: FeatureHit) => (a.distanceM ?? 0) - (b.distanceM ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const pointGeom = (lon: number, lat: number): GeoJSON.Point => ({ type: 'Point', coordinates: [lon, lat] });

function flat(hit: FeatureHit, layer: string, view: PersonalView): Record<string, unknown> {
  const [lon, lat] = pointOnGeometry(hit.geometry) ?? [null, null];
  return { ...view.propsOf(layer, hit.properties), id: hit.id, lon, lat, distanceM: round1(hit.distanceM) };
}

/** The hit with its personal fields as the caller may see them (exports and JSON answers alike). */
const shown = (hit: FeatureHit, layer: string, view: PersonalView): FeatureHit => {
  const p = view.propsOf(layer, hit.properties);
  return p === hit.properties ? hit : { ...hit, properties: p };
};

/** 403 unless the caller may see the layer (role, grade, sharing grants: layers/governance/access.ts). */
function assertVisible(view: PersonalView, layer: string): void {
  const def = getLayer(layer);
  if (def) view.check(def);
}

/**
 * A sharing grant shows some fields: filtering on any other (or on the time field when it is withheld) would
 * tell its values through the counts, so it is refused — only the fields every grant of the caller shows.
 */
function assertFilterable(view: PersonalView, def: LayerDef, where: AttributeFilter[] | undefined, time: TimeFilter | undefined): void {
  const ok = view.grantFields(def, true);
  if (!ok) return;
  const names = [...(where ?? []).map((f) => String(f.field)), ...(def.time && time ? [def.time] : [])];
  const bad = names.find((n) => !ok.has(n));
  if (bad !== undefined) {
    throw new HttpError(403, 'field_not_granted', `共享授权未包含图层「${def.title}」的字段 ${bad.slice(0, 40)}，不能按它筛选（可用：${[...ok].join('、')}）。Your sharing grant on ${def.id} does not include field ${bad.slice(0, 40)}: you cannot filter on it (allowed: ${[...ok].join(', ')}).`);
  }
}

/** A layer def whose fields are the ones the caller's grants show (export schemas and CSV columns). */
function shownDef(view: PersonalView, def: LayerDef): LayerDef {
  const keep = view.grantFields(def);
  return keep ? { ...def, fields: def.fields.filter((f) => keep.has(f.name)) } : def;
}

export class QueryApi {
  private maxCameraRange?: Promise<number>;
  private timeExtent = new Map<string, Promise<{ min: number; max: number; count: number }>>();

  /** `audit` records personal data sent in full (tile-server/personal-data.ts). */
  constructor(readonly store: SpatialStore, private readonly address?: AddressApi, private readonly audit?: SecurityAudit) {}

  /** `s` = decoded path segments starting with 'api' and s[1] one of QUERY_ROUTES. */
  async handle(req: IncomingMessage, res: ServerResponse, s: string[], query: string, head: boolean): Promise<void> {
    try {
      if (s.length !== 2) throw notFound('not_found', '没有这个接口；应为 /api/lookup、/api/query 或 /api/hotspots。No such route: use /api/lookup, /api/query or /api/hotspots.');
      const post = req.method === 'POST';
      const view = personalView(req, this.audit);
      if (s[1] === 'query') {
        if (!post) throw new HttpError(405, 'method_not_allowed', '查询请用 POST，正文为 JSON。Use POST with a JSON body.', { Allow: 'POST, OPTIONS' });
        await this.query(req, res, view);
        return view.done(`POST /api/query`);
      }
      if (post) throw new HttpError(405, 'method_not_allowed', `/api/${s[1]} 只接受 GET。/api/${s[1]} accepts GET only.`, { Allow: 'GET, HEAD, OPTIONS' });
      const q = new URLSearchParams(query);
      if (s[1] === 'lookup') {
        await this.lookup(res, q, head, view);
        return view.done(`GET /api/lookup?${query.slice(0, 300)}`);
      }
      if (s[1] === 'hotspots') {
        await this.hotspots(res, q, head, view);
        return view.done(`GET /api/hotspots?${query.slice(0, 300)}`);
      }
      throw notFound('not_found', '没有这个接口。No such route.');
    } catch (err) {
      if (err instanceof GeometryHttpError) return sendGeometryError(res, err, head);
      if (err instanceof QueryInputError) throw badRequest(err.code || 'bad_filter', err.message);
      throw err;
    }
  }

  private layers(): string[] {
    return this.store.layers();
  }

  /**
   * store.query as the caller may see it: for a layer they see under a sharing grant, every match is read and
   * the rows outside the grants' areas dropped before counting and paging (so `count` does not leak them).
   * Graded layers are small (hundreds of rows); full access goes straight to the store.
   */
  private async run(spec: QuerySpec, view: PersonalView): Promise<LayerQueryResult> {
    const def = getLayer(spec.layer);
    if (!def || view.access(def).kind === 'full') return this.store.query(spec);
    const all: FeatureHit[] = [];
    for (let offset = 0; ; offset += MAX_QUERY_LIMIT) {
      const r = await this.store.query({ ...spec, limit: MAX_QUERY_LIMIT, offset });
      for (const h of r.features) if (view.allows(def, h.properties)) all.push(h);
      if (r.features.length === 0 || offset + r.features.length >= r.count) break;
    }
    const off = spec.offset ?? 0;
    return { layer: spec.layer, count: all.length, features: all.slice(off, off + spec.limit) };
  }

  // ---------------------------------------------------------------- lookup

  private async lookup(res: ServerResponse, q: URLSearchParams, head: boolean, view: PersonalView): Promise<void> {
    const known = this.layers();
    let lon: number, lat: number;
    let origin: Record<string, unknown>;
    const text = q.get('address');
    const layer = q.get('layer'), id = q.get('id');
    if (text !== null) {
      if (!text.trim() || [...text].length > 200) throw badRequest('bad_address', 'address 须为 1–200 字的地址文本。address must be 1–200 characters of address text.');
      if (!this.address) throw new HttpError(503, 'address_index_unavailable', '标准地址库未启用。The address index is not available on this server.');
      let data;
      try {
        data = await this.address.warm();
      } catch (err) {
        throw new HttpError(503, 'address_index_unavailable', `标准地址库不可用：${(err as Error).message.slice(0, 200)}。请运行 npm run data 后重试。The address index could not be built; run npm run data and retry.`, { 'Retry-After': '10' });
      }
      const m = data.index.search(text, 1)[0];
      if (!m) throw notFound('address_not_found', `找不到地址「${text.slice(0, 64)}」；请换一种写法或用 /api/address/search 查看候选。No address matches this text; rephrase it or see candidates at /api/address/search.`);
      lon = m.lon; lat = m.lat;
      origin = { source: 'address', address: { text, code: m.record.code, full: m.record.full, score: m.score, reason: m.reason } };
    } else if (layer !== null || id !== null) {
      if (!layer || !known.includes(layer)) throw unknownLayer(layer ?? '', known);
      if (!id || id.length > 256) throw badRequest('bad_id', '缺少 id 或 id 过长（最长 256 字符）。Missing or over-long id (≤ 256 characters).');
      assertVisible(view, layer);
      const found = await this.store.getFeature(layer, id);
      // Outside the caller's grant: the same 404 as an absent feature.
      const hit = found && view.allowsOf(layer, found.properties) ? found : null;
      if (!hit) throw notFound('not_found', `图层 ${layer} 中没有要素 ${id.slice(0, 64)}。No feature "${id.slice(0, 64)}" in layer ${layer}.`);
      const p = pointOnGeometry(hit.geometry);
      if (!p) throw notFound('not_found', `要素 ${id.slice(0, 64)} 没有几何。Feature "${id.slice(0, 64)}" has no geometry.`);
      [lon, lat] = p;
      origin = { source: 'feature', feature: { layer, id, name: view.propsOf(layer, hit.properties).name ?? null } };
    } else {
      if (q.get('lon') === null || q.get('lat') === null) {
        throw badRequest('bad_coordinate', '须给出 lon 和 lat（或 address，或 layer 和 id）。Give lon and lat (or address, or layer and id), e.g. ?lon=120.75&lat=31.65.');
      }
      lon = parseCoordinate(q.get('lon'), 'lon');
      lat = parseCoordinate(q.get('lat'), 'lat');
      origin = { source: 'point' };
    }
    json(res, { query: { lon, lat, ...origin }, ...(await this.lookupAt(lon, lat, view)) }, head);
  }

  /** Everything the lookup card shows about one point. Exposed for the benchmark and tests. */
  async lookupAt(lon: number, lat: number, view: PersonalView = PersonalView.masked()): Promise<Record<string, unknown>> {
    // Far from the city nothing is within the lookup radii, and metres are undefined outside the GK zone:
    // answer the lists empty without asking the store.
    const [w, s, e, n] = CITY.bounds;
    const near = lon >= w - 1 && lon <= e + 1 && lat >= s - 1 && lat <= n + 1;
    const known = new Set(near ? this.layers() : []);
    const pt = pointGeom(lon, lat);
    const around = (layer: string) => known.has(layer)
      ? this.store.query({ layer, geometry: pt, predicate: 'dwithin', distanceM: LOOKUP_RADIUS_M, limit: MAX_QUERY_LIMIT }).then((r) => r.features)
      : Promise.resolve([] as FeatureHit[]);
    const [admin, addr, cams, sensors, facilities, incidents] = await Promise.all([
      this.store.adminAt(lon, lat),
      known.has('addresses') ? this.store.nearest({ layer: 'addresses', lon, lat, k: 1, maxDistanceM: LOOKUP_ADDRESS_MAX_M }) : Promise.resolve([]),
      this.coveringCameras(lon, lat, known.has('cameras')),
      around('sensors'), around('facilities'), known.has('incidents') ? this.recentIncidents(pt) : Promise.resolve([] as FeatureHit[]),
    ]);
    const a = addr[0];
    const kinds = (hits: FeatureHit[]) => {
      const out: Record<string, number> = {};
      for (const h of hits) { const k = String(h.properties.kind ?? 'other'); out[k] = (out[k] ?? 0) + 1; }
      return out;
    };
    sensors.sort(byDistanceThenId);
    facilities.sort(byDistanceThenId);
    const recent = incidents
      .sort((x, y) => {
        const tx = String(x.properties.reported_at ?? ''), ty = String(y.properties.reported_at ?? '');
        return tx < ty ? 1 : tx > ty ? -1 : x.id < y.id ? -1 : x.id > y.id ? 1 : 0;
      })
      .slice(0, LOOKUP_INCIDENTS);
    // The grid manager's name and phone are the grids layer's personal fields.
    let grid = admin.grid;
    if (grid?.manager) {
      const p = view.propsOf('grids', { code: grid.code, manager_name: grid.manager.name, manager_phone: grid.manager.phone });
      grid = { ...grid, manager: { ...grid.manager, name: String(p.manager_name ?? ''), phone: String(p.manager_phone ?? '') } };
    }
    return {
      town: admin.town, village: admin.village, grid,
      address: a ? { code: String(a.properties.code ?? a.id), full: String(a.properties.full ?? ''), lon: (a.geometry as GeoJSON.Point).coordinates[0], lat: (a.geometry as GeoJSON.Point).coordinates[1], distanceM: round1(a.distanceM) } : null,
      cameras: cams.map((h) => flat(h, 'cameras', view)),
      sensors: sensors.slice(0, LOOKUP_LIST_MAX).map((h) => flat(h, 'sensors', view)),
      facilities: facilities.slice(0, LOOKUP_LIST_MAX).map((h) => flat(h, 'facilities', view)),
      nearby: { sensors: kinds(sensors), facilities: kinds(facilities) },
      radiusM: LOOKUP_RADIUS_M,
      incidents: recent.map((h) => flat(h, 'incidents', view)),
      store: this.store.kind,
    };
  }

  /**
   * Incidents within the lookup radius, enough to hold the LOOKUP_INCIDENTS newest. Only those are shown,
   * so ask first for the newest 30 / 120 days of the data: every hit outside such a window is strictly
   * older than every hit inside it (and undated ones sort last), so a window holding ≥ LOOKUP_INCIDENTS
   * hits gives the same newest ones as the whole year — without decoding the hundreds of older incidents
   * around a point in the old town (which made the lookup's p95 ~9 ms on the embedded store).
   */
  private async recentIncidents(pt: GeoJSON.Point): Promise<FeatureHit[]> {
    const base = { layer: 'incidents', geometry: pt, predicate: 'dwithin' as const, distanceM: LOOKUP_RADIUS_M, limit: MAX_QUERY_LIMIT };
    const ext = await this.timeExtentOf('incidents');
    if (ext.count) {
      for (const days of [30, 120]) {
        const r = await this.store.query({ ...base, time: { from: isoSeconds(ext.max - days * 86_400_000) } });
        if (r.features.length >= LOOKUP_INCIDENTS && r.count === r.features.length) return r.features;
      }
    }
    return (await this.store.query(base)).features;
  }

  /** Cameras whose view cone covers the point: candidates within the largest camera range from the store,
   *  then the same JS cone test (`coversPoint`) for both stores. */
  private async coveringCameras(lon: number, lat: number, has: boolean): Promise<FeatureHit[]> {
    if (!has) return [];
    const range = await this.cameraRange();
    if (!(range > 0)) return [];
    const r = await this.store.query({ layer: 'cameras', geometry: pointGeom(lon, lat), predicate: 'dwithin', distanceM: Math.min(range, MAX_DISTANCE_M), limit: MAX_QUERY_LIMIT });
    return r.features.filter((h) => {
      const [clon, clat] = (h.geometry as GeoJSON.Point).coordinates;
      const p = h.properties;
      return coversPoint({ lon: clon, lat: clat, heading: Number(p.heading), fov: Number(p.fov), range_m: Number(p.range_m) }, lon, lat);
    }).sort(byDistanceThenId);
  }

  /** The largest range_m over all cameras, read once (paged, so any number of cameras works). */
  private cameraRange(): Promise<number> {
    if (!this.maxCameraRange) {
      const world: GeoJSON.Polygon = { type: 'Polygon', coordinates: [[[-180, -90], [180, -90], [180, 90], [-180, 90], [-180, -90]]] };
      this.maxCameraRange = (async () => {
        let max = 0;
        for (let offset = 0; ; offset += MAX_QUERY_LIMIT) {
          const r = await this.store.query({ layer: 'cameras', geometry: world, predicate: 'intersects', limit: MAX_QUERY_LIMIT, offset });
          for (const h of r.features) { const v = Number(h.properties.range_m); if (v > max) max = v; }
          if (offset + r.features.length >= r.count || r.features.length === 0) break;
        }
        return max;
      })();
      this.maxCameraRange.catch(() => { this.maxCameraRange = undefined; });
    }
    return this.maxCameraRange;
  }

  // ---------------------------------------------------------------- query

  private async query(req: IncomingMessage, res: ServerResponse, view: PersonalView): Promise<void> {
    const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') {
      req.resume();
      throw new HttpError(415, 'unsupported_media_type', '请求正文须为 JSON（Content-Type: application/json）。Send Content-Type: application/json.');
    }
    const body = await readBody(req, MAX_QUERY_BODY, 8 * MAX_QUERY_BODY);
    if (body === null) throw new HttpError(413, 'body_too_large', `请求正文超过 ${MAX_QUERY_BODY / 1024 / 1024} MiB；请简化几何（最多 20000 个顶点）。Body larger than 1 MiB: simplify the geometry.`, { Connection: 'close' });
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      throw badRequest('bad_json', '正文不是合法的 JSON。The body is not valid JSON.');
    }
    const known = this.layers();
    const r = parseQueryBody(value, known);
    for (const l of r.layers) assertVisible(view, l);
    if (r.feature) assertVisible(view, r.feature.layer);
    for (const l of r.layers) assertFilterable(view, getLayer(l)!, r.where[l], r.time);
    let shape: GeoJSON.Geometry;
    if (r.feature) {
      const found = await this.store.getFeature(r.feature.layer, r.feature.id);
      const hit = found && view.allowsOf(r.feature.layer, found.properties) ? found : null;
      if (!hit) throw notFound('not_found', `图层 ${r.feature.layer} 中没有要素 ${r.feature.id.slice(0, 64)}。No feature "${r.feature.id.slice(0, 64)}" in layer ${r.feature.layer}.`);
      shape = hit.geometry;
    } else shape = r.geometry!;
    let buf: GeoJSON.Geometry | undefined;
    const buffered = () => (buf ??= bufferGeometry(shape, r.buffer));
    const plans = r.layers.map((layer) => ({ layer, def: getLayer(layer)!, plan: planLayer(r, getLayer(layer)!, shape, buffered) }));
    const spec = (layer: string, def: LayerDef, plan: LayerPlan, limit: number, offset: number) => ({
      layer, geometry: plan.geometry, predicate: plan.predicate, distanceM: plan.distanceM,
      where: r.where[layer], time: def.time ? r.time : undefined, limit, offset,
    });

    if (r.format === 'json') {
      let remaining = r.limit;
      const layers: { layer: string; count: number; returned: number }[] = [];
      const features: GeoJSON.Feature[] = [];
      for (const { layer, def, plan } of plans) {
        const out = await this.run(spec(layer, def, plan, remaining, 0), view);
        remaining -= out.features.length;
        layers.push({ layer, count: out.count, returned: out.features.length });
        for (const h of out.features) features.push(hitToFeature(shown(h, layer, view)));
      }
      const body: Record<string, unknown> = { layers, features: { type: 'FeatureCollection', features }, store: this.store.kind };
      if (r.buffer > 0) body.shape = buffered();
      json(res, body, false);
      return;
    }

    const stamp = new Date().toISOString().slice(0, 10).replace(/-/g, '');
    const name = `onemap-${r.layers.join('-')}-${stamp}`;
    if (r.format === 'fgb') {
      const { layer, def, plan } = plans[0];
      const hits: FeatureHit[] = [];
      for (let offset = 0; hits.length < r.limit;) {
        const out = await this.run(spec(layer, def, plan, Math.min(EXPORT_PAGE, r.limit - hits.length), offset), view);
        for (const h of out.features) hits.push(shown(h, layer, view));
        offset += out.features.length;
        if (out.features.length === 0 || offset >= out.count) break;
      }
      const bytes = encodeFgbExport(layer, shownDef(view, def).fields, hits);
      res.writeHead(200, {
        'Content-Type': CONTENT_TYPES.fgb, 'Content-Length': bytes.byteLength, 'Content-Disposition': attachment(name, 'fgb'),
        'Cache-Control': 'no-store', 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'Content-Disposition',
      });
      res.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return;
    }

    // CSV / GeoJSON: stream page by page; the headers go out with the first page, so an error before
    // then is still a JSON error, and one after it ends the connection (the client sees a truncated file).
    const first = await this.run(spec(plans[0].layer, plans[0].def, plans[0].plan, Math.min(EXPORT_PAGE, r.limit), 0), view);
    res.writeHead(200, {
      'Content-Type': CONTENT_TYPES[r.format], 'Content-Disposition': attachment(name, r.format),
      'Cache-Control': 'no-store', 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'Content-Disposition',
    });
    const csv = r.format === 'csv';
    const columns = csv ? csvColumns(plans.map((p) => shownDef(view, p.def))) : [];
    await write(res, csv ? UTF8_BOM + csvRow(columns) : GEOJSON_HEAD);
    let written = 0;
    for (let i = 0; i < plans.length && written < r.limit; i++) {
      const { layer, def, plan } = plans[i];
      for (let offset = 0; written < r.limit;) {
        const out = i === 0 && offset === 0 ? first : await this.run(spec(layer, def, plan, Math.min(EXPORT_PAGE, r.limit - written), offset), view);
        let chunk = '';
        for (const h of out.features) {
          const v = shown(h, layer, view);
          chunk += csv ? csvFeatureRow(columns, v) : (written > 0 ? ',\n' : '') + JSON.stringify(hitToFeature(v));
          written++;
        }
        if (res.destroyed) return;
        if (chunk) await write(res, chunk);
        offset += out.features.length;
        if (out.features.length === 0 || offset >= out.count) break;
      }
    }
    res.end(csv ? undefined : GEOJSON_TAIL);
  }

  // ---------------------------------------------------------------- hot spots

  private async hotspots(res: ServerResponse, q: URLSearchParams, head: boolean, view: PersonalView): Promise<void> {
    const known = this.layers();
    const layer = q.get('layer') ?? 'incidents';
    if (!known.includes(layer)) throw unknownLayer(layer, known);
    assertVisible(view, layer);
    const def = getLayer(layer)!;
    if (def.geometry !== 'point') throw badRequest('not_point_layer', `热点分析只用于点图层；${layer} 不是点图层。Hot spots need a point layer; ${layer} is not one.`);
    const cell = parseRange(q.get('cell'), 'cell', HOTSPOT.cell);
    const bandwidth = parseRange(q.get('bandwidth'), 'bandwidth', HOTSPOT.bandwidth);
    const eps = parseRange(q.get('eps'), 'eps', HOTSPOT.eps);
    const minPts = parseRange(q.get('minPts'), 'minPts', HOTSPOT.minPts, true);
    const bbox = (q.get('bbox') ? parseBbox(q.get('bbox')!) : [...CITY.bounds]) as [number, number, number, number];
    if (bbox[0] < GK_LON_RANGE[0] || bbox[2] > GK_LON_RANGE[1] || bbox[0] === bbox[2] || bbox[1] === bbox[3]) {
      throw badRequest('bad_bbox', `热点网格按米划分，bbox 须在 ${GK_LON_RANGE[0]}°–${GK_LON_RANGE[1]}°E 内且面积不为零。The density grid is in metres: bbox must lie within ${GK_LON_RANGE[0]}–${GK_LON_RANGE[1]}°E and have a non-zero area.`);
    }
    const cells = gridSize(bbox, cell);
    if (cells.cols * cells.rows > HOTSPOT.maxCells) {
      throw badRequest('grid_too_large', `网格 ${cells.cols}×${cells.rows} 超过 ${HOTSPOT.maxCells} 个单元；请增大 cell 或缩小 bbox。The grid would have ${cells.cols}×${cells.rows} cells (> ${HOTSPOT.maxCells}): raise cell or shrink bbox.`);
    }
    const where: AttributeFilter[] = [];
    const cat = q.get('category');
    if (cat) {
      const codes = cat.split(',').map((c) => c.trim()).filter(Boolean);
      if (!def.fields.some((f) => f.name === 'category')) throw badRequest('bad_filter', `图层 ${layer} 没有 category 字段。Layer ${layer} has no category field.`);
      if (layer === 'incidents') {
        const bad = codes.find((c) => !INCIDENT_CATEGORIES.some((k) => k.code === c));
        if (bad !== undefined) throw badRequest('bad_filter', `未知事件类别「${bad.slice(0, 20)}」；类别代码见 layers/incident-categories.ts，如 0101、1102。Unknown incident category "${bad.slice(0, 20)}"; use codes such as 0101 or 1102.`);
      }
      if (codes.length > 0) where.push({ field: 'category', op: 'in', value: codes });
    }
    let window: TimeFilter | undefined = parseWindow(q.get('from'), q.get('to'));
    let extent: { from: string; to: string; count: number } | null = null;
    if (def.time) {
      const ext = await this.timeExtentOf(layer);
      extent = ext.count ? { from: isoSeconds(ext.min), to: isoSeconds(ext.max + 1000), count: ext.count } : null;
      // Default: the last 30 days of the data (the data is a year of history, not live).
      if (!window?.from && !window?.to && extent) {
        const to = extent.to;
        window = { from: isoSeconds(Date.parse(to) - HOTSPOT.windowDays * 86_400_000), to };
      } else if (window && !window.from && window.to) window.from = isoSeconds(Date.parse(window.to) - HOTSPOT.windowDays * 86_400_000);
      else if (window && window.from && !window.to) window.to = isoSeconds(Date.parse(window.from) + HOTSPOT.windowDays * 86_400_000);
    } else if (window) {
      throw badRequest('bad_time', `图层 ${layer} 没有时间字段，不能按时间筛选。Layer ${layer} has no time field: drop from/to.`);
    }
    const [w, s, e, n] = bbox;
    const area: GeoJSON.Polygon = { type: 'Polygon', coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]] };
    assertFilterable(view, def, where, window);
    let pts = await this.store.points({ layer, geometry: area, where: where.length ? where : undefined, time: window });
    if (view.access(def).kind !== 'full') {
      // Under a sharing grant: only the points inside its areas count.
      const rows = (await this.run({ layer, geometry: area, predicate: 'intersects', where: where.length ? where : undefined, time: window, limit: MAX_EXPORT_LIMIT }, view)).features;
      for (const r of rows) view.props(def, r.properties); // counted as the grant's use
      const ids = new Set(rows.map((r) => r.id));
      const keep: number[] = [];
      pts.ids.forEach((id, i) => { if (ids.has(id)) keep.push(i); });
      pts = {
        ids: keep.map((i) => pts.ids[i]),
        times: Float64Array.from(keep, (i) => pts.times[i]),
        coords: Float64Array.from(keep.flatMap((i) => [pts.coords[2 * i], pts.coords[2 * i + 1]])),
      };
    }
    const grid = kernelDensity(pts.coords, { cellM: cell, bandwidthM: bandwidth, bbox });
    const cl = clusters(pts.coords, { epsM: eps, minPts })
      .sort((a, b) => b.count - a.count || a.id - b.id)
      .map((c) => ({ id: c.id, count: c.count, center: c.center, bbox: c.bbox, ids: c.members.slice(0, 20).map((i) => pts.ids[i]) }));
    const values = new Array<number>(grid.values.length);
    for (let i = 0; i < values.length; i++) { const v = grid.values[i]; values[i] = v === 0 ? 0 : Number(v.toPrecision(4)); }
    json(res, {
      // The layer's time extent counts every row: not said to a caller who sees some rows only.
      layer, window: window ?? null, extent: view.access(def).kind === 'full' ? extent : null, count: pts.ids.length,
      params: { cell, bandwidth, eps, minPts, bbox, category: where.length ? where[0].value : null },
      grid: { west: grid.west, south: grid.south, east: grid.east, north: grid.north, cols: grid.cols, rows: grid.rows, cellM: grid.cellM, max: grid.max, values },
      clusters: cl, store: this.store.kind,
    }, head);
  }

  private timeExtentOf(layer: string): Promise<{ min: number; max: number; count: number }> {
    let p = this.timeExtent.get(layer);
    if (!p) {
      p = this.store.points({ layer }).then(({ times }) => {
        let min = Infinity, max = -Infinity, count = 0;
        for (const t of times) if (Number.isFinite(t)) { count++; if (t < min) min = t; if (t > max) max = t; }
        return { min, max, count };
      });
      p.catch(() => this.timeExtent.delete(layer));
      this.timeExtent.set(layer, p);
    }
    return p;
  }
}

const toGK = createTransformer('EPSG:4326', 'EPSG:4549');

/** Columns and rows of a density grid over a lon/lat box with square cells of `cellM` metres (GK extents). */
export function gridSize(bbox: [number, number, number, number], cellM: number): { cols: number; rows: number } {
  const [w, s, e, n] = bbox;
  const c = [toGK(w, s), toGK(e, s), toGK(e, n), toGK(w, n)];
  const xs = c.map((p) => p[0]), ys = c.map((p) => p[1]);
  const width = Math.max(...xs) - Math.min(...xs), height = Math.max(...ys) - Math.min(...ys);
  return { cols: Math.max(1, Math.ceil(width / cellM)), rows: Math.max(1, Math.ceil(height / cellM)) };
}

function write(res: ServerResponse, chunk: string): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { res.off('drain', done); res.off('close', done); resolve(); };
    res.on('drain', done);
    res.on('close', done);
  });
}

