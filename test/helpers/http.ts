// One raw HTTP helper for the integration tests. node:http, not fetch: fetch normalises `..` and `%2e%2e`
// away and inflates gzip, hiding what the tile-server tests check.
import { request } from 'node:http';

export interface Raw { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

export function raw(base: string, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Raw> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: opts.method ?? 'GET', headers: opts.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Test bodies are checked field by field, so `any` keeps them short. */
export const json = (r: Raw): any => JSON.parse(r.body.toString('utf8'));
