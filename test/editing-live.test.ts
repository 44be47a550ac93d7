// Edits reach every reader without a restart (issue 8), through a real server on the built demo data,
// once on the embedded store and once on PostGIS (TEST_DATABASE_URL; the edit store then lives in a
// throw-away database). Moving a boundary shared by two grids (one atomic batch) must change the overlay
// tile there, /api/lookup's grid, /api/query and /ogc; moving a facility (a PUT) must change /api/query,
// /ogc and /data/facilities.fgb; and a restarted server must still show both. The PostGIS layer rows
// touched are put back afterwards (test/store-parity.test.ts compares the shared tables with the files).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { openFlatGeobuf, type FgbFile } from '../layers/formats/flatgeobuf.ts';
import { pointOnGeometry } from '../tile-server/export-formats.ts';
import { startServer, type RunningServer } from '../tile-server/server.ts';
import { createFreshDatabase } from './helpers/fresh-pg.ts';
import { json, raw as rawHttp, type Raw } from './helpers/http.ts';
import { asUser, TEST_AUTH } from './helpers/session.ts';

/** The planner's session (renewed when the server restarts); every request of this file carries it. */
let session: Record<string, string> = {};
const raw: typeof rawHttp = (base, path, opts = {}) => rawHttp(base, path, { ...opts, headers: { ...session, ...opts.headers } });

const DATA = join(process.cwd(), 'geodata/build');
const PG_URL = process.env.TEST_DATABASE_URL;
const PLANNER = { 'Content-Type': 'application/json' };

it('PostGIS is part of the run (TEST_DATABASE_URL), or skipped on purpose (ONEMAP_SKIP_POSTGIS=1)', () => {
  if (!PG_URL && process.env.ONEMAP_SKIP_POSTGIS !== '1') {
    throw new Error('TEST_DATABASE_URL is not set: start PostgreSQL (npx tsx scripts/pg-local.ts start; npm run db:load) and export TEST_DATABASE_URL, or set ONEMAP_SKIP_POSTGIS=1 to run the embedded store only.');
  }
});

