// The MQTT ingest against both brokers it must work with (issue 7): the embedded aedes broker and mosquitto.
// Each broker: JSON and binary readings arrive; malformed messages are counted and the good ones still flow;
// QoS 1 readings published while the ingest is away are delivered exactly once after it comes back
// (clean:false session); a broker stop/start mid-stream is survived with every reading delivered. Embedded
// only: MQTT over WebSocket through handleUpgrade, and an ingest started before its broker.
//
// mosquitto comes from TEST_MQTT_URL (scripts/test.sh starts `scripts/mosquitto-local.ts`). Without it this
// file FAILS unless ONEMAP_SKIP_MOSQUITTO=1. The mosquitto restart tests stop and start a throwaway instance
// of their own (scripts/mosquitto-local.ts functions, temp dir, free port) rather than the shared one.
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import memoryPersistence from 'aedes-persistence';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../tile-server/telemetry/broker.ts';
import { startIngest, type Ingest } from '../tile-server/telemetry/ingest.ts';
import { topicFor, type Reading } from '../layers/telemetry/model.ts';
import { encodeBinary, encodeJson } from '../tile-server/telemetry/payload.ts';
import { startMosquitto, stopMosquitto } from '../scripts/mosquitto-local.ts';

const MQ_URL = process.env.TEST_MQTT_URL;
const SKIP_MQ = process.env.ONEMAP_SKIP_MOSQUITTO === '1';
const RUN = `t${Date.now().toString(36)}`;
let seq = 0;
const uniq = (what: string) => `${RUN}-${what}-${++seq}`;

it('mosquitto is tested (TEST_MQTT_URL), or skipped on purpose (ONEMAP_SKIP_MOSQUITTO=1)', () => {
  if (!MQ_URL && !SKIP_MQ) {
    throw new Error('TEST_MQTT_URL is not set: start mosquitto (export TEST_MQTT_URL=$(npx tsx scripts/mosquitto-local.ts start)), or set ONEMAP_SKIP_MOSQUITTO=1 to test the embedded broker alone.');
  }
});

// ------------------------------------------------------------------------------------------ helpers

