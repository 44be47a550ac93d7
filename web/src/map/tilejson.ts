// Reads the TileJSON (https://github.com/mapbox/tilejson-spec, 3.0.0) the tile server publishes for
// each tileset at /tiles/{tileset}.json; the map takes tile URLs and zoom range from it, never hard-coded.
import type { Tileset } from '../../../layers/catalog.ts';

export interface TileJSON {
  tilejson: string;
  tiles: string[];
  minzoom: number;
  maxzoom: number;
  bounds?: [number, number, number, number];
  center?: [number, number, number];
  name?: string;
  /** Plain text (tags stripped): we render it as text, never as HTML. */
  attribution: string;
  vector_layers?: { id: string; minzoom?: number; maxzoom?: number }[];
}

export function tileJsonUrl(tileset: Tileset): string {
  return `/tiles/${tileset}.json`;
}

/** Validates a parsed TileJSON document; throws an Error naming the bad member. */
export function parseTileJson(doc: unknown, base: string): TileJSON {
  if (!doc || typeof doc !== 'object') throw new Error('TileJSON is not a JSON object');
  const d = doc as Record<string, unknown>;
  if (!Array.isArray(d.tiles) || d.tiles.length === 0 || !d.tiles.every((t) => typeof t === 'string')) {
    throw new Error('TileJSON has no "tiles" URL templates');
  }
  const tiles = (d.tiles as string[]).map((t) => {
    if (!/\{z\}/.test(t) || !/\{x\}/.test(t) || !/\{y\}/.test(t)) throw new Error(`TileJSON tile template lacks {z}/{x}/{y}: ${t}`);
    // Resolve relative templates against the document URL; braces must survive URL normalisation.
    return /^[a-z]+:/i.test(t) ? t : new URL(t, base).href.replace(/%7B/g, '{').replace(/%7D/g, '}');
  });
  const zoom = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
  const minzoom = zoom(d.minzoom, 0);
  const maxzoom = zoom(d.maxzoom, 14);
  if (minzoom > maxzoom) throw new Error(`TileJSON minzoom ${minzoom} > maxzoom ${maxzoom}`);
  return {
    tilejson: typeof d.tilejson === 'string' ? d.tilejson : '3.0.0',
    tiles,
    minzoom,
    maxzoom,
    bounds: Array.isArray(d.bounds) && d.bounds.length === 4 ? (d.bounds as [number, number, number, number]) : undefined,
    center: Array.isArray(d.center) && d.center.length === 3 ? (d.center as [number, number, number]) : undefined,
    name: typeof d.name === 'string' ? d.name : undefined,
    attribution: typeof d.attribution === 'string' ? d.attribution.replace(/<[^>]*>/g, '').trim() : '',
    vector_layers: Array.isArray(d.vector_layers) ? (d.vector_layers as TileJSON['vector_layers']) : undefined,
  };
}

export async function fetchTileJson(tileset: Tileset, base: string, fetchFn: typeof fetch = fetch): Promise<TileJSON> {
  const url = new URL(tileJsonUrl(tileset), base).href;
  const res = await fetchFn(url);
  if (!res.ok) {
    let detail = `HTTP ${res.status}`;
    try {
      const body = (await res.json()) as { error?: { code?: string; message?: string } };
      if (body.error?.message) detail += ` ${body.error.code ?? ''}: ${body.error.message}`;
    } catch { /* non-JSON error body: the status is all we have */ }
    throw new Error(`${url}: ${detail}`);
  }
  return parseTileJson(await res.json(), url);
}
