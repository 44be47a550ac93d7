// The telemetry HTTP API (issue 7 item 6):
//   GET /api/devices?bbox=&kind=&status=&limit=&offset=   devices with position, status and the thresholds that apply
//   GET /api/devices/{id}?hours=&limit=                    one device + recent readings + its rules + its alarms
//   GET /api/alarms?since=&status=&limit=
//   GET /api/device-health                                 online rates by department/town/kind, offline/sub-healthy lists
//   GET /api/rules            PUT /api/rules  (JSON array of rules, or {"rules": [...]}; validated, persisted)
//   GET /api/telemetry/stats                               ingest, engine, live feed and broker counters
// Input is checked here; rule validation is rules.ts's (RuleError → 400 bad_rules naming the field).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, badRequest, notFound, sendJson } from '../http-errors.ts';
import { readJson } from '../request-body.ts';
import { parseBbox, parseOffset } from '../params.ts';
import { parseSince } from '../incidents/api.ts';
import { DEVICE_KINDS, type DeviceKind, type DeviceState, type DeviceStatus, type Rule } from '../../layers/telemetry/model.ts';
import type { TelemetryEngine } from './engine.ts';
import { getLayer } from '../../layers/catalog.ts';
import { personalView, type PersonalView } from '../personal-data.ts';
import { RuleError } from './rules.ts';

export const TELEMETRY_ROUTES = ['devices', 'alarms', 'device-health', 'rules', 'telemetry'] as const;
export const DEVICE_LIMIT = { def: 1000, max: 30_000 } as const;
export const ALARM_LIMIT = { def: 200, max: 5000 } as const;
export const READING_LIMIT = { def: 500, max: 10_000 } as const;
/** Recent readings on GET /api/devices/{id}: the last `hours` (default 24, at most the 7-day retention). */
export const HISTORY_HOURS = { def: 24, max: 168 } as const;
export const MAX_RULES_BODY = 256 * 1024;
const JSON_BODY = { max: MAX_RULES_BODY, tooLarge: `规则正文超过 ${MAX_RULES_BODY / 1024} KiB。Rules body larger than ${MAX_RULES_BODY / 1024} KiB.` };
const STATUSES: readonly DeviceStatus[] = ['online', 'alarm', 'subhealth', 'offline', 'unknown'];
const ID_RE = /^[A-Za-z0-9_.:@-]{1,64}$/;

export interface TelemetryApiDeps {
  engine: TelemetryEngine;
  clock: () => number;
  /** Counters for /api/telemetry/stats (ingest, engine totals, live feed, broker). */
  stats: () => unknown;
}

/** A threshold that applies to a device, as listed on /api/devices (the rule's params, flattened). */
export interface AppliedThreshold { ruleId: string; severity: number; above?: number; below?: number; hysteresis?: number }

export function thresholdsOf(rules: readonly Rule[]): AppliedThreshold[] {
  const out: AppliedThreshold[] = [];
  for (const r of rules) {
    if (r.type !== 'threshold' || !r.enabled) continue;
    const t: AppliedThreshold = { ruleId: r.id, severity: r.severity };
    for (const k of ['above', 'below', 'hysteresis'] as const) if (typeof r.params[k] === 'number') t[k] = r.params[k] as number;
    out.push(t);
  }
  return out;
}

function intParam(s: string | null, name: string, r: { def: number; max: number }): number {
  if (s === null || s === '') return r.def;
  if (!/^\d{1,7}$/.test(s) || Number(s) < 1) throw badRequest(`bad_${name}`, `${name} 须为 1–${r.max} 的整数。${name} must be an integer 1–${r.max}.`);
  return Math.min(Number(s), r.max);
}

function onlyParams(q: URLSearchParams, allowed: readonly string[]): void {
  for (const k of q.keys()) {
    if (!allowed.includes(k)) throw badRequest('unknown_param', `不认识的参数「${k.slice(0, 40)}」；可用：${allowed.join(', ') || '无'}。Unknown parameter; allowed: ${allowed.join(', ') || 'none'}.`);
  }
}

export interface DeviceQuery { bbox?: [number, number, number, number]; kind?: DeviceKind; status?: DeviceStatus; limit: number; offset: number }

