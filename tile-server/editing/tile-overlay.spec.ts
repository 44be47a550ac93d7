// A patched tile must decode to what the build would have cut from the edited data: same features, same
// geometry, same tags (order aside).
import { VectorTile } from '@mapbox/vector-tile';
import GeoJSONVT from 'geojson-vt';
import { PbfReader } from 'pbf';
import { describe, expect, it } from 'vitest';
import { getLayer } from '../../layers/catalog.ts';
import type { Bbox } from '../../layers/formats/flatgeobuf.ts';
import type { EditFeature } from '../../layers/editing/model.ts';
import { rewindForMvt } from '../../scripts/build-tiles.ts';
import { encodeMvt } from '../../scripts/tiles/mvt-encode.ts';
import { patchMvt, tileBounds, TileOverlay, tileProperties, type EditedLayers } from './tile-overlay.ts';

const grids = getLayer('grids')!;
const villages = getLayer('villages')!;
const Z = 13;
// A tile in the demo city's area.
const X = Math.floor(((120.2 + 180) / 360) * 2 ** Z);
const Y = Math.floor((0.5 - Math.log((1 + Math.sin(30.25 * Math.PI / 180)) / (1 - Math.sin(30.25 * Math.PI / 180))) / (4 * Math.PI)) * 2 ** Z);
const [W, S, E, N] = tileBounds(Z, X, Y);

function square(id: string, x0: number, y0: number, d: number, name = `网格 ${id}`): EditFeature {
  return {
    type: 'Feature', id,
    geometry: { type: 'Polygon', coordinates: [[[x0, y0], [x0 + d, y0], [x0 + d, y0 + d], [x0, y0 + d], [x0, y0]]] },
    properties: { id, code: `c-${id}`, name, manager_name: 'not in tiles' },
  };
}

/** What build-tiles writes for these features in tile Z/X/Y (uncompressed). */
function built(layers: { def: typeof grids; features: EditFeature[] }[]): Uint8Array {
  const parts = layers.map(({ def, features }) => {
    const vt = new GeoJSONVT({ type: 'FeatureCollection', features: features.map((f) => ({ type: 'Feature' as const, geometry: rewindForMvt(f.geometry), properties: tileProperties(def, f.properties) })) },
      { maxZoom: 14, indexMaxZoom: 5, indexMaxPoints: 100000, tolerance: 3, extent: 4096, buffer: 64 });
    return { name: def.tiles!.sourceLayer, tile: vt.getTileRaw(Z, X, Y) ?? { features: [] }, extent: 4096 };
  }).filter((p) => p.tile.features.length);
  return encodeMvt(parts);
}

function decoded(bytes: Uint8Array): Record<string, string[]> {
  if (!bytes.length) return {};
  const vt = new VectorTile(new PbfReader(bytes));
  const out: Record<string, string[]> = {};
  for (const [name, l] of Object.entries(vt.layers)) {
    out[name] = Array.from({ length: l.length }, (_, i) => {
      const f = l.feature(i);
      return JSON.stringify({ type: f.type, props: f.properties, geom: f.loadGeometry().map((r) => r.map((p) => [p.x, p.y])) });
    }).sort();
  }
  return out;
}

const dx = (E - W) / 10, dy = (N - S) / 10;
const a = square('g-a', W + dx, S + dy, 2 * dy);
const b = square('g-b', W + 5 * dx, S + 5 * dy, 2 * dy);
const c = square('g-c', W + 3 * dx, S + 6 * dy, dy);
const v = square('v-1', W + 2 * dx, S + 2 * dy, 4 * dy, '村 1');

