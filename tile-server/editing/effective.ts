// The layers as they are now: the built files with the stored edits laid over them (layers/editing/
// overlay-fgb.ts). One instance per server; the edit service applies each commit here synchronously, so
// the next request already reads the edited data (the feature API, /data files, tile patches and the
// embedded query store all read `file(layer)`).
import { getLayer } from '../../layers/catalog.ts';
import { geometryBbox, type Bbox, type FgbFile } from '../../layers/formats/flatgeobuf.ts';
import type { EditFeature, FeatureVersion, LayerChange } from '../../layers/editing/model.ts';
import { overlayFgb } from '../../layers/editing/overlay-fgb.ts';
import type { FeatureLayer } from '../feature-store.ts';
import type { EffectiveView } from './service.ts';

interface LayerEdits {
  features: Map<string, EditFeature | null>;
  versions: Map<string, number>;
  /** Union of the extents of every version applied here (the base geometry's extent is added lazily). */
  seen: Map<string, Bbox>;
  revision: number;
}

export class EffectiveLayers implements EffectiveView {
  private readonly edits = new Map<string, LayerEdits>();
  private readonly files = new Map<string, { revision: number; file: Promise<FgbFile> }>();
  private readonly baseIds = new Map<string, Promise<Map<string, number>>>();
  private readonly footprints = new Map<string, { revision: number; value: Promise<Map<string, Bbox>> }>();
  private readonly listeners: ((changes: LayerChange[]) => void)[] = [];
  private maxRevision = 0;
  /** Per effective file (a new one per revision, so entries die with it): field → value → rows. */
  private readonly valueIndex = new WeakMap<FgbFile, Map<string, Map<string, number[]>>>();

  /** `dataDir` is where the built files are; `layers` the ones found there (feature-store.ts). */
  constructor(readonly dataDir: string, private readonly layers: Map<string, FeatureLayer>) {}

  /** The built file, or null when the layer was never built (it may still have created features). */
  private base(layer: string): Promise<FgbFile | null> {
    const fl = this.layers.get(layer);
    return fl ? fl.base() : Promise.resolve(null);
  }

  /** Effective file: base + edits, cached per layer revision (the base file itself while unedited). */
  async file(layer: string): Promise<FgbFile> {
    const def = getLayer(layer);
    if (!def) throw new Error(`unknown layer ${layer}; see layers/catalog.ts`);
    const e = this.edits.get(layer);
    if (!e || !e.features.size) {
      const b = await this.base(layer);
      if (b) return b;
    }
    const revision = e?.revision ?? 0;
    let hit = this.files.get(layer);
    if (!hit || hit.revision !== revision) {
      const features = new Map(e?.features ?? []);
      const file = this.base(layer).then((b) => overlayFgb(b, features, def.fields));
      hit = { revision, file };
      this.files.set(layer, hit);
      file.catch(() => { if (this.files.get(layer) === hit) this.files.delete(layer); });
    }
    return hit.file;
  }

  /** seq of the last change applied to `layer` (0: unedited); without a layer, the last of all. */
  revision(layer?: string): number {
    if (layer === undefined) return this.maxRevision;
    return this.edits.get(layer)?.revision ?? 0;
  }

  /** id → current feature (null: deleted) of every edited feature of the layer. */
  edited(layer: string): ReadonlyMap<string, EditFeature | null> {
    return this.edits.get(layer)?.features ?? new Map();
  }

  onApplied(fn: (changes: LayerChange[]) => void): void {
    this.listeners.push(fn);
  }

  async feature(layer: string, id: string): Promise<{ feature: EditFeature; version: number } | null> {
    const e = this.edits.get(layer);
    if (e?.features.has(id)) {
      const f = e.features.get(id);
      return f ? { feature: clone(f), version: e.versions.get(id) ?? 0 } : null;
    }
    const b = await this.base(layer);
    if (!b) return null;
    const i = (await this.baseIndex(layer, b)).get(id);
    return i === undefined ? null : { feature: toEdit(b.feature(i), id), version: 0 };
  }

  /** The feature as built (history's version 0), edits ignored. */
  async baseFeature(layer: string, id: string): Promise<EditFeature | null> {
    const b = await this.base(layer);
    if (!b) return null;
    const i = (await this.baseIndex(layer, b)).get(id);
    return i === undefined ? null : toEdit(b.feature(i), id);
  }

  async search(layer: string, bbox: [number, number, number, number]): Promise<EditFeature[]> {
    const f = await this.file(layer);
    return f.search(bbox).map((i) => toEdit(f.feature(i)));
  }

