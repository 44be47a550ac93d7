// The service on the real SQLite store (in memory), with a fake spatial store and dispatcher and a clock the
// test moves by hand.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getIncidentCategory, INCIDENT_SOURCES, type IncidentSource } from '../../layers/incident-categories.ts';
import type { SpatialStore } from '../storage/spatial-store.ts';
import type { Dispatcher, ResponderRec } from './dispatcher.ts';
import { openIncidentStore, type IncidentStore } from './incident-store.ts';
import { INCIDENT_ACTIONS, type Actor, type Candidate, type Incident, type IncidentAction, type NewIncident, type Transition } from '../../layers/incidents/model.ts';
import { IncidentError, IncidentService, metresBetween, type ActBody } from './service.ts';
import { STAGE_OF, stageLimitMs, TRANSITIONS } from '../../layers/incidents/state-machine.ts';

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 29, 1, 0, 0); // 09:00 in Changshu
const OP: Actor = { id: 'op-1', role: 'operator' };
const OP2: Actor = { id: 'op-2', role: 'operator' };
const R1: Actor = { id: 'r1', role: 'responder' };
const R2: Actor = { id: 'r2', role: 'responder' };
const LON = 120.75, LAT = 31.65;

const RESPONDERS: ResponderRec[] = ['r1', 'r2', 'r3', 'r4', 'r5'].map((id, i) => ({
  id, name: `处置员${i + 1}`, kind: 'patrol', department: 'urban', gridCode: null, skills: [], lon: LON + i * 0.001, lat: LAT,
}));

/** West of 120.7 is grid A, east is grid B; addresses every ~100 m. */
const spatial = {
  kind: 'embedded',
  async adminAt(lon: number) {
    const g = lon < 120.7 ? 'A' : 'B';
    return { town: { code: '320581001', name: '虞山街道' }, village: { code: `320581001001`, name: '村' },
      grid: { code: `320581001001${g === 'A' ? '001' : '002'}`, name: `网格${g}`, manager: null } };
  },
  async nearest(spec: { lon: number; lat: number }) {
    return [{ layer: 'addresses', id: 'a1', properties: { full: `常熟市虞山街道测试路${Math.round(spec.lon * 1000) % 100}号`, code: 'ADDR1' },
      geometry: { type: 'Point', coordinates: [spec.lon, spec.lat] }, distanceM: 3 }];
  },
} as unknown as SpatialStore;

let rankCalls: { workload: Map<string, number> }[] = [];
const dispatcher: Dispatcher = {
  responders: () => RESPONDERS,
  rank: (_inc, ctx) => {
    rankCalls.push(ctx);
    return RESPONDERS.slice(0, ctx.limit ?? 5).map((r, i): Candidate => ({
      responderId: r.id, name: r.name, kind: r.kind, department: r.department, gridCode: r.gridCode, travelSeconds: 60 * (i + 1),
      travelMetres: 500 * (i + 1), positionSource: 'home', workload: ctx.workload.get(r.id) ?? 0, skillMatch: true,
      departmentMatch: true, ownGridManager: false, score: 100 - i, reasons: ['测试'],
    }));
  },
  route: () => null,
};

let now = T0;
let store: IncidentStore;
let svc: IncidentService;
let changes: [Incident, Transition][];

beforeEach(async () => {
  now = T0;
  rankCalls = [];
  changes = [];
  store = await openIncidentStore({ file: ':memory:' });
  svc = new IncidentService({
    store, spatial, dispatcher, clock: () => now,
    geocode: async (text) => text.includes('虞山') ? { lon: 120.76, lat: 31.66, address: '常熟市虞山街道书院街1号', code: 'GEO1' } : null,
    onChange: (i, t) => changes.push([i, t]),
  });
});
afterEach(async () => {
  await store.close();
});

function report(over: Partial<NewIncident> = {}): NewIncident {
  return { lon: LON, lat: LAT, category: '0101', title: '井盖缺失', description: '人行道井盖缺失', source: 'grid', ...over };
}

async function refused(p: Promise<unknown>, status: number, code: string): Promise<IncidentError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err, `expected ${status} ${code}`).toBeInstanceOf(IncidentError);
  expect((err as IncidentError).status).toBe(status);
  expect((err as IncidentError).code).toBe(code);
  return err as IncidentError;
}

