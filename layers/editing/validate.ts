// Pure validation of an edited feature (issue 8): geometry (type, coordinates, rings, self-intersection,
// orientation) and properties (the layer's schema). Shared by the server (tile-server/editing/service.ts),
// the import pipeline and the client's form, so one rule gives one answer everywhere.
// Validity follows OGC Simple Features (rings closed, simple, not crossing) and RFC 7946 §3.1.6 for ring
// orientation (exterior counter-clockwise, holes clockwise). Exact orientation tests come from
// layers/query/geometry.ts (Shewchuk's robust predicates), so "touches" and "crosses" never flip with rounding.
import type { FieldType, GeometryKind, LayerDef } from '../catalog.ts';
import { orient, segmentsIntersect } from '../query/geometry.ts';
import type { ValidationIssue } from './model.ts';

/** China's extent with a margin (lon 73..136, lat 3..54): coordinates outside are almost always a wrong CRS. */
export const CHINA_BOUNDS = [73, 3, 136, 54] as const;
export const MAX_VERTICES = 100_000;
export const MAX_STRING = 1000;
/** Consecutive vertices closer than this (degrees, ≈ 0.1 mm) are duplicates. */
export const DUPLICATE_EPS = 1e-9;

const ALLOWED: Record<GeometryKind, readonly string[]> = {
  point: ['Point', 'MultiPoint'],
  line: ['LineString', 'MultiLineString'],
  polygon: ['Polygon', 'MultiPolygon'],
};
const KIND_ZH: Record<GeometryKind, string> = { point: '点', line: '线', polygon: '面' };

type Pos = [number, number];

