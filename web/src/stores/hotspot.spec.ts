import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { HOTSPOT_DEBOUNCE_MS, extentDays, hotspotUrl, useHotspotStore, windowFor } from './hotspot.ts';

const extent = { from: '2025-11-28T00:00:00Z', to: '2026-11-28T00:00:00Z', count: 30000 };
const reply = (window: { from: string; to: string }) => ({
  layer: 'incidents', window, extent, count: 3,
  grid: { west: 120, south: 31, east: 121, north: 32, cols: 2, rows: 1, cellM: 200, max: 4, values: [0, 4] },
  clusters: [{ id: 0, count: 3, center: [120.5, 31.5] }],
});

describe('hot-spot windows', () => {
  it('counts whole days and slides a window ending on a day', () => {
    expect(extentDays(extent)).toBe(365);
    expect(windowFor(extent.from, 365, 30)).toEqual({ from: '2026-10-29T00:00:00Z', to: '2026-11-28T00:00:00Z' });
    expect(windowFor(extent.from, 30, 30)).toEqual({ from: '2025-11-28T00:00:00Z', to: '2025-12-28T00:00:00Z' });
  });
  it('builds the request', () => {
    const u = new URL(hotspotUrl('http://h', { from: 'a', to: 'b', category: '0101' }));
    expect(u.pathname).toBe('/api/hotspots');
    expect(Object.fromEntries(u.searchParams)).toMatchObject({ layer: 'incidents', from: 'a', to: 'b', category: '0101' });
    expect(new URL(hotspotUrl('http://h', {})).searchParams.has('from')).toBe(false);
  });
});

describe('the hot-spot store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('learns the extent from the first answer, then slides the window by day (debounced)', async () => {
    vi.useFakeTimers();
    try {
      const urls: string[] = [];
      const store = useHotspotStore();
      store.configure({ baseUrl: 'http://h', fetch: async (url) => {
        urls.push(url);
        const q = new URL(url).searchParams;
        return new Response(JSON.stringify(reply({ from: q.get('from') ?? '2026-10-29T00:00:00Z', to: q.get('to') ?? extent.to })));
      } });
      await store.setEnabled(true);
      expect(new URL(urls[0]).searchParams.has('from')).toBe(false);
      expect(store.maxDay).toBe(365);
      expect(store.endDay).toBe(365);
      expect(store.overlays.map((o) => o.kind)).toEqual(['grid', 'markers']);
      store.setEndDay(100);
      store.setEndDay(101);
      store.setCategory('1401');
      expect(urls.length).toBe(1);
      await vi.advanceTimersByTimeAsync(HOTSPOT_DEBOUNCE_MS + 10);
      expect(urls.length).toBe(2);
      expect(Object.fromEntries(new URL(urls[1]).searchParams)).toMatchObject({ ...windowFor(extent.from, 101, 30), category: '1401' });
      store.setEndDay(5); // never before a whole window
      expect(store.endDay).toBe(30);
      await store.setEnabled(false);
      expect(store.overlays).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });
});
