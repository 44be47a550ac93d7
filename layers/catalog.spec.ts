import { describe, expect, it } from 'vitest';
import { LAYERS, ROLES, DEPARTMENTS, getLayer, layersForRole, tilesetLayers, TILESETS } from './catalog.ts';

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
