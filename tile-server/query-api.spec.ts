import { describe, expect, it } from 'vitest';
import { getLayer } from '../layers/catalog.ts';
import { MAX_EXPORT_LIMIT, MAX_QUERY_LIMIT } from '../layers/query/types.ts';
import { csvCell, csvColumns, csvFeatureRow, pointOnGeometry, attachment } from './export-formats.ts';
import { HttpError } from './http-errors.ts';
import { gridSize, parseCoordinate, parseInstant, parseQueryBody, parseRange, parseWindow, planLayer } from './query-api.ts';

const KNOWN = ['addresses', 'buildings', 'cameras', 'grids', 'incidents', 'roads'];
const SQUARE: GeoJSON.Polygon = { type: 'Polygon', coordinates: [[[120.7, 31.6], [120.71, 31.6], [120.71, 31.61], [120.7, 31.61], [120.7, 31.6]]] };

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof HttpError) return `${e.status} ${e.code}`;
    throw e;
  }
  return 'ok';
}

describe('csvCell', () => {
  it('quotes per RFC 4180 and defuses formulas', () => {
    expect(csvCell('常熟市海虞北路18号')).toBe('常熟市海虞北路18号');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\tx')).toBe("'\tx");
    // Numbers stay numbers (a negative number is not a formula); absent values are empty cells.
    expect(csvCell(-3.5)).toBe('-3.5');
    expect(csvCell(true)).toBe('true');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(NaN)).toBe('');
  });

  it('rows carry layer, id, a point and the catalog fields in order', () => {
    const cols = csvColumns([getLayer('cameras')!, getLayer('grids')!]);
    expect(cols.slice(0, 4)).toEqual(['layer', 'id', 'lon', 'lat']);
    expect(new Set(cols).size).toBe(cols.length);
    expect(cols).toContain('manager_phone');
    const row = csvFeatureRow(cols, { layer: 'cameras', id: 'cam-1', properties: { name: '=1+1', heading: 90 }, geometry: { type: 'Point', coordinates: [120.75, 31.65] } });
    const cells = row.trimEnd().split(',');
    expect(cells.slice(0, 4)).toEqual(['cameras', 'cam-1', '120.75', '31.65']);
    expect(cells[cols.indexOf('name')]).toBe("'=1+1");
    expect(cells[cols.indexOf('heading')]).toBe('90');
    expect(row.endsWith('\r\n')).toBe(true);
  });

  it('download names are ASCII and quoted safely', () => {
    expect(attachment('onemap-cameras-20260501', 'csv')).toBe(`attachment; filename="onemap-cameras-20260501.csv"; filename*=UTF-8''onemap-cameras-20260501.csv`);
    expect(attachment('a"b;c', 'fgb')).toMatch(/^attachment; filename="a_b_c\.fgb"/);
  });
});

describe('pointOnGeometry', () => {
  it('is inside a concave polygon and outside its hole', () => {
    // A U shape: the centroid of the bbox (0.5, 0.5) lies in the notch, outside the polygon.
    const u: GeoJSON.Polygon = { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0.7, 1], [0.7, 0.2], [0.3, 0.2], [0.3, 1], [0, 1], [0, 0]]] };
    const [x, y] = pointOnGeometry(u)!;
    const inArm = (x > 0 && x < 0.3) || (x > 0.7 && x < 1) || (y > 0 && y < 0.2);
    expect(inArm, `${x},${y}`).toBe(true);
    const holed: GeoJSON.Polygon = { type: 'Polygon', coordinates: [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]], [[2, 2], [8, 2], [8, 8], [2, 8], [2, 2]]] };
    const [hx, hy] = pointOnGeometry(holed)!;
    expect(hx > 2 && hx < 8 && hy > 2 && hy < 8).toBe(false);
    expect(hx > 0 && hx < 10 && hy > 0 && hy < 10).toBe(true);
  });

  it('takes the largest part of a multipolygon, a vertex of a line, the point itself', () => {
    const mp: GeoJSON.MultiPolygon = { type: 'MultiPolygon', coordinates: [
      [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]], [[[10, 10], [20, 10], [20, 20], [10, 20], [10, 10]]]] };
    const [x] = pointOnGeometry(mp)!;
    expect(x).toBeGreaterThan(10);
    expect(pointOnGeometry({ type: 'LineString', coordinates: [[0, 0], [1, 1], [2, 0]] })).toEqual([1, 1]);
    expect(pointOnGeometry({ type: 'LineString', coordinates: [[0, 0], [2, 2]] })).toEqual([1, 1]);
    expect(pointOnGeometry({ type: 'Point', coordinates: [3, 4] })).toEqual([3, 4]);
    expect(pointOnGeometry(null)).toBeNull();
  });
});

