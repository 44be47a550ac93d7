// Grid managers' patrols (issue 9 item 4): check-ins from the phone and the day's track.
//   POST /api/patrols/checkin   {lon, lat, at, accuracy?}  → 201 stored | 200 the same check-in again
//   GET  /api/patrols/track?date=YYYY-MM-DD[&user=…]       → {user, date, points[{lon,lat,at,accuracy}], distanceM}
// Storage: its own store beside the incidents (SQLite file `patrols.sqlite` next to the incident file, or schema
// `patrol` in the incidents' PostgreSQL), versioned by the incidents' migration runner. Not tables inside the
// incident DB: that DB's schema_migrations is the incident store's, and a second list of versions there would collide.
// Idempotency: one user has at most one check-in per millisecond `at` (primary key), so a check-in the phone's
// outbox sends twice (the answer was lost, the network came back) is stored once — the client's `at` is its key.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { CITY } from '../layers/catalog.ts';
import type { Actor } from '../layers/incidents/model.ts';
import { HttpError, badRequest, notFound, sendJson } from './http-errors.ts';
import { readJson } from './request-body.ts';
import type { Migration } from './incidents/migrations.ts';

export const PATROL_ROUTE = 'patrols';
/** China Standard Time: a patrol "day" is the local calendar day (UTC+8, no daylight saving). */
export const DAY_OFFSET_MS = 8 * 3600_000;
/** A queued check-in may arrive days late (a phone off the network); older or future ones are refused. */
export const MAX_AGE_MS = 7 * 86_400_000;
export const MAX_FUTURE_MS = 5 * 60_000;
export const MAX_TRACK_POINTS = 5000;
const MAX_BODY = 4096;
const JSON_BODY = { max: MAX_BODY, tooLarge: `正文超过 ${MAX_BODY} 字节。Body larger than ${MAX_BODY} bytes.` };
const USER_RE = /^[A-Za-z0-9_.:@-]{1,64}$/;

export interface CheckIn { userId: string; lon: number; lat: number; at: number; accuracy: number | null; receivedAt: number }

export interface PatrolStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Stores a check-in; false when this user already has one at this `at` (a resend). */
  add(c: CheckIn): Promise<boolean>;
  /** The user's check-ins with from ≤ at < to, oldest first, at most `limit`. */
  track(userId: string, from: number, to: number, limit: number): Promise<CheckIn[]>;
  /** Everyone's check-ins with from ≤ at < to, oldest first, at most `limit` (issue 10: grid patrol coverage, tile-server/indicators). */
  between(from: number, to: number, limit: number): Promise<CheckIn[]>;
  /** Retention (issue 10, tile-server/lifecycle): deletes every check-in with at < cutoff; the rows deleted. */
  purgeBefore(cutoff: number): Promise<number>;
  close(): Promise<void>;
}

export const PATROL_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'patrol check-ins',
    sqlite: `
      CREATE TABLE checkins (
        user_id TEXT NOT NULL, at INTEGER NOT NULL, lon REAL NOT NULL, lat REAL NOT NULL, accuracy REAL,
        received_at INTEGER NOT NULL, PRIMARY KEY (user_id, at)
      ) STRICT;`,
    postgres: `
      CREATE TABLE {s}.checkins (
        user_id text NOT NULL, at bigint NOT NULL, lon double precision NOT NULL, lat double precision NOT NULL,
        accuracy double precision, received_at bigint NOT NULL, PRIMARY KEY (user_id, at)
      );`,
  },
];

const fromRow = (r: Record<string, unknown>): CheckIn => ({
  userId: String(r.user_id), at: Number(r.at), lon: Number(r.lon), lat: Number(r.lat),
  accuracy: r.accuracy === null || r.accuracy === undefined ? null : Number(r.accuracy), receivedAt: Number(r.received_at),
});

export async function openSqlitePatrolStore(file: string): Promise<PatrolStore> {
  const { openMigratedSqlite } = await import('./incidents/sqlite-store.ts');
  const db = openMigratedSqlite(file, PATROL_MIGRATIONS, { zh: '巡查库', en: 'patrol database', hint: 'Check that the directory is writable.' });
  const insert = db.prepare(`INSERT INTO checkins (user_id, at, lon, lat, accuracy, received_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`);
  const select = db.prepare(`SELECT * FROM checkins WHERE user_id = ? AND at >= ? AND at < ? ORDER BY at LIMIT ?`);
  const purge = db.prepare(`DELETE FROM checkins WHERE at < ?`);
  const selectAll = db.prepare(`SELECT * FROM checkins WHERE at >= ? AND at < ? ORDER BY at LIMIT ?`);
  return {
    kind: 'sqlite',
    async add(c) { return insert.run(c.userId, c.at, c.lon, c.lat, c.accuracy, c.receivedAt).changes === 1; },
    async track(userId, from, to, limit) { return (select.all(userId, from, to, limit) as Record<string, unknown>[]).map(fromRow); },
    async between(from, to, limit) { return (selectAll.all(from, to, limit) as Record<string, unknown>[]).map(fromRow); },
    async purgeBefore(cutoff) { return purge.run(cutoff).changes; },
    async close() { db.close(); },
  };
}

