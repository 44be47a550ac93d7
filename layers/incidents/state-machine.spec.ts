import { describe, expect, it } from 'vitest';
import { getIncidentCategory, INCIDENT_CATEGORIES } from '../incident-categories.ts';
import { INCIDENT_ACTIONS, INCIDENT_STATUSES, OPEN_STATUSES, type Actor, type Incident, type IncidentAction, type IncidentStatus } from './model.ts';
import { allowedActions, deadlineFor, plan, STAGE_OF, stageLimitMs, TRANSITIONS, type PlanInput } from './state-machine.ts';

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 29, 2, 0, 0);
const OPERATOR: Actor = { id: 'op-1', role: 'operator' };
const RESP: Actor = { id: 'r1', role: 'responder' };

function incident(status: IncidentStatus, over: Partial<Incident> = {}): Incident {
  return Object.freeze({
    id: 'i1', code: 'SJ202611290001', status, level: 'town', category: '0101', categoryName: '井盖破损或缺失', severity: 3,
    source: 'grid', title: 't', description: '', lon: 120.75, lat: 31.65, address: null, addressCode: null,
    gridCode: 'g', villageCode: 'v', townCode: 't', department: 'urban', assigneeId: 'r1', handlerId: 'r1',
    reporter: OPERATOR, mergedInto: null, deadline: T0 + H, supervisions: 0, createdAt: T0, updatedAt: T0, closedAt: null, version: 3,
    ...over,
  }) as Incident;
}

/** An actor and input that satisfy every rule except the status one. */
function validCall(action: IncidentAction): { actor: Actor; input: PlanInput } {
  const actor = TRANSITIONS[action].who === 'assignee' ? RESP : OPERATOR;
  return { actor, input: { reason: '理由', responderId: 'r2', into: { id: 'i2', status: 'registered', code: 'SJ2' } } };
}

describe('transition table', () => {
  for (const action of INCIDENT_ACTIONS) {
    for (const status of INCIDENT_STATUSES) {
      const allowed = TRANSITIONS[action].from.includes(status);
      it(`${action} from ${status}: ${allowed ? 'allowed' : '409'}`, () => {
        const { actor, input } = validCall(action);
        const inc = incident(status);
        const p = plan(inc, action, actor, input, T0 + 10);
        if (allowed) {
          expect(p.ok).toBe(true);
          if (!p.ok) return;
          const to = TRANSITIONS[action].to;
          expect(p.next.status).toBe(to === 'same' ? status : to);
          expect(p.next.version).toBe(inc.version + 1);
          expect(p.next.updatedAt).toBe(T0 + 10);
          expect(p.transition).toMatchObject({ incidentId: 'i1', action, from: status, to: p.next.status, actor, at: T0 + 10 });
        } else {
          expect(p).toMatchObject({ ok: false, status: 409, code: 'invalid_transition' });
          if (!p.ok) expect(p.message).toMatch(/^无法/);
        }
      });
    }
  }
});

describe('who may act', () => {
  it('accept, decline and feedback only by the assignee', () => {
    for (const [action, status] of [['accept', 'dispatched'], ['decline', 'dispatched'], ['feedback', 'handling']] as const) {
      const p = plan(incident(status), action, OPERATOR, { reason: 'x' }, T0);
      expect(p).toMatchObject({ ok: false, status: 409, code: 'invalid_transition', detail: { rule: 'assignee_only' } });
      expect(plan(incident(status), action, RESP, { reason: 'x' }, T0).ok).toBe(true);
    }
  });
  it('verify and rework only by someone other than the handler', () => {
    for (const action of ['verify', 'rework'] as const) {
      const p = plan(incident('handled'), action, RESP, { reason: 'x' }, T0);
      expect(p).toMatchObject({ ok: false, status: 409, detail: { rule: 'not_handler' } });
      if (!p.ok) expect(p.message).toContain('处置人以外');
      expect(plan(incident('handled'), action, OPERATOR, { reason: 'x' }, T0).ok).toBe(true);
    }
  });
  it('allowedActions matches the rules for the actor', () => {
    expect(allowedActions(incident('dispatched'), RESP).sort()).toEqual(['accept', 'comment', 'decline', 'deescalate', 'escalate', 'reassign', 'supervise']);
    expect(allowedActions(incident('handled'), RESP)).not.toContain('verify');
    expect(allowedActions(incident('closed'), OPERATOR)).toEqual(['comment']);
  });
});

