// The incidents HTTP API (issue 6): report, list, follow, move through the loop, dispatch, attach photos.
//   GET  /api/incidents/categories
//   POST /api/incidents                         (Idempotency-Key) → 201 incident | 200 same incident on retry
//   GET  /api/incidents?bbox=&status=&grid=&town=&since=&category=&assignee=&overdue=&limit=&offset=
//   GET  /api/incidents/{id}                    incident + transitions + attachments
//   POST /api/incidents/{id}/transitions        {action, reason?, responderId?, into?, version?, attachmentIds?}
//        (responderId outside dispatch/reassign: the responder on whose behalf the signed-in user records the step)
//   GET  /api/incidents/{id}/candidates?limit=
//   POST /api/incidents/{id}/dispatch           {responderId, version?}
//   POST /api/incidents/{id}/attachments?kind=before|after   (image body ≤ 5 MiB, checked by magic bytes)
//   GET  /api/attachments/{id}
//   POST /api/responders/{id}/position          {lon, lat}
// Input is checked here (shapes, sizes, enums); the rules of the loop are the service's (IncidentError).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CITY } from '../../layers/catalog.ts';
import { INCIDENT_CATEGORIES, INCIDENT_SOURCES, getIncidentCategory, type IncidentSource } from '../../layers/incident-categories.ts';
import { HttpError, badRequest, notFound, sendJson } from '../http-errors.ts';
import { readJson, readBody } from '../request-body.ts';
import { incidentShown, personalView, transitionsShown } from '../personal-data.ts';
import { parseBbox, parseOffset } from '../params.ts';
import type { Dispatcher } from './dispatcher.ts';
import { IdempotencyConflict, IncidentNotFound, VersionConflict, type IncidentStore } from './incident-store.ts';
import {
  INCIDENT_ACTIONS, INCIDENT_STATUSES,
  type Actor, type Attachment, type IncidentAction, type IncidentFilter, type IncidentStatus, type NewIncident,
} from '../../layers/incidents/model.ts';
import { IncidentError, type IncidentService } from './service.ts';
import { actorOf } from '../auth/request-actor.ts';

export const INCIDENT_ROUTES = ['incidents', 'attachments', 'responders'] as const;
export const MAX_JSON_BODY = 64 * 1024;
const JSON_BODY = { max: MAX_JSON_BODY, tooLarge: `请求正文超过 ${MAX_JSON_BODY / 1024} KiB。Body larger than ${MAX_JSON_BODY / 1024} KiB.` };
export const MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024;
export const MAX_TITLE = 100;
export const MAX_DESCRIPTION = 2000;
export const MAX_REASON = 500;
export const MAX_ADDRESS = 200;
export const MAX_IDEMPOTENCY_KEY = 128;
export const LIST_LIMIT = { def: 100, max: 1000 } as const;
export const CANDIDATE_LIMIT = { def: 10, max: 50 } as const;
/** Incidents may be reported this far (degrees) outside the city's generous bounds (border roads, rivers). */
export const CITY_MARGIN_DEG = 0.05;
/** Actions only the assignee may take (state-machine.ts `who: 'assignee'`): responders have no accounts, so the
 *  signed-in user records them on the assignee's behalf (the actor names both). */
const ASSIGNEE_ACTIONS: ReadonlySet<IncidentAction> = new Set(['accept', 'decline', 'feedback']);
const ID_RE = /^[A-Za-z0-9_.:@-]{1,64}$/;

export interface IncidentApiDeps {
  service: IncidentService;
  store: IncidentStore;
  dispatcher: Dispatcher;
  clock: () => number;
  /** Called after a responder's position is stored (the live feed). */
  onPosition?: (id: string, lon: number, lat: number, at: number) => void;
}

// ------------------------------------------------------------------------------------------ parsing (pure)

/** A grid manager's scope: only incidents in their grids (others answer 404, as if absent). */
export function inScope(actor: Actor, incident: { gridCode: string | null }): boolean {
  if (actor.role !== 'grid_manager') return true;
  return incident.gridCode !== null && (actor.grids ?? []).includes(incident.gridCode);
}

