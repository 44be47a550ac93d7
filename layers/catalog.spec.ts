import { describe, expect, it } from 'vitest';
import { LAYERS, ROLES, DEPARTMENTS, getLayer, layersForRole, tilesetLayers, TILESETS } from './catalog.ts';
import { GOVERNANCE, governanceOf } from './governance/grades.ts';
import { GRADES, GRADE_INFO } from './governance/model.ts';

describe('layer catalog', () => {
  it('has unique, path-safe ids and FlatGeobuf names that match them', () => {
    const ids = LAYERS.map((l) => l.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const l of LAYERS) {
      expect(l.id).toMatch(/^[a-z][a-z0-9_-]*$/);
      expect(l.fgb).toBe(`${l.id}.fgb`);
    }
  });

  it('names every layer in Chinese and gives it a known department and roles', () => {
    for (const l of LAYERS) {
      expect(l.title).toMatch(/[\u4e00-\u9fff]/);
      expect(Object.keys(DEPARTMENTS)).toContain(l.department);
      expect(l.roles.length).toBeGreaterThan(0);
      for (const r of l.roles) expect(ROLES).toContain(r);
      expect(l.minzoom).toBeLessThanOrEqual(l.maxzoom);
    }
  });

  it('gives every layer an id field and unique field names', () => {
    for (const l of LAYERS) {
      const names = l.fields.map((f) => f.name);
      expect(names[0]).toBe('id');
      expect(new Set(names).size).toBe(names.length);
    }
  });

  it('marks personal fields so they can be masked, and keeps people out of the public role', () => {
    const personal = LAYERS.flatMap((l) => l.fields.filter((f) => f.personal).map(() => l));
    expect(personal.length).toBeGreaterThan(0);
    for (const l of personal) expect(l.roles).not.toContain('public');
    expect(layersForRole('public').map((l) => l.id)).not.toContain('responders');
  });

  it('puts the boundaries in the overlay tileset and the base themes in the basemap', () => {
    for (const t of TILESETS) expect(tilesetLayers(t).length).toBeGreaterThan(0);
    expect(tilesetLayers('overlay').map((l) => l.tiles!.sourceLayer)).toEqual(expect.arrayContaining(['towns', 'villages', 'grids']));
    expect(tilesetLayers('basemap').map((l) => l.tiles!.sourceLayer)).toEqual(expect.arrayContaining(['water', 'roads', 'buildings', 'places']));
    expect(getLayer('towns')?.title).toBe('镇（街道）');
    expect(getLayer('nope')).toBeUndefined();
  });
});

// H3 (issue 10, the data catalog): every layer is graded and every field explained, so the catalog never shows a
// layer or a field without its meaning, and nothing is served without a grade.
describe('layer governance (grades.ts)', () => {
  it('grades every catalog layer and nothing else', () => {
    expect(Object.keys(GOVERNANCE).sort()).toEqual(LAYERS.map((l) => l.id).sort());
    for (const l of LAYERS) expect(GRADES).toContain(governanceOf(l).grade);
  });

  it('describes every layer and gives every field a Chinese meaning (and no meaning for a field that does not exist)', () => {
    for (const l of LAYERS) {
      const g = governanceOf(l);
      expect(g.description, l.id).toMatch(/[\u4e00-\u9fff]{4}/);
      expect(g.description.length, `${l.id}: a sentence, not a label`).toBeGreaterThan(30);
      for (const f of l.fields) expect(g.fieldMeaning[f.name], `${l.id}.${f.name}`).toMatch(/[\u4e00-\u9fff]/);
      expect(Object.keys(g.fieldMeaning).filter((k) => !l.fields.some((f) => f.name === k)), l.id).toEqual([]);
      for (const k of Object.keys(g.fieldGrades ?? {})) expect(l.fields.map((f) => f.name), `${l.id} fieldGrades`).toContain(k);
    }
  });

  it('grades personal fields at least sensitive, and standing roles only on sensitive layers', () => {
    for (const l of LAYERS) {
      const g = governanceOf(l);
      for (const f of l.fields.filter((x) => x.personal)) {
        const fg = g.fieldGrades?.[f.name];
        expect(fg, `${l.id}.${f.name}`).toBeDefined();
        expect(GRADE_INFO[fg!].rank, `${l.id}.${f.name}`).toBeGreaterThanOrEqual(GRADE_INFO.sensitive.rank);
      }
      if (g.standing) expect(g.grade, l.id).toBe('sensitive');
    }
  });

  it('has the hazardous-chemical sites: sensitive, owned by emergency, no tiles, operators standing', () => {
    const h = getLayer('hazards')!;
    expect(h).toMatchObject({ department: 'emergency', geometry: 'point', fgb: 'hazards.fgb', minzoom: 10 });
    expect(h.tiles).toBeUndefined();
    expect(h.fields.filter((f) => f.personal).map((f) => f.name).sort()).toEqual(['contact_name', 'contact_phone']);
    expect(governanceOf(h)).toMatchObject({ grade: 'sensitive', standing: ['operator'] });
    expect(governanceOf('responders').grade).toBe('core');
    expect(getLayer('responders')!.roles.sort()).toEqual(['admin', 'analyst', 'grid_manager', 'operator', 'planner']);
  });
});

// H2 (issue 10, enforcement): tiles are cut once for everybody and carry no per-row check, so a layer graded
// sensitive or core must never be in a tileset — it leaves the server only through routes that check each row.
describe('graded layers and tiles', async () => {
  const { governanceOf } = await import('./governance/grades.ts');
  it('gives no sensitive or core layer tiles', () => {
    const tiled = LAYERS.filter((l) => l.tiles && (governanceOf(l).grade === 'sensitive' || governanceOf(l).grade === 'core')).map((l) => l.id);
    expect(tiled, 'graded layers with tiles: remove their `tiles`').toEqual([]);
    expect(LAYERS.some((l) => governanceOf(l).grade === 'sensitive' || governanceOf(l).grade === 'core')).toBe(true);
  });
});
