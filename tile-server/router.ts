// Maps a request to its handler. Every route validates its own input and throws an HttpError; this module
// turns those into JSON error bodies and anything unexpected into a logged 500 `internal`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { HttpError, notFound, sendError, sendJson } from './http-errors.ts';
import type { FeatureLayer } from './feature-store.ts';
import { ADDRESS_PARSE_PATH, type AddressApi } from './address-api.ts';
import { QUERY_PATH, QUERY_ROUTES, type QueryApi } from './query-api.ts';
import { INCIDENT_ROUTES, IncidentApi } from './incidents/api.ts';
import { TELEMETRY_ROUTES, TelemetryApi } from './telemetry/api.ts';
import * as ogc from './ogc.ts';
import { isSafeName, parseTarget } from './params.ts';
import { sendBytes, sendFile, serveStatic, statFile } from './static.ts';
import { EDIT_ROUTES, EditApi } from './editing/api.ts';
import type { ImportApi } from './editing/import-api.ts';
import type { PublishApi } from './geoserver/publish-api.ts';
import { WALL_ROUTES, type WallApi } from './wall-api.ts';
import { INDICATOR_ROUTE, IndicatorApi } from './indicators/api.ts';
import { PATROL_ROUTE, PatrolApi } from './patrol.ts';
import { CatalogApi } from './catalog-api.ts';
import { SharingApi } from './sharing/api.ts';
import { TileService, unknownTileset } from './tile-route.ts';
import { buildTileJson } from './tilejson.ts';
import type { AuthService } from './auth/auth-service.ts';
import { AUTH_ROUTES, AuthApi } from './auth/api.ts';
import { admit } from './auth/gate.ts';
import { maybeActorOf } from './auth/request-actor.ts';
import { handleAudit, type EditAuditSource, type SecurityAudit } from './auth/audit.ts';
import { LIFECYCLE_ROUTE, LifecycleApi } from './lifecycle/api.ts';
import { ruleFor } from './auth/policy.ts';
import { applySecurityHeaders } from './security-headers.ts';
import { personalView, type PersonalView } from './personal-data.ts';
import { hasPersonal } from '../layers/security/masking.ts';
import type { GrantSource } from '../layers/governance/model.ts';
import { governanceOf } from '../layers/governance/grades.ts';

export interface RouterContext {
  tiles: TileService;
  layers: Map<string, FeatureLayer>;
  dataDir: string;
  webDir: string;
  startedAt: number;
  /** Origin used when the Host header is absent or unusable. */
  fallbackOrigin: string;
  log: (msg: string) => void;
  /** The standard address base (/api/address/*); absent → those routes are 404. */
  address?: AddressApi;
  /** Spatial queries (/api/lookup, /api/query, /api/hotspots); absent → those routes are 404. */
  query?: QueryApi;
  /** Incidents and dispatch (/api/incidents, /api/attachments, /api/responders). Resolves when the incident
   *  store, dispatcher and service are open; rejects with the reason they are unavailable (→ 503). */
  incidents?: Promise<IncidentApi>;
  /** Telemetry (/api/devices, /api/alarms, /api/device-health, /api/rules, /api/telemetry/stats); rejects when off (→ 503). */
  telemetry?: Promise<TelemetryApi>;
  /** Layer editing (/api/layers, /api/audit); rejects when the edit store or service is unavailable (→ 503). */
  editing?: Promise<EditApi>;
  /** File import (POST /api/imports). */
  imports?: Promise<ImportApi>;
  /** Publishing to GeoServer (POST /api/publish). */
  publish?: Promise<PublishApi>;
  /** Users and sessions (issue 9): every request passes the gate (auth/gate.ts, rules in auth/policy.ts) first. */
  auth: AuthService;
  /** The command-centre wall (GET /api/indicators, POST /api/wall); absent → 404. */
  wall?: WallApi;
  /** Patrol check-ins and tracks of grid managers (POST /api/patrols/checkin, GET /api/patrols/track); rejects → 503. */
  patrols?: Promise<PatrolApi>;
  /** The city indicator system (/api/indicators…, issue 10); rejects when its store did not open (→ 503). */
  indicators?: Promise<IndicatorApi>;
  /** GET /api/audit (admin): the security audit and the edit audit; also where personal data seen in full is recorded. */
  audit?: { security: SecurityAudit; edits?: () => Promise<EditAuditSource> };
  /** Retention and purge (issue 10): GET /api/lifecycle, POST /api/lifecycle/purge (admin); absent → 404. */
  lifecycle?: LifecycleApi;
  /** Sharing grants in force (issue 10, the sharing service): every route that serves a layer decides access with
   *  them (auth/gate.ts, personal-data.ts). Absent → nobody holds a grant (graded layers: owners, admin, standing roles only). */
  sharing?: GrantSource;
  /** The server's clock (ServerOptions.clock): grant expiry is judged by it. Default Date.now. */
  clock?: () => number;
  /** The data resource catalog (GET /api/catalog, GET /api/catalog/{layer}; issue 10, H3); absent → 404. */
  catalog?: CatalogApi;
  /** Data sharing (POST /api/catalog/{layer}/requests, /api/sharing…; issue 10, H1); absent → 503 sharing_unavailable. */
  sharingApi?: SharingApi;
}

