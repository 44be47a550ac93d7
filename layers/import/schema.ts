// Source columns → the layer's fields, and values → the field types. Departments' files name columns in
// English, in Chinese (the field's title, e.g. 名称 for name), or truncated to dBASE's 10 bytes
// (village_co for village_code); all three are recognised, case-insensitive.
import type { FieldDef, LayerDef } from '../catalog.ts';
import type { ValidationIssue } from '../editing/model.ts';
import { ImportError } from './types.ts';

const norm = (s: string) => s.trim().toLowerCase();

/** Automatic map; `override` entries win (null = do not import that column). */
export function mapFields(def: LayerDef, sourceFields: string[], override: Record<string, string | null> = {}): Record<string, string | null> {
  const byName = new Map<string, string>();
  for (const f of def.fields) {
    byName.set(norm(f.name), f.name);
    if (!byName.has(norm(f.title))) byName.set(norm(f.title), f.name);
    const cut = norm(f.name).slice(0, 10);
    if (!byName.has(cut)) byName.set(cut, f.name);
  }
  const out: Record<string, string | null> = {};
  const taken = new Set<string>();
  for (const s of sourceFields) {
    if (s in override) continue;
    const t = byName.get(norm(s)) ?? null;
    out[s] = t && !taken.has(t) ? t : null;
    if (t) taken.add(t);
  }
  for (const [s, t] of Object.entries(override)) {
    if (t !== null && !def.fields.some((f) => f.name === t)) {
      throw new ImportError('bad_field_map', `字段映射「${s} → ${t}」无效：图层 ${def.id} 没有字段 ${t}；可用：${def.fields.map((f) => f.name).join(', ')}。Field map "${s} → ${t}": layer ${def.id} has no field ${t}.`);
    }
    out[s] = t;
  }
  return out;
}

const TRUE = new Set(['true', 't', 'yes', 'y', '1', '是', '对', '有']);
const FALSE = new Set(['false', 'f', 'no', 'n', '0', '否', '错', '无']);

/**
 * A source value as the field's type. Empty text and null give null (not imported). Datetimes without a
 * zone are China Standard Time (UTC+8): that is what a Chinese department's spreadsheet means by
 * "2026-05-01 08:00". Returns an issue instead of throwing, so a bad cell becomes a row error.
 */
export function coerceValue(field: FieldDef, v: unknown): { value: unknown; issue?: Omit<ValidationIssue, 'featureId'> } {
  if (v === null || v === undefined) return { value: null };
  const text = typeof v === 'string' ? v.trim() : v;
  if (text === '') return { value: null };
  const bad = (what: string, en: string) => ({
    value: null,
    issue: { code: 'bad_value', severity: 'error' as const, path: `properties.${field.name}`,
      message: `字段「${field.title}」(${field.name}) 的值「${String(v).slice(0, 40)}」不是${what}。Value "${String(v).slice(0, 40)}" of ${field.name} is not ${en}.` },
  });
  switch (field.type) {
    case 'string': return { value: typeof text === 'number' && Number.isInteger(text) ? String(text) : String(text) };
    case 'int': {
      const n = typeof text === 'number' ? text : Number(text);
      return Number.isInteger(n) ? { value: n } : bad('整数', 'an integer');
    }
    case 'number': {
      const n = typeof text === 'number' ? text : Number(text);
      return Number.isFinite(n) ? { value: n } : bad('数字', 'a number');
    }
    case 'boolean': {
      if (typeof text === 'boolean') return { value: text };
      const s = String(text).toLowerCase();
      return TRUE.has(s) ? { value: true } : FALSE.has(s) ? { value: false } : bad('是/否', 'a yes/no value');
    }
    case 'datetime': {
      const s = String(text);
      const m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(s);
      if (!m) return bad('日期时间（如 2026-05-01 08:00）', 'a date-time such as 2026-05-01T08:00:00Z');
      const iso = `${m[1]}-${m[2].padStart(2, '0')}-${m[3].padStart(2, '0')}T${(m[4] ?? '00').padStart(2, '0')}:${m[5] ?? '00'}:${m[6] ?? '00'}${m[8] ? (m[8].toUpperCase() === 'Z' ? 'Z' : m[8].length === 5 ? `${m[8].slice(0, 3)}:${m[8].slice(3)}` : m[8]) : '+08:00'}`;
      const t = Date.parse(iso);
      if (!Number.isFinite(t)) return bad('有效日期', 'a valid date');
      return { value: new Date(t).toISOString().replace(/\.000Z$/, 'Z') };
    }
  }
}
