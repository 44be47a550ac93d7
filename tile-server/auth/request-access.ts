// The grants a request is judged with (issue 10): the router gate looks them up once, when it admits a signed-in
// request, and stores them here beside the actor (request-actor.ts), so every handler's PersonalView
// (personal-data.ts) decides layer access with the same grants and the same instant as the gate did.
// Keyed by the request object (a WeakMap): nothing a client sends can set it.
import type { IncomingMessage } from 'node:http';
import type { GrantSource } from '../../layers/governance/model.ts';

export interface AccessContext {
  /** Where grants in force are found and their use recorded; null = no sharing service (nobody holds a grant). */
  grants: GrantSource | null;
  /** The server's clock at admission (ServerOptions.clock): a grant whose expiresAt ≤ now is not in force. */
  now: number;
}

const contexts = new WeakMap<IncomingMessage, AccessContext>();

/** Only the gate calls this. */
export function setAccessContext(req: IncomingMessage, c: AccessContext): void {
  contexts.set(req, c);
}

export function accessContextOf(req: IncomingMessage): AccessContext | null {
  return contexts.get(req) ?? null;
}