/** Writes editing takes: E1's routes under /api/layers (EditApi.acceptsMethod), POST /api/imports, POST /api/publish. */
function editWrite(method: string, path: string): boolean {
  if (path === '/api/imports' || path === '/api/publish') return method === 'POST';
  return EditApi.acceptsMethod(method, path);
}

const ALLOW = 'GET, HEAD, OPTIONS';
const PREFLIGHT = {
  Allow: ALLOW,
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': ALLOW,
  'Access-Control-Allow-Headers': 'Range, If-None-Match, If-Range, Content-Type',
  'Access-Control-Max-Age': '86400',
};
const INCIDENT_PREFLIGHT = {
  ...PREFLIGHT,
  Allow: 'GET, HEAD, POST, OPTIONS',
  'Access-Control-Allow-Methods': 'GET, HEAD, POST, OPTIONS',
  'Access-Control-Allow-Headers': 'Content-Type, Idempotency-Key, If-None-Match',
  'Access-Control-Expose-Headers': 'Location',
};
const RULES_PREFLIGHT = { ...INCIDENT_PREFLIGHT, Allow: 'GET, HEAD, PUT, OPTIONS', 'Access-Control-Allow-Methods': 'GET, HEAD, PUT, OPTIONS' };
const EDIT_METHODS = 'GET, HEAD, POST, PUT, DELETE, OPTIONS';
const EDIT_PREFLIGHT = { ...INCIDENT_PREFLIGHT, Allow: EDIT_METHODS, 'Access-Control-Allow-Methods': EDIT_METHODS, 'Access-Control-Allow-Headers': 'Content-Type, If-None-Match, If-Match' };