/** The actor stored for the user's request (the user without their scope lists, which belong to the session). */
function recorded(a: Actor): Actor {
  return { id: a.id, role: a.role, ...(a.name ? { name: a.name } : {}) };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkKeys(b: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(b)) {
    if (!allowed.includes(k)) throw badRequest('unknown_param', `不认识的字段「${k.slice(0, 40)}」；可用：${allowed.join(', ')}。Unknown field "${k.slice(0, 40)}"; allowed: ${allowed.join(', ')}.`);
  }
}

function text(v: unknown, name: string, max: number, required: boolean): string | undefined {
  if (v === undefined || v === null) {
    if (required) throw badRequest(`missing_${name}`, `缺少 ${name}（1–${max} 字的文本）。Missing ${name}: text of 1–${max} characters.`);
    return undefined;
  }
  if (typeof v !== 'string' || (required && !v.trim()) || [...v].length > max) {
    throw badRequest(`bad_${name}`, `${name} 须为${required ? ' 1–' : '至多 '}${max} 字的文本。${name} must be text of ${required ? '1–' : 'at most '}${max} characters.`);
  }
  return v.trim();
}

function coordinate(v: unknown, name: 'lon' | 'lat'): number {
  const [w, s, e, n] = CITY.bounds;
  const [lo, hi] = name === 'lon' ? [w - CITY_MARGIN_DEG, e + CITY_MARGIN_DEG] : [s - CITY_MARGIN_DEG, n + CITY_MARGIN_DEG];
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw badRequest('bad_coordinate', `${name} 须为十进制度数（WGS84 数字），如 {"lon": 120.75, "lat": 31.65}。${name} must be a number of decimal degrees (WGS84), e.g. {"lon": 120.75, "lat": 31.65}.`);
  }
  if (v < lo || v > hi) {
    const label = name === 'lon' ? '经度' : '纬度';
    throw badRequest('outside_city', `${name}=${v} 不在${CITY.name}范围内（${label} ${lo}–${hi}）；请检查坐标系（须为 WGS84，不是 GCJ-02 或投影坐标）。${name}=${v} is outside ${CITY.name} (${lo}–${hi}); check the CRS: WGS84 degrees, not GCJ-02 or projected metres.`);
  }
  return v;
}

export type CreateInput = NewIncident | (Omit<NewIncident, 'lon' | 'lat'> & { addressText: string });
const CREATE_KEYS = ['lon', 'lat', 'address', 'addressCode', 'category', 'title', 'description', 'source', 'severity'] as const;

/** A POST /api/incidents body → the service's input; 400 with a stable code otherwise. */
export function parseCreateBody(v: unknown): CreateInput {
  if (!isObj(v)) throw badRequest('bad_body', '正文须为 JSON 对象，如 {"lon":120.75,"lat":31.65,"category":"0101","title":"井盖缺失","description":"…","source":"grid"}。The body must be a JSON object.');
  checkKeys(v, CREATE_KEYS);
  const category = v.category;
  if (typeof category !== 'string' || !getIncidentCategory(category)) {
    throw badRequest('unknown_category', `未知事件类别「${String(category).slice(0, 20)}」；类别见 GET /api/incidents/categories，如 0101、1102。Unknown category; see GET /api/incidents/categories (codes such as 0101, 1102).`);
  }
  const source = v.source;
  if (typeof source !== 'string' || !(source in INCIDENT_SOURCES)) {
    throw badRequest('bad_source', `source 须为 ${Object.keys(INCIDENT_SOURCES).join('、')} 之一。source must be one of ${Object.keys(INCIDENT_SOURCES).join(', ')}.`);
  }
  let severity: 1 | 2 | 3 | 4 | undefined;
  if (v.severity !== undefined && v.severity !== null) {
    if (v.severity !== 1 && v.severity !== 2 && v.severity !== 3 && v.severity !== 4) throw badRequest('bad_severity', 'severity 须为 1–4 的整数（4 最紧急）。severity must be an integer 1–4 (4 = critical).');
    severity = v.severity;
  }
  const base = {
    category, source: source as IncidentSource,
    title: text(v.title, 'title', MAX_TITLE, true)!,
    description: text(v.description, 'description', MAX_DESCRIPTION, false) ?? '',
    ...(severity ? { severity } : {}),
  };
  const address = text(v.address, 'address', MAX_ADDRESS, false);
  if (v.lon === undefined && v.lat === undefined) {
    if (!address) throw badRequest('missing_location', '须给出位置：lon 和 lat（WGS84），或 address（地址文本）。Give the location: lon and lat (WGS84), or address (address text).');
    if (v.addressCode !== undefined) throw badRequest('bad_address_code', '按地址上报时不能同时给 addressCode。addressCode goes with lon/lat only.');
    return { ...base, addressText: address };
  }
  const lon = coordinate(v.lon, 'lon'), lat = coordinate(v.lat, 'lat');
  let addressCode: string | undefined;
  if (v.addressCode !== undefined && v.addressCode !== null) {
    if (typeof v.addressCode !== 'string' || !/^\d{1,64}$/.test(v.addressCode)) throw badRequest('bad_address_code', 'addressCode 须为标准地址编码（数字）。addressCode must be a standard address code (digits).');
    addressCode = v.addressCode;
  }
  return { ...base, lon, lat, ...(address ? { address } : {}), ...(addressCode ? { addressCode } : {}) };
}

