// Issue 9's matrix: every rule of the one route table (tile-server/auth/policy.ts ROUTE_RULES) × every role and
// the anonymous visitor, each with a concrete request. Anonymous on a non-public route → 401; a role the rule
// (or, for `:layer` routes, LayerDef.roles) does not list → 403; otherwise neither 401 nor 403, and never a 5xx.
// Then the scope a rule cannot see: a grid manager and another grid's incident (403/404) versus their own (200),
// and the live feed (/ws): no anonymous upgrade, no other grid's incident events for a grid manager.
// Last, discovery: the paths named in README.md's route tables must each be covered by a rule, and every rule
// must have a sample here, so a new route cannot slip past either table.
// Needs geodata/build (npm run data && npm run tiles).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { getLayer, type Role } from '../layers/catalog.ts';
import { openFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import { methodsFor, ROUTE_RULES, ruleFor, type RouteRule } from '../tile-server/auth/policy.ts';
import { layerAccess } from '../layers/governance/access.ts';
import { departmentOf } from '../tile-server/auth/auth-service.ts';
import { pointOnGeometry } from '../tile-server/export-formats.ts';
import { DATA_DIR, startTestServer, WEB_DIR, type TestServer } from './helpers/browser.ts';
import { json, raw, type Raw } from './helpers/http.ts';
import { asUser, signIn } from './helpers/session.ts';

const ROOT = resolve(import.meta.dirname, '..');
type UserRole = Exclude<Role, 'public'>;
const ROLES: UserRole[] = ['admin', 'operator', 'grid_manager', 'planner', 'analyst'];

function readFgb(name: string) {
  const b = readFileSync(join(DATA_DIR, `${name}.fgb`));
  return openFlatGeobuf(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
}

/** Grid A (the grid manager's, with a facility in it) and another grid B, each with an interior point. */
function pickPlaces() {
  const fac = readFgb('facilities').features().next().value!;
  const gridA = String(fac.properties!.grid_code);
  let a: { lon: number; lat: number } | null = null, b: { code: string; lon: number; lat: number } | null = null;
  for (const g of readFgb('grids').features()) {
    const code = String(g.properties!.code);
    const p = pointOnGeometry(g.geometry);
    if (!p) continue;
    if (code === gridA) a = { lon: p[0], lat: p[1] };
    else if (!b) b = { code, lon: p[0], lat: p[1] };
    if (a && b) break;
  }
  if (!a || !b) throw new Error(`grids.fgb lacks grid ${gridA} or a second grid: rebuild the data (npm run data)`);
  return { facility: String(fac.properties!.id), gridA, pointA: a, gridB: b.code, pointB: { lon: b.lon, lat: b.lat } };
}

/** The z/x/y of the tile holding a point (Web Mercator). */
function tileAt(lon: number, lat: number, z: number): string {
  const n = 2 ** z;
  const x = Math.floor(((lon + 180) / 360) * n);
  const r = (lat * Math.PI) / 180;
  const y = Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n);
  return `${z}/${x}/${y}`;
}

interface Sample {
  path: string;
  body?: unknown;
  /** Raw bytes instead of JSON. */
  bytes?: Buffer;
  contentType?: string;
  headers?: Record<string, string>;
  /** The catalog layer the route reads or edits (its LayerDef.roles narrow the rule's roles). */
  layer?: string;
  /** A 5xx this sample may answer because an outside service is not configured in tests (its error code). */
  unavailable?: string;
  /** What a public route answers the anonymous visitor when that answer is the point (GET /api/session: nobody). */
  anonymous?: { status: number; code: string };
}

interface Ctx { places: ReturnType<typeof pickPlaces>; incidentA: string; tile: string; role: UserRole | null; n: number }

/**
 * One concrete request per rule (key: "METHOD pattern"). Bodies are valid where a write is harmless (a comment, a
 * report) and invalid (→ 400/415) where it would change shared state, so the order of the matrix does not matter.
 */
const SAMPLES: Record<string, (c: Ctx) => Sample> = {
  'GET /': () => ({ path: '/' }),
  'GET /assets/*': () => ({ path: '/assets/no-such-bundle.js' }),
  'GET /cesium/*': () => ({ path: '/cesium/Cesium.js' }),
  'GET /icons/*': () => ({ path: '/icons/icon-192.png' }),
  'GET /healthz': () => ({ path: '/healthz' }),
  'GET /tiles/basemap.json': () => ({ path: '/tiles/basemap.json' }),
  'GET /tiles/basemap/*': (c) => ({ path: `/tiles/basemap/${c.tile}.mvt` }),
  'GET /pmtiles/basemap.pmtiles': () => ({ path: '/pmtiles/basemap.pmtiles', headers: { Range: 'bytes=0-126' } }),
  'GET /terrain/*': () => ({ path: '/terrain/dem.json' }),
  'GET /api/session': () => ({ path: '/api/session', anonymous: { status: 401, code: 'not_signed_in' } }),
  // A wrong body (400), not a wrong password: a failed sign-in answers 401 by design.
  'POST /api/session': () => ({ path: '/api/session', body: { username: 42 } }),
  'DELETE /api/session': () => ({ path: '/api/session' }),
  'GET /tiles/:tileset.json': () => ({ path: '/tiles/overlay.json' }),
  'GET /tiles/:tileset/*': (c) => ({ path: `/tiles/overlay/${c.tile}.mvt` }),
  'GET /pmtiles/:tileset.pmtiles': () => ({ path: '/pmtiles/overlay.pmtiles', headers: { Range: 'bytes=0-126' } }),
  'GET /data/:layer.fgb': () => ({ path: '/data/responders.fgb', headers: { Range: 'bytes=0-99' }, layer: 'responders' }),
  'GET /ogc': () => ({ path: '/ogc' }),
  'GET /ogc/conformance': () => ({ path: '/ogc/conformance' }),
  'GET /ogc/api': () => ({ path: '/ogc/api' }),
  'GET /ogc/collections': () => ({ path: '/ogc/collections' }),
  'GET /ogc/collections/:layer': () => ({ path: '/ogc/collections/responders', layer: 'responders' }),
  'GET /ogc/collections/:layer/items': () => ({ path: '/ogc/collections/responders/items?limit=2', layer: 'responders' }),
  'GET /ogc/collections/:layer/items/:id': (c) => ({ path: `/ogc/collections/responders/items/gm-${c.places.gridA}`, layer: 'responders' }),
  'POST /api/address/parse': () => ({ path: '/api/address/parse', body: { text: '常熟市虞山街道海虞北路1号' } }),
  'GET /api/address/:name': () => ({ path: `/api/address/search?q=${encodeURIComponent('海虞北路')}&limit=1` }),
  'GET /api/lookup': (c) => ({ path: `/api/lookup?lon=${c.places.pointA.lon}&lat=${c.places.pointA.lat}` }),
  'GET /api/query': () => ({ path: '/api/query' }),
  'POST /api/query': (c) => {
    const { lon, lat } = c.places.pointA, d = 0.002;
    return { path: '/api/query', body: { geometry: { type: 'Polygon', coordinates: [[[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d], [lon - d, lat - d]]] }, layers: ['cameras'], limit: 5 } };
  },
  'GET /api/hotspots': () => ({ path: '/api/hotspots?layer=incidents&from=2024-01-01&to=2024-03-01' }),
  'GET /api/incidents/categories': () => ({ path: '/api/incidents/categories' }),
  'GET /api/incidents': () => ({ path: '/api/incidents?limit=5' }),
  'POST /api/incidents': (c) => ({
    path: '/api/incidents', headers: { 'Idempotency-Key': `matrix-${c.role ?? 'anonymous'}-${c.n}` },
    body: { ...c.places.pointA, category: '0101', title: '权限矩阵测试', description: `角色 ${c.role ?? 'anonymous'}`, source: 'grid' },
  }),
  'GET /api/incidents/:id': (c) => ({ path: `/api/incidents/${c.incidentA}` }),
  'POST /api/incidents/:id/transitions': (c) => ({ path: `/api/incidents/${c.incidentA}/transitions`, body: { action: 'comment', reason: '权限矩阵测试备注' } }),
  'GET /api/incidents/:id/candidates': (c) => ({ path: `/api/incidents/${c.incidentA}/candidates?limit=2` }),
  'POST /api/incidents/:id/dispatch': (c) => ({ path: `/api/incidents/${c.incidentA}/dispatch`, body: {} }),
  'POST /api/incidents/:id/attachments': (c) => ({ path: `/api/incidents/${c.incidentA}/attachments?kind=before`, bytes: Buffer.from('not an image'), contentType: 'image/png' }),
  'GET /api/attachments/:id': () => ({ path: '/api/attachments/no-such-attachment' }),
  'POST /api/responders/:id/position': (c) => ({ path: `/api/responders/gm-${c.places.gridA}/position`, body: c.places.pointA }),
  'GET /api/devices': () => ({ path: '/api/devices?limit=1' }),
  'GET /api/devices/:id': () => ({ path: '/api/devices/no-such-device' }),
  'GET /api/alarms': () => ({ path: '/api/alarms' }),
  'GET /api/device-health': () => ({ path: '/api/device-health' }),
  'GET /api/rules': () => ({ path: '/api/rules' }),
  'PUT /api/rules': () => ({ path: '/api/rules', body: { rules: 'not a list' } }),
  'GET /api/telemetry/stats': () => ({ path: '/api/telemetry/stats' }),
  // H3: the data catalog (metadata of graded layers too: no `layer`, every signed-in role gets 200).
  'GET /api/catalog': () => ({ path: `/api/catalog?q=${encodeURIComponent('危险')}` }),
  'GET /api/catalog/:name': () => ({ path: '/api/catalog/hazards' }),
  // H1: sharing. A purpose too short (400) changes nothing; rights on a request are the service's (404 for an unknown id).
  'POST /api/catalog/:name/requests': () => ({ path: '/api/catalog/hazards/requests', body: { purpose: '短', days: 7 }, layer: 'hazards' }),
  'GET /api/sharing': () => ({ path: '/api/sharing?box=mine' }),
  'GET /api/sharing/:id': () => ({ path: '/api/sharing/sr-00000000-none' }),
  'POST /api/sharing/:id/approve': () => ({ path: '/api/sharing/sr-00000000-none/approve', body: {} }),
  'POST /api/sharing/:id/refuse': () => ({ path: '/api/sharing/sr-00000000-none/refuse', body: { reason: '权限矩阵测试' } }),
  'POST /api/sharing/:id/revoke': () => ({ path: '/api/sharing/sr-00000000-none/revoke', body: { reason: '权限矩阵测试' } }),
  'POST /api/sharing/:id/feedback': () => ({ path: '/api/sharing/sr-00000000-none/feedback', body: { text: '权限矩阵测试' } }),
  'GET /api/layers': () => ({ path: '/api/layers' }),
  'GET /api/layers/:layer/features/:id': (c) => ({ path: `/api/layers/facilities/features/${c.places.facility}`, layer: 'facilities' }),
  'GET /api/layers/:layer/features/:id/history': (c) => ({ path: `/api/layers/facilities/features/${c.places.facility}/history`, layer: 'facilities' }),
  'POST /api/layers/:layer/features': () => ({ path: '/api/layers/facilities/features', body: { feature: 'not a feature' }, layer: 'facilities' }),
  'PUT /api/layers/:layer/features/:id': (c) => ({ path: `/api/layers/facilities/features/${c.places.facility}`, body: { version: 'x' }, layer: 'facilities' }),
  // A version that is not a number: 400 before anything is deleted.
  'DELETE /api/layers/:layer/features/:id': (c) => ({ path: `/api/layers/facilities/features/${c.places.facility}?version=x`, layer: 'facilities' }),
  'POST /api/layers/:layer/features/:id/restore': (c) => ({ path: `/api/layers/facilities/features/${c.places.facility}/restore`, body: { version: 'x' }, layer: 'facilities' }),
  'POST /api/layers/:layer/edits': () => ({ path: '/api/layers/facilities/edits', body: { changes: [] }, layer: 'facilities' }),
  'POST /api/layers/:layer/validate': () => ({ path: '/api/layers/facilities/validate', body: {}, layer: 'facilities' }),
  'POST /api/imports': () => ({ path: '/api/imports?layer=facilities&mode=preview&filename=empty.geojson', bytes: Buffer.from('{"type":"FeatureCollection","features":[]}'), contentType: 'application/geo+json', layer: 'facilities' }),
  'POST /api/publish': () => ({ path: '/api/publish', body: { layer: 'facilities' }, unavailable: 'geoserver_not_configured' }),
  'GET /api/audit': () => ({ path: '/api/audit?limit=1' }),
  // H4: retention. A purge is harmless here: the test server's rows are all inside their periods (expired sessions aside).
  'GET /api/lifecycle': () => ({ path: '/api/lifecycle' }),
  'POST /api/lifecycle/purge': () => ({ path: '/api/lifecycle/purge' }),
  'GET /api/users': () => ({ path: '/api/users' }),
  'POST /api/users': () => ({ path: '/api/users', body: { username: '' } }),
  'GET /api/users/:username': () => ({ path: '/api/users/analyst' }),
  'PUT /api/users/:username': () => ({ path: '/api/users/no-such-user-9', body: { name: '无此人' } }),
  'DELETE /api/users/:username': () => ({ path: '/api/users/no-such-user-9' }),
  'GET /api/wall/summary': () => ({ path: '/api/wall/summary' }),
  // H5: the indicator system. Writes get invalid bodies (422) or unknown ids (404); a computation is harmless.
  'GET /api/indicators': () => ({ path: '/api/indicators?level=town' }),
  'GET /api/indicators/series': (c) => ({ path: `/api/indicators/series?indicator=dispatch_minutes&level=grid&code=${c.places.gridA}` }),
  'GET /api/indicators/definitions': () => ({ path: '/api/indicators/definitions' }),
  'POST /api/indicators/definitions': () => ({ path: '/api/indicators/definitions', body: { id: 'X' } }),
  'PUT /api/indicators/definitions/:id': () => ({ path: '/api/indicators/definitions/no_such_indicator', body: { name: '' } }),
  'DELETE /api/indicators/definitions/:id': () => ({ path: '/api/indicators/definitions/no_such_indicator' }),
  'POST /api/indicators/preview': () => ({ path: '/api/indicators/preview', body: { formula: '1 +', level: 'town' } }),
  'POST /api/indicators/compute': () => ({ path: '/api/indicators/compute', body: {} }),
  'POST /api/wall': () => ({ path: '/api/wall', body: { cmd: 'no-such-command' } }),
  'POST /api/patrols/checkin': (c) => ({ path: '/api/patrols/checkin', body: { ...c.places.pointA, at: Date.now() } }),
  'GET /api/patrols/track': () => ({ path: '/api/patrols/track?date=2026-01-01' }),
  'GET /ws': () => ({ path: '/ws' }),
  'GET /mqtt': () => ({ path: '/mqtt' }),
  'GET /*': () => ({ path: '/manifest.webmanifest' }),
};

const keyOf = (r: RouteRule) => `${r.method} ${r.pattern}`;

type Expect = 'ok' | 401 | 403;
function expected(rule: RouteRule, role: UserRole | null, s: Sample): Expect {
  if (rule.roles === 'public') return 'ok';
  if (!role) return 401;
  if (rule.roles !== 'signed_in' && !rule.roles.includes(role)) return 403;
  if (s.layer && rule.layerData) {
    // Issue 10: the layer's grade decides (the demo users have their role's default department; no grants here):
    // responders are core (城运中心's), so planners and analysts get 403 grant_required.
    const a = layerAccess({ id: role, role, department: departmentOf({ role, department: null }) }, getLayer(s.layer)!, [], Date.now());
    if (a.kind === 'none') return 403;
  } else if (s.layer && !getLayer(s.layer)!.roles.includes(role)) return 403;
  return 'ok';
}

async function send(base: string, method: string, s: Sample, cookie: Record<string, string>): Promise<Raw> {
  const headers: Record<string, string> = { ...cookie, ...s.headers };
  let body: string | Buffer | undefined;
  if (s.bytes) { body = s.bytes; headers['Content-Type'] = s.contentType ?? 'application/octet-stream'; }
  else if (s.body !== undefined) { body = JSON.stringify(s.body); headers['Content-Type'] = 'application/json'; }
  return raw(base, s.path, { method: method === '*' ? 'GET' : method, headers, body });
}

/** Opens /ws with these headers: the socket and its frames, or the HTTP status that refused the upgrade. */
function openWs(base: string, headers: Record<string, string>, path = '/ws'): Promise<{ ws: WebSocket; frames: any[] } | { status: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}${path}`, path === '/mqtt' ? ['mqtt'] : [], { headers });
    const frames: any[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(String(d))));
    ws.once('open', () => resolve({ ws, frames }));
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0 }));
    ws.once('error', () => resolve({ status: -1 }));
  });
}

async function until<T>(what: string, f: () => T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('security matrix: every route rule × every role', () => {
  const places = pickPlaces();
  const gm = `grid-${places.gridA}`;
  const usernames: Record<UserRole, string> = { admin: 'admin', operator: 'operator', grid_manager: gm, planner: 'planner', analyst: 'analyst' };
  let srv: TestServer;
  const cookies = {} as Record<UserRole, Record<string, string>>;
  let incidentA = '';
  let incidentB = '';

  beforeAll(async () => {
    srv = await startTestServer({
      webDir: WEB_DIR, requireData: ['basemap.pmtiles', 'overlay.pmtiles', 'grids.fgb', 'facilities.fgb', 'responders.fgb'],
      server: (dir) => ({ sweepIntervalMs: 0, auth: { signInPerMinute: 1000 }, telemetry: { mqttUrl: null, mqttPort: 0, clientId: `onemap-matrix-${process.pid}`, databaseUrl: null, file: join(dir, 'telemetry.sqlite'), tickMs: 0 } }),
    });
    await srv.server.incidents;
    for (const role of ROLES) cookies[role] = await asUser(srv.url, usernames[role]);
    const report = async (p: { lon: number; lat: number }, key: string) => {
      const r = await raw(srv.url, '/api/incidents', {
        method: 'POST', headers: { ...cookies.operator, 'Content-Type': 'application/json', 'Idempotency-Key': key },
        body: JSON.stringify({ ...p, category: '0101', title: '矩阵测试事件', description: '权限矩阵', source: 'hotline' }),
      });
      expect(r.status, r.body.toString()).toBe(201);
      return json(r) as { id: string; gridCode: string };
    };
    const a = await report(places.pointA, 'matrix-setup-a');
    const b = await report(places.pointB, 'matrix-setup-b');
    expect(a.gridCode).toBe(places.gridA);
    expect(b.gridCode).toBe(places.gridB);
    incidentA = a.id;
    incidentB = b.id;
  }, 600_000);

  afterAll(async () => { await srv?.close(); });

  it('has a sample request for every rule in ROUTE_RULES', () => {
    const missing = ROUTE_RULES.map(keyOf).filter((k) => !SAMPLES[k]);
    expect(missing, 'rules without a sample in test/security-matrix.test.ts SAMPLES: add one').toEqual([]);
    for (const [k, f] of Object.entries(SAMPLES)) {
      const [method] = k.split(' ');
      const s = f({ places, incidentA: 'x', tile: '0/0/0', role: null, n: 0 });
      expect(ruleFor(method, s.path), `${k}: its sample ${s.path} is matched by another rule`).toBe(ROUTE_RULES.find((r) => keyOf(r) === k));
    }
  });

  it('answers 401 / 403 / allowed exactly as the table says, and never a 5xx', async () => {
    const tile = tileAt(places.pointA.lon, places.pointA.lat, 14);
    const failures: string[] = [];
    let n = 0;
    // Sign-out last: it ends the session the other requests use.
    const rules = [...ROUTE_RULES].filter((r) => keyOf(r) !== 'GET /ws' && keyOf(r) !== 'GET /mqtt')
      .sort((x, y) => Number(keyOf(x) === 'DELETE /api/session') - Number(keyOf(y) === 'DELETE /api/session'));
    for (const rule of rules) {
      if (!SAMPLES[keyOf(rule)]) { failures.push(`${keyOf(rule)}: no sample (see the test above)`); continue; }
      for (const role of [null, ...ROLES]) {
        const s = SAMPLES[keyOf(rule)]({ places, incidentA, tile, role, n: n++ });
        const want = expected(rule, role, s);
        const r = await send(srv.url, rule.method, s, role ? cookies[role] : {});
        const code = r.status >= 400 ? (() => { try { return json(r).error?.code; } catch { return undefined; } })() : undefined;
        const who = role ?? 'anonymous';
        const line = `${rule.method} ${s.path} as ${who}: HTTP ${r.status}${code ? ` ${code}` : ''}, expected ${want === 'ok' ? 'allowed' : want}`;
        if (!role && s.anonymous) {
          if (r.status !== s.anonymous.status || code !== s.anonymous.code) failures.push(`${line}; this route answers nobody ${s.anonymous.status} ${s.anonymous.code}`);
        } else if (r.status >= 500 && !(s.unavailable && code === s.unavailable)) failures.push(`${line} (5xx)`);
        else if (want === 'ok' && (r.status === 401 || r.status === 403)) failures.push(line);
        else if (want !== 'ok' && r.status !== want) failures.push(line);
      }
    }
    expect(failures, failures.join('\n')).toEqual([]);
  }, 300_000);

  it('keeps a grid manager to their grid: another grid\'s incident is 403/404, their own is 200', async () => {
    // Sign-out above ended the sessions: sign in again.
    const gmCookie = await asUser(srv.url, gm);
    const own = await raw(srv.url, `/api/incidents/${incidentA}`, { headers: gmCookie });
    expect(own.status, own.body.toString()).toBe(200);
    expect(json(own).incident.gridCode).toBe(places.gridA);
    const other = await raw(srv.url, `/api/incidents/${incidentB}`, { headers: gmCookie });
    expect([403, 404], `another grid's incident answered ${other.status}`).toContain(other.status);
    const act = await raw(srv.url, `/api/incidents/${incidentB}/transitions`, {
      method: 'POST', headers: { ...gmCookie, 'Content-Type': 'application/json' }, body: JSON.stringify({ action: 'comment', reason: '越权尝试' }),
    });
    expect([403, 404], `a transition on another grid's incident answered ${act.status}`).toContain(act.status);
    const list = json(await raw(srv.url, '/api/incidents?limit=1000', { headers: gmCookie })) as { items: { id: string; gridCode: string }[] };
    expect(list.items.map((i) => i.id)).toContain(incidentA);
    expect(list.items.filter((i) => i.gridCode !== places.gridA), 'incidents of other grids in a grid manager\'s list').toEqual([]);
  });

  it('/mqtt (MQTT over WebSocket: publishing raises alarms) only for operators and admins', async () => {
    const status = async (headers: Record<string, string>) => {
      const r = await openWs(srv.url, headers, '/mqtt');
      if ('ws' in r) { r.ws.terminate(); return 101; }
      return r.status;
    };
    expect(await status({}), 'anonymous /mqtt').toBe(401);
    expect(await status(await asUser(srv.url, 'analyst')), 'analyst /mqtt').toBe(403);
    expect(await status(await asUser(srv.url, gm)), 'grid manager /mqtt').toBe(403);
    expect(await status(await asUser(srv.url, 'operator')), 'operator /mqtt').toBe(101);
  });

  it('/ws: signing out closes that session\'s socket; an admin changing a user closes theirs', async () => {
    const closed = (ws: WebSocket) => new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    const { cookie } = await signIn(srv.url, 'analyst');
    const mine = await openWs(srv.url, { Cookie: cookie });
    const other = await openWs(srv.url, await asUser(srv.url, 'operator'));
    if ('status' in mine || 'status' in other) throw new Error('signed-in /ws upgrade refused');
    const gone = closed(mine.ws);
    const out = await raw(srv.url, '/api/session', { method: 'DELETE', headers: { Cookie: cookie, 'Content-Length': '0' } });
    expect(out.status).toBeLessThan(300);
    expect(await gone, 'close code of the signed-out socket').toBe(4401);
    expect(other.ws.readyState, 'another user\'s socket stays open').toBe(WebSocket.OPEN);
    // The admin changes the operator's name: their open socket goes (it reconnects under the new record).
    const otherGone = closed(other.ws);
    const admin = await asUser(srv.url, 'admin');
    const put = await raw(srv.url, '/api/users/operator', { method: 'PUT', headers: { ...admin, 'Content-Type': 'application/json' }, body: JSON.stringify({ name: '值班调度员' }) });
    expect(put.status, put.body.toString()).toBe(200);
    expect(await otherGone).toBe(4401);
  });

  it('/ws: refuses an anonymous upgrade, and a grid manager gets no event of another grid', async () => {
    const anon = await openWs(srv.url, {});
    expect('status' in anon ? anon.status : 'opened', 'anonymous /ws upgrade').toBe(401);

    const op = await asUser(srv.url, 'operator');
    const gmCookie = await asUser(srv.url, gm);
    const opWs = await openWs(srv.url, op);
    const gmWs = await openWs(srv.url, gmCookie);
    if ('status' in opWs || 'status' in gmWs) throw new Error(`signed-in /ws upgrade refused: operator ${JSON.stringify(opWs)}, grid manager ${JSON.stringify(gmWs)}`);
    try {
      await until('hello frames', () => (opWs.frames.some((f) => f.type === 'hello') && gmWs.frames.some((f) => f.type === 'hello')) || undefined);
      const report = async (p: { lon: number; lat: number }, key: string) => {
        const r = await raw(srv.url, '/api/incidents', {
          method: 'POST', headers: { ...op, 'Content-Type': 'application/json', 'Idempotency-Key': key },
          body: JSON.stringify({ ...p, category: '0101', title: '推送范围测试', description: '权限矩阵', source: 'hotline' }),
        });
        expect(r.status, r.body.toString()).toBe(201);
        return (json(r) as { id: string }).id;
      };
      // B first, then A: frames keep their order, so once A's event reached the grid manager, B's would have too.
      const idB = await report(places.pointB, 'matrix-ws-b');
      await until('the operator to get grid B\'s event', () => opWs.frames.find((f) => f.type === 'incident' && f.incident?.id === idB));
      const idA = await report(places.pointA, 'matrix-ws-a');
      await until('the grid manager to get their grid\'s event', () => gmWs.frames.find((f) => f.type === 'incident' && f.incident?.id === idA));
      const leaked = gmWs.frames.filter((f) => f.type === 'incident' && f.incident?.gridCode !== places.gridA);
      expect(leaked.map((f) => `${f.incident?.id} (grid ${f.incident?.gridCode})`), 'other grids\' incident events sent to a grid manager').toEqual([]);
    } finally {
      opWs.ws.close();
      gmWs.ws.close();
    }
  });
});

