// The hot path: GET /tiles/{tileset}/{z}/{x}/{y}.mvt. A cache hit is synchronous and allocation-light:
// one Map lookup, then writeHead with a header list precomputed when the tile entered the cache.
// Tiles stay gzip-compressed as stored; only clients without gzip in Accept-Encoding get them inflated.
import type { IncomingMessage, OutgoingHttpHeader, ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { HttpError, badRequest, notFound } from './http-errors.ts';
import { Lru } from './lru.ts';
import { acceptsGzip, etagMatches, parseTileCoord } from './params.ts';
import { PmtilesArchive } from './pmtiles-source.ts';

export const MVT_TYPE = 'application/vnd.mapbox-vector-tile';
/** An hour fresh, then a day of stale-while-revalidate: tiles change only when the data is rebuilt. */
export const TILE_CACHE_CONTROL = 'public, max-age=3600, stale-while-revalidate=86400';
/** Default memory budget of served tiles per server (all tilesets together share it). */
export const DEFAULT_TILE_CACHE_BYTES = 128 * 1024 * 1024;

type Headers = OutgoingHttpHeader[];

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
}

const ENTRY_OVERHEAD = 200;

interface TilesetState {
  archive: PmtilesArchive;
  inflight: Map<number, Promise<CachedTile>>;
}

export class TileService {
  private readonly sets = new Map<string, TilesetState>();
  /**
   * Responses keyed by the request path (`/tiles/basemap/12/3421/1670.mvt`). Only paths that passed full
   * validation get in, so a hit can skip parsing entirely; odd spellings of a tile (leading zeros) are
   * separate entries, each counted against the byte budget.
   */
  private readonly cache: Lru<string, CachedTile>;

  constructor(archives: Map<string, PmtilesArchive>, cacheBytes = DEFAULT_TILE_CACHE_BYTES) {
    for (const [name, archive] of archives) this.sets.set(name, { archive, inflight: new Map() });
    this.cache = new Lru(1_000_000, cacheBytes, (t) => (t.body ? t.body.length : 0) + ENTRY_OVERHEAD);
  }

  get tilesets(): string[] {
    return [...this.sets.keys()];
  }

  archive(name: string): PmtilesArchive | undefined {
    return this.sets.get(name)?.archive;
  }

  /** The hot path: answers from the cache if `path` (no query) was served before; false on a miss. */
  serveCached(req: IncomingMessage, res: ServerResponse, path: string, head: boolean): boolean {
    const hit = this.cache.get(path);
    if (hit === undefined) return false;
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
      pending = load(set.archive, tileId).finally(() => set.inflight.delete(tileId));
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

async function load(archive: PmtilesArchive, tileId: number): Promise<CachedTile> {
  const stored = await archive.getTile(tileId);
  const common: Headers = ['Cache-Control', TILE_CACHE_CONTROL, 'Access-Control-Allow-Origin', '*'];
  if (!stored) {
    // Inside the archive's bounds and zooms but no tile: the map is empty there (ocean, fields).
    return { status: 204, etag: '', body: null, headers: common, notModified: common, gzip: false };
  }
  const gzip = archive.header.tileCompression === 2;
  const notModified: Headers = ['ETag', stored.etag, ...common, 'Vary', 'Accept-Encoding'];
  const headers: Headers = [
    'Content-Type', MVT_TYPE,
    ...(gzip ? ['Content-Encoding', 'gzip'] : []),
    'Content-Length', String(stored.data.length),
    ...notModified,
  ];
  return { status: 200, etag: stored.etag, body: stored.data, headers, notModified, gzip };
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
