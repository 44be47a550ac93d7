// FlatGeobuf writer and reader (https://flatgeobuf.org, format version 3). Layout, as written here:
//   magic "fgb\x03fgb\x00" | uint32 header size | Header (flatbuffer) | packed Hilbert R-tree | features
// Each feature is a size-prefixed Feature flatbuffer. We write the index ourselves because flatgeobuf's
// `geojson.serialize()` writes none (index_node_size 0), and bbox reads of such a file fail.
// The generated flatbuffers classes come from the flatgeobuf package, so the schema is theirs, not a copy.

import * as flatbuffers from 'flatbuffers';
import { ColumnType } from 'flatgeobuf/lib/mjs/flat-geobuf/column-type.js';
import { Column } from 'flatgeobuf/lib/mjs/flat-geobuf/column.js';
import { Crs } from 'flatgeobuf/lib/mjs/flat-geobuf/crs.js';
import { Feature } from 'flatgeobuf/lib/mjs/flat-geobuf/feature.js';
import { Geometry } from 'flatgeobuf/lib/mjs/flat-geobuf/geometry.js';
import { GeometryType } from 'flatgeobuf/lib/mjs/flat-geobuf/geometry-type.js';
import { Header } from 'flatgeobuf/lib/mjs/flat-geobuf/header.js';
import type { FieldDef, FieldType } from '../catalog.ts';
import {
  buildPackedRTree, DEFAULT_NODE_SIZE, hilbertOrder, readPackedRTree, searchPackedRTree, treeByteSize,
  type PackedRTree,
} from './hilbert-rtree.ts';

export type Bbox = [number, number, number, number];

export interface FgbWriteOptions {
  layerName: string;
  /** Column order and types; without it, columns are inferred from the first value seen per property. */
  fields?: FieldDef[];
  description?: string;
}

export interface FgbFile {
  readonly count: number;
  readonly bbox: Bbox;
  readonly columns: { name: string; type: FieldType }[];
  /** Indices (file order) of features whose bbox intersects `bbox`, ascending. */
  search(bbox: Bbox): number[];
  feature(i: number): GeoJSON.Feature;
  features(): IterableIterator<GeoJSON.Feature>;
  /** Geometry of feature i as flat arrays, read straight from the feature buffer: no GeoJSON, no
   *  properties (index builds need only this). Null when the feature has no geometry. */
  rawGeometry(i: number): FgbRawGeometry | null;
  /** One column's values for every feature in file order (undefined where absent or null), decoding no
   *  other column; values as `feature(i).properties` would give them. An unknown name gives all undefined. */
  column(name: string): unknown[];
  /** Interleaved x,y of every feature when all are Points (the bulk path of rawGeometry for point layers,
   *  no per-feature allocation); null as soon as one is not a Point or has no coordinates. */
  pointXY(): Float64Array | null;
}

/**
 * One geometry as flat arrays (the layout of layers/query/geometry.ts `Geom`): `xy` interleaved x,y (a
 * copy); `ends[k]` the end vertex (exclusive) of line or ring k (empty for points); `polys[j]` the end ring
 * (exclusive) of polygon j (Polygon: [ends.length]; empty for points and lines).
 */
export interface FgbRawGeometry {
  type: 'Point' | 'MultiPoint' | 'LineString' | 'MultiLineString' | 'Polygon' | 'MultiPolygon';
  xy: Float64Array;
  ends: Uint32Array;
  polys: Uint32Array;
}

const MAGIC = new Uint8Array([0x66, 0x67, 0x62, 0x03, 0x66, 0x67, 0x62, 0x00]);
const COLUMN_TYPE: Record<FieldType, ColumnType> = {
  string: ColumnType.String, int: ColumnType.Int, number: ColumnType.Double, boolean: ColumnType.Bool,
  datetime: ColumnType.DateTime,
};
/** FlatGeobuf DateTime columns hold ISO 8601 text; we write UTC with a Z so that text order is time order. */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const enc = new TextEncoder();
const dec = new TextDecoder();

// ---------------------------------------------------------------- writing

interface Col { name: string; type: FieldType; title?: string }

