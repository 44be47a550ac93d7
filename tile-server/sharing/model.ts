// The sharing process (issue 10, 申请、审批、使用、反馈): a request for a graded layer, its approvals and the grant
// it becomes, as stored and as the API shows it. Pure: the rules of who approves and how a scope narrows live
// here (tested in model.spec.ts); the service keeps them in step with the store.
//
// Rules (the lead's split of issue 10, said again in the error messages):
// - Only sensitive and core layers are requested; public/internal ones need no request (409 no_request_needed),
//   nor does a user who already sees the layer in full (owner department, standing duty, admin).
// - Approvers: admin, or a planner (部门数据员) of the layer's owner department; never the requester.
// - Sensitive: one approval → approved. Core: two approvals by two different users, at least one of them a data
//   steward (planner) of the owner department — the other may be admin; after the first it is 'approving'.
// - Each approver may narrow the scope: fields ⊆ those requested (or proposed by the first approver), areas any
//   town/village/grid codes at the first approval and inside the first approver's areas at the second, days ≤ the
//   period so far. The grant runs from the final approval for that many days (server clock).
import { DEPARTMENTS, getLayer, type DepartmentId } from '../../layers/catalog.ts';
import { governanceOf } from '../../layers/governance/grades.ts';
import { GRADE_INFO, type Grade, type GrantScope, type RequestStatus } from '../../layers/governance/model.ts';

/** Stored statuses; 'expired' is computed from the clock (an approved grant past its expiresAt). */
export type StoredStatus = Exclude<RequestStatus, 'expired'>;

export interface Approval { by: string; name: string; role: string; department: DepartmentId | null; at: number }

/** The scope as narrowed so far (before the final approval): what the grant will be. */
export interface Proposal { fields: string[] | null; areas: string[] | null; days: number }

export interface Decision { action: 'refuse' | 'revoke'; by: string; at: number; reason: string }

export interface Feedback { at: number; rating: number | null; text: string }

export interface StoredRequest {
  id: string;
  layer: string;
  requester: string;
  requesterName: string;
  requesterDepartment: DepartmentId | null;
  purpose: string;
  fields: string[] | null;
  areas: string[] | null;
  days: number;
  status: StoredStatus;
  createdAt: number;
  updatedAt: number;
  approvals: Approval[];
  proposed: Proposal | null;
  scope: GrantScope | null;
  decision: Decision | null;
  feedback: Feedback[];
  /** Uses recorded (GrantUse rows written), and the last one. */
  uses: number;
  lastUsedAt: number | null;
}

export type SharingAction = 'approve' | 'refuse' | 'revoke' | 'feedback';

/** A request as GET /api/sharing answers it. */
export interface SharingRequest {
  id: string;
  layer: string;
  layerTitle: string;
  grade: Grade;
  owner: DepartmentId;
  ownerTitle: string;
  requester: { username: string; name: string; department: DepartmentId | null };
  purpose: string;
  fields: string[] | null;
  areas: string[] | null;
  days: number;
  status: RequestStatus;
  createdAt: number;
  approvals: { by: string; name: string; at: number }[];
  needed: 1 | 2;
  /** The scope being approved (after a first approval of a core layer); null before any approval. */
  proposed: Proposal | null;
  /** The grant's scope, once approved (kept after expiry and revocation, for the record). */
  scope: GrantScope | null;
  decision: Decision | null;
  feedback: Feedback[];
  uses: number;
  lastUsedAt: number | null;
  /** What the viewer may do with it now (for the client's buttons; the server checks again). */
  actions: SharingAction[];
}

/** Who acts, as the sharing rules need it (Actor satisfies it). */
export interface SharingActor { id: string; role: string; name?: string; department?: DepartmentId }