function issue(code: string, message: string, featureId: string | undefined, path: string, location?: Pos, severity: 'error' | 'warning' = 'error'): ValidationIssue {
  const out: ValidationIssue = { code, severity, message };
  if (featureId !== undefined) out.featureId = featureId;
  out.path = path;
  if (location) out.location = [location[0], location[1]];
  return out;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Signed area ×2 of a closed ring (positive = counter-clockwise in lon/lat). */
function ringArea2(r: readonly GeoJSON.Position[]): number {
  let a = 0;
  for (let i = 0; i + 1 < r.length; i++) a += r[i][0] * r[i + 1][1] - r[i + 1][0] * r[i][1];
  return a;
}

/**
 * The issues of one geometry for a layer of `kind`; empty when valid. Stops at the first structural problem
 * (wrong type, bad coordinates) since later checks would only repeat it.
 */
export function validateGeometry(kind: GeometryKind, g: unknown, featureId?: string): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  const allowed = ALLOWED[kind];
  if (!isObj(g) || typeof g.type !== 'string' || !allowed.includes(g.type)) {
    const got = isObj(g) && typeof g.type === 'string' ? g.type.slice(0, 40) : typeof g;
    out.push(issue('geometry_type', `几何类型须为 ${allowed.join(' 或 ')}（本图层为${KIND_ZH[kind]}图层），收到 ${got}。Geometry must be ${allowed.join(' or ')} for this ${kind} layer, got ${got}.`, featureId, 'geometry'));
    return out;
  }
  const type = g.type as GeoJSON.Geometry['type'];
  // Normalise to parts: points → [[p…]], lines → [[line]…], polygons → [[ring…]…], checking nesting depth.
  const depth = type === 'Point' ? 0 : type === 'MultiPoint' || type === 'LineString' ? 1 : type === 'Polygon' || type === 'MultiLineString' ? 2 : 3;
  const bad = checkNesting(g.coordinates, depth);
  if (bad) {
    out.push(issue('bad_coordinates', `坐标结构不对：${bad}。请提交 GeoJSON 的 ${type} 坐标（[经度, 纬度] 数组）。Bad coordinates: ${bad}; send GeoJSON ${type} coordinates ([lon, lat] arrays).`, featureId, 'geometry'));
    return out;
  }
  const positions: Pos[] = [];
  collect(g.coordinates, depth, positions);
  if (positions.length > MAX_VERTICES) {
    out.push(issue('too_many_vertices', `顶点过多（${positions.length}，上限 ${MAX_VERTICES}）：请简化或拆分要素。Too many vertices (${positions.length} > ${MAX_VERTICES}): simplify or split the feature.`, featureId, 'geometry', positions[0]));
    return out;
  }
  const [minLon, minLat, maxLon, maxLat] = CHINA_BOUNDS;
  for (const p of positions) {
    if (p[0] < minLon || p[0] > maxLon || p[1] < minLat || p[1] > maxLat) {
      const projected = Math.abs(p[0]) > 360 || Math.abs(p[1]) > 360;
      const hint = projected
        ? '坐标像是投影坐标（米），请在导入时声明坐标系（如 EPSG:4549 高斯-克吕格）。The values look like projected metres: declare the source CRS (e.g. EPSG:4549).'
        : '请检查经纬度是否写反、坐标系是否正确（需 WGS84 经纬度）。Check for swapped lon/lat or a wrong CRS (WGS84 lon/lat expected).';
      out.push(issue('outside_china', `坐标 (${p[0]}, ${p[1]}) 不在中国范围（经度 ${minLon}–${maxLon}，纬度 ${minLat}–${maxLat}）。${hint} Coordinate outside China's extent.`, featureId, 'geometry', projected ? undefined : p));
      return out;
    }
  }
  if (kind === 'point') return out;
  if (kind === 'line') {
    const lines = (type === 'LineString' ? [g.coordinates] : g.coordinates) as Pos[][];
    lines.forEach((l, k) => {
      checkDuplicates(l, featureId, out);
      const distinct = new Set(l.map((p) => `${p[0]},${p[1]}`)).size;
      if (distinct < 2) out.push(issue('too_few_points', `线${lines.length > 1 ? `（第 ${k + 1} 段）` : ''}至少需要 2 个不同的点。A line needs at least 2 distinct positions.`, featureId, 'geometry', l[0]));
    });
    return out;
  }
  const polys = (type === 'Polygon' ? [g.coordinates] : g.coordinates) as Pos[][][];
  let structural = false;
  polys.forEach((rings) => {
    if (rings.length === 0) {
      out.push(issue('empty_polygon', '面没有外环。A polygon needs an exterior ring.', featureId, 'geometry'));
      structural = true;
      return;
    }
    rings.forEach((r, i) => {
      const what = i === 0 ? '外环' : `第 ${i} 个内环`;
      if (r.length < 4) {
        out.push(issue('ring_too_short', `${what}至少需要 4 个坐标（首尾相同）。A ring needs at least 4 positions (first = last).`, featureId, 'geometry', r[0]));
        structural = true;
        return;
      }
      const a = r[0], b = r[r.length - 1];
      if (a[0] !== b[0] || a[1] !== b[1]) {
        out.push(issue('ring_not_closed', `${what}未闭合：首尾坐标须相同。The ring is not closed: the last position must equal the first.`, featureId, 'geometry', b));
        structural = true;
        return;
      }
      checkDuplicates(r, featureId, out);
      const area = ringArea2(r);
      // Zero area: a bow tie (reported as a crossing below) or a flat ring (reported after the crossing check).
      if (area !== 0 && (i === 0) !== (area > 0)) {
        out.push(issue('ring_orientation', `${what}方向不对：外环须逆时针、内环须顺时针（RFC 7946）；保存前可自动纠正。${i === 0 ? 'Exterior rings must be counter-clockwise' : 'Holes must be clockwise'} (RFC 7946); rewind() fixes it.`, featureId, 'geometry', r[0]));
      }
    });
  });
  if (structural) return out;
  const crossing = findCrossing(polys);
  if (crossing) out.push(issue(crossing.code, crossing.code === 'self_intersection'
    ? '边界自相交（环与自身相交或折返）：请移动交叉处的顶点。The ring intersects itself: move the vertices at the crossing.'
    : '环与环相交（内环越出外环，或多面的部分相互重叠）：请修正交叉处。Rings cross each other: fix the boundary at the crossing.', featureId, 'geometry', crossing.at));
  else if (polys.some((rings) => rings.some((r) => ringArea2(r) === 0))) {
    out.push(issue('ring_degenerate', '环的面积为零（所有顶点共线）。A ring has no area (its vertices are collinear).', featureId, 'geometry', polys[0][0][0]));
  } else {
    // Holes must lie inside their shell; with no crossings, one vertex per hole decides it.
    for (const rings of polys) {
      for (let i = 1; i < rings.length; i++) {
        if (!pointInRing(rings[i][0], rings[0])) {
          out.push(issue('hole_outside', `第 ${i} 个内环不在外环之内。Hole ${i} lies outside its exterior ring.`, featureId, 'geometry', rings[i][0]));
        }
      }
    }
  }
  return out;
}

