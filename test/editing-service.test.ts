// The edit store and the edit service (issue 8), one suite run on SQLite and on PostgreSQL, over the built
// data of one town (geodata/build: towns, villages, grids, facilities) in an in-memory EffectiveView:
// versioned atomic commits, conflicts (two processes racing on one feature: exactly one wins), history,
// audit, rights per layer and per grid, validation, auto-filled codes, grid topology on the real grids
// (an unchanged grid passes; a vertex moved into the neighbour overlaps, outward leaves the village),
// batches, restore, and sync of commits made by another process.
//
// PostgreSQL comes from TEST_DATABASE_URL; each engine run uses its own schema (dropped afterwards). Without
// it the PostgreSQL half FAILS unless ONEMAP_SKIP_POSTGIS=1.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { useStoreTargets } from './helpers/store-targets.ts';
import type { EditFeature, FeatureVersion, LayerChange } from '../layers/editing/model.ts';
import type { Actor } from '../layers/incidents/model.ts';
import { BOUNDARY, fromGeoJSON, INSIDE, locate, prepare } from '../layers/query/geometry.ts';
import { validateGeometry } from '../layers/editing/validate.ts';
import { EditConflictError, openEditStore, type EditStore } from '../tile-server/editing/edit-store.ts';
import { EditError, EditService } from '../tile-server/editing/service.ts';
import { loadBuilt, MemoryView } from './helpers/memory-view.ts';

const targets = useStoreTargets('editing');

// ---- the data: one town of the built city ----------------------------------------------------------------
const TOWN = '320581110';
const towns = loadBuilt('towns');
const villages = loadBuilt('villages', (f) => f.properties.town_code === TOWN);
const grids = loadBuilt('grids', (f) => f.properties.town_code === TOWN);
const gridCodes = new Set(grids.map((g) => g.properties.code as string));
const facilities = loadBuilt('facilities', (f) => gridCodes.has(f.properties.grid_code as string));
const freshView = () => new MemoryView({ towns, villages, grids, facilities });

const PLANNER: Actor = { role: 'planner', id: 'p-01' };
const PLANNER2: Actor = { role: 'planner', id: 'p-02' };
const OPERATOR: Actor = { role: 'operator', id: 'op-01' };

/** A grid A of the town, a vertex of A shared with sibling B (inside the village), and one on the village edge. */
function gridFixture() {
  for (const A of grids) {
    const village = villages.find((v) => v.properties.code === A.properties.village_code);
    if (!village) continue;
    const pv = prepare(fromGeoJSON(village.geometry));
    const sibs = grids.filter((g) => g.id !== A.id && g.properties.village_code === A.properties.village_code);
    const ring = (A.geometry as GeoJSON.Polygon).coordinates[0];
    let shared = -1, outer = -1, B: EditFeature | undefined;
    for (let i = 1; i < ring.length - 1; i++) {
      const [x, y] = ring[i];
      // Shared: a vertex of exactly one sibling (not a three-grid junction), inside the village.
      const on = sibs.filter((s) => locate(prepare(fromGeoJSON(s.geometry)), x, y) === BOUNDARY);
      const isVertexOf = (s: EditFeature) => (s.geometry as GeoJSON.Polygon).coordinates[0].some((p) => p[0] === x && p[1] === y);
      if (on.length === 1 && isVertexOf(on[0]) && shared < 0 && locate(pv, x, y) === INSIDE) { shared = i; B = on[0]; }
      if (on.length === 0 && outer < 0 && locate(pv, x, y) === BOUNDARY) outer = i;
    }
    if (A.geometry.type === 'Polygon' && shared > 0 && outer > 0 && B!.geometry.type === 'Polygon') return { A, B: B!, shared, outer, village };
  }
  throw new Error('no grid with a shared vertex and a village-edge vertex in the test town');
}
/**
 * A copy of polygon feature f with vertex i moved towards `to` (away when `away`), by the largest of a few
 * fractions that keeps the ring simple: the grids are concave, and a self-intersection would hide the
 * topology issue under test.
 */
