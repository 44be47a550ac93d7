// The embedded store against the built demo data (skipped, with a note, when `npm run data` has not run).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openFlatGeobuf } from '../../layers/formats/flatgeobuf.ts';
import { fromGeoJSON, locate, INSIDE, OUTSIDE, prepare } from '../../layers/query/geometry.ts';
import { QueryInputError } from '../../layers/query/filters.ts';
import { transformCoords } from '../../layers/crs.ts';
import { createRng } from '../../scripts/data/rng.ts';
import { openEmbeddedStore } from './embedded-store.ts';

const DATA = join(import.meta.dirname, '../../geodata/build');
const built = existsSync(join(DATA, 'grids.fgb')) && existsSync(join(DATA, 'cameras.fgb'));
const read = (f: string) => { const b = readFileSync(join(DATA, f)); return openFlatGeobuf(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)); };

describe.skipIf(!built)('embedded store on the built data', () => {
  it('maps interior points of grids to that grid, with its manager; shared vertices to the smallest code', async () => {
    const store = await openEmbeddedStore(DATA);
    const grids = [...read('grids.fgb').features()];
    const rng = createRng(11).fork('grid-points');
    const polys = grids.map((g) => prepare(fromGeoJSON(g.geometry)));
    for (let k = 0; k < 40; k++) {
      const i = rng.int(0, grids.length - 1);
      const b = polys[i].g.bbox;
      let x = 0, y = 0;
      do { x = b[0] + rng.next() * (b[2] - b[0]); y = b[1] + rng.next() * (b[3] - b[1]); } while (locate(polys[i], x, y) !== INSIDE);
      const hit = await store.adminAt(x, y);
      const p = grids[i].properties!;
      expect(hit.grid?.code).toBe(p.code);
      expect(hit.grid?.manager?.name).toBe(p.manager_name);
      expect(hit.village?.code).toBe(p.village_code);
      expect(hit.town?.code).toBe(p.town_code);
    }
    // A vertex shared by several grids: the smallest code among the grids whose closed polygon holds it.
    const v = polys[0].g.xy;
    for (let k = 0; k < v.length / 2; k += 3) {
      const owners = grids.filter((_, j) => locate(polys[j], v[2 * k], v[2 * k + 1]) !== OUTSIDE).map((g) => String(g.properties!.code)).sort();
      const [code] = await store.gridCodesAt(new Float64Array([v[2 * k]]), new Float64Array([v[2 * k + 1]]));
      expect(code).toBe(owners[0]);
    }
    const out = await store.adminAt(121.5, 31.2);
    expect(out).toEqual({ town: null, village: null, grid: null });
  });

  it('nearest cameras and a polygon query agree with brute force', async () => {
    const store = await openEmbeddedStore(DATA);
    const cams = [...read('cameras.fgb').features()];
    const lon = 120.752, lat = 31.654;
    const gk = (x: number, y: number) => transformCoords('EPSG:4326', 'EPSG:4549', new Float64Array([x, y]));
    const [qx, qy] = gk(lon, lat);
    const want = cams.map((c) => {
      const [x, y] = gk(...(c.geometry as GeoJSON.Point).coordinates as [number, number]);
      return { id: String(c.properties!.id), d: Math.hypot(x - qx, y - qy) };
    }).sort((a, b) => a.d - b.d || (a.id < b.id ? -1 : 1)).slice(0, 10);
    const got = await store.nearest({ layer: 'cameras', lon, lat, k: 10 });
    expect(got.map((h) => h.id)).toEqual(want.map((w) => w.id));
    expect(got[0].distanceM).toBeCloseTo(want[0].d, 6);
    expect(Object.keys(got[0].properties)).toContain('heading');

    const ring = [[120.74, 31.64], [120.77, 31.645], [120.76, 31.67], [120.74, 31.64]];
    const shape = prepare(fromGeoJSON({ type: 'Polygon', coordinates: [ring] }));
    const inside = cams.filter((c) => { const [x, y] = (c.geometry as GeoJSON.Point).coordinates; return locate(shape, x, y) !== OUTSIDE; })
      .map((c) => String(c.properties!.id)).sort();
    const r = await store.query({ layer: 'cameras', geometry: { type: 'Polygon', coordinates: [ring] }, predicate: 'within', limit: 5 });
    expect(r.count).toBe(inside.length);
    expect(r.features.map((f) => f.id)).toEqual(inside.slice(0, 5));
    const online = await store.query({ layer: 'cameras', geometry: { type: 'Polygon', coordinates: [ring] }, predicate: 'intersects', limit: 0,
      where: [{ field: 'status', op: 'eq', value: 'online' }] });
    expect(online.count).toBe(cams.filter((c) => inside.includes(String(c.properties!.id)) && c.properties!.status === 'online').length);
    await expect(store.query({ layer: 'nope', geometry: { type: 'Point', coordinates: [120, 31] }, predicate: 'intersects', limit: 1 }))
      .rejects.toBeInstanceOf(QueryInputError);
    expect(await store.getFeature('cameras', want[0].id)).toMatchObject({ id: want[0].id, layer: 'cameras' });
    expect(await store.getFeature('cameras', 'no-such-id')).toBeNull();
  });
});
