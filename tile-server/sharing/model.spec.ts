import { describe, expect, it } from 'vitest';
import { actionsFor, approveRefusal, DAY_MS, narrow, statusAt, type StoredRequest } from './model.ts';

const T0 = Date.UTC(2026, 10, 1);

function req(o: Partial<StoredRequest> = {}): StoredRequest {
  return {
    id: 'sr-1', layer: 'hazards', requester: 'analyst', requesterName: '数据分析员', requesterDepartment: 'police',
    purpose: '治安形势分析需要危化企业分布', fields: ['name', 'kind', 'contact_phone'], areas: ['320581110', '320581111'], days: 7,
    status: 'pending', createdAt: T0, updatedAt: T0, approvals: [], proposed: null, scope: null, decision: null, feedback: [],
    uses: 0, lastUsedAt: null, ...o,
  };
}

const admin = { id: 'admin', role: 'admin', department: 'city' as const };
const stewardE = { id: 'steward-emergency', role: 'planner', department: 'emergency' as const };
const stewardC = { id: 'steward-city', role: 'planner', department: 'city' as const };
const otherPlanner = { id: 'planner', role: 'planner', department: 'planning' as const };

describe('who approves', () => {
  it('admin and the owner department\'s planner; not the requester, not another department', () => {
    expect(approveRefusal(admin, req(), T0)).toBeNull();
    expect(approveRefusal(stewardE, req(), T0)).toBeNull();
    expect(approveRefusal(otherPlanner, req(), T0)?.code).toBe('not_approver');
    expect(approveRefusal({ id: 'analyst', role: 'analyst', department: 'police' }, req(), T0)?.code).toBe('own_request');
    expect(approveRefusal({ id: 'operator', role: 'operator', department: 'emergency' }, req(), T0)?.code).toBe('not_approver');
  });

  it('core: the second approver differs from the first and one of the two is the owner\'s steward', () => {
    const first = { by: 'admin', name: '系统管理员', role: 'admin', department: 'city' as const, at: T0 };
    const r = req({ layer: 'responders', status: 'approving', approvals: [first] });
    expect(approveRefusal(admin, r, T0)?.code).toBe('already_approved');
    expect(approveRefusal({ id: 'admin2', role: 'admin', department: 'city' }, r, T0)?.code).toBe('owner_approval_required');
    expect(approveRefusal(stewardC, r, T0)).toBeNull();
    const byOwner = req({ layer: 'responders', status: 'approving', approvals: [{ ...first, by: 'steward-city', role: 'planner' }] });
    expect(approveRefusal({ id: 'admin2', role: 'admin', department: 'city' }, byOwner, T0)).toBeNull();
  });

  it('nothing to approve once decided or expired', () => {
    expect(approveRefusal(admin, req({ status: 'refused' }), T0)?.code).toBe('not_pending');
    const approved = req({ status: 'approved', scope: { fields: null, areas: null, expiresAt: T0 + DAY_MS } });
    expect(statusAt(approved, T0 + DAY_MS - 1)).toBe('approved');
    expect(statusAt(approved, T0 + DAY_MS)).toBe('expired');
    expect(actionsFor(stewardE, approved, T0)).toEqual(['revoke']);
    expect(actionsFor(stewardE, approved, T0 + DAY_MS)).toEqual([]);
    expect(actionsFor({ id: 'analyst', role: 'analyst' }, approved, T0 + DAY_MS)).toEqual(['feedback']);
  });
});

describe('narrowing', () => {
  it('keeps the request when nothing is given, narrows fields, areas and days', () => {
    expect(narrow(req(), {})).toEqual({ fields: ['name', 'kind', 'contact_phone'], areas: ['320581110', '320581111'], days: 7 });
    expect(narrow(req(), { fields: ['name'], areas: ['320581110'], days: 3 })).toEqual({ fields: ['name'], areas: ['320581110'], days: 3 });
  });

  it('refuses to widen', () => {
    expect(narrow(req(), { fields: ['name', 'storage_t'] })).toMatchObject({ code: 'scope_wider' });
    expect(narrow(req(), { fields: null })).toMatchObject({ code: 'scope_wider' });
    expect(narrow(req(), { areas: null })).toMatchObject({ code: 'scope_wider' });
    expect(narrow(req(), { days: 8 })).toMatchObject({ code: 'scope_wider' });
    // The second approver stays inside the first one's areas; a village of an approved town is inside.
    const second = req({ proposed: { fields: ['name'], areas: ['320581110'], days: 5 } });
    expect(narrow(second, { areas: ['320581111'] })).toMatchObject({ code: 'scope_wider' });
    expect(narrow(second, { areas: ['320581110217'] })).toEqual({ fields: ['name'], areas: ['320581110217'], days: 5 });
  });

  it('a first approver may name any areas; a request for every field may be narrowed to some', () => {
    expect(narrow(req(), { areas: ['320581112'] })).toMatchObject({ areas: ['320581112'] });
    expect(narrow(req({ fields: null }), { fields: ['storage_t'] })).toMatchObject({ fields: ['storage_t'] });
  });
});
