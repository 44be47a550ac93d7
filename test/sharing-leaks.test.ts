// Issue 10: a sensitive layer shared between departments, checked against EVERY route that can let it out.
// The analyst (公安局) asks for 危险化学品企业 (hazards, owned by 应急管理局, sensitive). Before approval each route
// refuses or omits it; after steward-emergency approves two towns for 7 days without contact_phone, each route
// answers exactly the hazards of those two towns (ids computed here from hazards.fgb by town code) and never
// contact_phone; once the server's clock passes the expiry, or a grant is revoked, everything refuses again at
// once (no restart, no cache). Responders (core) need two approvals. The operator (standing duty) and the steward
// (owner) see everything without a request. Tiles never carry the layer; publishing it is refused.
// Needs geodata/build with hazards.fgb (npm run data && npm run tiles).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CITY, getLayer } from '../layers/catalog.ts';
import { openFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import { DATA_DIR, startTestServer, WEB_DIR, type TestServer } from './helpers/browser.ts';
import { json, raw, type Raw } from './helpers/http.ts';
import { asUser } from './helpers/session.ts';

const DAY = 86_400_000;

function readFgb(bytes: Buffer) {
  return openFlatGeobuf(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}
const built = (name: string) => readFgb(readFileSync(join(DATA_DIR, `${name}.fgb`)));

/** The hazards as built, and two towns with hazards (the grant's), the rest elsewhere. */
function pickTowns() {
  const all = [...built('hazards').features()].map((f) => ({ props: f.properties as Record<string, unknown>, geometry: f.geometry }));
  const byTown = new Map<string, string[]>();
  for (const h of all) {
    const t = String(h.props.town_code);
    byTown.set(t, [...(byTown.get(t) ?? []), String(h.props.id)]);
  }
  // Two towns with a few hazards each (not the largest: the grant is a part of the layer).
  const towns = [...byTown].filter(([, ids]) => ids.length >= 3).sort((a, b) => a[1].length - b[1].length || (a[0] < b[0] ? -1 : 1)).slice(0, 2).map(([t]) => t);
  if (towns.length < 2) throw new Error('hazards.fgb has fewer than two towns with 3+ hazards: rebuild the data (npm run data)');
  const inside = new Set(all.filter((h) => towns.includes(String(h.props.town_code))).map((h) => String(h.props.id)));
  const outside = all.map((h) => String(h.props.id)).filter((id) => !inside.has(id));
  return { all, towns, inside, outside, allIds: new Set(all.map((h) => String(h.props.id))) };
}

const sorted = (ids: Iterable<string>) => [...ids].sort();
const CITY_POLYGON = (() => {
  const [w, s, e, n] = CITY.bounds;
  return { type: 'Polygon', coordinates: [[[w - 0.1, s - 0.1], [e + 0.1, s - 0.1], [e + 0.1, n + 0.1], [w - 0.1, n + 0.1], [w - 0.1, s - 0.1]]] };
})();

/** Minimal RFC 4180 reader (quoted fields, doubled quotes), for the CSV export. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], cell = '', q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') q = false; else cell += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(cell); cell = ''; } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell); rows.push(row); row = []; cell = '';
    } else cell += c;
  }
  if (cell || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

async function until<T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function openWs(base: string, headers: Record<string, string>): Promise<{ ws: WebSocket; frames: any[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`, { headers });
    const frames: any[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(String(d))));
    ws.once('open', () => resolve({ ws, frames }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`/ws upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

describe('sharing a sensitive layer: every route that can leak it', () => {
  const h = pickTowns();
  const hazards = getLayer('hazards')!;
  const granted = hazards.fields.map((f) => f.name).filter((n) => n !== 'contact_phone');
  const outsideId = h.outside[0];
  const insideId = sorted(h.inside)[0];
  let now = Date.parse('2026-06-01T08:00:00Z');
  let srv: TestServer;
  const c: Record<string, Record<string, string>> = {};
  let requestId = '';

  const get = (who: string, path: string) => raw(srv.url, path, { headers: c[who] });
  const post = (who: string, path: string, body: unknown) => raw(srv.url, path, { method: 'POST', headers: { ...c[who], 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const query = (who: string, extra: Record<string, unknown> = {}) => post(who, '/api/query', { geometry: CITY_POLYGON, layers: ['hazards'], predicate: 'intersects', limit: 1000, ...extra });
  const refused = (r: Raw, what: string, codes = ['grant_required']) => {
    expect(r.status, `${what}: ${r.body.toString().slice(0, 200)}`).toBe(403);
    expect(codes, what).toContain(json(r).error.code);
  };
  const fgbIds = (r: Raw) => {
    const f = readFgb(r.body);
    return { ids: [...f.features()].map((x) => String(x.properties!.id)), props: [...f.features()].map((x) => x.properties as Record<string, unknown>) };
  };

  /** Every read route, as the analyst: all refused (the state before approval and after expiry or revocation). */
  async function expectAllRefused(when: string): Promise<void> {
    refused(await get('analyst', '/data/hazards.fgb'), `${when}: /data/hazards.fgb`);
    const list = json(await get('analyst', '/ogc/collections'));
    expect(list.collections.map((x: { id: string }) => x.id), `${when}: /ogc/collections lists hazards`).not.toContain('hazards');
    refused(await get('analyst', '/ogc/collections/hazards'), `${when}: /ogc/collections/hazards`);
    refused(await get('analyst', '/ogc/collections/hazards/items?limit=10'), `${when}: /ogc items`);
    refused(await get('analyst', `/ogc/collections/hazards/items/${insideId}`), `${when}: /ogc item`);
    for (const format of ['json', 'csv', 'geojson', 'fgb']) refused(await query('analyst', { format }), `${when}: /api/query ${format}`);
    refused(await get('analyst', `/api/lookup?layer=hazards&id=${insideId}`), `${when}: /api/lookup`);
    refused(await get('analyst', '/api/hotspots?layer=hazards'), `${when}: /api/hotspots`);
    refused(await get('analyst', `/api/layers/hazards/features/${insideId}`), `${when}: feature`);
    refused(await get('analyst', `/api/layers/hazards/features/${insideId}/history`), `${when}: history`);
    const layers = json(await get('analyst', '/api/layers')).layers as { id: string; grade: string; access: string }[];
    expect(layers.find((l) => l.id === 'hazards'), `${when}: /api/layers`).toMatchObject({ grade: 'sensitive', access: 'none' });
  }

  /** steward-emergency edits a hazard; resolves with what the analyst's and the operator's sockets got. */
  async function layerEvent(): Promise<{ analyst: any[]; operator: any[] }> {
    const a = await openWs(srv.url, c.analyst);
    const o = await openWs(srv.url, c.operator);
    try {
      await until('hello', () => (a.frames.length && o.frames.length) || undefined);
      const cur = json(await get('steward', `/api/layers/hazards/features/${insideId}`));
      const props = { ...cur.feature.properties, storage_t: Math.round((Number(cur.feature.properties.storage_t) + 1) * 10) / 10 };
      const put = await raw(srv.url, `/api/layers/hazards/features/${insideId}`, {
        method: 'PUT', headers: { ...c.steward, 'Content-Type': 'application/json' },
        body: JSON.stringify({ feature: { geometry: cur.feature.geometry, properties: props }, version: cur.version, comment: '共享泄漏测试' }),
      });
      expect(put.status, put.body.toString().slice(0, 300)).toBe(200);
      const ev = (f: any[]) => f.filter((x) => x.type === 'layers' && x.layer === 'hazards');
      await until('the operator\'s layer event', () => ev(o.frames)[0]);
      // Frames keep their order per socket: a marker event after it bounds the wait for the analyst's.
      await new Promise((r) => setTimeout(r, 300));
      return { analyst: ev(a.frames), operator: ev(o.frames) };
    } finally {
      a.ws.close();
      o.ws.close();
    }
  }

  beforeAll(async () => {
    srv = await startTestServer({
      webDir: WEB_DIR, requireData: ['hazards.fgb', 'responders.fgb', 'overlay.pmtiles', 'basemap.pmtiles'],
      server: (dir) => ({
        clock: () => now, sweepIntervalMs: 0,
        // Patrol units are devices too (GET /api/devices): the responders layer by another route.
        telemetry: { mqttUrl: null, mqttPort: 0, clientId: `onemap-leaks-${process.pid}`, databaseUrl: null, file: join(dir, 'telemetry.sqlite'), tickMs: 0 },
      }),
    });
    for (const [k, u] of Object.entries({ analyst: 'analyst', steward: 'steward-emergency', stewardCity: 'steward-city', operator: 'operator', admin: 'admin', planner: 'planner' })) c[k] = await asUser(srv.url, u);
  }, 600_000);
  afterAll(async () => { await srv?.close(); });

  it('before a request: every route refuses the analyst, and the live feed sends no hazards event', async () => {
    await expectAllRefused('before the request');
    const ev = await layerEvent();
    expect(ev.operator.length, 'the operator (standing duty) gets the event').toBeGreaterThan(0);
    expect(ev.operator[0].ids).toContain(insideId);
    expect(ev.analyst, 'hazards events sent to the analyst without a grant').toEqual([]);
  }, 120_000);

  it('tiles never carry the layer, and publishing it to GeoServer is refused', async () => {
    for (const ts of ['overlay', 'basemap']) {
      const tj = json(await get('operator', `/tiles/${ts}.json`));
      expect((tj.vector_layers ?? []).map((l: { id: string }) => l.id), `${ts}.json`).not.toContain('hazards');
    }
    // The tiles over every hazard's town at z12 and z14 (the point's own tile).
    const keys = new Set<string>();
    for (const hz of h.all.slice(0, 60)) {
      const [lon, lat] = (hz.geometry as GeoJSON.Point).coordinates;
      for (const z of [12, 14]) {
        const n = 2 ** z, r = (lat * Math.PI) / 180;
        keys.add(`${z}/${Math.floor(((lon + 180) / 360) * n)}/${Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n)}`);
      }
    }
    let decoded = 0;
    for (const ts of ['overlay', 'basemap']) {
      for (const key of keys) {
        const r = await raw(srv.url, `/tiles/${ts}/${key}.mvt`, { headers: { ...c.operator, 'Accept-Encoding': 'gzip' } });
        if (r.status === 204 || r.status === 404) continue;
        expect(r.status, `${ts}/${key}`).toBe(200);
        const body = r.headers['content-encoding'] === 'gzip' ? gunzipSync(r.body) : r.body;
        const names = Object.keys(new VectorTile(new PbfReader(body)).layers);
        expect(names, `${ts}/${key}`).not.toContain('hazards');
        decoded++;
      }
    }
    expect(decoded, 'tiles decoded').toBeGreaterThan(10);
    const pub = await post('steward', '/api/publish', { layer: 'hazards' });
    expect(pub.status, pub.body.toString().slice(0, 200)).toBe(409);
    expect(json(pub).error.code).toBe('graded_layer');
    expect((await post('admin', '/api/publish', { layer: 'responders' })).status, 'a core layer').toBe(409);
  }, 120_000);

  it('the steward approves two towns for 7 days without contact_phone: each route answers exactly those hazards', async () => {
    const req = await post('analyst', '/api/catalog/hazards/requests', { purpose: '核查辖区危化企业周边治安防控点位（测试）', days: 30 });
    expect(req.status, req.body.toString().slice(0, 300)).toBe(201);
    requestId = json(req).request.id;
    await expectAllRefused('requested, not yet approved');
    const ok = await post('steward', `/api/sharing/${requestId}/approve`, { fields: granted, areas: h.towns, days: 7 });
    expect(ok.status, ok.body.toString().slice(0, 300)).toBe(200);
    expect(json(ok).request.status).toBe('approved');
    const want = sorted(h.inside);

    // /data/hazards.fgb: the rows of the two towns; the file's schema has no contact_phone column at all.
    const data = await get('analyst', '/data/hazards.fgb');
    expect(data.status).toBe(200);
    const file = fgbIds(data);
    expect(sorted(file.ids)).toEqual(want);
    expect(file.props.filter((p) => 'contact_phone' in p).length, 'contact_phone in /data').toBe(0);
    expect(readFgb(data.body).columns.map((col) => col.name), 'the file\'s columns').not.toContain('contact_phone');

    // /ogc: listed; items filtered before paging and counting; other rows are 404 like absent ones.
    expect(json(await get('analyst', '/ogc/collections')).collections.map((x: { id: string }) => x.id)).toContain('hazards');
    const items = json(await get('analyst', '/ogc/collections/hazards/items?limit=1000'));
    expect(items.numberMatched).toBe(want.length);
    expect(sorted(items.features.map((f: any) => String(f.id)))).toEqual(want);
    expect(items.features.filter((f: any) => 'contact_phone' in f.properties).length).toBe(0);
    const page = json(await get('analyst', '/ogc/collections/hazards/items?limit=2&offset=1'));
    expect([page.numberMatched, page.numberReturned], 'paging counts only the granted rows').toEqual([want.length, 2]);
    const one = await get('analyst', `/ogc/collections/hazards/items/${insideId}`);
    expect(one.status).toBe(200);
    expect(json(one).properties).not.toHaveProperty('contact_phone');
    expect((await get('analyst', `/ogc/collections/hazards/items/${outsideId}`)).status, 'a hazard outside the towns').toBe(404);
    const doc = json(await get('analyst', '/ogc/collections/hazards'));
    const [w, s, e, n] = doc.extent.spatial.bbox[0];
    for (const hz of h.all.filter((x) => h.inside.has(String(x.props.id)))) {
      const [lon, lat] = (hz.geometry as GeoJSON.Point).coordinates;
      expect(lon >= w && lon <= e && lat >= s && lat <= n).toBe(true);
    }

    // /api/query: JSON counts and features; CSV and GeoJSON exports; no filtering on a withheld field.
    const q = json(await query('analyst'));
    expect(q.layers[0]).toMatchObject({ layer: 'hazards', count: want.length, returned: want.length });
    expect(sorted(q.features.features.map((f: any) => String(f.id)))).toEqual(want);
    expect(q.features.features.filter((f: any) => 'contact_phone' in f.properties).length).toBe(0);
    const csv = await query('analyst', { format: 'csv' });
    expect(csv.status).toBe(200);
    const rows = parseCsv(csv.body.toString('utf8').replace(/^\uFEFF/, '')).filter((r) => r.length > 1);
    expect(rows[0]).not.toContain('contact_phone');
    expect(sorted(rows.slice(1).map((r) => r[rows[0].indexOf('id')]))).toEqual(want);
    const gj = await query('analyst', { format: 'geojson' });
    expect(gj.status).toBe(200);
    const fc = json(gj);
    expect(sorted(fc.features.map((f: any) => String(f.id)))).toEqual(want);
    expect(gj.body.toString()).not.toContain('contact_phone');
    const fgb = await query('analyst', { format: 'fgb' });
    expect(sorted(fgbIds(fgb).ids)).toEqual(want);
    const filt = await query('analyst', { where: { hazards: [{ field: 'contact_phone', op: 'prefix', value: '1' }] } });
    expect(filt.status).toBe(403);
    expect(json(filt).error.code).toBe('field_not_granted');
    const byShape = await post('analyst', '/api/query', { feature: { layer: 'hazards', id: outsideId }, layers: ['cameras'], predicate: 'dwithin', distance: 100 });
    expect(byShape.status, 'a query shaped by a hazard outside the grant').toBe(404);

    // /api/lookup, /api/hotspots, the editing GETs, /api/layers.
    expect((await get('analyst', `/api/lookup?layer=hazards&id=${insideId}`)).status).toBe(200);
    expect((await get('analyst', `/api/lookup?layer=hazards&id=${outsideId}`)).status).toBe(404);
    const hot = json(await get('analyst', '/api/hotspots?layer=hazards'));
    expect(hot.count, 'hot-spot points').toBe(want.length);
    const feat = await get('analyst', `/api/layers/hazards/features/${insideId}`);
    expect(feat.status).toBe(200);
    expect(json(feat).feature.properties).not.toHaveProperty('contact_phone');
    expect((await get('analyst', `/api/layers/hazards/features/${outsideId}`)).status).toBe(404);
    const hist = await get('analyst', `/api/layers/hazards/features/${insideId}/history`);
    expect(hist.status).toBe(200);
    expect(hist.body.toString()).not.toContain('contact_phone');
    expect((await get('analyst', `/api/layers/hazards/features/${outsideId}/history`)).status).toBe(404);
    const layers = json(await get('analyst', '/api/layers')).layers as { id: string; access: string }[];
    expect(layers.find((l) => l.id === 'hazards')?.access).toBe('grant');

    // The live feed: the event, without ids or bbox.
    const ev = await layerEvent();
    expect(ev.analyst.length, 'the analyst gets the layer event').toBeGreaterThan(0);
    expect(ev.analyst[0]).toMatchObject({ ids: [], bbox: null });

    // Use is logged: the requester sees the usage rows of their grant.
    const usage = await until('usage rows', async () => {
      const r = json(await get('analyst', `/api/sharing/${requestId}`));
      return r.usage?.length >= 5 ? r.usage as { route: string; rows: number; grantee: string }[] : undefined;
    });
    expect(usage.every((u) => u.grantee === 'analyst' && u.rows > 0)).toBe(true);
    expect(usage.some((u) => u.route.includes('/data/hazards.fgb') && u.rows === want.length)).toBe(true);
    expect(usage.some((u) => u.route.includes('/api/query'))).toBe(true);
  }, 180_000);

  it('after the clock passes the expiry: everything refused at once', async () => {
    now += 7 * DAY + 60_000;
    await expectAllRefused('after expiry');
    const ev = await layerEvent();
    expect(ev.analyst, 'hazards events after expiry').toEqual([]);
  }, 120_000);

  it('a revoked grant: refused at once', async () => {
    const req = await post('analyst', '/api/catalog/hazards/requests', { purpose: '再次申请：核查一个镇的危化企业（测试）', fields: ['name', 'kind'], areas: [h.towns[0]], days: 10 });
    expect(req.status, req.body.toString().slice(0, 300)).toBe(201);
    const id = json(req).request.id;
    expect((await post('steward', `/api/sharing/${id}/approve`, {})).status).toBe(200);
    const data = await get('analyst', '/data/hazards.fgb');
    expect(data.status).toBe(200);
    const inTown = h.all.filter((x) => String(x.props.town_code) === h.towns[0]).map((x) => String(x.props.id));
    const f = fgbIds(data);
    expect(sorted(f.ids)).toEqual(sorted(inTown));
    expect(Object.keys(f.props[0]).sort()).toEqual(['id', 'kind', 'name']);
    const rv = await post('steward', `/api/sharing/${id}/revoke`, { reason: '用途已完成，收回授权' });
    expect(rv.status, rv.body.toString().slice(0, 300)).toBe(200);
    await expectAllRefused('after revocation');
  }, 120_000);

  it('the operator (standing duty) and the steward (owner) see every hazard without a request; another planner does not', async () => {
    const total = h.allIds.size;
    for (const who of ['operator', 'steward', 'admin']) {
      const f = fgbIds(await get(who, '/data/hazards.fgb'));
      expect(sorted(f.ids), `${who}: /data/hazards.fgb`).toEqual(sorted(h.allIds));
      expect(json(await get(who, '/ogc/collections/hazards/items?limit=1')).numberMatched, `${who}: numberMatched`).toBe(total);
      expect(json(await query(who)).layers[0].count, `${who}: /api/query`).toBe(total);
    }
    refused(await get('planner', '/data/hazards.fgb'), 'a planner of 自然资源和规划局');
  }, 120_000);

  it('responders (core) need two approvals by two people, one of the owner department', async () => {
    refused(await get('analyst', '/data/responders.fgb'), 'responders before a request');
    const patrols = async (who: string) => json(await get(who, '/api/devices?kind=patrol&limit=2000')).items as { id: string; name: string }[];
    const duty = await patrols('operator');
    expect(duty.length, 'the duty desk sees the patrol units').toBeGreaterThan(0);
    expect(await patrols('analyst'), '/api/devices: patrol units (responders) without a grant').toEqual([]);
    const req = await post('analyst', '/api/catalog/responders/requests', { purpose: '联合处置演练：查看处置力量分布（测试）', fields: ['kind', 'grid_code'], areas: null, days: 3 });
    expect(req.status, req.body.toString().slice(0, 300)).toBe(201);
    const id = json(req).request.id;
    const first = await post('stewardCity', `/api/sharing/${id}/approve`, {});
    expect(first.status, first.body.toString().slice(0, 300)).toBe(200);
    expect(json(first).request.status).toBe('approving');
    refused(await get('analyst', '/data/responders.fgb'), 'responders after one approval');
    refused(await get('analyst', '/ogc/collections/responders/items?limit=1'), 'responders items after one approval');
    const second = await post('admin', `/api/sharing/${id}/approve`, {});
    expect(second.status, second.body.toString().slice(0, 300)).toBe(200);
    expect(json(second).request.status).toBe('approved');
    const f = fgbIds(await get('analyst', '/data/responders.fgb'));
    expect(f.ids.length).toBe(built('responders').count);
    expect(Object.keys(f.props[0]).sort(), 'only the granted fields (no names or phones)').toEqual(['grid_code', 'id', 'kind']);
    const seen = await patrols('analyst');
    expect(sorted(seen.map((d) => d.id)), '/api/devices under the grant').toEqual(sorted(duty.map((d) => d.id)));
    expect(seen.filter((d) => d.name !== d.id), 'patrol names (not granted) in /api/devices').toEqual([]);
  }, 120_000);
});