export function parseDeviceQuery(q: URLSearchParams): DeviceQuery {
  onlyParams(q, ['bbox', 'kind', 'status', 'limit', 'offset']);
  const f: DeviceQuery = { limit: intParam(q.get('limit'), 'limit', DEVICE_LIMIT), offset: parseOffset(q.get('offset')) };
  const bbox = q.get('bbox');
  if (bbox) f.bbox = parseBbox(bbox) as [number, number, number, number];
  const kind = q.get('kind');
  if (kind) {
    if (!(DEVICE_KINDS as readonly string[]).includes(kind)) throw badRequest('bad_kind', `kind 须为 ${DEVICE_KINDS.join('、')} 之一。kind must be one of ${DEVICE_KINDS.join(', ')}.`);
    f.kind = kind as DeviceKind;
  }
  const status = q.get('status');
  if (status) {
    if (!(STATUSES as readonly string[]).includes(status)) throw badRequest('bad_status', `status 须为 ${STATUSES.join('、')} 之一。status must be one of ${STATUSES.join(', ')}.`);
    f.status = status as DeviceStatus;
  }
  return f;
}

export function parseAlarmQuery(q: URLSearchParams): { since?: number; status?: 'active' | 'cleared'; limit: number } {
  onlyParams(q, ['since', 'status', 'limit']);
  const f: { since?: number; status?: 'active' | 'cleared'; limit: number } = { limit: intParam(q.get('limit'), 'limit', ALARM_LIMIT) };
  const since = q.get('since');
  if (since) f.since = parseSince(since);
  const status = q.get('status');
  if (status) {
    if (status !== 'active' && status !== 'cleared') throw badRequest('bad_status', 'status 须为 active（未消除）或 cleared（已消除）。status must be active or cleared.');
    f.status = status;
  }
  return f;
}

const noRoute = () => notFound('not_found', '没有这个接口；物联接口见 tile-server/telemetry/README.md「Telemetry API」。No such route; see tile-server/telemetry/README.md "Telemetry API".');
const methodNotAllowed = (what: string, allow: string) =>
  new HttpError(405, 'method_not_allowed', `${what} 只接受 ${allow}。${what} accepts ${allow} only.`, { Allow: `${allow}, OPTIONS` });

export class TelemetryApi {
  constructor(private readonly d: TelemetryApiDeps) {}

  /** Paths the router must accept PUT on. */
  static acceptsPut(path: string): boolean {
    return path === '/api/rules';
  }

  /** `s` = decoded path segments, s[0] = 'api', s[1] one of TELEMETRY_ROUTES. */
  async handle(req: IncomingMessage, res: ServerResponse, s: string[], query: string, head: boolean): Promise<void> {
    const put = req.method === 'PUT';
    const q = new URLSearchParams(query);
    const e = this.d.engine;
    if (s[1] === 'rules' && s.length === 2) {
      if (put) return this.putRules(req, res);
      onlyParams(q, []);
      return json(res, { rules: e.rules() }, head);
    }
    if (put) { req.resume(); throw methodNotAllowed(`/${s.join('/').slice(0, 60)}`, 'GET, HEAD'); }
    // Devices are features of catalog layers (patrol units: the responders layer, graded core): a caller sees the
    // devices of the layers they may see, names as those layers' fields show them (issue 10, personal-data.ts).
    const view = personalView(req);
    const seen = (id: string) => { const d = e.device(id); return !d || deviceVisible(view, d); };
    if (s[1] === 'devices' && s.length === 2) return this.list(res, q, head, view);
    if (s[1] === 'devices' && s.length === 3) return this.one(res, s[2], q, head, view);
    if (s[1] === 'alarms' && s.length === 2) return json(res, { items: e.alarms(parseAlarmQuery(q)).filter((a) => seen(a.deviceId)) }, head);
    if (s[1] === 'device-health' && s.length === 2) {
      onlyParams(q, []);
      const h = e.health(this.d.clock());
      const named = <T extends { id: string; name: string }>(x: T): T => { const d = e.device(x.id); return d ? { ...x, name: deviceShown(view, d).name } : x; };
      return json(res, { ...h, offline: h.offline.filter((x) => seen(x.id)).map(named), subhealth: h.subhealth.filter((x) => seen(x.id)).map(named) }, head);
    }
    if (s[1] === 'telemetry' && s.length === 3 && s[2] === 'stats') return json(res, this.d.stats(), head);
    throw noRoute();
  }

