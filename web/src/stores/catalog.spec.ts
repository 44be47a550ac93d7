import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApiError, catalogQuery, freshnessOf, groupByDepartment, requestJson, useCatalogStore, type CatalogEntry } from './catalog.ts';

function entry(id: string, department: CatalogEntry['department'], over: Partial<CatalogEntry> = {}): CatalogEntry {
  return {
    id, title: id, titleEn: id, department, departmentTitle: `部门 ${department}`, theme: '主题', geometry: 'point', grade: 'public', gradeTitle: '公开',
    description: '', updateFrequency: 'daily', updateFrequencyTitle: '每日', lastUpdate: null, fresh: null, featureCount: 1, access: 'full',
    requestable: false, approvals: 0, ...over,
  };
}
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('catalog store helpers', () => {
  it('groups by department in the order of the first entry of each, keeping the server ranking inside', () => {
    const g = groupByDepartment([entry('hazards', 'emergency'), entry('grids', 'city'), entry('shelters', 'emergency')]);
    expect(g.map((x) => [x.department, x.entries.map((e) => e.id)])).toEqual([['emergency', ['hazards', 'shelters']], ['city', ['grids']]]);
    expect(g[0].title).toBe('部门 emergency');
  });

  it('says how old the data is and keeps the server’s stale verdict', () => {
    const now = Date.UTC(2026, 4, 10, 12);
    expect(freshnessOf({ lastUpdate: now - 30_000, fresh: true }, now)).toEqual({ state: 'fresh', age: '刚刚' });
    expect(freshnessOf({ lastUpdate: now - 5 * 60_000, fresh: true }, now).age).toBe('5 分钟前');
    expect(freshnessOf({ lastUpdate: now - 3 * 3_600_000, fresh: true }, now).age).toBe('3 小时前');
    expect(freshnessOf({ lastUpdate: now - 12 * 86_400_000, fresh: false }, now)).toEqual({ state: 'stale', age: '12 天前' });
    expect(freshnessOf({ lastUpdate: null, fresh: null }, now)).toEqual({ state: 'unknown', age: null });
  });

  it('builds the query string without empty filters', () => {
    expect(catalogQuery({ q: ' 危化 ', department: '', grade: 'sensitive' })).toBe(`?q=${encodeURIComponent('危化')}&grade=sensitive`);
    expect(catalogQuery({})).toBe('');
  });

  it('turns an error answer into an ApiError with the server code and message', async () => {
    const f = async () => json(409, { error: { code: 'no_request_needed', message: '公开数据无需申请' } });
    const err = await requestJson(f, 'http://h/x', { method: 'POST', body: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 409, code: 'no_request_needed', message: '公开数据无需申请' });
    const net = await requestJson(async () => { throw new TypeError('fetch failed'); }, 'http://h/x').catch((e: unknown) => e);
    expect(net).toMatchObject({ status: 0, code: 'network' });
  });
});

describe('catalog store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('loads entries with the search and grade filter and keeps only the newest answer', async () => {
    const urls: string[] = [];
    const s = useCatalogStore();
    let release: (() => void) | null = null;
    s.configure({
      baseUrl: 'http://h',
      fetch: async (url) => {
        urls.push(url);
        if (url.includes('q=slow')) await new Promise<void>((r) => { release = r; });
        return json(200, { items: url.includes('q=slow') ? [entry('old', 'city')] : [entry('hazards', 'emergency')] });
      },
    });
    const slow = s.setFilters({ q: 'slow' });
    await s.setFilters({ q: '危险化学品', grade: 'sensitive' });
    release!();
    await slow;
    expect(urls[1]).toBe(`http://h/api/catalog?q=${encodeURIComponent('危险化学品')}&grade=sensitive`);
    expect(s.entries.map((e) => e.id)).toEqual(['hazards']);
    expect(s.groups[0].department).toBe('emergency');
  });

  it('asks for the detail again while the quality is still being computed', async () => {
    let calls = 0;
    const s = useCatalogStore();
    s.configure({
      baseUrl: 'http://h', qualityRetryMs: 5,
      fetch: async (url) => {
        expect(url).toBe('http://h/api/catalog/hazards');
        calls++;
        return json(200, { ...entry('hazards', 'emergency'), quality: calls < 2 ? null : { featureCount: 3, invalidGeometries: 0, missing: {}, computedAt: 1 } });
      },
    });
    await s.openDetail('hazards');
    expect(s.detail?.quality).toBeNull();
    await new Promise((r) => setTimeout(r, 40));
    expect(calls).toBe(2);
    expect(s.detail?.quality?.featureCount).toBe(3);
    s.closeDetail();
    expect(s.detail).toBeNull();
  });

  it('shows a failed load in Chinese with the server message', async () => {
    const s = useCatalogStore();
    s.configure({ baseUrl: 'http://h', fetch: async () => json(401, { error: { code: 'not_signed_in', message: '请先登录' } }) });
    await s.load();
    expect(s.error).toBe('无法读取数据资源目录：请先登录');
  });
});
