// /api/address/*: the standard address base over HTTP (issue 4 item 6).
//   GET  /api/address/search?q=&limit=     ranked geocoding (limit default 10, 1–50; larger values clamp to 50)
//   GET  /api/address/reverse?lon=&lat=    nearest standard address and its grid; outside the city → 404 outside_city
//   POST /api/address/parse                {"text": …} (application/json, ≤ 16 KiB) → {text, elements}
//   GET  /api/address/entity?type=&id=     一标多实 the other way: entity → addresses
//   GET  /api/address/{code}               the address with its grid and linked entities (一标多实)
// The index is built lazily on the first request that needs it, not at server start: it reads the 200 MB
// addresses.fgb (~485k records, several seconds), which tile-only use and the tile-server tests should not
// pay. Concurrent first requests share one build; a failed build is retried on the next request. `warm()`
// starts it early for callers that want it (e.g. `npm start`). Parsing needs only the gazetteer.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CITY } from '../layers/catalog.ts';
import { openFlatGeobuf, type FgbFile } from '../layers/formats/flatgeobuf.ts';
import { buildAddressIndex, type AddressIndex, type AddressRecord } from '../address-standards/geocode.ts';
import { buildLinkIndex, ENTITY_TYPES, type CameraEntity, type EntityType, type HouseInfo, type LinkIndex, type PointEntity } from '../address-standards/links.ts';
import { parseAddress } from '../address-standards/parse.ts';
import type { Gazetteer } from '../address-standards/gazetteer.ts';
import { loadGazetteer } from '../scripts/lib/load-gazetteer.ts';
import { HttpError, badRequest, notFound, sendJson } from './http-errors.ts';
import { readBody } from './request-body.ts';
import type { SecurityAudit } from './auth/audit.ts';
import { personalView, type PersonalView } from './personal-data.ts';

export const ADDRESS_PARSE_PATH = '/api/address/parse';
export const MAX_QUERY_CHARS = 200;
export const MAX_BODY_BYTES = 16 * 1024;
export const MAX_SEARCH_LIMIT = 50;
/** A point farther than this from every standard address is "outside the city" for reverse geocoding. */
export const REVERSE_MAX_M = 1000;

export interface GridInfo { code: string; name: string }
export interface AddressData {
  index: AddressIndex; links: LinkIndex; gaz: Gazetteer; grids: Map<string, GridInfo>;
  /** Wall time to read the files and build both indexes, and the part spent in buildAddressIndex. */
  loadMs: number; indexMs: number;
}

