// Request bodies, read once for every route: a size limit that answers 413 (draining an over-long body up to a
// bound so the answer reaches a client that is still sending, dropping the socket beyond it), the content type
// checked before anything is parsed (415), and JSON that does not parse as a 400 — each message saying what to do.
import type { IncomingMessage } from 'node:http';
import { HttpError, badRequest } from './http-errors.ts';

/**
 * The body, or null past `max` bytes. A body over `max` is drained up to `drainUpTo` bytes (default 2 × max) so
 * the 413 reaches the client; past that, or when Content-Length already says so, the socket is dropped.
 */
export function readBody(req: IncomingMessage, max: number, drainUpTo = 2 * max): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > drainUpTo) { req.destroy(); resolve(null); return; }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= max) chunks.push(c);
      else if (size > drainUpTo) { req.destroy(); resolve(null); }
    });
    req.on('end', () => resolve(size > max ? null : Buffer.concat(chunks)));
    req.on('error', () => reject(badRequest('bad_body', '请求正文读取失败（连接中断）。The request body could not be read (connection closed).')));
  });
}

export interface JsonBodyOptions {
  /** Largest body accepted, in bytes. */
  max: number;
  /** The 413's message: what the limit is and what to do instead. */
  tooLarge: string;
  /** Accepted media types (default only application/json). */
  types?: readonly string[];
  /** The 400's message when the body does not parse (default: a generic one). */
  notJson?: string;
  /** The 415's message (default: send application/json). */
  unsupported?: string;
  drainUpTo?: number;
}

const JSON_ONLY = ['application/json'] as const;

/** The media type of the request without parameters, lower case ('' when absent). */
export function mediaType(req: IncomingMessage): string {
  return String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The parsed JSON body: 415 for another media type, 413 past `max`, 400 when it does not parse. */
export async function readJson(req: IncomingMessage, opts: JsonBodyOptions): Promise<unknown> {
  if (!(opts.types ?? JSON_ONLY).includes(mediaType(req))) {
    req.resume();
    throw new HttpError(415, 'unsupported_media_type', opts.unsupported ?? '请求正文须为 JSON（Content-Type: application/json）。Send Content-Type: application/json.');
  }
  const body = await readBody(req, opts.max, opts.drainUpTo);
  if (body === null) throw new HttpError(413, 'body_too_large', opts.tooLarge, { Connection: 'close' });
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw badRequest('bad_json', opts.notJson ?? '正文不是合法的 JSON。The body is not valid JSON.');
  }
}
