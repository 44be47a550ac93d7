// The hot-spot layer's state (issue 5 item 5): on/off, an incident category, and a time window of
// `windowDays` slid by whole days over the incidents' time extent → GET /api/hotspots (kernel density
// grid + DBSCAN clusters, tile-server/query-api.ts) → overlays for both engines. The first request asks
// for the server's default window (the last 30 days of the data) and learns the extent from it.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { clusterOverlay, densityOverlay, type ClusterSummary, type DensityGrid, type MapOverlay } from '../map/overlays.ts';
import { apiFailure } from './lookup.ts';

export const DAY_MS = 86_400_000;
export const DEFAULT_WINDOW_DAYS = 30;
/** Wait this long after the last slider move before asking the server (a drag sends dozens of values). */
export const HOTSPOT_DEBOUNCE_MS = 250;
/** Density cell and kernel bandwidth (metres): street-block scale over the whole city (≈ 200×250 cells). */
export const HOTSPOT_CELL_M = 200;
export const HOTSPOT_BANDWIDTH_M = 500;

export interface HotspotResponse {
  layer: string;
  window: { from: string; to: string } | null;
  extent: { from: string; to: string; count: number } | null;
  count: number;
  grid: DensityGrid;
  clusters: (ClusterSummary & { bbox?: number[]; ids?: string[] })[];
}

export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The window [end − days, end) for slider day `endDay` counted from the extent's start (whole days). */
export function windowFor(extentFrom: string, endDay: number, days: number): { from: string; to: string } {
  const end = Date.parse(extentFrom) + endDay * DAY_MS;
  return { from: isoSeconds(end - days * DAY_MS), to: isoSeconds(end) };
}

/** Whole days from the extent's start to its end, rounded up (the slider's last position). */
export function extentDays(extent: { from: string; to: string }): number {
  return Math.max(1, Math.ceil((Date.parse(extent.to) - Date.parse(extent.from)) / DAY_MS));
}

export function hotspotUrl(baseUrl: string, p: { from?: string; to?: string; category?: string }): string {
  const q = new URLSearchParams({ layer: 'incidents', cell: String(HOTSPOT_CELL_M), bandwidth: String(HOTSPOT_BANDWIDTH_M) });
  if (p.from) q.set('from', p.from);
  if (p.to) q.set('to', p.to);
  if (p.category) q.set('category', p.category);
  return `${baseUrl.replace(/\/+$/, '')}/api/hotspots?${q}`;
}

type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export const useHotspotStore = defineStore('hotspot', () => {
  const enabled = ref(false);
  const category = ref('');
  const windowDays = ref(DEFAULT_WINDOW_DAYS);
  /** Slider position: the window's end, in days from the extent's start; null until the extent is known. */
  const endDay = ref<number | null>(null);
  const extent = shallowRef<{ from: string; to: string; count: number } | null>(null);
  const result = shallowRef<HotspotResponse | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);

  let baseUrl = typeof location !== 'undefined' ? location.origin : '';
  let doFetch: FetchLike = (url, init) => fetch(url, init);
  let abort: AbortController | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  function configure(opts: { baseUrl?: string; fetch?: FetchLike }): void {
    if (opts.baseUrl !== undefined) baseUrl = opts.baseUrl;
    if (opts.fetch) doFetch = opts.fetch;
  }

  const maxDay = computed(() => (extent.value ? extentDays(extent.value) : 0));
  const window = computed(() => (extent.value && endDay.value !== null ? windowFor(extent.value.from, endDay.value, windowDays.value) : null));

  async function load(): Promise<HotspotResponse | null> {
    if (timer) { clearTimeout(timer); timer = null; }
    if (!enabled.value) return null;
    abort?.abort();
    const ctrl = new AbortController();
    abort = ctrl;
    loading.value = true;
    error.value = null;
    try {
      const res = await doFetch(hotspotUrl(baseUrl, { ...(window.value ?? {}), category: category.value }), { signal: ctrl.signal });
      if (!res.ok) throw new Error(await apiFailure(res));
      const body = (await res.json()) as HotspotResponse;
      if (ctrl !== abort) return null;
      if (body.extent && !extent.value) {
        extent.value = body.extent;
        // The server's default window ends at the extent's end: put the slider there.
        endDay.value = extentDays(body.extent);
      }
      result.value = body;
      return body;
    } catch (e) {
      if (ctrl !== abort || (e as Error).name === 'AbortError') return null;
      error.value = e instanceof Error ? e.message : String(e);
      return null;
    } finally {
      if (ctrl === abort) loading.value = false;
    }
  }

  /** Loads after HOTSPOT_DEBOUNCE_MS of quiet (slider drags, category changes). */
  function schedule(): void {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => { timer = null; void load(); }, HOTSPOT_DEBOUNCE_MS);
  }

  function setEnabled(on: boolean): Promise<HotspotResponse | null> {
    enabled.value = on;
    if (!on) {
      abort?.abort();
      if (timer) clearTimeout(timer);
      loading.value = false;
      return Promise.resolve(null);
    }
    return load();
  }
  function setEndDay(day: number): void {
    endDay.value = Math.min(maxDay.value, Math.max(Math.min(windowDays.value, maxDay.value), Math.round(day)));
    schedule();
  }
  function setCategory(code: string): void {
    category.value = code;
    schedule();
  }

  const overlays = computed<MapOverlay[]>(() => {
    const r = result.value;
    if (!enabled.value || !r) return [];
    const out: MapOverlay[] = [];
    const grid = densityOverlay(r.grid);
    if (grid) out.push(grid);
    if (r.clusters.length) out.push(clusterOverlay(r.clusters));
    return out;
  });

  return { enabled, category, windowDays, endDay, extent, maxDay, window, result, loading, error, overlays, configure, load, setEnabled, setEndDay, setCategory };
});
