// Rules as data (issue 7): validation, and the per-(device, rule) evaluation steps. Pure: no I/O, no clock —
// the engine passes readings and "now" in, holds the small state objects, and turns verdicts into alarms.
// Every rule type has a raise condition and a separate, easier-to-meet-the-other-way clear condition
// (hysteresis), so a value hovering at a threshold does not raise and clear an alarm on every reading.
import { getIncidentCategory } from '../../layers/incident-categories.ts';
import { DEVICE_KINDS, type DeviceKind, type Reading, type Rule, type RuleType } from '../../layers/telemetry/model.ts';

/** What callers may catch: a rule set that does not validate (HTTP 400 `bad_rules`), naming the bad field. */
export class RuleError extends Error {
  constructor(readonly code: string, message: string, readonly path?: string) {
    super(message);
    this.name = 'RuleError';
  }
}

export const RULE_TYPES: readonly RuleType[] = ['threshold', 'rate', 'silence', 'subhealth', 'geofence'];

type ParamSpec = { type: 'number'; min?: number; max?: number; integer?: boolean; required?: boolean } | { type: 'string'; enum: string[]; required?: boolean };
/** Parameters per rule type (model.ts documents their meaning); validation is driven by this table. */
export const RULE_PARAMS: Record<RuleType, Record<string, ParamSpec>> = {
  threshold: { above: { type: 'number' }, below: { type: 'number' }, hysteresis: { type: 'number', min: 0, required: true } },
  rate: {
    perMinute: { type: 'number', min: 0, required: true },
    /** Span over which the rate is measured (s, default 300): consecutive-reading rates are mostly noise. */
    windowSeconds: { type: 'number', min: 1, max: 86_400 },
    direction: { type: 'string', enum: ['up', 'down', 'both'] },
  },
  silence: { intervals: { type: 'number', min: 1, max: 1000, integer: true, required: true }, intervalSeconds: { type: 'number', min: 1, max: 86_400, required: true } },
  subhealth: {
    flapsPerHour: { type: 'number', min: 1, integer: true },
    stuckMinutes: { type: 'number', min: 1 },
    driftPerHour: { type: 'number', min: 0 },
    /** Time constant of the drift regression (h, default 2). */
    driftWindowHours: { type: 'number', min: 0.1, max: 168 },
  },
  geofence: {
    scope: { type: 'string', enum: ['own_grid', 'own_town'], required: true },
    /** Consecutive readings outside before raising (default 2): a patrol on a boundary road would flap. */
    confirm: { type: 'number', min: 1, max: 100, integer: true },
  },
};

const ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;

function bad(path: string, what: string): never {
  throw new RuleError('bad_rules', `规则无效 / invalid rules: ${path} ${what}. Fix this field and send the whole rule set again.`, path);
}

