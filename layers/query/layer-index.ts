// One layer's in-memory query index, built once from its FlatGeobuf file: coordinates in typed arrays
// (WGS84 for topology, Gauss–Krüger EPSG:4549 metres for distances, like PostGIS's geom / geom_m columns),
// one packed R-tree per plane, ids in memory. Properties are decoded only for returned rows; a filter's
// columns are decoded once per field, on first use.
import type { LayerDef } from '../catalog.ts';
import { transformCoords } from '../crs.ts';
import type { FgbFile, FgbRawGeometry } from '../formats/flatgeobuf.ts';
import { compileFilters, parseTime, type RowFilter } from './filters.ts';
import {
  coveredBy, distance, fromGeoJSON, intersects, locate, makeGeom, OUTSIDE, pointDistance, prepare,
  type Geom, type Prepared,
} from './geometry.ts';
import { PackedRTree } from './rtree.ts';
import {
  MAX_DISTANCE_M, type AttributeFilter, type FeatureHit, type LayerQueryResult, type NearestSpec, type QuerySpec, type TimeFilter,
} from './types.ts';

export interface PointsSpec { geometry?: GeoJSON.Geometry; where?: AttributeFilter[]; time?: TimeFilter }
export interface PointsResult { coords: Float64Array; times: Float64Array; ids: string[] }

/** Byte order of UTF-16 code units; ids are ASCII, where this equals PostgreSQL COLLATE "C". */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** WGS84 geometry → EPSG:4549 (vertices projected; edges stay straight in the plane, as ST_Transform does). */
export function projectGeom(g: Geom): Geom {
  return makeGeom(g.dim, transformCoords('EPSG:4326', 'EPSG:4549', g.xy), g.ends, g.polys);
}

const DIM: Record<FgbRawGeometry['type'], 0 | 1 | 2> = {
  Point: 0, MultiPoint: 0, LineString: 1, MultiLineString: 1, Polygon: 2, MultiPolygon: 2,
};

export class LayerIndex {
  readonly count: number;
  readonly ids: string[];
  /** Point layers: coordinates per feature (NaN-free); other layers: null. */
  readonly lonlat: Float64Array | null;
  private readonly gk: Float64Array | null;
  private readonly geoms: Geom[] | null;
  private readonly geomsGK: Geom[] | null;
  private readonly treeLL: PackedRTree;
  private readonly treeGK: PackedRTree;
  private byId?: Map<string, number>;
  private readonly columns = new Map<string, unknown[] | Float64Array>();

  private constructor(readonly def: LayerDef, private readonly file: FgbFile) {
    const n = file.count;
    this.count = n;
    // Geometry and ids straight from the feature buffers (rawGeometry / column): decoding GeoJSON and all
    // properties of 486k addresses took most of the build.
    const idCol = file.column('id');
    this.ids = new Array(n);
    for (let i = 0; i < n; i++) {
      const id = idCol[i];
      this.ids[i] = id === undefined || id === null ? String(i) : String(id);
    }
    const ll = file.pointXY();
    let geoms: Geom[] | null = null;
    if (!ll) {
      geoms = new Array(n);
      for (let i = 0; i < n; i++) {
        const r = file.rawGeometry(i);
        if (!r) throw new Error(`layer ${def.id}: feature ${i} (id ${this.ids[i]}) has no geometry; rebuild the data with \`npm run data\``);
        geoms[i] = makeGeom(DIM[r.type], r.xy, r.ends, r.polys);
      }
    }
    this.treeLL = new PackedRTree(n);
    this.treeGK = new PackedRTree(n);
    if (ll) {
      const gk = transformCoords('EPSG:4326', 'EPSG:4549', ll);
      for (let k = 0; k < n; k++) {
        this.treeLL.add(ll[2 * k], ll[2 * k + 1], ll[2 * k], ll[2 * k + 1]);
        this.treeGK.add(gk[2 * k], gk[2 * k + 1], gk[2 * k], gk[2 * k + 1]);
      }
      this.lonlat = ll; this.gk = gk; this.geoms = null; this.geomsGK = null;
    } else {
      const gks = geoms!.map(projectGeom);
      for (let k = 0; k < n; k++) {
        const a = geoms![k].bbox, b = gks[k].bbox;
        this.treeLL.add(a[0], a[1], a[2], a[3]);
        this.treeGK.add(b[0], b[1], b[2], b[3]);
      }
      this.lonlat = null; this.gk = null; this.geoms = geoms; this.geomsGK = gks;
    }
    this.treeLL.finish();
    this.treeGK.finish();
  }

