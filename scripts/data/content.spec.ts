import { beforeAll, describe, expect, it } from 'vitest';
import * as turf from '@turf/turf';
import { generateContent, type Boundaries, type Content } from './content.ts';
import { createRng } from './rng.ts';
import { REAL_ROADS, villageShort } from './names.ts';
import { DEPARTMENTS, getLayer } from '../../layers/catalog.ts';
import { fixtureBoundaries } from '../../test/fixtures/content/fixture-city.ts';

const SCALE = 0.04;
let b: Boundaries;
let c: Content;
const run = (seed: number | string, scale = SCALE): Content => generateContent(fixtureBoundaries(), { rng: createRng(seed), scale });

beforeAll(() => {
  b = fixtureBoundaries();
  c = run(7);
});

const props = (f: GeoJSON.Feature): Record<string, unknown> => f.properties as Record<string, unknown>;
/** Fixture grids are lon/lat rectangles, so containment needs no code under test. */
function gridOf(lon: number, lat: number): string[] {
  return b.grids.filter((g) => {
    const ring = (g.geometry as GeoJSON.Polygon).coordinates[0];
    const xs = ring.map((p) => p[0]), ys = ring.map((p) => p[1]);
    return lon >= Math.min(...xs) && lon <= Math.max(...xs) && lat >= Math.min(...ys) && lat <= Math.max(...ys);
  }).map((g) => String(props(g).code));
}