/** Validates a rule set (an array, or `{ rules: [...] }`); returns normalized copies. Throws RuleError. */
export function validateRules(input: unknown): Rule[] {
  const list = Array.isArray(input) ? input : input && typeof input === 'object' && Array.isArray((input as { rules?: unknown }).rules) ? (input as { rules: unknown[] }).rules : null;
  if (!list) bad('rules', 'must be an array of rules (or { "rules": [...] })');
  if (list.length > 10_000) bad('rules', `has ${list.length} entries, at most 10000 are allowed`);
  const seen = new Set<string>();
  return list.map((raw, i) => {
    const at = `rules[${i}]`;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) bad(at, 'must be an object');
    const r = raw as Record<string, unknown>;
    for (const k of Object.keys(r)) if (!['id', 'name', 'kind', 'type', 'severity', 'enabled', 'params', 'incidentCategory'].includes(k)) bad(`${at}.${k}`, 'is not a rule field');
    if (typeof r.id !== 'string' || !ID_RE.test(r.id)) bad(`${at}.id`, 'must be 1–64 characters of A–Z a–z 0–9 _ . -');
    if (seen.has(r.id)) bad(`${at}.id`, `"${r.id}" is used twice; rule ids must be unique`);
    seen.add(r.id);
    if (typeof r.name !== 'string' || !r.name.trim() || r.name.length > 200) bad(`${at}.name`, 'must be a non-empty string of at most 200 characters');
    if (typeof r.kind !== 'string' || !(DEVICE_KINDS as readonly string[]).includes(r.kind)) bad(`${at}.kind`, `must be one of ${DEVICE_KINDS.join(', ')}`);
    if (typeof r.type !== 'string' || !(RULE_TYPES as readonly string[]).includes(r.type)) bad(`${at}.type`, `must be one of ${RULE_TYPES.join(', ')}`);
    const type = r.type as RuleType;
    if (r.severity !== 1 && r.severity !== 2 && r.severity !== 3 && r.severity !== 4) bad(`${at}.severity`, 'must be 1, 2, 3 or 4 (1 = most severe)');
    if (r.enabled !== undefined && typeof r.enabled !== 'boolean') bad(`${at}.enabled`, 'must be true or false');
    if (!r.params || typeof r.params !== 'object' || Array.isArray(r.params)) bad(`${at}.params`, 'must be an object');
    const spec = RULE_PARAMS[type];
    const params: Record<string, number | string> = {};
    for (const [k, v] of Object.entries(r.params as Record<string, unknown>)) {
      const s = spec[k];
      if (!s) bad(`${at}.params.${k}`, `is not a parameter of a ${type} rule (known: ${Object.keys(spec).join(', ')})`);
      if (s.type === 'number') {
        if (typeof v !== 'number' || !Number.isFinite(v)) bad(`${at}.params.${k}`, 'must be a finite number');
        if (s.min !== undefined && v < s.min) bad(`${at}.params.${k}`, `must be at least ${s.min}`);
        if (s.max !== undefined && v > s.max) bad(`${at}.params.${k}`, `must be at most ${s.max}`);
        if (s.integer && !Number.isInteger(v)) bad(`${at}.params.${k}`, 'must be an integer');
      } else if (typeof v !== 'string' || !s.enum.includes(v)) bad(`${at}.params.${k}`, `must be one of ${s.enum.join(', ')}`);
      params[k] = v as number | string;
    }
    for (const [k, s] of Object.entries(spec)) if (s.required && params[k] === undefined) bad(`${at}.params.${k}`, 'is required');
    if (type === 'threshold') {
      if (params.above === undefined && params.below === undefined) bad(`${at}.params`, 'needs "above" or "below"');
      if (params.above !== undefined && params.below !== undefined && (params.below as number) >= (params.above as number)) bad(`${at}.params.below`, 'must be less than "above"');
    }
    if (type === 'subhealth' && params.flapsPerHour === undefined && params.stuckMinutes === undefined && params.driftPerHour === undefined) {
      bad(`${at}.params`, 'needs at least one of flapsPerHour, stuckMinutes, driftPerHour');
    }
    if (type === 'geofence' && r.kind !== 'patrol') bad(`${at}.kind`, 'must be "patrol" for a geofence rule (only patrol units move)');
    let incidentCategory: string | null = null;
    if (r.incidentCategory !== undefined && r.incidentCategory !== null) {
      if (typeof r.incidentCategory !== 'string' || !getIncidentCategory(r.incidentCategory)) bad(`${at}.incidentCategory`, 'must be a code from layers/incident-categories.ts (e.g. "1102") or null');
      incidentCategory = r.incidentCategory;
    }
    return { id: r.id, name: r.name.trim(), kind: r.kind as DeviceKind, type, severity: r.severity, enabled: r.enabled ?? true, params, incidentCategory };
  });
}

// ---------------------------------------------------------------------------------------------------------
// Evaluation. A verdict says what the alarm of this (device, rule) should do: open, count a repeat, or clear.

export type Verdict = { action: 'raise' | 'repeat' | 'clear'; value: number | null; message: string } | null;

export interface ThresholdState { active: boolean }
export interface RateState { active: boolean; anchorTs: number | null; anchorValue: number }
export interface GeofenceState { active: boolean; outside: number }
export interface SubhealthState {
  active: boolean;
  reason: string | null;
  /** Which criteria hold ('flap+stuck+drift' subset): a change of it is a repeat, a change of figures is not. */
  reasonKey: string;
  /** Status flaps (alarm raise/clear, offline/online) in the last hour, oldest first. */
  flaps: number[];
  /** Value run: the value, when it first appeared, how many readings repeated it. */
  runValue: number; runSince: number; runCount: number;
  /** Exponentially weighted least-squares sums of (t hours since t0, value) for the drift slope. */
  t0: number; lastT: number; s0: number; st: number; sv: number; stt: number; stv: number; n: number;
}

export const newThresholdState = (): ThresholdState => ({ active: false });
export const newRateState = (): RateState => ({ active: false, anchorTs: null, anchorValue: 0 });
export const newGeofenceState = (): GeofenceState => ({ active: false, outside: 0 });
export const newSubhealthState = (): SubhealthState => ({
  active: false, reason: null, reasonKey: '', flaps: [], runValue: NaN, runSince: 0, runCount: 0, t0: NaN, lastT: 0, s0: 0, st: 0, sv: 0, stt: 0, stv: 0, n: 0,
});

const num = (p: Rule['params'], k: string): number | undefined => (typeof p[k] === 'number' ? (p[k] as number) : undefined);
const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3)).replace(/\.?0+$/, (m) => (m.includes('.') ? '' : m));