function inferColumns(features: GeoJSON.Feature[]): Col[] {
  const cols = new Map<string, FieldType | null>();
  for (const f of features) {
    for (const [k, v] of Object.entries(f.properties ?? {})) {
      if (v === null || v === undefined) { if (!cols.has(k)) cols.set(k, null); continue; }
      if (cols.get(k)) continue;
      cols.set(k, typeof v === 'boolean' ? 'boolean' : typeof v === 'number' ? 'number' : 'string');
    }
  }
  return [...cols].map(([name, type]) => ({ name, type: type ?? 'string' }));
}

/** Properties buffer: per present value, uint16 column index then the value (FlatGeobuf spec, "properties"). */
class PropWriter {
  buf = new Uint8Array(256);
  dv = new DataView(this.buf.buffer);
  n = 0;
  reset(): void { this.n = 0; }
  private need(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const b = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    b.set(this.buf.subarray(0, this.n));
    this.buf = b;
    this.dv = new DataView(b.buffer);
  }
  write(ci: number, col: Col, v: unknown, where: string): void {
    this.need(2);
    this.dv.setUint16(this.n, ci, true);
    this.n += 2;
    const bad = (want: string) =>
      new Error(`${where}: property "${col.name}" must be ${want} or null, got ${JSON.stringify(v)}; fix the data or the field type in layers/catalog.ts`);
    switch (col.type) {
      case 'boolean':
        if (typeof v !== 'boolean') throw bad('a boolean');
        this.need(1); this.buf[this.n++] = v ? 1 : 0; break;
      case 'int':
        if (typeof v !== 'number' || !Number.isInteger(v) || v < -2147483648 || v > 2147483647) throw bad('a 32-bit integer');
        this.need(4); this.dv.setInt32(this.n, v, true); this.n += 4; break;
      case 'number':
        if (typeof v !== 'number') throw bad('a number');
        this.need(8); this.dv.setFloat64(this.n, v, true); this.n += 8; break;
      case 'datetime':
      case 'string': {
        if (col.type === 'datetime' && (typeof v !== 'string' || !ISO_UTC.test(v))) throw bad('an ISO 8601 UTC time like 2026-05-01T08:00:00Z');
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw bad('a string');
        const s = enc.encode(String(v));
        this.need(4 + s.length);
        this.dv.setUint32(this.n, s.length, true);
        this.buf.set(s, this.n + 4);
        this.n += 4 + s.length;
        break;
      }
    }
  }
}

const GEOM_TYPE: Record<string, GeometryType> = {
  Point: GeometryType.Point, LineString: GeometryType.LineString, Polygon: GeometryType.Polygon,
  MultiPoint: GeometryType.MultiPoint, MultiLineString: GeometryType.MultiLineString, MultiPolygon: GeometryType.MultiPolygon,
};

/** Flat xy + ring/line ends (in points) for one simple geometry; also grows the bbox. */
function flatten(lines: GeoJSON.Position[][], box: Float64Array): { xy: Float64Array; ends: number[] | null } {
  let n = 0;
  for (const l of lines) n += l.length;
  const xy = new Float64Array(n * 2);
  const ends: number[] = [];
  let k = 0;
  for (const l of lines) {
    for (const p of l) {
      const x = p[0], y = p[1];
      if (!Number.isFinite(x) || !Number.isFinite(y)) throw new Error(`coordinate ${JSON.stringify(p)} is not a finite [x, y]`);
      xy[k++] = x; xy[k++] = y;
      if (x < box[0]) box[0] = x;
      if (y < box[1]) box[1] = y;
      if (x > box[2]) box[2] = x;
      if (y > box[3]) box[3] = y;
    }
    ends.push(k / 2);
  }
  return { xy, ends: lines.length > 1 ? ends : null };
}

function buildSimple(b: flatbuffers.Builder, type: GeometryType, lines: GeoJSON.Position[][], box: Float64Array): number {
  const { xy, ends } = flatten(lines, box);
  const xyOff = Geometry.createXyVector(b, xy);
  const endsOff = ends ? Geometry.createEndsVector(b, ends) : 0;
  Geometry.startGeometry(b);
  if (endsOff) Geometry.addEnds(b, endsOff);
  Geometry.addXy(b, xyOff);
  Geometry.addType(b, type);
  return Geometry.endGeometry(b);
}