  private list(res: ServerResponse, q: URLSearchParams, head: boolean, view: PersonalView): void {
    const f = parseDeviceQuery(q);
    const all = this.d.engine.devices({ bbox: f.bbox, kind: f.kind, status: f.status }).filter((d) => deviceVisible(view, d));
    // Thresholds are per kind in practice; computed once per kind, not per device (21k devices).
    const byKind = new Map<DeviceKind, AppliedThreshold[]>();
    const items = all.slice(f.offset, f.offset + f.limit).map((d) => {
      let t = byKind.get(d.kind);
      if (!t) byKind.set(d.kind, (t = thresholdsOf(this.d.engine.rulesFor(d.id))));
      return { ...deviceOut(deviceShown(view, d)), thresholds: t };
    });
    json(res, { total: all.length, limit: f.limit, offset: f.offset, items }, head);
  }

  private async one(res: ServerResponse, id: string, q: URLSearchParams, head: boolean, view: PersonalView): Promise<void> {
    onlyParams(q, ['hours', 'limit']);
    const missing = () => notFound('unknown_device', `没有设备 ${id.slice(0, 64)}；设备列表见 GET /api/devices。No device "${id.slice(0, 64)}"; see GET /api/devices.`);
    if (!ID_RE.test(id)) throw missing();
    const found = this.d.engine.device(id);
    if (!found || !deviceVisible(view, found)) throw missing();
    const d = deviceShown(view, found);
    const hours = intParam(q.get('hours'), 'hours', HISTORY_HOURS);
    const limit = intParam(q.get('limit'), 'limit', READING_LIMIT);
    const now = this.d.clock();
    const rules = this.d.engine.rulesFor(id);
    const readings = await this.d.engine.history(id, now - hours * 3_600_000, now, limit);
    const alarms = this.d.engine.alarms({ status: 'active', limit: ALARM_LIMIT.max }).filter((a) => a.deviceId === id);
    json(res, { ...deviceOut(d), thresholds: thresholdsOf(rules), rules, readings, activeAlarms: alarms }, head);
  }

  private async putRules(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req, JSON_BODY);
    const input = typeof body === 'object' && body !== null && !Array.isArray(body) && 'rules' in body ? (body as { rules: unknown }).rules : body;
    try {
      const rules = await this.d.engine.setRules(input);
      json(res, { rules }, false);
    } catch (err) {
      if (err instanceof RuleError) {
        throw badRequest(err.code || 'bad_rules', err.message); // names the field (rules.ts)
      }
      throw err;
    }
  }
}

/** Whether the caller may see this device: its layer's access, and under a grant its grid inside the grant's areas. */
function deviceVisible(view: PersonalView, d: DeviceState): boolean {
  const def = getLayer(d.layer);
  return !def || view.allows(def, { id: d.id, grid_code: d.gridCode });
}

/** The device with its name as its layer shows it (a patrol unit's name is a person's: masked, or withheld by a grant). */
function deviceShown(view: PersonalView, d: DeviceState): DeviceState {
  const def = getLayer(d.layer);
  if (!def || !def.fields.some((f) => f.name === 'name' && f.personal)) return d;
  const p = view.props(def, { id: d.id, name: d.name, grid_code: d.gridCode });
  const name = typeof p.name === 'string' ? p.name : d.id;
  return name === d.name ? d : { ...d, name };
}

function deviceOut(d: DeviceState) {
  return {
    id: d.id, kind: d.kind, layer: d.layer, name: d.name, lon: d.lon, lat: d.lat, status: d.status, since: d.since,
    lastTs: d.lastTs, lastValue: d.lastValue, unit: d.unit, department: d.department, townCode: d.townCode, gridCode: d.gridCode,
    alarms: d.alarms,
  };
}

function json(res: ServerResponse, value: unknown, head: boolean): void {
  // Live data: never cached.
  sendJson(res, value, { head, cacheControl: 'no-store' });
}

