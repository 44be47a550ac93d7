// One request's view of personal data: who asks (the signed-in actor), whether they gave a reason to unmask,
// and what of it left the server in full — recorded once per request in the security audit. Every route
// that answers with features of a layer with personal fields (layers/catalog.ts FieldDef.personal) passes
// them through here: /ogc items, /data/{layer}.fgb, /api/lookup, /api/query (+ exports), /api/address/{code}.
import type { IncomingMessage } from 'node:http';
import { getLayer, type LayerDef } from '../layers/catalog.ts';
import {
  canSeeLayer, checkUnmaskReason, decodeReasonHeader, hasPersonal, maskProperties, personalAccess,
  UNMASK_HEADER, type MaskActor, type MaskLevel,
} from '../layers/security/masking.ts';
import type { Actor } from '../layers/incidents/model.ts';
import { maybeActorOf } from './auth/request-actor.ts';
import { ipOf, type SecurityAudit } from './auth/audit.ts';
import { HttpError } from './http-errors.ts';
import { maskName } from '../address-standards/links.ts';

type Def = Pick<LayerDef, 'id' | 'fields'>;

export class PersonalView {
  /** Personal records returned in full, per layer (or 'people' for 一标多实 residents). */
  private readonly full = new Map<string, number>();

  constructor(
    readonly actor: (MaskActor & Partial<Pick<Actor, 'name'>>) | null,
    /** The accepted unmask reason, or null. */
    readonly reason: string | null,
    private readonly audit?: SecurityAudit,
    private readonly ip: string | null = null,
  ) {}

  /** A view that masks everything and records nothing (callers without a request, e.g. benchmarks). */
  static masked(): PersonalView {
    return new PersonalView(null, null);
  }

  level(def: Pick<LayerDef, 'id'>, props: Record<string, unknown>): MaskLevel {
    return this.reason !== null ? 'full' : personalAccess(this.actor, def, props);
  }

  /** 'full' or 'masked' when the level is the same for every feature of any layer; 'mixed' for a grid manager. */
  uniform(): MaskLevel | 'mixed' {
    if (this.reason !== null || personalAccess(this.actor, { id: '' }, {}) === 'full') return 'full';
    return this.actor?.role === 'grid_manager' && this.actor.grids?.length ? 'mixed' : 'masked';
  }

  canSee(def: Pick<LayerDef, 'roles'>): boolean {
    return canSeeLayer(this.actor, def);
  }

  /** The properties as this caller may see them; counts what went out in full. */
  props(def: Def, props: Record<string, unknown>): Record<string, unknown> {
    if (!hasPersonal(def)) return props;
    const level = this.level(def, props);
    if (level === 'full') this.count(def.id, 1);
    return maskProperties(def, props, level);
  }

  feature<F extends { properties: Record<string, unknown> | null }>(def: Def, f: F): F {
    if (!f.properties || !hasPersonal(def)) return f;
    const p = this.props(def, f.properties);
    return p === f.properties ? f : { ...f, properties: p };
  }

  /** Properties of a layer by id (unknown ids pass through: they have no catalog fields to mask). */
  propsOf(layer: string, props: Record<string, unknown>): Record<string, unknown> {
    const def = getLayer(layer);
    return def ? this.props(def, props) : props;
  }

  /** Counts `n` personal records sent in full (for routes that mask by other means, e.g. the address links). */
  count(what: string, n: number): void {
    if (n > 0) this.full.set(what, (this.full.get(what) ?? 0) + n);
  }

  /** Writes one audit event when anything personal went out in full; `target` names what was asked (the path). */
  done(target: string): void {
    if (!this.audit || this.full.size === 0) return;
    this.audit.record({
      action: this.reason !== null ? 'unmask' : 'view_personal',
      actor: this.actor ? `${this.actor.role}:${this.actor.id}` : null,
      target: target.slice(0, 500), reason: this.reason, ip: this.ip,
      detail: { records: Object.fromEntries(this.full) },
    });
    this.full.clear();
  }
}

/**
 * The personal-data view of a request: its signed-in actor and its unmask reason (X-OneMap-Unmask-Reason,
 * percent-encoded UTF-8 allowed). A reason from a role that may not unmask, or one of the wrong length, is
 * an HttpError (403 / 400): asking to unmask and silently getting masked data would mislead. A refused
 * request is recorded too.
 */
export function personalView(req: IncomingMessage, audit?: SecurityAudit): PersonalView {
  const actor = maybeActorOf(req);
  const check = checkUnmaskReason(actor, decodeReasonHeader(req.headers[UNMASK_HEADER]));
  if (!check.ok) {
    audit?.record({
      action: 'unmask_refused', actor: actor ? `${actor.role}:${actor.id}` : null, target: (req.url ?? '').slice(0, 500),
      reason: null, ip: ipOf(req), detail: { code: check.code },
    });
    throw new HttpError(check.status, check.code, check.message);
  }
  return new PersonalView(actor, check.reason, audit, ipOf(req));
}

/** 403 for a layer the caller's role may not see (LayerDef.roles). */
export function layerForbidden(def: Pick<LayerDef, 'id' | 'title'>, role: string | undefined): HttpError {
  return new HttpError(403, 'layer_forbidden', `角色 ${role ?? '未登录'} 无权查看图层「${def.title}」（${def.id}）。Role ${role ?? 'anonymous'} may not see layer ${def.id}.`);
}

type Named = { name?: string } | null | undefined;
const maskActorName = <A extends Named>(a: A): A => (a && typeof a.name === 'string' && a.name ? { ...a, name: maskName(a.name) } : a);

/**
 * An incident's people as the caller may see them: the reporter's name (a grid manager's or a citizen's) and
 * the names on its timeline are personal; full for operators and admins and for the grid manager of the
 * incident's grid, masked for analysts (who read cases for statistics) unless they give a reason.
 */
export function incidentShown<I extends { reporter?: Named; gridCode?: string | null }>(view: PersonalView, inc: I): I {
  if (view.level({ id: 'incidents' }, { grid_code: inc.gridCode ?? null }) === 'full') {
    if (inc.reporter?.name) view.count('incident_people', 1);
    return inc;
  }
  return inc.reporter ? { ...inc, reporter: maskActorName(inc.reporter) } : inc;
}

/** The timeline entries' actors, masked as the incident is. */
export function transitionsShown<T extends { actor?: Named }>(view: PersonalView, gridCode: string | null | undefined, list: T[]): T[] {
  if (view.level({ id: 'incidents' }, { grid_code: gridCode ?? null }) === 'full') return list;
  return list.map((t) => (t.actor ? { ...t, actor: maskActorName(t.actor) } : t));
}