function checkNesting(c: unknown, depth: number): string | null {
  if (depth === 0) {
    if (!Array.isArray(c) || c.length < 2 || c.length > 3) return '位置须为 [经度, 纬度] / a position must be [lon, lat]';
    for (const v of c) if (typeof v !== 'number' || !Number.isFinite(v)) return '坐标须为有限数字 / coordinates must be finite numbers';
    return null;
  }
  if (!Array.isArray(c)) return '缺少坐标数组 / an array is missing';
  if (c.length === 0) return '坐标数组为空 / an empty coordinate array';
  for (const x of c) {
    const e = checkNesting(x, depth - 1);
    if (e) return e;
  }
  return null;
}

function collect(c: unknown, depth: number, out: Pos[]): void {
  if (depth === 0) { out.push(c as Pos); return; }
  for (const x of c as unknown[]) collect(x, depth - 1, out);
}

function checkDuplicates(r: readonly Pos[], featureId: string | undefined, out: ValidationIssue[]): void {
  for (let i = 0; i + 1 < r.length; i++) {
    if (Math.abs(r[i][0] - r[i + 1][0]) <= DUPLICATE_EPS && Math.abs(r[i][1] - r[i + 1][1]) <= DUPLICATE_EPS) {
      out.push(issue('duplicate_vertex', '相邻顶点重复：请删除其中一个。Two consecutive vertices coincide: delete one.', featureId, 'geometry', r[i]));
      return;
    }
  }
}

function pointInRing(p: Pos, r: readonly Pos[]): boolean {
  let inside = false;
  for (let i = 0; i + 1 < r.length; i++) {
    const [ax, ay] = r[i], [bx, by] = r[i + 1];
    if ((ay > p[1]) !== (by > p[1])) {
      const o = orient(ax, ay, bx, by, p[0], p[1]);
      if (o === 0) return true;
      if ((by > ay) === (o > 0)) inside = !inside;
    }
  }
  return inside;
}

interface Seg { ax: number; ay: number; bx: number; by: number; minX: number; maxX: number; ring: number; idx: number; n: number }

/**
 * The first improper intersection between ring segments, found with a sweep over x (n log n + k, fine for
 * 100k vertices). Within one ring: any contact between non-adjacent segments, or adjacent ones folding back
 * (a spike). Between rings: crossing or overlapping edges; touching at one point is allowed (OGC).
 */
