// The import pipeline (issue 8 item 4): source rows → WGS84 (once) → the layer's schema → create/update
// changes → the edit service's own validation → a preview; apply is ONE service.batch (all or nothing).
// Pure: the edit service and the current data come in as small interfaces (the server's EditService and
// EffectiveLayers satisfy them; tests pass in-memory ones).
import { CITY, getLayer, type GeometryKind, type LayerDef } from '../catalog.ts';
import { CrsError, transformGeometry, wgs84ToGcj02, type CrsCode } from '../crs.ts';
import type { EditChange, EditFeature, FeatureVersion, ValidationIssue } from '../editing/model.ts';
import { geometryBbox } from '../formats/flatgeobuf.ts';
import type { Actor } from '../incidents/model.ts';
import { coerceValue, mapFields } from './schema.ts';
import { ImportError, type Geocoder, type ImportPreview, type ImportSource } from './types.ts';

/** What the pipeline needs of the edit service (tile-server/editing/service.ts EditService). */
export interface ImportService {
  validate(layer: string, changes: EditChange[], actor: Actor): Promise<ValidationIssue[]>;
  batch(layer: string, changes: EditChange[], actor: Actor, opts?: { comment?: string; op?: 'import'; onProgress?: (done: number, total: number) => void }): Promise<FeatureVersion[]>;
}
/** What it needs of the current data (EffectiveView). */
export interface ImportView {
  feature(layer: string, id: string): Promise<{ feature: EditFeature; version: number } | null>;
}

export interface ImportOptions {
  layer: string;
  /** The CRS to read the coordinates in; overrides what the file says. */
  crs?: CrsCode;
  /** Source column → layer field (null: leave out); merged over the automatic map. */
  fieldMap?: Record<string, string | null>;
  /** Needed for CSVs with addresses instead of coordinates. */
  geocode?: Geocoder;
  onProgress?: (stage: 'geocode' | 'convert' | 'validate', done: number, total: number) => void;
}

export interface ImportPlan {
  preview: ImportPreview;
  /** The batch apply will send; only meaningful when preview.errors is empty. */
  changes: EditChange[];
}

/** Points beyond the city bounds by more than this get the "check the CRS" warning. */
const CITY_MARGIN_DEG = 0.1;
const SAMPLE = 5;
/** Rows whose coordinates are compared with their geocoded address (a CRS sanity check). */
const ADDRESS_CHECKS = 20;

