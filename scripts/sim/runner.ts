// The simulator loop: every tick (50 ms) a share of the devices report (round robin, so each reports once per
// interval), patrols move on, and the tick's packets go to the broker in one socket write. QoS 0 packets are
// written by wire.ts straight to the mqtt.js connection's stream (mqtt.js still owns CONNECT, keepalive and
// reconnects); QoS 1 goes through mqtt.js publish (it needs packet ids and acks).
import mqtt, { type MqttClient } from 'mqtt';
import { createTransformer } from '../../layers/crs.ts';
import { EdgeIndex } from '../../layers/routing/snap.ts';
import { topicFor } from '../../layers/telemetry/model.ts';
import { encodeBinary, encodeJson } from '../../tile-server/telemetry/payload.ts';
import { createRng } from '../data/rng.ts';
import type { SimWorld } from './devices.ts';
import { planEvents, type EventSpec, type PlannedEvent } from './events.ts';
import { PatrolFleet } from './patrol.ts';
import { makeProfiles, rainRate, readingValue, recentRain, roundFor } from './patterns.ts';
import { encodeTopic, maxPacketBytes, writePublish } from './wire.ts';

export interface SimOptions {
  url: string;
  seed: number;
  /** Total readings/s of sensors and cameras (overrides intervalS when set). */
  rate?: number | null;
  /** Seconds between two readings of one sensor or camera (default 10). */
  intervalS?: number;
  /** Seconds between two positions of one patrol unit (default 5). */
  patrolIntervalS?: number;
  /** Stop after this many seconds (default: run until stop()). */
  durationS?: number | null;
  qos?: 0 | 1;
  binary?: boolean;
  events?: EventSpec[];
  /** Progress line every this many seconds (0 = none). */
  statsEveryS?: number;
  log?: (line: string) => void;
  clientId?: string;
}

export interface SimStats {
  connected: boolean;
  /** Readings published since start, and over the last progress period per second. */
  published: number;
  ratePerS: number;
  /** Readings not sent: the broker connection was down or its socket was backed up (QoS 0 is fire-and-forget). */
  skipped: number;
  errors: number;
  reconnects: number;
  lastError: string | null;
  /** Readings by group. */
  sensors: number;
  cameras: number;
  patrols: number;
}

export interface Simulation {
  stats(): SimStats;
  events: PlannedEvent[];
  /** Resolves when the run ends (duration reached or stop()). */
  done: Promise<SimStats>;
  stop(): Promise<SimStats>;
}

const TICK_MS = 50;
/** QoS 0 back-pressure: beyond this many bytes queued in the socket, a tick's readings are skipped, not queued. */
const MAX_QUEUED_BYTES = 8 << 20;

