// Topology checks for edits (issue 8): partition layers (grids tile their village, villages their town) and
// features that must stay inside their grid. Pure; polygon overlay by turf 7 (polyclip-ts), areas geodesic (m²).
//
// The built data is generated and has slivers (gaps of a few m² between neighbours, tiny overlaps): an
// editor must not be blocked by them. So every check compares the state before the edit with the state
// after it and reports only what the edit made new or larger.
import { area as turfArea } from '@turf/area';
import { difference as turfDifference } from '@turf/difference';
import { intersect as turfIntersect } from '@turf/intersect';
import { pointOnFeature } from '@turf/point-on-feature';
import { union as turfUnion } from '@turf/union';
import { coveredBy, fromGeoJSON, locate, OUTSIDE, prepare } from '../query/geometry.ts';
import type { EditFeature, ValidationIssue } from './model.ts';

type Poly = GeoJSON.Polygon | GeoJSON.MultiPolygon;
type PolyFeature = GeoJSON.Feature<Poly>;
type Box = [number, number, number, number];

const isPoly = (g: GeoJSON.Geometry | null | undefined): g is Poly => !!g && (g.type === 'Polygon' || g.type === 'MultiPolygon');
const asFeature = (g: Poly): PolyFeature => ({ type: 'Feature', properties: {}, geometry: g });
const featureCollection = (fs: PolyFeature[]): GeoJSON.FeatureCollection<Poly> => ({ type: 'FeatureCollection', features: fs });

function bboxOf(g: GeoJSON.Geometry): Box {
  const b: Box = [Infinity, Infinity, -Infinity, -Infinity];
  const visit = (c: unknown): void => {
    if (typeof (c as number[])[0] === 'number') {
      const p = c as number[];
      if (p[0] < b[0]) b[0] = p[0];
      if (p[1] < b[1]) b[1] = p[1];
      if (p[0] > b[2]) b[2] = p[0];
      if (p[1] > b[3]) b[3] = p[1];
      return;
    }
    for (const x of c as unknown[]) visit(x);
  };
  if (g.type === 'GeometryCollection') g.geometries.forEach((x) => { const e = bboxOf(x); visit([[e[0], e[1]], [e[2], e[3]]]); });
  else visit(g.coordinates);
  return b;
}
const boxesMeet = (a: Box, b: Box) => !(a[2] < b[0] || b[2] < a[0] || a[3] < b[1] || b[3] < a[1]);

function intersect(a: Poly, b: Poly): Poly | null {
  return turfIntersect(featureCollection([asFeature(a), asFeature(b)]))?.geometry ?? null;
}
function difference(a: Poly, b: Poly | null): Poly | null {
  if (!b) return a;
  return turfDifference(featureCollection([asFeature(a), asFeature(b)]))?.geometry ?? null;
}
function union(gs: Poly[]): Poly | null {
  if (gs.length === 0) return null;
  if (gs.length === 1) return gs[0];
  return turfUnion(featureCollection(gs.map(asFeature)))?.geometry ?? null;
}
const area = (g: Poly | null): number => (g ? turfArea(g) : 0);
/** A point inside the piece (a centroid can fall outside a concave sliver). */
function pointIn(g: Poly): [number, number] {
  const c = pointOnFeature(asFeature(g)).geometry.coordinates;
  return [c[0], c[1]];
}
/** Each polygon of a (multi)polygon. */
function pieces(g: Poly | null): GeoJSON.Polygon[] {
  if (!g) return [];
  return g.type === 'Polygon' ? [g] : g.coordinates.map((c) => ({ type: 'Polygon', coordinates: c }));
}

function issue(code: string, message: string, featureId: string | undefined, location?: [number, number]): ValidationIssue {
  const out: ValidationIssue = { code, severity: 'error', message, path: 'geometry' };
  if (featureId !== undefined) out.featureId = featureId;
  if (location) out.location = location;
  return out;
}

const m2 = (a: number) => a >= 10_000 ? `${(a / 10_000).toFixed(2)} 公顷` : `${a.toFixed(1)} 平方米`;

/**
 * Partition check for the features of one parent. `siblingsBefore` / `siblingsAfter`: the parent's children
 * before and after the edit (changed ones included, deleted ones only before). `changed`: the new versions.
 * Errors: 'overlap' (a changed feature overlaps a sibling more than before), 'outside_parent' (a changed feature
 * reaches outside the parent more than before, or the parent is unknown), 'gap' (the parent is less covered
 * than before somewhere near the edit).
 */
