// Our own MVT tiles (basemap, overlay), fetched once and decoded once for both the draped imagery and the
// extruded buildings. Decoded with @mapbox/vector-tile on the main thread: no worker script to fetch
// from a CDN (see tile-layers.ts), and a tile decodes in a few milliseconds.
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import type { Tileset } from '../../../layers/catalog.ts';
import type { TileJSON } from './tilejson.ts';
import { withRevision } from '../editing/revision-url.ts';

/** Tiles kept decoded: two tilesets × a screenful at two levels, with room to pan back. */
const CACHE_SIZE = 300;

export interface TileSource {
  readonly tileset: Tileset;
  readonly tileJson: TileJSON;
  /** The decoded tile, or null when the server has no data there (HTTP 204 / outside the bounds / above maxzoom). */
  get(z: number, x: number, y: number): Promise<VectorTile | null>;
  /** Tiles fetched and decoded so far. */
  readonly loaded: number;
  /** After an edit: forget decoded tiles and fetch with `?rev=N` from now on (the browser cache holds the old ones). */
  refresh(revision: number): void;
}

export function tileIntersectsBounds(z: number, x: number, y: number, bounds: [number, number, number, number] | undefined): boolean {
  if (!bounds) return true;
  const n = 2 ** z;
  const w = (x / n) * 360 - 180, e = ((x + 1) / n) * 360 - 180;
  const lat = (t: number) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * t) / n))) * 180) / Math.PI;
  const north = lat(y), south = lat(y + 1);
  return e >= bounds[0] && w <= bounds[2] && north >= bounds[1] && south <= bounds[3];
}

export function createTileSource(tileset: Tileset, tileJson: TileJSON, onError: (e: Error) => void): TileSource {
  const cache = new Map<string, Promise<VectorTile | null>>();
  let loaded = 0;
  let template = tileJson.tiles[0];
  return {
    refresh(revision) {
      cache.clear();
      template = withRevision(tileJson.tiles[0], revision);
    },
    tileset,
    tileJson,
    get loaded() { return loaded; },
    get(z, x, y) {
      if (z < tileJson.minzoom || z > tileJson.maxzoom || !tileIntersectsBounds(z, x, y, tileJson.bounds)) return Promise.resolve(null);
      const key = `${z}/${x}/${y}`;
      let p = cache.get(key);
      if (p) { cache.delete(key); cache.set(key, p); return p; } // LRU: most recent last
      const url = template.replace('{z}', String(z)).replace('{x}', String(x)).replace('{y}', String(y));
      p = fetch(url).then(async (res) => {
        if (res.status === 204 || res.status === 404) return null;
        if (!res.ok) throw new Error(`${tileset} ${key}: HTTP ${res.status}`);
        const buf = new Uint8Array(await res.arrayBuffer());
        loaded++;
        return buf.length ? new VectorTile(new PbfReader(buf)) : null;
      });
      p.catch((e: unknown) => { cache.delete(key); onError(e instanceof Error ? e : new Error(String(e))); });
      cache.set(key, p);
      while (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      return p;
    },
  };
}
