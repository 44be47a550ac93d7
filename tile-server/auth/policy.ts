// ONE table of who may call what. The router gate (tile-server/auth/gate.ts) looks every request up here
// before any handler runs: a route that is not in the table is 404 (fail closed), so a new handler cannot be
// reached until someone decides who may use it. Rules are tried in order; the first match wins.
//
// Patterns: literal segments, `:name` for one segment (with an optional literal suffix, `:layer.fgb`), and a
// trailing `*` for any rest (zero or more segments). A `:layer` parameter also checks LayerDef.roles of that
// layer (so /ogc/collections/{layer} and /data/{layer}.fgb answer 403 for a role the catalog does not list);
// rules marked `layerData` check the layer's grade and the caller's sharing grants instead (issue 10).
// 'GET' rules also cover HEAD. Scope (a grid manager's grids, a planner's layers) is checked in the handlers
// with actor.grids / actor.layers: it depends on the data, not the route.
import type { Role } from '../../layers/catalog.ts';

export interface RouteRule {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | '*';
  pattern: string;
  roles: Role[] | 'public' | 'signed_in';
  note?: string;
  /** The route lets the `:layer`'s data out (or changes it): the gate decides with layers/governance/access.ts (grade,
   *  department, sharing grants) instead of LayerDef.roles alone; a write needs full access. Issue 10. */
  layerData?: boolean;
}

const OPS: Role[] = ['admin', 'operator'];
/** Who works cases: operators dispatch, grid managers report and handle in their grids. */
const CASEWORK: Role[] = ['admin', 'operator', 'grid_manager'];
/** Who reads cases (analysts for statistics). */
const CASE_READ: Role[] = ['admin', 'operator', 'grid_manager', 'analyst'];
/** Editors: per-layer rights are LayerDef.edit.roles, checked by the edit service. */
const EDITORS: Role[] = ['admin', 'planner', 'grid_manager'];
const ADMIN: Role[] = ['admin'];
/** Who reads the city indicators (issue 10). */
const INDICATOR_READ: Role[] = ['admin', 'operator', 'analyst', 'planner', 'grid_manager'];

