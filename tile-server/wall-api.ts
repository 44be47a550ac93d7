// The command-centre wall's server side (issue 9 item 3):
//   GET  /api/wall/summary the city's current operating summary (indicators.ts), from the incident service and the
//                          telemetry engine; also pushed on /ws as {type:'indicators', …} every 5 s while anyone listens.
//                          (It was GET /api/indicators until issue 10, which gave that path to the indicator system,
//                          tile-server/indicators/.)
//   POST /api/wall         an operator's command ({cmd:'flyTo'|'tour'|'stopTour'|'showIncident', …}, layers/wall/model.ts)
//                          relayed on /ws as {type:'wall', …}; walls obey it, other clients ignore it. 202 {delivered}.
// Who may call them is the policy table's job (tile-server/auth/policy.ts); POST also checks the role itself,
// so a missing rule cannot turn the wall into a public remote control.
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { geometryBbox, openFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import { OPEN_STATUSES, type Incident } from '../layers/incidents/model.ts';
import {
  ALARM_WINDOW_MS, DISPATCH_WINDOW_MS, INDICATOR_PUSH_MS, parseWallCommand, WallCommandError,
  type Bbox, type Indicators, type TownRef, type WallMessage,
} from '../layers/wall/model.ts';
import { actorOf } from './auth/request-actor.ts';
import { badRequest, HttpError, notFound, sendJson } from './http-errors.ts';
import { readJson } from './request-body.ts';
import type { IncidentService } from './incidents/service.ts';
import { aggregateIndicators } from './indicators.ts';
import type { TelemetryService } from './telemetry/service.ts';

export const WALL_ROUTES = ['wall'] as const;
/** Figures are at most this old when asked for again (many walls and the push share one computation). */
const CACHE_MS = 1000;
const MAX_JSON_BODY = 4096;
const JSON_BODY = { max: MAX_JSON_BODY, tooLarge: `请求正文超过 ${MAX_JSON_BODY} 字节。Body larger than ${MAX_JSON_BODY} bytes.` };
const MAX_OPEN = 200_000;
const WALL_ROLES: readonly string[] = ['operator', 'admin'];

/** What the API needs of the live feed (LiveHub has it). */
export interface WallFeed { readonly size: number; broadcastToRoles(roles: readonly string[], msg: { type: 'indicators' | 'wall' } & Record<string, unknown>): void }
/** Who receives the pushed summary and wall commands: the roles the policy lets read GET /api/wall/summary. */
const FEED_ROLES: readonly string[] = ['admin', 'operator', 'analyst'];

export interface WallDeps {
  dataDir: string;
  incidents: Promise<IncidentService>;
  telemetry: Promise<TelemetryService>;
  live: WallFeed;
  clock?: () => number;
  log?: (msg: string) => void;
  /** Push interval; 0 = never (tests call push()). Default INDICATOR_PUSH_MS. */
  pushMs?: number;
}

/** The towns (code, name, extent) from towns.fgb; [] when it is missing (indicators then group by code only). */
export async function loadTowns(dataDir: string): Promise<TownRef[]> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(join(dataDir, 'towns.fgb'));
  } catch {
    return [];
  }
  const file = openFlatGeobuf(bytes);
  const out: TownRef[] = [];
  for (let i = 0; i < file.count; i++) {
    const f = file.feature(i);
    const p = f.properties ?? {};
    if (p.code === undefined || p.code === null) continue;
    const b = geometryBbox(f.geometry);
    out.push({ code: String(p.code), name: typeof p.name === 'string' ? p.name : String(p.code), bbox: b.every(Number.isFinite) ? (b.map((v) => Math.round(v * 1e6) / 1e6) as Bbox) : null });
  }
  return out;
}

export class WallApi {
  private readonly clock: () => number;
  private readonly log: (msg: string) => void;
  private towns: Promise<TownRef[]>;
  private cached: { at: number; value: Promise<Indicators> } | null = null;
  /** Incidents updated within the dispatch window, with their first dispatch once found. */
  private dispatchAt = new Map<string, DispatchSeen>();
  private timer: NodeJS.Timeout | undefined;
  private pushing = false;

