// Data sharing over HTTP (issue 10, 申请、审批、使用、反馈). Every route is 'signed_in' in the policy; who may do
// what is decided by the service (tile-server/sharing/model.ts has the rules).
//   POST /api/catalog/{layer}/requests {purpose (10–500 chars), fields?: string[]|null, areas?: string[]|null, days (1–365)} → 201 {request}
//   GET  /api/sharing?box=mine|inbox|all&status=   → {items: SharingRequest[]}   (all: admin; newest first)
//   GET  /api/sharing/{id}                         → {request, usage: GrantUse[] (latest 200)}  (requester, the layer's approvers, admin)
//   POST /api/sharing/{id}/approve {fields?, areas?, days?} → {request}
//   POST /api/sharing/{id}/refuse  {reason (5–500 chars)}    → {request}
//   POST /api/sharing/{id}/revoke  {reason (5–500 chars)}    → {request}
//   POST /api/sharing/{id}/feedback {rating?: 1–5|null, text (1–1000 chars)} → {request}   (requester, once approved)
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getLayer, type LayerDef } from '../../layers/catalog.ts';
import type { RequestStatus } from '../../layers/governance/model.ts';
import { actorOf } from '../auth/request-actor.ts';
import { badRequest, HttpError, notFound } from '../http-errors.ts';
import { readJson } from '../request-body.ts';
import {
  AREA_RE, chars, FEEDBACK_CHARS, MAX_AREAS, MAX_DAYS, PURPOSE_CHARS, REASON_CHARS, REQUEST_STATUSES, type Narrowing, type SharingActor,
} from './model.ts';
import type { SharingService } from './service.ts';

export const SHARING_ROUTE = 'sharing';
const MAX_BODY = 64 * 1024;
const JSON_BODY = { max: MAX_BODY, tooLarge: `正文超过 ${MAX_BODY / 1024} KiB。Body larger than ${MAX_BODY / 1024} KiB.` };
const ID_RE = /^[A-Za-z0-9-]{1,64}$/;
const ACTIONS = ['approve', 'refuse', 'revoke', 'feedback'] as const;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface SharingApiDeps {
  service: SharingService;
  /** Whether a town/village/grid code exists (the built towns, villages, grids); absent → the format alone is checked. */
  areaExists?: (code: string) => Promise<boolean>;
}

export class SharingApi {
  constructor(private readonly d: SharingApiDeps) {}

  /** POST routes this API takes (the router sends other POSTs to 405). */
  static acceptsPost(path: string): boolean {
    const s = path.split('/');
    return (s.length === 5 && s[1] === 'api' && s[2] === 'catalog' && s[4] === 'requests')
      || (s.length === 5 && s[1] === 'api' && s[2] === SHARING_ROUTE && (ACTIONS as readonly string[]).includes(s[4]));
  }

  /** Whether the path is this API's (s = path segments, s[0] = 'api'). */
  static owns(s: string[]): boolean {
    return s[1] === SHARING_ROUTE || (s[1] === 'catalog' && s.length === 4 && s[3] === 'requests');
  }

  async handle(req: IncomingMessage, res: ServerResponse, s: string[], query: string, head: boolean): Promise<void> {
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const actor = actorOf(req) as SharingActor;
    const ip = req.socket?.remoteAddress ?? null;
    if (s[1] === 'catalog') {
      if (method !== 'POST') throw methodNot('POST');
      const def = getLayer(s[2]);
      if (!def) { req.resume(); throw notFound('unknown_layer', `没有图层 ${s[2].slice(0, 64)}。No layer "${s[2].slice(0, 64)}".`); }
      if (!def.roles.includes(actor.role as never)) {
        req.resume();
        throw new HttpError(403, 'layer_forbidden', `角色 ${actor.role} 无权使用图层「${def.title}」，也不能申请。Role ${actor.role} may not use layer ${def.id}, nor request it.`);
      }
      const b = await body(req, ['purpose', 'fields', 'areas', 'days']);
      const purpose = text(b.purpose, PURPOSE_CHARS, 'bad_purpose', '用途说明（purpose）', 'purpose');
      const fields = b.fields === undefined || b.fields === null ? null : this.fields(b.fields, def);
      const areas = b.areas === undefined || b.areas === null ? null : await this.areas(b.areas);
      if (b.days === undefined) throw badRequest('bad_days', `请给出使用期限 days（1–${MAX_DAYS} 天）。Give the period: days (1–${MAX_DAYS}).`);
      const days = this.days(b.days);
      const request = await this.d.service.request(actor, def.id, { purpose, fields, areas, days }, ip);
      return send(res, 201, { request }, false, { Location: `/api/sharing/${request.id}` });
    }
    if (s.length === 2) {
      if (method !== 'GET') throw methodNot('GET');
      const q = new URLSearchParams(query);
      for (const k of q.keys()) if (k !== 'box' && k !== 'status') throw badRequest('unknown_param', `不认识的参数「${k.slice(0, 40)}」；可用：box, status。Unknown parameter; allowed: box, status.`);
      const box = q.get('box') ?? 'mine';
      if (box !== 'mine' && box !== 'inbox' && box !== 'all') throw badRequest('bad_box', 'box 须为 mine（我的申请）、inbox（待我审批）或 all（全部，仅管理员）。box must be mine, inbox or all.');
      const st = q.get('status');
      if (st !== null && !(REQUEST_STATUSES as readonly string[]).includes(st)) throw badRequest('bad_status', `status 须为 ${REQUEST_STATUSES.join('、')} 之一。status must be one of ${REQUEST_STATUSES.join(', ')}.`);
      return send(res, 200, { items: this.d.service.list(actor, box, st as RequestStatus | null) }, head);
    }
    const id = s[2];
    if (!ID_RE.test(id) || s.length > 4) { req.resume(); throw notFound('unknown_request', `没有共享申请 ${id.slice(0, 64)}。No sharing request "${id.slice(0, 64)}".`); }
    if (s.length === 3) {
      if (method !== 'GET') throw methodNot('GET');
      return send(res, 200, await this.d.service.get(actor, id), head);
    }
    const action = s[3];
    if (!(ACTIONS as readonly string[]).includes(action)) { req.resume(); throw notFound('not_found', `没有这个操作；可用：${ACTIONS.join(', ')}。No such action; use ${ACTIONS.join(', ')}.`); }
    if (method !== 'POST') throw methodNot('POST');
    let request;
    if (action === 'approve') {
      const b = await body(req, ['fields', 'areas', 'days']);
      const layer = this.d.service.layerOf(id);
      if (!layer) throw notFound('unknown_request', `没有共享申请 ${id}。No sharing request "${id}".`);
      const def = getLayer(layer);
      const n: Narrowing = {};
      if (b.fields !== undefined) n.fields = b.fields === null ? null : this.fields(b.fields, def!);
      if (b.areas !== undefined) n.areas = b.areas === null ? null : await this.areas(b.areas);
      if (b.days !== undefined) n.days = this.days(b.days);
      request = await this.d.service.approve(actor, id, n, ip);
    } else if (action === 'refuse' || action === 'revoke') {
      const b = await body(req, ['reason']);
      const reason = text(b.reason, REASON_CHARS, 'bad_reason', action === 'refuse' ? '拒绝理由（reason）' : '撤销理由（reason）', 'reason');
      request = action === 'refuse' ? await this.d.service.refuse(actor, id, reason, ip) : await this.d.service.revoke(actor, id, reason, ip);
    } else {
      const b = await body(req, ['rating', 'text']);
      let rating: number | null = null;
      if (b.rating !== undefined && b.rating !== null) {
        if (typeof b.rating !== 'number' || !Number.isInteger(b.rating) || b.rating < 1 || b.rating > 5) throw badRequest('bad_rating', 'rating 须为 1–5 的整数（或省略）。rating must be an integer 1–5 (or left out).');
        rating = b.rating;
      }
      request = await this.d.service.feedback(actor, id, rating, text(b.text, FEEDBACK_CHARS, 'bad_text', '反馈内容（text）', 'text'));
    }
    return send(res, 200, { request }, false);
  }