function moveVertex(f: EditFeature, i: number, to: [number, number], away = false): GeoJSON.Polygon {
  for (const t of [0.3, 0.2, 0.1, 0.05, 0.02, 0.01]) {
    const k = away ? -t : t;
    const r = (f.geometry as GeoJSON.Polygon).coordinates[0].map((p) => [...p]);
    r[i] = [r[i][0] + (to[0] - r[i][0]) * k, r[i][1] + (to[1] - r[i][1]) * k];
    const g: GeoJSON.Polygon = { type: 'Polygon', coordinates: [r, ...(f.geometry as GeoJSON.Polygon).coordinates.slice(1)] };
    if (validateGeometry('polygon', g).length === 0) return g;
  }
  throw new Error(`cannot move vertex ${i} of ${f.id} without making it invalid`);
}

// ---- engines ---------------------------------------------------------------------------------------------
interface Engine { name: 'sqlite' | 'postgres'; fresh(): Promise<{ open(): Promise<EditStore>; racerArgs(label: string, n: number): string[] }> }

const sqliteEngine: Engine = {
  name: 'sqlite',
  async fresh() {
    const file = targets.sqliteFile('edits');
    return { open: () => openEditStore({ file }), racerArgs: (label, n) => ['sqlite', file, label, String(n)] };
  },
};
const pgEngine: Engine = {
  name: 'postgres',
  async fresh() {
    const url = targets.requirePg();
    const schema = targets.pgSchema('editing_test');
    return { open: () => openEditStore({ databaseUrl: url, schema }), racerArgs: (label, n) => ['postgres', url, label, String(n), schema] };
  },
};
const engines = [sqliteEngine, ...(targets.withPostgres ? [pgEngine] : [])];

function racer(args: string[]): { ready: Promise<void>; go(): void; done: Promise<{ won: string[]; lost: string[] }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/edit-store-racer.ts', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let readyResolve!: () => void;
  const ready = new Promise<void>((r) => { readyResolve = r; });
  child.stdout.on('data', (c: Buffer) => { out += c.toString(); if (out.includes('READY\n')) readyResolve(); });
  const done = new Promise<{ won: string[]; lost: string[] }>((resolve, reject) => {
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`racer exited with ${code}: ${out}`));
      resolve(JSON.parse(out.split('\n').filter((l) => l.startsWith('{'))[0]));
    });
  });
  return { ready, go: () => child.stdin.write('go\n'), done };
}

const errorOf = async (p: Promise<unknown>): Promise<EditError> => {
  try { await p; } catch (e) { if (e instanceof EditError) return e; throw e; }
  throw new Error('expected an EditError');
};