  constructor(private readonly deps: WallDeps) {
    this.clock = deps.clock ?? Date.now;
    this.log = deps.log ?? (() => {});
    this.towns = loadTowns(deps.dataDir);
    this.towns.catch(() => {});
    const every = deps.pushMs ?? INDICATOR_PUSH_MS;
    if (every > 0) {
      this.timer = setInterval(() => void this.push(), every);
      this.timer.unref();
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async handle(req: IncomingMessage, res: ServerResponse, s: string[], _query: string, head: boolean): Promise<void> {
    if (s.length === 3 && s[2] === 'summary') {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method_not_allowed', '/api/wall/summary 只支持 GET。Use GET.', { Allow: 'GET, HEAD' });
      sendJson(res, await this.indicators(), { head, cacheControl: 'no-store' });
      return;
    }
    if (s.length !== 2) throw notFound('not_found', '没有这个地址；应为 /api/wall/summary 或 /api/wall。No such route; expected /api/wall/summary or /api/wall.');
    if (req.method !== 'POST') throw new HttpError(405, 'method_not_allowed', '/api/wall 只支持 POST。Use POST.', { Allow: 'POST' });
    const actor = actorOf(req);
    if (!WALL_ROLES.includes(actor.role)) {
      req.resume();
      throw new HttpError(403, 'forbidden', '只有值班员或管理员可以操控大屏。Only operators and admins may drive the wall.');
    }
    let cmd;
    try {
      cmd = parseWallCommand(await readJson(req, JSON_BODY));
    } catch (e) {
      if (e instanceof WallCommandError) throw badRequest(e.code, e.message);
      throw e;
    }
    const msg: WallMessage & { incident?: Record<string, unknown> } = { ...cmd, type: 'wall', by: actor.name ?? actor.id, at: this.clock() };
    if (cmd.cmd === 'flyTo' && 'town' in cmd) {
      const t = (await this.towns).find((x) => x.code === cmd.town);
      if (!t) throw notFound('unknown_town', `没有代码为 ${cmd.town} 的镇（街道）；可用代码见 GET /api/wall/summary 的 incidents.byTown。No town ${cmd.town}; see incidents.byTown in GET /api/wall/summary.`);
      msg.name = t.name;
      msg.bbox = t.bbox;
    }
    if (cmd.cmd === 'showIncident') {
      const found = await (await this.deps.incidents).get(cmd.id).catch(() => null);
      if (!found) throw notFound('incident_not_found', `案件 ${cmd.id} 不存在，请检查 id。Incident ${cmd.id} not found.`);
      const i = found.incident;
      msg.incident = { id: i.id, code: i.code, title: i.title, status: i.status, categoryName: i.categoryName, address: i.address, lon: i.lon, lat: i.lat, townCode: i.townCode };
    }
    this.deps.live.broadcastToRoles(FEED_ROLES, msg as unknown as { type: 'wall' } & Record<string, unknown>);
    res.writeHead(202, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify({ ok: true, delivered: this.deps.live.size, message: msg }));
  }

  /** The current indicators (shared for CACHE_MS between callers). */
  indicators(): Promise<Indicators> {
    const now = this.clock();
    if (this.cached && now - this.cached.at < CACHE_MS && now >= this.cached.at) return this.cached.value;
    const value = this.compute(now);
    this.cached = { at: now, value };
    value.catch(() => { if (this.cached?.value === value) this.cached = null; });
    return value;
  }

  /** Sends the indicators to the live feed (skipped while nobody is connected or the last push is still running). */
  async push(): Promise<void> {
    if (this.pushing || this.deps.live.size === 0) return;
    this.pushing = true;
    try {
      const v = await this.indicators();
      this.deps.live.broadcastToRoles(FEED_ROLES, { type: 'indicators', ...v });
    } catch (e) {
      this.log(`指标推送失败 indicators push failed: ${(e as Error).message}`);
    } finally {
      this.pushing = false;
    }
  }

  private async compute(now: number): Promise<Indicators> {
    const towns = await this.towns.catch(() => []);
    const [service, telemetry] = await Promise.all([
      this.deps.incidents.catch(() => null),
      this.deps.telemetry.catch(() => null),
    ]);
    let open: Incident[] = [];
    let delays: number[] = [];
    if (service) {
      open = (await service.list({ status: [...OPEN_STATUSES], limit: MAX_OPEN })).items;
      delays = await this.dispatchDelays(service, now);
    }
    let alarms: { startedAt: number; status: 'active' | 'cleared'; townCode: string | null }[] = [];
    let health = null;
    if (telemetry) {
      const e = telemetry.engine;
      const seen = e.alarms({ status: 'active', limit: 1_000_000 });
      const ids = new Set(seen.map((a) => a.id));
      for (const a of e.alarms({ since: now - ALARM_WINDOW_MS, limit: 1_000_000 })) if (!ids.has(a.id)) seen.push(a);
      alarms = seen.map((a) => ({ startedAt: a.startedAt, status: a.status, townCode: e.device(a.deviceId)?.townCode ?? null }));
      health = e.health(now);
    }
    return aggregateIndicators({ now, towns, open, dispatchDelaysMs: delays, alarms, health });
  }

  /**
   * Report → first dispatch of the incidents first dispatched within DISPATCH_WINDOW_MS. Such an incident was
   * updated within the window, so only those are looked at; each one's timeline is read again only when its
   * version changed and no dispatch was found yet (a first dispatch never changes).
   */
  private async dispatchDelays(service: IncidentService, now: number): Promise<number[]> {
    const since = now - DISPATCH_WINDOW_MS;
    const recent = (await service.list({ since, limit: MAX_OPEN })).items;
    const next = new Map<string, DispatchSeen>();
    for (const i of recent) {
      const seen = this.dispatchAt.get(i.id);
      if (seen && (seen.dispatchedAt !== null || seen.version === i.version)) { next.set(i.id, seen); continue; }
      let dispatchedAt: number | null = null;
      if (i.status !== 'reported' && i.status !== 'rejected') {
        const got = await service.get(i.id);
        dispatchedAt = got?.transitions.find((t) => t.action === 'dispatch' || (t.action === 'reassign' && t.from === 'registered'))?.at ?? null;
      }
      next.set(i.id, { version: i.version, createdAt: i.createdAt, dispatchedAt });
    }
    this.dispatchAt = next;
    const out: number[] = [];
    for (const d of next.values()) if (d.dispatchedAt !== null && d.dispatchedAt >= since && d.dispatchedAt <= now) out.push(d.dispatchedAt - d.createdAt);
    return out;
  }
}

interface DispatchSeen { version: number; createdAt: number; dispatchedAt: number | null }

