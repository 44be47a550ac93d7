// The map view (centre, zoom, pitch, bearing). The Deck instance is controlled from here so panels
// and the map agree on one view; values are clamped so the view cannot drift away from the city.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { CITY } from '../../../layers/catalog.ts';

export interface MapViewState {
  longitude: number;
  latitude: number;
  zoom: number;
  pitch: number;
  bearing: number;
  minZoom: number;
  maxZoom: number;
}

/** Below z6 the whole of Jiangsu is a few pixels; tiles are overzoomed past z14, so z19 is still sharp enough for buildings. */
export const MIN_ZOOM = 6;
export const MAX_ZOOM = 19;
/** Shows the whole city (about 50 km across) in a 1280-px-wide window. */
export const INITIAL_ZOOM = 10.5;
/** How far (degrees) the centre may leave the city bounds: enough for the Yangtze bank, not enough to get lost. */
export const BOUNDS_MARGIN = 0.5;
export const MAX_PITCH = 60;

export function initialView(): MapViewState {
  return {
    longitude: CITY.center[0], latitude: CITY.center[1], zoom: INITIAL_ZOOM,
    pitch: 0, bearing: 0, minZoom: MIN_ZOOM, maxZoom: MAX_ZOOM,
  };
}

function clamp(v: number, lo: number, hi: number, fallback: number): number {
  return Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : fallback;
}

/** A complete, valid view from a partial one; missing or non-finite values fall back to `base`. */
export function clampView(v: Partial<MapViewState>, base: MapViewState = initialView()): MapViewState {
  const [w, s, e, n] = CITY.bounds;
  const bearing = Number.isFinite(v.bearing) ? ((((v.bearing as number) + 180) % 360) + 360) % 360 - 180 : base.bearing;
  return {
    longitude: clamp(v.longitude ?? base.longitude, w - BOUNDS_MARGIN, e + BOUNDS_MARGIN, base.longitude),
    latitude: clamp(v.latitude ?? base.latitude, s - BOUNDS_MARGIN, n + BOUNDS_MARGIN, base.latitude),
    zoom: clamp(v.zoom ?? base.zoom, MIN_ZOOM, MAX_ZOOM, base.zoom),
    pitch: clamp(v.pitch ?? base.pitch, 0, MAX_PITCH, base.pitch),
    bearing,
    minZoom: MIN_ZOOM,
    maxZoom: MAX_ZOOM,
  };
}

export const useViewStore = defineStore('view', () => {
  const view = ref<MapViewState>(initialView());

  /** Applies a view change (e.g. from the map controller) and returns the clamped view actually used. */
  function setView(next: Partial<MapViewState>): MapViewState {
    view.value = clampView(next, view.value);
    return view.value;
  }

  function reset(): MapViewState {
    view.value = initialView();
    return view.value;
  }

  return { view, setView, reset };
});