describe('masking of personal fields per role (/ogc, /data, /api/lookup, /api/query)', () => {
  const places = pickPlaces();
  const gm = `grid-${places.gridA}`;
  /** grids.fgb as built: the managers' names in full. */
  const built = new Map([...readFgb('grids').features()].map((f) => [String(f.properties!.code), f.properties as Record<string, unknown>]));
  const fullA = String(built.get(places.gridA)!.manager_name);
  const fullB = String(built.get(places.gridB)!.manager_name);
  let srv: TestServer;
  const cookie: Record<string, Record<string, string>> = {};

  beforeAll(async () => {
    srv = await startTestServer({ webDir: WEB_DIR, server: { auth: { signInPerMinute: 1000 }, telemetry: false } });
    for (const u of ['operator', 'analyst', 'planner', gm]) cookie[u] = await asUser(srv.url, u);
  }, 600_000);
  afterAll(async () => { await srv?.close(); });

  const item = async (who: string, code: string, headers: Record<string, string> = {}) => {
    const r = await raw(srv.url, `/ogc/collections/grids/items/${code}`, { headers: { ...cookie[who], ...headers } });
    expect(r.status, r.body.toString().slice(0, 300)).toBe(200);
    return json(r).properties as Record<string, unknown>;
  };
  const isMasked = (v: unknown, full: string) => typeof v === 'string' && v !== full && v.includes('*');

  it('/ogc: operator in full, analyst and planner masked, a grid manager in full in their own grid only', async () => {
    expect((await item('operator', places.gridA)).manager_name).toBe(fullA);
    for (const who of ['analyst', 'planner']) {
      const p = await item(who, places.gridA);
      expect(isMasked(p.manager_name, fullA), `${who} sees manager_name ${String(p.manager_name)}`).toBe(true);
      expect(isMasked(p.manager_phone, String(built.get(places.gridA)!.manager_phone)), `${who} sees manager_phone ${String(p.manager_phone)}`).toBe(true);
    }
    expect((await item(gm, places.gridA)).manager_name).toBe(fullA);
    expect(isMasked((await item(gm, places.gridB)).manager_name, fullB), 'a grid manager sees another grid\'s manager masked').toBe(true);
  });

  it('an analyst unmasks with a stated reason (percent-encoded UTF-8 in the header), and only with one', async () => {
    expect((await item('analyst', places.gridA, { 'X-OneMap-Unmask-Reason': encodeURIComponent('核查网格员联系方式（工单 2026-118）') })).manager_name).toBe(fullA);
    const short = await raw(srv.url, `/ogc/collections/grids/items/${places.gridA}`, { headers: { ...cookie.analyst, 'X-OneMap-Unmask-Reason': 'x' } });
    expect(short.status, 'a reason shorter than 5 characters').toBe(400);
  });

  it('/data/grids.fgb: the analyst\'s file carries masked names, the operator\'s the built ones', async () => {
    const names = async (who: string) => {
      const r = await raw(srv.url, '/data/grids.fgb', { headers: cookie[who] });
      expect(r.status).toBe(200);
      const f = openFlatGeobuf(new Uint8Array(r.body.buffer, r.body.byteOffset, r.body.byteLength));
      return new Map([...f.features()].map((x) => [String(x.properties!.code), x.properties!.manager_name]));
    };
    expect((await names('operator')).get(places.gridA)).toBe(fullA);
    const analyst = await names('analyst');
    expect(isMasked(analyst.get(places.gridA), fullA), `analyst's /data has ${String(analyst.get(places.gridA))}`).toBe(true);
    const unmasked = [...analyst].filter(([code, v]) => v === built.get(code)?.manager_name).map(([code]) => code);
    expect(unmasked, 'grids whose manager name is in full in the analyst\'s file').toEqual([]);
  });

  it('/api/lookup and /api/query: the grid manager\'s name masked for the analyst, in full for the operator', async () => {
    const lookup = async (who: string) => json(await raw(srv.url, `/api/lookup?lon=${places.pointA.lon}&lat=${places.pointA.lat}`, { headers: cookie[who] }));
    expect((await lookup('operator')).grid.manager.name).toBe(fullA);
    const la = await lookup('analyst');
    expect(isMasked(la.grid.manager.name, fullA), `analyst's lookup: ${la.grid.manager.name}`).toBe(true);
    const { lon, lat } = places.pointA;
    const body = JSON.stringify({ geometry: { type: 'Point', coordinates: [lon, lat] }, layers: ['grids'], predicate: 'intersects' });
    const query = async (who: string) => json(await raw(srv.url, '/api/query', { method: 'POST', headers: { ...cookie[who], 'Content-Type': 'application/json' }, body }));
    const q = (r: any) => (r.features.features as { properties: Record<string, unknown> }[]).find((f) => f.properties.code === places.gridA)!.properties.manager_name;
    expect(q(await query('operator'))).toBe(fullA);
    expect(isMasked(q(await query('analyst')), fullA)).toBe(true);
  });
});

