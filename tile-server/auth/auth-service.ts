// Users and sessions: sign-in (scrypt, lockout, per-IP rate limit), session tokens (random, stored hashed, idle
// and absolute expiry), the demo users of a first start, and the admin's user changes. HTTP is in api.ts; the
// router gate (gate.ts) calls resolve() on every request that needs a session.
//
// Sessions: a token of 32 random bytes (base64url) in the HttpOnly cookie; the store keeps sha256(token).
// Idle expiry (ONEMAP_SESSION_IDLE_MIN, default 30 min) and absolute expiry (12 h) — OWASP Session Management
// Cheat Sheet's ranges for an application with personal data. Resolved sessions are cached for a few seconds and
// last_seen is written at most every 15 s (or a quarter of the idle time), so a tile burst is not a write burst;
// every change to a user drops that user's cached sessions at once.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../http-errors.ts';
import type { NewSecurityEvent } from './audit.ts';
import type { Actor } from '../../layers/incidents/model.ts';
import { DEPARTMENTS, LAYERS, type DepartmentId } from '../../layers/catalog.ts';
import { generatePassword, hashPassword, verifyPassword } from './passwords.ts';
import { TokenBucket, WindowLimiter } from './rate-limit.ts';
import { notSignedIn } from './request-actor.ts';
import { DEMO_HASH_MARKER, USER_ROLES, type UserRecord, type UserRole, type UserStore } from './user-store.ts';

export const SESSION_COOKIE = 'onemap_session';
export const MAX_FAILED = 5;
export const LOCK_MS = 15 * 60_000;
export const DEFAULT_IDLE_MS = 30 * 60_000;
export const DEFAULT_ABSOLUTE_MS = 12 * 3600_000;
const CACHE_MS = 5_000;
const DEMO_META = 'demo_password_hash';

export interface AuthOptions {
  clock?: () => number;
  /** Idle expiry; default ONEMAP_SESSION_IDLE_MIN minutes, else 30 min. */
  idleMs?: number;
  absoluteMs?: number;
  /** Sign-in attempts per IP per minute (default 10). */
  signInPerMinute?: number;
  /** Searches per second per session and burst (default 30, 60). */
  searchPerSecond?: number;
  searchBurst?: number;
  log?: (msg: string) => void;
  /** The security audit (tile-server/auth/audit.ts SecurityAudit.record): sign-in ok/failed/locked, sign-out. */
  audit?: (e: NewSecurityEvent) => void;
}

/** What the client sees of a user: never the hash. */
export interface PublicUser {
  username: string; role: UserRole; name: string; grids?: string[]; layers?: string[];
  /** The department in effect (stored, else the role's default) and whether it was set for this user. */
  department: DepartmentId; departmentTitle: string; departmentSet: boolean;
  disabled: boolean; locked: boolean; lockedUntil: number | null; createdAt: number; updatedAt: number;
}

export function publicUser(u: UserRecord, now: number): PublicUser {
  const locked = u.lockedUntil !== null && u.lockedUntil > now;
  return {
    username: u.username, role: u.role, name: u.name, ...(u.grids ? { grids: u.grids } : {}), ...(u.layers ? { layers: u.layers } : {}),
    department: departmentOf(u), departmentTitle: DEPARTMENTS[departmentOf(u)], departmentSet: u.department !== null,
    disabled: u.disabled, locked, lockedUntil: locked ? u.lockedUntil : null, createdAt: u.createdAt, updatedAt: u.updatedAt,
  };
}

/**
 * The department of a user who has none stored (issue 10): the centre's staff (admin, operator, grid managers) work
 * for 城运中心, a planner for 自然资源和规划局, an analyst is a public-safety analyst (公安局).
 */
export const DEFAULT_DEPARTMENT: Record<UserRole, DepartmentId> = {
  admin: 'city', operator: 'city', grid_manager: 'city', planner: 'planning', analyst: 'police',
};

export function departmentOf(u: Pick<UserRecord, 'role' | 'department'>): DepartmentId {
  return u.department ?? DEFAULT_DEPARTMENT[u.role];
}

export function actorOfUser(u: UserRecord): Actor {
  return {
    id: u.username, role: u.role, name: u.name, department: departmentOf(u),
    ...(u.grids ? { grids: [...u.grids] } : {}), ...(u.layers ? { layers: [...u.layers] } : {}),
  };
}

/** Demo data stewards (部门数据员, issue 10): planners of a layer's owner department approve its sharing requests. */
export const DEMO_STEWARDS: readonly { username: string; name: string; department: DepartmentId; layers: string[] }[] = [
  { username: 'steward-emergency', name: '应急管理局数据员', department: 'emergency', layers: ['hazards'] },
  { username: 'steward-city', name: '城运中心数据员', department: 'city', layers: ['grids'] },
];

