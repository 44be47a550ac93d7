import { describe, expect, it } from 'vitest';
import { DAY_MS, resolveRetention } from '../../layers/governance/retention.ts';
import type { NewSecurityEvent } from '../auth/audit.ts';
import { PurgeService } from './purge-service.ts';
import { purgersFor, StoreUnavailable } from './purgers.ts';

const NOW = Date.UTC(2026, 10, 29);

describe('purge service', () => {
  it('runs every rule with its own cutoff, records one audit event with the counts, and carries on past a failure', async () => {
    const seen: Record<string, number> = {};
    const events: NewSecurityEvent[] = [];
    const rules = resolveRetention({ ONEMAP_RETENTION_PATROL_TRACKS_DAYS: '10' });
    const svc = new PurgeService({
      rules, clock: () => NOW, audit: (e) => events.push(e), log: () => {}, intervalMs: 0,
      purgers: {
        patrol_tracks: async (cutoff) => { seen.patrol_tracks = cutoff; return { deleted: 4 }; },
        closed_incidents: async (cutoff) => { seen.closed_incidents = cutoff; return { deleted: 2, rows: { incidents: 2, transitions: 9 } }; },
        security_audit: async () => { throw new Error('disk full'); },
        cleared_alarms: async () => { throw new StoreUnavailable('telemetry is off'); },
      },
    });
    const run = await svc.run({ trigger: 'manual', by: 'admin:admin' });
    expect(seen).toEqual({ patrol_tracks: NOW - 10 * DAY_MS, closed_incidents: NOW - 1095 * DAY_MS });
    const by = Object.fromEntries(run.results.map((r) => [r.rule, r]));
    expect(by.patrol_tracks).toMatchObject({ deleted: 4, keepDays: 10, cutoff: NOW - 10 * DAY_MS });
    expect(by.closed_incidents).toMatchObject({ deleted: 2, rows: { incidents: 2, transitions: 9 } });
    expect(by.security_audit).toMatchObject({ deleted: null, error: 'disk full' });
    expect(by.security_audit.unavailable).toBeUndefined();
    expect(by.cleared_alarms).toMatchObject({ deleted: null, unavailable: true });
    expect(by.sharing_usage).toMatchObject({ deleted: null, unavailable: true }); // no purger given
    expect(run).toMatchObject({ ranAt: NOW, trigger: 'manual', by: 'admin:admin', total: 6 });
    expect(run.results.map((r) => r.rule)).toEqual(rules.map((r) => r.id));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ action: 'purge', actor: 'admin:admin', at: NOW, detail: { trigger: 'manual', total: 6 } });
    expect((events[0].detail as { results: unknown[] }).results).toEqual(run.results);
    expect(svc.lastRuns()[0]).toBe(run);
  });

  it('runs one purge at a time', async () => {
    let active = 0, most = 0;
    const slow = async () => { active++; most = Math.max(most, active); await new Promise((r) => setTimeout(r, 5)); active--; return { deleted: 1 }; };
    const svc = new PurgeService({ rules: resolveRetention({}), clock: () => NOW, log: () => {}, intervalMs: 0, purgers: { patrol_tracks: slow } });
    const runs = await Promise.all([svc.run(), svc.run(), svc.run()]);
    expect(most).toBe(1);
    expect(runs.map((r) => r.total)).toEqual([1, 1, 1]);
    await svc.close();
  });

  it('schedules the next run intervalMs after start, and none with 0', async () => {
    const every = new PurgeService({ rules: resolveRetention({}), clock: () => NOW, log: () => {}, intervalMs: 3_600_000, purgers: {} });
    every.start();
    expect(every.nextRunAt).toBe(NOW + 3_600_000);
    await every.close();
    expect(every.nextRunAt).toBeNull();
    const never = new PurgeService({ rules: resolveRetention({}), clock: () => NOW, log: () => {}, intervalMs: 0, purgers: {} });
    never.start();
    expect(never.nextRunAt).toBeNull();
    await never.close();
    expect(() => new PurgeService({ rules: [], clock: () => NOW, intervalMs: -1, purgers: {} })).toThrow(/purgeIntervalMs/);
  });

  it('judges sessions by the auth clock and keeps them keepDays after they end', async () => {
    const calls: [number, number][] = [];
    const p = purgersFor({ sessions: async () => ({ store: { purgeSessions: async (now, idleBefore) => { calls.push([now, idleBefore]); return 3; } }, idleMs: 1000, clock: () => 50_000 }) });
    expect(await p.expired_sessions!(NOW - 2 * DAY_MS, NOW)).toEqual({ deleted: 3 });
    expect(calls).toEqual([[50_000 - 2 * DAY_MS, 50_000 - 2 * DAY_MS - 1000]]);
    const down = purgersFor({ patrols: () => Promise.reject(new Error('no file')) });
    await expect(down.patrol_tracks!(0, 0)).rejects.toBeInstanceOf(StoreUnavailable);
  });
});
