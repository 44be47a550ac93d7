// Data sharing between departments (申请、审批、使用、反馈, issue 10) as the client runs it: the user's own requests
// ("我的申请"), the requests waiting for them as an approver ("待我审批"), and the calls of H1's API
// (tile-server/sharing): POST /api/catalog/{layer}/requests, GET /api/sharing?box=, GET /api/sharing/{id},
// POST /api/sharing/{id}/approve|refuse|revoke|feedback. The server decides every right; the checks here only
// spare the user a round trip and say the same limits in Chinese.
import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import type { DepartmentId } from '../../../layers/catalog.ts';
import type { Grade, GrantScope, GrantUse, RequestStatus } from '../../../layers/governance/model.ts';
import { requestJson, type FetchLike } from './catalog.ts';

export interface SharingRequest {
  id: string; layer: string; layerTitle: string; grade: Grade; owner: DepartmentId;
  requester: { username: string; name: string; department: DepartmentId | null };
  purpose: string; fields: string[] | null; areas: string[] | null; days: number;
  status: RequestStatus; createdAt: number;
  approvals: { by: string; name: string; at: number }[]; needed: 1 | 2;
  /** The scope narrowed so far by a first approval of a core layer: the second approver narrows from it. */
  proposed?: { fields: string[] | null; areas: string[] | null; days: number } | null;
  /** The scope in force once approved. */
  scope: GrantScope | null;
  decision: { action: 'refuse' | 'revoke'; by: string; at: number; reason: string } | null;
  feedback: { at: number; rating: number | null; text: string }[];
  uses: number; lastUsedAt: number | null;
  /** What the viewer may do with it now, as the server says (H1); the client's own rules stand in when absent. */
  actions?: ('approve' | 'refuse' | 'revoke' | 'feedback')[];
}

/** The scope an approver starts from and may only narrow: the first approver's proposal, else the request. */
export function approvalBase(r: Pick<SharingRequest, 'fields' | 'areas' | 'days' | 'proposed'>): { fields: string[] | null; areas: string[] | null; days: number } {
  return r.proposed ?? { fields: r.fields, areas: r.areas, days: r.days };
}

/** Limits of H1's API (tile-server/sharing), said once for the forms. */
export const LIMITS = { purpose: [10, 500], reason: [5, 500], days: [1, 365], feedback: [1, 1000], rating: [1, 5] } as const;

export const STATUS_TITLE: Record<RequestStatus, string> = {
  pending: '待审批', approving: '审批中', approved: '已批准', refused: '已拒绝', revoked: '已撤销', expired: '已过期',
};

/** Area codes: town 9 digits, village 12, grid 15 (layers/governance/access.ts areaCodeOf). */
export const AREA_CODE = /^(\d{9}|\d{12}|\d{15})$/;

export interface RequestDraft { purpose: string; fields: string[] | null; areas: string[] | null; days: number }
export interface ApproveDraft { fields: string[] | null; areas: string[] | null; days: number }

export type DraftErrors = Partial<Record<'purpose' | 'fields' | 'areas' | 'days' | 'reason' | 'text' | 'rating', string>>;

const len = (s: string) => [...s.trim()].length;

/** What is wrong with a request before it is sent (the server checks the same). */
export function validateRequest(d: RequestDraft): DraftErrors {
  const e: DraftErrors = {};
  const [pMin, pMax] = LIMITS.purpose;
  if (len(d.purpose) < pMin || len(d.purpose) > pMax) e.purpose = `请说明用途（${pMin}–${pMax} 字，现 ${len(d.purpose)} 字）`;
  if (d.fields !== null && d.fields.length === 0) e.fields = '请至少选择一个字段，或选择“全部字段”';
  if (d.areas !== null && d.areas.length === 0) e.areas = '请至少选择一个区域，或选择“全市”';
  if (d.areas?.some((a) => !AREA_CODE.test(a))) e.areas = '区域代码须为 9 位（镇街）、12 位（村社区）或 15 位（网格）数字';
  if (!Number.isInteger(d.days) || d.days < LIMITS.days[0] || d.days > LIMITS.days[1]) e.days = `期限须为 ${LIMITS.days[0]}–${LIMITS.days[1]} 天的整数`;
  return e;
}

