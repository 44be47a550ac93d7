import { describe, expect, it } from 'vitest';
import { buildGazetteer, TOWN_ALIASES } from './gazetteer.ts';

const src = {
  provinces: [{ code: '32', name: '江苏省' }, { code: '45', name: '广西壮族自治区' }],
  cities: [{ code: '3205', name: '苏州市', provinceCode: '32' }, { code: '3201', name: '市辖区', provinceCode: '32' }],
  areas: [{ code: '320581', name: '常熟市', cityCode: '3205', provinceCode: '32' }],
  streets: [{ code: '320581001', name: '虞山街道', areaCode: '320581' }],
  villages: [{ code: '320581002213', name: '五新村委会', streetCode: '320581002' }, { code: '320581001001', name: '花园浜社区居委会', streetCode: '320581001' }],
};

describe('buildGazetteer', () => {
  const g = buildGazetteer(src);
  it('indexes full names and short forms', () => {
    expect(g.lookup('江苏省')[0]).toMatchObject({ level: 'prov', code: '32', short: false });
    expect(g.lookup('广西')[0]).toMatchObject({ level: 'prov', code: '45', short: true });
    expect(g.lookup('常熟')[0]).toMatchObject({ level: 'district', code: '320581', parent: '3205', short: true });
    expect(g.lookup('虞山')[0]).toMatchObject({ level: 'town', short: true });
    expect(g.lookup('五新村')[0]).toMatchObject({ level: 'community', code: '320581002213' });
    expect(g.lookup('花园浜社区')[0]).toMatchObject({ level: 'community' });
  });
  it('skips placeholders and one-character short forms', () => {
    expect(g.lookup('市辖区')).toEqual([]);
    expect(g.byCode('3201')).toBeUndefined();
    expect(g.size).toBe(7);
  });
  it('does not mutate its input', () => {
    const copy = JSON.stringify(src);
    buildGazetteer(src);
    expect(JSON.stringify(src)).toBe(copy);
  });
  it('indexes former names as aliases of the current unit, and skips aliases of units it does not hold', () => {
    const a = buildGazetteer({ ...src, aliases: [{ name: '虞山镇', code: '320581001', until: '2017-11', source: 'test' }, { name: '王庄镇', code: '320581111', until: '2005', source: 'test' }] });
    expect(a.lookup('虞山镇')[0]).toMatchObject({ level: 'town', code: '320581001', name: '虞山街道', short: false, alias: '虞山镇' });
    expect(a.lookup('王庄镇')).toEqual([]);
    expect(a.size).toBe(7);
  });
  it('has well-formed former-name entries (9-digit town codes of 常熟市, a source each)', () => {
    for (const x of TOWN_ALIASES) {
      expect(x.code).toMatch(/^320581\d{3}$/);
      expect(x.name).toMatch(/(?:镇|乡|街道)$/);
      expect(x.source.length).toBeGreaterThan(5);
    }
  });
});