function metres(x1: number, y1: number, x2: number, y2: number): number {
  const k = 111_320;
  return Math.hypot((x2 - x1) * k * Math.cos((((y1 + y2) / 2) * Math.PI) / 180), (y2 - y1) * k);
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
const ACCEPTS: Record<GeometryKind, readonly string[]> = {
  point: ['Point'], line: ['LineString', 'MultiLineString'], polygon: ['Polygon', 'MultiPolygon'],
};
const KIND_ZH: Record<GeometryKind, string> = { point: '点', line: '线', polygon: '面' };

function editableLayer(layer: string): LayerDef {
  const def = getLayer(layer);
  if (!def) throw new ImportError('unknown_layer', `没有图层「${layer}」。Unknown layer "${layer}".`);
  if (!def.edit) throw new ImportError('layer_not_editable', `图层「${def.title}」(${layer}) 不可编辑，不能导入。Layer ${layer} is read-only; import into an editable layer.`);
  return def;
}

/** The CRS the coordinates look like, from their magnitude (Changshu: lon ≈ 120.7, GK easting ≈ 5.7e5, prefixed 4.06e7, Web Mercator 1.34e7). */
export function guessCrs(xy: [number, number][]): CrsCode | null {
  if (xy.length === 0) return null;
  const all = (f: (x: number, y: number) => boolean) => xy.every(([x, y]) => f(x, y));
  if (all((x, y) => Math.abs(x) <= 180 && Math.abs(y) <= 90)) return 'EPSG:4326';
  if (all((x, y) => x > 40_000_000 && x < 41_000_000 && y > 0 && y < 10_002_000)) return 'EPSG:4528';
  if (all((x, y) => x > 100_000 && x < 1_000_000 && y > 100_000 && y < 10_002_000)) return 'EPSG:4549';
  if (all((x, y) => Math.abs(x) > 1_000_000 && Math.abs(x) <= 20_037_509 && Math.abs(y) <= 20_037_509)) return 'EPSG:3857';
  return null;
}

function firstXY(g: GeoJSON.Geometry | null): [number, number] | null {
  if (!g) return null;
  let c: unknown = g.type === 'GeometryCollection' ? null : g.coordinates;
  while (Array.isArray(c) && Array.isArray(c[0])) c = c[0];
  return Array.isArray(c) && typeof c[0] === 'number' ? [c[0], c[1] as number] : null;
}

function sameGeometry(a: GeoJSON.Geometry, b: GeoJSON.Geometry): boolean {
  if (a.type !== b.type) return false;
  const eq = (x: unknown, y: unknown): boolean => {
    if (typeof x === 'number' && typeof y === 'number') return Math.abs(x - y) <= 1e-9;
    if (Array.isArray(x) && Array.isArray(y)) return x.length === y.length && x.every((v, i) => eq(v, y[i]));
    return false;
  };
  return eq((a as { coordinates?: unknown }).coordinates, (b as { coordinates?: unknown }).coordinates);
}

function sameProps(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if ((a[k] ?? null) !== (b[k] ?? null)) return false;
  return true;
}

/** A point geometry the way the layer wants it: a one-point MultiPoint is a Point. */
function fitKind(kind: GeometryKind, g: GeoJSON.Geometry): GeoJSON.Geometry {
  if (kind === 'point' && g.type === 'MultiPoint' && g.coordinates.length === 1) return { type: 'Point', coordinates: g.coordinates[0] };
  return g;
}

const issue = (code: string, message: string, extra: Partial<ValidationIssue> = {}): ValidationIssue => ({ code, severity: 'error', message, ...extra });

/** Reads, converts, maps and validates; writes nothing. */
export async function planImport(source: ImportSource, opts: ImportOptions, deps: { service: ImportService; view: ImportView }, actor: Actor): Promise<ImportPlan> {
  const def = editableLayer(opts.layer);
  const layer = def.id;
  if (source.rows.length === 0) throw new ImportError('no_rows', '文件里没有要素/数据行。The file holds no features or rows.');
  const rows = source.rows;
  const errors = new Map<number, { row: number; id?: string; issues: ValidationIssue[] }>();
  const addError = (row: number, i: ValidationIssue, id?: string) => {
    const e = errors.get(row) ?? { row, id, issues: [] };
    if (id && !e.id) e.id = id;
    e.issues.push(i);
    errors.set(row, e);
  };
  const warnings: ValidationIssue[] = [];
  for (const r of rows) if (r.issue) addError(r.row, r.issue);

  // 1. Geocode address rows (results are WGS84).
  const geocoded = new Map<number, GeoJSON.Point>();
  const toGeocode = rows.filter((r) => !r.geometry && r.address && !r.issue);
  if (toGeocode.length > 0) {
    if (!opts.geocode) throw new ImportError('geocoder_unavailable', '这个 CSV 只有地址，需要标准地址库来定位，但地址库不可用；请先运行 npm run data，或在 CSV 中加经纬度列。The CSV has addresses only and no geocoder is available: run npm run data, or add lon/lat columns.');
    let done = 0;
    for (const r of toGeocode) {
      const hit = await opts.geocode(r.address!);
      if (hit) geocoded.set(r.row, { type: 'Point', coordinates: [hit.lon, hit.lat] });
      else addError(r.row, issue('geocode_failed', `第 ${r.row} 行的地址「${r.address!.slice(0, 60)}」在标准地址库中找不到；请核对地址或补上经纬度。Row ${r.row}: address not found in the standard address base; correct it or add coordinates.`, { path: 'geometry' }));
      opts.onProgress?.('geocode', ++done, toGeocode.length);
    }
  }

  // 2. The CRS: the caller's option, else what the file says, else a guess from the numbers.
  let sourceCrs: CrsCode;
  let crsFrom: ImportPreview['crsFrom'];
  if (opts.crs) { sourceCrs = opts.crs; crsFrom = 'option'; }
  else if (source.crs) { sourceCrs = source.crs; crsFrom = 'file'; }
  else if (source.crsText) {
    throw new ImportError('crs_unknown', `无法识别文件声明的坐标系（${source.crsText.slice(0, 120)}）。请用 --crs / crs= 指定（EPSG:4549、EPSG:4490、gcj02 …）；北京54、西安80 需先在 GIS 软件中转换到 CGCS2000。` +
      `The file's CRS is not one we know; name it with --crs (EPSG:4549, EPSG:4490, gcj02, …). Beijing 1954 / Xi'an 1980 data must be reprojected to CGCS2000 first.`);
  } else {
    const withCoords = rows.filter((r) => r.geometry).map((r) => firstXY(r.geometry)).filter((p): p is [number, number] => !!p);
    const g = withCoords.length ? guessCrs(withCoords) : 'EPSG:4326';
    if (!g) throw new ImportError('crs_required', '文件没有说明坐标系，坐标也不像经纬度或常用投影；请用 --crs / crs= 指定。The file does not say its CRS and the coordinates match none we can guess; name it with --crs.');
    sourceCrs = g;
    crsFrom = 'guess';
    if (withCoords.length) {
      warnings.push({ code: 'crs_guessed', severity: 'warning', message: `文件没有说明坐标系，按坐标大小推断为 ${g}。若数据来自高德/腾讯地图请指定 gcj02，来自百度请指定 bd09。` +
        `The file does not say its CRS; ${g} was guessed from the coordinates. Data from AMap/Tencent is GCJ-02 (crs=gcj02), from Baidu BD-09 (crs=bd09).` });
    }
  }

  // 3. Fields.
  const fieldMap = mapFields(def, source.fields.map((f) => f.name), opts.fieldMap);
  const fieldOf = new Map(def.fields.map((f) => [f.name, f]));
  const hasField = (n: string) => fieldOf.has(n);

  // 4. Rows → changes.
  const changes: EditChange[] = [];
  const rowOfId = new Map<string, number>();
  const geocodedIds = new Set<string>();
  let creates = 0, updates = 0, unchanged = 0;
  const bbox: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  let outside = 0;
  let firstOutside: [number, number] | undefined;
  let gcjLike = 0, shifted = 0;
  const [w, s, e, n] = CITY.bounds;
  let done = 0;
  for (const r of rows) {
    opts.onProgress?.('convert', ++done, rows.length);
    if (errors.has(r.row)) continue;
    let g = geocoded.get(r.row) ?? r.geometry;
    if (!g) { addError(r.row, issue('no_geometry', `第 ${r.row} 条记录没有几何。Record ${r.row} has no geometry.`, { path: 'geometry' })); continue; }
    if (!geocoded.has(r.row)) {
      try {
        g = transformGeometry(sourceCrs, 'EPSG:4326', g);
      } catch (err) {
        if (!(err instanceof CrsError)) throw err;
        addError(r.row, issue('crs_error', `第 ${r.row} 条记录的坐标不能按 ${sourceCrs} 转换：${err.message}`, { path: 'geometry' }));
        continue;
      }
    }
    g = fitKind(def.geometry, g);
    if (!ACCEPTS[def.geometry].includes(g.type)) {
      addError(r.row, issue('geometry_kind', `第 ${r.row} 条记录是 ${g.type}，而图层「${def.title}」是${KIND_ZH[def.geometry]}图层。Record ${r.row} is a ${g.type}; layer ${layer} holds ${def.geometry}s.`, { path: 'geometry', location: firstXY(g) ?? undefined }));
      continue;
    }
    const props: Record<string, unknown> = {};
    let bad = false;
    for (const [src, dst] of Object.entries(fieldMap)) {
      if (!dst) continue;
      const c = coerceValue(fieldOf.get(dst)!, r.properties[src]);
      if (c.issue) { addError(r.row, { ...c.issue }); bad = true; }
      else if (c.value !== null) props[dst] = c.value;
    }
    if (bad) continue;
    const sourceId = typeof props.id === 'string' && props.id ? props.id : undefined;
    const existingBySource = sourceId ? await deps.view.feature(layer, sourceId) : null;
    // A new feature's id derives from the file's content and the row, so importing the same file again
    // finds its own features and updates (or skips) them instead of adding duplicates.
    const id = existingBySource ? sourceId! : `${layer}-i${source.digest}-${r.row}`;
    const existing = existingBySource ?? (await deps.view.feature(layer, id));
    if (hasField('id')) props.id = id;
    if (rowOfId.has(id)) {
      addError(r.row, issue('duplicate_id', `第 ${r.row} 条记录的标识 ${id} 与第 ${rowOfId.get(id)} 条重复。Record ${r.row} repeats id ${id} of record ${rowOfId.get(id)}.`, { path: 'properties.id', featureId: id }), id);
      continue;
    }
    rowOfId.set(id, r.row);
    if (geocoded.has(r.row)) geocodedIds.add(id);
    const [x0, y0, x1, y1] = geometryBbox(g);
    bbox[0] = Math.min(bbox[0], x0); bbox[1] = Math.min(bbox[1], y0); bbox[2] = Math.max(bbox[2], x1); bbox[3] = Math.max(bbox[3], y1);
    const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    if (cx < w - CITY_MARGIN_DEG || cx > e + CITY_MARGIN_DEG || cy < s - CITY_MARGIN_DEG || cy > n + CITY_MARGIN_DEG) {
      outside++;
      firstOutside ??= [cx, cy];
    }
    if (existing) {
      const merged = { ...existing.feature.properties, ...props };
      if (existing.feature.geometry.type === 'Point' && g.type === 'Point') {
        // Is the move what reading GCJ-02 as WGS84 would cause? (The offset is 300–700 m around here.)
        const [ox, oy] = existing.feature.geometry.coordinates;
        const [nx, ny] = g.coordinates;
        const [gx, gy] = wgs84ToGcj02(ox, oy);
        if (metres(ox, oy, nx, ny) > 100) {
          shifted++;
          if (metres(gx, gy, nx, ny) < 30) gcjLike++;
        }
      }
      if (sameGeometry(existing.feature.geometry, g) && sameProps(existing.feature.properties, merged)) { unchanged++; continue; }
      changes.push({ op: 'update', id, version: existing.version, feature: { geometry: g, properties: merged } });
      updates++;
    } else {
      // Imported department data is not the generated demo data.
      if (hasField('synthetic') && props.synthetic === undefined) props.synthetic = false;
      changes.push({ op: 'create', id, feature: { geometry: g, properties: props } });
      creates++;
    }
  }

  if (outside > 0) {
    const far = firstOutside && (Math.abs(firstOutside[0] - CITY.center[0]) > 5 || Math.abs(firstOutside[1] - CITY.center[1]) > 5);
    warnings.push({
      code: 'outside_city', severity: 'warning', location: firstOutside,
      message: `${outside} 个要素落在${CITY.name}范围之外${far ? '很远处' : ''}：坐标系可能不对（当前按 ${sourceCrs} 读取）。` +
        `${outside} feature(s) fall outside ${CITY.name}${far ? ', far away' : ''}: the CRS is probably wrong (read as ${sourceCrs}); check it or name it with crs=.`,
    });
  }
  if (gcjLike >= 3 && gcjLike >= 0.8 * shifted) {
    warnings.push({ code: 'looks_like_gcj02', severity: 'warning',
      message: `${gcjLike} 个已有要素被移动了数百米，恰好等于 GCJ-02 偏移：这份数据很可能是 GCJ-02（高德/腾讯坐标），请用 crs=gcj02 重新预览。` +
        `${gcjLike} existing features move by exactly the GCJ-02 offset: the data is probably GCJ-02 (AMap/Tencent); preview again with crs=gcj02.` });
  }

  // Do the coordinates agree with the addresses the rows carry? Points ~500 m off in the GCJ-02 direction
  // mean a GCJ-02 file read as WGS84 (the most common mistake with Chinese web data).
  if (opts.geocode && hasField('address') && sourceCrs !== 'GCJ02' && sourceCrs !== 'BD09' && !warnings.some((x) => x.code === 'looks_like_gcj02')) {
    const withAddress = changes.filter((c) => c.feature!.geometry.type === 'Point' && typeof c.feature!.properties.address === 'string' && !geocodedIds.has(c.id!));
    const step = Math.max(1, Math.floor(withAddress.length / ADDRESS_CHECKS));
    const far: number[] = [], gcj: number[] = [];
    for (let k = 0; k < withAddress.length && far.length < ADDRESS_CHECKS; k += step) {
      const c = withAddress[k];
      // A check, not a requirement: an address base that is unavailable just skips it.
      const hit = await opts.geocode(c.feature!.properties.address as string).catch(() => null);
      if (!hit) continue;
      const [x, y] = (c.feature!.geometry as GeoJSON.Point).coordinates;
      far.push(metres(x, y, hit.lon, hit.lat));
      const [gx, gy] = wgs84ToGcj02(hit.lon, hit.lat);
      gcj.push(metres(x, y, gx, gy));
    }
    if (far.length >= 3) {
      const dFar = median(far), dGcj = median(gcj);
      if (dFar > 150 && dGcj < 50) {
        warnings.push({ code: 'looks_like_gcj02', severity: 'warning',
          message: `坐标与所填地址相差约 ${Math.round(dFar)} 米，恰好是 GCJ-02 偏移：数据很可能是 GCJ-02（高德/腾讯坐标），请用 crs=gcj02 重新预览。` +
            `Coordinates sit ~${Math.round(dFar)} m from their addresses, exactly the GCJ-02 offset: the data is probably GCJ-02 (AMap/Tencent); preview again with crs=gcj02.` });
      } else if (dFar > 1000) {
        warnings.push({ code: 'address_mismatch', severity: 'warning',
          message: `坐标与所填地址的中位距离为 ${Math.round(dFar)} 米：坐标系可能不对（当前按 ${sourceCrs} 读取）。Coordinates are a median ${Math.round(dFar)} m from their addresses: check the CRS (read as ${sourceCrs}).` });
      }
    }
  }

  // 5. The edit service's own checks (geometry validity, schema, rights, versions, topology, grids).
  // Run even when some rows already failed, so that the preview lists every problem at once.
  if (changes.length > 0) {
    opts.onProgress?.('validate', 0, changes.length);
    const issues = await deps.service.validate(layer, changes, actor);
    opts.onProgress?.('validate', changes.length, changes.length);
    for (const i of issues) {
      if (i.severity === 'warning') { warnings.push(i); continue; }
      const row = i.featureId ? rowOfId.get(i.featureId) : undefined;
      addError(row ?? 0, i, i.featureId);
    }
  }

  const sample: EditFeature[] = changes.slice(0, SAMPLE).map((c) => ({ type: 'Feature', id: c.id!, geometry: c.feature!.geometry, properties: c.feature!.properties }));
  const preview: ImportPreview = {
    layer, format: source.format, sourceCrs, crsFrom, encoding: source.encoding,
    total: rows.length, creates, updates, unchanged,
    errors: [...errors.values()].sort((a, b) => a.row - b.row),
    warnings, fieldMap, sample,
    bbox: Number.isFinite(bbox[0]) ? bbox : null,
  };
  return { preview, changes };
}

/** Writes the plan as one atomic batch (op 'import'); refuses when the preview found errors. */
export async function applyImport(
  plan: ImportPlan,
  deps: { service: ImportService },
  actor: Actor,
  opts: { comment?: string; onProgress?: (done: number, total: number) => void } = {},
): Promise<FeatureVersion[]> {
  const { preview, changes } = plan;
  if (preview.errors.length > 0) {
    const n = preview.errors.length;
    throw new ImportError('import_has_errors', `预览发现 ${n} 处错误，未写入任何数据；请修正文件后重新导入。The preview found ${n} problem(s); nothing was written. Fix the file and import again.`);
  }
  if (changes.length === 0) return [];
  return deps.service.batch(preview.layer, changes, actor, { op: 'import', comment: opts.comment, onProgress: opts.onProgress });
}