export const REQUEST_STATUSES: readonly RequestStatus[] = ['pending', 'approving', 'approved', 'refused', 'revoked', 'expired'];
export const PURPOSE_CHARS = [10, 500] as const;
export const REASON_CHARS = [5, 500] as const;
export const FEEDBACK_CHARS = [1, 1000] as const;
export const MAX_DAYS = 365;
export const MAX_AREAS = 200;
export const MAX_FEEDBACK = 100;
export const DAY_MS = 86_400_000;
/** Town 9 digits, village 12, grid 15 (统计用区划代码 + grid number). */
export const AREA_RE = /^\d{9}(\d{3}){0,2}$/;

export const chars = (s: string): number => [...s].length;

export function statusAt(r: StoredRequest, now: number): RequestStatus {
  return r.status === 'approved' && r.scope && r.scope.expiresAt <= now ? 'expired' : r.status;
}

export function neededApprovals(layer: string): 1 | 2 {
  return GRADE_INFO[governanceOf(layer).grade].approvals === 2 ? 2 : 1;
}

/** The layer's owner department (LayerDef.department); throws for a layer no longer in the catalog. */
export function ownerOfLayer(layer: string): DepartmentId {
  const def = getLayer(layer);
  if (!def) throw new Error(`layer ${layer} is not in the catalog`);
  return def.department;
}

/** A 部门数据员 of the owner: a planner of the owner department. */
export function isOwnerSteward(a: { role: string; department?: DepartmentId | null }, layer: string): boolean {
  return a.role === 'planner' && a.department === ownerOfLayer(layer);
}

/** May approve, refuse and revoke requests for this layer (admin, or the owner's data steward). */
export function isApprover(a: SharingActor, layer: string): boolean {
  return a.role === 'admin' || isOwnerSteward(a, layer);
}

/**
 * Why this actor may not approve this request now (a stable code and a message), or null when they may.
 * `now` decides expiry (an expired grant is not pending).
 */
export function approveRefusal(a: SharingActor, r: StoredRequest, now: number): { status: number; code: string; message: string } | null {
  if (a.id === r.requester) return { status: 403, code: 'own_request', message: '不能审批自己提交的申请。You cannot approve your own request.' };
  if (!isApprover(a, r.layer)) return notApprover(r.layer);
  const st = statusAt(r, now);
  if (st !== 'pending' && st !== 'approving') return notPending(st);
  if (r.approvals.some((x) => x.by === a.id)) {
    return { status: 409, code: 'already_approved', message: '您已审批过此申请；核心数据须由另一位审批人再次批准。You approved this request already: a second, different approver is needed.' };
  }
  const needed = neededApprovals(r.layer);
  if (r.approvals.length === needed - 1 && needed === 2) {
    // The final of two approvals: one of the two must be the owner's data steward (the other may be admin).
    if (!isOwnerSteward(a, r.layer) && !r.approvals.some((x) => isOwnerSteward({ role: x.role, department: x.department }, r.layer))) {
      const owner = DEPARTMENTS[ownerOfLayer(r.layer)];
      return { status: 403, code: 'owner_approval_required', message: `核心数据须至少由一位${owner}数据员批准；请由${owner}的数据员审批。Core data needs an approval by a data steward of the owner department (${owner}).` };
    }
  }
  return null;
}

export function notApprover(layer: string): { status: number; code: string; message: string } {
  const owner = DEPARTMENTS[ownerOfLayer(layer)];
  return { status: 403, code: 'not_approver', message: `只有管理员或${owner}的数据员（规划编辑角色）可以审批图层 ${layer} 的申请。Only an admin or a data steward (planner) of ${owner} may decide requests for layer ${layer}.` };
}

export function notPending(st: RequestStatus): { status: number; code: string; message: string } {
  return { status: 409, code: 'not_pending', message: `申请当前状态为「${STATUS_TITLE[st]}」，不能再审批或拒绝。The request is ${st}: it can no longer be approved or refused.` };
}

export const STATUS_TITLE: Record<RequestStatus, string> = {
  pending: '待审批', approving: '审批中', approved: '已批准', refused: '已拒绝', revoked: '已撤销', expired: '已过期',
};

