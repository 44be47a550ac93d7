// Writers for query exports: CSV (for Excel), GeoJSON and FlatGeobuf. CSV and GeoJSON are produced one
// feature at a time, so an export of half a million features never holds its whole text in memory.
import type { FieldDef } from '../layers/catalog.ts';
import { encodeFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import type { FeatureHit } from '../layers/query/types.ts';

export type ExportFormat = 'geojson' | 'csv' | 'fgb';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['geojson', 'csv', 'fgb'];

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  geojson: 'application/geo+json; charset=utf-8',
  // RFC 4180 §3 registers text/csv with an optional `header` parameter.
  csv: 'text/csv; charset=utf-8; header=present',
  fgb: 'application/flatgeobuf',
};

/** Excel opens a CSV as UTF-8 only when the file starts with the byte-order mark; without it Chinese is mojibake. */
export const UTF8_BOM = '\uFEFF';

/**
 * One CSV cell: RFC 4180 quoting (cells with a comma, quote, CR or LF are quoted, quotes doubled), and
 * cells that a spreadsheet would run as a formula (= + - @, and tab/CR that some programs strip first)
 * are prefixed with ' — OWASP "CSV Injection". Numbers and booleans are written as they are, so a
 * negative number stays a number.
 */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  let s = typeof v === 'string' ? v : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(cells: unknown[]): string {
  return cells.map(csvCell).join(',') + '\r\n';
}

/** Columns of a CSV export: layer, id, lon, lat, then every catalog field of the layers (first seen order, no repeats). */
export function csvColumns(defs: { fields: FieldDef[] }[]): string[] {
  const cols = ['layer', 'id', 'lon', 'lat'];
  const seen = new Set(cols);
  for (const d of defs) for (const f of d.fields) if (!seen.has(f.name)) { seen.add(f.name); cols.push(f.name); }
  return cols;
}

export function csvFeatureRow(columns: string[], hit: FeatureHit): string {
  const [lon, lat] = pointOnGeometry(hit.geometry) ?? [null, null];
  return csvRow(columns.map((c, i) => (i === 0 ? hit.layer : i === 1 ? hit.id : i === 2 ? round7(lon) : i === 3 ? round7(lat) : hit.properties[c])));
}

const round7 = (v: number | null) => (v === null ? null : Math.round(v * 1e7) / 1e7);

/** A GeoJSON Feature for a hit: id at the top, `layer` (and distanceM when known) merged into properties. */
export function hitToFeature(hit: FeatureHit): GeoJSON.Feature {
  const properties: Record<string, unknown> = { layer: hit.layer, ...hit.properties };
  if (hit.distanceM !== undefined) properties.distanceM = hit.distanceM;
  return { type: 'Feature', id: hit.id, geometry: hit.geometry, properties };
}

/** The opening and closing text of a streamed FeatureCollection; features go between, comma-separated. */
export const GEOJSON_HEAD = '{"type":"FeatureCollection","features":[\n';
export const GEOJSON_TAIL = '\n]}\n';

/**
 * All hits as one FlatGeobuf (with its R-tree index). FlatGeobuf needs the feature count and the index in
 * the header, ahead of the features, so this one cannot be streamed. Columns are the layer's catalog
 * fields plus `layer`.
 */
export function encodeFgbExport(layerId: string, fields: FieldDef[], hits: FeatureHit[]): Uint8Array {
  const cols: FieldDef[] = [{ name: 'layer', type: 'string', title: '图层' }, ...fields.filter((f) => f.name !== 'layer')];
  const features: GeoJSON.Feature[] = hits.map((h) => ({ type: 'Feature', geometry: h.geometry, properties: { ...h.properties, id: h.id, layer: h.layer } }));
  return encodeFlatGeobuf(features, { layerName: layerId, fields: cols, description: `OneMap query export (${layerId})` });
}

/** `Content-Disposition` for a download; the ASCII name plus RFC 6266 filename* (both safe, no user text). */
export function attachment(base: string, format: ExportFormat): string {
  const ext = format === 'geojson' ? 'geojson' : format;
  const name = `${base.replace(/[^A-Za-z0-9_.-]/g, '_')}.${ext}`;
  return `attachment; filename="${name}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/**
 * A point on the geometry, for the lon/lat columns and for looking up a feature's location: a point is
 * itself; a line its middle vertex; a polygon an interior point (GEOS InteriorPointArea's idea: cut the
 * largest polygon with the horizontal line through the middle of its extent and take the midpoint of the
 * widest inside stretch). Null for an empty geometry.
 */
export function pointOnGeometry(g: GeoJSON.Geometry | null | undefined): [number, number] | null {
  if (!g) return null;
  switch (g.type) {
    case 'Point': return g.coordinates.length >= 2 ? [g.coordinates[0], g.coordinates[1]] : null;
    case 'MultiPoint': return g.coordinates.length ? [g.coordinates[0][0], g.coordinates[0][1]] : null;
    case 'LineString': return middleVertex(g.coordinates);
    case 'MultiLineString': {
      const longest = g.coordinates.reduce<GeoJSON.Position[] | null>((a, c) => (!a || c.length > a.length ? c : a), null);
      return longest ? middleVertex(longest) : null;
    }
    case 'Polygon': return interiorPoint(g.coordinates);
    case 'MultiPolygon': {
      let best: GeoJSON.Position[][] | null = null, bestArea = -1;
      for (const p of g.coordinates) {
        const a = p.length ? Math.abs(ringArea(p[0])) : 0;
        if (a > bestArea) { bestArea = a; best = p; }
      }
      return best ? interiorPoint(best) : null;
    }
    case 'GeometryCollection':
      for (const c of g.geometries) { const p = pointOnGeometry(c); if (p) return p; }
      return null;
  }
}

function middleVertex(c: GeoJSON.Position[]): [number, number] | null {
  if (!c.length) return null;
  const p = c[Math.floor((c.length - 1) / 2)];
  if (c.length === 2) return [(c[0][0] + c[1][0]) / 2, (c[0][1] + c[1][1]) / 2];
  return [p[0], p[1]];
}

function ringArea(r: GeoJSON.Position[]): number {
  let a = 0;
  for (let i = 0, j = r.length - 1; i < r.length; j = i++) a += (r[j][0] - r[i][0]) * (r[j][1] + r[i][1]);
  return a / 2;
}

function interiorPoint(rings: GeoJSON.Position[][]): [number, number] | null {
  if (!rings.length || rings[0].length < 3) return null;
  let minY = Infinity, maxY = -Infinity;
  for (const p of rings[0]) { if (p[1] < minY) minY = p[1]; if (p[1] > maxY) maxY = p[1]; }
  // Try the middle first, then a few other lines, in case the middle line only grazes a vertex.
  for (const t of [0.5, 0.37, 0.63, 0.21, 0.79]) {
    const y = minY + (maxY - minY) * t;
    const xs: number[] = [];
    for (const r of rings) {
      for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
        const [x1, y1] = r[j], [x2, y2] = r[i];
        // Half-open rule: each crossing counted once, horizontal edges never.
        if ((y1 > y) !== (y2 > y)) xs.push(x1 + ((y - y1) / (y2 - y1)) * (x2 - x1));
      }
    }
    xs.sort((a, b) => a - b);
    let best = -1, bx = 0;
    for (let i = 0; i + 1 < xs.length; i += 2) {
      const w = xs[i + 1] - xs[i];
      if (w > best) { best = w; bx = (xs[i] + xs[i + 1]) / 2; }
    }
    if (best > 0) return [bx, y];
  }
  const p = rings[0][0];
  return [p[0], p[1]];
}
