import { describe, expect, it } from 'vitest';
import { getLayer } from '../catalog.ts';
import { coerceValue, mapFields } from './schema.ts';

const facilities = getLayer('facilities')!;
const grids = getLayer('grids')!;

describe('mapFields', () => {
  it('matches names, Chinese titles and dBASE-truncated names, case-insensitive', () => {
    expect(mapFields(facilities, ['NAME', '类型', '地址', '主管部门', '编号'])).toEqual({ NAME: 'name', 类型: 'kind', 地址: 'address', 主管部门: 'department', 编号: null });
    expect(mapFields(grids, ['village_co', 'manager_ph'])).toEqual({ village_co: 'village_code', manager_ph: 'manager_phone' });
  });
  it('maps a field once, and lets the caller override', () => {
    expect(mapFields(facilities, ['name', '名称'])).toEqual({ name: 'name', 名称: null });
    expect(mapFields(facilities, ['编号', 'name'], { 编号: 'id', name: null })).toEqual({ 编号: 'id', name: null });
    expect(() => mapFields(facilities, ['x'], { x: 'nope' })).toThrow(/没有字段 nope/);
  });
});

describe('coerceValue', () => {
  const f = (type: 'string' | 'int' | 'number' | 'boolean' | 'datetime') => ({ name: 'v', type, title: '值' });
  it('converts text to the field type', () => {
    expect(coerceValue(f('int'), '12').value).toBe(12);
    expect(coerceValue(f('number'), ' 3.5 ').value).toBe(3.5);
    expect(coerceValue(f('boolean'), '是').value).toBe(true);
    expect(coerceValue(f('boolean'), 'N').value).toBe(false);
    expect(coerceValue(f('string'), 42).value).toBe('42');
    expect(coerceValue(f('string'), '  ').value).toBeNull();
  });
  it('reads zone-less datetimes as China time (UTC+8)', () => {
    expect(coerceValue(f('datetime'), '2026-05-01 08:00').value).toBe('2026-05-01T00:00:00Z');
    expect(coerceValue(f('datetime'), '2026/5/1').value).toBe('2026-04-30T16:00:00Z');
    expect(coerceValue(f('datetime'), '2026-05-01T08:00:00Z').value).toBe('2026-05-01T08:00:00Z');
    expect(coerceValue(f('datetime'), '2026-05-01T08:00:00+0800').value).toBe('2026-05-01T00:00:00Z');
  });
  it('gives an issue naming the field for bad values', () => {
    expect(coerceValue(f('int'), '1.5').issue).toMatchObject({ code: 'bad_value', path: 'properties.v' });
    expect(coerceValue(f('datetime'), 'soon').issue?.message).toMatch(/值/);
    expect(coerceValue(f('boolean'), 'maybe').issue).toBeDefined();
  });
});
