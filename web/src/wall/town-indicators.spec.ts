import { describe, expect, it, vi } from 'vitest';
import type { IndicatorDef, IndicatorValue } from '../../../layers/indicators/model.ts';
import { chosenFromUrl, MAX_COLUMNS, startTownIndicators, townTable } from './town-indicators.ts';

const def = (id: string, over: Partial<IndicatorDef> = {}): IndicatorDef => ({
  id, name: id.toUpperCase(), meaning: 'm', formula: '1', unit: '%', levels: ['city', 'town'], better: 'higher',
  thresholds: { green: 90, red: 70 }, decimals: 1, builtin: true, createdBy: null, createdAt: 0, ...over,
});
const v = (indicator: string, code: string, value: number | null, status: IndicatorValue['status'], level: IndicatorValue['level'] = 'town'): IndicatorValue =>
  ({ indicator, level, code, name: `镇${code}`, value, status });

describe('the wall town-indicator table', () => {
  it('takes the first town-level definitions, built-ins first, and puts the towns needing attention on top', () => {
    const defs = [def('custom', { builtin: false }), def('a'), def('grid_only', { levels: ['grid'] }), def('b', { decimals: 0 }), def('c'), def('d'), def('e')];
    const t = townTable({ at: 5, definitions: defs, values: [
      v('a', '1', 95, 'green'), v('b', '1', 80.4, 'amber'),
      v('a', '2', 50, 'red'), v('b', '2', null, 'none'),
      v('a', '3', 99, 'green'), v('b', '3', 99, 'green'),
      v('a', '320581', 60, 'red', 'city'),
    ] });
    expect(t.columns.map((c) => c.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(t.columns).toHaveLength(MAX_COLUMNS);
    expect(t.rows.map((r) => r.code)).toEqual(['2', '1', '3']);
    expect(t.rows[1].cells.map((c) => [c.text, c.status])).toEqual([['95.0', 'green'], ['80', 'amber'], ['—', 'none'], ['—', 'none']]);
    expect(t.at).toBe(5);
  });
  it('follows the chosen columns, dropping unknown ones', () => {
    const defs = [def('a'), def('b'), def('custom', { builtin: false })];
    expect(townTable({ at: null, definitions: defs, values: [] }, ['custom', 'nope', 'a']).columns.map((c) => c.id)).toEqual(['custom', 'a']);
    expect(chosenFromUrl('?layout=wall&indicators=custom,%20a,')).toEqual(['custom', 'a']);
    expect(chosenFromUrl('?layout=wall')).toBeNull();
  });
  it('fetches the town level and reports refusals', async () => {
    const urls: string[] = [];
    const got: unknown[] = [];
    const fetchFn = vi.fn(async (url: string) => { urls.push(url); return new Response(JSON.stringify({ error: { code: 'forbidden', message: '无权查看' } }), { status: 403 }); });
    const stop = startTownIndicators('http://h/', { table: (x) => got.push(x), error: (d) => got.push(d) }, fetchFn as unknown as typeof fetch);
    await vi.waitFor(() => expect(got).toEqual(['无权查看']));
    stop();
    expect(urls).toEqual(['http://h/api/indicators?level=town']);
  });
});
