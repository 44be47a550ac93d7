// Telemetry throughput and latency (issue 7): readings/s through the whole pipeline — MQTT broker (embedded
// aedes) → ingest → rules → time-series store (SQLite, WAL) → live WebSocket feed — with 20,000 devices,
// against the broker alone (aedes; Debian's mosquitto) relaying the same messages to one subscriber, in the
// same run. Then end-to-end latency from publish to receipt on a WebSocket subscriber at a steady rate, p50/p99,
// against the same publish → subscriber latency through aedes alone.
// The server runs in a child process (`tile-server/main.ts`, as in production), so the publishers and the
// WebSocket client in this process do not share its event loop; the bare brokers run out of process too.
// Readings are QoS 1 JSON (the documented default form), seeded values inside each kind's normal range.
// Since issue 9 the HTTP API and the /ws upgrade need a session: the bench signs in as the demo `operator` (the
// server gets the test password and its own user store in the temp directory) and sends the cookie with every
// request and with the WebSocket upgrade, as the signed-in web client does. The brokers alone need no sign-in.
// Run: npx tsx bench/telemetry.bench.ts [--devices 20000] [--rounds 10] [--rate 10000] [--seconds 8]
// About 1–1.5 minutes with the defaults. Aim (issue 7): ≥ 20,000 readings/s, p99 < 250 ms.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { createRng } from '../scripts/data/rng.ts';
import { startMosquitto, stopMosquitto } from '../scripts/mosquitto-local.ts';
import { startEmbeddedBroker } from '../tile-server/telemetry/broker.ts';
import { topicFor, type DeviceKind } from '../layers/telemetry/model.ts';
import { encodeJson } from '../tile-server/telemetry/payload.ts';
import { signIn, TEST_PASSWORD } from '../test/helpers/session.ts';

const ROOT = join(import.meta.dirname, '..');
const SEED = 20261129;
/** Who watches the live feed: an operator may read the device layers and the telemetry stats. */
const BENCH_USER = 'operator';

// A child run of this file that only hosts an aedes broker (the "broker alone" peer, out of process like ours).
if (process.argv.includes('--child-aedes')) {
  const b = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
  console.log(`URL ${b.url}`);
  process.on('SIGTERM', () => void b.close().then(() => process.exit(0)));
  await new Promise(() => {});
}

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
};
const DEVICES = arg('devices', 20_000);
const ROUNDS = arg('rounds', 10);
const RATE = arg('rate', 10_000);
const SECONDS = arg('seconds', 8);
const PUBLISHERS = 4;
const IN_FLIGHT = 500; // per publisher: unacknowledged QoS 1 publishes

/** Normal operating range per kind (below every default threshold, so the rules run but raise no incidents). */
const RANGE: Record<DeviceKind, [number, number]> = {
  water_level: [2.6, 3.2], manhole: [0, 0.5], gas: [0, 3], smoke: [0, 1], power: [50, 400], air_quality: [20, 90],
  bridge_strain: [100, 400], noise: [45, 70], rain: [0, 5], fire_hydrant: [0.25, 0.4], camera: [1, 1], patrol: [0, 2],
};

const T_START = performance.now();
const log = (m: string) => console.log(`[${((performance.now() - T_START) / 1000).toFixed(1)} s] ${m}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
    s.on('error', reject);
  });
}

/** Spawns a child and resolves with the first stdout line matching `re` (its capture group). */
function spawnAndWait(cmd: string, args: string[], env: NodeJS.ProcessEnv, re: RegExp, what: string): Promise<{ child: ChildProcess; match: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const timer = setTimeout(() => { child.kill(); reject(new Error(`${what} did not start within 60 s:\n${err.slice(-2000)}`)); }, 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = re.exec(out);
      if (m) { clearTimeout(timer); resolve({ child, match: m[1] }); }
    });
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); if (err.length > 100_000) err = err.slice(-20_000); });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${what} exited (${code}):\n${err.slice(-2000)}`)); });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  await Promise.race([gone, sleep(10_000).then(() => child.kill('SIGKILL'))]);
}

interface Device { id: string; kind: DeviceKind }
interface Msg { topic: string; payload: Buffer }

/** QoS 1 publishes spread over PUBLISHERS clients, at most IN_FLIGHT unacknowledged each. */
async function publishAll(clients: MqttClient[], msgs: Msg[]): Promise<void> {
  let next = 0;
  await Promise.all(clients.map((c) => new Promise<void>((resolve, reject) => {
    let inFlight = 0, done = false;
    const pump = () => {
      while (inFlight < IN_FLIGHT && next < msgs.length) {
        const m = msgs[next++];
        inFlight++;
        c.publish(m.topic, m.payload, { qos: 1 }, (err) => {
          inFlight--;
          if (err) { done = true; reject(err); return; }
          if (!done) pump();
        });
      }
      if (next >= msgs.length && inFlight === 0 && !done) { done = true; resolve(); }
    };
    pump();
  })));
}

