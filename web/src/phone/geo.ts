// Pure geometry the phone view needs: its grid's bbox, "am I inside my grid", and the tile addresses of the
// grid (z12–16) that the service worker keeps for offline use. No DOM.
export type Bbox = [number, number, number, number];

/** Every position of a (Multi)Polygon/LineString/Point. */
function positions(g: GeoJSON.Geometry): GeoJSON.Position[] {
  switch (g.type) {
    case 'Point': return [g.coordinates];
    case 'MultiPoint': case 'LineString': return g.coordinates;
    case 'MultiLineString': case 'Polygon': return g.coordinates.flat();
    case 'MultiPolygon': return g.coordinates.flat(2);
    case 'GeometryCollection': return g.geometries.flatMap(positions);
  }
}

export function bboxOf(g: GeoJSON.Geometry): Bbox {
  let w = Infinity, s = Infinity, e = -Infinity, n = -Infinity;
  for (const [x, y] of positions(g)) { if (x < w) w = x; if (x > e) e = x; if (y < s) s = y; if (y > n) n = y; }
  return [w, s, e, n];
}

/** Even-odd ray casting over every ring (holes count as outside). */
function inRings(rings: GeoJSON.Position[][], x: number, y: number): boolean {
  let inside = false;
  for (const r of rings) {
    for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
      const [xi, yi] = r[i], [xj, yj] = r[j];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}

export function pointInGeometry(g: GeoJSON.Geometry, lon: number, lat: number): boolean {
  if (g.type === 'Polygon') return inRings(g.coordinates, lon, lat);
  if (g.type === 'MultiPolygon') return g.coordinates.some((p) => inRings(p, lon, lat));
  return false;
}

/** Web Mercator tile column/row of a place at zoom z (the XYZ scheme of /tiles/{tileset}/{z}/{x}/{y}). */
export function tileOf(lon: number, lat: number, z: number): [number, number] {
  const n = 2 ** z;
  const la = Math.max(-85.05112878, Math.min(85.05112878, lat)) * Math.PI / 180;
  const x = Math.floor(((lon + 180) / 360) * n);
  const y = Math.floor(((1 - Math.log(Math.tan(la) + 1 / Math.cos(la)) / Math.PI) / 2) * n);
  return [Math.min(n - 1, Math.max(0, x)), Math.min(n - 1, Math.max(0, y))];
}

/**
 * The tile URLs covering `bbox` for zooms minZoom…maxZoom clipped to the tileset's own zoom range (the map
 * over-zooms past a tileset's maxzoom, so deeper tiles are never asked for), from a TileJSON template.
 */
export function tileUrls(template: string, bbox: Bbox, minZoom: number, maxZoom: number, tileset: { minzoom: number; maxzoom: number }): string[] {
  const out: string[] = [];
  for (let z = Math.max(minZoom, tileset.minzoom); z <= Math.min(maxZoom, tileset.maxzoom); z++) {
    const [x0, y0] = tileOf(bbox[0], bbox[3], z), [x1, y1] = tileOf(bbox[2], bbox[1], z);
    for (let x = x0; x <= x1; x++) for (let y = y0; y <= y1; y++) out.push(template.replace('{z}', String(z)).replace('{x}', String(x)).replace('{y}', String(y)));
  }
  return out;
}

/** A bbox grown by `m` metres on each side (the patrol strays a little past the grid's edge). */
export function padBbox([w, s, e, n]: Bbox, m: number): Bbox {
  const dy = m / 110_540, dx = m / (111_320 * Math.cos(((s + n) / 2) * Math.PI / 180));
  return [w - dx, s - dy, e + dx, n + dy];
}

/** China-time calendar day (UTC+8) of `ms`, as the patrol API counts days. */
export const chinaDay = (ms: number) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 10);
