// The one Node service (contracts.md item 7): tiles, archives, features (OGC API – Features), health and
// the web app, on plain node:http in one process.
import type { Duplex } from 'node:stream';
import { ruleFor } from './auth/policy.ts';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { CITY, TILESETS } from '../layers/catalog.ts';
import { AddressApi } from './address-api.ts';
import { openFeatureLayers } from './feature-store.ts';
import { PmtilesArchive } from './pmtiles-source.ts';
import { QueryApi } from './query-api.ts';
import { createHandler } from './router.ts';
import { IncidentApi } from './incidents/api.ts';
import { openDispatcher } from './incidents/dispatcher.ts';
import { openIncidentStore, type IncidentStore } from './incidents/incident-store.ts';
import { IncidentService } from './incidents/service.ts';
import { LiveHub } from './live-feed.ts';
import { openEmbeddedStore } from './storage/embedded-store.ts';
import type { SpatialStore } from './storage/spatial-store.ts';
import { statFile } from './static.ts';
import type { FgbFile } from '../layers/formats/flatgeobuf.ts';
import { TileService } from './tile-route.ts';
import { AuthService, type AuthOptions, type DemoGrid } from './auth/auth-service.ts';
import { openUserStore } from './auth/user-store.ts';
import type { FeatureLayer } from './feature-store.ts';
import { CatalogApi } from './catalog-api.ts';
import { SharingApi } from './sharing/api.ts';
import { SharingService } from './sharing/service.ts';
import { WallApi } from './wall-api.ts';
import { openIndicators } from './indicators/open.ts';
import type { IndicatorService } from './indicators/service.ts';
import { openLifecycle } from './lifecycle/open-lifecycle.ts';
import { openPatrolStore, PatrolApi } from './patrol.ts';
import { actorOf } from './auth/request-actor.ts';
import { openSecurityAudit, SecurityAudit, type NewSecurityEvent } from './auth/audit.ts';
import { EffectiveLayers } from './editing/effective.ts';
import { awaitingWrites, openEditing, SpatialEditQueue, type Editing } from './editing/open-editing.ts';
import { TileOverlay } from './editing/tile-overlay.ts';
import type { EditService } from './editing/service.ts';
import type { ImportApi } from './editing/import-api.ts';
import type { PublishApi } from './geoserver/publish-api.ts';
import { DEFAULT_MQTT_PORT, MQTT_WS_PATH, startTelemetry, type TelemetryOptions, type TelemetryService } from './telemetry/service.ts';