function connectPublishers(url: string, label: string): Promise<MqttClient[]> {
  return Promise.all(Array.from({ length: PUBLISHERS }, (_, i) =>
    mqtt.connectAsync(url, { clientId: `bench-${label}-pub-${i}-${process.pid}`, clean: true, reconnectPeriod: 0 })));
}

function rounds(devices: Device[], n: number, t0: number, label: string): Msg[] {
  const rng = createRng(SEED).fork(label);
  const out: Msg[] = [];
  for (let r = 0; r < n; r++) {
    for (const d of devices) {
      const [lo, hi] = RANGE[d.kind];
      out.push({ topic: topicFor(d.kind, d.id), payload: Buffer.from(encodeJson({ ts: t0 + r * 1000, value: Math.round((lo + rng.next() * (hi - lo)) * 1000) / 1000 })) });
    }
  }
  return out;
}

function pct(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : NaN;
}

/** Broker alone: the same messages through `url` to one QoS 1 subscriber; readings/s from first publish to last receipt. */
async function brokerAlone(url: string, label: string, msgs: Msg[]): Promise<number> {
  const sub = await mqtt.connectAsync(url, { clientId: `bench-${label}-sub-${process.pid}`, clean: true, reconnectPeriod: 0 });
  await sub.subscribeAsync('onemap/telemetry/#', { qos: 1 });
  let got = 0;
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => { resolveAll = r; });
  sub.on('message', () => { if (++got === msgs.length) resolveAll(); });
  const pubs = await connectPublishers(url, label);
  const t0 = performance.now();
  await publishAll(pubs, msgs);
  await Promise.race([all, sleep(120_000)]);
  const s = (performance.now() - t0) / 1000;
  if (got < msgs.length) throw new Error(`${label}: only ${got} of ${msgs.length} messages arrived`);
  await Promise.all([...pubs, sub].map((c) => c.endAsync()));
  const rate = msgs.length / s;
  log(`${label} alone: ${fmt(msgs.length)} readings in ${s.toFixed(2)} s = ${fmt(rate)}/s`);
  return rate;
}

/** Steady-rate publishing for SECONDS; `onSent` gets each (id, ts=publish wall time). */
async function paced(url: string, label: string, devices: Device[]): Promise<number> {
  const pubs = await connectPublishers(url, label);
  const rng = createRng(SEED).fork(`${label}-paced`);
  const perTick = Math.max(1, Math.round(RATE / 100));
  const end = Date.now() + SECONDS * 1000;
  let i = 0, sent = 0;
  while (Date.now() < end) {
    const tickStart = Date.now();
    for (let k = 0; k < perTick; k++) {
      const d = devices[i++ % devices.length];
      const [lo, hi] = RANGE[d.kind];
      // ts = publish time, so the receiver computes latency from the reading itself (each device reports once per
      // devices/RATE seconds, so (device, ts) stays unique).
      pubs[k % PUBLISHERS].publish(topicFor(d.kind, d.id), Buffer.from(encodeJson({ ts: Date.now(), value: lo + rng.next() * (hi - lo) })), { qos: 1 });
      sent++;
    }
    await sleep(Math.max(0, 10 - (Date.now() - tickStart)));
  }
  await sleep(1000);
  await Promise.all(pubs.map((c) => c.endAsync()));
  return sent;
}