/** An approver narrows, never widens: fields ⊆ requested, days ≤ requested (H1's rule; the server refuses otherwise). */
export function validateApproval(r: Pick<SharingRequest, 'fields' | 'days'>, d: ApproveDraft): DraftErrors {
  const e: DraftErrors = {};
  if (d.fields !== null && d.fields.length === 0) e.fields = '请至少保留一个字段';
  if (r.fields !== null && (d.fields === null || d.fields.some((f) => !r.fields!.includes(f)))) e.fields = '批准的字段只能是申请字段的子集';
  if (d.areas !== null && d.areas.length === 0) e.areas = '请至少选择一个区域，或选择“全市”';
  if (d.areas?.some((a) => !AREA_CODE.test(a))) e.areas = '区域代码须为 9 位（镇街）、12 位（村社区）或 15 位（网格）数字';
  if (!Number.isInteger(d.days) || d.days < 1 || d.days > r.days) e.days = `期限须为 1–${r.days} 天的整数（不超过申请期限）`;
  return e;
}

export function validateReason(reason: string): string | null {
  const [min, max] = LIMITS.reason;
  return len(reason) < min || len(reason) > max ? `请填写理由（${min}–${max} 字）` : null;
}

export function validateFeedback(f: { rating: number | null; text: string }): DraftErrors {
  const e: DraftErrors = {};
  if (len(f.text) < LIMITS.feedback[0] || len(f.text) > LIMITS.feedback[1]) e.text = `请填写反馈（1–${LIMITS.feedback[1]} 字）`;
  if (f.rating !== null && (!Number.isInteger(f.rating) || f.rating < 1 || f.rating > 5)) e.rating = '评分为 1–5 星';
  return e;
}

export interface Me { username: string; role: string; department?: string | null }

/** Whether `me` may approve `r` now: admin or a planner (部门数据员) of the owner department, not the requester, not twice. */
export function canApprove(r: SharingRequest, me: Me | null): boolean {
  if (r.actions) return r.actions.includes('approve');
  if (!me || (r.status !== 'pending' && r.status !== 'approving')) return false;
  if (r.requester.username === me.username || r.approvals.some((a) => a.by === me.username)) return false;
  return me.role === 'admin' || (me.role === 'planner' && me.department === r.owner);
}

/** Revocation: an approver of the layer or an admin, while the grant is in force or being approved. */
export function canRevoke(r: SharingRequest, me: Me | null): boolean {
  if (r.actions) return r.actions.includes('revoke');
  if (!me || (r.status !== 'approved' && r.status !== 'approving')) return false;
  return me.role === 'admin' || (me.role === 'planner' && me.department === r.owner);
}

/** A grant's state as the requester's list shows it, e.g. "已批准 · 至 2026-06-01 08:00" or "审批中（1/2）". */
export function statusLine(r: SharingRequest, formatTime: (ms: number) => string): string {
  if (r.status === 'approving' || (r.status === 'pending' && r.needed === 2)) return `${STATUS_TITLE[r.status]}（${r.approvals.length}/${r.needed}）`;
  if (r.status === 'approved' && r.scope) return `${STATUS_TITLE.approved} · 至 ${formatTime(r.scope.expiresAt)}`;
  return STATUS_TITLE[r.status];
}

/** What in a user's requests changes their rights: per request its status and scope. */
export function grantSignature(items: readonly SharingRequest[]): string {
  return items.map((r) => `${r.id}:${r.status}:${JSON.stringify(r.scope)}`).sort().join('|');
}

