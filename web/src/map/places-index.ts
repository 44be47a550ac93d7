// Find a town, village or grid by name or code and frame it on the map. Names and bounding boxes
// come from the layers' FlatGeobuf files (/data/{layer}.fgb, read once, ~2.7 MB together); matching
// is plain prefix/substring on the Chinese name and the statistical code, ranked so that what the
// user has typed from the start wins over a hit in the middle of a name.
import { openFlatGeobuf, geometryBbox, type Bbox, type FgbFile } from '../../../layers/formats/flatgeobuf.ts';
import type { CameraView } from './engine.ts';

export const PLACE_LAYERS = ['towns', 'villages', 'grids'] as const;
export type PlaceLayer = (typeof PLACE_LAYERS)[number];

export interface Place {
  layerId: PlaceLayer;
  id: string;
  name: string;
  code: string;
  /** Name of the unit it belongs to (a village's town), when the data says. */
  parent?: string;
  bbox: Bbox;
}

export function placesFromFgb(layerId: PlaceLayer, file: FgbFile): Place[] {
  const out: Place[] = [];
  for (let i = 0; i < file.count; i++) {
    const f = file.feature(i);
    const p = f.properties ?? {};
    const name = typeof p.name === 'string' ? p.name : '';
    const code = p.code === undefined || p.code === null ? '' : String(p.code);
    if (!name && !code) continue;
    const bbox = geometryBbox(f.geometry);
    if (!bbox.every(Number.isFinite)) continue;
    out.push({
      layerId, id: String(p.id ?? f.id ?? code), name, code, bbox,
      parent: typeof p.town_name === 'string' ? p.town_name : undefined,
    });
  }
  return out;
}

let cache: Promise<Place[]> | null = null;

/** All places of the three layers, loaded once per page; a failure is not cached (a retry may work). */
export function loadPlaces(baseUrl: string, fetchFn: typeof fetch = fetch): Promise<Place[]> {
  if (!cache) {
    cache = Promise.all(PLACE_LAYERS.map(async (layerId) => {
      const res = await fetchFn(new URL(`/data/${layerId}.fgb`, baseUrl).href);
      if (!res.ok) throw new Error(`/data/${layerId}.fgb: HTTP ${res.status}`);
      return placesFromFgb(layerId, openFlatGeobuf(new Uint8Array(await res.arrayBuffer())));
    })).then((lists) => lists.flat());
    cache.catch(() => { cache = null; });
  }
  return cache;
}

/** Coarser units first when the match is equally good: a town before its villages before their grids. */
const LAYER_RANK: Record<PlaceLayer, number> = { towns: 0, villages: 1, grids: 2 };

/**
 * Places matching `query`: exact name or code, then name prefix, code prefix, name substring (in that
 * order), coarser layers first, then shorter names. Whitespace in the query is ignored.
 */
export function searchPlaces(places: readonly Place[], query: string, limit = 20): Place[] {
  const q = query.replace(/\s+/g, '').toLowerCase();
  if (!q) return [];
  const scored: [number, Place][] = [];
  for (const p of places) {
    const name = p.name.toLowerCase();
    let score: number;
    if (name === q || p.code === q) score = 0;
    else if (name.startsWith(q)) score = 1;
    else if (p.code.startsWith(q)) score = 2;
    else if (name.includes(q)) score = 3;
    else continue;
    scored.push([score * 10 + LAYER_RANK[p.layerId], p]);
  }
  scored.sort((a, b) => a[0] - b[0] || a[1].name.length - b[1].name.length || a[1].code.localeCompare(b[1].code));
  return scored.slice(0, limit).map(([, p]) => p);
}

const mercY = (lat: number) => Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360));

/**
 * The north-up view that fits `bbox` into a width × height CSS-pixel map with `padding` pixels on each
 * side (deck.gl zoom: 512-px world at zoom 0), capped at `maxZoom` so a tiny grid is not shown at z22.
 */
export function fitBboxView(bbox: Bbox, width: number, height: number, padding = 40, maxZoom = 17): CameraView {
  const [w, s, e, n] = bbox;
  const dx = ((e - w) / 360) * 512;
  const dy = ((mercY(n) - mercY(s)) / (2 * Math.PI)) * 512;
  const availW = Math.max(1, width - 2 * padding), availH = Math.max(1, height - 2 * padding);
  const zx = dx > 0 ? Math.log2(availW / dx) : maxZoom;
  const zy = dy > 0 ? Math.log2(availH / dy) : maxZoom;
  const cy = (mercY(n) + mercY(s)) / 2;
  const lat = ((2 * Math.atan(Math.exp(cy)) - Math.PI / 2) * 180) / Math.PI;
  return { lon: (w + e) / 2, lat, zoom: Math.min(maxZoom, zx, zy), bearing: 0, pitch: 0 };
}
