// One request's view of layer data: who asks (the signed-in actor), which layers they may see and which rows and
// fields of them (issue 10: grades and sharing grants, layers/governance/access.ts), whether they gave a reason
// to unmask, and what left the server — personal records in full recorded once per request in the security
// audit, rows let out under a sharing grant recorded as the grant's use. Every route that answers with features
// of a layer passes them through here: /ogc items, /data/{layer}.fgb, /api/lookup, /api/query (+ exports),
// /api/address/{code}, the editing GETs, the live feed.
import type { IncomingMessage } from 'node:http';
import { getLayer, type LayerDef } from '../layers/catalog.ts';
import {
  checkUnmaskReason, decodeReasonHeader, hasPersonal, maskProperties, personalAccess,
  UNMASK_HEADER, type MaskActor, type MaskLevel,
} from '../layers/security/masking.ts';
import { areaCodeOf, layerAccess, rowAllowed, shownFields, type LayerAccess } from '../layers/governance/access.ts';
import type { Grant } from '../layers/governance/model.ts';
import type { Actor } from '../layers/incidents/model.ts';
import { maybeActorOf } from './auth/request-actor.ts';
import { accessContextOf, type AccessContext } from './auth/request-access.ts';
import { ipOf, type SecurityAudit } from './auth/audit.ts';
import { HttpError } from './http-errors.ts';
import { maskName } from '../address-standards/links.ts';

/** What an access decision needs of a layer (LayerDef satisfies it). */
export type AccessDef = Pick<LayerDef, 'id' | 'title' | 'roles' | 'department'>;
type Def = AccessDef & Pick<LayerDef, 'fields'>;

/** Server-internal callers (no request, nobody asked over HTTP): no layer decision to make. */
const UNCHECKED: LayerAccess = { kind: 'full', via: 'admin' };

export class PersonalView {
  /** Personal records returned in full, per layer (or 'people' for 一标多实 residents). */
  private readonly full = new Map<string, number>();
  /** Layer access decided once per layer per request. */
  private readonly decided = new Map<string, LayerAccess>();
  private grantsInForce?: readonly Grant[];
  /** Rows let out under each grant (GrantUse.rows), recorded by done(). */
  private readonly used = new Map<string, { grant: Grant; rows: number }>();

  constructor(
    readonly actor: (MaskActor & Partial<Pick<Actor, 'name' | 'department'>>) | null,
    /** The accepted unmask reason, or null. */
    readonly reason: string | null,
    private readonly audit?: SecurityAudit,
    private readonly ip: string | null = null,
    /** The grants and the instant access is judged with (the gate's, for a request); 'unchecked' for server-internal callers. */
    private readonly sharing: AccessContext | 'unchecked' = { grants: null, now: Date.now() },
  ) {}

  /** A view that masks everything and records nothing, for callers without a request (benchmarks, warm-up):
   *  it makes no layer access decision, because nobody asked over HTTP. */
  static masked(): PersonalView {
    return new PersonalView(null, null, undefined, null, 'unchecked');
  }

  /** The instant access is judged at (ms). */
  get now(): number {
    return this.sharing === 'unchecked' ? Date.now() : this.sharing.now;
  }

  /** Whether and how the caller may see the layer: its grade, their role and department, their grants in force. */
  access(def: AccessDef): LayerAccess {
    if (this.sharing === 'unchecked' || this.actor?.role === 'system') return UNCHECKED;
    let a = this.decided.get(def.id);
    if (!a) {
      const sharing = this.sharing;
      this.grantsInForce ??= this.actor && sharing.grants ? sharing.grants.activeGrants(this.actor.id, sharing.now) : [];
      a = layerAccess(this.actor, def, this.grantsInForce, sharing.now);
      this.decided.set(def.id, a);
    }
    return a;
  }

  /** The 403 for a layer the caller may not see (its code: layer_forbidden or grant_required), or null. */
  refusal(def: AccessDef): HttpError | null {
    const a = this.access(def);
    return a.kind === 'none' ? new HttpError(403, a.code, a.message) : null;
  }

  /** Throws the 403 for a layer the caller may not see. */
  check(def: AccessDef): void {
    const e = this.refusal(def);
    if (e) throw e;
  }

