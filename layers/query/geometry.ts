// Exact planar predicates between geometries held in typed arrays: point location (inside / boundary /
// outside) with holes and multipolygons, closed segment intersection, intersects, coveredBy / covers and
// distance. Orientation tests are Shewchuk's adaptive-precision orient2d (robust-predicates), so a point
// exactly on an edge or a vertex is "boundary" exactly as GEOS decides it; the shared boundary rule and the
// predicate definitions are in layers/query/types.ts and layers/README.md ("Queries").
// Coordinates are whatever plane the caller works in: lon/lat degrees for topology (as PostGIS `geometry`
// SRID 4326), Gauss–Krüger metres (EPSG:4549) for distances.
import { orient2d } from 'robust-predicates';
import { PackedRTree } from './rtree.ts';

/** Point location results. */
export const OUTSIDE = 0, BOUNDARY = 1, INSIDE = 2;
export type Location = 0 | 1 | 2;

/**
 * A geometry as flat arrays. dim 0: every vertex is a point. dim 1: `ends[k]` is the end vertex (exclusive)
 * of line k. dim 2: `ends[k]` ends ring k and `polys[j]` is the end ring (exclusive) of polygon j; rings are
 * closed (last vertex = first), first ring of each polygon is its shell.
 */
export interface Geom {
  dim: 0 | 1 | 2;
  xy: Float64Array;
  ends: Uint32Array;
  polys: Uint32Array;
  bbox: [number, number, number, number];
}

const EMPTY = new Uint32Array(0);

/** Positive when c is left of a→b (counter-clockwise), 0 when collinear, exactly. */
export function orient(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  return -orient2d(ax, ay, bx, by, cx, cy);
}

export function fromGeoJSON(g: GeoJSON.Geometry): Geom {
  const xy: number[] = [];
  const ends: number[] = [];
  const polys: number[] = [];
  const push = (ring: GeoJSON.Position[]) => { for (const p of ring) xy.push(p[0], p[1]); ends.push(xy.length / 2); };
  let dim: 0 | 1 | 2;
  switch (g.type) {
    case 'Point': dim = 0; xy.push(g.coordinates[0], g.coordinates[1]); break;
    case 'MultiPoint': dim = 0; for (const p of g.coordinates) xy.push(p[0], p[1]); break;
    case 'LineString': dim = 1; push(g.coordinates); break;
    case 'MultiLineString': dim = 1; for (const l of g.coordinates) push(l); break;
    case 'Polygon': dim = 2; for (const r of g.coordinates) push(r); polys.push(ends.length); break;
    case 'MultiPolygon': dim = 2; for (const p of g.coordinates) { for (const r of p) push(r); polys.push(ends.length); } break;
    default: throw new Error(`geometry type ${g.type} is not supported; use Point, LineString, Polygon or their Multi forms`);
  }
  return makeGeom(dim, Float64Array.from(xy), Uint32Array.from(ends), Uint32Array.from(polys));
}

export function makeGeom(dim: 0 | 1 | 2, xy: Float64Array, ends: Uint32Array = EMPTY, polys: Uint32Array = EMPTY): Geom {
  const bbox: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let i = 0; i < xy.length; i += 2) {
    const x = xy[i], y = xy[i + 1];
    if (x < bbox[0]) bbox[0] = x;
    if (y < bbox[1]) bbox[1] = y;
    if (x > bbox[2]) bbox[2] = x;
    if (y > bbox[3]) bbox[3] = y;
  }
  return { dim, xy, ends, polys, bbox };
}

