// The live feed: a WebSocket hub at /ws on the same HTTP server (`ws` in noServer mode, so one port serves
// tiles, the API and the push channel). Server → client only; every message is one JSON text frame:
//   {type:'hello', at}                                        on connect
//   {type:'incident', op:'created'|'updated', incident, transition}
//   {type:'responder', op:'position', id, lon, lat, at}
//   {type:'layers', op:'changed', layer, revision, ids, bbox}                   a layer was edited (issue 8)
//   {type:'access', op:'changed', at}                                           this user's sharing grants changed
// Messages about a layer (layers changed, responder positions = the responders layer) go only to clients who
// may see that layer (issue 10: layers/governance/access.ts with their sharing grants in force at the server's
// clock, decided per message — so a revoked or expired grant stops them at once): with full access as they are;
// under a grant a layer event carries no ids and no bbox (they could name rows outside the grant), and a responder
// position goes only to a grant over the whole city (a position names no area to check against a grant's areas).
//   {type:'subscribed', …} / {type:'telemetry', devices, alarms, at} / {type:'error', error}   telemetry (issue 7):
//       after the client sends {type:'subscribe', bbox, layers?, kinds?}; see telemetry/live-telemetry.ts
// A client that cannot keep up is closed rather than buffered without bound: each client may have at most
// MAX_IN_FLIGHT frames handed to the socket and not yet written (and MAX_BUFFERED_BYTES buffered); past
// that it is closed with 4008 and should reconnect and reload the list (GET /api/incidents?since=).
// Telemetry is different: it is state, not events, so a slow client is not closed but its pending updates
// coalesce per device (latest wins) until it drains; memory per client is bounded by the device count.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { incidentShown, PersonalView, transitionsShown } from './personal-data.ts';
import { getLayer } from '../layers/catalog.ts';
import type { GrantSource } from '../layers/governance/model.ts';
import type { Actor, Incident, Transition } from '../layers/incidents/model.ts';
import type { Alarm, DeviceState } from '../layers/telemetry/model.ts';
import {
  covers, layerOfKind, MAX_FRAME_ALARMS, MAX_FRAME_DEVICES, MAX_PENDING_ALARMS, MAX_TELEMETRY_IN_FLIGHT, parseClientMessage, SubscribeError,
  TELEMETRY_FRAME_MS, toFeedDevice, type FeedDevice, type TelemetryFrame, type TelemetrySubscription,
} from './telemetry/live-telemetry.ts';

export const LIVE_PATH = '/ws';
export const MAX_IN_FLIGHT = 256;
export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
export const MAX_CLIENTS = 1000;
/** Pings find dead peers (a phone that left coverage) that TCP alone would keep for hours. */
export const PING_MS = 30_000;
export const CLOSE_SLOW = 4008;
/** Close code when the session behind a socket ended (sign-out, user changed or disabled). */
export const CLOSE_SESSION_ENDED = 4401;

export type LiveMessage =
  | { type: 'hello'; at: number }
  | { type: 'incident'; op: 'created' | 'updated'; incident: Incident; transition: Transition }
  | { type: 'responder'; op: 'position'; id: string; lon: number; lat: number; at: number }
  /** A layer was edited (issue 8): clients redraw tiles and data under `bbox` (revision busts their caches). */
  | { type: 'layers'; op: 'changed'; layer: string; revision: number; ids: string[]; bbox: [number, number, number, number] | null }
  /** The user's sharing grants changed (approved, revoked, expired; issue 10): refetch GET /api/layers and reload graded layers. */
  | { type: 'access'; op: 'changed'; at: number }
  | ({ type: 'subscribed'; at: number } & TelemetrySubscription)
  | { type: 'error'; error: { code: string; message: string } };

/** What the hub needs of a socket; `ws`'s WebSocket has it, and unit tests use fakes. */
export interface LiveSocket {
  readonly bufferedAmount: number;
  send(data: string, cb: (err?: Error) => void): void;
  close(code: number, reason: string): void;
  terminate(): void;
}

interface Client {
  socket: LiveSocket; inFlight: number; closed: boolean; alive: boolean;
  /** The signed-in user who opened the socket (server.ts checks the session on upgrade); null only for fakes in unit tests. */
  actor: Actor | null;
  /** The session (hash) it was opened with, so signing out closes it. */
  session: string | null;
  /** Telemetry: the subscription, updates not yet sent (latest per device wins), frames not yet written. */
  sub: TelemetrySubscription | null; pending: Map<string, FeedDevice>; pendingAlarms: Map<string, Alarm>; telemetryInFlight: number;
}

