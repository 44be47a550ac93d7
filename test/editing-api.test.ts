// The editing HTTP API (tile-server/editing/api.ts) in a tiny http server of its own (the whole-server wiring
// is test/editing-live.test.ts): every route, the error bodies (409 with both versions, 422 with issues),
// the actor header, and a seeded fuzz: whatever the path, method, headers or body, the answer is a 2xx or a
// 4xx JSON error, never a 500 or a hang.
import { setActor } from '../tile-server/auth/request-actor.ts';
import type { Actor } from '../layers/incidents/model.ts';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../scripts/data/rng.ts';
import { HttpError, sendError } from '../tile-server/http-errors.ts';
import { parseTarget } from '../tile-server/params.ts';
import { EDIT_ROUTES, EditApi } from '../tile-server/editing/api.ts';
import { openEditStore, type EditStore } from '../tile-server/editing/edit-store.ts';
import { EditService } from '../tile-server/editing/service.ts';
import { INSIDE, fromGeoJSON, locate, prepare } from '../layers/query/geometry.ts';
import type { EditFeature } from '../layers/editing/model.ts';
import { json, raw, type Raw } from './helpers/http.ts';
import { loadBuilt, MemoryView } from './helpers/memory-view.ts';

const TOWN = '320581110';
const grids = loadBuilt('grids', (f) => f.properties.town_code === TOWN);
const codes = new Set(grids.map((g) => g.properties.code));
const facilities = loadBuilt('facilities', (f) => codes.has(f.properties.grid_code as string));
const TMP = mkdtempSync(join(tmpdir(), 'onemap-edit-api-'));

let server: Server;
let base: string;
let store: EditStore;
let service: EditService;
const errors500: string[] = [];

