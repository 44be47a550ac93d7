import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Alarm } from '../../../layers/telemetry/model.ts';
import type { MarkerOverlay } from '../map/overlays.ts';
import { mergeAlarms, needsResubscribe, padBbox, useTelemetryStore, viewBbox, type SocketLike } from './telemetry.ts';

const alarm = (id: string, over: Partial<Alarm> = {}): Alarm => ({
  id, ruleId: 'water_level.high', deviceId: 'w1', kind: 'water_level', severity: 2, status: 'active', message: '水位超警戒',
  startedAt: 1000, clearedAt: null, lastValue: 3.9, repeats: 0, incidentId: null, lon: 120.7, lat: 31.6, ...over,
});

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: unknown[] = [];
  onopen: ((e: unknown) => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: ((e: unknown) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  send(d: string) { this.sent.push(JSON.parse(d)); }
  close() { this.readyState = 3; }
  open() { this.readyState = 1; this.onopen?.({}); }
  frame(devices: unknown[], alarms: unknown[] = []) { this.onmessage?.({ data: JSON.stringify({ type: 'telemetry', devices, alarms, at: 0 }) }); }
}

describe('telemetry helpers', () => {
  it('view extent covers the screen and grows with tilt', () => {
    const flat = viewBbox({ lon: 120.75, lat: 31.65, zoom: 14, bearing: 0, pitch: 0 }, 1000, 800, 10);
    const tilted = viewBbox({ lon: 120.75, lat: 31.65, zoom: 14, bearing: 0, pitch: 60 }, 1000, 800, 10);
    expect(flat[2] - flat[0]).toBeGreaterThan((1000 * 10) / (111_320 * Math.cos((31.65 * Math.PI) / 180)));
    expect(tilted[3] - tilted[1]).toBeGreaterThan(2 * (flat[3] - flat[1]));
  });
  it('resubscribes only when the view leaves the padded extent or zooms far in', () => {
    const v: [number, number, number, number] = [120, 31, 121, 32];
    const sub = padBbox(v);
    expect(needsResubscribe(null, v)).toBe(true);
    expect(needsResubscribe(sub, [120.2, 31.2, 121.2, 32.2])).toBe(false);
    expect(needsResubscribe(sub, [121.5, 31, 122.5, 32])).toBe(true);
    expect(needsResubscribe(sub, [120.5, 31.5, 120.6, 31.6])).toBe(true);
  });
  it('merges alarms: same id replaced, active first by severity', () => {
    const m = mergeAlarms([alarm('a', { severity: 3 }), alarm('b')], [alarm('a', { status: 'cleared', clearedAt: 5000 }), alarm('c', { severity: 1 })]);
    expect(m.map((a) => a.id)).toEqual(['c', 'b', 'a']);
    expect(m[2].status).toBe('cleared');
  });
});

describe('telemetry store', () => {
  let frames: (() => void)[];
  let sockets: FakeSocket[];
  let store: ReturnType<typeof useTelemetryStore>;
  const runFrames = () => { const f = frames; frames = []; f.forEach((x) => x()); };

  beforeEach(() => {
    setActivePinia(createPinia());
    frames = [];
    sockets = [];
    store = useTelemetryStore();
    const routes: Record<string, unknown> = {
      '/api/alarms': { items: [alarm('x1')] },
      '/api/devices/w1': { id: 'w1', kind: 'water_level', status: 'online', readings: [{ ts: 2000, value: 3.4 }, { ts: 1000, value: 3.3 }], thresholds: [{ ruleId: 'r', severity: 2, above: 3.7 }], rules: [], activeAlarms: [], unit: 'm', lastTs: 2000, lastValue: 3.4 },
    };
    store.configure({
      baseUrl: 'http://127.0.0.1:1',
      fetch: async (url) => {
        const path = new URL(url).pathname;
        return path in routes ? new Response(JSON.stringify(routes[path]), { status: 200 }) : new Response('{"error":{"code":"x","message":"没有"}}', { status: 404 });
      },
      openSocket: () => { const s = new FakeSocket(); sockets.push(s); return s; },
      raf: (f) => frames.push(() => f(0)),
      now: () => 0,
    });
  });

  it('subscribes for the map extent once the socket opens, applies frames once per animation frame', async () => {
    await store.start();
    expect(store.alarms.map((a) => a.id)).toEqual(['x1']);
    store.setExtent([120.7, 31.6, 120.8, 31.7], 13);
    sockets[0].open();
    expect(sockets[0].sent).toEqual([{ type: 'subscribe', bbox: padBbox([120.7, 31.6, 120.8, 31.7]) }]);
    store.setExtent([120.71, 31.61, 120.81, 31.71], 13); // a small pan: no new subscription
    expect(sockets[0].sent).toHaveLength(1);
    sockets[0].frame([{ id: 'w1', kind: 'water_level', lon: 120.75, lat: 31.65, status: 'offline', value: 3.3, ts: 1000 }]);
    sockets[0].frame([{ id: 'w1', kind: 'water_level', lon: 120.75, lat: 31.65, status: 'alarm', value: 3.9, ts: 3000 }], [alarm('a1')]);
    expect(store.overlays).toEqual([]); // nothing drawn before the frame
    expect(frames).toHaveLength(1); // two messages, one frame
    runFrames();
    expect(store.updates).toBe(2);
    const alarmMarkers = store.overlays.filter((o) => o.id.startsWith('live-alarm')) as MarkerOverlay[];
    expect(alarmMarkers.flatMap((o) => o.markers)).toHaveLength(1);
    expect(store.alarms.map((a) => a.id)).toContain('a1');
    expect(frames.length).toBe(1); // the pulse asks for the next frame
    store.stop();
  });

  it("an open device card gets the feed's readings appended to its chart", async () => {
    await store.start();
    store.setExtent([120.7, 31.6, 120.8, 31.7], 16);
    sockets[0].open();
    await store.openDevice('w1');
    expect(store.device?.readings.map((r) => r.ts)).toEqual([1000, 2000]);
    sockets[0].frame([{ id: 'w1', kind: 'water_level', lon: 120.75, lat: 31.65, status: 'alarm', value: 3.9, ts: 3000 }]);
    runFrames();
    expect(store.device?.readings.at(-1)).toEqual({ ts: 3000, value: 3.9 });
    expect(store.device?.status).toBe('alarm');
    await store.openDevice('nope');
    expect(store.deviceError).toBe('没有');
    store.stop();
  });
});