/** The actions the viewer may take now (for the client; every action is checked again on its route). */
export function actionsFor(a: SharingActor, r: StoredRequest, now: number): SharingAction[] {
  const st = statusAt(r, now);
  const out: SharingAction[] = [];
  if (approveRefusal(a, r, now) === null) out.push('approve');
  if (a.id !== r.requester && isApprover(a, r.layer) && (st === 'pending' || st === 'approving')) out.push('refuse');
  if (isApprover(a, r.layer) && st === 'approved') out.push('revoke');
  if (a.id === r.requester && r.scope !== null && r.feedback.length < MAX_FEEDBACK) out.push('feedback');
  return out;
}

export function viewOf(r: StoredRequest, viewer: SharingActor, now: number): SharingRequest {
  const def = getLayer(r.layer);
  const owner = def?.department ?? ('city' as DepartmentId);
  return {
    id: r.id, layer: r.layer, layerTitle: def?.title ?? r.layer, grade: governanceOf(r.layer).grade, owner, ownerTitle: DEPARTMENTS[owner],
    requester: { username: r.requester, name: r.requesterName, department: r.requesterDepartment },
    purpose: r.purpose, fields: r.fields, areas: r.areas, days: r.days, status: statusAt(r, now), createdAt: r.createdAt,
    approvals: r.approvals.map((x) => ({ by: x.by, name: x.name, at: x.at })), needed: neededApprovals(r.layer),
    proposed: r.proposed, scope: r.scope, decision: r.decision, feedback: r.feedback, uses: r.uses, lastUsedAt: r.lastUsedAt,
    actions: actionsFor(viewer, r, now),
  };
}

/** What an approver asks for: each part undefined = keep what there is. */
export interface Narrowing { fields?: string[] | null; areas?: string[] | null; days?: number }

/**
 * The scope after this approval, or the reason it is not a narrowing (400 code + message). `first` is whether no
 * approver has proposed a scope yet (then areas may be any codes; later only inside the proposed areas).
 */
export function narrow(r: StoredRequest, n: Narrowing): Proposal | { code: string; message: string } {
  const base: Proposal = r.proposed ?? { fields: r.fields, areas: r.areas, days: r.days };
  const first = r.proposed === null;
  let fields = base.fields;
  if (n.fields !== undefined) {
    if (n.fields === null) {
      if (base.fields !== null) return { code: 'scope_wider', message: `只能在所申请的字段内批准（${base.fields.join('、')}）；fields 不能为 null（全部字段）。Approve within the requested fields; null (every field) would widen them.` };
    } else {
      const extra = base.fields ? n.fields.filter((f) => !base.fields!.includes(f)) : [];
      if (extra.length) return { code: 'scope_wider', message: `字段 ${extra.join('、')} 不在申请范围内（${base.fields!.join('、')}）；审批只能缩小范围。Fields ${extra.join(', ')} were not requested: approval may only narrow.` };
      fields = n.fields;
    }
  }
  let areas = base.areas;
  if (n.areas !== undefined) {
    if (n.areas === null) {
      if (base.areas !== null) return { code: 'scope_wider', message: `所申请或已批准的区域为 ${base.areas.join('、')}；areas 不能改为 null（全市）。The areas so far are ${base.areas.join(', ')}: null (the whole city) would widen them.` };
    } else {
      if (!first && base.areas !== null) {
        const outside = n.areas.filter((c) => !base.areas!.some((b) => c.startsWith(b)));
        if (outside.length) return { code: 'scope_wider', message: `区域 ${outside.join('、')} 不在第一位审批人批准的区域内；只能缩小。Areas ${outside.join(', ')} lie outside the areas approved first: approval may only narrow.` };
      }
      areas = n.areas;
    }
  }
  let days = base.days;
  if (n.days !== undefined) {
    if (n.days > base.days) return { code: 'scope_wider', message: `期限不能超过 ${base.days} 天（所申请或已批准的期限）。The period may not exceed ${base.days} days.` };
    days = n.days;
  }
  return { fields, areas, days };
}
