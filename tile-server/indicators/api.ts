// The indicator API (issue 10 item 4). Who may call what is the policy table's (tile-server/auth/policy.ts);
// the writes check the role again here so a missing rule cannot open them.
//   GET    /api/indicators?level=town&at=<ISO|ms>&indicator=<id>   → {at (snapshot used: latest ≤ at; null when none yet), level, definitions, values}
//   GET    /api/indicators/series?indicator=&level=&code=&from=&to= → {indicator, level, code, points: [{at, value, status}]}
//   GET    /api/indicators/definitions                           → {items}
//   POST   /api/indicators/definitions       (planner, admin)    → 201 {definition}
//   PUT    /api/indicators/definitions/:id   (planner, admin)    → {definition}   (not built-in)
//   DELETE /api/indicators/definitions/:id   (planner, admin)    → 204            (not built-in)
//   POST   /api/indicators/preview {formula, level, better?, thresholds?} → {values}   (nothing saved)
//   POST   /api/indicators/compute           (admin, operator, planner) → {at, values: n}
// A bad definition or formula is 422 {error: {code, message, field, position?}} (position: 0-based offset in the formula).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FormulaError } from '../../layers/indicators/formula.ts';
import {
  DefinitionError, INDICATOR_LEVELS, CODE_LENGTH, parseDefinition, roundTo, statusOf,
  type IndicatorLevel, type IndicatorValue,
} from '../../layers/indicators/model.ts';
import { actorOf } from '../auth/request-actor.ts';
import { badRequest, HttpError, notFound, sendJson } from '../http-errors.ts';
import { readJson } from '../request-body.ts';
import { IndicatorServiceError, readerMaySee, type IndicatorService } from './service.ts';

export const INDICATOR_ROUTE = 'indicators';
const WRITERS: readonly string[] = ['admin', 'planner'];
const COMPUTERS: readonly string[] = ['admin', 'operator', 'planner'];
const MAX_BODY = 8192;
const JSON_BODY = { max: MAX_BODY, tooLarge: `正文超过 ${MAX_BODY} 字节。Body larger than ${MAX_BODY} bytes.` };
const MAX_SERIES_POINTS = 5000;
const DEFAULT_SERIES_MS = 7 * 86_400_000;

const LEVELS_TEXT = INDICATOR_LEVELS.join(', ');

function send422(res: ServerResponse, code: string, message: string, field: string, position?: number): void {
  const body = JSON.stringify({ error: { code, message, field, ...(position !== undefined ? { position } : {}) } });
  res.writeHead(422, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}

/** A time parameter: ms since epoch or an ISO 8601 date-time. */
export function parseTime(v: string, name: string): number {
  const ms = /^\d{1,15}$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(ms)) throw badRequest('bad_time', `${name} 须为毫秒时间戳或 ISO 8601 时间（如 2026-11-29T08:00:00+08:00）。${name} must be ms since epoch or an ISO 8601 date-time.`);
  return ms;
}

function levelParam(q: URLSearchParams, fallback?: IndicatorLevel): IndicatorLevel {
  const v = q.get('level') ?? fallback;
  if (!v || !(INDICATOR_LEVELS as readonly string[]).includes(v)) throw badRequest('bad_level', `level 须为 ${LEVELS_TEXT} 之一。level must be one of ${LEVELS_TEXT}.`);
  return v as IndicatorLevel;
}

function onlyParams(q: URLSearchParams, allowed: string[]): void {
  for (const k of q.keys()) if (!allowed.includes(k)) throw badRequest('unknown_param', `不认识的参数「${k.slice(0, 40)}」；可用：${allowed.join(', ')}。Unknown parameter; allowed: ${allowed.join(', ')}.`);
}

export class IndicatorApi {
  constructor(private readonly service: IndicatorService, private readonly clock: () => number) {}

  /** Methods other than GET this API takes (the router lets them through to it). */
  static acceptsMethod(method: string, path: string): boolean {
    if (method === 'POST') return path === '/api/indicators/definitions' || path === '/api/indicators/preview' || path === '/api/indicators/compute';
    if (method === 'PUT' || method === 'DELETE') return /^\/api\/indicators\/definitions\/[^/]+$/.test(path);
    return false;
  }