beforeAll(async () => {
  store = await openEditStore({ file: join(TMP, 'edits.sqlite') });
  const view = new MemoryView({ grids, facilities, villages: loadBuilt('villages', (f) => f.properties.town_code === TOWN), towns: loadBuilt('towns') });
  service = new EditService({ store, view, clock: () => Date.now() });
  const api = new EditApi({ service });
  // What router.ts does for these routes: segments from parseTarget, bodies only where acceptsMethod says so.
  server = createServer((req, res) => {
    const fail = (err: unknown) => {
      req.resume();
      if (err instanceof HttpError) return sendError(res, err);
      errors500.push(`${req.method} ${req.url}: ${(err as Error)?.stack}`);
      sendError(res, new HttpError(500, 'internal', 'internal'));
    };
    try {
      // Stands in for the router gate (tile-server/auth/gate.ts), which sets the signed-in user: here the test
      // names the user in X-Test-Actor (role:id); grid-{code} grid managers look after that grid.
      const who = /^([a-z_]+):([A-Za-z0-9_.@-]+)$/.exec(String(req.headers['x-test-actor'] ?? ''));
      if (who) {
        const grid = /^grid-(.+)$/.exec(who[2]);
        setActor(req, { role: who[1] as Actor['role'], id: who[2], ...(who[1] === 'grid_manager' && grid ? { grids: [grid[1]] } : {}) });
      }
      const { segments: s, query } = parseTarget(req.url ?? '/');
      const method = req.method ?? 'GET';
      const path = (req.url ?? '/').split('?')[0];
      if (s[0] !== 'api' || !(EDIT_ROUTES as readonly string[]).includes(s[1])) throw new HttpError(404, 'no_route', 'no route');
      if (method !== 'GET' && method !== 'HEAD' && !EditApi.acceptsMethod(method, path)) {
        req.resume();
        throw new HttpError(405, 'method_not_allowed', 'method not allowed');
      }
      api.handle(req, res, s, query, method === 'HEAD').catch(fail);
    } catch (err) {
      fail(err);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await store.close();
  rmSync(TMP, { recursive: true, force: true });
});

const PLANNER = { 'X-Test-Actor': 'planner:p-01' };
function call(method: string, path: string, body?: unknown, headers: Record<string, string> = PLANNER): Promise<Raw> {
  const h: Record<string, string> = { ...headers };
  let b: string | undefined;
  if (body !== undefined) {
    b = typeof body === 'string' ? body : JSON.stringify(body);
    h['Content-Type'] ??= 'application/json';
    h['Content-Length'] = String(Buffer.byteLength(b));
  }
  return raw(base, path, { method, headers: h, body: b });
}
function interior(f: EditFeature): [number, number] {
  const p = prepare(fromGeoJSON(f.geometry));
  const [x0, y0, x1, y1] = p.g.bbox;
  for (let i = 1; i < 30; i++) for (let j = 1; j < 30; j++) {
    const x = x0 + ((x1 - x0) * i) / 30, y = y0 + ((y1 - y0) * j) / 30;
    if (locate(p, x, y) === INSIDE) return [x, y];
  }
  throw new Error('no interior point');
}
const expectError = (r: Raw, status: number, code: string) => {
  expect(r.status).toBe(status);
  expect(String(r.headers['content-type'])).toMatch(/^application\/json/);
  const e = json(r).error;
  expect(e.code).toBe(code);
  expect(typeof e.message).toBe('string');
  return e;
};

describe('editing API', () => {
  it('acceptsMethod names exactly the write routes', () => {
    expect(EditApi.acceptsMethod('POST', '/api/layers/facilities/features')).toBe(true);
    expect(EditApi.acceptsMethod('POST', '/api/layers/facilities/edits')).toBe(true);
    expect(EditApi.acceptsMethod('POST', '/api/layers/facilities/validate')).toBe(true);
    expect(EditApi.acceptsMethod('POST', '/api/layers/facilities/features/x/restore')).toBe(true);
    expect(EditApi.acceptsMethod('PUT', '/api/layers/facilities/features/x')).toBe(true);
    expect(EditApi.acceptsMethod('DELETE', '/api/layers/facilities/features/x?version=1')).toBe(true);
    expect(EditApi.acceptsMethod('PUT', '/api/layers/facilities/features')).toBe(false);
    expect(EditApi.acceptsMethod('POST', '/api/layers/facilities/features/x')).toBe(false);
    expect(EditApi.acceptsMethod('DELETE', '/api/layers')).toBe(false);
    expect(EditApi.acceptsMethod('POST', '/api/audit')).toBe(false);
    expect(EditApi.acceptsMethod('PATCH', '/api/layers/facilities/features/x')).toBe(false);
  });

  it('lists layers with edit roles and the revision', async () => {
    const r = await call('GET', '/api/layers');
    expect(r.status).toBe(200);
    const b = json(r);
    const fac = b.layers.find((l: { id: string }) => l.id === 'facilities');
    expect(fac).toMatchObject({ title: '部门设施', geometry: 'point', editable: ['admin', 'planner', 'grid_manager'], gridScoped: true, revision: 0 });
    expect(b.layers.find((l: { id: string }) => l.id === 'city').editable).toEqual([]);
    expect((await call('HEAD', '/api/layers')).body.length).toBe(0);
  });

  it('create → read → update → stale update 409 with both versions → delete → history → restore → audit', async () => {
    const grid = grids[0];
    const geometry = { type: 'Point', coordinates: interior(grid) };
    const c = await call('POST', '/api/layers/facilities/features', { feature: { type: 'Feature', geometry, properties: { name: '新设施', department: 'city' } }, comment: '新增' });
    expect(c.status).toBe(201);
    const created = json(c);
    expect(created.version).toBe(1);
    expect(created.feature.properties.grid_code).toBe(grid.properties.code);
    expect(created.issues).toEqual([]);
    const id = created.feature.id;
    expect(c.headers.location).toBe(`/api/layers/facilities/features/${id}`);

    const g = await call('GET', `/api/layers/facilities/features/${id}`);
    expect(json(g)).toEqual({ feature: created.feature, version: 1 });
    const built = await call('GET', `/api/layers/facilities/features/${facilities[0].id}`);
    expect(json(built)).toEqual({ feature: facilities[0], version: 0 });

    const props = { ...created.feature.properties, name: '改过' };
    const u = await call('PUT', `/api/layers/facilities/features/${id}`, { feature: { geometry, properties: props }, version: 1 });
    expect(u.status).toBe(200);
    expect(json(u).version).toBe(2);
    const stale = await call('PUT', `/api/layers/facilities/features/${id}`, { feature: { geometry, properties: { ...props, name: '冲突' } }, version: 1 }, { 'X-Test-Actor': 'planner:p-02' });
    const e = expectError(stale, 409, 'version_conflict');
    expect(e).toMatchObject({ id, basedOn: 1, yours: { op: 'update', version: 1, feature: { properties: { name: '冲突' } } }, current: { version: 2, deleted: false, actor: 'planner:p-01' } });
    expect(e.current.feature.properties.name).toBe('改过');

    const bad = await call('PUT', `/api/layers/facilities/features/${id}`, { feature: { geometry: { type: 'Point', coordinates: [200, 100] }, properties: { colour: 1 } }, version: 2 });
    const be = expectError(bad, 422, 'validation_failed');
    expect(be.issues.map((i: { code: string }) => i.code).sort()).toEqual(['outside_china', 'unknown_field']);

    expectError(await call('DELETE', `/api/layers/facilities/features/${id}`), 400, 'missing_version');
    expectError(await call('DELETE', `/api/layers/facilities/features/${id}?version=1`), 409, 'version_conflict');
    const d = await call('DELETE', `/api/layers/facilities/features/${id}?version=2`);
    expect(json(d)).toEqual({ id, version: 3, deleted: true });
    expectError(await call('GET', `/api/layers/facilities/features/${id}`), 404, 'unknown_feature');

    const h = json(await call('GET', `/api/layers/facilities/features/${id}/history`));
    expect(h.items.map((v: { version: number; op: string }) => [v.version, v.op])).toEqual([[1, 'create'], [2, 'update'], [3, 'delete']]);
    const bh = json(await call('GET', `/api/layers/facilities/features/${facilities[0].id}/history`));
    expect(bh.items).toEqual([expect.objectContaining({ version: 0, feature: facilities[0] })]);

    const r = await call('POST', `/api/layers/facilities/features/${id}/restore`, { version: 2, basedOn: 3 });
    expect(r.status).toBe(200);
    expect(json(r)).toMatchObject({ version: 4, feature: { properties: { name: '改过' } } });

    const a = json(await call('GET', `/api/audit?layer=facilities&actor=planner:p-01&limit=50`));
    expect(a.items.map((x: { action: string }) => x.action)).toEqual(['restore', 'delete', 'conflict', 'update', 'create']);
    const conflicts = json(await call('GET', '/api/audit?actor=planner:p-02'));
    expect(conflicts.items.map((x: { action: string }) => x.action)).toEqual(['conflict']);
    expect(json(await call('GET', '/api/layers')).revision).toBe(service.revision());
  });

  it('batches (atomic) and dry-run validation', async () => {
    const [f1, f2] = [facilities[1], facilities[2]];
    const changes = [
      { op: 'update', id: f1.id, version: 0, feature: { geometry: f1.geometry, properties: { ...f1.properties, name: 'b1' } } },
      { op: 'update', id: f2.id, version: 0, feature: { geometry: f2.geometry, properties: { ...f2.properties, name: 7 } } },
    ];
    const v = json(await call('POST', '/api/layers/facilities/validate', { changes }));
    expect(v.issues.map((i: { code: string; featureId: string }) => [i.code, i.featureId])).toEqual([['bad_value', f2.id]]);
    expectError(await call('POST', '/api/layers/facilities/edits', { changes }), 422, 'validation_failed');
    expect(json(await call('GET', `/api/layers/facilities/features/${f1.id}`)).version).toBe(0);
    changes[1].feature!.properties.name = 'b2';
    const ok = await call('POST', '/api/layers/facilities/edits', { changes, comment: '批量' });
    expect(ok.status).toBe(200);
    expect(json(ok).versions.map((x: { id: string; version: number }) => [x.id, x.version])).toEqual([[f1.id, 1], [f2.id, 1]]);
  });

  it('actor, rights and malformed requests are 4xx JSON errors', async () => {
    const f = facilities[3];
    const body = { feature: { geometry: f.geometry, properties: f.properties }, version: 0 };
    const path = `/api/layers/facilities/features/${f.id}`;
    expectError(await call('PUT', path, body, {}), 401, 'not_signed_in');               // no user: the gate would have refused
    expectError(await call('PUT', path, body, { 'X-Test-Actor': 'operator:o' }), 403, 'edit_forbidden');
    expectError(await call('PUT', path, body, { 'X-Test-Actor': 'grid_manager:grid-000' }), 403, 'edit_forbidden');
    expectError(await call('PUT', path, body, { ...PLANNER, 'Content-Type': 'text/plain' }), 415, 'unsupported_media_type');
    expectError(await call('PUT', path, '{"feature":', PLANNER), 400, 'bad_json');
    expectError(await call('PUT', path, { ...body, extra: 1 }), 400, 'unknown_param');
    expectError(await call('PUT', path, { feature: body.feature }), 400, 'missing_version');
    expectError(await call('PUT', path, { ...body, version: -1 }), 400, 'missing_version');
    expectError(await call('PUT', path, { ...body, feature: { ...body.feature, id: 'other' } }), 400, 'id_mismatch');
    expectError(await call('PUT', path, { ...body, feature: { properties: {} } }), 400, 'missing_geometry');
    expectError(await call('PUT', path, { ...body, comment: 'x'.repeat(501) }), 400, 'bad_comment');
    expectError(await call('PUT', '/api/layers/nope/features/x', body), 404, 'unknown_layer');
    expectError(await call('PUT', '/api/layers/city/features/x', body), 403, 'edit_forbidden');
    expectError(await call('PUT', '/api/layers/facilities/features/missing-one', body), 404, 'unknown_feature');
    expectError(await call('POST', '/api/layers/facilities/features', { feature: { ...body.feature, id: facilities[4].id } }), 409, 'feature_exists');
    expectError(await call('POST', '/api/layers/facilities/features', { feature: { ...body.feature, id: 'a/b' } }), 400, 'bad_id');
    expectError(await call('POST', '/api/layers/facilities/edits', { changes: [] }), 400, 'bad_changes');
    expectError(await call('POST', '/api/layers/facilities/edits', { changes: [{ op: 'explode' }] }), 400, 'bad_change');
    expectError(await call('GET', '/api/audit?limit=0'), 400, 'bad_limit');
    expectError(await call('GET', '/api/audit?since=yesterday'), 400, 'bad_since');
    expectError(await call('GET', '/api/audit?who=me'), 400, 'unknown_param');
    expectError(await call('GET', '/api/layers/facilities/unknown'), 404, 'no_route');
    expectError(await call('GET', '/api/layers/facilities/features/x/y'), 404, 'no_route');
    expectError(await call('DELETE', '/api/layers/facilities/features'), 405, 'method_not_allowed');
    expectError(await call('PUT', path, 'x'.repeat(9 * 1024 * 1024)), 413, 'body_too_large');
    expect(json(await call('GET', path)).version).toBe(0);
  });

  it('fuzz: random paths, methods, headers and bodies never give a 5xx', async () => {
    const rng = createRng(8).fork('edit-api-fuzz');
    const f = facilities[5];
    const segs = ['layers', 'audit', 'facilities', 'grids', 'city', 'features', f.id, 'history', 'restore', 'edits', 'validate', '', '%41', 'x'.repeat(200), '..%2f', '%E4%B8%AD'];
    const values: unknown[] = [null, 0, -1, 1.5, 1e300, '', 'x', [], {}, [1, 2], { type: 'Point', coordinates: [120.7, 31.6] },
      { type: 'Polygon', coordinates: [[[120.7, 31.6], [120.8, 31.7], [120.7, 31.6]]] }, { type: 'LineString', coordinates: 'no' }, true];
    const randomValue = (depth = 0): unknown => {
      if (depth < 2 && rng.chance(0.3)) {
        const o: Record<string, unknown> = {};
        for (const k of ['feature', 'version', 'changes', 'comment', 'geometry', 'properties', 'op', 'id', 'basedOn', 'name'].filter(() => rng.chance(0.4))) o[k] = randomValue(depth + 1);
        return rng.chance(0.2) ? [o] : o;
      }
      return rng.pick(values);
    };
    const log: string[] = [];
    const fp = `/api/layers/facilities/features/${f.id}`;
    const routes: [string, string][] = [
      ['/api/layers/facilities/features', 'POST'], [fp, 'PUT'], [fp, 'DELETE'], [`${fp}/restore`, 'POST'], ['/api/layers/grids/edits', 'POST'],
      ['/api/layers/facilities/edits', 'POST'], ['/api/layers/buildings/validate', 'POST'], [`${fp}/history`, 'GET'], ['/api/audit', 'GET'],
    ];
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const n = rng.int(1, 5);
      // Half the requests on real routes with the right method, so the bodies reach the service.
      const [path0, method0] = rng.chance(0.5) ? rng.pick(routes) : ['/api/' + Array.from({ length: n }, () => rng.pick(segs)).join('/'), rng.pick(['GET', 'POST', 'PUT', 'DELETE', 'HEAD'])];
      const path = path0 + (rng.chance(0.3) ? `?version=${rng.pick(['1', '-1', 'x', '0', ''])}&limit=${rng.int(-2, 2000)}` : '');
      const method = method0;
      const headers: Record<string, string> = { 'X-Test-Actor': rng.pick(['planner:p-09', 'admin:a', 'grid_manager:grid-1', 'x', 'operator:o']) };
      if (rng.chance(0.9)) headers['Content-Type'] = 'application/json';
      const body = method === 'GET' || method === 'HEAD' ? undefined : rng.chance(0.1) ? '{bad' : JSON.stringify(randomValue());
      // node:http sends a DELETE body unframed unless told its length (no chunked default for DELETE).
      if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
      log.push(`${method} ${path} ${body?.slice(0, 100)}`);
      const r = await raw(base, path, { method, headers, body }).catch((e) => { throw new Error(`${log.slice(-3).join('\n')}: ${e.message}`); });
      expect(r.status, `${method} ${path} ${body?.slice(0, 200)}`).toBeGreaterThanOrEqual(200);
      expect(r.status, `${method} ${path} ${body?.slice(0, 200)} → ${r.body.toString().slice(0, 300)}`).toBeLessThan(500);
      if (r.status >= 400 && method !== 'HEAD') {
        expect(typeof json(r).error.code).toBe('string');
        seen.add(json(r).error.code);
      }
    }
    // The fuzz reached past routing into body parsing and the service.
    expect(seen.size).toBeGreaterThanOrEqual(8);
    expect(errors500).toEqual([]);
  });
});