/** Drives a fresh incident to `target` along the main loop. */
async function at(target: 'reported' | 'registered' | 'dispatched' | 'handling' | 'handled' | 'closed' | 'rejected' | 'merged', over: Partial<NewIncident> = {}) {
  let { incident } = await svc.create(report(over), OP);
  const id = incident.id;
  if (target === 'reported') return incident;
  if (target === 'rejected') return svc.act(id, 'reject', OP, { reason: '不属于受理范围' });
  if (target === 'merged') {
    const other = await svc.create(report({ ...over, lon: LON + 0.01 }), OP);
    return svc.act(id, 'merge', OP, { into: other.incident.id });
  }
  incident = await svc.act(id, 'register', OP, {});
  if (target === 'registered') return incident;
  incident = await svc.dispatch(id, 'r1', OP);
  if (target === 'dispatched') return incident;
  incident = await svc.act(id, 'accept', R1, {});
  if (target === 'handling') return incident;
  incident = await svc.act(id, 'feedback', R1, {});
  if (target === 'handled') return incident;
  return svc.act(id, 'verify', OP, {});
}

describe('the full loop', () => {
  for (const source of Object.keys(INCIDENT_SOURCES) as IncidentSource[]) {
    it(`from a ${source} report to closure`, async () => {
      const cat = getIncidentCategory('1102')!; // 道路积水, 4 h
      const created = await svc.create(report({ source, category: cat.code }), OP);
      expect(created.created).toBe(true);
      const inc = created.incident;
      expect(inc).toMatchObject({
        status: 'reported', level: 'grid', source, category: '1102', categoryName: cat.name, severity: cat.severity,
        department: cat.department, gridCode: '320581001001002', villageCode: '320581001001', townCode: '320581001',
        address: expect.stringContaining('测试路'), addressCode: 'ADDR1', version: 1, deadline: T0 + 2 * H, reporter: OP,
      });
      expect(inc.code).toMatch(/^SJ20261129\d{4}$/);
      const id = inc.id;

      now += 10 * 60_000;
      expect((await svc.act(id, 'register', OP, {})).deadline).toBe(now + H);
      now += 5 * 60_000;
      expect((await svc.dispatch(id, 'r1', OP)).assigneeId).toBe('r1');
      now += 60_000;
      const handling = await svc.act(id, 'accept', R1, {});
      expect(handling.deadline).toBe(now + cat.limitHours * H);
      const photo = await store.addAttachment({ incidentId: id, kind: 'after', mime: 'image/png' }, new Uint8Array([137, 80, 78, 71]), now, R1);
      now += H;
      const handled = await svc.act(id, 'feedback', R1, { attachmentIds: [photo.id] });
      expect(handled).toMatchObject({ status: 'handled', handlerId: 'r1', deadline: now + 24 * H });
      now += H;
      const closed = await svc.act(id, 'verify', OP2, {});
      expect(closed).toMatchObject({ status: 'closed', closedAt: now, deadline: null, assigneeId: null, version: 6 });

      const full = await svc.get(id);
      expect(full!.transitions.map((t) => [t.seq, t.action, t.from, t.to, t.actor.id])).toEqual([
        [1, 'report', null, 'reported', 'op-1'], [2, 'register', 'reported', 'registered', 'op-1'],
        [3, 'dispatch', 'registered', 'dispatched', 'op-1'], [4, 'accept', 'dispatched', 'handling', 'r1'],
        [5, 'feedback', 'handling', 'handled', 'r1'], [6, 'verify', 'handled', 'closed', 'op-2'],
      ]);
      expect(full!.transitions[4].data.attachmentIds).toEqual([photo.id]);
      expect(full!.attachments.map((a) => a.id)).toEqual([photo.id]);
      expect(changes.map(([i, t]) => [i.version, t.action])).toEqual([[1, 'report'], [2, 'register'], [3, 'dispatch'], [4, 'accept'], [5, 'feedback'], [6, 'verify']]);
    });
  }

  it('decline returns the case for dispatch; rework sends it back to the handler; reassign moves it', async () => {
    const id = (await at('dispatched')).id;
    await refused(svc.act(id, 'decline', R1, {}), 400, 'reason_required');
    const back = await svc.act(id, 'decline', R1, { reason: '不在本人职责范围' });
    expect(back).toMatchObject({ status: 'registered', assigneeId: null });
    await svc.dispatch(id, 'r2', OP);
    await svc.act(id, 'accept', R2, {});
    const moved = await svc.act(id, 'reassign', OP, { responderId: 'r3' });
    expect(moved).toMatchObject({ status: 'dispatched', assigneeId: 'r3' });
    await svc.act(id, 'accept', { id: 'r3', role: 'responder' }, {});
    await svc.act(id, 'feedback', { id: 'r3', role: 'responder' }, {});
    const rework = await svc.act(id, 'rework', OP, { reason: '井盖未固定' });
    expect(rework).toMatchObject({ status: 'handling', handlerId: null, assigneeId: 'r3' });
    await svc.act(id, 'feedback', { id: 'r3', role: 'responder' }, {});
    await refused(svc.act(id, 'verify', { id: 'r3', role: 'responder' }, {}), 409, 'invalid_transition');
    expect((await svc.act(id, 'verify', OP, {})).status).toBe('closed');
  });

  it('reports by address go through the geocoder', async () => {
    const { incident } = await svc.create({ addressText: '虞山街道书院街1号', category: '0301', title: '垃圾箱满溢', description: '', source: 'hotline' }, OP);
    expect(incident).toMatchObject({ lon: 120.76, lat: 31.66, address: '常熟市虞山街道书院街1号', addressCode: 'GEO1' });
    await refused(svc.create({ addressText: '火星某处', category: '0301', title: 'x', description: '', source: 'hotline' }, OP), 400, 'address_not_found');
    const noGeo = new IncidentService({ store, spatial, dispatcher, clock: () => now });
    await refused(noGeo.create({ addressText: '虞山', category: '0301', title: 'x', description: '', source: 'hotline' }, OP), 400, 'geocode_unavailable');
  });
});

