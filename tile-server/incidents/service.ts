// The incident service: validates input, locates (grid, standard address), applies the state machine with
// optimistic concurrency, supervises and escalates overdue cases, finds duplicates and merges them.
// Every change is read → plan (pure) → store.update(next, readVersion): a concurrent writer makes the store
// throw VersionConflict, and we either report 409 (the caller named the version it saw) or re-read and
// re-plan, so a second concurrent dispatch is refused by the rules, not silently applied on top.
import { createHash, randomUUID } from 'node:crypto';
import { getIncidentCategory, INCIDENT_SOURCES } from '../../layers/incident-categories.ts';
import type { SpatialStore } from '../storage/spatial-store.ts';
import type { Dispatcher } from './dispatcher.ts';
import { IdempotencyConflict, IncidentNotFound, VersionConflict, type IncidentStore } from './incident-store.ts';
import {
  INCIDENT_ACTIONS, OPEN_STATUSES,
  type Actor, type Attachment, type Candidate, type Incident, type IncidentAction, type IncidentFilter, type NewIncident, type Transition,
} from '../../layers/incidents/model.ts';
import { deadlineFor, LEVELS, plan, refusal, STAGE_OF, stageLimitMs, type PlanInput } from '../../layers/incidents/state-machine.ts';

export class IncidentError extends Error {
  constructor(readonly status: 400 | 404 | 409, readonly code: string, message: string, readonly detail?: Record<string, unknown>) {
    super(message);
    this.name = 'IncidentError';
  }
}

export interface ServiceDeps {
  store: IncidentStore;
  spatial: SpatialStore;
  dispatcher: Dispatcher;
  clock?: () => number;
  geocode?: (text: string) => Promise<{ lon: number; lat: number; address: string; code: string } | null>;
  onChange?: (incident: Incident, t: Transition) => void;
}

export type ActBody = { reason?: string; responderId?: string; into?: string; version?: number; attachmentIds?: string[] };
export type CreateInput = NewIncident | (Omit<NewIncident, 'lon' | 'lat'> & { addressText: string });
export type ListedIncident = Incident & { overdue: boolean; secondsLeft: number | null };

/** Duplicate window (issue 6): open, same category, within 50 m and 24 h. */
export const DUPLICATE_RADIUS_M = 50;
export const DUPLICATE_WINDOW_MS = 24 * 3_600_000;
/** Re-reads after a lost race before giving up with 409; conflicts are rare, so a handful is plenty. */
const MAX_RETRIES = 8;
const MAX_TITLE = 200;
const MAX_DESCRIPTION = 5000;
/** Case codes use the city's calendar day (UTC+8, no DST). */
const CHINA_OFFSET_MS = 8 * 3_600_000;
const SYSTEM: Actor = { id: 'system:sweeper', role: 'system', name: '超时督办' };

const bad = (code: string, message: string, detail?: Record<string, unknown>) => new IncidentError(400, code, message, detail);
const notFoundErr = (id: string) => new IncidentError(404, 'incident_not_found', `案件 ${id} 不存在，请检查编号 / incident ${id} not found`);

export class IncidentService {
  private readonly store: IncidentStore;
  private readonly spatial: SpatialStore;
  private readonly dispatcher: Dispatcher;
  private readonly clock: () => number;
  private readonly deps: ServiceDeps;

  constructor(deps: ServiceDeps) {
    this.deps = deps;
    this.store = deps.store;
    this.spatial = deps.spatial;
    this.dispatcher = deps.dispatcher;
    this.clock = deps.clock ?? Date.now;
  }