export function toGeoJSON(g: Geom): GeoJSON.Geometry {
  const pts = (s: number, e: number) => { const o: GeoJSON.Position[] = []; for (let i = s; i < e; i++) o.push([g.xy[2 * i], g.xy[2 * i + 1]]); return o; };
  const nv = g.xy.length / 2;
  if (g.dim === 0) return nv === 1 ? { type: 'Point', coordinates: [g.xy[0], g.xy[1]] } : { type: 'MultiPoint', coordinates: pts(0, nv) };
  const lines: GeoJSON.Position[][] = [];
  for (let k = 0, s = 0; k < g.ends.length; s = g.ends[k++]) lines.push(pts(s, g.ends[k]));
  if (g.dim === 1) return lines.length === 1 ? { type: 'LineString', coordinates: lines[0] } : { type: 'MultiLineString', coordinates: lines };
  const polys: GeoJSON.Position[][][] = [];
  for (let j = 0, r = 0; j < g.polys.length; r = g.polys[j++]) polys.push(lines.slice(r, g.polys[j]));
  return polys.length === 1 ? { type: 'Polygon', coordinates: polys[0] } : { type: 'MultiPolygon', coordinates: polys };
}

/**
 * Segments of a geometry as start-vertex indices (segment s runs from vertex seg[s] to seg[s] + 1); a
 * point is a zero-length segment (start index with the flag in `point`), so every predicate below treats
 * points, lines and rings alike.
 */
export interface Prepared {
  g: Geom;
  seg: Uint32Array;
  /** 1 where the segment is a single point (dim 0). */
  point: Uint8Array | null;
  /** Over segment boxes, when there are enough segments to be worth it. */
  tree: PackedRTree | null;
}

const TREE_MIN_SEGMENTS = 48;

export function prepare(g: Geom, withTree = true): Prepared {
  const nv = g.xy.length / 2;
  let seg: Uint32Array;
  let point: Uint8Array | null = null;
  if (g.dim === 0) {
    seg = new Uint32Array(nv);
    for (let i = 0; i < nv; i++) seg[i] = i;
    point = new Uint8Array(nv).fill(1);
  } else {
    let n = 0;
    for (let k = 0, s = 0; k < g.ends.length; s = g.ends[k++]) n += Math.max(g.ends[k] - s - 1, 0);
    seg = new Uint32Array(n);
    let m = 0;
    for (let k = 0, s = 0; k < g.ends.length; s = g.ends[k++]) for (let i = s; i < g.ends[k] - 1; i++) seg[m++] = i;
    // A one-vertex line still has a location: keep it as a point-segment.
    if (n === 0 && nv > 0) { seg = new Uint32Array([0]); point = new Uint8Array([1]); }
  }
  let tree: PackedRTree | null = null;
  if (withTree && seg.length >= TREE_MIN_SEGMENTS) {
    tree = new PackedRTree(seg.length, 16);
    const xy = g.xy;
    for (let s = 0; s < seg.length; s++) {
      const a = seg[s], b = point && point[s] ? a : a + 1;
      const ax = xy[2 * a], ay = xy[2 * a + 1], bx = xy[2 * b], by = xy[2 * b + 1];
      tree.add(Math.min(ax, bx), Math.min(ay, by), Math.max(ax, bx), Math.max(ay, by));
    }
    tree.finish();
  }
  return { g, seg, point, tree };
}

/** Segment indices whose box meets the closed box. */
function segmentsIn(p: Prepared, minX: number, minY: number, maxX: number, maxY: number, out: number[]): number[] {
  out.length = 0;
  if (p.tree) return p.tree.search(minX, minY, maxX, maxY, out);
  const xy = p.g.xy;
  for (let s = 0; s < p.seg.length; s++) {
    const a = p.seg[s], b = p.point && p.point[s] ? a : a + 1;
    const ax = xy[2 * a], ay = xy[2 * a + 1], bx = xy[2 * b], by = xy[2 * b + 1];
    if (Math.max(ax, bx) < minX || Math.max(ay, by) < minY || Math.min(ax, bx) > maxX || Math.min(ay, by) > maxY) continue;
    out.push(s);
  }
  return out;
}

function segEnd(p: Prepared, s: number): number {
  return p.point && p.point[s] ? p.seg[s] : p.seg[s] + 1;
}

