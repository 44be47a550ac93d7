import { describe, expect, it } from 'vitest';
import { tileIntersectsBounds } from './cesium-vector-tiles.ts';

// Changshu's tile bounds (roughly the catalog's CITY.bounds).
const BOUNDS: [number, number, number, number] = [120.5, 31.45, 121.05, 31.9];

describe('tileIntersectsBounds', () => {
  it('keeps the tiles over the city at every level', () => {
    expect(tileIntersectsBounds(0, 0, 0, BOUNDS)).toBe(true);
    // z14 tile holding 常熟 centre (120.752, 31.654): x = 13687, y = 6671 (slippy-map tile formula)
    expect(tileIntersectsBounds(14, 13687, 6671, BOUNDS)).toBe(true);
  });

  it('skips tiles elsewhere, so no request is made for them', () => {
    expect(tileIntersectsBounds(14, 13687 + 100, 6671, BOUNDS)).toBe(false);
    expect(tileIntersectsBounds(14, 13687, 6671 - 100, BOUNDS)).toBe(false);
    expect(tileIntersectsBounds(1, 0, 0, BOUNDS)).toBe(false); // the north-west quarter of the world
  });

  it('accepts every tile when the tileset declares no bounds', () => {
    expect(tileIntersectsBounds(5, 1, 1, undefined)).toBe(true);
  });
});
