import { afterEach, describe, expect, it } from 'vitest';
import type { Grant } from '../layers/governance/model.ts';
import { CLOSE_SESSION_ENDED, CLOSE_SLOW, LiveHub, MAX_IN_FLIGHT, type LiveMessage, type LiveSocket } from './live-feed.ts';

function fake(ackImmediately: boolean): LiveSocket & { sent: string[]; closedWith: number | null } {
  return {
    bufferedAmount: 0, sent: [], closedWith: null,
    send(data, cb) { this.sent.push(data); if (ackImmediately) cb(); },
    close(code) { this.closedWith = code; },
    terminate() {},
  };
}

let hub: LiveHub | undefined;
/** The duty desk: sees every device layer (patrol units are the responders layer, core, owned by 城运中心). */
const DUTY = { role: 'operator', id: 'duty', department: 'city' } as const;
afterEach(() => hub?.close());

it('closes a client that stops reading after MAX_IN_FLIGHT frames, and keeps feeding the others', () => {
  hub = new LiveHub();
  const slow = fake(false), fast = fake(true);
  // Responder positions are the responders layer (core, owned by 城运中心): the duty desk sees them.
  hub.add(slow, { role: 'operator', id: 'op-1', department: 'city' });
  hub.add(fast, { role: 'operator', id: 'op-2', department: 'city' });
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
  hub.add(c, DUTY);
  const inc = { id: 'i1' } as never;
  hub.incidentChanged(inc, { seq: 1 } as never);
  hub.incidentChanged(inc, { seq: 2 } as never);
  expect(c.sent.slice(1).map((s) => JSON.parse(s).op)).toEqual(['created', 'updated']);
});

// ------------------------------------------------------------------ telemetry subscriptions (issue 7)

const dev = (id: string, kind: string, lon: number, lat: number, value: number, ts: number) =>
  ({ id, kind, layer: kind === 'camera' ? 'cameras' : 'sensors', name: id, lon, lat, department: null, townCode: null, gridCode: null, unit: null,
    status: 'online', since: 0, lastTs: ts, lastValue: value, alarms: [] }) as never;
const frames = (c: { sent: string[] }) => c.sent.map((s) => JSON.parse(s)).filter((m) => m.type === 'telemetry');

it('sends a subscriber only the devices and alarms its bbox and kinds cover, one frame per flush, latest value per device', () => {
  hub = new LiveHub();
  const c = fake(true), other = fake(true);
  const cl = hub.add(c, DUTY);
  hub.add(other, DUTY); // never subscribes: gets no telemetry
  hub.message(cl, JSON.stringify({ type: 'subscribe', bbox: [120, 31, 121, 32], kinds: ['water_level'] }));
  expect(JSON.parse(c.sent[1])).toMatchObject({ type: 'subscribed', bbox: [120, 31, 121, 32], kinds: ['water_level'], layers: null });
  hub.telemetry([dev('a', 'water_level', 120.5, 31.5, 1, 10), dev('b', 'gas', 120.5, 31.5, 2, 10), dev('c', 'water_level', 122, 31.5, 3, 10)], []);
  hub.telemetry([dev('a', 'water_level', 120.5, 31.5, 4, 11)], [
    { id: 'al1', kind: 'water_level', lon: 120.6, lat: 31.6 } as never, { id: 'al2', kind: 'gas', lon: 120.6, lat: 31.6 } as never]);
  hub.flushTelemetry();
  const f = frames(c);
  expect(f).toHaveLength(1);
  expect(f[0].devices).toEqual([{ id: 'a', kind: 'water_level', lon: 120.5, lat: 31.5, status: 'online', value: 4, ts: 11 }]);
  expect(f[0].alarms.map((a: { id: string }) => a.id)).toEqual(['al1']);
  expect(frames(other)).toHaveLength(0);
  hub.flushTelemetry(); // nothing changed: no empty frame
  expect(frames(c)).toHaveLength(1);
});

it('refuses a malformed subscription with an error frame and keeps the connection', () => {
  hub = new LiveHub();
  const c = fake(true);
  const cl = hub.add(c, DUTY);
  hub.message(cl, JSON.stringify({ type: 'subscribe', bbox: [121, 31, 120, 32] }));
  hub.message(cl, JSON.stringify({ type: 'subscribe', bbox: [120, 31, 121, 32], kinds: ['teapot'] }));
  hub.message(cl, 'not json');
  expect(c.sent.slice(1).map((s) => JSON.parse(s).error.code)).toEqual(['bad_bbox', 'bad_kinds', 'bad_json']);
  expect(c.closedWith).toBeNull();
});

