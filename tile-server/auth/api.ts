// Sign-in and user administration over HTTP (issue 9).
//   POST   /api/session {username, password}  → 200 {user} + Set-Cookie onemap_session (HttpOnly; SameSite=Strict; Path=/; Secure on https)
//   GET    /api/session                       → 200 {user} | 401 not_signed_in | session_expired
//   DELETE /api/session                       → 204, cookie cleared
//   GET    /api/users?q=&role=&limit=&offset= → {total, users}            (admin; never password hashes)
//   POST   /api/users {username, role, name, password, grids?, layers?, department?}   → 201 {user}
//   GET    /api/users/{username}              → {user}
//   PUT    /api/users/{username} {role?, name?, grids?, layers?, department?, disabled?, password?, unlock?} → 200 {user}
// department (issue 10): a key of DEPARTMENTS (layers/catalog.ts) or null = the role's default; users and the
// session show the department in effect.
//   DELETE /api/users/{username}              → 204
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEPARTMENTS, type DepartmentId } from '../../layers/catalog.ts';
import { badRequest, HttpError, notFound, sendJson } from '../http-errors.ts';
import { readJson } from '../request-body.ts';
import {
  actorOfUser, AuthService, clearedCookie, departmentOf, GRID_RE, LAYER_IDS, publicUser, sessionCookie, USER_ROLES, USERNAME_RE,
} from './auth-service.ts';
import { checkPasswordPolicy, hashPassword } from './passwords.ts';
import { actorOf } from './request-actor.ts';
import type { UserRecord, UserRole } from './user-store.ts';

export const AUTH_ROUTES = ['session', 'users'] as const;
const MAX_BODY = 256 * 1024; // a grid manager may cover thousands of grids
const JSON_BODY = { max: MAX_BODY, tooLarge: '请求正文过大。Body too large.' };
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function send(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}, head = false): void {
  const body = status === 204 ? Buffer.alloc(0) : Buffer.from(JSON.stringify(value));
  res.writeHead(status, { ...headers, ...(status === 204 ? {} : { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length }), 'Cache-Control': 'no-store' });
  res.end(head || status === 204 ? undefined : body);
}

function checkKeys(b: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(b)) {
    if (!allowed.includes(k)) throw badRequest('unknown_param', `不认识的字段「${k.slice(0, 40)}」；可用：${allowed.join(', ')}。Unknown field; allowed: ${allowed.join(', ')}.`);
  }
}

function role(v: unknown): UserRole {
  if (typeof v !== 'string' || !(USER_ROLES as readonly string[]).includes(v)) throw badRequest('bad_role', `role 须为 ${USER_ROLES.join('、')} 之一。role must be one of ${USER_ROLES.join(', ')}.`);
  return v as UserRole;
}

function name(v: unknown): string {
  if (typeof v !== 'string' || !v.trim() || [...v].length > 64) throw badRequest('bad_name', 'name 须为 1–64 字的姓名。name must be 1–64 characters.');
  return v.trim();
}

function codes(v: unknown, field: 'grids' | 'layers'): string[] | null {
  if (v === null) return null;
  const ok = field === 'grids' ? (x: unknown) => typeof x === 'string' && GRID_RE.test(x) : (x: unknown) => typeof x === 'string' && LAYER_IDS.has(x);
  if (!Array.isArray(v) || v.length > 10000 || !v.every(ok)) {
    throw badRequest(`bad_${field}`, field === 'grids'
      ? 'grids 须为网格编码（数字）的数组。grids must be an array of grid codes (digits).'
      : `layers 须为图层 id 的数组（${[...LAYER_IDS].join(', ')}）。layers must be an array of layer ids.`);
  }
  return [...new Set(v as string[])];
}

function department(v: unknown): DepartmentId | null {
  if (v === null) return null;
  if (typeof v !== 'string' || !Object.hasOwn(DEPARTMENTS, v)) {
    throw badRequest('bad_department', `department 须为部门代码之一（${Object.entries(DEPARTMENTS).map(([k, t]) => `${k} ${t}`).join('、')}），或 null 表示按角色默认。department must be one of ${Object.keys(DEPARTMENTS).join(', ')}, or null for the role's default.`);
  }
  return v as DepartmentId;
}