/** The origin the client used, for absolute links (TileJSON tiles, OGC links). Host is checked, never echoed raw. */
export function originOf(req: IncomingMessage, fallback: string): string {
  const host = req.headers.host;
  const proto = req.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http';
  if (host && /^([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(:\d{1,5})?$/.test(host)) return `${proto}://${host}`;
  return fallback;
}

export function createHandler(ctx: RouterContext): (req: IncomingMessage, res: ServerResponse) => void {
  const authApi = new AuthApi(ctx.auth);
  const dispatch = (req: IncomingMessage, res: ServerResponse) => handleAdmitted(ctx, authApi, req, res);
  // Tilesets whose tiles the policy makes public (the basemap): a cached tile of one needs no session.
  const publicTiles = ctx.tiles.tilesets.filter((ts) => ruleFor('GET', `/tiles/${ts}/0/0/0.mvt`)?.roles === 'public').map((ts) => `/tiles/${ts}/`);
  return (req, res) => {
    const method = req.method ?? 'GET';
    const head = method === 'HEAD';
    const url = req.url ?? '/';
    const q = url.startsWith('/tiles/') ? url.indexOf('?') : -1;
    const tilePath = url.startsWith('/tiles/') && (method === 'GET' || head) ? (q < 0 ? url : url.slice(0, q)) : '';
    if (tilePath.endsWith('.mvt')) {
      // The hot path: a tile served before (so its path was validated) answers from memory, its security headers
      // precomputed with it; the session is checked from the in-memory cache when the tileset is not public.
      const path = tilePath;
      if (ctx.tiles.has(path) && (publicTiles.some((p) => path.startsWith(p)) || ctx.auth.resolveCached(req)) && ctx.tiles.serveCached(req, res, path, head)) return;
    } else {
      // CSP, nosniff, Referrer-Policy, frame-ancestors … on every response (tiles carry them in their own header lists).
      applySecurityHeaders(res, req.headers['x-forwarded-proto'] === 'https');
    }
    try {
      // Preflights carry no credentials and reach no handler; everything else passes the gate first.
      if (method === 'OPTIONS') return dispatch(req, res);
      const pending = admit(ctx.auth, req, method, pathOf(req.url), { grants: ctx.sharing ?? null, clock: ctx.clock });
      if (pending) {
        pending.then(() => dispatch(req, res), (err: unknown) => { req.resume(); fail(ctx, req, res, err, head); });
        return;
      }
    } catch (err) {
      req.resume();
      fail(ctx, req, res, err, head);
      return;
    }
    dispatch(req, res);
  };
}

/** The request after the gate admitted it. */
function handleAdmitted(ctx: RouterContext, authApi: AuthApi, req: IncomingMessage, res: ServerResponse): void {
  {
    const method = req.method;
    const head = method === 'HEAD';
    try {
      if (method !== 'GET' && !head) {
        // POST is accepted where a route takes a body (address parsing, spatial queries, the incident routes); 405 everywhere else.
        const path = pathOf(req.url);
        if (method !== 'OPTIONS' && (path === '/api/session' || path.startsWith('/api/users'))) {
          authApi.handle(req, res, parseTarget(req.url ?? '/').segments, '', false).catch((err: unknown) => fail(ctx, req, res, err, false));
          return;
        }
        const parsePost = path === ADDRESS_PARSE_PATH || path === QUERY_PATH;
        const incidentPost = path.startsWith('/api/') && IncidentApi.acceptsPost(path);
        const telemetryPut = TelemetryApi.acceptsPut(path);
        const editing = path.startsWith('/api/layers') || path === '/api/imports' || path === '/api/publish';
        if (method === 'OPTIONS') {
          res.writeHead(204, editing ? EDIT_PREFLIGHT : telemetryPut ? RULES_PREFLIGHT : incidentPost || path.startsWith('/api/incidents') ? INCIDENT_PREFLIGHT
            : parsePost ? { ...PREFLIGHT, Allow: 'POST, OPTIONS', 'Access-Control-Allow-Methods': 'POST, OPTIONS' } : PREFLIGHT);
          res.end();
          return;
        }
        if (editing && editWrite(method ?? '', path)) {
          const out = route(ctx, req, res, false);
          if (out) out.catch((err: unknown) => fail(ctx, req, res, err, false));
          return;
        }
        if (method !== 'OPTIONS' && IndicatorApi.acceptsMethod(method ?? '', path)) {
          const out = route(ctx, req, res, false);
          if (out) out.catch((err: unknown) => fail(ctx, req, res, err, false));
          return;
        }
        if (method === 'PUT' && telemetryPut) {
          const out = route(ctx, req, res, false);
          if (out) out.catch((err: unknown) => fail(ctx, req, res, err, false));
          return;
        }
        if (method === 'POST' && (incidentPost || path === '/api/wall' || PatrolApi.acceptsPost(path) || LifecycleApi.acceptsPost(path) || SharingApi.acceptsPost(path) || (parsePost && (path === QUERY_PATH || ctx.address)))) {
          const out = route(ctx, req, res, false);
          if (out) out.catch((err: unknown) => fail(ctx, req, res, err, false));
          return;
        }
        throw new HttpError(405, 'method_not_allowed', `不支持 ${method} 方法；这里只读，请用 GET（写入接口见 README）。Method ${method} not allowed here: use GET (the write routes are listed in the README).`, { Allow: ALLOW });
      }
      const out = route(ctx, req, res, head, authApi);
      if (out) out.catch((err: unknown) => fail(ctx, req, res, err, head));
    } catch (err) {
      fail(ctx, req, res, err, head);
    }
  }
}

function pathOf(url: string | undefined): string {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return q < 0 ? u : u.slice(0, q);
}

function fail(ctx: RouterContext, req: IncomingMessage, res: ServerResponse, err: unknown, head: boolean): void {
  // Tile paths skip the up-front headers (their success lists carry them); errors get them here.
  if (!res.headersSent && !res.hasHeader('content-security-policy')) applySecurityHeaders(res, req.headers['x-forwarded-proto'] === 'https');
  if (err instanceof HttpError) {
    sendError(res, err, head);
    return;
  }
  ctx.log(`500 ${req.method} ${req.url?.slice(0, 300)}: ${(err as Error)?.stack ?? String(err)}`);
  sendError(res, new HttpError(500, 'internal', '服务器内部错误，已记录日志；请稍后重试或联系管理员。Internal error (logged); retry later or contact the operator.'), head);
}

function route(ctx: RouterContext, req: IncomingMessage, res: ServerResponse, head: boolean, authApi?: AuthApi): void | Promise<void> {
  const { segments: s, query } = parseTarget(req.url ?? '/');
  switch (s[0]) {
    case 'tiles':
      if (s.length === 5) {
        const url = req.url!;
        const q = url.indexOf('?');
        return ctx.tiles.handle(req, res, q < 0 ? url : url.slice(0, q), s[1], s[2], s[3], s[4], head);
      }
      if (s.length === 2 && s[1].endsWith('.json')) return tileJson(ctx, req, res, s[1].slice(0, -5), head);
      throw noRoute('/tiles/{tileset}.json 或 /tiles/{tileset}/{z}/{x}/{y}.mvt');
    case 'pmtiles':
      if (s.length === 2 && s[1].endsWith('.pmtiles')) {
        const name = s[1].slice(0, -8);
        if (!isSafeName(name) || !ctx.tiles.archive(name)) throw unknownTileset(name, ctx.tiles.tilesets);
        return dataFile(req, res, join(ctx.dataDir, `${name}.pmtiles`), 'application/vnd.pmtiles', head);
      }
      throw noRoute('/pmtiles/{tileset}.pmtiles');
    case 'data':
      if (s.length === 2 && s[1].endsWith('.fgb')) {
        const id = s[1].slice(0, -4);
        const layer = isSafeName(id) ? ctx.layers.get(id) : undefined;
        if (!layer) throw unknownLayer(id, ctx);
        return layerData(ctx, req, res, layer, head);
      }
      throw noRoute('/data/{layer}.fgb');
    case 'terrain':
      // The elevation grid the 3D view drapes the map on: a fixed pair of files, looked up by name only.
      if (s.length === 2 && (s[1] === 'dem.json' || s[1] === 'dem.f32')) {
        const type = s[1] === 'dem.json' ? 'application/json' : 'application/octet-stream';
        return dataFile(req, res, join(ctx.dataDir, 'terrain', s[1]), type, head);
      }
      throw noRoute('/terrain/dem.json 或 /terrain/dem.f32');
    case 'api':
      if ((AUTH_ROUTES as readonly string[]).includes(s[1]) && authApi) return authApi.handle(req, res, s, query, head);
      if ((QUERY_ROUTES as readonly string[]).includes(s[1])) {
        if (!ctx.query) throw new HttpError(503, 'store_unavailable', '空间查询暂不可用（数据存储未能打开，见服务日志）；请运行 npm run data 后重启服务。Spatial queries are unavailable (the store did not open; see the server log): run npm run data and restart.');
        return ctx.query.handle(req, res, s, query, head);
      }
      if ((INCIDENT_ROUTES as readonly string[]).includes(s[1])) return incidentRoute(ctx, req, res, s, query, head);
      if ((TELEMETRY_ROUTES as readonly string[]).includes(s[1])) return telemetryRoute(ctx, req, res, s, query, head);
      if (s[1] === 'audit' && s.length === 2 && ctx.audit) return handleAudit(req, res, query, head, ctx.audit);
      if (s[1] === LIFECYCLE_ROUTE && ctx.lifecycle) return ctx.lifecycle.handle(req, res, s, query, head);
      if ((EDIT_ROUTES as readonly string[]).includes(s[1])) return editRoute(ctx, req, res, s, query, head);
      if (s[1] === 'imports' && s.length === 2) return importRoute(ctx, req, res, query);
      if (s[1] === 'publish' && s.length === 2) return publishRoute(ctx, req, res, query);
      if ((WALL_ROUTES as readonly string[]).includes(s[1]) && ctx.wall) return ctx.wall.handle(req, res, s, query, head);
      if (SharingApi.owns(s)) {
        if (!ctx.sharingApi) { req.resume(); throw new HttpError(503, 'sharing_unavailable', '数据共享服务暂不可用（见服务日志：共享库未能打开）。Data sharing is unavailable: its store did not open (see the server log).', { 'Retry-After': '10' }); }
        return ctx.sharingApi.handle(req, res, s, query, head);
      }
      if (ctx.catalog && CatalogApi.handles(s)) return ctx.catalog.handle(req, res, s, query, head);
      if (s[1] === INDICATOR_ROUTE) return service(ctx.indicators, req, 'indicators_unavailable', '城市运行指标').then((api) => api.handle(req, res, s, query, head));
      if (s[1] === PATROL_ROUTE) return service(ctx.patrols, req, 'patrols_unavailable', '巡查签到').then((api) => api.handle(req, res, s, query, head));
      if (!ctx.address) throw noRoute('/tiles, /ogc, /data, /healthz');
      return ctx.address.handle(req, res, s, query, head);
    case 'ogc':
      return ogcRoute(ctx, req, res, s, query, head);
    case 'healthz':
      if (s.length !== 1) throw noRoute('/healthz');
      sendJson(res, {
        status: 'ok',
        tilesets: ctx.tiles.tilesets,
        layers: [...ctx.layers.keys()],
        uptime: Math.round((Date.now() - ctx.startedAt) / 1000),
      }, { head, cacheControl: 'no-store' });
      return;
    default:
      return serveStatic(req, res, ctx.webDir, s, head);
  }
}

async function incidentRoute(ctx: RouterContext, req: IncomingMessage, res: ServerResponse, s: string[], query: string, head: boolean): Promise<void> {
  let api: IncidentApi;
  try {
    if (!ctx.incidents) throw new Error('not configured');
    api = await ctx.incidents;
  } catch (err) {
    req.resume();
    throw new HttpError(503, 'incidents_unavailable', `事件服务暂不可用：${(err as Error).message.slice(0, 300)}（见服务日志；需要 npm run data 生成的道路与网格，及可写的 var/ 或可连接的 DATABASE_URL）。Incidents are unavailable (see the server log): they need the built roads and grids (npm run data) and a writable var/ or a reachable DATABASE_URL.`, { 'Retry-After': '10' });
  }
  return api.handle(req, res, s, query, head);
}

async function telemetryRoute(ctx: RouterContext, req: IncomingMessage, res: ServerResponse, s: string[], query: string, head: boolean): Promise<void> {
  let api: TelemetryApi;
  try {
    if (!ctx.telemetry) throw new Error('not configured');
    api = await ctx.telemetry;
  } catch (err) {
    req.resume();
    throw new HttpError(503, 'telemetry_unavailable', `物联服务暂不可用：${(err as Error).message.slice(0, 300)}（见服务日志；需要 npm run data 生成的设备图层，MQTT_PORT 端口空闲或可连接的 MQTT_URL）。Telemetry is unavailable (see the server log): it needs the built device layers (npm run data) and a free MQTT_PORT or a reachable MQTT_URL.`, { 'Retry-After': '10' });
  }
  return api.handle(req, res, s, query, head);
}

/** Waits for an optional service; a failure to open it is a 503 that says why. */
async function service<T>(p: Promise<T> | undefined, req: IncomingMessage, code: string, what: string): Promise<T> {
  try {
    if (!p) throw new Error('not configured');
    return await p;
  } catch (err) {
    req.resume();
    throw new HttpError(503, code, `${what}暂不可用：${(err as Error).message.slice(0, 300)}（见服务日志；编辑需要可写的 var/ 或可连接的 DATABASE_URL）。${code.replace(/_/g, ' ')} (see the server log): editing needs a writable var/ or a reachable DATABASE_URL.`, { 'Retry-After': '10' });
  }
}

async function editRoute(ctx: RouterContext, req: IncomingMessage, res: ServerResponse, s: string[], query: string, head: boolean): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD' && !editWrite(req.method ?? '', pathOf(req.url))) {
    req.resume();
    throw new HttpError(405, 'method_not_allowed', `此地址不支持 ${req.method}。Method ${req.method} not allowed on this path.`, { Allow: EDIT_METHODS });
  }
  const api = await service(ctx.editing, req, 'editing_unavailable', '图层编辑');
  return api.handle(req, res, s, query, head);
}