describe('session expiry (a controllable clock)', () => {
  let now = Date.parse('2026-06-01T08:00:00Z');
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ webDir: WEB_DIR, server: { auth: { clock: () => now, idleMs: 30 * 60_000, absoluteMs: 12 * 3600_000 }, telemetry: false } });
  }, 600_000);
  afterAll(async () => { await srv?.close(); });
  const who = async (c: Record<string, string>) => raw(srv.url, '/api/session', { headers: c });

  it('ends a session idle for longer than 30 minutes with 401 session_expired', async () => {
    const c = await asUser(srv.url, 'operator');
    expect((await who(c)).status).toBe(200);
    now += 29 * 60_000;
    expect((await who(c)).status, 'used within 30 min: still valid').toBe(200);
    now += 29 * 60_000;
    expect((await who(c)).status, 'idle time counts from the last use').toBe(200);
    now += 31 * 60_000;
    const r = await who(c);
    expect(r.status).toBe(401);
    expect(json(r).error.code).toBe('session_expired');
    // A data route says the same, so the client can show the sign-in form again.
    expect((await raw(srv.url, '/api/layers', { headers: c })).status).toBe(401);
  });

  it('ends even a busy session after 12 hours', async () => {
    const c = await asUser(srv.url, 'analyst');
    const start = now;
    while (now - start < 12 * 3600_000 - 20 * 60_000) {
      now += 20 * 60_000;
      expect((await who(c)).status, `after ${((now - start) / 3600_000).toFixed(1)} h of use`).toBe(200);
    }
    now += 25 * 60_000;
    const r = await who(c);
    expect(r.status).toBe(401);
    expect(json(r).error.code).toBe('session_expired');
  });
});

