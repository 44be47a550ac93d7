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
import { hasPersonal } from '../layers/security/masking.ts';
import type { PersonalView } from './personal-data.ts';

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
    this.variants.clear();
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

  /** Masked variants of a layer with personal fields, keyed `${revision}:${variant}` (few: 'masked' + grid managers' grid sets). */
  private readonly variants = new Lru<string, Promise<Uint8Array>>(8, 256 * 1024 * 1024, () => 1);

  /**
   * /data/{id}.fgb as this caller may see it: null when the file as stored may go out (no personal fields,
   * or a caller who sees them all in full — then the personal records sent are counted on `view`); else a
   * FlatGeobuf with the personal fields masked (all of them, or outside a grid manager's grids), cached per
   * revision and variant. Masked values stay strings, so the file's schema (LayerDef.fields) is unchanged.
   */
  async bytesFor(view: PersonalView): Promise<{ bytes: Uint8Array; etag: string } | null> {
    view.check(this.def);
    const access = view.access(this.def);
    if (access.kind === 'grant') return this.grantBytes(view, access.grants);
    if (!hasPersonal(this.def)) return null;
    const mode = view.uniform();
    if (mode === 'full') {
      view.count(this.def.id, (await this.open()).count);
      return null;
    }
    const grids = mode === 'mixed' ? [...(view.actor?.grids ?? [])].sort().join(',') : '';
    const variant = mode === 'masked' ? 'masked' : `grids:${grids}`;
    const revision = this.revision();
    const key = `${revision}:${variant}`;
    let p = this.variants.get(key);
    if (!p) {
      p = this.open().then((f) => {
        const features: GeoJSON.Feature[] = [];
        for (const feat of f.features()) features.push(view.feature(this.def, feat));
        return encodeFlatGeobuf(features, { layerName: this.def.id, fields: this.def.fields, description: this.def.title });
      });
      this.variants.set(key, p);
      p.catch(() => { if (this.variants.get(key) === p) this.variants.delete(key); });
    } else if (mode === 'mixed') {
      // Cached bytes: count the grid manager's own records for the audit without re-encoding.
      const f = await this.open();
      for (const feat of f.features()) view.props(this.def, feat.properties ?? {});
    }
    // The variant is part of the ETag, so a cache never hands one caller's variant to another.
    let h = 0;
    for (let i = 0; i < variant.length; i++) h = Math.imul(h ^ variant.charCodeAt(i), 0x01000193) >>> 0;
    return { bytes: await p, etag: `"${this.def.id}-r${revision}-m${h.toString(36)}"` };
  }

  /**
   * The file a sharing grant lets out (issue 10): only the rows inside the grants' areas, only `id` and the
   * grants' fields (the schema too, so a withheld field's name is not even listed), personal fields then masked
   * as for anyone. Cached per revision, scope and masking; the rows sent are counted on `view` as the grants' use.
   */
  private async grantBytes(view: PersonalView, grants: readonly { areas: string[] | null; fields: string[] | null }[]): Promise<{ bytes: Uint8Array; etag: string }> {
    const scope = grants.map((g) => `${g.areas ? [...g.areas].sort().join(',') : '*'}|${g.fields ? [...g.fields].sort().join(',') : '*'}`).sort().join(';');
    const mode = hasPersonal(this.def) ? view.uniform() : 'full';
    const mask = mode === 'mixed' ? `grids:${[...(view.actor?.grids ?? [])].sort().join(',')}` : mode;
    const variant = `grant:${scope}:${mask}`;
    const revision = this.revision();
    const key = `${revision}:${variant}`;
    let p = this.variants.get(key);
    if (!p) {
      const keep = view.grantFields(this.def);
      const fields = keep ? this.def.fields.filter((f) => keep.has(f.name)) : this.def.fields;
      p = this.open().then((f) => {
        const features: GeoJSON.Feature[] = [];
        for (const feat of f.features()) if (view.allows(this.def, feat.properties ?? {})) features.push(view.feature(this.def, feat));
        return encodeFlatGeobuf(features, { layerName: this.def.id, fields, description: this.def.title });
      });
      this.variants.set(key, p);
      p.catch(() => { if (this.variants.get(key) === p) this.variants.delete(key); });
    } else {
      // Cached bytes: count the rows (and personal records) sent without re-encoding.
      const f = await this.open();
      for (const feat of f.features()) if (view.allows(this.def, feat.properties ?? {})) view.props(this.def, feat.properties ?? {});
    }
    let h = 0;
    for (let i = 0; i < variant.length; i++) h = Math.imul(h ^ variant.charCodeAt(i), 0x01000193) >>> 0;
    return { bytes: await p, etag: `"${this.def.id}-r${revision}-g${h.toString(36)}"` };
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
  // Who may see which layer is checked per request (tile-server/auth/policy.ts, LayerDef.roles); personal
  // fields are masked per caller by FeatureLayer.bytesFor and the routes (tile-server/personal-data.ts).
  for (const def of LAYERS) {
    const path = join(dataDir, def.fgb);
    if (await statFile(path)) out.set(def.id, new FeatureLayer(def, path));
  }
  return out;
}
