import { describe, expect, it } from 'vitest';
import {
  deleteVertex, fromParts, insertVertex, midpoints, moveVertex, normalizeGeometry, signedArea2, toParts, type Parts,
} from './geometry.ts';

// A unit square given clockwise and closed, as a careless producer would write it.
const CW_SQUARE: GeoJSON.Polygon = { type: 'Polygon', coordinates: [[[120, 31], [120, 32], [121, 32], [121, 31], [120, 31]]] };

describe('editor geometry', () => {
  it('opens rings for editing and closes + orients them counter-clockwise on the way out (RFC 7946)', () => {
    const parts = toParts(CW_SQUARE);
    expect(parts[0][0]).toHaveLength(4);
    const out = fromParts('polygon', parts) as GeoJSON.Polygon;
    const ring = out.coordinates[0];
    expect(ring[0]).toEqual(ring[ring.length - 1]);
    expect(signedArea2(ring.slice(0, -1) as [number, number][])).toBeGreaterThan(0);
  });

  it('winds holes clockwise', () => {
    const g: GeoJSON.Polygon = { type: 'Polygon', coordinates: [
      [[0 + 120, 31], [124, 31], [124, 35], [120, 35], [120, 31]],
      [[121, 32], [122, 32], [122, 33], [121, 33], [121, 32]], // counter-clockwise: wrong for a hole
    ] };
    const out = normalizeGeometry(g) as GeoJSON.Polygon;
    expect(signedArea2(out.coordinates[0].slice(0, -1) as [number, number][])).toBeGreaterThan(0);
    expect(signedArea2(out.coordinates[1].slice(0, -1) as [number, number][])).toBeLessThan(0);
  });

  it('moves, inserts and deletes vertices without touching the input', () => {
    const parts = toParts(CW_SQUARE);
    const frozen = JSON.stringify(parts);
    const moved = moveVertex(parts, { part: 0, ring: 0, index: 2 }, [121.5, 32.5]);
    expect(moved[0][0][2]).toEqual([121.5, 32.5]);
    const inserted = insertVertex(moved, { part: 0, ring: 0, index: 3 }, [120.5, 30.8]);
    expect(inserted[0][0]).toHaveLength(5);
    expect(inserted[0][0][4]).toEqual([120.5, 30.8]);
    const deleted = deleteVertex(inserted, 'polygon', { part: 0, ring: 0, index: 0 });
    expect(deleted[0][0]).toHaveLength(4);
    expect(deleted[0][0][0]).toEqual([120, 32]);
    expect(JSON.stringify(parts)).toBe(frozen);
  });

  it('refuses to leave a polygon with fewer than 3 vertices or a line with fewer than 2', () => {
    const tri: Parts = [[[[0, 0], [1, 0], [0, 1]]]];
    expect(() => deleteVertex(tri, 'polygon', { part: 0, ring: 0, index: 1 })).toThrow(/至少需要 3 个顶点/);
    const line: Parts = [[[[0, 0], [1, 0]]]];
    expect(() => deleteVertex(line, 'line', { part: 0, ring: 0, index: 1 })).toThrow(/至少需要 2 个顶点/);
  });

  it('puts a midpoint on every polygon edge including the closing one, and on every line segment', () => {
    const sq = toParts(CW_SQUARE);
    const m = midpoints(sq, 'polygon');
    expect(m).toHaveLength(4);
    expect(m[3].at).toEqual([120.5, 31]); // from the last vertex back to the first
    expect(midpoints([[[[0, 0], [2, 0], [2, 2]]]], 'line').map((x) => x.at)).toEqual([[1, 0], [2, 1]]);
  });

  it('keeps points and lines as they are, Multi* when several parts', () => {
    expect(fromParts('point', toParts({ type: 'Point', coordinates: [120, 31] }))).toEqual({ type: 'Point', coordinates: [120, 31] });
    const ml: GeoJSON.MultiLineString = { type: 'MultiLineString', coordinates: [[[0, 0], [1, 1]], [[2, 2], [3, 3]]] };
    expect(fromParts('line', toParts(ml))).toEqual(ml);
  });
});
