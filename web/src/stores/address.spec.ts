import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SEARCH_DEBOUNCE_MS, useAddressStore } from './address.ts';

interface Call { url: string; signal?: AbortSignal }

/** A fetch that records calls and answers from `routes` (first key the URL contains), optionally late. */
function fakeFetch(routes: Record<string, { status?: number; body: unknown; delayMs?: number }>) {
  const calls: Call[] = [];
  const fn = (url: string, init?: { signal?: AbortSignal }) => {
    calls.push({ url, signal: init?.signal });
    const key = Object.keys(routes).find((k) => url.includes(k));
    const r = key ? routes[key] : { status: 404, body: { error: { code: 'not_found', message: '没有这个接口' } } };
    const res = { ok: (r.status ?? 200) < 400, status: r.status ?? 200, json: async () => r.body };
    return new Promise<typeof res>((resolve) => setTimeout(() => resolve(res), r.delayMs ?? 0));
  };
  return { fn, calls };
}

const hit = (code: string) => ({ score: 1, reason: 'exact', detail: '完全匹配', lon: 120.75, lat: 31.65, grid: null,
  record: { code, full: `常熟市海虞北路${code}号`, lon: 120.75, lat: 31.65, grid_code: 'g', town_code: 't', village_code: 'v', level: 'door' } });

beforeEach(() => {
  setActivePinia(createPinia());
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

describe('address store', () => {
  it('debounces typing into one search for the last text', async () => {
    const f = fakeFetch({ '/api/address/search': { body: { results: [hit('1')] } } });
    const s = useAddressStore();
    s.configure({ fetch: f.fn });
    for (const text of ['海', '海虞', '海虞北路']) {
      s.setQuery(text);
      await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS / 2);
    }
    expect(f.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS);
    expect(f.calls).toHaveLength(1);
    expect(decodeURIComponent(f.calls[0].url)).toContain('q=海虞北路');
    expect(s.results.map((r) => r.record.code)).toEqual(['1']);
    expect(s.loading).toBe(false);
  });

  it('ignores input while an IME is composing and searches the committed text', async () => {
    const f = fakeFetch({ '/api/address/search': { body: { results: [] } } });
    const s = useAddressStore();
    s.configure({ fetch: f.fn });
    s.compositionStart();
    s.setQuery('hai');
    s.setQuery('haiyu');
    await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS * 3);
    expect(f.calls).toHaveLength(0);
    s.compositionEnd('海虞');
    await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS);
    expect(f.calls).toHaveLength(1);
    expect(decodeURIComponent(f.calls[0].url)).toContain('q=海虞');
    expect(s.composing).toBe(false);
  });

  it('keeps only the newest answer when searches overlap', async () => {
    const f = fakeFetch({
      '/api/address/search?q=%E6%97%A7': { body: { results: [hit('old')] }, delayMs: 500 }, // 旧, slow
      '/api/address/search?q=%E6%96%B0': { body: { results: [hit('new')] }, delayMs: 10 }, // 新, fast
    });
    const s = useAddressStore();
    s.configure({ fetch: f.fn });
    const a = s.search('旧');
    const b = s.search('新');
    await vi.advanceTimersByTimeAsync(600);
    await Promise.all([a, b]);
    expect(f.calls[0].signal?.aborted).toBe(true);
    expect(s.results.map((r) => r.record.code)).toEqual(['new']);
  });

  it('shows the API error message and clears results on failure', async () => {
    const f = fakeFetch({ '/api/address/search': { status: 400, body: { error: { code: 'q_too_long', message: 'q 最长 200 个字符' } } } });
    const s = useAddressStore();
    s.configure({ fetch: f.fn });
    const p = s.search('海虞北路');
    await vi.advanceTimersByTimeAsync(1);
    await p;
    expect(s.error).toBe('q 最长 200 个字符');
    expect(s.results).toEqual([]);
  });

  it('clears results without a request when the box is emptied', async () => {
    const f = fakeFetch({ '/api/address/search': { body: { results: [hit('1')] } } });
    const s = useAddressStore();
    s.configure({ fetch: f.fn });
    s.setQuery('海虞');
    s.setQuery('  ');
    await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS * 2);
    expect(f.calls).toHaveLength(0);
    expect(s.results).toEqual([]);
  });

  it('reverse geocodes a point and opens that address card; outside the city gives the error', async () => {
    const card = { record: hit('9').record, grid: { code: 'g', name: '第1网格' }, links: { households: [], cameras: [] } };
    const f = fakeFetch({
      '/api/address/reverse?lon=120.7500000': { body: { lon: 120.75, lat: 31.65, distanceM: 3, record: hit('9').record, grid: null } },
      '/api/address/reverse?lon=116': { status: 404, body: { error: { code: 'outside_city', message: '该点不在常熟市范围内' } } },
      '/api/address/9': { body: card },
    });
    const s = useAddressStore();
    s.configure({ baseUrl: 'http://127.0.0.1:1/', fetch: f.fn });
    const p = s.reverse(120.75, 31.65);
    await vi.advanceTimersByTimeAsync(5);
    expect((await p)?.record.code).toBe('9');
    expect(f.calls.map((c) => c.url)).toEqual(['http://127.0.0.1:1/api/address/reverse?lon=120.7500000&lat=31.6500000', 'http://127.0.0.1:1/api/address/9']);
    expect(s.card?.grid?.name).toBe('第1网格');
    const q = s.reverse(116.39, 39.91);
    await vi.advanceTimersByTimeAsync(5);
    expect(await q).toBeNull();
    expect(s.card).toBeNull();
    expect(s.cardError).toBe('该点不在常熟市范围内');
  });
});