  static build(def: LayerDef, file: FgbFile): LayerIndex {
    return new LayerIndex(def, file);
  }

  /** Decodes the named columns for all rows, each straight from the feature buffers (datetime → ms since epoch). */
  private ensureColumns(fields: readonly string[]): void {
    for (const f of fields) {
      if (this.columns.has(f)) continue;
      const values = this.file.column(f);
      if (this.def.fields.find((d) => d.name === f)?.type === 'datetime') {
        const t = new Float64Array(this.count);
        for (let i = 0; i < this.count; i++) t[i] = parseTime(values[i]);
        this.columns.set(f, t);
      } else this.columns.set(f, values);
    }
  }

  private rowTest(filter: RowFilter | null): ((i: number) => boolean) | null {
    if (!filter) return null;
    this.ensureColumns(filter.fields);
    const cols = new Map(filter.fields.map((f) => [f, this.columns.get(f)!]));
    let row = 0;
    const value = (f: string): unknown => {
      const c = cols.get(f)!;
      const v = c[row];
      return typeof v === 'number' && Number.isNaN(v) ? undefined : v;
    };
    return (i) => { row = i; return filter.test(value); };
  }

  /** Lon/lat geometry of feature i as prepared arrays. */
  private prepared(i: number, gk: boolean): Prepared {
    if (this.geoms) return prepare((gk ? this.geomsGK! : this.geoms)[i], false);
    const a = gk ? this.gk! : this.lonlat!;
    return prepare(makeGeom(0, a.subarray(2 * i, 2 * i + 2)), false);
  }

  /** Indices of features matching the spec's geometry and predicate (unfiltered by attributes), unordered. */
  private match(spec: Pick<QuerySpec, 'geometry' | 'predicate' | 'distanceM'>, test: ((i: number) => boolean) | null): number[] {
    const shape = fromGeoJSON(spec.geometry);
    const out: number[] = [];
    if (spec.predicate === 'dwithin') {
      const d = spec.distanceM ?? 0;
      const s = prepare(projectGeom(shape));
      const b = s.g.bbox;
      const cand = this.treeGK.search(b[0] - d, b[1] - d, b[2] + d, b[3] + d);
      for (const i of cand) {
        if (test && !test(i)) continue;
        let dist: number;
        if (this.gk) {
          const x = this.gk[2 * i], y = this.gk[2 * i + 1];
          dist = s.g.dim === 2 && locate(s, x, y) !== OUTSIDE ? 0 : distance(this.prepared(i, true), s, d);
        } else dist = distance(this.prepared(i, true), s, d);
        if (dist <= d) out.push(i);
      }
      return out;
    }
    const s = prepare(shape);
    const b = shape.bbox;
    const cand = this.treeLL.search(b[0], b[1], b[2], b[3]);
    for (const i of cand) {
      if (test && !test(i)) continue;
      let ok: boolean;
      if (this.lonlat && spec.predicate !== 'contains') {
        ok = locate(s, this.lonlat[2 * i], this.lonlat[2 * i + 1]) !== OUTSIDE; // a point: intersects = within
      } else {
        const f = this.prepared(i, false);
        ok = spec.predicate === 'intersects' ? intersects(f, s) : spec.predicate === 'within' ? coveredBy(f, s) : coveredBy(s, f);
      }
      if (ok) out.push(i);
    }
    return out;
  }

  private sortById(rows: number[]): number[] {
    const ids = this.ids;
    return rows.sort((a, b) => compareIds(ids[a], ids[b]));
  }

  query(spec: QuerySpec): LayerQueryResult {
    const test = this.rowTest(compileFilters(this.def, spec.where, spec.time));
    const rows = this.sortById(this.match(spec, test));
    const offset = Math.max(0, spec.offset ?? 0);
    const page = rows.slice(offset, offset + Math.max(0, spec.limit));
    let shapeGK: Prepared | null = null;
    const features = page.map((i) => {
      const hit = this.hit(i);
      if (spec.predicate === 'dwithin') {
        shapeGK ??= prepare(projectGeom(fromGeoJSON(spec.geometry)));
        hit.distanceM = distance(this.prepared(i, true), shapeGK);
      }
      return hit;
    });
    return { layer: this.def.id, count: rows.length, features };
  }

