// Builds a small demo city (scale 0.02: full boundaries, few buildings/devices) and checks determinism,
// the real codes, the tiling of the administrative tiers and the terrain.
import * as turf from '@turf/turf';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAYERS } from '../layers/catalog.ts';
import { openFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import { buildData } from '../scripts/build-data.ts';
import { getIncidentCategory } from '../layers/incident-categories.ts';
import { INCIDENT_HISTORY_END } from '../scripts/data/incidents.ts';

const SEED = 20261129;
let root = '';
const dirA = () => join(root, 'a');
const dirB = () => join(root, 'b');
const dirC = () => join(root, 'c');

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) for (const f of await files(join(dir, e.name))) out.push(join(e.name, f));
    else out.push(e.name);
  }
  return out.sort();
}
async function layer(id: string, dir = dirA()): Promise<GeoJSON.Feature[]> {
  return [...openFlatGeobuf(new Uint8Array(await readFile(join(dir, `${id}.fgb`)))).features()];
}
const poly = (f: GeoJSON.Feature) => f as GeoJSON.Feature<GeoJSON.Polygon | GeoJSON.MultiPolygon>;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'onemap-data-'));
  await buildData({ seed: SEED, scale: 0.02, dir: dirA() });
  await buildData({ seed: SEED, scale: 0.02, dir: dirB() });
  await buildData({ seed: SEED + 1, scale: 0.02, dir: dirC() });
});
afterAll(async () => { if (root) await rm(root, { recursive: true, force: true }); });