describe('input', () => {
  it('refuses bad reports with 400 and a code', async () => {
    await refused(svc.create(report({ category: '9999' }), OP), 400, 'unknown_category');
    await refused(svc.create(report({ source: 'fax' as IncidentSource }), OP), 400, 'invalid_source');
    await refused(svc.create(report({ lon: Number.NaN }), OP), 400, 'invalid_location');
    await refused(svc.create(report({ lat: 91 }), OP), 400, 'invalid_location');
    await refused(svc.create(report({ title: '  ' }), OP), 400, 'invalid_title');
    await refused(svc.create(report({ severity: 5 as 4 }), OP), 400, 'invalid_severity');
    await refused(svc.create(report(), { id: '', role: 'operator' }), 400, 'invalid_actor');
    expect((await store.list({ limit: 10 })).total).toBe(0);
  });
  it('an explicit severity overrides the category default', async () => {
    const { incident } = await svc.create(report({ category: '0103', severity: 4 }), OP);
    expect(incident).toMatchObject({ severity: 4, deadline: T0 + H });
  });
  it('refuses bad action bodies, unknown ids, responders and attachments', async () => {
    const id = (await at('registered')).id;
    await refused(svc.act('nope', 'register', OP, {}), 404, 'incident_not_found');
    await refused(svc.act(id, 'fly' as IncidentAction, OP, {}), 400, 'invalid_action');
    await refused(svc.dispatch(id, 'ghost', OP), 400, 'unknown_responder');
    await refused(svc.act(id, 'dispatch', OP, {}), 400, 'responder_required');
    await refused(svc.act(id, 'comment', OP, { reason: 'x', version: 0 }), 400, 'invalid_version');
    await refused(svc.act(id, 'comment', OP, { reason: 'x', attachmentIds: ['zzz'] }), 400, 'unknown_attachment');
    await refused(svc.candidates('nope'), 404, 'incident_not_found');
    expect((await store.get(id))!.version).toBe(2);
  });
  it('idempotent creation: a retry returns the same incident; another body with the key is 409', async () => {
    const a = await svc.create(report(), OP, { idempotencyKey: 'k1' });
    const b = await svc.create(report(), OP, { idempotencyKey: 'k1' });
    expect([a.created, b.created, b.incident.id]).toEqual([true, false, a.incident.id]);
    await refused(svc.create(report({ title: '另一件事' }), OP, { idempotencyKey: 'k1' }), 409, 'idempotency_conflict');
    expect((await store.list({ limit: 10 })).total).toBe(1);
  });
});