function buildGeometry(b: flatbuffers.Builder, g: GeoJSON.Geometry, box: Float64Array): number {
  switch (g.type) {
    case 'Point': return buildSimple(b, GeometryType.Point, [[g.coordinates]], box);
    case 'MultiPoint': return buildSimple(b, GeometryType.MultiPoint, [g.coordinates], box);
    case 'LineString': return buildSimple(b, GeometryType.LineString, [g.coordinates], box);
    case 'MultiLineString': return buildSimple(b, GeometryType.MultiLineString, g.coordinates, box);
    case 'Polygon': return buildSimple(b, GeometryType.Polygon, g.coordinates, box);
    case 'MultiPolygon': {
      // Parts, one Polygon each (spec: "MultiPolygon ... parts").
      const parts = g.coordinates.map((poly) => buildSimple(b, GeometryType.Polygon, poly, box));
      const partsOff = Geometry.createPartsVector(b, parts);
      Geometry.startGeometry(b);
      Geometry.addParts(b, partsOff);
      Geometry.addType(b, GeometryType.MultiPolygon);
      return Geometry.endGeometry(b);
    }
    default:
      throw new Error(`geometry type ${g.type} is not supported; use Point, LineString, Polygon or their Multi forms`);
  }
}

function buildHeader(opts: FgbWriteOptions, cols: Col[], geomType: GeometryType, count: number, env: Bbox | null): Uint8Array {
  const b = new flatbuffers.Builder(1024);
  const colOffs = cols.map((c) => {
    const name = b.createString(c.name);
    const title = c.title ? b.createString(c.title) : 0;
    Column.startColumn(b);
    Column.addName(b, name);
    Column.addType(b, COLUMN_TYPE[c.type]);
    if (title) Column.addTitle(b, title);
    Column.addNullable(b, true);
    return Column.endColumn(b);
  });
  const columns = cols.length ? Header.createColumnsVector(b, colOffs) : 0;
  const name = b.createString(opts.layerName);
  const desc = opts.description ? b.createString(opts.description) : 0;
  const org = b.createString('EPSG');
  Crs.startCrs(b);
  Crs.addOrg(b, org);
  Crs.addCode(b, 4326);
  const crs = Crs.endCrs(b);
  const envelope = env ? Header.createEnvelopeVector(b, env) : 0;
  Header.startHeader(b);
  Header.addName(b, name);
  if (envelope) Header.addEnvelope(b, envelope);
  Header.addGeometryType(b, geomType);
  if (columns) Header.addColumns(b, columns);
  Header.addFeaturesCount(b, BigInt(count));
  // No features ⇒ no tree: index_node_size 0 tells readers not to look for one.
  b.forceDefaults(true);
  Header.addIndexNodeSize(b, count ? DEFAULT_NODE_SIZE : 0);
  b.forceDefaults(false);
  Header.addCrs(b, crs);
  if (desc) Header.addDescription(b, desc);
  b.finishSizePrefixed(Header.endHeader(b));
  return b.asUint8Array();
}

/**
 * Encodes features as one FlatGeobuf file in EPSG:4326 with a packed Hilbert R-tree (node size 16) and the
 * features in Hilbert order. Throws on a missing geometry or on a value that does not fit its column type.
 */
