// The telemetry service (issue 7): broker (embedded aedes unless MQTT_URL) → ingest → engine (rules, state,
// storage) → live feed, a tick every 5 s for silence and sub-health, and alarms whose rule names an incident
// category turned into incidents on the operator's board. Nothing here throws into the process after start:
// a broker outage is the ingest's to ride out (backoff), and a failing store or incident service is logged and
// counted, so the tiles, the API and the rest of the product keep running.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { IncidentService } from '../incidents/service.ts';
import type { LiveHub } from '../live-feed.ts';
import type { SpatialStore } from '../storage/spatial-store.ts';
import { TelemetryApi } from './api.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker.ts';
import { openTelemetryEngine, type EngineUpdate, type TelemetryEngine } from './engine.ts';
import { startIngest, type Ingest } from './ingest.ts';
import type { Alarm, Reading } from '../../layers/telemetry/model.ts';
import { openTimeSeriesStore, type TimeSeriesStore } from './timeseries-store.ts';

export const MQTT_WS_PATH = '/mqtt';
export const TICK_MS = 5000;
export const DEFAULT_MQTT_PORT = 1883;
/** Alarms awaiting their incident; past this new ones are logged and skipped (the incident service is down). */
const MAX_PENDING_INCIDENTS = 1000;

export interface TelemetryOptions {
  /** An external broker (mqtt://host:port); null/undefined → the embedded broker on `mqttPort`. */
  mqttUrl?: string | null;
  /** The embedded broker's MQTT/TCP port (0 = any free port). Default 1883. */
  mqttPort?: number;
  /** The ingest's MQTT client id (its persistent session); default 'onemap-ingest'. Two services on one broker need two. */
  clientId?: string;
  /** PostgreSQL for the time series (schema `telemetry`); null → SQLite `file`. */
  databaseUrl?: string | null;
  /** SQLite file (default: the store's, var/telemetry.sqlite or ONEMAP_TELEMETRY_FILE). */
  file?: string;
  /** Silence/sub-health tick; 0 = never (tests call tick()). Default 5 s. */
  tickMs?: number;
}

export interface TelemetryDeps {
  dataDir: string;
  host?: string;
  clock?: () => number;
  live: LiveHub;
  /** Where alarms become incidents; absent or rejecting → alarms stay alarms (logged). */
  incidents?: Promise<IncidentService>;
  spatial?: SpatialStore | null;
  log?: (m: string) => void;
}

export interface TelemetryCounters {
  batches: number; readings: number; alarmsRaised: number; incidentsOpened: number; incidentErrors: number; lastBatchAt: number | null;
}

export interface TelemetryService {
  engine: TelemetryEngine;
  /** The readings and alarms (the purge service applies their retention rules to it, issue 10). */
  store: TimeSeriesStore;
  api: TelemetryApi;
  /** The broker the ingest uses (the embedded one's mqtt://127.0.0.1:port, or MQTT_URL). */
  brokerUrl: string;
  broker: EmbeddedBroker | null;
  ingest: Ingest;
  /** For the HTTP server's upgrade event on /mqtt; false when there is no embedded broker to take it. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Runs the silence/sub-health check now (tests; the timer calls it every tickMs). */
  tick(now?: number): Promise<void>;
  /** Waits until readings handed over so far are stored and their alarms' incidents opened. */
  settle(): Promise<void>;
  counters(): TelemetryCounters;
  close(): Promise<void>;
}

