// The closed loop as a pure function: given an incident, an action, who acts and when, either the next
// incident and the transition to record, or the reason it is refused. No I/O, no clock: the service reads,
// calls `plan`, and writes with a version check, so the same rules hold on SQLite and PostgreSQL and under
// concurrent requests. The loop and its time limits follow 数字城管 practice (GB/T 30428.1 工作流程:
// 信息收集 → 案卷建立 → 任务派遣 → 任务处理 → 处理反馈 → 核查结案; CJJ/T 312 网格化 考核时限).
import { getIncidentCategory } from '../incident-categories.ts';
import {
  INCIDENT_STATUSES, OPEN_STATUSES,
  type Actor, type Incident, type IncidentAction, type IncidentLevel, type IncidentStatus, type Transition,
} from './model.ts';

/** The stage an open incident is in, i.e. whose clock is running. */
export type Stage = 'register' | 'dispatch' | 'accept' | 'handle' | 'verify';

export const STAGE_OF: Readonly<Record<IncidentStatus, Stage | null>> = {
  reported: 'register', registered: 'dispatch', dispatched: 'accept', handling: 'handle', handled: 'verify',
  closed: null, rejected: null, merged: null,
};

const HOUR = 3_600_000;

/**
 * Time limits per stage (the one table; README repeats it). `hours: 'category'` = the category's 处置时限
 * (layers/incident-categories.ts `limitHours`). Severity-4 incidents (fire, gas: minutes count) get half the
 * register/dispatch/accept limits; handling keeps the category's own limit, which is already short for them.
 */
export const STAGE_LIMITS: Readonly<Record<Stage, { title: string; hours: number | 'category'; halvedAtSeverity4: boolean }>> = {
  register: { title: '立案', hours: 2, halvedAtSeverity4: true },
  dispatch: { title: '派遣', hours: 1, halvedAtSeverity4: true },
  accept: { title: '接单', hours: 0.5, halvedAtSeverity4: true },
  handle: { title: '处置', hours: 'category', halvedAtSeverity4: false },
  verify: { title: '核查', hours: 24, halvedAtSeverity4: false },
};

/** Used only if an incident's category has left the table since it was filed. */
const FALLBACK_HANDLE_HOURS = 24;

export function stageLimitMs(stage: Stage, categoryCode: string, severity: number): number {
  const s = STAGE_LIMITS[stage];
  const hours = s.hours === 'category' ? getIncidentCategory(categoryCode)?.limitHours ?? FALLBACK_HANDLE_HOURS : s.hours;
  return Math.round(hours * HOUR * (s.halvedAtSeverity4 && severity === 4 ? 0.5 : 1));
}

/** The deadline of the stage entered at `at` by moving to `status`; null for ended incidents. */
export function deadlineFor(status: IncidentStatus, at: number, categoryCode: string, severity: number): number | null {
  const stage = STAGE_OF[status];
  return stage ? at + stageLimitMs(stage, categoryCode, severity) : null;
}

export const STATUS_TITLES: Readonly<Record<IncidentStatus, string>> = {
  reported: '待立案', registered: '已立案', dispatched: '已派遣', handling: '处置中', handled: '已反馈',
  closed: '已结案', rejected: '不予立案', merged: '已合并',
};

export const LEVEL_TITLES: Readonly<Record<IncidentLevel, string>> = { grid: '网格', town: '镇（街道）', city: '市' };
export const LEVELS: readonly IncidentLevel[] = ['grid', 'town', 'city'];

type Who = 'assignee' | 'not_handler';

export interface TransitionRule {
  title: string;
  from: readonly IncidentStatus[];
  /** 'same' = the status does not change. */
  to: IncidentStatus | 'same';
  /** Who may do it besides anyone: the current assignee, or anyone but the one who fed back. */
  who?: Who;
  reasonRequired?: boolean;
}

