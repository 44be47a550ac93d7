// Exact "geometry intersects box" for the OGC `bbox` filter (OGC API – Features Part 1, /req/core/fc-bbox-response:
// only features whose geometry intersects the box). The FlatGeobuf index only narrows candidates by their
// bounding boxes; this decides. Boundaries count as intersecting (closed sets).
import type { Bbox } from './params.ts';

type Pos = GeoJSON.Position;

function pointIn(p: Pos, b: Bbox): boolean {
  return p[0] >= b[0] && p[0] <= b[2] && p[1] >= b[1] && p[1] <= b[3];
}

/** Liang–Barsky: does segment a→b meet the closed box? */
export function segmentIntersectsBbox(a: Pos, c: Pos, b: Bbox): boolean {
  let t0 = 0;
  let t1 = 1;
  const dx = c[0] - a[0];
  const dy = c[1] - a[1];
  const p = [-dx, dx, -dy, dy];
  const q = [a[0] - b[0], b[2] - a[0], a[1] - b[1], b[3] - a[1]];
  for (let i = 0; i < 4; i++) {
    if (p[i] === 0) {
      if (q[i] < 0) return false;
    } else {
      const r = q[i] / p[i];
      if (p[i] < 0) {
        if (r > t1) return false;
        if (r > t0) t0 = r;
      } else {
        if (r < t0) return false;
        if (r < t1) t1 = r;
      }
    }
  }
  return true;
}

function lineIntersects(line: Pos[], b: Bbox): boolean {
  if (line.length === 1) return pointIn(line[0], b);
  for (let i = 1; i < line.length; i++) if (segmentIntersectsBbox(line[i - 1], line[i], b)) return true;
  return false;
}

/** Even-odd rule over all rings, so a point in a hole is outside. */
function pointInRings(x: number, y: number, rings: Pos[][]): boolean {
  let inside = false;
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}

function polygonIntersects(rings: Pos[][], b: Bbox): boolean {
  // An edge meets the box, or (no edge does) the box lies wholly inside the polygon.
  for (const ring of rings) if (lineIntersects(ring, b)) return true;
  return pointInRings(b[0], b[1], rings);
}

export function geometryIntersectsBbox(g: GeoJSON.Geometry | null, b: Bbox): boolean {
  if (!g) return false;
  switch (g.type) {
    case 'Point':
      return pointIn(g.coordinates, b);
    case 'MultiPoint':
      return g.coordinates.some((p) => pointIn(p, b));
    case 'LineString':
      return lineIntersects(g.coordinates, b);
    case 'MultiLineString':
      return g.coordinates.some((l) => lineIntersects(l, b));
    case 'Polygon':
      return polygonIntersects(g.coordinates, b);
    case 'MultiPolygon':
      return g.coordinates.some((p) => polygonIntersects(p, b));
    case 'GeometryCollection':
      return g.geometries.some((x) => geometryIntersectsBbox(x, b));
  }
}