  async create(input: CreateInput, actor: Actor, opts: { idempotencyKey?: string; requestHash?: string } = {}):
    Promise<{ incident: Incident; created: boolean; duplicates: Incident[] }> {
    checkActor(actor);
    const v = validateNew(input);
    let lon: number, lat: number, address = v.address, addressCode = v.addressCode;
    if ('addressText' in input) {
      if (!this.deps.geocode) throw bad('geocode_unavailable', '本服务未配置地址解析，请提供经纬度（lon, lat） / address geocoding is not available; send lon and lat');
      const text = typeof input.addressText === 'string' ? input.addressText.trim() : '';
      if (!text) throw bad('invalid_address', '地址为空，请填写地址或经纬度 / empty address; send an address or lon and lat');
      const hit = await this.deps.geocode(text);
      if (!hit) throw bad('address_not_found', `未能匹配地址「${text}」，请在地图上点选位置 / address not found; pick the location on the map`);
      ({ lon, lat } = hit);
      address = hit.address;
      addressCode = hit.code;
    } else {
      ({ lon, lat } = input);
    }
    const now = this.clock();
    const [admin, near] = await Promise.all([
      this.spatial.adminAt(lon, lat),
      address ? Promise.resolve([]) : this.spatial.nearest({ layer: 'addresses', lon, lat, k: 1, maxDistanceM: 1000 }),
    ]);
    if (!address && near[0]) {
      address = str(near[0].properties.full);
      addressCode = str(near[0].properties.code);
    }
    const cat = v.category;
    const severity = v.severity ?? cat.severity;
    const code = `SJ${dayOf(now)}${String(await this.store.nextSeq(dayOf(now))).padStart(4, '0')}`;
    const incident: Incident = {
      id: randomUUID(), code, status: 'reported', level: 'grid', category: cat.code, categoryName: cat.name, severity,
      source: v.source, title: v.title, description: v.description, lon, lat, address, addressCode: addressCode ?? null,
      gridCode: admin.grid?.code ?? null, villageCode: admin.village?.code ?? null, townCode: admin.town?.code ?? null,
      department: cat.department, assigneeId: null, handlerId: null, reporter: actor, mergedInto: null,
      deadline: deadlineFor('reported', now, cat.code, severity), supervisions: 0, createdAt: now, updatedAt: now, closedAt: null, version: 1,
    };
    const duplicates = await this.findDuplicates(incident, now);
    const first: Transition = {
      incidentId: incident.id, seq: 1, action: 'report', from: null, to: 'reported', actor, at: now, reason: null,
      data: { source: v.source, stage: 'register', deadline: incident.deadline, ...(duplicates.length ? { possibleDuplicates: duplicates.map((d) => d.id) } : {}) },
    };
    let res: { incident: Incident; created: boolean };
    try {
      res = await this.store.create(incident, first, opts.idempotencyKey
        ? { idempotencyKey: opts.idempotencyKey, requestHash: opts.requestHash ?? hashRequest(input, actor) }
        : undefined);
    } catch (err) {
      if (err instanceof IdempotencyConflict) {
        throw new IncidentError(409, 'idempotency_conflict', '幂等键已用于另一个不同的上报，请换一个 Idempotency-Key / idempotency key already used with a different request body; use a new key');
      }
      throw err;
    }
    if (res.created) this.deps.onChange?.(res.incident, first);
    const dups = res.created ? duplicates : await this.findDuplicates(res.incident, now);
    return { incident: res.incident, created: res.created, duplicates: dups };
  }

  async act(id: string, action: IncidentAction, actor: Actor, body: ActBody = {}): Promise<Incident> {
    checkActor(actor);
    if (!INCIDENT_ACTIONS.includes(action)) {
      throw bad('invalid_action', `未知操作「${String(action)}」，可用：${INCIDENT_ACTIONS.join(', ')} / unknown action`, { actions: INCIDENT_ACTIONS });
    }
    const b = validateBody(body);
    return this.apply(id, action, actor, b.version, async (cur) => {
      const input: PlanInput = { reason: b.reason, responderId: b.responderId, attachmentIds: b.attachmentIds };
      // Input that needs other records is checked only once the transition itself is allowed, so an invalid
      // transition is always a 409 whatever else the body says.
      if (refusal(cur, action, actor)) return input;
      if (b.responderId !== undefined && (action === 'dispatch' || action === 'reassign')
        && !this.dispatcher.responders().some((r) => r.id === b.responderId)) {
        throw bad('unknown_responder', `处置人 ${b.responderId} 不存在，请从候选列表中选择 / responder ${b.responderId} not found; pick one from the candidates`);
      }
      if (b.attachmentIds?.length) {
        const own = new Set((await this.store.attachments(id)).map((a) => a.id));
        const missing = b.attachmentIds.filter((a) => !own.has(a));
        if (missing.length) throw bad('unknown_attachment', `附件不属于本案件：${missing.join(', ')}，请先上传 / attachments not on this incident; upload them first`, { missing });
      }
      if (action === 'merge' && b.into !== undefined && b.into !== id) {
        const into = await this.store.get(b.into);
        if (!into) throw bad('unknown_merge_target', `要合并到的案件 ${b.into} 不存在 / merge target ${b.into} not found`);
        input.into = into;
      } else if (action === 'merge' && b.into === id) {
        input.into = cur;
      }
      return input;
    }, action === 'merge');
  }

  dispatch(id: string, responderId: string, actor: Actor, version?: number): Promise<Incident> {
    return this.act(id, 'dispatch', actor, { responderId, version });
  }

