import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import type { EditFeature, FeatureVersion } from '../../../layers/editing/model.ts';
import { useEditingStore } from './editing.ts';

const BASE = 'http://127.0.0.1:9';
const A: EditFeature = { type: 'Feature', id: 'g-a', properties: { id: 'g-a', name: '甲', village_code: '320581001001' },
  geometry: { type: 'Polygon', coordinates: [[[120, 31], [120.01, 31], [120.01, 31.01], [120, 31.01], [120, 31]]] } };
const B: EditFeature = { type: 'Feature', id: 'g-b', properties: { id: 'g-b', name: '乙' },
  geometry: { type: 'Polygon', coordinates: [[[120.01, 31], [120.02, 31], [120.02, 31.01], [120.01, 31.01], [120.01, 31]]] } };

interface Call { method: string; url: string; body: unknown; actor: string | null }
type Route = (c: Call) => { status: number; body: unknown } | undefined;

function stub(routes: Route[]) {
  const calls: Call[] = [];
  const fetch = async (url: string, init: RequestInit = {}) => {
    const h = (init.headers ?? {}) as Record<string, string>;
    const c: Call = { method: init.method ?? 'GET', url, body: typeof init.body === 'string' ? JSON.parse(init.body) : init.body ?? null, actor: h['X-OneMap-Actor'] ?? null };
    calls.push(c);
    for (const r of routes) {
      const a = r(c);
      if (a) return new Response(typeof a.body === 'string' ? a.body : JSON.stringify(a.body), { status: a.status, headers: { 'content-type': 'application/json' } });
    }
    return new Response(JSON.stringify({ error: { code: 'not_found', message: `no route ${c.method} ${url}` } }), { status: 404 });
  };
  return { calls, fetch };
}

const version = (f: EditFeature, v: number, seq: number): FeatureVersion => ({ layer: 'grids', id: f.id, version: v, deleted: false, feature: f, op: 'update', actor: 'planner:planner', at: 1, seq });
const getA = (v: number): Route => (c) => (c.method === 'GET' && c.url === `${BASE}/api/layers/grids/features/g-a` ? { status: 200, body: { feature: A, version: v } } : undefined);
const noNeighbours: Route = (c) => (c.url.includes('/ogc/') ? { status: 200, body: { type: 'FeatureCollection', features: [] } } : undefined);

function setup(routes: Route[]) {
  const s = stub(routes);
  const store = useEditingStore();
  store.configure({ baseUrl: BASE, fetch: s.fetch, openSocket: null, actor: { role: 'planner', id: 'p1' } });
  store.start();
  store.chooseLayer('grids');
  return { store, calls: s.calls };
}

