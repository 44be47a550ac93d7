// Telemetry payloads on `onemap/telemetry/{kind}/{deviceId}`, version 1 (PAYLOAD_VERSION). Two encodings,
// told apart by the first byte (a JSON text starts with `{` or whitespace, never 0x01):
//
//   JSON    {"ts": <ms since epoch>, "value": <number>, "lon"?: <deg>, "lat"?: <deg>, "v"?: 1}   UTF-8
//   binary  little-endian, 18 or 34 bytes
//             0  u8       version = 0x01
//             1  u8       flags: bit 0 = position present; other bits must be 0
//             2  f64      ts, ms since epoch
//            10  f64      value
//            18  f64      lon  (flags bit 0 only)
//            26  f64      lat  (flags bit 0 only)
//
// f64 everywhere so both encodings round-trip every reading exactly (18 bytes is still about half of the
// shortest JSON form). Parsing never throws: a bad payload is a value `{ error }` the ingest counts — one
// broken device must not stop the feed. The README in this folder is the normative copy of this schema.

import { DEVICE_KINDS, TOPIC_PREFIX, type DeviceKind, type Reading } from '../../layers/telemetry/model.ts';

export const PAYLOAD_VERSION = 1;
/** First byte of the binary form; it is also its version. */
export const BINARY_MAGIC = 0x01;
const FLAG_POSITION = 0x01;
const BINARY_SHORT = 18;
const BINARY_LONG = 34;
/** Readings are a handful of numbers; anything bigger is a misdirected or hostile message. */
export const MAX_PAYLOAD_BYTES = 1024;
/** Largest ms-since-epoch a JS Date accepts (ECMA-262 §21.4.1.1). */
const MAX_TS = 8.64e15;
/** Device ids are catalog ids (e.g. `sensor-000123`); this bounds what we keep in memory per message. */
const MAX_DEVICE_ID = 128;

type Body = Omit<Reading, 'receivedAt' | 'deviceId' | 'kind'>;

const kindSet = new Set<string>(DEVICE_KINDS);
const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Enc = new TextEncoder();

