// The hot path: GET /tiles/{tileset}/{z}/{x}/{y}.mvt. A cache hit is synchronous and allocation-light:
// one Map lookup, then writeHead with a header list precomputed when the tile entered the cache.
// Tiles stay gzip-compressed as stored; only clients without gzip in Accept-Encoding get them inflated.
import type { IncomingMessage, OutgoingHttpHeader, ServerResponse } from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';
import { HttpError, badRequest, notFound } from './http-errors.ts';
import { Lru } from './lru.ts';
import { SECURITY_HEADERS } from './security-headers.ts';
import { acceptsGzip, etagMatches, parseTileCoord } from './params.ts';
import { PmtilesArchive } from './pmtiles-source.ts';

export const MVT_TYPE = 'application/vnd.mapbox-vector-tile';
/** An hour fresh, then a day of stale-while-revalidate: tiles change only when the data is rebuilt. */
export const TILE_CACHE_CONTROL = 'public, max-age=3600, stale-while-revalidate=86400';
/** Default memory budget of served tiles per server (all tilesets together share it). */
export const DEFAULT_TILE_CACHE_BYTES = 128 * 1024 * 1024;

type Headers = OutgoingHttpHeader[];
const SECURITY_HEADER_LIST: Headers = Object.entries(SECURITY_HEADERS).flat();

/** A response ready to send: status, precomputed header list, body bytes. */
interface CachedTile {
  status: 200 | 204;
  etag: string;
  body: Buffer | null;
  headers: Headers;
  notModified: Headers;
  /** Stored compression is gzip (so identity clients need inflating). */
  gzip: boolean;
  identity?: { body: Buffer; headers: Headers };
  /** Where it belongs, for dropping it when an edit touches its area. */
  set?: TilesetState;
  z: number; x: number; y: number;
  /** The tileset's generation when it was loaded (see TileService.invalidate). */
  gen: number;
}

/** Edits laid over the stored tiles (tile-server/editing/tile-overlay.ts). */
export interface TilePatcher {
  revision(tileset: string): number;
  /** The patched tile, uncompressed (empty: no feature left), or undefined when no edit touches it. */
  patch(tileset: string, z: number, x: number, y: number, stored: () => Uint8Array | null): Promise<Uint8Array | undefined>;
}

type Bbox = [number, number, number, number];

const ENTRY_OVERHEAD = 200;

interface TilesetState {
  name: string;
  archive: PmtilesArchive;
  inflight: Map<number, Promise<CachedTile>>;
  /** Bumped by every invalidation; `changes` lists the areas changed since each generation. */
  gen: number;
  changes: { gen: number; boxes: Bbox[] }[];
}

/** Invalidations remembered per tileset before older cached tiles are simply dropped. */
const MAX_CHANGES = 256;

export class TileService {
  private readonly sets = new Map<string, TilesetState>();
  /**
   * Responses keyed by the request path (`/tiles/basemap/12/3421/1670.mvt`). Only paths that passed full
   * validation get in, so a hit can skip parsing entirely; odd spellings of a tile (leading zeros) are
   * separate entries, each counted against the byte budget.
   */
  private readonly cache: Lru<string, CachedTile>;

  constructor(archives: Map<string, PmtilesArchive>, cacheBytes = DEFAULT_TILE_CACHE_BYTES) {
    for (const [name, archive] of archives) this.sets.set(name, { name, archive, inflight: new Map(), gen: 0, changes: [] });
    this.cache = new Lru(1_000_000, cacheBytes, (t) => (t.body ? t.body.length : 0) + ENTRY_OVERHEAD);
  }

  get tilesets(): string[] {
    return [...this.sets.keys()];
  }

  archive(name: string): PmtilesArchive | undefined {
    return this.sets.get(name)?.archive;
  }

  private patcher?: TilePatcher;

  /** Lay edits over the stored tiles from now on. */
  setPatcher(p: TilePatcher): void {
    this.patcher = p;
    for (const set of this.sets.values()) this.invalidate(set.name, null);
  }

