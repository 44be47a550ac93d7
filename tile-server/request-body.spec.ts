import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HttpError, sendError, sendJson } from './http-errors.ts';
import { readJson } from './request-body.ts';

let server: Server;
let port = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    readJson(req, { max: 64, tooLarge: 'too large: send less', types: ['application/json', 'application/geo+json'] })
      .then((v) => sendJson(res, { got: v }))
      .catch((e: unknown) => sendError(res, e as HttpError));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function post(body: string | Buffer, type = 'application/json', chunked = false): Promise<{ status: number; json: { error?: { code: string; message: string }; got?: unknown }; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'Content-Type': type };
    if (!chunked) headers['Content-Length'] = Buffer.byteLength(body);
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString('utf8')), connection: res.headers.connection }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

it('parses a JSON body of an accepted media type, with parameters after the type', async () => {
  expect(await post('{"a":[1,2]}', 'application/json; charset=utf-8')).toMatchObject({ status: 200, json: { got: { a: [1, 2] } } });
  expect(await post('{"type":"Point"}', 'application/geo+json')).toMatchObject({ status: 200, json: { got: { type: 'Point' } } });
});

it('answers 415 for another media type, 400 for JSON that does not parse', async () => {
  const wrong = await post('a=1', 'application/x-www-form-urlencoded');
  expect(wrong.status).toBe(415);
  expect(wrong.json.error!.code).toBe('unsupported_media_type');
  const bad = await post('{"a":');
  expect(bad.status).toBe(400);
  expect(bad.json.error!.code).toBe('bad_json');
});

it('answers 413 with the caller\'s message past the limit, declared or streamed, and closes the connection', async () => {
  const declared = await post(JSON.stringify({ s: 'x'.repeat(100) }));
  expect(declared).toMatchObject({ status: 413, json: { error: { code: 'body_too_large', message: 'too large: send less' } }, connection: 'close' });
  const streamed = await post(JSON.stringify({ s: 'x'.repeat(80) }), 'application/json', true);
  expect(streamed.status).toBe(413);
});