/** The transition table (model.ts documents the meanings). Anything not listed is refused with 409. */
export const TRANSITIONS: Readonly<Record<IncidentAction, TransitionRule>> = {
  register: { title: '立案', from: ['reported'], to: 'registered' },
  reject: { title: '不予立案', from: ['reported'], to: 'rejected', reasonRequired: true },
  dispatch: { title: '派遣', from: ['registered'], to: 'dispatched' },
  reassign: { title: '改派', from: ['dispatched', 'handling'], to: 'dispatched' },
  accept: { title: '接单', from: ['dispatched'], to: 'handling', who: 'assignee' },
  decline: { title: '退单', from: ['dispatched'], to: 'registered', who: 'assignee', reasonRequired: true },
  feedback: { title: '处置反馈', from: ['handling'], to: 'handled', who: 'assignee' },
  verify: { title: '核查结案', from: ['handled'], to: 'closed', who: 'not_handler' },
  rework: { title: '核查不通过（返工）', from: ['handled'], to: 'handling', who: 'not_handler', reasonRequired: true },
  escalate: { title: '提级', from: OPEN_STATUSES, to: 'same', reasonRequired: true },
  deescalate: { title: '降级', from: OPEN_STATUSES, to: 'same' },
  supervise: { title: '督办', from: OPEN_STATUSES, to: 'same' },
  merge: { title: '合并', from: ['reported', 'registered'], to: 'merged' },
  comment: { title: '备注', from: INCIDENT_STATUSES, to: 'same', reasonRequired: true },
};

export interface PlanInput {
  reason?: string | null;
  responderId?: string;
  /** merge: the surviving incident, already read by the caller (it must be open and not this one). */
  into?: Pick<Incident, 'id' | 'status' | 'code'>;
  attachmentIds?: string[];
  /** Extra transition data (the sweeper marks its own actions `auto: true`). */
  data?: Record<string, unknown>;
}

export type Plan =
  | { ok: true; next: Incident; transition: Omit<Transition, 'seq'> }
  | { ok: false; status: 400 | 409; code: string; message: string; detail?: Record<string, unknown> };

const MAX_REASON = 2000;

function refuse(code: string, message: string, detail?: Record<string, unknown>, status: 400 | 409 = 409): Plan {
  return { ok: false, status, code, message, detail };
}

/** Why `action` is not allowed on `incident` for `actor`, or null when it is (input aside). */
export function refusal(incident: Incident, action: IncidentAction, actor: Actor): { code: string; message: string; detail: Record<string, unknown> } | null {
  const rule = TRANSITIONS[action];
  const st = incident.status;
  const detail = { status: st, action, allowedFrom: rule.from };
  if (!rule.from.includes(st)) {
    const from = rule.from.map((s) => `「${STATUS_TITLES[s]}」`).join('、');
    return {
      code: 'invalid_transition',
      message: `无法${rule.title}：案件 ${incident.code} 当前为「${STATUS_TITLES[st]}」，只有${from}的案件可以${rule.title} / ` +
        `cannot ${action}: incident is ${st}; allowed only from ${rule.from.join(', ')}`,
      detail,
    };
  }
  if (rule.who === 'assignee' && actor.id !== incident.assigneeId) {
    return {
      code: 'invalid_transition',
      message: `无法${rule.title}：只有被派遣的处置人（${incident.assigneeId ?? '无'}）可以${rule.title}，当前操作人为 ${actor.id} / ` +
        `cannot ${action}: only the assignee (${incident.assigneeId ?? 'none'}) may do this, not ${actor.id}`,
      detail: { ...detail, rule: 'assignee_only', assigneeId: incident.assigneeId },
    };
  }
  if (rule.who === 'not_handler' && actor.id === incident.handlerId) {
    return {
      code: 'invalid_transition',
      message: `无法${rule.title}：核查须由处置人以外的人员进行，${actor.id} 是本案处置人 / ` +
        `cannot ${action}: verification must be by someone other than the handler (${actor.id})`,
      detail: { ...detail, rule: 'not_handler', handlerId: incident.handlerId },
    };
  }
  if (action === 'escalate' && incident.level === 'city') {
    return { code: 'invalid_transition', message: `无法提级：案件已在市级 / cannot escalate: already at city level`, detail: { ...detail, level: incident.level } };
  }
  if (action === 'deescalate' && incident.level === 'grid') {
    return { code: 'invalid_transition', message: `无法降级：案件已在网格级 / cannot de-escalate: already at grid level`, detail: { ...detail, level: incident.level } };
  }
  return null;
}

/** The actions `actor` may take on `incident` now (for the client's buttons). */
export function allowedActions(incident: Incident, actor: Actor): IncidentAction[] {
  return (Object.keys(TRANSITIONS) as IncidentAction[]).filter((a) => refusal(incident, a, actor) === null);
}