describe('invalid transitions', () => {
  const STATES = ['reported', 'registered', 'dispatched', 'handling', 'handled', 'closed', 'rejected', 'merged'] as const;
  for (const state of STATES) {
    it(`from ${state}: every action not in the table is 409 and changes nothing`, async () => {
      const inc = await at(state);
      const body: ActBody = { reason: '理由', responderId: 'r2', into: (await svc.create(report({ lon: LON + 0.02 }), OP)).incident.id };
      for (const action of INCIDENT_ACTIONS) {
        if (TRANSITIONS[action].from.includes(state)) continue;
        const actor = TRANSITIONS[action].who === 'assignee' ? R1 : OP;
        const err = await refused(svc.act(inc.id, action, actor, body), 409, 'invalid_transition');
        expect(err.message).toMatch(/^无法/);
      }
      const after = await svc.get(inc.id);
      expect(after!.incident.version).toBe(inc.version);
    });
  }
  it('accept, decline and feedback by someone else than the assignee are 409', async () => {
    const d = await at('dispatched');
    await refused(svc.act(d.id, 'accept', R2, {}), 409, 'invalid_transition');
    await refused(svc.act(d.id, 'decline', OP, { reason: 'x' }), 409, 'invalid_transition');
    const h = await at('handling');
    await refused(svc.act(h.id, 'feedback', R2, {}), 409, 'invalid_transition');
  });
  it('verify and rework by the handler are 409', async () => {
    const h = await at('handled');
    await refused(svc.act(h.id, 'verify', R1, {}), 409, 'invalid_transition');
    await refused(svc.act(h.id, 'rework', R1, { reason: 'x' }), 409, 'invalid_transition');
  });
});

