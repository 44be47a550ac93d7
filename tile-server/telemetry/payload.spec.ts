import { describe, expect, it } from 'vitest';
import { createRng } from '../../scripts/data/rng.ts';
import { topicFor, DEVICE_KINDS } from '../../layers/telemetry/model.ts';
import { encodeBinary, encodeJson, parsePayload, parseTopic, PAYLOAD_VERSION, MAX_PAYLOAD_BYTES } from './payload.ts';

const enc = new TextEncoder();
const json = (s: string) => enc.encode(s);
const RECEIVED = 1_790_000_000_123;

function bin(len: number, fill: (dv: DataView, u8: Uint8Array) => void): Uint8Array {
  const u8 = new Uint8Array(len);
  fill(new DataView(u8.buffer), u8);
  return u8;
}

describe('parseTopic', () => {
  it('splits every kind', () => {
    for (const kind of DEVICE_KINDS) expect(parseTopic(topicFor(kind, 'dev-1'))).toEqual({ kind, deviceId: 'dev-1' });
  });
  it.each([
    'onemap/telemetry/water_level',
    'onemap/telemetry/water_level/',
    'onemap/telemetry/water_level/a/b',
    'onemap/telemetry/toaster/a',
    'other/telemetry/gas/a',
    'onemap/telemetryx/gas/a',
    'onemap/telemetry/gas/a+b',
    `onemap/telemetry/gas/${'x'.repeat(129)}`,
  ])('rejects %s', (t) => expect(parseTopic(t)).toBeNull());
});

describe('round trips', () => {
  const g = createRng(7).fork('payload-spec');
  const rng = () => g.next();
  const samples = Array.from({ length: 200 }, (_, i) => {
    const ts = Math.floor(1.7e12 + rng() * 1e11);
    const value = (rng() - 0.5) * 10 ** Math.floor(rng() * 8);
    return i % 2 ? { ts, value } : { ts, value, lon: 120 + rng(), lat: 31 + rng() };
  });
  samples.push({ ts: 0, value: 0 }, { ts: 8.64e15, value: -0.1 }, { ts: 1, value: 1e-300, lon: -180, lat: 90 });

  it.each([['json', encodeJson], ['binary', encodeBinary]] as const)('%s keeps every field exactly', (_, encode) => {
    for (const s of samples) {
      const r = parsePayload('patrol', 'p-1', encode(s), RECEIVED);
      expect(r).toEqual({ deviceId: 'p-1', kind: 'patrol', receivedAt: RECEIVED, ...s });
    }
  });

  it('binary is 18 bytes, 34 with a position, first byte is the version', () => {
    const a = encodeBinary({ ts: 1, value: 2 });
    const b = encodeBinary({ ts: 1, value: 2, lon: 120, lat: 31 });
    expect([a.length, b.length, a[0], b[0]]).toEqual([18, 34, PAYLOAD_VERSION, PAYLOAD_VERSION]);
  });

  it('JSON carries "v": 1 and reads documents without v, with extra fields', () => {
    expect(JSON.parse(new TextDecoder().decode(encodeJson({ ts: 5, value: 6 })))).toEqual({ v: 1, ts: 5, value: 6 });
    expect(parsePayload('gas', 'g', json(' {"ts": 5, "value": 6.5, "battery": 80}\n'), 1)).toEqual({ deviceId: 'g', kind: 'gas', ts: 5, value: 6.5, receivedAt: 1 });
  });
});

