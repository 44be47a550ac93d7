// `npm run publish` (scripts/publish.ts) as a child process against the contract-driven fake GeoServer:
// per-step progress, the edited layer (from a real edit store) reaching GeoServer as a GeoPackage, the
// password from GEOSERVER_PASSWORD or a prompt (never argv), --all, and exit code 1 with a clear message for
// an unreachable host, a 401 and GeoServer's own refusal. No request may break the documents.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAYERS } from '../layers/catalog.ts';
import { openFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import { openEditStore } from '../tile-server/editing/edit-store.ts';
import { fileStoreOf } from '../tile-server/geoserver/publish.ts';
import { FakeGeoServer } from './helpers/fake-geoserver.ts';

const ROOT = process.cwd();
const DATA = join(ROOT, 'geodata/build');
const tmp = mkdtempSync(join(tmpdir(), 'onemap-publish-cli-'));
const EDITS = join(tmp, 'edits.sqlite');

interface Run { code: number | null; stdout: string; stderr: string }
function cli(args: string[], opts: { env?: Record<string, string | undefined>; stdin?: string } = {}): Promise<Run> {
  // The child must not see a database the developer happens to have configured.
  const env: Record<string, string | undefined> = { ...process.env, DATABASE_URL: undefined, EDIT_DATABASE_URL: undefined, GEOSERVER_URL: undefined,
    GEOSERVER_USER: undefined, GEOSERVER_PASSWORD: undefined, GEOSERVER_DB_URL: undefined, ONEMAP_EDITS_FILE: EDITS, ...opts.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/publish.ts'), ...args], { cwd: ROOT, env: env as NodeJS.ProcessEnv });
    let stdout = '', stderr = '';
    p.stdout.on('data', (c: Buffer) => { stdout += c; });
    p.stderr.on('data', (c: Buffer) => { stderr += c; });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
    p.stdin.end(opts.stdin ?? '');
  });
}

const fakes: FakeGeoServer[] = [];
const closers: (() => Promise<void>)[] = [];
async function start(opts: ConstructorParameters<typeof FakeGeoServer>[0] = {}) {
  const fake = new FakeGeoServer(opts);
  const srv = await fake.listen();
  fakes.push(fake);
  closers.push(srv.close);
  return { fake, url: `${srv.url}/geoserver` };
}

const towns = openFlatGeobuf(new Uint8Array(readFileSync(join(DATA, 'towns.fgb'))));
const renamed = String(towns.feature(0).properties!.id);
const deleted = String(towns.feature(1).properties!.id);

beforeAll(async () => {
  // Two edits in the same kind of store the server writes (SQLite at ONEMAP_EDITS_FILE).
  const store = await openEditStore({ file: EDITS });
  try {
    const a = towns.feature(0);
    await store.commit([
      { layer: 'towns', id: renamed, expectVersion: 0, op: 'update', actor: 'planner:p1',
        next: { type: 'Feature', id: renamed, geometry: a.geometry, properties: { ...a.properties, name: '命令行发布测试镇' } } },
      { layer: 'towns', id: deleted, expectVersion: 0, op: 'delete', actor: 'planner:p1', next: null },
    ], Date.now());
  } finally { await store.close(); }
});
afterAll(async () => {
  for (const c of closers) await c();
  rmSync(tmp, { recursive: true, force: true });
});