export interface ServerOptions {
  dataDir: string; webDir?: string; host?: string; port?: number /* 0 = any free port */;
  /** Build the address index right after listening, so the first search does not wait ~10 s (npm start does; tests don't). */
  warmAddressIndex?: boolean;
  /**
   * The spatial store behind /api/lookup, /api/query, /api/hotspots: a PostgreSQL URL → PostGIS
   * (tile-server/storage/postgis-store.ts); null → the embedded engine. Undefined → DATABASE_URL from the
   * environment, else embedded.
   */
  databaseUrl?: string | null;
  /** The incidents' clock (ms since epoch); tests pass a controllable one. Default Date.now. */
  clock?: () => number;
  /** PostgreSQL for incidents when it should differ from `databaseUrl` (undefined → INCIDENT_DATABASE_URL from the
   *  environment, else `databaseUrl`); null → the SQLite file even when the spatial store is PostGIS. */
  incidentDatabaseUrl?: string | null;
  /** SQLite file for incidents when there is no database URL (default: ONEMAP_DB_FILE, else var/onemap.sqlite). */
  incidentDbFile?: string;
  /** How often the overdue sweeper (督办/escalation) runs; 0 = never (tests call service.sweep()). Default 60 s. */
  sweepIntervalMs?: number;
  /**
   * Telemetry (issue 7); false = off. Defaults: the external broker MQTT_URL, else the embedded one on MQTT_PORT
   * (unset: 1883, or 0 when `port` is 0, so test servers never fight over 1883); the time series in TELEMETRY_DATABASE_URL,
   * else the incidents' PostgreSQL URL, else telemetry.sqlite beside `incidentDbFile` when that is given (so a
   * test's temp directory holds both), else ONEMAP_TELEMETRY_FILE or var/telemetry.sqlite.
   */
  telemetry?: false | TelemetryOptions;
  /** SQLite file of the edit store when there is no edit database URL (default: edits.sqlite beside
   *  `incidentDbFile` when that is given, else ONEMAP_EDITS_FILE or var/edits.sqlite). */
  editDbFile?: string;
  /** PostgreSQL for the edit store (undefined → EDIT_DATABASE_URL, else `databaseUrl`); null → the SQLite file. */
  editDatabaseUrl?: string | null;
  /** How often commits made by other processes (npm run import) are picked up; 0 = never. Default 2 s. */
  editSyncIntervalMs?: number;
  /** The demo users' password at first start (tests); default ONEMAP_DEMO_PASSWORD, else one generated and printed once. */
  demoPassword?: string;
  /** SQLite file of users and sessions (default: users.sqlite beside `incidentDbFile` when given, else ONEMAP_USERS_FILE or
   *  var/users.sqlite; with `demoPassword` and neither this nor `userDatabaseUrl`: in memory, so each test server starts fresh). */
  userDbFile?: string;
  /** PostgreSQL for users (schema auth); undefined → AUTH_DATABASE_URL, else the incidents' URL; null → the SQLite file. */
  userDatabaseUrl?: string | null;
  /** Session and rate-limit settings (tests: a short idle time, a controllable clock, more sign-ins per minute). */
  auth?: AuthOptions;
  /** SQLite file of the sharing requests and grant usage (issue 10) when there is no sharing database URL (default:
   *  sharing.sqlite beside `incidentDbFile` when given, else ONEMAP_SHARING_FILE or var/sharing.sqlite; with `demoPassword`
   *  and neither this nor `sharingDatabaseUrl`: in memory, like the users it refers to). */
  sharingDbFile?: string;
  /** PostgreSQL for sharing (schema sharing); undefined → SHARING_DATABASE_URL, else the incidents' URL; null → the SQLite file. */
  sharingDatabaseUrl?: string | null;
  /** How often the city indicators are computed (issue 10, tile-server/indicators); 0 = never, and then none at start
   *  either (tests call POST /api/indicators/compute). Default 15 min, plus one computation right after start. */
  indicatorIntervalMs?: number;
  /** SQLite file of the indicator store (default: indicators.sqlite beside `incidentDbFile`, else ONEMAP_INDICATORS_FILE or var/indicators.sqlite). */
  indicatorDbFile?: string;
  /** PostgreSQL for the indicators (schema indicators); undefined → INDICATOR_DATABASE_URL, else the incidents' URL; null → the SQLite file. */
  indicatorDatabaseUrl?: string | null;
  /** Retention (issue 10, tile-server/lifecycle): how often the purge runs, ms; it also runs once at start. 0 = never
   *  (neither; tests call POST /api/lifecycle/purge). Default 24 h. */
  purgeIntervalMs?: number;
}
export interface RunningServer {
  url: string; port: number; close(): Promise<void>;
  /** The incident service once open (tests drive the sweeper through it); rejects when incidents are unavailable. */
  incidents: Promise<IncidentService>;
  /** The telemetry service once started; rejects when it is off or could not start. */
  telemetry: Promise<TelemetryService>;
  /** The edit service once the stored edits are replayed; rejects when editing is unavailable. */
  editing: Promise<EditService>;
  /** The indicator engine once its store is open; rejects when unavailable. */
  indicators: Promise<IndicatorService>;
  /** The sharing service (grants, requests); null when its store did not open (then nobody holds a grant). */
  sharing: SharingService | null;
}

