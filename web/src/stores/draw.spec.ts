import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { LonLat } from '../map/engine.ts';
import { curvatureRadii, geodesicDistance } from '../map/measure.ts';
import { locale } from '../i18n.ts';
import { useDrawStore } from './draw.ts';

/** Degrees of latitude / longitude per metre at the demo city, from the radii of curvature. */
const LAT = 31.65;
const { meridional, primeVertical } = curvatureRadii(LAT);
const DLAT = 180 / Math.PI / meridional;
const DLON = 180 / Math.PI / (primeVertical * Math.cos((LAT * Math.PI) / 180));
const at = (east: number, north: number): LonLat => [120.75 + east * DLON, LAT + north * DLAT];

describe('draw store', () => {
  beforeEach(() => setActivePinia(createPinia()));
  afterEach(() => { locale.value = 'zh-CN'; });

  it('is inactive until a tool starts, and ignores clicks then', () => {
    const s = useDrawStore();
    expect(s.mode).toBe('none');
    expect(s.active).toBe(false);
    s.addPoint(at(0, 0));
    s.movePointer(at(1, 1));
    expect(s.shapes).toEqual([]);
    s.start('distance');
    expect(s.active).toBe(true);
  });

  it('measures a distance with a running draft, finishing on double click', () => {
    const s = useDrawStore();
    s.start('distance');
    s.addPoint(at(0, 0));
    s.movePointer(at(0, 500));
    expect(s.draftText).toBe('500 米');
    expect(s.shapes).toHaveLength(1);
    expect(s.shapes[0]).toMatchObject({ id: 'draft', kind: 'line', draft: true, label: '500 米' });
    s.addPoint(at(0, 500));
    s.movePointer(at(750, 500));
    expect(s.draftText).toBe('1.25 公里');
    // a double click: the same point twice, then finish()
    s.addPoint(at(750, 500));
    s.addPoint(at(750, 500));
    expect(s.finish()).toBe(true);
    expect(s.mode).toBe('none');
    expect(s.results).toHaveLength(1);
    const r = s.results[0];
    expect(r.kind).toBe('distance');
    expect(r.name).toBe('距离 1');
    expect(r.geometry.type).toBe('LineString');
    expect((r.geometry as GeoJSON.LineString).coordinates).toHaveLength(3);
    expect(Math.abs(r.value - 1250)).toBeLessThan(1);
    expect(r.valueText).toBe('1.25 公里');
    expect(s.shapes).toEqual([expect.objectContaining({ id: 'distance-1', kind: 'line', label: '1.25 公里', labelAt: at(750, 500) })]);
    expect(s.shapes[0].draft).toBeUndefined();
  });

  it('keeps drawing when finish() comes too early', () => {
    const s = useDrawStore();
    s.start('area');
    s.addPoint(at(0, 0));
    s.addPoint(at(100, 0));
    expect(s.finish()).toBe(false);
    expect(s.mode).toBe('area');
    expect(s.results).toEqual([]);
  });

  it('measures an area: 1.01 km × 1.01 km ≈ 1.02 平方公里, closed polygon', () => {
    const s = useDrawStore();
    s.start('area');
    for (const p of [at(0, 0), at(1010, 0), at(1010, 1010)]) s.addPoint(p);
    s.movePointer(at(0, 1010));
    expect(s.draftText).toBe('1.02 平方公里');
    expect(s.shapes[0]).toMatchObject({ kind: 'polygon', draft: true });
    s.addPoint(at(0, 1010));
    s.finish();
    const r = s.results[0];
    expect(Math.abs(r.value / (1010 * 1010) - 1)).toBeLessThan(0.005);
    const ring = (r.geometry as GeoJSON.Polygon).coordinates[0];
    expect(ring).toHaveLength(5);
    expect(ring[0]).toEqual(ring[4]);
  });

  it('keeps a polygon for later queries, with a numbered name', () => {
    const s = useDrawStore();
    for (let i = 0; i < 2; i++) {
      s.start('polygon');
      for (const p of [at(0, 0), at(110, 0), at(110, 110), at(0, 110)]) s.addPoint(p);
      s.finish();
    }
    expect(s.results.map((r) => r.name)).toEqual(['多边形 1', '多边形 2']);
    expect(s.results[0].valueText).toBe('1.21 公顷');
    expect(s.shapes[0].label).toBe('多边形 1 · 1.21 公顷');
    expect(s.toGeoJson().features).toHaveLength(2);
    expect(s.toGeoJson().features[0].properties).toMatchObject({ kind: 'polygon', unit: 'm2' });
  });

  it('draws a circle: centre click, then radius click finishes it', () => {
    const s = useDrawStore();
    s.start('circle');
    const c = at(0, 0);
    s.addPoint(c);
    s.movePointer(at(300, 400)); // 500 m away
    expect(s.shapes[0]).toMatchObject({ kind: 'polygon', draft: true, labelAt: c });
    expect(s.draftText).toMatch(/^半径 500 米 · 78\.\d+ 公顷$/);
    s.addPoint(at(300, 400));
    expect(s.mode).toBe('none');
    const ring = (s.results[0].geometry as GeoJSON.Polygon).coordinates[0] as LonLat[];
    expect(ring).toHaveLength(65);
    for (const p of ring) expect(Math.abs(geodesicDistance(c, p) - 500)).toBeLessThan(0.5);
  });

  it('cancel drops the draft and leaves the tool; remove and clear delete shapes', () => {
    const s = useDrawStore();
    s.start('distance');
    s.addPoint(at(0, 0)); s.addPoint(at(10, 0)); s.finish();
    s.start('distance');
    s.addPoint(at(0, 0)); s.movePointer(at(0, 10));
    s.cancel();
    expect(s.mode).toBe('none');
    expect(s.shapes.map((x) => x.id)).toEqual(['distance-1']);
    s.start('distance');
    s.addPoint(at(0, 0)); s.addPoint(at(20, 0)); s.finish();
    s.remove('distance-1');
    expect(s.results.map((r) => r.id)).toEqual(['distance-2']);
    s.clear();
    expect(s.results).toEqual([]);
    expect(s.shapes).toEqual([]);
  });

  it('relabels in English when the language changes', () => {
    const s = useDrawStore();
    s.start('distance');
    s.addPoint(at(0, 0)); s.addPoint(at(0, 1500)); s.finish();
    locale.value = 'en';
    expect(s.results[0].valueText).toBe('1.5 km');
    expect(s.results[0].name).toBe('Distance 1');
  });
});
