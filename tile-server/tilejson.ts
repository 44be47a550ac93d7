// TileJSON 3.0.0 (https://github.com/mapbox/tilejson-spec/tree/master/3.0.0) for one archive, from its
// header (zooms, bounds, centre) and JSON metadata (name, attribution, vector_layers).
import type { PmtilesArchive } from './pmtiles-source.ts';

export interface TileJson {
  tilejson: '3.0.0';
  name: string;
  description?: string;
  version?: string;
  attribution: string;
  scheme: 'xyz';
  tiles: string[];
  vector_layers: unknown[];
  minzoom: number;
  maxzoom: number;
  bounds: [number, number, number, number];
  center: [number, number, number];
}

/** Used when the archive's metadata has none (archives built before attribution was written). */
export const DEFAULT_ATTRIBUTION = 'OneMap 常熟城市运行一张图（部分为生成数据）';

/** `baseUrl` is this server's origin as the client reached it, e.g. `http://127.0.0.1:8080`. */
export function buildTileJson(tileset: string, archive: PmtilesArchive, baseUrl: string): TileJson {
  const h = archive.header;
  const m = archive.metadata;
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const tj: TileJson = {
    tilejson: '3.0.0',
    name: str(m.name) ?? tileset,
    attribution: str(m.attribution) ?? DEFAULT_ATTRIBUTION,
    scheme: 'xyz',
    tiles: [`${baseUrl}/tiles/${tileset}/{z}/{x}/{y}.mvt`],
    vector_layers: Array.isArray(m.vector_layers) ? m.vector_layers : [],
    minzoom: h.minZoom,
    maxzoom: h.maxZoom,
    bounds: [h.minLon, h.minLat, h.maxLon, h.maxLat],
    center: [h.centerLon, h.centerLat, h.centerZoom],
  };
  const description = str(m.description);
  const version = str(m.version);
  if (description !== undefined) tj.description = description;
  if (version !== undefined) tj.version = version;
  return tj;
}
