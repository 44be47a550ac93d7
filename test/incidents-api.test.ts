// The incidents API end to end (issue 6) against a real server on the built demo data, once per store: SQLite
// (a temp file) and PostgreSQL (TEST_DATABASE_URL; the spatial store is then PostGIS too). Without
// TEST_DATABASE_URL the PostgreSQL run FAILS unless ONEMAP_SKIP_POSTGIS=1. The clock is controllable.
// The expected transition table below is written from model.ts's comments (the spec), not read from
// state-machine.ts, so the test can disagree with the code.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { openFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import { INCIDENT_CATEGORIES, INCIDENT_SOURCES, type IncidentSource } from '../layers/incident-categories.ts';
import { createRng } from '../scripts/data/rng.ts';
import { pointOnGeometry } from '../tile-server/export-formats.ts';
import { INCIDENT_ACTIONS, type Incident, type IncidentAction, type IncidentStatus } from '../layers/incidents/model.ts';
import type { IncidentService } from '../tile-server/incidents/service.ts';
import { startServer, type RunningServer } from '../tile-server/server.ts';
import { createFreshDatabase } from './helpers/fresh-pg.ts';
import { json, raw as rawHttp, type Raw } from './helpers/http.ts';
import { actorSessions, TEST_AUTH } from './helpers/session.ts';

/** Every request of this file carries the duty operator's session unless it names another one. */
let defaultSession: Record<string, string> = {};
const raw: typeof rawHttp = (base, path, opts = {}) => rawHttp(base, path, { ...opts, headers: { ...defaultSession, ...opts.headers } });

const DATA = join(process.cwd(), 'geodata/build');

function expectError(r: Raw, status: number, code?: string): any {
  expect(r.status, r.body.toString().slice(0, 400)).toBe(status);
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  const e = json(r).error;
  if (code) expect(e.code).toBe(code);
  expect(e.message).toMatch(/[\u4e00-\u9fff]/); // Chinese first
  return e;
}

const STORES: { name: string; databaseUrl: string | null }[] = [{ name: 'sqlite', databaseUrl: null }];
if (process.env.TEST_DATABASE_URL) STORES.push({ name: 'postgres', databaseUrl: process.env.TEST_DATABASE_URL });

it('PostgreSQL is part of the run (TEST_DATABASE_URL), or skipped on purpose (ONEMAP_SKIP_POSTGIS=1)', () => {
  if (!process.env.TEST_DATABASE_URL && process.env.ONEMAP_SKIP_POSTGIS !== '1') {
    throw new Error('TEST_DATABASE_URL is not set: start PostgreSQL (npx tsx scripts/pg-local.ts start; npm run db:load) and export TEST_DATABASE_URL, or set ONEMAP_SKIP_POSTGIS=1 to run SQLite only.');
  }
});

