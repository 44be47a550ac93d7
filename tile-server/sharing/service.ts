// The sharing service (issue 10): requests for graded layers, their approval, refusal, revocation and feedback,
// and the grants in force as a GrantSource for every route that serves a layer (tile-server/personal-data.ts).
//
// Grants are answered from memory, synchronously: every request to a graded layer asks, so a database round trip
// there would cost every map pan. Memory is kept in step because every change goes through this service (one
// server process per store, like the incident store); changes are serialised, written to the store first, and
// only then applied in memory — a failed write changes nothing.
// Expiry is by the server's clock (ServerOptions.clock): activeGrants never returns a grant whose expiresAt ≤ now,
// whatever the timers do. A 1-s tick also tells onChange listeners (the live feed) when a grant has expired, and
// writes the buffered usage log.
import { randomBytes } from 'node:crypto';
import { getLayer } from '../../layers/catalog.ts';
import { layerAccess } from '../../layers/governance/access.ts';
import { governanceOf } from '../../layers/governance/grades.ts';
import { GRADE_INFO, type Grant, type GrantSource, type GrantUse, type RequestStatus } from '../../layers/governance/model.ts';
import type { NewSecurityEvent } from '../auth/audit.ts';
import { HttpError, notFound } from '../http-errors.ts';
import {
  approveRefusal, DAY_MS, isApprover, MAX_FEEDBACK, narrow, neededApprovals, notApprover, notPending, statusAt, viewOf,
  type Narrowing, type SharingActor, type SharingRequest, type StoredRequest,
} from './model.ts';
import { openSharingStore, type SharingStore } from './store.ts';

export interface SharingOpenOptions {
  databaseUrl?: string | null;
  file?: string;
  /** PostgreSQL schema (default `sharing`; tests use their own). */
  schema?: string;
  clock: () => number;
  log: (m: string) => void;
  audit?: (e: NewSecurityEvent) => void;
  /** How often buffered uses are written and expiries announced (ms, default 1000; 0 = only on flush()/close()). */
  tickMs?: number;
}

/** A new request as the API validated it. */
export interface NewRequest { purpose: string; fields: string[] | null; areas: string[] | null; days: number }

const USAGE_LIMIT = 200;

function fail(r: { status: number; code: string; message: string }): HttpError {
  return new HttpError(r.status, r.code, r.message);
}

export class SharingService implements GrantSource {
  /** Requests by id, and approved ones by grantee (the grants, with expired ones filtered at read time). */
  private readonly byId = new Map<string, StoredRequest>();
  private readonly grants = new Map<string, Grant[]>();
  private readonly listeners = new Set<(usernames: string[]) => void>();
  private buffer: GrantUse[] = [];
  private writing: Promise<void> = Promise.resolve();
  private queue: Promise<unknown> = Promise.resolve();
  /** Approved grants whose expiry was announced to onChange listeners. */
  private readonly announced = new Set<string>();
  private readonly timer: NodeJS.Timeout | undefined;
  private closed = false;
  readonly clock: () => number;
  private readonly log: (m: string) => void;
  private readonly audit: (e: NewSecurityEvent) => void;

  private constructor(readonly store: SharingStore, rows: StoredRequest[], o: SharingOpenOptions) {
    this.clock = o.clock;
    this.log = o.log;
    this.audit = o.audit ?? (() => {});
    const now = this.clock();
    for (const r of rows) {
      if (!getLayer(r.layer)) { this.log(`数据共享：申请 ${r.id} 的图层 ${r.layer} 已不在目录中，忽略 sharing request ${r.id}: layer ${r.layer} is no longer in the catalog`); continue; }
      this.byId.set(r.id, r);
      if (statusAt(r, now) === 'expired') this.announced.add(r.id);
    }
    this.rebuildGrants();
    const every = o.tickMs ?? 1000;
    if (every > 0) {
      this.timer = setInterval(() => this.tick(), every);
      this.timer.unref();
    }
  }

  static async open(o: SharingOpenOptions): Promise<SharingService> {
    const store = await openSharingStore({ databaseUrl: o.databaseUrl, file: o.file, schema: o.schema });
    try {
      return new SharingService(store, await store.all(), o);
    } catch (e) {
      await store.close().catch(() => {});
      throw e;
    }
  }

