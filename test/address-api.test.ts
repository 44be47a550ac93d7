// The address API and CLI on the built demo data (geodata/build, `npm run data`): every endpoint's happy
// path, bad input answered with 4xx JSON (never a 500), and the CLI writing pure JSONL on stdout.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import { createRng } from '../scripts/data/rng.ts';
import { startServer, type RunningServer } from '../tile-server/server.ts';
import { json, raw as rawHttp, type Raw } from './helpers/http.ts';
import { rememberSession, TEST_AUTH, withSession } from './helpers/session.ts';

/** Requests carry the session remembered for their server (signed in right after it starts). */
const raw: typeof rawHttp = (base, path, opts = {}) => rawHttp(base, path, withSession(base, opts));

const DATA = join(process.cwd(), 'geodata/build');
const q = (s: string) => encodeURIComponent(s);

let srv: RunningServer;
let door: Record<string, any>, room: Record<string, any>;
const get = (path: string) => raw(srv.url, path);
const post = (body: string | Buffer, type = 'application/json') =>
  raw(srv.url, '/api/address/parse', { method: 'POST', headers: { 'Content-Type': type }, body });

function expectError(r: Raw, status: number, code: string): void {
  expect(r.status, r.body.toString().slice(0, 200)).toBe(status);
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  const e = json(r).error;
  expect(e.code).toBe(code);
  expect(e.message).toMatch(/[\u4e00-\u9fff]/); // Chinese first
}