  async candidates(id: string, limit?: number): Promise<Candidate[]> {
    const incident = await this.store.get(id);
    if (!incident) throw notFoundErr(id);
    const [workload, positions] = await Promise.all([this.store.workload(), this.store.responderPositions()]);
    return this.dispatcher.rank(incident, { workload, positions, now: this.clock(), limit });
  }

  /**
   * Overdue at clock(): 督办 once per stage, then climb grid→town→city: one level when the stage is overdue by more
   * than its limit again, a second when by more than twice it. Counts only the sweeper's own escalations in the
   * current stage, so a person who de-escalates is not overruled by the next sweep. A failure on one incident
   * does not stop the others; it is listed in `failed`.
   */
  async sweep(): Promise<{ supervised: string[]; escalated: string[]; failed: { id: string; message: string }[] }> {
    const now = this.clock();
    const supervised: string[] = [];
    const escalated: string[] = [];
    const failed: { id: string; message: string }[] = [];
    for (const inc of await this.store.overdue(now)) {
      try {
        for (let step = 0; step < 2 * MAX_RETRIES; step++) {
          const done = await this.sweepStep(inc.id, now);
          if (!done) break;
          const list = done === 'supervise' ? supervised : escalated;
          if (!list.includes(inc.id)) list.push(inc.id);
        }
      } catch (err) {
        failed.push({ id: inc.id, message: err instanceof Error ? err.message : String(err) });
      }
    }
    return { supervised, escalated, failed };
  }

  async get(id: string): Promise<{ incident: Incident; transitions: Transition[]; attachments: Attachment[] } | null> {
    const incident = await this.store.get(id);
    if (!incident) return null;
    const [transitions, attachments] = await Promise.all([this.store.transitions(id), this.store.attachments(id)]);
    return { incident, transitions, attachments };
  }

  /** `overdue` and `secondsLeft` are judged against this service's clock (the store takes it as `now`). */
  async list(f: IncidentFilter): Promise<{ total: number; items: ListedIncident[] }> {
    const now = this.clock();
    const r = await this.store.list(f, now);
    return { total: r.total, items: r.items.map((i) => withClock(i, now)) };
  }

  // ─── internals ────────────────────────────────────────────────────────────────────────────────────

  /**
   * Read, plan, write; on a lost race re-read and re-plan unless the caller pinned the version it saw.
   * `mergeNote`: after a merge, note it on the survivor's timeline (its own versioned write).
   */
  private async apply(id: string, action: IncidentAction, actor: Actor, version: number | undefined,
    input: (cur: Incident) => Promise<PlanInput>, mergeNote = false): Promise<Incident> {
    const pin = version;
    for (let attempt = 0; ; attempt++) {
      const cur = await this.store.get(id);
      if (!cur) throw notFoundErr(id);
      if (pin !== undefined && cur.version !== pin) throw versionConflict(cur, pin);
      const p = plan(cur, action, actor, await input(cur), this.clock());
      if (!p.ok) throw new IncidentError(p.status, p.code, p.message, p.detail);
      try {
        const r = await this.store.update(p.next, cur.version, p.transition);
        this.deps.onChange?.(r.incident, r.transition);
        if (mergeNote && r.incident.mergedInto) await this.noteOnSurvivor(r.incident, actor);
        return r.incident;
      } catch (err) {
        if (err instanceof IncidentNotFound) throw notFoundErr(id);
        if (!(err instanceof VersionConflict)) throw err;
        if (pin !== undefined || attempt >= MAX_RETRIES) throw versionConflict(err.current, cur.version);
      }
    }
  }

  /** The survivor's timeline says what was merged into it; retried on conflict since it must not be lost. */
  private async noteOnSurvivor(merged: Incident, actor: Actor): Promise<void> {
    const into = merged.mergedInto!;
    for (let attempt = 0; attempt <= MAX_RETRIES; attempt++) {
      const cur = await this.store.get(into);
      if (!cur) return;
      const p = plan(cur, 'comment', actor, {
        reason: `合并重复案件 ${merged.code} / merged duplicate ${merged.code}`,
        data: { mergedFrom: merged.id, mergedCode: merged.code },
      }, this.clock());
      if (!p.ok) return;
      try {
        const r = await this.store.update(p.next, cur.version, p.transition);
        this.deps.onChange?.(r.incident, r.transition);
        return;
      } catch (err) {
        if (!(err instanceof VersionConflict)) throw err;
      }
    }
  }