/** Threshold with hysteresis: raise past `above`/`below`; clear only once back by `hysteresis`. */
export function stepThreshold(rule: Rule, st: ThresholdState, value: number, unit = ''): Verdict {
  const above = num(rule.params, 'above');
  const below = num(rule.params, 'below');
  const h = num(rule.params, 'hysteresis') ?? 0;
  const over = above !== undefined && value > above;
  const under = below !== undefined && value < below;
  if (over || under) {
    const msg = `${rule.name}：${fmt(value)}${unit} ${over ? `高于 ${fmt(above!)}` : `低于 ${fmt(below!)}`}${unit}`;
    if (!st.active) { st.active = true; return { action: 'raise', value, message: msg }; }
    return { action: 'repeat', value, message: msg };
  }
  if (!st.active) return null;
  const backAbove = above === undefined || value < above - h;
  const backBelow = below === undefined || value > below + h;
  if (backAbove && backBelow) { st.active = false; return { action: 'clear', value, message: `${rule.name}：已恢复 ${fmt(value)}${unit}` }; }
  return null;
}

/** Rate of change over at least `windowSeconds`: the anchor moves once a window is complete, so the
 *  rate is measured over [window, 2·window) and one noisy reading does not decide it. Clears below half. */
export function stepRate(rule: Rule, st: RateState, ts: number, value: number, unit = ''): Verdict {
  const per = num(rule.params, 'perMinute')!;
  const win = (num(rule.params, 'windowSeconds') ?? 300) * 1000;
  const dir = (rule.params.direction as string | undefined) ?? 'both';
  if (st.anchorTs === null || ts < st.anchorTs) { st.anchorTs = ts; st.anchorValue = value; return null; }
  const dt = ts - st.anchorTs;
  if (dt < win) return null;
  const rate = ((value - st.anchorValue) / dt) * 60_000;
  st.anchorTs = ts;
  st.anchorValue = value;
  const signed = dir === 'up' ? rate : dir === 'down' ? -rate : Math.abs(rate);
  const msg = `${rule.name}：每分钟变化 ${fmt(rate)}${unit}（限值 ${fmt(per)}${unit}）`;
  if (signed > per) {
    if (!st.active) { st.active = true; return { action: 'raise', value, message: msg }; }
    return { action: 'repeat', value, message: msg };
  }
  if (st.active && signed < per / 2) { st.active = false; return { action: 'clear', value, message: `${rule.name}：变化已平缓` }; }
  return null;
}

/** The longest allowed silence of a silence rule, ms. */
export const silenceLimitMs = (rule: Rule): number => (num(rule.params, 'intervals') ?? 1) * (num(rule.params, 'intervalSeconds') ?? 60) * 1000;

/** Silence: offline when nothing was received for intervals × intervalSeconds (server clock: device
 *  clocks drift). `lastReceivedAt` null = never heard from: that is 'unknown', not offline. */
export function checkSilence(rule: Rule, active: boolean, lastReceivedAt: number | null, now: number): Verdict {
  if (lastReceivedAt === null) return null;
  const limit = silenceLimitMs(rule);
  const silent = now - lastReceivedAt > limit;
  if (silent && !active) return { action: 'raise', value: null, message: `${rule.name}：${Math.round((now - lastReceivedAt) / 1000)} 秒未上报（允许 ${limit / 1000} 秒）` };
  if (!silent && active) return { action: 'clear', value: null, message: `${rule.name}：已恢复上报` };
  return null;
}

/** Geofence: `inside` is whether the position lies in the unit's own grid. */
/** Whether a unit whose own grid is `own` is inside its area at grid `here`: the grid itself, or its town
 *  (the first 9 digits of a grid code) for `scope: 'own_town'` — police patrols cover a town, not one grid. */
export function insideScope(rule: Rule, own: string | null, here: string | null): boolean {
  if (here === null || own === null) return false;
  return rule.params.scope === 'own_town' ? here.slice(0, 9) === own.slice(0, 9) : here === own;
}

export function stepGeofence(rule: Rule, st: GeofenceState, inside: boolean, gridHere: string | null): Verdict {
  const confirm = num(rule.params, 'confirm') ?? 2;
  if (inside) {
    st.outside = 0;
    if (st.active) { st.active = false; return { action: 'clear', value: null, message: `${rule.name}：已返回责任区域` }; }
    return null;
  }
  st.outside++;
  const msg = `${rule.name}：离开责任区域${gridHere ? `，现在在网格 ${gridHere}` : '，不在任何网格内'}`;
  if (st.active) return { action: 'repeat', value: null, message: msg };
  if (st.outside >= confirm) { st.active = true; return { action: 'raise', value: null, message: msg }; }
  return null;
}

const HOUR = 3_600_000;