describe('patchMvt', () => {
  it('drops the edited feature and adds its new geometry as the build would cut it', () => {
    const stored = built([{ def: villages, features: [v] }, { def: grids, features: [a, b, c] }]);
    const movedA = square('g-a', W + 6 * dx, S + dy, 2.5 * dy, '改名');
    const after = built([{ def: villages, features: [v] }, { def: grids, features: [movedA, c] }]);
    const add = built([{ def: grids, features: [movedA] }]);
    const raw = new GeoJSONVT({ type: 'FeatureCollection', features: [{ type: 'Feature', geometry: rewindForMvt(movedA.geometry), properties: tileProperties(grids, movedA.properties) }] },
      { maxZoom: 14, indexMaxZoom: 5, indexMaxPoints: 100000, tolerance: 3, extent: 4096, buffer: 64 }).getTileRaw(Z, X, Y);
    const patched = patchMvt(stored, [{ name: 'grids', drop: new Set(['g-a', 'g-b']), add: raw }], ['villages', 'grids']);
    expect(decoded(patched)).toEqual(decoded(after));
    expect(decoded(patched).grids.some((s) => s.includes('改名'))).toBe(true);
    expect(decoded(patched).grids.some((s) => s.includes('网格 g-a'))).toBe(false);
    expect(add.length).toBeGreaterThan(0);
  });

  it('creates a layer the tile lacked in drawing order, and empties a tile whose last feature went', () => {
    const stored = built([{ def: grids, features: [a] }]);
    const raw = new GeoJSONVT({ type: 'FeatureCollection', features: [{ type: 'Feature', geometry: rewindForMvt(v.geometry), properties: tileProperties(villages, v.properties) }] },
      { maxZoom: 14, indexMaxZoom: 5, indexMaxPoints: 100000, tolerance: 3, extent: 4096, buffer: 64 }).getTileRaw(Z, X, Y);
    const patched = patchMvt(stored, [{ name: 'villages', drop: new Set(), add: raw }], ['villages', 'grids']);
    expect(Object.keys(new VectorTile(new PbfReader(patched)).layers)).toEqual(['villages', 'grids']);
    expect(decoded(patched)).toEqual(decoded(built([{ def: villages, features: [v] }, { def: grids, features: [a] }])));
    expect(patchMvt(stored, [{ name: 'grids', drop: new Set(['g-a']), add: null }], ['villages', 'grids']).length).toBe(0);
  });
});

describe('TileOverlay', () => {
  const view = (edits: Map<string, EditFeature | null>, footprint: Map<string, Bbox>, rev: number): EditedLayers => ({
    edited: (l) => (l === 'grids' ? edits : new Map()),
    revision: (l?: string) => (l === undefined || l === 'grids' ? rev : 0),
    footprint: async (l) => (l === 'grids' ? footprint : new Map()),
  });

  it('patches only tiles an edit touched, at the layer\'s zooms', async () => {
    const moved = square('g-a', W + 6 * dx, S + dy, 2 * dy);
    const fp = new Map<string, Bbox>([['g-a', [W + dx, S + dy, W + 6 * dx + 2 * dy, S + 3 * dy]]]);
    const o = new TileOverlay(view(new Map([['g-a', moved]]), fp, 7));
    const stored = built([{ def: grids, features: [a, b] }]);
    expect(o.revision('overlay')).toBe(7);
    expect(o.revision('basemap')).toBe(0);
    const patched = await o.patch('overlay', Z, X, Y, () => stored);
    expect(decoded(patched!)).toEqual(decoded(built([{ def: grids, features: [moved, b] }])));
    // A tile far away, and a zoom below grids' minzoom (11): untouched.
    expect(await o.patch('overlay', Z, X + 5, Y, () => stored)).toBeUndefined();
    expect(await o.patch('overlay', 10, X >> 3, Y >> 3, () => stored)).toBeUndefined();
    // A deletion drops the feature.
    const d = new TileOverlay(view(new Map([['g-b', null]]), new Map([['g-b', [W + 5 * dx, S + 5 * dy, W + 5 * dx + 2 * dy, S + 7 * dy]]]), 8));
    expect(decoded((await d.patch('overlay', Z, X, Y, () => stored))!)).toEqual(decoded(built([{ def: grids, features: [a] }])));
  });
});