  nearest(spec: NearestSpec): FeatureHit[] {
    const test = this.rowTest(compileFilters(this.def, spec.where, spec.time));
    const [x, y] = transformCoords('EPSG:4326', 'EPSG:4549', new Float64Array([spec.lon, spec.lat]));
    const maxD = spec.maxDistanceM ?? MAX_DISTANCE_M;
    const itemDist = this.geomsGK ? (i: number) => pointDistance(prepare(this.geomsGK![i], false), x, y) : undefined;
    const { items, dists } = this.treeGK.neighbors(x, y, spec.k, maxD, itemDist, test ?? undefined);
    this.addTies(x, y, items, dists, spec.k, itemDist, test);
    const order = items.map((_, k) => k).sort((a, b) => dists[a] - dists[b] || compareIds(this.ids[items[a]], this.ids[items[b]]));
    return order.slice(0, spec.k).map((k) => ({ ...this.hit(items[k]), distanceM: dists[k] }));
  }

  /**
   * Adds every feature exactly as far as the k-th found. PackedRTree.neighbors means to return them, but
   * it stops at `value > kth * kth` with kth = sqrt(value), and sqrt then square can round below the
   * value, dropping ties — e.g. the building and room addresses that share one point, where the smallest
   * id must win as in PostGIS (ORDER BY distance, id). Checked here with the tree's own distance formula.
   */
  private addTies(x: number, y: number, items: number[], dists: number[], k: number, itemDist?: (i: number) => number, test?: ((i: number) => boolean) | null): void {
    if (items.length < k) return; // fewer than k within the limit: all were found
    let dk = 0;
    for (const d of dists) if (d > dk) dk = d;
    const seen = new Set(items);
    const gk = this.gk;
    for (const i of this.treeGK.search(x - dk, y - dk, x + dk, y + dk)) {
      if (seen.has(i) || (test && !test(i))) continue;
      let d: number;
      if (itemDist) d = itemDist(i);
      else { const dx = gk![2 * i] - x, dy = gk![2 * i + 1] - y; d = Math.sqrt(dx * dx + dy * dy); }
      if (d <= dk) { items.push(i); dists.push(d); }
    }
  }

  points(spec: PointsSpec): PointsResult {
    if (!this.lonlat) throw new Error(`layer ${this.def.id} is not a point layer; points() needs one`);
    const test = this.rowTest(compileFilters(this.def, spec.where, spec.time));
    let rows: number[];
    if (spec.geometry) rows = this.match({ geometry: spec.geometry, predicate: 'intersects' }, test);
    else {
      rows = [];
      for (let i = 0; i < this.count; i++) if (!test || test(i)) rows.push(i);
    }
    this.sortById(rows);
    const coords = new Float64Array(2 * rows.length);
    const times = new Float64Array(rows.length).fill(NaN);
    const tcol = this.def.time ? (this.ensureColumns([this.def.time]), this.columns.get(this.def.time) as Float64Array) : null;
    rows.forEach((i, k) => {
      coords[2 * k] = this.lonlat![2 * i]; coords[2 * k + 1] = this.lonlat![2 * i + 1];
      if (tcol) times[k] = tcol[i];
    });
    return { coords, times, ids: rows.map((i) => this.ids[i]) };
  }

  indexOf(id: string): number {
    if (!this.byId) {
      this.byId = new Map();
      this.ids.forEach((v, i) => this.byId!.set(v, i));
    }
    return this.byId.get(id) ?? -1;
  }

  get(id: string): FeatureHit | null {
    const i = this.indexOf(id);
    return i < 0 ? null : this.hit(i);
  }

  /** Feature i with its catalog properties (catalog types; absent values left out). */
  hit(i: number): FeatureHit {
    const f = this.file.feature(i);
    return { layer: this.def.id, id: this.ids[i], properties: catalogProps(this.def, f.properties ?? {}), geometry: f.geometry };
  }
}

export function catalogProps(def: LayerDef, p: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const fd of def.fields) {
    const v = p[fd.name];
    if (v === undefined || v === null) continue;
    switch (fd.type) {
      case 'int': case 'number': { const n = Number(v); if (Number.isFinite(n)) out[fd.name] = n; break; }
      case 'boolean': out[fd.name] = v === true || v === 1 || v === 'true'; break;
      default: out[fd.name] = String(v);
    }
  }
  return out;
}
