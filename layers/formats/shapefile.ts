// Esri shapefile reader and writer (ESRI Shapefile Technical Description, July 1998) and its dBASE III
// attribute table. Pure: bytes in, GeoJSON out, so it runs in Node and the browser. 2D only: Z and M
// ordinates are read past and dropped (our layers are 2D; heights are attributes).
import type { FieldDef, FieldType } from '../catalog.ts';
import { decoderFor, detectEncoding, encodingFromLdid, normaliseEncoding } from '../import/encoding.ts';

export class ShapefileError extends Error {
  override readonly name = 'ShapefileError';
}

const bad = (why: string) =>
  new ShapefileError(`Shapefile 无法读取：${why}。请确认 .shp/.dbf 完整、来自同一图层，或用 GIS 软件重新导出。Unreadable shapefile: ${why}; check the .shp and .dbf are complete and belong together, or re-export it.`);

// ------------------------------------------------------------------------------ geometry (.shp)

type Ring = number[][];

function signedArea(r: Ring): number {
  let a = 0;
  for (let i = 0, j = r.length - 1; i < r.length; j = i++) a += (r[j][0] - r[i][0]) * (r[j][1] + r[i][1]);
  return a / 2; // > 0 counter-clockwise (x east, y north)
}

function ringContains(r: Ring, x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
    const [xi, yi] = r[i], [xj, yj] = r[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * Shapefile polygons are a flat list of rings: outer rings clockwise, holes counter-clockwise (Technical
 * Description p. 8). Each hole goes to the smallest outer ring holding its first vertex; a hole held by
 * none becomes an outer ring (what GDAL does). Output follows RFC 7946 §3.1.6: exteriors counter-clockwise.
 */
function assemblePolygon(rings: Ring[]): GeoJSON.Polygon | GeoJSON.MultiPolygon | null {
  const outers: { ring: Ring; area: number; holes: Ring[] }[] = [];
  const holes: Ring[] = [];
  for (const r of rings) {
    if (r.length < 4) continue;
    const a = signedArea(r);
    if (a <= 0) outers.push({ ring: r.slice().reverse(), area: -a, holes: [] });
    else holes.push(r);
  }
  for (const h of holes) {
    let best: (typeof outers)[number] | null = null;
    for (const o of outers) if (ringContains(o.ring, h[0][0], h[0][1]) && (!best || o.area < best.area)) best = o;
    if (best) best.holes.push(h.slice().reverse());
    else outers.push({ ring: h, area: signedArea(h), holes: [] });
  }
  if (outers.length === 0) return null;
  const polys = outers.map((o) => [o.ring, ...o.holes]);
  return polys.length === 1 ? { type: 'Polygon', coordinates: polys[0] } : { type: 'MultiPolygon', coordinates: polys };
}

function readShape(dv: DataView, p: number, len: number, rec: number): GeoJSON.Geometry | null {
  if (len < 4) throw bad(`第 ${rec} 条记录太短 record ${rec} is too short`);
  const type = dv.getInt32(p, true);
  const end = p + len;
  const need = (n: number) => { if (p + n > end) throw bad(`第 ${rec} 条记录越界 record ${rec} runs past its length`); };
  switch (type) {
    case 0: return null;
    case 1: case 11: case 21: {
      need(20);
      return { type: 'Point', coordinates: [dv.getFloat64(p + 4, true), dv.getFloat64(p + 12, true)] };
    }
    case 8: case 18: case 28: {
      need(40);
      const n = dv.getInt32(p + 36, true);
      need(40 + 16 * n);
      const pts: number[][] = [];
      for (let i = 0; i < n; i++) pts.push([dv.getFloat64(p + 40 + 16 * i, true), dv.getFloat64(p + 48 + 16 * i, true)]);
      return n === 1 ? { type: 'Point', coordinates: pts[0] } : { type: 'MultiPoint', coordinates: pts };
    }
    case 3: case 13: case 23: case 5: case 15: case 25: {
      need(44);
      const nParts = dv.getInt32(p + 36, true);
      const nPts = dv.getInt32(p + 40, true);
      if (nParts < 0 || nPts < 0) throw bad(`第 ${rec} 条记录的部件数为负 negative counts in record ${rec}`);
      need(44 + 4 * nParts + 16 * nPts);
      const pts0 = p + 44 + 4 * nParts;
      const parts: Ring[] = [];
      for (let k = 0; k < nParts; k++) {
        const a = dv.getInt32(p + 44 + 4 * k, true);
        const b = k + 1 < nParts ? dv.getInt32(p + 48 + 4 * k, true) : nPts;
        if (a < 0 || b > nPts || a > b) throw bad(`第 ${rec} 条记录的部件索引无效 bad part index in record ${rec}`);
        const ring: Ring = [];
        for (let i = a; i < b; i++) ring.push([dv.getFloat64(pts0 + 16 * i, true), dv.getFloat64(pts0 + 16 * i + 8, true)]);
        parts.push(ring);
      }
      if (type % 10 === 3) {
        const lines = parts.filter((l) => l.length >= 2);
        if (lines.length === 0) return null;
        return lines.length === 1 ? { type: 'LineString', coordinates: lines[0] } : { type: 'MultiLineString', coordinates: lines };
      }
      return assemblePolygon(parts);
    }
    default:
      throw bad(`不支持的几何类型 ${type}（MultiPatch 等）unsupported shape type ${type}`);
  }
}

function readShp(shp: Uint8Array): (GeoJSON.Geometry | null)[] {
  const dv = new DataView(shp.buffer, shp.byteOffset, shp.byteLength);
  if (shp.length < 100 || dv.getInt32(0, false) !== 9994) throw bad('.shp 文件头无效 the .shp header is not a shapefile header (file code 9994)');
  const fileLen = dv.getInt32(24, false) * 2;
  if (fileLen > shp.length) throw bad(`.shp 应有 ${fileLen} 字节，实际只有 ${shp.length}：文件被截断 the .shp is truncated (${shp.length} of ${fileLen} bytes)`);
  const out: (GeoJSON.Geometry | null)[] = [];
  let p = 100;
  while (p + 8 <= fileLen) {
    const len = dv.getInt32(p + 4, false) * 2;
    if (len < 0 || p + 8 + len > shp.length) throw bad(`第 ${out.length + 1} 条记录被截断 record ${out.length + 1} is truncated`);
    out.push(readShape(dv, p + 8, len, out.length + 1));
    p += 8 + len;
  }
  return out;
}

// ------------------------------------------------------------------------------ attributes (.dbf)

interface DbfField { name: string; type: string; length: number; decimals: number; offset: number }

function fieldType(f: DbfField): FieldType {
  switch (f.type) {
    case 'N': return f.decimals === 0 && f.length <= 15 ? 'int' : 'number';
    case 'F': case 'O': return 'number';
    case 'I': return 'int';
    case 'L': return 'boolean';
    case 'D': case 'T': case '@': return 'datetime';
    default: return 'string';
  }
}

function readDbf(dbf: Uint8Array, cpg: string | undefined, forced: string | undefined): { rows: Record<string, unknown>[]; fields: { name: string; type: FieldType }[]; encoding: string } {
  const dv = new DataView(dbf.buffer, dbf.byteOffset, dbf.byteLength);
  if (dbf.length < 33) throw bad('.dbf 太短 the .dbf is too short');
  const n = dv.getUint32(4, true);
  const headerLen = dv.getUint16(8, true);
  const recLen = dv.getUint16(10, true);
  if (headerLen < 33 || headerLen > dbf.length) throw bad('.dbf 文件头无效 bad .dbf header length');
  let encoding: string | null = forced ? normaliseEncoding(forced) : null;
  if (forced && !encoding) throw bad(`不认识的字符编码「${forced}」unknown encoding "${forced}" (use utf-8 or gbk)`);
  if (!encoding && cpg) encoding = normaliseEncoding(cpg);
  if (!encoding) encoding = encodingFromLdid(dbf[29]);
  if (!encoding) encoding = detectEncoding(dbf.subarray(32, Math.min(dbf.length, headerLen + n * recLen)));
  const dec = decoderFor(encoding);
  const raw: DbfField[] = [];
  let offset = 1;
  for (let p = 32; p + 32 <= headerLen && dbf[p] !== 0x0d; p += 32) {
    let e = p;
    while (e < p + 11 && dbf[e] !== 0) e++;
    const f: DbfField = { name: dec.decode(dbf.subarray(p, e)).trim(), type: String.fromCharCode(dbf[p + 11]), length: dbf[p + 16], decimals: dbf[p + 17], offset };
    raw.push(f);
    offset += f.length;
  }
  if (offset > recLen) throw bad('.dbf 字段长度与记录长度不符 field lengths exceed the record length');
  const rows: Record<string, unknown>[] = [];
  for (let r = 0; r < n; r++) {
    const base = headerLen + r * recLen;
    if (base + recLen > dbf.length) throw bad(`.dbf 第 ${r + 1} 行被截断 row ${r + 1} of the .dbf is truncated`);
    const row: Record<string, unknown> = {};
    for (const f of raw) {
      const bytes = dbf.subarray(base + f.offset, base + f.offset + f.length);
      row[f.name] = dbfValue(f, bytes, dec);
    }
    // Deleted rows ('*') keep their slot so that row k still pairs with shape k; the reader drops both.
    row['\u0000deleted'] = dbf[base] === 0x2a;
    rows.push(row);
  }
  return { rows, fields: raw.map((f) => ({ name: f.name, type: fieldType(f) })), encoding };
}

const ascii = new TextDecoder('latin1');

function dbfValue(f: DbfField, bytes: Uint8Array, dec: TextDecoder): unknown {
  switch (f.type) {
    case 'N': case 'F': {
      const s = ascii.decode(bytes).trim();
      if (!s || /^\*+$/.test(s)) return null;
      const v = Number(s);
      return Number.isFinite(v) ? v : null;
    }
    case 'L': {
      const c = String.fromCharCode(bytes[0]).toUpperCase();
      return c === 'T' || c === 'Y' ? true : c === 'F' || c === 'N' ? false : null;
    }
    case 'D': {
      const s = ascii.decode(bytes).trim();
      return /^\d{8}$/.test(s) && s !== '00000000' ? `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T00:00:00Z` : null;
    }
    default: {
      let e = bytes.length;
      while (e > 0 && (bytes[e - 1] === 0x20 || bytes[e - 1] === 0)) e--;
      return e === 0 ? null : dec.decode(bytes.subarray(0, e));
    }
  }
}

// ------------------------------------------------------------------------------ reading

export function readShapefile(
  parts: { shp: Uint8Array; dbf?: Uint8Array; prj?: string; cpg?: string },
  opts: { encoding?: string } = {},
): { features: GeoJSON.Feature[]; fields: { name: string; type: FieldType }[]; prj: string | null; encoding: string } {
  const shapes = readShp(parts.shp);
  const table = parts.dbf ? readDbf(parts.dbf, parts.cpg, opts.encoding) : null;
  if (table && table.rows.length !== shapes.length) {
    throw bad(`.shp 有 ${shapes.length} 个图形而 .dbf 有 ${table.rows.length} 行 the .shp has ${shapes.length} shapes but the .dbf ${table.rows.length} rows`);
  }
  const features: GeoJSON.Feature[] = [];
  for (let i = 0; i < shapes.length; i++) {
    const row = table?.rows[i] ?? {};
    if (row['\u0000deleted']) continue;
    delete row['\u0000deleted'];
    features.push({ type: 'Feature', geometry: shapes[i] as GeoJSON.Geometry, properties: row });
  }
  return { features, fields: table?.fields ?? [], prj: parts.prj?.trim() || null, encoding: table?.encoding ?? 'utf-8' };
}

// ------------------------------------------------------------------------------ writing

/** Esri WKT of WGS 84, as ArcGIS and GDAL write it into .prj files. */
export const WGS84_PRJ =
  'GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]';

const enc = new TextEncoder();

/** dBASE field names are ≤ 10 bytes; longer ones are cut and made unique with a numeric tail, like GDAL. */
export function dbfFieldNames(names: string[]): string[] {
  const used = new Set<string>();
  return names.map((n) => {
    let base = n;
    while (enc.encode(base).length > 10) base = base.slice(0, -1);
    let name = base;
    for (let k = 1; used.has(name.toLowerCase()); k++) {
      const tail = `_${k}`;
      let head = base;
      while (enc.encode(head + tail).length > 10) head = head.slice(0, -1);
      name = head + tail;
    }
    used.add(name.toLowerCase());
    return name;
  });
}

function cutUtf8(s: string, max: number): Uint8Array {
  const b = enc.encode(s);
  if (b.length <= max) return b;
  let e = max;
  while (e > 0 && (b[e] & 0xc0) === 0x80) e--; // do not split a character
  return b.subarray(0, e);
}

function numberText(v: number, width: number, decimals: number): string {
  let s = decimals > 0 ? v.toFixed(decimals) : String(Math.round(v));
  if (s.length > width) s = v.toPrecision(Math.max(1, width - 7));
  return s.length > width ? '*'.repeat(width) : s.padStart(width, ' ');
}

interface Column { name: string; field: FieldDef; type: string; length: number; decimals: number }

function columnsFor(features: GeoJSON.Feature[], fields: FieldDef[]): Column[] {
  const names = dbfFieldNames(fields.map((f) => f.name));
  return fields.map((field, k) => {
    const values = features.map((f) => f.properties?.[field.name]);
    switch (field.type) {
      case 'int': {
        const digits = Math.max(1, ...values.map((v) => (typeof v === 'number' && Number.isFinite(v) ? String(Math.round(v)).length : 1)));
        return { name: names[k], field, type: 'N', length: Math.min(18, Math.max(10, digits)), decimals: 0 };
      }
      case 'number': return { name: names[k], field, type: 'N', length: 24, decimals: 15 };
      case 'boolean': return { name: names[k], field, type: 'L', length: 1, decimals: 0 };
      default: {
        // datetime stays ISO text: dBASE 'D' would drop the time of day.
        const len = Math.max(1, ...values.map((v) => (v === null || v === undefined ? 1 : enc.encode(String(v)).length)));
        return { name: names[k], field, type: 'C', length: Math.min(254, len), decimals: 0 };
      }
    }
  });
}

function writeDbf(features: GeoJSON.Feature[], cols: Column[]): Uint8Array {
  const headerLen = 32 + 32 * cols.length + 1;
  const recLen = 1 + cols.reduce((s, c) => s + c.length, 0);
  const out = new Uint8Array(headerLen + recLen * features.length + 1);
  const dv = new DataView(out.buffer);
  out[0] = 0x03;
  out[1] = 126; out[2] = 1; out[3] = 1; // last update 2026-01-01: fixed, so output is reproducible
  dv.setUint32(4, features.length, true);
  dv.setUint16(8, headerLen, true);
  dv.setUint16(10, recLen, true);
  out[29] = 0; // no language driver: the .cpg says UTF-8
  cols.forEach((c, k) => {
    const p = 32 + 32 * k;
    out.set(enc.encode(c.name), p);
    out[p + 11] = c.type.charCodeAt(0);
    out[p + 16] = c.length;
    out[p + 17] = c.decimals;
  });
  out[headerLen - 1] = 0x0d;
  let p = headerLen;
  for (const f of features) {
    out.fill(0x20, p, p + recLen);
    let q = p + 1;
    for (const c of cols) {
      const v = f.properties?.[c.field.name];
      let bytes: Uint8Array;
      if (v === null || v === undefined) bytes = c.type === 'L' ? enc.encode('?') : new Uint8Array(0);
      else if (c.type === 'N') bytes = typeof v === 'number' && Number.isFinite(v) ? enc.encode(numberText(v, c.length, c.decimals)) : new Uint8Array(0);
      else if (c.type === 'L') bytes = enc.encode(v ? 'T' : 'F');
      else bytes = cutUtf8(String(v), c.length);
      out.set(bytes, q);
      q += c.length;
    }
    p += recLen;
  }
  out[p] = 0x1a;
  return out;
}

type Parts = number[][][]; // rings or lines

function shapeParts(g: GeoJSON.Geometry): { kind: 'point' | 'multipoint' | 'line' | 'polygon'; parts: Parts } {
  switch (g.type) {
    case 'Point': return { kind: 'point', parts: [[g.coordinates]] };
    case 'MultiPoint': return { kind: 'multipoint', parts: [g.coordinates] };
    case 'LineString': return { kind: 'line', parts: [g.coordinates] };
    case 'MultiLineString': return { kind: 'line', parts: g.coordinates };
    case 'Polygon': case 'MultiPolygon': {
      const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
      // Shapefile orientation: outer rings clockwise, holes counter-clockwise.
      const parts: Parts = [];
      for (const poly of polys) {
        poly.forEach((ring, k) => {
          const ccw = signedArea(ring) > 0;
          parts.push(ccw === (k === 0) ? ring.slice().reverse() : ring);
        });
      }
      return { kind: 'polygon', parts };
    }
    default:
      throw new ShapefileError(`Shapefile 不能保存 ${g.type}；请先拆成单一类型。A shapefile cannot hold ${g.type}; split it into single-type layers first.`);
  }
}

const SHP_TYPE = { point: 1, multipoint: 8, line: 3, polygon: 5 } as const;

export function writeShapefile(
  features: GeoJSON.Feature[],
  fields: FieldDef[],
  opts: { prj: string; encoding?: 'UTF-8' },
): { shp: Uint8Array; shx: Uint8Array; dbf: Uint8Array; prj: string; cpg: string } {
  const shapes = features.map((f) => (f.geometry ? shapeParts(f.geometry) : null));
  const kinds = new Set(shapes.filter((s) => s).map((s) => s!.kind));
  if (kinds.has('multipoint')) kinds.delete('point');
  if (kinds.size > 1) throw new ShapefileError(`Shapefile 只能有一种几何类型，这里有 ${[...kinds].join('、')}。A shapefile holds one geometry type; got ${[...kinds].join(', ')}.`);
  const kind = [...kinds][0] ?? 'point';
  const shpType = SHP_TYPE[kind];
  const bodies: Uint8Array[] = shapes.map((s) => {
    if (!s) { const b = new Uint8Array(4); return b; } // null shape: type 0
    if (shpType === 1) {
      const b = new Uint8Array(20);
      const d = new DataView(b.buffer);
      d.setInt32(0, 1, true);
      d.setFloat64(4, s.parts[0][0][0], true);
      d.setFloat64(12, s.parts[0][0][1], true);
      return b;
    }
    const pts = s.parts.flat();
    const multipoint = shpType === 8;
    const nParts = multipoint ? 0 : s.parts.length;
    const head = multipoint ? 40 : 44 + 4 * nParts;
    const b = new Uint8Array(head + 16 * pts.length);
    const d = new DataView(b.buffer);
    d.setInt32(0, shpType, true);
    let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const [x, y] of pts) { x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y); }
    d.setFloat64(4, x0, true); d.setFloat64(12, y0, true); d.setFloat64(20, x1, true); d.setFloat64(28, y1, true);
    if (multipoint) d.setInt32(36, pts.length, true);
    else {
      d.setInt32(36, nParts, true);
      d.setInt32(40, pts.length, true);
      let start = 0;
      s.parts.forEach((part, k) => { d.setInt32(44 + 4 * k, start, true); start += part.length; });
    }
    pts.forEach(([x, y], i) => { d.setFloat64(head + 16 * i, x, true); d.setFloat64(head + 16 * i + 8, y, true); });
    return b;
  });
  const shpLen = 100 + bodies.reduce((s, b) => s + 8 + b.length, 0);
  const shp = new Uint8Array(shpLen);
  const shx = new Uint8Array(100 + 8 * bodies.length);
  const box = [Infinity, Infinity, -Infinity, -Infinity];
  for (const s of shapes) for (const part of s?.parts ?? []) for (const [x, y] of part) {
    box[0] = Math.min(box[0], x); box[1] = Math.min(box[1], y); box[2] = Math.max(box[2], x); box[3] = Math.max(box[3], y);
  }
  if (!Number.isFinite(box[0])) box.fill(0);
  for (const [buf, len] of [[shp, shpLen], [shx, shx.length]] as const) {
    const d = new DataView(buf.buffer);
    d.setInt32(0, 9994, false);
    d.setInt32(24, len / 2, false);
    d.setInt32(28, 1000, true);
    d.setInt32(32, shpType, true);
    box.forEach((v, k) => d.setFloat64(36 + 8 * k, v, true));
  }
  const ds = new DataView(shp.buffer), dx = new DataView(shx.buffer);
  let p = 100;
  bodies.forEach((b, i) => {
    ds.setInt32(p, i + 1, false);
    ds.setInt32(p + 4, b.length / 2, false);
    shp.set(b, p + 8);
    dx.setInt32(100 + 8 * i, p / 2, false);
    dx.setInt32(104 + 8 * i, b.length / 2, false);
    p += 8 + b.length;
  });
  return { shp, shx, dbf: writeDbf(features, columnsFor(features, fields)), prj: opts.prj, cpg: 'UTF-8' };
}