  async handle(req: IncomingMessage, res: ServerResponse, s: string[], query: string, head: boolean): Promise<void> {
    const q = new URLSearchParams(query);
    const method = req.method === 'HEAD' ? 'GET' : req.method ?? 'GET';
    const allow = (m: string) => { req.resume(); return new HttpError(405, 'method_not_allowed', `这里只支持 ${m}。Use ${m}.`, { Allow: m }); };
    try {
      if (s.length === 2) {
        if (method !== 'GET') throw allow('GET, HEAD');
        return await this.values(req, res, q, head);
      }
      if (s.length === 3 && s[2] === 'series') {
        if (method !== 'GET') throw allow('GET, HEAD');
        return await this.series(req, res, q, head);
      }
      if (s.length === 3 && s[2] === 'definitions') {
        if (method === 'GET') { sendJson(res, { items: this.service.definitions() }, { head, cacheControl: 'no-store' }); return; }
        if (method === 'POST') return await this.create(req, res);
        throw allow('GET, HEAD, POST');
      }
      if (s.length === 4 && s[2] === 'definitions') {
        if (method === 'PUT') return await this.update(req, res, s[3]);
        if (method === 'DELETE') return await this.remove(req, res, s[3]);
        throw allow('PUT, DELETE');
      }
      if (s.length === 3 && s[2] === 'preview') {
        if (method !== 'POST') throw allow('POST');
        return await this.preview(req, res);
      }
      if (s.length === 3 && s[2] === 'compute') {
        if (method !== 'POST') throw allow('POST');
        return await this.compute(req, res);
      }
      req.resume();
      throw notFound('not_found', '没有这个地址；指标接口见 /api/indicators、/series、/definitions、/preview、/compute。No such route; see /api/indicators, /series, /definitions, /preview, /compute.');
    } catch (e) {
      if (e instanceof DefinitionError) return send422(res, e.code, e.message, e.field, e.position);
      if (e instanceof FormulaError) return send422(res, e.code, e.message, 'formula', e.position);
      if (e instanceof IndicatorServiceError) throw new HttpError(e.status, e.code, e.message);
      throw e;
    }
  }

  private async values(req: IncomingMessage, res: ServerResponse, q: URLSearchParams, head: boolean): Promise<void> {
    const actor = actorOf(req);
    onlyParams(q, ['level', 'at', 'indicator']);
    const level = levelParam(q, 'town');
    const at = q.get('at') ? parseTime(q.get('at')!, 'at') : this.clock();
    const id = q.get('indicator') || undefined;
    if (id && !this.service.definition(id)) throw notFound('unknown_indicator', `没有指标 ${id.slice(0, 40)}；见 GET /api/indicators/definitions。No indicator ${id.slice(0, 40)}.`);
    const definitions = this.service.definitions().filter((d) => d.levels.includes(level) && (!id || d.id === id));
    const snap = await this.service.snapshot(level, at, actor, id);
    // Values of definitions deleted since the snapshot are left out (their id would name nothing).
    const known = new Set(definitions.map((d) => d.id));
    sendJson(res, { at: snap?.at ?? null, level, definitions, values: (snap?.values ?? []).filter((v) => known.has(v.indicator)) }, { head, cacheControl: 'no-store' });
  }

  private async series(req: IncomingMessage, res: ServerResponse, q: URLSearchParams, head: boolean): Promise<void> {
    const actor = actorOf(req);
    onlyParams(q, ['indicator', 'level', 'code', 'from', 'to']);
    const id = q.get('indicator') ?? '';
    if (!this.service.definition(id)) throw notFound('unknown_indicator', `没有指标 ${id.slice(0, 40)}；见 GET /api/indicators/definitions。No indicator ${id.slice(0, 40)}.`);
    const code = q.get('code') ?? '';
    const level = levelParam(q);
    if (!/^\d+$/.test(code) || code.length !== CODE_LENGTH[level]) throw badRequest('bad_code', `code 须为 ${CODE_LENGTH[level]} 位${level}代码。code must be a ${CODE_LENGTH[level]}-digit ${level} code.`);
    if (!readerMaySee(actor, level, code)) throw new HttpError(403, 'forbidden', '网格员只能查看本人网格及其所属村、镇的指标。Grid managers see the indicators of their own grids and the village and town above them.');
    const to = q.get('to') ? parseTime(q.get('to')!, 'to') : this.clock();
    const from = q.get('from') ? parseTime(q.get('from')!, 'from') : to - DEFAULT_SERIES_MS;
    if (from > to) throw badRequest('bad_range', 'from 须早于 to。from must be before to.');
    if (!(await this.service.areaKnown(level, code))) throw notFound('unknown_area', `没有代码为 ${code} 的${level}区域。No ${level} area ${code}.`);
    const points = await this.service.series(id, level, code, from, to, MAX_SERIES_POINTS);
    sendJson(res, { indicator: id, level, code, from, to, points }, { head, cacheControl: 'no-store' });
  }