/** `onemap/telemetry/{kind}/{deviceId}` → its parts; null for any other topic or an unknown kind. */
export function parseTopic(topic: string): { kind: DeviceKind; deviceId: string } | null {
  if (!topic.startsWith(TOPIC_PREFIX + '/')) return null;
  // indexOf instead of split: this runs for every message.
  const from = TOPIC_PREFIX.length + 1;
  const slash = topic.indexOf('/', from);
  if (slash < 0 || topic.indexOf('/', slash + 1) >= 0) return null;
  const kind = topic.slice(from, slash);
  const deviceId = topic.slice(slash + 1);
  if (!kindSet.has(kind)) return null;
  if (deviceId.length === 0 || deviceId.length > MAX_DEVICE_ID || /[+#\u0000]/.test(deviceId)) return null;
  return { kind: kind as DeviceKind, deviceId };
}

/** Checks the fields shared by both encodings; returns an error text or null. */
function checkBody(ts: number, value: number, lon: number | undefined, lat: number | undefined): string | null {
  if (!Number.isFinite(ts) || ts < 0 || ts > MAX_TS) return `ts must be ms since epoch (0…${MAX_TS}), got ${ts}`;
  if (!Number.isFinite(value)) return `value must be a finite number, got ${value}`;
  if ((lon === undefined) !== (lat === undefined)) return 'lon and lat must be given together';
  if (lon !== undefined && (!Number.isFinite(lon) || lon < -180 || lon > 180)) return `lon must be in −180…180, got ${lon}`;
  if (lat !== undefined && (!Number.isFinite(lat) || lat < -90 || lat > 90)) return `lat must be in −90…90, got ${lat}`;
  return null;
}

function parseBinary(bytes: Uint8Array): Body | { error: string } {
  if (bytes.length < 2) return { error: `binary payload too short (${bytes.length} bytes; need ${BINARY_SHORT} or ${BINARY_LONG})` };
  const flags = bytes[1];
  if (flags & ~FLAG_POSITION) return { error: `binary payload has unknown flag bits 0x${flags.toString(16)} (v${PAYLOAD_VERSION} defines only bit 0)` };
  const want = flags & FLAG_POSITION ? BINARY_LONG : BINARY_SHORT;
  if (bytes.length !== want) return { error: `binary payload is ${bytes.length} bytes; flags 0x${flags.toString(16)} need exactly ${want}` };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ts = dv.getFloat64(2, true);
  const value = dv.getFloat64(10, true);
  const lon = flags & FLAG_POSITION ? dv.getFloat64(18, true) : undefined;
  const lat = flags & FLAG_POSITION ? dv.getFloat64(26, true) : undefined;
  const bad = checkBody(ts, value, lon, lat);
  if (bad) return { error: bad };
  return lon === undefined ? { ts, value } : { ts, value, lon, lat };
}

// The fast path for the form devices and encodeJson send: a flat object of known numeric fields, no
// whitespace, e.g. {"v":1,"ts":1780000000000,"value":2.345}. Read straight from the bytes — no UTF-8 decode,
// no JSON.parse, no intermediate object. Anything else (whitespace, other keys, strings, duplicates, exotic
// numbers) returns null and takes the general path below, so results and error messages are unchanged.
const K_V = 1, K_TS = 2, K_VALUE = 4, K_LON = 8, K_LAT = 16;
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
let numEnd = 0;

/** A JSON number at bytes[i…] (strict RFC 8259 grammar), its end in numEnd; NaN when it is not one. */
function readNumber(b: Uint8Array, i: number): number {
  const start = i;
  let neg = false;
  if (b[i] === 0x2d) { neg = true; i++; }
  if (i >= b.length) return NaN;
  let mant = 0, digits = 0, scale = 0;
  if (b[i] === 0x30) { i++; if (b[i] >= 0x30 && b[i] <= 0x39) return NaN; } // no leading zeros
  else if (b[i] >= 0x31 && b[i] <= 0x39) { while (b[i] >= 0x30 && b[i] <= 0x39) { mant = mant * 10 + (b[i] - 0x30); digits++; i++; } }
  else return NaN;
  if (b[i] === 0x2e) {
    i++;
    if (!(b[i] >= 0x30 && b[i] <= 0x39)) return NaN;
    while (b[i] >= 0x30 && b[i] <= 0x39) { mant = mant * 10 + (b[i] - 0x30); digits++; scale++; i++; }
  }
  let exotic = false;
  if (b[i] === 0x65 || b[i] === 0x45) { // exponent: valid JSON, but left to Number() below
    i++;
    if (b[i] === 0x2b || b[i] === 0x2d) i++;
    if (!(b[i] >= 0x30 && b[i] <= 0x39)) return NaN;
    while (b[i] >= 0x30 && b[i] <= 0x39) i++;
    exotic = true;
  }
  numEnd = i;
  // Exact when the digits fit a double's 53-bit mantissa and 10^scale is exact (≤ 1e22): one correctly rounded
  // division (Clinger 1990, "How to read floating point numbers accurately"), the same double JSON.parse gives.
  if (!exotic && digits <= 15 && scale <= 22) { const v = scale ? mant / POW10[scale] : mant; return neg ? -v : v; }
  let s = '';
  for (let k = start; k < i; k++) s += String.fromCharCode(b[k]);
  return Number(s);
}

function parseJsonFast(b: Uint8Array): Body | null {
  const n = b.length;
  if (b[0] !== 0x7b || b[n - 1] !== 0x7d) return null;
  let i = 1, seen = 0;
  let ts = NaN, value = NaN, lon: number | undefined, lat: number | undefined;
  for (;;) {
    if (b[i] !== 0x22) return null;
    // Keys: v, ts, value, lon, lat (each once).
    let key = 0, klen = 0;
    const c = b[i + 1];
    if (c === 0x76 && b[i + 2] === 0x22) { key = K_V; klen = 1; }
    else if (c === 0x74 && b[i + 2] === 0x73 && b[i + 3] === 0x22) { key = K_TS; klen = 2; }
    else if (c === 0x76 && b[i + 2] === 0x61 && b[i + 3] === 0x6c && b[i + 4] === 0x75 && b[i + 5] === 0x65 && b[i + 6] === 0x22) { key = K_VALUE; klen = 5; }
    else if (c === 0x6c && b[i + 2] === 0x6f && b[i + 3] === 0x6e && b[i + 4] === 0x22) { key = K_LON; klen = 3; }
    else if (c === 0x6c && b[i + 2] === 0x61 && b[i + 3] === 0x74 && b[i + 4] === 0x22) { key = K_LAT; klen = 3; }
    else return null;
    if (seen & key) return null;
    seen |= key;
    i += klen + 2;
    if (b[i] !== 0x3a) return null;
    const x = readNumber(b, i + 1);
    if (Number.isNaN(x)) return null;
    i = numEnd;
    if (key === K_V) { if (x !== PAYLOAD_VERSION) return null; }
    else if (key === K_TS) ts = x;
    else if (key === K_VALUE) value = x;
    else if (key === K_LON) lon = x;
    else lat = x;
    if (b[i] === 0x2c) { i++; continue; }
    if (b[i] === 0x7d && i === n - 1) break;
    return null;
  }
  if (!(seen & K_TS) || !(seen & K_VALUE)) return null;
  if (checkBody(ts, value, lon, lat) !== null) return null;
  return lon === undefined ? { ts, value } : { ts, value, lon, lat };
}

function parseJson(bytes: Uint8Array): Body | { error: string } {
  const fast = parseJsonFast(bytes);
  if (fast) return fast;
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { error: 'payload is neither binary v1 (first byte 0x01) nor UTF-8 JSON' };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { error: `payload is not valid JSON: ${(e as Error).message}` };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { error: 'JSON payload must be an object {"ts", "value"}' };
  const o = doc as Record<string, unknown>;
  if (o.v !== undefined && o.v !== PAYLOAD_VERSION) return { error: `unsupported payload version v=${JSON.stringify(o.v)}; this server reads v${PAYLOAD_VERSION}` };
  for (const f of ['ts', 'value'] as const) {
    if (typeof o[f] !== 'number') return { error: `JSON payload needs a number "${f}", got ${o[f] === undefined ? 'nothing' : typeof o[f]}` };
  }
  for (const f of ['lon', 'lat'] as const) {
    if (o[f] !== undefined && typeof o[f] !== 'number') return { error: `"${f}" must be a number, got ${typeof o[f]}` };
  }
  const ts = o.ts as number, value = o.value as number;
  const lon = o.lon as number | undefined, lat = o.lat as number | undefined;
  const bad = checkBody(ts, value, lon, lat);
  if (bad) return { error: bad };
  return lon === undefined ? { ts, value } : { ts, value, lon, lat };
}

/** Decodes one message body (either encoding). Never throws. */
export function parsePayload(kind: DeviceKind, deviceId: string, bytes: Uint8Array, receivedAt: number): Reading | { error: string } {
  if (bytes.length === 0) return { error: 'empty payload' };
  if (bytes.length > MAX_PAYLOAD_BYTES) return { error: `payload is ${bytes.length} bytes; the limit is ${MAX_PAYLOAD_BYTES}` };
  const body = bytes[0] === BINARY_MAGIC ? parseBinary(bytes) : parseJson(bytes);
  if ('error' in body) return body;
  // Built field by field (not spread): one per message.
  return body.lon === undefined
    ? { deviceId, kind, ts: body.ts, value: body.value, receivedAt }
    : { deviceId, kind, ts: body.ts, value: body.value, lon: body.lon, lat: body.lat, receivedAt };
}

/** The JSON form, with `"v": 1`. */
export function encodeJson(r: Body): Uint8Array {
  const o: Record<string, number> = { v: PAYLOAD_VERSION, ts: r.ts, value: r.value };
  if (r.lon !== undefined && r.lat !== undefined) {
    o.lon = r.lon;
    o.lat = r.lat;
  }
  return utf8Enc.encode(JSON.stringify(o));
}

/** The binary form (18 bytes, or 34 with a position). */
export function encodeBinary(r: Body): Uint8Array {
  const withPos = r.lon !== undefined && r.lat !== undefined;
  const out = new Uint8Array(withPos ? BINARY_LONG : BINARY_SHORT);
  const dv = new DataView(out.buffer);
  out[0] = BINARY_MAGIC;
  out[1] = withPos ? FLAG_POSITION : 0;
  dv.setFloat64(2, r.ts, true);
  dv.setFloat64(10, r.value, true);
  if (withPos) {
    dv.setFloat64(18, r.lon!, true);
    dv.setFloat64(26, r.lat!, true);
  }
  return out;
}