it('first frame after subscribing carries the current state from the snapshot source', () => {
  hub = new LiveHub();
  hub.setTelemetrySnapshot(() => [dev('x', 'camera', 120.2, 31.2, 1, 5), dev('y', 'camera', 125, 31.2, 1, 5)]);
  const c = fake(true);
  hub.message(hub.add(c, DUTY), JSON.stringify({ type: 'subscribe', bbox: [120, 31, 121, 32], layers: ['cameras'] }));
  hub.flushTelemetry();
  expect(frames(c)[0].devices.map((d: { id: string }) => d.id)).toEqual(['x']);
});

it('coalesces a slow subscriber to the latest state per device (bounded) while a fast one gets every frame', () => {
  hub = new LiveHub();
  const slow = fake(false), fast = fake(true);
  const s = hub.add(slow, DUTY), f = hub.add(fast, DUTY);
  for (const cl of [s, f]) hub.message(cl, JSON.stringify({ type: 'subscribe', bbox: [120, 31, 121, 32] }));
  const N = 50, ROUNDS = 40;
  for (let r = 0; r < ROUNDS; r++) {
    hub.telemetry(Array.from({ length: N }, (_, i) => dev(`d${i}`, 'noise', 120.5, 31.5, r, r)), []);
    hub.flushTelemetry();
  }
  expect(frames(fast)).toHaveLength(ROUNDS);
  expect(frames(fast).at(-1).devices.every((d: { value: number }) => d.value === ROUNDS - 1)).toBe(true);
  expect(frames(slow).length).toBeLessThanOrEqual(2); // MAX_TELEMETRY_IN_FLIGHT frames unacknowledged, then it waits
  expect(slow.closedWith).toBeNull(); // telemetry never closes a slow client
  expect(hub.telemetryStats().pendingMax).toBe(N); // one pending entry per device, not per update
  expect(hub.telemetryStats().coalesced).toBeGreaterThan(0);
});

it('sends the wall feed only to the roles allowed to read the indicators', () => {
  hub = new LiveHub();
  const operator = fake(true), gridManager = fake(true), anonymous = fake(true);
  hub.add(operator, { role: 'operator', id: 'operator' });
  hub.add(gridManager, { role: 'grid_manager', id: 'grid-1', grids: ['1'] });
  hub.add(anonymous, null);
  hub.broadcastToRoles(['admin', 'operator', 'analyst'], { type: 'indicators', open: 3 });
  const got = (s: { sent: string[] }) => s.sent.map((t) => JSON.parse(t).type);
  expect(got(operator)).toEqual(['hello', 'indicators']);
  expect(got(gridManager)).toEqual(['hello']);
  expect(got(anonymous)).toEqual(['hello']);
});

it('closes the sockets of a session that ended or of a user whose rights changed, and no other', () => {
  hub = new LiveHub();
  const a1 = fake(true), a2 = fake(true), b = fake(true);
  hub.add(a1, { role: 'operator', id: 'operator', department: 'city' }, 'session-a1');
  hub.add(a2, { role: 'operator', id: 'operator', department: 'city' }, 'session-a2');
  hub.add(b, { role: 'operator', id: 'operator-2', department: 'city' }, 'session-b');
  expect(hub.closeSessions({ session: 'session-a1' })).toBe(1);
  expect([a1.closedWith, a2.closedWith, b.closedWith]).toEqual([CLOSE_SESSION_ENDED, null, null]);
  expect(hub.closeSessions({ username: 'operator' })).toBe(1);
  expect(a2.closedWith).toBe(CLOSE_SESSION_ENDED);
  hub.broadcast({ type: 'responder', op: 'position', id: 'r', lon: 120, lat: 31, at: 1 });
  expect(a2.sent.length, 'a closed client gets nothing more').toBe(1);
  expect(b.sent.length).toBe(2);
});