export interface TransitionBody { action: IncidentAction; reason?: string; responderId?: string; into?: string; version?: number; attachmentIds?: string[] }

function version(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw badRequest('bad_version', 'version 须为正整数（取自事件的 version 字段）。version must be a positive integer (the incident\'s version field).');
  return v;
}

function idField(v: unknown, name: string, required: boolean): string | undefined {
  if (v === undefined || v === null) {
    if (required) throw badRequest(`missing_${name}`, `缺少 ${name}。Missing ${name}.`);
    return undefined;
  }
  if (typeof v !== 'string' || !ID_RE.test(v)) throw badRequest(`bad_${name}`, `${name} 须为 1–64 个字母、数字或 _.:@-。${name} must be 1–64 of [A-Za-z0-9_.:@-].`);
  return v;
}

export function parseTransitionBody(v: unknown): TransitionBody {
  if (!isObj(v)) throw badRequest('bad_body', '正文须为 JSON 对象，如 {"action":"register"}。The body must be a JSON object such as {"action": "register"}.');
  checkKeys(v, ['action', 'reason', 'responderId', 'into', 'version', 'attachmentIds']);
  if (typeof v.action !== 'string' || !(INCIDENT_ACTIONS as readonly string[]).includes(v.action)) {
    throw badRequest('bad_action', `action 须为 ${INCIDENT_ACTIONS.join('、')} 之一。action must be one of ${INCIDENT_ACTIONS.join(', ')}.`);
  }
  const out: TransitionBody = { action: v.action as IncidentAction };
  const reason = text(v.reason, 'reason', MAX_REASON, false);
  if (reason) out.reason = reason;
  const responderId = idField(v.responderId, 'responderId', false);
  if (responderId) out.responderId = responderId;
  const into = idField(v.into, 'into', false);
  if (into) out.into = into;
  const ver = version(v.version);
  if (ver !== undefined) out.version = ver;
  if (v.attachmentIds !== undefined && v.attachmentIds !== null) {
    if (!Array.isArray(v.attachmentIds) || v.attachmentIds.length > 20) throw badRequest('bad_attachmentIds', 'attachmentIds 须为至多 20 个附件 id 的数组。attachmentIds must be an array of at most 20 attachment ids.');
    out.attachmentIds = v.attachmentIds.map((a) => idField(a, 'attachmentIds', true)!);
  }
  return out;
}

/** `since`: ms since epoch, or a UTC date/time (2026-05-01, 2026-05-01T08:00:00Z). */
export function parseSince(s: string): number {
  let v = NaN;
  if (/^\d{1,15}$/.test(s)) v = Number(s);
  else if (/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?Z)?$/.test(s)) v = Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s);
  if (!Number.isFinite(v)) throw badRequest('bad_since', 'since 须为毫秒时间戳或 UTC 时间，如 2026-05-01T08:00:00Z。since must be ms since epoch or a UTC time such as 2026-05-01T08:00:00Z.');
  return v;
}