export const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');
/** token → hash of recent requests: hashing on every tile request cost more than serving the tile. */
const hashMemo = new Map<string, string>();
function memoHash(token: string): string {
  let h = hashMemo.get(token);
  if (h === undefined) {
    if (hashMemo.size >= 10_000) hashMemo.clear();
    h = tokenHash(token);
    hashMemo.set(token, h);
  }
  return h;
}

/** The session token from the Cookie header, if any. */
export function cookieToken(req: IncomingMessage): string | null {
  // From rawHeaders: touching req.headers builds the whole header object, which the tile hot path avoids.
  let h: string | undefined;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === 6 && raw[i].toLowerCase() === 'cookie') h = h === undefined ? raw[i + 1] : `${h}; ${raw[i + 1]}`;
  if (!h) return null;
  for (const part of h.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === SESSION_COOKIE) {
      const v = part.slice(i + 1).trim();
      return /^[A-Za-z0-9_-]{43}$/.test(v) ? v : null;
    }
  }
  return null;
}

export function isHttps(req: IncomingMessage): boolean {
  return (req.socket as { encrypted?: boolean }).encrypted === true || req.headers['x-forwarded-proto'] === 'https';
}

export function sessionCookie(req: IncomingMessage, token: string, maxAgeS: number): string {
  return `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeS}${isHttps(req) ? '; Secure' : ''}`;
}