export function encodeFlatGeobuf(features: GeoJSON.Feature[], opts: FgbWriteOptions): Uint8Array {
  const cols: Col[] = opts.fields ? opts.fields.map((f) => ({ name: f.name, type: f.type, title: f.title })) : inferColumns(features);
  const n = features.length;
  const boxes = new Float64Array(n * 4);
  const blobs: Uint8Array[] = new Array(n);
  const b = new flatbuffers.Builder(1024);
  const props = new PropWriter();
  const box = new Float64Array(4);
  const types = new Set<GeometryType>();
  const idCol = cols.findIndex((c) => c.name === 'id');
  for (let i = 0; i < n; i++) {
    const f = features[i];
    const where = `layer ${opts.layerName}, feature ${i}${f.id !== undefined ? ` (id ${f.id})` : ''}`;
    if (!f.geometry) throw new Error(`${where}: geometry is missing; every feature needs one`);
    const gt = GEOM_TYPE[f.geometry.type];
    if (gt === undefined) throw new Error(`${where}: geometry type ${f.geometry.type} is not supported; use Point, LineString, Polygon or their Multi forms`);
    types.add(gt);
    props.reset();
    const p = f.properties ?? {};
    for (let c = 0; c < cols.length; c++) {
      let v = p[cols[c].name];
      if ((v === undefined || v === null) && c === idCol && f.id !== undefined) v = f.id;
      if (v === undefined || v === null) continue;
      props.write(c, cols[c], v, where);
    }
    b.clear();
    box[0] = box[1] = Infinity; box[2] = box[3] = -Infinity;
    let geomOff: number;
    try {
      geomOff = buildGeometry(b, f.geometry, box);
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
    if (!(box[0] <= box[2])) throw new Error(`${where}: geometry has no coordinates`);
    const propsOff = props.n ? Feature.createPropertiesVector(b, props.buf.subarray(0, props.n)) : 0;
    Feature.startFeature(b);
    Feature.addGeometry(b, geomOff);
    if (propsOff) Feature.addProperties(b, propsOff);
    b.finishSizePrefixed(Feature.endFeature(b));
    blobs[i] = b.asUint8Array().slice();
    boxes.set(box, 4 * i);
  }

  let env: Bbox | null = null;
  if (n) {
    env = [Infinity, Infinity, -Infinity, -Infinity];
    for (let i = 0; i < n; i++) {
      env[0] = Math.min(env[0], boxes[4 * i]); env[1] = Math.min(env[1], boxes[4 * i + 1]);
      env[2] = Math.max(env[2], boxes[4 * i + 2]); env[3] = Math.max(env[3], boxes[4 * i + 3]);
    }
  }
  const order = n ? hilbertOrder(boxes, env!) : new Uint32Array(0);
  const sortedBoxes = new Float64Array(n * 4);
  const offsets = new Float64Array(n);
  let featBytes = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k];
    sortedBoxes.set(boxes.subarray(4 * i, 4 * i + 4), 4 * k);
    offsets[k] = featBytes;
    featBytes += blobs[i].length;
  }
  const geomType = types.size === 1 ? [...types][0] : GeometryType.Unknown;
  const header = buildHeader(opts, cols, geomType, n, env);
  const tree = buildPackedRTree(sortedBoxes, offsets, DEFAULT_NODE_SIZE);
  const out = new Uint8Array(MAGIC.length + header.length + tree.length + featBytes);
  out.set(MAGIC, 0);
  out.set(header, MAGIC.length);
  out.set(tree, MAGIC.length + header.length);
  let pos = MAGIC.length + header.length + tree.length;
  for (let k = 0; k < n; k++) {
    out.set(blobs[order[k]], pos);
    pos += blobs[order[k]].length;
  }
  return out;
}

// ---------------------------------------------------------------- reading

function columnKind(t: ColumnType): FieldType {
  switch (t) {
    case ColumnType.Bool: return 'boolean';
    case ColumnType.Byte: case ColumnType.UByte: case ColumnType.Short: case ColumnType.UShort:
    case ColumnType.Int: case ColumnType.UInt: case ColumnType.Long: case ColumnType.ULong: return 'int';
    case ColumnType.Float: case ColumnType.Double: return 'number';
    case ColumnType.DateTime: return 'datetime';
    default: return 'string';
  }
}

function readProps(f: Feature, types: ColumnType[], names: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const a = f.propertiesArray();
  if (!a) return out;
  const dv = new DataView(a.buffer, a.byteOffset, a.byteLength);
  const at = { o: 0 };
  while (at.o < a.length) {
    const ci = dv.getUint16(at.o, true);
    at.o += 2;
    if (ci >= types.length) throw new Error(`FlatGeobuf feature refers to column ${ci}, but the header has ${types.length}`);
    out[names[ci]] = readValue(dv, a, at, types[ci]);
  }
  return out;
}