function intParam(s: string | null, name: string, r: { def: number; max: number }): number {
  if (s === null || s === '') return r.def;
  if (!/^\d{1,7}$/.test(s) || Number(s) < 1) throw badRequest(`bad_${name}`, `${name} 须为 1–${r.max} 的整数。${name} must be an integer 1–${r.max}.`);
  return Math.min(Number(s), r.max);
}

const LIST_PARAMS = ['bbox', 'status', 'grid', 'town', 'since', 'category', 'assignee', 'overdue', 'limit', 'offset'];

export function parseListQuery(q: URLSearchParams): IncidentFilter {
  for (const k of q.keys()) if (!LIST_PARAMS.includes(k)) throw badRequest('unknown_param', `不认识的参数「${k.slice(0, 40)}」；可用：${LIST_PARAMS.join(', ')}。Unknown parameter; allowed: ${LIST_PARAMS.join(', ')}.`);
  const f: IncidentFilter = { limit: intParam(q.get('limit'), 'limit', LIST_LIMIT) };
  const offset = parseOffset(q.get('offset'));
  if (offset) f.offset = offset;
  const bbox = q.get('bbox');
  if (bbox) f.bbox = parseBbox(bbox) as [number, number, number, number];
  const status = q.get('status');
  if (status) {
    const list = status.split(',').map((x) => x.trim()).filter(Boolean);
    const bad = list.find((x) => !(INCIDENT_STATUSES as readonly string[]).includes(x));
    if (bad !== undefined || list.length === 0) throw badRequest('bad_status', `status 须为逗号分隔的 ${INCIDENT_STATUSES.join('、')}。status must be a comma-separated list of ${INCIDENT_STATUSES.join(', ')}.`);
    f.status = list as IncidentStatus[];
  }
  for (const [k, re] of [['grid', /^\d{6,20}$/], ['town', /^\d{6,20}$/], ['assignee', ID_RE]] as const) {
    const v = q.get(k);
    if (v === null || v === '') continue;
    if (!re.test(v)) throw badRequest(`bad_${k}`, `${k} 的格式不对（${k === 'assignee' ? '处置人员 id' : '行政区划/网格编码，数字'}）。${k} is malformed (${k === 'assignee' ? 'a responder id' : 'a numeric division/grid code'}).`);
    f[k] = v;
  }
  const category = q.get('category');
  if (category) {
    if (!getIncidentCategory(category)) throw badRequest('unknown_category', '未知事件类别；见 GET /api/incidents/categories。Unknown category; see GET /api/incidents/categories.');
    f.category = category;
  }
  const since = q.get('since');
  if (since) f.since = parseSince(since);
  const overdue = q.get('overdue');
  if (overdue !== null && overdue !== '') {
    if (!['true', 'false', '1', '0'].includes(overdue)) throw badRequest('bad_overdue', 'overdue 须为 true 或 false。overdue must be true or false.');
    f.overdue = overdue === 'true' || overdue === '1';
  }
  return f;
}

/** The image type from its first bytes; the declared Content-Type is not trusted. */
export function sniffImage(b: Uint8Array): Attachment['mime'] | null {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a) return 'image/png';
  if (b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) return 'image/webp';
  return null;
}

// ------------------------------------------------------------------------------------------ the API

const json = (res: ServerResponse, v: unknown, head = false, status = 200, headers: Record<string, string> = {}) => {
  if (status === 200 && Object.keys(headers).length === 0) return sendJson(res, v, { head, cacheControl: 'no-store' });
  const body = Buffer.from(JSON.stringify(v));
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length, 'Cache-Control': 'no-store', 'Access-Control-Allow-Origin': '*' });
  res.end(head ? undefined : body);
};

/** A 4xx whose error body carries details (e.g. `current` on version_conflict). */
export class DetailedHttpError extends HttpError {
  constructor(status: number, code: string, message: string, readonly detail: Record<string, unknown>) {
    super(status, code, message);
  }
}

