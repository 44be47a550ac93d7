// The tile server against a small fixture data folder: every route's happy path with its headers, and
// every class of bad input answering with the right 4xx JSON error (never a 500, never a file outside
// the data and web folders).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bboxPolygon, booleanIntersects } from '@turf/turf';
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import { PMTiles, FetchSource, type Source, type RangeResponse } from 'pmtiles';
import { deserialize } from 'flatgeobuf/lib/mjs/geojson.js';
import { LAYERS, getLayer, TILESETS } from '../layers/catalog.ts';
import { startServer, type RunningServer } from '../tile-server/server.ts';
import { buildFixture, type Fixture } from './helpers/fixture-data.ts';
import { createRng } from '../scripts/data/rng.ts';
import { json, raw as rawHttp, type Raw } from './helpers/http.ts';
import { rememberSession, TEST_AUTH, withSession } from './helpers/session.ts';

/** Requests carry the session remembered for their server (signed in right after it starts). */
const raw: typeof rawHttp = (base, path, opts = {}) => rawHttp(base, path, withSession(base, opts));



let fx: Fixture;
let srv: RunningServer;
let get: (path: string, headers?: Record<string, string>) => Promise<Raw>;
const GZ = { 'Accept-Encoding': 'gzip, deflate, br' };

beforeAll(async () => {
  fx = await buildFixture({ web: true });
  srv = await startServer({ dataDir: fx.dir, webDir: fx.webDir, port: 0, ...TEST_AUTH });
  await rememberSession(srv.url);
  get = (path, headers) => raw(srv.url, path, { headers });
});

afterAll(async () => {
  await srv?.close();
  await fx?.cleanup();
});

/** Tile indices covering the fixture bounds at zoom z. */
function tileRange(z: number): { x0: number; x1: number; y0: number; y1: number } {
  const n = 2 ** z;
  const [w, s, e, nn] = fx.bounds;
  const tx = (lon: number) => Math.floor(((lon + 180) / 360) * n);
  const ty = (lat: number) => Math.floor(((1 - Math.asinh(Math.tan((lat * Math.PI) / 180)) / Math.PI) / 2) * n);
  return { x0: tx(w), x1: tx(e), y0: ty(nn), y1: ty(s) };
}

/** A pmtiles-package Source over the archive file, to check our reader against the reference one. */
function fileSource(bytes: Buffer, key: string): Source {
  return {
    getKey: () => key,
    getBytes: async (offset: number, length: number): Promise<RangeResponse> => ({
      data: bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + offset + length) as ArrayBuffer,
    }),
  };
}

describe('health and TileJSON', () => {
  it('/healthz lists the tilesets and layers found', async () => {
    const r = await get('/healthz');
    expect(r.status).toBe(200);
    const h = json(r);
    expect(h.status).toBe('ok');
    expect(h.tilesets).toEqual(['basemap', 'overlay']);
    expect(new Set(h.layers)).toEqual(new Set(['towns', 'roads', 'facilities']));
    expect(typeof h.uptime).toBe('number');
  });

  it('TileJSON 3.0.0 describes the archive, with tile URLs on the Host the client used', async () => {
    for (const name of TILESETS) {
      const r = await get(`/tiles/${name}.json`);
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toMatch(/^application\/json/);
      expect(r.headers['access-control-allow-origin']).toBe('*');
      const tj = json(r);
      expect(tj.tilejson).toBe('3.0.0');
      expect(tj.tiles).toEqual([`${srv.url}/tiles/${name}/{z}/{x}/{y}.mvt`]);
      expect(tj.minzoom).toBe(fx.minZoom);
      expect(tj.maxzoom).toBe(fx.maxZoom);
      tj.bounds.forEach((v: number, i: number) => expect(v).toBeCloseTo(fx.bounds[i], 6));
      expect(tj.center).toHaveLength(3);
      expect(tj.name).toBe(`fixture ${name}`);
      expect(tj.attribution).toBe('测试数据 test fixture');
      expect(tj.vector_layers.map((l: { id: string }) => l.id)).toEqual([name === 'basemap' ? 'roads' : 'towns']);
    }
    const proxied = json(await get('/tiles/overlay.json', { Host: 'maps.example.test:8443', 'X-Forwarded-Proto': 'https' }));
    expect(proxied.tiles[0]).toBe('https://maps.example.test:8443/tiles/overlay/{z}/{x}/{y}.mvt');
    const hostile = json(await get('/tiles/overlay.json', { Host: 'evil.test/"><script>' }));
    expect(hostile.tiles[0]).toBe(`${srv.url}/tiles/overlay/{z}/{x}/{y}.mvt`);
  });
});

