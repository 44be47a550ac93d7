import { describe, expect, it } from 'vitest';
import { dayRange, localDay, openSqlitePatrolStore, parseCheckIn, trackLength } from './patrol.ts';

const NOW = Date.UTC(2026, 10, 29, 6, 0, 0); // 14:00 in Changshu

describe('patrol', () => {
  it('days are China calendar days', () => {
    const [a, b] = dayRange('2026-11-29');
    expect(new Date(a).toISOString()).toBe('2026-11-28T16:00:00.000Z');
    expect(b - a).toBe(86_400_000);
    expect(localDay(a)).toBe('2026-11-29');
    expect(localDay(a - 1)).toBe('2026-11-28');
    expect(() => dayRange('2026-02-30')).toThrow(/date/);
    expect(() => dayRange('29/11/2026')).toThrow(/date/);
  });

  it('checks a check-in body', () => {
    expect(parseCheckIn({ lon: 120.75, lat: 31.65, at: NOW - 1000, accuracy: 12.34 }, NOW)).toEqual({ lon: 120.75, lat: 31.65, at: NOW - 1000, accuracy: 12.3 });
    expect(() => parseCheckIn({ lon: 116.4, lat: 39.9, at: NOW }, NOW)).toThrow(/outside|范围/);
    expect(() => parseCheckIn({ lon: 120.75, lat: 31.65, at: NOW - 8 * 86_400_000 }, NOW)).toThrow(/at/);
    expect(() => parseCheckIn({ lon: 120.75, lat: 31.65, at: NOW, extra: 1 }, NOW)).toThrow(/extra/);
  });

  it('measures a track', () => {
    // 0.01° of latitude ≈ 1112 m
    expect(trackLength([{ lon: 120.75, lat: 31.65 }, { lon: 120.75, lat: 31.66 }])).toBeCloseTo(1111.9, 0);
    expect(trackLength([{ lon: 120.75, lat: 31.65 }])).toBe(0);
  });

  it('stores a resent check-in once', async () => {
    const store = await openSqlitePatrolStore(':memory:');
    const c = { userId: 'grid-1', lon: 120.75, lat: 31.65, at: NOW, accuracy: null, receivedAt: NOW };
    expect(await store.add(c)).toBe(true);
    expect(await store.add({ ...c, receivedAt: NOW + 5 })).toBe(false);
    expect(await store.add({ ...c, at: NOW + 60_000, lat: 31.651 })).toBe(true);
    expect(await store.add({ ...c, userId: 'grid-2' })).toBe(true);
    const t = await store.track('grid-1', NOW - 1, NOW + 86_400_000, 100);
    expect(t.map((x) => x.at)).toEqual([NOW, NOW + 60_000]);
    await store.close();
  });
});
