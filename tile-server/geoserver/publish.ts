// Idempotent publish/unpublish of a catalog layer: each step reads first and creates or updates, so a
// second run converges on the same GeoServer state without errors. Two sources of data:
// - PostGIS: the table `onemap.layer_<id>` written by scripts/load-postgis.ts (tile-server/storage/sql.ts has
//   its layout; the server upserts edits into it), in the shared store `onemap_postgis`;
// - a file: the layer's features (the caller passes the EFFECTIVE layer, edits included) written as a
//   GeoPackage or a zipped shapefile and uploaded into the store `onemap_<id>_file`.
// Either way the GeoServer layer is `onemap:layer_<id>`, so WMS/WFS clients do not care which was used.
import { getLayer, type FieldDef, type LayerDef } from '../../layers/catalog.ts';
import { writeShapefileZip } from '../formats/shapefile-zip.ts';
import { GeoServerError, GeoServerUnreachableError, type GeoServerClient, type PostgisConnection, type UploadFormat } from './client.ts';
import { writeGeoPackageAsync, type FeatureSource } from './geopackage.ts';
import { layerToSld } from './sld.ts';

export const WORKSPACE = 'onemap';
export const DATASTORE = 'onemap_postgis';

export interface PublishStep { step: string; action: 'created' | 'updated' | 'deleted' | 'absent' | 'done'; detail?: string }

export type PublishSource =
  /** `db`: the connection GeoServer itself uses to reach PostGIS (its view of the host, not necessarily ours). */
  | { kind: 'postgis'; db: PostgisConnection }
  /** `features`: the layer as it is now (EffectiveLayers.file, edits included), WGS84. An FgbFile is read
   *  lazily while the GeoPackage is written, in slices that let a server's event loop through. */
  | { kind: 'file'; format: UploadFormat; features: GeoJSON.Feature[] | FeatureSource };

export interface PublishOptions {
  source?: PublishSource;
  /** Shorthand for `source: { kind: 'postgis', db }`. */
  db?: PostgisConnection;
  workspace?: string;
  /** The PostGIS store's name (file stores are always `onemap_<id>_file`). */
  datastore?: string;
  onProgress?: (s: PublishStep) => void;
}

/** Splits a DATABASE_URL (postgres://user:pass@host:port/db) into datastore parameters; schema `onemap`. */
export function postgisFromUrl(databaseUrl: string, schema = 'onemap'): PostgisConnection {
  const u = new URL(databaseUrl);
  if (!/^postgres(ql)?:$/.test(u.protocol)) throw new Error(`数据库地址须为 postgres://…（得到 ${u.protocol}）。The database URL must be postgres://…, got ${u.protocol}`);
  return {
    host: u.hostname || '127.0.0.1', port: Number(u.port || 5432), database: decodeURIComponent(u.pathname.slice(1)),
    user: decodeURIComponent(u.username), passwd: decodeURIComponent(u.password), schema,
  };
}

export const tableOf = (layerId: string) => `layer_${layerId}`;
export const styleOf = (layerId: string) => `onemap_${layerId}`;
export const fileStoreOf = (layerId: string) => `onemap_${layerId}_file`;

/**
 * Fields that go to GeoServer in a file upload. Personal fields (names, phone numbers) are left out: GeoServer
 * serves WMS/WFS without the per-role masking our API applies (catalog FieldDef.personal).
 */
export const publishedFields = (def: LayerDef): FieldDef[] => def.fields.filter((f) => !f.personal);

/** The file GeoServer receives for a file source. */
export async function encodeLayerFile(def: LayerDef, format: UploadFormat, features: GeoJSON.Feature[] | FeatureSource): Promise<Uint8Array> {
  const fields = publishedFields(def);
  const source: FeatureSource = Array.isArray(features) ? { count: features.length, features: () => features } : features;
  if (format === 'gpkg') return writeGeoPackageAsync(source, fields, { table: tableOf(def.id), srsId: 4326, title: def.title, description: `${def.titleEn}. ${def.sourceNote}` });
  // The shapefile writer (tile-server/formats) takes an array and runs in one go: fine for the CLI, and
  // the API's default is gpkg.
  return writeShapefileZip(tableOf(def.id), Array.isArray(features) ? features : [...features.features()], fields);
}
const countOf = (f: GeoJSON.Feature[] | FeatureSource) => Array.isArray(f) ? f.length : f.count;

