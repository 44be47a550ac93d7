// PMTiles v3 writer (spec: /work/shared/specs/pmtiles-v3.md; protomaps/PMTiles spec/v3/spec.md).
// Layout: header (127 B) | root directory | JSON metadata | leaf directories | tile data.
// Directories and metadata are gzip-compressed (InternalCompression = 2). Tile data is clustered
// (ascending TileId), identical blobs are stored once, and runs of consecutive identical tiles become one
// entry with RunLength > 1 (the spec's "Entries" section). The `pmtiles` npm package only reads archives.

import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

export interface PmtilesTile { z: number; x: number; y: number; data: Uint8Array }
export interface PmtilesWriteOptions {
  tileCompression: 'gzip' | 'none';
  minZoom: number;
  maxZoom: number;
  bounds: [number, number, number, number];
  /** lon, lat, zoom */
  center: [number, number, number];
  metadata: Record<string, unknown>;
}

const HEADER_LEN = 127;
/** Header + root must fit in 16 KiB (spec, "Directory Hierarchy"). */
const ROOT_LIMIT = 16384;
const COMPRESSION = { none: 1, gzip: 2 } as const;
const TILE_TYPE_MVT = 1;

interface Entry { tileId: number; offset: number; length: number; runLength: number }

/** Hilbert TileId: tiles of all lower zooms first, then the position on zoom z's Hilbert curve. */
export function zxyToTileId(z: number, x: number, y: number): number {
  if (!Number.isInteger(z) || z < 0 || z > 26) throw new Error(`zoom ${z} is outside 0…26`);
  const n = 2 ** z;
  if (!Number.isInteger(x) || !Number.isInteger(y) || x < 0 || y < 0 || x >= n || y >= n) throw new Error(`tile ${z}/${x}/${y} is outside the ${n}×${n} grid`);
  const base = ((4 ** z) - 1) / 3;
  let d = 0;
  let tx = x, ty = y;
  for (let s = n / 2; s >= 1; s /= 2) {
    const rx = (tx & s) > 0 ? 1 : 0;
    const ry = (ty & s) > 0 ? 1 : 0;
    d += s * s * ((3 * rx) ^ ry);
    // Rotate the quadrant (the classic xy2d of the Hilbert curve).
    if (ry === 0) {
      if (rx === 1) { tx = s - 1 - tx; ty = s - 1 - ty; }
      const t = tx; tx = ty; ty = t;
    }
  }
  return base + d;
}

class ByteSink {
  buf = new Uint8Array(4096);
  n = 0;
  varint(v: number): void {
    if (this.n + 10 > this.buf.length) { const b = new Uint8Array(this.buf.length * 2); b.set(this.buf); this.buf = b; }
    // Values go past 2^32 (offsets), so no bitwise shifts on the whole number.
    while (v >= 0x80) { this.buf[this.n++] = (v % 0x80) | 0x80; v = Math.floor(v / 0x80); }
    this.buf[this.n++] = v;
  }
  bytes(): Uint8Array { return this.buf.subarray(0, this.n); }
}

/** Directory serialization per spec: count, delta TileIds, RunLengths, Lengths, zeroed Offsets; then gzip. */
function serializeDirectory(entries: Entry[]): Uint8Array {
  const s = new ByteSink();
  s.varint(entries.length);
  let last = 0;
  for (const e of entries) { s.varint(e.tileId - last); last = e.tileId; }
  for (const e of entries) s.varint(e.runLength);
  for (const e of entries) s.varint(e.length);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (i > 0 && e.offset === entries[i - 1].offset + entries[i - 1].length) s.varint(0);
    else s.varint(e.offset + 1);
  }
  return gzipSync(s.bytes());
}

/** Root (and leaves if needed): leaf size doubles until the root fits, as go-pmtiles does. */
function buildDirectories(entries: Entry[]): { root: Uint8Array; leaves: Uint8Array } {
  const root = serializeDirectory(entries);
  if (HEADER_LEN + root.length <= ROOT_LIMIT) return { root, leaves: new Uint8Array(0) };
  for (let leafSize = 4096; ; leafSize *= 2) {
    const rootEntries: Entry[] = [];
    const parts: Uint8Array[] = [];
    let off = 0;
    for (let i = 0; i < entries.length; i += leafSize) {
      const leaf = serializeDirectory(entries.slice(i, i + leafSize));
      rootEntries.push({ tileId: entries[i].tileId, offset: off, length: leaf.length, runLength: 0 });
      parts.push(leaf);
      off += leaf.length;
    }
    const r = serializeDirectory(rootEntries);
    if (HEADER_LEN + r.length <= ROOT_LIMIT) return { root: r, leaves: concat(parts, off) };
  }
}