/** Records a status flap of the device (alarm raised or cleared, offline or back) for the flapping check. */
export function noteFlap(st: SubhealthState, at: number): void {
  st.flaps.push(at);
  // Bounded: only the last hour matters, and never more than a few hundred entries.
  while (st.flaps.length > 0 && (st.flaps[0] < at - HOUR || st.flaps.length > 500)) st.flaps.shift();
}

/** Feeds one reading (in device time order) to the stuck and drift trackers. */
export function observeSubhealth(rule: Rule, st: SubhealthState, ts: number, value: number): void {
  if (value === st.runValue) st.runCount++;
  else { st.runValue = value; st.runSince = ts; st.runCount = 1; }
  if (num(rule.params, 'driftPerHour') === undefined) return;
  const tau = num(rule.params, 'driftWindowHours') ?? 2;
  if (Number.isNaN(st.t0)) st.t0 = ts;
  const t = (ts - st.t0) / HOUR;
  // Exponential forgetting keeps O(1) state per device: weights decay with e^(−Δt/τ).
  const w = Math.exp(-Math.max(0, t - st.lastT) / tau);
  st.s0 = st.s0 * w + 1; st.st = st.st * w + t; st.sv = st.sv * w + value; st.stt = st.stt * w + t * t; st.stv = st.stv * w + t * value;
  st.lastT = t;
  st.n++;
}

/** Least-squares slope of value over time (per hour) of the recent readings, or null with too little data. */
export function driftSlope(rule: Rule, st: SubhealthState): number | null {
  const tau = num(rule.params, 'driftWindowHours') ?? 2;
  if (st.n < 6 || st.s0 < 3) return null;
  const den = st.s0 * st.stt - st.st * st.st;
  // Variance of t (hours²) over the window: demand a span of at least ~τ/4 so a burst cannot decide it.
  const varT = den / (st.s0 * st.s0);
  if (!(varT > (tau / 8) ** 2)) return null;
  return (st.s0 * st.stv - st.st * st.sv) / den;
}

/** Sub-health check (on ticks and readings): flapping, stuck value, drift. Clears when no criterion holds
 *  (drift with hysteresis: below half the limit). */
export function checkSubhealth(rule: Rule, st: SubhealthState, now: number, lastTs: number | null, unit = ''): Verdict {
  const p = rule.params;
  // Runs on every reading of every device; the usual answer is "healthy", so the lists are made only when needed.
  let reasons: string[] | null = null;
  let keys: string[] | null = null;
  const flaps = num(p, 'flapsPerHour');
  if (flaps !== undefined) {
    while (st.flaps.length > 0 && st.flaps[0] < now - HOUR) st.flaps.shift();
    if (st.flaps.length >= flaps) { (reasons ??= []).push(`频繁跳变：1 小时内 ${st.flaps.length} 次`); (keys ??= []).push('flap'); }
  }
  const stuck = num(p, 'stuckMinutes');
  if (stuck !== undefined && lastTs !== null && st.runCount >= 3 && lastTs - st.runSince >= stuck * 60_000) {
    (reasons ??= []).push(`数值卡滞：${Math.round((lastTs - st.runSince) / 60_000)} 分钟恒为 ${fmt(st.runValue)}${unit}`);
    (keys ??= []).push('stuck');
  }
  const drift = num(p, 'driftPerHour');
  if (drift !== undefined) {
    const slope = driftSlope(rule, st);
    const limit = st.active && st.reasonKey.includes('drift') ? drift / 2 : drift;
    if (slope !== null && Math.abs(slope) > limit) { (reasons ??= []).push(`漂移：每小时 ${fmt(slope)}${unit}`); (keys ??= []).push('drift'); }
  }
  if (reasons !== null) {
    const reason = reasons.join('；');
    const was = st.active;
    const key = keys!.join('+');
    // Re-checked on every tick: only a change of criterion is news, not that it still holds.
    st.reason = reason;
    if (was && st.reasonKey === key) return null;
    st.active = true;
    st.reasonKey = key;
    return { action: was ? 'repeat' : 'raise', value: Number.isNaN(st.runValue) ? null : st.runValue, message: `${rule.name}：${reason}` };
  }
  if (st.active) { st.active = false; st.reason = null; st.reasonKey = ''; return { action: 'clear', value: null, message: `${rule.name}：已恢复正常` }; }
  return null;
}

/** The rules that apply to a device kind (enabled ones, in rule-set order). */
export function rulesForKind(rules: readonly Rule[], kind: DeviceKind): Rule[] {
  return rules.filter((r) => r.enabled && r.kind === kind);
}

/** A reading's position, when it has one. */
export const positionOf = (r: Reading): [number, number] | null => (Number.isFinite(r.lon) && Number.isFinite(r.lat) ? [r.lon!, r.lat!] : null);
