import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { getLayer, LAYERS } from '../layers/catalog.ts';
import { encodeFlatGeobuf, openFlatGeobuf, type FgbFile, type FgbRawGeometry } from '../layers/formats/flatgeobuf.ts';
import { GOVERNANCE } from '../layers/governance/grades.ts';
import type { Grant, GrantSource } from '../layers/governance/model.ts';
import type { Actor } from '../layers/incidents/model.ts';
import { setAccessContext } from './auth/request-access.ts';
import { setActor } from './auth/request-actor.ts';
import { CatalogApi, computeQuality, parseCatalogQuery, searchLayers } from './catalog-api.ts';

const q = (s: string) => parseCatalogQuery(new URLSearchParams(s));
const ids = (s: string) => searchLayers(LAYERS, q(s)).map((l) => l.id);

describe('catalog search', () => {
  it('finds layers by a Chinese substring of title, field, meaning, department or theme, title hits first', () => {
    expect(ids('q=危险化学品')[0]).toBe('hazards');
    expect(ids('q=重大危险源')).toContain('hazards'); // a field title
    expect(ids('q=应急管理局')).toEqual(['hazards']); // the department title
    expect(ids('q=安全生产')).toEqual(['hazards']); // the theme
    expect(ids('q=GB 18218')).toEqual(['hazards']); // two terms, both in a field meaning
    expect(ids('q=HAZARDOUS')).toEqual(['hazards']); // English title, any case
    const grid = ids('q=网格');
    expect(grid[0]).toBe('grids');
    // every layer with 网格 in its title comes before every layer that only mentions it elsewhere
    const firstOther = grid.findIndex((id) => !getLayer(id)!.title.includes('网格'));
    expect(firstOther).toBeGreaterThan(0);
    expect(grid.slice(firstOther).every((id) => !getLayer(id)!.title.includes('网格'))).toBe(true);
    expect(grid).toContain('addresses'); // grid_code's meaning
    expect(ids('q=不存在的东西')).toEqual([]);
    expect(ids('')).toEqual(LAYERS.map((l) => l.id));
  });

  it('filters by department, grade and theme', () => {
    expect(ids('grade=public')).toEqual(LAYERS.filter((l) => GOVERNANCE[l.id].grade === 'public').map((l) => l.id));
    expect(ids('grade=core')).toEqual(['responders']);
    expect(ids('department=civil')).toEqual(LAYERS.filter((l) => l.department === 'civil').map((l) => l.id));
    expect(ids('theme=行政区划与网格&grade=internal')).toEqual(['grids']);
    expect(ids('department=emergency&q=网格')).toEqual(['hazards']);
  });

  it('refuses bad parameters with a code', () => {
    expect(() => q('grade=secret')).toThrow(expect.objectContaining({ status: 400, code: 'bad_grade' }));
    expect(() => q('department=nasa')).toThrow(expect.objectContaining({ code: 'bad_department' }));
    expect(() => q('who=me')).toThrow(expect.objectContaining({ code: 'unknown_param' }));
    expect(() => q(`q=${'字'.repeat(101)}`)).toThrow(expect.objectContaining({ code: 'bad_query' }));
  });
});

describe('catalog quality', () => {
  const def = getLayer('roads')!;
  it('counts features, missing values per field and invalid geometries', async () => {
    const features: GeoJSON.Feature[] = [
      { type: 'Feature', geometry: { type: 'LineString', coordinates: [[120.7, 31.6], [120.71, 31.61]] }, properties: { id: 'a', name: '甲路', class: 'local', synthetic: true } },
      { type: 'Feature', geometry: { type: 'LineString', coordinates: [[120.7, 31.6], [120.72, 31.6]] }, properties: { id: 'b', name: '', class: 'local' } },
      { type: 'Feature', geometry: { type: 'LineString', coordinates: [[120.7, 31.6], [120.73, 31.6]] }, properties: { id: 'c', class: null } },
    ];
    const file = openFlatGeobuf(encodeFlatGeobuf(features, { layerName: 'roads', fields: def.fields }));
    const quality = await computeQuality(def, file, () => 42);
    expect(quality).toEqual({ featureCount: 3, invalidGeometries: 0, missing: { id: 0, name: 2, class: 1, synthetic: 2 }, computedAt: 42 });
  });

  it('calls unclosed or short rings, short lines, bad coordinates and missing geometry invalid', async () => {
    const raws: (FgbRawGeometry | null)[] = [
      { type: 'Polygon', xy: new Float64Array([0, 0, 1, 0, 1, 1, 0, 0]), ends: new Uint32Array([4]), polys: new Uint32Array([1]) }, // fine
      { type: 'Polygon', xy: new Float64Array([0, 0, 1, 0, 1, 1, 0, 1]), ends: new Uint32Array([4]), polys: new Uint32Array([1]) }, // unclosed
      { type: 'Polygon', xy: new Float64Array([0, 0, 1, 0, 0, 0]), ends: new Uint32Array([3]), polys: new Uint32Array([1]) }, // 3 vertices
      { type: 'LineString', xy: new Float64Array([0, 0]), ends: new Uint32Array([1]), polys: new Uint32Array([]) }, // 1 vertex
      { type: 'Point', xy: new Float64Array([NaN, 1]), ends: new Uint32Array([]), polys: new Uint32Array([]) },
      { type: 'Point', xy: new Float64Array([120, 95]), ends: new Uint32Array([]), polys: new Uint32Array([]) }, // lat > 90
      { type: 'Point', xy: new Float64Array([120.7, 31.6]), ends: new Uint32Array([]), polys: new Uint32Array([]) }, // fine
      null,
    ];
    const fake = { count: raws.length, rawGeometry: (i: number) => raws[i], column: () => raws.map(() => 'x') } as unknown as FgbFile;
    const quality = await computeQuality(getLayer('city')!, fake);
    expect(quality.invalidGeometries).toBe(6);
    expect(quality.missing).toEqual({ id: 0, code: 0, name: 0 });
  });
});

