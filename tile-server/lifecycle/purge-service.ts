// The purge (销毁, issue 10 item 3): applies every retention rule (layers/governance/retention.ts) to its store —
// really deleting the rows — at start, then on a schedule (ServerOptions.purgeIntervalMs, default daily), and when an
// admin asks (POST /api/lifecycle/purge) or the script runs (scripts/purge.ts). Each run is one security-audit event
// `purge` whose detail lists per rule the cutoff and the rows deleted (and the error of a rule whose store failed:
// one store down must not stop the others' retention).
import { cutoffOf, type ResolvedRule } from '../../layers/governance/retention.ts';
import type { NewSecurityEvent } from '../auth/audit.ts';

/** Deletes a rule's data older than `cutoff`; `now` is the run's time (sessions compare expiry with it). */
export type Purger = (cutoff: number, now: number) => Promise<{ deleted: number; rows?: Record<string, number> }>;

export type PurgeTrigger = 'start' | 'schedule' | 'manual' | 'script';

export interface PurgeResult {
  rule: string;
  title: string;
  keepDays: number;
  /** Data older than this instant (ms) was deleted. */
  cutoff: number;
  /** Rows deleted (the rule's main rows, e.g. incidents); null when the rule could not run (`error` says why). */
  deleted: number | null;
  /** Rows deleted per table, when a rule deletes from several (closed incidents: transitions, attachments, …). */
  rows?: Record<string, number>;
  error?: string;
  /** The rule's store is not open in this process (telemetry off, …): not run, and not a failure. */
  unavailable?: boolean;
}

export interface PurgeRun {
  ranAt: number;
  trigger: PurgeTrigger;
  /** `role:id` of the admin who asked, else null. */
  by: string | null;
  results: PurgeResult[];
  /** Sum of `deleted` over the rules that ran. */
  total: number;
}

export interface PurgeServiceOptions {
  rules: readonly ResolvedRule[];
  /** By rule id; a rule without one is reported as not run (its store is not open in this process). */
  purgers: Partial<Record<string, Purger>>;
  clock: () => number;
  /** Where the run is recorded (SecurityAudit.record). */
  audit?: (e: NewSecurityEvent) => void;
  log?: (m: string) => void;
  /** Between scheduled runs, ms; 0 = no schedule. Default 24 h. */
  intervalMs?: number;
}

export const DEFAULT_PURGE_INTERVAL_MS = 86_400_000;
const KEEP_RUNS = 20;

export class PurgeService {
  readonly rules: readonly ResolvedRule[];
  readonly intervalMs: number;
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private next: number | null = null;
  private closed = false;
  private readonly runs: PurgeRun[] = [];

  constructor(private readonly o: PurgeServiceOptions) {
    this.rules = o.rules;
    this.intervalMs = o.intervalMs ?? DEFAULT_PURGE_INTERVAL_MS;
    if (!(this.intervalMs >= 0) || !Number.isFinite(this.intervalMs)) throw new Error(`purgeIntervalMs must be ≥ 0 (0 = never), got ${o.intervalMs}`);
  }

  /** Runs every rule once now (after any run in progress) and records the run in the security audit. */
  run(opts: { trigger?: PurgeTrigger; by?: string | null } = {}): Promise<PurgeRun> {
    const p = this.chain.then(() => this.runNow(opts.trigger ?? 'manual', opts.by ?? null));
    this.chain = p.catch(() => {});
    return p;
  }

  /** A run now (trigger 'start'), then one every intervalMs (none when it is 0). */
  start(): void {
    if (this.closed) return;
    this.run({ trigger: 'start' }).catch((e: Error) => this.log(`清理失败 purge failed: ${e.message}`));
    this.schedule();
  }

  /** When the next scheduled run is due (by the service's clock), or null. */
  get nextRunAt(): number | null { return this.next; }

  /** The runs of this process, newest first. */
  lastRuns(): PurgeRun[] { return [...this.runs]; }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.next = null;
    await this.chain;
  }

  private schedule(): void {
    if (this.closed || this.intervalMs === 0) return;
    this.next = this.o.clock() + this.intervalMs;
    this.timer = setTimeout(() => {
      this.run({ trigger: 'schedule' }).catch((e: Error) => this.log(`清理失败 purge failed: ${e.message}`)).finally(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }

  private log(m: string): void { (this.o.log ?? ((x: string) => console.error(`[lifecycle] ${x}`)))(m); }

  private async runNow(trigger: PurgeTrigger, by: string | null): Promise<PurgeRun> {
    const ranAt = this.o.clock();
    const results: PurgeResult[] = [];
    for (const rule of this.rules) {
      const cutoff = cutoffOf(rule, ranAt);
      const base = { rule: rule.id, title: rule.title, keepDays: rule.keepDays, cutoff };
      const purge = this.o.purgers[rule.id];
      if (!purge) {
        results.push({ ...base, deleted: null, unavailable: true, error: `${rule.title}的存储未在本进程打开，未清理。The ${rule.titleEn.toLowerCase()} store is not open in this process; not purged.` });
        continue;
      }
      try {
        const r = await purge(cutoff, ranAt);
        results.push({ ...base, deleted: r.deleted, ...(r.rows ? { rows: r.rows } : {}) });
      } catch (e) {
        const unavailable = (e as Error).name === 'StoreUnavailable';
        results.push({ ...base, deleted: null, error: (e as Error).message, ...(unavailable ? { unavailable } : {}) });
      }
    }
    const run: PurgeRun = { ranAt, trigger, by, results, total: results.reduce((s, r) => s + (r.deleted ?? 0), 0) };
    this.runs.unshift(run);
    this.runs.length = Math.min(this.runs.length, KEEP_RUNS);
    this.o.audit?.({
      at: ranAt, action: 'purge', actor: by ?? 'system:lifecycle', target: 'retention',
      detail: { trigger, total: run.total, results: run.results },
    });
    const failed = results.filter((r) => r.error && !r.unavailable);
    const done = results.filter((r) => r.deleted).map((r) => `${r.rule} ${r.deleted}`);
    // A run that found nothing is in the audit; the log (read by people) only hears of deletions and failures.
    if (done.length || failed.length) {
      this.log(`清理 purge (${trigger}): ${done.length ? done.join(', ') : 'nothing deleted'}${failed.length ? `; failed: ${failed.map((r) => `${r.rule}: ${r.error}`).join('; ')}` : ''}`);
    }
    return run;
  }
}
