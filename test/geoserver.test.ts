// The GeoServer client, SLD upload and publish/unpublish against the contract-driven fake
// (test/helpers/fake-geoserver.ts). The last test fails the suite if any request broke the documents or a
// publishing operation was never exercised.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAYERS } from '../layers/catalog.ts';
import { asList, GeoServerClient, GeoServerError, unwrapList } from '../tile-server/geoserver/client.ts';
import { postgisFromUrl, publish, unpublish, type PublishStep } from '../tile-server/geoserver/publish.ts';
import { FakeGeoServer } from './helpers/fake-geoserver.ts';

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
];

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
    expect(steps.map((s) => s.action)).toEqual(['deleted', 'deleted', 'deleted', 'deleted']);
    expect(main.fake.layers.has('onemap:layer_towns')).toBe(false);
    expect(main.fake.tileLayers.has('onemap:layer_towns')).toBe(false);
    expect(main.fake.workspaces.get('onemap')!.styles.size).toBe(0);
    expect(await main.client.getFeatureType('onemap', 'onemap_postgis', 'layer_towns')).toBeUndefined();
    const again: PublishStep[] = [];
    await unpublish(main.client, 'towns', { onProgress: (s) => again.push(s) });
    expect(again.map((s) => s.action)).toEqual(['absent', 'absent', 'absent', 'absent']);
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

  it('every publishing operation was exercised and no request violated the documents', () => {
    expect(fakes.flatMap((f) => f.violations)).toEqual([]);
    const hit = new Set(fakes.flatMap((f) => [...f.exercised]));
    expect(PUBLISHING_OPS.filter((k) => !hit.has(k))).toEqual([]);
  });
});
