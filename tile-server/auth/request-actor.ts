// Who made a request. The router gate (tile-server/auth/gate.ts) resolves the session cookie and records the
// user here before any handler runs; handlers only read it. Keyed by the request object (a WeakMap), so
// nothing a client sends — no header, no query — can set it.
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../http-errors.ts';
import type { Actor } from '../../layers/incidents/model.ts';

const actors = new WeakMap<IncomingMessage, Actor>();

export function notSignedIn(): HttpError {
  return new HttpError(401, 'not_signed_in', '请先登录（POST /api/session）。Sign in first (POST /api/session).');
}

/** The signed-in actor set by the router gate; 401 'not_signed_in' when there is none. */
export function actorOf(req: IncomingMessage): Actor {
  const a = actors.get(req);
  if (!a) throw notSignedIn();
  return a;
}

export function maybeActorOf(req: IncomingMessage): Actor | null {
  return actors.get(req) ?? null;
}

/** Only the gate calls this. */
export function setActor(req: IncomingMessage, a: Actor): void {
  actors.set(req, a);
}
