// The layers the server can answer feature queries for: catalog layers whose FlatGeobuf file exists in
// the data folder. Each file is read into memory on first use (the demo city's largest layer is tens of
// MB) and queried through its packed Hilbert R-tree; the id → feature map is built on first lookup.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LAYERS, type LayerDef } from '../layers/catalog.ts';
import { openFlatGeobuf, type FgbFile } from '../layers/formats/flatgeobuf.ts';
import { statFile } from './static.ts';
import { geometryIntersectsBbox } from './bbox-intersects.ts';
import { Lru } from './lru.ts';
import type { Bbox } from './params.ts';

export class FeatureLayer {
  private file?: Promise<FgbFile>;
  private ids?: Map<string, number>;
  /** Matches of recent bbox queries, so paging through one query does not refilter it per page. */
  private readonly queries = new Lru<string, Uint32Array>(32, 64 * 1024 * 1024, (a) => a.byteLength);

  constructor(readonly def: LayerDef, readonly path: string) {}

  open(): Promise<FgbFile> {
    this.file ??= readFile(this.path).then(
      (bytes) => openFlatGeobuf(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)),
    );
    this.file.catch(() => (this.file = undefined)); // a rebuilt file can be retried
    return this.file;
  }

  /** Indices (file order, ascending) of features whose geometry intersects `bbox`. */
  async match(bbox: Bbox): Promise<Uint32Array> {
    const key = bbox.join(',');
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
    const f = await this.open();
    if (!this.ids) {
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
