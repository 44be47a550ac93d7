// The city indicator system (issue 10 item 4) on a FIXED data set through a real server: incidents and patrol
// check-ins written straight into the stores before the server starts, telemetry readings fed to its engine, a
// controllable clock. Every built-in indicator must equal the value worked out here by hand from those same inputs,
// at town and grid level (and the city for 万人事件数); GET ?at= returns the older snapshot; a planner adds an
// indicator (validated) which is computed and listed; bad formulas are 422 with their position; a grid manager sees
// only the areas on the way to their own grids. Then the store on PostgreSQL behaves like SQLite.
// Needs geodata/build (npm run data) and, for the PostgreSQL half, TEST_DATABASE_URL.
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import type { Incident, Transition } from '../layers/incidents/model.ts';
import type { IndicatorValue } from '../layers/indicators/model.ts';
import { openIncidentStore } from '../tile-server/incidents/incident-store.ts';
import { openIndicatorStore, openPgIndicatorStore, type IndicatorStore } from '../tile-server/indicators/store.ts';
import { pointOnGeometry } from '../tile-server/export-formats.ts';
import { openPgPatrolStore, openSqlitePatrolStore, type PatrolStore } from '../tile-server/patrol.ts';
import { startServer, type RunningServer } from '../tile-server/server.ts';
import { loadDevices } from '../tile-server/telemetry/engine.ts';
import { DATA_DIR } from './helpers/browser.ts';
import { bump, makeIncident, OPERATOR, reportTransition } from './helpers/incident-fixtures.ts';
import { asUser, TEST_AUTH } from './helpers/session.ts';
import { useStoreTargets } from './helpers/store-targets.ts';

const MIN = 60_000, H = 3_600_000, D = 86_400_000;
const T0 = Date.UTC(2026, 10, 29, 2, 0); // 10:00 China time

function readFgb(name: string) {
  const b = readFileSync(join(DATA_DIR, `${name}.fgb`));
  return openFlatGeobuf(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
}

// ---- the fixed inputs ---------------------------------------------------------------------------------------------

/** Population as the public facts file states it (the only population source; see tile-server/indicators/gather.ts). */
const FACTS = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'geodata', 'source', 'changshu_towns_facts.json'), 'utf8')) as {
  city: { code: string; resident_population: { value: number; year: number }[] }; units: { code: string; population: number | null }[];
};
const CITY_POP = [...FACTS.city.resident_population].sort((a, b) => b.year - a.year)[0].value;
const TOWN_POP = new Map(FACTS.units.filter((u) => typeof u.population === 'number').map((u) => [u.code, u.population!]));

const GRIDS = [...readFgb('grids').features()].map((f) => ({ code: String(f.properties!.code), town: String(f.properties!.town_code), village: String(f.properties!.village_code), point: pointOnGeometry(f.geometry)! }));
const TOWNS = [...readFgb('towns').features()].map((f) => String(f.properties!.code)).sort();
const DEVICES = loadDevices(DATA_DIR);
const deviceCode = (d: (typeof DEVICES)[number]) => d.gridCode ?? d.townCode;

// Town A: one with a population figure, a water-level gauge in grid A1, and a second grid A2; grid B1 in another town.
const W1 = DEVICES.find((d) => d.kind === 'water_level' && d.gridCode && TOWN_POP.has(d.gridCode.slice(0, 9)) && GRIDS.filter((g) => g.town === d.gridCode!.slice(0, 9)).length >= 2)!;
const A1 = GRIDS.find((g) => g.code === W1.gridCode)!;
const TA = A1.town;
const A2 = GRIDS.find((g) => g.town === TA && g.code !== A1.code)!;
const B1 = GRIDS.find((g) => g.town !== TA)!;
const TB = B1.town;
/** A second reporting device (any kind) in grid A2, when there is one; else in A1. */
const D2 = DEVICES.find((d) => d.layer === 'sensors' && d.gridCode === A2.code && d.id !== W1.id) ?? DEVICES.find((d) => d.layer === 'sensors' && d.gridCode === A1.code && d.id !== W1.id)!;

const cat = { pothole: { category: '0101', categoryName: '井盖破损或缺失', severity: 3 as const }, fire: { category: '1401', categoryName: '火情', severity: 4 as const } };
const place = (g: (typeof GRIDS)[number]) => ({ gridCode: g.code, villageCode: g.village, townCode: g.town, lon: g.point[0], lat: g.point[1] });

