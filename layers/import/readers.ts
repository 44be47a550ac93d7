// Readers of the import formats that need no Node API: GeoJSON, CSV, FlatGeobuf. (Zipped shapefiles need
// node:zlib and are read in tile-server/formats/shapefile-zip.ts; `sourceFromShapefile` adapts the result.)
import * as flatbuffers from 'flatbuffers';
import { Header } from 'flatgeobuf/lib/mjs/flat-geobuf/header.js';
import type { FieldType } from '../catalog.ts';
import { CrsError, parseCrs, type CrsCode } from '../crs.ts';
import { openFlatGeobuf } from '../formats/flatgeobuf.ts';
import { parseCsv } from './csv.ts';
import { decodeText, digest } from './encoding.ts';
import { crsFromPrj } from './prj.ts';
import { ImportError, type ImportFormat, type ImportSource, type SourceRow } from './types.ts';

function inferFields(rows: SourceRow[]): { name: string; type: FieldType | null }[] {
  const types = new Map<string, FieldType | null>();
  for (const r of rows) {
    for (const [k, v] of Object.entries(r.properties)) {
      if (types.get(k)) continue;
      types.set(k, v === null || v === undefined ? null : typeof v === 'number' ? (Number.isInteger(v) ? 'int' : 'number') : typeof v === 'boolean' ? 'boolean' : 'string');
    }
  }
  return [...types].map(([name, type]) => ({ name, type }));
}

function crsOfName(name: unknown): { crs: CrsCode | null; crsText: string | null } {
  if (typeof name !== 'string' || !name.trim()) return { crs: null, crsText: null };
  try {
    return { crs: parseCrs(name), crsText: null };
  } catch (e) {
    if (e instanceof CrsError) return { crs: null, crsText: name };
    throw e;
  }
}

const badFile = (format: string, why: string, what: string) =>
  new ImportError('bad_file', `${format} 文件无法读取：${why}。${what}`);

/** RFC 7946 GeoJSON, plus the 2008 `crs` member that older tools (and GDAL) still write. */
export function readGeoJson(bytes: Uint8Array, opts: { encoding?: string } = {}): ImportSource {
  const { text, encoding } = decodeText(bytes, opts.encoding);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw badFile('GeoJSON', `不是合法的 JSON（${(e as Error).message.slice(0, 120)}）`, 'Not valid JSON: check the file is complete and really GeoJSON.');
  }
  const d = doc as { type?: unknown; features?: unknown; crs?: { properties?: { name?: unknown } } };
  let feats: unknown[];
  if (d?.type === 'FeatureCollection' && Array.isArray(d.features)) feats = d.features;
  else if (d?.type === 'Feature') feats = [d];
  else if (typeof d?.type === 'string' && /^(Multi)?(Point|LineString|Polygon)$|^GeometryCollection$/.test(d.type)) feats = [{ type: 'Feature', geometry: d, properties: {} }];
  else throw badFile('GeoJSON', '顶层不是 FeatureCollection、Feature 或几何', 'The top level must be a FeatureCollection, a Feature or a geometry.');
  const rows: SourceRow[] = feats.map((f, i) => {
    const ft = f as { type?: unknown; geometry?: unknown; properties?: unknown; id?: unknown };
    if (ft?.type !== 'Feature') {
      return { row: i + 1, geometry: null, properties: {}, issue: { code: 'bad_feature', severity: 'error', message: `第 ${i + 1} 个要素不是 Feature 对象。Feature ${i + 1} is not a GeoJSON Feature.` } };
    }
    const props = (ft.properties && typeof ft.properties === 'object' ? { ...(ft.properties as Record<string, unknown>) } : {});
    if (ft.id !== undefined && props.id === undefined) props.id = ft.id;
    return { row: i + 1, geometry: (ft.geometry ?? null) as GeoJSON.Geometry | null, properties: props };
  });
  return { format: 'geojson', rows, fields: inferFields(rows), ...crsOfName(d.crs?.properties?.name), encoding, digest: digest(bytes) };
}

const LON_COLS = ['lon', 'lng', 'long', 'longitude', 'x', '经度', '东经', 'x坐标', '横坐标', 'point_x'];
const LAT_COLS = ['lat', 'latitude', 'y', '纬度', '北纬', 'y坐标', '纵坐标', 'point_y'];
const ADDRESS_COLS = ['地址', 'address', 'addr', '详细地址', '标准地址', '门牌地址', 'full'];

const findCol = (header: string[], names: string[]) => {
  for (const n of names) {
    const i = header.findIndex((h) => h.toLowerCase() === n);
    if (i >= 0) return i;
  }
  return -1;
};

