import { describe, expect, it } from 'vitest';
import { getLayer } from '../catalog.ts';
import { compileFilters, QueryInputError } from './filters.ts';

const incidents = getLayer('incidents')!;
const cameras = getLayer('cameras')!;

describe('compileFilters', () => {
  it('returns null when there is nothing to filter', () => {
    expect(compileFilters(cameras)).toBeNull();
    expect(compileFilters(cameras, [])).toBeNull();
  });
  it('ANDs conditions with SQL NULL semantics', () => {
    const f = compileFilters(cameras, [{ field: 'status', op: 'ne', value: 'offline' }, { field: 'range_m', op: 'ge', value: 50 }])!;
    expect(f.fields).toEqual(['status', 'range_m']);
    expect(f.matches({ status: 'online', range_m: 60 })).toBe(true);
    expect(f.matches({ status: 'offline', range_m: 60 })).toBe(false);
    expect(f.matches({ status: 'online', range_m: 40 })).toBe(false);
    expect(f.matches({ range_m: 60 })).toBe(false); // NULL <> 'offline' is not true
    const g = compileFilters(cameras, [{ field: 'name', op: 'prefix', value: '琴川' }, { field: 'kind', op: 'in', value: ['a', 'b'] }])!;
    expect(g.matches({ name: '琴川街道1号', kind: 'b' })).toBe(true);
    expect(g.matches({ name: '虞山琴川', kind: 'b' })).toBe(false);
  });
  it('time windows are half-open [from, to) over the layer time field', () => {
    const f = compileFilters(incidents, undefined, { from: '2026-05-01T00:00:00Z', to: '2026-05-02T00:00:00Z' })!;
    expect(f.fields).toEqual(['reported_at']);
    expect(f.matches({ reported_at: '2026-05-01T00:00:00Z' })).toBe(true);
    expect(f.matches({ reported_at: '2026-05-01T23:59:59Z' })).toBe(true);
    expect(f.matches({ reported_at: '2026-05-02T00:00:00Z' })).toBe(false);
    expect(f.test((k) => (k === 'reported_at' ? Date.parse('2026-05-01T08:00:00Z') : undefined))).toBe(true);
    const d = compileFilters(incidents, [{ field: 'closed_at', op: 'lt', value: '2026-05-01T10:00:00+08:00' }])!;
    expect(d.matches({ closed_at: '2026-05-01T01:59:59Z' })).toBe(true);
    expect(d.matches({ closed_at: '2026-05-01T02:00:00Z' })).toBe(false);
  });
  it('rejects unknown fields, wrong types and bad ops with bad_filter', () => {
    const bad: [unknown, unknown][] = [
      [[{ field: 'nope', op: 'eq', value: 1 }], undefined],
      [[{ field: 'range_m', op: 'eq', value: 'x' }], undefined],
      [[{ field: 'status', op: 'like', value: 'x' }], undefined],
      [[{ field: 'range_m', op: 'prefix', value: '1' }], undefined],
      [[{ field: 'synthetic', op: 'lt', value: true }], undefined],
      [{ field: 'status' }, undefined],
      [undefined, { from: 'yesterday' }],
    ];
    for (const [w, t] of bad) {
      let err: unknown;
      try { compileFilters(cameras, w, t); } catch (e) { err = e; }
      expect(err, JSON.stringify(w)).toBeInstanceOf(QueryInputError);
      expect((err as QueryInputError).code).toBe('bad_filter');
    }
    expect(() => compileFilters(cameras, undefined, { from: '2026-01-01T00:00:00Z' })).toThrow(/没有时间字段/);
  });
});
