// The effective layer (issue 8): a built FlatGeobuf file with the edits laid over it, behind the same
// FgbFile interface, so every reader of the built data (feature API, query indexes, admin lookups, tile
// patches, exports) sees the edits without rewriting a 200 MB file. Base rows keep their file order
// (minus the edited ids); the edited, non-deleted features follow in the order of the `edits` map.
// Pure (no Node APIs): the browser may lay its own unsaved edits over a downloaded file the same way.
import type { FieldType } from '../catalog.ts';
import { geometryBbox, type Bbox, type FgbFile, type FgbRawGeometry } from '../formats/flatgeobuf.ts';
import type { EditFeature } from './model.ts';

const NONE = new Uint32Array(0);

/**
 * `edits`: id → the current feature, or null for a deleted one. `columns`: the layer's columns (the base
 * file's when there is one); edited properties outside them, and null values, are left out, as a file
 * written with those columns would have them.
 */
export function overlayFgb(
  base: FgbFile | null,
  edits: ReadonlyMap<string, EditFeature | null>,
  columns: { name: string; type: FieldType }[],
): FgbFile {
  const cols = base ? base.columns : columns.map((c) => ({ name: c.name, type: c.type }));
  const names = new Set(cols.map((c) => c.name));
  const baseCount = base ? base.count : 0;
  // Base index → effective index (-1: replaced or deleted by an edit).
  const remap = new Int32Array(baseCount);
  const kept: number[] = [];
  if (base) {
    const ids = edits.size ? base.column('id') : [];
    for (let i = 0; i < baseCount; i++) {
      const id = ids[i];
      if (edits.size && id !== undefined && id !== null && edits.has(String(id))) { remap[i] = -1; continue; }
      remap[i] = kept.length;
      kept.push(i);
    }
  }
  const added: GeoJSON.Feature[] = [];
  const addedBox: Bbox[] = [];
  for (const [id, f] of edits) {
    if (!f || !f.geometry) continue;
    const properties: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(f.properties ?? {})) if (names.has(k) && v !== null && v !== undefined) properties[k] = v;
    if (names.has('id') || !base) properties.id = id;
    added.push({ type: 'Feature', id, geometry: f.geometry, properties });
    addedBox.push(geometryBbox(f.geometry));
  }
  const nKept = kept.length;
  const count = nKept + added.length;

  const bbox: Bbox = [Infinity, Infinity, -Infinity, -Infinity];
  const grow = (b: Bbox) => {
    if (b[0] < bbox[0]) bbox[0] = b[0];
    if (b[1] < bbox[1]) bbox[1] = b[1];
    if (b[2] > bbox[2]) bbox[2] = b[2];
    if (b[3] > bbox[3]) bbox[3] = b[3];
  };
  // The base extent stays even when its edge features were deleted: an over-wide box is harmless, a
  // recomputation would read every feature.
  if (base && base.count) grow(base.bbox);
  for (const b of addedBox) grow(b);
  if (!(bbox[0] <= bbox[2])) bbox.splice(0, 4, 0, 0, 0, 0);

  const check = (i: number) => {
    if (!(i >= 0 && i < count && Number.isInteger(i))) throw new RangeError(`feature index ${i} is outside [0, ${count})`);
  };
  const feature = (i: number): GeoJSON.Feature => {
    check(i);
    if (i < nKept) return base!.feature(kept[i]);
    const a = added[i - nKept];
    return { type: 'Feature', id: a.id, geometry: a.geometry, properties: { ...a.properties } };
  };

  return {
    count,
    bbox,
    columns: cols,
    search(q: Bbox): number[] {
      const out: number[] = [];
      if (base) for (const i of base.search(q)) { const j = remap[i]; if (j >= 0) out.push(j); }
      for (let k = 0; k < addedBox.length; k++) {
        const b = addedBox[k];
        if (q[2] < b[0] || q[3] < b[1] || q[0] > b[2] || q[1] > b[3]) continue;
        out.push(nKept + k);
      }
      return out;
    },
    feature,
    *features() {
      for (let i = 0; i < count; i++) yield feature(i);
    },
    rawGeometry(i: number): FgbRawGeometry | null {
      check(i);
      if (i < nKept) return base!.rawGeometry(kept[i]);
      return rawOf(added[i - nKept].geometry);
    },
    column(name: string): unknown[] {
      const out = new Array<unknown>(count).fill(undefined);
      if (!names.has(name)) return out;
      if (base) {
        const all = base.column(name);
        for (let k = 0; k < nKept; k++) out[k] = all[kept[k]];
      }
      for (let k = 0; k < added.length; k++) out[nKept + k] = added[k].properties![name];
      return out;
    },
    pointXY(): Float64Array | null {
      let xy: Float64Array | null = null;
      if (base) {
        xy = base.pointXY();
        if (!xy) return null;
      }
      const out = new Float64Array(2 * count);
      for (let k = 0; k < nKept; k++) { out[2 * k] = xy![2 * kept[k]]; out[2 * k + 1] = xy![2 * kept[k] + 1]; }
      for (let k = 0; k < added.length; k++) {
        const g = added[k].geometry;
        if (g.type !== 'Point' || g.coordinates.length < 2) return null;
        out[2 * (nKept + k)] = g.coordinates[0];
        out[2 * (nKept + k) + 1] = g.coordinates[1];
      }
      return out;
    },
  };
}

/** A GeoJSON geometry in the flat layout of FgbFile.rawGeometry (null for GeometryCollection). */
export function rawOf(g: GeoJSON.Geometry): FgbRawGeometry | null {
  const xy: number[] = [];
  const ends: number[] = [];
  const polys: number[] = [];
  const line = (l: GeoJSON.Position[]) => { for (const p of l) xy.push(p[0], p[1]); ends.push(xy.length / 2); };
  switch (g.type) {
    case 'Point': return { type: 'Point', xy: Float64Array.from(g.coordinates.slice(0, 2)), ends: NONE, polys: NONE };
    case 'MultiPoint':
      for (const p of g.coordinates) xy.push(p[0], p[1]);
      return { type: 'MultiPoint', xy: Float64Array.from(xy), ends: NONE, polys: NONE };
    case 'LineString': line(g.coordinates); return { type: 'LineString', xy: Float64Array.from(xy), ends: Uint32Array.from(ends), polys: NONE };
    case 'MultiLineString': g.coordinates.forEach(line); return { type: 'MultiLineString', xy: Float64Array.from(xy), ends: Uint32Array.from(ends), polys: NONE };
    case 'Polygon':
      g.coordinates.forEach(line);
      return { type: 'Polygon', xy: Float64Array.from(xy), ends: Uint32Array.from(ends), polys: Uint32Array.of(ends.length) };
    case 'MultiPolygon':
      for (const p of g.coordinates) { p.forEach(line); polys.push(ends.length); }
      return { type: 'MultiPolygon', xy: Float64Array.from(xy), ends: Uint32Array.from(ends), polys: Uint32Array.from(polys) };
    default: return null;
  }
}