async function importRoute(ctx: RouterContext, req: IncomingMessage, res: ServerResponse, query: string): Promise<void> {
  if (req.method !== 'POST') throw new HttpError(405, 'method_not_allowed', '导入请用 POST（请求体为文件）。Use POST with the file as the body.', { Allow: 'POST, OPTIONS' });
  const api = await service(ctx.imports, req, 'import_unavailable', '数据导入');
  return api.handle(req, res, query);
}

async function publishRoute(ctx: RouterContext, req: IncomingMessage, res: ServerResponse, query: string): Promise<void> {
  if (req.method !== 'POST') throw new HttpError(405, 'method_not_allowed', '发布请用 POST {"layer": "…"}。Use POST with {"layer": "…"}.', { Allow: 'POST, OPTIONS' });
  const api = await service(ctx.publish, req, 'publish_unavailable', '发布到 GeoServer');
  return api.handle(req, res, query);
}

/** /data/{id}.fgb: the built file while the layer is unedited, else its effective data (ETag by revision);
 *  a layer with personal fields as this caller may see it (FeatureLayer.bytesFor: masked variants, cached). */
async function layerData(ctx: RouterContext, req: IncomingMessage, res: ServerResponse, layer: FeatureLayer, head: boolean): Promise<void> {
  const view = personalView(req, ctx.audit?.security);
  const variant = await layer.bytesFor(view);
  if (variant) {
    view.done(`GET /data/${layer.def.id}.fgb`);
    sendBytes(req, res, variant.bytes, variant.etag, { contentType: 'application/flatgeobuf', cacheControl: 'private, max-age=0, must-revalidate', head });
    return;
  }
  view.done(`GET /data/${layer.def.id}.fgb`);
  // Personal data in full, or a graded layer: no shared cache may keep it (the next caller may be masked or refused).
  const personal = hasPersonal(layer.def) || governanceOf(layer.def).grade === 'sensitive' || governanceOf(layer.def).grade === 'core';
  const edited = await layer.editedBytes();
  if (!edited) return dataFile(req, res, layer.path, 'application/flatgeobuf', head, personal ? 'private, max-age=0, must-revalidate' : undefined);
  sendBytes(req, res, edited.bytes, edited.etag, { contentType: 'application/flatgeobuf', cacheControl: `${personal ? 'private' : 'public'}, max-age=0, must-revalidate`, head });
}

