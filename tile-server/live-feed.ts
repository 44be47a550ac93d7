// The live feed: a WebSocket hub at /ws on the same HTTP server (`ws` in noServer mode, so one port serves
// tiles, the API and the push channel). Server → client only; every message is one JSON text frame:
//   {type:'hello', at}                                        on connect
//   {type:'incident', op:'created'|'updated', incident, transition}
//   {type:'responder', op:'position', id, lon, lat, at}
// A client that cannot keep up is closed rather than buffered without bound: each client may have at most
// MAX_IN_FLIGHT frames handed to the socket and not yet written (and MAX_BUFFERED_BYTES buffered); past
// that it is closed with 4008 and should reconnect and reload the list (GET /api/incidents?since=).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Incident, Transition } from './incidents/model.ts';

export const LIVE_PATH = '/ws';
export const MAX_IN_FLIGHT = 256;
export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
export const MAX_CLIENTS = 1000;
/** Pings find dead peers (a phone that left coverage) that TCP alone would keep for hours. */
export const PING_MS = 30_000;
export const CLOSE_SLOW = 4008;

export type LiveMessage =
  | { type: 'hello'; at: number }
  | { type: 'incident'; op: 'created' | 'updated'; incident: Incident; transition: Transition }
  | { type: 'responder'; op: 'position'; id: string; lon: number; lat: number; at: number };

/** What the hub needs of a socket; `ws`'s WebSocket has it, and unit tests use fakes. */
export interface LiveSocket {
  readonly bufferedAmount: number;
  send(data: string, cb: (err?: Error) => void): void;
  close(code: number, reason: string): void;
  terminate(): void;
}

interface Client { socket: LiveSocket; inFlight: number; closed: boolean; alive: boolean }

export class LiveHub {
  private clients = new Set<Client>();
  private wss = new WebSocketServer({ noServer: true, maxPayload: 4096, clientTracking: false });
  private timer: NodeJS.Timeout;
  /** Messages dropped because a client was too slow (the client was closed). */
  dropped = 0;

  constructor(private readonly log: (msg: string) => void = () => {}) {
    this.timer = setInterval(() => this.ping(), PING_MS);
    this.timer.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** For the HTTP server's 'upgrade' event. Answers anything but /ws (or over the client limit) with a plain HTTP error. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '/').split('?')[0];
    const refuse = (status: string, code: string, message: string) => {
      const body = JSON.stringify({ error: { code, message } });
      socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    };
    if (path !== LIVE_PATH) return refuse('404 Not Found', 'not_found', `WebSocket 只在 ${LIVE_PATH}。The WebSocket endpoint is ${LIVE_PATH}.`);
    if (this.clients.size >= MAX_CLIENTS) return refuse('503 Service Unavailable', 'too_many_clients', `实时连接已满（${MAX_CLIENTS}）；请稍后重连。Too many live connections (${MAX_CLIENTS}); reconnect later.`);
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const c = this.add(ws);
      ws.on('pong', () => { c.alive = true; });
      ws.on('message', () => { /* server → client only; input is ignored (maxPayload bounds it) */ });
      ws.on('close', () => this.remove(c));
      ws.on('error', () => this.remove(c));
    });
  }

  /** Registers a socket (exported for tests with fake sockets) and greets it. */
  add(socket: LiveSocket): Client {
    const c: Client = { socket, inFlight: 0, closed: false, alive: true };
    this.clients.add(c);
    this.sendTo(c, JSON.stringify({ type: 'hello', at: Date.now() } satisfies LiveMessage));
    return c;
  }

  broadcast(msg: LiveMessage): void {
    if (this.clients.size === 0) return;
    const text = JSON.stringify(msg);
    for (const c of this.clients) this.sendTo(c, text);
  }

  incidentChanged(incident: Incident, transition: Transition): void {
    this.broadcast({ type: 'incident', op: transition.seq === 1 ? 'created' : 'updated', incident, transition });
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
    for (const c of this.clients) {
      try { c.socket.close(1001, 'server stopping'); } catch { /* already gone */ }
      c.socket.terminate();
    }
    this.clients.clear();
    this.wss.close();
  }
}