  // ---------------------------------------------------------------------------------------- GrantSource

  activeGrants(username: string, now: number): readonly Grant[] {
    const list = this.grants.get(username);
    if (!list) return [];
    return list.filter((g) => g.expiresAt > now);
  }

  recordUse(use: GrantUse): void {
    try {
      if (this.closed) return;
      this.buffer.push({ ...use });
      const r = this.byId.get(use.grantId);
      if (r) { r.uses++; r.lastUsedAt = Math.max(r.lastUsedAt ?? 0, use.at); }
      if (this.buffer.length >= 1000) void this.flush();
    } catch (e) {
      this.log(`数据共享：使用记录失败 could not record a grant use: ${(e as Error).message}`);
    }
  }

  onChange(fn: (usernames: string[]) => void): () => void {
    this.listeners.add(fn);
    return () => { this.listeners.delete(fn); };
  }

  /** Writes the buffered uses now (the tick does it every second). */
  flush(): Promise<void> {
    const batch = this.buffer;
    if (!batch.length) return this.writing;
    this.buffer = [];
    this.writing = this.writing.then(() => this.store.appendUses(batch)).catch((e: Error) => {
      this.log(`数据共享：${batch.length} 条使用记录未能写入 could not write ${batch.length} grant uses: ${e.message}`);
    });
    return this.writing;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    await this.queue.catch(() => {});
    await this.flush();
    this.closed = true;
    this.listeners.clear();
    await this.store.close();
  }

  // ---------------------------------------------------------------------------------------- the process

  /** POST /api/catalog/{layer}/requests. */
  request(actor: SharingActor, layer: string, body: NewRequest, ip: string | null = null): Promise<SharingRequest> {
    return this.serial(async () => {
      const def = getLayer(layer);
      if (!def) throw notFound('unknown_layer', `没有图层 ${layer.slice(0, 64)}。No layer "${layer.slice(0, 64)}".`);
      const grade = governanceOf(def).grade;
      const now = this.clock();
      if (GRADE_INFO[grade].approvals === 0) {
        throw new HttpError(409, 'no_request_needed', `图层「${def.title}」为${GRADE_INFO[grade].title}数据，登录即可使用，无需申请。Layer ${layer} is ${grade}: no request is needed.`);
      }
      const access = layerAccess({ id: actor.id, role: actor.role, department: actor.department }, def, [], now);
      if (access.kind === 'full') {
        throw new HttpError(409, 'no_request_needed', `您已可完整使用图层「${def.title}」（${access.via === 'owner' ? '数据所有部门' : access.via === 'standing' ? '岗位常设权限' : access.via === 'admin' ? '管理员' : '数据等级'}），无需申请。You already see layer ${layer} in full (${access.via}): no request is needed.`);
      }
      if (access.kind === 'none' && access.code === 'layer_forbidden') throw new HttpError(403, 'layer_forbidden', access.message);
      const open = [...this.byId.values()].find((r) => r.requester === actor.id && r.layer === layer && ['pending', 'approving'].includes(statusAt(r, now)));
      if (open) {
        throw new HttpError(409, 'request_pending', `您对图层「${def.title}」已有一份待审批的申请（${open.id}）；请等待审批结果。You have a request for ${layer} awaiting approval already (${open.id}).`);
      }
      const r: StoredRequest = {
        id: newId(now), layer, requester: actor.id, requesterName: actor.name ?? actor.id, requesterDepartment: actor.department ?? null,
        purpose: body.purpose, fields: body.fields, areas: body.areas, days: body.days, status: 'pending', createdAt: now, updatedAt: now,
        approvals: [], proposed: null, scope: null, decision: null, feedback: [], uses: 0, lastUsedAt: null,
      };
      await this.store.insert(r);
      this.byId.set(r.id, r);
      this.audit({ action: 'share_request', actor: `${actor.role}:${actor.id}`, target: `layer:${layer}`, ip, at: now,
        detail: { request: r.id, fields: r.fields, areas: r.areas, days: r.days } });
      return viewOf(r, actor, now);
    });
  }

