// The embedded MQTT broker (aedes): plain MQTT on host:port and MQTT over WebSocket through handleUpgrade,
// which the HTTP server calls for upgrades on /mqtt (so browsers and the simulator reach it on the service's
// own port). Sessions and QoS 1 queues live in memory by default: a restart of the embedded broker forgets
// them, which is why the tests that need queues to survive a restart run against mosquitto (persistence on).
// Pass the same `persistence` object to a restarted broker to keep them for the life of the process.

import { createServer, type Server, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Aedes } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';

export interface EmbeddedBroker {
  port: number;
  /** mqtt://host:port */
  url: string;
  /** Hand an HTTP upgrade (path /mqtt) to the broker; the caller checks the path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): Promise<void>;
}

export async function startEmbeddedBroker(opts: {
  host?: string;
  port: number /* 0 = any */;
  /** An aedes persistence (e.g. aedes-persistence's memory store) to keep sessions across close/start. */
  persistence?: unknown;
}): Promise<EmbeddedBroker> {
  const host = opts.host ?? '127.0.0.1';
  const aedes = await Aedes.createBroker(opts.persistence ? { persistence: opts.persistence } : {});
  // A misbehaving client must not take the broker down; aedes reports it here and drops that client.
  aedes.on('clientError', () => {});
  aedes.on('connectionError', () => {});

  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    aedes.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) =>
      reject(new Error(`embedded MQTT broker could not listen on ${host}:${opts.port}: ${e.message}` +
        (e.code === 'EADDRINUSE' ? ' — another broker is there; set MQTT_PORT to a free port or MQTT_URL to use that broker' : '')));
    server.once('error', onError);
    server.listen(opts.port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;

  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  wss.on('connection', (ws, req) => {
    const stream = createWebSocketStream(ws);
    stream.on('error', () => {});
    aedes.handle(stream as never, req);
  });

  let closed: Promise<void> | null = null;
  return {
    port,
    url: `mqtt://${host}:${port}`,
    handleUpgrade(req, socket, head) {
      if (closed) {
        socket.destroy();
        return;
      }
      // MQTT over WebSocket negotiates the `mqtt` subprotocol (MQTT 3.1.1 §6); ws echoes the first offered.
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    },
    close() {
      closed ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
        for (const ws of wss.clients) ws.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        await serverClosed;
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
      })();
      return closed;
    },
  };
}