  /** Whether this feature of the layer may go out at all (a grant's areas; fail closed without an area code). */
  allows(def: AccessDef, props: Record<string, unknown>): boolean {
    return rowAllowed(this.access(def), def, props);
  }

  /** allows() for a layer by id (unknown ids pass: they are not catalog layers). */
  allowsOf(layer: string, props: Record<string, unknown>): boolean {
    const def = getLayer(layer);
    return def ? this.allows(def, props) : true;
  }

  /**
   * The fields a grant holder may see of the layer (`id` + the union of their grants' fields; null = all):
   * the schema of files and columns made for them. `every` = the fields every grant shows (what they may filter
   * on without learning hidden values from counts). null for full access.
   */
  grantFields(def: Def, every = false): Set<string> | null {
    const a = this.access(def);
    if (a.kind !== 'grant') return a.kind === 'full' ? null : new Set(['id']);
    const lists = a.grants.map((g) => g.fields);
    if (!every && lists.some((l) => l === null)) return null;
    const named = lists.filter((l): l is string[] => l !== null);
    if (every && named.length === 0) return null;
    const out = new Set<string>(['id']);
    if (every) {
      for (const f of def.fields) if (named.every((l) => l.includes(f.name))) out.add(f.name);
    } else for (const l of named) for (const f of l) out.add(f);
    return out;
  }

  level(def: Pick<LayerDef, 'id'>, props: Record<string, unknown>): MaskLevel {
    return this.reason !== null ? 'full' : personalAccess(this.actor, def, props);
  }

  /** 'full' or 'masked' when the level is the same for every feature of any layer; 'mixed' for a grid manager. */
  uniform(): MaskLevel | 'mixed' {
    if (this.reason !== null || personalAccess(this.actor, { id: '' }, {}) === 'full') return 'full';
    return this.actor?.role === 'grid_manager' && this.actor.grids?.length ? 'mixed' : 'masked';
  }

  canSee(def: AccessDef): boolean {
    return this.access(def).kind !== 'none';
  }

  /**
   * The properties as this caller may see them: a grant's fields first (shownFields), then masking; counts what
   * went out in full and the rows each grant let out. A row the caller may not see comes back empty (routes
   * filter with allows() first; this is the last line, so a forgotten filter leaks nothing).
   */
  props(def: Def, props: Record<string, unknown>): Record<string, unknown> {
    const access = this.access(def);
    let p = props;
    if (access.kind !== 'full') {
      const shown = shownFields(access, def, props);
      if (!shown) return {};
      if (access.kind === 'grant') this.countUse(access.grants, def, props);
      p = shown;
    }
    if (!hasPersonal(def)) return p;
    const level = this.level(def, props);
    if (level === 'full' && def.fields.some((f) => f.personal && f.name in p)) this.count(def.id, 1);
    return maskProperties(def, p, level);
  }

  private countUse(grants: readonly Grant[], def: Pick<LayerDef, 'id'>, props: Record<string, unknown>): void {
    const code = areaCodeOf(def, props);
    for (const g of grants) {
      if (g.areas !== null && (code === null || !g.areas.some((a) => code.startsWith(a)))) continue;
      const u = this.used.get(g.id);
      if (u) u.rows++;
      else this.used.set(g.id, { grant: g, rows: 1 });
    }
  }

  feature<F extends { properties: Record<string, unknown> | null }>(def: Def, f: F): F {
    if (!f.properties || (!hasPersonal(def) && this.access(def).kind === 'full')) return f;
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

  /** Records the rows each grant let out (GrantUse) and writes one audit event when anything personal went
   *  out in full; `target` names what was asked (the path). */
  done(target: string): void {
    if (this.used.size && this.sharing !== 'unchecked' && this.sharing.grants) {
      for (const { grant, rows } of this.used.values()) {
        this.sharing.grants.recordUse({ grantId: grant.id, layer: grant.layer, grantee: grant.grantee, at: this.sharing.now, route: target.slice(0, 300), rows });
      }
    }
    this.used.clear();
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
  return new PersonalView(actor, check.reason, audit, ipOf(req), accessContextOf(req) ?? { grants: null, now: Date.now() });
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