  private writer(req: IncomingMessage): { id: string } {
    const actor = actorOf(req);
    if (!WRITERS.includes(actor.role)) {
      req.resume();
      throw new HttpError(403, 'forbidden', '只有规划人员（部门数据员）或管理员可以定义指标。Only planners and admins define indicators.');
    }
    return actor;
  }

  private async create(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const actor = this.writer(req);
    const def = await this.service.create(parseDefinition(await readJson(req, JSON_BODY)), actor.id);
    const body = Buffer.from(JSON.stringify({ definition: def }));
    res.writeHead(201, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length, 'Cache-Control': 'no-store', Location: `/api/indicators/definitions/${def.id}` });
    res.end(body);
  }

  private async update(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    this.writer(req);
    const body = await readJson(req, JSON_BODY);
    sendJson(res, { definition: await this.service.update(id, parseDefinition(body, id)) }, { cacheControl: 'no-store' });
  }

  private async remove(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    this.writer(req);
    req.resume();
    await this.service.remove(id);
    res.writeHead(204, { 'Cache-Control': 'no-store' });
    res.end();
  }

  private async preview(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const actor = actorOf(req);
    const b = await readJson(req, JSON_BODY);
    if (typeof b !== 'object' || b === null || Array.isArray(b)) throw badRequest('bad_body', '正文须为 {"formula": "…", "level": "town"}。The body must be {"formula", "level"}.');
    const body = b as Record<string, unknown>;
    for (const k of Object.keys(body)) if (!['formula', 'level', 'better', 'thresholds', 'decimals'].includes(k)) throw badRequest('unknown_param', `不认识的字段「${k.slice(0, 40)}」；可用：formula, level, better, thresholds, decimals。Unknown field.`);
    if (typeof body.formula !== 'string') return send422(res, 'bad_formula', 'formula 须为公式文字。formula must be text.', 'formula', 0);
    const level = typeof body.level === 'string' && (INDICATOR_LEVELS as readonly string[]).includes(body.level) ? body.level as IndicatorLevel : null;
    if (!level) throw badRequest('bad_level', `level 须为 ${LEVELS_TEXT} 之一。level must be one of ${LEVELS_TEXT}.`);
    // Status colours when the form already has thresholds; otherwise 'none'.
    const t = body.thresholds as { green?: unknown; red?: unknown } | undefined;
    const judge = (body.better === 'lower' || body.better === 'higher') && t && typeof t.green === 'number' && typeof t.red === 'number'
      ? { better: body.better as 'lower' | 'higher', thresholds: { green: t.green, red: t.red } } : null;
    const decimals = typeof body.decimals === 'number' && Number.isInteger(body.decimals) && body.decimals >= 0 && body.decimals <= 4 ? body.decimals : null;
    const rows = await this.service.preview(body.formula, level, actor);
    const values: IndicatorValue[] = rows.map((r) => {
      const value = decimals === null ? r.value : roundTo(r.value, decimals);
      return { indicator: '', level, code: r.code, name: r.name, value, status: judge ? statusOf(judge, value) : 'none' };
    });
    sendJson(res, { level, values }, { cacheControl: 'no-store' });
  }

  private async compute(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const actor = actorOf(req);
    req.resume();
    if (!COMPUTERS.includes(actor.role)) throw new HttpError(403, 'forbidden', '只有管理员、值班员或规划人员可以立即计算指标。Only admins, operators and planners start a computation.');
    sendJson(res, await this.service.compute(), { cacheControl: 'no-store' });
  }
}
