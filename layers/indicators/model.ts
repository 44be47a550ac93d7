// The city operating indicator system (城市运行指标体系, issue 10 item 4): indicators are data — a name, a meaning,
// a formula over measures (formula.ts), a unit, the levels they are computed at and green/amber/red thresholds —
// so a planner adds one without code. Shared by the server (tile-server/indicators/*) and the client as JSON.
// Areas are the administrative codes of the demo city (GB/T 2260 + 统计用区划代码): city 6 digits, town 9,
// village 12, grid 15; an item belongs to an area when the area's code is a prefix of the item's code.
import { parseFormula, FormulaError } from './formula.ts';

export type IndicatorLevel = 'city' | 'town' | 'village' | 'grid';
export const INDICATOR_LEVELS: readonly IndicatorLevel[] = ['city', 'town', 'village', 'grid'];
export const LEVEL_TITLES: Readonly<Record<IndicatorLevel, string>> = { city: '全市', town: '镇（街道）', village: '村（社区）', grid: '网格' };
/** Code length per level (by prefix: a grid 320581110218005 lies in village 320581110218, town 320581110, city 320581). */
export const CODE_LENGTH: Readonly<Record<IndicatorLevel, number>> = { city: 6, town: 9, village: 12, grid: 15 };

export type IndicatorStatus = 'green' | 'amber' | 'red' | 'none';

export interface IndicatorDef {
  id: string;
  name: string;
  meaning: string;
  formula: string;
  unit: string;
  levels: IndicatorLevel[];
  better: 'lower' | 'higher';
  thresholds: { green: number; red: number };
  decimals: number;
  builtin: boolean;
  createdBy: string | null;
  createdAt: number;
}

export interface IndicatorValue {
  indicator: string;
  level: IndicatorLevel;
  code: string;
  name: string;
  value: number | null;
  status: IndicatorStatus;
}

export const ID_RE = /^[a-z][a-z0-9_]{1,39}$/;
export const MAX_NAME = 40;
export const MAX_MEANING = 500;
export const MAX_UNIT = 16;
/** Custom definitions allowed at once: each one is computed for ~2,400 areas every run. */
export const MAX_CUSTOM = 100;

/**
 * better=lower: value ≤ green → green, value ≥ red → red, else amber; better=higher: ≥ green → green, ≤ red → red.
 * A null value (nothing to measure, or a division by zero) → 'none'.
 */
export function statusOf(def: Pick<IndicatorDef, 'better' | 'thresholds'>, value: number | null): IndicatorStatus {
  if (value === null || !Number.isFinite(value)) return 'none';
  const { green, red } = def.thresholds;
  if (def.better === 'lower') return value <= green ? 'green' : value >= red ? 'red' : 'amber';
  return value >= green ? 'green' : value <= red ? 'red' : 'amber';
}

