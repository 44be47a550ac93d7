import { describe, expect, it } from 'vitest';
import { encodeBinary, encodeJson, parsePayload } from '../../tile-server/telemetry/payload.ts';
import { encodeTopic, maxPacketBytes, writePublish } from './wire.ts';

/** Reads one PUBLISH QoS 0 packet (MQTT 3.1.1 §3.3) back: topic and payload. */
function readPacket(buf: Buffer, off: number): { topic: string; payload: Buffer; end: number } {
  expect(buf[off]).toBe(0x30);
  let len = 0, mul = 1, p = off + 1;
  for (;;) { const b = buf[p++]; len += (b & 0x7f) * mul; mul *= 128; if (!(b & 0x80)) break; }
  const tl = buf.readUInt16BE(p);
  const topic = buf.toString('utf8', p + 2, p + 2 + tl);
  return { topic, payload: buf.subarray(p + 2 + tl, p + len), end: p + len };
}

describe('wire', () => {
  const cases = [
    { ts: 1_764_400_000_123, value: 3.712 },
    { ts: 1_764_400_000_124, value: -0.5 },
    { ts: 1_764_400_000_125, value: 4.2, lon: 120.6544659, lat: 31.5585181 },
    { ts: 0, value: 1e-7 },
  ];
  it('writes the payload bytes of encodeJson and encodeBinary, in well-formed packets', () => {
    const topic = encodeTopic('onemap/telemetry/water_level/sen-000001');
    for (const binary of [false, true]) {
      const buf = Buffer.alloc(cases.length * maxPacketBytes(topic));
      let off = 0;
      for (const c of cases) off = writePublish(buf, off, topic, binary, c.ts, c.value, c.lon, c.lat);
      let p = 0;
      for (const c of cases) {
        const pk = readPacket(buf, p);
        expect(pk.topic).toBe('onemap/telemetry/water_level/sen-000001');
        expect(Buffer.from(pk.payload).equals(Buffer.from(binary ? encodeBinary(c) : encodeJson(c)))).toBe(true);
        const r = parsePayload('water_level', 'sen-000001', pk.payload, 0);
        expect(r).toMatchObject(c);
        p = pk.end;
      }
      expect(p).toBe(off);
    }
  });
  it('uses a two-byte remaining length for long topics', () => {
    const topic = encodeTopic(`onemap/telemetry/gas/${'x'.repeat(200)}`);
    const buf = Buffer.alloc(maxPacketBytes(topic));
    const end = writePublish(buf, 0, topic, false, 1, 2);
    const pk = readPacket(buf, 0);
    expect(pk.end).toBe(end);
    expect(pk.topic.length).toBe(21 + 200);
    expect(JSON.parse(pk.payload.toString())).toEqual({ v: 1, ts: 1, value: 2 });
  });
});