  async where(layer: string, field: string, value: string): Promise<EditFeature[]> {
    const f = await this.file(layer);
    // value → rows per (file, field): the service asks this once per within-grid feature, and decoding the
    // column each time made a 10k-feature import spend most of its time here (bench/editing.bench.ts).
    let byField = this.valueIndex.get(f);
    if (!byField) { byField = new Map(); this.valueIndex.set(f, byField); }
    let rows = byField.get(field);
    if (!rows) {
      rows = new Map();
      const col = f.column(field);
      for (let i = 0; i < col.length; i++) {
        const v = col[i];
        if (v === undefined || v === null) continue;
        const k = String(v);
        const list = rows.get(k);
        if (list) list.push(i); else rows.set(k, [i]);
      }
      byField.set(field, rows);
    }
    return (rows.get(value) ?? []).map((i) => toEdit(f.feature(i)));
  }

  /** Synchronous, so the request after a commit already sees it. Older versions than the ones held are ignored. */
  apply(versions: FeatureVersion[]): void {
    const byLayer = new Map<string, LayerChange>();
    for (const v of versions) {
      let e = this.edits.get(v.layer);
      if (!e) { e = { features: new Map(), versions: new Map(), seen: new Map(), revision: 0 }; this.edits.set(v.layer, e); }
      if ((e.versions.get(v.id) ?? -1) >= v.version) continue; // replayed or already applied
      const prev = e.features.get(v.id);
      const boxes: Bbox[] = [];
      if (prev?.geometry) boxes.push(geometryBbox(prev.geometry));
      const feature = v.deleted ? null : v.feature;
      if (feature?.geometry) boxes.push(geometryBbox(feature.geometry));
      e.features.set(v.id, feature ? { ...feature, id: v.id } : null);
      e.versions.set(v.id, v.version);
      let seen = e.seen.get(v.id);
      for (const b of boxes) seen = union(seen, b);
      if (seen) e.seen.set(v.id, seen);
      e.revision = Math.max(e.revision, v.seq);
      this.maxRevision = Math.max(this.maxRevision, v.seq);
      let c = byLayer.get(v.layer);
      if (!c) { c = { layer: v.layer, revision: 0, ids: [], bboxes: [], versions: [] }; byLayer.set(v.layer, c); }
      c.ids.push(v.id);
      c.bboxes.push(...boxes);
      c.versions.push(v);
    }
    if (!byLayer.size) return;
    for (const c of byLayer.values()) {
      c.revision = this.edits.get(c.layer)!.revision;
      const fl = this.layers.get(c.layer);
      fl?.invalidate();
    }
    const changes = [...byLayer.values()];
    for (const fn of this.listeners) fn(changes);
  }

  /**
   * id → extent covering every geometry the feature has had (built data and each edit): the area where
   * tiles must be patched. Cached per layer revision.
   */
  footprint(layer: string): Promise<Map<string, Bbox>> {
    const e = this.edits.get(layer);
    if (!e) return Promise.resolve(new Map());
    const hit = this.footprints.get(layer);
    if (hit && hit.revision === e.revision) return hit.value;
    const ids = [...e.features.keys()];
    const seen = new Map(e.seen);
    const value = (async () => {
      const out = new Map<string, Bbox>();
      const b = await this.base(layer);
      const index = b ? await this.baseIndex(layer, b) : null;
      for (const id of ids) {
        let box = seen.get(id);
        const i = index?.get(id);
        if (b && i !== undefined) {
          const g = b.rawGeometry(i);
          if (g && g.xy.length) box = union(box, xyBbox(g.xy));
        }
        if (box) out.set(id, box);
      }
      return out;
    })();
    this.footprints.set(layer, { revision: e.revision, value });
    value.catch(() => this.footprints.delete(layer));
    return value;
  }

  /** Built file index by id (the id column only, read once per layer). */
  private baseIndex(layer: string, b: FgbFile): Promise<Map<string, number>> {
    let p = this.baseIds.get(layer);
    if (!p) {
      p = Promise.resolve().then(() => {
        const m = new Map<string, number>();
        b.column('id').forEach((v, i) => { if (v !== undefined && v !== null) m.set(String(v), i); });
        return m;
      });
      this.baseIds.set(layer, p);
    }
    return p;
  }
}

function toEdit(f: GeoJSON.Feature, id?: string): EditFeature {
  const fid = id ?? String(f.properties?.id ?? f.id ?? '');
  return { type: 'Feature', id: fid, geometry: f.geometry, properties: { ...(f.properties ?? {}) } };
}

function clone(f: EditFeature): EditFeature {
  return { type: 'Feature', id: f.id, geometry: structuredClone(f.geometry), properties: structuredClone(f.properties) };
}

function union(a: Bbox | undefined, b: Bbox): Bbox {
  if (!a) return [b[0], b[1], b[2], b[3]];
  return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[2], b[2]), Math.max(a[3], b[3])];
}

function xyBbox(xy: Float64Array): Bbox {
  const b: Bbox = [Infinity, Infinity, -Infinity, -Infinity];
  for (let k = 0; k < xy.length; k += 2) {
    if (xy[k] < b[0]) b[0] = xy[k];
    if (xy[k + 1] < b[1]) b[1] = xy[k + 1];
    if (xy[k] > b[2]) b[2] = xy[k];
    if (xy[k + 1] > b[3]) b[3] = xy[k + 1];
  }
  return b;
}