describe('inputs', () => {
  it('reasons are required for reject, decline, rework, escalate and comment', () => {
    const cases: [IncidentAction, IncidentStatus, Actor][] = [['reject', 'reported', OPERATOR], ['decline', 'dispatched', RESP],
      ['rework', 'handled', OPERATOR], ['escalate', 'registered', OPERATOR], ['comment', 'closed', OPERATOR]];
    for (const [a, s, actor] of cases) {
      expect(plan(incident(s), a, actor, { reason: '  ' }, T0)).toMatchObject({ ok: false, status: 400, code: 'reason_required' });
    }
  });
  it('dispatch needs a responder; reassign to the same one is refused', () => {
    expect(plan(incident('registered', { assigneeId: null }), 'dispatch', OPERATOR, {}, T0)).toMatchObject({ status: 400, code: 'responder_required' });
    expect(plan(incident('handling'), 'reassign', OPERATOR, { responderId: 'r1' }, T0)).toMatchObject({ status: 409, detail: { rule: 'same_assignee' } });
  });
  it('merge needs an open target other than itself', () => {
    const inc = incident('reported');
    expect(plan(inc, 'merge', OPERATOR, {}, T0)).toMatchObject({ status: 400, code: 'into_required' });
    expect(plan(inc, 'merge', OPERATOR, { into: inc }, T0)).toMatchObject({ status: 400, code: 'invalid_merge_target' });
    expect(plan(inc, 'merge', OPERATOR, { into: { id: 'i2', status: 'closed', code: 'x' } }, T0)).toMatchObject({ status: 409, code: 'invalid_transition' });
  });
  it('escalation stops at the city, de-escalation at the grid', () => {
    expect(plan(incident('registered', { level: 'city' }), 'escalate', OPERATOR, { reason: 'x' }, T0)).toMatchObject({ status: 409 });
    expect(plan(incident('registered', { level: 'grid' }), 'deescalate', OPERATOR, {}, T0)).toMatchObject({ status: 409 });
    const up = plan(incident('registered', { level: 'grid' }), 'escalate', OPERATOR, { reason: 'x' }, T0);
    expect(up.ok && up.next.level).toBe('town');
    const down = plan(incident('registered', { level: 'city' }), 'deescalate', OPERATOR, {}, T0);
    expect(down.ok && down.next.level).toBe('town');
  });
});

