// Attribute and time filters, checked against the catalog and compiled to a row test. Semantics match the
// SQL the PostGIS store runs: an absent (NULL) value fails every condition, 'ne' included (NULL <> x is not
// true); strings compare by code unit (= COLLATE "C" for text without astral characters); 'prefix' and
// 'contains' are case-sensitive; datetime values compare as instants, so any ISO 8601 form is accepted.
import type { FieldDef, LayerDef } from '../catalog.ts';
import type { FilterOp } from './types.ts';

/** Bad query input; the HTTP API turns it into a 400 with this code. */
export class QueryInputError extends Error {
  override readonly name = 'QueryInputError';
  constructor(readonly code: string, message: string) { super(message); }
}

export interface RowFilter {
  /** Catalog fields the filter reads. */
  readonly fields: readonly string[];
  /** True when the row passes. `value(field)` gives the row's value (undefined when absent); datetime fields
   *  may be given as ISO text or as ms since epoch. */
  test(value: (field: string) => unknown): boolean;
  /** The same over a properties object. */
  matches(props: Record<string, unknown>): boolean;
}

const OPS: readonly FilterOp[] = ['eq', 'ne', 'in', 'lt', 'le', 'gt', 'ge', 'prefix', 'contains'];
const MAX_IN = 1000;

function bad(message: string): QueryInputError {
  return new QueryInputError('bad_filter', message);
}

/** ms since epoch of an ISO 8601 date-time, or NaN. Dates without a zone are rejected (ambiguous). */
export function parseTime(s: unknown): number {
  if (typeof s !== 'string' || !/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}))?$/.test(s)) return NaN;
  return Date.parse(s);
}

function timeOf(v: unknown): number {
  return typeof v === 'number' ? v : parseTime(v);
}

type Test = (v: unknown) => boolean;

function compileOne(def: LayerDef, f: unknown, i: number): { field: string; test: Test } {
  if (typeof f !== 'object' || f === null) throw bad(`过滤条件 ${i} 必须是 {field, op, value} 对象。 Filter ${i} must be an object {field, op, value}.`);
  const { field, op, value } = f as { field?: unknown; op?: unknown; value?: unknown };
  const fd: FieldDef | undefined = def.fields.find((x) => x.name === field);
  if (!fd) {
    throw bad(`图层 ${def.id} 没有字段 ${JSON.stringify(field)}；可用字段：${def.fields.map((x) => x.name).join(', ')}。 Unknown field for layer ${def.id}.`);
  }
  if (typeof op !== 'string' || !OPS.includes(op as FilterOp)) {
    throw bad(`不支持的运算符 ${JSON.stringify(op)}；可用：${OPS.join(', ')}。 Unknown filter op.`);
  }
  const where = `字段 ${fd.name}（${fd.type}）`;
  const scalar = (v: unknown): string | number | boolean => {
    switch (fd.type) {
      case 'int': case 'number':
        if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`${where} 需要数值，得到 ${JSON.stringify(v)}。 Field ${fd.name} takes a number.`);
        return v;
      case 'boolean':
        if (typeof v !== 'boolean') throw bad(`${where} 需要 true/false。 Field ${fd.name} takes a boolean.`);
        return v;
      case 'datetime': {
        const t = parseTime(v);
        if (Number.isNaN(t)) throw bad(`${where} 需要 ISO 8601 时间，如 2026-05-01T08:00:00Z。 Field ${fd.name} takes an ISO 8601 time.`);
        return t;
      }
      default:
        if (typeof v !== 'string') throw bad(`${where} 需要字符串。 Field ${fd.name} takes a string.`);
        return v;
    }
  };
  const get = fd.type === 'datetime' ? timeOf : (v: unknown) => v;
  let test: Test;
  switch (op as FilterOp) {
    case 'eq': case 'ne': {
      const x = scalar(value);
      test = op === 'eq' ? (v) => v !== undefined && v !== null && get(v) === x : (v) => v !== undefined && v !== null && get(v) !== x;
      break;
    }
    case 'in': {
      if (!Array.isArray(value) || value.length === 0 || value.length > MAX_IN) {
        throw bad(`'in' 需要 1…${MAX_IN} 个值的数组。 'in' takes an array of 1…${MAX_IN} values.`);
      }
      const set = new Set(value.map(scalar));
      test = (v) => v !== undefined && v !== null && set.has(get(v) as string | number | boolean);
      break;
    }
    case 'lt': case 'le': case 'gt': case 'ge': {
      if (fd.type === 'boolean') throw bad(`${where} 不支持大小比较。 Field ${fd.name} cannot be compared with ${op}.`);
      const x = scalar(value) as number | string;
      const cmp = { lt: (a: number | string) => a < x, le: (a: number | string) => a <= x, gt: (a: number | string) => a > x, ge: (a: number | string) => a >= x }[op as 'lt'];
      test = (v) => {
        if (v === undefined || v === null) return false;
        const a = get(v) as number | string;
        return typeof a === 'number' && Number.isNaN(a) ? false : cmp(a);
      };
      break;
    }
    default: {
      if (fd.type !== 'string') throw bad(`${where} 不是字符串字段，不能用 ${op}。 '${op}' needs a string field.`);
      const x = scalar(value) as string;
      test = op === 'prefix' ? (v) => typeof v === 'string' && v.startsWith(x) : (v) => typeof v === 'string' && v.includes(x);
    }
  }
  return { field: fd.name, test };
}

/** Compiles `where` (AttributeFilter[]) and `time` (TimeFilter) for a layer; null when there is nothing to
 *  filter. Throws QueryInputError (code 'bad_filter') on unknown fields, wrong types or bad ops. */
export function compileFilters(def: LayerDef, where?: unknown, time?: unknown): RowFilter | null {
  const parts: { field: string; test: Test }[] = [];
  if (where !== undefined && where !== null) {
    if (!Array.isArray(where)) throw bad('where 必须是过滤条件数组。 where must be an array of {field, op, value}.');
    if (where.length > 50) throw bad('过滤条件过多（最多 50 个）。 At most 50 filters.');
    where.forEach((f, i) => parts.push(compileOne(def, f, i)));
  }
  if (time !== undefined && time !== null) {
    if (!def.time) throw bad(`图层 ${def.id} 没有时间字段，不能按时间过滤。 Layer ${def.id} has no time field.`);
    if (typeof time !== 'object' || Array.isArray(time)) throw bad('time 必须是 {from, to} 对象。 time must be {from, to}.');
    const { from, to } = time as { from?: unknown; to?: unknown };
    const a = from === undefined ? -Infinity : parseTime(from);
    const b = to === undefined ? Infinity : parseTime(to);
    if (Number.isNaN(a) || Number.isNaN(b)) throw bad('时间窗口需要 ISO 8601 时间，如 2026-05-01T00:00:00Z。 time.from/to must be ISO 8601 times.');
    if (a !== -Infinity || b !== Infinity) {
      parts.push({ field: def.time, test: (v) => { if (v === undefined || v === null) return false; const t = timeOf(v); return t >= a && t < b; } });
    }
  }
  if (parts.length === 0) return null;
  const fields = [...new Set(parts.map((p) => p.field))];
  return {
    fields,
    test: (value) => parts.every((p) => p.test(value(p.field))),
    matches: (props) => parts.every((p) => p.test(props[p.field])),
  };
}
