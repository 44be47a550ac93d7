import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { featurePoint, lookupUrl, useLookupStore } from './lookup.ts';

const answer = (lon: number, lat: number) => ({
  query: { lon, lat, source: 'point' }, town: { code: '320581003', name: '琴川街道' }, village: null, grid: null, address: null,
  cameras: [], sensors: [], facilities: [], nearby: { sensors: {}, facilities: {} }, radiusM: 300, incidents: [], store: 'embedded',
});

describe('lookupUrl', () => {
  it('asks by point, address text or feature id', () => {
    expect(lookupUrl('http://h/', { lon: 120.75, lat: 31.65 })).toBe('http://h/api/lookup?lon=120.7500000&lat=31.6500000');
    expect(lookupUrl('', { address: '海虞北路6号' })).toBe(`/api/lookup?address=${encodeURIComponent('海虞北路6号')}`);
    expect(lookupUrl('', { layer: 'cameras', id: 'cam 1' })).toBe('/api/lookup?layer=cameras&id=cam+1');
  });
  it('reads a nearby feature’s point', () => {
    expect(featurePoint({ lon: 1, lat: 2 })).toEqual([1, 2]);
    expect(featurePoint({ lon: null, lat: 2 })).toBeNull();
  });
});

describe('the lookup store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('keeps only the latest of two overlapping lookups', async () => {
    const store = useLookupStore();
    const pending: { url: string; resolve: (r: Response) => void; signal?: AbortSignal }[] = [];
    store.configure({ fetch: (url, init) => new Promise((resolve, reject) => {
      init?.signal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })));
      pending.push({ url, resolve, signal: init?.signal ?? undefined });
    }) });
    const first = store.lookupAt([120.1, 31.1]);
    const second = store.lookupAt([120.2, 31.2]);
    expect(pending[0].signal?.aborted).toBe(true);
    pending[1].resolve(new Response(JSON.stringify(answer(120.2, 31.2))));
    await Promise.all([first, second]);
    expect(store.result?.query.lon).toBe(120.2);
    expect(store.loading).toBe(false);
    expect(store.error).toBeNull();
    expect(store.overlays[0].markers[0].lonLat).toEqual([120.2, 31.2]);
  });

  it('shows the server’s message on failure, retries, and stops looking up once closed until reopened', async () => {
    const store = useLookupStore();
    let calls = 0;
    store.configure({ fetch: async () => (++calls === 1
      ? new Response(JSON.stringify({ error: { code: 'bad_coordinate', message: '经度超出范围' } }), { status: 400 })
      : new Response(JSON.stringify(answer(120, 31)))) });
    await store.lookupAt([120, 31]);
    expect(store.error).toBe('经度超出范围');
    await store.retry();
    expect(store.error).toBeNull();
    expect(store.result?.town?.name).toBe('琴川街道');
    store.close();
    expect(store.result).toBeNull();
    expect(store.overlays).toEqual([]);
  });
});
