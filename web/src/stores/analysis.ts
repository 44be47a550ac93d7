// The analyst panel's state (issue 5 item 5): a query shape (a drawn polygon/circle/line, a selected
// feature, or a road found by name, each with an optional buffer), the layers to search, the predicate,
// one attribute filter and an incident time window → POST /api/query (tile-server/query-api.ts) →
// counts per layer and a paged result table linked to the map; exports of the same query as CSV,
// GeoJSON or FlatGeobuf downloads. Features sit in shallowRefs: never deep-reactive.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { CITY, getLayer, type LayerDef } from '../../../layers/catalog.ts';
import { MAX_DISTANCE_M, PREDICATES, type AttributeFilter, type FilterOp, type Predicate } from '../../../layers/query/types.ts';
import type { LonLat } from '../map/engine.ts';
import { circleRing } from '../map/measure.ts';
import { queryOverlays, type MapOverlay } from '../map/overlays.ts';
import { apiFailure } from './lookup.ts';

export { PREDICATES };
export type ExportFormat = 'csv' | 'geojson' | 'fgb';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['csv', 'geojson', 'fgb'];
/** Layers an analyst searches (points, lines, polygons with feature ids; not the basemap's land cover). */
export const QUERY_LAYERS = ['addresses', 'cameras', 'sensors', 'facilities', 'incidents', 'buildings', 'grids', 'villages', 'roads'] as const;
export const FILTER_OPS: readonly FilterOp[] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'prefix', 'contains'];
/** Features fetched per layer for the table (the server's default page); counts are always complete. */
export const RESULT_LIMIT = 1000;
export const PAGE_SIZE = 50;

export type ShapeSource = 'drawn' | 'feature' | 'road';
export interface FeatureRef { layer: string; id: string; name: string; lonLat?: LonLat }
export interface RoadPick { name: string; geometry: GeoJSON.Geometry; segments: number }
export interface FilterInput { layer: string; field: string; op: FilterOp; value: string }
export interface QueryInput {
  source: ShapeSource;
  drawn: GeoJSON.Geometry | null;
  feature: FeatureRef | null;
  road: RoadPick | null;
  bufferM: number;
  layers: string[];
  predicate: Predicate;
  distanceM: number;
  filter: FilterInput | null;
  time: { from: string; to: string } | null;
  limit: number;
}

export interface QueryBody {
  geometry?: GeoJSON.Geometry;
  feature?: { layer: string; id: string };
  buffer?: number;
  layers: string[];
  predicate: Predicate;
  distance?: number;
  where?: Record<string, AttributeFilter[]>;
  time?: { from?: string; to?: string };
  limit: number;
  format?: 'json' | ExportFormat;
}

/** Why a query cannot be sent yet, as an i18n key; null when it can. */
export type QueryProblem = 'analysis.needShape' | 'analysis.needLayers' | 'analysis.badBuffer' | 'analysis.badDistance' | 'analysis.badFilter';

/** A value typed into the filter box as the field's catalog type (numbers for int/number, true/false for boolean). */
export function filterValue(def: LayerDef | undefined, field: string, raw: string): string | number | boolean | null {
  const f = def?.fields.find((x) => x.name === field);
  if (!f) return null;
  const v = raw.trim();
  if (f.type === 'int' || f.type === 'number') return v !== '' && Number.isFinite(Number(v)) ? Number(v) : null;
  if (f.type === 'boolean') return v === 'true' || v === '是' ? true : v === 'false' || v === '否' ? false : null;
  return v === '' ? null : v;
}

/** A datetime-local input value (local time, no zone) as ISO UTC text, or '' when empty. */
export function localToIso(v: string): string {
  if (!v) return '';
  const t = new Date(v).getTime();
  return Number.isFinite(t) ? new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z') : '';
}