describe('parameters', () => {
  it('coordinates: decimal degrees in range, else bad_coordinate', () => {
    expect(parseCoordinate('120.75', 'lon')).toBe(120.75);
    expect(parseCoordinate('-31.5', 'lat')).toBe(-31.5);
    for (const bad of [null, '', 'abc', '181', '-90.5', '1e2', 'Infinity', '0x10', '91']) {
      expect(code(() => parseCoordinate(bad, bad === '91' || bad === '-90.5' ? 'lat' : 'lon')), String(bad)).toBe('400 bad_coordinate');
    }
  });

  it('ranges: default, bounds, integers', () => {
    const r = { min: 50, max: 2000, def: 200 };
    expect(parseRange(null, 'cell', r)).toBe(200);
    expect(parseRange('50', 'cell', r)).toBe(50);
    expect(code(() => parseRange('49', 'cell', r))).toBe('400 bad_cell');
    expect(code(() => parseRange('2000.5', 'cell', r))).toBe('400 bad_cell');
    expect(code(() => parseRange('5.5', 'minPts', { min: 2, max: 10, def: 5 }, true))).toBe('400 bad_minpts');
  });

  it('instants: the catalog datetime text, rolled-over dates refused', () => {
    expect(parseInstant('2026-05-01', 'from')).toBe('2026-05-01T00:00:00Z');
    expect(parseInstant('2026-05-01T08:30:00Z', 'from')).toBe('2026-05-01T08:30:00Z');
    expect(parseInstant('2026-05-01T08:30:00.250Z', 'from')).toBe('2026-05-01T08:30:00Z');
    for (const bad of ['2026-02-30', '2026-05-01T08:30:00+08:00', '2026-13-01', 'yesterday', 5]) {
      expect(code(() => parseInstant(bad, 'from')), String(bad)).toBe('400 bad_time');
    }
    expect(code(() => parseWindow('2026-05-02', '2026-05-01'))).toBe('400 bad_time');
    expect(code(() => parseWindow('2026-05-01', '2026-05-01'))).toBe('400 bad_time');
    expect(parseWindow(undefined, null)).toBeUndefined();
  });

  it('density grid size follows metres in Gauss–Krüger', () => {
    // 0.1° of latitude ≈ 11.1 km; 0.1° of longitude at 31.6°N ≈ 9.5 km.
    const { cols, rows } = gridSize([120.7, 31.6, 120.8, 31.7], 100);
    expect(rows).toBeGreaterThanOrEqual(110);
    expect(rows).toBeLessThanOrEqual(113);
    expect(cols).toBeGreaterThanOrEqual(94);
    expect(cols).toBeLessThanOrEqual(97);
  });
});

describe('planLayer (buffer rules)', () => {
  const buffered = () => ({ type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] }) as GeoJSON.Polygon;
  const pt: GeoJSON.Point = { type: 'Point', coordinates: [120.7, 31.6] };
  const cams = getLayer('cameras')!, bld = getLayer('buildings')!;
  it('no buffer: as asked', () => {
    expect(planLayer({ predicate: 'within', buffer: 0, distance: 0 }, bld, SQUARE, buffered)).toEqual({ predicate: 'within', geometry: SQUARE });
  });
  it('intersects a buffer = within that distance of the shape', () => {
    expect(planLayer({ predicate: 'intersects', buffer: 50, distance: 0 }, bld, pt, buffered)).toEqual({ predicate: 'dwithin', geometry: pt, distanceM: 50 });
  });
  it('dwithin adds the buffer', () => {
    expect(planLayer({ predicate: 'dwithin', buffer: 50, distance: 100 }, bld, pt, buffered)).toEqual({ predicate: 'dwithin', geometry: pt, distanceM: 150 });
  });
  it('within a buffer: exact for points, the buffer polygon for areas', () => {
    expect(planLayer({ predicate: 'within', buffer: 50, distance: 0 }, cams, pt, buffered).predicate).toBe('dwithin');
    expect(planLayer({ predicate: 'within', buffer: 50, distance: 0 }, bld, pt, buffered)).toEqual({ predicate: 'within', geometry: buffered() });
    expect(planLayer({ predicate: 'contains', buffer: 50, distance: 0 }, bld, pt, buffered).geometry.type).toBe('Polygon');
  });
});

