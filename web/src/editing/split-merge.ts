// Split and merge for the editor: a polygon cut by a drawn line into two polygons that share the cut
// exactly (same positions, so a partition stays gap-free), a line split at a vertex, two polygons
// unioned (turf 7, polyclip-ts), two lines that touch end to end joined. Pure; errors say what to do.
import { featureCollection, polygon as turfPolygon, union } from '@turf/turf';
import { orientParts, samePos, type Parts, type Pos } from './geometry.ts';

interface Crossing { seg: number; t: number; edge: number; u: number; at: Pos }

/** Proper intersection of segments p→p2 and q→q2: params t (on p) and u (on q) in [0, 1]. */
function intersect(p: Pos, p2: Pos, q: Pos, q2: Pos): { t: number; u: number } | null {
  const rx = p2[0] - p[0], ry = p2[1] - p[1], sx = q2[0] - q[0], sy = q2[1] - q[1];
  const den = rx * sy - ry * sx;
  if (den === 0) return null; // parallel or collinear: a cut along an edge does not cross it
  const qpx = q[0] - p[0], qpy = q[1] - p[1];
  const t = (qpx * sy - qpy * sx) / den, u = (qpx * ry - qpy * rx) / den;
  return t >= 0 && t <= 1 && u >= 0 && u <= 1 ? { t, u } : null;
}

function crossings(line: readonly Pos[], ring: readonly Pos[]): Crossing[] {
  const out: Crossing[] = [];
  const n = ring.length;
  for (let seg = 0; seg < line.length - 1; seg++) {
    for (let edge = 0; edge < n; edge++) {
      const a = ring[edge], b = ring[(edge + 1) % n];
      const x = intersect(line[seg], line[seg + 1], a, b);
      // u = 1 is the next edge's u = 0: counted once there.
      if (!x || x.u === 1) continue;
      const at: Pos = x.u === 0 ? [a[0], a[1]] : [a[0] + x.u * (b[0] - a[0]), a[1] + x.u * (b[1] - a[1])];
      if (out.some((c) => samePos(c.at, at))) continue; // a line vertex exactly on the ring
      out.push({ seg, t: x.t, edge, u: x.u, at });
    }
  }
  return out.sort((a, b) => a.seg - b.seg || a.t - b.t);
}

/** Ring vertices passed walking forward from crossing `from` to crossing `to`. */
function walk(ring: readonly Pos[], from: Crossing, to: Crossing): Pos[] {
  const n = ring.length;
  let count = (to.edge - from.edge + n) % n;
  if (count === 0 && to.u < from.u) count = n;
  const out: Pos[] = [];
  for (let k = 1; k <= count; k++) out.push(ring[(from.edge + k) % n]);
  return out;
}

function dedupe(r: Pos[]): Pos[] {
  const out: Pos[] = [];
  for (const p of r) if (!out.length || !samePos(out[out.length - 1], p)) out.push(p);
  while (out.length > 1 && samePos(out[0], out[out.length - 1])) out.pop();
  return out;
}

/** Even–odd point-in-ring test (open ring). */
export function inRing(p: Pos, ring: readonly Pos[]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const a = ring[i], b = ring[j];
    if ((a[1] > p[1]) !== (b[1] > p[1]) && p[0] < ((b[0] - a[0]) * (p[1] - a[1])) / (b[1] - a[1]) + a[0]) inside = !inside;
  }
  return inside;
}

/**
 * Cuts one polygon part (rings open, as in Parts) by a polyline that crosses its exterior exactly twice
 * and no hole. Returns the two pieces (each with the holes that fall inside it), oriented per RFC 7946.
 */