describe('vector tiles', () => {
  it('serves every stored tile gzip-compressed, byte-identical to the pmtiles reference reader', async () => {
    for (const name of TILESETS) {
      const file = await readFile(join(fx.dir, `${name}.pmtiles`));
      const ref = new PMTiles(fileSource(file, name));
      for (const key of fx.tiles[name]) {
        const [z, x, y] = key.split('/').map(Number);
        const r = await get(`/tiles/${name}/${key}.mvt`, GZ);
        expect(r.status, key).toBe(200);
        expect(r.headers['content-encoding']).toBe('gzip');
        expect(r.headers['content-type']).toBe('application/vnd.mapbox-vector-tile');
        const expected = await ref.getZxy(z, x, y);
        expect(Buffer.from(gunzipSync(r.body)).equals(Buffer.from(expected!.data)), key).toBe(true);
      }
    }
  });

  it('tiles decode as MVT with the catalog source layer and Chinese names', async () => {
    const key = [...fx.tiles.overlay].find((k) => k.startsWith('12/'))!;
    const r = await get(`/tiles/overlay/${key}.mvt`, GZ);
    const vt = new VectorTile(new PbfReader(gunzipSync(r.body)));
    const layer = vt.layers[getLayer('towns')!.tiles!.sourceLayer];
    expect(layer.length).toBeGreaterThan(0);
    const names = new Set(Array.from({ length: layer.length }, (_, i) => layer.feature(i).properties.name));
    expect([...names].some((n) => fx.towns.some((t) => t.properties!.name === n))).toBe(true);
  });

  it('sends a strong ETag, caching headers and CORS; 304 on If-None-Match; HEAD has no body', async () => {
    const key = [...fx.tiles.basemap][0];
    const path = `/tiles/basemap/${key}.mvt`;
    const a = await get(path, GZ);
    const etag = a.headers.etag as string;
    expect(etag).toMatch(/^"[^"]+"$/);
    expect(a.headers['cache-control']).toMatch(/public, max-age=\d+/);
    expect(a.headers['access-control-allow-origin']).toBe('*');
    expect(a.headers.vary).toBe('Accept-Encoding');
    expect(Number(a.headers['content-length'])).toBe(a.body.length);
    const again = await get(path, GZ);
    expect(again.headers.etag).toBe(etag);
    expect(again.body.equals(a.body)).toBe(true);
    const nm = await get(path, { ...GZ, 'If-None-Match': etag });
    expect(nm.status).toBe(304);
    expect(nm.body.length).toBe(0);
    expect(nm.headers.etag).toBe(etag);
    expect((await get(path, { ...GZ, 'If-None-Match': `"other", W/${etag}` })).status).toBe(304);
    expect((await get(path, { ...GZ, 'If-None-Match': '"other"' })).status).toBe(200);
    const head = await raw(srv.url, path, { method: 'HEAD', headers: GZ });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers['content-length']).toBe(a.headers['content-length']);
  });

  it('inflates for clients without gzip in Accept-Encoding', async () => {
    const key = [...fx.tiles.basemap][1];
    const gz = await get(`/tiles/basemap/${key}.mvt`, GZ);
    for (const headers of [{}, { 'Accept-Encoding': 'identity' }, { 'Accept-Encoding': 'gzip;q=0, br' }] as Record<string, string>[]) {
      const plain = await get(`/tiles/basemap/${key}.mvt`, headers);
      expect(plain.status).toBe(200);
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.body.equals(gunzipSync(gz.body))).toBe(true);
    }
  });

  it('204 for an empty tile inside bounds and zooms; 404 outside bounds or zooms', async () => {
    const { x0, x1, y0, y1 } = tileRange(14);
    let empty: string | undefined;
    for (let x = x0; x <= x1 && !empty; x++) for (let y = y0; y <= y1 && !empty; y++) if (!fx.tiles.basemap.has(`14/${x}/${y}`)) empty = `14/${x}/${y}`;
    expect(empty, 'fixture should have an empty z14 tile in bounds').toBeDefined();
    const r = await get(`/tiles/basemap/${empty}.mvt`, GZ);
    expect(r.status).toBe(204);
    expect(r.body.length).toBe(0);
    expect(r.headers['access-control-allow-origin']).toBe('*');
    expect((await get(`/tiles/basemap/${empty}.mvt`, GZ)).status).toBe(204); // cached answer agrees

    const out = await get(`/tiles/basemap/14/${x0 - 5}/${y0}.mvt`);
    expect(out.status).toBe(404);
    expect(json(out).error.code).toBe('tile_out_of_bounds');
    const world = await get('/tiles/basemap/8/0/0.mvt');
    expect(json(world).error.code).toBe('tile_out_of_bounds');
    const tooDeep = await get(`/tiles/basemap/15/${x0 * 2}/${y0 * 2}.mvt`);
    expect(tooDeep.status).toBe(404);
    expect(json(tooDeep).error.code).toBe('tile_out_of_range');
    expect(json(await get('/tiles/basemap/3/6/3.mvt')).error.code).toBe('tile_out_of_range');
  });
});