export const useSharingStore = defineStore('sharing', () => {
  let doFetch: FetchLike = (url, init) => fetch(url, init);
  let baseUrl = typeof location !== 'undefined' ? location.origin : '';

  const mine = shallowRef<SharingRequest[]>([]);
  const inbox = shallowRef<SharingRequest[]>([]);
  const error = ref<string | null>(null);
  const notice = ref<string | null>(null);
  const busy = ref(false);
  const detail = shallowRef<{ request: SharingRequest; usage: GrantUse[] } | null>(null);
  /** Layers whose rights changed for this user (approved, revoked, expired): the map reloads their data. */
  const grantsChanged = shallowRef<{ layers: string[]; seq: number } | null>(null);
  let signature: string | null = null;
  let seq = 0;

  function configure(o: { fetch?: FetchLike; baseUrl?: string }): void {
    if (o.fetch) doFetch = o.fetch;
    if (o.baseUrl !== undefined) baseUrl = o.baseUrl;
  }

  const api = <T>(path: string, init?: { method?: string; body?: unknown }) => requestJson<T>(doFetch, `${baseUrl}${path}`, init);

  /** GET /api/sharing?box=mine; says which layers' grants changed since the last look (not on the first). */
  async function loadMine(): Promise<void> {
    try {
      const items = (await api<{ items: SharingRequest[] }>('/api/sharing?box=mine')).items;
      const before = mine.value;
      mine.value = items;
      const sig = grantSignature(items);
      if (signature !== null && sig !== signature) {
        const old = new Map(before.map((r) => [r.id, `${r.status}:${JSON.stringify(r.scope)}`]));
        const layers = [...new Set(items.filter((r) => old.get(r.id) !== `${r.status}:${JSON.stringify(r.scope)}`).map((r) => r.layer))];
        if (layers.length) grantsChanged.value = { layers, seq: ++seq };
      }
      signature = sig;
    } catch (e) {
      error.value = `无法读取我的申请：${(e as Error).message}`;
    }
  }

  async function loadInbox(): Promise<void> {
    try {
      inbox.value = (await api<{ items: SharingRequest[] }>('/api/sharing?box=inbox')).items;
    } catch (e) {
      error.value = `无法读取待审批的申请：${(e as Error).message}`;
    }
  }

  /** Runs one call with busy/error/notice; the answer's request replaces the listed one. */
  async function act(run: () => Promise<{ request: SharingRequest }>, done: string): Promise<SharingRequest | null> {
    busy.value = true;
    error.value = null;
    notice.value = null;
    try {
      const { request } = await run();
      const swap = (list: SharingRequest[]) => (list.some((r) => r.id === request.id) ? list.map((r) => (r.id === request.id ? request : r)) : list);
      mine.value = swap(mine.value);
      inbox.value = swap(inbox.value);
      if (detail.value?.request.id === request.id) detail.value = { ...detail.value, request };
      notice.value = done;
      return request;
    } catch (e) {
      error.value = (e as Error).message;
      return null;
    } finally {
      busy.value = false;
    }
  }

  async function submit(layer: string, d: RequestDraft): Promise<SharingRequest | null> {
    const r = await act(() => api(`/api/catalog/${encodeURIComponent(layer)}/requests`, {
      // null (every field, the whole city) is sent as an absent key: the API's default, which every version takes.
      method: 'POST', body: { purpose: d.purpose.trim(), ...(d.fields ? { fields: d.fields } : {}), ...(d.areas ? { areas: d.areas } : {}), days: d.days },
    }), '申请已提交，等待数据所属部门审批');
    if (r) await loadMine();
    return r;
  }

  async function approve(id: string, d: ApproveDraft): Promise<SharingRequest | null> {
    const r = await act(() => api(`/api/sharing/${encodeURIComponent(id)}/approve`, { method: 'POST', body: { fields: d.fields, areas: d.areas, days: d.days } }), '已批准');
    if (r) await loadInbox();
    return r;
  }

  const decide = (action: 'refuse' | 'revoke', done: string) => async (id: string, reason: string): Promise<SharingRequest | null> => {
    const r = await act(() => api(`/api/sharing/${encodeURIComponent(id)}/${action}`, { method: 'POST', body: { reason: reason.trim() } }), done);
    if (r) await loadInbox();
    return r;
  };

  async function sendFeedback(id: string, f: { rating: number | null; text: string }): Promise<SharingRequest | null> {
    return act(() => api(`/api/sharing/${encodeURIComponent(id)}/feedback`, { method: 'POST', body: { rating: f.rating, text: f.text.trim() } }), '感谢反馈');
  }

  async function openDetail(id: string): Promise<void> {
    try {
      detail.value = await api<{ request: SharingRequest; usage: GrantUse[] }>(`/api/sharing/${encodeURIComponent(id)}`);
    } catch (e) {
      error.value = `无法读取申请详情：${(e as Error).message}`;
    }
  }

  return {
    mine, inbox, error, notice, busy, detail, grantsChanged,
    configure, loadMine, loadInbox, submit, approve, refuse: decide('refuse', '已拒绝'), revoke: decide('revoke', '已撤销'),
    sendFeedback, openDetail, closeDetail: () => { detail.value = null; },
  };
});