describe('buildData', () => {
  it('writes every catalog layer, the terrain and the manifest', async () => {
    const names = await files(dirA());
    for (const l of LAYERS) expect(names).toContain(l.fgb);
    expect(names).toEqual(expect.arrayContaining(['manifest.json', join('terrain', 'dem.json'), join('terrain', 'dem.f32')]));
    const manifest = JSON.parse(await readFile(join(dirA(), 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ version: 1, seed: SEED, scale: 0.02 });
    expect(manifest.layers.towns.count).toBe(17);
    expect(manifest.sources.length).toBeGreaterThan(0);
  });

  it('is byte-identical for the same seed and differs for another seed', async () => {
    const names = await files(dirA());
    expect(await files(dirB())).toEqual(names);
    for (const n of names) expect(Buffer.compare(await readFile(join(dirA(), n)), await readFile(join(dirB(), n))), n).toBe(0);
    expect(Buffer.compare(await readFile(join(dirA(), 'grids.fgb')), await readFile(join(dirC(), 'grids.fgb')))).not.toBe(0);
  });

  it('has the 17 real towns and 359 real villages, each village inside its town', async () => {
    const towns = await layer('towns');
    const villages = await layer('villages');
    const source = JSON.parse(await readFile(new URL('../geodata/source/changshu_townships.json', import.meta.url), 'utf8')) as { code: string; name: string }[];
    expect(towns.map((t) => t.properties!.code).sort()).toEqual(source.map((t) => t.code).sort());
    expect(villages).toHaveLength(359);
    const townBy = new Map(towns.map((t) => [t.properties!.code as string, t]));
    for (const v of villages) {
      const tc = v.properties!.town_code as string;
      expect(String(v.properties!.code).startsWith(tc)).toBe(true);
      expect(townBy.has(tc)).toBe(true);
    }
    // Containment on a sample (every 12th village): nearly all of its area lies in its own town.
    for (let i = 0; i < villages.length; i += 12) {
      const v = poly(villages[i]);
      const inTown = turf.intersect(turf.featureCollection([v, poly(townBy.get(v.properties!.town_code as string)!)]));
      expect(inTown ? turf.area(inTown) / turf.area(v) : 0, String(v.properties!.code)).toBeGreaterThan(0.999);
    }
  });

  it('tiles the city with towns: no gaps or overlaps over 0.1 %', async () => {
    const [city] = await layer('city');
    const towns = (await layer('towns')).map(poly);
    const cityArea = turf.area(poly(city));
    const sum = towns.reduce((s, t) => s + turf.area(t), 0);
    expect(Math.abs(sum - cityArea) / cityArea).toBeLessThan(0.001);
    // Overlap check on pairs of towns whose boxes touch (a sample keeps the test quick).
    let checked = 0;
    for (let i = 0; i < towns.length && checked < 12; i++) {
      for (let j = i + 1; j < towns.length && checked < 12; j++) {
        const [a, b] = [turf.bbox(towns[i]), turf.bbox(towns[j])];
        if (a[0] > b[2] || b[0] > a[2] || a[1] > b[3] || b[1] > a[3]) continue;
        const x = turf.intersect(turf.featureCollection([towns[i], towns[j]]));
        expect(x ? turf.area(x) : 0).toBeLessThan(cityArea * 1e-5);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(5);
  });

  it('has 1,500–2,500 grids coded village + 3 digits, with one manager each', async () => {
    const grids = await layer('grids');
    const villages = new Set((await layer('villages')).map((v) => v.properties!.code));
    expect(grids.length).toBeGreaterThanOrEqual(1500);
    expect(grids.length).toBeLessThanOrEqual(2500);
    const codes = new Set<string>();
    for (const g of grids) {
      const p = g.properties!;
      expect(p.code).toMatch(/^\d{15}$/);
      expect(String(p.code).slice(0, 12)).toBe(p.village_code);
      expect(villages.has(p.village_code)).toBe(true);
      expect(p.manager_id).toBe(`gm-${p.code}`);
      expect(p.manager_name).toMatch(/^\p{Script=Han}{2,3}$/u);
      expect(p.manager_phone).toMatch(/^100-\d{4}-\d{4}$/);
      codes.add(p.code as string);
    }
    expect(codes.size).toBe(grids.length);
  });

  it('gives every feature an id and marks generated features synthetic', async () => {
    for (const l of LAYERS) {
      const feats = await layer(l.id);
      const generated = l.fields.some((f) => f.name === 'synthetic');
      const ids = new Set<string>();
      for (const f of feats) {
        expect(typeof f.properties!.id, `${l.id} id`).toBe('string');
        ids.add(f.properties!.id as string);
        if (generated) expect(f.properties!.synthetic, `${l.id} ${f.properties!.id}`).toBe(true);
      }
      expect(ids.size, `${l.id} ids unique`).toBe(feats.length);
    }
  });

  // H3 (issue 10): the hazardous-chemical sites lie in the grid (and town) their codes name.
  it('puts each hazardous-chemical site inside the grid its grid_code names', async () => {
    const grids = new Map((await layer('grids')).map((g) => [g.properties!.code as string, poly(g)]));
    const sites = await layer('hazards');
    expect(sites.length).toBeGreaterThan(0);
    for (const s of sites) {
      const p = s.properties!;
      expect(String(p.town_code), String(p.id)).toBe(String(p.grid_code).slice(0, 9));
      expect(turf.booleanPointInPolygon(s.geometry as GeoJSON.Point, grids.get(String(p.grid_code))!), String(p.id)).toBe(true);
    }
  });

  it('puts the water and the places where they belong', async () => {
    const water = await layer('water');
    const names = water.map((w) => w.properties!.name);
    expect(names).toEqual(expect.arrayContaining(['长江', '尚湖', '昆承湖', '望虞河', '白茆塘', '元和塘', '常浒河']));
    const area = (n: string) => turf.area(poly(water.find((w) => w.properties!.name === n)!)) / 1e6;
    expect(area('尚湖')).toBeGreaterThan(7);
    expect(area('尚湖')).toBeLessThan(9);
    expect(area('昆承湖')).toBeGreaterThan(17);
    expect(area('昆承湖')).toBeLessThan(20);
    const places = await layer('places');
    expect(places.filter((p) => p.properties!.kind === 'village')).toHaveLength(359);
    expect(places.filter((p) => p.properties!.rank === 2 && p.properties!.kind === 'town')).toHaveLength(17);
    expect(places.some((p) => /委会$/.test(String(p.properties!.name)))).toBe(false);
  });

  it('has a year of incidents on standard addresses, with known categories and consistent times', async () => {
    const incidents = await layer('incidents');
    // Rooms share their building's point, so one point can hold several addresses.
    const addresses = new Map<string, GeoJSON.GeoJsonProperties[]>();
    for (const a of await layer('addresses')) {
      const k = (a.geometry as GeoJSON.Point).coordinates.join(',');
      addresses.set(k, [...(addresses.get(k) ?? []), a.properties]);
    }
    expect(incidents.length).toBeGreaterThan(100);
    const ids = new Set<string>();
    const months = new Set<string>();
    for (const f of incidents) {
      const p = f.properties!;
      ids.add(String(p.id));
      const cat = getIncidentCategory(String(p.category));
      expect(cat, String(p.category)).toBeDefined();
      expect(p.category_name).toBe(cat!.name);
      const t = Date.parse(String(p.reported_at));
      expect(t).toBeLessThan(INCIDENT_HISTORY_END);
      expect(t).toBeGreaterThanOrEqual(INCIDENT_HISTORY_END - 366 * 86_400_000);
      months.add(String(p.reported_at).slice(0, 7));
      if (p.status === 'closed') expect(Date.parse(String(p.closed_at))).toBeGreaterThan(t);
      else expect(p.closed_at).toBeUndefined();
      // located on a standard address: same point, same grid
      const a = addresses.get((f.geometry as GeoJSON.Point).coordinates.join(','))?.find((x) => x?.full === p.address);
      expect(a, `${p.id} ${p.address}`).toBeDefined();
      expect(p.grid_code).toBe(a!.grid_code);
    }
    expect(ids.size).toBe(incidents.length);
    expect(months.size).toBeGreaterThanOrEqual(12);
  });

  it('has a terrain grid whose highest point is 虞山', async () => {
    const meta = JSON.parse(await readFile(join(dirA(), 'terrain', 'dem.json'), 'utf8'));
    expect(meta).toMatchObject({ version: 1, unit: 'm', source: 'ASTER GDEM v3, NASA/METI' });
    const buf = await readFile(join(dirA(), 'terrain', 'dem.f32'));
    expect(buf.length).toBe(meta.width * meta.height * 4);
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let max = -Infinity, at = 0;
    for (let i = 0; i < meta.width * meta.height; i++) { const h = dv.getFloat32(i * 4, true); if (h > max) { max = h; at = i; } }
    const lon = meta.west + ((at % meta.width) + 0.5) * ((meta.east - meta.west) / meta.width);
    const lat = meta.north - (Math.floor(at / meta.width) + 0.5) * ((meta.north - meta.south) / meta.height);
    expect(max).toBeGreaterThan(150);
    expect(turf.distance([lon, lat], [120.700, 31.667])).toBeLessThan(1.5);
  });
});
