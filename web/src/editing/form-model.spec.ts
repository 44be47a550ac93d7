import { describe, expect, it } from 'vitest';
import { getLayer } from '../../../layers/catalog.ts';
import { formFields, issuesByField, parseForm, toFormValues } from './form-model.ts';

const grids = getLayer('grids')!;

describe('attribute form from the catalog', () => {
  it('has one input per field, id read-only and required, booleans as checkboxes', () => {
    const f = formFields(grids);
    expect(f.map((x) => x.name)).toEqual(grids.fields.map((x) => x.name));
    expect(f.find((x) => x.name === 'id')).toMatchObject({ readonly: true, required: true });
    expect(f.find((x) => x.name === 'synthetic')?.input).toBe('checkbox');
    expect(f.find((x) => x.name === 'manager_phone')?.personal).toBe(true);
  });

  it('round-trips properties and pins id to the feature id', () => {
    const fields = formFields(grids);
    const values = toFormValues(fields, { id: 'x', name: '一网格', synthetic: true, extra: 1 });
    values.id = 'tampered';
    const { properties, issues } = parseForm(fields, values, '320581-g1');
    expect(issues).toEqual([]);
    expect(properties).toEqual({ id: '320581-g1', name: '一网格', synthetic: true });
  });

  it('checks types like the server: integers, numbers, UTC datetimes, string length', () => {
    const fields = [
      { name: 'n', title: '数量', type: 'int' as const }, { name: 'h', title: '高度', type: 'number' as const },
      { name: 't', title: '时间', type: 'datetime' as const }, { name: 's', title: '名称', type: 'string' as const },
    ];
    const ff = formFields({ fields });
    const bad = parseForm(ff, { n: '1.5', h: 'abc', t: '2026-05-01 08:00', s: 'x'.repeat(1001) }, 'f1');
    expect(bad.issues.map((i) => i.path)).toEqual(['properties.n', 'properties.h', 'properties.t', 'properties.s']);
    expect(bad.issues[0].message).toMatch(/须为整数/);
    const good = parseForm(ff, { n: '3', h: '2.5', t: '2026-05-01T08:00:00Z', s: '' }, 'f1');
    expect(good.issues).toEqual([]);
    expect(good.properties).toEqual({ n: 3, h: 2.5, t: '2026-05-01T08:00:00Z' });
    expect(Object.keys(issuesByField(bad.issues))).toEqual(['n', 'h', 't', 's']);
  });

  it('leaves the id out of a new feature (the server assigns it)', () => {
    const { properties } = parseForm(formFields(grids), { name: '新网格' }, null);
    expect(properties).not.toHaveProperty('id');
    expect(properties.name).toBe('新网格');
  });
});
