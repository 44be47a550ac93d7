// The purge service and its API as the server opens them: the rules from the environment, the purgers from the stores.
import { resolveRetention } from '../../layers/governance/retention.ts';
import type { SecurityAudit } from '../auth/audit.ts';
import { LifecycleApi } from './api.ts';
import { PurgeService } from './purge-service.ts';
import { purgersFor, type PurgeSources } from './purgers.ts';

export interface Lifecycle { service: PurgeService; api: LifecycleApi }

/** Throws (naming the variable) when an ONEMAP_RETENTION_*_DAYS value is not a whole number of days. */
export function openLifecycle(o: {
  sources: PurgeSources; clock: () => number; security?: SecurityAudit; log?: (m: string) => void;
  /** 0 = no schedule and no run at start. Default 24 h. */
  intervalMs?: number;
  env?: Readonly<Record<string, string | undefined>>;
}): Lifecycle {
  const service = new PurgeService({
    rules: resolveRetention(o.env ?? process.env), purgers: purgersFor(o.sources), clock: o.clock,
    audit: o.security ? (e) => o.security!.record(e) : undefined, log: o.log, intervalMs: o.intervalMs,
  });
  return { service, api: new LifecycleApi({ service, audit: o.security, clock: o.clock }) };
}
