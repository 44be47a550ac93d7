// Checks a user-supplied GeoJSON geometry before any query touches it: the shape of the object, finite
// WGS84 coordinates in range, closed rings of ≥ 4 positions, no self-intersection (OGC simple features:
// rings may touch only at their closing vertex), holes inside their shell, and at most MAX_QUERY_VERTICES.
// Messages are Chinese first, then English; `at` is the offending coordinate when there is one.
import { fromGeoJSON, locate, OUTSIDE, orient, prepare, segmentsIntersect } from './geometry.ts';
import { MAX_QUERY_VERTICES } from './types.ts';

export type ValidationResult =
  | { ok: true; geometry: GeoJSON.Geometry }
  | { ok: false; code: 'invalid_geometry' | 'bad_coordinate'; message: string; at?: [number, number] };

class Invalid extends Error {
  constructor(readonly code: 'invalid_geometry' | 'bad_coordinate', message: string, readonly at?: [number, number]) { super(message); }
}

const TYPES = ['Point', 'MultiPoint', 'LineString', 'MultiLineString', 'Polygon', 'MultiPolygon'];

/** Validates a GeoJSON geometry (not a Feature). Returns a clean copy (2D positions only) when valid. */
export function validateGeometry(g: unknown): ValidationResult {
  try {
    return { ok: true, geometry: check(g) };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, code: e.code, message: e.message, ...(e.at ? { at: e.at } : {}) };
    throw e;
  }
}

function check(g: unknown): GeoJSON.Geometry {
  if (typeof g !== 'object' || g === null || Array.isArray(g)) {
    throw new Invalid('invalid_geometry', '几何对象必须是 GeoJSON 几何（含 type 与 coordinates）。 Geometry must be a GeoJSON geometry object with type and coordinates.');
  }
  const o = g as { type?: unknown; coordinates?: unknown };
  if (o.type === 'Feature') throw new Invalid('invalid_geometry', '需要几何对象而不是 Feature，请传入 feature.geometry。 Expected a geometry, not a Feature: pass feature.geometry.');
  if (typeof o.type !== 'string' || !TYPES.includes(o.type)) {
    throw new Invalid('invalid_geometry', `不支持的几何类型 ${JSON.stringify(o.type)}，可用：${TYPES.join('、')}。 Unsupported geometry type; use one of ${TYPES.join(', ')}.`);
  }
  let count = 0;
  const pos = (p: unknown, where: string): GeoJSON.Position => {
    if (!Array.isArray(p) || p.length < 2 || p.length > 3 || !p.every((v) => typeof v === 'number')) {
      throw new Invalid('invalid_geometry', `几何 ${where} 坐标必须是 [经度, 纬度] 数字数组。 ${where}: a position must be [lon, lat] numbers.`);
    }
    const [x, y] = p as number[];
    if (!Number.isFinite(x) || !Number.isFinite(y)) throw new Invalid('invalid_geometry', `几何 ${where} 坐标不是有限数。 ${where}: coordinates must be finite numbers.`);
    if (x < -180 || x > 180 || y < -90 || y > 90) {
      throw new Invalid('bad_coordinate', `几何 ${where} 经纬度超出范围（经度 −180…180，纬度 −90…90）：[${x}, ${y}]。 Longitude/latitude out of range.`, [x, y]);
    }
    if (++count > MAX_QUERY_VERTICES) {
      throw new Invalid('invalid_geometry', `顶点数超过上限 ${MAX_QUERY_VERTICES}，请简化几何。 More than ${MAX_QUERY_VERTICES} vertices; simplify the geometry.`);
    }
    return [x, y];
  };
  const list = (a: unknown, where: string, min: number, what: string): unknown[] => {
    if (!Array.isArray(a)) throw new Invalid('invalid_geometry', `几何 ${where} 必须是数组。 ${where}: coordinates must be an array.`);
    if (a.length < min) throw new Invalid('invalid_geometry', `几何 ${where} 至少需要 ${min} 个${what}。 ${where}: needs at least ${min} ${what === '点' ? 'positions' : 'parts'}.`);
    return a;
  };
  const line = (a: unknown, where: string) => list(a, where, 2, '点').map((p, i) => pos(p, `${where}[${i}]`));
  const ring = (a: unknown, where: string) => {
    const r = list(a, where, 4, '点').map((p, i) => pos(p, `${where}[${i}]`));
    const f = r[0], l = r[r.length - 1];
    if (f[0] !== l[0] || f[1] !== l[1]) throw new Invalid('invalid_geometry', `几何 ${where} 环未闭合：首尾坐标必须相同。 ${where}: ring is not closed (first and last positions differ).`, [l[0], l[1]]);
    return r;
  };
  const polygon = (a: unknown, where: string) => list(a, where, 1, '环').map((r, i) => ring(r, `${where}[${i}]`));
  const c = o.coordinates;
  let out: GeoJSON.Geometry;
  switch (o.type) {
    case 'Point': out = { type: 'Point', coordinates: pos(c, 'coordinates') }; break;
    case 'MultiPoint': out = { type: 'MultiPoint', coordinates: list(c, 'coordinates', 1, '点').map((p, i) => pos(p, `coordinates[${i}]`)) }; break;
    case 'LineString': out = { type: 'LineString', coordinates: line(c, 'coordinates') }; break;
    case 'MultiLineString': out = { type: 'MultiLineString', coordinates: list(c, 'coordinates', 1, '线').map((l, i) => line(l, `coordinates[${i}]`)) }; break;
    case 'Polygon': out = { type: 'Polygon', coordinates: polygon(c, 'coordinates') }; break;
    default: out = { type: 'MultiPolygon', coordinates: list(c, 'coordinates', 1, '面').map((p, i) => polygon(p, `coordinates[${i}]`)) };
  }
  if (out.type === 'Polygon' || out.type === 'MultiPolygon') checkPolygons(out.type === 'Polygon' ? [out.coordinates] : out.coordinates);
  return out;
}

