// The shareable view in the URL: ?view=2d|3d&lon=&lat=&zoom=&bearing=&pitch=&layers=id1,id2&layout=wall.
// Parsing never throws: a value that is missing or not a number falls back to the default view, a
// number outside its range is clamped (zoom, pitch) or dropped (a centre far from the city), and
// unknown layer ids are ignored, so a mangled link still opens a sensible map.
import { BOUNDS_MARGIN, clampView, initialView, type EngineKind, type Layout } from './view.ts';
import { CITY } from '../../../layers/catalog.ts';
import type { CameraView } from '../map/engine.ts';

export interface UrlState {
  engine: EngineKind;
  view: CameraView;
  /** Visible layer ids, or null when the URL does not say (catalog defaults apply). */
  layers: string[] | null;
  layout: Layout;
}

/** Params this module owns; any other query params in the URL are kept as they are. */
export const URL_KEYS = ['view', 'lon', 'lat', 'zoom', 'bearing', 'pitch', 'layers', 'layout'] as const;

function num(p: URLSearchParams, key: string): number | undefined {
  const s = p.get(key);
  if (s === null || s.trim() === '') return undefined;
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}

export function parseUrlState(search: string, knownLayers: readonly string[]): UrlState {
  const p = new URLSearchParams(search);
  const [w, s, e, n] = CITY.bounds;
  const lon = num(p, 'lon');
  const lat = num(p, 'lat');
  // A centre outside the city (plus margin) is a broken or foreign link: show the city instead.
  const centreOk = lon !== undefined && lat !== undefined
    && lon >= w - BOUNDS_MARGIN && lon <= e + BOUNDS_MARGIN && lat >= s - BOUNDS_MARGIN && lat <= n + BOUNDS_MARGIN;
  const base = initialView();
  const view = clampView({
    lon: centreOk ? lon : base.lon,
    lat: centreOk ? lat : base.lat,
    zoom: num(p, 'zoom'),
    bearing: num(p, 'bearing'),
    pitch: num(p, 'pitch'),
  }, base);
  const layersParam = p.get('layers');
  const known = new Set(knownLayers);
  const layers = layersParam === null ? null
    : [...new Set(layersParam.split(',').map((x) => x.trim()).filter((x) => known.has(x)))];
  return {
    engine: p.get('view') === '3d' ? '3d' : '2d',
    view,
    layers,
    layout: p.get('layout') === 'wall' ? 'wall' : 'desktop',
  };
}

/** Rounded to what a screen can show: 1e-6° is ~0.1 m, 0.01 zoom and 0.1° are below what the eye notices. */
function fixed(v: number, digits: number): string {
  return String(Number(v.toFixed(digits)));
}

/** The query string (with '?') for `state`, keeping params in `current` that this module does not own. */
export function serialiseUrlState(state: UrlState, current = ''): string {
  const p = new URLSearchParams(current);
  for (const k of URL_KEYS) p.delete(k);
  p.set('view', state.engine);
  p.set('lon', fixed(state.view.lon, 6));
  p.set('lat', fixed(state.view.lat, 6));
  p.set('zoom', fixed(state.view.zoom, 2));
  p.set('bearing', fixed(state.view.bearing, 1));
  p.set('pitch', fixed(state.view.pitch, 1));
  if (state.layers) p.set('layers', state.layers.join(','));
  if (state.layout === 'wall') p.set('layout', 'wall');
  // Commas in the layer list stay readable: URLSearchParams would write them as %2C.
  return `?${p.toString().replace(/%2C/gi, ',')}`;
}

export interface UrlWriter {
  /** Schedules a write; only the last state in `delayMs` is written. */
  write(state: UrlState): void;
  /** Writes a pending state now (e.g. before unload). */
  flush(): void;
  cancel(): void;
}

/**
 * Debounced `history.replaceState`: a drag fires dozens of view changes a second and browsers throttle
 * (Chrome: 100 calls per 10 s → SecurityError) history updates, so only the settled view is written.
 */
export function createUrlWriter(delayMs = 300, loc: { search: string; pathname: string; hash: string } = window.location,
  replace: (url: string) => void = (url) => history.replaceState(history.state, '', url)): UrlWriter {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let pending: UrlState | null = null;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (!pending) return;
    const search = serialiseUrlState(pending, loc.search);
    pending = null;
    if (search !== loc.search) replace(`${loc.pathname}${search}${loc.hash}`);
  };
  return {
    write(state) {
      pending = state;
      if (timer) clearTimeout(timer);
      timer = setTimeout(flush, delayMs);
    },
    flush,
    cancel() {
      if (timer) clearTimeout(timer);
      timer = null;
      pending = null;
    },
  };
}