export async function startTelemetry(opts: TelemetryOptions, deps: TelemetryDeps): Promise<TelemetryService> {
  const log = deps.log ?? ((m: string) => console.error(`[telemetry] ${m}`));
  const clock = deps.clock ?? Date.now;
  const store: TimeSeriesStore = await openTimeSeriesStore({ databaseUrl: opts.databaseUrl ?? null, file: opts.file });
  let engine: TelemetryEngine;
  try {
    const spatial = deps.spatial;
    engine = await openTelemetryEngine({
      dataDir: deps.dataDir, store, clock, log,
      ...(spatial ? { adminAt: (lon: number, lat: number) => spatial.adminAt(lon, lat) } : {}),
    });
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  let broker: EmbeddedBroker | null = null;
  if (!opts.mqttUrl) {
    try {
      broker = await startEmbeddedBroker({ host: deps.host ?? '127.0.0.1', port: opts.mqttPort ?? DEFAULT_MQTT_PORT });
    } catch (err) {
      await engine.close().catch(() => {});
      await store.close().catch(() => {});
      throw err;
    }
  }
  const brokerUrl = opts.mqttUrl || broker!.url;
  const c: TelemetryCounters = { batches: 0, readings: 0, alarmsRaised: 0, incidentsOpened: 0, incidentErrors: 0, lastBatchAt: null };
  // The engine writes on its own timer (a transaction per flush); this is for settle() and close(). Failures are
  // counted in engine.stats() (storeErrors) and logged by the engine.
  const flush = () => engine.flush().catch(() => {});

  // Alarm → incident. The idempotency key makes a retried or repeated alarm land on the same incident.
  const opening = new Map<string, Promise<void>>();
  const openIncident = (a: Alarm): void => {
    if (!deps.incidents || a.status !== 'active' || a.incidentId || opening.has(a.id)) return;
    const rule = engine.rules().find((r) => r.id === a.ruleId);
    const category = rule?.incidentCategory;
    if (!category) return;
    if (opening.size >= MAX_PENDING_INCIDENTS) { c.incidentErrors++; return; }
    const device = engine.device(a.deviceId);
    const title = `${rule.name}：${device?.name ?? a.deviceId}`.slice(0, 100);
    const description = `${a.message}（设备 ${a.deviceId}，规则 ${a.ruleId}，告警 ${a.id}）`.slice(0, 2000);
    const p = deps.incidents
      .then((svc) => svc.create(
        { lon: a.lon, lat: a.lat, category, title, description, source: a.kind === 'camera' ? 'camera' : 'sensor', severity: incidentSeverity(a.severity) },
        { id: 'rules', role: 'system', name: '物联告警规则' },
        { idempotencyKey: `alarm-${a.id}` },
      ))
      .then(async ({ incident, created }) => {
        if (created) c.incidentsOpened++;
        // Recorded on the engine's alarm (and so in the store) and pushed to the feed.
        const linked = engine.linkIncident(a.id, incident.id);
        if (linked) deps.live.telemetry([], [linked]);
      })
      .catch((err: Error) => {
        c.incidentErrors++;
        log(`告警转事件失败 alarm ${a.id} → incident failed: ${err.message}`);
      })
      .finally(() => { opening.delete(a.id); });
    opening.set(a.id, p);
  };

  const publish = (u: EngineUpdate) => {
    if (u.devices.length || u.alarms.length) deps.live.telemetry(u.devices, u.alarms);
    for (const a of u.alarms) {
      if (a.status === 'active' && a.repeats === 0) c.alarmsRaised++;
      openIncident(a);
    }
  };

  const onReadings = (batch: Reading[]) => {
    const u = engine.ingest(batch);
    c.batches++;
    c.readings += batch.length;
    c.lastBatchAt = clock();
    publish(u);
  };

  const ingest = startIngest({ url: brokerUrl, clientId: opts.clientId, onReadings, log, clock });
  deps.live.setTelemetrySnapshot((sub) => engine.devices({ bbox: sub.bbox }));

  const tick = async (now = clock()) => {
    try {
      publish(engine.tick(now));
    } catch (err) {
      log(`巡检失败 telemetry tick failed: ${(err as Error).message}`);
    }
    await flush();
  };
  const every = opts.tickMs ?? TICK_MS;
  const timer = every > 0 ? setInterval(() => void tick(), every) : undefined;
  timer?.unref();

  const api = new TelemetryApi({
    engine, clock,
    stats: () => ({
      broker: { kind: broker ? 'embedded' : 'external', url: brokerUrl, websocketPath: broker ? MQTT_WS_PATH : null },
      ingest: ingest.stats(),
      engine: engine.stats(),
      service: { ...c, pendingIncidents: opening.size },
      feed: { clients: deps.live.size, ...deps.live.telemetryStats() },
    }),
  });

  let closing: Promise<void> | undefined;
  return {
    engine, api, brokerUrl, broker, ingest, store,
    upgrade(req, socket, head) {
      if (!broker) return false;
      broker.handleUpgrade(req, socket, head);
      return true;
    },
    tick,
    async settle() {
      await flush();
      await Promise.all(opening.values());
      await flush();
    },
    counters: () => ({ ...c }),
    close: () => (closing ??= (async () => {
      if (timer) clearInterval(timer);
      deps.live.setTelemetrySnapshot(null);
      await ingest.close().catch(() => {}); // hands over the last batch
      await Promise.all(opening.values());
      await flush();
      await broker?.close().catch(() => {});
      await engine.close().catch((e: Error) => log(`关闭失败 engine close failed: ${e.message}`));
      await store.close().catch(() => {});
    })()),
  };
}

/** Alarm levels count 一级 (1) as the most severe; incident severity counts 4 as critical. */
export function incidentSeverity(alarmLevel: 1 | 2 | 3 | 4): 1 | 2 | 3 | 4 {
  return (5 - alarmLevel) as 1 | 2 | 3 | 4;
}