describe('concurrency', () => {
  it('a stale version is 409 version_conflict with the current incident', async () => {
    const inc = await at('registered');
    await svc.act(inc.id, 'comment', OP, { reason: '先到' });
    const err = await refused(svc.act(inc.id, 'comment', OP2, { reason: '后到', version: inc.version }), 409, 'version_conflict');
    expect((err.detail!.current as Incident).version).toBe(inc.version + 1);
  });
  it('concurrent dispatches of one incident: exactly one wins', async () => {
    const inc = await at('registered');
    // Count lost races at the store, so the test proves the requests really overlapped.
    let conflicts = 0;
    const update = store.update.bind(store);
    store.update = (...args) => update(...args).catch((e: unknown) => { conflicts++; throw e; });
    const results = await Promise.allSettled(['r1', 'r2', 'r3', 'r4', 'r5'].map((r) => svc.dispatch(inc.id, r, OP)));
    expect(conflicts).toBeGreaterThan(0);
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect([(r.reason as IncidentError).status, (r.reason as IncidentError).code]).toEqual([409, 'invalid_transition']);
    }
    const ts = (await svc.get(inc.id))!.transitions.filter((t) => t.action === 'dispatch');
    expect(ts).toHaveLength(1);
    expect((await store.get(inc.id))!.assigneeId).toBe(ts[0].data.responderId);
  });
  it('concurrent dispatches naming the version they saw: one wins, the rest are version conflicts', async () => {
    const inc = await at('registered');
    const results = await Promise.allSettled(['r1', 'r2', 'r3'].map((r) => svc.dispatch(inc.id, r, OP, inc.version)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as IncidentError).code).toBe('version_conflict');
  });
  it('concurrent comments without a version all land, in sequence', async () => {
    const inc = await at('reported');
    await Promise.all([1, 2, 3, 4].map((n) => svc.act(inc.id, 'comment', OP, { reason: `备注${n}` })));
    const full = (await svc.get(inc.id))!;
    expect(full.incident.version).toBe(5);
    expect(full.transitions.map((t) => t.seq)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('time limits, supervision and escalation', () => {
  it('lists time left and overdue against the service clock', async () => {
    const inc = await at('reported', { category: '1401' }); // 火情, severity 4: register in 1 h
    expect(inc.deadline).toBe(T0 + H);
    let l = await svc.list({ limit: 10 });
    expect(l.items[0]).toMatchObject({ overdue: false, secondsLeft: 3600 });
    now = T0 + H + 1000;
    l = await svc.list({ limit: 10, overdue: true });
    expect(l.items.map((i) => [i.id, i.overdue, i.secondsLeft])).toEqual([[inc.id, true, -1]]);
    expect((await svc.list({ limit: 10, overdue: false })).total).toBe(0);
  });
  it('each stage has its own deadline for the category', async () => {
    const inc = await at('handling', { category: '0103' }); // 路灯故障, 72 h
    expect(inc.deadline).toBe(now + 72 * H);
    const fire = await at('dispatched', { category: '1402', lon: LON + 0.05 }); // severity 4: accept in 15 min
    expect(fire.deadline).toBe(now + H / 4);
  });
  it('督办 once per stage, then escalate grid → town → city as the overdue time grows', async () => {
    const inc = await at('registered'); // dispatch stage: 1 h
    const limit = stageLimitMs(STAGE_OF.registered!, inc.category, inc.severity);
    expect(await svc.sweep()).toEqual({ supervised: [], escalated: [], failed: [] });
    now = inc.deadline! + 60_000;
    expect(await svc.sweep()).toEqual({ supervised: [inc.id], escalated: [], failed: [] });
    expect(await svc.sweep()).toEqual({ supervised: [], escalated: [], failed: [] });
    let cur = (await store.get(inc.id))!;
    expect([cur.supervisions, cur.level]).toEqual([1, 'grid']);
    now = inc.deadline! + limit + 60_000;
    expect(await svc.sweep()).toEqual({ supervised: [], escalated: [inc.id], failed: [] });
    expect((await store.get(inc.id))!.level).toBe('town');
    now = inc.deadline! + 2 * limit + 60_000;
    expect((await svc.sweep()).escalated).toEqual([inc.id]);
    cur = (await store.get(inc.id))!;
    expect([cur.level, cur.supervisions]).toEqual(['city', 1]);
    now += 10 * limit;
    expect(await svc.sweep()).toEqual({ supervised: [], escalated: [], failed: [] });
    const ts = (await svc.get(inc.id))!.transitions.filter((t) => t.actor.role === 'system');
    expect(ts.map((t) => [t.action, t.data.auto, t.data.level ?? null])).toEqual([['supervise', true, null], ['escalate', true, 'town'], ['escalate', true, 'city']]);
    expect(ts.every((t) => t.reason && /超时/.test(t.reason))).toBe(true);
  });
  it('a sweep long after the deadline supervises and climbs both levels at once', async () => {
    const inc = await at('reported');
    now = inc.deadline! + 3 * 2 * H;
    expect(await svc.sweep()).toEqual({ supervised: [inc.id], escalated: [inc.id], failed: [] });
    expect((await store.get(inc.id))!.level).toBe('city');
  });
  it('a new stage gets its own 督办; closed cases are left alone', async () => {
    const inc = await at('reported');
    now = inc.deadline! + 1;
    await svc.sweep();
    await svc.act(inc.id, 'register', OP, {});
    now += H + 1;
    expect((await svc.sweep()).supervised).toEqual([inc.id]);
    expect((await store.get(inc.id))!.supervisions).toBe(2);
    const done = await at('closed', { lon: LON + 0.03 });
    now += 1000 * H;
    expect((await svc.sweep()).supervised).not.toContain(done.id);
  });
  it('manual escalation and de-escalation; the sweeper does not undo a de-escalation', async () => {
    const inc = await at('registered');
    await refused(svc.act(inc.id, 'escalate', OP, {}), 400, 'reason_required');
    await refused(svc.act(inc.id, 'deescalate', OP, {}), 409, 'invalid_transition');
    expect((await svc.act(inc.id, 'escalate', OP, { reason: '跨网格' })).level).toBe('town');
    expect((await svc.act(inc.id, 'escalate', OP, { reason: '跨部门' })).level).toBe('city');
    await refused(svc.act(inc.id, 'escalate', OP, { reason: '再提' }), 409, 'invalid_transition');
    expect((await svc.act(inc.id, 'deescalate', OP, {})).level).toBe('town');
    expect((await svc.act(inc.id, 'deescalate', OP, {})).level).toBe('grid');

    now = inc.deadline! + 1.5 * H; // overdue by more than the 1 h limit
    expect(await svc.sweep()).toEqual({ supervised: [inc.id], escalated: [inc.id], failed: [] });
    await svc.act(inc.id, 'deescalate', OP, { reason: '网格可处置' });
    expect((await svc.sweep()).escalated).toEqual([]);
    expect((await store.get(inc.id))!.level).toBe('grid');
  });
  it('two sweepers at once supervise each case once', async () => {
    const a = await at('reported');
    const b = await at('reported', { lon: LON + 0.01 });
    now = a.deadline! + 1;
    const other = new IncidentService({ store, spatial, dispatcher, clock: () => now });
    const [x, y] = await Promise.all([svc.sweep(), other.sweep()]);
    expect([...x.supervised, ...y.supervised].sort()).toEqual([a.id, b.id].sort());
    expect((await store.get(a.id))!.supervisions).toBe(1);
    expect((await store.get(b.id))!.supervisions).toBe(1);
  });
});

describe('duplicates and merge', () => {
  it('finds open reports of the same category within 50 m and 24 h', async () => {
    const first = (await svc.create(report(), OP)).incident;
    const farLon = LON + 60 / (111_320 * Math.cos((LAT * Math.PI) / 180)); // ~60 m east
    expect(metresBetween(LON, LAT, farLon, LAT)).toBeGreaterThan(50);
    now += H;
    const near = await svc.create(report({ lat: LAT + 30 / 111_320 }), OP); // ~30 m north
    expect(near.duplicates.map((d) => d.id)).toEqual([first.id]);
    expect((await svc.get(near.incident.id))!.transitions[0].data.possibleDuplicates).toEqual([first.id]);
    expect((await svc.create(report({ lon: farLon, title: 'far' }), OP)).duplicates).toEqual([]);
    expect((await svc.create(report({ category: '0103', title: 'other category' }), OP)).duplicates).toEqual([]);
    now = T0 + 25 * H;
    expect((await svc.create(report({ title: 'next day' }), OP)).duplicates.map((d) => d.id)).not.toContain(first.id);
  });
  it('closed cases are not duplicates', async () => {
    const done = await at('closed');
    expect((await svc.create(report(), OP)).duplicates.map((d) => d.id)).not.toContain(done.id);
  });
  it('merges a duplicate into the surviving case and notes it there', async () => {
    const a = (await svc.create(report(), OP)).incident;
    const b = (await svc.create(report({ source: 'public' }), OP)).incident;
    await refused(svc.act(b.id, 'merge', OP, {}), 400, 'into_required');
    await refused(svc.act(b.id, 'merge', OP, { into: b.id }), 400, 'invalid_merge_target');
    await refused(svc.act(b.id, 'merge', OP, { into: 'ghost' }), 400, 'unknown_merge_target');
    const merged = await svc.act(b.id, 'merge', OP, { into: a.id });
    expect(merged).toMatchObject({ status: 'merged', mergedInto: a.id, deadline: null });
    const survivor = (await svc.get(a.id))!;
    expect(survivor.transitions.at(-1)).toMatchObject({ action: 'comment', data: { mergedFrom: b.id } });
    await refused(svc.act(a.id, 'merge', OP, { into: b.id }), 409, 'invalid_transition'); // into a merged case
    const c = (await svc.create(report({ lon: LON + 0.0001 }), OP)).incident;
    expect(c.id).not.toBe(a.id);
    const h = await at('handling', { lon: LON + 0.04 });
    await refused(svc.act(h.id, 'merge', OP, { into: a.id }), 409, 'invalid_transition');
    const closed = await at('closed', { lon: LON + 0.06 });
    await refused(svc.act(c.id, 'merge', OP, { into: closed.id }), 409, 'invalid_transition');
  });
});

describe('candidates', () => {
  it('passes the store workload to the dispatcher', async () => {
    const a = await at('dispatched');
    const b = await at('registered', { lon: LON + 0.02 });
    const c = await svc.candidates(b.id, 3);
    expect(c).toHaveLength(3);
    expect(rankCalls.at(-1)!.workload.get('r1')).toBe(1);
    expect(c.find((x) => x.responderId === 'r1')!.workload).toBe(1);
    expect(a.assigneeId).toBe('r1');
  });
});