/** The POST /api/query body for an input, or the first reason it cannot be sent. */
export function buildQueryBody(q: QueryInput, format: 'json' | ExportFormat = 'json'): { body: QueryBody } | { problem: QueryProblem } {
  const body: QueryBody = { layers: [...q.layers], predicate: q.predicate, limit: q.limit };
  if (q.source === 'drawn' && q.drawn) body.geometry = q.drawn;
  else if (q.source === 'feature' && q.feature) body.feature = { layer: q.feature.layer, id: q.feature.id };
  else if (q.source === 'road' && q.road) body.geometry = q.road.geometry;
  else return { problem: 'analysis.needShape' };
  if (!body.layers.length) return { problem: 'analysis.needLayers' };
  if (!(q.bufferM >= 0 && q.bufferM <= MAX_DISTANCE_M)) return { problem: 'analysis.badBuffer' };
  if (q.bufferM > 0) body.buffer = q.bufferM;
  if (q.predicate === 'dwithin') {
    if (!(q.distanceM >= 0 && q.distanceM <= MAX_DISTANCE_M)) return { problem: 'analysis.badDistance' };
    body.distance = q.distanceM;
  }
  if (q.filter && q.filter.field && q.filter.value.trim() !== '' && body.layers.includes(q.filter.layer)) {
    const value = filterValue(getLayer(q.filter.layer), q.filter.field, q.filter.value);
    if (value === null) return { problem: 'analysis.badFilter' };
    body.where = { [q.filter.layer]: [{ field: q.filter.field, op: q.filter.op, value }] };
  }
  // The time window applies to time-stamped layers only; the server refuses it when none is searched.
  if (q.time && (q.time.from || q.time.to) && body.layers.some((l) => getLayer(l)?.time)) {
    body.time = { ...(q.time.from ? { from: q.time.from } : {}), ...(q.time.to ? { to: q.time.to } : {}) };
  }
  if (format !== 'json') { body.format = format; delete (body as { limit?: number }).limit; }
  return { body };
}

export interface QueryResponse {
  layers: { layer: string; count: number; returned: number }[];
  features: GeoJSON.FeatureCollection;
}
export interface ResultRow { key: string; layer: string; id: string; label: string; feature: GeoJSON.Feature }

/** One table row per returned feature, in the server's order (by layer, then id). */
export function resultRows(r: QueryResponse): ResultRow[] {
  return r.features.features.map((f) => {
    const p = (f.properties ?? {}) as Record<string, unknown>;
    const layer = String(p.layer ?? '');
    const id = String(p.id ?? f.id ?? '');
    const label = [p.name, p.full, p.title, p.code].find((v) => typeof v === 'string' && v) as string | undefined;
    return { key: `${layer}/${id}`, layer, id, label: label ?? id, feature: f };
  });
}

/** A file name from Content-Disposition (RFC 6266, filename* first), else a default. */
export function downloadName(disposition: string | null, fallback: string): string {
  if (disposition) {
    const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition);
    if (star) { try { return decodeURIComponent(star[1].trim()); } catch { /* fall through */ } }
    const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(disposition);
    if (plain) return plain[1].trim();
  }
  return fallback;
}

/** Where to fly for a hit: a point itself, else the centre of the geometry's bounding box. */
export function representativePoint(g: GeoJSON.Geometry | null | undefined): LonLat | null {
  if (!g) return null;
  if (g.type === 'Point') return [g.coordinates[0], g.coordinates[1]];
  let w = Infinity, s = Infinity, e = -Infinity, n = -Infinity;
  const walk = (c: unknown): void => {
    if (Array.isArray(c) && typeof c[0] === 'number') {
      const [x, y] = c as number[];
      if (x < w) w = x; if (x > e) e = x; if (y < s) s = y; if (y > n) n = y;
    } else if (Array.isArray(c)) c.forEach(walk);
  };
  if (g.type === 'GeometryCollection') g.geometries.forEach((x) => walk(representativePoint(x)));
  else walk(g.coordinates);
  return Number.isFinite(w) ? [(w + e) / 2, (s + n) / 2] : null;
}

