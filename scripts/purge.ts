// npm run purge [-- --json]
// Applies every retention rule (layers/governance/retention.ts) once, now, to the stores the server uses — the same
// defaults and variables (DATABASE_URL / INCIDENT_DATABASE_URL / TELEMETRY_DATABASE_URL / AUTH_DATABASE_URL /
// AUDIT_DATABASE_URL / SHARING_DATABASE_URL, else the SQLite files under var/ or ONEMAP_*_FILE) — and records the run in
// the security audit (action `purge`, trigger `script`). For a cron job when the server's own daily purge is off
// (purgeIntervalMs 0), or to purge at once after shortening a period (ONEMAP_RETENTION_<RULE>_DAYS).
// Exit code 1 when a rule failed (a store that exists but could not be purged).
import { parseArgs } from 'node:util';
import { resolveRetention } from '../layers/governance/retention.ts';
import { defaultAuditFile, openSecurityAudit, SecurityAudit } from '../tile-server/auth/audit.ts';
import { DEFAULT_IDLE_MS } from '../tile-server/auth/auth-service.ts';
import { openUserStore } from '../tile-server/auth/user-store.ts';
import { openIncidentStore } from '../tile-server/incidents/incident-store.ts';
import { PurgeService, type PurgeRun } from '../tile-server/lifecycle/purge-service.ts';
import { purgersFor } from '../tile-server/lifecycle/purgers.ts';
import { openPatrolStore } from '../tile-server/patrol.ts';
import { openSharingStore } from '../tile-server/sharing/store.ts';
import { openTimeSeriesStore } from '../tile-server/telemetry/timeseries-store.ts';

const USAGE = `用法 usage: npm run purge [-- --json]
按保留规则立即清理过期数据，并写入安全审计。Applies the retention rules now and records the run in the security audit.
规则与天数 rules (override with ONEMAP_RETENTION_<RULE>_DAYS):`;

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  const rules = resolveRetention(process.env);
  if (values.help) {
    console.log(USAGE);
    for (const r of rules) console.log(`  ${r.id.padEnd(20)} ${String(r.keepDays).padStart(5)} 天 days  ${r.title} ${r.titleEn}${r.source === 'default' ? '' : ` (${r.source})`}`);
    return 0;
  }
  const env = process.env;
  const base = env.DATABASE_URL || null;
  const incidentUrl = env.INCIDENT_DATABASE_URL || base;
  // Opened lazily, each on its own: one store that cannot open must not stop the others' retention.
  const opened: { close(): Promise<void> }[] = [];
  const keep = <T extends { close(): Promise<void> }>(p: Promise<T>): Promise<T> => p.then((s) => { opened.push(s); return s; });
  const once = <T>(f: () => Promise<T>) => { let p: Promise<T> | undefined; return () => (p ??= f()); };
  // No cipher: the purge deletes rows and never reads the encrypted values, so it needs no data key.
  const security = new SecurityAudit(keep(openSecurityAudit({ databaseUrl: env.AUDIT_DATABASE_URL || incidentUrl, file: defaultAuditFile() })),
    (m) => console.error(m));
  const service = new PurgeService({
    rules, clock: Date.now, audit: (e) => security.record(e), log: () => {}, intervalMs: 0,
    purgers: purgersFor({
      incidents: once(() => keep(openIncidentStore({ databaseUrl: incidentUrl, cipher: null }))),
      telemetry: once(() => keep(openTimeSeriesStore({ databaseUrl: env.TELEMETRY_DATABASE_URL || incidentUrl }))),
      patrols: once(() => keep(openPatrolStore({ databaseUrl: incidentUrl }))),
      sessions: once(async () => {
        const idleMin = Number(env.ONEMAP_SESSION_IDLE_MIN);
        return { store: await keep(openUserStore({ databaseUrl: env.AUTH_DATABASE_URL || incidentUrl })), idleMs: idleMin > 0 ? idleMin * 60_000 : DEFAULT_IDLE_MS };
      }),
      sharingUsage: once(() => keep(openSharingStore({ databaseUrl: env.SHARING_DATABASE_URL || incidentUrl }))),
      audit: async () => security,
    }),
  });
  let run: PurgeRun;
  try {
    run = await service.run({ trigger: 'script' });
  } finally {
    await security.close().catch(() => {});
    for (const s of opened) await s.close().catch(() => {});
  }
  if (values.json) {
    console.log(JSON.stringify(run, null, 2));
  } else {
    console.log(`清理时间 ran at ${new Date(run.ranAt).toISOString()}`);
    for (const r of run.results) {
      const what = r.deleted === null ? `✗ ${r.error}` : `删除 deleted ${r.deleted}${r.rows ? ` (${Object.entries(r.rows).map(([k, n]) => `${k} ${n}`).join(', ')})` : ''}`;
      console.log(`  ${r.rule.padEnd(20)} 保留 keep ${String(r.keepDays).padStart(5)} 天 · 早于 before ${new Date(r.cutoff).toISOString()} · ${what}`);
    }
    console.log(`合计删除 total deleted: ${run.total}（已记入安全审计 recorded in the security audit）`);
  }
  return run.results.some((r) => r.error && !r.unavailable) ? 1 : 0;
}

main().then((code) => process.exit(code), (e: Error) => {
  console.error(`✗ ${e.message}`);
  process.exit(1);
});