export const ROUTE_RULES: RouteRule[] = [
  // The sign-in page and the basemap: public, so the page can load and show the map behind the sign-in form.
  { method: 'GET', pattern: '/', roles: 'public', note: 'web app' },
  { method: 'GET', pattern: '/assets/*', roles: 'public', note: 'web app bundles' },
  { method: 'GET', pattern: '/cesium/*', roles: 'public', note: 'Cesium static files' },
  { method: 'GET', pattern: '/icons/*', roles: 'public', note: 'PWA icons' },
  { method: 'GET', pattern: '/healthz', roles: 'public' },
  { method: 'GET', pattern: '/tiles/basemap.json', roles: 'public' },
  { method: 'GET', pattern: '/tiles/basemap/*', roles: 'public' },
  { method: 'GET', pattern: '/pmtiles/basemap.pmtiles', roles: 'public' },
  { method: 'GET', pattern: '/terrain/*', roles: 'public', note: 'elevation for the 3D view' },
  { method: 'GET', pattern: '/api/session', roles: 'public', note: '200 {user} or 401 not_signed_in' },
  { method: 'POST', pattern: '/api/session', roles: 'public', note: 'sign in' },
  { method: 'DELETE', pattern: '/api/session', roles: 'public', note: 'sign out (204 even without a session)' },
  // Everything else needs a session.
  { method: 'GET', pattern: '/tiles/:tileset.json', roles: 'signed_in' },
  { method: 'GET', pattern: '/tiles/:tileset/*', roles: 'signed_in' },
  { method: 'GET', pattern: '/pmtiles/:tileset.pmtiles', roles: 'signed_in' },
  { method: 'GET', pattern: '/data/:layer.fgb', roles: 'signed_in', note: 'and layer access (grade, grants)', layerData: true },
  { method: 'GET', pattern: '/ogc', roles: 'signed_in' },
  { method: 'GET', pattern: '/ogc/conformance', roles: 'signed_in' },
  { method: 'GET', pattern: '/ogc/api', roles: 'signed_in' },
  { method: 'GET', pattern: '/ogc/collections', roles: 'signed_in', note: 'lists the layers the role may read' },
  { method: 'GET', pattern: '/ogc/collections/:layer', roles: 'signed_in', note: 'and layer access (grade, grants)', layerData: true },
  { method: 'GET', pattern: '/ogc/collections/:layer/items', roles: 'signed_in', note: 'and layer access (grade, grants)', layerData: true },
  { method: 'GET', pattern: '/ogc/collections/:layer/items/:id', roles: 'signed_in', note: 'and layer access (grade, grants)', layerData: true },
  { method: 'POST', pattern: '/api/address/parse', roles: 'signed_in' },
  { method: 'GET', pattern: '/api/address/:name', roles: 'signed_in', note: 'search (rate-limited), reverse, entity, {code}' },
  { method: 'GET', pattern: '/api/lookup', roles: 'signed_in', note: 'rate-limited' },
  { method: 'GET', pattern: '/api/query', roles: 'signed_in', note: 'rate-limited' },
  { method: 'POST', pattern: '/api/query', roles: 'signed_in', note: 'rate-limited' },
  { method: 'GET', pattern: '/api/hotspots', roles: 'signed_in' },
  // Incidents (scope: a grid manager sees and acts on the incidents of their grids only).
  { method: 'GET', pattern: '/api/incidents/categories', roles: 'signed_in' },
  { method: 'GET', pattern: '/api/incidents', roles: CASE_READ },
  { method: 'POST', pattern: '/api/incidents', roles: CASEWORK },
  { method: 'GET', pattern: '/api/incidents/:id', roles: CASE_READ },
  { method: 'POST', pattern: '/api/incidents/:id/transitions', roles: CASEWORK },
  { method: 'GET', pattern: '/api/incidents/:id/candidates', roles: CASEWORK },
  { method: 'POST', pattern: '/api/incidents/:id/dispatch', roles: CASEWORK },
  { method: 'POST', pattern: '/api/incidents/:id/attachments', roles: CASEWORK },
  { method: 'GET', pattern: '/api/attachments/:id', roles: CASE_READ },
  { method: 'POST', pattern: '/api/responders/:id/position', roles: OPS, note: 'responder positions relayed by the duty desk' },
  // Telemetry.
  { method: 'GET', pattern: '/api/devices', roles: 'signed_in' },
  { method: 'GET', pattern: '/api/devices/:id', roles: 'signed_in' },
  { method: 'GET', pattern: '/api/alarms', roles: 'signed_in' },
  { method: 'GET', pattern: '/api/device-health', roles: 'signed_in' },
  { method: 'GET', pattern: '/api/rules', roles: 'signed_in' },
  { method: 'PUT', pattern: '/api/rules', roles: OPS },
  { method: 'GET', pattern: '/api/telemetry/stats', roles: ['admin', 'operator', 'analyst'] },
  // Editing (per layer: LayerDef.edit.roles, gridScoped for grid managers, actor.layers for planners).
  { method: 'GET', pattern: '/api/layers', roles: 'signed_in' },
  { method: 'GET', pattern: '/api/layers/:layer/features/:id', roles: 'signed_in', note: 'and layer access (grade, grants)', layerData: true },
  { method: 'GET', pattern: '/api/layers/:layer/features/:id/history', roles: 'signed_in', note: 'and layer access (grade, grants)', layerData: true },
  { method: 'POST', pattern: '/api/layers/:layer/features', roles: EDITORS, layerData: true },
  { method: 'PUT', pattern: '/api/layers/:layer/features/:id', roles: EDITORS, layerData: true },
  { method: 'DELETE', pattern: '/api/layers/:layer/features/:id', roles: EDITORS, layerData: true },
  { method: 'POST', pattern: '/api/layers/:layer/features/:id/restore', roles: EDITORS, layerData: true },
  { method: 'POST', pattern: '/api/layers/:layer/edits', roles: EDITORS, layerData: true },
  { method: 'POST', pattern: '/api/layers/:layer/validate', roles: EDITORS, layerData: true },
  { method: 'POST', pattern: '/api/imports', roles: EDITORS, note: '?layer= checked like the edit routes' },
  { method: 'POST', pattern: '/api/publish', roles: ['admin', 'planner'] },
  { method: 'GET', pattern: '/api/audit', roles: ADMIN },
  // The data resource catalog (issue 10): metadata of every layer for everyone signed in (metadata is not data; each
  // entry says the caller's access). `:name`, not `:layer`: the gate must not refuse the metadata of a graded layer.
  { method: 'GET', pattern: '/api/catalog', roles: 'signed_in', note: 'search: q, department, grade, theme' },
  { method: 'GET', pattern: '/api/catalog/:name', roles: 'signed_in', note: 'one layer: fields, lineage, quality, CRS, formats' },
  // Data sharing (issue 10, tile-server/sharing): anyone signed in may ask; who may approve, refuse, revoke, see a
  // request or leave feedback (admin, the owner department's data steward, the requester) is decided by the service.
  // `:name`, not `:layer`: asking is neither seeing nor editing the layer (no grade check, and a planner may ask for a
  // layer outside actor.layers); the API checks LayerDef.roles itself (403 layer_forbidden).
  { method: 'POST', pattern: '/api/catalog/:name/requests', roles: 'signed_in', note: 'request a graded layer: purpose, fields, areas, days' },
  { method: 'GET', pattern: '/api/sharing', roles: 'signed_in', note: 'box=mine|inbox|all (all: admin), status=' },
  { method: 'GET', pattern: '/api/sharing/:id', roles: 'signed_in', note: 'requester, the layer\'s approvers, admin' },
  { method: 'POST', pattern: '/api/sharing/:id/approve', roles: 'signed_in', note: 'admin or the owner\'s data steward; not the requester' },
  { method: 'POST', pattern: '/api/sharing/:id/refuse', roles: 'signed_in', note: 'admin or the owner\'s data steward, with a reason' },
  { method: 'POST', pattern: '/api/sharing/:id/revoke', roles: 'signed_in', note: 'admin or the owner\'s data steward, with a reason' },
  { method: 'POST', pattern: '/api/sharing/:id/feedback', roles: 'signed_in', note: 'the requester, once approved' },
  // Retention and purge (issue 10, tile-server/lifecycle).
  { method: 'GET', pattern: '/api/lifecycle', roles: ADMIN, note: 'retention rules, next run, last runs' },
  { method: 'POST', pattern: '/api/lifecycle/purge', roles: ADMIN, note: 'purge now' },
  // Users (admin).
  { method: 'GET', pattern: '/api/users', roles: ADMIN },
  { method: 'POST', pattern: '/api/users', roles: ADMIN },
  { method: 'GET', pattern: '/api/users/:username', roles: ADMIN },
  { method: 'PUT', pattern: '/api/users/:username', roles: ADMIN },
  { method: 'DELETE', pattern: '/api/users/:username', roles: ADMIN },
  // The wall (A3) and the phone (A4).
  { method: 'GET', pattern: '/api/wall/summary', roles: ['admin', 'operator', 'analyst'], note: 'the wall\'s operating summary (GET /api/indicators before issue 10)' },
  { method: 'POST', pattern: '/api/wall', roles: OPS },
  // The city indicator system (issue 10). Grid managers read the city and the areas down to their own grids (service).
  { method: 'GET', pattern: '/api/indicators', roles: INDICATOR_READ },
  { method: 'GET', pattern: '/api/indicators/series', roles: INDICATOR_READ },
  { method: 'GET', pattern: '/api/indicators/definitions', roles: INDICATOR_READ },
  { method: 'POST', pattern: '/api/indicators/definitions', roles: ['admin', 'planner'] },
  { method: 'PUT', pattern: '/api/indicators/definitions/:id', roles: ['admin', 'planner'], note: 'not built-in ones' },
  { method: 'DELETE', pattern: '/api/indicators/definitions/:id', roles: ['admin', 'planner'], note: 'not built-in ones' },
  { method: 'POST', pattern: '/api/indicators/preview', roles: ['admin', 'operator', 'analyst', 'planner'], note: 'nothing saved' },
  { method: 'POST', pattern: '/api/indicators/compute', roles: ['admin', 'operator', 'planner'] },
  { method: 'POST', pattern: '/api/patrols/checkin', roles: ['grid_manager'] },
  { method: 'GET', pattern: '/api/patrols/track', roles: CASEWORK, note: 'grid managers: their own track' },
  // The live feed (HTTP upgrade; per-message filtering by role and scope in the hub).
  { method: 'GET', pattern: '/ws', roles: 'signed_in' },
  { method: 'GET', pattern: '/mqtt', roles: ['admin', 'operator'], note: 'MQTT over WebSocket to the embedded broker (publishing readings raises alarms)' },
  // Other files of the web app (index.html, sw.js, manifest.webmanifest, favicon) and client-side routes (→ index.html).
  { method: 'GET', pattern: '/*', roles: 'public', note: 'the web app: any path outside api, ogc, data, tiles, pmtiles, terrain, ws, mqtt, healthz' },
];

