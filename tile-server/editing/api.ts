// The layer-editing HTTP API (issue 8). Segments as router.ts passes them (s[0] = 'api', s[1] = 'layers' | 'audit'):
//   GET    /api/layers                                          → { layers: [{ id, title, geometry, editable, fields, revision, grade, access }] }
//   GET    /api/layers/{layer}/features/{id}                    → { feature, version }
//   POST   /api/layers/{layer}/features          {feature, comment?}        → 201 { feature, version, issues }
//   PUT    /api/layers/{layer}/features/{id}     {feature, version, comment?} → 200 | 409 | 422
//   DELETE /api/layers/{layer}/features/{id}?version=N                      → 200 { id, version, deleted: true }
//   GET    /api/layers/{layer}/features/{id}/history                      → { items } (version 0 = the built data)
//   POST   /api/layers/{layer}/features/{id}/restore {version, basedOn}   → 200 { feature, version }
//   POST   /api/layers/{layer}/edits             {changes, comment?}        → 200 { versions } (atomic)
//   POST   /api/layers/{layer}/validate          {changes}                  → 200 { issues }
//   GET    /api/audit?layer=&actor=&since=&limit=                         → { items }
// Errors: { error: { code, message, ...details } }; 409 carries id, basedOn, yours, current; 422 carries issues.
// The actor is the signed-in user (actorOf: the router gate resolved the session; issue 9).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getLayer, LAYERS } from '../../layers/catalog.ts';
import { governanceOf } from '../../layers/governance/grades.ts';
import { keepMaskedUnchanged } from '../../layers/security/masking.ts';
import { personalView, type PersonalView } from '../personal-data.ts';
import { badRequest, HttpError, notFound, sendError } from '../http-errors.ts';
import { readJson } from '../request-body.ts';
import { actorOf } from '../auth/request-actor.ts';
import { EditError, FEATURE_ID_RE, type EditService } from './service.ts';

export const EDIT_ROUTES = ['layers', 'audit'] as const;
export const MAX_EDIT_BODY = 8 * 1024 * 1024;
const JSON_BODY = { max: MAX_EDIT_BODY, types: ['application/json', 'application/geo+json'], tooLarge: `请求正文超过 ${MAX_EDIT_BODY / 1024 / 1024} MiB：请分批提交，或用导入。Body larger than ${MAX_EDIT_BODY / 1024 / 1024} MiB: split the batch or use an import.` };
export const AUDIT_LIMIT = { def: 100, max: 1000 } as const;
const MAX_COMMENT = 500;
const LAYER_RE = /^[a-z0-9_]{1,64}$/;
const ACTOR_RE = /^[a-z_]{1,20}:[A-Za-z0-9_.:@-]{1,64}$/;
const JSON_TYPE = 'application/json; charset=utf-8';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Strips the request path to its segments after /api (raw path, no query). */
function pathSegments(path: string): string[] {
  const q = path.indexOf('?');
  const p = q < 0 ? path : path.slice(0, q);
  const s = p.split('/').slice(1);
  if (s.length > 1 && s[s.length - 1] === '') s.pop();
  return s;
}

export class EditApi {
  constructor(private readonly deps: { service: EditService }) {}

  /** The router asks before reading bodies: the POST/PUT/DELETE routes served here. */
  static acceptsMethod(method: string, path: string): boolean {
    const s = pathSegments(path);
    if (s[0] !== 'api' || s[1] !== 'layers' || s.length < 4) return false;
    if (method === 'POST') return (s.length === 4 && (s[3] === 'features' || s[3] === 'edits' || s[3] === 'validate'))
      || (s.length === 6 && s[3] === 'features' && s[5] === 'restore');
    if (method === 'PUT' || method === 'DELETE') return s.length === 5 && s[3] === 'features';
    return false;
  }