/** True when (x, y) lies on the closed segment a–b (exact). */
export function onSegment(ax: number, ay: number, bx: number, by: number, x: number, y: number): boolean {
  if (x < Math.min(ax, bx) || x > Math.max(ax, bx) || y < Math.min(ay, by) || y > Math.max(ay, by)) return false;
  return orient(ax, ay, bx, by, x, y) === 0;
}

/** Closed segments p1–p2 and q1–q2 share a point (exact; zero-length segments allowed). */
export function segmentsIntersect(
  p1x: number, p1y: number, p2x: number, p2y: number, q1x: number, q1y: number, q2x: number, q2y: number,
): boolean {
  if (Math.max(p1x, p2x) < Math.min(q1x, q2x) || Math.max(q1x, q2x) < Math.min(p1x, p2x)
    || Math.max(p1y, p2y) < Math.min(q1y, q2y) || Math.max(q1y, q2y) < Math.min(p1y, p2y)) return false;
  const d1 = orient(q1x, q1y, q2x, q2y, p1x, p1y);
  const d2 = orient(q1x, q1y, q2x, q2y, p2x, p2y);
  const d3 = orient(p1x, p1y, p2x, p2y, q1x, q1y);
  const d4 = orient(p1x, p1y, p2x, p2y, q2x, q2y);
  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) return true;
  if (d1 === 0 && onSegment(q1x, q1y, q2x, q2y, p1x, p1y)) return true;
  if (d2 === 0 && onSegment(q1x, q1y, q2x, q2y, p2x, p2y)) return true;
  if (d3 === 0 && onSegment(p1x, p1y, p2x, p2y, q1x, q1y)) return true;
  if (d4 === 0 && onSegment(p1x, p1y, p2x, p2y, q2x, q2y)) return true;
  return false;
}

/** Reused by locate() (not re-entrant: locate calls nothing that locates). */
const locScratch: number[] = [];

/**
 * Where (x, y) is relative to the geometry: INSIDE (polygon interior; for points and lines, on them),
 * BOUNDARY (on a ring edge or vertex) or OUTSIDE. Crossing-number test with exact orientation; rings of all
 * polygons are counted together, which equals per-polygon testing for valid (OGC) multipolygons.
 */
export function locate(p: Prepared, x: number, y: number): Location {
  const g = p.g, xy = g.xy;
  if (x < g.bbox[0] || x > g.bbox[2] || y < g.bbox[1] || y > g.bbox[3]) return OUTSIDE;
  if (g.dim < 2) {
    const c = segmentsIn(p, x, y, x, y, []);
    for (const s of c) {
      const a = p.seg[s], b = segEnd(p, s);
      if (onSegment(xy[2 * a], xy[2 * a + 1], xy[2 * b], xy[2 * b + 1], x, y)) return INSIDE;
    }
    return OUTSIDE;
  }
  let cand: number[] | null = null;
  if (p.tree) { locScratch.length = 0; cand = p.tree.search(x, y, g.bbox[2], y, locScratch); }
  const n = cand ? cand.length : p.seg.length;
  let inside = false;
  for (let k = 0; k < n; k++) {
    const a = p.seg[cand ? cand[k] : k];
    const ax = xy[2 * a], ay = xy[2 * a + 1], bx = xy[2 * a + 2], by = xy[2 * a + 3];
    if ((ay > y) !== (by > y)) {
      const o = orient(ax, ay, bx, by, x, y);
      if (o === 0) return BOUNDARY;
      // Upward edge with the point on its left, or downward with it on the right: the ray to +x crosses.
      if ((by > ay) === (o > 0)) inside = !inside;
    } else if (ay === y && by === y) {
      if (x >= Math.min(ax, bx) && x <= Math.max(ax, bx)) return BOUNDARY;
    } else if ((ay === y && ax === x) || (by === y && bx === x)) {
      return BOUNDARY;
    }
  }
  return inside ? INSIDE : OUTSIDE;
}

function boxesMeet(a: [number, number, number, number], b: [number, number, number, number]): boolean {
  return !(a[2] < b[0] || b[2] < a[0] || a[3] < b[1] || b[3] < a[1]);
}