/** Rounds to the definition's decimals (what is stored and shown). */
export function roundTo(value: number | null, decimals: number): number | null {
  if (value === null || !Number.isFinite(value)) return null;
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

/** An invalid definition: `field` names what is wrong; `position` (0-based) is set for formula errors. */
export class DefinitionError extends Error {
  constructor(readonly code: string, message: string, readonly field: string, readonly position?: number) {
    super(message);
    this.name = 'DefinitionError';
  }
}

export type DefinitionInput = Pick<IndicatorDef, 'name' | 'meaning' | 'formula' | 'unit' | 'levels' | 'better' | 'thresholds' | 'decimals'> & { id: string };

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const FIELDS = ['id', 'name', 'meaning', 'formula', 'unit', 'levels', 'better', 'thresholds', 'decimals'];

/**
 * Validates a definition body (POST; PUT passes `id` from the path). Throws DefinitionError (→ 422) naming the field,
 * with the formula's error position. Unknown fields are refused so a typo (`threshold`) is not silently dropped.
 */
export function parseDefinition(body: unknown, fixedId?: string): DefinitionInput {
  const bad = (code: string, field: string, zh: string, en: string) => new DefinitionError(code, `${zh} ${en}`, field);
  if (!isObj(body)) throw bad('bad_body', 'body', '正文须为 JSON 对象（指标定义）。', 'The body must be a JSON object (an indicator definition).');
  for (const k of Object.keys(body)) {
    if (!FIELDS.includes(k)) throw bad('unknown_field', k.slice(0, 40), `不认识的字段「${k.slice(0, 40)}」；可用：${FIELDS.join(', ')}。`, `Unknown field "${k.slice(0, 40)}"; allowed: ${FIELDS.join(', ')}.`);
  }
  const id = fixedId ?? body.id;
  if (fixedId !== undefined && body.id !== undefined && body.id !== fixedId) throw bad('id_mismatch', 'id', '正文中的 id 与地址中的不同；指标 id 不能修改。', 'The id in the body differs from the one in the path; an indicator id cannot change.');
  if (typeof id !== 'string' || !ID_RE.test(id)) throw bad('bad_id', 'id', 'id 须为 2–40 位小写字母、数字或下划线，以字母开头，如 parks_per_town。', 'id must be 2–40 lower-case letters, digits or _, starting with a letter (e.g. parks_per_town).');
  const text = (field: string, max: number, min = 1): string => {
    const v = body[field];
    if (typeof v !== 'string' || v.trim().length < min || [...v.trim()].length > max) {
      throw bad(`bad_${field}`, field, `${field} 须为 ${min}–${max} 个字符的文字。`, `${field} must be text of ${min}–${max} characters.`);
    }
    return v.trim();
  };
  const name = text('name', MAX_NAME);
  const meaning = text('meaning', MAX_MEANING);
  const unit = typeof body.unit === 'string' && body.unit.trim() === '' ? '' : text('unit', MAX_UNIT);
  if (typeof body.formula !== 'string') throw bad('bad_formula', 'formula', 'formula 须为公式文字，如 features(layer="cameras") / area_km2。', 'formula must be formula text such as features(layer="cameras") / area_km2.');
  const formula = body.formula;
  try {
    parseFormula(formula);
  } catch (e) {
    if (e instanceof FormulaError) throw new DefinitionError(e.code, e.message, 'formula', e.position);
    throw e;
  }
  const levels = body.levels;
  if (!Array.isArray(levels) || levels.length === 0 || levels.some((l) => !(INDICATOR_LEVELS as readonly unknown[]).includes(l)) || new Set(levels).size !== levels.length) {
    throw bad('bad_levels', 'levels', 'levels 须为不重复的 city、town、village、grid 之一或多个。', 'levels must be one or more distinct of city, town, village, grid.');
  }
  if (body.better !== 'lower' && body.better !== 'higher') throw bad('bad_better', 'better', 'better 须为 lower（越低越好）或 higher（越高越好）。', 'better must be lower or higher.');
  const t = body.thresholds;
  if (!isObj(t) || typeof t.green !== 'number' || typeof t.red !== 'number' || !Number.isFinite(t.green) || !Number.isFinite(t.red) || Object.keys(t).some((k) => k !== 'green' && k !== 'red')) {
    throw bad('bad_thresholds', 'thresholds', 'thresholds 须为 {"green": 数值, "red": 数值}。', 'thresholds must be {"green": number, "red": number}.');
  }
  if (body.better === 'lower' ? t.green >= t.red : t.green <= t.red) {
    throw bad('bad_thresholds', 'thresholds', body.better === 'lower' ? '越低越好的指标须 green < red（绿灯阈值低于红灯）。' : '越高越好的指标须 green > red（绿灯阈值高于红灯）。',
      body.better === 'lower' ? 'For better=lower, green must be below red.' : 'For better=higher, green must be above red.');
  }
  const decimals = body.decimals ?? 1;
  if (typeof decimals !== 'number' || !Number.isInteger(decimals) || decimals < 0 || decimals > 4) throw bad('bad_decimals', 'decimals', 'decimals 须为 0–4 的整数。', 'decimals must be an integer 0–4.');
  const order = INDICATOR_LEVELS.filter((l) => (levels as unknown[]).includes(l));
  return { id, name, meaning, formula: formula.trim(), unit, levels: order, better: body.better, thresholds: { green: t.green, red: t.red }, decimals };
}

/** The level of an area code by its length; null for other lengths. */
export function levelOfCode(code: string): IndicatorLevel | null {
  for (const l of INDICATOR_LEVELS) if (code.length === CODE_LENGTH[l]) return l;
  return null;
}
