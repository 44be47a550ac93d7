// The GeoServer client, SLD upload, file upload (GeoPackage, shapefile), publish/unpublish and the
// planners' POST /api/publish against the contract-driven fake (test/helpers/fake-geoserver.ts), and the
// GeoPackage writer against GDAL (`ogrinfo`, gdal-bin: missing GDAL is a failure, not a skip). The last
// test fails the suite if any request broke the documents or a publishing operation was never exercised.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getLayer, LAYERS } from '../layers/catalog.ts';
import type { EditFeature } from '../layers/editing/model.ts';
import { overlayFgb } from '../layers/editing/overlay-fgb.ts';
import { openFlatGeobuf, type FgbFile } from '../layers/formats/flatgeobuf.ts';
import { asList, GeoServerClient, GeoServerError, GeoServerUnreachableError, restRootOf, unwrapList, type FetchLike } from '../tile-server/geoserver/client.ts';
import { writeGeoPackage, writeGeoPackageAsync } from '../tile-server/geoserver/geopackage.ts';
import { PublishApi } from '../tile-server/geoserver/publish-api.ts';
import { testActorGate } from './helpers/session.ts';
import { explainPublishError, fileStoreOf, postgisFromUrl, publish, unpublish, type PublishStep } from '../tile-server/geoserver/publish.ts';
import { FakeGeoServer, readGeoPackageTables } from './helpers/fake-geoserver.ts';

const DATABASE_URL = 'postgres://onemap:s%40cret@127.0.0.1:5432/onemap';
const db = postgisFromUrl(DATABASE_URL);
const tables = LAYERS.map((l) => `layer_${l.id}`);

// Every operation publish/unpublish and the client's core rely on; each must be hit at least once.
const PUBLISHING_OPS = [
  'manifests.yaml#GET /about/version',
  'workspaces.yaml#getWorkspaces', 'workspaces.yaml#getWorkspace', 'workspaces.yaml#postWorkspaces', 'workspaces.yaml#deleteWorkspace',
  'namespaces.yaml#getNamespaces', 'namespaces.yaml#getNamespace',
  'datastores.yaml#getDatastores', 'datastores.yaml#getDataStore', 'datastores.yaml#postDatastores', 'datastores.yaml#putDatastore', 'datastores.yaml#deleteDatastore',
  'featuretypes.yaml#getFeatureTypes', 'featuretypes.yaml#getFeatureType', 'featuretypes.yaml#postFeatureTypes', 'featuretypes.yaml#putFeatureType', 'featuretypes.yaml#deleteFeatureType',
  'layers.yaml#layersNameWorkspaceGet', 'layers.yaml#layersNameWorkspacePut', 'layers.yaml#layersNameWorkspaceDelete',
  'styles.yaml#getWorkspaceStyles', 'styles.yaml#getWorkspaceStyle', 'styles.yaml#postWorkspaceStyles', 'styles.yaml#putWorkspaceStyle', 'styles.yaml#deleteWorkspaceStyle',
  'layergroups.yaml#postLayergroups', 'layergroups.yaml#getLayergroup', 'layergroups.yaml#deleteLayergroup',
  'gwcseed.yaml#layerSeedPost', 'gwclayers.yaml#layersNameDelete',
  'datastores.yaml#putDataStoreUpload',
];

