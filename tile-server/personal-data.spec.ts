import { describe, expect, it } from 'vitest';
import { getLayer } from '../layers/catalog.ts';
import { LiveHub } from './live-feed.ts';
import { incidentShown, PersonalView, transitionsShown } from './personal-data.ts';
import type { SecurityAudit } from './auth/audit.ts';
import type { Grant, GrantUse } from '../layers/governance/model.ts';

const grids = getLayer('grids')!;
const g = { id: 'g1', code: 'G1', manager_name: '张小明', manager_phone: '13812345678' };

function fakeAudit() {
  const events: unknown[] = [];
  return { events, audit: { record: (e: unknown) => events.push(e) } as unknown as SecurityAudit };
}

describe('PersonalView', () => {
  it('masks for the analyst and records nothing; records one view per request for the operator', () => {
    const a = fakeAudit();
    const analyst = new PersonalView({ id: 'analyst', role: 'analyst' }, null, a.audit);
    expect(analyst.props(grids, g).manager_name).toBe('张*明');
    analyst.done('/x');
    expect(a.events).toEqual([]);
    const op = new PersonalView({ id: 'operator', role: 'operator' }, null, a.audit, '127.0.0.1');
    expect(op.props(grids, g)).toBe(g);
    op.props(grids, { ...g, code: 'G2' });
    op.done('/ogc/collections/grids/items');
    expect(a.events).toEqual([{ action: 'view_personal', actor: 'operator:operator', target: '/ogc/collections/grids/items', reason: null, ip: '127.0.0.1', detail: { records: { grids: 2 } } }]);
  });

  it('a reason unmasks and is recorded as unmask', () => {
    const a = fakeAudit();
    const v = new PersonalView({ id: 'analyst', role: 'analyst' }, '核查投诉当事人', a.audit);
    expect(v.uniform()).toBe('full');
    expect(v.props(grids, g)).toBe(g);
    v.done('/p');
    expect(a.events).toMatchObject([{ action: 'unmask', reason: '核查投诉当事人' }]);
  });

  it('grid managers are mixed; incidents mask the reporter and the timeline outside full access', () => {
    const gm = new PersonalView({ id: 'grid-G1', role: 'grid_manager', grids: ['G1'] }, null);
    expect(gm.uniform()).toBe('mixed');
    const inc = { id: 'i', gridCode: 'G2', reporter: { id: 'grid-G2', role: 'grid_manager' as const, name: '李四' } };
    expect(incidentShown(gm, inc).reporter.name).toBe('李*');
    expect(incidentShown(gm, { ...inc, gridCode: 'G1' })).toEqual({ ...inc, gridCode: 'G1' });
    expect(transitionsShown(gm, 'G2', [{ actor: { id: 'x', role: 'operator' as const, name: '王小红' } }])[0].actor.name).toBe('王*红');
  });
});

describe('LiveHub incident frames', () => {
  it('go to a grid manager only for their grids, masked for analysts, full for operators', () => {
    const hub = new LiveHub();
    const sock = () => ({ sent: [] as string[], bufferedAmount: 0, send(d: string, cb: () => void) { this.sent.push(d); cb(); }, close() {}, terminate() {}, ping() {} });
    const [op, an, gm1, gm2] = [sock(), sock(), sock(), sock()];
    hub.add(op as never, { id: 'operator', role: 'operator' });
    hub.add(an as never, { id: 'analyst', role: 'analyst' });
    hub.add(gm1 as never, { id: 'grid-G1', role: 'grid_manager', grids: ['G1'] });
    hub.add(gm2 as never, { id: 'grid-G2', role: 'grid_manager', grids: ['G2'] });
    hub.incidentChanged({ id: 'i1', gridCode: 'G1', reporter: { id: 'grid-G1', role: 'grid_manager', name: '张小明' } } as never, { seq: 1, actor: { id: 'grid-G1', role: 'grid_manager', name: '张小明' } } as never);
    const frames = (s: { sent: string[] }) => s.sent.map((x) => JSON.parse(x)).filter((m) => m.type === 'incident');
    expect(frames(op)[0].incident.reporter.name).toBe('张小明');
    expect(frames(gm1)[0].incident.reporter.name).toBe('张小明');
    expect(frames(gm2)).toEqual([]);
    expect(frames(an)[0].incident.reporter.name).toBe('张*明');
    expect(frames(an)[0].transition.actor.name).toBe('张*明');
    hub.close();
  });
});

