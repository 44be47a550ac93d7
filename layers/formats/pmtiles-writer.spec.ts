import { gzipSync } from 'node:zlib';
import { Compression, PMTiles, TileType, zxyToTileId as theirTileId, type Source } from 'pmtiles';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../scripts/data/rng.ts';
import { writePmtiles, zxyToTileId, type PmtilesTile, type PmtilesWriteOptions } from './pmtiles-writer.ts';

/** The `pmtiles` reader over an in-memory archive (its Source interface is just getBytes). */
function open(bytes: Uint8Array): PMTiles {
  const source: Source = {
    getKey: () => 'memory',
    getBytes: async (offset, length) => ({ data: bytes.slice(offset, offset + length).buffer }),
  };
  return new PMTiles(source);
}

const OPTS: PmtilesWriteOptions = {
  tileCompression: 'gzip', minZoom: 0, maxZoom: 14,
  bounds: [120.5, 31.45, 121.05, 31.9], center: [120.752, 31.654, 11],
  metadata: { name: '测试底图', attribution: '生成数据', vector_layers: [{ id: 'roads', fields: { name: 'String' }, minzoom: 6, maxzoom: 14 }] },
};

function tile(z: number, x: number, y: number, body: string): PmtilesTile & { body: string } {
  return { z, x, y, body, data: new Uint8Array(gzipSync(Buffer.from(body))) };
}

describe('zxyToTileId', () => {
  it('matches the pmtiles reference implementation', () => {
    const rng = createRng(1);
    for (let i = 0; i < 2000; i++) {
      const z = rng.int(0, 20), n = 2 ** z;
      const x = rng.int(0, n - 1), y = rng.int(0, n - 1);
      expect(zxyToTileId(z, x, y)).toBe(theirTileId(z, x, y));
    }
    expect(() => zxyToTileId(2, 4, 0)).toThrow(/outside the 4×4 grid/);
  });
});

describe('writePmtiles', () => {
  it('writes header, metadata and tiles the pmtiles reader reads back; dedups and run-length encodes', async () => {
    const tiles = [
      tile(0, 0, 0, 'root'),
      tile(14, 13700, 6680, '海虞北路'),
      tile(14, 13701, 6680, 'ocean'),
      tile(14, 13702, 6680, 'ocean'),
      tile(1, 1, 0, 'ocean'),
      tile(3, 6, 3, 'x'),
    ];
    // Consecutive identical tiles on the curve: z2 TileIds 5…20 cover all of z2; give four in a row.
    for (const [x, y] of [[0, 0], [0, 1], [1, 1], [1, 0]]) tiles.push(tile(2, x, y, 'same'));
    const bytes = writePmtiles([...tiles].reverse(), OPTS);
    const p = open(bytes);
    const h = await p.getHeader();
    expect(h.specVersion).toBe(3);
    expect(h.rootDirectoryOffset).toBe(127);
    expect(h.clustered).toBe(true);
    expect(h.internalCompression).toBe(Compression.Gzip);
    expect(h.tileCompression).toBe(Compression.Gzip);
    expect(h.tileType).toBe(TileType.Mvt);
    expect([h.minZoom, h.maxZoom, h.centerZoom]).toEqual([0, 14, 11]);
    expect([h.minLon, h.minLat, h.maxLon, h.maxLat]).toEqual(OPTS.bounds);
    expect([h.centerLon, h.centerLat]).toEqual([120.752, 31.654]);
    expect(h.numAddressedTiles).toBe(tiles.length);
    expect(h.numTileContents).toBe(5); // root, 海虞北路, ocean, x, same
    expect(h.numTileEntries).toBe(tiles.length - 3); // the four 'same' tiles share one entry
    expect(await p.getMetadata()).toEqual(OPTS.metadata);
    // The reader gunzips tiles itself (header TileCompression = gzip), so compare with the plain body.
    for (const t of tiles) {
      const got = await p.getZxy(t.z, t.x, t.y);
      expect(Buffer.from(got!.data).toString()).toBe(t.body);
    }
    expect(await p.getZxy(14, 0, 0)).toBeUndefined();
    expect(await p.getZxy(3, 0, 0)).toBeUndefined();
    // Tile data are clustered: blob offsets grow with TileId, and a duplicate blob is stored once.
    const ocean = gzipSync(Buffer.from('ocean'));
    const count = (hay: Uint8Array, needle: Uint8Array) => {
      let k = 0;
      for (let i = 0; i + needle.length <= hay.length; i++) if (needle.every((v, j) => hay[i + j] === v)) k++;
      return k;
    };
    expect(count(bytes, ocean)).toBe(1);
  });

  it('uses leaf directories when the root would pass 16 KiB (50,000 distinct tiles)', async () => {
    // Scattered tiles of random sizes, so the directory does not compress away under gzip.
    const rng = createRng(2);
    const seen = new Set<string>();
    const tiles: PmtilesTile[] = [];
    while (tiles.length < 50000) {
      const x = rng.int(0, 4095), y = rng.int(0, 4095);
      if (seen.has(`${x}/${y}`)) continue;
      seen.add(`${x}/${y}`);
      const d = new Uint8Array(rng.int(4, 300));
      new DataView(d.buffer).setUint32(0, tiles.length);
      tiles.push({ z: 12, x, y, data: d });
    }
    const bytes = writePmtiles(tiles, { ...OPTS, tileCompression: 'none', minZoom: 12, maxZoom: 12 });
    const p = open(bytes);
    const h = await p.getHeader();
    expect(h.leafDirectoryLength).toBeGreaterThan(0);
    expect(h.jsonMetadataOffset - h.rootDirectoryOffset).toBeLessThanOrEqual(16384 - 127);
    expect(h.numAddressedTiles).toBe(50000);
    expect(h.tileCompression).toBe(Compression.None);
    for (let i = 0; i < 300; i++) {
      const t = tiles[rng.int(0, tiles.length - 1)];
      expect(new Uint8Array((await p.getZxy(t.z, t.x, t.y))!.data)).toEqual(t.data);
    }
    const last = tiles[tiles.length - 1];
    expect(new Uint8Array((await p.getZxy(last.z, last.x, last.y))!.data)).toEqual(last.data);
    let gx = 0;
    while (seen.has(`${gx}/0`)) gx++;
    expect(await p.getZxy(12, gx, 0)).toBeUndefined();
  });

  it('rejects empty tiles, duplicates and an empty archive with clear errors', () => {
    expect(() => writePmtiles([{ z: 0, x: 0, y: 0, data: new Uint8Array(0) }], OPTS)).toThrow(/leave empty tiles out/);
    expect(() => writePmtiles([tile(1, 0, 0, 'a'), tile(1, 0, 0, 'b')], OPTS)).toThrow(/given twice/);
    expect(() => writePmtiles([], OPTS)).toThrow(/no tiles/);
  });
});