/** Example values for the placeholders README's route tables use. */
function expandPlaceholders(path: string, gridA: string, facility: string): string[] {
  const subst: Record<string, string[]> = {
    tileset: ['basemap', 'overlay'], layer: ['grids', 'responders'], z: ['14'], x: ['13720'], y: ['6698'],
    code: ['320581000000000000'], id: [`gm-${gridA}`, facility], deviceId: ['wl-0001'], kind: ['water_level'], username: ['analyst'],
  };
  let out = [path];
  // {a,b} alternatives first, then named placeholders.
  for (;;) {
    const next: string[] = [];
    let changed = false;
    for (const p of out) {
      const m = /\{([^{}]+)\}/.exec(p);
      if (!m) { next.push(p); continue; }
      changed = true;
      const inner = m[1];
      const values = inner.includes(',') ? inner.split(',') : subst[inner];
      if (!values) throw new Error(`README path ${path}: no example value for {${inner}}; add one to expandPlaceholders`);
      for (const v of values) next.push(p.slice(0, m.index) + v + p.slice(m.index + m[0].length));
    }
    out = next;
    if (!changed) return out;
  }
}

/** (method, path) pairs named in the first column of every "| path |" / "| route |" table of a README; method
 *  null where the README names none (then any rule on the path covers it). */