  private fields(v: unknown, def: LayerDef): string[] {
    const names = def.fields.map((f) => f.name);
    if (!Array.isArray(v) || v.length === 0 || v.length > names.length || !v.every((x) => typeof x === 'string' && names.includes(x))) {
      throw badRequest('bad_fields', `fields 须为图层「${def.title}」的字段名数组（${names.join(', ')}），或 null 表示全部字段。fields must be a non-empty array of field names of ${def.id}, or null for every field.`);
    }
    return [...new Set(v as string[])];
  }

  private async areas(v: unknown): Promise<string[] | null> {
    if (v === null) return null;
    if (!Array.isArray(v) || v.length === 0 || v.length > MAX_AREAS || !v.every((x) => typeof x === 'string' && AREA_RE.test(x))) {
      throw badRequest('bad_areas', `areas 须为 1–${MAX_AREAS} 个镇（9 位）、村（12 位）或网格（15 位）代码的数组，或 null 表示全市。areas must be 1–${MAX_AREAS} town (9-digit), village (12) or grid (15) codes, or null for the whole city.`);
    }
    const codes = [...new Set(v as string[])];
    if (this.d.areaExists) {
      const unknown: string[] = [];
      for (const c of codes) if (!(await this.d.areaExists(c))) unknown.push(c);
      if (unknown.length) throw badRequest('unknown_area', `没有这些镇、村或网格：${unknown.slice(0, 10).join('、')}。No town, village or grid with code ${unknown.slice(0, 10).join(', ')}.`);
    }
    return codes;
  }

  private days(v: unknown): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_DAYS) throw badRequest('bad_days', `days 须为 1–${MAX_DAYS} 的整数（天）。days must be an integer 1–${MAX_DAYS}.`);
    return v;
  }
}

async function body(req: IncomingMessage, allowed: readonly string[]): Promise<Record<string, unknown>> {
  const b = await readJson(req, JSON_BODY);
  if (!isObj(b)) throw badRequest('bad_body', `正文须为 JSON 对象（可用字段：${allowed.join(', ')}）。The body must be a JSON object with ${allowed.join(', ')}.`);
  for (const k of Object.keys(b)) {
    if (!allowed.includes(k)) throw badRequest('unknown_param', `不认识的字段「${k.slice(0, 40)}」；可用：${allowed.join(', ')}。Unknown field; allowed: ${allowed.join(', ')}.`);
  }
  return b;
}

function text(v: unknown, [min, max]: readonly [number, number], code: string, what: string, key: string): string {
  const t = typeof v === 'string' ? v.trim() : '';
  if (typeof v !== 'string' || chars(t) < min || chars(t) > max) throw badRequest(code, `${what}须为 ${min}–${max} 个字。${key} must be ${min}–${max} characters.`);
  return t;
}

/** JSON, never cached: requests and grants differ per caller and change at once. */
function send(res: ServerResponse, status: number, value: unknown, head: boolean, headers: Record<string, string> = {}): void {
  const b = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': b.length, 'Cache-Control': 'no-store' });
  res.end(head ? undefined : b);
}

function methodNot(allowed: 'GET' | 'POST'): HttpError {
  const allow = allowed === 'GET' ? 'GET, HEAD, OPTIONS' : 'POST, OPTIONS';
  return new HttpError(405, 'method_not_allowed', `此地址只接受 ${allowed}。Use ${allowed} here.`, { Allow: allow });
}
