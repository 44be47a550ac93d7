import { describe, expect, it } from 'vitest';
import { geometryIntersectsBbox, segmentIntersectsBbox } from './bbox-intersects.ts';
import type { Bbox } from './params.ts';

const B: Bbox = [0, 0, 10, 10];
const ring = (w: number, s: number, e: number, n: number) => [[w, s], [e, s], [e, n], [w, n], [w, s]];

describe('geometryIntersectsBbox', () => {
  it('points: inside, on the edge, outside', () => {
    expect(geometryIntersectsBbox({ type: 'Point', coordinates: [5, 5] }, B)).toBe(true);
    expect(geometryIntersectsBbox({ type: 'Point', coordinates: [10, 0] }, B)).toBe(true);
    expect(geometryIntersectsBbox({ type: 'Point', coordinates: [10.1, 0] }, B)).toBe(false);
  });
  it('a line crossing the box with no vertex inside intersects; one passing a corner does not', () => {
    expect(segmentIntersectsBbox([-5, 5], [15, 5], B)).toBe(true);
    expect(geometryIntersectsBbox({ type: 'LineString', coordinates: [[-5, 5], [15, 5]] }, B)).toBe(true);
    expect(geometryIntersectsBbox({ type: 'LineString', coordinates: [[-5, 11], [11, 25]] }, B)).toBe(false);
    expect(geometryIntersectsBbox({ type: 'LineString', coordinates: [[-1, 12], [12, -1]] }, B)).toBe(true);
  });
  it('polygons: box inside polygon, polygon inside box, box inside a hole, disjoint with overlapping bboxes', () => {
    expect(geometryIntersectsBbox({ type: 'Polygon', coordinates: [ring(-5, -5, 15, 15)] }, B)).toBe(true);
    expect(geometryIntersectsBbox({ type: 'Polygon', coordinates: [ring(2, 2, 3, 3)] }, B)).toBe(true);
    expect(geometryIntersectsBbox({ type: 'Polygon', coordinates: [ring(-5, -5, 15, 15), ring(-1, -1, 11, 11).reverse()] }, B)).toBe(false);
    // An L-shaped polygon whose bbox covers the box but whose area does not.
    const L = [[20, 20], [-20, 20], [-20, -20], [-10, -20], [-10, 15], [20, 15], [20, 20]];
    expect(geometryIntersectsBbox({ type: 'Polygon', coordinates: [L] }, B)).toBe(false);
    expect(geometryIntersectsBbox({ type: 'MultiPolygon', coordinates: [[L], [ring(9, 9, 12, 12)]] }, B)).toBe(true);
  });
  it('null geometry never matches', () => {
    expect(geometryIntersectsBbox(null, B)).toBe(false);
  });
});