function layerDef(layerId: string): LayerDef {
  const def = getLayer(layerId);
  if (!def) throw new Error(`Unknown layer "${layerId}"; use an id from layers/catalog.ts.`);
  return def;
}

const absent = (e: unknown) => e instanceof GeoServerError && e.status === 404;

export async function publish(client: GeoServerClient, layerId: string, opts: PublishOptions): Promise<void> {
  const def = layerDef(layerId);
  const source: PublishSource | undefined = opts.source ?? (opts.db ? { kind: 'postgis', db: opts.db } : undefined);
  if (!source) throw new Error('publish needs a source: { kind: "postgis", db } or { kind: "file", format, features }.');
  const ws = opts.workspace ?? WORKSPACE;
  const pgStore = opts.datastore ?? DATASTORE;
  const ds = source.kind === 'postgis' ? pgStore : fileStoreOf(layerId);
  const report = opts.onProgress ?? (() => {});
  const ft = tableOf(layerId), style = styleOf(layerId);

  if (!(await client.getWorkspace(ws))) { await client.createWorkspace(ws); report({ step: `workspace ${ws}`, action: 'created' }); }
  else report({ step: `workspace ${ws}`, action: 'done' });

  // Switching source: the layer name `ws:layer_<id>` is unique in the workspace, so the feature type in the
  // other store goes first (recurse: with its layer, Q5). Absent other store → 404 → nothing to do.
  const other = source.kind === 'postgis' ? fileStoreOf(layerId) : pgStore;
  if (await client.getFeatureType(ws, other, ft)) {
    await client.deleteFeatureType(ws, other, ft, true);
    report({ step: `featuretype ${ft} in ${other}`, action: 'deleted', detail: 'source switched' });
  }

  // nativeName = table name (Q4); srs: the `geom` column is EPSG:4326 (storage/sql.ts), and files are written in WGS84.
  const spec = { name: ft, nativeName: ft, title: def.title, abstract: `${def.titleEn}. ${def.sourceNote}`, srs: 'EPSG:4326' };
  if (source.kind === 'postgis') {
    if (!(await client.getDatastore(ws, ds))) { await client.createPostgisDatastore(ws, ds, source.db); report({ step: `datastore ${ds}`, action: 'created' }); }
    else { await client.updatePostgisDatastore(ws, ds, source.db); report({ step: `datastore ${ds}`, action: 'updated' }); }
    if (!(await client.getFeatureType(ws, ds, ft))) { await client.createFeatureType(ws, ds, spec); report({ step: `featuretype ${ft}`, action: 'created' }); }
    else { await client.updateFeatureType(ws, ds, spec); report({ step: `featuretype ${ft}`, action: 'updated' }); }
  } else {
    const bytes = await encodeLayerFile(def, source.format, source.features);
    report({ step: `file ${ft}.${source.format}`, action: 'done', detail: `${countOf(source.features)} features, ${bytes.length} bytes` });
    // The store was filled with the other format before (gpkg ↔ shp): one store holds one kind of data, so
    // it goes, with its feature type (recurse), and is made again by the upload.
    const existing = await client.getDatastore(ws, ds);
    if (existing && (existing.connectionParameters.dbtype === 'geopkg') !== (source.format === 'gpkg')) {
      await client.deleteDatastore(ws, ds, true);
      report({ step: `datastore ${ds}`, action: 'deleted', detail: `format changed to ${source.format}` });
    }
    // An existing feature type keeps its configuration; only the data is replaced (configure=none), so a
    // re-publish never races GeoServer's auto-configuration against the existing layer.
    const had = !!(await client.getFeatureType(ws, ds, ft));
    const up = await client.uploadDatastoreFile(ws, ds, source.format, bytes, {
      configure: had ? 'none' : 'first', update: 'overwrite', filename: `${ft}.${source.format}`,
      charset: source.format === 'shp' ? 'UTF-8' : undefined,
    });
    report({ step: `datastore ${ds} (${source.format} upload)`, action: up.created ? 'created' : 'updated' });
    // configure=first names the feature type after the table (.gpkg) or the .shp, i.e. `ft`; should this
    // GeoServer not have configured it, publish the table explicitly.
    if (!had && !(await client.getFeatureType(ws, ds, ft))) await client.createFeatureType(ws, ds, spec);
    // The data changed under the feature type: recompute its bounds from it.
    await client.updateFeatureType(ws, ds, spec, { recalculate: ['nativebbox', 'latlonbbox'] });
    report({ step: `featuretype ${ft}`, action: had ? 'updated' : 'created' });
  }

  const sld = layerToSld(def, style);
  if (!(await client.getStyle(ws, style))) { await client.createStyle(ws, style, sld); report({ step: `style ${style}`, action: 'created' }); }
  else { await client.updateStyleBody(ws, style, sld); report({ step: `style ${style}`, action: 'updated' }); }

  await client.setDefaultStyle(ws, ft, style, ws);
  report({ step: `layer ${ws}:${ft} default style`, action: 'updated' });

  // Cached tiles were drawn with the old data/style.
  await client.truncate(`${ws}:${ft}`);
  report({ step: `tile cache ${ws}:${ft}`, action: 'done' });
}

