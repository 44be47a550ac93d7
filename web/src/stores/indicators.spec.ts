import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { encodeFlatGeobuf } from '../../../layers/formats/flatgeobuf.ts';
import {
  choroplethOverlay, formulaErrorOf, indicatorsUrl, labelPoint, legendRows, statusFill, statusOf, useIndicatorsStore, validateDraft,
  type IndicatorDef, type IndicatorDraft, type IndicatorValue,
} from './indicators.ts';

const def = (over: Partial<IndicatorDef> = {}): IndicatorDef => ({
  id: 'incident_rate', name: '万人案件数', meaning: '', formula: 'incidents(since="30d") / population * 10000', unit: '件/万人',
  levels: ['town', 'village'], better: 'lower', thresholds: { green: 10, red: 20 }, decimals: 1, builtin: true, createdBy: null, createdAt: 0, ...over,
});
const square = (x: number, y: number, s = 1): GeoJSON.Polygon => ({ type: 'Polygon', coordinates: [[[x, y], [x + s, y], [x + s, y + s], [x, y + s], [x, y]]] });
const value = (code: string, v: number | null, status: IndicatorValue['status'], indicator = 'incident_rate'): IndicatorValue =>
  ({ indicator, level: 'town', code, name: `镇${code}`, value: v, status });

describe('indicator status and legend', () => {
  it('applies the thresholds in the better direction, inclusive at both ends', () => {
    const lower = def();
    expect([5, 10, 15, 20, 25].map((v) => statusOf(lower, v))).toEqual(['green', 'green', 'amber', 'red', 'red']);
    const higher = def({ better: 'higher', thresholds: { green: 90, red: 60 } });
    expect([95, 90, 75, 60, 10].map((v) => statusOf(higher, v))).toEqual(['green', 'green', 'amber', 'red', 'red']);
    expect(statusOf(lower, null)).toBe('none');
    expect(statusOf(lower, Number.NaN)).toBe('none');
  });
  it('says the range of each colour in the unit', () => {
    expect(legendRows(def()).map((r) => r.range)).toEqual(['≤ 10.0 件/万人', '10.0 – 20.0 件/万人', '≥ 20.0 件/万人', '']);
    expect(legendRows(def({ better: 'higher', thresholds: { green: 90, red: 60 }, decimals: 0, unit: '%' })).map((r) => r.range))
      .toEqual(['≥ 90 %', '60 – 90 %', '≤ 60 %', '']);
  });
  it('builds the request', () => {
    const u = new URL(indicatorsUrl('http://h/', { level: 'grid', at: 123, indicator: 'x_y' }));
    expect(u.pathname).toBe('/api/indicators');
    expect(Object.fromEntries(u.searchParams)).toEqual({ level: 'grid', at: '123', indicator: 'x_y' });
  });
});

describe('formula errors and form checks', () => {
  it('finds the position in the error object or in the message', () => {
    expect(formulaErrorOf({ error: { code: 'unknown_measure', message: '未知的量 foo', position: 7, field: 'formula' } }, 422)).toEqual({ message: '未知的量 foo', position: 7, field: 'formula' });
    expect(formulaErrorOf({ error: { code: 'bad_formula', message: 'x', details: { position: 3 } } }, 422)).toEqual({ message: 'x', position: 3, field: 'formula' });
    expect(formulaErrorOf({ error: { message: '位置 12：缺少右括号' } }, 422).position).toBe(12);
    expect(formulaErrorOf({ error: { code: 'bad_thresholds', message: 't', field: 'thresholds' } }, 422)).toEqual({ message: 't', position: null, field: 'thresholds' });
    expect(formulaErrorOf(null, 500)).toEqual({ message: 'HTTP 500', position: null, field: null });
  });
  it('checks id, thresholds in the better direction, levels and decimals', () => {
    const d: IndicatorDraft = { id: 'park_ratio', name: '公园', meaning: '每镇公园数', formula: 'features(layer="facilities")', unit: '个', levels: ['town'], better: 'higher', thresholds: { green: 5, red: 1 }, decimals: 0 };
    expect(validateDraft(d)).toEqual({});
    expect(Object.keys(validateDraft({ ...d, id: '9bad', levels: [], decimals: 5, formula: ' ', meaning: ' ' })).sort()).toEqual(['decimals', 'formula', 'id', 'levels', 'meaning']);
    expect(validateDraft({ ...d, thresholds: { green: 1, red: 5 } }).thresholds).toBe('indicator.form.thresholdOrder');
    expect(validateDraft({ ...d, thresholds: { green: 5, red: 5 } }).thresholds).toBe('indicator.form.thresholdOrder');
    expect(validateDraft({ ...d, better: 'lower', thresholds: { green: 1, red: 5 } })).toEqual({});
    expect(validateDraft({ ...d, thresholds: { green: Number.NaN, red: 1 } }).thresholds).toBe('indicator.form.badThresholds');
  });
});

