import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Incident, Transition } from '../../../layers/incidents/model.ts';
import {
  OPERATOR, actionsFor, incidentNear, judged, listUrl, liveUrl, urgencyCompare, useIncidentsStore,
  type BoardIncident, type LiveSocketLike,
} from './incidents.ts';

const NOW = Date.UTC(2026, 4, 1, 8);
function inc(over: Partial<Incident> = {}): Incident {
  return {
    id: 'a', code: 'SJ202605010001', status: 'reported', level: 'grid', category: '0101', categoryName: '井盖破损或缺失', severity: 3,
    source: 'public', title: 't', description: '', lon: 120.75, lat: 31.65, address: null, addressCode: null, gridCode: '320581001001001',
    villageCode: null, townCode: null, department: 'urban', assigneeId: null, handlerId: null, reporter: { role: 'operator', id: 'x' },
    mergedInto: null, deadline: NOW + 3_600_000, supervisions: 0, createdAt: NOW - 60_000, updatedAt: NOW - 60_000, closedAt: null, version: 1, ...over,
  };
}
const b = (over: Partial<Incident>) => judged(inc(over), NOW);
const tr = (seq: number, over: Partial<Transition> = {}): Transition => ({ incidentId: 'a', seq, action: 'report', from: null, to: 'reported', actor: OPERATOR, at: NOW, reason: null, data: {}, ...over });

describe('incident helpers', () => {
  it('orders the queue: overdue (longest first), then severity, then time left; ended last', () => {
    const list: BoardIncident[] = [
      b({ id: 'closed', status: 'closed', deadline: null }),
      b({ id: 'sev1-soon', severity: 1, deadline: NOW + 60_000 }),
      b({ id: 'sev4-late', severity: 4, deadline: NOW + 7_200_000 }),
      b({ id: 'over-a-bit', severity: 1, deadline: NOW - 60_000 }),
      b({ id: 'over-long', severity: 1, deadline: NOW - 3_600_000 }),
      b({ id: 'sev4-soon', severity: 4, deadline: NOW + 600_000 }),
    ];
    expect(list.sort((x, y) => urgencyCompare(x, y, NOW)).map((i) => i.id)).toEqual(['over-long', 'over-a-bit', 'sev4-soon', 'sev4-late', 'sev1-soon', 'closed']);
  });

  it('judges overdue and time left against the given clock', () => {
    expect(b({ deadline: NOW - 1000 })).toMatchObject({ overdue: true, secondsLeft: -1 });
    expect(b({ deadline: NOW + 90_000 })).toMatchObject({ overdue: false, secondsLeft: 90 });
    expect(b({ status: 'closed', deadline: NOW - 1000 })).toMatchObject({ overdue: false, secondsLeft: null });
  });

  it('builds the list and live URLs', () => {
    const u = new URL(listUrl('http://h:8/', { view: 'open' }));
    expect(u.pathname).toBe('/api/incidents');
    expect(u.searchParams.get('status')).toBe('reported,registered,dispatched,handling,handled');
    expect(new URL(listUrl('http://h', { view: 'overdue' })).searchParams.get('overdue')).toBe('true');
    expect(new URL(listUrl('http://h', { view: 'all' })).searchParams.has('status')).toBe(false);
    expect(new URL(listUrl('http://h', { assignee: 'gm-1' })).searchParams.get('assignee')).toBe('gm-1');
    expect(liveUrl('http://127.0.0.1:9/')).toBe('ws://127.0.0.1:9/ws');
    expect(liveUrl('https://x')).toBe('wss://x/ws');
  });

  it('finds the incident under a click within the pixel radius only', () => {
    const list = [inc({ id: 'near', lon: 120.75, lat: 31.65 }), inc({ id: 'far', lon: 120.76, lat: 31.65 })];
    expect(incidentNear(list, [120.75005, 31.65], 10)?.id).toBe('near'); // ~4.7 m away
    expect(incidentNear(list, [120.7503, 31.65], 10)).toBeNull(); // ~28 m away
  });

  it('offers the operator and the assignee only what the state machine allows each', () => {
    expect(actionsFor(inc(), OPERATOR, null)[0].actions).toEqual(expect.arrayContaining(['register', 'reject']));
    expect(actionsFor(inc(), OPERATOR, null)[0].actions).not.toContain('accept');
    const dispatched = inc({ status: 'dispatched', assigneeId: 'gm-1' });
    const groups = actionsFor(dispatched, OPERATOR, { role: 'grid_manager', id: 'gm-1' });
    expect(groups[0].actions).not.toContain('accept');
    expect(groups[1]).toEqual({ actor: { role: 'grid_manager', id: 'gm-1' }, actions: ['accept', 'decline'] });
    const handled = inc({ status: 'handled', handlerId: 'duty' });
    expect(actionsFor(handled, OPERATOR, null)[0].actions).not.toContain('verify'); // the handler may not verify
  });
});