/** A vertex of each component (point, line, ring). */
function componentStarts(g: Geom): number[] {
  if (g.dim === 0) return Array.from({ length: g.xy.length / 2 }, (_, i) => i);
  const out = [0];
  for (let k = 0; k < g.ends.length - 1; k++) out.push(g.ends[k]);
  return out;
}

/** a and b share at least one point (closed sets) = ST_Intersects. */
export function intersects(a: Prepared, b: Prepared): boolean {
  if (!boxesMeet(a.g.bbox, b.g.bbox)) return false;
  // Iterate the smaller side's segments against the other side's index.
  const [s, t] = a.seg.length <= b.seg.length ? [a, b] : [b, a];
  const sx = s.g.xy, tx = t.g.xy;
  const cand: number[] = [];
  for (let i = 0; i < s.seg.length; i++) {
    const p1 = s.seg[i], p2 = segEnd(s, i);
    const p1x = sx[2 * p1], p1y = sx[2 * p1 + 1], p2x = sx[2 * p2], p2y = sx[2 * p2 + 1];
    segmentsIn(t, Math.min(p1x, p2x), Math.min(p1y, p2y), Math.max(p1x, p2x), Math.max(p1y, p2y), cand);
    for (const j of cand) {
      const q1 = t.seg[j], q2 = segEnd(t, j);
      if (segmentsIntersect(p1x, p1y, p2x, p2y, tx[2 * q1], tx[2 * q1 + 1], tx[2 * q2], tx[2 * q2 + 1])) return true;
    }
  }
  // No boundaries meet: one may still lie inside a polygon of the other.
  if (b.g.dim === 2) for (const v of componentStarts(a.g)) if (locate(b, a.g.xy[2 * v], a.g.xy[2 * v + 1]) !== OUTSIDE) return true;
  if (a.g.dim === 2) for (const v of componentStarts(b.g)) if (locate(a, b.g.xy[2 * v], b.g.xy[2 * v + 1]) !== OUTSIDE) return true;
  return false;
}

/**
 * Splits segment p1–p2 where other's segments touch it; calls `piece(mx, my, onOther)` with the midpoint of
 * every piece, `onOther` true when the piece runs along a segment of `other` (collinear overlap), and
 * stops early when `piece` returns false. Returns false if stopped.
 */
function forEachPiece(
  p1x: number, p1y: number, p2x: number, p2y: number, other: Prepared,
  piece: (mx: number, my: number, onOther: boolean) => boolean,
): boolean {
  const ox = other.g.xy;
  const cand = segmentsIn(other, Math.min(p1x, p2x), Math.min(p1y, p2y), Math.max(p1x, p2x), Math.max(p1y, p2y), scratchCand);
  const ts: number[] = [0, 1];
  const overlaps: number[] = [];
  const dx = p2x - p1x, dy = p2y - p1y;
  const len2 = dx * dx + dy * dy;
  if (len2 === 0) return piece(p1x, p1y, false);
  const param = (x: number, y: number) => ((x - p1x) * dx + (y - p1y) * dy) / len2;
  for (const j of cand) {
    const q1 = other.seg[j], q2 = segEnd(other, j);
    const q1x = ox[2 * q1], q1y = ox[2 * q1 + 1], q2x = ox[2 * q2], q2y = ox[2 * q2 + 1];
    if (!segmentsIntersect(p1x, p1y, p2x, p2y, q1x, q1y, q2x, q2y)) continue;
    const d1 = orient(q1x, q1y, q2x, q2y, p1x, p1y);
    const d2 = orient(q1x, q1y, q2x, q2y, p2x, p2y);
    if (d1 === 0 && d2 === 0) {
      // Collinear: the overlap is bounded by the parameters of q1, q2 clamped to [0, 1].
      const ta = Math.min(Math.max(param(q1x, q1y), 0), 1), tb = Math.min(Math.max(param(q2x, q2y), 0), 1);
      const lo = Math.min(ta, tb), hi = Math.max(ta, tb);
      ts.push(lo, hi);
      if (hi > lo) overlaps.push(lo, hi);
    } else if (d1 === 0) ts.push(0);
    else if (d2 === 0) ts.push(1);
    else {
      const d3 = orient(p1x, p1y, p2x, p2y, q1x, q1y);
      const d4 = orient(p1x, p1y, p2x, p2y, q2x, q2y);
      if (d3 === 0) ts.push(param(q1x, q1y));
      else if (d4 === 0) ts.push(param(q2x, q2y));
      else ts.push(d1 / (d1 - d2));
    }
  }
  ts.sort((u, v) => u - v);
  for (let i = 0; i + 1 < ts.length; i++) {
    if (!(ts[i + 1] > ts[i])) continue;
    const tm = (ts[i] + ts[i + 1]) / 2;
    let on = false;
    for (let k = 0; k < overlaps.length; k += 2) if (tm > overlaps[k] && tm < overlaps[k + 1]) { on = true; break; }
    if (!piece(p1x + tm * dx, p1y + tm * dy, on)) return false;
  }
  return true;
}
const scratchCand: number[] = [];