const results: string[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'onemap-telemetry-bench-'));
let server: ChildProcess | undefined, aedes: ChildProcess | undefined;
const mq = { port: await freePort(), dir: join(tmp, 'mq') };
try {
  // ---------------------------------------------------------------------------------------------- our pipeline
  log(`telemetry bench: ${fmt(DEVICES)} devices × ${ROUNDS} rounds, then ${fmt(RATE)}/s for ${SECONDS} s (seed ${SEED})`);
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: join(ROOT, 'geodata/build'), WEB_DIR: join(tmp, 'web'),
    ONEMAP_WARM: '0', ONEMAP_DB_FILE: join(tmp, 'incidents.sqlite'), ONEMAP_TELEMETRY_FILE: join(tmp, 'telemetry.sqlite'),
    // A fresh user store whose demo users get the test password (main.ts's counterpart of TEST_AUTH's demoPassword).
    ONEMAP_USERS_FILE: join(tmp, 'users.sqlite'), ONEMAP_DEMO_PASSWORD: TEST_PASSWORD, ONEMAP_AUDIT_FILE: join(tmp, 'security-audit.sqlite'),
    ONEMAP_EDITS_FILE: join(tmp, 'edits.sqlite') };
  for (const k of ['DATABASE_URL', 'INCIDENT_DATABASE_URL', 'TELEMETRY_DATABASE_URL', 'AUTH_DATABASE_URL', 'AUDIT_DATABASE_URL', 'EDIT_DATABASE_URL', 'MQTT_URL', 'MQTT_PORT']) delete env[k];
  // node --import tsx (not npx): SIGTERM must reach the server itself, which then closes cleanly.
  const started = await spawnAndWait(process.execPath, [...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=.tmp/t4/prof'] : []), '--import', 'tsx', 'tile-server/main.ts'], env, /listening on (http:\/\/\S+)/, 'the server');
  server = started.child;
  const base = started.match;
  const session = { Cookie: (await signIn(base, BENCH_USER)).cookie };
  log(`signed in as ${BENCH_USER}`);
  const stats = async (): Promise<any> => {
    const r = await fetch(`${base}/api/telemetry/stats`, { headers: session });
    if (r.status === 401 || r.status === 403) throw new Error(`GET /api/telemetry/stats as ${BENCH_USER}: ${r.status} ${await r.text()}`);
    return r.ok ? r.json() : null;
  };
  let st: any;
  for (let i = 0; i < 600 && !(st = await stats())?.ingest?.connected; i++) await sleep(100);
  if (!st?.ingest?.connected) throw new Error('telemetry did not start in the server (see its log)');
  const brokerUrl: string = st.broker.url;
  log(`server ${base}, embedded broker ${brokerUrl}, ${fmt(st.engine.devices)} devices loaded`);

  const devicesRes = await fetch(`${base}/api/devices?limit=30000`, { headers: session });
  if (!devicesRes.ok) throw new Error(`GET /api/devices as ${BENCH_USER}: ${devicesRes.status} ${await devicesRes.text()}`);
  const listed: Device[] = (await devicesRes.json()).items
    .filter((d: { layer: string }) => d.layer === 'sensors' || d.layer === 'cameras');
  const rng = createRng(SEED).fork('devices');
  for (let i = listed.length - 1; i > 0; i--) { const j = Math.floor(rng.next() * (i + 1)); [listed[i], listed[j]] = [listed[j], listed[i]]; }
  const devices = listed.slice(0, DEVICES);
  if (devices.length < DEVICES) throw new Error(`only ${devices.length} devices in the built city (need ${DEVICES})`);

  // The WebSocket viewer: the whole city, every kind. Tracks the latest ts per device and publish→receipt latency.
  const ws = new WebSocket(base.replace('http', 'ws') + '/ws', { headers: session });
  const latest = new Map<string, number>();
  let latencies: number[] | null = null;
  let latencyFrom = Infinity;
  let subscribed = false;
  ws.on('message', (data) => {
    const now = Date.now();
    const m = JSON.parse(String(data));
    if (m.type === 'subscribed') subscribed = true;
    if (m.type !== 'telemetry') return;
    for (const d of m.devices) {
      if (d.ts === null) continue;
      latest.set(d.id, d.ts);
      if (latencies && d.ts >= latencyFrom) latencies.push(now - d.ts);
    }
  });
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  ws.send(JSON.stringify({ type: 'subscribe', bbox: [119, 30, 122, 33] }));
  while (!subscribed) await sleep(20);

  const t0 = Date.now() - 3_600_000;
  const msgs = rounds(devices, ROUNDS, t0, 'pipeline');
  const lastTs = t0 + (ROUNDS - 1) * 1000;
  const before = (await stats()).engine;
  const pubs = await connectPublishers(brokerUrl, 'pipeline');
  log(`publishing ${fmt(msgs.length)} readings through the pipeline…`);
  const p0 = performance.now();
  await publishAll(pubs, msgs);
  const pubSec = (performance.now() - p0) / 1000;
  let e: any;
  for (;;) {
    e = (await stats()).engine;
    const stored = e.stored - before.stored, read = e.readings - before.readings;
    const delivered = devices.every((d) => latest.get(d.id) === lastTs);
    if (read >= msgs.length && stored >= msgs.length && e.pendingWrites === 0 && delivered) break;
    if (performance.now() - p0 > 180_000) throw new Error(`pipeline stalled: ${read} read, ${stored} stored, ${[...latest.values()].filter((t) => t === lastTs).length} delivered of ${msgs.length}`);
    await sleep(100); // gentle: each stats call walks the engine's devices
  }
  const pipeSec = (performance.now() - p0) / 1000;
  const pipeRate = msgs.length / pipeSec;
  await Promise.all(pubs.map((c) => c.endAsync()));
  log(`pipeline: ${fmt(msgs.length)} readings published in ${pubSec.toFixed(2)} s, read + stored + on the WebSocket in ${pipeSec.toFixed(2)} s = ${fmt(pipeRate)}/s (store errors ${e.storeErrors})`);

  // Latency at a steady rate.
  latencies = [];
  latencyFrom = Date.now();
  log(`latency: ${fmt(RATE)}/s for ${SECONDS} s through the pipeline…`);
  const sentPipe = await paced(brokerUrl, 'pipeline-paced', devices);
  const lat = latencies.sort((a, b) => a - b);
  latencies = null;
  log(`pipeline latency publish → WebSocket: ${fmt(lat.length)} of ${fmt(sentPipe)} readings seen (the rest coalesced), p50 ${pct(lat, 0.5)} ms, p99 ${pct(lat, 0.99)} ms`);
  ws.close();
  await stopChild(server);
  server = undefined;

  // ---------------------------------------------------------------------------------------------- brokers alone
  const a = await spawnAndWait(process.execPath, ['--import', 'tsx', 'bench/telemetry.bench.ts', '--child-aedes'], process.env, /URL (mqtt:\/\/\S+)/, 'aedes');
  aedes = a.child;
  const aedesRate = await brokerAlone(a.match, 'aedes', msgs);

  // aedes alone, publish → subscriber latency at the same steady rate.
  const sub = await mqtt.connectAsync(a.match, { clientId: `bench-aedes-lat-${process.pid}`, clean: true, reconnectPeriod: 0 });
  await sub.subscribeAsync('onemap/telemetry/#', { qos: 1 });
  const aLat: number[] = [];
  sub.on('message', (_t, payload) => { aLat.push(Date.now() - JSON.parse(payload.toString()).ts); });
  await paced(a.match, 'aedes-paced', devices);
  await sub.endAsync();
  aLat.sort((x, y) => x - y);
  log(`aedes alone latency publish → subscriber: p50 ${pct(aLat, 0.5)} ms, p99 ${pct(aLat, 0.99)} ms`);
  await stopChild(aedes);
  aedes = undefined;

  let mosqRate: number | null = null;
  try {
    const url = await startMosquitto(mq);
    mosqRate = await brokerAlone(url, 'mosquitto', msgs);
  } catch (err) {
    log(`mosquitto skipped: ${(err as Error).message}`);
  }

  const ratio = (x: number, y: number) => `${(x / y).toFixed(2)}x`;
  const note = `${fmt(DEVICES)} devices, QoS 1 JSON, SQLite, WebSocket viewer signed in as ${BENCH_USER} (session cookie on the /ws upgrade); >1 = ours faster (the peer does no rules, storage or WebSocket)`;
  results.push(`BENCH\ttelemetry readings/s: broker → rules → storage → WebSocket\t${fmt(pipeRate)}/s\taedes 1.2 alone (relay to 1 subscriber)\t${fmt(aedesRate)}/s\t${ratio(pipeRate, aedesRate)}\t${note}; aim ≥ 20,000/s`);
  if (mosqRate) results.push(`BENCH\ttelemetry readings/s: broker → rules → storage → WebSocket\t${fmt(pipeRate)}/s\tmosquitto alone (relay to 1 subscriber)\t${fmt(mosqRate)}/s\t${ratio(pipeRate, mosqRate)}\t${note}`);
  results.push(`BENCH\ttelemetry latency p50 publish → WebSocket at ${fmt(RATE)}/s\t${pct(lat, 0.5)} ms\taedes alone publish → subscriber\t${pct(aLat, 0.5)} ms\t${ratio(Math.max(1, pct(aLat, 0.5)), Math.max(1, pct(lat, 0.5)))}\t>1 = ours lower; ours includes the 100 ms frame batching`);
  results.push(`BENCH\ttelemetry latency p99 publish → WebSocket at ${fmt(RATE)}/s\t${pct(lat, 0.99)} ms\taedes alone publish → subscriber\t${pct(aLat, 0.99)} ms\t${ratio(Math.max(1, pct(aLat, 0.99)), Math.max(1, pct(lat, 0.99)))}\t>1 = ours lower; aim p99 < 250 ms`);
} finally {
  if (server) await stopChild(server);
  if (aedes) await stopChild(aedes);
  await stopMosquitto(mq).catch(() => {});
  rmSync(tmp, { recursive: true, force: true });
  log('done');
}
for (const r of results) console.log(r);
// Idle keep-alive sockets of the MQTT/HTTP clients would hold the process open for minutes.
process.exit(0);