describe('parseQueryBody', () => {
  const base = { geometry: SQUARE, layers: ['cameras'], predicate: 'intersects' };
  const parse = (over: Record<string, unknown>) => parseQueryBody({ ...base, ...over }, KNOWN);
  it('accepts a plain request with defaults', () => {
    const r = parseQueryBody(base, KNOWN);
    expect(r.layers).toEqual(['cameras']);
    expect(r.format).toBe('json');
    expect(r.limit).toBe(1000);
    expect(r.buffer).toBe(0);
    expect(parse({ format: 'csv' }).limit).toBe(MAX_EXPORT_LIMIT);
    expect(parse({ layers: ['cameras', 'cameras', 'grids'] }).layers).toEqual(['cameras', 'grids']);
    expect(parse({ geometry: undefined, feature: { layer: 'roads', id: 'road-1' }, buffer: 30 }).feature).toEqual({ layer: 'roads', id: 'road-1' });
  });
  it('refuses bad input with stable codes', () => {
    expect(code(() => parseQueryBody([], KNOWN))).toBe('400 bad_body');
    expect(code(() => parse({ extra: 1 }))).toBe('400 unknown_param');
    expect(code(() => parse({ geometry: undefined }))).toBe('400 missing_geometry');
    expect(code(() => parse({ feature: { layer: 'roads', id: 'x' } }))).toBe('400 missing_geometry');
    expect(code(() => parse({ geometry: { type: 'Polygon', coordinates: [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]] } }))).toBe('400 invalid_geometry');
    expect(code(() => parse({ geometry: { type: 'Point', coordinates: [200, 31] } }))).toBe('400 bad_coordinate');
    expect(code(() => parse({ layers: ['nope'] }))).toBe('400 unknown_layer');
    expect(code(() => parse({ layers: [] }))).toBe('400 unknown_layer');
    expect(code(() => parse({ predicate: 'touches' }))).toBe('400 bad_predicate');
    expect(code(() => parse({ predicate: 'dwithin' }))).toBe('400 bad_distance');
    expect(code(() => parse({ predicate: 'dwithin', distance: -1 }))).toBe('400 bad_distance');
    expect(code(() => parse({ buffer: 1e9 }))).toBe('400 bad_buffer');
    expect(code(() => parse({ where: { cameras: [{ field: 'nope', op: 'eq', value: 1 }] } }))).toBe('400 bad_filter');
    expect(code(() => parse({ where: { grids: [] } }))).toBe('400 bad_filter');
    expect(code(() => parse({ time: { from: 'last week' } }))).toBe('400 bad_time');
    expect(code(() => parse({ limit: MAX_QUERY_LIMIT + 1 }))).toBe('400 limit_too_large');
    expect(code(() => parse({ limit: MAX_EXPORT_LIMIT + 1, format: 'csv' }))).toBe('400 limit_too_large');
    expect(code(() => parse({ limit: 1.5 }))).toBe('400 bad_limit');
    expect(code(() => parse({ format: 'xlsx' }))).toBe('400 bad_format');
    expect(code(() => parse({ format: 'fgb', layers: ['cameras', 'grids'] }))).toBe('400 fgb_one_layer');
    expect(parse({ limit: MAX_QUERY_LIMIT }).limit).toBe(MAX_QUERY_LIMIT);
  });
});