export function sendDetailedError(res: ServerResponse, err: DetailedHttpError, head: boolean): void {
  if (res.headersSent) { res.destroy(); return; }
  json(res, { error: { ...err.detail, code: err.code, message: err.message } }, head, err.status);
}

/** Service and store errors → HTTP. */
export function toHttpError(err: unknown): HttpError | null {
  if (err instanceof IncidentError) return new DetailedHttpError(err.status, err.code, err.message, err.detail ?? {});
  if (err instanceof VersionConflict) {
    return new DetailedHttpError(409, 'version_conflict', `事件已被他人修改（当前版本 ${err.current.version}）；请刷新后重试。The incident changed meanwhile (now version ${err.current.version}): reload and retry.`, { current: err.current });
  }
  if (err instanceof IdempotencyConflict) {
    return new HttpError(409, 'idempotency_conflict', '该 Idempotency-Key 已用于另一份不同的上报；重试须发送相同的正文，新上报请换新键。This Idempotency-Key was used for a different report: a retry must send the same body; use a new key for a new report.');
  }
  if (err instanceof IncidentNotFound) return unknownIncident(err.id);
  return null;
}

const POST_ONLY = (what: string) => new HttpError(405, 'method_not_allowed', `${what} 只接受 POST。${what} accepts POST only.`, { Allow: 'POST, OPTIONS' });
const GET_ONLY = (what: string) => new HttpError(405, 'method_not_allowed', `${what} 只接受 GET。${what} accepts GET only.`, { Allow: 'GET, HEAD, OPTIONS' });
const noRoute = () => notFound('not_found', '没有这个接口；事件接口见 tile-server/README.md「Incidents」。No such route; see tile-server/README.md "Incidents".');
const unknownIncident = (id: string) => notFound('unknown_incident', `没有事件 ${id.slice(0, 64)}。No incident "${id.slice(0, 64)}".`);

export class IncidentApi {
  private responderIds?: Set<string>;

  constructor(private readonly d: IncidentApiDeps) {}

  /** Paths the router must accept POST on. */
  static acceptsPost(path: string): boolean {
    return path === '/api/incidents' || /^\/api\/incidents\/[^/]+\/(transitions|dispatch|attachments)$/.test(path) || /^\/api\/responders\/[^/]+\/position$/.test(path);
  }