export function splitPolygon(rings: readonly Pos[][], line: readonly Pos[]): [Pos[][], Pos[][]] {
  if (line.length < 2) throw new Error('切割线至少需要两个点 / the cut line needs at least 2 points');
  const outer = rings[0];
  for (const hole of rings.slice(1)) {
    if (crossings(line, hole).length) throw new Error('切割线不能穿过面内的洞；请绕开洞重画 / the cut must not cross a hole');
  }
  const xs = crossings(line, outer);
  if (xs.length !== 2) {
    throw new Error(`切割线须从面外穿入、再穿出（恰好穿过边界两次，现为 ${xs.length} 次）；请重画 / the cut must cross the boundary exactly twice (got ${xs.length})`);
  }
  const [a, b] = xs;
  const inner = line.slice(a.seg + 1, b.seg + 1).filter((p) => !samePos(p, a.at) && !samePos(p, b.at));
  const p = dedupe([a.at, ...inner, b.at, ...walk(outer, b, a)]);
  const q = dedupe([b.at, ...[...inner].reverse(), a.at, ...walk(outer, a, b)]);
  if (p.length < 3 || q.length < 3) throw new Error('切割后有一块没有面积；请重画切割线 / one piece would have no area');
  const pieces: [Pos[][], Pos[][]] = [[p], [q]];
  for (const hole of rings.slice(1)) (inRing(hole[0], p) ? pieces[0] : pieces[1]).push(hole);
  return orientParts(pieces) as [Pos[][], Pos[][]];
}

/** Splits the polygon part the line crosses; the other parts stay with the first piece. */
export function splitPolygonParts(parts: Parts, line: readonly Pos[]): [Parts, Parts] {
  const hit = parts.map((rings) => crossings(line, rings[0]).length > 0);
  const which = hit.indexOf(true);
  if (which < 0) throw new Error('切割线没有穿过所选的面 / the cut line does not cross the polygon');
  if (hit.lastIndexOf(true) !== which) throw new Error('一次只能切割多面要素中的一个面 / cut one part at a time');
  const [p, q] = splitPolygon(parts[which], line);
  return [parts.map((r, i) => (i === which ? p : r)), [q]];
}

/** Splits a line part at an inner vertex: the vertex ends the first piece and starts the second. */
export function splitLineAt(parts: Parts, part: number, index: number): [Parts, Parts] {
  const l = parts[part]?.[0];
  if (!l) throw new Error('没有这条线 / no such line');
  if (index <= 0 || index >= l.length - 1) throw new Error('请选择线中间的一个顶点来打断（不能是端点） / pick an inner vertex, not an end');
  return [parts.map((r, i) => (i === part ? [l.slice(0, index + 1)] : r)), [[l.slice(index)]]];
}

const closed = (r: Pos[]): Pos[] => [...r, r[0]];

/** Union of two polygons (turf 7). Refuses when they neither touch nor overlap (the result would be two parts). */
export function mergePolygons(a: Parts, b: Parts): Parts {
  const fa = a.map((rings) => turfPolygon(rings.map(closed)));
  const fb = b.map((rings) => turfPolygon(rings.map(closed)));
  const u = union(featureCollection([...fa, ...fb]));
  if (!u) throw new Error('合并结果为空 / the union is empty');
  const g = u.geometry;
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
  if (polys.length !== a.length + b.length - 1 && polys.length > 1) {
    throw new Error('两个面不相邻，不能合并；请选择共边的两个面 / the polygons do not touch');
  }
  const out: Parts = polys.map((rings) => rings.map((r) => dedupe(r.map((p) => [p[0], p[1]] as Pos))));
  return orientParts(out);
}

/** Joins two lines that share an end point (in whichever direction they run). */
export function mergeLines(a: readonly Pos[], b: readonly Pos[]): Pos[] {
  const a0 = a[0], a1 = a[a.length - 1], b0 = b[0], b1 = b[b.length - 1];
  if (samePos(a1, b0)) return [...a, ...b.slice(1)];
  if (samePos(a1, b1)) return [...a, ...[...b].reverse().slice(1)];
  if (samePos(a0, b1)) return [...b, ...a.slice(1)];
  if (samePos(a0, b0)) return [...[...b].reverse(), ...a.slice(1)];
  throw new Error('两条线的端点不相接，不能合并；请先把一端吸附到另一条线的端点 / the lines do not touch end to end');
}
