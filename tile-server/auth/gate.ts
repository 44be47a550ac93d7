// The router gate: every request is looked up in ROUTE_RULES (policy.ts) before any handler runs.
// Unknown route → 404 (or 405 with Allow when the path is known for other methods); public → through;
// otherwise the session cookie must resolve (401) and the role must be listed (403), and a `:layer` parameter
// must name a layer the role may read (LayerDef.roles) — and, for a planner's writes, one of actor.layers.
// A rule marked `layerData` (its route lets the layer's data out) asks layers/governance/access.ts instead:
// the layer's grade, the user's department and their sharing grants in force (403 layer_forbidden or
// grant_required); a write there needs full access (a grant is for reading). The grants and the instant are
// stored with the request (request-access.ts) so the handler judges rows and fields with the same ones.
import type { IncomingMessage } from 'node:http';
import { getLayer } from '../../layers/catalog.ts';
import { layerAccess } from '../../layers/governance/access.ts';
import type { GrantSource } from '../../layers/governance/model.ts';
import { setAccessContext } from './request-access.ts';
import { HttpError, notFound } from '../http-errors.ts';
import { parseTarget } from '../params.ts';
import type { Actor } from '../../layers/incidents/model.ts';
import type { AuthService } from './auth-service.ts';
import { matchRule, methodsFor, type RuleMatch } from './policy.ts';
import { setActor } from './request-actor.ts';

/** Paths under the search rate limit (30/s per session). */
const SEARCH_PATHS = new Set(['/api/address/search', '/api/query', '/api/lookup']);

/** Where the gate finds sharing grants (the sharing service; absent → nobody holds one) and the server's clock. */
export interface GateAccess {
  grants?: GrantSource | null;
  clock?: () => number;
}

/** Admits a request: null when decided synchronously (admitted), a Promise when the session must be loaded; throws HttpError when refused. */
export function admit(auth: AuthService, req: IncomingMessage, method: string, path: string, access: GateAccess = {}): Promise<void> | null {
  parseTarget(req.url ?? '/'); // a malformed or escaping path is 400 bad_path before anything else
  const m = matchRule(method, path);
  if (!m) {
    const allowed = methodsFor(path);
    if (allowed.length) {
      const allow = [...allowed, ...(allowed.includes('GET') ? ['HEAD'] : []), 'OPTIONS'].join(', ');
      throw new HttpError(405, 'method_not_allowed', `此地址不支持 ${method}；可用：${allow}。Method ${method} not allowed here; allowed: ${allow}.`, { Allow: allow });
    }
    throw notFound('not_found', '没有这个地址（路由见 README）。No such route (see the route table in the README).');
  }
  if (m.rule.roles === 'public') return null;
  const hit = auth.resolveCached(req);
  if (hit) { authorize(auth, req, m, method, path, hit.actor, hit.session, access); return null; }
  return auth.resolve(req).then((r) => authorize(auth, req, m, method, path, r.actor, r.session, access));
}

function authorize(auth: AuthService, req: IncomingMessage, m: RuleMatch, method: string, path: string, actor: Actor, session: string, access: GateAccess): void {
  const roles = m.rule.roles;
  if (Array.isArray(roles) && !roles.includes(actor.role as never)) {
    throw new HttpError(403, 'forbidden', `角色 ${actor.role} 无权访问此接口（允许：${roles.join('、')}）。Role ${actor.role} may not use this route (allowed: ${roles.join(', ')}).`);
  }
  const now = (access.clock ?? Date.now)();
  const grants = access.grants ?? null;
  setAccessContext(req, { grants, now });
  const layerId = m.params.layer;
  if (layerId !== undefined) {
    const def = getLayer(layerId);
    const write = method !== 'GET' && method !== 'HEAD';
    // An unknown layer passes: the handler answers 404 with the list of layers.
    if (def && m.rule.layerData) {
      const a = layerAccess(actor, def, grants ? grants.activeGrants(actor.id, now) : [], now);
      if (a.kind === 'none') throw new HttpError(403, a.code, a.message);
      if (write && a.kind !== 'full') {
        throw new HttpError(403, 'grant_read_only', `共享授权只用于查看：图层「${def.title}」只能由数据所有部门（或管理员）修改。A sharing grant is for reading: layer ${def.id} is changed by its owner department (or an admin).`);
      }
    } else if (def && !def.roles.includes(actor.role as never)) {
      throw new HttpError(403, 'layer_forbidden', `角色 ${actor.role} 无权查看图层「${def.title}」。Role ${actor.role} may not read layer ${def.id}.`);
    }
    if (def && write && actor.role === 'planner' && actor.layers && !actor.layers.includes(def.id)) {
      throw new HttpError(403, 'layer_not_assigned', `图层「${def.title}」不在您负责的图层内（${actor.layers.join('、')}）。Layer ${def.id} is not one of your layers.`);
    }
  }
  if (SEARCH_PATHS.has(path.split('?')[0])) auth.takeSearch(session);
  setActor(req, actor);
}
