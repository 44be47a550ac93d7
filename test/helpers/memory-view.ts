// An in-memory EffectiveView (tile-server/editing/service.ts) for tests: base features per layer (e.g. the
// built files) with the applied versions laid over them, searched by brute force. Exact, small and obvious,
// so the service and the API can be tested without the server's EffectiveLayers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { geometryBbox, openFlatGeobuf } from '../../layers/formats/flatgeobuf.ts';
import type { EditFeature, FeatureVersion } from '../../layers/editing/model.ts';
import type { EffectiveView } from '../../tile-server/editing/service.ts';

export class MemoryView implements EffectiveView {
  private readonly base = new Map<string, Map<string, EditFeature>>();
  private readonly edits = new Map<string, Map<string, { feature: EditFeature | null; version: number }>>();
  readonly applied: FeatureVersion[] = [];

  constructor(base: Record<string, EditFeature[]> = {}) {
    for (const [layer, fs] of Object.entries(base)) this.setBase(layer, fs);
  }

  setBase(layer: string, fs: EditFeature[]): void {
    this.base.set(layer, new Map(fs.map((f) => [f.id, f])));
  }

  private layerEdits(layer: string) {
    let m = this.edits.get(layer);
    if (!m) this.edits.set(layer, m = new Map());
    return m;
  }

  async feature(layer: string, id: string): Promise<{ feature: EditFeature; version: number } | null> {
    const e = this.edits.get(layer)?.get(id);
    if (e) return e.feature ? { feature: e.feature, version: e.version } : null;
    const b = this.base.get(layer)?.get(id);
    return b ? { feature: b, version: 0 } : null;
  }

  async baseFeature(layer: string, id: string): Promise<EditFeature | null> {
    return this.base.get(layer)?.get(id) ?? null;
  }

  /** Every current feature of the layer (base order, then created ones). */
  all(layer: string): EditFeature[] {
    const e = this.edits.get(layer) ?? new Map();
    const out: EditFeature[] = [];
    for (const [id, f] of this.base.get(layer) ?? []) {
      const x = e.get(id);
      if (!x) out.push(f);
      else if (x.feature) out.push(x.feature);
    }
    for (const [id, x] of e) if (x.feature && !this.base.get(layer)?.has(id)) out.push(x.feature);
    return out;
  }

  async search(layer: string, [x0, y0, x1, y1]: [number, number, number, number]): Promise<EditFeature[]> {
    return this.all(layer).filter((f) => {
      const b = geometryBbox(f.geometry);
      return !(b[2] < x0 || b[0] > x1 || b[3] < y0 || b[1] > y1);
    });
  }

  async where(layer: string, field: string, value: string): Promise<EditFeature[]> {
    return this.all(layer).filter((f) => f.properties[field] === value);
  }

  apply(versions: FeatureVersion[]): void {
    for (const v of versions) {
      this.applied.push(v);
      this.layerEdits(v.layer).set(v.id, { feature: v.deleted ? null : v.feature, version: v.version });
    }
  }
}

/** Features of a built FlatGeobuf (geodata/build by default) as EditFeatures, optionally filtered. */
export function loadBuilt(layer: string, filter: (f: EditFeature) => boolean = () => true, dir = 'geodata/build'): EditFeature[] {
  const file = openFlatGeobuf(new Uint8Array(readFileSync(join(dir, `${layer}.fgb`))));
  const out: EditFeature[] = [];
  for (const f of file.features()) {
    const e: EditFeature = { type: 'Feature', id: String(f.properties!.id), geometry: f.geometry, properties: { ...f.properties } };
    if (filter(e)) out.push(e);
  }
  return out;
}