/** Reads one property value at `at.o` (FlatGeobuf spec, "properties") and advances past it. */
function readValue(dv: DataView, a: Uint8Array, at: { o: number }, t: ColumnType): unknown {
  const o = at.o;
  switch (t) {
    case ColumnType.Bool: at.o += 1; return a[o] !== 0;
    case ColumnType.Byte: at.o += 1; return dv.getInt8(o);
    case ColumnType.UByte: at.o += 1; return dv.getUint8(o);
    case ColumnType.Short: at.o += 2; return dv.getInt16(o, true);
    case ColumnType.UShort: at.o += 2; return dv.getUint16(o, true);
    case ColumnType.Int: at.o += 4; return dv.getInt32(o, true);
    case ColumnType.UInt: at.o += 4; return dv.getUint32(o, true);
    case ColumnType.Long: at.o += 8; return Number(dv.getBigInt64(o, true));
    case ColumnType.ULong: at.o += 8; return Number(dv.getBigUint64(o, true));
    case ColumnType.Float: at.o += 4; return dv.getFloat32(o, true);
    case ColumnType.Double: at.o += 8; return dv.getFloat64(o, true);
    default: {
      // String, Json, DateTime, Binary: uint32 length + bytes.
      const len = dv.getUint32(o, true);
      at.o = o + 4 + len;
      const s = decodeText(a, o + 4, o + 4 + len);
      return t === ColumnType.Json ? JSON.parse(s) : s;
    }
  }
}

/** Bytes a value of type t occupies at o (for skipping other columns). */
function valueSize(dv: DataView, o: number, t: ColumnType): number {
  switch (t) {
    case ColumnType.Bool: case ColumnType.Byte: case ColumnType.UByte: return 1;
    case ColumnType.Short: case ColumnType.UShort: return 2;
    case ColumnType.Int: case ColumnType.UInt: case ColumnType.Float: return 4;
    case ColumnType.Long: case ColumnType.ULong: case ColumnType.Double: return 8;
    default: return 4 + dv.getUint32(o, true);
  }
}

/** UTF-8 text; short ASCII (ids, codes, times — most of our columns) without TextDecoder's per-call cost. */
function decodeText(a: Uint8Array, s: number, e: number): string {
  if (e - s <= 48) {
    let ascii = true;
    for (let k = s; k < e; k++) if (a[k] > 0x7f) { ascii = false; break; }
    if (ascii) return String.fromCharCode.apply(null, a.subarray(s, e) as unknown as number[]);
  }
  return dec.decode(a.subarray(s, e));
}

function lines(xy: Float64Array, ends: Uint32Array | null): GeoJSON.Position[][] {
  const out: GeoJSON.Position[][] = [];
  const stops = ends && ends.length ? ends : [xy.length / 2];
  let s = 0;
  for (const e of stops) {
    const l: GeoJSON.Position[] = new Array(e - s);
    for (let i = s; i < e; i++) l[i - s] = [xy[2 * i], xy[2 * i + 1]];
    out.push(l);
    s = e;
  }
  return out;
}

function toGeoJSON(g: Geometry, headerType: GeometryType): GeoJSON.Geometry {
  const type = headerType === GeometryType.Unknown ? g.type() : headerType;
  if (type === GeometryType.MultiPolygon) {
    const polys: GeoJSON.Position[][][] = [];
    const np = g.partsLength();
    for (let i = 0; i < np; i++) {
      const p = g.parts(i)!;
      polys.push(lines(p.xyArray() ?? new Float64Array(0), p.endsArray()));
    }
    // GDAL may write a single-polygon MultiPolygon without parts.
    if (np === 0 && g.xyArray()) polys.push(lines(g.xyArray()!, g.endsArray()));
    return { type: 'MultiPolygon', coordinates: polys };
  }
  const xy = g.xyArray() ?? new Float64Array(0);
  switch (type) {
    case GeometryType.Point: return { type: 'Point', coordinates: [xy[0], xy[1]] };
    case GeometryType.MultiPoint: return { type: 'MultiPoint', coordinates: lines(xy, null)[0] };
    case GeometryType.LineString: return { type: 'LineString', coordinates: lines(xy, null)[0] };
    case GeometryType.MultiLineString: return { type: 'MultiLineString', coordinates: lines(xy, g.endsArray()) };
    case GeometryType.Polygon: return { type: 'Polygon', coordinates: lines(xy, g.endsArray()) };
    default: throw new Error(`FlatGeobuf geometry type ${GeometryType[type] ?? type} is not supported by this reader`);
  }
}