/** First segments that are never static files: a path under them needs its own rule. */
const RESERVED = new Set(['api', 'ogc', 'data', 'tiles', 'pmtiles', 'terrain', 'ws', 'mqtt', 'healthz']);

interface Compiled { rule: RouteRule; parts: { name?: string; literal?: string; suffix?: string }[]; rest: boolean }

const COMPILED: Compiled[] = ROUTE_RULES.map((rule) => {
  const segs = rule.pattern === '/' ? [''] : rule.pattern.slice(1).split('/');
  const rest = segs[segs.length - 1] === '*';
  const parts = (rest ? segs.slice(0, -1) : segs).map((s) => {
    if (!s.startsWith(':')) return { literal: s };
    const dot = s.indexOf('.');
    return dot < 0 ? { name: s.slice(1) } : { name: s.slice(1, dot), suffix: s.slice(dot) };
  });
  return { rule, parts, rest };
});

export interface RuleMatch { rule: RouteRule; params: Record<string, string> }

function segmentsOf(path: string): string[] {
  const q = path.indexOf('?');
  const p = q < 0 ? path : path.slice(0, q);
  if (p === '/' || p === '') return [''];
  const s = p.slice(1).split('/');
  if (s.length > 1 && s[s.length - 1] === '') s.pop(); // a trailing slash names the same resource
  return s.map((x) => { try { return decodeURIComponent(x); } catch { return x; } });
}