describe.each(engines)('edit store on $name', (engine) => {
  const point = (id: string, name: string): EditFeature => ({ type: 'Feature', id, geometry: { type: 'Point', coordinates: [120.7, 31.6] }, properties: { id, name } });

  it('commits versions atomically, keeps history, serves current/latest/changesSince, and refuses stale versions', async () => {
    const db = await engine.fresh();
    const s = await db.open();
    try {
      expect(s.kind).toBe(engine.name);
      expect(await s.maxSeq()).toBe(0);
      const [a1, b1] = await s.commit([
        { layer: 'facilities', id: 'a', expectVersion: 0, next: point('a', 'A1'), op: 'create', actor: 'planner:p-01', comment: 'new' },
        { layer: 'facilities', id: 'b', expectVersion: 0, next: point('b', 'B1'), op: 'create', actor: 'planner:p-01' },
      ], 1000, { actor: 'planner:p-01', action: 'batch', layer: 'facilities', id: null, detail: { count: 2 } });
      expect(a1).toMatchObject({ layer: 'facilities', id: 'a', version: 1, deleted: false, op: 'create', at: 1000, comment: 'new', feature: point('a', 'A1') });
      expect(b1.seq).toBeGreaterThan(a1.seq);
      const a2 = (await s.commit([{ layer: 'facilities', id: 'a', expectVersion: 1, next: point('a', 'A2'), op: 'update', actor: 'planner:p-02' }], 2000))[0];
      const a3 = (await s.commit([{ layer: 'facilities', id: 'a', expectVersion: 2, next: null, op: 'delete', actor: 'planner:p-02' }], 3000))[0];
      expect(a3).toMatchObject({ version: 3, deleted: true, feature: null, op: 'delete' });
      expect((await s.history('facilities', 'a')).map((v) => [v.version, v.op, v.feature?.properties.name ?? null])).toEqual([[1, 'create', 'A1'], [2, 'update', 'A2'], [3, 'delete', null]]);
      expect(await s.latest('facilities', 'a')).toEqual(a3);
      expect(await s.latest('facilities', 'zzz')).toBeNull();
      expect((await s.current()).map((v) => [v.id, v.version])).toEqual([['b', 1], ['a', 3]]);
      expect(await s.current('roads')).toEqual([]);
      expect((await s.changesSince(a1.seq, 10)).map((v) => v.seq)).toEqual([b1.seq, a2.seq, a3.seq]);
      expect((await s.changesSince(0, 2)).length).toBe(2);
      expect(await s.maxSeq()).toBe(a3.seq);

      // A stale item anywhere in the batch: EditConflictError with what is stored, and nothing written.
      const err = await s.commit([
        { layer: 'facilities', id: 'c', expectVersion: 0, next: point('c', 'C'), op: 'create', actor: 'planner:p-01' },
        { layer: 'facilities', id: 'b', expectVersion: 0, next: point('b', 'B2'), op: 'update', actor: 'planner:p-01' },
      ], 4000).catch((e) => e);
      expect(err).toBeInstanceOf(EditConflictError);
      expect(err).toMatchObject({ layer: 'facilities', id: 'b', current: { version: 1, feature: point('b', 'B1') } });
      expect(await s.latest('facilities', 'c')).toBeNull();
      expect(await s.maxSeq()).toBe(a3.seq);
      // Re-creating after a tombstone is based on the tombstone's version.
      await expect(s.commit([{ layer: 'facilities', id: 'a', expectVersion: 0, next: point('a', 'A4'), op: 'create', actor: 'x:y' }], 5000)).rejects.toBeInstanceOf(EditConflictError);
      expect((await s.commit([{ layer: 'facilities', id: 'a', expectVersion: 3, next: point('a', 'A4'), op: 'create', actor: 'x:y' }], 5000))[0].version).toBe(4);
      // Programming errors are not conflicts.
      await expect(s.commit([{ layer: 'facilities', id: 'd', expectVersion: 0, next: point('d', 'D'), op: 'create', actor: 'x:y' }, { layer: 'facilities', id: 'd', expectVersion: 0, next: point('d', 'D'), op: 'create', actor: 'x:y' }], 1)).rejects.toThrow(/twice/);

      // The audit written with the commit, and added ones; newest first, filtered.
      await s.addAudit({ at: 6000, actor: 'grid_manager:gm-1', action: 'denied', layer: 'grids', id: 'g1', detail: { code: 'edit_forbidden' } });
      const all = await s.audit({ limit: 10 });
      expect(all.map((e) => e.action)).toEqual(['denied', 'batch']);
      expect(all[1]).toMatchObject({ at: 1000, actor: 'planner:p-01', layer: 'facilities', id: null, detail: { count: 2 } });
      expect((await s.audit({ layer: 'grids', limit: 10 })).map((e) => e.id)).toEqual(['g1']);
      expect((await s.audit({ actor: 'planner:p-01', limit: 10 })).length).toBe(1);
      expect((await s.audit({ since: 5000, limit: 10 })).length).toBe(1);
    } finally {
      await s.close();
    }
    // Durable: a new handle sees the same state.
    const again = await db.open();
    try {
      expect((await again.history('facilities', 'a')).map((v) => v.version)).toEqual([1, 2, 3, 4]);
    } finally {
      await again.close();
    }
  });

  it('two processes committing the same features at once: exactly one wins each', async () => {
    const db = await engine.fresh();
    (await db.open()).close();   // migrate once, so the racers start on an existing schema
    const n = 60;
    const r1 = racer(db.racerArgs('one', n)), r2 = racer(db.racerArgs('two', n));
    await Promise.all([r1.ready, r2.ready]);
    r1.go(); r2.go();
    const [a, b] = await Promise.all([r1.done, r2.done]);
    expect(a.won.length + b.won.length).toBe(n);
    expect(a.lost.length + b.lost.length).toBe(n);
    expect(new Set([...a.won, ...b.won]).size).toBe(n);
    const s = await db.open();
    try {
      const cur = await s.current('facilities');
      expect(cur).toHaveLength(n);
      for (const v of cur) {
        expect(v.version).toBe(1);
        // The stored version is the winner's.
        expect((a.won.includes(v.id) ? 'one' : 'two')).toBe(v.feature!.properties.name);
      }
    } finally {
      await s.close();
    }
  });
});