beforeAll(async () => {
  if (!existsSync(join(DATA, 'addresses.fgb'))) throw new Error('geodata/build/addresses.fgb missing: run npm run data first');
  const b = readFileSync(join(DATA, 'addresses.fgb'));
  const f = openFlatGeobuf(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  const pick = (level: string) => {
    for (let i = Math.floor(f.count / 3); i < f.count; i++) {
      const feat = f.feature(i);
      if (feat.properties?.level === level) return { ...feat.properties, lon: (feat.geometry as GeoJSON.Point).coordinates[0], lat: (feat.geometry as GeoJSON.Point).coordinates[1] };
    }
    throw new Error(`no ${level} address`);
  };
  door = pick('door');
  room = pick('room');
  srv = await startServer({ dataDir: DATA, webDir: join(DATA, 'no-web'), port: 0, ...TEST_AUTH });
  // An analyst: the 一标多实 residents come masked (admins and operators see them in full: test/masking.test.ts).
  await rememberSession(srv.url, 'analyst');
  // The first address request builds the index (lazily); do it once here so each test measures its route.
  expect((await get(`/api/address/search?q=${q(door.full)}`)).status).toBe(200);
});

afterAll(async () => {
  await srv?.close();
});

describe('GET /api/address/search', () => {
  it('finds a standard address from its own text, and from a messy version of it', async () => {
    const r = await get(`/api/address/search?q=${q(room.full)}`);
    expect(r.status).toBe(200);
    const body = json(r);
    expect(body.results[0].record.code).toBe(room.code);
    expect(body.results[0].reason).toBe('exact');
    expect(body.results[0].score).toBe(1);
    expect(body.results[0].record.grid_code).toBe(room.grid_code);
    const messy = room.full.replace(/^常熟市[^路街巷弄道]*?(街道|镇)/, '').replace('幢', '栋').replace(/(\d+)单元/, (_: string, n: string) => '一二三四五六七八九'[Number(n) - 1] + '单元');
    const m = json(await get(`/api/address/search?q=${q(messy)}`));
    expect(m.results[0].record.code, messy).toBe(room.code);
  });

  it('honours limit (default 10, clamped to 50)', async () => {
    const road = String(door.road);
    expect(json(await get(`/api/address/search?q=${q(road)}&limit=2`)).results.length).toBeLessThanOrEqual(2);
    expect(json(await get(`/api/address/search?q=${q(road)}`)).results.length).toBeLessThanOrEqual(10);
    expect(json(await get(`/api/address/search?q=${q(road)}&limit=1000`)).results.length).toBeLessThanOrEqual(50);
  });

  it('rejects a missing, empty or over-long q and a bad limit', async () => {
    expectError(await get('/api/address/search'), 400, 'missing_q');
    expectError(await get('/api/address/search?q=%20'), 400, 'missing_q');
    expectError(await get(`/api/address/search?q=${q('路'.repeat(201))}`), 400, 'q_too_long');
    for (const l of ['0', '-1', 'abc', '1.5', '1e3']) expectError(await get(`/api/address/search?q=a&limit=${l}`), 400, 'bad_limit');
  });

  it('answers any seeded garbage query with 200 or a 4xx JSON error, never a 500', async () => {
    const rng = createRng('address-api-fuzz');
    const pieces = ['路', '号', '幢', '与', '交叉口', '附近', '0', '99999999999', '%', '%00', '\\', '"', '<', '𠀀', '十', '#', '-', ' ', '常熟市', '虞山街道'];
    for (let i = 0; i < 120; i++) {
      let s = '';
      for (let k = rng.int(1, 12); k > 0; k--) s += rng.pick(pieces);
      const r = await get(`/api/address/search?q=${encodeURIComponent(s).replace(/%25/g, rng.chance(0.5) ? '%' : '%25')}&limit=${rng.int(1, 60)}`);
      expect(r.status, s).toBeLessThan(500);
      if (r.status >= 400) expect(json(r).error.code, s).toMatch(/^[a-z_]+$/);
    }
  });
});

describe('GET /api/address/reverse', () => {
  it('gives the nearest standard address and its grid', async () => {
    const r = await get(`/api/address/reverse?lon=${door.lon}&lat=${door.lat}`);
    expect(r.status).toBe(200);
    const b = json(r);
    expect(b.distanceM).toBeLessThan(1);
    expect(b.record.lon).toBeCloseTo(door.lon, 6);
    expect(b.grid.code).toBe(b.record.grid_code);
    expect(b.grid.code).toMatch(/^\d{15}$/);
  });

  it('says outside_city for a point outside Changshu, bad_coords for bad numbers', async () => {
    expectError(await get('/api/address/reverse?lon=116.39&lat=39.91'), 404, 'outside_city');
    for (const p of ['lon=abc&lat=31.6', 'lon=200&lat=31.6', 'lat=31.6', 'lon=120.7&lat=NaN', 'lon=0x10&lat=31', 'lon=1e2&lat=31']) {
      expectError(await get(`/api/address/reverse?${p}`), 400, 'bad_coords');
    }
  });
});

describe('POST /api/address/parse', () => {
  it('returns elements with spans into the text as given', async () => {
    const text = '常熟市虞山街道海虞北路18号3幢2单元502室';
    const r = await post(JSON.stringify({ text }));
    expect(r.status).toBe(200);
    const b = json(r);
    expect(b.text).toBe(text);
    const road = b.elements.find((e: any) => e.label === 'road');
    expect(road).toMatchObject({ start: 7, end: 11, text: '海虞北路' });
    for (const e of b.elements) expect(text.slice(e.start, e.end)).toBe(e.text);
  });

  it('rejects wrong content type, bad JSON, a missing text, a big body and other methods', async () => {
    expectError(await post(JSON.stringify({ text: 'a' }), 'text/plain'), 415, 'unsupported_media_type');
    expectError(await post('{"text": '), 400, 'bad_json');
    expectError(await post('[1,2]'), 400, 'bad_text');
    expectError(await post(JSON.stringify({ text: 5 })), 400, 'bad_text');
    expectError(await post(JSON.stringify({ text: '路'.repeat(20_000) })), 413, 'body_too_large');
    expectError(await get('/api/address/parse'), 405, 'method_not_allowed');
    const other = await raw(srv.url, '/tiles/basemap.json', { method: 'POST' });
    expect(other.status).toBe(405);
    expect(other.headers.allow).toBe('GET, HEAD, OPTIONS');
    const pre = await raw(srv.url, '/api/address/parse', { method: 'OPTIONS' });
    expect(pre.status).toBe(204);
    expect(String(pre.headers['access-control-allow-methods'])).toContain('POST');
  });
});

describe('GET /api/address/{code} and /api/address/entity', () => {
  it('returns the address with its grid and 一标多实 links, personal fields masked', async () => {
    const r = await get(`/api/address/${room.code}`);
    expect(r.status).toBe(200);
    const b = json(r);
    expect(b.record.full).toBe(room.full);
    expect(b.grid.code).toBe(room.grid_code);
    expect(b.links.masked).toBe(true);
    expect(b.links.house?.id).toBe(room.building_id);
    for (const key of ['households', 'organisations', 'features', 'cameras']) expect(Array.isArray(b.links[key])).toBe(true);
    for (const h of b.links.households) for (const p of h.members) {
      expect(p.idNumber).toMatch(/\*{12}/);
      expect(p.phone).toMatch(/\*{4}/);
      expect(p.name).toContain('*');
    }
  });

  it('looks up addresses from an entity', async () => {
    const b = json(await get(`/api/address/entity?type=building&id=${q(room.building_id)}`));
    expect(b.addresses.map((a: any) => a.code)).toContain(room.code);
    expectError(await get('/api/address/entity?type=camera&id=nope'), 404, 'unknown_entity');
    expectError(await get('/api/address/entity?type=rocket&id=x'), 400, 'bad_entity_type');
    expectError(await get('/api/address/entity?type=camera'), 400, 'bad_entity_id');
  });

  it('404s unknown codes and routes', async () => {
    expectError(await get('/api/address/3205810000000000000000000000000000'), 404, 'unknown_address');
    expectError(await get(`/api/address/${q('海虞北路')}`), 404, 'unknown_address');
    expectError(await get('/api/address'), 404, 'not_found');
    expectError(await get('/api/other/x'), 404, 'not_found');
  });
});

function runCli(mode: string, input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'scripts/address-cli.ts', mode], { cwd: process.cwd(), env: { ...process.env, DATA_DIR: DATA } });
    let stdout = '', stderr = '';
    p.stdout.on('data', (c) => (stdout += c));
    p.stderr.on('data', (c) => (stderr += c));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    p.stdin.end(input);
  });
}

