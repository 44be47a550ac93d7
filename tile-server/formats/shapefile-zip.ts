// Zipped shapefiles: what departments mail around and what GeoServer's datastore upload takes.
import type { FieldDef } from '../../layers/catalog.ts';
import { readShapefile, ShapefileError, WGS84_PRJ, writeShapefile } from '../../layers/formats/shapefile.ts';
import { readZip, writeZip } from './zip.ts';

export { crsFromPrj } from '../../layers/import/prj.ts';

/**
 * Reads the one shapefile in the archive (any folder). Several .shp files → an error naming them, since
 * guessing which is meant would import the wrong data silently.
 */
export function readShapefileZip(bytes: Uint8Array, opts: { encoding?: string } = {}): ReturnType<typeof readShapefile> {
  const files = readZip(bytes);
  const byExt = (base: string, ext: string): Uint8Array | undefined => {
    for (const [name, data] of files) if (name.toLowerCase() === `${base}.${ext}`) return data;
    return undefined;
  };
  const shps = [...files.keys()].filter((n) => n.toLowerCase().endsWith('.shp') && !n.startsWith('__MACOSX/'));
  if (shps.length === 0) {
    throw new ShapefileError(`压缩包里没有 .shp 文件（有：${[...files.keys()].slice(0, 10).join('、') || '无'}）。请把同名的 .shp、.shx、.dbf、.prj（和 .cpg）一起压缩。No .shp in the archive; zip the .shp, .shx, .dbf, .prj (and .cpg) of one layer together.`);
  }
  if (shps.length > 1) {
    throw new ShapefileError(`压缩包里有多个图层（${shps.join('、')}）；请每次只导入一个。The archive holds several shapefiles (${shps.join(', ')}); import one at a time.`);
  }
  const base = shps[0].slice(0, -4).toLowerCase();
  const text = (b: Uint8Array | undefined) => (b ? new TextDecoder('utf-8').decode(b) : undefined);
  return readShapefile({ shp: byExt(base, 'shp')!, dbf: byExt(base, 'dbf'), prj: text(byExt(base, 'prj')), cpg: text(byExt(base, 'cpg')) }, opts);
}

/** `name`.shp/.shx/.dbf/.prj/.cpg in one zip, WGS84 coordinates, UTF-8 attributes. */
export function writeShapefileZip(name: string, features: GeoJSON.Feature[], fields: FieldDef[]): Uint8Array {
  const s = writeShapefile(features, fields, { prj: WGS84_PRJ, encoding: 'UTF-8' });
  const enc = new TextEncoder();
  return writeZip([
    { name: `${name}.shp`, data: s.shp },
    { name: `${name}.shx`, data: s.shx },
    { name: `${name}.dbf`, data: s.dbf },
    { name: `${name}.prj`, data: enc.encode(s.prj) },
    { name: `${name}.cpg`, data: enc.encode(s.cpg) },
  ]);
}