describe('archives and FlatGeobuf files over HTTP ranges', () => {
  it('serves the PMTiles archive with Range, 416, HEAD and ETag, readable by pmtiles FetchSource', async () => {
    const file = await readFile(join(fx.dir, 'basemap.pmtiles'));
    const full = await get('/pmtiles/basemap.pmtiles');
    expect(full.status).toBe(200);
    expect(full.body.equals(file)).toBe(true);
    expect(full.headers['accept-ranges']).toBe('bytes');
    const etag = full.headers.etag as string;
    expect(etag).toMatch(/^"/);
    const part = await get('/pmtiles/basemap.pmtiles', { Range: 'bytes=0-126' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 0-126/${file.length}`);
    expect(part.body.equals(file.subarray(0, 127))).toBe(true);
    const tail = await get('/pmtiles/basemap.pmtiles', { Range: 'bytes=-10' });
    expect(tail.body.equals(file.subarray(file.length - 10))).toBe(true);
    const bad = await get('/pmtiles/basemap.pmtiles', { Range: `bytes=${file.length}-` });
    expect(bad.status).toBe(416);
    expect(bad.headers['content-range']).toBe(`bytes */${file.length}`);
    expect(json(bad).error.code).toBe('range_not_satisfiable');
    expect((await get('/pmtiles/basemap.pmtiles', { 'If-None-Match': etag })).status).toBe(304);
    const stale = await get('/pmtiles/basemap.pmtiles', { Range: 'bytes=0-9', 'If-Range': '"old"' });
    expect(stale.status).toBe(200);
    const head = await raw(srv.url, '/pmtiles/basemap.pmtiles', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBe(file.length);
    expect(head.body.length).toBe(0);

    const remote = new PMTiles(new FetchSource(`${srv.url}/pmtiles/basemap.pmtiles`));
    const key = [...fx.tiles.basemap][2];
    const [z, x, y] = key.split('/').map(Number);
    const viaRange = await remote.getZxy(z, x, y);
    const viaTiles = await get(`/tiles/basemap/${key}.mvt`, GZ);
    expect(Buffer.from(viaRange!.data).equals(gunzipSync(viaTiles.body))).toBe(true);
  });

  it('serves layer FlatGeobuf files so flatgeobuf’s HTTP reader can bbox-read them', async () => {
    const file = await readFile(join(fx.dir, 'facilities.fgb'));
    const full = await get('/data/facilities.fgb');
    expect(full.status).toBe(200);
    expect(full.body.equals(file)).toBe(true);
    expect(full.headers['content-type']).toBe('application/flatgeobuf');
    const part = await get('/data/facilities.fgb', { Range: 'bytes=8-15' });
    expect(part.status).toBe(206);
    expect(part.body.equals(file.subarray(8, 16))).toBe(true);
    const rect = { minX: 120.74, minY: 31.62, maxX: 120.77, maxY: 31.65 };
    const got: string[] = [];
    for await (const f of deserialize(`${srv.url}/data/facilities.fgb`, { rect, headers: withSession(srv.url).headers })) got.push(String(f.properties?.id));
    const expected = fx.facilities.filter((f) => {
      const [lon, lat] = (f.geometry as GeoJSON.Point).coordinates;
      return lon >= rect.minX && lon <= rect.maxX && lat >= rect.minY && lat <= rect.maxY;
    }).map((f) => String(f.properties!.id));
    expect(expected.length).toBeGreaterThan(3);
    expect(got.sort()).toEqual(expected.sort());
  });
});

describe('OGC API – Features', () => {
  it('landing page, conformance and OpenAPI', async () => {
    const land = json(await get('/ogc'));
    const rels = new Map(land.links.map((l: { rel: string; href: string }) => [l.rel, l.href]));
    expect(rels.get('self')).toBe(`${srv.url}/ogc`);
    expect(rels.get('conformance')).toBe(`${srv.url}/ogc/conformance`);
    expect(rels.get('data')).toBe(`${srv.url}/ogc/collections`);
    expect(rels.get('service-desc')).toBe(`${srv.url}/ogc/api`);
    expect(json(await get('/ogc/?f=json')).links).toEqual(land.links);
    const conf = json(await get('/ogc/conformance')).conformsTo;
    expect(conf).toContain('http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core');
    expect(conf).toContain('http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson');
    expect(conf).toContain('http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30');
    const api = await get('/ogc/api');
    expect(api.headers['content-type']).toMatch(/openapi/);
    expect(json(api).paths['/collections/{collectionId}/items']).toBeDefined();
  });

  it('collections carry catalog titles, CRS84 extents and items links', async () => {
    const body = json(await get('/ogc/collections'));
    const ids = body.collections.map((c: { id: string }) => c.id);
    expect(ids).toEqual(LAYERS.filter((l) => ['towns', 'roads', 'facilities'].includes(l.id)).map((l) => l.id));
    for (const c of body.collections) {
      expect(c.title).toBe(getLayer(c.id)!.title);
      expect(c.extent.spatial.crs).toBe('http://www.opengis.net/def/crs/OGC/1.3/CRS84');
      const [w, s, e, n] = c.extent.spatial.bbox[0];
      expect(w).toBeGreaterThanOrEqual(fx.bounds[0]);
      expect(e).toBeLessThanOrEqual(fx.bounds[2]);
      expect(s).toBeGreaterThanOrEqual(fx.bounds[1]);
      expect(n).toBeLessThanOrEqual(fx.bounds[3]);
      expect(c.links.find((l: { rel: string }) => l.rel === 'items').href).toBe(`${srv.url}/ogc/collections/${c.id}/items`);
    }
    expect(json(await get('/ogc/collections/towns')).title).toBe('镇（街道）');
  });

  /** Follows `next` links from `path`; returns the feature ids in order. */
  async function pageAll(path: string): Promise<{ ids: string[]; pages: number; matched: number }> {
    let url: string | undefined = path;
    const ids: string[] = [];
    let pages = 0;
    let matched = -1;
    while (url) {
      const r = await get(url.replace(srv.url, ''));
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('application/geo+json');
      const fc = json(r);
      expect(fc.type).toBe('FeatureCollection');
      expect(fc.numberReturned).toBe(fc.features.length);
      expect(Number.isNaN(Date.parse(fc.timeStamp))).toBe(false);
      if (matched >= 0) expect(fc.numberMatched).toBe(matched);
      matched = fc.numberMatched;
      for (const f of fc.features) {
        expect(f.id).toBe(f.properties.id);
        ids.push(f.id);
      }
      url = fc.links.find((l: { rel: string }) => l.rel === 'next')?.href;
      pages++;
      expect(pages).toBeLessThan(100);
    }
    return { ids, pages, matched };
  }

  it('pages through all features exactly once following next links', async () => {
    const all = await pageAll('/ogc/collections/facilities/items?limit=50');
    expect(all.pages).toBe(6);
    expect(all.matched).toBe(257);
    expect(all.ids).toHaveLength(257);
    expect(new Set(all.ids)).toEqual(new Set(fx.facilities.map((f) => f.properties!.id)));
    const dflt = json(await get('/ogc/collections/facilities/items'));
    expect(dflt.numberReturned).toBe(100);
    const clamped = json(await get('/ogc/collections/facilities/items?limit=20000'));
    expect(clamped.numberReturned).toBe(257);
    expect(clamped.links.find((l: { rel: string }) => l.rel === 'self').href).toContain('limit=10000');
    const past = json(await get('/ogc/collections/facilities/items?offset=1000'));
    expect(past.numberReturned).toBe(0);
    expect(past.links.some((l: { rel: string }) => l.rel === 'next')).toBe(false);
  });

  it('bbox filtering equals a brute-force intersects test (turf), across pages', async () => {
    const rng = createRng('ogc-bbox');
    const boxes: [number, number, number, number][] = [
      [120.70, 31.60, 120.82, 31.70], // everything
      [120.754, 31.617, 120.766, 31.633], // inside the hole of town 2 → that town must not match
      [0, 0, 1, 1], // nothing
    ];
    for (let i = 0; i < 6; i++) {
      const w = rng.range(120.69, 120.80);
      const s = rng.range(31.59, 31.68);
      boxes.push([w, s, w + rng.range(0.001, 0.04), s + rng.range(0.001, 0.03)]);
    }
    for (const [id, features] of [['towns', fx.towns], ['roads', fx.roads], ['facilities', fx.facilities]] as const) {
      for (const b of boxes) {
        const poly = bboxPolygon(b);
        const expected = features.filter((f) => booleanIntersects(f, poly)).map((f) => f.properties!.id as string);
        const got = await pageAll(`/ogc/collections/${id}/items?bbox=${b.join(',')}&limit=7`);
        expect(got.matched, `${id} ${b}`).toBe(expected.length);
        expect([...got.ids].sort(), `${id} ${b}`).toEqual([...expected].sort());
      }
    }
    const hole = json(await get('/ogc/collections/towns/items?bbox=120.754,31.617,120.766,31.633'));
    expect(hole.features.map((f: { properties: { name: string } }) => f.properties.name)).not.toContain('常福街道');
  });

  it('single items by id, 404 for absent ids', async () => {
    const town = fx.towns[3];
    const r = await get(`/ogc/collections/towns/items/${encodeURIComponent(town.properties!.id)}`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/geo+json');
    const f = json(r);
    expect(f.type).toBe('Feature');
    expect(f.id).toBe(town.properties!.id);
    expect(f.properties.name).toBe(town.properties!.name);
    expect(f.geometry).toEqual(town.geometry);
    const missing = await get(`/ogc/collections/towns/items/${encodeURIComponent('不存在-1')}`);
    expect(missing.status).toBe(404);
    expect(json(missing).error.code).toBe('unknown_feature');
  });
});

describe('static web app', () => {
  it('serves index.html, assets with content types and long caching for hashed names, SPA fallback', async () => {
    const index = await get('/');
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.body.toString()).toContain('一张图');
    const js = await get('/assets/index-AbCd1234.js');
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toContain('immutable');
    const css = await get('/assets/style-Zz9_x-12.css');
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const svg = await get('/favicon.svg');
    expect(svg.headers['content-type']).toBe('image/svg+xml');
    expect(svg.headers['cache-control']).toBe('no-cache');
    expect((await get('/favicon.svg', { 'If-None-Match': svg.headers.etag as string })).status).toBe(304);
    const route = await get('/incidents/42');
    expect(route.status).toBe(200);
    expect(route.body.equals(index.body)).toBe(true);
    const missing = await get('/assets/nope-12345678.js');
    expect(missing.status).toBe(404);
    expect(json(missing).error.code).toBe('not_found');
  });

  it('without a built web app, / explains how to build it (in Chinese first)', async () => {
    const bare = await startServer({ dataDir: fx.dir, webDir: join(fx.dir, 'no-web'), port: 0, ...TEST_AUTH });
    await rememberSession(bare.url);
    try {
      const r = await raw(bare.url, '/');
      expect(r.status).toBe(200);
      const html = r.body.toString();
      expect(html).toContain('npm run build:web');
      expect(html).toContain('网页尚未构建');
    } finally {
      await bare.close();
    }
  });
});

describe('bad input → 4xx JSON error, never 500, never a file outside the served folders', () => {
  const cases: [string, number, string][] = [
    ['/tiles/basemap/a/1/1.mvt', 400, 'bad_tile_coords'],
    ['/tiles/basemap/1.5/0/0.mvt', 400, 'bad_tile_coords'],
    ['/tiles/basemap/-1/0/0.mvt', 400, 'bad_tile_coords'],
    ['/tiles/basemap/1/2/0.mvt', 400, 'bad_tile_coords'],
    ['/tiles/basemap/1/0/5.mvt', 400, 'bad_tile_coords'],
    ['/tiles/basemap/31/0/0.mvt', 400, 'bad_tile_coords'],
    ['/tiles/basemap/12/1e3/1.mvt', 400, 'bad_tile_coords'],
    ['/tiles/basemap/12/1/1.png', 400, 'bad_tile_format'],
    ['/tiles/nope/12/1/1.mvt', 404, 'unknown_tileset'],
    ['/tiles/nope.json', 404, 'unknown_tileset'],
    ['/tiles/basemap', 404, 'not_found'],
    ['/pmtiles/nope.pmtiles', 404, 'unknown_tileset'],
    ['/pmtiles/Basemap.pmtiles', 404, 'unknown_tileset'],
    ['/data/nope.fgb', 404, 'unknown_layer'],
    ['/data/cameras.fgb', 404, 'unknown_layer'], // in the catalog but not built in the fixture
    ['/ogc/collections/nope', 404, 'unknown_collection'],
    ['/ogc/collections/nope/items', 404, 'unknown_collection'],
    ['/ogc/collections/towns/items/nope', 404, 'unknown_feature'],
    ['/ogc/collections/towns/things', 404, 'not_found'],
    ['/ogc/nope', 404, 'not_found'],
    ['/ogc/collections/towns/items?bbox=1,2,3', 400, 'bad_bbox'],
    ['/ogc/collections/towns/items?bbox=a,b,c,d', 400, 'bad_bbox'],
    ['/ogc/collections/towns/items?bbox=10,0,5,1', 400, 'bad_bbox'],
    ['/ogc/collections/towns/items?bbox=0,1,1,0', 400, 'bad_bbox'],
    ['/ogc/collections/towns/items?bbox=0,0,200,1', 400, 'bad_bbox'],
    ['/ogc/collections/towns/items?bbox=0,-95,1,1', 400, 'bad_bbox'],
    ['/ogc/collections/towns/items?bbox=', 400, 'bad_bbox'],
    ['/ogc/collections/towns/items?limit=0', 400, 'bad_limit'],
    ['/ogc/collections/towns/items?limit=-1', 400, 'bad_limit'],
    ['/ogc/collections/towns/items?limit=abc', 400, 'bad_limit'],
    ['/ogc/collections/towns/items?limit=1.5', 400, 'bad_limit'],
    ['/ogc/collections/towns/items?limit=99999999999999999999', 400, 'bad_limit'],
    ['/ogc/collections/towns/items?offset=-1', 400, 'bad_offset'],
    ['/ogc/collections/towns/items?offset=1.5', 400, 'bad_offset'],
    ['/ogc/collections/towns/items?offset=99999999999', 400, 'bad_offset'],
    ['/ogc/collections/towns/items?foo=1', 400, 'unknown_param'],
    ['/ogc/collections/towns/items?bbox-crs=EPSG:3857&bbox=0,0,1,1', 400, 'bad_bbox_crs'],
    ['/ogc/collections/towns/items?f=html', 400, 'bad_format'],
    ['/ogc?f=xml', 400, 'bad_format'],
    ['/pmtiles/../package.json', 400, 'bad_path'],
    ['/pmtiles/..%2f..%2fpackage.json', 400, 'bad_path'],
    ['/pmtiles/%2e%2e/%2e%2e/package.json', 400, 'bad_path'],
    ['/data/%2E%2E%2F%2E%2E%2Fpackage.json', 400, 'bad_path'],
    ['/..%5c..%5cpackage.json', 400, 'bad_path'],
    ['/assets/..\\..\\package.json', 400, 'bad_path'],
    ['/../../../etc/passwd', 400, 'bad_path'],
    ['/%2e%2e/%2e%2e/%2e%2e/etc/passwd', 400, 'bad_path'],
    ['/pmtiles/basemap.pmtiles%00.txt', 400, 'bad_path'],
    ['/index.html%00', 400, 'bad_path'],
    ['/%E0%A4%A', 400, 'bad_path'],
    ['/package.json', 404, 'not_found'],
    ['/' + 'x'.repeat(5000), 414, 'uri_too_long'],
  ];

  it.each(cases.map(([p, st, c]) => [p.length > 80 ? `${p.slice(0, 40)}…(${p.length} chars)` : p, st, c, p] as const))('%s → %i %s', async (_name, status, code, path) => {
    const r = await get(path);
    expect(r.status).toBe(status);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    const body = json(r);
    expect(body.error.code).toBe(code);
    expect(body.error.message.length).toBeGreaterThan(10);
    expect(r.body.toString()).not.toContain('"name": "onemap"');
    expect(r.body.toString()).not.toContain('root:');
  });

  it('unknown methods get 405 with Allow; OPTIONS is a CORS preflight', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const r = await raw(srv.url, '/tiles/basemap.json', { method });
      expect(r.status).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD, OPTIONS');
      expect(json(r).error.code).toBe('method_not_allowed');
    }
    const pre = await raw(srv.url, '/tiles/basemap/12/1/1.mvt', { method: 'OPTIONS' });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('*');
  });

  it('seeded garbage URLs never produce a 500 or leak a file', async () => {
    const rng = createRng('url-fuzz');
    const pieces = ['tiles', 'basemap', 'overlay', 'ogc', 'collections', 'towns', 'items', 'pmtiles', 'data', 'healthz', 'assets',
      '..', '%2e%2e', '%2f', '%5c', '%00', '.', '', '12', '-1', '99999999999', '3421', '1670.mvt', 'basemap.json', 'towns.fgb',
      'basemap.pmtiles', '?bbox=', '?limit=', '&offset=', ',', 'NaN', '1e309', '%', '%E4%B8%AD', '中', '~', '*', '"', '<'];
    const secret = await readFile(join(process.cwd(), 'package.json'), 'utf8');
    for (let i = 0; i < 400; i++) {
      let path = '';
      const n = rng.int(1, 6);
      for (let k = 0; k < n; k++) path += '/' + rng.pick(pieces) + (rng.chance(0.3) ? rng.pick(pieces) : '');
      const r = await raw(srv.url, encodeURI(decodeURIComponentSafe(path)) === path ? path : path.replace(/[^\x21-\x7e]/g, (c) => encodeURIComponent(c)));
      expect(r.status, path).not.toBe(500);
      expect(r.status, path).toBeLessThan(500);
      if (r.status >= 400) expect(json(r).error.code, path).toMatch(/^[a-z_]+$/);
      expect(r.body.toString('utf8').includes(secret.slice(0, 60)), path).toBe(false);
    }
  });
});

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURI(s);
  } catch {
    return s;
  }
}

describe('the built demo data (geodata/build)', () => {
  const dir = process.env.DATA_DIR ?? join(process.cwd(), 'geodata/build');
  const built = TILESETS.every((t) => existsSync(join(dir, `${t}.pmtiles`)));
  it.skipIf(!built)('serves every built layer and both tilesets; the centre tile exists', async () => {
    const s = await startServer({ dataDir: dir, webDir: join(dir, 'no-web'), port: 0, ...TEST_AUTH });
    await rememberSession(s.url);
    try {
      const h = json(await raw(s.url, '/healthz'));
      expect(h.tilesets).toEqual([...TILESETS]);
      expect(h.layers.length).toBe(LAYERS.filter((l) => existsSync(join(dir, l.fgb))).length);
      const tj = json(await raw(s.url, '/tiles/basemap.json'));
      const [lon, lat] = [tj.center[0], tj.center[1]];
      const z = 12;
      const n = 2 ** z;
      const x = Math.floor(((lon + 180) / 360) * n);
      const y = Math.floor(((1 - Math.asinh(Math.tan((lat * Math.PI) / 180)) / Math.PI) / 2) * n);
      const t = await raw(s.url, `/tiles/basemap/${z}/${x}/${y}.mvt`, { headers: GZ });
      expect(t.status).toBe(200);
      const vt = new VectorTile(new PbfReader(gunzipSync(t.body)));
      expect(Object.keys(vt.layers).length).toBeGreaterThan(0);
      const towns = json(await raw(s.url, '/ogc/collections/towns/items?limit=5'));
      expect(towns.numberReturned).toBeGreaterThan(0);
    } finally {
      await s.close();
    }
  });
});