describe('editing store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('offers the layers the role may edit: a grid manager gets addresses and facilities only', () => {
    const store = useEditingStore();
    store.configure({ actor: { role: 'grid_manager', id: 'grid-1' }, fetch: stub([]).fetch, openSocket: null });
    expect(store.editableLayers.map((l) => l.id).sort()).toEqual(['addresses', 'facilities']);
    store.configure({ actor: { role: 'analyst', id: 'x' } });
    expect(store.editableLayers).toEqual([]);
  });

  it('opens a feature at its version, saves a vertex move as PUT with that version and the actor, and refreshes the layer', async () => {
    const { store, calls } = setup([getA(3), noNeighbours, (c) => {
      if (c.method !== 'PUT') return undefined;
      const b = c.body as { feature: EditFeature };
      return { status: 200, body: { ...version({ ...A, geometry: b.feature.geometry }, 4, 17), issues: [] } };
    }]);
    await store.open('g-a');
    expect(store.session?.primary.baseVersion).toBe(3);
    store.drag('start', { kind: 'vertex', part: 0, ring: 0, index: 2, lonLat: [120.01, 31.01] }, [120.01, 31.01], [0, 0]);
    store.drag('end', { kind: 'vertex', part: 0, ring: 0, index: 2, lonLat: [120.01, 31.01] }, [120.012, 31.012], [0, 0]);
    expect(store.dirty).toBe(true);
    expect(await store.save()).toBe(true);
    const put = calls.find((c) => c.method === 'PUT')!;
    expect(put.url).toBe(`${BASE}/api/layers/grids/features/g-a`);
    expect(put.actor).toBeNull(); // the server knows the editor from the session cookie, not a header (issue 9)
    expect(put.body).toMatchObject({ version: 3, feature: { type: 'Feature', id: 'g-a' } });
    expect((put.body as { feature: { geometry: GeoJSON.Polygon } }).feature.geometry.coordinates[0][2]).toEqual([120.012, 31.012]);
    expect(store.session?.primary.baseVersion).toBe(4);
    expect(store.dirty).toBe(false);
    expect(store.refreshRequest).toMatchObject({ layers: ['grids'], revision: 17 });
  });

  it('turns a 409 into a conflict with both versions; "keep mine" saves again on top of the current version', async () => {
    const theirs: EditFeature = { ...A, properties: { ...A.properties, name: '他人改的' } };
    let puts = 0;
    const { store, calls } = setup([getA(1), noNeighbours, (c) => {
      if (c.method !== 'PUT') return undefined;
      puts++;
      const b = c.body as { version: number; feature: EditFeature };
      if (b.version === 1) {
        return { status: 409, body: { error: { code: 'version_conflict', message: '要素已被他人修改（第 2 版）', id: 'g-a', basedOn: 1,
          yours: { op: 'update', id: 'g-a', version: 1, feature: b.feature }, current: { version: 2, deleted: false, feature: theirs, actor: 'planner:p2', at: 5 } } } };
      }
      return { status: 200, body: version({ ...A, ...b.feature, id: 'g-a' } as EditFeature, 3, 30) };
    }]);
    await store.open('g-a');
    store.setForm({ ...store.formValues, name: '我改的' });
    expect(await store.save()).toBe(false);
    expect(store.conflict?.current?.feature?.properties.name).toBe('他人改的');
    expect(store.conflict?.yours.feature?.properties.name).toBe('我改的');
    expect(store.error).toMatch(/已被他人修改/);
    expect(await store.resolveConflict('mine')).toBe(true);
    expect(puts).toBe(2);
    const last = calls.filter((c) => c.method === 'PUT')[1].body as { version: number; feature: EditFeature };
    expect(last.version).toBe(2);
    expect(last.feature.properties.name).toBe('我改的');
  });

  it('"merge fields" takes the chosen fields from the current version', async () => {
    const theirs: EditFeature = { ...A, properties: { ...A.properties, name: '他人改的', village_code: '320581001002' } };
    const { store, calls } = setup([getA(1), noNeighbours, (c) => {
      if (c.method !== 'PUT') return undefined;
      const b = c.body as { version: number; feature: EditFeature };
      if (b.version === 1) return { status: 409, body: { error: { code: 'version_conflict', message: 'conflict', id: 'g-a', basedOn: 1, yours: { op: 'update', id: 'g-a', version: 1, feature: b.feature }, current: { version: 2, deleted: false, feature: theirs, actor: 'x', at: 1 } } } };
      return { status: 200, body: version(b.feature, 3, 31) };
    }]);
    await store.open('g-a');
    store.setForm({ ...store.formValues, name: '我改的' });
    await store.save();
    await store.resolveConflict('merge', { geometry: 'mine', fields: { village_code: 'theirs' } });
    const last = calls.filter((c) => c.method === 'PUT').at(-1)!.body as { version: number; feature: EditFeature };
    expect(last.version).toBe(2);
    expect(last.feature.properties).toMatchObject({ name: '我改的', village_code: '320581001002' });
  });

  it('keeps 422 issues: on the map where they have a location, and beside the form field they name', async () => {
    const { store } = setup([getA(1), noNeighbours, (c) => (c.method === 'PUT' ? { status: 422, body: { error: { code: 'validation_failed', message: '校验未通过', issues: [
      { code: 'self_intersection', severity: 'error', message: '边界自相交', path: 'geometry', location: [120.005, 31.005] },
      { code: 'invalid_property', severity: 'error', message: '名称过长', path: 'properties.name' },
    ] } } } : undefined)]);
    await store.open('g-a');
    store.drag('start', { kind: 'vertex', part: 0, ring: 0, index: 0, lonLat: [120, 31] }, [120, 31], [0, 0]);
    store.drag('end', { kind: 'vertex', part: 0, ring: 0, index: 0, lonLat: [120, 31] }, [120.02, 31.02], [0, 0]);
    expect(await store.save()).toBe(false);
    expect(store.drawing?.issues).toEqual([{ lonLat: [120.005, 31.005], severity: 'error', message: '边界自相交' }]);
    expect(store.fieldIssues.name?.[0].message).toBe('名称过长');
    expect(store.dirty).toBe(true); // nothing lost
  });

  it('loads neighbours sharing a vertex and saves a topological drag as one /edits batch', async () => {
    const { store, calls } = setup([getA(1),
      (c) => (c.url.includes('/ogc/collections/grids/items') ? { status: 200, body: { type: 'FeatureCollection', features: [A, B, { ...B, id: 'far', geometry: { type: 'Point', coordinates: [121, 31] } }] } } : undefined),
      (c) => (c.method === 'GET' && c.url.endsWith('/features/g-b') ? { status: 200, body: { feature: B, version: 6 } } : undefined),
      (c) => (c.method === 'POST' && c.url.endsWith('/edits') ? { status: 200, body: { versions: [version(A, 2, 40), version(B, 7, 40)] } } : undefined),
    ]);
    await store.open('g-a');
    expect(store.session?.state.features.map((f) => f.key)).toEqual(['g-a', 'g-b']);
    const h = { kind: 'vertex' as const, part: 0, ring: 0, index: 1, lonLat: [120.01, 31] as [number, number] };
    store.drag('start', h, h.lonLat, [0, 0]);
    store.drag('move', h, [120.011, 31.0005], [0, 0]);
    store.drag('end', h, [120.012, 31.001], [0, 0]);
    expect(await store.save()).toBe(true);
    const post = calls.find((c) => c.url.endsWith('/edits'))!;
    const changes = (post.body as { changes: { op: string; id: string; version: number; feature: { geometry: GeoJSON.Polygon } }[] }).changes;
    expect(changes.map((c) => [c.op, c.id, c.version])).toEqual([['update', 'g-a', 1], ['update', 'g-b', 6]]);
    expect(changes[1].feature.geometry.coordinates[0]).toContainEqual([120.012, 31.001]);
  });

  it('warns when the live feed says the open feature changed under you, not for its own save', async () => {
    let stored = 1;
    const { store } = setup([
      (c) => (c.method === 'GET' && c.url.endsWith('/features/g-a') ? { status: 200, body: { feature: A, version: stored } } : undefined),
      noNeighbours,
      (c) => (c.method === 'PUT' ? { status: 200, body: { feature: A, version: ++stored, issues: [] } } : undefined),
    ]);
    const flush = () => new Promise((r) => setTimeout(r, 0));
    await store.open('g-a');
    store.onLive({ type: 'layers', op: 'changed', layer: 'grids', revision: 50, ids: ['other'] });
    await flush();
    expect(store.changedUnderYou).toBe(false);
    expect(store.refreshRequest).toMatchObject({ layers: ['grids'], revision: 50 });
    // Our own save: refreshed at once, and its live echo is neither a second refresh nor a warning.
    store.setForm({ ...store.formValues, name: '新名' });
    expect(await store.save()).toBe(true);
    const afterSave = store.refreshRequest!;
    expect(afterSave.revision).toBeGreaterThan(50);
    store.onLive({ type: 'layers', op: 'changed', layer: 'grids', revision: 51, ids: ['g-a'] });
    await flush();
    expect(store.refreshRequest).toBe(afterSave);
    expect(store.changedUnderYou).toBe(false);
    // Someone else saves it right after: the stored version moved past ours.
    stored = 9;
    store.onLive({ type: 'layers', op: 'changed', layer: 'grids', revision: 60, ids: ['g-a'] });
    await flush(); await flush();
    expect(store.changedUnderYou).toBe(true);
    expect(store.refreshRequest?.revision).toBe(60);
  });

  it('snaps a dragged vertex to another feature within 10 px, and follows the pointer when nothing is near', async () => {
    const { store } = setup([getA(1), noNeighbours]);
    // 100 000 px per degree, y down: 1 px = 1e-5°.
    store.configure({ project: (p) => [(p[0] - 120) * 1e5, (32 - p[1]) * 1e5] });
    store.snapCandidates = [{ layer: 'roads', id: 'r1', geometry: { type: 'LineString', coordinates: [[120.02, 31.02], [120.03, 31.02]] } }];
    await store.open('g-a');
    const h = { kind: 'vertex' as const, part: 0, ring: 0, index: 2, lonLat: [120.01, 31.01] as [number, number] };
    store.drag('start', h, h.lonLat, [1000, 99000]);
    // 3 px from the road's first vertex: snaps onto it, and the indicator shows where.
    store.drag('move', h, [120.01997, 31.01997], [1997, 98003]);
    expect(store.snapAt).toEqual([120.02, 31.02]);
    // Far from everything but on the line through its own neighbours: stays where the pointer is.
    store.drag('end', h, [120.015, 31.012], [1500, 98800]);
    expect(store.snapAt).toBeNull();
    const ring = (store.session!.geometry() as GeoJSON.Polygon).coordinates[0];
    expect(ring).toContainEqual([120.015, 31.012]);
  });

  it('opens the grid under a click even when the map picked the village above it', async () => {
    const { store, calls } = setup([getA(2), (c) => (c.url.includes('/ogc/collections/grids/items') ? { status: 200, body: { type: 'FeatureCollection', features: [B, A] } } : undefined)]);
    const village = { layerId: 'villages', id: 'v1', properties: {}, lonLat: [120.005, 31.005] as [number, number] };
    expect(store.wantsClick(village)).toBe(true);
    await store.mapClick(village, [120.005, 31.005]);
    expect(store.session?.primary.id).toBe('g-a');
    expect(calls.some((c) => c.url.includes('/ogc/collections/grids/items?bbox=120.004900,31.004900,120.005100,31.005100'))).toBe(true);
  });

  it('adds a facility with the add tool (POST without id) and deletes a feature with its version (DELETE ?version=)', async () => {
    const created: EditFeature = { type: 'Feature', id: 'facilities-e1', properties: { id: 'facilities-e1', name: '新设施' }, geometry: { type: 'Point', coordinates: [120.7, 31.6] } };
    const { store, calls } = setup([
      (c) => (c.method === 'POST' && c.url.endsWith('/api/layers/facilities/features') ? { status: 201, body: { feature: created, version: 1, issues: [] } } : undefined),
      getA(4), noNeighbours,
      (c) => (c.method === 'DELETE' ? { status: 200, body: { id: 'g-a', version: 5, deleted: true } } : undefined),
    ]);
    store.chooseLayer('facilities');
    store.setTool('add');
    await store.mapClick(null, [120.7, 31.6]);
    store.setForm({ ...store.formValues, name: '新设施' });
    expect(await store.save()).toBe(true);
    const post = calls.find((c) => c.method === 'POST')!;
    expect(post.body).toEqual({ feature: { type: 'Feature', geometry: { type: 'Point', coordinates: [120.7, 31.6] }, properties: expect.objectContaining({ name: '新设施' }) } });
    expect((post.body as { feature: EditFeature }).feature.properties).not.toHaveProperty('id');
    expect(store.session?.primary.id).toBe('facilities-e1');

    store.cancel();
    store.chooseLayer('grids');
    store.setTool('select');
    await store.open('g-a');
    store.deleteFeature();
    expect(await store.save()).toBe(true);
    expect(calls.find((c) => c.method === 'DELETE')!.url).toBe(`${BASE}/api/layers/grids/features/g-a?version=4`);
    expect(store.session).toBeNull();
  });

  it('dragging an edge midpoint inserts a vertex and moves it, undone in one step', async () => {
    const { store } = setup([getA(1), noNeighbours]);
    await store.open('g-a');
    const mid = { kind: 'midpoint' as const, part: 0, ring: 0, index: 0, lonLat: [120.005, 31] as [number, number] };
    store.drag('start', mid, mid.lonLat, [0, 0]);
    store.drag('end', mid, [120.005, 30.998], [0, 0]);
    const ring = (store.session!.geometry() as GeoJSON.Polygon).coordinates[0];
    expect(ring).toHaveLength(6);
    expect(ring[1]).toEqual([120.005, 30.998]);
    store.undo();
    expect(store.dirty).toBe(false);
  });

  it('lists history and restores with the target and the base version', async () => {
    const { store, calls } = setup([getA(2), noNeighbours,
      (c) => (c.url.endsWith('/history') ? { status: 200, body: { items: [version(A, 0, 0), version(A, 1, 5), version(A, 2, 9)] } } : undefined),
      (c) => (c.url.endsWith('/restore') ? { status: 200, body: version(A, 3, 12) } : undefined),
    ]);
    await store.open('g-a');
    await store.loadHistory();
    expect(store.history?.map((h) => h.version)).toEqual([0, 1, 2]);
    expect(await store.restore(1)).toBe(true);
    expect(calls.find((c) => c.url.endsWith('/restore'))!.body).toEqual({ version: 1, basedOn: 2 });
    expect(store.session?.primary.baseVersion).toBe(3);
  });

  it('previews and applies an import with NDJSON progress; a preview with errors blocks the apply', async () => {
    const preview = { layer: 'facilities', format: 'shapefile', sourceCrs: 'EPSG:4549', crsFrom: 'file', total: 2, creates: 2, updates: 0, unchanged: 0, errors: [], warnings: [], fieldMap: {}, bbox: null };
    const seen: { url: string; type: string | undefined; bytes: number }[] = [];
    const ndjson = (lines: unknown[]) => new Response(lines.map((l) => JSON.stringify(l)).join('\n') + '\n', { status: 200, headers: { 'content-type': 'application/x-ndjson' } });
    const store = useEditingStore();
    store.configure({ baseUrl: BASE, openSocket: null, actor: { role: 'planner', id: 'p1' }, fetch: async (url, init) => {
      seen.push({ url, type: (init?.headers as Record<string, string>)['content-type'], bytes: (init?.body as Blob).size });
      return url.includes('mode=preview')
        ? ndjson([{ stage: 'convert', done: 1, total: 2 }, { stage: 'validate', done: 2, total: 2 }, { result: preview }])
        : ndjson([{ stage: 'write', done: 2, total: 2 }, { result: { applied: 2, versions: 2, preview } }]);
    } });
    const file = Object.assign(new Blob([new Uint8Array(10)]), { name: '设施.zip' });
    expect(await store.previewImport(file, { layer: 'facilities', crs: 'EPSG:4549' })).toMatchObject({ total: 2, creates: 2 });
    expect(seen[0].url).toBe(`${BASE}/api/imports?layer=facilities&mode=preview&filename=%E8%AE%BE%E6%96%BD.zip&progress=ndjson&crs=EPSG%3A4549`);
    expect(seen[0]).toMatchObject({ type: 'application/octet-stream', bytes: 10 });
    expect(await store.applyImport(file, { layer: 'facilities' })).toBe(true);
    expect(store.importResult).toEqual({ applied: 2 });
    expect(store.refreshRequest?.layers).toEqual(['facilities']);

    store.configure({ fetch: async () => ndjson([{ error: { code: 'import_has_errors', message: '预览发现 1 处错误，未写入任何数据', preview: { ...preview, errors: [{ row: 3, issues: [] }] } } }]) });
    expect(await store.applyImport(file, { layer: 'facilities' })).toBe(false);
    expect(store.error).toMatch(/未写入任何数据/);
    expect(store.importPreview?.errors).toHaveLength(1);
  });

  it('reads publish progress as NDJSON lines', async () => {
    const store = useEditingStore();
    store.configure({ baseUrl: BASE, openSocket: null, fetch: async () => new Response('{"step":"datastore","action":"created"}\n{"step":"style","action":"updated"}\n{"done":true}\n', { status: 200 }) });
    expect(await store.publish('grids')).toBe(true);
    expect(store.publishLog.map((l) => l.step ?? (l.done ? 'done' : ''))).toEqual(['datastore', 'style', 'done']);
    store.configure({ fetch: async () => new Response('{"step":"datastore","action":"created"}\n{"error":{"message":"GeoServer 500"}}\n', { status: 200 }) });
    expect(await store.publish('grids')).toBe(false);
    expect(store.error).toBe('GeoServer 500');
  });
});
