// Reads a local PMTiles v3 archive (spec: /work/shared/specs/pmtiles-v3.md) for serving. Tiles come back
// exactly as stored (still gzip-compressed), because the server forwards them with Content-Encoding:
// gzip; the `pmtiles` package's PMTiles.getZxy would decompress them. We reuse its header parser,
// tile-id maths and directory search, and keep our own directory decoder and caches.
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { bytesToHeader, findTile, readVarint, zxyToTileId, type Entry, type Header } from 'pmtiles';
import { Lru } from './lru.ts';

/** I/O behind one call, as in the pmtiles package, so object storage could replace the local file. */
export interface Source {
  getBytes(offset: number, length: number): Promise<Buffer>;
  readonly size: number;
  close(): Promise<void>;
}

/** A local file read with positioned reads on one open descriptor. */
export class FileSource implements Source {
  private constructor(private readonly fh: FileHandle, readonly size: number, readonly mtimeMs: number) {}

  static async open(path: string): Promise<FileSource> {
    const fh = await open(path, 'r');
    const st = await fh.stat();
    return new FileSource(fh, st.size, st.mtimeMs);
  }

  async getBytes(offset: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) throw new Error(`PMTiles archive is truncated: wanted bytes ${offset}–${offset + length}, file has ${this.size}. Rebuild it with \`npm run tiles\`.`);
      done += bytesRead;
    }
    return buf;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

/** A stored tile: its bytes as in the archive and a strong ETag that identifies them. */
export interface StoredTile {
  data: Buffer;
  etag: string;
}

const HEADER_BYTES = 127;
/** Header + root directory are guaranteed to fit in the first 16 KiB (spec, "Directory Hierarchy"). */
const FIRST_READ = 16_384;
const MAX_DEPTH = 4;

/** Directory decoding per the spec's "Directory Serialization" (varints, columnar, delta ids, zeroed offsets). */
export function decodeDirectory(bytes: Uint8Array): Entry[] {
  const p = { buf: bytes, pos: 0 };
  const n = readVarint(p);
  if (n === 0) throw new Error('PMTiles directory is empty, which the spec forbids: rebuild the archive.');
  const entries: Entry[] = new Array(n);
  let last = 0;
  for (let i = 0; i < n; i++) {
    last += readVarint(p);
    entries[i] = { tileId: last, offset: 0, length: 0, runLength: 1 };
  }
  for (let i = 0; i < n; i++) entries[i].runLength = readVarint(p);
  for (let i = 0; i < n; i++) entries[i].length = readVarint(p);
  for (let i = 0; i < n; i++) {
    const v = readVarint(p);
    entries[i].offset = v === 0 && i > 0 ? entries[i - 1].offset + entries[i - 1].length : v - 1;
  }
  return entries;
}

export class PmtilesArchive {
  /** Decoded leaf directories by offset; a city archive has tens of them, each a few KB decoded. */
  private readonly leaves = new Lru<number, Entry[]>(256);

  private constructor(
    private readonly source: Source,
    readonly header: Header,
    readonly metadata: Record<string, unknown>,
    private readonly root: Entry[],
    /** Changes whenever the archive file does; prefixes every tile ETag. */
    readonly tag: string,
  ) {}

