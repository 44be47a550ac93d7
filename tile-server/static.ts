// Whole files over HTTP: the PMTiles and FlatGeobuf archives (byte ranges, so HTTP range readers such as
// pmtiles' FetchSource and flatgeobuf's bbox reader work against us) and the built web app.
import { createReadStream, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { HttpError, notFound } from './http-errors.ts';
import { etagMatches, parseRange } from './params.ts';

export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.pmtiles': 'application/vnd.pmtiles',
  '.fgb': 'application/flatgeobuf',
  '.glb': 'model/gltf-binary',
  '.mvt': 'application/vnd.mapbox-vector-tile',
};

export function contentTypeOf(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** Vite names built assets `name-<hash>.ext` (hash ≥ 8 chars of base64url): they never change, so cache them for a year. */
export function isHashedAsset(path: string): boolean {
  return /[-.][A-Za-z0-9_-]{8,}\.[a-z0-9]+$/.test(path) && /(^|[/\\])assets[/\\]/.test(path);
}

export const fileEtag = (st: Stats): string => `"${st.size.toString(36)}-${Math.floor(st.mtimeMs).toString(36)}"`;

export interface FileOptions {
  contentType: string;
  cacheControl: string;
  head: boolean;
}

/** Sends a regular file with ETag/304, Range (single range → 206, past the end → 416) and HEAD. */
export function sendFile(req: IncomingMessage, res: ServerResponse, path: string, st: Stats, opts: FileOptions): void {
  const etag = fileEtag(st);
  const common: Record<string, string | number> = {
    'Content-Type': opts.contentType,
    'Cache-Control': opts.cacheControl,
    'Accept-Ranges': 'bytes',
    ETag: etag,
    'Last-Modified': st.mtime.toUTCString(),
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Expose-Headers': 'ETag, Content-Range, Content-Length, Accept-Ranges',
  };
  if (etagMatches(req.headers['if-none-match'], etag)) {
    res.writeHead(304, common);
    res.end();
    return;
  }
  const ifRange = req.headers['if-range'];
  const range = ifRange !== undefined && ifRange !== etag ? null : parseRange(req.headers.range, st.size);
  if (range === 'unsatisfiable') {
    throw new HttpError(416, 'range_not_satisfiable', `请求的字节范围超出文件大小 ${st.size}。Requested range is outside the file (size ${st.size} bytes).`, {
      'Content-Range': `bytes */${st.size}`,
      'Accept-Ranges': 'bytes',
    });
  }
  let start = 0;
  let end = st.size - 1;
  let status = 200;
  if (range) {
    ({ start, end } = range);
    status = 206;
    common['Content-Range'] = `bytes ${start}-${end}/${st.size}`;
  }
  common['Content-Length'] = st.size === 0 ? 0 : end - start + 1;
  res.writeHead(status, common);
  if (opts.head || st.size === 0) {
    res.end();
    return;
  }
  const stream = createReadStream(path, { start, end });
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

/**
 * Sends bytes held in memory like a file (ETag/304, one Range → 206, HEAD): a layer's effective data
 * after edits (tile-server/editing/effective.ts), which exists only in memory.
 */
export function sendBytes(req: IncomingMessage, res: ServerResponse, bytes: Uint8Array, etag: string, opts: FileOptions): void {
  const size = bytes.length;
  const common: Record<string, string | number> = {
    'Content-Type': opts.contentType,
    'Cache-Control': opts.cacheControl,
    'Accept-Ranges': 'bytes',
    ETag: etag,
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Expose-Headers': 'ETag, Content-Range, Content-Length, Accept-Ranges',
  };
  if (etagMatches(req.headers['if-none-match'], etag)) {
    res.writeHead(304, common);
    res.end();
    return;
  }
  const ifRange = req.headers['if-range'];
  const range = ifRange !== undefined && ifRange !== etag ? null : parseRange(req.headers.range, size);
  if (range === 'unsatisfiable') {
    throw new HttpError(416, 'range_not_satisfiable', `请求的字节范围超出数据大小 ${size}。Requested range is outside the data (size ${size} bytes).`, {
      'Content-Range': `bytes */${size}`,
      'Accept-Ranges': 'bytes',
    });
  }
  let start = 0;
  let end = size - 1;
  let status = 200;
  if (range) {
    ({ start, end } = range);
    status = 206;
    common['Content-Range'] = `bytes ${start}-${end}/${size}`;
  }
  common['Content-Length'] = size === 0 ? 0 : end - start + 1;
  res.writeHead(status, common);
  res.end(opts.head || size === 0 ? undefined : Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start + 1));
}

/** stat() that maps "absent or not a regular file" to null. */
export async function statFile(path: string): Promise<Stats | null> {
  try {
    const st = await stat(path);
    return st.isFile() ? st : null;
  } catch {
    return null;
  }
}

const NO_WEB_PAGE = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>常熟城市运行一张图</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>常熟城市运行一张图 OneMap</h1>
<p>网页尚未构建。请运行 <code>npm run build:web</code>，或直接运行 <code>npm start</code>（构建数据、瓦片和网页并启动服务）。</p>
<p>The web app is not built yet: run <code>npm run build:web</code>, or <code>npm start</code>.</p>
<p>服务已在运行：<a href="/healthz">/healthz</a> · <a href="/ogc">/ogc</a> · <a href="/tiles/basemap.json">/tiles/basemap.json</a></p>
</body></html>
`;

/**
 * The web app from `webDir`. `segments` come from parseTarget, which already refused dot segments,
 * encoded slashes, backslashes and NUL; the prefix check below is a second lock on the same door.
 * Paths without an extension that match no file get index.html (client-side routes).
 */
export async function serveStatic(req: IncomingMessage, res: ServerResponse, webDir: string, segments: string[], head: boolean): Promise<void> {
  const root = resolve(webDir);
  const rel = segments.join('/');
  const indexPath = join(root, 'index.html');
  let path = rel === '' ? indexPath : resolve(root, rel);
  if (path !== root && !path.startsWith(root + sep)) throw notFound('not_found', '没有这个文件。No such file.');
  let st = await statFile(path);
  if (!st && !rel.endsWith('/') && (await stat(path).catch(() => null))?.isDirectory()) {
    path = join(path, 'index.html');
    st = await statFile(path);
  }
  if (!st && extname(rel) === '') {
    path = indexPath;
    st = await statFile(path);
    if (!st && rel === '') {
      const body = Buffer.from(NO_WEB_PAGE);
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': body.length, 'Cache-Control': 'no-store' });
      res.end(head ? undefined : body);
      return;
    }
  }
  if (!st) throw notFound('not_found', `没有这个文件：/${rel}。No such file: /${rel}. API routes are /tiles, /pmtiles, /data, /ogc and /healthz.`);
  const cacheControl = isHashedAsset(path) ? 'public, max-age=31536000, immutable' : 'no-cache';
  sendFile(req, res, path, st, { contentType: contentTypeOf(path), cacheControl, head });
}