export interface LiveTelemetryStats {
  subscribed: number; frames: number; devicesSent: number; alarmsSent: number;
  /** Device updates replaced by a newer one before they were sent (slow clients, or several per frame). */
  coalesced: number; alarmsDropped: number; pendingMax: number;
}

export class LiveHub {
  private clients = new Set<Client>();
  private wss = new WebSocketServer({ noServer: true, maxPayload: 4096, clientTracking: false });
  private timer: NodeJS.Timeout;
  /** Messages dropped because a client was too slow (the client was closed). */
  dropped = 0;
  private frameTimer: NodeJS.Timeout;
  private changed = new Map<string, FeedDevice>();
  private changedAlarms = new Map<string, Alarm>();
  private snapshot: ((sub: TelemetrySubscription) => DeviceState[]) | null = null;
  private tstats = { frames: 0, devicesSent: 0, alarmsSent: 0, coalesced: 0, alarmsDropped: 0 };
  private grants: GrantSource | null = null;
  private clock: () => number = Date.now;

  constructor(private readonly log: (msg: string) => void = () => {}) {
    this.timer = setInterval(() => this.ping(), PING_MS);
    this.timer.unref();
    this.frameTimer = setInterval(() => this.flushTelemetry(), TELEMETRY_FRAME_MS);
    this.frameTimer.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** For the HTTP server's 'upgrade' event. Answers anything but /ws (or over the client limit) with a plain HTTP error. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, actor: Actor | null = null, session: string | null = null): void {
    const path = (req.url ?? '/').split('?')[0];
    const refuse = (status: string, code: string, message: string) => {
      const body = JSON.stringify({ error: { code, message } });
      socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    };
    if (path !== LIVE_PATH) return refuse('404 Not Found', 'not_found', `WebSocket 只在 ${LIVE_PATH}。The WebSocket endpoint is ${LIVE_PATH}.`);
    if (this.clients.size >= MAX_CLIENTS) return refuse('503 Service Unavailable', 'too_many_clients', `实时连接已满（${MAX_CLIENTS}）；请稍后重连。Too many live connections (${MAX_CLIENTS}); reconnect later.`);
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const c = this.add(ws, actor, session);
      ws.on('pong', () => { c.alive = true; });
      // The only client input is the telemetry subscription (maxPayload bounds it).
      ws.on('message', (data: Buffer, isBinary: boolean) => { if (!isBinary) this.message(c, data.toString('utf8')); });
      ws.on('close', () => this.remove(c));
      ws.on('error', () => this.remove(c));
    });
  }

  /** Registers a socket (exported for tests with fake sockets) and greets it. */
  add(socket: LiveSocket, actor: Actor | null = null, session: string | null = null): Client {
    const c: Client = { socket, actor, session, inFlight: 0, closed: false, alive: true, sub: null, pending: new Map(), pendingAlarms: new Map(), telemetryInFlight: 0 };
    this.clients.add(c);
    this.sendTo(c, JSON.stringify({ type: 'hello', at: Date.now() } satisfies LiveMessage));
    return c;
  }

  /** Where layer access finds sharing grants (the sharing service) and the server's clock (ServerOptions.clock). */
  setAccess(grants: GrantSource | null, clock: () => number = Date.now): void {
    this.grants = grants;
    this.clock = clock;
  }

  broadcast(msg: LiveMessage): void {
    if (this.clients.size === 0) return;
    const layer = msg.type === 'layers' ? msg.layer : msg.type === 'responder' ? 'responders' : null;
    const def = layer === null ? undefined : getLayer(layer);
    if (layer === null || !def) {
      const text = JSON.stringify(msg);
      for (const c of this.clients) this.sendTo(c, text);
      return;
    }
    const now = this.clock();
    let full: string | undefined, reduced: string | undefined;
    for (const c of this.clients) {
      const a = new PersonalView(c.actor, null, undefined, null, { grants: this.grants, now }).access(def);
      if (a.kind === 'full') this.sendTo(c, full ??= JSON.stringify(msg));
      else if (a.kind === 'grant') {
        if (msg.type === 'layers') this.sendTo(c, reduced ??= JSON.stringify({ ...msg, ids: [], bbox: null } satisfies LiveMessage));
        else if (a.grants.some((g) => g.areas === null)) this.sendTo(c, full ??= JSON.stringify(msg));
      }
    }
  }

  /** Closes the sockets opened with a session that ended, or by a user whose rights changed (4401: sign in again). */
  closeSessions(e: { username?: string; session?: string }): number {
    let n = 0;
    for (const c of this.clients) {
      if ((e.session && c.session === e.session) || (e.username && c.actor?.id === e.username)) {
        c.socket.close(CLOSE_SESSION_ENDED, 'session ended');
        this.remove(c);
        n++;
      }
    }
    return n;
  }

  /**
   * Tells these users' sockets that their grants changed (SharingService.onChange), so the client refetches
   * /api/layers and drops or reloads graded layers. Filtering needs no redo: every layer message is judged
   * against the grants in force when it is sent.
   */
  accessChanged(usernames: readonly string[]): void {
    if (this.clients.size === 0 || usernames.length === 0) return;
    const who = new Set(usernames);
    const text = JSON.stringify({ type: 'access', op: 'changed', at: this.clock() } satisfies LiveMessage);
    for (const c of this.clients) if (c.actor && who.has(c.actor.id)) this.sendTo(c, text);
  }

  /** Only to clients signed in with one of `roles`: the wall's indicators and commands go where GET /api/wall/summary may. */
  broadcastToRoles(roles: readonly string[], msg: { type: 'indicators' | 'wall' } & Record<string, unknown>): void {
    let text: string | undefined;
    for (const c of this.clients) if (c.actor && roles.includes(c.actor.role)) this.sendTo(c, text ??= JSON.stringify(msg));
  }

  /**
   * Per client, as the REST API answers them: a grid manager gets only the incidents of their grids, and the
   * people's names (reporter, the step's actor) are masked for roles that see them masked (personal-data.ts).
   */
  incidentChanged(incident: Incident, transition: Transition): void {
    if (this.clients.size === 0) return;
    const op = transition.seq === 1 ? 'created' : 'updated';
    let full: string | undefined, masked: string | undefined;
    for (const c of this.clients) {
      const a = c.actor;
      if (a?.role === 'grid_manager' && !(incident.gridCode && a.grids?.includes(incident.gridCode))) continue;
      const view = new PersonalView(a, null);
      if (view.level({ id: 'incidents' }, { grid_code: incident.gridCode ?? null }) === 'full') {
        this.sendTo(c, full ??= JSON.stringify({ type: 'incident', op, incident, transition } satisfies LiveMessage));
      } else {
        this.sendTo(c, masked ??= JSON.stringify({
          type: 'incident', op, incident: incidentShown(view, incident), transition: transitionsShown(view, incident.gridCode, [transition])[0],
        } satisfies LiveMessage));
      }
    }
  }

  /** Where a new subscription's first frame comes from (the telemetry service sets the engine's devices). */
  setTelemetrySnapshot(fn: ((sub: TelemetrySubscription) => DeviceState[]) | null): void {
    this.snapshot = fn;
  }

  /** Changed devices and new/updated/cleared alarms; sent to the clients whose subscription covers them at the next frame. */
  telemetry(devices: readonly DeviceState[], alarms: readonly Alarm[]): void {
    if (this.clients.size === 0) return;
    for (const d of devices) this.changed.set(d.id, toFeedDevice(d));
    for (const a of alarms) this.changedAlarms.set(a.id, a);
  }

  /** A client's text message: subscribe/unsubscribe, or an error frame saying what is wrong. Exported for fake-socket tests. */
  message(c: Client, text: string): void {
    let sub: TelemetrySubscription | 'unsubscribe';
    try {
      sub = parseClientMessage(text);
    } catch (e) {
      const err = e instanceof SubscribeError ? e : new SubscribeError('bad_message', String(e));
      this.sendTo(c, JSON.stringify({ type: 'error', error: { code: err.code, message: err.message } } satisfies LiveMessage));
      return;
    }
    c.pending.clear();
    c.pendingAlarms.clear();
    if (sub === 'unsubscribe') { c.sub = null; return; }
    c.sub = sub;
    this.sendTo(c, JSON.stringify({ type: 'subscribed', at: Date.now(), ...sub } satisfies LiveMessage));
    // The current state of everything the new extent covers goes first, so the map does not wait for reports.
    const sees = this.kindFilter(c);
    for (const d of this.snapshot?.(sub) ?? []) if (covers(sub, d.kind, d.lon, d.lat) && sees(d.kind)) c.pending.set(d.id, toFeedDevice(d));
  }

  /** Runs every TELEMETRY_FRAME_MS: routes the changes to the subscribers and sends each at most one frame. */
  flushTelemetry(): void {
    const devices = this.changed, alarms = this.changedAlarms;
    if (devices.size) this.changed = new Map();
    if (alarms.size) this.changedAlarms = new Map();
    for (const c of this.clients) {
      const sub = c.sub;
      if (!sub || c.closed) continue;
      const sees = this.kindFilter(c);
      for (const d of devices.values()) {
        if (!covers(sub, d.kind, d.lon, d.lat) || !sees(d.kind)) continue;
        if (c.pending.has(d.id)) { this.tstats.coalesced++; c.pending.delete(d.id); } // re-insert: oldest-pending first
        c.pending.set(d.id, d);
      }
      for (const a of alarms.values()) {
        if (!covers(sub, a.kind, a.lon, a.lat) || !sees(a.kind)) continue;
        c.pendingAlarms.delete(a.id);
        c.pendingAlarms.set(a.id, a);
        if (c.pendingAlarms.size > MAX_PENDING_ALARMS) {
          c.pendingAlarms.delete(c.pendingAlarms.keys().next().value!);
          this.tstats.alarmsDropped++;
        }
      }
      if ((c.pending.size || c.pendingAlarms.size) && c.telemetryInFlight < MAX_TELEMETRY_IN_FLIGHT) this.sendFrame(c);
    }
  }

  /**
   * Which device kinds this client may get: each kind's layer (patrol units are the responders layer, graded core)
   * by the client's layer access now; under a grant only one over the whole city (a device frame names no grid).
   */
  private kindFilter(c: Client): (kind: DeviceState['kind']) => boolean {
    const view = new PersonalView(c.actor, null, undefined, null, { grants: this.grants, now: this.clock() });
    const memo = new Map<string, boolean>();
    return (kind) => {
      let ok = memo.get(kind);
      if (ok === undefined) {
        const def = getLayer(layerOfKind(kind));
        const a = def ? view.access(def) : null;
        ok = !a || a.kind === 'full' || (a.kind === 'grant' && a.grants.some((g) => g.areas === null));
        memo.set(kind, ok);
      }
      return ok;
    };
  }

  telemetryStats(): LiveTelemetryStats {
    let subscribed = 0, pendingMax = 0;
    for (const c of this.clients) {
      if (c.sub) subscribed++;
      pendingMax = Math.max(pendingMax, c.pending.size);
    }
    return { subscribed, pendingMax, ...this.tstats };
  }

  private sendFrame(c: Client): void {
    const take = <T>(m: Map<string, T>, n: number): T[] => {
      const out: T[] = [];
      for (const [k, v] of m) { if (out.length >= n) break; out.push(v); m.delete(k); }
      return out;
    };
    const frame: TelemetryFrame = { type: 'telemetry', devices: take(c.pending, MAX_FRAME_DEVICES), alarms: take(c.pendingAlarms, MAX_FRAME_ALARMS), at: Date.now() };
    this.tstats.frames++;
    this.tstats.devicesSent += frame.devices.length;
    this.tstats.alarmsSent += frame.alarms.length;
    c.telemetryInFlight++;
    c.inFlight++;
    try {
      c.socket.send(JSON.stringify(frame), () => { c.telemetryInFlight--; c.inFlight--; });
    } catch {
      this.remove(c);
    }
  }

  private sendTo(c: Client, text: string): void {
    if (c.closed) return;
    if (c.inFlight >= MAX_IN_FLIGHT || c.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.dropped++;
      this.log(`实时推送：客户端过慢，已断开 live feed: slow client closed (${c.inFlight} frames in flight)`);
      c.closed = true;
      this.clients.delete(c);
      try { c.socket.close(CLOSE_SLOW, 'too slow: reconnect and reload'); } catch { c.socket.terminate(); }
      // A peer that does not read will not finish the closing handshake either.
      setTimeout(() => c.socket.terminate(), 5000).unref();
      return;
    }
    c.inFlight++;
    try {
      c.socket.send(text, () => { c.inFlight--; });
    } catch {
      this.remove(c);
    }
  }

  private remove(c: Client): void {
    c.closed = true;
    this.clients.delete(c);
  }

  private ping(): void {
    for (const c of this.clients) {
      const ws = c.socket as unknown as WebSocket;
      if (typeof ws.ping !== 'function') continue;
      if (!c.alive) { this.remove(c); ws.terminate(); continue; }
      c.alive = false;
      try { ws.ping(); } catch { this.remove(c); }
    }
  }

  close(): void {
    clearInterval(this.timer);
    clearInterval(this.frameTimer);
    for (const c of this.clients) {
      try { c.socket.close(1001, 'server stopping'); } catch { /* already gone */ }
      c.socket.terminate();
    }
    this.clients.clear();
    this.wss.close();
  }
}