  async handle(req: IncomingMessage, res: ServerResponse, s: string[], query: string, head: boolean): Promise<void> {
    try {
      await this.route(req, res, s, new URLSearchParams(query), head);
    } catch (err) {
      if (!res.writableEnded) req.resume();
      if (err instanceof EditError) return sendEditError(res, err, head);
      if (err instanceof HttpError) return sendError(res, err, head);
      throw err;
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, seg: string[], q: URLSearchParams, head: boolean): Promise<void> {
    const s = seg.length > 2 && seg[seg.length - 1] === '' ? seg.slice(0, -1) : seg;
    const method = req.method === 'HEAD' ? 'GET' : req.method ?? 'GET';
    const svc = this.deps.service;
    if (s[1] === 'audit') {
      if (s.length !== 2) throw noRoute();
      only(method, 'GET');
      return send(res, 200, { items: await svc.audit(parseAuditQuery(q)) }, head);
    }
    if (s[1] !== 'layers') throw noRoute();
    if (s.length === 2) {
      only(method, 'GET');
      const revision = svc.revision();
      // Every layer with its grade and what the caller may do with it (issue 10): 'full', 'grant' (an approved
      // sharing request: some rows and fields) or 'none' (the catalog offers a request). Metadata is not data.
      const view = personalView(req);
      return send(res, 200, {
        layers: LAYERS.map((l) => ({
          id: l.id, title: l.title, titleEn: l.titleEn, geometry: l.geometry, editable: l.edit?.roles ?? [],
          gridScoped: !!l.edit?.gridScoped, withinGrid: !!l.edit?.withinGrid, partitionOf: l.edit?.partitionOf ?? null,
          fields: l.fields.map((f) => ({ name: f.name, type: f.type, title: f.title })), revision,
          grade: governanceOf(l).grade, access: view.access(l).kind,
        })),
        revision,
      }, head);
    }
    const layer = s[2];
    if (!LAYER_RE.test(layer)) throw new EditError(404, 'unknown_layer', `没有图层「${layer.slice(0, 64)}」；见 GET /api/layers。No layer "${layer.slice(0, 64)}"; see GET /api/layers.`);
    const sub = s[3];
    if (s.length === 4 && sub === 'edits') {
      only(method, 'POST');
      const actor = actorOf(req);
      const b = await readJson(req, JSON_BODY);
      if (!isObj(b)) throw badBody('{"changes": [...], "comment"?: "…"}');
      checkKeys(b, ['changes', 'comment']);
      if (!Array.isArray(b.changes) || b.changes.length === 0) throw badRequest('bad_changes', 'changes 须为非空数组。changes must be a non-empty array of {op, id?, version?, feature?}.');
      const versions = await svc.batch(layer, b.changes, actor, { comment: comment(b.comment) });
      return send(res, 200, { versions }, false);
    }
    if (s.length === 4 && sub === 'validate') {
      only(method, 'POST');
      const actor = actorOf(req);
      const b = await readJson(req, JSON_BODY);
      if (!isObj(b)) throw badBody('{"changes": [...]}');
      checkKeys(b, ['changes']);
      if (!Array.isArray(b.changes) || b.changes.length === 0) throw badRequest('bad_changes', 'changes 须为非空数组。changes must be a non-empty array.');
      return send(res, 200, { issues: await svc.validate(layer, b.changes, actor) }, false);
    }
    if (sub !== 'features' || s.length < 4 || s.length > 6) throw noRoute();
    if (s.length === 4) {
      only(method, 'POST');
      const actor = actorOf(req);
      const b = await readJson(req, JSON_BODY);
      if (!isObj(b)) throw badBody('{"feature": {"geometry", "properties", "id"?}, "comment"?}');
      checkKeys(b, ['feature', 'comment']);
      const f = featureBody(b.feature, true);
      const v = await svc.create(layer, f, actor, { comment: comment(b.comment) });
      return send(res, 201, { feature: v.feature, version: v.version, issues: [] }, false,
        { Location: `/api/layers/${layer}/features/${encodeURIComponent(v.id)}` });
    }
    const id = s[4];
    if (!FEATURE_ID_RE.test(id)) throw new EditError(404, 'unknown_feature', `要素标识不合法：${id.slice(0, 64)}。Bad feature id.`);
    if (s.length === 6) {
      if (s[5] === 'history') {
        only(method, 'GET');
        // Personal fields (grid managers' names and phones) masked by role, as everywhere (tile-server/personal-data.ts).
        const view = personalView(req);
        // Under a sharing grant: only a feature the grant covers now, and each version's fields as the grant shows
        // them (a version outside its areas keeps its row but not its feature).
        if (!(await visible(view, layer, id, svc))) throw unknownFeature(layer, id);
        const items = (await svc.history(layer, id)).map((it) => (it.feature ? { ...it, feature: visibleVersion(view, layer, it.feature) } : it));
        view.done(`GET /api/layers/${layer}/features/${id}/history`);
        return send(res, 200, { items }, head);
      }
      if (s[5] === 'restore') {
        only(method, 'POST');
        const actor = actorOf(req);
        const b = await readJson(req, JSON_BODY);
        if (!isObj(b)) throw badBody('{"version": n, "basedOn": n}');
        checkKeys(b, ['version', 'basedOn']);
        const v = await svc.restore(layer, id, intParam(b.version, 'version'), intParam(b.basedOn, 'basedOn'), actor);
        return send(res, 200, { feature: v.feature && shown(personalView(req), layer, v.feature), version: v.version }, false);
      }
      throw noRoute();
    }
    if (method === 'GET') {
      const view = personalView(req);
      const got = await svc.get(layer, id);
      const def = getLayer(layer);
      // Outside the caller's sharing grant: the same 404 as an absent feature.
      const out = got && (!def || view.allows(def, got.feature.properties)) ? got : null;
      if (!out) throw unknownFeature(layer, id);
      const feature = shown(view, layer, out.feature);
      view.done(`GET /api/layers/${layer}/features/${id}`);
      return send(res, 200, { ...out, feature }, head, { ETag: `"${out.version}"` });
    }
    if (method === 'PUT') {
      const actor = actorOf(req);
      const b = await readJson(req, JSON_BODY);
      if (!isObj(b)) throw badBody('{"feature": {"geometry", "properties"}, "version": n, "comment"?}');
      checkKeys(b, ['feature', 'version', 'comment']);
      const f = featureBody(b.feature, false);
      if (f.id !== undefined && f.id !== id) throw badRequest('id_mismatch', `正文中的要素 id（${String(f.id).slice(0, 64)}）与地址中的 ${id} 不同。The feature id in the body differs from the one in the URL.`);
      // A form saved by someone shown masked values sends them back: keep the stored ones (masking.ts keepMaskedUnchanged).
      const def = getLayer(layer), view = personalView(req);
      const properties = def ? keepMaskedUnchanged(def, f.properties, (await svc.get(layer, id))?.feature.properties) : f.properties;
      const v = await svc.update(layer, id, { geometry: f.geometry, properties }, intParam(b.version, 'version'), actor, { comment: comment(b.comment) });
      return send(res, 200, { feature: v.feature && shown(view, layer, v.feature), version: v.version, issues: [] }, false);
    }
    if (method === 'DELETE') {
      const actor = actorOf(req);
      req.resume();
      const raw = q.get('version');
      if (raw === null || !/^\d{1,15}$/.test(raw)) throw badRequest('missing_version', '删除须带所依据的版本：?version=N（读取要素时得到）。DELETE needs ?version=N, the version you read.');
      const v = await svc.remove(layer, id, Number(raw), actor, { comment: comment(q.get('comment') ?? undefined) });
      return send(res, 200, { id: v.id, version: v.version, deleted: true }, false);
    }
    throw methodNotAllowed('GET, PUT, DELETE');
  }
}

function unknownFeature(layer: string, id: string): EditError {
  return new EditError(404, 'unknown_feature', `图层 ${layer} 没有要素 ${id}（或已删除）。Layer ${layer} has no feature ${id} (or it was deleted).`, { id });
}

/** Whether the feature (as it is now) is one the caller may see: always under full access; else inside a grant. */
async function visible(view: PersonalView, layer: string, id: string, svc: EditService): Promise<boolean> {
  const def = getLayer(layer);
  if (!def || view.access(def).kind === 'full') return true;
  const now = await svc.get(layer, id);
  return !!now && view.allows(def, now.feature.properties);
}

/** A past version as the caller may see it: null when it lay outside their grant's areas. */
function visibleVersion<F extends { properties: Record<string, unknown> }>(view: PersonalView, layer: string, f: F): F | null {
  const def = getLayer(layer);
  if (def && !view.allows(def, f.properties)) return null;
  return shown(view, layer, f);
}

/** The feature with its personal fields as the caller may see them. */
function shown<F extends { properties: Record<string, unknown> }>(view: PersonalView, layer: string, f: F): F {
  const def = getLayer(layer);
  return def ? view.feature(def, f) : f;
}

// ------------------------------------------------------------------------------------------ parsing

function only(method: string, allowed: 'GET' | 'POST'): void {
  if (method !== allowed) throw methodNotAllowed(allowed === 'GET' ? 'GET, HEAD' : 'POST');
}

function methodNotAllowed(allow: string): HttpError {
  return new HttpError(405, 'method_not_allowed', `此地址只支持 ${allow}。Use ${allow} here.`, { Allow: allow });
}

function noRoute(): HttpError {
  return notFound('no_route', '没有这个编辑接口；见 GET /api/layers 与 README。No such editing route; see GET /api/layers and the README.');
}

function badBody(shape: string): HttpError {
  return badRequest('bad_body', `正文须为 JSON 对象：${shape}。The body must be a JSON object: ${shape}.`);
}

function checkKeys(b: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(b)) {
    if (!allowed.includes(k)) throw badRequest('unknown_param', `不认识的字段「${k.slice(0, 40)}」；可用：${allowed.join(', ')}。Unknown field "${k.slice(0, 40)}"; allowed: ${allowed.join(', ')}.`);
  }
}