export async function openPgPatrolStore(databaseUrl: string, schema = 'patrol'): Promise<PatrolStore> {
  const { openMigratedPg } = await import('./incidents/pg-store.ts');
  const pool = await openMigratedPg(databaseUrl, { schema, migrations: PATROL_MIGRATIONS, max: 2, durable: true, name: { zh: '巡查库', en: 'patrol' } });
  const s = `"${schema}"`;
  return {
    kind: 'postgres',
    async add(c) {
      const r = await pool.query(`INSERT INTO ${s}.checkins (user_id, at, lon, lat, accuracy, received_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
        [c.userId, c.at, c.lon, c.lat, c.accuracy, c.receivedAt]);
      return r.rowCount === 1;
    },
    async track(userId, from, to, limit) {
      const r = await pool.query(`SELECT * FROM ${s}.checkins WHERE user_id = $1 AND at >= $2 AND at < $3 ORDER BY at LIMIT $4`, [userId, from, to, limit]);
      return r.rows.map(fromRow);
    },
    async between(from, to, limit) {
      const r = await pool.query(`SELECT * FROM ${s}.checkins WHERE at >= $1 AND at < $2 ORDER BY at LIMIT $3`, [from, to, limit]);
      return r.rows.map(fromRow);
    },
    async purgeBefore(cutoff) { return (await pool.query(`DELETE FROM ${s}.checkins WHERE at < $1`, [cutoff])).rowCount ?? 0; },
    async close() { await pool.end(); },
  };
}

/** PostgreSQL when a URL is given, else `patrols.sqlite` beside the incident file (or ONEMAP_PATROL_FILE, var/patrols.sqlite). */
export function openPatrolStore(opts: { databaseUrl?: string | null; incidentDbFile?: string; file?: string }): Promise<PatrolStore> {
  if (opts.databaseUrl) return openPgPatrolStore(opts.databaseUrl);
  const file = opts.file ?? (opts.incidentDbFile && opts.incidentDbFile !== ':memory:' ? join(dirname(opts.incidentDbFile), 'patrols.sqlite')
    : process.env.ONEMAP_PATROL_FILE || 'var/patrols.sqlite');
  return openSqlitePatrolStore(file);
}

// ------------------------------------------------------------------------------------------ pure parts

/** [start, end) in ms of the local (UTC+8) calendar day `YYYY-MM-DD`. */
export function dayRange(date: string): [number, number] {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const start = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) - DAY_OFFSET_MS : NaN;
  if (!m || !Number.isFinite(start) || new Date(start + DAY_OFFSET_MS).toISOString().slice(0, 10) !== date) {
    throw badRequest('bad_date', 'date 须为日期 YYYY-MM-DD（北京时间的日历日），如 2026-11-29。date must be a calendar day YYYY-MM-DD (China time).');
  }
  return [start, start + 86_400_000];
}

/** The local (UTC+8) calendar day of `ms`. */
export const localDay = (ms: number): string => new Date(ms + DAY_OFFSET_MS).toISOString().slice(0, 10);

/** Length of the track along its points, metres (haversine on the WGS84 mean radius; patrols are short). */
export function trackLength(points: readonly { lon: number; lat: number }[]): number {
  const R = 6_371_008.8, rad = Math.PI / 180;
  let d = 0;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1], b = points[i];
    const dLat = (b.lat - a.lat) * rad, dLon = (b.lon - a.lon) * rad;
    const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
    d += 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
  }
  return d;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A check-in body → its fields; 400 with a stable code otherwise. `now` bounds `at`. */
export function parseCheckIn(v: unknown, now: number): { lon: number; lat: number; at: number; accuracy: number | null } {
  if (!isObj(v)) throw badRequest('bad_body', '正文须为 {"lon":120.75,"lat":31.65,"at":<毫秒时间戳>}。The body must be {"lon", "lat", "at" (ms since epoch)}.');
  for (const k of Object.keys(v)) if (!['lon', 'lat', 'at', 'accuracy'].includes(k)) throw badRequest('unknown_param', `不认识的字段「${k.slice(0, 40)}」；可用：lon, lat, at, accuracy。Unknown field; allowed: lon, lat, at, accuracy.`);
  const [w, s, e, n] = CITY.bounds;
  const m = 0.05;
  const { lon, lat, at, accuracy } = v;
  if (typeof lon !== 'number' || typeof lat !== 'number' || !Number.isFinite(lon) || !Number.isFinite(lat)) {
    throw badRequest('bad_coordinate', 'lon、lat 须为 WGS84 十进制度数。lon and lat must be WGS84 decimal degrees.');
  }
  if (lon < w - m || lon > e + m || lat < s - m || lat > n + m) {
    throw badRequest('outside_city', `(${lon}, ${lat}) 不在${CITY.name}范围内；须为 WGS84（不是 GCJ-02）。(${lon}, ${lat}) is outside ${CITY.name}: WGS84 expected, not GCJ-02.`);
  }
  if (typeof at !== 'number' || !Number.isInteger(at) || at < now - MAX_AGE_MS || at > now + MAX_FUTURE_MS) {
    throw badRequest('bad_at', 'at 须为签到时刻的毫秒时间戳，且在 7 天之内（不晚于服务器时间 5 分钟）；请校准手机时间。at must be the check-in time in ms since epoch, within the last 7 days (and not over 5 min ahead): check the phone clock.');
  }
  let acc: number | null = null;
  if (accuracy !== undefined && accuracy !== null) {
    if (typeof accuracy !== 'number' || !Number.isFinite(accuracy) || accuracy < 0 || accuracy > 100_000) throw badRequest('bad_accuracy', 'accuracy 须为定位精度（米，0–100000）。accuracy must be metres, 0–100000.');
    acc = Math.round(accuracy * 10) / 10;
  }
  return { lon, lat, at, accuracy: acc };
}

// ------------------------------------------------------------------------------------------ the API

export interface PatrolApiDeps {
  store: PatrolStore;
  clock: () => number;
  /** The signed-in actor (A1's actorOf): throws 401 when there is none. */
  actorOf: (req: IncomingMessage) => Actor;
  /** Pushes a stored check-in to the live feed (optional). */
  onCheckIn?: (c: CheckIn, actor: Actor) => void;
}

/** Who may read someone else's track: the centre and admins; a grid manager reads only their own. */
const READS_OTHERS: readonly Actor['role'][] = ['admin', 'operator'];

export class PatrolApi {
  constructor(private readonly d: PatrolApiDeps) {}

  static acceptsPost(path: string): boolean {
    return path === '/api/patrols/checkin';
  }

  async handle(req: IncomingMessage, res: ServerResponse, s: string[], query: string, head: boolean): Promise<void> {
    if (s.length === 3 && s[2] === 'checkin') {
      if (req.method !== 'POST') throw new HttpError(405, 'method_not_allowed', '签到请用 POST {lon, lat, at}。Check in with POST {lon, lat, at}.', { Allow: 'POST, OPTIONS' });
      return this.checkIn(req, res);
    }
    if (s.length === 3 && s[2] === 'track') {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method_not_allowed', '轨迹请用 GET。Use GET for the track.', { Allow: 'GET, HEAD, OPTIONS' });
      return this.track(req, res, new URLSearchParams(query), head);
    }
    req.resume();
    throw notFound('not_found', '没有这个接口；巡查接口为 POST /api/patrols/checkin 与 GET /api/patrols/track?date=。No such route: POST /api/patrols/checkin, GET /api/patrols/track?date=.');
  }

  private async checkIn(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const actor = this.d.actorOf(req);
    if (actor.role !== 'grid_manager' && actor.role !== 'responder') {
      req.resume();
      throw new HttpError(403, 'forbidden', '只有网格员（或处置人员）可以巡查签到。Only grid managers (or responders) check in on patrol.');
    }
    const now = this.d.clock();
    const body = parseCheckIn(await readJson(req, JSON_BODY), now);
    const c: CheckIn = { userId: actor.id, ...body, receivedAt: now };
    const created = await this.d.store.add(c);
    if (created) this.d.onCheckIn?.(c, actor);
    const out = Buffer.from(JSON.stringify({ ...body, user: actor.id, created }));
    res.writeHead(created ? 201 : 200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': out.length, 'Cache-Control': 'no-store' });
    res.end(out);
  }

  private async track(req: IncomingMessage, res: ServerResponse, q: URLSearchParams, head: boolean): Promise<void> {
    const actor = this.d.actorOf(req);
    for (const k of q.keys()) if (k !== 'date' && k !== 'user') throw badRequest('unknown_param', `不认识的参数「${k.slice(0, 40)}」；可用：date, user。Unknown parameter; allowed: date, user.`);
    const date = q.get('date') || localDay(this.d.clock());
    const [from, to] = dayRange(date);
    const user = q.get('user') || actor.id;
    if (!USER_RE.test(user)) throw badRequest('bad_user', 'user 须为用户名（1–64 个字母、数字或 _.:@-）。user must be a user name.');
    if (user !== actor.id && !READS_OTHERS.includes(actor.role)) {
      throw new HttpError(403, 'forbidden', '只能查看自己的巡查轨迹。You may only see your own patrol track.');
    }
    const rows = await this.d.store.track(user, from, to, MAX_TRACK_POINTS);
    const points = rows.map((r) => ({ lon: r.lon, lat: r.lat, at: r.at, accuracy: r.accuracy }));
    sendJson(res, { user, date, points, distanceM: Math.round(trackLength(points)) }, { head, cacheControl: 'no-store' });
  }
}