  /** One sweeper action on one incident, or null when nothing is due. */
  private async sweepStep(id: string, now: number, depth = 0): Promise<'supervise' | 'escalate' | null> {
    const cur = await this.store.get(id);
    if (!cur || !OPEN_STATUSES.includes(cur.status) || cur.deadline === null || cur.deadline >= now) return null;
    const stage = STAGE_OF[cur.status]!;
    const limit = stageLimitMs(stage, cur.category, cur.severity);
    const ts = await this.store.transitions(id);
    let entry = -1;
    for (let i = ts.length - 1; i >= 0; i--) if (typeof ts[i].data.deadline === 'number') { entry = i; break; }
    const inStage = ts.slice(entry + 1);
    const supervisedHere = inStage.some((t) => t.action === 'supervise' && t.data.auto === true);
    const escalationsHere = inStage.filter((t) => t.action === 'escalate' && t.data.auto === true).length;
    const overdueMs = now - cur.deadline;
    const dueSteps = overdueMs > 2 * limit ? 2 : overdueMs > limit ? 1 : 0;
    let action: 'supervise' | 'escalate';
    let reason: string;
    const overdueText = formatDuration(overdueMs);
    if (!supervisedHere) {
      action = 'supervise';
      reason = `「${stageTitle(stage)}」超时 ${overdueText}，系统督办 / ${stage} stage overdue by ${Math.round(overdueMs / 60000)} min`;
    } else if (escalationsHere < dueSteps && cur.level !== LEVELS[LEVELS.length - 1]) {
      action = 'escalate';
      reason = `「${stageTitle(stage)}」超时 ${overdueText}（超过时限的 ${escalationsHere + 1} 倍），自动提级 / overdue by more than ${escalationsHere + 1}× the stage limit, escalated`;
    } else {
      return null;
    }
    const p = plan(cur, action, SYSTEM, { reason, data: { auto: true, stage, overdueSeconds: Math.round(overdueMs / 1000) } }, now);
    if (!p.ok) return null;
    try {
      const r = await this.store.update(p.next, cur.version, p.transition);
      this.deps.onChange?.(r.incident, r.transition);
      return action;
    } catch (err) {
      // Someone changed it meanwhile: the caller loops and this re-reads and re-decides.
      if (err instanceof VersionConflict && depth < MAX_RETRIES) return this.sweepStep(id, now, depth + 1);
      throw err;
    }
  }

  private async findDuplicates(inc: Incident, now: number): Promise<Incident[]> {
    // 50 m in degrees at this latitude, padded; the exact test is the haversine distance below.
    const dLat = (DUPLICATE_RADIUS_M / 111_320) * 1.5;
    const dLon = dLat / Math.max(0.1, Math.cos((inc.lat * Math.PI) / 180));
    const since = now - DUPLICATE_WINDOW_MS;
    const r = await this.store.list({
      bbox: [inc.lon - dLon, inc.lat - dLat, inc.lon + dLon, inc.lat + dLat], status: [...OPEN_STATUSES],
      category: inc.category, since, limit: 200,
    });
    return r.items
      .filter((o) => o.id !== inc.id && o.createdAt >= since && o.createdAt <= now && metresBetween(o.lon, o.lat, inc.lon, inc.lat) <= DUPLICATE_RADIUS_M)
      .sort((a, b) => metresBetween(a.lon, a.lat, inc.lon, inc.lat) - metresBetween(b.lon, b.lat, inc.lon, inc.lat));
  }
}

// ─── helpers ───────────────────────────────────────────────────────────────────────────────────────

function versionConflict(current: Incident, expected: number): IncidentError {
  return new IncidentError(409, 'version_conflict',
    `案件 ${current.code} 已被他人修改（您看到的版本 ${expected}，当前版本 ${current.version}），请刷新后重试 / incident changed (you had version ${expected}, now ${current.version}); reload and retry`,
    { current });
}

function withClock(i: Incident, now: number): ListedIncident {
  const open = OPEN_STATUSES.includes(i.status);
  const secondsLeft = open && i.deadline !== null ? Math.round((i.deadline - now) / 1000) : null;
  return { ...i, overdue: secondsLeft !== null && i.deadline! < now, secondsLeft };
}

function stageTitle(stage: string): string {
  return ({ register: '立案', dispatch: '派遣', accept: '接单', handle: '处置', verify: '核查' } as Record<string, string>)[stage] ?? stage;
}

function formatDuration(ms: number): string {
  const min = Math.round(ms / 60000);
  return min < 60 ? `${min} 分钟` : `${Math.floor(min / 60)} 小时 ${min % 60} 分钟`;
}