/**
 * The incidents (all times before T0):
 *   i1 A1 reported 2 h ago · i2 A1 closed: reported 10 h ago, dispatched after 30 min, closed after 5 h (limit of 0101
 *   at severity 3: 2 + 1 + 0.5 + 4 + 24 = 31.5 h → on time) · i3 A2 fire closed: reported 5 days ago, dispatched after
 *   20 min, closed after 30 h (limit of 1401 at severity 4: 1 + 0.5 + 0.25 + 1 + 24 = 26.75 h → late) · i4 B1 dispatched:
 *   reported 3 h ago, dispatched after 45 min · i5 A1 merged 1 h ago (a duplicate: not counted) · i6 B1 reported 40 days
 *   ago (outside 30 days) · i7 town A only (no grid) reported 1 day ago.
 */
async function writeIncidents(file: string): Promise<void> {
  const store = await openIncidentStore({ file });
  const add = async (id: string, over: Partial<Incident>, steps: { status: Incident['status']; action: Transition['action']; at: number; closedAt?: number }[] = []) => {
    let i = makeIncident(id, { ...over, updatedAt: over.createdAt, deadline: null });
    await store.create(i, reportTransition(i));
    for (const s of steps) {
      const next = bump(i, { status: s.status, closedAt: s.closedAt ?? null }, s.at);
      const r = await store.update(next, i.version, { incidentId: id, action: s.action, from: i.status, to: s.status, actor: OPERATOR, at: s.at, reason: null, data: {} });
      i = r.incident;
    }
  };
  await add('i1', { ...cat.pothole, ...place(A1), createdAt: T0 - 2 * H });
  await add('i2', { ...cat.pothole, ...place(A1), status: 'registered', createdAt: T0 - 10 * H }, [
    { status: 'dispatched', action: 'dispatch', at: T0 - 10 * H + 30 * MIN },
    { status: 'closed', action: 'verify', at: T0 - 5 * H, closedAt: T0 - 5 * H },
  ]);
  await add('i3', { ...cat.fire, ...place(A2), status: 'registered', createdAt: T0 - 5 * D }, [
    { status: 'dispatched', action: 'dispatch', at: T0 - 5 * D + 20 * MIN },
    { status: 'closed', action: 'verify', at: T0 - 5 * D + 30 * H, closedAt: T0 - 5 * D + 30 * H },
  ]);
  await add('i4', { ...cat.pothole, ...place(B1), status: 'registered', createdAt: T0 - 3 * H }, [
    { status: 'dispatched', action: 'dispatch', at: T0 - 3 * H + 45 * MIN },
  ]);
  await add('i5', { ...cat.pothole, ...place(A1), status: 'merged', createdAt: T0 - H });
  await add('i6', { ...cat.pothole, ...place(B1), createdAt: T0 - 40 * D });
  await add('i7', { ...cat.pothole, gridCode: null, villageCode: null, townCode: TA, lon: A1.point[0], lat: A1.point[1], createdAt: T0 - D });
  await store.close();
}

/** Check-ins: in A1 two days ago (within 7 days), in B1 eight days ago (outside). */
async function writeCheckIns(file: string): Promise<void> {
  const store = await openSqlitePatrolStore(file);
  await store.add({ userId: `grid-${A1.code}`, lon: A1.point[0], lat: A1.point[1], at: T0 - 2 * D, accuracy: 5, receivedAt: T0 - 2 * D });
  await store.add({ userId: `grid-${B1.code}`, lon: B1.point[0], lat: B1.point[1], at: T0 - 8 * D, accuracy: 5, receivedAt: T0 - 8 * D });
  await store.close();
}

// ---- by hand --------------------------------------------------------------------------------------------------------

const r = (v: number | null, decimals: number) => (v === null ? null : Math.round(v * 10 ** decimals) / 10 ** decimals);
const pct = (a: number, b: number, decimals = 1) => (b === 0 ? null : r((a / b) * 100, decimals));
const inTown = (t: string) => (code: string | null) => code !== null && code.startsWith(t);

