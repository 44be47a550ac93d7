import { describe, expect, it } from 'vitest';
import { PointIndex, PolygonIndex, Raster, WET, pointInLocalPoly, type LocalPoly } from './content-spatial.ts';

const poly = (pts: number[]): LocalPoly => {
  const xs = pts.filter((_, i) => i % 2 === 0), ys = pts.filter((_, i) => i % 2 === 1);
  return { rings: [Float64Array.from(pts)], minX: Math.min(...xs), minY: Math.min(...ys), maxX: Math.max(...xs), maxY: Math.max(...ys) };
};

describe('Raster', () => {
  it('marks every cell a thin diagonal polygon touches (fill + edges is conservative)', () => {
    const r = new Raster(0, 0, 500, 500, 10);
    // a 3 m wide diagonal strip: no cell centre inside, yet it touches many cells
    const strip = poly([100, 100, 400, 400, 398, 402, 98, 102]);
    r.fillPoly(strip, WET);
    r.markEdges(strip, WET);
    for (let k = 0; k <= 100; k++) {
      const t = k / 100, x = 99 + 300 * t, y = 101 + 300 * t;
      expect(r.at(x, y) & WET, `${x},${y}`).toBe(WET);
    }
    expect(r.anyInBox(0, 300, 50, 350, WET)).toBe(false);
  });
  it('fills cell centres inside a polygon with a hole', () => {
    const r = new Raster(0, 0, 100, 100, 10);
    const p: LocalPoly = { rings: [Float64Array.from([0, 0, 100, 0, 100, 100, 0, 100]), Float64Array.from([40, 40, 60, 40, 60, 60, 40, 60])], minX: 0, minY: 0, maxX: 100, maxY: 100 };
    r.fillPoly(p, WET);
    expect(r.at(5, 5)).toBe(WET);
    expect(r.at(50, 50)).toBe(0);
  });
});

describe('PolygonIndex and PointIndex', () => {
  it('finds the containing polygon like a brute-force scan does', () => {
    const polys = [poly([0, 0, 50, 0, 50, 50, 0, 50]), poly([50, 0, 100, 0, 100, 50, 75, 80, 50, 50]), poly([0, 50, 50, 50, 75, 80, 0, 100])];
    const idx = new PolygonIndex(polys, 0, 0, 100, 100, 7);
    for (let x = 1; x < 100; x += 3.3) for (let y = 1; y < 100; y += 3.7) {
      const brute = polys.findIndex((p) => pointInLocalPoly(x, y, p));
      expect(idx.find(x, y)).toBe(brute);
    }
  });
  it('returns the nearest point within the distance, else -1', () => {
    const idx = new PointIndex(0, 0, 1000, 1000, 50);
    const pts = [[10, 10], [500, 500], [990, 20], [480, 530]];
    for (const [x, y] of pts) idx.add(x, y);
    idx.finish();
    expect(idx.nearest(470, 540, 100)).toBe(3);
    expect(idx.nearest(20, 20, 100)).toBe(0);
    expect(idx.nearest(700, 900, 100)).toBe(-1);
    expect(() => new PointIndex(0, 0, 1, 1, 1).nearest(0, 0, 1)).toThrow(/call finish/);
  });
});
