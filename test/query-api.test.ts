// /api/lookup, /api/query (+ exports) and /api/hotspots on the built demo data, against a server started
// with each store: the embedded engine always, PostGIS when TEST_DATABASE_URL is set (scripts/test.sh
// starts it). Without TEST_DATABASE_URL the PostGIS run FAILS unless ONEMAP_SKIP_POSTGIS=1.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFlatGeobuf, type FgbFile } from '../layers/formats/flatgeobuf.ts';
import { MAX_EXPORT_LIMIT, MAX_QUERY_LIMIT } from '../layers/query/types.ts';
import { createRng } from '../scripts/data/rng.ts';
import { pointOnGeometry } from '../tile-server/export-formats.ts';
import { startServer, type RunningServer } from '../tile-server/server.ts';
import { json, raw as rawHttp, type Raw } from './helpers/http.ts';
import { rememberSession, TEST_AUTH, withSession } from './helpers/session.ts';

/** Requests carry the session remembered for their server (signed in right after it starts). */
const raw: typeof rawHttp = (base, path, opts = {}) => rawHttp(base, path, withSession(base, opts));

const DATA = join(process.cwd(), 'geodata/build');

function readFgb(name: string): FgbFile {
  const b = readFileSync(join(DATA, `${name}.fgb`));
  return openFlatGeobuf(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
}

/** The point `d` metres from (lon, lat) along bearing `deg` (local plane; fine for ≤ 200 m). */
function offset(lon: number, lat: number, deg: number, d: number): [number, number] {
  const r = (deg * Math.PI) / 180;
  return [lon + (d * Math.sin(r)) / (111_320 * Math.cos((lat * Math.PI) / 180)), lat + (d * Math.cos(r)) / 110_574];
}

function expectError(r: Raw, status: number, code: string): any {
  expect(r.status, r.body.toString().slice(0, 300)).toBe(status);
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  const e = json(r).error;
  expect(e.code).toBe(code);
  expect(e.message).toMatch(/[\u4e00-\u9fff]/); // Chinese first
  return e;
}

const STORES: { name: string; databaseUrl: string | null }[] = [{ name: 'embedded', databaseUrl: null }];
if (process.env.TEST_DATABASE_URL) STORES.push({ name: 'postgis', databaseUrl: process.env.TEST_DATABASE_URL });

it('PostGIS is part of the run (TEST_DATABASE_URL), or skipped on purpose (ONEMAP_SKIP_POSTGIS=1)', () => {
  if (!process.env.TEST_DATABASE_URL && process.env.ONEMAP_SKIP_POSTGIS !== '1') {
    throw new Error('TEST_DATABASE_URL is not set: start PostgreSQL (npx tsx scripts/pg-local.ts start; npm run db:load) and export TEST_DATABASE_URL, or set ONEMAP_SKIP_POSTGIS=1 to run the embedded store only.');
  }
});

// Fixtures from the FGB files, read once.
let grids: FgbFile, cameras: FgbFile;
let grid: Record<string, any>, gridPoint: [number, number], camera: { id: string; lon: number; lat: number; heading: number; fov: number; range_m: number };
let address: { code: string; full: string; lon: number; lat: number };

beforeAll(() => {
  for (const f of ['grids', 'cameras', 'addresses', 'incidents']) {
    if (!existsSync(join(DATA, `${f}.fgb`))) throw new Error(`geodata/build/${f}.fgb missing: run npm run data first`);
  }
  grids = readFgb('grids');
  cameras = readFgb('cameras');
  const g = grids.feature(Math.floor(grids.count / 2));
  grid = g.properties!;
  gridPoint = pointOnGeometry(g.geometry)!;
  // A narrow, long-range camera, so "in front" and "behind" are far apart.
  for (let i = 0; i < cameras.count; i++) {
    const p = cameras.feature(i).properties!;
    if (p.fov <= 90 && p.range_m >= 60) {
      const [lon, lat] = (cameras.feature(i).geometry as GeoJSON.Point).coordinates;
      camera = { id: p.id, lon, lat, heading: p.heading, fov: p.fov, range_m: p.range_m };
      break;
    }
  }
  const addresses = readFgb('addresses');
  const a = addresses.feature(Math.floor(addresses.count / 3));
  address = { code: a.properties!.code, full: a.properties!.full, lon: (a.geometry as GeoJSON.Point).coordinates[0], lat: (a.geometry as GeoJSON.Point).coordinates[1] };
});

for (const store of STORES) {
  describe(`the query API on the ${store.name} store`, () => {
    let srv: RunningServer;
    const get = (path: string) => raw(srv.url, path);
    const post = (body: unknown, type = 'application/json') =>
      raw(srv.url, '/api/query', { method: 'POST', headers: { 'Content-Type': type }, body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body) });
    const lookup = async (qs: string) => {
      const r = await get(`/api/lookup?${qs}`);
      expect(r.status, r.body.toString().slice(0, 300)).toBe(200);
      return json(r);
    };

    beforeAll(async () => {
      srv = await startServer({ dataDir: DATA, webDir: join(DATA, 'no-web'), port: 0, databaseUrl: store.databaseUrl, ...TEST_AUTH });
      await rememberSession(srv.url);
    });
    afterAll(async () => {
      await srv?.close();
    });

    describe('GET /api/lookup', () => {
      it('names the town, village, grid and its manager at a point inside a grid', async () => {
        const b = await lookup(`lon=${gridPoint[0]}&lat=${gridPoint[1]}`);
        expect(b.store).toBe(store.name);
        expect(b.query).toMatchObject({ lon: gridPoint[0], lat: gridPoint[1], source: 'point' });
        expect(b.grid.code).toBe(grid.code);
        expect(b.grid.name).toBe(grid.name);
        expect(b.grid.manager).toEqual({ id: grid.manager_id, name: grid.manager_name, phone: grid.manager_phone });
        expect(b.village.code).toBe(grid.village_code);
        expect(b.town.code).toBe(grid.town_code);
        expect(b.radiusM).toBe(300);
        expect(b.address === null || b.address.distanceM <= 1000).toBe(true);
        for (const list of ['sensors', 'facilities'] as const) {
          const l = b[list] as { distanceM: number; kind: string }[];
          expect(l.length).toBeLessThanOrEqual(50);
          for (let i = 1; i < l.length; i++) expect(l[i].distanceM).toBeGreaterThanOrEqual(l[i - 1].distanceM);
          for (const x of l) expect(x.distanceM).toBeLessThanOrEqual(300);
          const counted = Object.values(b.nearby[list] as Record<string, number>).reduce((s, n) => s + n, 0);
          expect(counted).toBeGreaterThanOrEqual(l.length);
        }
        const inc = b.incidents as { reported_at: string; distanceM: number }[];
        expect(inc.length).toBeLessThanOrEqual(10);
        for (let i = 1; i < inc.length; i++) expect(inc[i].reported_at <= inc[i - 1].reported_at).toBe(true);
      });

      it('lists a camera for a point in front of it, and not for the point behind it', async () => {
        const ahead = offset(camera.lon, camera.lat, camera.heading, camera.range_m * 0.5);
        const behind = offset(camera.lon, camera.lat, camera.heading + 180, camera.range_m * 0.5);
        const a = await lookup(`lon=${ahead[0]}&lat=${ahead[1]}`);
        const hit = (a.cameras as any[]).find((c) => c.id === camera.id);
        expect(hit, JSON.stringify(camera)).toBeDefined();
        expect(hit).toMatchObject({ heading: camera.heading, fov: camera.fov, range_m: camera.range_m });
        expect(hit.distanceM).toBeGreaterThan(camera.range_m * 0.5 - 2);
        expect(hit.distanceM).toBeLessThan(camera.range_m * 0.5 + 2);
        const b = await lookup(`lon=${behind[0]}&lat=${behind[1]}`);
        expect((b.cameras as any[]).map((c) => c.id)).not.toContain(camera.id);
      });

      it('looks up an address text through the geocoder', async () => {
        const b = await lookup(`address=${encodeURIComponent(address.full)}`);
        expect(b.query.source).toBe('address');
        expect(b.query.address.code).toBe(address.code);
        expect(b.query.lon).toBeCloseTo(address.lon, 6);
        expect(b.address.distanceM).toBeLessThan(1);
        expect(b.grid).not.toBeNull();
      });

      it('looks up a feature: a camera at its own position, a grid at a point inside it', async () => {
        const c = await lookup(`layer=cameras&id=${camera.id}`);
        expect(c.query).toMatchObject({ source: 'feature', lon: camera.lon, lat: camera.lat, feature: { layer: 'cameras', id: camera.id } });
        const g = await lookup(`layer=grids&id=${encodeURIComponent(grid.id)}`);
        expect(g.grid.code).toBe(grid.code);
      });

      it('answers outside the city with null units and empty lists', async () => {
        const b = await lookup('lon=0&lat=0');
        expect(b.town).toBeNull();
        expect(b.village).toBeNull();
        expect(b.grid).toBeNull();
        expect(b.address).toBeNull();
        expect(b.cameras).toEqual([]);
        expect(b.sensors).toEqual([]);
      });

      it('refuses bad coordinates, unknown layers and unknown ids', async () => {
        expectError(await get('/api/lookup?lon=200&lat=31'), 400, 'bad_coordinate');
        expectError(await get('/api/lookup?lon=120.7&lat=abc'), 400, 'bad_coordinate');
        expectError(await get('/api/lookup'), 400, 'bad_coordinate');
        expectError(await get('/api/lookup?layer=nope&id=1'), 400, 'unknown_layer');
        expectError(await get('/api/lookup?layer=cameras&id=cam-nope'), 404, 'not_found');
        expectError(await raw(srv.url, '/api/lookup?lon=1&lat=1', { method: 'POST' }), 405, 'method_not_allowed');
      });
    });

    describe('POST /api/query', () => {
      // A ~1.2 km square around the camera: axis-aligned, so the expected answer is a plain comparison.
      const box = () => {
        const d = 0.006;
        const [w, s, e, n] = [camera.lon - d, camera.lat - d, camera.lon + d, camera.lat + d];
        return { bbox: [w, s, e, n], geometry: { type: 'Polygon', coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]] } };
      };
      const camerasIn = ([w, s, e, n]: number[]) => {
        const ids: string[] = [];
        for (const f of cameras.features()) {
          const [x, y] = (f.geometry as GeoJSON.Point).coordinates;
          if (x >= w && x <= e && y >= s && y <= n) ids.push(f.properties!.id);
        }
        return ids.sort();
      };

      it('counts and returns the cameras inside a polygon, by id', async () => {
        const { bbox, geometry } = box();
        const want = camerasIn(bbox);
        expect(want.length).toBeGreaterThan(0);
        const r = await post({ geometry, layers: ['cameras', 'grids'], predicate: 'intersects' });
        expect(r.status, r.body.toString().slice(0, 300)).toBe(200);
        const b = json(r);
        expect(b.layers[0]).toEqual({ layer: 'cameras', count: want.length, returned: want.length });
        expect(b.layers[1].layer).toBe('grids');
        expect(b.layers[1].count).toBeGreaterThan(0);
        const camIds = b.features.features.filter((f: any) => f.properties.layer === 'cameras').map((f: any) => f.id);
        expect(camIds).toEqual(want);
        expect(b.features.features.find((f: any) => f.properties.layer === 'grids').properties.manager_name).toBeTruthy();
      });

      it('limit caps what is returned, not the count; 0 = counts only', async () => {
        const { geometry } = box();
        const b = json(await post({ geometry, layers: ['cameras'], predicate: 'intersects', limit: 0 }));
        expect(b.layers[0].returned).toBe(0);
        expect(b.layers[0].count).toBeGreaterThan(0);
        expect(b.features.features).toEqual([]);
      });

      it('a circle (point + buffer) finds the cameras within that many metres, nearest distance included', async () => {
        const r = json(await post({ geometry: { type: 'Point', coordinates: [camera.lon, camera.lat] }, buffer: 200, layers: ['cameras'], predicate: 'intersects' }));
        const ids = r.features.features.map((f: any) => f.id);
        expect(ids).toContain(camera.id);
        for (const f of r.features.features) expect(f.properties.distanceM).toBeLessThanOrEqual(200);
        expect(r.shape.type).toMatch(/Polygon/);
      });

      it('a feature as the shape: the cameras in a grid carry that grid code', async () => {
        const b = json(await post({ feature: { layer: 'grids', id: grid.id }, layers: ['cameras'], predicate: 'within' }));
        for (const f of b.features.features) expect(f.properties.grid_code).toBe(grid.code);
        expectError(await post({ feature: { layer: 'grids', id: 'no-such-grid' }, layers: ['cameras'], predicate: 'within' }), 404, 'not_found');
      });

      it('attribute filters and their errors', async () => {
        const { geometry } = box();
        const all = json(await post({ geometry, layers: ['cameras'], predicate: 'intersects' }));
        const on = json(await post({ geometry, layers: ['cameras'], predicate: 'intersects', where: { cameras: [{ field: 'status', op: 'eq', value: 'online' }] } }));
        const want = all.features.features.filter((f: any) => f.properties.status === 'online').map((f: any) => f.id);
        expect(on.features.features.map((f: any) => f.id)).toEqual(want);
        expectError(await post({ geometry, layers: ['cameras'], predicate: 'intersects', where: { cameras: [{ field: 'nope', op: 'eq', value: 1 }] } }), 400, 'bad_filter');
      });

      it('exports CSV with a BOM, Chinese readable as UTF-8, one row per feature', async () => {
        const { bbox, geometry } = box();
        const r = await post({ geometry, layers: ['cameras'], predicate: 'intersects', format: 'csv' });
        expect(r.status).toBe(200);
        expect(r.headers['content-type']).toMatch(/^text\/csv; charset=utf-8/);
        expect(r.headers['content-disposition']).toMatch(/^attachment; filename="onemap-cameras-\d{8}\.csv"/);
        expect([...r.body.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
        const text = new TextDecoder('utf-8', { fatal: true }).decode(r.body.subarray(3));
        const lines = text.split('\r\n').filter(Boolean);
        const header = lines[0].split(',');
        expect(header.slice(0, 4)).toEqual(['layer', 'id', 'lon', 'lat']);
        expect(lines.length - 1).toBe(camerasIn(bbox).length);
        expect(text).toMatch(/[\u4e00-\u9fff]/);
        expect(lines.slice(1).map((l) => l.split(',')[1]).sort()).toEqual(camerasIn(bbox));
      });

      it('exports GeoJSON (streamed) and FlatGeobuf that reads back', async () => {
        const { bbox, geometry } = box();
        const want = camerasIn(bbox);
        const g = await post({ geometry, layers: ['cameras'], predicate: 'intersects', format: 'geojson' });
        expect(g.status).toBe(200);
        expect(g.headers['content-disposition']).toMatch(/\.geojson"/);
        const fc = JSON.parse(g.body.toString('utf8'));
        expect(fc.type).toBe('FeatureCollection');
        expect(fc.features.map((f: any) => f.id).sort()).toEqual(want);
        const f = await post({ geometry, layers: ['cameras'], predicate: 'intersects', format: 'fgb' });
        expect(f.status).toBe(200);
        expect(f.headers['content-type']).toBe('application/flatgeobuf');
        const back = openFlatGeobuf(new Uint8Array(f.body.buffer, f.body.byteOffset, f.body.byteLength));
        expect(back.count).toBe(want.length);
        expect([...back.features()].map((x) => x.properties!.id).sort()).toEqual(want);
        expect(back.search(bbox as [number, number, number, number]).length).toBe(want.length);
        expectError(await post({ geometry, layers: ['cameras', 'grids'], predicate: 'intersects', format: 'fgb' }), 400, 'fgb_one_layer');
      });

      it('refuses bad input with 4xx codes', async () => {
        const { geometry } = box();
        const bowtie = { type: 'Polygon', coordinates: [[[120.7, 31.6], [120.71, 31.61], [120.71, 31.6], [120.7, 31.61], [120.7, 31.6]]] };
        const e = expectError(await post({ geometry: bowtie, layers: ['cameras'], predicate: 'intersects' }), 400, 'invalid_geometry');
        // Where the ring crosses itself (or the vertex starting the offending edge): inside the bowtie's box.
        expect(e.at).toHaveLength(2);
        expect(e.at[0] >= 120.7 && e.at[0] <= 120.71 && e.at[1] >= 31.6 && e.at[1] <= 31.61, JSON.stringify(e.at)).toBe(true);
        expectError(await post({ geometry: { type: 'Point', coordinates: [120.7, 95] }, layers: ['cameras'], predicate: 'intersects' }), 400, 'bad_coordinate');
        expectError(await post({ geometry, layers: ['nope'], predicate: 'intersects' }), 400, 'unknown_layer');
        expectError(await post({ geometry, layers: ['cameras'], predicate: 'overlaps' }), 400, 'bad_predicate');
        expectError(await post({ geometry, layers: ['cameras'], predicate: 'intersects', limit: MAX_QUERY_LIMIT + 1 }), 400, 'limit_too_large');
        expectError(await post({ geometry, layers: ['cameras'], predicate: 'intersects', limit: MAX_EXPORT_LIMIT + 1, format: 'csv' }), 400, 'limit_too_large');
        expectError(await post('{"geometry":', 'application/json'), 400, 'bad_json');
        expectError(await post('geometry=1', 'text/plain'), 415, 'unsupported_media_type');
        expectError(await post(Buffer.alloc(1024 * 1024 + 10, 0x20)), 413, 'body_too_large');
        expectError(await get('/api/query'), 405, 'method_not_allowed');
      });
    });

    describe('GET /api/hotspots', () => {
      it('defaults to the last 30 days of incidents and returns a density grid and clusters', async () => {
        const r = await get('/api/hotspots?layer=incidents');
        expect(r.status, r.body.toString().slice(0, 300)).toBe(200);
        const b = json(r);
        expect(b.window.to).toBe(b.extent.to);
        expect(Date.parse(b.window.to) - Date.parse(b.window.from)).toBe(30 * 86_400_000);
        expect(b.count).toBeGreaterThan(0);
        expect(b.grid.values.length).toBe(b.grid.cols * b.grid.rows);
        expect(b.grid.cols * b.grid.rows).toBeLessThanOrEqual(250_000);
        // Values are sent with 4 significant digits.
        expect(Math.abs(Math.max(...b.grid.values) - b.grid.max) / b.grid.max).toBeLessThan(1e-3);
        for (let i = 1; i < b.clusters.length; i++) expect(b.clusters[i].count).toBeLessThanOrEqual(b.clusters[i - 1].count);
        const c = json(await get(`/api/hotspots?layer=incidents&from=${b.window.from}&to=${b.window.to}&category=1102`));
        expect(c.count).toBeLessThan(b.count);
      });

      it('refuses bad parameters', async () => {
        expectError(await get('/api/hotspots?cell=10'), 400, 'bad_cell');
        expectError(await get('/api/hotspots?bandwidth=1e9'), 400, 'bad_bandwidth');
        expectError(await get('/api/hotspots?cell=50'), 400, 'grid_too_large');
        expectError(await get('/api/hotspots?from=2026-05-02&to=2026-05-01'), 400, 'bad_time');
        expectError(await get('/api/hotspots?category=9999'), 400, 'bad_filter');
        expectError(await get('/api/hotspots?layer=grids'), 400, 'not_point_layer');
        expectError(await get('/api/hotspots?layer=nope'), 400, 'unknown_layer');
        expectError(await get('/api/hotspots?bbox=1,2,3'), 400, 'bad_bbox');
      });
    });

    it('a seeded fuzz of query bodies and lookup URLs never gets a 500', async () => {
      const rng = createRng(20260505).fork(`query-fuzz-${store.name}`);
      const values: unknown[] = [null, 0, -1, 1e309, 'x', '', [], {}, [1, 2], [[1, 2]], true, 120.7, 'intersects', 'cameras', { type: 'Point' },
        { type: 'Point', coordinates: [120.7, 31.6] }, { type: 'Polygon', coordinates: [[[0, 0]]] }, { type: 'LineString', coordinates: [[120.7, 31.6], [120.8, 31.7]] },
        { type: 'GeometryCollection', geometries: [] }, { layer: 'grids', id: 1 }, [{ field: 'status', op: 'in', value: 'x' }], { cameras: [{ field: 'status', op: 'gt', value: [] }] },
        { from: '2026-01-01' }, 'NaN', -0, 50_001];
      const keys = ['geometry', 'feature', 'buffer', 'layers', 'predicate', 'distance', 'where', 'time', 'limit', 'format'];
      const pick = <T>(a: T[]): T => a[Math.floor(rng.next() * a.length)];
      for (let i = 0; i < 120; i++) {
        const body: Record<string, unknown> = { geometry: { type: 'Point', coordinates: [120.75, 31.65] }, layers: ['cameras'], predicate: 'intersects', limit: 5 };
        for (let k = 0; k < 1 + Math.floor(rng.next() * 3); k++) body[pick(keys)] = pick(values);
        if (body.format !== undefined && body.format !== 'json') body.limit = 5;
        const r = await post(body);
        expect(r.status, `${JSON.stringify(body)} → ${r.body.toString().slice(0, 200)}`).toBeLessThan(500);
      }
      const params = ['lon', 'lat', 'address', 'layer', 'id', 'from', 'to', 'cell', 'bandwidth', 'bbox', 'category', 'eps', 'minPts'];
      const pv = ['120.75', '31.65', '-181', '1e3', '%E5%B8%B8', 'cameras', 'grids', 'cam-000001', '', '%00', '2026-01-01', '120.7,31.6,120.8,31.7', '1102', '9'];
      for (let i = 0; i < 120; i++) {
        const qs = Array.from({ length: 1 + Math.floor(rng.next() * 4) }, () => `${pick(params)}=${pick(pv)}`).join('&');
        const path = `/api/${pick(['lookup', 'hotspots'])}?${qs}`;
        const r = await get(path);
        expect(r.status, `${path} → ${r.body.toString().slice(0, 200)}`).toBeLessThan(500);
      }
    });
  });
}