function readFgb(name: string): FgbFile {
  const b = readFileSync(join(DATA, name));
  return openFlatGeobuf(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
}

type Pos = [number, number];
const key = (p: GeoJSON.Position) => `${p[0]},${p[1]}`;

/**
 * Vertices shared by exactly two grids of one village whose neighbours along both rings are shared too
 * (an inner vertex of their common boundary), each with a move into one of them (a fifth of the way to
 * the centroid of the vertex and its neighbours): moving it in both grids keeps them a partition.
 */
function boundaryMoves(grids: FgbFile): { a: GeoJSON.Feature; b: GeoJSON.Feature; v: Pos; to: Pos }[] {
  const feats = [...grids.features()].filter((f) => f.geometry.type === 'Polygon');
  const owners = new Map<string, Set<number>>();
  feats.forEach((f, i) => {
    for (const p of (f.geometry as GeoJSON.Polygon).coordinates[0]) {
      let s = owners.get(key(p));
      if (!s) owners.set(key(p), (s = new Set()));
      s.add(i);
    }
  });
  const out: { a: GeoJSON.Feature; b: GeoJSON.Feature; v: Pos; to: Pos }[] = [];
  const used = new Set<number>();
  feats.forEach((f, i) => {
    if (used.has(i) || out.length >= 20) return;
    const ring = (f.geometry as GeoJSON.Polygon).coordinates[0];
    for (let k = 1; k < ring.length - 2; k++) {
      const own = owners.get(key(ring[k]))!;
      if (own.size !== 2) continue;
      const j = [...own].find((x) => x !== i)!;
      if (used.has(j) || feats[j].properties!.village_code !== f.properties!.village_code) continue;
      const prev = ring[k - 1], next = ring[k + 1];
      const same = (p: GeoJSON.Position) => { const o = owners.get(key(p))!; return o.size === 2 && o.has(i) && o.has(j); };
      if (!same(prev) || !same(next)) continue;
      const c = [(prev[0] + ring[k][0] + next[0]) / 3, (prev[1] + ring[k][1] + next[1]) / 3];
      const to: Pos = [ring[k][0] + 0.2 * (c[0] - ring[k][0]), ring[k][1] + 0.2 * (c[1] - ring[k][1])];
      // At least ~8 m, so the move survives the z14 tile's quantisation (~0.6 m) and simplification (~2 m).
      if (Math.hypot((to[0] - ring[k][0]) * 0.86, to[1] - ring[k][1]) < 8e-5) continue;
      out.push({ a: f, b: feats[j], v: [ring[k][0], ring[k][1]], to });
      used.add(i); used.add(j);
      return;
    }
  });
  return out;
}

function moveVertex(g: GeoJSON.Geometry, v: Pos, to: Pos): GeoJSON.Polygon {
  const p = g as GeoJSON.Polygon;
  return { type: 'Polygon', coordinates: p.coordinates.map((r) => r.map((q) => (q[0] === v[0] && q[1] === v[1] ? [to[0], to[1]] : q))) };
}

function tileOf(lon: number, lat: number, z: number): { x: number; y: number; px: number; py: number } {
  const n = 2 ** z, s = Math.sin((lat * Math.PI) / 180);
  const fx = ((lon + 180) / 360) * n, fy = (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * n;
  const x = Math.floor(fx), y = Math.floor(fy);
  return { x, y, px: (fx - x) * 4096, py: (fy - y) * 4096 };
}

/** Vertices (tile units) of the grids features with this id in the z14 overlay tile holding `at`. */
async function tileVertices(url: string, at: Pos, id: string): Promise<{ etag: string; pts: Pos[] }> {
  const t = tileOf(at[0], at[1], 14);
  const r = await raw(url, `/tiles/overlay/14/${t.x}/${t.y}.mvt`, { headers: { 'Accept-Encoding': 'gzip' } });
  expect(r.status).toBe(200);
  const body = r.headers['content-encoding'] === 'gzip' ? gunzipSync(r.body) : r.body;
  const layer = new VectorTile(new PbfReader(new Uint8Array(body))).layers.grids;
  const pts: Pos[] = [];
  let found = 0;
  for (let i = 0; i < (layer?.length ?? 0); i++) {
    const f = layer.feature(i);
    if (String(f.properties.id) !== id) continue;
    found++;
    for (const ring of f.loadGeometry()) for (const p of ring) pts.push([p.x, p.y]);
  }
  expect(found, `grid ${id} in tile 14/${t.x}/${t.y}`).toBe(1);
  return { etag: String(r.headers.etag), pts };
}

const near = (pts: Pos[], lon: number, lat: number) => {
  const t = tileOf(lon, lat, 14);
  return pts.some((p) => Math.abs(p[0] - t.px) <= 1.5 && Math.abs(p[1] - t.py) <= 1.5);
};

const STORES = [{ name: 'embedded', pg: false }, ...(PG_URL ? [{ name: 'postgis', pg: true }] : [])];

describe.each(STORES)('edits go live ($name)', ({ pg }) => {
  let dir: string;
  let srv: RunningServer;
  let fresh: { url: string; drop(): Promise<void> } | undefined;
  let start: () => Promise<RunningServer>;
  const grids = readFgb('grids.fgb');
  const facilities = readFgb('facilities.fgb');
  const moves = boundaryMoves(grids);
  let move: (typeof moves)[number];
  let changes: { op: 'update'; id: string; version: number; feature: { geometry: GeoJSON.Geometry; properties: Record<string, unknown> } }[];
  let probe: Pos;
  let ownerAfter: string;
  const fac = (() => {
    // A facility moved to the interior point of its own grid, far enough to tell apart.
    const byCode = new Map([...grids.features()].map((g) => [String(g.properties!.code), g]));
    for (const f of facilities.features()) {
      const g = byCode.get(String(f.properties!.grid_code));
      const to = g && pointOnGeometry(g.geometry);
      const from = (f.geometry as GeoJSON.Point).coordinates;
      if (to && Math.hypot(to[0] - from[0], to[1] - from[1]) > 0.002) return { f, from: [from[0], from[1]] as Pos, to: to as Pos };
    }
    throw new Error('no facility to move');
  })();
  const get = (path: string) => raw(srv.url, path);
  const send = (method: string, path: string, body: unknown) => raw(srv.url, path, { method, headers: PLANNER, body: JSON.stringify(body) });
  const lookupGrid = async (p: Pos) => { const r = await get(`/api/lookup?lon=${p[0]}&lat=${p[1]}`); expect(r.status).toBe(200); return json(r).grid?.code as string; };
  const queryIds = async (layer: string, p: Pos, distanceM: number) => {
    const r = await send('POST', '/api/query', { geometry: { type: 'Point', coordinates: p }, layers: [layer], predicate: 'dwithin', distance: distanceM });
    expect(r.status, r.body.toString().slice(0, 300)).toBe(200);
    return json(r).features.features.map((f: any) => String(f.id)) as string[];
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'onemap-edit-live-'));
    if (pg) fresh = await createFreshDatabase(PG_URL!, 'onemap_edit_live');
    start = async () => {
      const s = await startServer({
        dataDir: DATA, webDir: join(dir, 'web'), port: 0, telemetry: false, sweepIntervalMs: 0, editSyncIntervalMs: 0,
        databaseUrl: pg ? PG_URL! : null, incidentDatabaseUrl: null, incidentDbFile: join(dir, 'incidents.sqlite'),
        editDatabaseUrl: fresh?.url ?? null, editDbFile: join(dir, 'edits.sqlite'), ...TEST_AUTH,
      });
      session = await asUser(s.url, 'planner');
      return s;
    };
    srv = await start();
    await srv.editing;
  });

  afterAll(async () => {
    await srv?.close();
    if (pg) {
      // Put the shared PostGIS rows back as loaded: the built features of every id edited here.
      const { openPostgisStore } = await import('../tile-server/storage/postgis-store.ts');
      const store = await openPostgisStore(PG_URL!);
      try {
        const restore = (file: FgbFile, ids: string[]) => ids.map((id) => {
          const f = [...file.features()].find((x) => String(x.properties!.id) === id)!;
          return { id, feature: { type: 'Feature' as const, id, geometry: f.geometry, properties: f.properties! } };
        });
        if (move) await store.applyEdits!('grids', restore(grids, [String(move.a.properties!.id), String(move.b.properties!.id)]));
        await store.applyEdits!('facilities', restore(facilities, [String(fac.f.properties!.id)]));
      } finally {
        await store.close();
      }
      await fresh?.drop();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds a shared grid boundary the validator accepts moving', async () => {
    expect(moves.length).toBeGreaterThan(0);
    for (const m of moves) {
      const c = [m.a, m.b].map((f) => ({
        op: 'update' as const, id: String(f.properties!.id), version: 0,
        feature: { geometry: moveVertex(f.geometry, m.v, m.to), properties: { ...f.properties } },
      }));
      const r = await send('POST', '/api/layers/grids/validate', { changes: c });
      expect(r.status, r.body.toString().slice(0, 300)).toBe(200);
      if (json(r).issues.some((i: any) => i.severity === 'error')) continue;
      move = m; changes = c;
      break;
    }
    expect(move, 'no candidate boundary move passed validation').toBeDefined();
    // A point the move hands from one grid to the other: halfway along the vertex's path.
    probe = [(move.v[0] + move.to[0]) / 2, (move.v[1] + move.to[1]) / 2];
  });

  it('moving the boundary changes the tile, /api/lookup, /api/query and /ogc at once', async () => {
    const aId = String(move.a.properties!.id), bId = String(move.b.properties!.id);
    const before = await lookupGrid(probe);
    expect([move.a.properties!.code, move.b.properties!.code]).toContain(before);
    const tileBefore = await tileVertices(srv.url, move.v, aId);
    expect(near(tileBefore.pts, move.v[0], move.v[1])).toBe(true);
    const ogcBefore = json(await get(`/ogc/collections/grids/items/${aId}`));

    const ws = new WebSocket(`${srv.url.replace('http', 'ws')}/ws`, { headers: session });
    const heard = new Promise<any>((resolve) => ws.on('message', (d) => { const m = JSON.parse(String(d)); if (m.type === 'layers') resolve(m); }));
    await new Promise((resolve) => ws.once('open', resolve));

    const r = await send('POST', '/api/layers/grids/edits', { changes, comment: 'live test' });
    expect(r.status, r.body.toString().slice(0, 400)).toBe(200);

    // The grid at the probe point is now the other one.
    const after = await lookupGrid(probe);
    ownerAfter = after;
    expect(after).not.toBe(before);
    expect([move.a.properties!.code, move.b.properties!.code]).toContain(after);
    // /api/query: the probe point intersects the new owner only.
    const q = await queryIds('grids', probe, 0);
    const owner = after === move.a.properties!.code ? aId : bId;
    expect(q).toContain(owner);
    expect(q).not.toContain(owner === aId ? bId : aId);
    // The tile there: the old vertex is gone from both grids, the new one is in both; the ETag changed.
    for (const id of [aId, bId]) {
      const t = await tileVertices(srv.url, move.v, id);
      expect(near(t.pts, move.v[0], move.v[1]), `old vertex still in ${id}`).toBe(false);
      expect(near(t.pts, move.to[0], move.to[1]), `new vertex missing in ${id}`).toBe(true);
      if (id === aId) expect(t.etag).not.toBe(tileBefore.etag);
    }
    // /ogc item: the new geometry.
    const ogcAfter = json(await get(`/ogc/collections/grids/items/${aId}`));
    expect(ogcAfter.geometry).not.toEqual(ogcBefore.geometry);
    expect(JSON.stringify(ogcAfter.geometry)).toContain(`[${move.to[0]},${move.to[1]}]`);
    // The live feed told the clients.
    const msg = await heard;
    ws.close();
    expect(msg).toMatchObject({ type: 'layers', op: 'changed', layer: 'grids' });
    expect(msg.ids.sort()).toEqual([aId, bId].sort());
  });

  it('moving a facility changes /api/query, /ogc and /data/facilities.fgb at once', async () => {
    const id = String(fac.f.properties!.id);
    const dataBefore = await get('/data/facilities.fgb');
    expect(await queryIds('facilities', fac.from, 1)).toContain(id);
    const r = await send('PUT', `/api/layers/facilities/features/${id}`, {
      version: 0, feature: { geometry: { type: 'Point', coordinates: fac.to }, properties: { ...fac.f.properties } },
    });
    expect(r.status, r.body.toString().slice(0, 400)).toBe(200);
    expect(await queryIds('facilities', fac.to, 1)).toContain(id);
    expect(await queryIds('facilities', fac.from, 1)).not.toContain(id);
    const item = json(await get(`/ogc/collections/facilities/items/${id}`));
    expect(item.geometry.coordinates).toEqual(fac.to);
    const d = 0.0005;
    const items = json(await get(`/ogc/collections/facilities/items?bbox=${fac.to[0] - d},${fac.to[1] - d},${fac.to[0] + d},${fac.to[1] + d}&limit=1000`));
    expect(items.features.map((f: any) => String(f.id))).toContain(id);
    const dataAfter = await get('/data/facilities.fgb');
    expect(dataAfter.status).toBe(200);
    expect(dataAfter.headers.etag).not.toBe(dataBefore.headers.etag);
    const file = openFlatGeobuf(new Uint8Array(dataAfter.body));
    expect(file.count).toBe(facilities.count);
    const moved = [...file.features()].filter((f) => String(f.properties!.id) === id);
    expect(moved.map((f) => (f.geometry as GeoJSON.Point).coordinates)).toEqual([fac.to]);
    // The file's own index finds it at its new place (range readers depend on it).
    expect(file.search([fac.to[0], fac.to[1], fac.to[0], fac.to[1]]).map((i) => String(file.feature(i).properties!.id))).toContain(id);
    // A stale version is a conflict, not an overwrite.
    const stale = await send('PUT', `/api/layers/facilities/features/${id}`, { version: 0, feature: { geometry: { type: 'Point', coordinates: fac.from }, properties: { ...fac.f.properties } } });
    expect(stale.status).toBe(409);
  });

  it('a restarted server still shows the edits', async () => {
    await srv.close();
    srv = await start();
    await srv.editing;
    expect(await lookupGrid(probe)).toBe(ownerAfter);
    const t = await tileVertices(srv.url, move.v, String(move.a.properties!.id));
    expect(near(t.pts, move.to[0], move.to[1])).toBe(true);
    expect(near(t.pts, move.v[0], move.v[1])).toBe(false);
    const id = String(fac.f.properties!.id);
    expect(json(await get(`/ogc/collections/facilities/items/${id}`)).geometry.coordinates).toEqual(fac.to);
    expect(await queryIds('facilities', fac.to, 1)).toContain(id);
    const h = await get(`/api/layers/facilities/features/${id}`);
    expect(h.status).toBe(200);
    expect(json(h).version).toBe(1);
  });

  it('picks up a commit another process made (npm run import) on sync()', async () => {
    const { openEditStore } = await import('../tile-server/editing/edit-store.ts');
    const other = await openEditStore({ databaseUrl: fresh?.url ?? null, file: join(dir, 'edits.sqlite') });
    const id = String(fac.f.properties!.id);
    try {
      await other.commit([{
        layer: 'facilities', id, expectVersion: 1, op: 'import', actor: 'planner:other-process',
        next: { type: 'Feature', id, geometry: { type: 'Point', coordinates: fac.from }, properties: { ...fac.f.properties } },
      }], Date.now());
    } finally {
      await other.close();
    }
    // Not seen until the sync (the server runs it every 2 s; this test server never on its own).
    expect(json(await get(`/ogc/collections/facilities/items/${id}`)).geometry.coordinates).toEqual(fac.to);
    const changes = await (await srv.editing).sync();
    expect(changes.map((c) => c.layer)).toEqual(['facilities']);
    expect(json(await get(`/ogc/collections/facilities/items/${id}`)).geometry.coordinates).toEqual(fac.from);
    expect(await queryIds('facilities', fac.from, 1)).toContain(id);
    expect(await queryIds('facilities', fac.to, 1)).not.toContain(id);
  });

  it('routes import (E3) and publish (E4) through the server', async () => {
    const gj = JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', geometry: { type: 'Point', coordinates: fac.to }, properties: { name: '导入测试设施', kind: '村卫生室', department: 'health' } }] });
    const r = await raw(srv.url, '/api/imports?layer=facilities&mode=preview&filename=t.geojson', { method: 'POST', headers: { 'Content-Type': 'application/geo+json' }, body: gj });
    expect(r.status, r.body.toString().slice(0, 400)).toBe(200);
    expect(json(r)).toMatchObject({ layer: 'facilities', total: 1 });
    const saved = process.env.GEOSERVER_URL;
    delete process.env.GEOSERVER_URL;
    try {
      const p = await send('POST', '/api/publish', { layer: 'grids' });
      expect(p.status, p.body.toString().slice(0, 300)).toBe(503);
      expect(json(p).error.code).toBe('geoserver_not_configured');
    } finally {
      if (saved !== undefined) process.env.GEOSERVER_URL = saved;
    }
  });

  it('answers the CORS preflight of the write routes', async () => {
    const r = await raw(srv.url, '/api/layers/grids/features/x', { method: 'OPTIONS' });
    expect(r.status).toBe(204);
    expect(String(r.headers['access-control-allow-methods'])).toMatch(/PUT/);
    expect(String(r.headers['access-control-allow-methods'])).toMatch(/DELETE/);
    // No identity by header (issue 9): the session cookie is the only way to say who you are.
    expect(String(r.headers['access-control-allow-headers'])).not.toMatch(/X-OneMap-Actor/i);
    const bad: Raw = await raw(srv.url, '/api/layers/grids/features', { method: 'DELETE' });
    expect(bad.status).toBe(405);
  });
});
