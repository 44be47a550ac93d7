// The attribute form, generated from the layer's FieldDef list (layers/catalog.ts). Inputs hold text;
// parse() turns them into typed properties with the same rules the server's validateProperties applies
// (issue8.md, E1): ints integral, numbers finite, datetime ISO 8601 UTC, strings ≤ 1000 characters,
// `id` equal to the feature id. The server stays the judge; this only spares a round trip.
import type { FieldDef, FieldType, LayerDef } from '../../../layers/catalog.ts';
import type { ValidationIssue } from '../../../layers/editing/model.ts';

export const MAX_STRING = 1000;
/** ISO 8601 in UTC: date, time with optional fraction, and Z (or +00:00). */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|\+00:00)$/;

export interface FormField {
  name: string;
  title: string;
  type: FieldType;
  /** `id` is assigned by the server or fixed by the feature: shown, not typed. */
  readonly: boolean;
  required: boolean;
  input: 'text' | 'number' | 'checkbox' | 'datetime';
  personal: boolean;
}

export type FormValues = Record<string, string | boolean>;

export function formFields(def: Pick<LayerDef, 'fields'>): FormField[] {
  return def.fields.map((f: FieldDef) => ({
    name: f.name, title: f.title, type: f.type,
    readonly: f.name === 'id', required: f.name === 'id',
    input: f.type === 'boolean' ? 'checkbox' : f.type === 'int' || f.type === 'number' ? 'number' : f.type === 'datetime' ? 'datetime' : 'text',
    personal: !!f.personal,
  }));
}

/** Input values for a feature's properties (absent → empty). */
export function toFormValues(fields: readonly FormField[], props: Record<string, unknown>): FormValues {
  const out: FormValues = {};
  for (const f of fields) {
    const v = props[f.name];
    out[f.name] = f.type === 'boolean' ? v === true || v === 'true' || v === 1 : v === undefined || v === null ? '' : String(v);
  }
  return out;
}

const issue = (field: string, message: string, featureId?: string): ValidationIssue =>
  ({ code: 'invalid_property', severity: 'error', message, path: `properties.${field}`, ...(featureId ? { featureId } : {}) });

/**
 * Typed properties from the inputs, and what is wrong with them. Empty optional inputs are left out
 * (the server keeps an absent field absent). `featureId` null = a new feature, whose id the server assigns.
 */
export function parseForm(fields: readonly FormField[], values: FormValues, featureId: string | null): { properties: Record<string, unknown>; issues: ValidationIssue[] } {
  const properties: Record<string, unknown> = {};
  const issues: ValidationIssue[] = [];
  const fid = featureId ?? undefined;
  for (const f of fields) {
    const raw = values[f.name];
    if (f.name === 'id') {
      if (featureId !== null) properties.id = featureId;
      continue;
    }
    if (f.type === 'boolean') { properties[f.name] = raw === true; continue; }
    const text = typeof raw === 'string' ? raw.trim() : '';
    if (text === '') {
      if (f.required) issues.push(issue(f.name, `“${f.title}”必填 / ${f.name} is required`, fid));
      continue;
    }
    switch (f.type) {
      case 'int': {
        const n = Number(text);
        if (!Number.isInteger(n)) issues.push(issue(f.name, `“${f.title}”须为整数，现为“${text}” / ${f.name} must be an integer`, fid));
        else properties[f.name] = n;
        break;
      }
      case 'number': {
        const n = Number(text);
        if (!Number.isFinite(n)) issues.push(issue(f.name, `“${f.title}”须为数字，现为“${text}” / ${f.name} must be a number`, fid));
        else properties[f.name] = n;
        break;
      }
      case 'datetime':
        if (!ISO_UTC.test(text) || Number.isNaN(Date.parse(text))) {
          issues.push(issue(f.name, `“${f.title}”须为 UTC 时间，如 2026-05-01T08:00:00Z / ${f.name} must be ISO 8601 UTC`, fid));
        } else properties[f.name] = text;
        break;
      default:
        if (text.length > MAX_STRING) issues.push(issue(f.name, `“${f.title}”不能超过 ${MAX_STRING} 个字符 / ${f.name} is longer than ${MAX_STRING}`, fid));
        else properties[f.name] = text;
    }
  }
  return { properties, issues };
}

/** Issues that belong to one form field (by `path`), for showing next to it. */
export function issuesByField(issues: readonly ValidationIssue[]): Record<string, ValidationIssue[]> {
  const out: Record<string, ValidationIssue[]> = {};
  for (const i of issues) {
    const m = /^properties\.(.+)$/.exec(i.path ?? '');
    if (m) (out[m[1]] ??= []).push(i);
  }
  return out;
}
