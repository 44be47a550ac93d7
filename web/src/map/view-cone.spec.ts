import { describe, expect, it } from 'vitest';
import { destination, viewConePolygon } from './view-cone.ts';

const M_PER_DEG_LAT = 111_195; // 2πR/360 for R = 6 371 008.8 m

/** Local metres east/north of (lon0, lat0): equirectangular, fine at a few hundred metres. */
function enu(lon0: number, lat0: number, [lon, lat]: [number, number]): [number, number] {
  return [(lon - lon0) * M_PER_DEG_LAT * Math.cos((lat0 * Math.PI) / 180), (lat - lat0) * M_PER_DEG_LAT];
}

describe('destination', () => {
  it('moves north along the meridian and east along the parallel', () => {
    const [lonN, latN] = destination(120.7, 31.65, 0, 1000);
    expect(lonN).toBeCloseTo(120.7, 9);
    expect((latN - 31.65) * M_PER_DEG_LAT).toBeCloseTo(1000, 0);
    const [e, n] = enu(120.7, 31.65, destination(120.7, 31.65, 90, 1000));
    expect(e).toBeCloseTo(1000, -1);
    expect(Math.abs(n)).toBeLessThan(1);
  });
});

describe('viewConePolygon', () => {
  const lon = 120.75, lat = 31.65;

  it('is a closed ring from the camera with steps + 1 arc points at the range', () => {
    const ring = viewConePolygon(lon, lat, 45, 60, 200, 8);
    expect(ring).toHaveLength(8 + 3);
    expect(ring[0]).toEqual([lon, lat]);
    expect(ring[ring.length - 1]).toEqual([lon, lat]);
    for (const p of ring.slice(1, -1)) {
      const [e, n] = enu(lon, lat, p);
      expect(Math.hypot(e, n)).toBeCloseTo(200, -1);
    }
  });

  it('spans heading ± fov/2, clockwise from north', () => {
    const ring = viewConePolygon(lon, lat, 90, 60, 300, 4);
    const bearing = (p: [number, number]) => {
      const [e, n] = enu(lon, lat, p);
      return ((Math.atan2(e, n) * 180) / Math.PI + 360) % 360;
    };
    expect(bearing(ring[1])).toBeCloseTo(60, 0);
    expect(bearing(ring[3])).toBeCloseTo(90, 0); // the middle of the arc looks along the heading
    expect(bearing(ring[5])).toBeCloseTo(120, 0);
  });

  it('wraps headings across north', () => {
    const ring = viewConePolygon(lon, lat, 350, 40, 100, 2);
    const [e1] = enu(lon, lat, ring[1]);
    const [e3] = enu(lon, lat, ring[3]);
    expect(e1).toBeLessThan(0); // 330°: west of north
    expect(e3).toBeGreaterThan(0); // 10°: east of north
  });

  it('rejects nonsense instead of drawing it', () => {
    expect(() => viewConePolygon(lon, lat, 0, 60, 0)).toThrow(/must be positive/);
    expect(() => viewConePolygon(lon, lat, Number.NaN, 60, 100)).toThrow(/non-finite/);
  });
});