/**
 * Opens the tilesets (`{dataDir}/{basemap,overlay}.pmtiles`) and catalog layers (`{dataDir}/{layer}.fgb`)
 * that exist, and listens. Missing data is not an error here — /healthz lists what is served — so the
 * process entry decides how loudly to complain. A corrupt archive is an error (its message says to rebuild).
 */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const archives = new Map<string, PmtilesArchive>();
  for (const name of TILESETS) {
    const path = join(opts.dataDir, `${name}.pmtiles`);
    if (await statFile(path)) archives.set(name, await PmtilesArchive.open(path));
  }
  const layers = await openFeatureLayers(opts.dataDir);
  const log = (msg: string) => console.error(`[tile-server] ${msg}`);
  const databaseUrl = opts.databaseUrl === undefined ? process.env.DATABASE_URL || null : opts.databaseUrl;
  // Edits (issue 8) laid over the built data for every reader: feature API, /data, tiles, spatial queries.
  const effective = new EffectiveLayers(opts.dataDir, layers);
  for (const l of layers.values()) l.attach(effective);
  const spatial = await openStore(opts.dataDir, databaseUrl, log, (id) => effective.file(id));
  const writes = new SpatialEditQueue(spatial, log);
  const store = spatial && awaitingWrites(spatial, () => writes.settled());
  // The security audit (sign-ins, unmasking, personal data seen): beside the incidents, like the users (issue 9).
  const incidentUrlForAudit = opts.incidentDatabaseUrl === undefined ? process.env.INCIDENT_DATABASE_URL || databaseUrl : opts.incidentDatabaseUrl;
  const security = new SecurityAudit(openSecurityAudit({
    databaseUrl: process.env.AUDIT_DATABASE_URL || incidentUrlForAudit,
    file: opts.incidentDbFile ? join(dirname(opts.incidentDbFile), 'security-audit.sqlite') : undefined,
  }), log);
  const address = new AddressApi(opts.dataDir, log, security);
  const live = new LiveHub(log);
  const clock = opts.clock ?? Date.now;
  const incidents = openIncidents(opts, databaseUrl, store, address, live, clock, log);
  // Derived promises get their own handler: an unhandled rejection would end the process (Node's default).
  const incidentApi = incidents.then((i) => i.api);
  const incidentService = incidents.then((i) => i.service);
  incidentApi.catch(() => {}); // reported below, and per request (503)
  incidentService.catch(() => {}); // telemetry then keeps alarms as alarms
  const telemetry = openTelemetry(opts, databaseUrl, store, live, incidentService, clock, log);
  telemetry.catch((e: Error) => log(`物联服务不可用 telemetry unavailable: ${e.message}`));
  const telemetryApi = telemetry.then((t) => t.api);
  telemetryApi.catch(() => {});
  const tiles = new TileService(archives);
  tiles.setPatcher(new TileOverlay(effective));
  const editUrl = opts.editDatabaseUrl === undefined ? process.env.EDIT_DATABASE_URL || databaseUrl : opts.editDatabaseUrl;
  // Replayed before listening: a restarted server must not serve the built data as if nothing was edited.
  const editing: Promise<Editing> = openEditing({
    effective, writes, tiles, live, clock, log, databaseUrl: editUrl,
    file: opts.editDbFile ?? (opts.incidentDbFile ? join(dirname(opts.incidentDbFile), 'edits.sqlite') : undefined),
    syncIntervalMs: opts.editSyncIntervalMs,
  });
  editing.catch((e: Error) => log(`编辑服务不可用 editing unavailable: ${e.message}`));
  await editing.catch(() => {});
  const editService = editing.then((e) => e.service);
  editService.catch(() => {});
  const editApi = editing.then((e) => e.api);
  editApi.catch(() => {});
  // Import and publish load with editing; each answers 503 on its own when unavailable.
  const imports: Promise<ImportApi> = editing.then(async (e) => {
    const { ImportApi, geocoderFromAddressApi } = await import('./editing/import-api.ts');
    // Only confident matches (score ≥ 0.7): a weak best match would put a CSV row in the wrong place.
    return new ImportApi({ service: e.service, view: effective, geocode: geocoderFromAddressApi(address) });
  });
  imports.catch((e: Error) => log(`导入不可用 import unavailable: ${e.message}`));
  const publish: Promise<PublishApi> = import('./geoserver/publish-api.ts').then(({ PublishApi }) => new PublishApi({ view: effective }));
  publish.catch((e: Error) => log(`发布不可用 publish unavailable: ${e.message}`));
  // The command-centre wall: indicators (pushed on /ws every 5 s) and the operator's commands (issue 9).
  const wall = new WallApi({ dataDir: opts.dataDir, incidents: incidentService, telemetry, live, clock, log });
  const auth = await openAuth(opts, databaseUrl, layers, log, (e) => security.record(e));
  // Signing out or changing a user closes their live sockets: the feed's filters were chosen for the old rights.
  auth.onSessionsEnded((e) => live.closeSessions(e));
  // Sharing (issue 10): grants for graded layers, answered from memory on every request. A store that does not open
  // leaves the routes 503 and nobody with a grant (fail closed), the rest of the server up.
  const sharing = await openSharing(opts, databaseUrl, clock, log, (e) => security.record(e));
  // The live feed sends layer events and responder positions by layer access, judged per message with these grants (H2).
  live.setAccess(sharing, clock);
  sharing?.onChange((usernames) => live.accessChanged(usernames));
  // Patrol check-ins (issue 9, the phone): beside the incidents — patrols.sqlite next to their file, or schema `patrol` in their PostgreSQL.
  const patrolStore = openPatrolStore({
    databaseUrl: opts.incidentDatabaseUrl === undefined ? process.env.INCIDENT_DATABASE_URL || databaseUrl : opts.incidentDatabaseUrl,
    incidentDbFile: opts.incidentDbFile,
  });
  patrolStore.catch((e: Error) => log(`巡查签到不可用 patrols unavailable: ${e.message}`));
  const patrols = patrolStore.then((store) => new PatrolApi({ store, clock, actorOf }));
  patrols.catch(() => {});
  // The city indicator system (issue 10): definitions and the time series beside the incidents, computed on a schedule.
  const indicators = openIndicators({
    dataDir: opts.dataDir,
    databaseUrl: opts.indicatorDatabaseUrl === undefined ? process.env.INDICATOR_DATABASE_URL || incidentUrlForAudit : opts.indicatorDatabaseUrl,
    incidentDbFile: opts.incidentDbFile, file: opts.indicatorDbFile,
    incidents: incidentService, telemetry, patrols: patrolStore,
    layerFile: async (id) => {
      const l = layers.get(id);
      if (!l) throw new Error(`图层 ${id} 未构建 layer ${id} is not built (npm run data)`);
      return l.open();
    },
    clock, log: (m) => log(`[indicators] ${m}`), intervalMs: opts.indicatorIntervalMs,
  });
  indicators.catch((e: Error) => log(`城市运行指标不可用 indicators unavailable: ${e.message}`));
  const indicatorApi = indicators.then((i) => i.api);
  indicatorApi.catch(() => {});
  const indicatorService = indicators.then((i) => i.service);
  indicatorService.catch(() => {});
  // Retention (issue 10): every rule's store, purged at start and daily; each run recorded in the security audit.
  const lifecycle = openLifecycle({
    clock, security, log, intervalMs: opts.purgeIntervalMs,
    sources: {
      telemetry: () => telemetry.then((t) => t.store),
      incidents: () => incidents.then((i) => i.store),
      patrols: () => patrolStore,
      sessions: async () => ({ store: auth.store, idleMs: auth.idleMs, clock: auth.clock }),
      audit: async () => security,
      ...(sharing ? { sharingUsage: async () => sharing.store } : {}),
    },
  });
  const ctx = {
    auth,
    patrols,
    indicators: indicatorApi,
    tiles,
    wall,
    editing: editApi,
    imports,
    publish,
    // Built lazily on the first /api/address request (see address-api.ts for why not at start).
    address,
    query: store ? new QueryApi(store, address, security) : undefined,
    audit: { security, edits: () => editService },
    lifecycle: lifecycle.api,
    sharing: sharing ?? undefined,
    clock,
    sharingApi: sharing ? new SharingApi({ service: sharing, areaExists: areaCodes(layers) }) : undefined,
    // The data resource catalog (issue 10): metadata of every layer, lineage from the edit audit, quality in the background.
    catalog: new CatalogApi({
      dataDir: opts.dataDir, layers, edits: () => editService, clock, log,
      // Realtime layers are as fresh as the live systems behind them, not as their built files.
      activity: {
        sensors: () => telemetry.then((t) => t.counters().lastBatchAt),
        incidents: () => incidentService.then(async (s) => (await s.list({ limit: 1 })).items[0]?.updatedAt ?? null),
      },
    }),
    incidents: incidentApi,
    telemetry: telemetryApi,
    layers,
    dataDir: opts.dataDir,
    webDir: opts.webDir ?? 'dist/web',
    startedAt: Date.now(),
    fallbackOrigin: '',
    log,
  };
  // A failure is reported per request (503 incidents_unavailable) and here once.
  incidents.catch((e: Error) => log(`事件服务不可用 incidents unavailable: ${e.message}`));
  const server = createServer({ keepAliveTimeout: 65_000 }, createHandler(ctx));
  let telemetryReady: TelemetryService | null = null;
  telemetry.then((t) => { telemetryReady = t; }, () => {});
  server.on('upgrade', (req, socket, head) => {
    // MQTT over WebSocket goes to the embedded broker, the rest to the live feed; both need a session. The broker's
    // WebSocket path may publish readings (which raise alarms), so only the roles its policy rule names get it;
    // devices of a real city publish to their own broker with its credentials (MQTT_URL).
    const isMqtt = (req.url ?? '').split('?')[0] === MQTT_WS_PATH;
    auth.resolve(req).then(
      ({ actor, session }) => {
        if (isMqtt) {
          const rule = ruleFor('GET', MQTT_WS_PATH);
          const roles = rule && Array.isArray(rule.roles) ? rule.roles : [];
          if (!(roles as string[]).includes(actor.role)) return refuseUpgrade(socket, '403 Forbidden', 'forbidden', 'MQTT over WebSocket is for operators and admins; devices publish to the broker directly.');
          if (!telemetryReady?.upgrade(req, socket, head)) refuseUpgrade(socket, '503 Service Unavailable', 'telemetry_unavailable', '物联服务暂不可用。Telemetry is unavailable.');
          return;
        }
        live.upgrade(req, socket, head, actor, session);
      },
      (err: { status?: number; code?: string; message?: string }) => {
        const body = JSON.stringify({ error: { code: err.code ?? 'not_signed_in', message: err.message ?? 'sign in first' } });
        if (socket.writable) socket.end(`HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
        else socket.destroy();
      },
    );
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // Requests node's parser refuses (header block > 16 KiB, malformed request line) never reach the handler.
    if (!socket.writable) return socket.destroy();
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
    const body = JSON.stringify({ error: tooLarge
      ? { code: 'headers_too_large', message: '请求头或地址过长。Request headers or URL too long.' }
      : { code: 'bad_request', message: '无法解析的 HTTP 请求。Malformed HTTP request.' } });
    socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  try {
    await listen(server, opts.port ?? 8080, host);
  } catch (err) {
    await lifecycle.service.close();
    wall.close();
    live.close();
    await indicators.then((i) => i.service.close(), () => {});
    await patrolStore.then((p) => p.close(), () => {});
    await telemetry.then((t) => t.close(), () => {});
    await incidents.then((i) => i.close(), () => {});
    await editing.then((e) => e.close(), () => {});
    await store?.close().catch(() => {});
    await sharing?.close().catch(() => {});
    await auth.close().catch(() => {});
    await security.close().catch(() => {});
    throw err;
  }
  if (lifecycle.service.intervalMs > 0) lifecycle.service.start();
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  ctx.fallbackOrigin = url;
  if (opts.warmAddressIndex) {
    ctx.address.warm().then(
      () => log('地址索引已就绪 address index ready'),
      (e: Error) => log(`地址索引构建失败 address index failed: ${e.message}`),
    );
    if (store?.warm) {
      // The lookup's indexes (admin units, addresses, cameras, …) and one lookup to prime the rest (camera
      // range, incident time range), so the first click in the product is instant.
      const t0 = performance.now();
      const query = ctx.query;
      store.warm()
        .then(() => query?.lookupAt(CITY.center[0], CITY.center[1]))
        .then(
          () => log(`空间查询索引已就绪 spatial store (${store.kind}) warm in ${Math.round(performance.now() - t0)} ms`),
          (e: Error) => log(`空间查询预热失败 spatial store warm-up failed: ${e.message}`),
        );
    }
  }
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    incidents: incidentService,
    telemetry,
    editing: editService,
    sharing,
    indicators: indicatorService,
    close: () => (closing ??= (async () => {
      await lifecycle.service.close(); // a purge in progress finishes before its stores close
      // Telemetry first: its last batch may still open incidents and push to the feed.
      await telemetry.then((t) => t.close(), () => {});
      wall.close();
      live.close();
      await indicators.then((i) => i.service.close(), () => {});
      await patrolStore.then((p) => p.close(), () => {});
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections(); // keep-alive sockets would otherwise hold close() for 65 s
      });
      await Promise.all([...archives.values()].map((a) => a.close()));
      await incidents.then((i) => i.close(), () => {});
      await editing.then((e) => e.close(), () => {});
      await store?.close();
      await sharing?.close().catch((e: Error) => log(`数据共享库关闭失败 sharing store close failed: ${e.message}`));
      await auth.close();
      await security.close();
    })()),
  };
}

/**
 * The incident store (SQLite file, or PostgreSQL when a database URL is set — the same one as the spatial
 * store), the dispatcher (road graph + responders from the built data) and the service, with the live feed
 * and the overdue sweeper attached. Opened beside the listen, so tile-only use does not wait for it.
 */
async function openIncidents(
  opts: ServerOptions, databaseUrl: string | null, spatial: SpatialStore | null, address: AddressApi, live: LiveHub,
  clock: () => number, log: (msg: string) => void,
): Promise<{ api: IncidentApi; service: IncidentService; store: IncidentStore; close(): Promise<void> }> {
  if (!spatial) throw new Error('空间查询存储未能打开（事件需要网格与地址查询）the spatial store did not open (incidents need grid and address lookups)');
  const url = opts.incidentDatabaseUrl === undefined ? process.env.INCIDENT_DATABASE_URL || databaseUrl : opts.incidentDatabaseUrl;
  const store: IncidentStore = await openIncidentStore({ databaseUrl: url, file: opts.incidentDbFile });
  let dispatcher;
  try {
    dispatcher = await openDispatcher(opts.dataDir);
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  const geocode = async (text: string) => {
    const m = (await address.warm()).index.search(text, 1)[0];
    return m ? { lon: m.lon, lat: m.lat, address: m.record.full, code: m.record.code } : null;
  };
  const service = new IncidentService({
    store, spatial, dispatcher, clock, geocode,
    onChange: (incident, t) => live.incidentChanged(incident, t),
  });
  const api = new IncidentApi({
    service, store, dispatcher, clock,
    onPosition: (id, lon, lat, at) => live.broadcast({ type: 'responder', op: 'position', id, lon, lat, at }),
  });
  const every = opts.sweepIntervalMs ?? 60_000;
  let sweeping = false;
  const timer = every > 0 ? setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    service.sweep().then(
      (r) => { if (r.supervised.length || r.escalated.length) log(`督办 ${r.supervised.length}，提级 ${r.escalated.length} swept: ${r.supervised.length} supervised, ${r.escalated.length} escalated`); },
      (e: Error) => log(`超时巡检失败 sweep failed: ${e.message}`),
    ).finally(() => { sweeping = false; });
  }, every) : undefined;
  timer?.unref();
  return { api, service, store, close: async () => { if (timer) clearInterval(timer); await store.close(); } };
}

/** The telemetry service beside the listen (like incidents): the HTTP server is up while devices load. */
async function openTelemetry(
  opts: ServerOptions, databaseUrl: string | null, spatial: SpatialStore | null, live: LiveHub,
  incidents: Promise<IncidentService>, clock: () => number, log: (msg: string) => void,
): Promise<TelemetryService> {
  if (opts.telemetry === false) throw new Error('物联服务已关闭 telemetry is off (ServerOptions.telemetry = false)');
  const t = opts.telemetry ?? {};
  const envPort = process.env.MQTT_PORT ? Number(process.env.MQTT_PORT) : undefined;
  if (envPort !== undefined && (!Number.isInteger(envPort) || envPort < 0 || envPort > 65535)) {
    throw new Error(`MQTT_PORT=${process.env.MQTT_PORT} 不是有效端口；请设为 0–65535。MQTT_PORT must be an integer 0–65535.`);
  }
  const incidentUrl = opts.incidentDatabaseUrl === undefined ? process.env.INCIDENT_DATABASE_URL || databaseUrl : opts.incidentDatabaseUrl;
  return startTelemetry({
    ...t,
    mqttUrl: t.mqttUrl === undefined ? process.env.MQTT_URL || null : t.mqttUrl,
    mqttPort: t.mqttPort ?? envPort ?? (opts.port === 0 ? 0 : DEFAULT_MQTT_PORT),
    databaseUrl: t.databaseUrl === undefined ? process.env.TELEMETRY_DATABASE_URL || incidentUrl : t.databaseUrl,
    file: t.file ?? (opts.incidentDbFile ? join(dirname(opts.incidentDbFile), 'telemetry.sqlite') : undefined),
  }, {
    dataDir: opts.dataDir, host: opts.host ?? '127.0.0.1', clock, live, spatial,
    // Incidents may be unavailable (no roads built): alarms then stay alarms.
    incidents,
    log: (m) => log(`[telemetry] ${m}`),
  });
}

/**
 * PostGIS when a URL is given: asked for explicitly, so a connection failure stops the start (the message
 * names the host). The embedded store opens lazily and should not fail; if it does, tiles and the rest
 * are still served and the query routes answer 503.
 */
async function openStore(
  dataDir: string, databaseUrl: string | null, log: (msg: string) => void, file: (layer: string) => Promise<FgbFile>,
): Promise<SpatialStore | null> {
  if (!databaseUrl) {
    try {
      return await openEmbeddedStore(dataDir, { log, file });
    } catch (err) {
      log(`空间查询不可用 spatial store unavailable: ${(err as Error).message}`);
      return null;
    }
  }
  try {
    // Imported only here, so the embedded default never loads the pg driver.
    const { openPostgisStore } = await import('./storage/postgis-store.ts');
    return await openPostgisStore(databaseUrl);
  } catch (err) {
    let where = 'DATABASE_URL';
    try { const u = new URL(databaseUrl); where = `${u.hostname}:${u.port || 5432}${u.pathname}`; } catch { /* not a URL: keep the variable name */ }
    throw new Error(`无法连接 PostGIS（${where}）：${(err as Error).message}。请检查 DATABASE_URL、运行 npx tsx scripts/pg-local.ts start 与 npm run db:load，或取消 DATABASE_URL 以使用内置引擎。Cannot open PostGIS at ${where}; check DATABASE_URL, start it (scripts/pg-local.ts start) and load it (npm run db:load), or unset DATABASE_URL for the embedded engine.`);
  }
}

function refuseUpgrade(socket: Duplex, status: string, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  else socket.destroy();
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The sharing service on its store (see ServerOptions.sharingDbFile); null, logged, when the store does not open. */
async function openSharing(opts: ServerOptions, databaseUrl: string | null, clock: () => number, log: (msg: string) => void,
  audit: (e: NewSecurityEvent) => void): Promise<SharingService | null> {
  const ephemeral = opts.demoPassword !== undefined && opts.sharingDbFile === undefined && opts.sharingDatabaseUrl === undefined;
  const incidentUrl = opts.incidentDatabaseUrl === undefined ? process.env.INCIDENT_DATABASE_URL || databaseUrl : opts.incidentDatabaseUrl;
  const url = ephemeral ? null : opts.sharingDatabaseUrl === undefined ? process.env.SHARING_DATABASE_URL || incidentUrl : opts.sharingDatabaseUrl;
  const file = ephemeral ? ':memory:' : opts.sharingDbFile ?? (opts.incidentDbFile ? join(dirname(opts.incidentDbFile), 'sharing.sqlite') : process.env.ONEMAP_SHARING_FILE || undefined);
  try {
    return await SharingService.open({ databaseUrl: url, file, clock, log: (m) => log(`[sharing] ${m}`), audit });
  } catch (e) {
    log(`数据共享不可用 sharing unavailable: ${(e as Error).message}`);
    return null;
  }
}

/** Whether a town, village or grid code exists (for sharing scopes): the codes of the built layers, read once. */
function areaCodes(layers: Map<string, FeatureLayer>): (code: string) => Promise<boolean> {
  let codes: Promise<Set<string>> | undefined;
  const load = async (): Promise<Set<string>> => {
    const out = new Set<string>();
    for (const id of ['towns', 'villages', 'grids']) {
      const l = layers.get(id);
      if (!l) continue;
      for (const c of (await l.open()).column('code')) if (c !== null && c !== undefined) out.add(String(c));
    }
    return out;
  };
  return async (code) => {
    const p = (codes ??= load());
    p.catch(() => { codes = undefined; });
    const set = await p;
    // Without the built admin layers only the format was checked (api.ts): do not refuse every code.
    return set.size === 0 || set.has(code);
  };
}

/**
 * The user store (SQLite beside the incidents, or PostgreSQL schema `auth`) and, at first start, the demo users.
 * A generated demo password is printed here once (stdout) and never again: only its hash is stored.
 */
async function openAuth(opts: ServerOptions, databaseUrl: string | null, layers: Map<string, FeatureLayer>, log: (msg: string) => void,
  audit?: (e: NewSecurityEvent) => void): Promise<AuthService> {
  // A server given a demo password (tests) keeps its users in memory unless told where: a fresh set of demo users
  // per test server, never the shared var/users.sqlite or a database another run changed.
  const ephemeral = opts.demoPassword !== undefined && opts.userDbFile === undefined && opts.userDatabaseUrl === undefined;
  const incidentUrl = opts.incidentDatabaseUrl === undefined ? process.env.INCIDENT_DATABASE_URL || databaseUrl : opts.incidentDatabaseUrl;
  const url = ephemeral ? null : opts.userDatabaseUrl === undefined ? process.env.AUTH_DATABASE_URL || incidentUrl : opts.userDatabaseUrl;
  const store = await openUserStore({
    databaseUrl: url,
    file: ephemeral ? ':memory:' : opts.userDbFile ?? (opts.incidentDbFile ? join(dirname(opts.incidentDbFile), 'users.sqlite') : undefined),
  });
  const auth = new AuthService(store, { log, audit, ...opts.auth });
  try {
    const grids = async (): Promise<DemoGrid[]> => {
      const layer = layers.get('grids');
      if (!layer) return [];
      const f = await layer.open();
      const code = f.column('code'), manager = f.column('manager_name');
      return code.map((c, i) => ({ code: String(c), managerName: manager[i] == null ? null : String(manager[i]) }));
    };
    const demo = await auth.ensureDemoUsers(grids, opts.demoPassword);
    if (demo) {
      const gridUsers = demo.usernames.filter((u) => u.startsWith('grid-'));
      log(`已创建演示用户 demo users created: ${demo.usernames.filter((u) => !u.startsWith('grid-')).join(', ')} and ${gridUsers.length} grid managers (${gridUsers.slice(0, 3).join(', ')}${gridUsers.length > 3 ? ', …' : ''})`);
      if (demo.generated) {
        // Printed once, at first start only; the store keeps only its hash. Set ONEMAP_DEMO_PASSWORD to choose it.
        console.log(`\n演示用户密码（仅显示这一次）demo password (shown once): ${demo.password}\n` +
          `用户 users: ${demo.usernames.filter((u) => !u.startsWith('grid-')).join(', ')}, grid-{网格编码} ×${gridUsers.length}\n`);
      }
    }
  } catch (err) {
    await auth.close().catch(() => {});
    throw err;
  }
  return auth;
}
