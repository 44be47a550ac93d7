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
  const rest = topic.slice(TOPIC_PREFIX.length + 1).split('/');
  if (rest.length !== 2) return null;
  const [kind, deviceId] = rest;
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

function parseJson(bytes: Uint8Array): Body | { error: string } {
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
  return { deviceId, kind, ...body, receivedAt };
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