describe('effects', () => {
  it('sets assignee, handler, closedAt and mergedInto as the loop moves', () => {
    const d = plan(incident('registered', { assigneeId: null, handlerId: null }), 'dispatch', OPERATOR, { responderId: 'r9' }, T0);
    expect(d.ok && [d.next.assigneeId, d.transition.data.responderId]).toEqual(['r9', 'r9']);
    const f = plan(incident('handling', { handlerId: null }), 'feedback', RESP, {}, T0);
    expect(f.ok && f.next.handlerId).toBe('r1');
    const v = plan(incident('handled'), 'verify', OPERATOR, {}, T0 + 5);
    expect(v.ok && [v.next.closedAt, v.next.deadline, v.next.assigneeId]).toEqual([T0 + 5, null, null]);
    const r = plan(incident('handled'), 'rework', OPERATOR, { reason: '未修好' }, T0);
    expect(r.ok && [r.next.status, r.next.handlerId, r.next.assigneeId]).toEqual(['handling', null, 'r1']);
    const dec = plan(incident('dispatched'), 'decline', RESP, { reason: '不在辖区' }, T0);
    expect(dec.ok && [dec.next.status, dec.next.assigneeId]).toEqual(['registered', null]);
    const m = plan(incident('registered'), 'merge', OPERATOR, { into: { id: 'i2', status: 'handling', code: 'x' } }, T0);
    expect(m.ok && [m.next.mergedInto, m.next.deadline, m.transition.data.into]).toEqual(['i2', null, 'i2']);
  });
  it('supervise counts and keeps the deadline; comment changes nothing but the version', () => {
    const inc = incident('handling');
    const s = plan(inc, 'supervise', OPERATOR, {}, inc.deadline! + 60_000);
    expect(s.ok && [s.next.supervisions, s.next.deadline, s.transition.data.overdueSeconds]).toEqual([1, inc.deadline, 60]);
    const c = plan(inc, 'comment', OPERATOR, { reason: '备注' }, T0);
    expect(c.ok && { ...c.next, version: inc.version, updatedAt: inc.updatedAt }).toEqual(inc);
  });
  it('does not mutate its input (frozen incidents would throw)', () => {
    for (const a of INCIDENT_ACTIONS) {
      const { actor, input } = validCall(a);
      for (const s of OPEN_STATUSES) plan(incident(s), a, actor, input, T0);
    }
  });
});

describe('time limits', () => {
  it('register 2 h, dispatch 1 h, accept 30 min, handle = category limit, verify 24 h', () => {
    const c = getIncidentCategory('0103')!; // 路灯故障, severity 1, 72 h
    expect(stageLimitMs('register', c.code, 1)).toBe(2 * H);
    expect(stageLimitMs('dispatch', c.code, 1)).toBe(H);
    expect(stageLimitMs('accept', c.code, 1)).toBe(H / 2);
    expect(stageLimitMs('handle', c.code, 1)).toBe(c.limitHours * H);
    expect(stageLimitMs('verify', c.code, 1)).toBe(24 * H);
  });
  it('severity 4 halves register, dispatch and accept only', () => {
    for (const cat of INCIDENT_CATEGORIES.filter((x) => x.severity === 4)) {
      expect(stageLimitMs('register', cat.code, 4)).toBe(H);
      expect(stageLimitMs('dispatch', cat.code, 4)).toBe(H / 2);
      expect(stageLimitMs('accept', cat.code, 4)).toBe(H / 4);
      expect(stageLimitMs('handle', cat.code, 4)).toBe(cat.limitHours * H);
      expect(stageLimitMs('verify', cat.code, 4)).toBe(24 * H);
    }
  });
  it('each status gets its stage deadline; ended ones none', () => {
    for (const s of INCIDENT_STATUSES) {
      const d = deadlineFor(s, T0, '1102', 3);
      const stage = STAGE_OF[s];
      expect(d).toBe(stage ? T0 + stageLimitMs(stage, '1102', 3) : null);
    }
  });
  it('a transition into a new stage restarts the clock; reassign restarts accept', () => {
    const p = plan(incident('dispatched'), 'accept', RESP, {}, T0 + 7);
    expect(p.ok && [p.next.deadline, p.transition.data.stage, p.transition.data.deadline]).toEqual([T0 + 7 + 4 * H, 'handle', T0 + 7 + 4 * H]);
    const r = plan(incident('dispatched'), 'reassign', OPERATOR, { responderId: 'r2' }, T0 + 7);
    expect(r.ok && r.next.deadline).toBe(T0 + 7 + H / 2);
    const e = plan(incident('dispatched', { level: 'grid' }), 'escalate', OPERATOR, { reason: 'x' }, T0 + 7);
    expect(e.ok && [e.next.deadline, 'deadline' in e.transition.data]).toEqual([T0 + H, false]);
  });
});