  static async open(path: string): Promise<PmtilesArchive> {
    const source = await FileSource.open(path);
    try {
      if (source.size < HEADER_BYTES) throw new Error('file shorter than a PMTiles header');
      const first = await source.getBytes(0, Math.min(FIRST_READ, source.size));
      if (first.toString('latin1', 0, 7) !== 'PMTiles') throw new Error('no "PMTiles" magic number');
      const ab = first.buffer.slice(first.byteOffset, first.byteOffset + HEADER_BYTES) as ArrayBuffer;
      const header = bytesToHeader(ab);
      if (header.specVersion !== 3) throw new Error(`spec version ${header.specVersion}, only 3 is supported`);
      const rootRaw = header.rootDirectoryOffset + header.rootDirectoryLength <= first.length
        ? first.subarray(header.rootDirectoryOffset, header.rootDirectoryOffset + header.rootDirectoryLength)
        : await source.getBytes(header.rootDirectoryOffset, header.rootDirectoryLength);
      const root = decodeDirectory(decompress(rootRaw, header.internalCompression));
      let metadata: Record<string, unknown> = {};
      if (header.jsonMetadataLength > 0) {
        const raw = await source.getBytes(header.jsonMetadataOffset, header.jsonMetadataLength);
        const parsed: unknown = JSON.parse(decompress(raw, header.internalCompression).toString('utf8'));
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) metadata = parsed as Record<string, unknown>;
      }
      const tag = createHash('sha1')
        .update(first.subarray(0, HEADER_BYTES))
        .update(rootRaw)
        .update(`${source.size}:${source.mtimeMs}`)
        .digest('base64url')
        .slice(0, 12);
      return new PmtilesArchive(source, header, metadata, root, tag);
    } catch (err) {
      await source.close();
      throw new Error(`Cannot read PMTiles archive ${path}: ${(err as Error).message}. Rebuild it with \`npm run tiles\`.`, { cause: err });
    }
  }

  get size(): number {
    return this.source.size;
  }

  /** Tile id (Hilbert) of z/x/y; z must be ≤ 26 (the pmtiles limit) — callers check the archive zoom range first. */
  static tileId(z: number, x: number, y: number): number {
    return zxyToTileId(z, x, y);
  }

  /** Whether z/x/y lies inside the archive's zoom range and (touches) its bounds: missing tiles there are "empty", not "not found". */
  covers(z: number, x: number, y: number): boolean {
    const h = this.header;
    if (z < h.minZoom || z > h.maxZoom) return false;
    const n = 2 ** z;
    const x0 = Math.floor(((h.minLon + 180) / 360) * n);
    const x1 = Math.floor(((h.maxLon + 180) / 360) * n);
    const y0 = latToTileY(h.maxLat, n);
    const y1 = latToTileY(h.minLat, n);
    return x >= x0 && x <= Math.min(x1, n - 1) && y >= y0 && y <= Math.min(y1, n - 1);
  }

  /** The stored tile, or null when the archive has no tile with this id. */
  async getTile(tileId: number): Promise<StoredTile | null> {
    const h = this.header;
    let dir = this.root;
    for (let depth = 0; depth < MAX_DEPTH; depth++) {
      const e = findTile(dir, tileId);
      if (!e) return null;
      if (e.runLength > 0) {
        const data = await this.source.getBytes(h.tileDataOffset + e.offset, e.length);
        // Same offset+length in one archive ⇒ same bytes (the writer deduplicates by content).
        return { data, etag: `"${this.tag}-${e.offset.toString(36)}-${e.length.toString(36)}"` };
      }
      dir = await this.leaf(h.leafDirectoryOffset + e.offset, e.length);
    }
    throw new Error('PMTiles directory depth exceeds 4: the archive is malformed; rebuild it with `npm run tiles`.');
  }

  /** Every tile entry (run-length entries as stored), in tile-id order: for benchmarks and tools, not the request path. */
  async entries(): Promise<Entry[]> {
    const out: Entry[] = [];
    const walk = async (dir: Entry[], depth: number): Promise<void> => {
      if (depth >= MAX_DEPTH) throw new Error('PMTiles directory depth exceeds 4: the archive is malformed.');
      for (const e of dir) {
        if (e.runLength > 0) out.push(e);
        else await walk(await this.leaf(this.header.leafDirectoryOffset + e.offset, e.length), depth + 1);
      }
    };
    await walk(this.root, 0);
    return out;
  }

  private async leaf(offset: number, length: number): Promise<Entry[]> {
    const cached = this.leaves.get(offset);
    if (cached) return cached;
    const raw = await this.source.getBytes(offset, length);
    const entries = decodeDirectory(decompress(raw, this.header.internalCompression));
    this.leaves.set(offset, entries);
    return entries;
  }

  close(): Promise<void> {
    return this.source.close();
  }
}

function latToTileY(lat: number, n: number): number {
  const clamped = Math.max(-85.0511287798, Math.min(85.0511287798, lat));
  const r = (clamped * Math.PI) / 180;
  return Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n);
}

/** Internal (directory/metadata) compression per the header enum: 1 none, 2 gzip, 3 brotli. */
function decompress(bytes: Uint8Array, compression: number): Buffer {
  switch (compression) {
    case 0:
    case 1:
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    case 2:
      return gunzipSync(bytes);
    case 3:
      return brotliDecompressSync(bytes);
    default:
      throw new Error(`internal compression ${compression} (zstd?) is not supported; rebuild with gzip`);
  }
}