async function waitFor(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function publisher(url: string): Promise<MqttClient> {
  return mqtt.connectAsync(url, { clientId: uniq('pub'), clean: true, reconnectPeriod: 200, connectTimeout: 3_000 });
}

/** An ingest that keeps the readings of devices whose id starts with `prefix` (brokers are shared between tests). */
function collect(url: string, clientId: string, prefix: string): { ingest: Ingest; got: Reading[]; batches: number[]; logs: string[] } {
  const got: Reading[] = [];
  const batches: number[] = [];
  const logs: string[] = [];
  const ingest = startIngest({
    url,
    clientId,
    onReadings: (b) => {
      batches.push(b.length);
      for (const r of b) if (r.deviceId.startsWith(prefix)) got.push(r);
    },
    log: (m) => logs.push(m),
  });
  return { ingest, got, batches, logs };
}

/** Publishes probes until one comes back: the ingest is connected and its subscription is in place. */
async function probe(pub: MqttClient, got: Reading[], prefix: string): Promise<void> {
  const id = `${prefix}probe`;
  for (let i = 0; i < 100; i++) {
    await pub.publishAsync(topicFor('gas', id), Buffer.from(encodeJson({ ts: i + 1, value: 0 })), { qos: 1 });
    const end = Date.now() + 200;
    while (Date.now() < end) {
      if (got.some((r) => r.deviceId === id)) return;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  throw new Error('the ingest never received a probe reading: not connected or not subscribed');
}

/** Ends a persistent session so a shared broker does not keep queueing for it. */
async function purgeSession(url: string, clientId: string): Promise<void> {
  const c = await mqtt.connectAsync(url, { clientId, clean: true, reconnectPeriod: 0 }).catch(() => null);
  await c?.endAsync();
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

const keys = (rs: Reading[]) => rs.map((r) => `${r.deviceId}@${r.ts}`);

// ------------------------------------------------------------------------------------------ shared cases

interface Target {
  name: string;
  url: () => string;
}

type TestFn = (name: string, fn: () => Promise<void>) => void;

function commonCases(t: Target, maybe: TestFn) {
  maybe('JSON and binary readings arrive with every field, in batches', async () => {
    const prefix = uniq('mix') + '-';
    const clientId = uniq('ingest');
    const c = collect(t.url(), clientId, prefix);
    const pub = await publisher(t.url());
    try {
      await probe(pub, c.got, prefix);
      c.got.length = 0;
      const sent: Reading[] = [];
      for (let i = 0; i < 100; i++) {
        const body = i % 3 === 0 ? { ts: 1_790_000_000_000 + i, value: i / 7, lon: 120.7 + i / 1000, lat: 31.6 } : { ts: 1_790_000_000_000 + i, value: -i };
        const kind = i % 3 === 0 ? 'patrol' : 'water_level';
        sent.push({ deviceId: `${prefix}${i % 10}`, kind, ...body, receivedAt: 0 });
        const bytes = i % 2 ? encodeBinary(body) : encodeJson(body);
        await pub.publishAsync(topicFor(kind, `${prefix}${i % 10}`), Buffer.from(bytes), { qos: 1 });
      }
      await waitFor(() => c.got.length >= 100, '100 readings');
      const strip = (r: Reading) => ({ ...r, receivedAt: 0 });
      expect(c.got.map(strip).sort((a, b) => a.ts - b.ts)).toEqual(sent);
      expect(c.got.every((r) => r.receivedAt > 0)).toBe(true);
      // 100 messages in well under 50 ms each → several per batch, not one callback per message.
      expect(c.batches.length).toBeLessThan(c.got.length + 20);
      const s = c.ingest.stats();
      expect(s.connected).toBe(true);
      expect(s.malformed).toBe(0);
    } finally {
      await pub.endAsync();
      await c.ingest.close();
      await purgeSession(t.url(), clientId);
    }
  });

  maybe('malformed messages are counted and logged, good ones still flow, nothing throws', async () => {
    const prefix = uniq('bad') + '-';
    const clientId = uniq('ingest');
    const c = collect(t.url(), clientId, prefix);
    const pub = await publisher(t.url());
    try {
      await probe(pub, c.got, prefix);
      const before = c.ingest.stats();
      const bad: [string, Uint8Array][] = [
        [topicFor('gas', `${prefix}a`), new TextEncoder().encode('{"ts": 1, "value": "high"}')],
        [topicFor('gas', `${prefix}a`), new TextEncoder().encode('not json at all')],
        [topicFor('gas', `${prefix}a`), new Uint8Array([1, 0, 2, 3])],
        [topicFor('gas', `${prefix}a`), new Uint8Array(0)],
        [topicFor('gas', `${prefix}a`), new TextEncoder().encode('{"v": 9, "ts": 1, "value": 1}')],
        [`onemap/telemetry/toaster/${prefix}a`, encodeJson({ ts: 1, value: 1 })],
        [`onemap/telemetry/gas/${prefix}a/extra`, encodeJson({ ts: 1, value: 1 })],
      ];
      for (const [topic, bytes] of bad) await pub.publishAsync(topic, Buffer.from(bytes), { qos: 1 });
      // Published last on the same connection: MQTT keeps per-publisher order, so once it is here all the bad ones were seen.
      await pub.publishAsync(topicFor('gas', `${prefix}good`), Buffer.from(encodeBinary({ ts: 42, value: 3.5 })), { qos: 1 });
      await waitFor(() => c.got.some((r) => r.deviceId === `${prefix}good`), 'the good reading after the bad ones');
      const s = c.ingest.stats();
      expect(s.malformed - before.malformed).toBe(bad.length);
      expect(s.received - before.received).toBe(bad.length + 1);
      expect(s.parsed - before.parsed).toBe(1);
      expect(s.connected).toBe(true);
      expect(c.logs.some((m) => m.includes('malformed'))).toBe(true);
      // Rate-limited: seven bad messages in a burst give one log line, not seven.
      expect(c.logs.filter((m) => m.includes('malformed')).length).toBe(1);
    } finally {
      await pub.endAsync();
      await c.ingest.close();
      await purgeSession(t.url(), clientId);
    }
  });

  maybe('QoS 1 readings published while the ingest is away are delivered exactly once after it returns', async () => {
    const prefix = uniq('queue') + '-';
    const clientId = uniq('ingest');
    const first = collect(t.url(), clientId, prefix);
    const pub = await publisher(t.url());
    try {
      await probe(pub, first.got, prefix);
      await first.ingest.close();
      const N = 300;
      for (let i = 0; i < N; i++) {
        await pub.publishAsync(topicFor('water_level', `${prefix}${i % 30}`), Buffer.from(encodeBinary({ ts: 1_000 + i, value: i })), { qos: 1 });
      }
      const second = collect(t.url(), clientId, prefix);
      try {
        await waitFor(() => second.got.filter((r) => !r.deviceId.endsWith('probe')).length >= N, `${N} queued readings`);
        // Anything extra (a redelivery) would come right behind; a probe round trip makes sure it had its chance.
        await probe(pub, second.got, prefix);
        const got = second.got.filter((r) => !r.deviceId.endsWith('probe'));
        expect(got.length).toBe(N);
        expect(new Set(keys(got)).size).toBe(N);
        expect(got.map((r) => r.value).sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i));
      } finally {
        await second.ingest.close();
      }
    } finally {
      await pub.endAsync();
      await purgeSession(t.url(), clientId);
    }
  });
}

/**
 * Streams readings through a broker stop/start: publishing goes on while the broker is down (mqtt.js queues
 * QoS 1 publishes and resends them), and every reading must reach the ingest. QoS 1 is at-least-once, so a
 * reading in flight at the moment of the stop may come twice (the engine drops it by (deviceId, ts)); none may be lost.
 */
async function restartMidStream(url: string, stop: () => Promise<void>, start: () => Promise<void>): Promise<void> {
  const prefix = uniq('restart') + '-';
  const clientId = uniq('ingest');
  const c = collect(url, clientId, prefix);
  const pub = await publisher(url);
  let pubErrors = 0;
  try {
    await probe(pub, c.got, prefix);
    const N = 400;
    let i = 0;
    const send = () => {
      pub.publish(topicFor('gas', `${prefix}${i % 20}`), Buffer.from(encodeJson({ ts: 5_000 + i, value: i })), { qos: 1 }, (e) => {
        if (e) pubErrors++;
      });
      i++;
    };
    for (; i < 150; ) send();
    await waitFor(() => c.got.length > 50, 'readings before the restart');
    await stop();
    await waitFor(() => !c.ingest.stats().connected, 'the ingest to notice the broker is gone');
    for (; i < 250; ) send(); // queued by the publisher while the broker is down
    await start();
    await waitFor(() => c.ingest.stats().connected && c.ingest.stats().reconnects >= 1, 'the ingest to reconnect');
    for (; i < N; ) send();
    const data = () => c.got.filter((r) => !r.deviceId.endsWith('probe'));
    await waitFor(() => new Set(keys(data())).size >= N, `all ${N} readings after the restart`, 30_000);
    const got = data();
    expect(new Set(keys(got)).size).toBe(N);
    expect(new Set(got.map((r) => r.value)).size).toBe(N);
    expect(pubErrors).toBe(0);
    const s = c.ingest.stats();
    expect(s.malformed).toBe(0);
    expect(s.lastError).toBeNull();
  } finally {
    await pub.endAsync(true);
    await c.ingest.close();
    await purgeSession(url, clientId).catch(() => {});
  }
}

// ------------------------------------------------------------------------------------------ embedded

describe('embedded broker (aedes)', () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startEmbeddedBroker({ port: 0 });
  });
  afterAll(async () => broker?.close());

  commonCases({ name: 'embedded', url: () => broker.url }, it);

  it('restart mid-stream: the ingest reconnects with backoff and no reading is lost (sessions kept in the shared persistence)', async () => {
    const persistence = memoryPersistence();
    let b = await startEmbeddedBroker({ port: 0, persistence });
    const port = b.port;
    try {
      await restartMidStream(
        b.url,
        () => b.close(),
        async () => {
          b = await startEmbeddedBroker({ port, persistence });
        },
      );
    } finally {
      await b.close();
    }
  });

  it('an ingest started before its broker retries until the broker is there, without throwing', async () => {
    const port = await freePort();
    const prefix = uniq('late') + '-';
    const c = collect(`mqtt://127.0.0.1:${port}`, uniq('ingest'), prefix);
    let b: EmbeddedBroker | null = null;
    try {
      await waitFor(() => c.ingest.stats().lastError !== null, 'a connection error');
      expect(c.ingest.stats().connected).toBe(false);
      expect(c.logs.some((m) => m.includes('ECONNREFUSED'))).toBe(true);
      b = await startEmbeddedBroker({ port });
      await waitFor(() => c.ingest.stats().connected, 'the ingest to connect once the broker listens');
      const pub = await publisher(b.url);
      await probe(pub, c.got, prefix);
      await pub.endAsync();
      expect(c.ingest.stats().lastError).toBeNull();
    } finally {
      await c.ingest.close();
      await b?.close();
    }
  });

  it('MQTT over WebSocket at /mqtt through handleUpgrade (ingest and publisher on ws://)', async () => {
    const b = await startEmbeddedBroker({ port: 0 });
    const http: Server = createServer((_, res) => res.writeHead(404).end());
    http.on('upgrade', (req, socket, head) => {
      if (new URL(req.url ?? '/', 'http://x').pathname === '/mqtt') b.handleUpgrade(req, socket, head);
      else socket.destroy();
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    const wsUrl = `ws://127.0.0.1:${(http.address() as { port: number }).port}/mqtt`;
    const prefix = uniq('ws') + '-';
    const clientId = uniq('ingest');
    const c = collect(wsUrl, clientId, prefix);
    const wsPub = await publisher(wsUrl);
    const tcpPub = await publisher(b.url);
    try {
      await probe(wsPub, c.got, prefix);
      await wsPub.publishAsync(topicFor('smoke', `${prefix}ws`), Buffer.from(encodeBinary({ ts: 7, value: 1 })), { qos: 1 });
      await tcpPub.publishAsync(topicFor('smoke', `${prefix}tcp`), Buffer.from(encodeJson({ ts: 8, value: 0 })), { qos: 1 });
      await waitFor(() => c.got.some((r) => r.deviceId === `${prefix}ws`) && c.got.some((r) => r.deviceId === `${prefix}tcp`), 'readings over ws and tcp');
      expect(c.got.find((r) => r.deviceId === `${prefix}ws`)).toMatchObject({ kind: 'smoke', ts: 7, value: 1 });
      expect(c.got.find((r) => r.deviceId === `${prefix}tcp`)).toMatchObject({ kind: 'smoke', ts: 8, value: 0 });
    } finally {
      await wsPub.endAsync();
      await tcpPub.endAsync();
      await c.ingest.close();
      await b.close();
      await new Promise<void>((r) => http.close(() => r()));
    }
  });
});

// ------------------------------------------------------------------------------------------ mosquitto

/** Runs (and fails without TEST_MQTT_URL) unless ONEMAP_SKIP_MOSQUITTO=1 skips it visibly. */
const itMq: TestFn = MQ_URL || !SKIP_MQ ? it : it.skip;
function mqUrl(): string {
  if (!MQ_URL) throw new Error('no mosquitto: set TEST_MQTT_URL (or ONEMAP_SKIP_MOSQUITTO=1)');
  return MQ_URL;
}

describe('mosquitto (TEST_MQTT_URL)', () => {
  commonCases({ name: 'mosquitto', url: mqUrl }, itMq);

  describe('restarts (a throwaway mosquitto with persistence)', () => {
    let dir = '';
    let port = 0;
    beforeAll(async () => {
      if (!MQ_URL) return; // the tests below fail (or are skipped) on their own
      dir = mkdtempSync(join(tmpdir(), 'onemap-mq-'));
      port = await freePort();
      await startMosquitto({ port, dir });
    });
    afterAll(async () => {
      if (!dir) return;
      await stopMosquitto({ dir }).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    });

    itMq('restart mid-stream: the ingest reconnects with backoff and no reading is lost', async () => {
      mqUrl();
      await restartMidStream(`mqtt://127.0.0.1:${port}`, () => stopMosquitto({ dir }), async () => void (await startMosquitto({ port, dir })));
    });

    itMq('readings queued for the absent ingest survive a broker restart and are delivered exactly once', async () => {
      mqUrl();
      const url = `mqtt://127.0.0.1:${port}`;
      const prefix = uniq('persist') + '-';
      const clientId = uniq('ingest');
      const first = collect(url, clientId, prefix);
      const pub = await publisher(url);
      await probe(pub, first.got, prefix);
      await first.ingest.close();
      const N = 200;
      for (let i = 0; i < N; i++) await pub.publishAsync(topicFor('power', `${prefix}${i % 10}`), Buffer.from(encodeJson({ ts: 9_000 + i, value: i })), { qos: 1 });
      await pub.endAsync();
      await stopMosquitto({ dir });
      await startMosquitto({ port, dir });
      const second = collect(url, clientId, prefix);
      const pub2 = await publisher(url);
      try {
        const data = () => second.got.filter((r) => !r.deviceId.endsWith('probe'));
        await waitFor(() => data().length >= N, `${N} readings queued across the restart`);
        await probe(pub2, second.got, prefix);
        expect(data().length).toBe(N);
        expect(new Set(keys(data())).size).toBe(N);
      } finally {
        await pub2.endAsync();
        await second.ingest.close();
        await purgeSession(url, clientId);
      }
    });
  });
});
