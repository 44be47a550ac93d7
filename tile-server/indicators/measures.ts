// Measures per area from gathered facts (gather.ts reads the stores; this module only counts, so a test can feed
// it plain rows). Each item carries the most specific area code known for it (grid 15 digits, else village 12,
// else town 9); it counts in every area whose code is a prefix of it — one pass per measure and level, summing
// into the item's code cut to the level's length, instead of testing every item against every area.
import { CODE_LENGTH, INDICATOR_LEVELS, roundTo, statusOf, type IndicatorDef, type IndicatorLevel, type IndicatorValue } from '../../layers/indicators/model.ts';
import { evaluate, parseFormula, type Formula, type MeasureCall } from '../../layers/indicators/formula.ts';

export interface Area { level: IndicatorLevel; code: string; name: string; areaKm2: number | null; population: number | null }

export interface IncidentFact {
  code: string | null; status: string; category: string; createdAt: number; closedAt: number | null;
  /** Sum of the stage limits for its category and severity: closed within it = on time. */
  limitMs: number;
  firstDispatchAt: number | null;
}
export interface DeviceFact { code: string | null; kind: string; reporting: boolean }
/** `health`: raised by a silence or sub-health rule (the device's state), not by what it measured. */
export interface AlarmFact { code: string | null; kind: string; startedAt: number; health: boolean }
export interface CheckInFact { gridCode: string | null; at: number }

export interface Facts {
  now: number;
  /** Every area of every level (city, towns, villages, grids). */
  areas: readonly Area[];
  incidents: readonly IncidentFact[] | null;
  /** null when telemetry is off or unavailable (device and alarm measures are then null). */
  devices: readonly DeviceFact[] | null;
  alarms: readonly AlarmFact[] | null;
  checkins: readonly CheckInFact[] | null;
  /** The area code of each feature of a countable layer (formula.ts COUNTABLE_LAYERS), for the layers the formulas name. */
  features: ReadonlyMap<string, readonly (string | null)[]>;
}

const OPEN = new Set(['reported', 'registered', 'dispatched', 'handling', 'handled']);
const inWindow = (t: number | null, now: number, since: number) => t !== null && t > now - since && t <= now;

/** Per-area values of one measure at one level: a map code → value; missing code → 0 for counts. */
type Measured = { kind: 'count' | 'value'; values: Map<string, number>; unavailable?: boolean };

