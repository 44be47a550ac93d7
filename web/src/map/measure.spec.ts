import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LonLat } from './engine.ts';
import {
  AUTHALIC_RADIUS, CIRCLE_STEPS, circleRing, curvatureRadii, formatArea, formatLength, geodesicDistance, lineLength, polygonArea, ringArea,
} from './measure.ts';

interface Fixtures {
  distances: { name: string; from: LonLat; to: LonLat; metres: number; tolerance: number }[];
  areas: { name: string; ring: LonLat[]; m2: number; relTolerance: number }[];
  formatLength: { metres: number; 'zh-CN': string; en: string }[];
  formatArea: { m2: number; 'zh-CN': string; en: string }[];
}
const FX = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'measure.json'), 'utf8')) as Fixtures;

/** Metres per degree of latitude at φ, from the series in the US NGA/Bowditch tables (independent of Vincenty). */
const metresPerDegreeLat = (phi: number) => 111132.954 - 559.822 * Math.cos(2 * phi * Math.PI / 180) + 1.175 * Math.cos(4 * phi * Math.PI / 180);

/** A square of `side` metres with its south-west corner at `sw`, built from the local radii of curvature. */
function square(sw: LonLat, side: number): LonLat[] {
  const { meridional, primeVertical } = curvatureRadii(sw[1] + (side / 2) / 111_000);
  const dLat = (side / meridional) * 180 / Math.PI;
  const dLon = (side / (primeVertical * Math.cos(((sw[1] + dLat / 2) * Math.PI) / 180))) * 180 / Math.PI;
  return [sw, [sw[0] + dLon, sw[1]], [sw[0] + dLon, sw[1] + dLat], [sw[0], sw[1] + dLat], sw];
}

describe('geodesic distance', () => {
  for (const c of FX.distances) {
    it(c.name, () => expect(Math.abs(geodesicDistance(c.from, c.to) - c.metres)).toBeLessThanOrEqual(c.tolerance));
  }

  it('is symmetric', () => {
    const a: LonLat = [120.70, 31.60], b: LonLat = [120.85, 31.72];
    expect(geodesicDistance(a, b)).toBeCloseTo(geodesicDistance(b, a), 6);
  });

  it('measures 1° of latitude over Changshu as ≈ 110.9 km', () => {
    const d = geodesicDistance([120.75, 31.15], [120.75, 32.15]);
    expect(Math.abs(d - metresPerDegreeLat(31.65))).toBeLessThan(2);
    expect(d / 1000).toBeCloseTo(110.9, 1);
  });

  it('sums a polyline and leaves its input alone', () => {
    const line: LonLat[] = [[120.75, 31.15], [120.75, 31.65], [120.75, 32.15]];
    const copy = JSON.stringify(line);
    expect(lineLength(line)).toBeCloseTo(geodesicDistance(line[0], line[2]), 3);
    expect(lineLength(line.slice(0, 1))).toBe(0);
    expect(JSON.stringify(line)).toBe(copy);
  });
});

describe('area on the ellipsoid', () => {
  for (const c of FX.areas) {
    it(c.name, () => expect(Math.abs(ringArea(c.ring) / c.m2 - 1)).toBeLessThan(c.relTolerance));
  }

  it('has the WGS84 authalic radius', () => expect(AUTHALIC_RADIUS).toBeCloseTo(6371007.18, 1));

  it('measures a 1 km × 1 km square in Changshu as 1 000 000 m² within 0.5 %', () => {
    const sq = square([120.75, 31.65], 1000);
    expect(Math.abs(ringArea(sq) / 1e6 - 1)).toBeLessThan(0.005);
    // and its sides as 1 km each
    expect(Math.abs(lineLength(sq) - 4000)).toBeLessThan(4);
  });

  it('does not depend on ring orientation or closure, and subtracts holes', () => {
    const sq = square([120.75, 31.65], 1000);
    expect(ringArea([...sq].reverse())).toBeCloseTo(ringArea(sq), 3);
    expect(ringArea(sq.slice(0, 4))).toBeCloseTo(ringArea(sq), 3);
    const hole = square([120.752, 31.652], 200);
    const a = polygonArea({ type: 'Polygon', coordinates: [sq, hole] });
    expect(Math.abs(a / (1e6 - 4e4) - 1)).toBeLessThan(0.005);
    const multi = polygonArea({ type: 'MultiPolygon', coordinates: [[sq], [square([120.8, 31.7], 1000)]] });
    expect(Math.abs(multi / 2e6 - 1)).toBeLessThan(0.005);
    expect(ringArea(sq.slice(0, 2))).toBe(0);
  });
});

describe('circle', () => {
  it('has 64 steps, is closed, and every vertex lies at the radius', () => {
    const c: LonLat = [120.75, 31.65];
    for (const r of [50, 1000, 20_000]) {
      const ring = circleRing(c, r);
      expect(ring).toHaveLength(CIRCLE_STEPS + 1);
      expect(ring[0]).toEqual(ring[ring.length - 1]);
      for (const p of ring) expect(Math.abs(geodesicDistance(c, p) / r - 1)).toBeLessThan(5e-4);
      // a regular 64-gon has (n/2)·sin(2π/n)·r² of area
      const polygon = (CIRCLE_STEPS / 2) * Math.sin((2 * Math.PI) / CIRCLE_STEPS) * r * r;
      expect(Math.abs(ringArea(ring) / polygon - 1)).toBeLessThan(0.002);
    }
    expect(ringArea(circleRing(c, 0))).toBe(0);
  });

  it('rejects a bad radius with a reason', () => {
    expect(() => circleRing([120, 31], Number.NaN)).toThrow(/radius must be a finite number/);
    expect(() => circleRing([120, 31], -1)).toThrow(/radius/);
  });
});

describe('formatting', () => {
  for (const c of FX.formatLength) {
    it(`length ${c.metres} m`, () => {
      expect(formatLength(c.metres, 'zh-CN')).toBe(c['zh-CN']);
      expect(formatLength(c.metres, 'en')).toBe(c.en);
    });
  }
  for (const c of FX.formatArea) {
    it(`area ${c.m2} m²`, () => {
      expect(formatArea(c.m2, 'zh-CN')).toBe(c['zh-CN']);
      expect(formatArea(c.m2, 'en')).toBe(c.en);
    });
  }
});
