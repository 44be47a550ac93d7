// The city indicator system in the client (issue 10 item 4): the definitions and one level's latest values from
// GET /api/indicators (tile-server/indicators/, H5), the choropleth of one indicator over the towns, villages or
// grids of that level (drawn by both engines as an AreaOverlay), and the planner's new-indicator form: a preview
// of the formula (POST /api/indicators/preview, nothing saved) with the position of a formula error, then
// POST /api/indicators/definitions. Area shapes come from /data/{towns|villages|grids|city}.fgb once per page and
// stay out of Vue's reactivity (STYLE.md: feature arrays are markRaw).
import { defineStore } from 'pinia';
import { computed, markRaw, ref, shallowRef } from 'vue';
import { openFlatGeobuf, type FgbFile } from '../../../layers/formats/flatgeobuf.ts';
import {
  ID_RE, INDICATOR_LEVELS, MAX_MEANING, MAX_NAME, MAX_UNIT, statusOf,
  type IndicatorDef, type IndicatorLevel, type IndicatorStatus, type IndicatorValue,
} from '../../../layers/indicators/model.ts';
import { MAX_FORMULA } from '../../../layers/indicators/formula.ts';
import type { LonLat } from '../map/engine.ts';
import type { AreaOverlay, Rgba } from '../map/overlays.ts';
import { apiFailure } from './lookup.ts';

// ---- the API's shapes: layers/indicators/model.ts (shared with the server)
export type { IndicatorDef, IndicatorLevel, IndicatorStatus, IndicatorValue };
export { statusOf };
export const LEVELS = INDICATOR_LEVELS;
export interface IndicatorSnapshot { at: number | null; level: IndicatorLevel; definitions: IndicatorDef[]; values: IndicatorValue[] }
/** What the planner fills in; the server adds builtin, createdBy and createdAt. */
export type IndicatorDraft = Omit<IndicatorDef, 'builtin' | 'createdBy' | 'createdAt'>;

/** Which catalog layer holds the areas of a level (their `code` is the value's code). */
export const LEVEL_LAYER: Record<IndicatorLevel, string> = { city: 'city', town: 'towns', village: 'villages', grid: 'grids' };
/** Traffic-light colours (status), chosen to stay apart for the common red–green colour blindness by lightness too. */
export const STATUS_RGB: Record<IndicatorStatus, [number, number, number]> = {
  green: [26, 152, 80], amber: [245, 170, 30], red: [215, 38, 40], none: [150, 150, 150],
};
/** Fill opacity of the choropleth: the basemap's roads and names stay readable through it. */
export const CHOROPLETH_ALPHA = 165;
/** Only towns get a value label on the map: 359 villages or 1995 grids would be a carpet of numbers. */
const LABELLED_LEVELS: readonly IndicatorLevel[] = ['city', 'town'];

export const statusFill = (s: IndicatorStatus): Rgba => [...STATUS_RGB[s], s === 'none' ? 90 : CHOROPLETH_ALPHA];
export const statusCss = (s: IndicatorStatus): string => `rgb(${STATUS_RGB[s].join(', ')})`;

export function formatValue(value: number | null, decimals: number): string {
  if (value === null || !Number.isFinite(value)) return '—';
  return value.toFixed(Math.max(0, Math.min(4, Math.round(decimals))));
}

/** The legend's rows, green first: the value range of each colour in the indicator's unit. */
export function legendRows(def: Pick<IndicatorDef, 'better' | 'thresholds' | 'decimals' | 'unit'>): { status: IndicatorStatus; range: string }[] {
  const g = formatValue(def.thresholds.green, def.decimals), r = formatValue(def.thresholds.red, def.decimals);
  const u = def.unit ? ` ${def.unit}` : '';
  return def.better === 'lower'
    ? [{ status: 'green', range: `≤ ${g}${u}` }, { status: 'amber', range: `${g} – ${r}${u}` }, { status: 'red', range: `≥ ${r}${u}` }, { status: 'none', range: '' }]
    : [{ status: 'green', range: `≥ ${g}${u}` }, { status: 'amber', range: `${r} – ${g}${u}` }, { status: 'red', range: `≤ ${r}${u}` }, { status: 'none', range: '' }];
}

export function indicatorsUrl(baseUrl: string, q: { level: IndicatorLevel; at?: string | number; indicator?: string }): string {
  const p = new URLSearchParams({ level: q.level });
  if (q.at !== undefined) p.set('at', String(q.at));
  if (q.indicator) p.set('indicator', q.indicator);
  return `${baseUrl.replace(/\/+$/, '')}/api/indicators?${p}`;
}

