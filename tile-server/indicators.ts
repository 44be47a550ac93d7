// The city's operating indicators (城市运行指标) for the command-centre wall, computed from plain inputs so
// the figures can be checked by hand: the wall-api gathers the inputs from the incident store and the
// telemetry engine; this module only counts. Percentiles are nearest-rank (the value below which at least
// p % of the observations lie), so every figure shown is a real dispatch time, never an interpolation.
import { OPEN_STATUSES, type Incident } from '../layers/incidents/model.ts';
import type { HealthSummary } from '../layers/telemetry/model.ts';
import { ALARM_WINDOW_MS, type Indicators, type OpenStatus, type TownRef } from '../layers/wall/model.ts';

export interface IndicatorInput {
  now: number;
  towns: readonly TownRef[];
  /** Open incidents (other statuses are ignored). */
  open: readonly Pick<Incident, 'status' | 'townCode' | 'deadline'>[];
  /** Report → first dispatch, ms, of the incidents first dispatched within the window. */
  dispatchDelaysMs: readonly number[];
  /** Alarms active now or raised/cleared recently; `townCode` is the device's town. */
  alarms: readonly { startedAt: number; status: 'active' | 'cleared'; townCode: string | null }[];
  /** null when telemetry is off. */
  health: Pick<HealthSummary, 'total' | 'online' | 'onlineRate' | 'byKind'> | null;
}

export const UNKNOWN_TOWN: TownRef = { code: '', name: '未知', bbox: null };

/** Nearest-rank percentile of ascending-sorted values (p in (0, 100]); null for none. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
}

/** Town code order, 未知 last among equals. */
function byCode(a: TownRef, b: TownRef): number {
  const ka = a === UNKNOWN_TOWN ? '\uffff' : a.code, kb = b === UNKNOWN_TOWN ? '\uffff' : b.code;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

const minutes = (ms: number | null) => (ms === null ? null : Math.round(ms / 6000) / 10);

export function aggregateIndicators(input: IndicatorInput): Indicators {
  const { now } = input;
  const townOf = new Map(input.towns.map((t) => [t.code, t]));
  const town = (code: string | null): TownRef => (code !== null && townOf.get(code)) || UNKNOWN_TOWN;

  const byStatus = Object.fromEntries(OPEN_STATUSES.map((s) => [s, 0])) as Record<OpenStatus, number>;
  const perTown = new Map<string, { ref: TownRef; open: number; overdue: number }>();
  for (const t of input.towns) perTown.set(t.code, { ref: t, open: 0, overdue: 0 });
  let open = 0, overdue = 0;
  for (const i of input.open) {
    if (!(i.status in byStatus)) continue;
    byStatus[i.status as OpenStatus]++;
    open++;
    const late = i.deadline !== null && i.deadline < now;
    if (late) overdue++;
    const ref = town(i.townCode);
    const e = perTown.get(ref.code) ?? { ref, open: 0, overdue: 0 };
    e.open++;
    if (late) e.overdue++;
    perTown.set(ref.code, e);
  }
  const byTown = [...perTown.values()]
    .filter((e) => e.ref !== UNKNOWN_TOWN || e.open > 0)
    .sort((a, b) => b.open - a.open || byCode(a.ref, b.ref))
    .map((e) => ({ ...e.ref, open: e.open, overdue: e.overdue }));

  const delays = [...input.dispatchDelaysMs].filter((d) => Number.isFinite(d) && d >= 0).sort((a, b) => a - b);

  const since = now - ALARM_WINDOW_MS;
  const alarmTowns = new Map<string, { ref: TownRef; active: number; lastHour: number }>();
  let lastHour = 0, active = 0;
  for (const a of input.alarms) {
    const isActive = a.status === 'active';
    const recent = a.startedAt >= since && a.startedAt <= now;
    if (!isActive && !recent) continue;
    if (isActive) active++;
    if (recent) lastHour++;
    const ref = town(a.townCode);
    const e = alarmTowns.get(ref.code) ?? { ref, active: 0, lastHour: 0 };
    if (isActive) e.active++;
    if (recent) e.lastHour++;
    alarmTowns.set(ref.code, e);
  }
  const alarmsByTown = [...alarmTowns.values()]
    .sort((a, b) => b.active - a.active || b.lastHour - a.lastHour || byCode(a.ref, b.ref))
    .map((e) => ({ ...e.ref, active: e.active, lastHour: e.lastHour }));

  const h = input.health;
  return {
    at: now,
    incidents: {
      open, byStatus, byTown, overdue,
      dispatchCount: delays.length,
      dispatchMedianMin: minutes(percentile(delays, 50)),
      dispatchP90Min: minutes(percentile(delays, 90)),
    },
    alarms: { lastHour, active, byTown: alarmsByTown },
    devices: h
      ? { total: h.total, online: h.online, onlineRate: h.onlineRate, byKind: h.byKind }
      : { total: 0, online: 0, onlineRate: null, byKind: {} },
  };
}
