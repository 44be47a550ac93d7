// The layers the server can answer feature queries for: catalog layers whose FlatGeobuf file exists in
// the data folder. Each file is read into memory on first use (the demo city's largest layer is tens of
// MB) and queried through its packed Hilbert R-tree; the id → feature map is built on first lookup.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LAYERS, type LayerDef } from '../layers/catalog.ts';
import { encodeFlatGeobuf, openFlatGeobuf, type FgbFile } from '../layers/formats/flatgeobuf.ts';
import { statFile } from './static.ts';
import { geometryIntersectsBbox } from './bbox-intersects.ts';
import { Lru } from './lru.ts';
import type { Bbox } from './params.ts';

export class FeatureLayer {
  private file?: Promise<FgbFile>;
  private ids?: Map<string, number>;
  private idsRevision = 0;
  /** Where the effective (edited) data comes from once editing is wired (tile-server/editing/effective.ts). */
  private source?: { file(layer: string): Promise<FgbFile>; revision(layer: string): number };
  /** Matches of recent bbox queries, so paging through one query does not refilter it per page. */
  private readonly queries = new Lru<string, Uint32Array>(32, 64 * 1024 * 1024, (a) => a.byteLength);

  constructor(readonly def: LayerDef, readonly path: string) {}

  /** The data as served: the built file with the edits laid over it (just the built file while unedited). */
  open(): Promise<FgbFile> {
    return this.source && this.source.revision(this.def.id) > 0 ? this.source.file(this.def.id) : this.base();
  }

  /** seq of the last edit of this layer (0: as built); part of ETags. */
  revision(): number {
    return this.source?.revision(this.def.id) ?? 0;
  }

  /** Serve the effective data from `source` (the edits' overlay). */
  attach(source: { file(layer: string): Promise<FgbFile>; revision(layer: string): number }): void {
    this.source = source;
    this.invalidate();
  }

  /** Drops what was derived from the data (after an edit). */
  invalidate(): void {
    this.ids = undefined;
    this.queries.clear();
  }

  private encoded?: { revision: number; bytes: Promise<Uint8Array> };

  /**
   * The effective data as a FlatGeobuf file (with its index, so range readers work), for /data/{id}.fgb
   * after an edit; null while the layer is as built (the file on disk is served). Cached per revision.
   */
  async editedBytes(): Promise<{ bytes: Uint8Array; etag: string } | null> {
    const revision = this.revision();
    if (!revision) return null;
    if (!this.encoded || this.encoded.revision !== revision) {
      const bytes = this.open().then((f) => encodeFlatGeobuf([...f.features()], { layerName: this.def.id, fields: this.def.fields, description: this.def.title }));
      this.encoded = { revision, bytes };
      bytes.catch(() => { if (this.encoded?.bytes === bytes) this.encoded = undefined; });
    }
    return { bytes: await this.encoded.bytes, etag: `"${this.def.id}-r${revision}"` };
  }

  /** The built file as read from disk. */
  base(): Promise<FgbFile> {
    this.file ??= readFile(this.path).then(
      (bytes) => openFlatGeobuf(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)),
    );
    this.file.catch(() => (this.file = undefined)); // a rebuilt file can be retried
    return this.file;
  }

  /** Indices (file order, ascending) of features whose geometry intersects `bbox`. */
  async match(bbox: Bbox): Promise<Uint32Array> {
    const key = `${this.revision()}:${bbox.join(',')}`;
    const hit = this.queries.get(key);
    if (hit) return hit;
    const f = await this.open();
    const candidates = f.search(bbox).sort((a, b) => a - b);
    const out: number[] = [];
    for (const i of candidates) if (geometryIntersectsBbox(f.feature(i).geometry, bbox)) out.push(i);
    const arr = Uint32Array.from(out);
    this.queries.set(key, arr);
    return arr;
  }

  /** File index of the feature with this `id` property, or undefined. */
  async indexOf(id: string): Promise<number | undefined> {
    const rev = this.revision();
    const f = await this.open();
    if (!this.ids || this.idsRevision !== rev) {
      this.idsRevision = rev;
      const ids = new Map<string, number>();
      let i = 0;
      for (const feat of f.features()) {
        const v = feat.properties?.id ?? feat.id;
        if (v !== undefined && v !== null) ids.set(String(v), i);
        i++;
      }
      this.ids = ids;
    }
    return this.ids.get(id);
  }
}

/** Finds the catalog layers present in `dataDir`. A layer built later needs a server restart. */
export async function openFeatureLayers(dataDir: string): Promise<Map<string, FeatureLayer>> {
  const out = new Map<string, FeatureLayer>();
  // TODO(role-based access, the issue after issue 2): filter by the caller's role (LayerDef.roles) and mask
  // `personal` fields; until then every built layer is served, including staff-only ones.
  for (const def of LAYERS) {
    const path = join(dataDir, def.fgb);
    if (await statFile(path)) out.set(def.id, new FeatureLayer(def, path));
  }
  return out;
}