function password(v: unknown): string {
  const bad = checkPasswordPolicy(v);
  if (bad) throw badRequest('bad_password', bad);
  return v as string;
}

/** A grid manager without grids would see nothing; a grid list on another role means nothing. */
function checkScope(u: UserRecord): void {
  if (u.role === 'grid_manager' && !u.grids?.length) throw badRequest('missing_grids', '网格员须至少有一个网格（grids）。A grid manager needs at least one grid (grids).');
}

export class AuthApi {
  constructor(private readonly auth: AuthService) {}

  /** s = path segments, s[0] = 'api', s[1] ∈ AUTH_ROUTES. The router gate has checked the role already. */
  async handle(req: IncomingMessage, res: ServerResponse, s: string[], query: string, head: boolean): Promise<void> {
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    if (s[1] === 'session' && s.length === 2) {
      if (method === 'POST') return this.signIn(req, res);
      if (method === 'DELETE') {
        await this.auth.signOut(req);
        return send(res, 204, null, { 'Set-Cookie': clearedCookie(req) });
      }
      const { actor } = await this.auth.resolve(req);
      const u = await this.auth.store.get(actor.id);
      if (!u) throw new HttpError(401, 'not_signed_in', '请先登录。Sign in first.');
      return send(res, 200, { user: sessionUser(u) }, {}, head);
    }
    if (s[1] === 'users') return this.users(req, res, s, new URLSearchParams(query), method ?? 'GET', head);
    throw notFound('not_found', '没有这个接口。No such route.');
  }

  private async signIn(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const b = await readJson(req, JSON_BODY);
    if (!isObj(b) || typeof b.username !== 'string' || typeof b.password !== 'string' || b.username.length > 64 || b.password.length > 200) {
      throw badRequest('bad_body', '正文须为 {"username": "…", "password": "…"}。The body must be {"username": "…", "password": "…"}.');
    }
    const { token, user } = await this.auth.signIn(b.username.trim(), b.password, req.socket.remoteAddress ?? 'unknown');
    send(res, 200, { user: sessionUser(user) }, { 'Set-Cookie': sessionCookie(req, token, Math.floor(this.auth.absoluteMs / 1000)) });
  }