describe('catalog entries', () => {
  const NOW = Date.UTC(2026, 10, 29);
  const request = (actor: Actor, grants: Grant[]): IncomingMessage => {
    const req = {} as IncomingMessage;
    setActor(req, actor);
    const source: GrantSource = { activeGrants: (u, now) => grants.filter((g) => g.grantee === u && g.expiresAt > now), recordUse: () => {} };
    setAccessContext(req, { grants: source, now: NOW });
    return req;
  };
  const api = new CatalogApi({ dataDir: '/nonexistent', layers: new Map(), clock: () => NOW });
  const hazards = (req: IncomingMessage) => api.list(req, q('q=危险化学品')).then((l) => l.find((e) => e.id === 'hazards')!);

  it('says what the caller may do: none and requestable, a grant in force, full for the owner and standing roles', async () => {
    const grant: Grant = { id: 'r1', layer: 'hazards', grantee: 'analyst', fields: ['name'], areas: ['320581001'], expiresAt: NOW + 1000 };
    expect(await hazards(request({ id: 'analyst', role: 'analyst', department: 'police' }, []))).toMatchObject({
      access: 'none', requestable: true, approvals: 1, grade: 'sensitive', gradeTitle: '敏感', department: 'emergency', departmentTitle: '应急管理局',
      updateFrequencyTitle: '每月', featureCount: null, lastUpdate: null, fresh: null,
    });
    expect((await hazards(request({ id: 'analyst', role: 'analyst', department: 'police' }, [grant]))).access).toBe('grant');
    expect((await hazards(request({ id: 'analyst', role: 'analyst', department: 'police' }, [{ ...grant, expiresAt: NOW }]))).access).toBe('none');
    expect(await hazards(request({ id: 'steward-emergency', role: 'planner', department: 'emergency' }, []))).toMatchObject({ access: 'full', requestable: false });
    expect(await hazards(request({ id: 'operator', role: 'operator', department: 'city' }, []))).toMatchObject({ access: 'full', requestable: false });
    const towns = (await api.list(request({ id: 'analyst', role: 'analyst', department: 'police' }, []), q('grade=public')));
    expect(towns.every((e) => e.access === 'full' && !e.requestable && e.approvals === 0)).toBe(true);
    const core = (await api.list(request({ id: 'planner', role: 'planner', department: 'planning' }, []), q('grade=core')))[0];
    expect(core).toMatchObject({ id: 'responders', access: 'none', requestable: true, approvals: 2 });
  });

  it('details every field with its meaning and grade, and never offers publishing of a graded layer', async () => {
    const d = await api.detail(request({ id: 'admin', role: 'admin' }, []), getLayer('hazards')!);
    expect(d.fields.map((f) => f.name)).toEqual(getLayer('hazards')!.fields.map((f) => f.name));
    expect(d.fields.find((f) => f.name === 'contact_phone')).toMatchObject({ grade: 'sensitive', personal: true, title: '联系电话' });
    expect(d.fields.every((f) => f.meaning.length > 3)).toBe(true);
    expect(d.formats.some((f) => f.via === 'POST /api/publish')).toBe(false);
    expect(d.formats.some((f) => f.url?.startsWith('/tiles/'))).toBe(false);
    const towns = await api.detail(request({ id: 'admin', role: 'admin' }, []), getLayer('towns')!);
    expect(towns.formats.some((f) => f.via === 'POST /api/publish')).toBe(true);
    expect(towns.formats.some((f) => f.url === '/tiles/overlay/{z}/{x}/{y}.mvt')).toBe(true);
    expect(towns.crs.accepted).toEqual(expect.arrayContaining(['EPSG:4326', 'EPSG:4490', 'GCJ02']));
    expect(towns.quality).toBeNull(); // no file here
  });
});