describe('malformed payloads are errors, never throws', () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty', new Uint8Array(0), /empty/],
    ['too big', json(`{"ts":1,"value":2,"pad":"${'x'.repeat(MAX_PAYLOAD_BYTES)}"}`), /limit/],
    ['not utf-8', new Uint8Array([0xff, 0xfe, 0x7b]), /UTF-8/],
    ['not json', json('ts=1,value=2'), /not valid JSON/],
    ['truncated json', json('{"ts":1,"value":'), /not valid JSON/],
    ['json array', json('[1,2]'), /object/],
    ['json null', json('null'), /object/],
    ['json number', json('42'), /object/],
    ['no ts', json('{"value":1}'), /"ts"/],
    ['no value', json('{"ts":1}'), /"value"/],
    ['ts as string', json('{"ts":"2026-01-01","value":1}'), /"ts"/],
    ['value as string', json('{"ts":1,"value":"1"}'), /"value"/],
    ['value null', json('{"ts":1,"value":null}'), /"value"/],
    ['negative ts', json('{"ts":-1,"value":1}'), /ts must be/],
    ['ts beyond Date', json('{"ts":1e16,"value":1}'), /ts must be/],
    ['value overflow', json('{"ts":1,"value":1e999}'), /finite/],
    ['lon without lat', json('{"ts":1,"value":1,"lon":120}'), /together/],
    ['lon out of range', json('{"ts":1,"value":1,"lon":181,"lat":0}'), /lon/],
    ['lat out of range', json('{"ts":1,"value":1,"lon":0,"lat":-91}'), /lat/],
    ['lat as string', json('{"ts":1,"value":1,"lon":0,"lat":"0"}'), /"lat"/],
    ['future version', json('{"v":2,"ts":1,"value":1}'), /version/],
    ['version as string', json('{"v":"1","ts":1,"value":1}'), /version/],
    ['binary: magic only', new Uint8Array([1]), /too short/],
    ['binary: truncated', encodeBinary({ ts: 1, value: 2 }).slice(0, 17), /exactly 18/],
    ['binary: trailing byte', new Uint8Array([...encodeBinary({ ts: 1, value: 2 }), 0]), /exactly 18/],
    ['binary: position flag, short body', bin(18, (dv, u8) => { u8[0] = 1; u8[1] = 1; }), /exactly 34/],
    ['binary: unknown flag', bin(18, (dv, u8) => { u8[0] = 1; u8[1] = 2; }), /flag/],
    ['binary: NaN value', bin(18, (dv, u8) => { u8[0] = 1; dv.setFloat64(2, 1, true); dv.setFloat64(10, NaN, true); }), /finite/],
    ['binary: infinite ts', bin(18, (dv, u8) => { u8[0] = 1; dv.setFloat64(2, Infinity, true); }), /ts must be/],
    ['binary: bad lat', bin(34, (dv, u8) => { u8[0] = 1; u8[1] = 1; dv.setFloat64(2, 1, true); dv.setFloat64(26, 100, true); }), /lat/],
  ];

  it.each(cases)('%s', (_, bytes, message) => {
    let r: ReturnType<typeof parsePayload> | undefined;
    expect(() => (r = parsePayload('water_level', 'w-1', bytes, RECEIVED))).not.toThrow();
    expect(r).toEqual({ error: expect.stringMatching(message) });
  });

  it('random bytes never throw', () => {
    const g = createRng(11).fork('fuzz');
    const rng = () => g.next();
    let errors = 0;
    for (let i = 0; i < 5000; i++) {
      const len = Math.floor(rng() * 40);
      const bytes = Uint8Array.from({ length: len }, () => Math.floor(rng() * 256));
      if (i % 3 === 0 && len > 0) bytes[0] = 1;
      const r = parsePayload('gas', 'g', bytes, 0);
      if ('error' in r) errors++;
      else expect(Number.isFinite(r.ts) && Number.isFinite(r.value)).toBe(true);
    }
    expect(errors).toBeGreaterThan(4000);
  });

  it('works on a view into a larger buffer (as MQTT hands us slices)', () => {
    const inner = encodeBinary({ ts: 3, value: 4, lon: 1, lat: 2 });
    const big = new Uint8Array(100);
    big.set(inner, 33);
    expect(parsePayload('patrol', 'p', big.subarray(33, 33 + inner.length), 9)).toEqual({ deviceId: 'p', kind: 'patrol', ts: 3, value: 4, lon: 1, lat: 2, receivedAt: 9 });
  });
});

describe('compact JSON read from the bytes', () => {
  // The byte-level reader must give exactly the doubles JSON.parse gives, and leave everything it does not
  // handle to the general path (same results, same errors).
  it('agrees with JSON.parse on seeded numbers of every length, sign and exponent', () => {
    const rng = createRng(7).fork('fast-json');
    const texts: string[] = [];
    for (let k = 0; k < 1500; k++) {
      const digits = 1 + Math.floor(rng.next() * 18);
      const scale = Math.floor(rng.next() * 12);
      const v = (rng.next() < 0.3 ? -1 : 1) * Math.floor(rng.next() * 10 ** digits) / 10 ** scale;
      const forms = [String(v), v.toFixed(scale), v.toExponential(4), String(rng.next() * 1000)];
      for (const f of forms) texts.push(`{"v":1,"ts":${1_780_000_000_000 + k},"value":${f}}`);
    }
    texts.push('{"ts":0,"value":-0}', '{"value":0.1,"ts":5e3}', '{"ts":1,"value":2,"lon":120.123456789012,"lat":31.98765}');
    for (const t of texts) {
      const o = JSON.parse(t);
      const r = parsePayload('noise', 'n', json(t), 1);
      expect(r, t).toEqual({ deviceId: 'n', kind: 'noise', ts: o.ts, value: o.value, ...(o.lon === undefined ? {} : { lon: o.lon, lat: o.lat }), receivedAt: 1 });
      expect(Object.is((r as { value: number }).value, o.value), t).toBe(true);
    }
  });

  it.each([
    ['{"ts":1,"value":01}', 'not valid JSON'],
    ['{"ts":1,"value":1.}', 'not valid JSON'],
    ['{"ts":1,"value":-}', 'not valid JSON'],
    ['{"ts":1,"value":2,}', 'not valid JSON'],
    ['{"ts":1,"value":2}x', 'not valid JSON'],
    ['{"v":2,"ts":1,"value":2}', 'unsupported payload version'],
    ['{"ts":1,"value":1e999}', 'value must be a finite number'],
    ['{"ts":1,"value":2,"lon":120}', 'lon and lat must be given together'],
    ['{"ts":1}', 'needs a number "value"'],
  ])('sends %s to the general path: %s', (text, why) => {
    const r = parsePayload('noise', 'n', json(text), 1);
    expect('error' in r && r.error).toContain(why);
  });

  it('takes duplicate keys and whitespace the way JSON.parse does', () => {
    expect(parsePayload('noise', 'n', json('{"ts":1,"value":2,"value":3}'), 1)).toMatchObject({ value: 3 });
    expect(parsePayload('noise', 'n', json('{ "ts": 1, "value": 2 }'), 1)).toMatchObject({ ts: 1, value: 2 });
  });
});
