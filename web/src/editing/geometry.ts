// The editor's working form of a geometry: every kind as parts → rings → positions, polygon rings kept
// OPEN (no repeated closing position) so a vertex is one position to move; closed and rewound again
// (RFC 7946 §3.1.6: exterior counter-clockwise, holes clockwise) only when it leaves the editor.
// Pure and immutable: every operation returns a new Parts value and never mutates its input.
import type { GeometryKind } from '../../../layers/catalog.ts';

export type Pos = [number, number];
/** parts[part][ring][index]. Point: [[[p]]]; line: [[coords]]; polygon: rings (open). */
export type Parts = Pos[][][];
export interface VertexRef { part: number; ring: number; index: number }

/** Positions closer than this (degrees, ~0.1 mm) are the same vertex (the server's duplicate threshold). */
export const SAME_EPS = 1e-9;

export const samePos = (a: readonly number[], b: readonly number[], eps = SAME_EPS): boolean =>
  Math.abs(a[0] - b[0]) <= eps && Math.abs(a[1] - b[1]) <= eps;

const pos = (p: readonly number[]): Pos => [p[0], p[1]];

function openRing(ring: readonly (readonly number[])[]): Pos[] {
  const r = ring.map(pos);
  while (r.length > 1 && samePos(r[0], r[r.length - 1], 0)) r.pop();
  return r;
}

/** The layer's kind of a GeoJSON geometry type, or null for collections. */
export function kindOf(g: GeoJSON.Geometry): GeometryKind | null {
  switch (g.type) {
    case 'Point': case 'MultiPoint': return 'point';
    case 'LineString': case 'MultiLineString': return 'line';
    case 'Polygon': case 'MultiPolygon': return 'polygon';
    default: return null;
  }
}

export function toParts(g: GeoJSON.Geometry): Parts {
  switch (g.type) {
    case 'Point': return [[[pos(g.coordinates)]]];
    case 'MultiPoint': return g.coordinates.map((p) => [[pos(p)]]);
    case 'LineString': return [[g.coordinates.map(pos)]];
    case 'MultiLineString': return g.coordinates.map((l) => [l.map(pos)]);
    case 'Polygon': return [g.coordinates.map(openRing)];
    case 'MultiPolygon': return g.coordinates.map((p) => p.map(openRing));
    default: throw new Error(`不支持编辑几何集合（GeometryCollection）；请拆成单独的要素 / GeometryCollection cannot be edited`);
  }
}

/** Twice the signed area of an open ring in lon/lat (shoelace): > 0 is counter-clockwise. */
export function signedArea2(ring: readonly Pos[]): number {
  let s = 0;
  for (let i = 0, n = ring.length; i < n; i++) {
    const a = ring[i], b = ring[(i + 1) % n];
    s += a[0] * b[1] - b[0] * a[1];
  }
  return s;
}

/** Exterior rings counter-clockwise, holes clockwise (RFC 7946 §3.1.6). */
export function orientParts(parts: Parts): Parts {
  return parts.map((rings) => rings.map((r, i) => {
    const ccw = signedArea2(r) > 0;
    return (i === 0) === ccw ? r : [...r].reverse();
  }));
}

/** Back to GeoJSON: polygon rings closed and oriented; Multi* when there is more than one part (or `multi`). */
export function fromParts(kind: GeometryKind, parts: Parts, multi = false): GeoJSON.Geometry {
  const many = multi || parts.length !== 1;
  if (kind === 'point') {
    const ps = parts.map((p) => p[0][0]);
    return many ? { type: 'MultiPoint', coordinates: ps } : { type: 'Point', coordinates: ps[0] };
  }
  if (kind === 'line') {
    const ls = parts.map((p) => p[0]);
    return many ? { type: 'MultiLineString', coordinates: ls } : { type: 'LineString', coordinates: ls[0] };
  }
  const polys = orientParts(parts).map((rings) => rings.map((r) => [...r, r[0]]));
  return many ? { type: 'MultiPolygon', coordinates: polys } : { type: 'Polygon', coordinates: polys[0] };
}