  private async users(req: IncomingMessage, res: ServerResponse, s: string[], q: URLSearchParams, method: string, head: boolean): Promise<void> {
    const store = this.auth.store;
    const now = this.auth.clock();
    if (s.length === 2) {
      if (method === 'POST') {
        const b = await readJson(req, JSON_BODY);
        if (!isObj(b)) throw badRequest('bad_body', '正文须为 {"username","role","name","password","grids"?,"layers"?,"department"?}。');
        checkKeys(b, ['username', 'role', 'name', 'password', 'grids', 'layers', 'department']);
        if (typeof b.username !== 'string' || !USERNAME_RE.test(b.username)) throw badRequest('bad_username', '用户名须为 2–64 个字母、数字或 _.@-。username must be 2–64 of [A-Za-z0-9_.@-].');
        const u: UserRecord = {
          username: b.username, role: role(b.role), name: name(b.name), grids: b.grids === undefined ? null : codes(b.grids, 'grids'),
          layers: b.layers === undefined ? null : codes(b.layers, 'layers'), department: b.department === undefined ? null : department(b.department), disabled: false, passwordHash: await hashPassword(password(b.password)),
          failedCount: 0, lockedUntil: null, createdAt: now, updatedAt: now,
        };
        checkScope(u);
        if (await store.get(u.username)) throw new HttpError(409, 'user_exists', `用户 ${u.username} 已存在。User ${u.username} exists already.`);
        await store.insert([u]);
        this.auth.audit({ action: 'user_created', actor: who(req), target: u.username, ip: req.socket?.remoteAddress ?? null, detail: { role: u.role } });
        return send(res, 201, { user: publicUser(u, now) }, { Location: `/api/users/${encodeURIComponent(u.username)}` });
      }
      for (const k of q.keys()) if (!['q', 'role', 'limit', 'offset'].includes(k)) throw badRequest('unknown_param', '可用参数：q, role, limit, offset。Allowed: q, role, limit, offset.');
      const text = (q.get('q') ?? '').trim().toLowerCase();
      const r = q.get('role');
      const limit = Math.min(1000, Math.max(1, Number(q.get('limit') ?? 200) || 200));
      const offset = Math.max(0, Number(q.get('offset') ?? 0) || 0);
      const all = (await store.list()).filter((u) => (!r || u.role === r) && (!text || u.username.toLowerCase().includes(text) || u.name.toLowerCase().includes(text)));
      return send(res, 200, { total: all.length, users: all.slice(offset, offset + limit).map((u) => publicUser(u, now)) }, {}, head);
    }
    if (s.length !== 3) throw notFound('not_found', '没有这个接口。No such route.');
    const username = s[2];
    const u = await store.get(username);
    if (!u) throw notFound('unknown_user', `没有用户 ${username.slice(0, 64)}。No user "${username.slice(0, 64)}".`);
    const me = actorOf(req);
    if (method === 'GET') return send(res, 200, { user: publicUser(u, now) }, {}, head);
    if (method === 'DELETE') {
      if (u.username === me.id) throw new HttpError(409, 'cannot_remove_self', '不能删除自己的账号。You cannot delete your own account.');
      await store.delete(u.username);
      this.auth.forget(u.username);
      this.auth.audit({ action: 'user_deleted', actor: `${me.role}:${me.id}`, target: u.username, ip: req.socket?.remoteAddress ?? null });
      return send(res, 204, null);
    }
    const b = await readJson(req, JSON_BODY);
    if (!isObj(b)) throw badRequest('bad_body', '正文须为 JSON 对象。The body must be a JSON object.');
    checkKeys(b, ['role', 'name', 'grids', 'layers', 'department', 'disabled', 'password', 'unlock']);
    const next: UserRecord = { ...u, updatedAt: now };
    if (b.role !== undefined) next.role = role(b.role);
    if (b.name !== undefined) next.name = name(b.name);
    if (b.grids !== undefined) next.grids = codes(b.grids, 'grids');
    if (b.layers !== undefined) next.layers = codes(b.layers, 'layers');
    if (b.department !== undefined) next.department = department(b.department);
    if (b.disabled !== undefined) {
      if (typeof b.disabled !== 'boolean') throw badRequest('bad_disabled', 'disabled 须为 true 或 false。disabled must be a boolean.');
      next.disabled = b.disabled;
    }
    if (b.unlock !== undefined) {
      if (b.unlock !== true) throw badRequest('bad_unlock', 'unlock 只能为 true。unlock must be true.');
      next.failedCount = 0;
      next.lockedUntil = null;
    }
    const newPassword = b.password !== undefined;
    if (newPassword) next.passwordHash = await hashPassword(password(b.password));
    checkScope(next);
    if (u.username === me.id && (next.disabled || next.role !== 'admin')) {
      throw new HttpError(409, 'cannot_demote_self', '不能停用自己或取消自己的管理员角色。You cannot disable yourself or drop your own admin role.');
    }
    await store.update(next);
    // A new password or a disabled account ends the user's sessions; any change drops the cached actor.
    if (newPassword || next.disabled) await store.deleteSessionsOf(u.username);
    this.auth.forget(u.username);
    // Which fields changed, never their secrets.
    this.auth.audit({ action: newPassword ? 'password_reset' : 'user_changed', actor: `${me.role}:${me.id}`, target: u.username, ip: req.socket?.remoteAddress ?? null,
      detail: { changed: Object.keys(b).filter((k) => k !== 'password'), ...(newPassword ? { password: true } : {}) } });
    return send(res, 200, { user: publicUser(next, now) });
  }
}

/** The signed-in user as GET/POST /api/session return it. */
function sessionUser(u: UserRecord): { username: string; role: UserRole; name: string; department: DepartmentId; departmentTitle: string; grids?: string[]; layers?: string[] } {
  const a = actorOfUser(u);
  const d = departmentOf(u);
  return { username: u.username, role: u.role, name: u.name, department: d, departmentTitle: DEPARTMENTS[d], ...(a.grids ? { grids: a.grids } : {}), ...(a.layers ? { layers: a.layers } : {}) };
}

/** 'role:id' of the signed-in caller, for the security audit. */
function who(req: IncomingMessage): string {
  const a = actorOf(req);
  return `${a.role}:${a.id}`;
}
