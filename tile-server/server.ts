// The one Node service (contracts.md item 7): tiles, archives, features (OGC API – Features), health and
// the web app, on plain node:http in one process.
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { TILESETS } from '../layers/catalog.ts';
import { AddressApi } from './address-api.ts';
import { openFeatureLayers } from './feature-store.ts';
import { PmtilesArchive } from './pmtiles-source.ts';
import { createHandler } from './router.ts';
import { statFile } from './static.ts';
import { TileService } from './tile-route.ts';

export interface ServerOptions {
  dataDir: string; webDir?: string; host?: string; port?: number /* 0 = any free port */;
  /** Build the address index right after listening, so the first search does not wait ~10 s (npm start does; tests don't). */
  warmAddressIndex?: boolean;
}
export interface RunningServer { url: string; port: number; close(): Promise<void> }

/**
 * Opens the tilesets (`{dataDir}/{basemap,overlay}.pmtiles`) and catalog layers (`{dataDir}/{layer}.fgb`)
 * that exist, and listens. Missing data is not an error here — /healthz lists what is served — so the
 * process entry decides how loudly to complain. A corrupt archive is an error (its message says to rebuild).
 */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const archives = new Map<string, PmtilesArchive>();
  for (const name of TILESETS) {
    const path = join(opts.dataDir, `${name}.pmtiles`);
    if (await statFile(path)) archives.set(name, await PmtilesArchive.open(path));
  }
  const layers = await openFeatureLayers(opts.dataDir);
  const log = (msg: string) => console.error(`[tile-server] ${msg}`);
  const ctx = {
    tiles: new TileService(archives),
    // Built lazily on the first /api/address request (see address-api.ts for why not at start).
    address: new AddressApi(opts.dataDir, log),
    layers,
    dataDir: opts.dataDir,
    webDir: opts.webDir ?? 'dist/web',
    startedAt: Date.now(),
    fallbackOrigin: '',
    log,
  };
  const server = createServer({ keepAliveTimeout: 65_000 }, createHandler(ctx));
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // Requests node's parser refuses (header block > 16 KiB, malformed request line) never reach the handler.
    if (!socket.writable) return socket.destroy();
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
    const body = JSON.stringify({ error: tooLarge
      ? { code: 'headers_too_large', message: '请求头或地址过长。Request headers or URL too long.' }
      : { code: 'bad_request', message: '无法解析的 HTTP 请求。Malformed HTTP request.' } });
    socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  await listen(server, opts.port ?? 8080, host);
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  ctx.fallbackOrigin = url;
  if (opts.warmAddressIndex) {
    ctx.address.warm().then(
      () => log('地址索引已就绪 address index ready'),
      (e: Error) => log(`地址索引构建失败 address index failed: ${e.message}`),
    );
  }
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close: () => (closing ??= (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections(); // keep-alive sockets would otherwise hold close() for 65 s
      });
      await Promise.all([...archives.values()].map((a) => a.close()));
    })()),
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