/** The layers the signed-in caller may read (role, grade, sharing grants: PersonalView.canSee), for listings. */
function readableLayers(layers: Map<string, FeatureLayer>, req: IncomingMessage, view: PersonalView): Map<string, FeatureLayer> {
  if (!maybeActorOf(req)) return new Map();
  return new Map([...layers].filter(([, l]) => view.canSee(l.def)));
}

function noRoute(expected: string): HttpError {
  return notFound('not_found', `没有这个地址；应为 ${expected}。No such route; expected ${expected}.`);
}

function unknownLayer(id: string, ctx: RouterContext): HttpError {
  const known = [...ctx.layers.keys()];
  return notFound('unknown_layer', `没有图层 ${id.slice(0, 64)}；可用：${known.join(', ') || '无（请运行 npm run data）'}。No layer "${id.slice(0, 64)}"; available: ${known.join(', ') || 'none (run npm run data)'}.`);
}

function tileJson(ctx: RouterContext, req: IncomingMessage, res: ServerResponse, name: string, head: boolean): void {
  const archive = ctx.tiles.archive(name);
  if (!archive) throw unknownTileset(name, ctx.tiles.tilesets);
  sendJson(res, buildTileJson(name, archive, originOf(req, ctx.fallbackOrigin)), { head, cacheControl: 'no-cache' });
}

