// Personal data by role, through a real server on the built demo data (issue 9 item 2): grid managers' names
// and phones (grids), responders' names and phones, the residents linked to an address (一标多实).
//   analyst: masked; operator: full; grid manager: full in their own grid, masked elsewhere;
//   analyst + X-OneMap-Unmask-Reason: full, and the reason is in GET /api/audit (admin); a bad reason: 400; a planner: 403;
//   tiles never carry personal fields.
// Needs the demo data (npm run data && npm run tiles).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CITY, getLayer, type LayerDef } from '../layers/catalog.ts';
import { openFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import { maskName, maskPhone } from '../address-standards/links.ts';
import { pointOnGeometry } from '../tile-server/export-formats.ts';
import { tileProperties } from '../tile-server/editing/tile-overlay.ts';
import { startServer, type RunningServer } from '../tile-server/server.ts';
import { json, raw, type Raw } from './helpers/http.ts';
import { signIn, TEST_PASSWORD } from './helpers/session.ts';
import { requireBuiltData } from './helpers/web-build.ts';

const DATA = join(process.cwd(), 'geodata/build');
const REASON = '核查投诉当事人联系方式'; // sent percent-encoded: header values are Latin-1 on the wire

const fgb = (bytes: Uint8Array) => openFlatGeobuf(bytes);
const readFgb = (name: string) => { const b = readFileSync(join(DATA, `${name}.fgb`)); return fgb(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)); };

