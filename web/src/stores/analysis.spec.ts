import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { MAX_DISTANCE_M } from '../../../layers/query/types.ts';
import { buildQueryBody, downloadName, localToIso, representativePoint, resultRows, useAnalysisStore, type QueryInput } from './analysis.ts';

const square: GeoJSON.Polygon = { type: 'Polygon', coordinates: [[[120.74, 31.64], [120.76, 31.64], [120.76, 31.66], [120.74, 31.64]]] };
const base: QueryInput = {
  source: 'drawn', drawn: square, feature: null, road: null, bufferM: 0, layers: ['cameras'], predicate: 'intersects',
  distanceM: 100, filter: null, time: null, limit: 1000,
};

describe('buildQueryBody', () => {
  it('sends the drawn geometry, layers, predicate and limit', () => {
    expect(buildQueryBody(base)).toEqual({ body: { geometry: square, layers: ['cameras'], predicate: 'intersects', limit: 1000 } });
  });

  it('sends a feature id instead of a geometry, with its buffer', () => {
    const r = buildQueryBody({ ...base, source: 'feature', feature: { layer: 'roads', id: 'r-1', name: '海虞北路' }, bufferM: 50 });
    expect(r).toEqual({ body: { feature: { layer: 'roads', id: 'r-1' }, buffer: 50, layers: ['cameras'], predicate: 'intersects', limit: 1000 } });
  });

  it('says what is missing', () => {
    expect(buildQueryBody({ ...base, drawn: null })).toEqual({ problem: 'analysis.needShape' });
    expect(buildQueryBody({ ...base, source: 'road' })).toEqual({ problem: 'analysis.needShape' });
    expect(buildQueryBody({ ...base, layers: [] })).toEqual({ problem: 'analysis.needLayers' });
    expect(buildQueryBody({ ...base, bufferM: MAX_DISTANCE_M + 1 })).toEqual({ problem: 'analysis.badBuffer' });
    expect(buildQueryBody({ ...base, predicate: 'dwithin', distanceM: -1 })).toEqual({ problem: 'analysis.badDistance' });
  });

  it('types filter values by the catalog field and drops filters on layers not searched', () => {
    const r = buildQueryBody({ ...base, filter: { layer: 'cameras', field: 'range_m', op: 'ge', value: ' 80 ' } });
    expect('body' in r && r.body.where).toEqual({ cameras: [{ field: 'range_m', op: 'ge', value: 80 }] });
    expect(buildQueryBody({ ...base, filter: { layer: 'cameras', field: 'range_m', op: 'ge', value: 'far' } })).toEqual({ problem: 'analysis.badFilter' });
    const other = buildQueryBody({ ...base, filter: { layer: 'sensors', field: 'kind', op: 'eq', value: 'gas' } });
    expect('body' in other && other.body.where).toBeUndefined();
  });

  it('sends the time window only when a time-stamped layer is searched, and exports without a page limit', () => {
    const time = { from: '2026-05-01T00:00:00Z', to: '' };
    const none = buildQueryBody({ ...base, time });
    expect('body' in none && none.body.time).toBeUndefined();
    const r = buildQueryBody({ ...base, layers: ['cameras', 'incidents'], time }, 'csv');
    expect('body' in r && r.body).toMatchObject({ time: { from: '2026-05-01T00:00:00Z' }, format: 'csv' });
    expect('body' in r && 'limit' in r.body).toBe(false);
  });
});

describe('helpers', () => {
  it('makes table rows from a query answer', () => {
    const rows = resultRows({ layers: [], features: { type: 'FeatureCollection', features: [
      { type: 'Feature', id: 'a-1', geometry: { type: 'Point', coordinates: [1, 2] }, properties: { layer: 'addresses', id: 'a-1', full: '常熟市海虞北路6号' } },
      { type: 'Feature', id: 'c-1', geometry: { type: 'Point', coordinates: [1, 2] }, properties: { layer: 'cameras', id: 'c-1' } },
    ] } });
    expect(rows.map((r) => [r.key, r.label])).toEqual([['addresses/a-1', '常熟市海虞北路6号'], ['cameras/c-1', 'c-1']]);
  });

  it('reads the download name from Content-Disposition (RFC 6266 filename* first)', () => {
    expect(downloadName(`attachment; filename="q.csv"; filename*=UTF-8''%E6%9F%A5%E8%AF%A2.csv`, 'x')).toBe('查询.csv');
    expect(downloadName('attachment; filename="q.csv"', 'x')).toBe('q.csv');
    expect(downloadName(null, 'onemap.fgb')).toBe('onemap.fgb');
  });

  it('flies to a point itself and to the bbox centre of anything else', () => {
    expect(representativePoint({ type: 'Point', coordinates: [1, 2] })).toEqual([1, 2]);
    expect(representativePoint(square)).toEqual([120.75, 31.65]);
    expect(representativePoint(null)).toBeNull();
  });

  it('converts a datetime-local value to ISO UTC text', () => {
    expect(localToIso('')).toBe('');
    expect(localToIso('2026-05-01T08:00')).toBe(new Date('2026-05-01T08:00').toISOString().replace('.000Z', 'Z'));
  });
});

describe('the analysis store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('posts the query, pages the rows and flies to a focused row', async () => {
    const sent: { url: string; body: unknown }[] = [];
    const features = Array.from({ length: 120 }, (_, i) => ({ type: 'Feature', id: `c-${i}`, geometry: { type: 'Point', coordinates: [120 + i / 1000, 31] }, properties: { layer: 'cameras', id: `c-${i}` } }));
    const store = useAnalysisStore();
    store.configure({ baseUrl: 'http://127.0.0.1:1', fetch: async (url, init) => {
      sent.push({ url, body: JSON.parse(String(init?.body)) });
      return new Response(JSON.stringify({ layers: [{ layer: 'cameras', count: 500, returned: 120 }], features: { type: 'FeatureCollection', features } }), { status: 200 });
    } });
    store.useDrawn('polygon-1', square);
    await store.run();
    expect(sent[0].url).toBe('http://127.0.0.1:1/api/query');
    expect(sent[0].body).toMatchObject({ geometry: square, layers: ['addresses', 'cameras'], predicate: 'intersects' });
    expect(store.rows.length).toBe(120);
    expect(store.pageCount).toBe(3);
    expect(store.pageRows[0].id).toBe('c-0');
    store.page = 2;
    expect(store.pageRows.map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => `c-${100 + i}`));
    store.focus('cameras/c-7');
    expect(store.flyRequest?.lonLat).toEqual([120.007, 31]);
    expect(store.overlays.map((o) => o.id)).toEqual(['query-shape', 'query-hits', 'query-focus']);
  });

  it('keeps the server’s error message', async () => {
    const store = useAnalysisStore();
    store.configure({ fetch: async () => new Response(JSON.stringify({ error: { code: 'invalid_geometry', message: '多边形自相交' } }), { status: 400 }) });
    store.useDrawn('polygon-1', square);
    expect(await store.run()).toBeNull();
    expect(store.error).toBe('多边形自相交');
  });
});