function comment(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || v.length > MAX_COMMENT) throw badRequest('bad_comment', `comment 须为不超过 ${MAX_COMMENT} 字的文本。comment must be text of at most ${MAX_COMMENT} characters.`);
  return v;
}

function intParam(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw badRequest(`missing_${name}`, `${name} 须为 ≥ 0 的整数。${name} must be an integer ≥ 0.`);
  return v;
}

/** A GeoJSON Feature or {geometry, properties, id?}; the geometry's content is the service's to validate. */
function featureBody(v: unknown, allowId: boolean): { id?: string; geometry: GeoJSON.Geometry; properties: Record<string, unknown> } {
  if (!isObj(v)) throw badRequest('missing_feature', '缺少 feature：{"geometry": {...}, "properties": {...}}。Missing feature: {"geometry", "properties"}.');
  for (const k of Object.keys(v)) {
    if (!['type', 'id', 'geometry', 'properties'].includes(k)) throw badRequest('unknown_param', `feature 中不认识的字段「${k.slice(0, 40)}」。Unknown field "${k.slice(0, 40)}" in feature.`);
  }
  if (v.type !== undefined && v.type !== 'Feature') throw badRequest('bad_feature', 'feature.type 只能是 "Feature"。feature.type must be "Feature".');
  if (!isObj(v.geometry)) throw badRequest('missing_geometry', 'feature.geometry 须为 GeoJSON 几何对象。feature.geometry must be a GeoJSON geometry object.');
  if (!isObj(v.properties)) throw badRequest('missing_properties', 'feature.properties 须为对象。feature.properties must be an object.');
  const out: { id?: string; geometry: GeoJSON.Geometry; properties: Record<string, unknown> } = { geometry: v.geometry as unknown as GeoJSON.Geometry, properties: v.properties };
  if (v.id !== undefined && v.id !== null) {
    if (typeof v.id !== 'string') throw badRequest('bad_id', 'feature.id 须为文本。feature.id must be a string.');
    if (allowId && !FEATURE_ID_RE.test(v.id)) throw badRequest('bad_id', 'feature.id 须为 1–128 个字母、数字或 _.:@-。feature.id must be 1–128 of [A-Za-z0-9_.:@-].');
    out.id = v.id;
  }
  return out;
}