/** CSV with lon/lat (or x/y, 经度/纬度) columns, or else an address column to geocode. */
export function readCsv(bytes: Uint8Array, opts: { encoding?: string } = {}): ImportSource {
  const { text, encoding } = decodeText(bytes, opts.encoding);
  const table = parseCsv(text);
  const { header } = table;
  const lon = findCol(header, LON_COLS), lat = findCol(header, LAT_COLS);
  const addr = findCol(header, ADDRESS_COLS);
  const coords = lon >= 0 && lat >= 0;
  if (!coords && addr < 0) {
    throw new ImportError('no_geometry_columns', `CSV 需要经纬度列（lon/lat、x/y、经度/纬度）或地址列（地址/address）；现有列：${header.join('、')}。` +
      `The CSV needs coordinate columns (lon/lat, x/y, 经度/纬度) or an address column (地址/address); it has: ${header.join(', ')}.`);
  }
  const skip = new Set(coords ? [lon, lat] : []);
  const rows: SourceRow[] = table.rows.map((r, k) => {
    const properties: Record<string, unknown> = {};
    header.forEach((h, i) => { if (!skip.has(i) && h) properties[h] = r[i] ?? ''; });
    const row: SourceRow = { row: k + 1, geometry: null, properties };
    if (coords) {
      const xs = (r[lon] ?? '').trim(), ys = (r[lat] ?? '').trim();
      const x = Number(xs), y = Number(ys);
      if (xs && ys && Number.isFinite(x) && Number.isFinite(y)) row.geometry = { type: 'Point', coordinates: [x, y] };
      else if (addr >= 0 && (r[addr] ?? '').trim()) row.address = r[addr].trim();
      else row.issue = { code: 'bad_coordinate', severity: 'error', path: 'geometry', message: `第 ${k + 1} 行的坐标「${xs}, ${ys}」不是数字。Row ${k + 1}: coordinates "${xs}, ${ys}" are not numbers.` };
    } else {
      const a = (r[addr] ?? '').trim();
      if (a) row.address = a;
      else row.issue = { code: 'no_address', severity: 'error', path: 'geometry', message: `第 ${k + 1} 行没有地址。Row ${k + 1} has no address to geocode.` };
    }
    return row;
  });
  const fields = header.filter((h, i) => h && !skip.has(i)).map((name) => ({ name, type: null }));
  return { format: 'csv', rows, fields, crs: null, crsText: null, encoding, digest: digest(bytes) };
}

/** FlatGeobuf; the CRS comes from the header's crs table (org + code, or its WKT). */
export function readFgb(bytes: Uint8Array): ImportSource {
  let file;
  try {
    file = openFlatGeobuf(bytes);
  } catch (e) {
    throw badFile('FlatGeobuf', (e as Error).message.slice(0, 200), 'Check the file is complete (not truncated by the upload).');
  }
  let crs: CrsCode | null = null, crsText: string | null = null;
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  const bb = new flatbuffers.ByteBuffer(aligned);
  bb.setPosition(8);
  const c = Header.getSizePrefixedRootAsHeader(bb).crs();
  if (c) {
    const org = (c.org() ?? 'EPSG').toUpperCase();
    const code = c.code();
    if (org === 'EPSG' && code > 0) ({ crs, crsText } = crsOfName(`EPSG:${code}`));
    if (!crs && c.wkt()) {
      crs = crsFromPrj(c.wkt()!);
      crsText = crs ? null : c.wkt();
    }
    if (!crs && !crsText && code > 0) crsText = `${org}:${code}`;
  }
  const rows: SourceRow[] = [];
  let i = 0;
  for (const f of file.features()) {
    i++;
    rows.push({ row: i, geometry: f.geometry ?? null, properties: { ...(f.properties ?? {}) } });
  }
  return { format: 'fgb', rows, fields: file.columns.map((x) => ({ name: x.name, type: x.type })), crs, crsText, digest: digest(bytes) };
}

/** Adapts readShapefile's result (from the zip reader) to an import source. */
export function sourceFromShapefile(
  s: { features: GeoJSON.Feature[]; fields: { name: string; type: FieldType }[]; prj: string | null; encoding: string },
  bytes: Uint8Array,
): ImportSource {
  const crs = s.prj ? crsFromPrj(s.prj) : null;
  return {
    format: 'shapefile',
    rows: s.features.map((f, k) => ({ row: k + 1, geometry: f.geometry ?? null, properties: f.properties ?? {} })),
    fields: s.fields,
    crs,
    crsText: s.prj && !crs ? s.prj : null,
    encoding: s.encoding,
    digest: digest(bytes),
  };
}

/** The format from the bytes first (magic numbers), then the file name. */
export function detectFormat(bytes: Uint8Array, filename = ''): ImportFormat {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5)) return 'shapefile';
  if (bytes[0] === 0x66 && bytes[1] === 0x67 && bytes[2] === 0x62) return 'fgb';
  const ext = /\.([a-z0-9]+)$/i.exec(filename)?.[1]?.toLowerCase();
  if (ext === 'geojson' || ext === 'json') return 'geojson';
  if (ext === 'csv' || ext === 'txt' || ext === 'tsv') return 'csv';
  if (ext === 'shp' || ext === 'dbf') {
    throw new ImportError('unsupported_format', '请把 .shp、.shx、.dbf、.prj（和 .cpg）一起压缩成 .zip 再导入。Zip the .shp, .shx, .dbf, .prj (and .cpg) together and import the .zip.');
  }
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  if (bytes[i] === 0x7b) return 'geojson';
  if (ext && !['csv', 'txt'].includes(ext)) {
    throw new ImportError('unsupported_format', `不支持 .${ext} 文件；可导入 GeoJSON、CSV、FlatGeobuf（.fgb）或压缩的 Shapefile（.zip）。Unsupported .${ext}: import GeoJSON, CSV, FlatGeobuf (.fgb) or a zipped shapefile (.zip).`);
  }
  return 'csv';
}