/** A publishing failure as a stable code and a message that says what to do (Chinese first); for the CLI and the API. */
export function explainPublishError(e: unknown): { code: string; status?: number; message: string } {
  if (e instanceof GeoServerUnreachableError) return { code: 'geoserver_unreachable', message: e.message };
  if (e instanceof GeoServerError) {
    const server = e.serverMessage || '(无正文 empty body)';
    const hint = e.status === 401 ? 'GeoServer 用户名或密码错误（GEOSERVER_USER / GEOSERVER_PASSWORD）。Wrong GeoServer user or password.'
      : e.status === 403 ? '该 GeoServer 用户无权修改目录，请使用管理员账号。The GeoServer user may not change the catalog; use an admin account.'
      : e.status === 404 ? 'GeoServer 找不到该资源：地址是否为 …/geoserver？The resource is missing: is the URL …/geoserver?'
      : 'GeoServer 拒绝了请求，详见其日志。GeoServer refused the request; see its log.';
    return { code: e.status === 401 ? 'geoserver_unauthorized' : 'geoserver_error', status: e.status, message: `${hint} ${e.method} ${e.url} → ${e.status}: ${server}` };
  }
  return { code: 'publish_failed', message: `发布失败：${(e as Error)?.message ?? String(e)}。Publishing failed.` };
}

export async function unpublish(client: GeoServerClient, layerId: string, opts: Omit<PublishOptions, 'db' | 'source'> = {}): Promise<void> {
  layerDef(layerId);
  const ws = opts.workspace ?? WORKSPACE, ds = opts.datastore ?? DATASTORE;
  const report = opts.onProgress ?? (() => {});
  const ft = tableOf(layerId), style = styleOf(layerId);
  const step = async (name: string, run: () => Promise<void>) => {
    try { await run(); report({ step: name, action: 'deleted' }); } catch (e) {
      if (!absent(e)) throw e;
      report({ step: name, action: 'absent' });
    }
  };
  // Layer first with recurse (drops it from layer groups), then the featuretype (Q5), then its tile
  // layer, which GeoServer leaves behind, then the style that is no longer referenced.
  await step(`layer ${ws}:${ft}`, () => client.deleteLayer(ws, ft, true));
  await step(`featuretype ${ft}`, () => client.deleteFeatureType(ws, ds, ft, true));
  // A file-published layer lives in its own store; recurse takes its feature type along.
  await step(`datastore ${fileStoreOf(layerId)}`, () => client.deleteDatastore(ws, fileStoreOf(layerId), true));
  await step(`tile layer ${ws}:${ft}`, () => client.deleteTileLayer(`${ws}:${ft}`));
  await step(`style ${style}`, () => client.deleteStyle(ws, style));
}