describe('PersonalView: layer access with sharing grants (issue 10)', () => {
  const now = Date.parse('2026-06-01T08:00:00Z');
  const hazards = getLayer('hazards')!;
  const T1 = '320581001', T2 = '320581002', T3 = '320581100';
  const row = (id: string, town: string) => ({
    id, name: `企业${id}`, kind: '储存', hazard_class: '易燃液体', storage_t: 12.5, major_hazard: true,
    grid_code: `${town}001001`, town_code: town, contact_name: '张小明', contact_phone: '13812345678', inspected_at: '2026-05-01T00:00:00Z', synthetic: true,
  });
  const grant = (over: Partial<Grant> = {}): Grant => ({
    id: 'req-1', layer: 'hazards', grantee: 'analyst', areas: [T1, T2], expiresAt: now + 7 * 86_400_000,
    fields: ['name', 'kind', 'hazard_class', 'storage_t', 'major_hazard', 'grid_code', 'town_code', 'contact_name', 'inspected_at'], ...over,
  });
  /** A fixed GrantSource: the grants given, in force by their expiresAt; uses collected. */
  const source = (grants: Grant[]) => {
    const uses: GrantUse[] = [];
    return { uses, activeGrants: (u: string, t: number) => grants.filter((g) => g.grantee === u && g.expiresAt > t), recordUse: (x: GrantUse) => { uses.push(x); } };
  };
  const analyst = { id: 'analyst', role: 'analyst' as const, department: 'police' as const };
  const view = (src: ReturnType<typeof source>, at = now, actor: ConstructorParameters<typeof PersonalView>[0] = analyst) => new PersonalView(actor, null, undefined, null, { grants: src, now: at });

  it('refuses a graded layer without a grant, with the code the gate uses', () => {
    const v = view(source([]));
    expect(v.access(hazards).kind).toBe('none');
    expect(v.canSee(hazards)).toBe(false);
    expect(v.refusal(hazards)?.code).toBe('grant_required');
    expect(v.props(hazards, row('a', T1)), 'props of a refused layer leak nothing').toEqual({});
    expect(() => v.check(hazards)).toThrow(/hazards/);
  });

  it('under a grant: rows in its towns only, its fields only (then masking), uses recorded per grant', () => {
    const src = source([grant()]);
    const v = view(src);
    expect(v.access(hazards).kind).toBe('grant');
    expect(v.allows(hazards, row('a', T1))).toBe(true);
    expect(v.allows(hazards, row('c', T3))).toBe(false);
    expect(v.allows(hazards, { ...row('x', T1), grid_code: null, town_code: null }), 'no area code: fail closed').toBe(false);
    const p = v.props(hazards, row('a', T1));
    expect(Object.keys(p)).not.toContain('contact_phone');
    expect(Object.keys(p)).not.toContain('synthetic');
    expect(p.id).toBe('a');
    expect(p.contact_name, 'a granted personal field is still masked for an analyst').toBe('张*明');
    v.props(hazards, row('b', T2));
    expect(v.props(hazards, row('c', T3))).toEqual({});
    expect(v.grantFields(hazards)).toEqual(new Set(['id', ...grant().fields!]));
    v.done('GET /data/hazards.fgb');
    expect(src.uses).toEqual([{ grantId: 'req-1', layer: 'hazards', grantee: 'analyst', at: now, route: 'GET /data/hazards.fgb', rows: 2 }]);
  });

  it('nothing after expiry, judged by the clock the view was given', () => {
    const src = source([grant()]);
    expect(view(src, now + 7 * 86_400_000 - 1).access(hazards).kind).toBe('grant');
    expect(view(src, now + 7 * 86_400_000).access(hazards).kind).toBe('none');
  });

  it('the owner department, admin and the standing operator see everything; others of the owner\'s role do not', () => {
    const src = source([]);
    expect(view(src, now, { id: 'steward-emergency', role: 'planner', department: 'emergency' }).access(hazards)).toEqual({ kind: 'full', via: 'owner' });
    expect(view(src, now, { id: 'admin', role: 'admin', department: 'city' }).access(hazards)).toEqual({ kind: 'full', via: 'admin' });
    expect(view(src, now, { id: 'operator', role: 'operator', department: 'city' }).access(hazards)).toEqual({ kind: 'full', via: 'standing' });
    expect(view(src, now, { id: 'planner', role: 'planner', department: 'planning' }).access(hazards).kind).toBe('none');
    // Core: operators are not standing there; the owner department (城运中心) is.
    const responders = getLayer('responders')!;
    expect(view(src, now, { id: 'operator', role: 'operator', department: 'city' }).access(responders).kind).toBe('full');
    expect(view(src, now, { id: 'steward-emergency', role: 'planner', department: 'emergency' }).access(responders).kind).toBe('none');
  });

  it('filterable fields are those every grant shows; the schema those any grant shows', () => {
    const v = view(source([grant(), grant({ id: 'req-2', areas: [T3], fields: ['name'] })]));
    expect(v.grantFields(hazards, true)).toEqual(new Set(['id', 'name']));
    expect(v.grantFields(hazards)!.has('storage_t')).toBe(true);
    expect(v.allows(hazards, row('c', T3))).toBe(true);
    expect(Object.keys(v.props(hazards, row('c', T3))).sort()).toEqual(['id', 'name']);
  });

  it('PersonalView.masked() (no request) makes no layer decision', () => {
    expect(PersonalView.masked().access(hazards).kind).toBe('full');
  });
});