describe.each(engines)('edit service on $name', (engine) => {
  async function setup() {
    const db = await engine.fresh();
    const store = await db.open();
    const view = freshView();
    const commits: LayerChange[][] = [];
    let now = 1_780_000_000_000;
    const service = new EditService({ store, view, clock: () => ++now, onCommit: (c) => commits.push(c) });
    return { db, store, view, service, commits, close: () => store.close() };
  }

  it('creates a facility with its grid filled in, updates, deletes, keeps history and restores', async () => {
    const { store, view, service, commits, close } = await setup();
    try {
      const grid = grids[0];
      const [x, y] = interior(grid);
      const v1 = await service.create('facilities', { geometry: { type: 'Point', coordinates: [x, y] }, properties: { name: '新建消防站', kind: '消防站', department: 'fire' } }, PLANNER, { comment: '新增' });
      expect(v1).toMatchObject({ layer: 'facilities', version: 1, op: 'create', actor: 'planner:p-01', comment: '新增' });
      expect(v1.id).toMatch(/^facilities-e\d+$/);
      expect(v1.feature!.properties).toEqual({ id: v1.id, name: '新建消防站', kind: '消防站', department: 'fire', grid_code: grid.properties.code });
      expect(await service.get('facilities', v1.id)).toEqual({ feature: v1.feature, version: 1 });
      expect(commits).toHaveLength(1);
      expect(commits[0][0]).toMatchObject({ layer: 'facilities', ids: [v1.id], revision: v1.seq });
      expect(commits[0][0].bboxes[0]).toEqual([x, y, x, y]);
      expect(service.revision()).toBe(v1.seq);

      const v2 = await service.update('facilities', v1.id, { geometry: v1.feature!.geometry, properties: { ...v1.feature!.properties, name: '改名' } }, 1, PLANNER2);
      expect(v2).toMatchObject({ version: 2, op: 'update', actor: 'planner:p-02' });
      const v3 = await service.remove('facilities', v1.id, 2, PLANNER);
      expect(v3).toMatchObject({ version: 3, deleted: true, feature: null });
      expect(await service.get('facilities', v1.id)).toBeNull();
      expect((await errorOf(service.update('facilities', v1.id, v1.feature!, 3, PLANNER))).code).toBe('feature_deleted');
      const back = await service.restore('facilities', v1.id, 2, 3, PLANNER);
      expect(back).toMatchObject({ version: 4, op: 'restore', deleted: false });
      expect(back.feature!.properties.name).toBe('改名');
      expect((await service.history('facilities', v1.id)).map((v) => [v.version, v.op])).toEqual([[1, 'create'], [2, 'update'], [3, 'delete'], [4, 'restore']]);
      expect((await errorOf(service.restore('facilities', v1.id, 3, 4, PLANNER))).code).toBe('cannot_restore_deletion');
      expect((await errorOf(service.restore('facilities', v1.id, 9, 4, PLANNER))).status).toBe(404);

      // A built feature: history starts at version 0 (the built data); restore goes back to it.
      const fac = facilities[0];
      expect(await service.history('facilities', fac.id)).toEqual([expect.objectContaining({ version: 0, feature: fac, actor: 'system:build' })]);
      const moved = await service.update('facilities', fac.id, { geometry: fac.geometry, properties: { ...fac.properties, name: '临时' } }, 0, PLANNER);
      expect(moved.version).toBe(1);
      expect((await service.history('facilities', fac.id)).map((v) => v.version)).toEqual([0, 1]);
      const restored = await service.restore('facilities', fac.id, 0, 1, PLANNER);
      expect(restored.feature).toEqual(fac);
      expect((await view.feature('facilities', fac.id))!.version).toBe(2);
      expect((await store.history('facilities', fac.id)).length).toBe(2);

      const audit = await service.audit({ layer: 'facilities' });
      expect(audit.map((e) => e.action)).toEqual(['restore', 'update', 'restore', 'delete', 'update', 'create']);
      expect(audit[5]).toMatchObject({ actor: 'planner:p-01', id: v1.id, detail: { comment: '新增', count: 1 } });
      await expect(service.history('facilities', 'no-such')).rejects.toMatchObject({ status: 404, code: 'unknown_feature' });
    } finally {
      await close();
    }
  });

  it('a save based on an old version gets 409 with both versions; two servers racing: one wins, nothing lost', async () => {
    const { db, service, close } = await setup();
    const store2 = await db.open();
    const service2 = new EditService({ store: store2, view: freshView(), clock: () => 1 });
    try {
      const fac = facilities[1];
      const mine = { geometry: fac.geometry, properties: { ...fac.properties, name: '我的改动' } };
      await service.update('facilities', fac.id, { geometry: fac.geometry, properties: { ...fac.properties, name: '他的改动' } }, 0, PLANNER2);
      const e = await errorOf(service.update('facilities', fac.id, mine, 0, PLANNER));
      expect(e.status).toBe(409);
      expect(e.code).toBe('version_conflict');
      expect(e.details).toMatchObject({ id: fac.id, basedOn: 0, yours: { op: 'update', version: 0, feature: mine }, current: { version: 1, deleted: false, actor: 'planner:p-02' } });
      expect((e.details!.current as { feature: EditFeature }).feature.properties.name).toBe('他的改动');

      // The other server's view still says version 0: the store's check catches it.
      const e2 = await errorOf(service2.update('facilities', fac.id, mine, 0, PLANNER));
      expect(e2.status).toBe(409);
      expect((e2.details!.current as { version: number }).version).toBe(1);

      // Both servers save the same grid feature at the same moment.
      const fac2 = facilities[2];
      const results = await Promise.allSettled([
        service.update('facilities', fac2.id, { geometry: fac2.geometry, properties: { ...fac2.properties, name: 'one' } }, 0, PLANNER),
        service2.update('facilities', fac2.id, { geometry: fac2.geometry, properties: { ...fac2.properties, name: 'two' } }, 0, PLANNER2),
      ]);
      const ok = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<FeatureVersion>[];
      const bad = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      expect(ok).toHaveLength(1);
      expect(bad).toHaveLength(1);
      expect(bad[0].reason).toMatchObject({ status: 409, code: 'version_conflict' });
      expect((await store2.latest('facilities', fac2.id))!.feature!.properties.name).toBe(ok[0].value.feature!.properties.name);
      expect((await service.audit({ layer: 'facilities' })).filter((x) => x.action === 'conflict').length).toBeGreaterThanOrEqual(2);
    } finally {
      await store2.close();
      await close();
    }
  });

  it('rights: per layer by role, and per grid for grid managers (before and after)', async () => {
    const { service, store, close } = await setup();
    try {
      const fac = facilities.find((f) => facilities.some((g) => g.properties.grid_code !== f.properties.grid_code))!;
      const mine: Actor = { role: 'grid_manager', id: `grid-${fac.properties.grid_code}` };
      expect((await errorOf(service.update('facilities', fac.id, fac, 0, OPERATOR)))).toMatchObject({ status: 403, code: 'edit_forbidden' });
      expect((await errorOf(service.update('grids', grids[0].id, grids[0], 0, mine)))).toMatchObject({ status: 403, code: 'edit_forbidden' });
      expect((await errorOf(service.update('towns', towns[0].id, towns[0], 0, mine)))).toMatchObject({ status: 403 });
      expect((await errorOf(service.update('city', 'x', towns[0], 0, PLANNER)))).toMatchObject({ status: 403 });
      // Own grid: allowed.
      const v = await service.update('facilities', fac.id, { geometry: fac.geometry, properties: { ...fac.properties, name: '网格员改' } }, 0, mine);
      expect(v.version).toBe(1);
      // Another grid's feature: refused.
      const other = facilities.find((f) => f.properties.grid_code !== fac.properties.grid_code)!;
      expect((await errorOf(service.update('facilities', other.id, other, 0, mine)))).toMatchObject({ status: 403, code: 'edit_forbidden' });
      // Moving its own feature into another grid: refused (the after state is not theirs).
      const otherGrid = grids.find((g) => g.properties.code === other.properties.grid_code)!;
      const moved = { geometry: { type: 'Point' as const, coordinates: interior(otherGrid) }, properties: { ...v.feature!.properties, grid_code: null } };
      expect((await errorOf(service.update('facilities', fac.id, moved, 1, mine)))).toMatchObject({ status: 403 });
      // A manager named by manager_id manages the grids that name them.
      const g = grids.find((x) => x.properties.code === other.properties.grid_code)!;
      const byId: Actor = { role: 'grid_manager', id: String(g.properties.manager_id) };
      expect((await service.update('facilities', other.id, { geometry: other.geometry, properties: other.properties }, 0, byId)).version).toBe(1);
      expect((await store.audit({ limit: 100 })).filter((e) => e.action === 'denied').length).toBeGreaterThanOrEqual(4);
      expect(await store.latest('grids', grids[0].id)).toBeNull();
    } finally {
      await close();
    }
  });

  it('validation: 422 with issues for bad geometry, properties, or a feature outside its grid; orientation is fixed', async () => {
    const { service, store, close } = await setup();
    try {
      const fac = facilities[3];
      const bad = await errorOf(service.update('facilities', fac.id, { geometry: { type: 'Point', coordinates: [40_500_000, 3_500_000] }, properties: { ...fac.properties, colour: 'red', name: 5 } }, 0, PLANNER));
      expect(bad).toMatchObject({ status: 422, code: 'validation_failed' });
      expect((bad.details!.issues as { code: string }[]).map((i) => i.code).sort()).toEqual(['bad_value', 'outside_china', 'unknown_field']);
      const far = grids.find((g) => g.properties.code !== fac.properties.grid_code && g.properties.village_code !== grids.find((x) => x.properties.code === fac.properties.grid_code)!.properties.village_code)!;
      const out = await errorOf(service.update('facilities', fac.id, { geometry: { type: 'Point', coordinates: interior(far) }, properties: fac.properties }, 0, PLANNER));
      expect(out.status).toBe(422);
      const [issue] = out.details!.issues as { code: string; location: [number, number] }[];
      expect(issue.code).toBe('outside_grid');
      expect(issue.location).toEqual(interior(far));
      // Clearing grid_code re-derives it from the new location instead.
      const ok = await service.update('facilities', fac.id, { geometry: { type: 'Point', coordinates: interior(far) }, properties: { ...fac.properties, grid_code: '' } }, 0, PLANNER);
      expect(ok.feature!.properties.grid_code).toBe(far.properties.code);
      // A clockwise building is stored counter-clockwise.
      const [x, y] = interior(grids[0]);
      const cw: GeoJSON.Polygon = { type: 'Polygon', coordinates: [[[x, y], [x, y + 1e-4], [x + 1e-4, y + 1e-4], [x + 1e-4, y], [x, y]]] };
      const b = await service.create('buildings', { geometry: cw, properties: { floors: 3 } }, PLANNER);
      expect((b.feature!.geometry as GeoJSON.Polygon).coordinates[0][1]).toEqual([x + 1e-4, y]);
      // Malformed geometry of every kind is a 422 with issues (never a crash), on point and polygon layers.
      const weird: unknown[] = [null, 5, 'POINT(1 2)', {}, { type: 'Point' }, { type: 'Point', coordinates: 'no' }, { type: 'Polygon', coordinates: 'no' },
        { type: 'Polygon', coordinates: [['x']] }, { type: 'Polygon', coordinates: [[[1, 2], [3]]] }, { type: 'MultiPolygon', coordinates: [[[]]] },
        { type: 'GeometryCollection', geometries: [{ type: 'Point', coordinates: [120.7, 31.6] }] }, { type: 'Polygon', coordinates: [] },
        { type: 'LineString', coordinates: [[120.7, 31.6, 5, 6]] }];
      for (const g of weird) {
        for (const [layer, target] of [['facilities', fac], ['grids', grids[0]]] as const) {
          const cur = (await service.get(layer, target.id))!;
          const e = await errorOf(service.update(layer, target.id, { geometry: g as GeoJSON.Geometry, properties: cur.feature.properties }, cur.version, PLANNER));
          expect(e.status, JSON.stringify(g)).toBe(422);
          expect((e.details!.issues as { path: string }[]).some((i) => i.path === 'geometry')).toBe(true);
        }
      }
      // Malformed changes are 400s, not issues.
      await expect(service.batch('facilities', [], PLANNER)).rejects.toMatchObject({ status: 400 });
      await expect(service.batch('facilities', [{ op: 'update', id: fac.id } as never], PLANNER)).rejects.toMatchObject({ status: 400, code: 'missing_version' });
      await expect(service.batch('facilities', [{ op: 'move' } as never], PLANNER)).rejects.toMatchObject({ status: 400 });
      await expect(service.batch('nope', [{ op: 'delete', id: 'x', version: 0 }], PLANNER)).rejects.toMatchObject({ status: 404, code: 'unknown_layer' });
      await expect(service.create('facilities', { id: fac.id, geometry: fac.geometry, properties: {} }, PLANNER)).rejects.toMatchObject({ status: 409, code: 'feature_exists' });
      expect((await store.history('facilities', fac.id)).length).toBe(1);
    } finally {
      await close();
    }
  });

  it('grid topology on the real grids: unchanged passes, into the neighbour overlaps, outward leaves the village, a shared move passes', async () => {
    const { service, close } = await setup();
    try {
      const { A, B, shared, outer } = gridFixture();
      // Unchanged geometry (e.g. an attribute edit) passes despite any slivers in the built data.
      const same = await service.update('grids', A.id, { geometry: A.geometry, properties: { ...A.properties, manager_name: '新网格员' } }, 0, PLANNER);
      expect(same.version).toBe(1);
      const into = await errorOf(service.update('grids', A.id, { geometry: moveVertex(A, shared, interior(B)), properties: A.properties }, 1, PLANNER));
      expect(into.status).toBe(422);
      expect((into.details!.issues as { code: string }[]).map((i) => i.code)).toContain('overlap');
      const outward = await errorOf(service.update('grids', A.id, { geometry: moveVertex(A, outer, interior(A), true), properties: A.properties }, 1, PLANNER));
      expect((outward.details!.issues as { code: string }[]).map((i) => i.code).filter((c) => c === 'gap' || c === 'outside_parent').length).toBeGreaterThan(0);
      const inward = await errorOf(service.update('grids', A.id, { geometry: moveVertex(A, shared, interior(A)), properties: A.properties }, 1, PLANNER));
      expect((inward.details!.issues as { code: string; location: [number, number] }[]).map((i) => i.code)).toContain('gap');
      // Moving the shared vertex in both grids (the editor's topological mode) is one valid batch.
      const ringA = (A.geometry as GeoJSON.Polygon).coordinates[0], ringB = (B.geometry as GeoJSON.Polygon).coordinates[0];
      const v = ringA[shared];
      const j = ringB.findIndex((p) => p[0] === v[0] && p[1] === v[1]);
      expect(j).toBeGreaterThanOrEqual(0);
      {
        const newA = moveVertex(A, shared, interior(B));
        const nv = newA.coordinates[0][shared];
        const rB = ringB.map((p) => (p[0] === v[0] && p[1] === v[1] ? [...nv] : [...p]));
        const versions = await service.batch('grids', [
          { op: 'update', id: A.id, version: 1, feature: { geometry: newA, properties: A.properties } },
          { op: 'update', id: B.id, version: 0, feature: { geometry: { type: 'Polygon', coordinates: [rB, ...(B.geometry as GeoJSON.Polygon).coordinates.slice(1)] }, properties: B.properties } },
        ], PLANNER, { comment: '共边调整' });
        expect(versions.map((x) => [x.id, x.version])).toEqual([[A.id, 2], [B.id, 1]]);
      }
      // Deleting a grid leaves a gap in its village.
      const del = await errorOf(service.remove('grids', B.id, 1, PLANNER));
      expect((del.details!.issues as { code: string }[]).map((i) => i.code)).toContain('gap');
    } finally {
      await close();
    }
  });

  it('batches are all or nothing; validate() is a dry run reporting rights and versions as issues; imports report progress', async () => {
    const { service, store, close } = await setup();
    try {
      const [f1, f2] = [facilities[4], facilities[5]];
      const good = { op: 'update' as const, id: f1.id, version: 0, feature: { geometry: f1.geometry, properties: { ...f1.properties, name: 'ok' } } };
      const badOne = { op: 'update' as const, id: f2.id, version: 0, feature: { geometry: { type: 'Point', coordinates: [0, 0] } as GeoJSON.Point, properties: f2.properties } };
      await expect(service.batch('facilities', [good, badOne], PLANNER)).rejects.toMatchObject({ status: 422 });
      expect(await store.maxSeq()).toBe(0);

      const issues = await service.validate('facilities', [good, badOne, { op: 'delete', id: facilities[6].id, version: 5 }], PLANNER);
      expect(issues.map((i) => [i.code, i.featureId])).toEqual([['outside_china', f2.id], ['version_conflict', facilities[6].id]]);
      expect((await service.validate('facilities', [good], OPERATOR)).map((i) => i.code)).toEqual(['edit_forbidden']);
      expect(await store.maxSeq()).toBe(0);

      const progress: [number, number][] = [];
      const n = 20;
      const [x, y] = interior(grids[1]);
      const created = await service.batch('facilities', Array.from({ length: n }, (_, i) => ({
        op: 'create' as const, id: `imp-${i}`, feature: { geometry: { type: 'Point' as const, coordinates: [x + i * 1e-7, y] }, properties: { name: `导入 ${i}` } },
      })), { role: 'admin', id: 'importer' }, { op: 'import', comment: 'file.csv', onProgress: (d, t) => progress.push([d, t]) });
      expect(created).toHaveLength(n);
      expect(created.every((v) => v.op === 'import' && v.version === 1 && v.comment === 'file.csv')).toBe(true);
      expect(progress.at(-1)).toEqual([n, n]);
      expect((await service.audit({ actor: 'admin:importer' }))[0]).toMatchObject({ action: 'import', detail: { count: n } });
      await expect(service.batch('facilities', [good, { ...good }], PLANNER)).rejects.toMatchObject({ status: 400, code: 'duplicate_id' });
    } finally {
      await close();
    }
  });

  it('sync() applies commits made by another process once, in order; own commits are not re-applied', async () => {
    const { db, service, view, commits, close } = await setup();
    const other = await db.open();
    const importer = new EditService({ store: other, view: freshView(), clock: () => 5 });
    try {
      const mine = await service.update('facilities', facilities[7].id, { geometry: facilities[7].geometry, properties: { ...facilities[7].properties, name: 'mine' } }, 0, PLANNER);
      const theirs = await importer.batch('facilities', [
        { op: 'update', id: facilities[8].id, version: 0, feature: { geometry: facilities[8].geometry, properties: { ...facilities[8].properties, name: 'theirs' } } },
        { op: 'delete', id: facilities[9].id, version: 0 },
      ], { role: 'admin', id: 'importer' }, { op: 'import' });
      expect(service.revision()).toBe(mine.seq);
      const appliedBefore = view.applied.length;
      const changes = await service.sync();
      expect(changes).toHaveLength(1);
      expect(changes[0]).toMatchObject({ layer: 'facilities', ids: [facilities[8].id, facilities[9].id], revision: theirs[1].seq });
      expect(view.applied.length - appliedBefore).toBe(2);
      expect((await view.feature('facilities', facilities[8].id))!.feature.properties.name).toBe('theirs');
      expect(await view.feature('facilities', facilities[9].id)).toBeNull();
      expect(service.revision()).toBe(theirs[1].seq);
      expect(commits.at(-1)).toBe(changes);
      expect(await service.sync()).toEqual([]);
      expect(view.applied.length - appliedBefore).toBe(2);
    } finally {
      await other.close();
      await close();
    }
  });
});

/** A point strictly inside a polygon feature (the service's own interior point would make this circular). */
function interior(f: EditFeature): [number, number] {
  const p = prepare(fromGeoJSON(f.geometry));
  const [x0, y0, x1, y1] = p.g.bbox;
  for (let i = 1; i < 40; i++) {
    for (let j = 1; j < 40; j++) {
      const x = x0 + ((x1 - x0) * i) / 40, y = y0 + ((y1 - y0) * j) / 40;
      if (locate(p, x, y) === INSIDE) return [x, y];
    }
  }
  throw new Error(`no interior point found for ${f.id}`);
}
