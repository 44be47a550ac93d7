// Request parsing as pure functions: the path (with traversal checks), tile coordinates, bbox, paging,
// conditional requests and byte ranges. Each either returns a value or throws an HttpError with a stable code.
import { HttpError, badRequest } from './http-errors.ts';

/** Longer request targets get 414. Real tile and OGC URLs are < 300 characters. */
export const MAX_URL_LENGTH = 4096;
/** Highest zoom a tile URL may name (PMTiles tile ids cover z ≤ 26; beyond 30 is never a real tile). */
export const MAX_TILE_ZOOM = 30;
export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 10_000;
export const MAX_OFFSET = 1_000_000_000;

export interface ParsedTarget {
  /** Decoded path segments, without the leading empty one: `/a/b` → ['a', 'b']; `/` → ['']. */
  segments: string[];
  /** The raw query string without '?', '' if none. */
  query: string;
}

const badPath = (why: string): HttpError =>
  badRequest('bad_path', `路径不合法（${why}）。Path rejected (${why}): use plain names such as /tiles/basemap/12/3421/1670.mvt.`);

/**
 * Splits a raw request target into decoded segments. Rejects, rather than normalises, anything that could
 * address a file outside the served folders: `..` (also percent-encoded), backslashes, NUL, an encoded '/'
 * inside a segment, malformed percent-encoding — so no later join with a folder can escape it.
 */
export function parseTarget(rawUrl: string): ParsedTarget {
  if (rawUrl.length > MAX_URL_LENGTH) {
    throw new HttpError(414, 'uri_too_long', `请求地址过长（超过 ${MAX_URL_LENGTH} 字符）。URL longer than ${MAX_URL_LENGTH} characters: shorten the query (e.g. a smaller bbox string).`);
  }
  if (rawUrl.charCodeAt(0) !== 47 /* '/' */) throw badPath('must start with /');
  const q = rawUrl.indexOf('?');
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = q < 0 ? '' : rawUrl.slice(q + 1);
  if (path.includes('\\')) throw badPath('backslash');
  if (path.includes('\0')) throw badPath('NUL');
  const raw = path.slice(1).split('/');
  if (!path.includes('%')) {
    for (const s of raw) if (s === '..' || s === '.') throw badPath('dot segment');
    return { segments: raw, query };
  }
  const segments = new Array<string>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    let s: string;
    try {
      s = decodeURIComponent(raw[i]);
    } catch {
      throw badPath('malformed percent-encoding');
    }
    if (s === '..' || s === '.') throw badPath('dot segment');
    if (s.includes('/') || s.includes('\\')) throw badPath('encoded slash');
    if (s.includes('\0')) throw badPath('NUL');
    segments[i] = s;
  }
  return { segments, query };
}

/** Names of tilesets and layers: lower-case ASCII, as in layers/catalog.ts. Safe in file names. */
export function isSafeName(s: string): boolean {
  return /^[a-z0-9][a-z0-9_-]{0,63}$/.test(s);
}

/** Parses a decimal non-negative integer of at most 10 digits without allocating; -1 if not one. */
export function parseUint(s: string): number {
  const n = s.length;
  if (n === 0 || n > 10) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

export interface TileCoord { z: number; x: number; y: number }

/** Validates z/x/y strings: integers, z in 0..30, x and y in 0..2^z-1. `y` may carry its extension already stripped. */
export function parseTileCoord(zs: string, xs: string, ys: string): TileCoord {
  const z = parseUint(zs);
  const x = parseUint(xs);
  const y = parseUint(ys);
  if (z < 0 || x < 0 || y < 0) {
    throw badRequest('bad_tile_coords', `瓦片坐标必须是非负整数：/${zs}/${xs}/${ys}。Tile z/x/y must be non-negative integers, e.g. /tiles/basemap/12/3421/1670.mvt.`);
  }
  if (z > MAX_TILE_ZOOM) {
    throw badRequest('bad_tile_coords', `缩放级别 ${z} 超出 0–${MAX_TILE_ZOOM}。Zoom ${z} is outside 0–${MAX_TILE_ZOOM}.`);
  }
  const n = 2 ** z;
  if (x >= n || y >= n) {
    throw badRequest('bad_tile_coords', `在缩放级别 ${z}，x 和 y 必须小于 ${n}。At zoom ${z}, x and y must be below ${n} (got ${x}/${y}).`);
  }
  return { z, x, y };
}

/** Web-Mercator tile → lon/lat bounds [w, s, e, n]. */
export function tileBounds(z: number, x: number, y: number): [number, number, number, number] {
  const n = 2 ** z;
  const lon = (i: number) => (i / n) * 360 - 180;
  const lat = (j: number) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * j) / n))) * 180) / Math.PI;
  return [lon(x), lat(y + 1), lon(x + 1), lat(y)];
}