describe('masking of personal data by role', () => {
  let server: RunningServer;
  let dir: string;
  const cookies = new Map<string, string>();
  // Two grids with managers, and the raw values the built file holds.
  let g1: { id: string; code: string; name: string; phone: string; lon: number; lat: number };
  let g2: { id: string; code: string; name: string; phone: string };
  let responder: { id: string; name: string; phone: string; grid: string };

  const signInAs = async (username: string) => { cookies.set(username, (await signIn(server.url, username)).cookie); };
  const get = (user: string, path: string, headers: Record<string, string> = {}) => raw(server.url, path, { headers: { Cookie: cookies.get(user)!, ...headers } });
  const post = (user: string, path: string, body: unknown, headers: Record<string, string> = {}) => raw(server.url, path, {
    method: 'POST', headers: { Cookie: cookies.get(user)!, 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body),
  });
  const ok = (r: Raw) => { expect(r.status, r.body.toString().slice(0, 300)).toBe(200); return r; };
  const reason = { 'X-OneMap-Unmask-Reason': encodeURIComponent(REASON) };

  beforeAll(async () => {
    requireBuiltData(DATA, ['grids.fgb', 'responders.fgb', 'overlay.pmtiles']);
    const grids = readFgb('grids');
    const picked: typeof g1[] = [];
    for (const f of grids.features()) {
      const p = f.properties ?? {};
      if (!p.manager_name || !p.manager_phone) continue;
      const [lon, lat] = pointOnGeometry(f.geometry)!;
      picked.push({ id: String(p.id), code: String(p.code), name: String(p.manager_name), phone: String(p.manager_phone), lon, lat });
      if (picked.length === 2) break;
    }
    [g1, g2] = picked;
    for (const f of readFgb('responders').features()) {
      const p = f.properties ?? {};
      if (p.grid_code && p.name && p.phone) { responder = { id: String(p.id), name: String(p.name), phone: String(p.phone), grid: String(p.grid_code) }; break; }
    }
    dir = mkdtempSync(join(tmpdir(), 'onemap-masking-'));
    server = await startServer({
      dataDir: DATA, port: 0, databaseUrl: null, incidentDatabaseUrl: null, userDatabaseUrl: null,
      incidentDbFile: join(dir, 'onemap.sqlite'), telemetry: false, sweepIntervalMs: 0, editSyncIntervalMs: 0,
      demoPassword: TEST_PASSWORD, auth: { signInPerMinute: 100 },
    });
    for (const u of ['analyst', 'operator', 'planner', 'admin', `grid-${g1.code}`]) await signInAs(u);
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const gridItem = async (user: string, id: string, headers: Record<string, string> = {}) =>
    json(ok(await get(user, `/ogc/collections/grids/items/${encodeURIComponent(id)}`, headers))).properties;
  const masked = (x: { name: string; phone: string }) => ({ name: maskName(x.name), phone: maskPhone(x.phone) });

  it('analyst: grids and lookups masked (OGC item and items, /api/lookup, /api/query JSON and CSV, /data)', async () => {
    const p = await gridItem('analyst', g1.id);
    expect([p.manager_name, p.manager_phone]).toEqual([masked(g1).name, masked(g1).phone]);
    expect(p.manager_name).not.toBe(g1.name);

    const items = json(ok(await get('analyst', '/ogc/collections/grids/items?limit=50'))).features;
    expect(items.length).toBeGreaterThan(0);
    for (const f of items) if (f.properties.manager_phone) expect(f.properties.manager_phone).toMatch(/^\d{3}\*+\d{4}$/);

    const look = json(ok(await get('analyst', `/api/lookup?lon=${g1.lon}&lat=${g1.lat}`)));
    expect(look.grid.code).toBe(g1.code);
    expect(look.grid.manager).toMatchObject(masked(g1));

    const box = { type: 'Polygon', coordinates: [[[g1.lon - 0.0005, g1.lat - 0.0005], [g1.lon + 0.0005, g1.lat - 0.0005], [g1.lon + 0.0005, g1.lat + 0.0005], [g1.lon - 0.0005, g1.lat + 0.0005], [g1.lon - 0.0005, g1.lat - 0.0005]]] };
    const q = json(ok(await post('analyst', '/api/query', { geometry: box, layers: ['grids'] })));
    const hit = q.features.features.find((f: any) => f.properties.code === g1.code);
    expect(hit.properties).toMatchObject({ manager_name: masked(g1).name, manager_phone: masked(g1).phone });
    const csv = ok(await post('analyst', '/api/query', { geometry: box, layers: ['grids'], format: 'csv' })).body.toString('utf8');
    expect(csv).toContain(masked(g1).phone);
    expect(csv).not.toContain(g1.phone);

    const file = ok(await get('analyst', '/data/grids.fgb'));
    const f = fgb(new Uint8Array(file.body));
    const byCode = new Map([...f.features()].map((x) => [String(x.properties?.code), x.properties!]));
    expect(byCode.get(g1.code)).toMatchObject({ manager_name: masked(g1).name, manager_phone: masked(g1).phone });
    expect(file.headers['cache-control']).toMatch(/private/);
    expect(f.count).toBe(readFgb('grids').count);
  });

  it('analyst may not see responders at all (core data of 城运中心: a sharing grant is required), also not through /api/query', async () => {
    expect((await get('analyst', '/data/responders.fgb')).status).toBe(403);
    const r = await post('analyst', '/api/query', { geometry: { type: 'Point', coordinates: [g1.lon, g1.lat] }, layers: ['responders'], predicate: 'dwithin', distance: 1000 });
    expect(r.status).toBe(403);
    expect(json(r).error.code).toBe('grant_required');
  });

  it('operator: full names and phones everywhere', async () => {
    const p = await gridItem('operator', g1.id);
    expect([p.manager_name, p.manager_phone]).toEqual([g1.name, g1.phone]);
    const look = json(ok(await get('operator', `/api/lookup?lon=${g1.lon}&lat=${g1.lat}`)));
    expect(look.grid.manager).toMatchObject({ name: g1.name, phone: g1.phone });
    const f = fgb(new Uint8Array(ok(await get('operator', '/data/responders.fgb')).body));
    const r = [...f.features()].find((x) => x.properties?.id === responder.id)!;
    expect(r.properties).toMatchObject({ name: responder.name, phone: responder.phone });
  });

  it('grid manager: full in their own grid, masked in others', async () => {
    const me = `grid-${g1.code}`;
    const own = await gridItem(me, g1.id);
    expect([own.manager_name, own.manager_phone]).toEqual([g1.name, g1.phone]);
    const other = await gridItem(me, g2.id);
    expect([other.manager_name, other.manager_phone]).toEqual([masked(g2).name, masked(g2).phone]);
    const f = fgb(new Uint8Array(ok(await get(me, '/data/grids.fgb')).body));
    const byCode = new Map([...f.features()].map((x) => [String(x.properties?.code), x.properties!]));
    expect(byCode.get(g1.code)).toMatchObject({ manager_name: g1.name, manager_phone: g1.phone });
    expect(byCode.get(g2.code)).toMatchObject({ manager_name: masked(g2).name, manager_phone: masked(g2).phone });
    const rs = fgb(new Uint8Array(ok(await get(me, '/data/responders.fgb')).body));
    for (const x of rs.features()) {
      const p = x.properties!;
      if (p.grid_code !== g1.code && p.phone) expect(String(p.phone)).toContain('****');
    }
  });

  it('unmask with a reason: analyst sees in full and the reason is in the audit; bad reasons are refused', async () => {
    const p = await gridItem('analyst', g1.id, reason);
    expect([p.manager_name, p.manager_phone]).toEqual([g1.name, g1.phone]);

    const short = await get('analyst', `/ogc/collections/grids/items/${g1.id}`, { 'X-OneMap-Unmask-Reason': 'why' });
    expect(short.status).toBe(400);
    expect(json(short).error.code).toBe('bad_unmask_reason');
    const planner = await get('planner', `/ogc/collections/grids/items/${g1.id}`, reason);
    expect(planner.status).toBe(403);
    expect(json(planner).error.code).toBe('unmask_forbidden');

    // Only the admin reads the audit.
    expect((await get('analyst', '/api/audit?kind=security')).status).toBe(403);
    let items: any[] = [];
    for (let i = 0; i < 20; i++) { // the audit is written after the answer; give it a moment
      items = json(ok(await get('admin', '/api/audit?kind=security&action=unmask'))).items;
      if (items.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const e = items.find((x) => x.actor === 'analyst:analyst');
    expect(e, JSON.stringify(items).slice(0, 500)).toBeTruthy();
    expect(e).toMatchObject({ kind: 'security', action: 'unmask', reason: REASON });
    expect(e.target).toContain(`/ogc/collections/grids/items/${g1.id}`);
    expect(e.detail.records.grids).toBe(1);
    const refused = json(ok(await get('admin', '/api/audit?action=unmask_refused'))).items;
    expect(refused.map((x: any) => x.actor)).toEqual(expect.arrayContaining(['analyst:analyst', 'planner:planner']));
    // The operator's full view is recorded as a view of personal data (no reason needed).
    const views = json(ok(await get('admin', '/api/audit?action=view_personal'))).items;
    expect(views.some((x: any) => x.actor === 'operator:operator')).toBe(true);
    expect(views.some((x: any) => x.actor === 'analyst:analyst'), 'masked answers are not views of personal data').toBe(false);
  });

  it('tiles never carry personal fields (TileJSON, a tile over the grid, the edit overlay)', async () => {
    const tj = json(ok(await get('analyst', '/tiles/overlay.json')));
    const personal = (d: LayerDef) => d.fields.filter((f) => f.personal).map((f) => f.name);
    for (const vl of tj.vector_layers) for (const k of personal(getLayer(vl.id) ?? getLayer('grids')!)) expect(Object.keys(vl.fields)).not.toContain(k);
    const z = 14, x = Math.floor(((g1.lon + 180) / 360) * 2 ** z);
    const s = Math.sin((g1.lat * Math.PI) / 180);
    const y = Math.floor((0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * 2 ** z);
    const r = ok(await get('operator', `/tiles/overlay/${z}/${x}/${y}.mvt`, { 'Accept-Encoding': 'gzip' }));
    const body = r.headers['content-encoding'] === 'gzip' ? gunzipSync(r.body) : r.body;
    const vt = new VectorTile(new PbfReader(new Uint8Array(body)));
    expect(vt.layers.grids?.length).toBeGreaterThan(0);
    for (let i = 0; i < vt.layers.grids.length; i++) {
      const props = vt.layers.grids.feature(i).properties;
      for (const k of personal(getLayer('grids')!)) expect(props).not.toHaveProperty(k);
      expect(Object.values(props)).not.toContain(g1.phone);
    }
    // A field both personal and in TILE_PROPERTIES (responders' `name`) is left out of edited tiles too.
    expect(tileProperties(getLayer('responders')!, { id: 'r', name: '张小明', kind: 'patrol' })).toEqual({ id: 'r', kind: 'patrol' });
  });

  it('一标多实 residents: masked for the analyst, full for the operator and with a reason', async () => {
    // A room with residents (rooms are homes, ≈85 % occupied: address-standards/links.ts syntheticHouseholds).
    // The address index is built on the first /api/address request: slow.
    const [w, so, e, n] = CITY.bounds;
    const rooms = json(ok(await post('operator', '/api/query', {
      geometry: { type: 'Polygon', coordinates: [[[w, so], [e, so], [e, n], [w, n], [w, so]]] }, layers: ['addresses'], limit: 20,
      where: { addresses: [{ field: 'level', op: 'eq', value: 'room' }] },
    })));
    let code: string | null = null;
    for (const f of rooms.features.features) {
      const d = json(ok(await get('operator', `/api/address/${f.properties.code}`)));
      if (d.links.households.length) { code = String(f.properties.code); break; }
    }
    expect(code, 'a room with residents').not.toBeNull();
    const full = json(ok(await get('operator', `/api/address/${code}`))).links;
    const ana = json(ok(await get('analyst', `/api/address/${code}`))).links;
    const why = json(ok(await get('analyst', `/api/address/${code}`, reason))).links;
    expect(full.masked).toBe(false);
    expect(ana.masked).toBe(true);
    const p0 = full.households[0].members[0];
    expect(ana.households[0].members[0]).toMatchObject({ name: maskName(p0.name), phone: maskPhone(p0.phone) });
    expect(ana.households[0].members[0].idNumber).toMatch(/^\d{4}\*+[\dX]{2}$/);
    expect(why.households[0].members[0]).toMatchObject({ name: p0.name, idNumber: p0.idNumber });
  }, 120_000);

  it('editing API: a planner reads grids masked, and saving the form keeps the real name and phone', async () => {
    const path = `/api/layers/grids/features/${encodeURIComponent(g1.id)}`;
    const got = json(ok(await get('planner', path)));
    expect(got.feature.properties).toMatchObject({ manager_name: masked(g1).name, manager_phone: masked(g1).phone });
    const put = await raw(server.url, path, {
      method: 'PUT', headers: { Cookie: cookies.get('planner')!, 'Content-Type': 'application/json' },
      body: JSON.stringify({ feature: { geometry: got.feature.geometry, properties: { ...got.feature.properties, name: `${got.feature.properties.name}（改）` } }, version: got.version }),
    });
    expect(put.status, put.body.toString().slice(0, 400)).toBe(200);
    expect(json(put).feature.properties.manager_name).toBe(masked(g1).name);
    const after = json(ok(await get('admin', path))).feature.properties;
    expect(after).toMatchObject({ manager_name: g1.name, manager_phone: g1.phone, name: `${got.feature.properties.name}（改）` });
    const hist = json(ok(await get('planner', `${path}/history`))).items;
    expect(hist.length).toBeGreaterThan(1);
    for (const h of hist) if (h.feature) expect(h.feature.properties.manager_phone).toBe(masked(g1).phone);
  });

  it('the security audit also holds sign-ins (ok and failed), sign-outs and user changes; edits stay the default kind', async () => {
    const bad = await raw(server.url, '/api/session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'analyst', password: 'wrong-password-1' }) });
    expect(bad.status).toBe(401);
    const out = await raw(server.url, '/api/session', { method: 'DELETE', headers: { Cookie: cookies.get('planner')! } });
    expect(out.status).toBe(204);
    const changed = await raw(server.url, '/api/users/analyst', { method: 'PUT', headers: { Cookie: cookies.get('admin')!, 'Content-Type': 'application/json' }, body: JSON.stringify({ name: '研判员甲' }) });
    expect(changed.status, changed.body.toString().slice(0, 300)).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    const all = json(ok(await get('admin', '/api/audit?kind=security&limit=1000'))).items;
    const has = (action: string, pred: (x: any) => boolean) => all.some((x: any) => x.action === action && pred(x));
    expect(has('sign_in', (x) => x.actor === 'analyst:analyst')).toBe(true);
    expect(has('sign_in_failed', (x) => x.target === 'analyst' && x.detail.code === 'bad_credentials')).toBe(true);
    expect(has('sign_out', (x) => x.actor === 'planner:planner')).toBe(true);
    expect(has('user_changed', (x) => x.actor === 'admin:admin' && x.target === 'analyst' && x.detail.changed.includes('name'))).toBe(true);
    // Newest first, and no password or hash anywhere.
    expect(all.map((x: any) => x.at)).toEqual([...all.map((x: any) => x.at)].sort((a, b) => b - a));
    expect(JSON.stringify(all)).not.toMatch(/scrypt\$|wrong-password/);
    // Without kind: the edit audit as before issue 9 (the planner's save above), all: both, marked.
    const edits = json(ok(await get('admin', '/api/audit?layer=grids'))).items;
    expect(edits.length).toBeGreaterThan(0);
    expect(edits.every((x: any) => x.kind === 'edit')).toBe(true);
    const both = json(ok(await get('admin', '/api/audit?kind=all&limit=1000'))).items;
    expect(new Set(both.map((x: any) => x.kind))).toEqual(new Set(['edit', 'security']));
    expect((await get('admin', '/api/audit?kind=nope')).status).toBe(400);
  });

  it('incidents: the reporter (a grid manager) is masked for the analyst, full for the operator and the reporter', async () => {
    const me = `grid-${g1.code}`;
    const created = await post(me, '/api/incidents', { lon: g1.lon, lat: g1.lat, category: '0101', title: '井盖缺失', description: '测试脱敏', source: 'grid' });
    expect(created.status, created.body.toString().slice(0, 300)).toBe(201);
    const inc = json(created);
    expect(inc.gridCode).toBe(g1.code);
    const nameOf = async (user: string) => json(ok(await get(user, `/api/incidents/${inc.id}`))).incident.reporter.name;
    const real = await nameOf('operator');
    expect(real).toBeTruthy();
    expect(await nameOf(me)).toBe(real);
    expect(await nameOf('analyst')).toBe(maskName(real));
    const listed = json(ok(await get('analyst', `/api/incidents?grid=${g1.code}`))).items.find((x: any) => x.id === inc.id);
    expect(listed.reporter.name).toBe(maskName(real));
  });
});