function findCrossing(polys: Pos[][][]): { code: 'self_intersection' | 'ring_crossing'; at: Pos } | null {
  const segs: Seg[] = [];
  let ringNo = 0;
  for (const rings of polys) {
    for (const raw of rings) {
      // Exact repeats are reported as duplicate_vertex; as zero-length edges they would also look like contacts.
      const r = raw.filter((p, i) => i === 0 || p[0] !== raw[i - 1][0] || p[1] !== raw[i - 1][1]);
      const n = r.length - 1;
      if (n < 3) continue;
      for (let i = 0; i < n; i++) {
        const [ax, ay] = r[i], [bx, by] = r[i + 1];
        segs.push({ ax, ay, bx, by, minX: Math.min(ax, bx), maxX: Math.max(ax, bx), ring: ringNo, idx: i, n });
      }
      ringNo++;
    }
  }
  segs.sort((s, t) => s.minX - t.minX);
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i];
    const sMinY = Math.min(s.ay, s.by), sMaxY = Math.max(s.ay, s.by);
    for (let j = i + 1; j < segs.length && segs[j].minX <= s.maxX; j++) {
      const t = segs[j];
      if (Math.max(t.ay, t.by) < sMinY || Math.min(t.ay, t.by) > sMaxY) continue;
      if (!segmentsIntersect(s.ax, s.ay, s.bx, s.by, t.ax, t.ay, t.bx, t.by)) continue;
      if (s.ring === t.ring) {
        const d = (t.idx - s.idx + s.n) % s.n;
        if (d === 1 || d === s.n - 1) {
          // Adjacent: they share a vertex; an error only if they are collinear and fold back over each other.
          const [first, second] = d === 1 ? [s, t] : [t, s];
          if (orient(first.ax, first.ay, first.bx, first.by, second.bx, second.by) === 0
            && (first.bx - first.ax) * (second.bx - second.ax) + (first.by - first.ay) * (second.by - second.ay) < 0) {
            return { code: 'self_intersection', at: [first.bx, first.by] };
          }
          continue;
        }
        return { code: 'self_intersection', at: crossingPoint(s, t) };
      }
      // Different rings: a single shared point where an endpoint touches is allowed; proper crossings and overlaps are not.
      const o1 = orient(t.ax, t.ay, t.bx, t.by, s.ax, s.ay), o2 = orient(t.ax, t.ay, t.bx, t.by, s.bx, s.by);
      const o3 = orient(s.ax, s.ay, s.bx, s.by, t.ax, t.ay), o4 = orient(s.ax, s.ay, s.bx, s.by, t.bx, t.by);
      const proper = o1 * o2 < 0 && o3 * o4 < 0;
      const collinear = o1 === 0 && o2 === 0;
      if (proper) return { code: 'ring_crossing', at: crossingPoint(s, t) };
      if (collinear && overlapLength(s, t) > 0) return { code: 'ring_crossing', at: crossingPoint(s, t) };
    }
  }
  return null;
}

function overlapLength(s: Seg, t: Seg): number {
  // Collinear segments: project on the dominant axis.
  const useX = Math.abs(s.bx - s.ax) >= Math.abs(s.by - s.ay);
  const [s0, s1] = useX ? [Math.min(s.ax, s.bx), Math.max(s.ax, s.bx)] : [Math.min(s.ay, s.by), Math.max(s.ay, s.by)];
  const [t0, t1] = useX ? [Math.min(t.ax, t.bx), Math.max(t.ax, t.bx)] : [Math.min(t.ay, t.by), Math.max(t.ay, t.by)];
  return Math.min(s1, t1) - Math.max(s0, t0);
}

/** Where two intersecting segments meet (the line intersection, or a shared endpoint when collinear). */
function crossingPoint(s: Seg, t: Seg): Pos {
  const d = (s.bx - s.ax) * (t.by - t.ay) - (s.by - s.ay) * (t.bx - t.ax);
  if (d !== 0) {
    const u = ((t.ax - s.ax) * (t.by - t.ay) - (t.ay - s.ay) * (t.bx - t.ax)) / d;
    return [s.ax + u * (s.bx - s.ax), s.ay + u * (s.by - s.ay)];
  }
  for (const [x, y] of [[t.ax, t.ay], [t.bx, t.by], [s.ax, s.ay]] as Pos[]) {
    if (Math.min(s.ax, s.bx) <= x && x <= Math.max(s.ax, s.bx) && Math.min(s.ay, s.by) <= y && y <= Math.max(s.ay, s.by)) return [x, y];
  }
  return [s.ax, s.ay];
}