export type Bbox = [number, number, number, number];

/**
 * OGC API Features bbox: `minLon,minLat,maxLon,maxLat` in CRS84 (a 6-number 3D box is accepted and its
 * heights ignored). Boxes crossing the antimeridian (minLon > maxLon, allowed by the standard) are
 * rejected: no served layer spans it, and a clear 400 beats a silently empty page.
 */
export function parseBbox(s: string): Bbox {
  const bad = (why: string) =>
    badRequest('bad_bbox', `bbox 不合法：${why}。Invalid bbox (${why}): expected bbox=minLon,minLat,maxLon,maxLat in degrees, e.g. bbox=120.70,31.60,120.80,31.70.`);
  const parts = s.split(',');
  if (parts.length !== 4 && parts.length !== 6) throw bad(`需要 4 个数 / need 4 numbers, got ${parts.length}`);
  const nums = parts.map((p) => (/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(p) ? Number(p) : NaN));
  if (nums.some((v) => !Number.isFinite(v))) throw bad('不是数字 / not a number');
  const [minX, minY, maxX, maxY] = nums.length === 4 ? nums : [nums[0], nums[1], nums[3], nums[4]];
  if (minX < -180 || maxX > 180 || minX > 180 || maxX < -180) throw bad('经度超出 -180..180 / longitude outside -180..180');
  if (minY < -90 || maxY > 90 || minY > 90 || maxY < -90) throw bad('纬度超出 -90..90 / latitude outside -90..90');
  if (minX > maxX || minY > maxY) throw bad('最小值大于最大值 / min greater than max (antimeridian-crossing boxes are not supported; split into two requests)');
  return [minX, minY, maxX, maxY];
}

/**
 * `limit`: an integer ≥ 1; absent → 100. Values above 10,000 are clamped to 10,000, as OGC API – Features
 * Part 1 recommends ("SHALL NOT result in an error, instead use the maximum"); more than 15 digits → 400.
 */
export function parseLimit(s: string | null): number {
  if (s === null) return DEFAULT_LIMIT;
  if (!/^\d{1,15}$/.test(s)) {
    throw badRequest('bad_limit', `limit 必须是 1–${MAX_LIMIT} 的整数（更大的值按 ${MAX_LIMIT} 处理）。limit must be an integer 1–${MAX_LIMIT}; got "${s.slice(0, 40)}".`);
  }
  const v = Number(s);
  if (v < 1) throw badRequest('bad_limit', `limit 至少为 1。limit must be at least 1.`);
  return Math.min(v, MAX_LIMIT);
}

/** `offset`: an integer 0..1e9; absent → 0. */
export function parseOffset(s: string | null): number {
  if (s === null) return 0;
  if (!/^\d{1,10}$/.test(s) || Number(s) > MAX_OFFSET) {
    throw badRequest('bad_offset', `offset 必须是 0–${MAX_OFFSET} 的整数；请使用响应中的 next 链接翻页。offset must be an integer 0–${MAX_OFFSET}; follow the "next" link to page.`);
  }
  return Number(s);
}

/** RFC 9110 §13.1.2 If-None-Match: weak comparison, list or `*`. */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  if (ifNoneMatch === etag || ifNoneMatch === '*') return true;
  const bare = etag.startsWith('W/') ? etag.slice(2) : etag;
  for (let t of ifNoneMatch.split(',')) {
    t = t.trim();
    if (t.startsWith('W/')) t = t.slice(2);
    if (t === bare || t === '*') return true;
  }
  return false;
}

export type RangeResult = { start: number; end: number } | 'unsatisfiable' | null;

/**
 * RFC 9110 §14.1.2 single byte range. Returns null to serve the whole file (no/unsupported/malformed
 * Range header or several ranges — both allowed to be ignored), 'unsatisfiable' for 416, else the
 * inclusive byte interval.
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return null;
  const [, a, b] = m;
  if (a === '' && b === '') return null;
  if (a === '') {
    const n = Number(b); // suffix: the last n bytes
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  let end = b === '' ? size - 1 : Number(b);
  if (b !== '' && end < start) return null; // invalid range-spec → ignore the header
  if (start >= size) return 'unsatisfiable';
  if (end >= size) end = size - 1;
  return { start, end };
}

/** Does the Accept-Encoding header accept gzip (not `gzip;q=0`)? */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  const i = header.indexOf('gzip');
  if (i < 0) return header.includes('*') && !/\*\s*;\s*q=0(\.0*)?\s*(,|$)/.test(header);
  return !/gzip\s*;\s*q=0(\.0*)?\s*(,|$)/.test(header);
}
