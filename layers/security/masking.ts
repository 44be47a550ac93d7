// Masking of personal data (脱敏) by role (issue 9 item 2). Which fields are personal is said once, in the
// catalog (FieldDef.personal); who sees them in full is said here. Pure: no I/O, runs in Node and the browser.
//   admin, operator, system      full (they dispatch: they must reach the person)
//   grid_manager                 full inside their own grids (props.grid_code, or props.code on the grids layer), masked elsewhere
//   planner, analyst, responder  masked
//   anyone else / nobody         masked
// Unmasking (查看明文) is an exception with a stated reason: an analyst (or operator/admin) sends
// `X-OneMap-Unmask-Reason: <5–200 chars>`; the server answers in full and records who, why and what in the
// security audit. Masking formats follow the usual practice of GB/T 35273-2020 §6.2 (去标识化): keep the
// surname, the phone's prefix and last four digits, the ID number's region and check characters.
import type { FieldDef, LayerDef } from '../catalog.ts';
import type { Actor } from '../incidents/model.ts';
import { maskIdNumber, maskName, maskPhone } from '../../address-standards/links.ts';

export type MaskLevel = 'full' | 'masked';

/** What masking needs to know about the caller: Actor satisfies it (grids: a grid manager's grid codes). */
export type MaskActor = Pick<Actor, 'id' | 'role'> & { grids?: readonly string[] };

/** The request header carrying the reason for seeing personal data unmasked. */
export const UNMASK_HEADER = 'x-onemap-unmask-reason';
export const UNMASK_REASON_CHARS = { min: 5, max: 200 } as const;
/** Roles that may unmask with a reason (operator and admin already see in full; their reason is still recorded). */
export const UNMASK_ROLES: readonly Actor['role'][] = ['analyst', 'operator', 'admin'];

const FULL_ROLES: readonly Actor['role'][] = ['admin', 'operator', 'system'];

/** The personal fields of a layer (empty for most layers). */
export function personalFields(def: Pick<LayerDef, 'fields'>): FieldDef[] {
  return def.fields.filter((f) => f.personal);
}

export function hasPersonal(def: Pick<LayerDef, 'fields'>): boolean {
  return def.fields.some((f) => f.personal);
}

/** The grid a feature belongs to: the grids layer's own code, else its grid_code. */
export function gridOf(def: Pick<LayerDef, 'id'>, props: Record<string, unknown>): string | null {
  const v = def.id === 'grids' ? props.code : props.grid_code;
  return v === undefined || v === null || v === '' ? null : String(v);
}

/** How the actor may see the personal fields of this feature (before any unmask reason). */
export function personalAccess(actor: MaskActor | null | undefined, def: Pick<LayerDef, 'id'>, props: Record<string, unknown>): MaskLevel {
  if (!actor) return 'masked';
  if (FULL_ROLES.includes(actor.role)) return 'full';
  if (actor.role === 'grid_manager') {
    const grid = gridOf(def, props);
    return grid !== null && !!actor.grids?.includes(grid) ? 'full' : 'masked';
  }
  return 'masked';
}

export function canUnmask(actor: MaskActor | null | undefined): boolean {
  return !!actor && UNMASK_ROLES.includes(actor.role);
}

export type UnmaskCheck =
  | { ok: true; reason: string | null }
  | { ok: false; status: 400 | 403; code: 'bad_unmask_reason' | 'unmask_forbidden'; message: string };

/**
 * Checks the unmask header: absent → no reason (ok, masking applies); present → a trimmed reason of 5–200
 * characters from a role in UNMASK_ROLES, else an error the server returns as is (never silently ignored:
 * a caller asking to unmask must know it did not happen).
 */
export function checkUnmaskReason(actor: MaskActor | null | undefined, raw: string | readonly string[] | undefined): UnmaskCheck {
  if (raw === undefined) return { ok: true, reason: null };
  const text = (Array.isArray(raw) ? raw.join(' ') : String(raw)).trim();
  const n = [...text].length;
  if (n < UNMASK_REASON_CHARS.min || n > UNMASK_REASON_CHARS.max || /[\u0000-\u001f\u007f]/.test(text)) {
    return { ok: false, status: 400, code: 'bad_unmask_reason', message: `查看明文须说明理由：X-OneMap-Unmask-Reason 为 ${UNMASK_REASON_CHARS.min}–${UNMASK_REASON_CHARS.max} 个字（UTF-8，按 RFC 8187 百分号编码亦可）。To unmask, give a reason of ${UNMASK_REASON_CHARS.min}–${UNMASK_REASON_CHARS.max} characters in X-OneMap-Unmask-Reason.` };
  }
  if (!canUnmask(actor)) {
    return { ok: false, status: 403, code: 'unmask_forbidden', message: `角色 ${actor?.role ?? '未登录'} 不能查看个人信息明文；只有研判分析员、值班员和管理员可以说明理由后查看。Role ${actor?.role ?? 'anonymous'} may not unmask personal data; analysts, operators and admins may, with a reason.` };
  }
  return { ok: true, reason: text };
}

/** Decodes a header value sent percent-encoded (browsers send header values as Latin-1: Chinese reasons arrive encoded). */
export function decodeReasonHeader(raw: string | readonly string[] | undefined): string | readonly string[] | undefined {
  if (typeof raw !== 'string' || !/%[0-9A-Fa-f]{2}/.test(raw)) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

export type MaskKind = 'name' | 'phone' | 'id_number';

/** How a personal field is masked, from its name (the catalog says only that it is personal). */
export function maskKind(field: Pick<FieldDef, 'name'>): MaskKind {
  const n = field.name.toLowerCase();
  if (/phone|mobile|tel/.test(n)) return 'phone';
  if (/id_?number|id_?card|idno|sfz/.test(n)) return 'id_number';
  return 'name';
}

/** One value masked by kind; null/undefined stay as they are (nothing to hide), other types become '***'. */
export function maskValue(kind: MaskKind, v: unknown): unknown {
  if (v === null || v === undefined || v === '') return v;
  const s = typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null;
  if (s === null) return '***';
  return kind === 'phone' ? maskPhone(s) : kind === 'id_number' ? maskIdNumber(s) : maskName(s);
}

/** The properties with every personal field masked (level 'masked'), or the same object (level 'full'). Never mutates. */
export function maskProperties(def: Pick<LayerDef, 'fields'>, props: Record<string, unknown>, level: MaskLevel): Record<string, unknown> {
  if (level === 'full') return props;
  let out: Record<string, unknown> | null = null;
  for (const f of def.fields) {
    if (!f.personal || !(f.name in props)) continue;
    out ??= { ...props };
    out[f.name] = maskValue(maskKind(f), props[f.name]);
  }
  return out ?? props;
}

/**
 * For writes by a caller who was shown masked values (a planner editing grids): a personal field sent back
 * exactly as its masked form of the current value keeps the current value, so saving a form does not
 * overwrite 张小明 with 张*明. Any other value is a real change and is kept. Never mutates.
 */
export function keepMaskedUnchanged(def: Pick<LayerDef, 'fields'>, incoming: Record<string, unknown>, current: Record<string, unknown> | null | undefined): Record<string, unknown> {
  if (!current) return incoming;
  let out: Record<string, unknown> | null = null;
  for (const f of def.fields) {
    if (!f.personal || !(f.name in incoming) || current[f.name] === incoming[f.name]) continue;
    if (incoming[f.name] === maskValue(maskKind(f), current[f.name])) {
      out ??= { ...incoming };
      out[f.name] = current[f.name];
    }
  }
  return out ?? incoming;
}