function dayOf(t: number): string {
  return new Date(t + CHINA_OFFSET_MS).toISOString().slice(0, 10).replaceAll('-', '');
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v ? v : null;
}

/** Great-circle metres (spherical; at 50 m the error against the ellipsoid is millimetres). */
export function metresBetween(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const r = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * r) / 2) ** 2 + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(((lon2 - lon1) * r) / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Stable hash of a report for idempotency: same body and reporter → same hash. */
export function hashRequest(input: unknown, actor: Actor): string {
  return createHash('sha256').update(canonical({ input, actor: actor.id })).digest('hex');
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

function checkActor(actor: Actor): void {
  if (!actor || typeof actor.id !== 'string' || !actor.id.trim()) throw bad('invalid_actor', '缺少操作人（actor.id） / missing actor id');
}

function validateNew(input: CreateInput) {
  if (!input || typeof input !== 'object') throw bad('invalid_input', '请求体须为 JSON 对象 / body must be a JSON object');
  const category = typeof input.category === 'string' ? getIncidentCategory(input.category) : undefined;
  if (!category) {
    throw bad('unknown_category', `未知事件类别「${String(input.category)}」，见 GET /api/incidents/categories / unknown category; see GET /api/incidents/categories`);
  }
  if (typeof input.source !== 'string' || !Object.hasOwn(INCIDENT_SOURCES, input.source)) {
    throw bad('invalid_source', `来源须为 ${Object.keys(INCIDENT_SOURCES).join('、')} 之一 / source must be one of ${Object.keys(INCIDENT_SOURCES).join(', ')}`);
  }
  const title = typeof input.title === 'string' ? input.title.trim() : '';
  if (!title || title.length > MAX_TITLE) throw bad('invalid_title', `标题须为 1–${MAX_TITLE} 个字符 / title must be 1–${MAX_TITLE} characters`);
  const description = input.description === undefined || input.description === null ? '' : input.description;
  if (typeof description !== 'string' || description.length > MAX_DESCRIPTION) {
    throw bad('invalid_description', `描述须为不超过 ${MAX_DESCRIPTION} 字的文本 / description must be text of at most ${MAX_DESCRIPTION} characters`);
  }
  if (input.severity !== undefined && ![1, 2, 3, 4].includes(input.severity as number)) {
    throw bad('invalid_severity', '严重程度须为 1–4 的整数 / severity must be an integer 1–4');
  }
  if (!('addressText' in input)) {
    const { lon, lat } = input as NewIncident;
    if (typeof lon !== 'number' || typeof lat !== 'number' || !Number.isFinite(lon) || !Number.isFinite(lat) || Math.abs(lon) > 180 || Math.abs(lat) > 90) {
      throw bad('invalid_location', '须提供有效的经纬度（lon, lat，WGS84）或地址 / send valid lon and lat (WGS84) or an address');
    }
  }
  const n = input as NewIncident;
  const address = typeof n.address === 'string' && n.address.trim() ? n.address.trim() : null;
  const addressCode = typeof n.addressCode === 'string' && n.addressCode.trim() ? n.addressCode.trim() : null;
  return { category, source: input.source, title, description: description.trim(), severity: input.severity, address, addressCode };
}

function validateBody(body: ActBody): ActBody {
  if (!body || typeof body !== 'object') throw bad('invalid_input', '请求体须为 JSON 对象 / body must be a JSON object');
  const out: ActBody = {};
  if (body.reason !== undefined && body.reason !== null) {
    if (typeof body.reason !== 'string') throw bad('invalid_reason', '理由须为文本 / reason must be a string');
    out.reason = body.reason;
  }
  for (const k of ['responderId', 'into'] as const) {
    const v = body[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' || !v.trim()) throw bad(`invalid_${k === 'into' ? 'into' : 'responder'}`, `${k} 须为非空文本 / ${k} must be a non-empty string`);
    out[k] = v.trim();
  }
  if (body.version !== undefined && body.version !== null) {
    if (!Number.isInteger(body.version) || body.version < 1) throw bad('invalid_version', 'version 须为正整数 / version must be a positive integer');
    out.version = body.version;
  }
  if (body.attachmentIds !== undefined && body.attachmentIds !== null) {
    if (!Array.isArray(body.attachmentIds) || body.attachmentIds.some((a) => typeof a !== 'string')) {
      throw bad('invalid_attachments', 'attachmentIds 须为文本数组 / attachmentIds must be an array of strings');
    }
    out.attachmentIds = body.attachmentIds;
  }
  return out;
}