/**
 * Plan one action at time `now`. The caller has checked that `input.responderId` names a responder and that
 * `input.attachmentIds` belong to this incident; this checks everything about the incident itself.
 */
export function plan(incident: Incident, action: IncidentAction, actor: Actor, input: PlanInput, now: number): Plan {
  const rule = TRANSITIONS[action];
  if (!rule) return refuse('invalid_action', `未知操作 ${String(action)} / unknown action`, { actions: Object.keys(TRANSITIONS) }, 400);
  const no = refusal(incident, action, actor);
  if (no) return refuse(no.code, no.message, no.detail);

  const reason = typeof input.reason === 'string' && input.reason.trim() ? input.reason.trim() : null;
  if (reason && reason.length > MAX_REASON) return refuse('reason_too_long', `理由过长（最多 ${MAX_REASON} 字） / reason longer than ${MAX_REASON} characters`, undefined, 400);
  if (rule.reasonRequired && !reason) {
    return refuse('reason_required', `${rule.title}须填写理由（reason） / ${action} requires a reason`, undefined, 400);
  }

  const next: Incident = { ...incident, version: incident.version + 1, updatedAt: now };
  const data: Record<string, unknown> = { ...input.data };
  const to = rule.to === 'same' ? incident.status : rule.to;
  next.status = to;

  switch (action) {
    case 'dispatch':
    case 'reassign': {
      if (!input.responderId) return refuse('responder_required', `${rule.title}须指定处置人（responderId） / ${action} requires responderId`, undefined, 400);
      if (action === 'reassign' && input.responderId === incident.assigneeId) {
        return refuse('invalid_transition', `无法改派：案件已派给 ${input.responderId} / cannot reassign: already assigned to ${input.responderId}`,
          { status: incident.status, action, rule: 'same_assignee' });
      }
      if (incident.assigneeId) data.previousAssigneeId = incident.assigneeId;
      data.responderId = input.responderId;
      next.assigneeId = input.responderId;
      next.handlerId = null;
      break;
    }
    case 'decline':
      data.responderId = incident.assigneeId;
      next.assigneeId = null;
      break;
    case 'feedback':
      next.handlerId = actor.id;
      break;
    case 'verify':
      next.assigneeId = null;
      next.closedAt = now;
      break;
    case 'rework':
      data.previousHandlerId = incident.handlerId;
      next.handlerId = null;
      break;
    case 'reject':
      next.closedAt = now;
      break;
    case 'escalate':
    case 'deescalate': {
      const i = LEVELS.indexOf(incident.level) + (action === 'escalate' ? 1 : -1);
      next.level = LEVELS[i];
      data.fromLevel = incident.level;
      data.level = next.level;
      break;
    }
    case 'supervise':
      next.supervisions = incident.supervisions + 1;
      data.supervisions = next.supervisions;
      if (incident.deadline !== null) data.overdueSeconds = Math.max(0, Math.round((now - incident.deadline) / 1000));
      break;
    case 'merge': {
      const into = input.into;
      if (!into) return refuse('into_required', `合并须指定保留的案件（into） / merge requires into: the surviving incident id`, undefined, 400);
      if (into.id === incident.id) return refuse('invalid_merge_target', `不能合并到自身 / cannot merge an incident into itself`, undefined, 400);
      if (!OPEN_STATUSES.includes(into.status)) {
        return refuse('invalid_transition', `无法合并：目标案件 ${into.code} 为「${STATUS_TITLES[into.status]}」，只能合并到未结案的案件 / ` +
          `cannot merge into ${into.id}: it is ${into.status}; the target must be open`, { status: incident.status, action, intoStatus: into.status });
      }
      data.into = into.id;
      next.mergedInto = into.id;
      next.assigneeId = null;
      next.closedAt = now;
      break;
    }
    default:
      break;
  }
  if (input.attachmentIds?.length) data.attachmentIds = input.attachmentIds;

  // A new stage starts its clock; `data.deadline` marks the stage entry for the sweeper (once-per-stage 督办).
  const newStage = to !== incident.status || action === 'reassign';
  if (newStage) {
    next.deadline = deadlineFor(to, now, incident.category, incident.severity);
    data.stage = STAGE_OF[to];
    data.deadline = next.deadline;
  }
  return { ok: true, next, transition: { incidentId: incident.id, action, from: incident.status, to, actor, at: now, reason, data } };
}