export interface FormulaError {
  message: string;
  /** 0-based character offset into the formula, when the server says where. */
  position: number | null;
  /** The definition field the server refused (`formula`, `thresholds`, …), when it says. */
  field: string | null;
}

/** A 422 answer of preview/save as the form shows it (tile-server/indicators: `error.position`, `error.field`);
 *  without a numeric position, a "位置 N"/"position N" in the message. */
export function formulaErrorOf(body: unknown, status: number): FormulaError {
  const e = (body as { error?: Record<string, unknown> } | null)?.error ?? {};
  const message = typeof e.message === 'string' ? e.message : `HTTP ${status}`;
  const details = (e.details ?? {}) as Record<string, unknown>;
  const field = typeof e.field === 'string' ? e.field : typeof details.field === 'string' ? details.field : null;
  for (const v of [e.position, details.position]) {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return { message, position: v, field: field ?? 'formula' };
  }
  const m = /(?:位置|position)\s*[:：]?\s*(\d+)/i.exec(message);
  return { message, position: m ? Number(m[1]) : null, field: m ? field ?? 'formula' : field };
}

export type DraftField = 'id' | 'name' | 'formula' | 'levels' | 'thresholds' | 'decimals' | 'unit' | 'meaning';
/** Checks the form before the server does (the same limits as layers/indicators/model.ts parseDefinition; the
 *  server checks again); each problem as an i18n key. */
export function validateDraft(d: IndicatorDraft): Partial<Record<DraftField, string>> {
  const out: Partial<Record<DraftField, string>> = {};
  const len = (x: string) => [...x.trim()].length;
  if (!ID_RE.test(d.id)) out.id = 'indicator.form.badId';
  if (len(d.name) < 1 || len(d.name) > MAX_NAME) out.name = 'indicator.form.badName';
  if (len(d.meaning) < 1 || len(d.meaning) > MAX_MEANING) out.meaning = 'indicator.form.badMeaning';
  if (!d.formula.trim() || d.formula.length > MAX_FORMULA) out.formula = 'indicator.form.badFormula';
  if (len(d.unit) > MAX_UNIT) out.unit = 'indicator.form.badUnit';
  if (!d.levels.length) out.levels = 'indicator.form.badLevels';
  const { green, red } = d.thresholds;
  if (!Number.isFinite(green) || !Number.isFinite(red)) out.thresholds = 'indicator.form.badThresholds';
  else if (d.better === 'lower' ? green >= red : green <= red) out.thresholds = 'indicator.form.thresholdOrder';
  if (!Number.isInteger(d.decimals) || d.decimals < 0 || d.decimals > 4) out.decimals = 'indicator.form.badDecimals';
  return out;
}

// ---- area shapes and the choropleth

export interface AreaShape { code: string; name: string; geometry: GeoJSON.Polygon | GeoJSON.MultiPolygon; labelAt: LonLat }

/** A point inside the largest ring for the label: the middle of the widest stretch of the horizontal line through
 *  the ring's area centroid (a centroid alone can fall outside a bent town). */
export function labelPoint(g: GeoJSON.Polygon | GeoJSON.MultiPolygon): LonLat {
  const rings = g.type === 'Polygon' ? [g.coordinates[0]] : g.coordinates.map((p) => p[0]);
  let best = rings[0] ?? [], bestArea = -1, cx = 0, cy = 0;
  for (const r of rings) {
    let a = 0, x = 0, y = 0;
    for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
      const f = r[j][0] * r[i][1] - r[i][0] * r[j][1];
      a += f; x += (r[j][0] + r[i][0]) * f; y += (r[j][1] + r[i][1]) * f;
    }
    if (Math.abs(a) > bestArea) { bestArea = Math.abs(a); best = r; cx = a ? x / (3 * a) : r[0]?.[0] ?? 0; cy = a ? y / (3 * a) : r[0]?.[1] ?? 0; }
  }
  const xs: number[] = [];
  for (let i = 0, j = best.length - 1; i < best.length; j = i++) {
    const [x1, y1] = best[j], [x2, y2] = best[i];
    if ((y1 > cy) !== (y2 > cy)) xs.push(x1 + ((cy - y1) / (y2 - y1)) * (x2 - x1));
  }
  xs.sort((a, b) => a - b);
  let lo = cx, hi = cx;
  for (let k = 0; k + 1 < xs.length; k += 2) if (xs[k + 1] - xs[k] > hi - lo) { lo = xs[k]; hi = xs[k + 1]; }
  return [(lo + hi) / 2, cy];
}

