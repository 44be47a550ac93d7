import { describe, expect, it } from 'vitest';
import { BOUNDARY, coveredBy, distance, fromGeoJSON, INSIDE, intersects, locate, OUTSIDE, prepare } from './geometry.ts';

const P = (g: GeoJSON.Geometry, tree = false) => prepare(fromGeoJSON(g), tree);
// A 10×10 square with a 4×4 hole in the middle, and a second square to the right sharing the edge x = 10.
const holed: GeoJSON.Polygon = { type: 'Polygon', coordinates: [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]], [[3, 3], [3, 7], [7, 7], [7, 3], [3, 3]]] };
const multi: GeoJSON.MultiPolygon = { type: 'MultiPolygon', coordinates: [holed.coordinates, [[[20, 0], [30, 0], [30, 10], [20, 10], [20, 0]]]] };
const sq = (x0: number, y0: number, x1: number, y1: number): GeoJSON.Polygon => ({ type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] });

describe('locate', () => {
  for (const tree of [false, true]) {
    it(`classifies inside, hole, edges and vertices (tree ${tree})`, () => {
      // A densified copy exercises the R-tree path (≥ 48 segments).
      const g = tree ? densify(holed, 20) : holed;
      const p = P(g, tree);
      expect(locate(p, 1, 1)).toBe(INSIDE);
      expect(locate(p, 5, 5)).toBe(OUTSIDE); // in the hole
      expect(locate(p, 3, 5)).toBe(BOUNDARY); // hole edge
      expect(locate(p, 7, 7)).toBe(BOUNDARY); // hole vertex
      expect(locate(p, 0, 0)).toBe(BOUNDARY);
      expect(locate(p, 10, 4.2)).toBe(BOUNDARY);
      expect(locate(p, 10.000000001, 4)).toBe(OUTSIDE);
      expect(locate(p, -1, 5)).toBe(OUTSIDE);
      expect(locate(p, 5, 0)).toBe(BOUNDARY);
    });
  }
  it('handles multipolygons and exact boundary on a slanted edge', () => {
    const m = P(multi);
    expect(locate(m, 25, 5)).toBe(INSIDE);
    expect(locate(m, 15, 5)).toBe(OUTSIDE);
    const tri = P({ type: 'Polygon', coordinates: [[[0.1, 0.1], [0.7, 0.3], [0.2, 0.9], [0.1, 0.1]]] });
    // 0.1 + t·0.6, 0.1 + t·0.2 at t = 0.5 is exactly (0.4, 0.2) in real numbers but not in binary; the
    // midpoint computed in floats is usually just off the line and must not count as boundary unless exact.
    expect(locate(tri, 0.7, 0.3)).toBe(BOUNDARY);
    expect(locate(tri, 0.3, 0.3)).toBe(INSIDE);
  });
  it('lines and points', () => {
    const l = P({ type: 'LineString', coordinates: [[0, 0], [2, 2], [4, 0]] });
    expect(locate(l, 1, 1)).toBe(INSIDE);
    expect(locate(l, 1, 1.1)).toBe(OUTSIDE);
    expect(locate(P({ type: 'Point', coordinates: [1, 2] }), 1, 2)).toBe(INSIDE);
  });
});

describe('predicates', () => {
  const shape = P(sq(2, 2, 8, 8));
  it('intersects: overlap, touching edge, inside hole, containment', () => {
    expect(intersects(P(sq(7, 7, 12, 12)), shape)).toBe(true);
    expect(intersects(P(sq(8, 0, 9, 9)), shape)).toBe(true); // shares the edge x = 8
    expect(intersects(P(sq(8.5, 0, 9, 9)), shape)).toBe(false);
    expect(intersects(P(sq(4, 4, 5, 5)), P(holed))).toBe(false); // inside the hole
    expect(intersects(P(sq(-1, -1, 11, 11)), P(holed))).toBe(true); // contains it, no edge crossing
    expect(intersects(P({ type: 'Point', coordinates: [8, 5] }), shape)).toBe(true);
    expect(intersects(P({ type: 'LineString', coordinates: [[0, 5], [1, 5]] }), shape)).toBe(false);
    expect(intersects(P({ type: 'LineString', coordinates: [[0, 5], [2, 5]] }), shape)).toBe(true);
  });
  it('coveredBy (within) and covers (contains), boundary included', () => {
    expect(coveredBy(P(sq(2, 2, 8, 8)), shape)).toBe(true); // equal
    expect(coveredBy(P(sq(2, 3, 4, 5)), shape)).toBe(true); // touching the boundary from inside
    expect(coveredBy(P(sq(1, 3, 4, 5)), shape)).toBe(false);
    expect(coveredBy(P({ type: 'LineString', coordinates: [[2, 2], [8, 2]] }), shape)).toBe(true); // along an edge
    expect(coveredBy(P({ type: 'Point', coordinates: [8, 8] }), shape)).toBe(true);
    // A square around the hole is not covered by the holed polygon, though its boundary is.
    expect(coveredBy(P(sq(2, 2, 8, 8)), P(holed))).toBe(false);
    expect(coveredBy(P(sq(3, 3, 7, 7)), P(holed))).toBe(false); // exactly the hole
    expect(coveredBy(P(sq(0, 0, 3, 3)), P(holed))).toBe(true);
    // A line leaving through a concave notch: both ends inside, middle outside.
    const u = P({ type: 'Polygon', coordinates: [[[0, 0], [10, 0], [10, 10], [6, 10], [6, 4], [4, 4], [4, 10], [0, 10], [0, 0]]] });
    expect(coveredBy(P({ type: 'LineString', coordinates: [[2, 8], [8, 8]] }), u)).toBe(false);
    expect(coveredBy(P({ type: 'LineString', coordinates: [[2, 2], [8, 2]] }), u)).toBe(true);
    // Multipolygon shape: a feature spanning the gap between its parts is not within it.
    expect(coveredBy(P(sq(25, 2, 28, 4)), P(multi))).toBe(true);
    expect(coveredBy(P(sq(5, 1, 25, 2)), P(multi))).toBe(false);
  });
  it('distance: 0 when touching, exact for separated shapes', () => {
    expect(distance(P(sq(8, 0, 9, 9)), shape)).toBe(0);
    expect(distance(P(sq(11, 2, 12, 3)), shape)).toBe(3);
    expect(distance(P({ type: 'Point', coordinates: [11, 12] }), shape)).toBe(5);
    expect(distance(P({ type: 'Point', coordinates: [11, 12] }), shape, 4)).toBe(Infinity);
  });
});

function densify(p: GeoJSON.Polygon, k: number): GeoJSON.Polygon {
  return {
    type: 'Polygon',
    coordinates: p.coordinates.map((r) => {
      const out: GeoJSON.Position[] = [];
      for (let i = 0; i + 1 < r.length; i++) for (let j = 0; j < k; j++) out.push([r[i][0] + (r[i + 1][0] - r[i][0]) * j / k, r[i][1] + (r[i + 1][1] - r[i][1]) * j / k]);
      out.push(r[0]);
      return out;
    }),
  };
}