function fail(why: string): never {
  throw new Error(`Not a readable FlatGeobuf file: ${why}. Rebuild it with \`npm run data\` or check the path.`);
}

/** Parses header, index and feature offsets once; reads features lazily. */
export function openFlatGeobuf(input: Uint8Array): FgbFile {
  // The generated readers view float64 vectors in place, which needs an 8-byte-aligned start: copy once if not.
  const bytes = input.byteOffset % 8 === 0 ? input : input.slice();
  if (bytes.byteLength < 12) fail(`only ${bytes.byteLength} bytes`);
  for (let i = 0; i < 3; i++) if (bytes[i] !== MAGIC[i] || bytes[i + 4] !== MAGIC[i + 4]) fail('wrong magic bytes');
  if (bytes[3] !== 3) fail(`format version ${bytes[3]}, only version 3 is supported`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = dv.getUint32(8, true);
  if (headerLen < 8 || 12 + headerLen > bytes.byteLength) fail(`header size ${headerLen} does not fit in ${bytes.byteLength} bytes (truncated?)`);
  const bb = new flatbuffers.ByteBuffer(bytes);
  bb.setPosition(8);
  let header: Header;
  let count: number;
  let nodeSize: number;
  let headerType: GeometryType;
  const columns: { name: string; type: FieldType }[] = [];
  const colTypes: ColumnType[] = [];
  let env: Float64Array | null;
  try {
    header = Header.getSizePrefixedRootAsHeader(bb);
    count = Number(header.featuresCount());
    nodeSize = header.indexNodeSize();
    headerType = header.geometryType();
    for (let i = 0; i < header.columnsLength(); i++) {
      const c = header.columns(i)!;
      columns.push({ name: c.name()!, type: columnKind(c.type()) });
      colTypes.push(c.type());
    }
    env = header.envelopeArray();
  } catch (e) {
    fail(`header does not parse (${(e as Error).message})`);
  }
  const names = columns.map((c) => c.name);
  const treeStart = 12 + headerLen;
  const treeLen = nodeSize > 0 ? treeByteSize(count, nodeSize) : 0;
  const featStart = treeStart + treeLen;
  if (featStart > bytes.byteLength) fail(`index runs past the end of the file (truncated?)`);

  // Feature offsets by walking the size prefixes: cheap, and it checks the file is complete.
  const offs = new Float64Array(count);
  let p = featStart;
  for (let i = 0; i < count; i++) {
    if (p + 4 > bytes.byteLength) fail(`feature ${i} of ${count} starts past the end (truncated?)`);
    offs[i] = p;
    p += 4 + dv.getUint32(p, true);
    if (p > bytes.byteLength) fail(`feature ${i} of ${count} runs past the end (truncated?)`);
  }

  let tree: PackedRTree | null = null;
  if (treeLen) {
    tree = readPackedRTree(bytes.subarray(treeStart, featStart), count, nodeSize);
    for (let i = 0; i < count; i++) {
      if (tree.offsets[tree.leafStart + i] + featStart !== offs[i]) fail(`index leaf ${i} does not point at feature ${i}`);
    }
  }

  const fview = new Feature();
  const readFeature = (i: number): GeoJSON.Feature => {
    if (!(i >= 0 && i < count && Number.isInteger(i))) throw new RangeError(`feature index ${i} is outside [0, ${count})`);
    let f: Feature;
    if ((bytes.byteOffset + offs[i]) % 8 === 0) {
      bb.setPosition(offs[i]);
      f = Feature.getSizePrefixedRootAsFeature(bb, fview);
    } else {
      // Typed-array views of the coordinates need 8-byte alignment; a file sliced out of a larger buffer
      // (or written by another tool) may not give it, so copy this one feature (as flatgeobuf's reader does).
      const len = 4 + dv.getUint32(offs[i], true);
      const copy = new flatbuffers.ByteBuffer(bytes.slice(offs[i], offs[i] + len));
      f = Feature.getSizePrefixedRootAsFeature(copy, new Feature());
    }
    const g = f.geometry();
    const properties = readProps(f, colTypes, names);
    const out: GeoJSON.Feature = { type: 'Feature', geometry: g ? toGeoJSON(g, headerType) : (null as unknown as GeoJSON.Geometry), properties };
    if (typeof properties.id === 'string' || typeof properties.id === 'number') out.id = properties.id;
    return out;
  };

  // Raw access to the feature flatbuffers (vtable lookups by hand, DataView reads so alignment does not
  // matter): index builds over 486k addresses need only geometry or one column, and building GeoJSON plus
  // every property per feature cost them seconds. Field numbers are the schema's (feature.fbs: geometry 0,
  // properties 1; geometry: ends 0, xy 1, type 6, parts 7).
  const field = (table: number, k: number): number => {
    const vt = table - dv.getInt32(table, true);
    const o = 4 + 2 * k;
    if (o >= dv.getUint16(vt, true)) return 0;
    const rel = dv.getUint16(vt + o, true);
    return rel ? table + rel : 0;
  };
  const deref = (p: number) => p + dv.getUint32(p, true);
  const root = (i: number) => deref(offs[i] + 4);
  const doubles = (fp: number): Float64Array => {
    if (!fp) return new Float64Array(0);
    const v = deref(fp), n = dv.getUint32(v, true);
    const out = new Float64Array(n);
    for (let k = 0; k < n; k++) out[k] = dv.getFloat64(v + 4 + 8 * k, true);
    return out;
  };
  const uints = (fp: number): Uint32Array | null => {
    if (!fp) return null;
    const v = deref(fp), n = dv.getUint32(v, true);
    const out = new Uint32Array(n);
    for (let k = 0; k < n; k++) out[k] = dv.getUint32(v + 4 + 4 * k, true);
    return out;
  };
  const NONE = new Uint32Array(0);
  const rawGeometry = (i: number): FgbRawGeometry | null => {
    if (!(i >= 0 && i < count && Number.isInteger(i))) throw new RangeError(`feature index ${i} is outside [0, ${count})`);
    const gf = field(root(i), 0);
    if (!gf) return null;
    const g = deref(gf);
    const tf = field(g, 6);
    const type = headerType === GeometryType.Unknown ? (tf ? dv.getUint8(tf) : GeometryType.Unknown) : headerType;
    if (type === GeometryType.MultiPolygon) {
      const pf = field(g, 7);
      const parts: number[] = [];
      if (pf) {
        const v = deref(pf), n = dv.getUint32(v, true);
        for (let k = 0; k < n; k++) parts.push(deref(v + 4 + 4 * k));
      } else parts.push(g); // GDAL may write a single-polygon MultiPolygon without parts
      const xys = parts.map((p) => doubles(field(p, 1)));
      const xy = new Float64Array(xys.reduce((n, a) => n + a.length, 0));
      const ends: number[] = [];
      const polys = new Uint32Array(parts.length);
      let nv = 0;
      parts.forEach((p, k) => {
        xy.set(xys[k], 2 * nv);
        const pe = uints(field(p, 0));
        if (pe && pe.length) for (const e of pe) ends.push(nv + e);
        else ends.push(nv + xys[k].length / 2);
        nv += xys[k].length / 2;
        polys[k] = ends.length;
      });
      return { type: 'MultiPolygon', xy, ends: Uint32Array.from(ends), polys };
    }
    const xy = doubles(field(g, 1));
    const whole = () => (xy.length ? new Uint32Array([xy.length / 2]) : NONE);
    switch (type) {
      case GeometryType.Point: return { type: 'Point', xy: xy.length > 2 ? xy.slice(0, 2) : xy, ends: NONE, polys: NONE };
      case GeometryType.MultiPoint: return { type: 'MultiPoint', xy, ends: NONE, polys: NONE };
      case GeometryType.LineString: return { type: 'LineString', xy, ends: whole(), polys: NONE };
      case GeometryType.MultiLineString: {
        const e = uints(field(g, 0));
        return { type: 'MultiLineString', xy, ends: e && e.length ? e : whole(), polys: NONE };
      }
      case GeometryType.Polygon: {
        const e = uints(field(g, 0));
        const ends = e && e.length ? e : whole();
        return { type: 'Polygon', xy, ends, polys: new Uint32Array([ends.length]) };
      }
      default: throw new Error(`FlatGeobuf geometry type ${GeometryType[type] ?? type} is not supported by this reader`);
    }
  };
  const pointXY = (): Float64Array | null => {
    if (headerType !== GeometryType.Point && headerType !== GeometryType.Unknown) return null;
    const out = new Float64Array(2 * count);
    for (let i = 0; i < count; i++) {
      const gf = field(root(i), 0);
      if (!gf) return null;
      const g = deref(gf);
      if (headerType === GeometryType.Unknown) {
        const tf = field(g, 6);
        if (!tf || dv.getUint8(tf) !== GeometryType.Point) return null;
      }
      const xf = field(g, 1);
      if (!xf) return null;
      const v = deref(xf);
      if (dv.getUint32(v, true) < 2) return null;
      out[2 * i] = dv.getFloat64(v + 4, true);
      out[2 * i + 1] = dv.getFloat64(v + 12, true);
    }
    return out;
  };
  const column = (name: string): unknown[] => {
    const out = new Array<unknown>(count).fill(undefined);
    const ci = names.indexOf(name);
    if (ci < 0) return out;
    const at = { o: 0 };
    for (let i = 0; i < count; i++) {
      const pf = field(root(i), 1);
      if (!pf) continue;
      const v = deref(pf);
      const end = v + 4 + dv.getUint32(v, true);
      let o = v + 4;
      while (o < end) {
        const c = dv.getUint16(o, true);
        o += 2;
        if (c >= colTypes.length) throw new Error(`FlatGeobuf feature ${i} refers to column ${c}, but the header has ${colTypes.length}`);
        if (c === ci) { at.o = o; out[i] = readValue(dv, bytes, at, colTypes[c]); break; }
        o += valueSize(dv, o, colTypes[c]);
      }
    }
    return out;
  };

  // Files without an index (e.g. from flatgeobuf's serialize()) still search, by boxes computed here.
  let leafBoxes: Float64Array | null = null;
  const linearSearch = (q: Bbox): number[] => {
    if (!leafBoxes) {
      leafBoxes = new Float64Array(count * 4);
      for (let i = 0; i < count; i++) {
        const b = geometryBbox(readFeature(i).geometry);
        leafBoxes.set(b, 4 * i);
      }
    }
    const lb = leafBoxes;
    const r: number[] = [];
    for (let i = 0; i < count; i++) {
      if (q[2] < lb[4 * i] || q[3] < lb[4 * i + 1] || q[0] > lb[4 * i + 2] || q[1] > lb[4 * i + 3]) continue;
      r.push(i);
    }
    return r;
  };

  let bbox: Bbox;
  if (env && env.length >= 4) bbox = [env[0], env[1], env[2], env[3]];
  else if (tree && count) bbox = [tree.boxes[0], tree.boxes[1], tree.boxes[2], tree.boxes[3]];
  else bbox = [0, 0, 0, 0];

  return {
    count,
    bbox,
    columns,
    search: (q) => (tree ? searchPackedRTree(tree, q) : linearSearch(q)),
    feature: readFeature,
    *features() {
      for (let i = 0; i < count; i++) yield readFeature(i);
    },
    rawGeometry,
    column,
    pointXY,
  };
}

/** [minX, minY, maxX, maxY] of any GeoJSON geometry (Infinity box when empty). */
export function geometryBbox(g: GeoJSON.Geometry | null): Bbox {
  const b: Bbox = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c: unknown): void => {
    if (typeof (c as number[])[0] === 'number') {
      const p = c as number[];
      if (p[0] < b[0]) b[0] = p[0];
      if (p[1] < b[1]) b[1] = p[1];
      if (p[0] > b[2]) b[2] = p[0];
      if (p[1] > b[3]) b[3] = p[1];
    } else for (const x of c as unknown[]) walk(x);
  };
  if (!g) return b;
  if (g.type === 'GeometryCollection') for (const x of g.geometries) { const xb = geometryBbox(x); walk([[xb[0], xb[1]], [xb[2], xb[3]]]); }
  else walk(g.coordinates);
  return b;
}