async function openFgb(dataDir: string, name: string): Promise<FgbFile | null> {
  try {
    const b = await readFile(join(dataDir, `${name}.fgb`));
    return openFlatGeobuf(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const pointOf = (f: GeoJSON.Feature): [number, number] => (f.geometry as GeoJSON.Point).coordinates as [number, number];

/** Demo addresses from `{dataDir}/addresses.fgb` as records (throws when the file is missing). */
export async function loadAddressRecords(dataDir: string): Promise<AddressRecord[]> {
  const f = await openFgb(dataDir, 'addresses');
  if (!f) throw new Error(`缺少 ${join(dataDir, 'addresses.fgb')}：请先运行 npm run data。addresses.fgb missing: run npm run data first.`);
  const out: AddressRecord[] = new Array(f.count);
  let i = 0;
  for (const feat of f.features()) {
    // Yield now and then: in the server this runs beside tile requests, which should not wait seconds.
    if (i % 20000 === 19999) await new Promise((r) => setImmediate(r));
    const p = feat.properties ?? {};
    const [lon, lat] = pointOf(feat);
    out[i++] = {
      code: String(p.code), full: String(p.full), lon, lat, level: String(p.level),
      grid_code: String(p.grid_code ?? ''), town_code: String(p.town_code ?? ''), village_code: String(p.village_code ?? ''),
      road: str(p.road), houseno: str(p.houseno), compound: str(p.compound), building: str(p.building), unit: str(p.unit),
      floor: typeof p.floor === 'number' ? p.floor : null, room: str(p.room), building_id: str(p.building_id),
    };
  }
  out.length = i;
  return out;
}

/** Reads every file the address base needs from `dataDir` and builds the geocoder and link indexes. */
export async function loadAddressData(dataDir: string): Promise<AddressData> {
  const t0 = performance.now();
  const records = await loadAddressRecords(dataDir);
  const [towns, villages, facilities, sensors, cameras, buildings, grids, roads] = await Promise.all(
    ['towns', 'villages', 'facilities', 'sensors', 'cameras', 'buildings', 'grids', 'roads'].map((n) => openFgb(dataDir, n)));
  const roadLines: { name: string; coords: number[][] }[] = [];
  if (roads) for (const x of roads.features()) {
    const g = x.geometry;
    const name = str(x.properties?.name);
    if (!name) continue;
    if (g?.type === 'LineString') roadLines.push({ name, coords: g.coordinates });
    else if (g?.type === 'MultiLineString') for (const c of g.coordinates) roadLines.push({ name, coords: c });
  }
  const named = (f: FgbFile | null) => (f ? [...f.features()].map((x) => ({ code: String(x.properties?.code), name: String(x.properties?.name) })) : []);
  const points = (f: FgbFile | null): PointEntity[] => (f ? [...f.features()].map((x) => {
    const p = x.properties ?? {};
    const [lon, lat] = pointOf(x);
    return { id: String(p.id), name: String(p.name ?? ''), kind: str(p.kind), lon, lat, address: str(p.address), department: str(p.department), status: str(p.status) };
  }) : []);
  const fac = points(facilities);
  const gaz = loadGazetteer();
  const t1 = performance.now();
  const index = buildAddressIndex(records, gaz, {
    towns: named(towns), villages: named(villages), roads: roadLines,
    landmarks: fac.map((f) => ({ name: f.name, lon: f.lon, lat: f.lat, address: f.address, kind: f.kind ?? undefined })),
  });
  const indexMs = performance.now() - t1;
  const cams: CameraEntity[] = cameras ? [...cameras.features()].map((x) => {
    const p = x.properties ?? {};
    const [lon, lat] = pointOf(x);
    return { id: String(p.id), name: String(p.name ?? ''), kind: str(p.kind), lon, lat, department: str(p.department), status: str(p.status),
      heading: Number(p.heading), fov: Number(p.fov), range_m: Number(p.range_m) };
  }) : [];
  const houses = new Map<string, HouseInfo>();
  if (buildings) for (const x of buildings.features()) {
    const p = x.properties ?? {};
    houses.set(String(p.id), { id: String(p.id), floors: p.floors ?? null, height: p.height ?? null, use: str(p.use) });
  }
  const links = buildLinkIndex(index, { facilities: fac, sensors: points(sensors), cameras: cams, house: (id) => houses.get(id) });
  const gridMap = new Map<string, GridInfo>();
  if (grids) for (const x of grids.features()) gridMap.set(String(x.properties?.code), { code: String(x.properties?.code), name: String(x.properties?.name ?? '') });
  return { index, links, gaz, grids: gridMap, loadMs: performance.now() - t0, indexMs };
}

// ------------------------------------------------------------------------------------------ HTTP

const json = (res: ServerResponse, v: unknown, head: boolean) => sendJson(res, v, { head, cacheControl: 'no-store' });

export class AddressApi {
  private data?: Promise<AddressData>;
  /** `audit` records the 一标多实 residents sent unmasked (tile-server/personal-data.ts). */
  constructor(private readonly dataDir: string, private readonly log: (msg: string) => void = () => {}, private readonly audit?: SecurityAudit) {}

  /** Builds the index now (idempotent); resolves when it is ready. */
  warm(): Promise<AddressData> {
    if (!this.data) {
      const t0 = Date.now();
      this.data = loadAddressData(this.dataDir);
      this.data.then(
        (d) => this.log(`address index: ${d.index.size} addresses in ${Date.now() - t0} ms, ${(d.index.memoryBytes() / 2 ** 20).toFixed(1)} MB`),
        (err) => { this.data = undefined; this.log(`address index failed: ${(err as Error).message}`); },
      );
    }
    return this.data;
  }

  private async ready(): Promise<AddressData> {
    try {
      return await this.warm();
    } catch (err) {
      throw new HttpError(503, 'address_index_unavailable', `标准地址库不可用：${(err as Error).message.slice(0, 200)}。请运行 npm run data 后重试。The address index could not be built; run npm run data and retry.`, { 'Retry-After': '10' });
    }
  }

  /** `s` = decoded path segments starting with 'api'. */
  async handle(req: IncomingMessage, res: ServerResponse, s: string[], query: string, head: boolean): Promise<void> {
    if (s[1] !== 'address' || s.length !== 3 || !s[2]) {
      throw notFound('not_found', '没有这个接口；应为 /api/address/search、/api/address/reverse、/api/address/parse、/api/address/entity 或 /api/address/{code}。No such route: use /api/address/search, reverse, parse, entity or /api/address/{code}.');
    }
    const name = s[2];
    const post = req.method === 'POST';
    if (name === 'parse') {
      if (!post) throw new HttpError(405, 'method_not_allowed', '地址解析请用 POST，正文为 {"text": "…"}。Use POST with a JSON body {"text": "…"}.', { Allow: 'POST, OPTIONS' });
      return this.parse(req, res);
    }
    if (post) throw new HttpError(405, 'method_not_allowed', `不支持 POST ${name.slice(0, 40)}；只有 /api/address/parse 接受 POST。Only /api/address/parse accepts POST.`, { Allow: 'GET, HEAD, OPTIONS' });
    const q = new URLSearchParams(query);
    if (name === 'search') return this.search(res, q, head);
    if (name === 'reverse') return this.reverse(res, q, head);
    if (name === 'entity') return this.entity(res, q, head);
    const view = personalView(req, this.audit);
    await this.byCode(res, name, head, view);
    view.done(`GET /api/address/${name.slice(0, 64)}`);
  }

  private async search(res: ServerResponse, q: URLSearchParams, head: boolean): Promise<void> {
    const text = q.get('q');
    if (text === null || !text.trim()) throw badRequest('missing_q', '缺少查询参数 q（要查找的地址文本）。Missing q: the address text to search, e.g. ?q=海虞北路18号.');
    if ([...text].length > MAX_QUERY_CHARS) throw badRequest('q_too_long', `q 最长 ${MAX_QUERY_CHARS} 个字符，请缩短。q is longer than ${MAX_QUERY_CHARS} characters; shorten it.`);
    const limit = parseSearchLimit(q.get('limit'));
    const d = await this.ready();
    const results = d.index.search(text, limit).map((m) => ({
      score: m.score, reason: m.reason, detail: m.detail, lon: m.lon, lat: m.lat, record: m.record,
      grid: d.grids.get(m.record.grid_code) ?? null,
    }));
    json(res, { q: text, count: results.length, results }, head);
  }

  private async reverse(res: ServerResponse, q: URLSearchParams, head: boolean): Promise<void> {
    const lon = parseCoord(q.get('lon'), 'lon', 180), lat = parseCoord(q.get('lat'), 'lat', 90);
    const [w, s, e, n] = CITY.bounds;
    const outside = () => notFound('outside_city', `该点（${lon}, ${lat}）不在${CITY.name}范围内或 ${REVERSE_MAX_M} 米内没有标准地址。No standard address within ${REVERSE_MAX_M} m of this point: it is outside ${CITY.name}.`);
    if (lon < w || lon > e || lat < s || lat > n) throw outside();
    const d = await this.ready();
    const hit = d.index.reverse(lon, lat, REVERSE_MAX_M);
    if (!hit) throw outside();
    json(res, { lon, lat, distanceM: hit.distanceM, record: hit.record, grid: d.grids.get(hit.record.grid_code) ?? { code: hit.record.grid_code, name: '' } }, head);
  }

  /**
   * The residents linked to the address are personal data: unmasked for operators and admins, for the grid
   * manager of the address's grid, and for an analyst who gives a reason (X-OneMap-Unmask-Reason); masked otherwise.
   */
  private async byCode(res: ServerResponse, code: string, head: boolean, view: PersonalView): Promise<void> {
    const unknown = () => notFound('unknown_address', `没有编码为 ${code.slice(0, 64)} 的标准地址；请先用 /api/address/search 查找。No standard address with this code; find one with /api/address/search.`);
    if (!/^\d{1,64}$/.test(code)) throw unknown();
    const d = await this.ready();
    const record = d.index.get(code);
    if (!record) throw unknown();
    const unmasked = view.level({ id: 'addresses' }, { grid_code: record.grid_code }) === 'full';
    const links = d.links.linksOf(record, { unmasked });
    if (unmasked) view.count('people', links.households.reduce((n, h) => n + h.members.length, 0));
    json(res, { record, grid: d.grids.get(record.grid_code) ?? null, links }, head);
  }

  private async entity(res: ServerResponse, q: URLSearchParams, head: boolean): Promise<void> {
    const type = q.get('type') ?? '', id = q.get('id') ?? '';
    if (!(ENTITY_TYPES as readonly string[]).includes(type)) throw badRequest('bad_entity_type', `type 必须是 ${ENTITY_TYPES.join('、')} 之一。type must be one of ${ENTITY_TYPES.join(', ')}.`);
    if (!id || id.length > 128) throw badRequest('bad_entity_id', '缺少 id 或 id 过长（最长 128 字符）。Missing or over-long id (≤ 128 characters).');
    const d = await this.ready();
    const addresses = d.links.addressesFor(type as EntityType, id);
    if (!addresses) throw notFound('unknown_entity', `没有 ${type} ${id.slice(0, 64)}，或它没有关联的标准地址。Unknown ${type} "${id.slice(0, 64)}" or it has no linked address.`);
    json(res, { type, id, count: addresses.length, addresses }, head);
  }

  private async parse(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const body = await readBody(req, MAX_BODY_BYTES, 1024 * 1024);
    if (type !== 'application/json') throw new HttpError(415, 'unsupported_media_type', '请求正文须为 JSON（Content-Type: application/json），如 {"text": "海虞北路18号"}。Send Content-Type: application/json with {"text": "…"}.');
    if (body === null) throw new HttpError(413, 'body_too_large', `请求正文超过 ${MAX_BODY_BYTES / 1024} KiB；请逐条解析地址。Body larger than ${MAX_BODY_BYTES / 1024} KiB; parse addresses one at a time.`);
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      throw badRequest('bad_json', '正文不是合法的 JSON；应为 {"text": "…"}。Body is not valid JSON; expected {"text": "…"}.');
    }
    const text = (value as { text?: unknown } | null)?.text;
    if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof text !== 'string') {
      throw badRequest('bad_text', '正文须为 {"text": "地址文本"}，text 为字符串。Body must be {"text": "<address>"} with a string text.');
    }
    let gaz: Gazetteer;
    try {
      gaz = loadGazetteer();
    } catch (err) {
      throw new HttpError(503, 'gazetteer_unavailable', `行政区划数据不可用：${(err as Error).message.slice(0, 200)}`);
    }
    const out = parseAddress(text, gaz);
    json(res, { text: out.text, elements: out.elements }, false);
  }
}

/** limit: integer ≥ 1, default 10; above 50 → 50 (like OGC `limit`, a too-large value is not an error). */
export function parseSearchLimit(s: string | null): number {
  if (s === null || s === '') return 10;
  if (!/^\d{1,15}$/.test(s) || Number(s) < 1) throw badRequest('bad_limit', `limit 必须是 1–${MAX_SEARCH_LIMIT} 的整数。limit must be an integer 1–${MAX_SEARCH_LIMIT}; got "${s.slice(0, 40)}".`);
  return Math.min(Number(s), MAX_SEARCH_LIMIT);
}

/** A decimal degree within ±max (plain decimal notation only: no hex, no exponent, no Infinity). */
export function parseCoord(s: string | null, name: 'lon' | 'lat', max: number): number {
  const v = s !== null && /^\s*[-+]?(\d{1,3}(\.\d{0,15})?|\.\d{1,15})\s*$/.test(s) ? Number(s) : NaN;
  if (!Number.isFinite(v) || Math.abs(v) > max) {
    throw badRequest('bad_coords', `${name} 必须是 -${max}..${max} 的十进制度数，如 lon=120.75&lat=31.65。${name} must be decimal degrees within ±${max}, e.g. lon=120.75&lat=31.65.`);
  }
  return v;
}