/** Expected values per built-in at one level, by hand from the inputs above (`waterAlarms`: alarms raised per grid). */
function expectedAt(level: 'town' | 'grid', waterAlarms: Map<string, number>): Record<string, Map<string, number | null>> {
  const areas = level === 'town' ? TOWNS : GRIDS.map((g) => g.code);
  const out: Record<string, Map<string, number | null>> = {
    closed_on_time_rate: new Map(), dispatch_minutes: new Map(), device_online_rate: new Map(), water_level_alarms: new Map(), grid_patrol_coverage: new Map(),
  };
  if (level === 'town') out.incidents_per_10k = new Map();
  const reporting = new Set([W1.id, D2.id]);
  for (const a of areas) {
    const has = inTown(a);
    if (level === 'town') {
      // i1, i2, i3, i7 in town A; i4 in town B (i5 merged, i6 too old).
      const n = a === TA ? 4 : a === TB ? 1 : 0;
      out.incidents_per_10k.set(a, TOWN_POP.has(a) ? r((n / TOWN_POP.get(a)!) * 10000, 2) : null);
    }
    // Closed within 30 days: i2 (A1, on time), i3 (A2, late).
    const closed = [has(A1.code) ? 1 : 0, has(A2.code) ? 1 : 0], onTime = has(A1.code) ? 1 : 0;
    out.closed_on_time_rate.set(a, pct(onTime, closed[0] + closed[1]));
    // First dispatches within 30 days: i2 30 min (A1), i3 20 min (A2), i4 45 min (B1).
    const mins = [[A1.code, 30], [A2.code, 20], [B1.code, 45]].filter(([g]) => has(g as string)).map(([, m]) => m as number);
    out.dispatch_minutes.set(a, mins.length ? r(mins.reduce((s, m) => s + m, 0) / mins.length, 1) : null);
    const devs = DEVICES.filter((d) => has(deviceCode(d)));
    out.device_online_rate.set(a, pct(devs.filter((d) => reporting.has(d.id)).length, devs.length));
    out.water_level_alarms.set(a, [...waterAlarms].filter(([g]) => has(g)).reduce((s, [, n]) => s + n, 0));
    const grids = GRIDS.filter((g) => has(g.code)).length;
    out.grid_patrol_coverage.set(a, pct(has(A1.code) ? 1 : 0, grids));
  }
  return out;
}

// ---- the server -----------------------------------------------------------------------------------------------------

