// The life-cycle routes (issue 10 item 3), admin only (tile-server/auth/policy.ts):
//   GET  /api/lifecycle        → { rules, intervalMs, nextRunAt, lastRuns }
//   POST /api/lifecycle/purge  → PurgeRun (runs every rule now; no body)
// lastRuns come from the security audit (action `purge`), so they survive a restart and include runs of
// scripts/purge.ts; without the audit, the runs of this process.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { cutoffOf, retentionEnvName } from '../../layers/governance/retention.ts';
import type { SecurityAudit } from '../auth/audit.ts';
import { actorOf } from '../auth/request-actor.ts';
import { HttpError, notFound, sendJson } from '../http-errors.ts';
import type { PurgeRun, PurgeService, PurgeTrigger } from './purge-service.ts';

export const LIFECYCLE_ROUTE = 'lifecycle';
export const PURGE_PATH = '/api/lifecycle/purge';
const LAST_RUNS = 10;

export class LifecycleApi {
  constructor(private readonly d: { service: PurgeService; audit?: SecurityAudit; clock: () => number }) {}

  static acceptsPost(path: string): boolean {
    return path === PURGE_PATH;
  }

  async handle(req: IncomingMessage, res: ServerResponse, s: string[], _query: string, head: boolean): Promise<void> {
    if (s.length === 2) {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method_not_allowed', '请用 GET 查看保留规则；立即清理请 POST /api/lifecycle/purge。Use GET; to purge now, POST /api/lifecycle/purge.', { Allow: 'GET, HEAD' });
      return sendJson(res, await this.status(), { head, cacheControl: 'no-store' });
    }
    if (s.length === 3 && s[2] === 'purge') {
      req.resume(); // no body: the rules and their periods are the server's, not the caller's
      if (req.method !== 'POST') throw new HttpError(405, 'method_not_allowed', '立即清理请用 POST。Purge with POST.', { Allow: 'POST' });
      const a = actorOf(req);
      const run = await this.d.service.run({ trigger: 'manual', by: `${a.role}:${a.id}` });
      return sendJson(res, run, { cacheControl: 'no-store' });
    }
    req.resume();
    throw notFound('not_found', '没有这个接口；生命周期接口为 GET /api/lifecycle 与 POST /api/lifecycle/purge。No such route: GET /api/lifecycle, POST /api/lifecycle/purge.');
  }

  private async status() {
    const now = this.d.clock();
    const svc = this.d.service;
    const rules = svc.rules.map((r) => ({
      id: r.id, title: r.title, titleEn: r.titleEn, dataset: r.dataset, keepDays: r.keepDays, defaultDays: r.defaultDays,
      source: r.source, env: retentionEnvName(r.id), since: r.since, deletes: r.deletes, personal: r.personal, cutoff: cutoffOf(r, now),
    }));
    return { rules, intervalMs: svc.intervalMs, nextRunAt: svc.nextRunAt, lastRuns: await this.lastRuns() };
  }

  private async lastRuns(): Promise<PurgeRun[]> {
    const own = () => this.d.service.lastRuns().slice(0, LAST_RUNS);
    if (!this.d.audit) return own();
    const events = await this.d.audit.list({ action: 'purge', limit: LAST_RUNS }).catch(() => null);
    if (!events) return own(); // the audit store did not open (logged at start): this process's runs at least
    return events.map((e) => {
      const d = e.detail as { trigger?: PurgeTrigger; total?: number; results?: PurgeRun['results'] };
      return { ranAt: e.at, trigger: d.trigger ?? 'schedule', by: e.actor === 'system:lifecycle' ? null : e.actor, results: d.results ?? [], total: d.total ?? 0 };
    });
  }
}
