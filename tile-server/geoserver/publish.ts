// Idempotent publish/unpublish of a catalog layer: each step reads first and creates or updates, so a
// second run converges on the same GeoServer state without errors. The data is the PostGIS table
// `onemap.layer_<id>` written by scripts/load-postgis.ts (tile-server/storage/sql.ts has its layout).
import { getLayer, type LayerDef } from '../../layers/catalog.ts';
import { GeoServerError, type GeoServerClient, type PostgisConnection } from './client.ts';
import { layerToSld } from './sld.ts';

export const WORKSPACE = 'onemap';
export const DATASTORE = 'onemap_postgis';

export interface PublishStep { step: string; action: 'created' | 'updated' | 'deleted' | 'absent' | 'done' }
export interface PublishOptions {
  /** Connection GeoServer itself uses to reach PostGIS (its view of the host, not necessarily ours). */
  db: PostgisConnection;
  workspace?: string;
  datastore?: string;
  onProgress?: (s: PublishStep) => void;
}

/** Splits a DATABASE_URL (postgres://user:pass@host:port/db) into datastore parameters; schema `onemap`. */
export function postgisFromUrl(databaseUrl: string, schema = 'onemap'): PostgisConnection {
  const u = new URL(databaseUrl);
  if (!/^postgres(ql)?:$/.test(u.protocol)) throw new Error(`DATABASE_URL must be postgres://…, got ${u.protocol}`);
  return {
    host: u.hostname || '127.0.0.1', port: Number(u.port || 5432), database: decodeURIComponent(u.pathname.slice(1)),
    user: decodeURIComponent(u.username), passwd: decodeURIComponent(u.password), schema,
  };
}

export const tableOf = (layerId: string) => `layer_${layerId}`;
export const styleOf = (layerId: string) => `onemap_${layerId}`;

function layerDef(layerId: string): LayerDef {
  const def = getLayer(layerId);
  if (!def) throw new Error(`Unknown layer "${layerId}"; use an id from layers/catalog.ts.`);
  return def;
}

const absent = (e: unknown) => e instanceof GeoServerError && e.status === 404;

export async function publish(client: GeoServerClient, layerId: string, opts: PublishOptions): Promise<void> {
  const def = layerDef(layerId);
  const ws = opts.workspace ?? WORKSPACE, ds = opts.datastore ?? DATASTORE;
  const report = opts.onProgress ?? (() => {});
  const ft = tableOf(layerId), style = styleOf(layerId);

  if (!(await client.getWorkspace(ws))) { await client.createWorkspace(ws); report({ step: `workspace ${ws}`, action: 'created' }); }
  else report({ step: `workspace ${ws}`, action: 'done' });

  if (!(await client.getDatastore(ws, ds))) { await client.createPostgisDatastore(ws, ds, opts.db); report({ step: `datastore ${ds}`, action: 'created' }); }
  else { await client.updatePostgisDatastore(ws, ds, opts.db); report({ step: `datastore ${ds}`, action: 'updated' }); }

  // nativeName = table name (Q4); srs: the `geom` column is EPSG:4326 (storage/sql.ts).
  const spec = { name: ft, nativeName: ft, title: def.title, abstract: `${def.titleEn}. ${def.sourceNote}`, srs: 'EPSG:4326' };
  if (!(await client.getFeatureType(ws, ds, ft))) { await client.createFeatureType(ws, ds, spec); report({ step: `featuretype ${ft}`, action: 'created' }); }
  else { await client.updateFeatureType(ws, ds, spec); report({ step: `featuretype ${ft}`, action: 'updated' }); }

  const sld = layerToSld(def, style);
  if (!(await client.getStyle(ws, style))) { await client.createStyle(ws, style, sld); report({ step: `style ${style}`, action: 'created' }); }
  else { await client.updateStyleBody(ws, style, sld); report({ step: `style ${style}`, action: 'updated' }); }

  await client.setDefaultStyle(ws, ft, style, ws);
  report({ step: `layer ${ws}:${ft} default style`, action: 'updated' });

  // Cached tiles were drawn with the old data/style.
  await client.truncate(`${ws}:${ft}`);
  report({ step: `tile cache ${ws}:${ft}`, action: 'done' });
}

export async function unpublish(client: GeoServerClient, layerId: string, opts: Omit<PublishOptions, 'db'> = {}): Promise<void> {
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
  await step(`tile layer ${ws}:${ft}`, () => client.deleteTileLayer(`${ws}:${ft}`));
  await step(`style ${style}`, () => client.deleteStyle(ws, style));
}