export function startSimulation(world: SimWorld, opts: SimOptions): Simulation {
  const log = opts.log ?? ((l: string) => console.log(l));
  const qos = opts.qos ?? 0, binary = opts.binary ?? false;
  const start = Date.now();
  const horizonS = opts.durationS ?? 3600;
  const { devices, patrols, graph } = world;
  const n = devices.length;
  const intervalS = opts.rate ? n / opts.rate : (opts.intervalS ?? 10);
  const patrolIntervalS = opts.patrolIntervalS ?? 5;
  const profiles = makeProfiles(devices, opts.seed, horizonS);
  const rng = createRng(opts.seed).fork('sim-run');
  // round-robin order shuffled once, so one tick's readings are spread over the city, not one file block
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) { const j = Math.floor(rng.next() * (i + 1)); const t = order[i]; order[i] = order[j]; order[j] = t; }
  const topics = devices.map((d) => encodeTopic(topicFor(d.kind, d.id)));
  const patrolTopics = patrols.map((d) => encodeTopic(topicFor('patrol', d.id)));
  const topicStr = (i: number): string => topicFor(devices[i].kind, devices[i].id);
  let maxPacket = 0;
  for (const t of [...topics, ...patrolTopics]) maxPacket = Math.max(maxPacket, maxPacketBytes(t));

  let rainNow = 0, rainMm = 0, rainAt = -Infinity;
  const normal = (i: number, t: number): number => readingValue(profiles[i], i, t, start, opts.seed, rainNow, rainMm) ?? 0;
  const { events, effect } = planEvents(opts.events ?? [], world.gazetteer, devices, start, normal);
  for (const e of events) {
    const parts = [...e.affected].map(([k, ids]) => `${k} ${ids.length}`).join(', ');
    log(`事件 ${e.spec.type.id}（${e.spec.type.title}）@ ${e.place.name} [${e.place.source}] +${e.spec.atS}s: ${parts}`);
  }

  const toWgs = createTransformer('EPSG:4549', 'EPSG:4326');
  const toGk = createTransformer('EPSG:4326', 'EPSG:4549');
  const fleet = new PatrolFleet(graph, rng.fork('patrols'));
  const index = new EdgeIndex(graph);
  const fleetIds: number[] = [];
  patrols.forEach((p, i) => { const [x, y] = toGk(p.lon, p.lat); if (fleet.add(index, x, y)) fleetIds.push(i); });

  const st: SimStats = { connected: false, published: 0, ratePerS: 0, skipped: 0, errors: 0, reconnects: 0, lastError: null, sensors: 0, cameras: 0, patrols: 0 };
  const client: MqttClient = mqtt.connect(opts.url, {
    clientId: opts.clientId ?? `onemap-sim-${process.pid}-${opts.seed}`, clean: true, reconnectPeriod: 1000, connectTimeout: 5000,
    keepalive: 30,
  });
  client.on('connect', () => { st.connected = true; });
  client.on('reconnect', () => { st.reconnects++; });
  client.on('close', () => { st.connected = false; });
  client.on('offline', () => { st.connected = false; });
  client.on('error', (e) => { st.errors++; st.lastError = e.message; });

  let cursor = 0, acc = 0, patrolCursor = 0, patrolAcc = 0, last = Date.now();
  let lastStatsAt = last, lastStatsCount = 0;
  let timer: NodeJS.Timeout | null = null, statsTimer: NodeJS.Timeout | null = null;
  let resolveDone!: (s: SimStats) => void;
  const done = new Promise<SimStats>((r) => { resolveDone = r; });

  function tick(): void {
    const now = Date.now();
    const dt = Math.min(1, (now - last) / 1000); // a stalled loop (GC, laptop sleep) does not burst hours of readings
    last = now;
    if (now - rainAt >= 1000) { rainNow = rainRate(opts.seed, now); rainMm = recentRain(opts.seed, now); rainAt = now; }
    fleet.advance(dt);
    acc += (n * dt) / intervalS;
    const count = Math.min(n, Math.floor(acc));
    acc -= count;
    patrolAcc += (fleetIds.length * dt) / patrolIntervalS;
    const pCount = Math.min(fleetIds.length, Math.floor(patrolAcc));
    patrolAcc -= pCount;
    if (!st.connected) { st.skipped += count + pCount; return; }
    const stream = (client as unknown as { stream?: { writableLength?: number; write(b: Buffer): boolean } }).stream;
    if (qos === 0 && stream && (stream.writableLength ?? 0) > MAX_QUEUED_BYTES) { st.skipped += count + pCount; return; }
    const buf = qos === 0 ? Buffer.allocUnsafe((count + pCount) * maxPacket) : null;
    let off = 0;
    const send = (topicBytes: Buffer, topic: () => string, ts: number, value: number, lon?: number, lat?: number): void => {
      if (buf) { off = writePublish(buf, off, topicBytes, binary, ts, value, lon, lat); return; }
      const body = lon === undefined ? { ts, value } : { ts, value, lon, lat };
      client.publish(topic(), Buffer.from(binary ? encodeBinary(body) : encodeJson(body)), { qos: 1 }, (err) => {
        if (err) { st.errors++; st.lastError = err.message; }
      });
    };
    for (let k = 0; k < count; k++) {
      const i = order[cursor];
      cursor = cursor + 1 === n ? 0 : cursor + 1;
      const v = readingValue(profiles[i], i, now, start, opts.seed, rainNow, rainMm);
      if (v === null) continue; // silent device (fault)
      send(topics[i], () => topicStr(i), now, roundFor(devices[i].kind, v + effect(i, now)));
      if (devices[i].kind === 'camera') st.cameras++; else st.sensors++;
      st.published++;
    }
    for (let k = 0; k < pCount; k++) {
      const u = patrolCursor;
      patrolCursor = patrolCursor + 1 === fleetIds.length ? 0 : patrolCursor + 1;
      const [x, y] = fleet.position(u);
      const [lon, lat] = toWgs(x, y);
      const id = fleetIds[u];
      send(patrolTopics[id], () => topicFor('patrol', patrols[id].id), now, Math.round(fleet.units[u].speed * 10) / 10,
        Math.round(lon * 1e7) / 1e7, Math.round(lat * 1e7) / 1e7);
      st.patrols++;
      st.published++;
    }
    if (buf && off > 0 && stream) stream.write(buf.subarray(0, off));
  }

  function progress(): void {
    const now = Date.now();
    st.ratePerS = Math.round(((st.published - lastStatsCount) * 1000) / Math.max(1, now - lastStatsAt));
    lastStatsAt = now; lastStatsCount = st.published;
    log(`[${Math.round((now - start) / 1000)}s] ${st.ratePerS} 条/s · 已发 ${st.published}（传感器 ${st.sensors} 摄像机 ${st.cameras} 巡逻 ${st.patrols}）· ` +
      `${st.connected ? '已连接' : '未连接'} · 跳过 ${st.skipped} · 错误 ${st.errors}${st.lastError ? `（${st.lastError}）` : ''} · 重连 ${st.reconnects}`);
  }

  let stopping: Promise<SimStats> | null = null;
  async function stop(): Promise<SimStats> {
    if (stopping) return stopping;
    stopping = (async () => {
      if (timer) clearInterval(timer);
      if (statsTimer) clearInterval(statsTimer);
      if (opts.statsEveryS) progress();
      // give queued QoS 0 bytes / QoS 1 acks a moment, then close (never hang on a dead broker)
      await Promise.race([client.endAsync(false), new Promise((r) => setTimeout(r, 2000))]);
      client.end(true);
      resolveDone(st);
      return st;
    })();
    return stopping;
  }

  timer = setInterval(() => {
    try { tick(); } catch (e) { st.errors++; st.lastError = (e as Error).message; }
    if (opts.durationS != null && Date.now() - start >= opts.durationS * 1000) void stop();
  }, TICK_MS);
  if (opts.statsEveryS) statsTimer = setInterval(progress, opts.statsEveryS * 1000);
  return { stats: () => ({ ...st }), events, done, stop };
}
