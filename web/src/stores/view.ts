// The map view both engines share: centre, zoom, bearing, pitch (engine.ts CameraView), which engine
// is on screen (2D deck.gl / 3D Cesium) and the screen layout. The engine is driven from here so the
// panels, the URL and whichever engine is on screen agree on one view; values are clamped so the
// view cannot drift away from the city.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { CITY } from '../../../layers/catalog.ts';
import type { CameraView } from '../map/engine.ts';

export type EngineKind = '2d' | '3d';
export type Layout = 'desktop' | 'wall';

/** Below z6 the whole of Jiangsu is a few pixels; tiles are overzoomed past z14, so z19 is still sharp enough for buildings. */
export const MIN_ZOOM = 6;
export const MAX_ZOOM = 19;
/** Shows the whole city (about 50 km across) in a 1280-px-wide window (zoom of 512-px Web Mercator tiles, as deck.gl). */
export const INITIAL_ZOOM = 10.5;
/** How far (degrees) the centre may leave the city bounds: enough for the Yangtze bank, not enough to get lost. */
export const BOUNDS_MARGIN = 0.5;
/** deck.gl's MapView allows up to 85°; past ~80° the horizon fills the view with far tiles. */
export const MAX_PITCH = 80;

export function initialView(): CameraView {
  return { lon: CITY.center[0], lat: CITY.center[1], zoom: INITIAL_ZOOM, pitch: 0, bearing: 0 };
}

function clamp(v: unknown, lo: number, hi: number, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : fallback;
}

/** Bearing in [-180, 180). */
export function wrapBearing(b: number): number {
  return ((((b + 180) % 360) + 360) % 360) - 180;
}

/** A complete, valid view from a partial one; missing or non-finite values fall back to `base`. */
export function clampView(v: Partial<CameraView>, base: CameraView = initialView()): CameraView {
  const [w, s, e, n] = CITY.bounds;
  return {
    lon: clamp(v.lon, w - BOUNDS_MARGIN, e + BOUNDS_MARGIN, base.lon),
    lat: clamp(v.lat, s - BOUNDS_MARGIN, n + BOUNDS_MARGIN, base.lat),
    zoom: clamp(v.zoom, MIN_ZOOM, MAX_ZOOM, base.zoom),
    pitch: clamp(v.pitch, 0, MAX_PITCH, base.pitch),
    bearing: typeof v.bearing === 'number' && Number.isFinite(v.bearing) ? wrapBearing(v.bearing) : base.bearing,
  };
}

export const useViewStore = defineStore('view', () => {
  const view = ref<CameraView>(initialView());
  const engine = ref<EngineKind>('2d');
  const layout = ref<Layout>('desktop');

  /** Applies a view change (e.g. from the map controller) and returns the clamped view actually used. */
  function setView(next: Partial<CameraView>): CameraView {
    view.value = clampView(next, view.value);
    return view.value;
  }

  function reset(): CameraView {
    view.value = initialView();
    return view.value;
  }

  function setEngine(kind: EngineKind): void { engine.value = kind; }
  function setLayout(l: Layout): void { layout.value = l; }

  return { view, engine, layout, setView, reset, setEngine, setLayout };
});