  /** `s` = decoded path segments, s[0] = 'api', s[1] one of INCIDENT_ROUTES. */
  async handle(req: IncomingMessage, res: ServerResponse, s: string[], query: string, head: boolean): Promise<void> {
    try {
      await this.route(req, res, s, query, head);
    } catch (err) {
      if (!req.complete) req.resume();
      const h = toHttpError(err);
      if (h instanceof DetailedHttpError) return sendDetailedError(res, h, head);
      if (h) throw h;
      throw err;
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, s: string[], query: string, head: boolean): Promise<void> {
    const post = req.method === 'POST';
    const q = new URLSearchParams(query);
    if (s[1] === 'attachments') {
      if (s.length !== 3) throw noRoute();
      if (post) throw GET_ONLY('/api/attachments/{id}');
      return this.getAttachment(req, res, s[2], head);
    }
    if (s[1] === 'responders') {
      if (s.length !== 4 || s[3] !== 'position') throw noRoute();
      if (!post) throw POST_ONLY('/api/responders/{id}/position');
      return this.position(req, res, s[2]);
    }
    // incidents
    if (s.length === 2) {
      if (post) return this.create(req, res);
      return this.list(req, res, q, head);
    }
    if (s.length === 3) {
      if (post) throw GET_ONLY(`/api/incidents/${s[2].slice(0, 40)}`);
      if (s[2] === 'categories') return json(res, { categories: INCIDENT_CATEGORIES, sources: INCIDENT_SOURCES }, head);
      return this.getOne(req, res, s[2], head);
    }
    if (s.length !== 4) throw noRoute();
    const [id, sub] = [s[2], s[3]];
    if (sub === 'candidates') {
      if (post) throw GET_ONLY('/api/incidents/{id}/candidates');
      const limit = intParam(q.get('limit'), 'limit', CANDIDATE_LIMIT);
      await this.scoped(req, id);
      const candidates = await this.d.service.candidates(id, limit);
      return json(res, { incidentId: id, candidates }, head);
    }
    if (sub === 'transitions') {
      if (!post) throw POST_ONLY('/api/incidents/{id}/transitions');
      const user = actorOf(req);
      const incident = await this.scoped(req, id);
      const body = parseTransitionBody(await readJson(req, JSON_BODY));
      const { action, ...rest } = body;
      // Responders have no accounts: the signed-in user records their steps. `responderId` (outside dispatch and
      // reassign, where it names the new assignee) says on whose behalf; the assignee's own steps default to the assignee.
      const behalf = action !== 'dispatch' && action !== 'reassign' ? rest.responderId : undefined;
      if (behalf !== undefined) delete rest.responderId;
      const who = behalf ?? (ASSIGNEE_ACTIONS.has(action) ? incident.assigneeId : null);
      const actor: Actor = who ? { role: 'responder', id: who, name: `${user.name ?? user.id}（${user.id} 代录）` } : recorded(user);
      return json(res, await this.d.service.act(id, action, actor, rest));
    }
    if (sub === 'dispatch') {
      if (!post) throw POST_ONLY('/api/incidents/{id}/dispatch');
      const actor = recorded(actorOf(req));
      await this.scoped(req, id);
      const b = await readJson(req, JSON_BODY);
      if (!isObj(b)) throw badRequest('bad_body', '正文须为 {"responderId": "…", "version": n}。The body must be {"responderId": "…", "version": n}.');
      checkKeys(b, ['responderId', 'version']);
      const responderId = idField(b.responderId, 'responderId', true)!;
      return json(res, await this.d.service.dispatch(id, responderId, actor, version(b.version)));
    }
    if (sub === 'attachments') {
      if (!post) throw POST_ONLY('/api/incidents/{id}/attachments');
      return this.addAttachment(req, res, id, q);
    }
    throw noRoute();
  }

  private checkId(id: string): void {
    if (!ID_RE.test(id)) throw unknownIncident(id);
  }

  /** The incident if it exists and is in the user's scope; 404 otherwise (another grid's incident is not disclosed). */
  private async scoped(req: IncomingMessage, id: string) {
    this.checkId(id);
    const incident = await this.d.store.get(id);
    if (!incident || !inScope(actorOf(req), incident)) throw unknownIncident(id);
    return incident;
  }

  private async create(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const actor = recorded(actorOf(req));
    const rawKey = req.headers['idempotency-key'];
    const key = Array.isArray(rawKey) ? rawKey[0] : rawKey;
    if (key !== undefined && !new RegExp(`^[\\x21-\\x7e]{1,${MAX_IDEMPOTENCY_KEY}}$`).test(key)) {
      throw badRequest('bad_idempotency_key', `Idempotency-Key 须为 1–${MAX_IDEMPOTENCY_KEY} 个可见 ASCII 字符（建议 UUID）。Idempotency-Key must be 1–${MAX_IDEMPOTENCY_KEY} visible ASCII characters (a UUID is best).`);
    }
    const input = parseCreateBody(await readJson(req, JSON_BODY));
    // The service hashes the validated body with the reporter: a retry must be the same report by the same actor.
    const out = await this.d.service.create(input, actor, key ? { idempotencyKey: key } : undefined);
    const duplicates = out.duplicates.map((i) => ({ id: i.id, code: i.code, status: i.status, title: i.title, lon: i.lon, lat: i.lat, createdAt: i.createdAt }));
    json(res, { ...out.incident, duplicates }, false, out.created ? 201 : 200, { Location: `/api/incidents/${encodeURIComponent(out.incident.id)}` });
  }

  private async list(req: IncomingMessage, res: ServerResponse, q: URLSearchParams, head: boolean): Promise<void> {
    const f = parseListQuery(q);
    const actor = actorOf(req);
    if (actor.role === 'grid_manager') f.grids = actor.grids ?? [];
    const out = await this.d.service.list(f);
    const view = personalView(req);
    json(res, { total: out.total, limit: f.limit, offset: f.offset ?? 0, items: out.items.map((i) => incidentShown(view, i)) }, head);
  }

  private async getOne(req: IncomingMessage, res: ServerResponse, id: string, head: boolean): Promise<void> {
    this.checkId(id);
    const out = await this.d.service.get(id);
    if (!out || !inScope(actorOf(req), out.incident)) throw unknownIncident(id);
    const now = this.d.clock();
    const dl = out.incident.deadline;
    // Reporter and timeline names are personal: masked for analysts (tile-server/personal-data.ts).
    const view = personalView(req);
    const shown = { ...out, incident: incidentShown(view, out.incident), transitions: transitionsShown(view, out.incident.gridCode, out.transitions) };
    json(res, { ...shown, overdue: dl !== null && dl < now, secondsLeft: dl === null ? null : Math.round((dl - now) / 1000) }, head);
  }

  private async addAttachment(req: IncomingMessage, res: ServerResponse, id: string, q: URLSearchParams): Promise<void> {
    const actor = recorded(actorOf(req));
    const kind = q.get('kind') ?? 'before';
    if (kind !== 'before' && kind !== 'after') throw badRequest('bad_kind', 'kind 须为 before（上报时）或 after（处置后）。kind must be before or after.');
    await this.scoped(req, id);
    const body = await readBody(req, MAX_ATTACHMENT_BYTES);
    if (body === null) throw new HttpError(413, 'body_too_large', `图片超过 ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MiB；请压缩后再传。The image is larger than ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MiB: compress it and retry.`, { Connection: 'close' });
    const mime = sniffImage(body);
    if (!mime) throw new HttpError(415, 'unsupported_media_type', '只接受 JPEG、PNG 或 WebP 图片（按文件内容判断）。Only JPEG, PNG or WebP images are accepted (checked by content).');
    const meta = await this.d.store.addAttachment({ incidentId: id, kind, mime }, new Uint8Array(body.buffer, body.byteOffset, body.byteLength), this.d.clock(), actor);
    json(res, meta, false, 201, { Location: `/api/attachments/${encodeURIComponent(meta.id)}` });
  }

  private async getAttachment(req: IncomingMessage, res: ServerResponse, id: string, head: boolean): Promise<void> {
    const missing = () => notFound('unknown_attachment', `没有附件 ${id.slice(0, 64)}。No attachment "${id.slice(0, 64)}".`);
    if (!ID_RE.test(id)) throw missing();
    const a = await this.d.store.getAttachment(id);
    if (!a) throw missing();
    const actor = actorOf(req);
    if (actor.role === 'grid_manager') {
      const incident = await this.d.store.get(a.meta.incidentId);
      if (!incident || !inScope(actor, incident)) throw missing();
    }
    res.writeHead(200, {
      'Content-Type': a.meta.mime, 'Content-Length': a.data.byteLength, ETag: `"${a.meta.sha256}"`,
      // Attachments never change once stored; personal data, so not for shared caches.
      'Cache-Control': 'private, max-age=86400, immutable', 'X-Content-Type-Options': 'nosniff', 'Access-Control-Allow-Origin': '*',
    });
    res.end(head ? undefined : Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength));
  }

  private async position(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    actorOf(req);
    this.responderIds ??= new Set(this.d.dispatcher.responders().map((r) => r.id));
    if (!this.responderIds.has(id)) throw notFound('unknown_responder', `没有处置人员 ${id.slice(0, 64)}。No responder "${id.slice(0, 64)}".`);
    const b = await readJson(req, JSON_BODY);
    if (!isObj(b)) throw badRequest('bad_body', '正文须为 {"lon": …, "lat": …}。The body must be {"lon": …, "lat": …}.');
    checkKeys(b, ['lon', 'lat']);
    const lon = coordinate(b.lon, 'lon'), lat = coordinate(b.lat, 'lat');
    const at = this.d.clock();
    await this.d.store.setResponderPosition(id, lon, lat, at);
    this.d.onPosition?.(id, lon, lat, at);
    json(res, { id, lon, lat, at });
  }
}

// ------------------------------------------------------------------------------------------ bodies