/** A fake server: answers by path, records every request. */
function fakeApi() {
  const calls: { url: string; method: string; headers: Record<string, string>; body: unknown }[] = [];
  let current = inc();
  const fetch = async (url: string, init: RequestInit = {}) => {
    const headers = (init.headers ?? {}) as Record<string, string>;
    const body = init.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ url, method: init.method ?? 'GET', headers, body });
    const path = new URL(url).pathname;
    const ok = (v: unknown, status = 200) => new Response(JSON.stringify(v), { status, headers: { 'content-type': 'application/json' } });
    if (path === '/api/incidents/categories') return ok({ categories: [{ code: '0101', name: '井盖破损或缺失', group: '公用设施', severity: 3, limitHours: 4 }], sources: { public: '群众上报' } });
    if (path === '/api/incidents' && init.method === 'POST') return ok({ ...current, duplicates: [] }, 201);
    if (path === '/api/incidents') {
      const who = new URL(url).searchParams.get('assignee');
      const items = [judged(current, NOW)].filter((i) => !who || i.assigneeId === who);
      return ok({ total: items.length, items });
    }
    if (path === '/api/incidents/a') return ok({ incident: current, transitions: [tr(1)], attachments: [], ...judged(current, NOW) });
    if (path === '/api/incidents/a/candidates') return ok({ candidates: [{ responderId: 'gm-1', reasons: ['本网格网格员'] }] });
    if (path === '/api/incidents/a/transitions') {
      if (body.version !== current.version) return ok({ error: { code: 'version_conflict', message: '事件已被他人修改' } }, 409);
      current = { ...current, status: 'registered', version: current.version + 1 };
      return ok(current);
    }
    return ok({ error: { code: 'not_found', message: 'no' } }, 404);
  };
  return { calls, fetch, set: (i: Incident) => { current = i; } };
}

describe('the incidents store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('reports at the picked point with one idempotency key per report, then opens it', async () => {
    const api = fakeApi();
    const s = useIncidentsStore();
    s.configure({ baseUrl: 'http://h', fetch: api.fetch, openSocket: null, now: () => NOW, me: null });
    s.startReport();
    expect(s.picking).toBe(true);
    s.pickPoint([120.75, 31.65]);
    expect(s.draftPoint).toEqual([120.75, 31.65]);
    const made = await s.report({ category: '0101', title: '井盖缺失', description: '', source: 'public' });
    expect(made?.id).toBe('a');
    const post = api.calls.find((c) => c.method === 'POST')!;
    expect(post.body).toMatchObject({ lon: 120.75, lat: 31.65, category: '0101', title: '井盖缺失', source: 'public' });
    expect(post.headers['Idempotency-Key']).toMatch(/.{8,}/);
    // Who reports is the session's user (cookie): no identity header (issue 9).
    expect(Object.keys(post.headers).map((k) => k.toLowerCase())).not.toContain('x-onemap-actor');
    expect(s.queue.map((i) => i.id)).toEqual(['a']);
    expect(s.detail?.incident.id).toBe('a');
    expect(s.overlays.flatMap((o) => (o.kind === 'markers' ? o.markers.map((m) => m.lonLat) : []))).toContainEqual([120.75, 31.65]);
  });

  it('sends the version it saw; a refusal keeps the server\'s reason', async () => {
    const api = fakeApi();
    const s = useIncidentsStore();
    s.configure({ baseUrl: 'http://h', fetch: api.fetch, openSocket: null, now: () => NOW, me: null });
    await s.open('a');
    expect(await s.act('register')).toBe(true);
    expect(api.calls.find((c) => c.url.endsWith('/transitions'))?.body).toEqual({ version: 1, action: 'register' });
    expect(s.detail?.incident.status).toBe('registered');
    api.set(inc({ status: 'registered', version: 5 }));
    // The detail still holds version 2: the fake server refuses like the real one.
    s.detail!.incident.version = 2;
    expect(await s.act('register')).toBe(false);
    await new Promise((r) => setTimeout(r, 0));
    expect(s.actionError).toContain('事件已被他人修改');
  });

  it('applies live messages: new incidents join the queue, newer versions replace older ones, closed ones leave the open view', async () => {
    const api = fakeApi();
    let sock: LiveSocketLike | null = null;
    const s = useIncidentsStore();
    s.configure({ baseUrl: 'http://h', fetch: api.fetch, now: () => NOW, me: { role: 'grid_manager', id: 'gm-1' }, openSocket: () => {
      sock = { onopen: null, onmessage: null, onclose: null, onerror: null, close() {} };
      return sock;
    } });
    await s.start();
    expect(s.queue.map((i) => i.id)).toEqual(['a']);
    const send = (m: unknown) => sock!.onmessage!({ data: JSON.stringify(m) });
    send({ type: 'incident', op: 'created', incident: inc({ id: 'b', severity: 4 }), transition: tr(1, { incidentId: 'b' }) });
    expect(s.queue.map((i) => i.id)).toEqual(['b', 'a']);
    send({ type: 'incident', op: 'updated', incident: inc({ id: 'b', status: 'dispatched', assigneeId: 'gm-1', version: 3 }) });
    expect(s.myQueue.map((i) => i.id)).toEqual(['b']);
    send({ type: 'incident', op: 'updated', incident: inc({ id: 'b', status: 'reported', version: 2 }) }); // late echo
    expect(s.queue.find((i) => i.id === 'b')?.status).toBe('dispatched');
    send({ type: 'incident', op: 'updated', incident: inc({ id: 'b', status: 'closed', deadline: null, version: 9 }) });
    expect(s.queue.map((i) => i.id)).toEqual(['a']);
    expect(s.myQueue).toEqual([]);
    s.stop();
  });
});
