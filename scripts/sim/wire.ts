// MQTT 3.1.1 PUBLISH packets (QoS 0) written straight into one batch buffer per tick (pure). At 20k+ readings/s
// the per-message cost of a general client (objects, callbacks, one socket write per packet: ~20 µs measured with
// mqtt.js 5 publish) is most of a core; here a reading is a few byte writes. The payload bytes are exactly those
// of tile-server/telemetry/payload.ts encodeJson / encodeBinary (wire.spec.ts checks it).
// Packet layout: MQTT 3.1.1 §3.3 — fixed header 0x30 (PUBLISH, QoS 0, no DUP/RETAIN), remaining length
// (variable byte integer, §2.2.3), topic (u16 BE length + UTF-8), payload.
import { PAYLOAD_VERSION } from '../../tile-server/telemetry/payload.ts';

/** The topic as it goes in a packet: u16 BE length, then UTF-8 bytes. Pre-encoded once per device. */
export function encodeTopic(topic: string): Buffer {
  const t = Buffer.from(topic, 'utf8');
  if (t.length > 0xffff) throw new Error(`MQTT topic is ${t.length} bytes; the limit is 65535 — use a shorter device id.`);
  const out = Buffer.allocUnsafe(2 + t.length);
  out.writeUInt16BE(t.length, 0);
  t.copy(out, 2);
  return out;
}

/** Largest packet for a pre-encoded topic: header 1 + length ≤ 4 + topic + payload (JSON with a position ≤ 120 bytes). */
export const MAX_PAYLOAD = 120;
export function maxPacketBytes(topic: Buffer): number {
  return 5 + topic.length + MAX_PAYLOAD;
}

function writeVarint(buf: Buffer, off: number, n: number): number {
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n > 0) b |= 0x80;
    buf[off++] = b;
  } while (n > 0);
  return off;
}

/** The JSON payload text (ASCII) — the same bytes as encodeJson. */
export function jsonText(ts: number, value: number, lon?: number, lat?: number): string {
  return lon === undefined || lat === undefined
    ? `{"v":${PAYLOAD_VERSION},"ts":${ts},"value":${value}}`
    : `{"v":${PAYLOAD_VERSION},"ts":${ts},"value":${value},"lon":${lon},"lat":${lat}}`;
}

/**
 * Writes one PUBLISH packet at `off` and returns the offset after it. `binary` picks the payload form. The
 * caller sizes `buf` with maxPacketBytes (a JSON payload longer than MAX_PAYLOAD throws rather than overrun).
 */
export function writePublish(buf: Buffer, off: number, topic: Buffer, binary: boolean, ts: number, value: number, lon?: number, lat?: number): number {
  const withPos = lon !== undefined && lat !== undefined;
  let payloadLen: number;
  let text = '';
  if (binary) payloadLen = withPos ? 34 : 18;
  else {
    text = jsonText(ts, value, lon, lat);
    payloadLen = text.length;
    if (payloadLen > MAX_PAYLOAD) throw new Error(`JSON payload of ${payloadLen} bytes exceeds MAX_PAYLOAD (${MAX_PAYLOAD}); round the values.`);
  }
  const rem = topic.length + payloadLen;
  buf[off++] = 0x30;
  off = writeVarint(buf, off, rem);
  off += topic.copy(buf, off);
  if (binary) {
    buf[off] = 0x01; // version/magic (payload.ts BINARY_MAGIC)
    buf[off + 1] = withPos ? 1 : 0;
    buf.writeDoubleLE(ts, off + 2);
    buf.writeDoubleLE(value, off + 10);
    if (withPos) { buf.writeDoubleLE(lon!, off + 18); buf.writeDoubleLE(lat!, off + 26); }
    return off + payloadLen;
  }
  return off + buf.write(text, off, 'latin1');
}
