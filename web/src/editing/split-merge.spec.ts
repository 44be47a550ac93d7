import { area, polygon } from '@turf/turf';
import { describe, expect, it } from 'vitest';
import { fromParts, signedArea2, toParts, type Parts, type Pos } from './geometry.ts';
import { mergeLines, mergePolygons, splitLineAt, splitPolygon, splitPolygonParts } from './split-merge.ts';

const SQUARE: GeoJSON.Polygon = { type: 'Polygon', coordinates: [[[120, 31], [120.01, 31], [120.01, 31.01], [120, 31.01], [120, 31]]] };
const areaOf = (parts: Parts) => area(polygon((fromParts('polygon', parts) as GeoJSON.Polygon).coordinates));

describe('split a polygon by a line', () => {
  it('cuts a square in two along a bent line; the pieces share the cut and add up to the whole', () => {
    const line: Pos[] = [[120.005, 30.99], [120.004, 31.005], [120.005, 31.02]];
    const [a, b] = splitPolygonParts(toParts(SQUARE), line);
    const total = area(polygon(SQUARE.coordinates));
    expect(areaOf(a) + areaOf(b)).toBeCloseTo(total, 0);
    expect(areaOf(a)).toBeGreaterThan(0.3 * total);
    expect(areaOf(b)).toBeGreaterThan(0.3 * total);
    // The inner bend of the line is a vertex of both pieces (no gap along the cut).
    const has = (p: Parts, q: Pos) => p[0][0].some((x) => x[0] === q[0] && x[1] === q[1]);
    expect(has(a, [120.004, 31.005]) && has(b, [120.004, 31.005])).toBe(true);
    for (const piece of [a, b]) expect(signedArea2(piece[0][0])).toBeGreaterThan(0);
  });

  it('cuts when both crossings fall on the same edge (a notch)', () => {
    const line: Pos[] = [[120.002, 30.99], [120.004, 31.004], [120.006, 30.99]];
    const [a, b] = splitPolygon(toParts(SQUARE)[0], line);
    const small = Math.min(areaOf([a]), areaOf([b])), big = Math.max(areaOf([a]), areaOf([b]));
    expect(small).toBeGreaterThan(0);
    expect(small + big).toBeCloseTo(area(polygon(SQUARE.coordinates)), 0);
    expect(small).toBeLessThan(big);
  });

  it('says what to do when the line does not cross twice, or crosses a hole', () => {
    expect(() => splitPolygon(toParts(SQUARE)[0], [[120.005, 31.005], [120.005, 31.02]])).toThrow(/恰好穿过边界两次，现为 1 次/);
    const holed: Pos[][] = [toParts(SQUARE)[0][0], [[120.004, 31.004], [120.004, 31.006], [120.006, 31.006], [120.006, 31.004]]];
    expect(() => splitPolygon(holed, [[120.005, 30.99], [120.005, 31.02]])).toThrow(/洞/);
    // A hole beside the cut goes with the piece that holds it.
    const aside: Pos[][] = [holed[0], [[120.001, 31.001], [120.001, 31.002], [120.002, 31.002], [120.002, 31.001]]];
    const [a, b] = splitPolygon(aside, [[120.005, 30.99], [120.005, 31.02]]);
    expect(a.length + b.length).toBe(3);
  });
});

describe('split and merge lines, merge polygons', () => {
  it('splits a line at an inner vertex and refuses its ends', () => {
    const l: Parts = [[[[0, 0], [1, 0], [2, 0], [3, 0]]]];
    const [a, b] = splitLineAt(l, 0, 2);
    expect(a[0][0]).toEqual([[0, 0], [1, 0], [2, 0]]);
    expect(b[0][0]).toEqual([[2, 0], [3, 0]]);
    expect(() => splitLineAt(l, 0, 3)).toThrow(/端点/);
  });

  it('joins lines that touch end to end in any direction and refuses others', () => {
    expect(mergeLines([[0, 0], [1, 0]], [[1, 0], [2, 0]])).toEqual([[0, 0], [1, 0], [2, 0]]);
    expect(mergeLines([[0, 0], [1, 0]], [[2, 0], [1, 0]])).toEqual([[0, 0], [1, 0], [2, 0]]);
    expect(mergeLines([[1, 0], [2, 0]], [[1, 0], [0, 0]])).toEqual([[0, 0], [1, 0], [2, 0]]);
    expect(() => mergeLines([[0, 0], [1, 0]], [[5, 5], [6, 6]])).toThrow(/不相接/);
  });

  it('unions two polygons that share an edge into one, and refuses two apart', () => {
    const left: Parts = [[[[120, 31], [120.01, 31], [120.01, 31.01], [120, 31.01]]]];
    const right: Parts = [[[[120.01, 31], [120.02, 31], [120.02, 31.01], [120.01, 31.01]]]];
    const u = mergePolygons(left, right);
    expect(u).toHaveLength(1);
    expect(areaOf(u)).toBeCloseTo(areaOf(left) + areaOf(right), 0);
    const far: Parts = [[[[121, 31], [121.01, 31], [121.01, 31.01], [121, 31.01]]]];
    expect(() => mergePolygons(left, far)).toThrow(/不相邻/);
  });
});
