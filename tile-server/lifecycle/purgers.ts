// Which store method carries out which retention rule. The stores are given as getters of promises: in the server
// they open beside the listen and may be unavailable (a rejected promise → that rule reports the error).
import type { IncidentPurge } from '../incidents/incident-store.ts';
import type { Purger } from './purge-service.ts';

export interface PurgeSources {
  telemetry?: () => Promise<{ purgeReadings(before: number): Promise<number>; purgeClearedAlarms(before: number): Promise<number> }>;
  incidents?: () => Promise<{ purgeEndedBefore(cutoff: number): Promise<IncidentPurge> }>;
  patrols?: () => Promise<{ purgeBefore(cutoff: number): Promise<number> }>;
  /** The user store, the idle time after which a session ends (AuthService.idleMs) and the auth clock that wrote the
   *  sessions' times (AuthService.clock; tests run it apart from the server's). */
  sessions?: () => Promise<{ store: { purgeSessions(now: number, idleBefore: number): Promise<number> }; idleMs: number; clock?: () => number }>;
  /** The sharing store's usage log (tile-server/sharing). */
  sharingUsage?: () => Promise<{ purgeUsageBefore(cutoff: number): Promise<number> }>;
  audit?: () => Promise<{ purgeBefore(cutoff: number): Promise<number> }>;
}

/** The store a rule needs did not open in this process (telemetry off, no roads for incidents, …): reported, not a failure. */
export class StoreUnavailable extends Error {
  constructor(message: string) { super(message); this.name = 'StoreUnavailable'; }
}

const opened = <T>(get: () => Promise<T>, what: string) => async (): Promise<T> => {
  try {
    return await get();
  } catch (e) {
    throw new StoreUnavailable(`${what}不可用，未清理：${(e as Error).message}`);
  }
};

export function purgersFor(s: PurgeSources): Partial<Record<string, Purger>> {
  const out: Partial<Record<string, Purger>> = {};
  const count = (n: number) => ({ deleted: n });
  const telemetry = s.telemetry && opened(s.telemetry, '物联存储 telemetry store');
  const incidents = s.incidents && opened(s.incidents, '事件库 incident store');
  const patrols = s.patrols && opened(s.patrols, '巡查库 patrol store');
  const sessions = s.sessions && opened(s.sessions, '用户库 user store');
  const sharingUsage = s.sharingUsage && opened(s.sharingUsage, '共享库 sharing store');
  const audit = s.audit && opened(s.audit, '安全审计库 security audit');
  if (telemetry) {
    out.telemetry_readings = async (cutoff) => count(await (await telemetry()).purgeReadings(cutoff));
    out.cleared_alarms = async (cutoff) => count(await (await telemetry()).purgeClearedAlarms(cutoff));
  }
  if (incidents) {
    out.closed_incidents = async (cutoff) => {
      const rows = await (await incidents()).purgeEndedBefore(cutoff);
      return { deleted: rows.incidents, rows: { ...rows } };
    };
  }
  if (patrols) out.patrol_tracks = async (cutoff) => count(await (await patrols()).purgeBefore(cutoff));
  if (sessions) {
    // keepDays 0: a session ends at its absolute expiry or after idleMs without use; with keepDays > 0 the ended
    // sessions are kept that much longer.
    out.expired_sessions = async (cutoff, now) => {
      const { store, idleMs, clock } = await sessions();
      const t = clock ? clock() - (now - cutoff) : cutoff;
      return count(await store.purgeSessions(t, t - idleMs));
    };
  }
  if (sharingUsage) out.sharing_usage = async (cutoff) => count(await (await sharingUsage()).purgeUsageBefore(cutoff));
  if (audit) out.security_audit = async (cutoff) => count(await (await audit()).purgeBefore(cutoff));
  return out;
}