export function checkPartition(p: {
  changed: EditFeature[]; siblingsBefore: EditFeature[]; siblingsAfter: EditFeature[];
  parent: EditFeature | null; parentLayer: string; minAreaM2?: number;
}): ValidationIssue[] {
  const min = p.minAreaM2 ?? 1;
  const out: ValidationIssue[] = [];
  const before = new Map(p.siblingsBefore.filter((f) => isPoly(f.geometry)).map((f) => [f.id, f]));
  const after = p.siblingsAfter.filter((f) => isPoly(f.geometry));
  const afterIds = new Set(after.map((f) => f.id));
  const boxes = new Map<EditFeature, Box>();
  const box = (f: EditFeature) => { let b = boxes.get(f); if (!b) boxes.set(f, b = bboxOf(f.geometry)); return b; };

  // Overlaps: each changed feature against every other sibling after the edit, compared with the same pair before.
  for (const c of p.changed) {
    if (!isPoly(c.geometry)) continue;
    const cb = box(c);
    for (const s of after) {
      if (s.id === c.id || !boxesMeet(cb, box(s))) continue;
      const now = intersect(c.geometry, s.geometry as Poly);
      const a = area(now);
      if (a <= min) continue;
      const cBefore = before.get(c.id), sBefore = before.get(s.id);
      const was = cBefore && sBefore ? area(intersect(cBefore.geometry as Poly, sBefore.geometry as Poly)) : 0;
      if (a > was + min) {
        out.push(issue('overlap', `与同一${p.parentLayer === 'villages' ? '村（社区）' : '上级'}内的「${s.id}」重叠 ${m2(a - was)}：请调整边界使两者只共边。Overlaps ${s.id} by ${(a - was).toFixed(1)} m²: make them share the boundary only.`, c.id, pointIn(now!)));
      }
    }
  }

  if (!p.parent || !isPoly(p.parent.geometry)) {
    for (const c of p.changed) {
      out.push(issue('outside_parent', `找不到上级区域（${p.parentLayer}），要素必须位于上级区域内：请检查上级代码或位置。No parent ${p.parentLayer} found: check the parent code or the location.`, c.id));
    }
    return out;
  }
  const parent = p.parent.geometry as Poly;

  // Outside the parent: compared with the feature's own previous version.
  for (const c of p.changed) {
    if (!isPoly(c.geometry)) continue;
    const outside = difference(c.geometry, parent);
    const a = area(outside);
    if (a <= min) continue;
    const prev = before.get(c.id);
    const was = prev ? area(difference(prev.geometry as Poly, parent)) : 0;
    if (a > was + min) {
      out.push(issue('outside_parent', `超出上级区域「${p.parent.id}」${m2(a - was)}：请把边界收回到上级区域内。Reaches ${(a - was).toFixed(1)} m² outside its parent ${p.parent.id}.`, c.id, pointIn(outside!)));
    }
  }

  // Gaps: only near the edit can coverage change, so compare the uncovered parent inside the window around
  // the changed features (old and new shapes), before vs after.
  const touched: Box[] = [];
  const changedIds = new Set(p.changed.map((c) => c.id));
  for (const c of p.changed) if (isPoly(c.geometry)) touched.push(box(c));
  for (const f of before.values()) if (changedIds.has(f.id) || !afterIds.has(f.id)) touched.push(box(f));
  if (touched.length === 0) return out;
  const w: Box = [Math.min(...touched.map((b) => b[0])), Math.min(...touched.map((b) => b[1])), Math.max(...touched.map((b) => b[2])), Math.max(...touched.map((b) => b[3]))];
  const dx = (w[2] - w[0]) * 0.05 + 1e-6, dy = (w[3] - w[1]) * 0.05 + 1e-6;
  const window: Poly = { type: 'Polygon', coordinates: [[[w[0] - dx, w[1] - dy], [w[2] + dx, w[1] - dy], [w[2] + dx, w[3] + dy], [w[0] - dx, w[3] + dy], [w[0] - dx, w[1] - dy]]] };
  const wBox: Box = [w[0] - dx, w[1] - dy, w[2] + dx, w[3] + dy];
  const parentW = intersect(parent, window);
  if (!parentW) return out;
  const gaps = (sibs: EditFeature[]): Poly | null => difference(parentW, union(sibs.filter((f) => boxesMeet(box(f), wBox)).map((f) => f.geometry as Poly)));
  const gapBefore = gaps([...before.values()]);
  const gapAfter = gaps(after);
  for (const g of pieces(gapAfter)) {
    if (area(g) <= min) continue;
    const grown = difference(g, gapBefore);
    const a = area(grown);
    if (a > min) {
      const who = p.changed.find((c) => isPoly(c.geometry) && boxesMeet(box(c), bboxOf(grown!)))?.id ?? p.changed[0]?.id;
      out.push(issue('gap', `上级区域「${p.parent.id}」出现 ${m2(a)} 的空隙（没有任何要素覆盖）：请让相邻要素共边。Leaves a gap of ${a.toFixed(1)} m² in ${p.parent.id}: make neighbours share the boundary.`, who, pointIn(grown!)));
    }
  }
  return out;
}

/** 'outside_grid' unless the feature lies inside (or on the boundary of) the grid; null grid = no grid there. */
export function checkWithinGrid(feature: EditFeature, grid: EditFeature | null): ValidationIssue[] {
  if (!grid || !isPoly(grid.geometry)) {
    return [issue('outside_grid', '要素不在任何网格内（或所属网格不存在）：请移到网格内，或填写正确的所属网格。The feature lies in no grid (or its grid does not exist): move it inside a grid or fix grid_code.', feature.id)];
  }
  const g = prepare(fromGeoJSON(grid.geometry));
  const f = fromGeoJSON(feature.geometry);
  if (f.dim === 0) {
    for (let i = 0; i < f.xy.length; i += 2) {
      if (locate(g, f.xy[i], f.xy[i + 1]) === OUTSIDE) return [outsideGrid(feature, grid, [f.xy[i], f.xy[i + 1]])];
    }
    return [];
  }
  if (coveredBy(prepare(f), g)) return [];
  // Point at the first vertex outside (there is one unless only an edge crosses out; then the first vertex).
  for (let i = 0; i < f.xy.length; i += 2) {
    if (locate(g, f.xy[i], f.xy[i + 1]) === OUTSIDE) return [outsideGrid(feature, grid, [f.xy[i], f.xy[i + 1]])];
  }
  return [outsideGrid(feature, grid, [f.xy[0], f.xy[1]])];
}

function outsideGrid(feature: EditFeature, grid: EditFeature, at: [number, number]): ValidationIssue {
  const name = typeof grid.properties.name === 'string' ? grid.properties.name : grid.id;
  return issue('outside_grid', `要素超出所属网格「${name}」：请移回网格内，或清空所属网格以按位置重新判定。The feature leaves its grid ${grid.id}: move it back, or clear grid_code to re-derive it from the location.`, feature.id, at);
}