function parseAuditQuery(q: URLSearchParams): { layer?: string; actor?: string; since?: number; limit: number } {
  const out: { layer?: string; actor?: string; since?: number; limit: number } = { limit: AUDIT_LIMIT.def };
  for (const k of q.keys()) {
    if (!['layer', 'actor', 'since', 'limit'].includes(k)) throw badRequest('unknown_param', `不认识的参数「${k.slice(0, 40)}」；可用：layer, actor, since, limit。Unknown parameter; allowed: layer, actor, since, limit.`);
  }
  const layer = q.get('layer'), actor = q.get('actor'), since = q.get('since'), limit = q.get('limit');
  if (layer !== null) { if (!LAYER_RE.test(layer)) throw badRequest('bad_layer', 'layer 须为图层标识（小写字母、数字、_）。layer must be a layer id.'); out.layer = layer; }
  if (actor !== null) { if (!ACTOR_RE.test(actor)) throw badRequest('bad_actor', 'actor 须为「角色:标识」，如 planner:p-01。actor must be role:id.'); out.actor = actor; }
  if (since !== null) {
    const t = /^\d{1,15}$/.test(since) ? Number(since) : Date.parse(since);
    if (!Number.isFinite(t)) throw badRequest('bad_since', 'since 须为毫秒时间戳或 ISO 8601 时间。since must be ms since epoch or ISO 8601.');
    out.since = t;
  }
  if (limit !== null) {
    if (!/^\d{1,5}$/.test(limit) || Number(limit) < 1 || Number(limit) > AUDIT_LIMIT.max) throw badRequest('bad_limit', `limit 须为 1–${AUDIT_LIMIT.max} 的整数。limit must be 1–${AUDIT_LIMIT.max}.`);
    out.limit = Number(limit);
  }
  return out;
}

// ------------------------------------------------------------------------------------------ bodies and answers

function send(res: ServerResponse, status: number, value: unknown, head: boolean, headers: Record<string, string> = {}): void {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, {
    ...headers, 'Content-Type': JSON_TYPE, 'Content-Length': body.length, 'Cache-Control': 'no-store', 'Access-Control-Allow-Origin': '*',
  });
  res.end(head ? undefined : body);
}

/** EditError as `{ error: { code, message, ...details } }` (details: the 409's versions, the 422's issues). */
function sendEditError(res: ServerResponse, err: EditError, head: boolean): void {
  if (res.headersSent) { res.destroy(); return; }
  const { code: _c, message: _m, ...details } = err.details ?? {};
  const body = JSON.stringify({ error: { code: err.code, message: err.message, ...details } });
  res.writeHead(err.status, {
    'Content-Type': JSON_TYPE, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', 'Access-Control-Allow-Origin': '*',
  });
  res.end(head ? undefined : body);
}