describe('npm run publish', () => {
  it('publishes the edited layer as a GeoPackage with a line per step', async () => {
    const { fake, url } = await start();
    const r = await cli(['--geoserver', url, '--user', 'admin', '--layer', 'towns'], { env: { GEOSERVER_PASSWORD: 'geoserver' } });
    expect(r.code, r.stderr).toBe(0);
    for (const step of ['read towns', 'workspace onemap', 'file layer_towns.gpkg', `datastore ${fileStoreOf('towns')} (gpkg upload)`,
      'featuretype layer_towns', 'style onemap_towns', 'layer onemap:layer_towns default style', 'tile cache onemap:layer_towns']) {
      expect(r.stdout).toContain(`✓ ${step} — `);
    }
    expect(r.stdout).toContain(`${towns.count - 1} features (edits included)`);
    const rows = fake.workspaces.get('onemap')!.stores.get(fileStoreOf('towns'))!.tables!.get('layer_towns')!.rows;
    expect(rows).toHaveLength(towns.count - 1);
    expect(rows.find((x) => x.id === renamed)?.name).toBe('命令行发布测试镇');
    expect(rows.some((x) => x.id === deleted)).toBe(false);
    expect(fake.layers.get('onemap:layer_towns')?.defaultStyle.name).toBe('onemap_towns');

    const un = await cli(['--geoserver', url, '--layer', 'towns', '--unpublish'], { env: { GEOSERVER_PASSWORD: 'geoserver' } });
    expect(un.code, un.stderr).toBe(0);
    expect(un.stdout).toContain(`✓ datastore ${fileStoreOf('towns')} — 删除 deleted`);
    expect(fake.layers.has('onemap:layer_towns')).toBe(false);
    expect(fake.workspaces.get('onemap')!.stores.size).toBe(0);
    expect(fake.workspaces.get('onemap')!.styles.size).toBe(0);
  });

  it('prompts for the password when GEOSERVER_PASSWORD is unset, and refuses one on the command line', async () => {
    const { fake, url } = await start();
    const r = await cli(['--geoserver', url, '--layer', 'roads', '--format', 'postgis', '--db-url', 'postgres://gs:pw@db:5432/onemap'], { stdin: 'geoserver\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(fake.layers.get('onemap:layer_roads')?.store).toBe('onemap_postgis');
    const argv = await cli(['--geoserver', url, '--layer', 'roads', '--password', 'geoserver']);
    expect(argv.code).toBe(1);
    expect(argv.stderr).toContain('GEOSERVER_PASSWORD');
    const none = await cli(['--geoserver', url, '--layer', 'roads']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/没有密码.*GEOSERVER_PASSWORD/);
  });

  it('--all publishes every catalog layer', async () => {
    const { fake, url } = await start({ tables: LAYERS.map((l) => `layer_${l.id}`) });
    const r = await cli(['--geoserver', `${url}/rest`, '--all', '--db-url', 'postgres://gs:pw@db:5432/onemap'], { env: { GEOSERVER_PASSWORD: 'geoserver' } });
    expect(r.code, r.stderr).toBe(0);
    expect([...fake.layers.keys()].sort()).toEqual(LAYERS.map((l) => `onemap:layer_${l.id}`).sort());
    expect(r.stdout).toContain(`[${LAYERS.length}/${LAYERS.length}]`);
  });

  it('exits 1 with what went wrong: unreachable host, wrong password, GeoServer refusing', async () => {
    const dead = createServer();
    await new Promise<void>((ok) => dead.listen(0, '127.0.0.1', ok));
    const port = (dead.address() as { port: number }).port;
    await new Promise<void>((ok) => dead.close(() => ok()));
    const gone = await cli(['--geoserver', `http://127.0.0.1:${port}/geoserver`, '--layer', 'towns,roads'], { env: { GEOSERVER_PASSWORD: 'x' } });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/无法连接 GeoServer.*ECONNREFUSED/);
    expect(gone.stderr).not.toContain('✗ roads'); // stops: nothing else could succeed

    const { url } = await start();
    const wrong = await cli(['--geoserver', url, '--layer', 'towns'], { env: { GEOSERVER_PASSWORD: 'wrong' } });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/GeoServer 用户名或密码错误.*→ 401: HTTP 401 Unauthorized/);

    // Q4: the store has no such table, GeoServer answers 400 with its own text, which must reach the user.
    const { url: url2 } = await start({ tables: [] });
    const refused = await cli(['--geoserver', url2, '--layer', 'towns', '--db-url', 'postgres://gs:pw@db:5432/onemap'], { env: { GEOSERVER_PASSWORD: 'geoserver' } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/→ 400: Trying to create new feature type inside the store, but no attributes were specified/);

    const usage = await cli(['--geoserver', url], { env: { GEOSERVER_PASSWORD: 'geoserver' } });
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain('--layer');
    const unknown = await cli(['--geoserver', url, '--layer', 'nope'], { env: { GEOSERVER_PASSWORD: 'geoserver' } });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('未知图层「nope」');
  });

  it('no request from the CLI broke the documents', () => {
    expect(fakes.flatMap((f) => f.violations)).toEqual([]);
    expect(fakes.some((f) => f.exercised.has('datastores.yaml#putDataStoreUpload'))).toBe(true);
  });
});