/** A copy with exterior rings counter-clockwise and holes clockwise (RFC 7946); other geometries unchanged. */
export function rewind<G extends GeoJSON.Geometry>(g: G): G {
  const fix = (rings: GeoJSON.Position[][]): GeoJSON.Position[][] => rings.map((r, i) => {
    const a = ringArea2(r);
    return (i === 0 ? a < 0 : a > 0) ? r.slice().reverse() : r;
  });
  switch (g.type) {
    case 'Polygon': return { ...g, coordinates: fix(g.coordinates) };
    case 'MultiPolygon': return { ...g, coordinates: g.coordinates.map(fix) };
    case 'GeometryCollection': return { ...g, geometries: g.geometries.map((x) => rewind(x)) };
    default: return g;
  }
}

const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?Z$/;

function typeProblem(type: FieldType, v: unknown): string | null {
  switch (type) {
    case 'string':
      if (typeof v !== 'string') return '须为文本 / must be a string';
      if (v.length > MAX_STRING) return `不能超过 ${MAX_STRING} 字 / at most ${MAX_STRING} characters`;
      return null;
    case 'int':
      return typeof v === 'number' && Number.isSafeInteger(v) ? null : '须为整数 / must be an integer';
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) ? null : '须为数字 / must be a finite number';
    case 'boolean':
      return typeof v === 'boolean' ? null : '须为 true 或 false / must be true or false';
    case 'datetime': {
      if (typeof v !== 'string') return '须为 ISO 8601 UTC 时间文本，如 2026-11-29T08:00:00Z / must be an ISO 8601 UTC string';
      const m = ISO_UTC.exec(v);
      if (!m || Number.isNaN(Date.parse(v))) return '须为 ISO 8601 UTC 时间，如 2026-11-29T08:00:00Z / must be ISO 8601 UTC, e.g. 2026-11-29T08:00:00Z';
      const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
      if (d.getUTCMonth() !== +m[2] - 1 || d.getUTCDate() !== +m[3] || +m[4] > 23 || +m[5] > 59 || (m[6] !== undefined && +m[6] > 59)) return '日期或时间不存在 / no such date or time';
      return null;
    }
  }
}

/**
 * The layer's properties checked against its schema. `properties` is a clean copy: only the layer's fields,
 * absent (undefined) values dropped, null kept (= cleared), and `id` set to the feature id.
 */
export function validateProperties(def: LayerDef, props: unknown, featureId?: string): { properties: Record<string, unknown>; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const properties: Record<string, unknown> = {};
  if (!isObj(props)) {
    issues.push(issue('bad_properties', '属性须为对象（字段名 → 值）。Properties must be an object of field → value.', featureId, 'properties'));
    return { properties, issues };
  }
  const fields = new Map(def.fields.map((f) => [f.name, f]));
  for (const [k, v] of Object.entries(props)) {
    const f = fields.get(k);
    if (!f) {
      issues.push(issue('unknown_field', `「${def.title}」没有字段「${k.slice(0, 60)}」；可用字段：${def.fields.map((x) => x.name).join(', ')}。Layer ${def.id} has no field "${k.slice(0, 60)}".`, featureId, `properties.${k.slice(0, 60)}`));
      continue;
    }
    if (v === undefined) continue;
    if (v === null) { properties[k] = null; continue; }
    const p = typeProblem(f.type, v);
    if (p) {
      issues.push(issue('bad_value', `字段「${f.title ?? k}」(${k}) ${p}。`, featureId, `properties.${k}`));
      continue;
    }
    properties[k] = v;
  }
  if (fields.has('id') && featureId !== undefined) {
    if (properties.id !== undefined && properties.id !== null && properties.id !== featureId) {
      issues.push(issue('id_mismatch', `属性 id（${String(properties.id).slice(0, 64)}）须与要素标识 ${featureId} 相同。The id property must equal the feature id ${featureId}.`, featureId, 'properties.id'));
    }
    properties.id = featureId;
  }
  return { properties, issues };
}

/** True when any issue is an error (warnings do not block a save). */
export function hasErrors(issues: readonly ValidationIssue[]): boolean {
  return issues.some((i) => i.severity === 'error');
}