function concat(parts: Uint8Array[], total = parts.reduce((a, p) => a + p.length, 0)): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function e7(deg: number): number {
  return Math.round(deg * 1e7);
}

/** Writes a whole PMTiles v3 archive (tile type MVT) in memory. Tiles may come in any order. */
export function writePmtiles(tiles: Iterable<PmtilesTile>, opts: PmtilesWriteOptions): Uint8Array {
  const list: { id: number; data: Uint8Array }[] = [];
  for (const t of tiles) {
    if (t.data.length === 0) throw new Error(`tile ${t.z}/${t.x}/${t.y} is empty; the spec needs Length > 0, so leave empty tiles out`);
    list.push({ id: zxyToTileId(t.z, t.x, t.y), data: t.data });
  }
  list.sort((a, b) => a.id - b.id);
  for (let i = 1; i < list.length; i++) {
    if (list[i].id === list[i - 1].id) throw new Error(`the same tile was given twice (TileId ${list[i].id}); give each z/x/y once`);
  }

  // Clustered data with deduplication: a blob seen before points back at its first offset.
  const seen = new Map<string, { offset: number; data: Uint8Array }>();
  const blobs: Uint8Array[] = [];
  const entries: Entry[] = [];
  let dataLen = 0;
  for (const { id, data } of list) {
    const key = createHash('sha1').update(data).digest('base64');
    let hit = seen.get(key);
    if (hit && !bytesEqual(hit.data, data)) hit = undefined; // a hash collision: store it again
    const offset = hit ? hit.offset : dataLen;
    if (!hit) {
      seen.set(key, { offset, data });
      blobs.push(data);
      dataLen += data.length;
    }
    const last = entries[entries.length - 1];
    if (last && last.offset === offset && last.tileId + last.runLength === id) last.runLength++;
    else entries.push({ tileId: id, offset, length: data.length, runLength: 1 });
  }
  if (entries.length === 0) throw new Error('no tiles to write; a PMTiles directory must not be empty');

  const { root, leaves } = buildDirectories(entries);
  const meta = gzipSync(Buffer.from(JSON.stringify(opts.metadata), 'utf8'));
  const rootOff = HEADER_LEN;
  const metaOff = rootOff + root.length;
  const leafOff = metaOff + meta.length;
  const dataOff = leafOff + leaves.length;
  const total = dataOff + dataLen;

  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set([0x50, 0x4d, 0x54, 0x69, 0x6c, 0x65, 0x73, 3]); // "PMTiles" + version 3
  const u64 = (at: number, v: number) => dv.setBigUint64(at, BigInt(v), true);
  u64(8, rootOff); u64(16, root.length);
  u64(24, metaOff); u64(32, meta.length);
  u64(40, leafOff); u64(48, leaves.length);
  u64(56, dataOff); u64(64, dataLen);
  u64(72, list.length); // addressed tiles
  u64(80, entries.length); // tile entries
  u64(88, blobs.length); // tile contents
  out[96] = 1; // clustered
  out[97] = COMPRESSION.gzip;
  out[98] = COMPRESSION[opts.tileCompression];
  out[99] = TILE_TYPE_MVT;
  out[100] = opts.minZoom;
  out[101] = opts.maxZoom;
  dv.setInt32(102, e7(opts.bounds[0]), true);
  dv.setInt32(106, e7(opts.bounds[1]), true);
  dv.setInt32(110, e7(opts.bounds[2]), true);
  dv.setInt32(114, e7(opts.bounds[3]), true);
  out[118] = opts.center[2];
  dv.setInt32(119, e7(opts.center[0]), true);
  dv.setInt32(123, e7(opts.center[1]), true);
  out.set(root, rootOff);
  out.set(meta, metaOff);
  out.set(leaves, leafOff);
  let o = dataOff;
  for (const b of blobs) { out.set(b, o); o += b.length; }
  return out;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
