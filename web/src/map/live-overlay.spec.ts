import { describe, expect, it } from 'vitest';
import type { MarkerOverlay } from './overlays.ts';
import { BUCKETS, LIVE_COLOURS, LiveOverlays, PULSE_STEP_MS, TRAIL_LENGTH, type FeedDevice } from './live-overlay.ts';

const dev = (id: string, over: Partial<FeedDevice> = {}): FeedDevice => ({ id, kind: 'water_level', lon: 120.7, lat: 31.6, status: 'online', value: 1, ts: 1000, ...over });
const markerCount = (os: readonly { kind: string; id: string }[], prefix: string) =>
  os.filter((o) => o.kind === 'markers' && o.id.startsWith(prefix)).reduce((n, o) => n + (o as MarkerOverlay).markers.length, 0);

describe('live overlays', () => {
  it('draws devices by status; a reading that does not change a status leaves every overlay object as it was', () => {
    const l = new LiveOverlays();
    l.apply(Array.from({ length: 40 }, (_, i) => dev(`s${i}`, { status: i < 3 ? 'offline' : 'online' })));
    const a = l.overlays(0);
    expect(markerCount(a, 'live-offline')).toBe(3);
    expect(markerCount(a, 'live-online')).toBe(0); // hidden until zoomed in
    l.apply([dev('s10', { value: 2, ts: 2000 })]);
    expect(l.overlays(0)).toBe(a);
    expect(l.table.get('s10')?.value).toBe(2);
  });

  it('a status change rebuilds only the buckets the device left and entered', () => {
    const l = new LiveOverlays();
    l.apply(Array.from({ length: 200 }, (_, i) => dev(`s${i}`, { status: 'offline' })));
    const a = l.overlays(0);
    expect(a.filter((o) => o.id.startsWith('live-offline-')).length).toBe(BUCKETS);
    l.apply([dev('s7', { status: 'subhealth', ts: 2000 })]);
    const b = l.overlays(0);
    const same = b.filter((o) => a.includes(o));
    expect(same.length).toBe(BUCKETS - 1); // three offline buckets untouched
    expect(markerCount(b, 'live-offline')).toBe(199);
    const sub = b.find((o) => o.id.startsWith('live-subhealth')) as MarkerOverlay;
    expect(sub.markers).toHaveLength(1);
    expect(sub.markers[0].fill).toEqual(LIVE_COLOURS.subhealth);
  });

  it('alarms pulse (the ring changes with time) and stop pulsing when cleared', () => {
    const l = new LiveOverlays();
    l.apply([dev('w1', { status: 'alarm', value: 3.9 })]);
    expect(l.animating).toBe(true);
    const a = l.overlays(0);
    const ringA = a.find((o) => o.id.startsWith('live-pulse')) as MarkerOverlay;
    const b = l.overlays(3 * PULSE_STEP_MS);
    const ringB = b.find((o) => o.id.startsWith('live-pulse')) as MarkerOverlay;
    expect(ringB.markers[0].radiusPx).toBeGreaterThan(ringA.markers[0].radiusPx);
    expect(markerCount(b, 'live-alarm')).toBe(1);
    l.apply([dev('w1', { status: 'online', value: 3.5, ts: 2000 })]);
    expect(l.animating).toBe(false);
    const c = l.overlays(5 * PULSE_STEP_MS);
    expect(c.some((o) => o.id.startsWith('live-pulse') || o.id.startsWith('live-alarm'))).toBe(false);
  });

  it('keeps the last TRAIL_LENGTH positions of a moving patrol as its trail; older updates are ignored', () => {
    const l = new LiveOverlays();
    for (let i = 0; i < TRAIL_LENGTH + 10; i++) l.apply([dev('p1', { kind: 'patrol', lon: 120.7 + i * 1e-4, ts: 1000 + i })]);
    l.apply([dev('p1', { kind: 'patrol', lon: 0, ts: 5 })]);
    const os = l.overlays(0);
    const trail = os.find((o) => o.id === 'live-trails');
    expect(trail?.kind).toBe('geometries');
    const line = (trail as { geometries: GeoJSON.LineString[] }).geometries[0];
    expect(line.coordinates).toHaveLength(TRAIL_LENGTH);
    expect(line.coordinates.at(-1)![0]).toBeCloseTo(120.7 + (TRAIL_LENGTH + 9) * 1e-4, 9);
    expect(markerCount(os, 'live-patrols')).toBe(1);
  });

  it('shows online devices once zoomed in', () => {
    const l = new LiveOverlays();
    l.apply([dev('a'), dev('b')]);
    l.overlays(0);
    l.setShowOnline(true);
    expect(markerCount(l.overlays(0), 'live-online')).toBe(2);
  });
});