type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export const useAnalysisStore = defineStore('analysis', () => {
  const source = ref<ShapeSource>('drawn');
  const drawnId = ref<string>('');
  const drawnGeometry = shallowRef<GeoJSON.Geometry | null>(null);
  const feature = shallowRef<FeatureRef | null>(null);
  const road = shallowRef<RoadPick | null>(null);
  const bufferM = ref(0);
  const layers = ref<string[]>(['addresses', 'cameras']);
  const predicate = ref<Predicate>('intersects');
  const distanceM = ref(100);
  const filter = ref<FilterInput>({ layer: 'cameras', field: '', op: 'eq', value: '' });
  const timeFrom = ref('');
  const timeTo = ref('');

  const running = ref(false);
  const error = ref<string | null>(null);
  const problem = ref<QueryProblem | null>(null);
  const response = shallowRef<QueryResponse | null>(null);
  const page = ref(0);
  const focusKey = ref<string | null>(null);
  const exporting = ref<ExportFormat | null>(null);
  const roadResults = shallowRef<RoadPick[]>([]);
  const roadSearching = ref(false);

  let baseUrl = typeof location !== 'undefined' ? location.origin : '';
  let doFetch: FetchLike = (url, init) => fetch(url, init);
  let abort: AbortController | null = null;
  function configure(opts: { baseUrl?: string; fetch?: FetchLike }): void {
    if (opts.baseUrl !== undefined) baseUrl = opts.baseUrl.replace(/\/+$/, '');
    if (opts.fetch) doFetch = opts.fetch;
  }

  const input = computed<QueryInput>(() => ({
    source: source.value, drawn: drawnGeometry.value, feature: feature.value, road: road.value, bufferM: bufferM.value,
    layers: layers.value, predicate: predicate.value, distanceM: distanceM.value,
    filter: filter.value.field ? filter.value : null,
    time: timeFrom.value || timeTo.value ? { from: localToIso(timeFrom.value), to: localToIso(timeTo.value) } : null,
    limit: RESULT_LIMIT,
  }));

  function useDrawn(id: string, geometry: GeoJSON.Geometry | null): void {
    drawnId.value = id;
    drawnGeometry.value = geometry;
    source.value = 'drawn';
  }
  function useFeature(f: FeatureRef | null): void {
    feature.value = f;
    source.value = 'feature';
  }
  function useRoad(r: RoadPick | null): void {
    road.value = r;
    source.value = 'road';
  }

  async function post(body: QueryBody, signal?: AbortSignal): Promise<Response> {
    const res = await doFetch(`${baseUrl}/api/query`, {
      method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body), signal,
    });
    if (!res.ok) throw new Error(await apiFailure(res));
    return res;
  }

  async function run(): Promise<QueryResponse | null> {
    const built = buildQueryBody(input.value);
    problem.value = 'problem' in built ? built.problem : null;
    if ('problem' in built) return null;
    abort?.abort();
    const ctrl = new AbortController();
    abort = ctrl;
    running.value = true;
    error.value = null;
    try {
      const r = (await (await post(built.body, ctrl.signal)).json()) as QueryResponse;
      if (ctrl !== abort) return null;
      response.value = r;
      page.value = 0;
      focusKey.value = null;
      return r;
    } catch (e) {
      if (ctrl !== abort || (e as Error).name === 'AbortError') return null;
      error.value = e instanceof Error ? e.message : String(e);
      return null;
    } finally {
      if (ctrl === abort) running.value = false;
    }
  }

  /** The same query as a file download: fetch → Blob → a temporary link (so errors can still be shown as text). */
  async function exportAs(format: ExportFormat): Promise<boolean> {
    const built = buildQueryBody(input.value, format);
    problem.value = 'problem' in built ? built.problem : null;
    if ('problem' in built) return false;
    exporting.value = format;
    error.value = null;
    try {
      const res = await post(built.body);
      const blob = await res.blob();
      const name = downloadName(res.headers.get('content-disposition'), `onemap-query.${format}`);
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
      return true;
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e);
      return false;
    } finally {
      exporting.value = null;
    }
  }

  /** Roads whose name contains `text`, one entry per name with all its segments (a road is many segments). */
  async function searchRoads(text: string): Promise<void> {
    const q = text.trim();
    if (!q) { roadResults.value = []; return; }
    roadSearching.value = true;
    error.value = null;
    const [w, s, e, n] = CITY.bounds;
    try {
      const res = await post({
        geometry: { type: 'Polygon', coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]] },
        layers: ['roads'], predicate: 'intersects', where: { roads: [{ field: 'name', op: 'contains', value: q }] }, limit: 500,
      });
      const r = (await res.json()) as QueryResponse;
      const byName = new Map<string, GeoJSON.Position[][]>();
      for (const f of r.features.features) {
        const name = String(f.properties?.name ?? '');
        if (!name || !f.geometry) continue;
        const lines = byName.get(name) ?? [];
        if (f.geometry.type === 'LineString') lines.push(f.geometry.coordinates);
        else if (f.geometry.type === 'MultiLineString') lines.push(...f.geometry.coordinates);
        byName.set(name, lines);
      }
      roadResults.value = [...byName].slice(0, 20).map(([name, lines]) => ({ name, segments: lines.length, geometry: { type: 'MultiLineString', coordinates: lines } }));
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e);
      roadResults.value = [];
    } finally {
      roadSearching.value = false;
    }
  }

  const rows = computed(() => (response.value ? resultRows(response.value) : []));
  const pageCount = computed(() => Math.max(1, Math.ceil(rows.value.length / PAGE_SIZE)));
  const pageRows = computed(() => rows.value.slice(page.value * PAGE_SIZE, (page.value + 1) * PAGE_SIZE));
  const focused = computed(() => rows.value.find((r) => r.key === focusKey.value) ?? null);

  /** The shape as sent, for display: the drawn geometry, the road, or a circle for a buffered point. */
  const shape = computed<GeoJSON.Geometry | null>(() => {
    const q = input.value;
    const g = q.source === 'drawn' ? q.drawn : q.source === 'road' ? q.road?.geometry ?? null : null;
    const at = q.source === 'feature' ? q.feature?.lonLat : null;
    if (at && q.bufferM > 0) return { type: 'Polygon', coordinates: [circleRing(at, q.bufferM)] };
    if (g?.type === 'Point' && q.bufferM > 0) return { type: 'Polygon', coordinates: [circleRing(g.coordinates as LonLat, q.bufferM)] };
    return g;
  });

  // One computed per overlay: focusing a row must not hand the engines a new (re-uploaded) hits layer.
  const shapeOverlay = computed(() => queryOverlays(shape.value, [], null));
  const hitsOverlay = computed(() => queryOverlays(null, rows.value.map((r) => r.feature.geometry).filter((g): g is GeoJSON.Geometry => !!g), null));
  const focusOverlay = computed(() => queryOverlays(null, [], focused.value?.feature.geometry ?? null));
  const overlays = computed<MapOverlay[]>(() => [...shapeOverlay.value, ...hitsOverlay.value, ...focusOverlay.value]);

  /** Where the shell should fly next (a focused row); `seq` makes a repeat request for the same point a change. */
  const flyRequest = shallowRef<{ lonLat: LonLat; seq: number } | null>(null);
  let seq = 0;
  function focus(key: string | null): ResultRow | null {
    focusKey.value = key;
    const row = focused.value;
    const at = row ? representativePoint(row.feature.geometry) : null;
    if (at) flyRequest.value = { lonLat: at, seq: ++seq };
    return row;
  }

  function clearResults(): void {
    abort?.abort();
    response.value = null;
    focusKey.value = null;
    error.value = null;
    problem.value = null;
    running.value = false;
  }

  return {
    source, drawnId, drawnGeometry, feature, road, bufferM, layers, predicate, distanceM, filter, timeFrom, timeTo,
    running, error, problem, response, page, pageCount, pageRows, rows, focusKey, focused, exporting, roadResults, roadSearching,
    shape, overlays, input,
    flyRequest, configure, useDrawn, useFeature, useRoad, run, exportAs, searchRoads, focus, clearResults,
  };
});