async function dataFile(req: IncomingMessage, res: ServerResponse, path: string, contentType: string, head: boolean, cacheControl = 'public, max-age=300, must-revalidate'): Promise<void> {
  const st = await statFile(path);
  if (!st) throw notFound('file_missing', '数据文件已被删除或移动；请运行 npm run data && npm run tiles 后重启服务。The data file is gone: rebuild with npm run data && npm run tiles and restart.');
  sendFile(req, res, path, st, { contentType, cacheControl, head });
}

async function ogcRoute(ctx: RouterContext, req: IncomingMessage, res: ServerResponse, s: string[], query: string, head: boolean): Promise<void> {
  const base = originOf(req, ctx.fallbackOrigin);
  const q = new URLSearchParams(query);
  const view = personalView(req, ctx.audit?.security);
  let out: ogc.OgcResult;
  // /ogc and /ogc/ both name the landing page.
  const n = s[s.length - 1] === '' && s.length > 1 ? s.length - 1 : s.length;
  if (n === 1) out = ogc.landing(base, q);
  else if (n === 2 && s[1] === 'conformance') out = ogc.conformance(q);
  else if (n === 2 && s[1] === 'api') out = ogc.openApi(base, ctx.layers);
  else if (n === 2 && s[1] === 'collections') out = await ogc.collections(base, readableLayers(ctx.layers, req, view), q, view);
  else if (n >= 3 && n <= 5 && s[1] === 'collections') {
    const layer = ogc.findLayer(ctx.layers, s[2]);
    if (n === 3) out = await ogc.collectionDoc(base, layer, q, view);
    else if (s[3] !== 'items') throw noRoute('/ogc/collections/{id}/items');
    else if (n === 4) out = await ogc.items(base, layer, q, view);
    else {
      if (s[4].length > 256) throw notFound('unknown_feature', '要素 id 过长。Feature id too long.');
      out = await ogc.item(base, layer, s[4], q, view);
    }
  } else throw noRoute('/ogc, /ogc/conformance, /ogc/collections, /ogc/collections/{id}/items');
  // Personal fields differ by caller: a shared cache must not hand one caller's answer to another.
  sendJson(res, out.body, { head, type: out.type, cacheControl: 'private, no-cache' });
  view.done(`GET /ogc/${s.slice(1).join('/').slice(0, 300)}`);
}
