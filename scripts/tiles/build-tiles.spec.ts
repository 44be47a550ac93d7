import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import { PMTiles, type Source } from 'pmtiles';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CITY } from '../../layers/catalog.ts';
import { writeFixture } from '../../test/fixtures/formats/make-fixture.ts';
import { buildTiles } from '../build-tiles.ts';

function open(path: string): PMTiles {
  const bytes = readFileSync(path);
  const source: Source = { getKey: () => path, getBytes: async (o, l) => ({ data: bytes.buffer.slice(bytes.byteOffset + o, bytes.byteOffset + o + l) }) };
  return new PMTiles(source);
}

function tileAt(lon: number, lat: number, z: number): [number, number] {
  const n = 2 ** z;
  const s = Math.sin((lat * Math.PI) / 180);
  return [Math.floor(((lon + 180) / 360) * n), Math.floor((0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * n)];
}

async function decode(p: PMTiles, z: number, lon: number, lat: number): Promise<VectorTile> {
  const [x, y] = tileAt(lon, lat, z);
  const r = await p.getZxy(z, x, y); // the reader gunzips (header TileCompression = gzip)
  expect(r, `tile ${z}/${x}/${y}`).toBeDefined();
  return new VectorTile(new PbfReader(new Uint8Array(r!.data)));
}

function names(vt: VectorTile, layer: string): string[] {
  const l = vt.layers[layer];
  return l ? Array.from({ length: l.length }, (_, i) => String(l.feature(i).properties.name)) : [];
}

const dir = mkdtempSync(join(tmpdir(), 'onemap-tiles-'));
const progress: string[] = [];
beforeAll(async () => {
  writeFixture(dir, { buildings: 300 });
  await buildTiles({ dir, onProgress: (m) => progress.push(m) });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('buildTiles', () => {
  const [cx, cy] = CITY.center;

  it('writes a basemap archive whose tiles decode with the expected layers, fields and Chinese names', async () => {
    const p = open(join(dir, 'basemap.pmtiles'));
    const h = await p.getHeader();
    expect([h.minZoom, h.maxZoom]).toEqual([0, 14]);
    expect(h.minLon).toBeCloseTo(cx - 0.25, 5);
    expect(h.maxLat).toBeGreaterThan(cy + 0.15);
    expect([h.centerLon, h.centerLat]).toEqual([cx, cy]);
    const meta = (await p.getMetadata()) as { name: string; attribution: string; vector_layers: { id: string; minzoom: number; maxzoom: number; fields: Record<string, string> }[] };
    expect(meta.attribution).toContain('生成数据');
    expect(meta.vector_layers.map((l) => l.id)).toEqual(['landuse', 'water', 'roads', 'buildings', 'places']);
    expect(meta.vector_layers.find((l) => l.id === 'buildings')).toMatchObject({ minzoom: 13, maxzoom: 14, fields: { id: 'String', floors: 'Number', height: 'Number' } });

    const z14 = await decode(p, 14, cx + 0.0001, cy + 0.0001);
    const b = z14.layers.buildings;
    const landmark = Array.from({ length: b.length }, (_, i) => b.feature(i)).find((f) => f.properties.id === 'b0');
    expect(landmark?.properties).toEqual({ id: 'b0', floors: 33, height: 99 }); // 'use' and 'synthetic' are not tiled
    expect(landmark?.type).toBe(3);
    expect(names(z14, 'places')).toContain('常熟市');
    // Buildings are only in z13–14; places and water from z0.
    const z12 = await decode(p, 12, cx, cy);
    expect(z12.layers.buildings).toBeUndefined();
    expect(names(z12, 'places')).toContain('常熟市');
    // At z0 the lake is far below a pixel, so geojson-vt drops it; landuse starts at z8.
    const z0 = await decode(p, 0, cx, cy);
    expect(Object.keys(z0.layers)).toEqual(['places']);
    const z8 = await decode(p, 8, cx, cy);
    expect(Object.keys(z8.layers).sort()).toEqual(['landuse', 'places', 'roads', 'water']);
    expect(names(z8, 'roads')).toContain('海虞北路');
  });

  it('keeps holes: the lake with an island decodes as one polygon with two rings', async () => {
    const p = open(join(dir, 'basemap.pmtiles'));
    const z13 = await decode(p, 13, cx - 0.095, cy - 0.03);
    const w = z13.layers.water;
    const lake = Array.from({ length: w.length }, (_, i) => w.feature(i)).find((f) => f.properties.name === '尚湖')!;
    const [x, y] = tileAt(cx - 0.095, cy - 0.03, 13);
    const g = lake.toGeoJSON(x, y, 13).geometry;
    expect(g.type).toBe('Polygon');
    expect((g as GeoJSON.Polygon).coordinates).toHaveLength(2);
  });

  it('writes the overlay archive with towns, villages and grids in their zoom ranges', async () => {
    const p = open(join(dir, 'overlay.pmtiles'));
    const meta = (await p.getMetadata()) as { vector_layers: { id: string }[] };
    expect(meta.vector_layers.map((l) => l.id)).toEqual(['towns', 'villages', 'grids', 'city']);
    const z5 = await decode(p, 5, cx, cy);
    expect(Object.keys(z5.layers).sort()).toEqual(['city', 'towns']);
    expect(names(z5, 'towns').sort()).toEqual(['虞山街道', '常福街道', '琴川街道', '莫城街道'].sort());
    const z12 = await decode(p, 12, cx + 0.01, cy + 0.01);
    expect(Object.keys(z12.layers).sort()).toEqual(['city', 'grids', 'towns', 'villages']);
    expect(z12.layers.grids.feature(0).properties).not.toHaveProperty('manager_phone'); // personal data stays out of tiles
  });

  it('skips empty tiles and reports progress per zoom', async () => {
    const p = open(join(dir, 'basemap.pmtiles'));
    expect(await p.getZxy(14, 0, 0)).toBeUndefined();
    const [x, y] = tileAt(cx + 0.3, cy + 0.3, 14); // outside the fixture
    expect(await p.getZxy(14, x, y)).toBeUndefined();
    expect(progress.some((m) => /basemap z14: \d+ tiles/.test(m))).toBe(true);
  });

  it('fails with a clear message when the data is missing', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'onemap-tiles-empty-'));
    await expect(buildTiles({ dir: empty })).rejects.toThrow(/npm run data/);
    rmSync(empty, { recursive: true, force: true });
  });
});