describe('indicators on a fixed data set', () => {
  let srv: RunningServer;
  let dir: string;
  let now = T0;
  const get = async (h: Record<string, string>, path: string) => {
    const res = await fetch(`${srv.url}${path}`, { headers: h });
    return { status: res.status, body: await res.json() as Record<string, unknown> & { values: IndicatorValue[]; at: number | null } };
  };
  const send = async (h: Record<string, string>, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${srv.url}${path}`, { method, headers: { ...h, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: res.status === 204 ? null : await res.json() as Record<string, any> };
  };
  const byCode = (values: IndicatorValue[], id: string) => new Map(values.filter((v) => v.indicator === id).map((v) => [v.code, v.value]));
  let admin: Record<string, string>, planner: Record<string, string>;
  let firstAt: number;

  beforeAll(async () => {
    expect(W1, 'a water-level gauge in a town with a population figure (rebuild the data?)').toBeTruthy();
    dir = await mkdtemp(join(tmpdir(), 'onemap-indicators-'));
    await writeIncidents(join(dir, 'incidents.sqlite'));
    await writeCheckIns(join(dir, 'patrols.sqlite'));
    srv = await startServer({
      dataDir: DATA_DIR, webDir: join(DATA_DIR, 'no-web'), port: 0, incidentDbFile: join(dir, 'incidents.sqlite'),
      incidentDatabaseUrl: null, editDatabaseUrl: null, indicatorDatabaseUrl: null, ...TEST_AUTH, auth: { ...TEST_AUTH.auth },
      clock: () => now, sweepIntervalMs: 0, indicatorIntervalMs: 0, purgeIntervalMs: 0,
    } as Parameters<typeof startServer>[0]);
    const t = await srv.telemetry;
    // Alarms stay alarms here (no incident opened from them): the incident inputs are exactly the seven above.
    await t.engine.setRules(t.engine.rules().map((x) => ({ ...x, incidentCategory: null })));
    t.engine.ingest([
      { deviceId: W1.id, kind: 'water_level', ts: now, value: 4.2, receivedAt: now },
      { deviceId: D2.id, kind: D2.kind, ts: now, value: D2.kind === 'water_level' ? 2.5 : 0, receivedAt: now },
    ]);
    admin = await asUser(srv.url, 'admin');
    planner = await asUser(srv.url, 'planner');
  }, 300_000);
  afterAll(async () => {
    await srv?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('has no snapshot before the first computation', async () => {
    const res = await get(admin, '/api/indicators?level=town');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ at: null, level: 'town', values: [] });
    expect((res.body.definitions as { id: string }[]).map((d) => d.id)).toContain('dispatch_minutes');
  });

  it('computes every built-in to the hand-computed value at town and grid level', async () => {
    const c = await send(planner, 'POST', '/api/indicators/compute', {});
    expect(c.status).toBe(200);
    expect(c.body!.at).toBe(T0);
    firstAt = T0;
    const alarms = new Map([[A1.code, 1]]);
    for (const level of ['town', 'grid'] as const) {
      const res = await get(admin, `/api/indicators?level=${level}`);
      expect(res.status).toBe(200);
      expect(res.body.at).toBe(T0);
      const want = expectedAt(level, alarms);
      for (const [id, map] of Object.entries(want)) {
        const got = byCode(res.body.values, id);
        expect(got.size, `${id} at ${level}: one value per area`).toBe(map.size);
        if (level === 'town') expect(Object.fromEntries(got), `${id} at town level`).toEqual(Object.fromEntries(map));
        else for (const g of [A1.code, A2.code, B1.code, GRIDS.find((x) => x.town !== TA && x.town !== TB)!.code]) expect(got.get(g), `${id} in grid ${g}`).toBe(map.get(g));
      }
    }
    // The data set gives these a real value (the checks above are not all null/0).
    const town = byCode((await get(admin, '/api/indicators?level=town')).body.values, 'closed_on_time_rate');
    expect(town.get(TA)).toBe(50);
    const city = await get(admin, '/api/indicators?level=city&indicator=incidents_per_10k');
    expect(city.body.values).toEqual([expect.objectContaining({ code: '320581', value: r((5 / CITY_POP) * 10000, 2) })]);
    const grid = await get(admin, '/api/indicators?level=grid&indicator=dispatch_minutes');
    expect(grid.body.values.find((v) => v.code === B1.code)).toMatchObject({ value: 45, status: 'amber' });
  });

  it('keeps a time series; ?at= answers the snapshot in force then', async () => {
    now = T0 + H;
    const t = await srv.telemetry;
    // Back under the warning level (clears), then over it again: a second alarm. The rise (0.15 m in 30 min) stays
    // under the rapid-rise rule's 0.02 m/min, so no rate alarm joins it.
    t.engine.ingest([{ deviceId: W1.id, kind: 'water_level', ts: now - 30 * MIN, value: 3.6, receivedAt: now - 30 * MIN }]);
    t.engine.ingest([{ deviceId: W1.id, kind: 'water_level', ts: now, value: 3.75, receivedAt: now }]);
    expect((await send(admin, 'POST', '/api/indicators/compute', {})).body!.at).toBe(T0 + H);
    const latest = await get(admin, '/api/indicators?level=grid&indicator=water_level_alarms');
    expect(latest.body.at).toBe(T0 + H);
    expect(byCode(latest.body.values, 'water_level_alarms').get(A1.code)).toBe(2);
    const older = await get(admin, `/api/indicators?level=grid&indicator=water_level_alarms&at=${new Date(T0 + 30 * MIN).toISOString()}`);
    expect(older.body.at).toBe(firstAt);
    expect(byCode(older.body.values, 'water_level_alarms').get(A1.code)).toBe(1);
    const s = await get(admin, `/api/indicators/series?indicator=water_level_alarms&level=grid&code=${A1.code}&from=${T0 - H}&to=${T0 + 2 * H}`);
    expect(s.status).toBe(200);
    expect(s.body.points).toEqual([{ at: T0, value: 1, status: 'amber' }, { at: T0 + H, value: 2, status: 'amber' }]);
    expect((await get(admin, `/api/indicators?level=town&at=${T0 - D}`)).body).toMatchObject({ at: null, values: [] });
  });

  it('lets a planner add an indicator, validated, computed and listed', async () => {
    const def = {
      id: 'open_cases_x2', name: '在办事件（×2）', meaning: '近 7 天上报、仍在办的事件数乘 2', formula: 'incidents(since="7d", status="open") * 2',
      unit: '件', levels: ['town', 'grid'], better: 'lower', thresholds: { green: 2, red: 6 }, decimals: 0,
    };
    const analyst = await asUser(srv.url, 'analyst');
    expect((await send(analyst, 'POST', '/api/indicators/definitions', def)).status).toBe(403);
    const bad = await send(planner, 'POST', '/api/indicators/definitions', { ...def, formula: 'incidents(since="7d") *' });
    expect(bad.status).toBe(422);
    expect(bad.body!.error).toMatchObject({ code: 'syntax', field: 'formula', position: 23 });
    expect((await send(planner, 'POST', '/api/indicators/definitions', { ...def, thresholds: { green: 6, red: 2 } })).body!.error).toMatchObject({ field: 'thresholds' });
    const created = await send(planner, 'POST', '/api/indicators/definitions', def);
    expect(created.status).toBe(201);
    expect(created.body!.definition).toMatchObject({ ...def, builtin: false, createdBy: 'planner', createdAt: now });
    expect((await send(planner, 'POST', '/api/indicators/definitions', def)).status).toBe(409);
    const list = await get(analyst, '/api/indicators/definitions');
    expect((list.body.items as { id: string }[]).map((d) => d.id)).toContain('open_cases_x2');

    await send(planner, 'POST', '/api/indicators/compute', {});
    const town = await get(planner, '/api/indicators?level=town&indicator=open_cases_x2');
    // Open (not closed, not merged) within 7 days: i1 and i7 in town A, i4 in town B.
    const want = Object.fromEntries(TOWNS.map((t) => [t, t === TA ? 4 : t === TB ? 2 : 0]));
    expect(Object.fromEntries(byCode(town.body.values, 'open_cases_x2'))).toEqual(want);
    expect(town.body.values.find((v) => v.code === TA)).toMatchObject({ status: 'amber' });

    // Preview: nothing saved, errors with their position; built-ins cannot be changed; custom ones can.
    const p = await send(planner, 'POST', '/api/indicators/preview', { formula: 'incidents(since="7d", status="open")', level: 'grid' });
    expect(p.status).toBe(200);
    expect(p.body!.values.find((v: IndicatorValue) => v.code === A1.code).value).toBe(1);
    const pe = await send(planner, 'POST', '/api/indicators/preview', { formula: 'incidents(sinse="7d")', level: 'grid' });
    expect(pe.status).toBe(422);
    expect(pe.body!.error).toMatchObject({ code: 'unknown_argument', position: 10 });
    expect((await send(planner, 'PUT', '/api/indicators/definitions/dispatch_minutes', { ...def, id: undefined })).status).toBe(409);
    expect((await send(planner, 'DELETE', '/api/indicators/definitions/dispatch_minutes')).status).toBe(409);
    const put = await send(planner, 'PUT', '/api/indicators/definitions/open_cases_x2', { ...def, id: undefined, name: '在办事件' });
    expect(put.status).toBe(200);
    expect(put.body!.definition.name).toBe('在办事件');
  });

  it('shows a grid manager only the areas on the way to their own grid', async () => {
    const gm = await asUser(srv.url, `grid-${A1.code}`);
    const grid = await get(gm, '/api/indicators?level=grid&indicator=dispatch_minutes');
    expect(grid.body.values.map((v) => v.code)).toEqual([A1.code]);
    const town = await get(gm, '/api/indicators?level=town&indicator=dispatch_minutes');
    expect(town.body.values.map((v) => v.code)).toEqual([TA]);
    expect((await get(gm, `/api/indicators/series?indicator=dispatch_minutes&level=grid&code=${B1.code}`)).status).toBe(403);
    expect((await send(gm, 'POST', '/api/indicators/compute', {})).status).toBe(403);
  });

  it('answers bad parameters with 4xx', async () => {
    expect((await get(admin, '/api/indicators?level=county')).status).toBe(400);
    expect((await get(admin, '/api/indicators?at=yesterday')).status).toBe(400);
    expect((await get(admin, '/api/indicators?indicator=no_such')).status).toBe(404);
    expect((await get(admin, '/api/indicators?colour=red')).status).toBe(400);
    expect((await get(admin, `/api/indicators/series?indicator=dispatch_minutes&level=town&code=${A1.code}`)).status).toBe(400);
    expect((await get(admin, '/api/indicators/series?indicator=dispatch_minutes&level=town&code=320581999')).status).toBe(404);
  });

  it('moved the wall summary to /api/wall/summary', async () => {
    const res = await get(admin, '/api/wall/summary');
    expect(res.status).toBe(200);
    expect(res.body).toHaveProperty('incidents.open');
  });
});

// ---- the store on both engines --------------------------------------------------------------------------------------

describe('indicator store (SQLite and PostgreSQL)', () => {
  const targets = useStoreTargets('indicators');
  const engines: { name: string; open: () => Promise<IndicatorStore> }[] = [
    { name: 'sqlite', open: () => openIndicatorStore({ file: targets.sqliteFile('indicators') }) },
    ...(targets.withPostgres ? [{ name: 'postgres', open: () => openPgIndicatorStore(targets.requirePg(), targets.pgSchema('indicators')) }] : []),
  ];
  for (const e of engines) {
    it(`${e.name}: definitions, snapshots, series and deletion`, async () => {
      const s = await e.open();
      try {
        const def = { id: 'x_rate', name: 'x', meaning: 'm', formula: 'grids', unit: '', levels: ['town' as const], better: 'lower' as const, thresholds: { green: 1, red: 2 }, decimals: 1, builtin: false, createdBy: 'planner', createdAt: 5 };
        await s.putDefinition(def, 5);
        await s.putDefinition({ ...def, name: 'y' }, 6);
        expect(await s.definitions()).toEqual([{ ...def, name: 'y' }]);
        const row = (at: number, values: (number | null)[]) => ({ at, indicator: 'x_rate', level: 'town' as const, better: 'lower' as const, green: 1, red: 2, codes: ['320581001', '320581002'], values });
        await s.saveSnapshot(1000, 3, [row(1000, [1.5, null])]);
        await s.saveSnapshot(2000, 3, [row(2000, [2, 0])]);
        expect(await s.latestSnapshot(1999)).toBe(1000);
        expect(await s.latestSnapshot(999)).toBeNull();
        expect(await s.snapshotRows(1000, 'town')).toEqual([row(1000, [1.5, null])]);
        expect(await s.snapshotRows(2000, 'grid')).toEqual([]);
        expect((await s.seriesRows('x_rate', 'town', 0, 5000, 10)).map((x) => x.values)).toEqual([[1.5, null], [2, 0]]);
        expect(await s.snapshotTimes(2000)).toEqual([1000]);
        expect(await s.deleteSnapshots([1000])).toBe(1);
        expect(await s.seriesRows('x_rate', 'town', 0, 5000, 10)).toHaveLength(1);
        expect(await s.deleteDefinition('x_rate')).toBe(true);
        expect(await s.definitions()).toEqual([]);
      } finally {
        await s.close();
      }
    });
  }
  // The patrol store's `between` (everyone's check-ins in a window), which grid patrol coverage reads.
  const patrols: { name: string; open: () => Promise<PatrolStore> }[] = [
    { name: 'sqlite', open: () => openSqlitePatrolStore(targets.sqliteFile('patrols')) },
    ...(targets.withPostgres ? [{ name: 'postgres', open: () => openPgPatrolStore(targets.requirePg(), targets.pgSchema('patrol')) }] : []),
  ];
  for (const e of patrols) {
    it(`${e.name}: patrol check-ins of everyone in a window`, async () => {
      const p = await e.open();
      try {
        for (const [user, at] of [['grid-a', 3000], ['grid-b', 1000], ['grid-a', 2000], ['grid-c', 9000]] as const) {
          await p.add({ userId: user, lon: 120.7, lat: 31.6, at, accuracy: null, receivedAt: at });
        }
        expect((await p.between(1000, 9000, 10)).map((c) => [c.userId, c.at])).toEqual([['grid-b', 1000], ['grid-a', 2000], ['grid-a', 3000]]);
        expect(await p.between(1000, 9001, 2)).toHaveLength(2);
      } finally {
        await p.close();
      }
    });
  }
});
