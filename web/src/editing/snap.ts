// Snapping in screen space: the pointer snaps to the nearest vertex of the chosen layers within N CSS
// pixels, else to the nearest point on an edge within N pixels (vertices first: a boundary corner is
// what planners aim for, and an edge hit next to a corner would leave a sliver). Pure: the engine's
// projection comes in as functions, so the same code serves deck.gl and tests.
import type { Pos } from './geometry.ts';

export type Project = (p: Pos) => [number, number] | null;

export interface SnapCandidate { layer: string; id: string; geometry: GeoJSON.Geometry }
export interface SnapResult { at: Pos; kind: 'vertex' | 'edge'; layer: string; id: string; distancePx: number }

/** Every line of a geometry as position lists (polygon rings closed as GeoJSON has them). */
function paths(g: GeoJSON.Geometry): number[][][] {
  switch (g.type) {
    case 'Point': return [[g.coordinates]];
    case 'MultiPoint': return g.coordinates.map((p) => [p]);
    case 'LineString': return [g.coordinates];
    case 'MultiLineString': return g.coordinates;
    case 'Polygon': return g.coordinates;
    case 'MultiPolygon': return g.coordinates.flat();
    case 'GeometryCollection': return g.geometries.flatMap(paths);
  }
}

/**
 * The snap target for a pointer at `px` (CSS pixels), or null. `exclude` skips positions of the thing
 * being dragged (a vertex must not snap onto itself).
 */
export function snap(px: [number, number], candidates: readonly SnapCandidate[], project: Project,
  tolerancePx: number, exclude?: (layer: string, id: string, at: Pos) => boolean): SnapResult | null {
  let best: SnapResult | null = null;
  const tol2 = tolerancePx * tolerancePx;
  // Vertices.
  for (const c of candidates) {
    for (const path of paths(c.geometry)) {
      for (const p of path) {
        const at: Pos = [p[0], p[1]];
        if (exclude?.(c.layer, c.id, at)) continue;
        const s = project(at);
        if (!s) continue;
        const d2 = (s[0] - px[0]) ** 2 + (s[1] - px[1]) ** 2;
        if (d2 <= tol2 && (!best || d2 < best.distancePx ** 2)) best = { at, kind: 'vertex', layer: c.layer, id: c.id, distancePx: Math.sqrt(d2) };
      }
    }
  }
  if (best) return best;
  // Edges: the closest point on a segment, found in screen space and mapped back.
  for (const c of candidates) {
    for (const path of paths(c.geometry)) {
      for (let i = 0; i < path.length - 1; i++) {
        const a = project([path[i][0], path[i][1]]), b = project([path[i + 1][0], path[i + 1][1]]);
        if (!a || !b) continue;
        const dx = b[0] - a[0], dy = b[1] - a[1], len2 = dx * dx + dy * dy;
        const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px[0] - a[0]) * dx + (px[1] - a[1]) * dy) / len2));
        const sx = a[0] + t * dx, sy = a[1] + t * dy;
        const d2 = (sx - px[0]) ** 2 + (sy - px[1]) ** 2;
        if (d2 > tol2 || (best && d2 >= best.distancePx ** 2)) continue;
        // Interpolating lon/lat linearly is exact enough at snapping tolerances (a few pixels of one segment).
        const p0 = path[i], p1 = path[i + 1];
        const at: Pos = [p0[0] + t * (p1[0] - p0[0]), p0[1] + t * (p1[1] - p0[1])];
        if (exclude?.(c.layer, c.id, at)) continue;
        best = { at, kind: 'edge', layer: c.layer, id: c.id, distancePx: Math.sqrt(d2) };
      }
    }
  }
  return best;
}
