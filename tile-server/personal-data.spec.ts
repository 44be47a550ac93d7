import { describe, expect, it } from 'vitest';
import { getLayer } from '../layers/catalog.ts';
import { LiveHub } from './live-feed.ts';
import { incidentShown, PersonalView, transitionsShown } from './personal-data.ts';
import type { SecurityAudit } from './auth/audit.ts';

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
