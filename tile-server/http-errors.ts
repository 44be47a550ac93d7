// HTTP errors as data: every 4xx/5xx the server sends is `{ "error": { "code", "message" } }` with a
// stable `code` callers can branch on and a message (Chinese first) that says what to do next.
import type { ServerResponse } from 'node:http';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (code: string, message: string): HttpError => new HttpError(400, code, message);
export const notFound = (code: string, message: string): HttpError => new HttpError(404, code, message);

const JSON_TYPE = 'application/json; charset=utf-8';

/** Writes an error body. HEAD gets the headers only; CORS stays open so browser clients can read the code. */
export function sendError(res: ServerResponse, err: HttpError, head = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code: err.code, message: err.message } });
  res.writeHead(err.status, {
    ...err.headers,
    'Content-Type': JSON_TYPE,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'Access-Control-Allow-Origin': '*',
  });
  res.end(head ? undefined : body);
}

/** JSON success body (small documents: TileJSON, OGC metadata, health). */
export function sendJson(
  res: ServerResponse,
  value: unknown,
  opts: { head?: boolean; type?: string; cacheControl?: string } = {},
): void {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(200, {
    'Content-Type': opts.type ?? JSON_TYPE,
    'Content-Length': body.length,
    'Cache-Control': opts.cacheControl ?? 'no-cache',
    'Access-Control-Allow-Origin': '*',
  });
  res.end(opts.head ? undefined : body);
}
