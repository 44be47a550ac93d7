// Telemetry end to end (issue 7) on the built demo city, through a real server: MQTT publish → ingest →
// rules → store → HTTP API, the live WebSocket feed, and alarms becoming incidents on the board. Run once per
// broker (the embedded aedes; mosquitto from TEST_MQTT_URL) and per time-series store (SQLite; PostgreSQL from
// TEST_DATABASE_URL, in a throw-away database). Without TEST_MQTT_URL / TEST_DATABASE_URL this file FAILS
// unless ONEMAP_SKIP_MOSQUITTO=1 / ONEMAP_SKIP_POSTGIS=1. The broker-restart test starts its own mosquitto
// (a throw-away directory and port) so it can stop it without disturbing the shared one; the embedded broker
// keeps its sessions in memory only (broker.ts), so a restart of it cannot keep a queue by design.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rememberSession, TEST_AUTH, withSession } from './helpers/session.ts';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startMosquitto, stopMosquitto } from '../scripts/mosquitto-local.ts';
import { startServer, type RunningServer } from '../tile-server/server.ts';
import { topicFor, type Alarm, type DeviceKind } from '../layers/telemetry/model.ts';
import { encodeBinary, encodeJson } from '../tile-server/telemetry/payload.ts';
import type { TelemetryService } from '../tile-server/telemetry/service.ts';
import { createFreshDatabase } from './helpers/fresh-pg.ts';

const DATA = join(process.cwd(), 'geodata/build');
const MQ_URL = process.env.TEST_MQTT_URL;
const PG_URL = process.env.TEST_DATABASE_URL;
const CITY_BBOX = [120.3, 31.4, 121.2, 31.95];

it('mosquitto is part of the run (TEST_MQTT_URL), or skipped on purpose (ONEMAP_SKIP_MOSQUITTO=1)', () => {
  if (!MQ_URL && process.env.ONEMAP_SKIP_MOSQUITTO !== '1') {
    throw new Error('TEST_MQTT_URL is not set: start mosquitto (npx tsx scripts/mosquitto-local.ts start) and export TEST_MQTT_URL=mqtt://127.0.0.1:18830, or set ONEMAP_SKIP_MOSQUITTO=1 to test the embedded broker only.');
  }
});
it('PostgreSQL is part of the run (TEST_DATABASE_URL), or skipped on purpose (ONEMAP_SKIP_POSTGIS=1)', () => {
  if (!PG_URL && process.env.ONEMAP_SKIP_POSTGIS !== '1') {
    throw new Error('TEST_DATABASE_URL is not set: start PostgreSQL (npx tsx scripts/pg-local.ts start) and export TEST_DATABASE_URL, or set ONEMAP_SKIP_POSTGIS=1 to test SQLite only.');
  }
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}
async function getJson(base: string, path: string, status = 200): Promise<any> {
  const r = await fetch(base + path, withSession(base));
  const body = await r.json();
  expect(r.status, JSON.stringify(body).slice(0, 300)).toBe(status);
  return body;
}
/** Removes a persistent MQTT session (a clean connect replaces it), so a shared mosquitto does not queue for a dead test client. */
async function dropSession(url: string, clientId: string): Promise<void> {
  const c = await mqtt.connectAsync(url, { clientId, clean: true, reconnectPeriod: 0 });
  await c.endAsync();
}
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
    s.on('error', reject);
  });
}

interface Combo { broker: 'embedded' | 'mosquitto'; store: 'sqlite' | 'postgres' }
const COMBOS: Combo[] = [];
for (const broker of ['embedded', 'mosquitto'] as const) {
  if (broker === 'mosquitto' && !MQ_URL) continue;
  for (const store of ['sqlite', 'postgres'] as const) if (store === 'sqlite' || PG_URL) COMBOS.push({ broker, store });
}

async function startWith(dir: string, mqttUrl: string | null, databaseUrl: string | null, clientId: string): Promise<{ srv: RunningServer; tel: TelemetryService }> {
  const srv = await startServer({
    dataDir: DATA, webDir: join(dir, 'web'), port: 0, databaseUrl: null, incidentDatabaseUrl: null,
    incidentDbFile: join(dir, 'incidents.sqlite'), sweepIntervalMs: 0,
    telemetry: { mqttUrl, clientId, databaseUrl, file: join(dir, 'telemetry.sqlite'), tickMs: 0 }, ...TEST_AUTH,
  });
  await rememberSession(srv.url, 'operator');
  return { srv, tel: await srv.telemetry };
}

