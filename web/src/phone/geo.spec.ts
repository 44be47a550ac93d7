import { describe, expect, it } from 'vitest';
import { bboxOf, chinaDay, padBbox, pointInGeometry, tileOf, tileUrls } from './geo.ts';

const square: GeoJSON.Polygon = { type: 'Polygon', coordinates: [[[120.7, 31.6], [120.71, 31.6], [120.71, 31.61], [120.7, 31.61], [120.7, 31.6]],
  [[120.704, 31.604], [120.706, 31.604], [120.706, 31.606], [120.704, 31.606], [120.704, 31.604]]] };

describe('phone geometry', () => {
  it('bbox and point in polygon with a hole', () => {
    expect(bboxOf(square)).toEqual([120.7, 31.6, 120.71, 31.61]);
    expect(pointInGeometry(square, 120.702, 31.602)).toBe(true);
    expect(pointInGeometry(square, 120.705, 31.605)).toBe(false); // in the hole
    expect(pointInGeometry(square, 120.72, 31.605)).toBe(false);
    expect(pointInGeometry({ type: 'MultiPolygon', coordinates: [square.coordinates] }, 120.702, 31.602)).toBe(true);
  });

  it('tile addresses follow the XYZ scheme', () => {
    expect(tileOf(0, 0, 1)).toEqual([1, 1]);
    expect(tileOf(-180, 85, 2)).toEqual([0, 0]);
    // Changshu at z12: x = floor(300.75 / 360 · 4096) = 3421; y = floor((1 − ln(tan φ + sec φ)/π)/2 · 4096) = floor(1668.07)
    expect(tileOf(120.75, 31.65, 12)).toEqual([3421, 1668]);
  });

  it('lists the grid tiles for z12–16 clipped to the tileset zooms', () => {
    const urls = tileUrls('/tiles/basemap/{z}/{x}/{y}.mvt', [120.7, 31.6, 120.71, 31.61], 12, 16, { minzoom: 0, maxzoom: 14 });
    expect(urls[0]).toMatch(/^\/tiles\/basemap\/12\/\d+\/\d+\.mvt$/);
    expect(new Set(urls.map((u) => u.split('/')[3]))).toEqual(new Set(['12', '13', '14']));
    expect(new Set(urls).size).toBe(urls.length);
    expect(tileUrls('/t/{z}/{x}/{y}', [120.7, 31.6, 120.71, 31.61], 12, 16, { minzoom: 0, maxzoom: 16 }).length).toBeGreaterThan(urls.length);
  });

  it('pads a bbox by metres and names China days', () => {
    const p = padBbox([120.7, 31.6, 120.71, 31.61], 100);
    expect((31.6 - p[1]) * 110_540).toBeCloseTo(100, 5);
    expect(chinaDay(Date.UTC(2026, 10, 28, 16, 0))).toBe('2026-11-29');
    expect(chinaDay(Date.UTC(2026, 10, 28, 15, 59))).toBe('2026-11-28');
  });
});