/** A point strictly inside polygon j of g (a horizontal line between two vertex heights, first interval). */
function interiorPoint(g: Geom, j: number): [number, number] | null {
  const r0 = j === 0 ? 0 : g.polys[j - 1], r1 = g.polys[j];
  const v0 = r0 === 0 ? 0 : g.ends[r0 - 1], v1 = g.ends[r1 - 1];
  const ys: number[] = [];
  for (let v = v0; v < v1; v++) ys.push(g.xy[2 * v + 1]);
  ys.sort((a, b) => a - b);
  for (let k = 0; k + 1 < ys.length; k++) {
    if (!(ys[k + 1] > ys[k])) continue;
    const y = (ys[k] + ys[k + 1]) / 2;
    const xs: number[] = [];
    for (let r = r0; r < r1; r++) {
      const s = r === 0 ? 0 : g.ends[r - 1];
      for (let v = s; v < g.ends[r] - 1; v++) {
        const ax = g.xy[2 * v], ay = g.xy[2 * v + 1], bx = g.xy[2 * v + 2], by = g.xy[2 * v + 3];
        if ((ay > y) !== (by > y)) xs.push(ax + (y - ay) * (bx - ax) / (by - ay));
      }
    }
    xs.sort((a, b) => a - b);
    for (let i = 0; i + 1 < xs.length; i += 2) if (xs[i + 1] > xs[i]) return [(xs[i] + xs[i + 1]) / 2, y];
  }
  return null;
}

/** No point of a lies outside b (closed sets) = ST_CoveredBy(a, b). `covers(b, a)` is the same call. */
export function coveredBy(a: Prepared, b: Prepared): boolean {
  const ag = a.g, bg = b.g;
  if (ag.xy.length === 0) return false;
  if (ag.bbox[0] < bg.bbox[0] || ag.bbox[1] < bg.bbox[1] || ag.bbox[2] > bg.bbox[2] || ag.bbox[3] > bg.bbox[3]) return false;
  if (ag.dim > bg.dim) return false;
  const ax = ag.xy;
  for (let v = 0; v < ax.length / 2; v++) if (locate(b, ax[2 * v], ax[2 * v + 1]) === OUTSIDE) return false;
  if (ag.dim >= 1) {
    for (let i = 0; i < a.seg.length; i++) {
      const p1 = a.seg[i], p2 = segEnd(a, i);
      const ok = forEachPiece(ax[2 * p1], ax[2 * p1 + 1], ax[2 * p2], ax[2 * p2 + 1], b,
        (mx, my, on) => on || locate(b, mx, my) !== OUTSIDE);
      if (!ok) return false;
    }
  }
  if (ag.dim === 2) {
    // a's boundary is in b. a ⊆ b unless b's boundary passes through a's interior (a hole of b or a gap
    // between b's polygons inside a), or a whole polygon of a sits in such a gap.
    const bx = bg.xy;
    const near = segmentsIn(b, ag.bbox[0], ag.bbox[1], ag.bbox[2], ag.bbox[3], []);
    for (const j of near) {
      const q1 = b.seg[j], q2 = q1 + 1;
      if (locate(a, bx[2 * q1], bx[2 * q1 + 1]) === INSIDE) return false;
      const ok = forEachPiece(bx[2 * q1], bx[2 * q1 + 1], bx[2 * q2], bx[2 * q2 + 1], a,
        (mx, my, on) => on || locate(a, mx, my) !== INSIDE);
      if (!ok) return false;
    }
    for (let j = 0; j < ag.polys.length; j++) {
      const ip = interiorPoint(ag, j);
      if (ip && locate(b, ip[0], ip[1]) === OUTSIDE) return false;
    }
  }
  return true;
}