function bucket(len: number, codes: Iterable<string | null>): Map<string, number> {
  const m = new Map<string, number>();
  for (const c of codes) {
    if (c === null || c.length < len) continue;
    const k = c.slice(0, len);
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

function measureAt(call: MeasureCall, level: IndicatorLevel, f: Facts): Measured {
  const len = CODE_LENGTH[level];
  const since = call.sinceMs ?? 0;
  const none: Measured = { kind: 'value', values: new Map(), unavailable: true };
  switch (call.name) {
    case 'incidents': {
      if (!f.incidents) return none;
      const status = call.args.status ?? 'all', cat = call.args.category;
      const codes = f.incidents.filter((i) => i.status !== 'merged' && inWindow(i.createdAt, f.now, since)
        && (status === 'all' || (status === 'open' ? OPEN.has(i.status) : i.status === 'closed'))
        && (cat === undefined || i.category.startsWith(cat))).map((i) => i.code);
      return { kind: 'count', values: bucket(len, codes) };
    }
    case 'closed':
    case 'closed_on_time': {
      if (!f.incidents) return none;
      const onTime = call.name === 'closed_on_time';
      const codes = f.incidents.filter((i) => i.status === 'closed' && inWindow(i.closedAt, f.now, since)
        && (!onTime || i.closedAt! - i.createdAt <= i.limitMs)).map((i) => i.code);
      return { kind: 'count', values: bucket(len, codes) };
    }
    case 'dispatch_minutes': {
      if (!f.incidents) return none;
      const sum = new Map<string, number>(), n = new Map<string, number>();
      for (const i of f.incidents) {
        if (i.code === null || i.code.length < len || !inWindow(i.firstDispatchAt, f.now, since)) continue;
        const k = i.code.slice(0, len);
        sum.set(k, (sum.get(k) ?? 0) + (i.firstDispatchAt! - i.createdAt) / 60_000);
        n.set(k, (n.get(k) ?? 0) + 1);
      }
      const values = new Map<string, number>();
      for (const [k, s] of sum) values.set(k, s / n.get(k)!);
      return { kind: 'value', values };
    }
    case 'devices':
    case 'devices_online': {
      if (!f.devices) return none;
      const kind = call.args.kind, online = call.name === 'devices_online';
      return { kind: 'count', values: bucket(len, f.devices.filter((d) => (kind === undefined || d.kind === kind) && (!online || d.reporting)).map((d) => d.code)) };
    }
    case 'alarms': {
      if (!f.alarms) return none;
      const kind = call.args.kind, rule = call.args.rule ?? 'value';
      return { kind: 'count', values: bucket(len, f.alarms.filter((a) => (kind === undefined || a.kind === kind) && inWindow(a.startedAt, f.now, since)
        && (rule === 'all' || (rule === 'health') === a.health)).map((a) => a.code)) };
    }
    case 'features': {
      const codes = f.features.get(call.args.layer);
      if (!codes) return none;
      return { kind: 'count', values: bucket(len, codes) };
    }
    case 'population':
    case 'area_km2': {
      const values = new Map<string, number>();
      for (const a of f.areas) {
        if (a.level !== level) continue;
        const v = call.name === 'population' ? a.population : a.areaKm2;
        if (v !== null) values.set(a.code, v);
      }
      return { kind: 'value', values };
    }
    case 'grids':
      return { kind: 'count', values: bucket(len, f.areas.filter((a) => a.level === 'grid').map((a) => a.code)) };
    case 'grids_patrolled': {
      if (!f.checkins) return none;
      const grids = new Set<string>();
      for (const c of f.checkins) if (c.gridCode !== null && inWindow(c.at, f.now, since)) grids.add(c.gridCode);
      return { kind: 'count', values: bucket(len, grids) };
    }
    default:
      return none;
  }
}

const formulas = new Map<string, Formula>();
/** Parsed formulas are kept (definitions are few and formulas short). */
export function formulaOf(text: string): Formula {
  let f = formulas.get(text);
  if (!f) {
    f = parseFormula(text);
    if (formulas.size > 1000) formulas.clear();
    formulas.set(text, f);
  }
  return f;
}

/** Values of `formula` for every area of `level` (area order as in facts.areas). */
export function evaluateAt(formula: Formula, level: IndicatorLevel, f: Facts): { area: Area; value: number | null }[] {
  const measured = new Map<string, Measured>();
  for (const c of formula.calls) if (!measured.has(c.key)) measured.set(c.key, measureAt(c, level, f));
  const out: { area: Area; value: number | null }[] = [];
  for (const area of f.areas) {
    if (area.level !== level) continue;
    const value = evaluate(formula.ast, (call) => {
      const m = measured.get(call.key)!;
      if (m.unavailable) return null;
      const v = m.values.get(area.code);
      return v !== undefined ? v : m.kind === 'count' ? 0 : null;
    });
    out.push({ area, value });
  }
  return out;
}

/** Every definition at every level it names: values rounded to its decimals, with their status. */
export function computeAll(defs: readonly IndicatorDef[], f: Facts): IndicatorValue[] {
  const out: IndicatorValue[] = [];
  for (const def of defs) {
    const formula = formulaOf(def.formula);
    for (const level of INDICATOR_LEVELS) {
      if (!def.levels.includes(level)) continue;
      for (const { area, value } of evaluateAt(formula, level, f)) {
        const v = roundTo(value, def.decimals);
        out.push({ indicator: def.id, level, code: area.code, name: area.name, value: v, status: statusOf(def, v) });
      }
    }
  }
  return out;
}

/** The longest `since` any of the formulas asks for (how far back the gatherer must read). */
export function longestWindow(texts: readonly string[]): number {
  let max = 0;
  for (const t of texts) for (const c of formulaOf(t).calls) max = Math.max(max, c.sinceMs ?? 0);
  return max;
}

/** The countable layers the formulas name (the gatherer reads only those). */
export function layersNamed(texts: readonly string[]): string[] {
  const s = new Set<string>();
  for (const t of texts) for (const c of formulaOf(t).calls) if (c.name === 'features') s.add(c.args.layer);
  return [...s];
}