export function clearedCookie(req: IncomingMessage): string {
  return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${isHttps(req) ? '; Secure' : ''}`;
}

interface Cached { username: string; actor: Actor; lastSeen: number; storedLastSeen: number; expiresAt: number; checkedAt: number }

/** A demo grid manager per grid: code and the manager's name from grids.fgb. */
export interface DemoGrid { code: string; managerName: string | null }

export class AuthService {
  readonly clock: () => number;
  readonly idleMs: number;
  readonly absoluteMs: number;
  private readonly signIns: WindowLimiter;
  private readonly searches: TokenBucket;
  private readonly cache = new Map<string, Cached>();
  private readonly log: (msg: string) => void;
  /** Records security events (never throws; see audit.ts). */
  readonly audit: (e: NewSecurityEvent) => void;
  private demoHash: string | null | undefined;

  constructor(readonly store: UserStore, o: AuthOptions = {}) {
    this.clock = o.clock ?? Date.now;
    const envIdle = Number(process.env.ONEMAP_SESSION_IDLE_MIN);
    this.idleMs = o.idleMs ?? (Number.isFinite(envIdle) && envIdle > 0 ? envIdle * 60_000 : DEFAULT_IDLE_MS);
    this.absoluteMs = o.absoluteMs ?? DEFAULT_ABSOLUTE_MS;
    this.signIns = new WindowLimiter(o.signInPerMinute ?? 10, 60_000, this.clock);
    this.searches = new TokenBucket(o.searchPerSecond ?? 30, o.searchBurst ?? 60, this.clock);
    this.log = o.log ?? (() => {});
    this.audit = o.audit ?? (() => {});
  }

  /**
   * First start (no users): admin, operator, planner, analyst and grid-{code} for every grid, all with the demo
   * password (`password`, else ONEMAP_DEMO_PASSWORD, else generated and returned so the caller prints it once).
   * Returns null when users exist already.
   */
  async ensureDemoUsers(grids: () => Promise<DemoGrid[]>, password?: string): Promise<{ password: string; generated: boolean; usernames: string[] } | null> {
    if (await this.store.count() > 0) {
      await this.ensureStewards();
      return null;
    }
    const given = password ?? (process.env.ONEMAP_DEMO_PASSWORD || undefined);
    const pw = given ?? generatePassword();
    const now = this.clock();
    const base = (username: string, role: UserRole, name: string, g: string[] | null = null): UserRecord => ({
      username, role, name, grids: g, layers: null, department: null, disabled: false, passwordHash: DEMO_HASH_MARKER,
      failedCount: 0, lockedUntil: null, createdAt: now, updatedAt: now,
    });
    const users = [
      base('admin', 'admin', '系统管理员'), base('operator', 'operator', '值班调度员'),
      base('planner', 'planner', '规划编辑员'), base('analyst', 'analyst', '数据分析员'),
      ...this.stewards(now),
      ...(await grids()).map((g) => base(`grid-${g.code}`, 'grid_manager', g.managerName || `网格员 ${g.code}`, [g.code])),
    ];
    await this.store.setMeta(DEMO_META, await hashPassword(pw));
    this.demoHash = undefined;
    await this.store.insert(users);
    return { password: pw, generated: given === undefined, usernames: users.map((u) => u.username) };
  }

  private stewards(now: number): UserRecord[] {
    return DEMO_STEWARDS.map((s) => ({
      username: s.username, role: 'planner' as const, name: s.name, grids: null, layers: [...s.layers], department: s.department,
      disabled: false, passwordHash: DEMO_HASH_MARKER, failedCount: 0, lockedUntil: null, createdAt: now, updatedAt: now,
    }));
  }

  /**
   * A user store made before issue 10 lacks the demo stewards: they are added with the demo password (the `demo`
   * marker), so a machine that ran `npm start` before can sign in as them. Only where the demo password is known
   * (its hash in auth_meta) and the user name is free; returns the names added.
   */
  async ensureStewards(): Promise<string[]> {
    if (await this.demoPasswordHash() === null) return [];
    const missing: UserRecord[] = [];
    for (const u of this.stewards(this.clock())) if (!(await this.store.get(u.username))) missing.push(u);
    if (!missing.length) return [];
    await this.store.insert(missing);
    this.log(`已添加部门数据员演示用户 demo data stewards added: ${missing.map((u) => u.username).join(', ')}`);
    return missing.map((u) => u.username);
  }

  private async demoPasswordHash(): Promise<string | null> {
    if (this.demoHash === undefined) this.demoHash = await this.store.getMeta(DEMO_META);
    return this.demoHash;
  }

  private async matches(u: UserRecord, password: string): Promise<boolean> {
    if (u.passwordHash !== DEMO_HASH_MARKER) return verifyPassword(password, u.passwordHash);
    const demo = await this.demoPasswordHash();
    return demo !== null && verifyPassword(password, demo);
  }

  /** Sign-in; the token goes in the cookie. Errors: 429 rate_limited, 401 bad_credentials, 423 account_locked, 403 account_disabled. */
  async signIn(username: string, password: string, ip: string): Promise<{ token: string; user: UserRecord }> {
    try {
      const out = await this.checkSignIn(username, password, ip);
      this.audit({ action: 'sign_in', actor: `${out.user.role}:${out.user.username}`, target: out.user.username, ip });
      return out;
    } catch (err) {
      const code = err instanceof HttpError ? err.code : 'error';
      this.audit({ action: code === 'account_locked' ? 'account_locked' : 'sign_in_failed', actor: null, target: String(username).slice(0, 64), ip, detail: { code } });
      throw err;
    }
  }

  private async checkSignIn(username: string, password: string, ip: string): Promise<{ token: string; user: UserRecord }> {
    const wait = this.signIns.take(ip);
    if (wait !== null) {
      throw new HttpError(429, 'rate_limited', `登录尝试过于频繁；请 ${wait} 秒后再试。Too many sign-in attempts: retry in ${wait} s.`, { 'Retry-After': String(wait) });
    }
    const now = this.clock();
    const u = await this.store.get(username);
    if (!u) {
      // Same work as a real check, so response time does not tell which user names exist.
      await verifyPassword(password, (await this.demoPasswordHash()) ?? 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$' + 'A'.repeat(86));
      throw badCredentials();
    }
    if (u.lockedUntil !== null && u.lockedUntil > now) throw locked(u.lockedUntil - now);
    const ok = await this.matches(u, password);
    if (!ok) {
      const failed = u.failedCount + 1;
      const lock = failed >= MAX_FAILED;
      await this.store.update({ ...u, failedCount: lock ? 0 : failed, lockedUntil: lock ? now + LOCK_MS : null, updatedAt: u.updatedAt });
      if (lock) {
        this.log(`账号已锁定 account locked: ${u.username} after ${MAX_FAILED} failed sign-ins`);
        throw locked(LOCK_MS);
      }
      throw badCredentials();
    }
    if (u.disabled) throw new HttpError(403, 'account_disabled', '账号已停用；请联系管理员。The account is disabled: ask an administrator.');
    let next = u;
    if (u.failedCount !== 0 || u.lockedUntil !== null || u.passwordHash === DEMO_HASH_MARKER) {
      // A demo user gets a hash of their own (own salt) at the first successful sign-in (see migrations.ts).
      next = { ...u, failedCount: 0, lockedUntil: null, passwordHash: u.passwordHash === DEMO_HASH_MARKER ? await hashPassword(password) : u.passwordHash };
      await this.store.update(next);
    }
    const token = randomBytes(32).toString('base64url');
    await this.store.createSession({ tokenHash: tokenHash(token), username: u.username, createdAt: now, lastSeen: now, expiresAt: now + this.absoluteMs });
    return { token, user: next };
  }

  async signOut(req: IncomingMessage): Promise<void> {
    const t = cookieToken(req);
    if (!t) return;
    const h = tokenHash(t);
    const who = this.cache.get(h)?.actor;
    this.cache.delete(h);
    await this.store.deleteSession(h);
    for (const fn of this.endedListeners) fn({ session: h });
    this.audit({ action: 'sign_out', actor: who ? `${who.role}:${who.id}` : null, target: who?.id ?? null, ip: req.socket?.remoteAddress ?? null });
  }

  /** The cached actor of a fresh session, without I/O; undefined → call resolve(). */
  resolveCached(req: IncomingMessage): { actor: Actor; session: string } | undefined {
    const t = cookieToken(req);
    if (!t) return undefined;
    const h = memoHash(t);
    const c = this.cache.get(h);
    const now = this.clock();
    if (!c || now - c.checkedAt > CACHE_MS || now >= c.expiresAt || now - c.lastSeen > this.idleMs) return undefined;
    this.seen(h, c, now);
    return { actor: c.actor, session: h };
  }

  /** The signed-in actor; 401 not_signed_in (no or unknown cookie) or session_expired (idle or absolute expiry). */
  async resolve(req: IncomingMessage): Promise<{ actor: Actor; session: string }> {
    const hit = this.resolveCached(req);
    if (hit) return hit;
    const t = cookieToken(req);
    if (!t) throw notSignedIn();
    const h = tokenHash(t);
    const now = this.clock();
    const s = await this.store.getSession(h);
    const clear = { 'Set-Cookie': clearedCookie(req) };
    if (!s) { this.cache.delete(h); throw new HttpError(401, 'not_signed_in', '登录已失效，请重新登录。The session is not valid: sign in again.', clear); }
    const lastSeen = Math.max(s.lastSeen, this.cache.get(h)?.lastSeen ?? 0);
    if (now >= s.expiresAt || now - lastSeen > this.idleMs) {
      this.cache.delete(h);
      await this.store.deleteSession(h);
      throw new HttpError(401, 'session_expired', '登录已过期，请重新登录。The session expired: sign in again.', clear);
    }
    const u = await this.store.get(s.username);
    if (!u || u.disabled) {
      await this.store.deleteSession(h);
      throw new HttpError(401, 'not_signed_in', '账号已停用或删除，请联系管理员。The account was disabled or removed.', clear);
    }
    const c: Cached = { username: u.username, actor: actorOfUser(u), lastSeen, storedLastSeen: s.lastSeen, expiresAt: s.expiresAt, checkedAt: now };
    this.cache.set(h, c);
    this.seen(h, c, now);
    return { actor: c.actor, session: h };
  }

  private seen(h: string, c: Cached, now: number): void {
    c.lastSeen = now;
    if (now - c.storedLastSeen > Math.min(15_000, this.idleMs / 4)) {
      c.storedLastSeen = now;
      this.store.touchSession(h, now).catch((e: Error) => this.log(`会话更新失败 session touch failed: ${e.message}`));
    }
  }

  /** Search routes: 30/s per session (burst 60); 429 rate_limited. */
  takeSearch(session: string): void {
    const wait = this.searches.take(session);
    if (wait !== null) throw new HttpError(429, 'rate_limited', `查询过于频繁；请 ${wait} 秒后再试。Too many searches: retry in ${wait} s.`, { 'Retry-After': String(wait) });
  }

  /** Drops cached sessions of a user (after any change to them); open live connections of the user are told to go. */
  forget(username: string): void {
    for (const [h, c] of this.cache) if (c.username === username) this.cache.delete(h);
    for (const fn of this.endedListeners) fn({ username });
  }

  private readonly endedListeners: ((e: { username?: string; session?: string }) => void)[] = [];
  /** Called when a session ends (sign-out) or a user changes (role, grids, disabled, deleted, password): the live
   *  feed closes their sockets, which then reconnect under the new rights or not at all. */
  onSessionsEnded(fn: (e: { username?: string; session?: string }) => void): void {
    this.endedListeners.push(fn);
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}

export const badCredentials = (): HttpError =>
  new HttpError(401, 'bad_credentials', '用户名或密码错误。Wrong user name or password.');

export function locked(ms: number): HttpError {
  const s = Math.max(1, Math.ceil(ms / 1000));
  const min = Math.ceil(s / 60);
  return new HttpError(423, 'account_locked', `密码错误次数过多，账号已锁定；请 ${min} 分钟后再试，或请管理员解锁。Too many wrong passwords: the account is locked for ${min} min (or ask an administrator to unlock it).`, { 'Retry-After': String(s) });
}

export const USERNAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$/;
export const GRID_RE = /^\d{6,20}$/;
export const LAYER_IDS: ReadonlySet<string> = new Set(LAYERS.map((l) => l.id));
export { USER_ROLES };
