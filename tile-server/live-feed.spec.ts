import { afterEach, expect, it } from 'vitest';
import { CLOSE_SLOW, LiveHub, MAX_IN_FLIGHT, type LiveSocket } from './live-feed.ts';

function fake(ackImmediately: boolean): LiveSocket & { sent: string[]; closedWith: number | null } {
  return {
    bufferedAmount: 0, sent: [], closedWith: null,
    send(data, cb) { this.sent.push(data); if (ackImmediately) cb(); },
    close(code) { this.closedWith = code; },
    terminate() {},
  };
}

let hub: LiveHub | undefined;
afterEach(() => hub?.close());

it('closes a client that stops reading after MAX_IN_FLIGHT frames, and keeps feeding the others', () => {
  hub = new LiveHub();
  const slow = fake(false), fast = fake(true);
  hub.add(slow);
  hub.add(fast);
  for (let i = 0; i < MAX_IN_FLIGHT + 10; i++) hub.broadcast({ type: 'responder', op: 'position', id: `r${i}`, lon: 120, lat: 31, at: i });
  expect(slow.closedWith).toBe(CLOSE_SLOW);
  expect(slow.sent.length).toBe(MAX_IN_FLIGHT); // hello + MAX_IN_FLIGHT - 1 broadcasts, then nothing more
  expect(fast.closedWith).toBeNull();
  expect(fast.sent.length).toBe(MAX_IN_FLIGHT + 11); // hello + every broadcast
  expect(hub.size).toBe(1);
  expect(hub.dropped).toBe(1);
});

it('marks the first transition of an incident as created and later ones as updated', () => {
  hub = new LiveHub();
  const c = fake(true);
  hub.add(c);
  const inc = { id: 'i1' } as never;
  hub.incidentChanged(inc, { seq: 1 } as never);
  hub.incidentChanged(inc, { seq: 2 } as never);
  expect(c.sent.slice(1).map((s) => JSON.parse(s).op)).toEqual(['created', 'updated']);
});