function readmeRoutes(file: string): { method: string | null; path: string; from: string }[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: { method: string | null; path: string; from: string }[] = [];
  let inTable = false;
  for (const line of lines) {
    if (/^\|\s*(path|route)\s*\|/.test(line)) { inTable = true; continue; }
    if (!line.startsWith('|')) { inTable = false; continue; }
    if (!inTable || /^\|\s*-/.test(line)) continue;
    const cell = line.split('|')[1];
    // A method written before the code spans applies to all of them ("GET /api/lookup, POST /api/query" carry their own).
    for (const m of cell.matchAll(/(?:\b(GET\/PUT|GET|POST|PUT|DELETE|OPTIONS)\s+)?`([^`]+)`/g)) {
      let spec = m[2].trim();
      let methods: (string | null)[] = m[1] ? m[1].split('/') : [null];
      const inner = /^(GET\/PUT|GET|POST|PUT|DELETE|OPTIONS)\s+(.*)$/.exec(spec);
      if (inner) { methods = inner[1].split('/'); spec = inner[2]; }
      if (!spec.startsWith('/') || methods.includes('OPTIONS')) continue; // MQTT topics, `OPTIONS *`
      spec = spec.replace(/[…]+$/, '').replace(/\s.*$/, '').replace(/\?.*$/, '');
      if (spec === '/cesium/') spec = '/cesium/Cesium.js';
      for (const method of methods) out.push({ method, path: spec, from: `${file.slice(ROOT.length + 1)}: ${cell.trim().slice(0, 80)}` });
    }
  }
  return out;
}

describe('discovery: the routes the READMEs name are all in the policy table', () => {
  const places = pickPlaces();
  const files = [join(ROOT, 'README.md'), join(ROOT, 'tile-server', 'README.md')];
  const routes = files.flatMap(readmeRoutes).flatMap((r) => expandPlaceholders(r.path, places.gridA, places.facility).map((path) => ({ ...r, path })));

  it('finds the route tables (the parser still reads the READMEs)', () => {
    const paths = new Set(routes.map((r) => r.path));
    for (const p of ['/tiles/overlay.json', '/ogc/collections/grids/items', '/api/incidents', '/ws', '/healthz', '/api/query']) expect(paths).toContain(p);
    expect(routes.length).toBeGreaterThan(30);
  });

  it('covers every path with a rule (a route without one would answer 404 to everybody)', () => {
    const covered = (r: { method: string | null; path: string }) => (r.method ? ruleFor(r.method, r.path) !== null : methodsFor(r.path).length > 0);
    const uncovered = routes.filter((r) => !covered(r)).map((r) => `${r.method ?? 'any method'} ${r.path}  ← ${r.from}`);
    expect(uncovered, `routes the READMEs name but tile-server/auth/policy.ts ROUTE_RULES does not cover:\n${uncovered.join('\n')}`).toEqual([]);
  });
});