export function areasFromFgb(file: FgbFile): AreaShape[] {
  const out: AreaShape[] = [];
  for (const f of file.features()) {
    const g = f.geometry;
    if (!g || (g.type !== 'Polygon' && g.type !== 'MultiPolygon')) continue;
    const p = f.properties ?? {};
    out.push({ code: String(p.code ?? p.id ?? ''), name: String(p.name ?? ''), geometry: g, labelAt: labelPoint(g) });
  }
  return out;
}

/** The choropleth of one indicator: each area with a value coloured by its status; areas without a row are left out
 *  (a grid manager's answer holds only their grids). Value labels only at town and city level. */
export function choroplethOverlay(def: Pick<IndicatorDef, 'id' | 'decimals'>, level: IndicatorLevel, values: readonly IndicatorValue[], areas: readonly AreaShape[]): AreaOverlay {
  const byCode = new Map(values.filter((v) => v.indicator === def.id).map((v) => [v.code, v]));
  const labelled = LABELLED_LEVELS.includes(level);
  const out: AreaOverlay['areas'] = [];
  for (const a of areas) {
    const v = byCode.get(a.code);
    if (!v) continue;
    out.push({
      id: a.code, geometry: a.geometry, fill: statusFill(v.status),
      // Name and value: the towns layer names towns only from zoom ~11 (then near this point: AREA_LABEL_OFFSET_PX).
      ...(labelled ? { label: `${a.name} ${formatValue(v.value, def.decimals)}`, labelAt: a.labelAt } : {}),
    });
  }
  return { kind: 'areas', id: `indicator-${def.id}-${level}`, areas: out, line: [255, 255, 255, 200], lineWidthPx: level === 'grid' ? 0.5 : 1.5 };
}

type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

const areaCache = new Map<string, Promise<AreaShape[]>>();
/** /data/{layer}.fgb once per page; a failed load is not cached, so a retry can succeed. */
export function loadAreas(level: IndicatorLevel, baseUrl: string, fetchFn: FetchLike): Promise<AreaShape[]> {
  const key = `${baseUrl}|${level}`;
  let p = areaCache.get(key);
  if (!p) {
    p = (async () => {
      const res = await fetchFn(`${baseUrl.replace(/\/+$/, '')}/data/${LEVEL_LAYER[level]}.fgb`, { credentials: 'same-origin' });
      if (!res.ok) throw new Error(`${await apiFailure(res)}（/data/${LEVEL_LAYER[level]}.fgb）`);
      return markRaw(areasFromFgb(openFlatGeobuf(new Uint8Array(await res.arrayBuffer()))));
    })();
    areaCache.set(key, p);
    p.catch(() => areaCache.delete(key));
  }
  return p;
}

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

