import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  approvalBase, canApprove, canRevoke, grantSignature, statusLine, useSharingStore, validateApproval, validateFeedback, validateReason, validateRequest,
  type SharingRequest,
} from './sharing.ts';

function req(over: Partial<SharingRequest> = {}): SharingRequest {
  return {
    id: 'r1', layer: 'hazards', layerTitle: '危险化学品企业', grade: 'sensitive', owner: 'emergency',
    requester: { username: 'analyst', name: '数据分析员', department: 'police' },
    purpose: '危化品企业周边治安风险研判', fields: null, areas: null, days: 7, status: 'pending', createdAt: 1,
    approvals: [], needed: 1, scope: null, decision: null, feedback: [], uses: 0, lastUsedAt: null, ...over,
  };
}
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('sharing rules as the forms check them', () => {
  it('validates a request: purpose 10–500 characters, days 1–365, area codes of 9/12/15 digits', () => {
    const ok = { purpose: '危化品企业周边治安风险研判', fields: null, areas: ['320581100'], days: 7 };
    expect(validateRequest(ok)).toEqual({});
    expect(Object.keys(validateRequest({ ...ok, purpose: '太短了' }))).toEqual(['purpose']);
    expect(validateRequest({ ...ok, purpose: '字'.repeat(501) }).purpose).toMatch(/10–500/);
    expect(Object.keys(validateRequest({ ...ok, days: 0 }))).toEqual(['days']);
    expect(Object.keys(validateRequest({ ...ok, days: 366 }))).toEqual(['days']);
    expect(Object.keys(validateRequest({ ...ok, days: 2.5 }))).toEqual(['days']);
    expect(Object.keys(validateRequest({ ...ok, areas: ['3205811'] }))).toEqual(['areas']);
    expect(Object.keys(validateRequest({ ...ok, areas: [] }))).toEqual(['areas']);
    expect(Object.keys(validateRequest({ ...ok, fields: [] }))).toEqual(['fields']);
  });

  it('lets an approver narrow but never widen', () => {
    const r = { fields: ['name', 'kind'], days: 30 };
    expect(validateApproval(r, { fields: ['name'], areas: ['320581100', '320581101'], days: 7 })).toEqual({});
    expect(Object.keys(validateApproval(r, { fields: ['name', 'contact_phone'], areas: null, days: 7 }))).toEqual(['fields']);
    expect(Object.keys(validateApproval(r, { fields: null, areas: null, days: 7 }))).toEqual(['fields']);
    expect(Object.keys(validateApproval(r, { fields: ['name'], areas: null, days: 31 }))).toEqual(['days']);
    expect(validateApproval({ fields: null, days: 30 }, { fields: null, areas: null, days: 30 })).toEqual({});
  });

  it('needs a reason of 5–500 characters and feedback of 1–1000 with a rating of 1–5', () => {
    expect(validateReason('不行')).toMatch(/5–500/);
    expect(validateReason('用途与申请部门职责不符')).toBeNull();
    expect(validateFeedback({ rating: 5, text: '数据准确' })).toEqual({});
    expect(Object.keys(validateFeedback({ rating: 6, text: ' ' })).sort()).toEqual(['rating', 'text']);
  });

  it('knows who may approve: admin or a planner of the owner department, never the requester, never twice', () => {
    const steward = { username: 'steward-emergency', role: 'planner', department: 'emergency' };
    expect(canApprove(req(), steward)).toBe(true);
    expect(canApprove(req(), { username: 'admin', role: 'admin', department: 'city' })).toBe(true);
    expect(canApprove(req(), { username: 'steward-city', role: 'planner', department: 'city' })).toBe(false);
    expect(canApprove(req(), { username: 'analyst', role: 'analyst', department: 'police' })).toBe(false);
    expect(canApprove(req({ requester: { username: 'steward-emergency', name: 'x', department: 'emergency' } }), steward)).toBe(false);
    expect(canApprove(req({ status: 'approving', needed: 2, approvals: [{ by: 'steward-emergency', name: 'x', at: 1 }] }), steward)).toBe(false);
    expect(canApprove(req({ status: 'approved' }), steward)).toBe(false);
    expect(canRevoke(req({ status: 'approved' }), steward)).toBe(true);
    expect(canRevoke(req({ status: 'refused' }), steward)).toBe(false);
    expect(canRevoke(req({ status: 'approved' }), { username: 'analyst', role: 'analyst', department: 'police' })).toBe(false);
  });

  it('follows the server’s own list of actions when it gives one, and narrows from the first approval', () => {
    const steward = { username: 'steward-emergency', role: 'planner', department: 'emergency' };
    expect(canApprove(req({ actions: [] }), steward)).toBe(false);
    expect(canApprove(req({ actions: ['approve', 'refuse'] }), { username: 'x', role: 'analyst' })).toBe(true);
    expect(canRevoke(req({ status: 'approved', actions: ['revoke'] }), null)).toBe(true);
    const proposed = { fields: ['name'], areas: ['320581100'], days: 5 };
    expect(approvalBase(req({ proposed }))).toEqual(proposed);
    expect(approvalBase(req())).toEqual({ fields: null, areas: null, days: 7 });
    expect(Object.keys(validateApproval(approvalBase(req({ proposed })), { fields: ['name'], areas: null, days: 6 }))).toEqual(['days']);
  });

  it('says the state of a request in one line', () => {
    const fmt = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    expect(statusLine(req(), fmt)).toBe('待审批');
    expect(statusLine(req({ status: 'approving', needed: 2, approvals: [{ by: 'a', name: 'a', at: 1 }] }), fmt)).toBe('审批中（1/2）');
    expect(statusLine(req({ status: 'approved', scope: { fields: null, areas: null, expiresAt: Date.UTC(2026, 5, 1) } }), fmt)).toBe('已批准 · 至 2026-06-01');
  });
});