describe('npm run address (CLI)', () => {
  it('parse: one JSON object per input line, nothing else on stdout', async () => {
    const lines = ['常熟市虞山街道海虞北路18号3幢2单元502室', '', '琴川街道枫林路与青墩塘路交叉口附近', '浙江省杭州市西湖区文三路90号'];
    const r = await runCli('parse', lines.join('\n') + '\r\n');
    expect(r.code).toBe(0);
    const out = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(out.map((o) => o.text)).toEqual(lines);
    expect(out[1].elements).toEqual([]);
    expect(out[0].elements.find((e: any) => e.label === 'road')).toEqual({ label: 'road', start: 7, end: 11, text: '海虞北路' });
    expect(out[2].elements.some((e: any) => e.label === 'intersection')).toBe(true);
  });

  it('geocode: the best match and its score per line', async () => {
    const lines = [room.full, '', 'no address here'];
    const r = await runCli('geocode', lines.join('\n'));
    expect(r.code).toBe(0);
    const out = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(out).toHaveLength(3);
    expect(out[0].match).toEqual({ code: room.code, full: room.full, lon: room.lon, lat: room.lat, grid_code: room.grid_code });
    expect(out[0].score).toBe(1);
    expect(out[0].reason).toBe('exact');
    expect(out[1]).toEqual({ text: '', match: null, score: 0, reason: null });
    expect(out[2].match).toBeNull();
    expect(r.stderr).toContain('[address]');
  });

  it('refuses an unknown command with usage on stderr only', async () => {
    const r = await runCli('frobnicate', '');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('usage');
  });
});