export const useIndicatorsStore = defineStore('indicators', () => {
  let baseUrl = typeof location !== 'undefined' ? location.origin : '';
  let doFetch: FetchLike = (url, init) => fetch(url, init);
  function configure(o: { baseUrl?: string; fetch?: FetchLike }): void {
    if (o.baseUrl !== undefined) baseUrl = o.baseUrl;
    if (o.fetch) doFetch = o.fetch;
  }

  const level = ref<IndicatorLevel>('town');
  const selected = ref<string | null>(null);
  const onMap = ref(false);
  const snapshot = shallowRef<IndicatorSnapshot | null>(null);
  const definitions = shallowRef<IndicatorDef[]>([]);
  const areas = shallowRef<{ level: IndicatorLevel; shapes: AreaShape[] } | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);
  let seq = 0;

  const current = computed(() => definitions.value.find((d) => d.id === selected.value) ?? null);
  /** Definitions that can be shown at the chosen level. */
  const available = computed(() => definitions.value.filter((d) => d.levels.includes(level.value)));
  /** The chosen indicator's rows, worst first (red, amber, green, none), then by value in the bad direction. */
  const rows = computed(() => {
    const def = current.value, snap = snapshot.value;
    if (!def || !snap) return [];
    const rank: Record<IndicatorStatus, number> = { red: 0, amber: 1, green: 2, none: 3 };
    const sign = def.better === 'lower' ? -1 : 1;
    return snap.values.filter((v) => v.indicator === def.id)
      .sort((a, b) => rank[a.status] - rank[b.status] || sign * ((a.value ?? 0) - (b.value ?? 0)) || a.code.localeCompare(b.code));
  });
  const counts = computed(() => {
    const c: Record<IndicatorStatus, number> = { green: 0, amber: 0, red: 0, none: 0 };
    for (const r of rows.value) c[r.status]++;
    return c;
  });

  const overlay = computed<AreaOverlay | null>(() => {
    const def = current.value, snap = snapshot.value, a = areas.value;
    if (!onMap.value || !def || !snap || !a || a.level !== snap.level) return null;
    return choroplethOverlay(def, snap.level, snap.values, a.shapes);
  });
  const overlays = computed(() => (overlay.value ? [overlay.value] : []));

  /** GET /api/indicators for the chosen level: every indicator's latest values (and the definitions). */
  async function load(): Promise<IndicatorSnapshot | null> {
    const my = ++seq;
    const lv = level.value;
    loading.value = true;
    error.value = null;
    try {
      const res = await doFetch(indicatorsUrl(baseUrl, { level: lv }), { credentials: 'same-origin', headers: { accept: 'application/json' } });
      if (!res.ok) throw new Error(await apiFailure(res));
      const body = (await res.json()) as IndicatorSnapshot;
      if (my !== seq) return null;
      definitions.value = body.definitions ?? definitions.value;
      snapshot.value = { ...body, level: body.level ?? lv };
      if (!selected.value || !available.value.some((d) => d.id === selected.value)) selected.value = available.value[0]?.id ?? null;
      if (onMap.value) await ensureAreas();
      return body;
    } catch (e) {
      if (my === seq) error.value = e instanceof Error ? e.message : String(e);
      return null;
    } finally {
      if (my === seq) loading.value = false;
    }
  }

  async function ensureAreas(): Promise<void> {
    const lv = level.value;
    if (areas.value?.level === lv) return;
    try {
      const shapes = await loadAreas(lv, baseUrl, doFetch);
      if (level.value === lv) areas.value = { level: lv, shapes };
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e);
    }
  }

  function setLevel(l: IndicatorLevel): Promise<IndicatorSnapshot | null> {
    level.value = l;
    return load();
  }
  function select(id: string): void { selected.value = id; }
  async function setOnMap(on: boolean): Promise<void> {
    onMap.value = on;
    if (on) await ensureAreas();
  }

  async function loadDefinitions(): Promise<IndicatorDef[]> {
    const res = await doFetch(`${baseUrl}/api/indicators/definitions`, { credentials: 'same-origin', headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(await apiFailure(res));
    definitions.value = ((await res.json()) as { items: IndicatorDef[] }).items;
    return definitions.value;
  }

  /** POST /api/indicators/preview: the formula's values at `lv`, nothing saved; a formula error with its position. */
  async function preview(formula: string, lv: IndicatorLevel): Promise<{ values: IndicatorValue[] } | { error: FormulaError }> {
    try {
      const res = await doFetch(`${baseUrl}/api/indicators/preview`, {
        method: 'POST', credentials: 'same-origin', headers: JSON_HEADERS, body: JSON.stringify({ formula, level: lv }),
      });
      const body = await res.json().catch(() => null);
      if (!res.ok) return { error: formulaErrorOf(body, res.status) };
      return { values: (body as { values: IndicatorValue[] }).values ?? [] };
    } catch (e) {
      return { error: { message: e instanceof Error ? e.message : String(e), position: null, field: null } };
    }
  }

  /** POST /api/indicators/definitions, then a computation (so the new indicator has values at once) and a reload. */
  async function save(draft: IndicatorDraft): Promise<{ ok: true; def: IndicatorDef } | { ok: false; error: FormulaError; code: string | null }> {
    try {
      const res = await doFetch(`${baseUrl}/api/indicators/definitions`, {
        method: 'POST', credentials: 'same-origin', headers: JSON_HEADERS, body: JSON.stringify(draft),
      });
      const body = await res.json().catch(() => null) as Record<string, unknown> | null;
      if (!res.ok) {
        const code = (body?.error as { code?: string } | undefined)?.code ?? null;
        return { ok: false, error: formulaErrorOf(body, res.status), code };
      }
      const def = (body?.definition ?? body?.item ?? body) as IndicatorDef;
      await compute();
      await load();
      if (def.levels.includes(level.value)) selected.value = def.id;
      return { ok: true, def };
    } catch (e) {
      return { ok: false, error: { message: e instanceof Error ? e.message : String(e), position: null, field: null }, code: null };
    }
  }

  /** POST /api/indicators/compute (admin, operator, planner); false when refused or failed (the schedule computes anyway). */
  async function compute(): Promise<boolean> {
    try {
      const res = await doFetch(`${baseUrl}/api/indicators/compute`, { method: 'POST', credentials: 'same-origin', headers: JSON_HEADERS, body: '{}' });
      return res.ok;
    } catch {
      return false;
    }
  }

  return {
    level, selected, onMap, snapshot, definitions, areas, loading, error, current, available, rows, counts, overlay, overlays,
    configure, load, setLevel, select, setOnMap, loadDefinitions, preview, save, compute,
  };
});