describe('sharing store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('sends a request to the layer’s requests route and lists it under my requests', async () => {
    const calls: { url: string; method: string; body: unknown }[] = [];
    let mine: SharingRequest[] = [];
    const s = useSharingStore();
    s.configure({
      baseUrl: 'http://h',
      fetch: async (url, init) => {
        calls.push({ url, method: init?.method ?? 'GET', body: init?.body ? JSON.parse(String(init.body)) : null });
        if (url === 'http://h/api/catalog/hazards/requests') { mine = [req()]; return json(201, { request: mine[0] }); }
        if (url === 'http://h/api/sharing?box=mine') return json(200, { items: mine });
        return json(404, { error: { code: 'not_found', message: '?' } });
      },
    });
    const r = await s.submit('hazards', { purpose: '  危化品企业周边治安风险研判 ', fields: ['name'], areas: ['320581100'], days: 7 });
    expect(r?.id).toBe('r1');
    expect(calls[0]).toEqual({ url: 'http://h/api/catalog/hazards/requests', method: 'POST', body: { purpose: '危化品企业周边治安风险研判', fields: ['name'], areas: ['320581100'], days: 7 } });
    expect(s.mine.map((x) => x.id)).toEqual(['r1']);
    expect(s.notice).toMatch(/申请已提交/);
    await s.submit('hazards', { purpose: '危化品企业周边治安风险研判', fields: null, areas: null, days: 30 });
    expect(calls.at(-2)!.body).toEqual({ purpose: '危化品企业周边治安风险研判', days: 30 });
  });

  it('shows the server’s refusal (e.g. 409 no_request_needed) and returns null', async () => {
    const s = useSharingStore();
    s.configure({ baseUrl: 'http://h', fetch: async () => json(409, { error: { code: 'no_request_needed', message: '公开数据无需申请，可直接使用。' } }) });
    expect(await s.submit('roads', { purpose: '道路数据用于路线分析研判', fields: null, areas: null, days: 7 })).toBeNull();
    expect(s.error).toBe('公开数据无需申请，可直接使用。');
  });

  it('approves with a scope, refuses and revokes with a reason', async () => {
    const calls: { url: string; body: unknown }[] = [];
    const s = useSharingStore();
    s.configure({
      baseUrl: 'http://h',
      fetch: async (url, init) => {
        if (init?.method === 'POST') {
          calls.push({ url, body: JSON.parse(String(init.body)) });
          return json(200, { request: req({ status: url.endsWith('approve') ? 'approved' : url.endsWith('refuse') ? 'refused' : 'revoked' }) });
        }
        return json(200, { items: [] });
      },
    });
    expect((await s.approve('r1', { fields: ['name'], areas: ['320581100', '320581101'], days: 7 }))?.status).toBe('approved');
    expect((await s.refuse('r1', ' 用途不明确 '))?.status).toBe('refused');
    expect((await s.revoke('r1', '项目已结束'))?.status).toBe('revoked');
    expect(calls).toEqual([
      { url: 'http://h/api/sharing/r1/approve', body: { fields: ['name'], areas: ['320581100', '320581101'], days: 7 } },
      { url: 'http://h/api/sharing/r1/refuse', body: { reason: '用途不明确' } },
      { url: 'http://h/api/sharing/r1/revoke', body: { reason: '项目已结束' } },
    ]);
  });

  it('reports the layers whose grants changed between two looks at my requests, not on the first look', async () => {
    let items = [req()];
    const s = useSharingStore();
    s.configure({ baseUrl: 'http://h', fetch: async () => json(200, { items }) });
    await s.loadMine();
    expect(s.grantsChanged).toBeNull();
    await s.loadMine();
    expect(s.grantsChanged).toBeNull();
    items = [req({ status: 'approved', scope: { fields: null, areas: ['320581100'], expiresAt: 9 } })];
    await s.loadMine();
    expect(s.grantsChanged?.layers).toEqual(['hazards']);
    const seq = s.grantsChanged!.seq;
    items = [req({ status: 'expired', scope: { fields: null, areas: ['320581100'], expiresAt: 9 } })];
    await s.loadMine();
    expect(s.grantsChanged?.seq).toBe(seq + 1);
    expect(grantSignature(items)).toContain('expired');
  });
});
