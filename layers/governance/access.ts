// Who may see a layer, and which of its rows and fields (issue 10): the grade sets the default, an approved
// sharing request (a Grant) opens a graded layer to one user for some fields, areas and a period. Every route
// that lets layer data out asks here (through tile-server/personal-data.ts); the gate asks first, for routes
// that name the layer. Pure: no I/O.
//   public     anyone the layer's roles list (LayerDef.roles), signed in or not
//   internal   signed-in staff the layer's roles list
//   sensitive  admin; the owner department's staff; the layer's standing roles; others by a grant in force
//   core       admin; the owner department's staff; others by a grant in force (approved twice)
import type { LayerDef } from '../catalog.ts';
import { governanceOf } from './grades.ts';
import { GRADE_INFO, type AccessActor, type Grant } from './model.ts';

export type LayerAccess =
  | { kind: 'full'; via: 'grade' | 'admin' | 'owner' | 'standing' }
  | { kind: 'grant'; grants: readonly Grant[] }
  | { kind: 'none'; code: 'layer_forbidden' | 'grant_required'; message: string };

type Def = Pick<LayerDef, 'id' | 'title' | 'roles' | 'department'>;

export function layerAccess(actor: AccessActor | null, def: Def, grants: readonly Grant[], now: number): LayerAccess {
  const role = actor?.role ?? 'public';
  if (!def.roles.includes(role as never)) {
    return { kind: 'none', code: 'layer_forbidden', message: `角色 ${actor ? role : '未登录'} 无权查看图层「${def.title}」（${def.id}）。Role ${actor ? role : 'anonymous'} may not see layer ${def.id}.` };
  }
  const gov = governanceOf(def);
  if (gov.grade === 'public' || (gov.grade === 'internal' && actor)) return { kind: 'full', via: 'grade' };
  if (!actor) {
    return { kind: 'none', code: 'layer_forbidden', message: `图层「${def.title}」仅限登录用户。Sign in to see layer ${def.id}.` };
  }
  if (gov.grade === 'internal') return { kind: 'full', via: 'grade' };
  if (actor.role === 'admin') return { kind: 'full', via: 'admin' };
  if (actor.department === def.department) return { kind: 'full', via: 'owner' };
  if (gov.grade === 'sensitive' && gov.standing?.includes(actor.role as never)) return { kind: 'full', via: 'standing' };
  const mine = grants.filter((g) => g.layer === def.id && g.grantee === actor.id && g.expiresAt > now);
  if (mine.length) return { kind: 'grant', grants: mine };
  const grade = GRADE_INFO[gov.grade];
  return {
    kind: 'none', code: 'grant_required',
    message: `图层「${def.title}」为${grade.title}数据，需经数据所有部门批准后使用：请在数据目录中提交申请（POST /api/catalog/${def.id}/requests）` +
      `${grade.approvals > 1 ? '，核心数据需两级审批' : ''}。Layer ${def.id} is graded ${gov.grade}: request access in the data catalog (POST /api/catalog/${def.id}/requests).`,
  };
}

/** The code that places a feature in the town/village/grid hierarchy: its own code on the admin layers, else grid_code. */
export function areaCodeOf(def: Pick<LayerDef, 'id'>, props: Record<string, unknown>): string | null {
  const v = def.id === 'towns' || def.id === 'villages' || def.id === 'grids' ? props.code : props.grid_code ?? props.town_code;
  return v === undefined || v === null || v === '' ? null : String(v);
}

/** The grants that cover this feature (its area code inside one of their areas); all of them for full access. */
function covering(access: Extract<LayerAccess, { kind: 'grant' }>, def: Pick<LayerDef, 'id'>, props: Record<string, unknown>): Grant[] {
  const code = areaCodeOf(def, props);
  return access.grants.filter((g) => g.areas === null || (code !== null && g.areas.some((a) => code.startsWith(a))));
}

/** Whether the feature may be shown at all (a feature without an area code is outside every area: fail closed). */
export function rowAllowed(access: LayerAccess, def: Pick<LayerDef, 'id'>, props: Record<string, unknown>): boolean {
  if (access.kind === 'full') return true;
  if (access.kind === 'none') return false;
  return covering(access, def, props).length > 0;
}

/**
 * The properties the access lets out: for a grant, `id` and the union of the fields of the grants covering this
 * feature (a field absent from every covering grant is dropped, not blanked, so its name does not leak a value).
 * null when the row is not allowed.
 */
export function shownFields(access: LayerAccess, def: Pick<LayerDef, 'id'>, props: Record<string, unknown>): Record<string, unknown> | null {
  if (access.kind === 'full') return props;
  if (access.kind === 'none') return null;
  const grants = covering(access, def, props);
  if (!grants.length) return null;
  if (grants.some((g) => g.fields === null)) return props;
  const keep = new Set<string>(['id']);
  for (const g of grants) for (const f of g.fields!) keep.add(f);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(props)) if (keep.has(k)) out[k] = props[k];
  return out;
}
