// The ingest: one MQTT client (the `mqtt` package) that works against the embedded broker or any external one
// (mosquitto in the tests). A persistent session (clean:false, fixed clientId) with a QoS 1 subscription makes
// the broker queue readings while we are away and deliver them after we reconnect (MQTT 3.1.1 §3.1.2.4); the
// broker drops its copy once we PUBACK, which mqtt.js sends right after the 'message' event, so a reading is
// handed to onReadings once per delivery (a redelivery after a lost PUBACK carries the same (deviceId, ts) and
// the engine drops it as a duplicate).
//
// mqtt.js's own reconnect timer is a fixed period; we run our own with exponential backoff (0.25 s doubling,
// cap 10 s, ±20 % jitter so many services restarted together don't reconnect in step). Nothing in here throws
// into the process: connection errors, broken payloads and a throwing onReadings are counted and logged.

import mqtt, { type MqttClient } from 'mqtt';
import { TOPIC_PREFIX, type Reading } from '../../layers/telemetry/model.ts';
import { parsePayload, parseTopic } from './payload.ts';

export interface IngestStats {
  connected: boolean;
  /** Messages received on onemap/telemetry/#. */
  received: number;
  /** Readings parsed and handed to onReadings. */
  parsed: number;
  /** Messages with a bad topic or payload (dropped). */
  malformed: number;
  /** Successful connections after the first one. */
  reconnects: number;
  lastError: string | null;
}

export interface Ingest {
  stats(): IngestStats;
  /** Flushes pending readings to onReadings, then disconnects (the broker keeps the session). */
  close(): Promise<void>;
}

export const INGEST_CLIENT_ID = 'onemap-ingest';
const FLUSH_MS = 50;
const FLUSH_COUNT = 2000;
const BACKOFF_FIRST_MS = 250;
const BACKOFF_CAP_MS = 10_000;
const MALFORMED_LOG_EVERY_MS = 10_000;

export function startIngest(opts: {
  url: string;
  clientId?: string;
  onReadings: (batch: Reading[]) => void;
  log?: (m: string) => void;
  clock?: () => number;
}): Ingest {
  const clock = opts.clock ?? Date.now;
  const log = opts.log ?? ((m: string) => console.warn(m));
  const s: IngestStats = { connected: false, received: 0, parsed: 0, malformed: 0, reconnects: 0, lastError: null };
  let batch: Reading[] = [];
  let flushTimer: NodeJS.Timeout | null = null;
  let retryTimer: NodeJS.Timeout | null = null;
  let attempt = 0;
  let everConnected = false;
  let closing = false;
  let lastMalformedLog = -Infinity;
  let malformedSinceLog = 0;

  const flush = () => {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = null;
    if (batch.length === 0) return;
    const out = batch;
    batch = [];
    try {
      opts.onReadings(out);
    } catch (e) {
      log(`telemetry ingest: onReadings threw on a batch of ${out.length} readings (dropped): ${(e as Error).message}`);
    }
  };

  const malformed = (topic: string, why: string) => {
    s.malformed++;
    malformedSinceLog++;
    const now = Date.now();
    if (now - lastMalformedLog < MALFORMED_LOG_EVERY_MS) return;
    log(`telemetry ingest: dropped ${malformedSinceLog} malformed message(s); e.g. ${topic}: ${why}`);
    lastMalformedLog = now;
    malformedSinceLog = 0;
  };

  const client: MqttClient = mqtt.connect(opts.url, {
    clientId: opts.clientId ?? INGEST_CLIENT_ID,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 0, // our backoff below
    resubscribe: false, // we subscribe whenever the broker has no session for us (see 'connect')
    connectTimeout: 5_000,
    keepalive: 30,
  });

  client.on('connect', (connack) => {
    s.connected = true;
    s.lastError = null;
    if (everConnected) s.reconnects++;
    everConnected = true;
    attempt = 0;
    // With a session present the broker still has our subscription and is already sending the queue.
    if (!connack.sessionPresent) {
      client.subscribe(`${TOPIC_PREFIX}/#`, { qos: 1 }, (err, granted) => {
        if (err) s.lastError = `subscribe failed: ${err.message}`;
        else if (granted?.some((g) => g.qos === 128)) s.lastError = `broker refused the subscription to ${TOPIC_PREFIX}/# (check its ACL)`;
        if (s.lastError) log(`telemetry ingest: ${s.lastError}`);
      });
    }
  });

  client.on('message', (topic, payload) => {
    s.received++;
    const t = parseTopic(topic);
    if (!t) return malformed(topic, `topic is not ${TOPIC_PREFIX}/{kind}/{deviceId} with a known kind`);
    const r = parsePayload(t.kind, t.deviceId, payload, clock());
    if ('error' in r) return malformed(topic, r.error);
    s.parsed++;
    batch.push(r);
    if (batch.length >= FLUSH_COUNT) flush();
    else flushTimer ??= setTimeout(flush, FLUSH_MS);
  });

  client.on('error', (e) => {
    const msg = `${opts.url}: ${e.message}`;
    if (msg !== s.lastError) log(`telemetry ingest: MQTT error ${msg}; retrying with backoff`);
    s.lastError = msg;
  });

  client.on('close', () => {
    s.connected = false;
    if (closing || retryTimer) return;
    const base = Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * 2 ** attempt);
    attempt++;
    const delay = Math.round(base * (0.8 + 0.4 * Math.random()));
    retryTimer = setTimeout(() => {
      retryTimer = null;
      if (!closing) client.reconnect();
    }, delay);
    retryTimer.unref?.();
  });

  return {
    stats: () => ({ ...s }),
    close() {
      closing = true;
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = null;
      flush();
      return new Promise<void>((resolve) => {
        // A clean DISCONNECT when connected (the broker keeps the session); otherwise just drop the socket.
        const guard = setTimeout(resolve, 2_000);
        client.end(!client.connected, {}, () => {
          clearTimeout(guard);
          resolve();
        });
      }).then(flush);
    },
  };
}