function match(c: Compiled, s: string[]): Record<string, string> | null {
  if (c.rest ? s.length < c.parts.length : s.length !== c.parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < c.parts.length; i++) {
    const p = c.parts[i], v = s[i];
    if (p.literal !== undefined) { if (v !== p.literal) return null; continue; }
    let value = v;
    if (p.suffix) {
      if (!v.endsWith(p.suffix) || v.length === p.suffix.length) return null;
      value = v.slice(0, -p.suffix.length);
    }
    if (!value) return null;
    params[p.name!] = value;
  }
  if (c.rule.pattern === '/*' && RESERVED.has(s[0])) return null;
  return params;
}

/** The rule and its parameters for a request, or null (→ 404: a route unknown to the policy). */
export function matchRule(method: string, path: string): RuleMatch | null {
  const m = method === 'HEAD' ? 'GET' : method;
  const s = segmentsOf(path);
  for (const c of COMPILED) {
    if (c.rule.method !== '*' && c.rule.method !== m) continue;
    const params = match(c, s);
    if (params) return { rule: c.rule, params };
  }
  return null;
}

export function ruleFor(method: string, path: string): RouteRule | null {
  return matchRule(method, path)?.rule ?? null;
}

/** The methods some rule accepts on this path (for 405 Allow); empty → the path is unknown. */
export function methodsFor(path: string): string[] {
  const s = segmentsOf(path);
  const out = new Set<string>();
  for (const c of COMPILED) if (match(c, s)) out.add(c.rule.method);
  return [...out];
}