export function covers(a: Prepared, b: Prepared): boolean {
  return coveredBy(b, a);
}

function pointSegDist2(x: number, y: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax, dy = by - ay;
  const l2 = dx * dx + dy * dy;
  let t = l2 === 0 ? 0 : ((x - ax) * dx + (y - ay) * dy) / l2;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  const ex = ax + t * dx - x, ey = ay + t * dy - y;
  return ex * ex + ey * ey;
}

/**
 * Planar distance between a and b (0 when they intersect), in the units of their coordinates. With
 * `maxDist`, any result above it may be returned as Infinity (only segments within maxDist are examined).
 */
export function distance(a: Prepared, b: Prepared, maxDist = Infinity): number {
  if (intersects(a, b)) return 0;
  const [s, t] = a.seg.length <= b.seg.length ? [a, b] : [b, a];
  const sx = s.g.xy, tx = t.g.xy;
  let best = Infinity;
  const cand: number[] = [];
  for (let i = 0; i < s.seg.length; i++) {
    const p1 = s.seg[i], p2 = segEnd(s, i);
    const p1x = sx[2 * p1], p1y = sx[2 * p1 + 1], p2x = sx[2 * p2], p2y = sx[2 * p2 + 1];
    const r = Math.min(maxDist, Math.sqrt(best));
    if (r === Infinity) {
      cand.length = 0;
      for (let j = 0; j < t.seg.length; j++) cand.push(j);
    } else {
      segmentsIn(t, Math.min(p1x, p2x) - r, Math.min(p1y, p2y) - r, Math.max(p1x, p2x) + r, Math.max(p1y, p2y) + r, cand);
    }
    for (const j of cand) {
      const q1 = t.seg[j], q2 = segEnd(t, j);
      const q1x = tx[2 * q1], q1y = tx[2 * q1 + 1], q2x = tx[2 * q2], q2y = tx[2 * q2 + 1];
      // Segments do not intersect here, so the nearest pair of points includes an endpoint.
      const d = Math.min(
        pointSegDist2(p1x, p1y, q1x, q1y, q2x, q2y), pointSegDist2(p2x, p2y, q1x, q1y, q2x, q2y),
        pointSegDist2(q1x, q1y, p1x, p1y, p2x, p2y), pointSegDist2(q2x, q2y, p1x, p1y, p2x, p2y));
      if (d < best) best = d;
    }
  }
  const d = Math.sqrt(best);
  return d <= maxDist ? d : Infinity;
}

/** Distance from a point to a geometry (0 inside a polygon). */
export function pointDistance(p: Prepared, x: number, y: number): number {
  const g = p.g, xy = g.xy;
  if (g.dim === 2 && locate(p, x, y) !== OUTSIDE) return 0;
  let best = Infinity;
  for (let s = 0; s < p.seg.length; s++) {
    const a = p.seg[s], b = segEnd(p, s);
    const d = pointSegDist2(x, y, xy[2 * a], xy[2 * a + 1], xy[2 * b], xy[2 * b + 1]);
    if (d < best) best = d;
  }
  return Math.sqrt(best);
}