/** Interior points of seeded grids, with their codes (the incident's grid must come out as this one). */
function gridPoints(n: number): { lon: number; lat: number; grid: string }[] {
  const b = readFileSync(join(DATA, 'grids.fgb'));
  const f = openFlatGeobuf(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  const all = [...f.features()];
  const rng = createRng(606).fork('incident-api-grids');
  const out: { lon: number; lat: number; grid: string }[] = [];
  while (out.length < n) {
    const g = all[Math.floor(rng.next() * all.length)];
    const p = pointOnGeometry(g.geometry);
    if (p) out.push({ lon: p[0], lat: p[1], grid: String(g.properties!.code) });
  }
  return out;
}

/** Allowed source statuses per action, from model.ts's comments. */
const OPEN: IncidentStatus[] = ['reported', 'registered', 'dispatched', 'handling', 'handled'];
const ALL: IncidentStatus[] = [...OPEN, 'closed', 'rejected', 'merged'];
const ALLOWED: Record<IncidentAction, IncidentStatus[]> = {
  register: ['reported'], reject: ['reported'], dispatch: ['registered'], reassign: ['dispatched', 'handling'],
  accept: ['dispatched'], decline: ['dispatched'], feedback: ['handling'], verify: ['handled'], rework: ['handled'],
  escalate: OPEN, deescalate: OPEN, supervise: OPEN, merge: ['reported', 'registered'], comment: ALL,
};

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000' + '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex');

for (const { name, databaseUrl } of STORES) {
  describe(`incidents API (${name})`, () => {
    let srv: RunningServer;
    let service: IncidentService;
    let dir: string;
    let fresh: { url: string; drop(): Promise<void> } | undefined;
    let now = Math.floor(Date.now() / 1000) * 1000;
    const pts = gridPoints(40);
    let pi = 0;
    const nextPoint = () => pts[pi++ % pts.length];

    beforeAll(async () => {
      if (!existsSync(join(DATA, 'roads.fgb'))) throw new Error('geodata/build missing: run npm run data first');
      dir = mkdtempSync(join(tmpdir(), 'onemap-incidents-api-'));
      // PostgreSQL: the spatial store is the loaded PostGIS database; incidents go to an empty database of their own.
      fresh = databaseUrl ? await createFreshDatabase(databaseUrl, 'onemap_incidents_api') : undefined;
      srv = await startServer({
        dataDir: DATA, webDir: join(dir, 'web'), port: 0, databaseUrl, incidentDatabaseUrl: fresh?.url ?? null,
        incidentDbFile: join(dir, 'incidents.sqlite'), clock: () => now, sweepIntervalMs: 0, ...TEST_AUTH,
      });
      service = await srv.incidents;
      sessions = actorSessions(srv.url);
      defaultSession = await sessions('operator:operator');
    });
    afterAll(async () => {
      await srv?.close();
      await fresh?.drop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    let sessions: (actor: string) => Promise<Record<string, string>>;
    const post = async (path: string, body: unknown, actor?: string, headers: Record<string, string> = {}) =>
      raw(srv.url, path, { method: 'POST', headers: { 'Content-Type': 'application/json', ...(actor ? await sessions(actor) : {}), ...headers }, body: JSON.stringify(body) });
    // A responder's step is recorded by the signed-in operator on their behalf (responderId), as at the duty desk.
    const act = (id: string, body: Record<string, unknown>, actor = 'operator:op-1') => actor.startsWith('responder:')
      ? post(`/api/incidents/${id}/transitions`, { ...body, responderId: actor.slice('responder:'.length) }, 'operator:op-1')
      : post(`/api/incidents/${id}/transitions`, body, actor);
    const get = (path: string) => raw(srv.url, path);

    async function report(over: Record<string, unknown> = {}): Promise<Incident & { duplicates: unknown[] }> {
      const p = nextPoint();
      const r = await post('/api/incidents', { lon: p.lon, lat: p.lat, category: '0101', title: '井盖缺失', description: '测试', source: 'grid', ...over }, 'grid_manager:gm-test');
      expect(r.status, r.body.toString().slice(0, 300)).toBe(201);
      return json(r);
    }
    async function ok(r: Promise<Raw>): Promise<Incident> {
      const x = await r;
      expect(x.status, x.body.toString().slice(0, 400)).toBe(200);
      return json(x);
    }
    async function topCandidate(id: string): Promise<string> {
      const c = json(await get(`/api/incidents/${id}/candidates?limit=5`)).candidates;
      expect(c.length).toBeGreaterThan(0);
      return c[0].responderId;
    }

    it('lists the categories and sources', async () => {
      const r = json(await get('/api/incidents/categories'));
      expect(r.categories.map((c: { code: string }) => c.code)).toEqual(INCIDENT_CATEGORIES.map((c) => c.code));
      expect(Object.keys(r.sources).sort()).toEqual(Object.keys(INCIDENT_SOURCES).sort());
    });

    for (const source of Object.keys(INCIDENT_SOURCES) as IncidentSource[]) {
      it(`runs the full loop for a ${source} report: report → register → dispatch → accept → feedback (photo) → verify`, async () => {
        const p = nextPoint();
        const created = await post('/api/incidents', { lon: p.lon, lat: p.lat, category: '1101', title: `暴露垃圾 ${source}`, description: '路边垃圾堆积', source }, 'grid_manager:gm-x');
        expect(created.status).toBe(201);
        expect(created.headers.location).toBe(`/api/incidents/${json(created).id}`);
        const inc: Incident = json(created);
        expect(inc).toMatchObject({ status: 'reported', source, category: '1101', level: 'grid', version: 1, gridCode: p.grid });
        expect(inc.code).toMatch(/^SJ\d{12}$/);
        expect(inc.deadline).toBeGreaterThan(now);

        const id = inc.id;
        await ok(act(id, { action: 'register' }));
        const candidates = json(await get(`/api/incidents/${id}/candidates`)).candidates;
        expect(candidates.length).toBeGreaterThan(0);
        for (let i = 1; i < candidates.length; i++) expect(candidates[i - 1].score).toBeGreaterThanOrEqual(candidates[i].score);
        for (const c of candidates) expect(c.reasons.length).toBeGreaterThan(0);
        const responder = candidates[0].responderId;
        const dispatched = await ok(post(`/api/incidents/${id}/dispatch`, { responderId: responder, version: 2 }, 'operator:op-1'));
        expect(dispatched).toMatchObject({ status: 'dispatched', assigneeId: responder, version: 3 });
        now += 60_000;
        await ok(act(id, { action: 'accept' }, `responder:${responder}`));

        const up = await raw(srv.url, `/api/incidents/${id}/attachments?kind=after`, { method: 'POST', headers: { 'Content-Type': 'image/png' }, body: PNG });
        expect(up.status, up.body.toString()).toBe(201);
        const att = json(up);
        expect(att).toMatchObject({ incidentId: id, kind: 'after', mime: 'image/png', bytes: PNG.length });
        const handled = await ok(act(id, { action: 'feedback', reason: '已清理', attachmentIds: [att.id] }, `responder:${responder}`));
        expect(handled).toMatchObject({ status: 'handled', handlerId: responder });
        const closed = await ok(act(id, { action: 'verify' }, 'operator:checker'));
        expect(closed).toMatchObject({ status: 'closed', deadline: null });
        expect(closed.closedAt).toBe(now);

        const full = json(await get(`/api/incidents/${id}`));
        expect(full.incident.version).toBe(6);
        expect(full.transitions.map((t: { seq: number }) => t.seq)).toEqual([1, 2, 3, 4, 5, 6]);
        expect(full.transitions.map((t: { action: string }) => t.action)).toEqual(['report', 'register', 'dispatch', 'accept', 'feedback', 'verify']);
        expect(full.transitions.map((t: { to: string }) => t.to)).toEqual(['reported', 'registered', 'dispatched', 'handling', 'handled', 'closed']);
        expect(full.transitions[3].actor).toMatchObject({ role: 'responder', id: responder });
        expect(full.attachments.map((a: { id: string }) => a.id)).toEqual([att.id]);
        const img = await get(`/api/attachments/${att.id}`);
        expect(img.status).toBe(200);
        expect(img.headers['content-type']).toBe('image/png');
        expect(Buffer.compare(img.body, PNG)).toBe(0);
      });
    }

    it('refuses every transition the loop does not allow with 409 and the reason, leaving the incident unchanged', async () => {
      // One incident in each status.
      const at: Partial<Record<IncidentStatus, Incident>> = {};
      at.reported = await report();
      at.rejected = await report();
      await ok(act(at.rejected.id, { action: 'reject', reason: '不属于城市管理问题' }));
      at.merged = await report();
      const survivor = await report();
      await ok(act(at.merged.id, { action: 'merge', into: survivor.id }));
      const walk = async (to: IncidentStatus): Promise<{ inc: Incident; responder: string | null }> => {
        const inc = await report();
        await ok(act(inc.id, { action: 'register' }));
        if (to === 'registered') return { inc, responder: null };
        const responder = await topCandidate(inc.id);
        await ok(act(inc.id, { action: 'dispatch', responderId: responder }));
        if (to === 'dispatched') return { inc, responder };
        await ok(act(inc.id, { action: 'accept' }, `responder:${responder}`));
        if (to === 'handling') return { inc, responder };
        await ok(act(inc.id, { action: 'feedback', reason: '已处置' }, `responder:${responder}`));
        if (to === 'handled') return { inc, responder };
        await ok(act(inc.id, { action: 'verify' }, 'operator:checker'));
        return { inc, responder };
      };
      const assignee: Partial<Record<IncidentStatus, string | null>> = {};
      for (const s of ['registered', 'dispatched', 'handling', 'handled', 'closed'] as IncidentStatus[]) {
        const w = await walk(s);
        at[s] = w.inc;
        assignee[s] = w.responder;
      }
      const other = await report();
      const someResponder = await (async () => { const x = await report(); await ok(act(x.id, { action: 'register' })); return topCandidate(x.id); })();
      let refused = 0;
      for (const status of ALL) {
        const inc = at[status]!;
        const before = json(await get(`/api/incidents/${inc.id}`)).incident as Incident;
        expect(before.status).toBe(status);
        for (const action of INCIDENT_ACTIONS) {
          if (ALLOWED[action].includes(status)) continue;
          // A body that would be valid for the action, from the one who may do it, so only the status is wrong.
          const who = ['accept', 'decline', 'feedback'].includes(action) && assignee[status] ? `responder:${assignee[status]}` : 'operator:op-2';
          const r = await act(inc.id, { action, reason: '测试原因', responderId: someResponder, into: other.id }, who);
          const e = expectError(r, 409, 'invalid_transition');
          expect(e.message).toContain(action);
          refused++;
        }
        const after = json(await get(`/api/incidents/${inc.id}`)).incident as Incident;
        expect(after.version).toBe(before.version);
        expect(after.status).toBe(status);
      }
      const expected = ALL.reduce((n, s) => n + INCIDENT_ACTIONS.filter((a) => !ALLOWED[a].includes(s)).length, 0);
      expect(refused).toBe(expected);
      expect(refused).toBeGreaterThan(60);
      // Who, not only what: accept by someone other than the assignee; verify by the handler.
      expectError(await act(at.dispatched!.id, { action: 'accept' }, 'responder:someone-else'), 409, 'invalid_transition');
      expectError(await act(at.handled!.id, { action: 'verify' }, `responder:${assignee.handled}`), 409, 'invalid_transition');
    });

    it('files a report once per Idempotency-Key: same body → 200 and the same incident; another body → 409', async () => {
      const p = nextPoint();
      const key = `idem-${name}-${now}`;
      const body = { lon: p.lon, lat: p.lat, category: '0103', title: '路灯不亮', description: '整条路段', source: 'hotline' };
      const a = await post('/api/incidents', body, 'operator:op-9', { 'Idempotency-Key': key });
      expect(a.status).toBe(201);
      const b = await post('/api/incidents', body, 'operator:op-9', { 'Idempotency-Key': key });
      expect(b.status).toBe(200);
      expect(json(b).id).toBe(json(a).id);
      expect(json(b).version).toBe(1);
      expectError(await post('/api/incidents', { ...body, title: '路灯闪烁' }, 'operator:op-9', { 'Idempotency-Key': key }), 409, 'idempotency_conflict');
      // Concurrent retries of one key: still one incident.
      const key2 = `${key}-burst`;
      const burst = await Promise.all(Array.from({ length: 6 }, () => post('/api/incidents', body, 'operator:op-9', { 'Idempotency-Key': key2 })));
      expect(burst.filter((r) => r.status === 201)).toHaveLength(1);
      expect(burst.every((r) => r.status === 200 || r.status === 201)).toBe(true);
      expect(new Set(burst.map((r) => json(r).id)).size).toBe(1);
      const list = json(await get(`/api/incidents?category=0103&since=${now}&limit=1000`));
      expect(list.items.filter((i: Incident) => i.title === '路灯不亮' && i.lon === p.lon && i.lat === p.lat)).toHaveLength(2);
    });

    it('lets exactly one of several concurrent dispatches win (the rest 409), with and without a version', async () => {
      for (const pinned of [false, true]) {
        const inc = await report();
        const reg = await ok(act(inc.id, { action: 'register' }));
        const cands = json(await get(`/api/incidents/${inc.id}/candidates?limit=8`)).candidates.map((c: { responderId: string }) => c.responderId);
        expect(cands.length).toBeGreaterThan(1);
        const rs = await Promise.all(cands.map((responderId: string) =>
          post(`/api/incidents/${inc.id}/dispatch`, pinned ? { responderId, version: reg.version } : { responderId }, 'operator:op-1')));
        const wins = rs.filter((r) => r.status === 200);
        expect(wins, rs.map((r) => `${r.status} ${r.body.toString().slice(0, 120)}`).join('\n')).toHaveLength(1);
        for (const r of rs) if (r.status !== 200) expectError(r, 409, pinned ? 'version_conflict' : undefined);
        const winner = json(wins[0]) as Incident;
        const full = json(await get(`/api/incidents/${inc.id}`));
        expect(full.incident).toMatchObject({ status: 'dispatched', assigneeId: winner.assigneeId, version: reg.version + 1 });
        expect(full.transitions.filter((t: { action: string }) => t.action === 'dispatch')).toHaveLength(1);
        if (pinned) {
          const conflict = json(rs.find((r) => r.status === 409)!).error;
          expect(conflict.current.version).toBe(reg.version + 1);
        }
      }
    });

    it('supervises overdue cases and escalates them with the clock, and lists them as overdue', async () => {
      const inc = await report({ category: '0301', title: '垃圾箱满溢' });
      expect(json(await get(`/api/incidents/${inc.id}`)).overdue).toBe(false);
      now = inc.deadline! + 1000;
      const s1 = await service.sweep();
      expect(s1.supervised).toContain(inc.id);
      const after = json(await get(`/api/incidents/${inc.id}`));
      expect(after.overdue).toBe(true);
      expect(after.incident.supervisions).toBe(1);
      expect(after.transitions.at(-1).action).toBe('supervise');
      const od = json(await get(`/api/incidents?overdue=true&since=${inc.createdAt}&limit=1000`));
      expect(od.items.some((i: Incident) => i.id === inc.id)).toBe(true);
      expect(od.items.every((i: { overdue: boolean }) => i.overdue)).toBe(true);
      const notOd = json(await get(`/api/incidents?overdue=false&since=${inc.createdAt}&limit=1000`));
      expect(notOd.items.some((i: Incident) => i.id === inc.id)).toBe(false);
      // Overdue by more than the stage limit again → town.
      now = inc.deadline! + 2 * (inc.deadline! - inc.createdAt) + 1000;
      const s2 = await service.sweep();
      expect(s2.escalated).toContain(inc.id);
      expect(json(await get(`/api/incidents/${inc.id}`)).incident.level).not.toBe('grid');
      now += 1000;
    });

    it('shows a grid manager only the incidents of their grid (another grid\'s incident is 404) (issue 9)', async () => {
      const a = await report();
      let b = await report();
      while (b.gridCode === a.gridCode) b = await report();
      const mine = await sessions(`grid_manager:grid-${a.gridCode}`);
      const listed = json(await raw(srv.url, '/api/incidents?limit=1000', { headers: mine }));
      expect(listed.items.length).toBeGreaterThan(0);
      expect(listed.items.every((i: Incident) => i.gridCode === a.gridCode)).toBe(true);
      expect(listed.items.map((i: Incident) => i.id)).toContain(a.id);
      // Asking for another grid by filter does not widen the scope.
      expect(json(await raw(srv.url, `/api/incidents?grid=${b.gridCode}`, { headers: mine })).items).toEqual([]);
      expect((await raw(srv.url, `/api/incidents/${a.id}`, { headers: mine })).status).toBe(200);
      expectError(await raw(srv.url, `/api/incidents/${b.id}`, { headers: mine }), 404, 'unknown_incident');
      expectError(await raw(srv.url, `/api/incidents/${b.id}/candidates`, { headers: mine }), 404, 'unknown_incident');
      expectError(await raw(srv.url, `/api/incidents/${b.id}/transitions`, { method: 'POST', headers: { ...mine, 'Content-Type': 'application/json' }, body: JSON.stringify({ action: 'comment', reason: '越权' }) }), 404, 'unknown_incident');
      expect(json(await raw(srv.url, `/api/incidents/${b.id}`)).transitions).toHaveLength(1); // unchanged
      const own = await raw(srv.url, `/api/incidents/${a.id}/transitions`, { method: 'POST', headers: { ...mine, 'Content-Type': 'application/json' }, body: JSON.stringify({ action: 'comment', reason: '已到现场' }) });
      expect(own.status, own.body.toString()).toBe(200);
      // Analysts read; planners may not see cases at all.
      expect((await raw(srv.url, `/api/incidents/${b.id}`, { headers: await sessions('analyst:analyst') })).status).toBe(200);
      expectError(await raw(srv.url, '/api/incidents', { headers: await sessions('planner:planner') }), 403, 'forbidden');
    });

    it('filters the list by bbox, status, grid, category, assignee and pages it', async () => {
      const a = await report({ category: '1502', title: '乱停车A' });
      const b = await report({ category: '1502', title: '乱停车B' });
      await ok(act(b.id, { action: 'register' }));
      const q = (s: string) => get(`/api/incidents?since=${a.createdAt}&category=1502&${s}`).then(json);
      expect((await q('status=reported')).items.map((i: Incident) => i.id)).toContain(a.id);
      expect((await q('status=reported')).items.map((i: Incident) => i.id)).not.toContain(b.id);
      expect((await q('status=reported,registered')).items.map((i: Incident) => i.id)).toEqual(expect.arrayContaining([a.id, b.id]));
      expect((await q(`grid=${a.gridCode}`)).items.every((i: Incident) => i.gridCode === a.gridCode)).toBe(true);
      const box = `${a.lon - 0.0001},${a.lat - 0.0001},${a.lon + 0.0001},${a.lat + 0.0001}`;
      const inBox = (await q(`bbox=${box}`)).items;
      expect(inBox.map((i: Incident) => i.id)).toContain(a.id);
      expect(inBox.every((i: Incident) => Math.abs(i.lon - a.lon) <= 0.0001 && Math.abs(i.lat - a.lat) <= 0.0001)).toBe(true);
      const page1 = await q('limit=1'), page2 = await q('limit=1&offset=1');
      expect(page1.total).toBeGreaterThanOrEqual(2);
      expect(page1.items).toHaveLength(1);
      expect(page2.items[0].id).not.toBe(page1.items[0].id);
      const r = await topCandidate(b.id);
      await ok(act(b.id, { action: 'dispatch', responderId: r }));
      expect((await q(`assignee=${r}`)).items.map((i: Incident) => i.id)).toContain(b.id);
    });

    it('pushes created and updated incidents (and responder positions) to WebSocket clients', async () => {
      // The live feed needs a session too.
      const refused = new WebSocket(`${srv.url.replace('http', 'ws')}/ws`);
      const anon = await new Promise<number>((resolve) => { refused.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0)); refused.once('open', () => resolve(101)); refused.once('error', () => {}); });
      expect(anon).toBe(401);
      const ws = new WebSocket(`${srv.url.replace('http', 'ws')}/ws`, { headers: defaultSession });
      const msgs: any[] = [];
      ws.on('message', (d) => msgs.push(JSON.parse(String(d))));
      await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
      const waitFor = async (pred: (m: any) => boolean) => {
        for (let i = 0; i < 200; i++) {
          const m = msgs.find(pred);
          if (m) return m;
          await new Promise((r) => setTimeout(r, 25));
        }
        throw new Error(`no such message; got ${JSON.stringify(msgs).slice(0, 500)}`);
      };
      await waitFor((m) => m.type === 'hello');
      const inc = await report({ title: '推送测试' });
      const created = await waitFor((m) => m.type === 'incident' && m.incident.id === inc.id);
      expect(created.op).toBe('created');
      await ok(act(inc.id, { action: 'register' }));
      const updated = await waitFor((m) => m.type === 'incident' && m.incident.id === inc.id && m.op === 'updated');
      expect(updated.incident).toMatchObject({ status: 'registered', version: 2 });
      expect(updated.transition).toMatchObject({ action: 'register', seq: 2 });
      const responder = await topCandidate(inc.id);
      const pos = await ok(post(`/api/responders/${responder}/position`, { lon: inc.lon, lat: inc.lat }));
      expect(pos).toMatchObject({ id: responder, lon: inc.lon, lat: inc.lat });
      await waitFor((m) => m.type === 'responder' && m.id === responder);
      ws.close();
      // Only /ws upgrades.
      const other = new WebSocket(`${srv.url.replace('http', 'ws')}/not-ws`, { headers: defaultSession });
      const status = await new Promise<number>((resolve) => {
        other.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        other.on('error', () => resolve(-1));
      });
      expect(status).toBe(404);
    });

    it('answers bad input with 4xx and a stable code, never 500', async () => {
      const p = nextPoint();
      const good = { lon: p.lon, lat: p.lat, category: '0101', title: '井盖', description: '', source: 'grid' };
      const cases: [Promise<Raw>, number, string][] = [
        [post('/api/incidents', { ...good, category: '9999' }), 400, 'unknown_category'],
        [post('/api/incidents', { ...good, source: 'fax' }), 400, 'bad_source'],
        [post('/api/incidents', { ...good, severity: 5 }), 400, 'bad_severity'],
        [post('/api/incidents', { ...good, title: '' }), 400, 'bad_title'],
        [post('/api/incidents', { ...good, title: 'x'.repeat(101) }), 400, 'bad_title'],
        [post('/api/incidents', { ...good, lon: 116.4, lat: 39.9 }), 400, 'outside_city'],
        [post('/api/incidents', { ...good, lon: '120.7' }), 400, 'bad_coordinate'],
        [post('/api/incidents', { category: '0101', title: 't', source: 'grid' }), 400, 'missing_location'],
        [post('/api/incidents', { ...good, extra: 1 }), 400, 'unknown_param'],
        [post('/api/incidents', [1, 2]), 400, 'bad_body'],
        [raw(srv.url, '/api/incidents', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"lon":' }), 400, 'bad_json'],
        [raw(srv.url, '/api/incidents', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify(good) }), 415, 'unsupported_media_type'],
        [raw(srv.url, '/api/incidents', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...good, description: 'x'.repeat(70_000) }) }), 413, 'body_too_large'],
        // No identity by header any more (issue 9): without a session the request is refused.
        [rawHttp(srv.url, '/api/incidents', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-OneMap-Actor': 'admin:a' }, body: JSON.stringify(good) }), 401, 'not_signed_in'],
        [post('/api/incidents', good, undefined, { 'Idempotency-Key': 'x'.repeat(129) }), 400, 'bad_idempotency_key'],
        [get('/api/incidents?status=open'), 400, 'bad_status'],
        [get('/api/incidents?bbox=1,2,3'), 400, 'bad_bbox'],
        [get('/api/incidents?limit=0'), 400, 'bad_limit'],
        [get('/api/incidents?since=yesterday'), 400, 'bad_since'],
        [get('/api/incidents?overdue=maybe'), 400, 'bad_overdue'],
        [get('/api/incidents?color=red'), 400, 'unknown_param'],
        [get('/api/incidents/no-such-incident'), 404, 'unknown_incident'],
        [get('/api/incidents/no-such-incident/candidates'), 404, ''],
        [act('no-such-incident', { action: 'register' }), 404, ''],
        [get('/api/attachments/none'), 404, 'unknown_attachment'],
        [post('/api/responders/nobody/position', { lon: p.lon, lat: p.lat }), 404, 'unknown_responder'],
        [get('/api/incidents/x/transitions'), 405, 'method_not_allowed'],
        [raw(srv.url, '/api/incidents/categories', { method: 'DELETE' }), 405, 'method_not_allowed'],
        [get('/api/incidents/a/b/c'), 404, 'not_found'],
      ];
      for (const [r, status, code] of cases) expectError(await r, status, code || undefined);

      const inc = await report();
      expectError(await act(inc.id, { action: 'fly' }), 400, 'bad_action');
      expectError(await act(inc.id, { action: 'register', version: 0 }), 400, 'bad_version');
      expectError(await act(inc.id, { action: 'register', version: 7 }), 409, 'version_conflict');
      expectError(await act(inc.id, { action: 'reject' }), 400);   // reason required
      expectError(await act(inc.id, { action: 'merge', into: 'no-such-incident' }), 400);
      expectError(await post(`/api/incidents/${inc.id}/dispatch`, {}), 400, 'missing_responderId');
      const att = (body: Buffer, kind = 'before') => raw(srv.url, `/api/incidents/${inc.id}/attachments?kind=${kind}`, { method: 'POST', headers: { 'Content-Type': 'image/png' }, body });
      expectError(await att(Buffer.from('GIF89a not allowed')), 415, 'unsupported_media_type');
      expectError(await att(PNG, 'during'), 400, 'bad_kind');
      expectError(await att(Buffer.concat([PNG, Buffer.alloc(5 * 1024 * 1024)])), 413, 'body_too_large');
      const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(100, 7)]);
      const okAtt = await att(jpeg);
      expect(okAtt.status).toBe(201);
      expect(json(okAtt).mime).toBe('image/jpeg');
      // The incident is untouched by all of that.
      expect(json(await get(`/api/incidents/${inc.id}`)).incident.version).toBe(1);
      const health = await get('/healthz');
      expect(health.status).toBe(200);
    });

    it('reports by address text: geocoded to the standard address and its grid', async () => {
      const p = nextPoint();
      const look = json(await get(`/api/lookup?lon=${p.lon}&lat=${p.lat}`));
      expect(look.address).not.toBeNull();
      const r = await post('/api/incidents', { address: look.address.full, category: '1201', title: '小广告', description: '', source: 'public' });
      expect(r.status, r.body.toString().slice(0, 300)).toBe(201);
      const inc = json(r);
      expect(inc.address).toBe(look.address.full);
      expect(Math.abs(inc.lon - look.address.lon)).toBeLessThan(1e-6);
      expect(Math.abs(inc.lat - look.address.lat)).toBeLessThan(1e-6);
      expect(inc.gridCode).toMatch(/^\d{15}$/);
      expectError(await post('/api/incidents', { address: '火星基地一号', category: '1201', title: '小广告', source: 'public' }), 400);
    });
  });
}
