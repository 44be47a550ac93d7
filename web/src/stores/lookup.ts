// The lookup card's state (issue 5 item 5): a map click, an address text or a feature id → GET /api/lookup
// (tile-server/query-api.ts) → town › village › grid and its manager, the nearest standard address, the
// cameras whose view cone covers the point, what is around by kind and recent incidents. Only the latest
// request counts: a new click aborts the one in flight.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { LonLat } from '../map/engine.ts';
import type { MarkerOverlay } from '../map/overlays.ts';

export interface AdminRef { code: string; name: string }
export interface GridRef extends AdminRef { manager: { id: string; name: string; phone: string } | null }
/** A feature near the point: its catalog fields plus where it is and how far (metres). */
export interface NearbyFeature { id: string; lon: number | null; lat: number | null; distanceM?: number; [field: string]: unknown }
export interface LookupResult {
  query: { lon: number; lat: number; source: 'point' | 'address' | 'feature'; address?: unknown; feature?: unknown };
  town: AdminRef | null;
  village: AdminRef | null;
  grid: GridRef | null;
  address: { code: string; full: string; lon: number; lat: number; distanceM: number } | null;
  cameras: NearbyFeature[];
  sensors: NearbyFeature[];
  facilities: NearbyFeature[];
  nearby: { sensors: Record<string, number>; facilities: Record<string, number> };
  radiusM: number;
  incidents: NearbyFeature[];
  store: string;
}

export type LookupQuery = { lon: number; lat: number } | { address: string } | { layer: string; id: string };

export function lookupUrl(baseUrl: string, q: LookupQuery): string {
  const p = new URLSearchParams();
  if ('address' in q) p.set('address', q.address);
  else if ('layer' in q) { p.set('layer', q.layer); p.set('id', q.id); } else { p.set('lon', q.lon.toFixed(7)); p.set('lat', q.lat.toFixed(7)); }
  return `${baseUrl.replace(/\/+$/, '')}/api/lookup?${p}`;
}

type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

/** The server's own message from `{ error: { code, message } }`, else the HTTP status. */
export async function apiFailure(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: { message?: string } };
    if (body?.error?.message) return body.error.message;
  } catch { /* not JSON */ }
  return `HTTP ${res.status}`;
}

/** A point as lookup results give it (lon/lat fields), or null when the server had none. */
export function featurePoint(f: { lon?: unknown; lat?: unknown }): LonLat | null {
  return typeof f.lon === 'number' && typeof f.lat === 'number' ? [f.lon, f.lat] : null;
}

export const useLookupStore = defineStore('lookup', () => {
  /** False hides the card and stops map clicks from looking up (the user closed the card). */
  const enabled = ref(true);
  const query = shallowRef<LookupQuery | null>(null);
  const result = shallowRef<LookupResult | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);
  let baseUrl = typeof location !== 'undefined' ? location.origin : '';
  let doFetch: FetchLike = (url, init) => fetch(url, init);
  let abort: AbortController | null = null;

  function configure(opts: { baseUrl?: string; fetch?: FetchLike }): void {
    if (opts.baseUrl !== undefined) baseUrl = opts.baseUrl;
    if (opts.fetch) doFetch = opts.fetch;
  }

  async function run(q: LookupQuery): Promise<LookupResult | null> {
    abort?.abort();
    const ctrl = new AbortController();
    abort = ctrl;
    query.value = q;
    loading.value = true;
    error.value = null;
    try {
      const res = await doFetch(lookupUrl(baseUrl, q), { signal: ctrl.signal, headers: { accept: 'application/json' } });
      if (!res.ok) throw new Error(await apiFailure(res));
      const body = (await res.json()) as LookupResult;
      if (ctrl !== abort) return null;
      result.value = body;
      return body;
    } catch (e) {
      if (ctrl !== abort || (e as Error).name === 'AbortError') return null;
      result.value = null;
      error.value = e instanceof Error ? e.message : String(e);
      return null;
    } finally {
      if (ctrl === abort) loading.value = false;
    }
  }

  /** A map click (when the card is enabled). */
  function lookupAt(lonLat: LonLat): Promise<LookupResult | null> {
    if (!enabled.value) return Promise.resolve(null);
    return run({ lon: lonLat[0], lat: lonLat[1] });
  }
  const lookupAddress = (text: string) => { enabled.value = true; return run({ address: text }); };
  const lookupFeature = (layer: string, id: string) => { enabled.value = true; return run({ layer, id }); };
  const retry = () => (query.value ? run(query.value) : Promise.resolve(null));

  function close(): void {
    abort?.abort();
    abort = null;
    query.value = null;
    result.value = null;
    loading.value = false;
    error.value = null;
  }

  /** Where the card answers for: the looked-up point once known, else the clicked point. */
  const point = computed<LonLat | null>(() => {
    const r = result.value;
    if (r) return [r.query.lon, r.query.lat];
    const q = query.value;
    return q && 'lon' in q ? [q.lon, q.lat] : null;
  });

  const overlays = computed<MarkerOverlay[]>(() => {
    const p = point.value;
    return p ? [{ kind: 'markers', id: 'lookup-point', markers: [{ lonLat: p, radiusPx: 7, fill: [230, 30, 60, 255], line: [255, 255, 255, 255] }] }] : [];
  });

  return { enabled, query, result, loading, error, point, overlays, configure, lookupAt, lookupAddress, lookupFeature, retry, close };
});