const DATA = join(process.cwd(), 'geodata/build');
const readLayer = (id: string): FgbFile => openFlatGeobuf(new Uint8Array(readFileSync(join(DATA, `${id}.fgb`))));
const run = promisify(execFile);
async function ogrinfo(...args: string[]): Promise<string> {
  try {
    return (await run('ogrinfo', args, { timeout: 60_000 })).stdout;
  } catch (e: any) {
    if (e.code === 'ENOENT') throw new Error('ogrinfo 未安装：请运行 apt-get install gdal-bin。ogrinfo not found: install gdal-bin (scripts/system-packages.sh).');
    throw new Error(`ogrinfo ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}`);
  }
}
const tmp = mkdtempSync(join(tmpdir(), 'onemap-geoserver-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The towns layer with one town renamed, one deleted and one created: what EffectiveLayers.file returns after edits. */
function editedTowns(): { file: FgbFile; renamed: string; deleted: string; created: string } {
  const base = readLayer('towns');
  const [a, b] = [base.feature(0), base.feature(1)];
  const renamed = String(a.properties!.id), deleted = String(b.properties!.id), created = 'town-new-1';
  const edits = new Map<string, EditFeature | null>([
    [renamed, { type: 'Feature', id: renamed, geometry: a.geometry, properties: { ...a.properties, name: '编辑后的镇名' } }],
    [deleted, null],
    [created, { type: 'Feature', id: created, geometry: { type: 'Polygon', coordinates: [[[120.70, 31.60], [120.72, 31.60], [120.72, 31.62], [120.70, 31.60]]] },
      properties: { id: created, code: '320581999', name: '新设街道', kind: '街道', synthetic: true } }],
  ]);
  return { file: overlayFgb(base, edits, getLayer('towns')!.fields), renamed, deleted, created };
}


const fakes: FakeGeoServer[] = [];
const closers: (() => Promise<void>)[] = [];
async function start(opts: ConstructorParameters<typeof FakeGeoServer>[0] = {}) {
  const fake = new FakeGeoServer({ tables, ...opts });
  const srv = await fake.listen();
  fakes.push(fake);
  closers.push(srv.close);
  const client = new GeoServerClient({ baseUrl: srv.restUrl, user: 'admin', password: 'geoserver' });
  return { fake, client, srv };
}
afterAll(async () => { for (const c of closers) await c(); });

/** Comparable catalog state (style bodies included). */
function snapshot(f: FakeGeoServer): unknown {
  return JSON.parse(JSON.stringify({
    ws: [...f.workspaces].map(([n, w]) => [n, [...w.stores].map(([s, st]) => [s, st.params, [...st.featureTypes]]), [...w.styles]]),
    layers: [...f.layers], tiles: [...f.tileLayers],
    files: [...f.workspaces].flatMap(([, w]) => [...w.stores].map(([n, st]) => [n, st.type, [...(st.tables ?? [])].map(([t, v]) => [t, v.rows])])),
  }));
}

describe('GeoServer client against the contract-driven fake', () => {
  let main: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => { main = await start(); });

  it('loads the 13 documents and knows every publishing operation', () => {
    const keys = new Set(main.fake.operations.map((o) => o.key));
    expect(main.fake.operations.length).toBeGreaterThan(100);
    for (const k of PUBLISHING_OPS) expect(keys, k).toContain(k);
  });

  it('the fake rejects requests the documents do not declare (so the final check can fail)', async () => {
    const auth = { Authorization: 'Basic ' + Buffer.from('admin:geoserver').toString('base64') };
    const base = main.srv.restUrl;
    expect((await fetch(`${base}/workspaces?bogus=1`, { headers: auth })).status).toBe(400);
    expect((await fetch(`${base}/workspaces`, { method: 'PUT', headers: { ...auth, 'Content-Type': 'application/json' }, body: '{}' })).status).toBe(405);
    expect((await fetch(`${base}/workspaces`, { method: 'POST', headers: { ...auth, 'Content-Type': 'text/plain' }, body: 'x' })).status).toBe(415);
    expect((await fetch(`${base}/nowhere/at/all`, { headers: auth })).status).toBe(400);
    expect((await fetch(`${base}/workspaces/x/datastores/y/featuretypes?list=bogus`, { headers: auth })).status).toBe(400);
    expect(main.fake.violations).toHaveLength(5);
    main.fake.violations.length = 0; // these were deliberate
  });

  it('reads the version', async () => {
    const v = await main.client.version();
    expect(v.find((r) => r.name === 'GeoServer')?.version).toBe('2.25.2');
  });

  it('publishes a layer: workspace, PostGIS store, feature type, SLD style, default style, tile cache', async () => {
    const steps: PublishStep[] = [];
    await publish(main.client, 'towns', { db, onProgress: (s) => steps.push(s) });
    expect(steps.map((s) => s.action)).toEqual(['created', 'created', 'created', 'created', 'updated', 'done']);
    const ws = main.fake.workspaces.get('onemap')!;
    const store = ws.stores.get('onemap_postgis')!;
    expect(store.params).toMatchObject({ host: '127.0.0.1', port: '5432', database: 'onemap', user: 'onemap', passwd: 's@cret', dbtype: 'postgis', schema: 'onemap' });
    expect(store.featureTypes.get('layer_towns')).toMatchObject({ nativeName: 'layer_towns', srs: 'EPSG:4326', title: '镇（街道）' });
    const style = ws.styles.get('onemap_towns')!;
    expect(style.contentType).toBe('application/vnd.ogc.sld+xml');
    expect(style.body).toContain('<StyledLayerDescriptor version="1.0.0"');
    expect(main.fake.layers.get('onemap:layer_towns')!.defaultStyle).toEqual({ name: 'onemap_towns', workspace: 'onemap' });
    expect(main.fake.seedRequests).toEqual([{ layer: 'onemap:layer_towns', type: 'truncate' }]);
    // Read back through the client.
    expect((await main.client.getLayer('onemap', 'layer_towns'))?.defaultStyle?.name).toBe('onemap_towns');
    expect((await main.client.getStyle('onemap', 'onemap_towns'))?.languageVersion?.version).toBe('1.0.0');
    expect((await main.client.getDatastore('onemap', 'onemap_postgis'))?.connectionParameters.dbtype).toBe('postgis');
    expect((await main.client.getNamespace('onemap'))?.prefix).toBe('onemap');
  });

  it('publishing again converges on the same state without errors', async () => {
    const before = snapshot(main.fake);
    const steps: PublishStep[] = [];
    await publish(main.client, 'towns', { db, onProgress: (s) => steps.push(s) });
    expect(snapshot(main.fake)).toEqual(before);
    expect(steps.map((s) => s.action)).toEqual(['done', 'updated', 'updated', 'updated', 'updated', 'done']);
  });

  it('a second layer shares the workspace and store; lists come back whatever their shape', async () => {
    await publish(main.client, 'roads', { db });
    expect((await main.client.listFeatureTypes('onemap', 'onemap_postgis')).map((f) => f.name).sort()).toEqual(['layer_roads', 'layer_towns']);
    expect((await main.client.listStyles('onemap')).map((s) => s.name).sort()).toEqual(['onemap_roads', 'onemap_towns']);
    // One element: GeoServer collapses it to an object (Q1); the client still returns a list.
    expect((await main.client.listWorkspaces()).map((w) => w.name)).toEqual(['onemap']);
    expect((await main.client.listNamespaces()).length).toBe(1);
    expect((await main.client.listDatastores('onemap')).map((d) => d.name)).toEqual(['onemap_postgis']);
  });

  it('layer groups: create, read, and a recursive layer delete removes the member', async () => {
    await main.client.createLayerGroup('onemap_base', ['onemap:layer_towns', 'onemap:layer_roads'], '底图');
    expect((await main.client.getLayerGroup('onemap_base'))?.publishables.map((p) => p.name)).toEqual(['onemap:layer_towns', 'onemap:layer_roads']);
    await unpublish(main.client, 'roads');
    expect((await main.client.getLayerGroup('onemap_base'))?.publishables.map((p) => p.name)).toEqual(['onemap:layer_towns']);
    await main.client.deleteLayerGroup('onemap_base');
    expect(await main.client.getLayerGroup('onemap_base')).toBeUndefined();
  });

  it('unpublishes: layer, feature type, tile layer and style go; a second unpublish finds nothing and does not fail', async () => {
    const steps: PublishStep[] = [];
    await unpublish(main.client, 'towns', { onProgress: (s) => steps.push(s) });
    expect(steps.map((s) => s.action)).toEqual(['deleted', 'deleted', 'absent', 'deleted', 'deleted']);
    expect(main.fake.layers.has('onemap:layer_towns')).toBe(false);
    expect(main.fake.tileLayers.has('onemap:layer_towns')).toBe(false);
    expect(main.fake.workspaces.get('onemap')!.styles.size).toBe(0);
    expect(await main.client.getFeatureType('onemap', 'onemap_postgis', 'layer_towns')).toBeUndefined();
    const again: PublishStep[] = [];
    await unpublish(main.client, 'towns', { onProgress: (s) => again.push(s) });
    expect(again.map((s) => s.action)).toEqual(['absent', 'absent', 'absent', 'absent', 'absent']);
    // Empty lists arrive as "" (Q1).
    expect(await main.client.listFeatureTypes('onemap', 'onemap_postgis')).toEqual([]);
    expect(await main.client.listStyles('onemap')).toEqual([]);
  });

  it('errors carry GeoServer status and message', async () => {
    const dup = await main.client.createWorkspace('onemap').catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(GeoServerError);
    expect((dup as GeoServerError).status).toBe(409);
    expect((dup as GeoServerError).serverMessage).toBe("Workspace 'onemap' already exists");
    // Q4: a feature type for a table the store lacks.
    const q4 = await main.client.createFeatureType('onemap', 'onemap_postgis', { name: 'no_such_table' }).catch((e: unknown) => e) as GeoServerError;
    expect(q4.status).toBe(400);
    expect(q4.message).toContain('no attributes were specified');
    // Q2: non-empty workspace without recurse → 400; with recurse it goes.
    const q2 = await main.client.deleteWorkspace('onemap').catch((e: unknown) => e) as GeoServerError;
    expect(q2.status).toBe(400);
    await main.client.deleteDatastore('onemap', 'onemap_postgis', true);
    await main.client.createWorkspace('scratch');
    await main.client.deleteWorkspace('scratch');
    await main.client.deleteWorkspace('onemap', true);
    expect(await main.client.listWorkspaces()).toEqual([]);
    const bad = new GeoServerClient({ baseUrl: main.srv.restUrl, user: 'admin', password: 'wrong' });
    const e401 = await bad.listWorkspaces().catch((e: unknown) => e) as GeoServerError;
    expect(e401.status).toBe(401);
    expect(e401.message).toContain('password');
  });

  it('HTML error pages and uncollapsed lists are read too', async () => {
    const { client } = await start({ errorBodies: 'text/html', collapseSingletons: false, emptyListAsString: false });
    const e = await client.deleteWorkspace('nope').catch((x: unknown) => x) as GeoServerError;
    expect(e.status).toBe(404);
    expect(e.serverMessage).toBe("HTTP Status 404 – Error Message No such workspace: 'nope'");
    expect(await client.listWorkspaces()).toEqual([]);
    await publish(client, 'cameras', { db });
    expect((await client.listWorkspaces()).map((w) => w.name)).toEqual(['onemap']);
    expect((await client.getDatastore('onemap', 'onemap_postgis'))?.connectionParameters.schema).toBe('onemap');
  });

  it('normalises every list shape (Q1)', () => {
    expect(asList(undefined)).toEqual([]);
    expect(asList('')).toEqual([]);
    expect(asList({ a: 1 })).toEqual([{ a: 1 }]);
    expect(asList([1, 2])).toEqual([1, 2]);
    expect(unwrapList({ workspaces: '' }, 'workspaces', 'workspace')).toEqual([]);
    expect(unwrapList({ workspaces: { workspace: { name: 'a' } } }, 'workspaces', 'workspace')).toEqual([{ name: 'a' }]);
  });

});

describe('GeoPackage writer, read back by GDAL', () => {
  it('writes a GeoPackage 1.2 that ogrinfo reads with the right count, fields, CRS and Chinese text', async () => {
    const towns = readLayer('towns');
    const features = [...towns.features()];
    const def = getLayer('towns')!;
    const bytes = writeGeoPackage(features, def.fields, { table: 'layer_towns', srsId: 4326, title: def.title });
    // Header fields a reader checks first (GeoPackage 1.2 Req 2, 3).
    const head = Buffer.from(bytes.subarray(0, 100));
    expect(head.toString('latin1', 0, 16)).toBe('SQLite format 3\0');
    expect(head.readUInt32BE(68)).toBe(0x47504b47); // application_id "GPKG"
    expect(head.readUInt32BE(60)).toBe(10200); // user_version
    const file = join(tmp, 'towns.gpkg');
    writeFileSync(file, bytes);
    const info = await ogrinfo('-ro', '-so', file, 'layer_towns');
    expect(info).toContain('using driver `GPKG');
    expect(info).toMatch(new RegExp(`Feature Count: ${towns.count}\\b`));
    expect(info).toMatch(/ID\["EPSG",4326\]/);
    for (const f of def.fields) expect(info).toMatch(new RegExp(`^${f.name}: `, 'm'));
    expect(info).toMatch(/^synthetic: Integer\(Boolean\)/m);
    const first = features[0]!;
    const one = await ogrinfo('-ro', '-al', '-q', '-where', `id = '${first.properties!.id}'`, file);
    expect(one).toContain(`name (String) = ${first.properties!.name}`);
    expect(one).toMatch(/(MULTI)?POLYGON \(\(/);
    // GDAL recognises the R-tree extension (registered, table and triggers present).
    expect(await ogrinfo('-ro', file, '-sql', "SELECT HasSpatialIndex('layer_towns', 'geom')")).toMatch(/HasSpatialIndex \(Integer\) = 1/);
  });

  it('the cooperative writer gives the same tables from an FgbFile and lets the event loop through', async () => {
    const { file } = editedTowns(); // an overlay: base Polygons plus an edited one, read lazily
    const fields = getLayer('towns')!.fields;
    let ran = false;
    setImmediate(() => { ran = true; });
    const pending = writeGeoPackageAsync(file, fields, { table: 'layer_towns', srsId: 4326 });
    const ranBeforeDone = await pending.then(() => ran);
    expect(ranBeforeDone).toBe(true);
    const async = readGeoPackageTables(await writeGeoPackageAsync(file, fields, { table: 'layer_towns', srsId: 4326 }));
    const sync = readGeoPackageTables(writeGeoPackage([...file.features()], fields, { table: 'layer_towns', srsId: 4326 }));
    expect(async).toEqual(sync);
    expect(async[0]!.rows).toHaveLength(file.count);
  });

  it('mixed single/multi geometries, datetimes, nulls and empty tables', async () => {
    const fields = [{ name: 'id', type: 'string', title: '标识' }, { name: 'at', type: 'datetime', title: '时间' }, { name: 'n', type: 'int', title: '数' }] as const;
    const sq = (x: number) => [[[x, 31], [x + 0.1, 31], [x + 0.1, 31.1], [x, 31]]];
    const features: GeoJSON.Feature[] = [
      { type: 'Feature', geometry: { type: 'Polygon', coordinates: sq(120) }, properties: { id: 'p', at: '2026-05-01T08:00:00Z', n: 3 } },
      { type: 'Feature', geometry: { type: 'MultiPolygon', coordinates: [sq(121), sq(121.2)] }, properties: { id: 'm', at: null, n: null } },
    ];
    const file = join(tmp, 'mixed.gpkg');
    writeFileSync(file, writeGeoPackage(features, [...fields], { table: 't', srsId: 4326 }));
    const out = await ogrinfo('-ro', '-al', file);
    expect(out).toContain('Geometry: Multi Polygon');
    expect(out).toContain('Feature Count: 2');
    expect(out).toContain('Extent: (120.000000, 31.000000) - (121.300000, 31.100000)');
    expect(out).toContain('at (DateTime) = 2026/05/01 08:00:00+00');
    expect(out).toContain('at (DateTime) = (null)');
    const empty = join(tmp, 'empty.gpkg');
    writeFileSync(empty, writeGeoPackage([], [...fields], { table: 'e', srsId: 4326 }));
    expect(await ogrinfo('-ro', '-so', empty, 'e')).toContain('Feature Count: 0');
    expect(() => writeGeoPackage([], [{ name: 'fid', type: 'int', title: '' }], { table: 'x', srsId: 4326 })).toThrow(/clashes/);
    expect(() => writeGeoPackage([], [], { table: 'bad name', srsId: 4326 })).toThrow(/table name/);
  });
});

describe('file upload and publishing the effective layer', () => {
  let main: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => { main = await start(); });

  it('uploads a GeoPackage: the store is created (201), the first table configured; overwrite keeps the feature type', async () => {
    const towns = readLayer('towns');
    const bytes = writeGeoPackage([...towns.features()], getLayer('towns')!.fields, { table: 'layer_towns', srsId: 4326 });
    await main.client.createWorkspace('up');
    expect(await main.client.uploadDatastoreFile('up', 'towns_gpkg', 'gpkg', bytes, { configure: 'first', update: 'overwrite' })).toEqual({ created: true });
    const store = main.fake.workspaces.get('up')!.stores.get('towns_gpkg')!;
    expect(store.type).toBe('GeoPackage');
    expect(store.tables!.get('layer_towns')!.rows).toHaveLength(towns.count);
    const ft = await main.client.getFeatureType('up', 'towns_gpkg', 'layer_towns');
    expect(ft).toMatchObject({ nativeName: 'layer_towns', srs: 'EPSG:4326' });
    expect(asList((ft!.attributes as { attribute: { name: string }[] }).attribute).map((a) => a.name)).toEqual(['id', 'code', 'name', 'kind', 'synthetic']);
    expect((await main.client.getDatastore('up', 'towns_gpkg'))?.connectionParameters.dbtype).toBe('geopkg');
    // Overwrite with fewer rows and configure=none: same feature type, new data.
    const two = writeGeoPackage([...towns.features()].slice(0, 2), getLayer('towns')!.fields, { table: 'layer_towns', srsId: 4326 });
    expect(await main.client.uploadDatastoreFile('up', 'towns_gpkg', 'gpkg', two, { configure: 'none', update: 'overwrite' })).toEqual({ created: false });
    expect(store.tables!.get('layer_towns')!.rows).toHaveLength(2);
    expect(store.featureTypes.size).toBe(1);
    await main.client.deleteWorkspace('up', true);
  });

  it('the fake refuses uploads the documents and docs do not allow', async () => {
    const auth = { Authorization: 'Basic ' + Buffer.from('admin:geoserver').toString('base64') };
    const put = (path: string, type: string, body: Uint8Array | string) =>
      fetch(`${main.srv.restUrl}/workspaces/onemap/datastores/s/${path}`, { method: 'PUT', headers: { ...auth, 'Content-Type': type }, body: typeof body === 'string' ? body : new Uint8Array(body) });
    await main.client.createWorkspace('onemap');
    const gpkg = writeGeoPackage([], [], { table: 't', srsId: 4326 });
    const before = main.fake.violations.length;
    expect((await put('file.gpkg', 'application/octet-stream', gpkg)).status).toBe(415); // Q10 allow-list
    expect((await put('file.shp', 'application/x-sqlite3', gpkg)).status).toBe(415); // a shapefile goes zipped
    expect((await put('file.gpkg?configure=everything', 'application/x-sqlite3', gpkg)).status).toBe(400);
    expect((await put('file.gpkg', 'application/x-sqlite3', 'not a database')).status).toBe(400);
    expect((await put('url.gpkg', 'application/x-sqlite3', gpkg)).status).toBe(501); // not modelled: the client must not use it
    expect((await fetch(`${main.srv.restUrl}/workspaces/onemap/datastores/s/file.gpkg`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/x-sqlite3' }, body: new Uint8Array(gpkg) })).status).toBe(405);
    expect(main.fake.violations.length - before).toBe(6);
    main.fake.violations.length = before; // deliberate
    expect(main.fake.workspaces.get('onemap')!.stores.size).toBe(0);
  });

  it('publishes the edited layer as a GeoPackage: edits included, style, default style, tile cache', async () => {
    const { file, renamed, deleted, created } = editedTowns();
    const steps: PublishStep[] = [];
    await publish(main.client, 'towns', { source: { kind: 'file', format: 'gpkg', features: [...file.features()] }, onProgress: (s) => steps.push(s) });
    expect(steps.map((s) => `${s.step}:${s.action}`)).toEqual([
      'workspace onemap:done', 'file layer_towns.gpkg:done', 'datastore onemap_towns_file (gpkg upload):created', 'featuretype layer_towns:created',
      'style onemap_towns:created', 'layer onemap:layer_towns default style:updated', 'tile cache onemap:layer_towns:done']);
    const store = main.fake.workspaces.get('onemap')!.stores.get(fileStoreOf('towns'))!;
    const rows = store.tables!.get('layer_towns')!.rows;
    expect(rows).toHaveLength(file.count);
    expect(rows.find((r) => r.id === renamed)?.name).toBe('编辑后的镇名');
    expect(rows.find((r) => r.id === created)?.name).toBe('新设街道');
    expect(rows.some((r) => r.id === deleted)).toBe(false);
    expect(store.featureTypes.get('layer_towns')).toMatchObject({ title: '镇（街道）', srs: 'EPSG:4326' });
    expect(main.fake.layers.get('onemap:layer_towns')).toMatchObject({ store: fileStoreOf('towns'), defaultStyle: { name: 'onemap_towns', workspace: 'onemap' } });
    expect(main.fake.seedRequests.at(-1)).toEqual({ layer: 'onemap:layer_towns', type: 'truncate' });
  });

  it('publishing the same file again converges: data replaced, nothing else changes', async () => {
    const { file } = editedTowns();
    const before = snapshot(main.fake);
    const steps: PublishStep[] = [];
    await publish(main.client, 'towns', { source: { kind: 'file', format: 'gpkg', features: [...file.features()] }, onProgress: (s) => steps.push(s) });
    expect(snapshot(main.fake)).toEqual(before);
    expect(steps.map((s) => s.action)).toEqual(['done', 'done', 'updated', 'updated', 'updated', 'updated', 'done']);
  });

  it('personal fields stay home; a zipped UTF-8 shapefile works too', async () => {
    const grids = readLayer('grids');
    await publish(main.client, 'grids', { source: { kind: 'file', format: 'gpkg', features: [...grids.features()] } });
    const t = main.fake.workspaces.get('onemap')!.stores.get(fileStoreOf('grids'))!.tables!.get('layer_grids')!;
    expect(t.rows).toHaveLength(grids.count);
    expect(t.columns.map((c) => c.name)).not.toContain('manager_name');
    expect(t.columns.map((c) => c.name)).not.toContain('manager_phone');
    expect(t.columns.map((c) => c.name)).toContain('manager_id');

    const roads = readLayer('roads');
    await publish(main.client, 'roads', { source: { kind: 'file', format: 'shp', features: [...roads.features()] } });
    const store = main.fake.workspaces.get('onemap')!.stores.get(fileStoreOf('roads'))!;
    expect(store.type).toBe('Shapefile');
    expect(store.params.charset).toBe('UTF-8');
    const shp = store.tables!.get('layer_roads')!;
    expect(shp.geometryType).toBe('MULTILINESTRING');
    expect(shp.srs).toBe('EPSG:4326');
    expect(shp.rows).toHaveLength(roads.count);
    const r0 = roads.feature(0).properties!;
    expect(shp.rows.find((r) => r.id === r0.id)?.name).toBe(r0.name); // Chinese through the .cpg
    expect(main.fake.layers.get('onemap:layer_roads')?.defaultStyle.name).toBe('onemap_roads');
    // Changing the format replaces the store: one store holds one kind of data.
    const steps: PublishStep[] = [];
    await publish(main.client, 'roads', { source: { kind: 'file', format: 'gpkg', features: [...roads.features()] }, onProgress: (s) => steps.push(s) });
    expect(steps).toContainEqual({ step: `datastore ${fileStoreOf('roads')}`, action: 'deleted', detail: 'format changed to gpkg' });
    const again = main.fake.workspaces.get('onemap')!.stores.get(fileStoreOf('roads'))!;
    expect(again.type).toBe('GeoPackage');
    expect(again.tables!.get('layer_roads')!.rows).toHaveLength(roads.count);
    expect(main.fake.layers.get('onemap:layer_roads')?.defaultStyle.name).toBe('onemap_roads');
  });

  it('switching the source moves the layer between stores without a name clash', async () => {
    const steps: PublishStep[] = [];
    await publish(main.client, 'towns', { source: { kind: 'postgis', db }, onProgress: (s) => steps.push(s) });
    expect(steps[1]).toMatchObject({ step: `featuretype layer_towns in ${fileStoreOf('towns')}`, action: 'deleted' });
    expect(main.fake.layers.get('onemap:layer_towns')?.store).toBe('onemap_postgis');
    expect(main.fake.workspaces.get('onemap')!.stores.get(fileStoreOf('towns'))!.featureTypes.size).toBe(0);
    const { file } = editedTowns();
    await publish(main.client, 'towns', { source: { kind: 'file', format: 'gpkg', features: [...file.features()] } });
    expect(main.fake.layers.get('onemap:layer_towns')?.store).toBe(fileStoreOf('towns'));
    expect(await main.client.getFeatureType('onemap', 'onemap_postgis', 'layer_towns')).toBeUndefined();
    // unpublish removes the file store as well.
    await unpublish(main.client, 'towns');
    expect(main.fake.workspaces.get('onemap')!.stores.has(fileStoreOf('towns'))).toBe(false);
    expect(main.fake.layers.has('onemap:layer_towns')).toBe(false);
  });

  it('unreachable hosts and wrong passwords become clear errors', async () => {
    const dead = createServer();
    await new Promise<void>((ok) => dead.listen(0, '127.0.0.1', ok));
    const port = (dead.address() as { port: number }).port;
    await new Promise<void>((ok) => dead.close(() => ok()));
    const gone = new GeoServerClient({ baseUrl: `http://127.0.0.1:${port}/geoserver/rest`, user: 'admin', password: 'x' });
    const e = await gone.listWorkspaces().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GeoServerUnreachableError);
    expect(explainPublishError(e)).toMatchObject({ code: 'geoserver_unreachable' });
    expect(explainPublishError(e).message).toMatch(/^无法连接 GeoServer.*ECONNREFUSED/);
    const bad = new GeoServerClient({ baseUrl: main.srv.restUrl, user: 'admin', password: 'wrong' });
    const x = explainPublishError(await bad.listWorkspaces().catch((y: unknown) => y));
    expect(x).toMatchObject({ code: 'geoserver_unauthorized', status: 401 });
    expect(x.message).toMatch(/^GeoServer 用户名或密码错误/);
    expect(restRootOf('http://h:8080/geoserver/')).toBe('http://h:8080/geoserver/rest');
    expect(restRootOf('http://h:8080/geoserver/rest')).toBe('http://h:8080/geoserver/rest');
    expect(() => restRootOf('ftp://h/geoserver')).toThrow(/http/);
  });
});

describe('POST /api/publish (PublishApi in-process)', () => {
  let fake: FakeGeoServer, restUrl: string;
  let server: Server, base: string;
  let env: NodeJS.ProcessEnv;
  let gate: Promise<void> | null = null;
  // Holds GeoServer requests while `gate` is set, so a publish can be caught in the middle.
  const gatedFetch: FetchLike = async (url, init) => { if (gate) await gate; return fetch(url, init); };
  const edited = editedTowns();

  beforeAll(async () => {
    const s = await start();
    fake = s.fake; restUrl = s.srv.restUrl;
    env = { GEOSERVER_URL: s.srv.url + '/geoserver', GEOSERVER_USER: 'admin', GEOSERVER_PASSWORD: 'geoserver' };
    const api = new PublishApi({ view: { file: async (layer) => layer === 'towns' ? edited.file : readLayer(layer) }, env, fetch: gatedFetch });
    server = createServer((req, res) => { testActorGate(req); void api.handle(req, res, ''); });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

  const post = (body: unknown, actor?: string, method = 'POST') => fetch(`${base}/api/publish`, {
    method, headers: { 'Content-Type': 'application/json', ...(actor ? { 'X-Test-Actor': actor } : {}) },
    body: method === 'GET' ? undefined : JSON.stringify(body),
  });
  const lines = async (r: Response) => (await r.text()).trim().split('\n').map((l) => JSON.parse(l));
  async function expectError(r: Response, status: number, code: string) {
    expect(r.status).toBe(status);
    const b = await r.json() as { error: { code: string; message: string } };
    expect(b.error.code).toBe(code);
    expect(b.error.message).toMatch(/[\u4e00-\u9fff]/); // Chinese first
    return b.error;
  }

  it('only planners and admins may publish', async () => {
    await expectError(await post({ layer: 'towns' }, 'operator:o'), 403, 'publish_forbidden');
    await expectError(await post({ layer: 'towns' }, 'grid_manager:gm-1'), 403, 'publish_forbidden');
    await expectError(await post({ layer: 'towns' }, 'analyst:a1'), 403, 'publish_forbidden');
    await expectError(await post({ layer: 'towns' }), 401, 'not_signed_in'); // nobody signed in
    expect(fake.exercised.size).toBe(0);
  });

  it('rejects bad requests before talking to GeoServer', async () => {
    await expectError(await post({ layer: 'nope' }, 'planner:p1'), 400, 'unknown_layer');
    await expectError(await post({ layer: 'towns', extra: 1 }, 'planner:p1'), 400, 'unknown_param');
    await expectError(await post(undefined, 'planner:p1', 'GET'), 405, 'method_not_allowed');
    expect(fake.exercised.size).toBe(0);
  });

  it('503 says what to set when GeoServer is not configured', async () => {
    const saved = { ...env };
    delete env.GEOSERVER_URL;
    try {
      const e = await expectError(await post({ layer: 'towns' }, 'planner:p1'), 503, 'geoserver_not_configured');
      expect(e.message).toContain('GEOSERVER_URL');
      expect(e.message).toContain('GEOSERVER_PASSWORD');
    } finally { Object.assign(env, saved); }
  });

  it('streams NDJSON progress and publishes the effective layer (edits included) as a GeoPackage', async () => {
    const r = await post({ layer: 'towns' }, 'planner:p1');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const out = await lines(r);
    expect(out[0]).toMatchObject({ step: 'read towns', action: 'done' });
    expect(out.slice(1, -1).map((l) => l.step)).toEqual(['workspace onemap', 'file layer_towns.gpkg', 'datastore onemap_towns_file (gpkg upload)',
      'featuretype layer_towns', 'style onemap_towns', 'layer onemap:layer_towns default style', 'tile cache onemap:layer_towns']);
    expect(out.at(-1)).toEqual({ done: true, layer: 'towns', name: 'onemap:layer_towns', source: 'gpkg', wms: restUrl.replace(/\/rest$/, '/onemap/wms') });
    const rows = fake.workspaces.get('onemap')!.stores.get(fileStoreOf('towns'))!.tables!.get('layer_towns')!.rows;
    expect(rows.find((x) => x.id === edited.renamed)?.name).toBe('编辑后的镇名');
    expect(rows.some((x) => x.id === edited.deleted)).toBe(false);
  });

  it('a second click while the first runs gets 409; afterwards it publishes again', async () => {
    let open!: () => void;
    gate = new Promise<void>((ok) => { open = ok; });
    // fetch resolves on the headers, which go out with the first progress line: the first publish is then
    // running, held at its first GeoServer call.
    const first = await post({ layer: 'towns' }, 'admin:a1');
    expect(first.status).toBe(200);
    await expectError(await post({ layer: 'towns' }, 'planner:p2'), 409, 'publish_in_progress');
    gate = null; open();
    expect((await lines(first)).at(-1)).toMatchObject({ done: true });
    expect((await lines(await post({ layer: 'towns' }, 'planner:p2'))).at(-1)).toMatchObject({ done: true });
  });

  it('GEOSERVER_DB_URL switches to the PostGIS store', async () => {
    env.GEOSERVER_DB_URL = 'postgres://gs:pw@db.internal:5432/onemap';
    try {
      const out = await lines(await post({ layer: 'towns' }, 'planner:p1'));
      expect(out.at(-1)).toMatchObject({ done: true, source: 'postgis' });
      expect(fake.workspaces.get('onemap')!.stores.get('onemap_postgis')!.params).toMatchObject({ host: 'db.internal', user: 'gs', passwd: 'pw', schema: 'onemap' });
      expect(fake.layers.get('onemap:layer_towns')?.store).toBe('onemap_postgis');
    } finally { delete env.GEOSERVER_DB_URL; }
  });

  it("GeoServer's refusal arrives as an error line with its status and message", async () => {
    env.GEOSERVER_PASSWORD = 'wrong';
    try {
      const out = await lines(await post({ layer: 'towns' }, 'planner:p1'));
      expect(out.at(-1).error).toMatchObject({ code: 'geoserver_unauthorized', status: 401 });
      expect(out.at(-1).error.message).toContain('HTTP 401 Unauthorized');
      expect(out.some((l) => l.done)).toBe(false);
    } finally { env.GEOSERVER_PASSWORD = 'geoserver'; }
  });
});

// Last, over every fake this file started.
describe('contract coverage', () => {
  it('every publishing operation was exercised and no request violated the documents', () => {
    expect(fakes.flatMap((f) => f.violations)).toEqual([]);
    const hit = new Set(fakes.flatMap((f) => [...f.exercised]));
    expect(PUBLISHING_OPS.filter((k) => !hit.has(k))).toEqual([]);
  });
});
