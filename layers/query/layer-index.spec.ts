import { describe, expect, it } from 'vitest';
import { createRng } from '../../scripts/data/rng.ts';
import type { LayerDef } from '../catalog.ts';
import { getLayer } from '../catalog.ts';
import { encodeFlatGeobuf, openFlatGeobuf } from '../formats/flatgeobuf.ts';
import { LayerIndex } from './layer-index.ts';

// Sites with several features on one exact point (a building and its rooms, as in the address data).
function stacked(n: number, seed: number): GeoJSON.Feature[] {
  const rng = createRng(seed).fork('layer-index-spec');
  const out: GeoJSON.Feature[] = [];
  for (let s = 0; s < n; s++) {
    const x = rng.range(120.6, 121.0), y = rng.range(31.5, 31.8);
    const m = rng.int(2, 6);
    for (let j = 0; j < m; j++) {
      out.push({ type: 'Feature', geometry: { type: 'Point', coordinates: [x, y] },
        properties: { id: `a${String(rng.int(0, 1e6)).padStart(7, '0')}-${s}-${j}`, code: `c${s}`, full: `地址${s}-${j}` } });
    }
  }
  return out;
}

describe('LayerIndex (built from raw feature buffers)', () => {
  const def = getLayer('addresses') as LayerDef;
  const feats = stacked(400, 3);
  const file = openFlatGeobuf(encodeFlatGeobuf(feats, { layerName: 'addresses', fields: def.fields }));
  const ix = LayerIndex.build(def, file);

  it('holds the same ids and coordinates as the GeoJSON reader', () => {
    const fs = [...file.features()];
    expect(ix.ids).toEqual(fs.map((f) => f.properties!.id));
    expect([...ix.lonlat!]).toEqual(fs.flatMap((f) => (f.geometry as GeoJSON.Point).coordinates));
  });

  it('nearest k=1 among features on one point is the smallest id (as PostGIS ORDER BY distance, id)', () => {
    const rng = createRng(4).fork('queries');
    let checked = 0;
    for (let q = 0; q < 400; q++) {
      const lon = rng.range(120.6, 121.0), lat = rng.range(31.5, 31.8);
      const [best] = ix.nearest({ layer: 'addresses', lon, lat, k: 1 });
      const [x, y] = (best.geometry as GeoJSON.Point).coordinates;
      const same = feats.filter((f) => { const c = (f.geometry as GeoJSON.Point).coordinates; return c[0] === x && c[1] === y; })
        .map((f) => String(f.properties!.id)).sort();
      expect(best.id).toBe(same[0]);
      checked++;
    }
    expect(checked).toBe(400);
  });

  it('filters on a column decoded from the buffers', () => {
    const world: GeoJSON.Polygon = { type: 'Polygon', coordinates: [[[120, 31], [122, 31], [122, 32], [120, 32], [120, 31]]] };
    const r = ix.query({ layer: 'addresses', geometry: world, predicate: 'intersects', where: [{ field: 'code', op: 'eq', value: 'c7' }], limit: 100 });
    const want = feats.filter((f) => f.properties!.code === 'c7').map((f) => String(f.properties!.id)).sort();
    expect(r.features.map((h) => h.id)).toEqual(want);
    expect(r.features[0].properties.full).toMatch(/^地址7-/);
  });
});