/** Closes and rewinds a GeoJSON geometry for saving (the same rule the server's rewind() applies). */
export function normalizeGeometry(g: GeoJSON.Geometry): GeoJSON.Geometry {
  const kind = kindOf(g);
  if (!kind) return g;
  return fromParts(kind, toParts(g), g.type.startsWith('Multi'));
}

export function vertexAt(parts: Parts, v: VertexRef): Pos | null {
  return parts[v.part]?.[v.ring]?.[v.index] ?? null;
}

function withRing(parts: Parts, v: Pick<VertexRef, 'part' | 'ring'>, f: (ring: Pos[]) => Pos[]): Parts {
  if (!parts[v.part]?.[v.ring]) throw new Error(`没有第 ${v.part}/${v.ring} 个环 / no such ring`);
  return parts.map((rings, pi) => pi !== v.part ? rings : rings.map((r, ri) => (ri === v.ring ? f(r) : r)));
}

export function moveVertex(parts: Parts, v: VertexRef, to: Pos): Parts {
  return withRing(parts, v, (r) => {
    if (v.index < 0 || v.index >= r.length) throw new Error(`没有第 ${v.index} 个顶点 / no such vertex`);
    return r.map((p, i) => (i === v.index ? pos(to) : p));
  });
}

/** Inserts `at` after vertex `v.index` (on the edge from it to the next one). */
export function insertVertex(parts: Parts, v: VertexRef, at: Pos): Parts {
  return withRing(parts, v, (r) => [...r.slice(0, v.index + 1), pos(at), ...r.slice(v.index + 1)]);
}

/** The fewest positions a ring or a line may keep: polygons 3 (open), lines 2, points 1. */
export function minVertices(kind: GeometryKind): number {
  return kind === 'polygon' ? 3 : kind === 'line' ? 2 : 1;
}

/** Removes a vertex; refuses (throws with what to do) when the ring or line would become degenerate. */
export function deleteVertex(parts: Parts, kind: GeometryKind, v: VertexRef): Parts {
  return withRing(parts, v, (r) => {
    if (r.length <= minVertices(kind)) {
      throw new Error(kind === 'polygon' ? '面至少需要 3 个顶点；要删除整个要素请用“删除要素” / a polygon keeps at least 3 vertices'
        : '线至少需要 2 个顶点；要删除整个要素请用“删除要素” / a line keeps at least 2 vertices');
    }
    return r.filter((_, i) => i !== v.index);
  });
}

/** Edge midpoints of every ring/line (the handles that insert a vertex): after vertex `index`. */
export function midpoints(parts: Parts, kind: GeometryKind): { ref: VertexRef; at: Pos }[] {
  if (kind === 'point') return [];
  const out: { ref: VertexRef; at: Pos }[] = [];
  parts.forEach((rings, part) => rings.forEach((r, ring) => {
    const n = kind === 'polygon' ? r.length : r.length - 1;
    for (let index = 0; index < n; index++) {
      const a = r[index], b = r[(index + 1) % r.length];
      out.push({ ref: { part, ring, index }, at: [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2] });
    }
  }));
  return out;
}

export function vertices(parts: Parts): { ref: VertexRef; at: Pos }[] {
  const out: { ref: VertexRef; at: Pos }[] = [];
  parts.forEach((rings, part) => rings.forEach((r, ring) => r.forEach((at, index) => out.push({ ref: { part, ring, index }, at }))));
  return out;
}

/** Every position equal to `p` (shared vertices: a ring touching itself, or a neighbour's boundary). */
export function findVertices(parts: Parts, p: Pos, eps = SAME_EPS): VertexRef[] {
  return vertices(parts).filter((v) => samePos(v.at, p, eps)).map((v) => v.ref);
}

export function bboxOf(parts: Parts): [number, number, number, number] {
  let w = Infinity, s = Infinity, e = -Infinity, n = -Infinity;
  for (const rings of parts) for (const r of rings) for (const p of r) {
    if (p[0] < w) w = p[0]; if (p[0] > e) e = p[0];
    if (p[1] < s) s = p[1]; if (p[1] > n) n = p[1];
  }
  return [w, s, e, n];
}