for (const combo of COMBOS) {
  describe(`telemetry (${combo.broker} broker, ${combo.store})`, () => {
    let dir: string;
    let fresh: { url: string; drop(): Promise<void> } | undefined;
    let srv: RunningServer;
    let tel: TelemetryService;
    let pub: MqttClient;
    const clientId = `onemap-test-${combo.broker}-${combo.store}-${process.pid}`;
    let base = Date.now() - 3_600_000; // device time: an hour ago and counting up, unique per reading
    const nextTs = () => (base += 1000);
    const byKind: Partial<Record<DeviceKind, string[]>> = {};
    const devicesOf = async (kind: DeviceKind, n: number) => {
      byKind[kind] ??= (await getJson(srv.url, `/api/devices?kind=${kind}&limit=2000`)).items.map((d: { id: string }) => d.id);
      expect(byKind[kind]!.length, `${kind} devices in the built city`).toBeGreaterThanOrEqual(n);
      return byKind[kind]!.splice(0, n); // each test takes devices no other test touched
    };
    const send = (kind: DeviceKind, id: string, value: number, ts = nextTs(), binary = false) =>
      pub.publishAsync(topicFor(kind, id), Buffer.from((binary ? encodeBinary : encodeJson)({ ts, value })), { qos: 1 });
    const device = (id: string) => getJson(srv.url, `/api/devices/${id}`);

    beforeAll(async () => {
      if (!existsSync(join(DATA, 'sensors.fgb'))) throw new Error('geodata/build/sensors.fgb missing: run npm run data first');
      dir = mkdtempSync(join(tmpdir(), 'onemap-telemetry-'));
      fresh = combo.store === 'postgres' ? await createFreshDatabase(PG_URL!, 'onemap_telemetry') : undefined;
      ({ srv, tel } = await startWith(dir, combo.broker === 'mosquitto' ? MQ_URL! : null, fresh?.url ?? null, clientId));
      await waitFor('the ingest to connect', () => tel.ingest.stats().connected);
      pub = await mqtt.connectAsync(tel.brokerUrl, { clientId: `${clientId}-pub`, clean: true });
    });
    afterAll(async () => {
      await pub?.endAsync();
      await srv?.close();
      if (combo.broker === 'mosquitto' && MQ_URL) await dropSession(MQ_URL, clientId).catch(() => {});
      await fresh?.drop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('publish → device state, history, thresholds and alarms on the API; the alarm opens one incident on the board', async () => {
      const [a, b, c] = await devicesOf('water_level', 3);
      const before = tel.engine.stats().readings;
      await send('water_level', a, 4.2);
      await send('water_level', b, 3.95, nextTs(), true); // the binary form
      await send('water_level', c, 2.1);
      await waitFor('3 readings', () => tel.engine.stats().readings >= before + 3);
      await tel.settle();

      const da = await device(a);
      expect(da).toMatchObject({ id: a, kind: 'water_level', status: 'alarm', lastValue: 4.2 });
      expect(da.thresholds).toContainEqual(expect.objectContaining({ ruleId: 'water_level.high', above: 3.7 }));
      expect(da.readings.map((r: { value: number }) => r.value)).toEqual([4.2]);
      expect(da.activeAlarms).toHaveLength(1);
      expect((await device(b))).toMatchObject({ status: 'alarm', lastValue: 3.95 });
      expect((await device(c))).toMatchObject({ status: 'online', lastValue: 2.1 });
      const inAlarm = (await getJson(srv.url, '/api/devices?kind=water_level&status=alarm&limit=30000')).items.map((d: { id: string }) => d.id);
      expect(inAlarm).toEqual(expect.arrayContaining([a, b]));
      expect(inAlarm).not.toContain(c);

      // Alarm → incident (rule water_level.high names category 1102), linked both ways.
      const alarms: Alarm[] = (await getJson(srv.url, '/api/alarms?status=active')).items.filter((x: Alarm) => x.deviceId === a || x.deviceId === b);
      expect(alarms).toHaveLength(2);
      for (const al of alarms) expect(al.incidentId, `alarm ${al.id} has an incident`).toBeTruthy();
      const board = (await getJson(srv.url, '/api/incidents?category=1102&limit=1000')).items;
      // 二级 alarm (level 2) → incident severity 3: alarm levels count 1 as most severe, incidents count 4.
      for (const al of alarms) expect(board.find((i: { id: string }) => i.id === al.incidentId)).toMatchObject({ source: 'sensor', category: '1102', severity: 5 - al.severity });

      // The condition seen again: the same alarm (a repeat), not a second incident.
      await send('water_level', a, 4.4);
      await waitFor('the repeat', async () => (await device(a)).lastValue === 4.4);
      await tel.settle();
      const again: Alarm[] = (await getJson(srv.url, '/api/alarms?status=active')).items.filter((x: Alarm) => x.deviceId === a);
      expect(again).toHaveLength(1);
      expect(again[0].id).toBe(alarms.find((x) => x.deviceId === a)!.id);
      expect(again[0].repeats).toBeGreaterThanOrEqual(1);
      expect((await getJson(srv.url, '/api/incidents?category=1102&limit=1000')).total).toBe(board.length);

      // Back below threshold − hysteresis: cleared.
      await send('water_level', a, 3.0);
      await waitFor('the alarm to clear', async () => (await device(a)).status === 'online');
      const health = await getJson(srv.url, '/api/device-health');
      expect(health.total).toBe(tel.engine.stats().devices);
      expect(health.byKind.water_level.total).toBeGreaterThan(0);
    });

    it('drops duplicates, keeps out-of-order readings in history without moving the current state', async () => {
      const [d] = await devicesOf('noise', 1);
      const t = nextTs() + 100_000;
      base = t + 10_000;
      const s0 = tel.engine.stats();
      await send('noise', d, 50, t);
      await waitFor('the first reading', async () => (await device(d)).lastTs === t);
      await send('noise', d, 51, t - 500); // older: history only
      await send('noise', d, 52, t);       // same ts: duplicate, dropped
      await send('noise', d, 53, t + 500);
      await waitFor('the last reading', async () => (await device(d)).lastTs === t + 500);
      await tel.settle();
      const dd = await device(d);
      expect(dd.lastValue).toBe(53);
      expect(dd.readings.map((r: { ts: number; value: number }) => [r.ts - t, r.value]).sort((x: number[], y: number[]) => x[0] - y[0]))
        .toEqual([[-500, 51], [0, 50], [500, 53]]);
      const s1 = tel.engine.stats();
      expect(s1.duplicates - s0.duplicates).toBe(1);
      expect(s1.outOfOrder - s0.outOfOrder).toBe(1);
    });

    it('counts malformed payloads and unknown devices, and keeps going', async () => {
      const [d] = await devicesOf('rain', 1);
      const m0 = tel.ingest.stats().malformed, u0 = tel.engine.stats().unknownDevice;
      const bad: [string, Buffer][] = [
        [topicFor('rain', d), Buffer.from('not json')],
        [topicFor('rain', d), Buffer.from('{"ts": 1}')],                       // no value
        [topicFor('rain', d), Buffer.from([0x01, 0x00, 1, 2, 3])],              // truncated binary
        [topicFor('rain', d), Buffer.from([0x07, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])], // unknown version
        ['onemap/telemetry/teapot/x1', Buffer.from(encodeJson({ ts: nextTs(), value: 1 }))], // unknown kind
      ];
      for (const [topic, body] of bad) await pub.publishAsync(topic, body, { qos: 1 });
      await send('rain', 'no-such-device-1', 1);
      await send('rain', d, 7.5);
      await waitFor('the valid reading after the bad ones', async () => (await device(d)).lastValue === 7.5);
      await waitFor('the malformed count', () => tel.ingest.stats().malformed - m0 === bad.length);
      expect(tel.engine.stats().unknownDevice - u0).toBe(1);
      expect((await getJson(srv.url, '/healthz')).status).toBe('ok');
      expect(tel.ingest.stats().connected).toBe(true);
    });

    it('validates and persists rule edits (PUT /api/rules)', async () => {
      const { rules } = await getJson(srv.url, '/api/rules');
      const put = (body: unknown) => fetch(`${srv.url}/api/rules`, withSession(srv.url, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }));
      const badRules = structuredClone(rules);
      badRules.find((r: { id: string }) => r.id === 'noise.high').severity = 9;
      const r400 = await put({ rules: badRules });
      expect(r400.status).toBe(400);
      const err = (await r400.json()).error;
      expect(err.code).toBe('bad_rules');
      expect(err.message).toMatch(/severity/);
      expect(err.message).toMatch(/[\u4e00-\u9fff]/);
      const edited = structuredClone(rules);
      edited.find((r: { id: string }) => r.id === 'noise.high').params.above = 99;
      const r200 = await put(edited);
      expect(r200.status, await r200.clone().text()).toBe(200);
      const after = await getJson(srv.url, '/api/rules');
      expect(after.rules.find((r: { id: string }) => r.id === 'noise.high').params.above).toBe(99);
      const [d] = await devicesOf('noise', 1);
      expect((await device(d)).thresholds).toContainEqual(expect.objectContaining({ ruleId: 'noise.high', above: 99 }));
      expect((await put(rules)).status).toBe(200); // restore
    });

    it('feeds subscribers only what they cover, and a slow WebSocket client does not slow the others', async () => {
      // Every fire hydrant (4,000): enough JSON per round (~0.45 MB) that a client which stops reading fills its
      // socket buffers within a few rounds, and the server has to hold its updates back.
      const ids = tel.engine.devices({ kind: 'fire_hydrant' }).map((d) => d.id);
      expect(ids.length).toBeGreaterThan(1000);
      const wsUrl = srv.url.replace('http', 'ws') + '/ws';
      const open = async (kinds: DeviceKind[]) => {
        const ws = new WebSocket(wsUrl, withSession(srv.url));
        const latest = new Map<string, number | null>();
        const kindsSeen = new Set<string>();
        let subscribed = false, updates = 0;
        ws.on('message', (data) => {
          const m = JSON.parse(String(data));
          if (m.type === 'subscribed') subscribed = true;
          if (m.type === 'telemetry') for (const dv of m.devices) { latest.set(dv.id, dv.value); kindsSeen.add(dv.kind); updates++; }
        });
        await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
        ws.send(JSON.stringify({ type: 'subscribe', bbox: CITY_BBOX, kinds }));
        await waitFor('subscribed', () => subscribed);
        return { ws, latest, kindsSeen, updates: () => updates };
      };
      const fast = await open(['fire_hydrant']);
      const slow = await open(['fire_hydrant']);
      const gasOnly = await open(['gas']);
      const sock = (c: { ws: WebSocket }) => (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      sock(slow).pause(); // stops reading: the server must coalesce its updates, not queue them or stall the others
      let rounds = 0, backedUp = false, extra = 2; // two more rounds once it is backed up: those must coalesce
      while (rounds < 40 && extra > 0) {
        if (backedUp) extra--;
        rounds++;
        const ts = nextTs();
        await Promise.all(ids.map((id) => pub.publishAsync(topicFor('fire_hydrant', id), Buffer.from(encodeJson({ ts, value: rounds })), { qos: 0 })));
        // The fast client keeps up, round after round, while the slow one is stuck.
        await waitFor(`the fast client to see round ${rounds}`, () => ids.every((id) => fast.latest.get(id) === rounds), 30_000);
        backedUp ||= (await getJson(srv.url, '/api/telemetry/stats')).feed.pendingMax > 0;
      }
      expect(backedUp, 'the paused client fell behind (updates held back for it)').toBe(true);
      const stats = await getJson(srv.url, '/api/telemetry/stats');
      expect(stats.feed.subscribed).toBe(3);
      expect(stats.feed.pendingMax).toBeLessThanOrEqual(ids.length); // one pending entry per device, not per reading
      expect(slow.ws.readyState).toBe(WebSocket.OPEN);
      sock(slow).resume();
      await waitFor('the slow client to converge on the latest state', () => ids.every((id) => slow.latest.get(id) === rounds), 30_000);
      expect(slow.updates()).toBeLessThan(fast.updates()); // it got the latest state, not every reading
      expect([...fast.kindsSeen]).toEqual(['fire_hydrant']);
      expect([...gasOnly.kindsSeen].every((k) => k === 'gas')).toBe(true);
      for (const c of [fast, slow, gasOnly]) c.ws.close();
    });

    it('a device that falls silent shows as offline in device health', async () => {
      const [cam] = await devicesOf('camera', 1);
      await send('camera', cam, 1);
      await waitFor('the camera online', async () => (await device(cam)).status === 'online');
      await tel.tick(Date.now() + 10 * 60_000); // past 3 × 60 s (camera.silence)
      expect((await device(cam)).status).toBe('offline');
      const health = await getJson(srv.url, '/api/device-health');
      expect(health.offline.map((o: { id: string }) => o.id)).toContain(cam);
      expect((await getJson(srv.url, '/api/devices?kind=camera&status=offline&limit=30000')).items.map((d: { id: string }) => d.id)).toContain(cam);
    });

    it('answers bad queries with JSON errors', async () => {
      expect((await getJson(srv.url, '/api/devices?kind=teapot', 400)).error.code).toBe('bad_kind');
      expect((await getJson(srv.url, '/api/devices?bbox=1,2,3', 400)).error.code).toBe('bad_bbox');
      expect((await getJson(srv.url, '/api/devices/nope-404', 404)).error.code).toBe('unknown_device');
      expect((await getJson(srv.url, '/api/alarms?status=maybe', 400)).error.code).toBe('bad_status');
    });
  });
}

describe.runIf(MQ_URL)('telemetry: mosquitto restarted mid-stream (QoS 1 queue)', () => {
  let dir: string;
  let mq: { port: number; dir: string };
  let srv: RunningServer;
  let tel: TelemetryService;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'onemap-telemetry-restart-'));
    mq = { port: await freePort(), dir: join(dir, 'mq') };
    const url = await startMosquitto(mq);
    ({ srv, tel } = await startWith(dir, url, null, `onemap-test-restart-${process.pid}`));
    await waitFor('the ingest to connect', () => tel.ingest.stats().connected);
  });
  afterAll(async () => {
    await srv?.close();
    await stopMosquitto(mq).catch(() => {});
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('processes readings queued while the ingest was away exactly once', async () => {
    const ids: string[] = (await getJson(srv.url, '/api/devices?kind=power&limit=200')).items.map((d: { id: string }) => d.id);
    const t0 = Date.now() - 600_000;
    const publishRound = async (round: number) => {
      const c = await mqtt.connectAsync(tel.brokerUrl, { clientId: `restart-pub-${round}`, clean: true, reconnectPeriod: 0 });
      await Promise.all(ids.map((id) => c.publishAsync(topicFor('power', id), Buffer.from(encodeJson({ ts: t0 + round * 1000, value: round })), { qos: 1 })));
      await c.endAsync();
    };
    const r0 = tel.engine.stats().readings;
    await publishRound(1);
    await waitFor('round 1', () => tel.engine.stats().readings >= r0 + ids.length);

    await stopMosquitto(mq); // persists the ingest's session (its QoS 1 subscription) to mosquitto.db
    await waitFor('the ingest to notice', () => !tel.ingest.stats().connected);
    await sleep(5000); // the ingest's backoff grows past the restart below
    await startMosquitto(mq);
    await publishRound(2); // queued in the ingest's persistent session if it is still away
    const queued = !tel.ingest.stats().connected;
    await waitFor('the ingest to reconnect', () => tel.ingest.stats().connected, 30_000);
    await waitFor('round 2', () => tel.engine.stats().readings >= r0 + 2 * ids.length, 30_000);
    await sleep(500); // any redelivery would arrive now
    await tel.settle();

    expect(queued, 'round 2 was published while the ingest was disconnected (queued by the broker)').toBe(true);
    expect(tel.ingest.stats().reconnects).toBeGreaterThanOrEqual(1);
    const s = tel.engine.stats();
    expect(s.readings - r0).toBe(2 * ids.length); // each once: no loss, no redelivery
    expect(s.duplicates).toBe(0);
    for (const id of ids.slice(0, 5)) {
      const d = await getJson(srv.url, `/api/devices/${id}`);
      expect(d.lastValue).toBe(2);
      expect(d.readings.map((r: { value: number }) => r.value)).toEqual([1, 2]);
    }
  });
});