describe('layer messages follow layer access (issue 10)', () => {
  const now = Date.parse('2026-06-01T00:00:00Z');
  const grant = (over: Partial<Grant> = {}): Grant => ({ id: 'g1', layer: 'responders', grantee: 'analyst', fields: null, areas: null, expiresAt: now + 1000, ...over });
  const received = (s: { sent: string[] }) => s.sent.map((t) => JSON.parse(t)).filter((m) => m.type !== 'hello');

  it('responder positions: owner and admin in full, nothing without a grant, a whole-city grant only', () => {
    let grants: Grant[] = [];
    hub = new LiveHub();
    hub.setAccess({ activeGrants: (u, t) => grants.filter((g) => g.grantee === u && g.expiresAt > t), recordUse: () => {} }, () => now);
    const op = fake(true), analyst = fake(true), planner = fake(true);
    hub.add(op, { role: 'operator', id: 'operator', department: 'city' });
    hub.add(analyst, { role: 'analyst', id: 'analyst', department: 'police' });
    hub.add(planner, { role: 'planner', id: 'planner', department: 'planning' });
    const pos = { type: 'responder', op: 'position', id: 'gm-1', lon: 120, lat: 31, at: 1 } as const;
    hub.broadcast(pos);
    expect(received(op)).toEqual([pos]);
    expect(received(analyst), 'an analyst without a grant').toEqual([]);
    grants = [grant({ areas: ['320581001'] })];
    hub.broadcast(pos);
    expect(received(analyst), 'a grant limited to areas: a position names no area').toEqual([]);
    grants = [grant()];
    hub.broadcast(pos);
    expect(received(analyst)).toEqual([pos]);
    grants = [grant({ expiresAt: now })];
    hub.broadcast(pos);
    expect(received(analyst), 'an expired grant').toEqual([pos]);
    expect(received(planner)).toEqual([]);
  });

  it('layer events: ids and bbox withheld under a grant, nothing without access', () => {
    hub = new LiveHub();
    const g = grant({ layer: 'responders', areas: ['320581001'] });
    hub.setAccess({ activeGrants: (u) => (u === 'analyst' ? [g] : []), recordUse: () => {} }, () => now);
    const op = fake(true), analyst = fake(true), planner = fake(true);
    hub.add(op, { role: 'operator', id: 'operator', department: 'city' });
    hub.add(analyst, { role: 'analyst', id: 'analyst', department: 'police' });
    hub.add(planner, { role: 'planner', id: 'planner', department: 'planning' });
    const ev: LiveMessage = { type: 'layers', op: 'changed', layer: 'responders', revision: 3, ids: ['gm-1'], bbox: [120, 31, 120.1, 31.1] };
    hub.broadcast(ev);
    expect(received(op)).toEqual([ev]);
    expect(received(analyst)).toEqual([{ ...ev, ids: [], bbox: null }]);
    expect(received(planner)).toEqual([]);
    // Public layers' events go to everyone as they are.
    const towns = { ...ev, layer: 'towns' };
    hub.broadcast(towns);
    expect(received(planner)).toEqual([towns]);
  });

  it('tells a user whose grants changed, and nobody else', () => {
    hub = new LiveHub();
    hub.setAccess(null, () => now);
    const analyst = fake(true), other = fake(true);
    hub.add(analyst, { role: 'analyst', id: 'analyst', department: 'police' });
    hub.add(other, { role: 'analyst', id: 'analyst-2', department: 'police' });
    hub.accessChanged(['analyst']);
    expect(received(analyst)).toEqual([{ type: 'access', op: 'changed', at: now }]);
    expect(received(other)).toEqual([]);
  });

  it('telemetry: patrol units (the responders layer) only to clients who may see it', () => {
    hub = new LiveHub();
    hub.setAccess(null, () => now);
    const op = fake(true), analyst = fake(true);
    const sub = JSON.stringify({ type: 'subscribe', bbox: [120, 31, 121, 32] });
    hub.message(hub.add(op, DUTY), sub);
    hub.message(hub.add(analyst, { role: 'analyst', id: 'analyst', department: 'police' }), sub);
    const dev = (id: string, kind: 'patrol' | 'water_level') => ({ id, kind, layer: kind === 'patrol' ? 'responders' : 'sensors', lon: 120.5, lat: 31.5, status: 'online', lastValue: 1, lastTs: 1 }) as never;
    hub.telemetry([dev('p-1', 'patrol'), dev('w-1', 'water_level')], []);
    hub.flushTelemetry();
    const ids = (s: { sent: string[] }) => received(s).filter((m) => m.type === 'telemetry').flatMap((m) => m.devices.map((d: { id: string }) => d.id)).sort();
    expect(ids(op)).toEqual(['p-1', 'w-1']);
    expect(ids(analyst)).toEqual(['w-1']);
  });
});