describe('generateContent on the fixture city', () => {
  it('is deterministic for a seed and differs for another seed', () => {
    const again = run(7);
    expect(again).toEqual(c);
    const other = run(8);
    expect(other.buildings.map((f) => f.geometry)).not.toEqual(c.buildings.map((f) => f.geometry));
  }, 60_000);

  it('gives every feature a unique string id, synthetic: true and the catalog fields', () => {
    for (const [layer, features] of Object.entries(c)) {
      const def = getLayer(layer)!;
      expect(def, layer).toBeDefined();
      expect(features.length, layer).toBeGreaterThan(0);
      const ids = new Set<string>();
      for (const f of features) {
        const p = props(f);
        expect(typeof p.id).toBe('string');
        ids.add(p.id as string);
        expect(p.synthetic).toBe(true);
        for (const field of def.fields) expect(Object.hasOwn(p, field.name), `${layer}.${field.name}`).toBe(true);
      }
      expect(ids.size, `${layer} ids unique`).toBe(features.length);
    }
  });

  it('puts every address in the grid that contains its point, with consistent codes', () => {
    const codes = new Set<string>();
    for (const a of c.addresses) {
      const p = props(a);
      const [lon, lat] = (a.geometry as GeoJSON.Point).coordinates;
      expect(gridOf(lon, lat)).toContain(p.grid_code);
      expect(String(p.grid_code).startsWith(String(p.village_code))).toBe(true);
      expect(String(p.village_code).startsWith(String(p.town_code))).toBe(true);
      expect(String(p.code)).toMatch(/^\d{34}$/);
      expect(String(p.code).slice(0, 12)).toBe(p.village_code);
      expect(String(p.code)[12]).toBe({ door: '1', building: '2', room: '3' }[p.level as string]);
      codes.add(String(p.code));
    }
    expect(codes.size).toBe(c.addresses.length);
  });

  it('writes `full` in the standard order from the element properties', () => {
    const town = new Map(b.towns.map((t) => [props(t).code, String(props(t).name)]));
    const village = new Map(b.villages.map((v) => [props(v).code, villageShort(String(props(v).name))]));
    const seen = { door: 0, building: 0, room: 0, rural: 0 };
    for (const a of c.addresses) {
      const p = props(a);
      const tail = `${p.road}${p.houseno}${p.compound ?? ''}${p.building ?? ''}${p.unit ?? ''}${p.room ?? ''}`;
      const urban = `常熟市${town.get(p.town_code)}${tail}`;
      const rural = `常熟市${town.get(p.town_code)}${village.get(p.village_code)}${tail}`;
      expect([urban, rural]).toContain(p.full);
      if (p.full === rural) seen.rural++;
      expect(p.full).toMatch(/^常熟市\S+?(街道|镇|开发区|科技园)\S*?\d+号(\S+?\d+幢(\d+单元\d+室)?)?$/);
      expect(p.houseno).toMatch(/^\d+号$/);
      seen[p.level as 'door' | 'building' | 'room']++;
      if (p.level === 'room') {
        expect(p.unit).toMatch(/^\d+单元$/);
        expect(p.room).toMatch(/^\d+室$/);
        expect(Math.floor(parseInt(String(p.room), 10) / 100)).toBe(p.floor);
        expect(p.compound).toBeTruthy();
      } else {
        expect(p.floor).toBeNull();
        expect(p.room).toBeNull();
      }
      if (p.level === 'door') expect(p.building).toBeNull();
    }
    expect(seen.door).toBeGreaterThan(0);
    expect(seen.building).toBeGreaterThan(0);
    expect(seen.room).toBeGreaterThan(seen.building);
    expect(seen.rural).toBeGreaterThan(0);
    // the compound example's shape: road + number + compound + 幢 + 单元 + 室
    expect(c.addresses.some((a) => /^常熟市\S+(路|街|巷|弄|大道)\d+号\S+\d+幢\d+单元\d+室$/.test(String(props(a).full)))).toBe(true);
  });

  it('links room and building addresses to an existing building', () => {
    const ids = new Set(c.buildings.map((f) => props(f).id));
    for (const a of c.addresses) if (props(a).level !== 'door' || props(a).building_id) expect(ids.has(props(a).building_id)).toBe(true);
  });

  it('keeps buildings out of the water and gives plausible heights', () => {
    const water = b.water.map((w) => turf.bbox(w));
    for (const f of c.buildings) {
      const p = props(f);
      expect(['residential', 'commercial', 'industrial', 'public']).toContain(p.use);
      expect(p.height as number).toBeGreaterThanOrEqual((p.floors as number) * 3);
      expect(p.height as number).toBeLessThan((p.floors as number) * 3 + 4.5);
      const bb = turf.bbox(f);
      b.water.forEach((w, k) => {
        const o = water[k];
        if (bb[2] < o[0] || bb[0] > o[2] || bb[3] < o[1] || bb[1] > o[3]) return;
        expect(turf.booleanIntersects(f as GeoJSON.Feature<GeoJSON.Polygon>, w as GeoJSON.Feature<GeoJSON.Polygon>), String(p.id)).toBe(false);
      });
    }
  });

  it('routes roads around the lake, bridges the canal and names main roads after real streets', () => {
    const lake = b.water.find((w) => props(w).kind === 'lake')!;
    let bridged = 0;
    const canal = b.water.find((w) => props(w).kind === 'canal')!;
    for (const r of c.roads) {
      expect(turf.booleanIntersects(r as GeoJSON.Feature<GeoJSON.LineString>, lake as GeoJSON.Feature<GeoJSON.Polygon>), String(props(r).name)).toBe(false);
      if (turf.booleanIntersects(r as GeoJSON.Feature<GeoJSON.LineString>, canal as GeoJSON.Feature<GeoJSON.Polygon>)) bridged++;
      expect(['arterial', 'secondary', 'local', 'lane']).toContain(props(r).class);
    }
    expect(bridged).toBeGreaterThan(0);
    const main = c.roads.filter((r) => ['arterial', 'secondary'].includes(String(props(r).class)));
    const real = main.filter((r) => REAL_ROADS.includes(String(props(r).name)));
    expect(real.length / main.length).toBeGreaterThan(0.5);
    expect(c.roads.some((r) => props(r).name === '海虞北路')).toBe(true);
  });

  it('gives every grid exactly one grid manager with its id, name and phone, inside the grid', () => {
    const managers = c.responders.filter((r) => props(r).kind === 'grid_manager');
    expect(managers.length).toBe(b.grids.length);
    const byGrid = new Map(managers.map((m) => [props(m).grid_code, m]));
    for (const g of b.grids) {
      const gp = props(g), m = byGrid.get(gp.code)!;
      expect(m).toBeDefined();
      expect([props(m).id, props(m).name, props(m).phone]).toEqual([gp.manager_id, gp.manager_name, gp.manager_phone]);
      const [lon, lat] = (m.geometry as GeoJSON.Point).coordinates;
      expect(gridOf(lon, lat)).toContain(gp.code);
    }
    const patrols = c.responders.filter((r) => props(r).kind === 'patrol');
    expect(patrols.length).toBe(Math.round(300 * SCALE));
    for (const p of patrols) expect(['police', 'urban', 'emergency']).toContain(props(p).department);
  });

  it('keeps camera, sensor and facility fields in their valid ranges', () => {
    expect(c.cameras.length).toBe(Math.round(5400 * SCALE));
    for (const f of c.cameras) {
      const p = props(f);
      expect(p.height_m as number).toBeGreaterThanOrEqual(3); expect(p.height_m as number).toBeLessThanOrEqual(12);
      expect(p.heading as number).toBeGreaterThanOrEqual(0); expect(p.heading as number).toBeLessThan(360);
      expect(p.fov as number).toBeGreaterThanOrEqual(30); expect(p.fov as number).toBeLessThanOrEqual(90);
      expect(p.range_m as number).toBeGreaterThanOrEqual(30); expect(p.range_m as number).toBeLessThanOrEqual(150);
      expect(['online', 'offline', 'fault']).toContain(p.status);
      expect(['枪机', '球机', '半球', '人脸卡口']).toContain(p.kind);
      expect(Object.keys(DEPARTMENTS)).toContain(p.department);
      const [lon, lat] = (f.geometry as GeoJSON.Point).coordinates;
      expect(gridOf(lon, lat)).toContain(p.grid_code);
    }
    expect(c.cameras.some((f) => /与.+路口/.test(String(props(f).name)))).toBe(true);
    const kinds = new Set(c.sensors.map((f) => props(f).kind));
    for (const k of ['water_level', 'manhole', 'gas', 'smoke', 'power', 'air_quality', 'bridge_strain', 'noise', 'rain', 'fire_hydrant']) expect(kinds.has(k), k).toBe(true);
    for (const f of [...c.sensors, ...c.facilities]) expect(Object.keys(DEPARTMENTS)).toContain(props(f).department);
    const depts = new Set(c.facilities.map((f) => props(f).department));
    for (const d of ['police', 'fire', 'health', 'emergency', 'water', 'urban', 'ecology', 'power', 'gas', 'market', 'education']) expect(depts.has(d), d).toBe(true);
    for (const f of c.facilities) expect(String(props(f).address)).toMatch(/^常熟市/);
  });

  it('scales counts with opts.scale', () => {
    const big = run(7, SCALE * 2);
    for (const k of ['buildings', 'addresses', 'cameras', 'sensors', 'facilities'] as const) {
      const ratio = big[k].length / c[k].length;
      expect(ratio, k).toBeGreaterThan(1.4);
      expect(ratio, k).toBeLessThan(2.6);
    }
    expect(c.buildings.length).toBeGreaterThanOrEqual(100_000 * SCALE);
    expect(big.responders.filter((r) => props(r).kind === 'grid_manager').length).toBe(b.grids.length);
  }, 60_000);

  it('rejects a bad scale with a message that says what to use', () => {
    expect(() => run(1, 0)).toThrow(/scale must be a positive number/);
  });
});

describe('zhNumber', () => {
  it('writes 0–999 in Chinese numerals so name suffixes never run into house numbers', async () => {
    const { zhNumber } = await import('./names.ts');
    expect([1, 10, 11, 20, 21, 100, 105, 110, 999].map(zhNumber)).toEqual(['一', '十', '十一', '二十', '二十一', '一百', '一百零五', '一百一十', '九百九十九']);
    expect(() => zhNumber(1000)).toThrow(/outside/);
  });
});
