import { describe, expect, it } from 'vitest';
import { DENSITY_FLOOR, DENSITY_RAMP, clusterOverlay, densityOverlay, geometryParts, queryOverlays, rampColour } from './overlays.ts';

describe('density overlay', () => {
  const grid = (values: number[], cols: number, rows: number) => ({ west: 120, south: 31, east: 121, north: 32, cols, rows, cellM: 100, max: Math.max(...values), values });

  it('leaves zeros and cells under the floor transparent and colours the rest by the ramp', () => {
    const o = densityOverlay(grid([0, DENSITY_FLOOR * 10 * 0.5, 5, 10], 2, 2))!;
    expect(o.kind).toBe('grid');
    expect([o.width, o.height]).toEqual([2, 2]);
    expect(o.bounds).toEqual([120, 31, 121, 32]);
    const alpha = (i: number) => o.rgba[i * 4 + 3];
    expect(alpha(0)).toBe(0);
    expect(alpha(1)).toBe(0);
    expect(alpha(2)).toBeGreaterThan(0);
    // the hottest cell gets the ramp's last colour
    expect([...o.rgba.subarray(12, 16)]).toEqual(DENSITY_RAMP[DENSITY_RAMP.length - 1]);
    // hotter is more opaque
    expect(alpha(3)).toBeGreaterThan(alpha(2));
  });

  it('keeps row 0 as the north row (the server’s order)', () => {
    const o = densityOverlay(grid([9, 0, 0, 0, 0, 0], 2, 3))!;
    expect(o.rgba[3]).toBeGreaterThan(0);
    expect(o.rgba[4 * 4 + 3]).toBe(0);
  });

  it('refuses a grid whose values do not fill cols × rows, and draws nothing for an all-zero grid', () => {
    expect(densityOverlay({ ...grid([1, 2, 3], 2, 2) })).toBeNull();
    const empty = densityOverlay({ ...grid([0, 0, 0, 0], 2, 2), max: 0 })!;
    expect([...empty.rgba].filter((_, i) => i % 4 === 3).every((a) => a === 0)).toBe(true);
    // transparent cells keep the ramp's light colour, so filtering does not darken the edges
    expect([...empty.rgba.subarray(0, 3)]).toEqual(DENSITY_RAMP[0].slice(0, 3));
  });

  it('interpolates the ramp between stops and clamps outside [0, 1]', () => {
    expect(rampColour(0)).toEqual(DENSITY_RAMP[0]);
    expect(rampColour(2)).toEqual(DENSITY_RAMP[DENSITY_RAMP.length - 1]);
    const mid = rampColour(0.125); // halfway between stop 0 and 1 of 5 stops
    expect(mid[3]).toBe(Math.round((DENSITY_RAMP[0][3] + DENSITY_RAMP[1][3]) / 2));
  });
});

describe('cluster and query overlays', () => {
  it('sizes cluster markers by count and labels them', () => {
    const o = clusterOverlay([{ id: 0, count: 900, center: [120.7, 31.6] }, { id: 1, count: 5, center: [120.8, 31.7] }]);
    expect(o.markers.map((m) => m.label)).toEqual(['900', '5']);
    expect(o.markers[0].radiusPx).toBeGreaterThan(o.markers[1].radiusPx);
    expect(o.markers[0].lonLat).toEqual([120.7, 31.6]);
  });

  it('stacks shape, hits and focus in that order and leaves out what is absent', () => {
    const pt: GeoJSON.Point = { type: 'Point', coordinates: [1, 2] };
    expect(queryOverlays(null, [], null)).toEqual([]);
    expect(queryOverlays(pt, [pt, pt], pt).map((o) => [o.id, o.geometries.length])).toEqual([['query-shape', 1], ['query-hits', 2], ['query-focus', 1]]);
  });

  it('splits geometries into points, lines and polygons', () => {
    const p = geometryParts({ type: 'GeometryCollection', geometries: [
      { type: 'MultiPoint', coordinates: [[0, 0], [1, 1]] },
      { type: 'MultiLineString', coordinates: [[[0, 0], [1, 0]]] },
      { type: 'MultiPolygon', coordinates: [[[[0, 0], [1, 0], [1, 1], [0, 0]]], [[[2, 2], [3, 2], [3, 3], [2, 2]]]] },
    ] });
    expect([p.points.length, p.lines.length, p.polygons.length]).toEqual([2, 1, 2]);
  });
});