describe('the choropleth', () => {
  it('puts the label inside a bent area', () => {
    // An L whose area centroid lies outside it.
    const l: GeoJSON.Polygon = { type: 'Polygon', coordinates: [[[0, 0], [10, 0], [10, 1], [1, 1], [1, 10], [0, 10], [0, 0]]] };
    const [x, y] = labelPoint(l);
    expect((x >= 0 && x <= 10 && y >= 0 && y <= 1) || (x >= 0 && x <= 1 && y >= 0 && y <= 10)).toBe(true);
    const [mx, my] = labelPoint({ type: 'MultiPolygon', coordinates: [square(0, 0, 1).coordinates, square(5, 5, 3).coordinates] });
    expect([mx, my]).toEqual([6.5, 6.5]);
  });
  it('colours each area by its status, leaves out areas without a row, labels towns', () => {
    const areas = ['a', 'b', 'c', 'd'].map((code, i) => ({ code, name: code.toUpperCase(), geometry: square(i, 0), labelAt: [i + 0.5, 0.5] as [number, number] }));
    const values = [value('a', 5, 'green'), value('b', 15, 'amber'), value('c', null, 'none'), value('a', 99, 'red', 'other')];
    const o = choroplethOverlay(def(), 'town', values, areas);
    expect(o.kind).toBe('areas');
    expect(o.areas.map((a) => [a.id, a.fill])).toEqual([['a', statusFill('green')], ['b', statusFill('amber')], ['c', statusFill('none')]]);
    expect(o.areas[0].label).toBe('A 5.0');
    expect(o.areas[2].label).toBe('C —');
    expect(choroplethOverlay(def(), 'grid', values, areas).areas.every((a) => a.label === undefined)).toBe(true);
  });
});

describe('the indicators store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('loads a level, picks an indicator shown there, sorts worst first, and draws it once the areas are in', async () => {
    const fgb = encodeFlatGeobuf(['t1', 't2', 't3'].map((code, i) => ({ type: 'Feature', geometry: square(i, 0), properties: { id: code, code, name: `镇${i}` } })), { layerName: 'towns' });
    const urls: string[] = [];
    const store = useIndicatorsStore();
    store.configure({ baseUrl: 'http://h', fetch: async (url) => {
      urls.push(url);
      if (url.endsWith('/data/towns.fgb')) return new Response(fgb as Uint8Array<ArrayBuffer>);
      const lv = new URL(url).searchParams.get('level');
      return new Response(JSON.stringify({
        at: 1000, level: lv, definitions: [def({ id: 'grid_only', levels: ['grid'] }), def()],
        values: [value('t1', 5, 'green'), value('t2', 25, 'red'), value('t3', 15, 'amber')],
      }));
    } });
    await store.load();
    expect(new URL(urls[0]).searchParams.get('level')).toBe('town');
    expect(store.selected).toBe('incident_rate'); // grid_only is not shown at town level
    expect(store.rows.map((r) => r.code)).toEqual(['t2', 't3', 't1']);
    expect(store.counts).toEqual({ green: 1, amber: 1, red: 1, none: 0 });
    expect(store.overlays).toEqual([]);
    await store.setOnMap(true); // the file is in Hilbert order, not the order written
    expect(store.overlay?.areas.map((a) => [a.id, a.fill[0]]).sort()).toEqual([['t1', 26], ['t2', 215], ['t3', 245]]);
    await store.setOnMap(false);
    expect(store.overlays).toEqual([]);
  });

  it('returns a preview error with its position and keeps nothing', async () => {
    const store = useIndicatorsStore();
    const bodies: unknown[] = [];
    store.configure({ baseUrl: 'http://h', fetch: async (_url, init) => {
      bodies.push(JSON.parse(String(init?.body)));
      return new Response(JSON.stringify({ error: { code: 'bad_formula', message: '不认识的量「foo」', position: 4 } }), { status: 422 });
    } });
    const r = await store.preview('1 + foo', 'town');
    expect(r).toEqual({ error: { message: '不认识的量「foo」', position: 4, field: 'formula' } });
    expect(bodies).toEqual([{ formula: '1 + foo', level: 'town' }]);
    expect(store.definitions).toEqual([]);
  });
});