  /**
   * An edit changed `boxes` (lon/lat) in `tileset` (null: everywhere): cached tiles there are reloaded
   * (and patched) on their next request. Cheap: the check happens lazily on the next cache hit.
   */
  invalidate(tileset: string, boxes: Bbox[] | null): void {
    const set = this.sets.get(tileset);
    if (!set) return;
    set.gen++;
    set.inflight.clear(); // loads started before the edit must not answer requests made after it
    if (!boxes || set.changes.length >= MAX_CHANGES) {
      // Too many areas to remember: every cached tile of the tileset older than now is stale.
      set.changes = [{ gen: set.gen, boxes: [[-180, -90, 180, 90]] }];
    } else set.changes.push({ gen: set.gen, boxes });
  }

  /** A cached tile an edit has touched since it was loaded. */
  private stale(t: CachedTile): boolean {
    const set = t.set;
    if (!set || t.gen === set.gen) return false;
    const b = tileLonLat(t.z, t.x, t.y);
    for (const c of set.changes) {
      if (c.gen <= t.gen) continue;
      for (const x of c.boxes) if (!(x[2] < b[0] || x[3] < b[1] || x[0] > b[2] || x[1] > b[3])) return true;
    }
    t.gen = set.gen; // untouched by every change since: current again
    return false;
  }

  /** Whether `path` is in the cache (a validated tile path); the router checks the session only then. */
  has(path: string): boolean {
    return this.cache.has(path);
  }

  /** The hot path: answers from the cache if `path` (no query) was served before; false on a miss. */
  serveCached(req: IncomingMessage, res: ServerResponse, path: string, head: boolean): boolean {
    const hit = this.cache.get(path);
    if (hit === undefined) return false;
    if (hit.gen !== hit.set?.gen && this.stale(hit)) {
      this.cache.delete(path);
      return false;
    }
    send(req, res, hit, head);
    return true;
  }

  /** Handles /tiles/{tileset}/{z}/{x}/{y}.mvt after a cache miss; `path` is the request path without query. */
  handle(req: IncomingMessage, res: ServerResponse, path: string, tileset: string, zs: string, xs: string, yFile: string, head: boolean): void | Promise<void> {
    if (!yFile.endsWith('.mvt')) {
      throw badRequest('bad_tile_format', `瓦片地址须以 .mvt 结尾。Tile URLs end in .mvt, e.g. /tiles/${tileset}/12/3421/1670.mvt.`);
    }
    const { z, x, y } = parseTileCoord(zs, xs, yFile.slice(0, -4));
    const set = this.sets.get(tileset);
    if (!set) throw unknownTileset(tileset, this.tilesets);
    const h = set.archive.header;
    if (z < h.minZoom || z > h.maxZoom) {
      throw notFound('tile_out_of_range', `缩放级别 ${z} 不在瓦片集 ${tileset} 的 ${h.minZoom}–${h.maxZoom} 内。Zoom ${z} is outside ${tileset}'s ${h.minZoom}–${h.maxZoom}.`);
    }
    if (!set.archive.covers(z, x, y)) {
      throw notFound('tile_out_of_bounds', `瓦片 ${z}/${x}/${y} 在瓦片集 ${tileset} 的范围之外；范围见 /tiles/${tileset}.json。Tile ${z}/${x}/${y} is outside ${tileset}'s bounds (see /tiles/${tileset}.json).`);
    }
    const tileId = PmtilesArchive.tileId(z, x, y);
    let pending = set.inflight.get(tileId);
    if (!pending) {
      const p: Promise<CachedTile> = load(set, tileId, z, x, y, this.patcher).finally(() => { if (set.inflight.get(tileId) === p) set.inflight.delete(tileId); });
      pending = p;
      set.inflight.set(tileId, pending);
    }
    return pending.then((tile) => {
      this.cache.set(path, tile);
      send(req, res, tile, head);
    });
  }
}