  /** GET /api/sharing?box=: the viewer's requests (mine), those they decide (inbox), or all (admin). Newest first. */
  list(actor: SharingActor, box: 'mine' | 'inbox' | 'all', status: RequestStatus | null): SharingRequest[] {
    if (box === 'all' && actor.role !== 'admin') throw new HttpError(403, 'forbidden', 'box=all 仅限管理员；请用 box=mine 或 box=inbox。box=all is for admins: use box=mine or box=inbox.');
    const now = this.clock();
    const keep = (r: StoredRequest) => box === 'all' ? true : box === 'mine' ? r.requester === actor.id : r.requester !== actor.id && isApprover(actor, r.layer);
    return [...this.byId.values()]
      .filter((r) => keep(r) && (status === null || statusAt(r, now) === status))
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))
      .map((r) => viewOf(r, actor, now));
  }

  /** GET /api/sharing/{id}: the request and its latest uses (requester, its approvers, admin). */
  async get(actor: SharingActor, id: string): Promise<{ request: SharingRequest; usage: GrantUse[] }> {
    const r = this.visible(actor, id);
    await this.flush();
    const usage = r.scope ? await this.store.usage(r.id, USAGE_LIMIT) : [];
    return { request: viewOf(r, actor, this.clock()), usage };
  }

  approve(actor: SharingActor, id: string, n: Narrowing, ip: string | null = null): Promise<SharingRequest> {
    return this.serial(async () => {
      const r = this.find(id);
      const now = this.clock();
      const no = approveRefusal(actor, r, now);
      if (no) throw fail(no);
      const proposal = narrow(r, n);
      if ('code' in proposal) throw new HttpError(400, proposal.code, proposal.message);
      const approvals = [...r.approvals, { by: actor.id, name: actor.name ?? actor.id, role: actor.role, department: actor.department ?? null, at: now }];
      const final = approvals.length >= neededApprovals(r.layer);
      const next: StoredRequest = {
        ...r, approvals, proposed: proposal, updatedAt: now, status: final ? 'approved' : 'approving',
        scope: final ? { fields: proposal.fields, areas: proposal.areas, expiresAt: now + proposal.days * DAY_MS } : null,
      };
      await this.store.update(next);
      this.apply(next);
      this.audit({ action: 'share_approve', actor: `${actor.role}:${actor.id}`, target: `layer:${r.layer}`, ip, at: now,
        detail: { request: r.id, grantee: r.requester, final, approvals: approvals.length, scope: proposal, ...(next.scope ? { expiresAt: next.scope.expiresAt } : {}) } });
      if (final) this.changed([r.requester]);
      return viewOf(next, actor, now);
    });
  }

  refuse(actor: SharingActor, id: string, reason: string, ip: string | null = null): Promise<SharingRequest> {
    return this.serial(async () => {
      const r = this.find(id);
      const now = this.clock();
      if (actor.id === r.requester) throw new HttpError(403, 'own_request', '不能拒绝自己提交的申请（可等待其自然处理）。You cannot refuse your own request.');
      if (!isApprover(actor, r.layer)) throw fail(notApprover(r.layer));
      const st = statusAt(r, now);
      if (st !== 'pending' && st !== 'approving') throw fail(notPending(st));
      const next: StoredRequest = { ...r, status: 'refused', updatedAt: now, decision: { action: 'refuse', by: actor.id, at: now, reason } };
      await this.store.update(next);
      this.apply(next);
      this.audit({ action: 'share_refuse', actor: `${actor.role}:${actor.id}`, target: `layer:${r.layer}`, reason, ip, at: now, detail: { request: r.id, grantee: r.requester } });
      return viewOf(next, actor, now);
    });
  }

  revoke(actor: SharingActor, id: string, reason: string, ip: string | null = null): Promise<SharingRequest> {
    return this.serial(async () => {
      const r = this.find(id);
      const now = this.clock();
      if (!isApprover(actor, r.layer)) throw fail(notApprover(r.layer));
      const st = statusAt(r, now);
      if (st !== 'approved') {
        throw new HttpError(409, 'not_in_force', `只有生效中的授权可以撤销；此申请为「${st}」。Only a grant in force can be revoked; this request is ${st}.`);
      }
      const next: StoredRequest = { ...r, status: 'revoked', updatedAt: now, decision: { action: 'revoke', by: actor.id, at: now, reason } };
      await this.store.update(next);
      this.apply(next);
      this.audit({ action: 'share_revoke', actor: `${actor.role}:${actor.id}`, target: `layer:${r.layer}`, reason, ip, at: now, detail: { request: r.id, grantee: r.requester } });
      this.changed([r.requester]);
      return viewOf(next, actor, now);
    });
  }

  feedback(actor: SharingActor, id: string, rating: number | null, text: string): Promise<SharingRequest> {
    return this.serial(async () => {
      const r = this.find(id);
      const now = this.clock();
      if (actor.id !== r.requester) throw new HttpError(403, 'not_requester', '只有申请人可以对数据使用提出反馈。Only the requester gives feedback on a grant.');
      if (!r.scope) throw new HttpError(409, 'not_approved', '申请获批后才能反馈使用情况。Feedback comes after the request is approved.');
      if (r.feedback.length >= MAX_FEEDBACK) throw new HttpError(409, 'too_much_feedback', `每份申请最多 ${MAX_FEEDBACK} 条反馈。At most ${MAX_FEEDBACK} feedback entries per request.`);
      const next: StoredRequest = { ...r, updatedAt: now, feedback: [...r.feedback, { at: now, rating, text }] };
      await this.store.update(next);
      this.apply(next);
      return viewOf(next, actor, now);
    });
  }

  /** The layer a request is for (ids are not secret from their layer; the rights are checked by each action). */
  layerOf(id: string): string | null {
    return this.byId.get(id)?.layer ?? null;
  }

  // ---------------------------------------------------------------------------------------- internals

  private find(id: string): StoredRequest {
    const r = this.byId.get(id);
    if (!r) throw notFound('unknown_request', `没有共享申请 ${id.slice(0, 64)}。No sharing request "${id.slice(0, 64)}".`);
    return r;
  }

  private visible(actor: SharingActor, id: string): StoredRequest {
    const r = this.find(id);
    if (r.requester !== actor.id && !isApprover(actor, r.layer)) {
      throw new HttpError(403, 'forbidden', '只有申请人、该图层的审批人与管理员可以查看此申请。Only the requester, the layer\'s approvers and admins may see this request.');
    }
    return r;
  }

  /** Runs changes one at a time: two approvers at once must not both be "the first". */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(() => {
      if (this.closed) throw new HttpError(503, 'sharing_unavailable', '数据共享服务已关闭。The sharing service is closed.');
      return fn();
    });
    this.queue = p.catch(() => {});
    return p;
  }

  /** The stored row changed: memory follows (uses stay as counted in memory, which includes the buffered ones). */
  private apply(next: StoredRequest): void {
    const old = this.byId.get(next.id);
    this.byId.set(next.id, { ...next, uses: old?.uses ?? next.uses, lastUsedAt: old?.lastUsedAt ?? next.lastUsedAt });
    this.rebuildGrants();
  }

  private rebuildGrants(): void {
    this.grants.clear();
    for (const r of this.byId.values()) {
      if (r.status !== 'approved' || !r.scope) continue;
      const g: Grant = { id: r.id, layer: r.layer, grantee: r.requester, fields: r.scope.fields, areas: r.scope.areas, expiresAt: r.scope.expiresAt };
      const list = this.grants.get(r.requester);
      if (list) list.push(g); else this.grants.set(r.requester, [g]);
    }
  }

  private changed(usernames: string[]): void {
    for (const fn of this.listeners) {
      try { fn(usernames); } catch (e) { this.log(`数据共享：变更通知失败 onChange listener failed: ${(e as Error).message}`); }
    }
  }

  /** Every second: write the usage log, and tell listeners about grants that expired since. */
  private tick(): void {
    void this.flush();
    const now = this.clock();
    const expired: string[] = [];
    for (const r of this.byId.values()) {
      if (r.status === 'approved' && r.scope && r.scope.expiresAt <= now && !this.announced.has(r.id)) {
        this.announced.add(r.id);
        expired.push(r.requester);
      }
    }
    if (expired.length) this.changed([...new Set(expired)]);
  }
}

/** `sr-YYYYMMDD-xxxxxxxx`: sortable by day, unguessable enough that ids do not enumerate each other's requests. */
function newId(now: number): string {
  return `sr-${new Date(now).toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(4).toString('hex')}`;
}
