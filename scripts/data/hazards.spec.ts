import { describe, expect, it } from 'vitest';
import { generateHazards } from './hazards.ts';
import { pointInPolygonRings, type XY } from './geom.ts';
import { INCIDENT_HISTORY_END } from './incidents.ts';
import { createRng } from './rng.ts';

const square = (x: number, y: number, d: number): XY[][] => [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]];
// Two towns of two grids each, side by side; industrial land in three of the grids, shops in one.
const GRIDS: GeoJSON.Feature[] = [
  ['320581001001001', 120.70, 31.60], ['320581001001002', 120.72, 31.60],
  ['320581002001001', 120.70, 31.62], ['320581002001002', 120.72, 31.62],
].map(([code, x, y]) => ({
  type: 'Feature', geometry: { type: 'Polygon', coordinates: square(x as number, y as number, 0.02) },
  properties: { id: code, code, town_code: String(code).slice(0, 9) },
}));
const LANDUSE: GeoJSON.Feature[] = [
  ['lu-1', 'industrial', 120.705, 31.605], ['lu-2', 'industrial', 120.725, 31.605], ['lu-3', 'industrial', 120.705, 31.625],
  ['lu-4', 'commercial', 120.725, 31.625], ['lu-5', 'residential', 120.725, 31.605],
].map(([id, kind, x, y]) => ({ type: 'Feature', geometry: { type: 'Polygon', coordinates: square(x as number, y as number, 0.005) }, properties: { id, kind } }));

const THRESHOLD: Record<string, number> = { 易燃液体: 1000, 易燃气体: 10, 压缩气体: 50, 有毒物质: 50, 腐蚀品: 200, 氧化性物质: 200, 易燃固体: 200 };

describe('hazardous-chemical sites', () => {
  const sites = generateHazards({ grids: GRIDS, landuse: LANDUSE }, createRng(7).fork('hazards'), 0.25);

  it('makes the scaled number of sites, each inside industrial or commercial land and inside the grid it names', () => {
    expect(sites).toHaveLength(100);
    for (const s of sites) {
      const [x, y] = (s.geometry as GeoJSON.Point).coordinates;
      const p = s.properties!;
      const grid = GRIDS.find((g) => g.properties!.code === p.grid_code)!;
      expect(pointInPolygonRings(x, y, (grid.geometry as GeoJSON.Polygon).coordinates as XY[][]), String(p.id)).toBe(true);
      expect(p.town_code).toBe(String(p.grid_code).slice(0, 9));
      const lu = LANDUSE.find((l) => pointInPolygonRings(x, y, (l.geometry as GeoJSON.Polygon).coordinates as XY[][]));
      expect(['industrial', 'commercial'], String(p.id)).toContain(lu?.properties!.kind);
      expect(['生产', '储存', '使用', '经营']).toContain(p.kind);
      expect(p.major_hazard).toBe((p.storage_t as number) >= THRESHOLD[p.hazard_class as string]);
      expect(p.contact_phone).toMatch(/^100-\d{4}-\d{4}$/);
      expect(p.inspected_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:00:00Z$/);
      const at = Date.parse(String(p.inspected_at));
      expect(at).toBeLessThan(INCIDENT_HISTORY_END);
      expect(at).toBeGreaterThan(INCIDENT_HISTORY_END - 366 * 86_400_000);
      expect(p.synthetic).toBe(true);
    }
    expect(new Set(sites.map((s) => s.properties!.name)).size).toBe(sites.length);
    expect(new Set(sites.map((s) => s.properties!.town_code)).size).toBe(2);
  });

  it('is the same for the same seed whatever the input order (files hold features in Hilbert order), and differs for another seed', () => {
    const again = generateHazards({ grids: [...GRIDS].reverse(), landuse: [...LANDUSE].reverse() }, createRng(7).fork('hazards'), 0.25);
    expect(again).toEqual(sites);
    const other = generateHazards({ grids: GRIDS, landuse: LANDUSE }, createRng(8).fork('hazards'), 0.25);
    expect(other).not.toEqual(sites);
  });

  it('refuses a city without industrial land', () => {
    expect(() => generateHazards({ grids: GRIDS, landuse: [] }, createRng(1), 1)).toThrow(/industrial/);
  });
});