export function unknownTileset(name: string, known: string[]): HttpError {
  return notFound('unknown_tileset', `没有瓦片集 ${name.slice(0, 64)}；可用：${known.join(', ') || '无（请运行 npm run data && npm run tiles）'}。No tileset "${name.slice(0, 64)}"; available: ${known.join(', ') || 'none (run npm run data && npm run tiles)'}.`);
}

async function load(set: TilesetState, tileId: number, z: number, x: number, y: number, patcher: TilePatcher | undefined): Promise<CachedTile> {
  const { archive } = set;
  const gen = set.gen;
  let stored: { data: Buffer; etag: string } | null = await archive.getTile(tileId);
  // The security headers travel in the precomputed lists: the router's cache-hit path sets nothing itself.
  const common: Headers = ['Cache-Control', TILE_CACHE_CONTROL, 'Access-Control-Allow-Origin', '*', ...SECURITY_HEADER_LIST];
  let gzip = archive.header.tileCompression === 2;
  const revision = patcher?.revision(set.name) ?? 0;
  if (patcher && revision) {
    const base = stored;
    const patched = await patcher.patch(set.name, z, x, y, () => (base ? (gzip ? gunzipSync(base.data) : base.data) : null));
    if (patched !== undefined) {
      // The stored tile's ETag with the edit revision, so a client's copy from before the edit is not "not modified".
      const tag = base ? base.etag.replace(/^(W\/)?"|"$/g, '') : `${z}-${x}-${y}`;
      stored = patched.length ? { data: gzipSync(patched, { level: 6 }), etag: `"${tag}-r${revision}"` } : null;
      gzip = true;
    }
  }
  if (!stored) {
    // Inside the archive's bounds and zooms but no tile: the map is empty there (ocean, fields).
    return { status: 204, etag: '', body: null, headers: common, notModified: common, gzip: false, set, z, x, y, gen };
  }
  const notModified: Headers = ['ETag', stored.etag, ...common, 'Vary', 'Accept-Encoding'];
  const headers: Headers = [
    'Content-Type', MVT_TYPE,
    ...(gzip ? ['Content-Encoding', 'gzip'] : []),
    'Content-Length', String(stored.data.length),
    ...notModified,
  ];
  return { status: 200, etag: stored.etag, body: stored.data, headers, notModified, gzip, set, z, x, y, gen };
}

/** Lon/lat box of a tile, widened by a quarter tile: edits' areas are checked against it, generously. */
function tileLonLat(z: number, x: number, y: number): Bbox {
  const n = 2 ** z, pad = 0.25;
  const lon = (t: number) => (t / n) * 360 - 180;
  const lat = (t: number) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * t) / n))) * 180) / Math.PI;
  return [lon(x - pad), lat(y + 1 + pad), lon(x + 1 + pad), lat(y - pad)];
}

function send(req: IncomingMessage, res: ServerResponse, tile: CachedTile, head: boolean): void {
  if (tile.status === 204) {
    res.writeHead(204, tile.headers);
    res.end();
    return;
  }
  const inm = rawHeader(req, 'if-none-match');
  if (inm !== undefined && etagMatches(inm, tile.etag)) {
    res.writeHead(304, tile.notModified);
    res.end();
    return;
  }
  if (tile.gzip && !acceptsGzip(rawHeader(req, 'accept-encoding'))) {
    if (!tile.identity) {
      const body = gunzipSync(tile.body!);
      tile.identity = {
        body,
        headers: ['Content-Type', MVT_TYPE, 'Content-Length', String(body.length), ...tile.notModified],
      };
    }
    res.writeHead(200, tile.identity.headers);
    res.end(head ? undefined : tile.identity.body);
    return;
  }
  res.writeHead(200, tile.headers);
  res.end(head ? undefined : tile.body);
}


/**
 * One request header by lower-case name, read from rawHeaders: touching `req.headers` makes node build
 * the whole header object, which is measurable at tens of thousands of requests per second.
 */
function rawHeader(req: IncomingMessage, name: string): string | undefined {
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i];
    if (k.length === name.length && k.toLowerCase() === name) return raw[i + 1];
  }
  return undefined;
}