function selfCross(at: [number, number]): Invalid {
  return new Invalid('invalid_geometry', `多边形自相交，位置约 [${at[0]}, ${at[1]}]，请修正边界。 Self-intersecting polygon near [${at[0]}, ${at[1]}]; fix the outline.`, at);
}

/** Rings must not cross or touch themselves or each other except at a ring's closing vertex; holes lie in their shell. */
function checkPolygons(polys: GeoJSON.Position[][][]): void {
  const segs: number[] = []; // x1, y1, x2, y2, ring id, index within ring, ring length
  let rid = 0;
  let zeroArea: [number, number] | undefined;
  for (const poly of polys) {
    for (const r of poly) {
      let area2 = 0;
      for (let i = 0; i + 1 < r.length; i++) {
        segs.push(r[i][0], r[i][1], r[i + 1][0], r[i + 1][1], rid, i, r.length - 1);
        area2 += r[i][0] * r[i + 1][1] - r[i + 1][0] * r[i][1];
      }
      if (area2 === 0) zeroArea ??= [r[0][0], r[0][1]];
      for (let i = 0; i + 1 < r.length; i++) {
        if (r[i][0] === r[i + 1][0] && r[i][1] === r[i + 1][1]) {
          // Repeated consecutive points are tolerated by GEOS but make zero-length edges; reject clearly.
          throw new Invalid('invalid_geometry', `环中有重复的相邻顶点 [${r[i][0]}, ${r[i][1]}]。 Repeated consecutive vertex.`, [r[i][0], r[i][1]]);
        }
      }
      rid++;
    }
  }
  const n = segs.length / 7;
  // Sweep over x: sort segments by min x, compare with the active ones.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => Math.min(segs[7 * a], segs[7 * a + 2]) - Math.min(segs[7 * b], segs[7 * b + 2]));
  const active: number[] = [];
  for (const i of order) {
    const ax1 = segs[7 * i], ay1 = segs[7 * i + 1], ax2 = segs[7 * i + 2], ay2 = segs[7 * i + 3];
    const minX = Math.min(ax1, ax2);
    for (let k = active.length - 1; k >= 0; k--) {
      const j = active[k];
      if (Math.max(segs[7 * j], segs[7 * j + 2]) < minX) { active.splice(k, 1); continue; }
      const bx1 = segs[7 * j], by1 = segs[7 * j + 1], bx2 = segs[7 * j + 2], by2 = segs[7 * j + 3];
      if (!segmentsIntersect(ax1, ay1, ax2, ay2, bx1, by1, bx2, by2)) continue;
      const sameRing = segs[7 * i + 4] === segs[7 * j + 4];
      if (sameRing) {
        const len = segs[7 * i + 6];
        const di = Math.abs(segs[7 * i + 5] - segs[7 * j + 5]);
        const adjacent = di === 1 || di === len - 1;
        if (adjacent) {
          // Neighbours share one vertex; they are bad only if they fold back over each other (collinear overlap).
          const shared = (ax1 === bx2 && ay1 === by2) ? [ax1, ay1] : [ax2, ay2];
          const [ox, oy] = shared[0] === ax1 && shared[1] === ay1 ? [ax2, ay2] : [ax1, ay1];
          const [px, py] = shared[0] === bx1 && shared[1] === by1 ? [bx2, by2] : [bx1, by1];
          if (orient(shared[0], shared[1], ox, oy, px, py) === 0 && (ox - shared[0]) * (px - shared[0]) + (oy - shared[1]) * (py - shared[1]) > 0) {
            throw selfCross([shared[0], shared[1]]);
          }
          continue;
        }
      }
      throw selfCross(crossingPoint(ax1, ay1, ax2, ay2, bx1, by1, bx2, by2));
    }
    active.push(i);
  }
  // Checked after crossings: a bow-tie also has zero signed area, and its crossing is the better report.
  if (zeroArea) throw new Invalid('invalid_geometry', '多边形的环面积为零（所有点共线）。 A polygon ring has zero area (all points collinear).', zeroArea);
  // Holes inside their shell (no crossings now, so one vertex per hole decides).
  for (const poly of polys) {
    if (poly.length < 2) continue;
    const shell = prepare(fromGeoJSON({ type: 'Polygon', coordinates: [poly[0]] }));
    for (let h = 1; h < poly.length; h++) {
      const p = poly[h].find((q) => locate(shell, q[0], q[1]) !== 1) ?? poly[h][0];
      if (locate(shell, p[0], p[1]) === OUTSIDE) {
        throw new Invalid('invalid_geometry', `内环（洞）不在外环内，位置 [${p[0]}, ${p[1]}]。 A hole lies outside its shell.`, [p[0], p[1]]);
      }
    }
  }
}

function crossingPoint(ax1: number, ay1: number, ax2: number, ay2: number, bx1: number, by1: number, bx2: number, by2: number): [number, number] {
  const d = (ax2 - ax1) * (by2 - by1) - (ay2 - ay1) * (bx2 - bx1);
  if (d === 0) return [ax1, ay1];
  const t = ((bx1 - ax1) * (by2 - by1) - (by1 - ay1) * (bx2 - bx1)) / d;
  return [ax1 + t * (ax2 - ax1), ay1 + t * (ay2 - ay1)];
}
