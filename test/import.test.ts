// The import pipeline against real files (test/fixtures/import, made by ogr2ogr — see its README), the
// real edit service over a fresh SQLite edit store and the built data (geodata/build), and the HTTP API.
// The edit store's SQLite/PostgreSQL parity is tested by the store's own suite; this one checks import.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../layers/incidents/model.ts';
import { applyImport, planImport } from '../layers/import/pipeline.ts';
import type { Geocoder } from '../layers/import/types.ts';
import { loadAddressData } from '../tile-server/address-api.ts';
import { openEditStore, type EditStore } from '../tile-server/editing/edit-store.ts';
import { EffectiveLayers } from '../tile-server/editing/effective.ts';
import { geocoderFromIndex, ImportApi, importHttpError, readImportFile } from '../tile-server/editing/import-api.ts';
import { EditService } from '../tile-server/editing/service.ts';
import { openFeatureLayers } from '../tile-server/feature-store.ts';
import { ZipError } from '../tile-server/formats/zip.ts';
import { json, raw } from './helpers/http.ts';
import { testActorGate } from './helpers/session.ts';

const DATA = resolve('geodata/build');
const FIX = resolve('test/fixtures/import');
const file = (name: string) => new Uint8Array(readFileSync(join(FIX, name)));
const planner: Actor = { role: 'planner', id: 'import-test' };

/** The 20 source points by name (the fixtures were all made from source.geojson). */
const SOURCE = new Map<string, [number, number]>(
  (JSON.parse(readFileSync(join(FIX, 'source.geojson'), 'utf8')) as GeoJSON.FeatureCollection).features
    .map((f) => [String(f.properties!.name), (f.geometry as GeoJSON.Point).coordinates as [number, number]]),
);

function metres([x1, y1]: number[], [x2, y2]: number[]): number {
  const k = 111_320;
  return Math.hypot((x2 - x1) * k * Math.cos((y1 * Math.PI) / 180), (y2 - y1) * k);
}

let dir: string;
let store: EditStore;
let view: EffectiveLayers;
let service: EditService;
let geocode: Geocoder;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'onemap-import-'));
  store = await openEditStore({ file: join(dir, 'edits.sqlite') });
  view = new EffectiveLayers(DATA, await openFeatureLayers(DATA));
  service = new EditService({ store, view, clock: Date.now });
  const data = await loadAddressData(DATA);
  geocode = geocoderFromIndex((t, n) => data.index.search(t, n));
});

afterAll(async () => {
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function plan(name: string, opts: { crs?: 'GCJ02'; encoding?: string } = {}) {
  const source = readImportFile(file(name), name, { encoding: opts.encoding });
  return planImport(source, { layer: 'facilities', crs: opts.crs, geocode }, { service, view }, planner);
}

/** Every planned point lies within 0.5 m of the source point of the same name; returns how many were checked. */
function expectAtSource(changes: { feature?: { geometry: GeoJSON.Geometry; properties: Record<string, unknown> } }[]): number {
  for (const c of changes) {
    const name = String(c.feature!.properties.name);
    expect(SOURCE.has(name), `name read as "${name}"`).toBe(true);
    expect(metres((c.feature!.geometry as GeoJSON.Point).coordinates, SOURCE.get(name)!)).toBeLessThan(0.5);
  }
  return changes.length;
}

describe('import pipeline on real files', () => {
  it('has 20 distinctly named source points', () => {
    expect(SOURCE.size).toBe(20);
  });

  it('reads a Gauss–Krüger (EPSG:4549) shapefile with a GBK dbf and Chinese column names', async () => {
    const { preview, changes } = await plan('facilities-4549-gbk.zip');
    expect(preview).toMatchObject({ format: 'shapefile', sourceCrs: 'EPSG:4549', crsFrom: 'file', encoding: 'gbk', total: 20, creates: 20, errors: [] });
    expect(preview.fieldMap).toEqual({ 编号: null, 名称: 'name', 类型: 'kind', 主管部门: 'department', 地址: 'address' });
    expect(preview.warnings.map((w) => w.code)).not.toContain('outside_city');
    expect(expectAtSource(changes)).toBe(20);
    expect(changes[0].feature!.properties).toMatchObject({ kind: '便民服务站', address: expect.stringMatching(/^常熟市/) });
  });

  it('reads a CGCS2000 (EPSG:4490) shapefile with a UTF-8 dbf', async () => {
    const { preview, changes } = await plan('facilities-4490-utf8.zip');
    expect(preview).toMatchObject({ sourceCrs: 'EPSG:4490', crsFrom: 'file', encoding: 'utf-8', creates: 20, errors: [] });
    expect(expectAtSource(changes)).toBe(20);
  });

  it('reads a FlatGeobuf in EPSG:4549 with the CRS from its header', async () => {
    const { preview, changes } = await plan('facilities-4549.fgb');
    expect(preview).toMatchObject({ format: 'fgb', sourceCrs: 'EPSG:4549', crsFrom: 'file', creates: 20, errors: [] });
    expect(expectAtSource(changes)).toBe(20);
  });

  it('reads a GCJ-02 CSV: a warning when taken for WGS84, exact when named', async () => {
    const wrong = await plan('facilities-gcj02.csv');
    expect(wrong.preview.crsFrom).toBe('guess');
    expect(wrong.preview.warnings.map((w) => w.code)).toEqual(expect.arrayContaining(['crs_guessed', 'looks_like_gcj02']));
    const right = await plan('facilities-gcj02.csv', { crs: 'GCJ02' });
    expect(right.preview).toMatchObject({ sourceCrs: 'GCJ02', crsFrom: 'option', encoding: 'utf-8', creates: 20, errors: [] });
    expect(right.preview.warnings.map((w) => w.code)).not.toContain('looks_like_gcj02');
    // the quoted name with a comma and doubled quotes is one field
    const quoted = right.changes.find((c) => String(c.feature!.properties.name).includes('"总站"'))!;
    const name = String(quoted.feature!.properties.name);
    expect(name).toMatch(/,"总站"$/);
    expect(metres((quoted.feature!.geometry as GeoJSON.Point).coordinates, SOURCE.get(name.replace(/,"总站"$/, ''))!)).toBeLessThan(0.5);
    expect(expectAtSource(right.changes.filter((c) => c !== quoted))).toBe(19);
  });

  it('geocodes a GBK CSV of addresses through the address base', async () => {
    const { preview, changes } = await plan('facilities-address-gbk.csv');
    expect(preview).toMatchObject({ format: 'csv', encoding: 'gbk', total: 10, creates: 10, errors: [] });
    expect(expectAtSource(changes)).toBe(10);
  });

  it('gives a clear error for a broken file', () => {
    let err: unknown;
    try { readImportFile(file('broken-truncated.zip'), 'broken.zip'); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ZipError);
    expect((err as Error).message).toMatch(/损坏或不完整.*re-create it/);
    expect(importHttpError(err)).toMatchObject({ status: 400, code: 'bad_file' });
  });

  it('writes nothing when one row is invalid, and everything in one commit otherwise', async () => {
    const before = await store.maxSeq();
    const bad = await plan('one-invalid.geojson');
    expect(bad.preview.errors.map((e) => [e.row, e.issues[0].code])).toEqual([[3, 'geometry_kind']]);
    await expect(applyImport(bad, { service }, planner)).rejects.toMatchObject({ code: 'import_has_errors' });
    expect(await store.maxSeq()).toBe(before);

    // A row only the edit service rejects (a point outside every grid) must sink the whole batch too.
    const good = await plan('facilities-4549-gbk.zip');
    const outside = { ...good.changes[1], id: 'facilities-import-outside', feature: { geometry: { type: 'Point' as const, coordinates: [121.4737, 31.2304] }, properties: { ...good.changes[1].feature!.properties, id: 'facilities-import-outside' } } };
    const issues = await service.validate('facilities', [good.changes[0], outside], planner);
    expect(issues.some((i) => i.severity === 'error')).toBe(true);
    await expect(service.batch('facilities', [good.changes[0], outside], planner, { op: 'import' })).rejects.toBeDefined();
    expect(await store.maxSeq()).toBe(before);

    const progress: number[] = [];
    const versions = await applyImport(good, { service }, planner, { onProgress: (d) => progress.push(d) });
    expect(versions).toHaveLength(20);
    expect(versions.every((v) => v.op === 'import' && v.version === 1)).toBe(true);
    expect(progress.at(-1)).toBe(20);
    expect(await store.maxSeq()).toBe(before + 20);
    const stored = await service.get('facilities', good.changes[0].id!);
    expect(stored?.feature.properties.name).toBe(good.changes[0].feature!.properties.name);

    // The same file again finds its own features: nothing to write.
    const again = await plan('facilities-4549-gbk.zip');
    expect(again.preview).toMatchObject({ creates: 0, updates: 0, unchanged: 20 });
  });
});

describe('POST /api/imports', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    const api = new ImportApi({ service, view, geocode });
    server = createServer((req, res) => {
      testActorGate(req);
      const [path, query = ''] = (req.url ?? '').split('?');
      if (path !== '/api/imports') { res.writeHead(404).end(); return; }
      api.handle(req, res, query).catch((e: Error) => { res.writeHead(500).end(e.message); });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const post = (query: string, body: Uint8Array, actor = 'planner:api-test') =>
    raw(base, `/api/imports?${query}`, { method: 'POST', body: Buffer.from(body), headers: { 'X-Test-Actor': actor, 'Content-Type': 'application/octet-stream' } });

  it('previews, then applies atomically', async () => {
    const p = await post('layer=facilities&filename=x.fgb&mode=preview', file('facilities-4549.fgb'));
    expect(p.status).toBe(200);
    expect(json(p)).toMatchObject({ layer: 'facilities', format: 'fgb', sourceCrs: 'EPSG:4549', creates: 20, errors: [] });
    const before = await store.maxSeq();
    const a = await post('layer=facilities&filename=x.fgb&mode=apply', file('facilities-4549.fgb'));
    expect(a.status).toBe(200);
    expect(json(a)).toMatchObject({ applied: 20, versions: 20, preview: { creates: 20 } });
    expect(await store.maxSeq()).toBe(before + 20);
  });

  it('answers 422 with the preview for an invalid row, 400 for a broken file or bad CRS, 403 for a read-only layer', async () => {
    const before = await store.maxSeq();
    const bad = await post('layer=facilities&filename=x.geojson&mode=apply', file('one-invalid.geojson'));
    expect(bad.status).toBe(422);
    expect(json(bad).error).toMatchObject({ code: 'import_has_errors', preview: { errors: [{ row: 3 }] } });
    expect(await store.maxSeq()).toBe(before);
    const broken = await post('layer=facilities&filename=x.zip', file('broken-truncated.zip'));
    expect([broken.status, json(broken).error.code]).toEqual([400, 'bad_file']);
    const crs = await post('layer=facilities&crs=EPSG:2385', file('source.geojson'));
    expect([crs.status, json(crs).error.code]).toEqual([400, 'bad_crs']);
    const ro = await post('layer=city', file('source.geojson'));
    expect([ro.status, json(ro).error.code]).toEqual([403, 'layer_not_editable']);
    const actor = await post('layer=facilities', file('source.geojson'), 'nobody');
    expect([actor.status, json(actor).error.code]).toEqual([401, 'not_signed_in']);
  });

  it('streams progress as NDJSON when asked, ending with the result or the error', async () => {
    const ok = await post('layer=facilities&filename=s.geojson&mode=apply&progress=ndjson', file('source.geojson'));
    expect(ok.headers['content-type']).toMatch(/ndjson/);
    const lines = ok.body.toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.some((l) => l.stage === 'convert')).toBe(true);
    expect(lines.filter((l) => l.stage === 'write').at(-1)).toMatchObject({ done: 20, total: 20 });
    expect(lines.at(-1)).toMatchObject({ result: { applied: 20, versions: 20 } });
    const bad = await post('layer=facilities&filename=x.geojson&mode=apply&progress=ndjson', file('one-invalid.geojson'));
    expect(JSON.parse(bad.body.toString('utf8').trim().split('\n').at(-1)!)).toMatchObject({ error: { code: 'import_has_errors' } });
  });
});

describe('npm run import', () => {
  const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'scripts/import.ts', ...args], {
    encoding: 'utf8', env: { ...process.env, ONEMAP_EDITS_FILE: join(dir, 'cli.sqlite'), DATABASE_URL: '', EDIT_DATABASE_URL: '' }, timeout: 120_000,
  });

  it('prints the preview, writes with --yes, and refuses bad input with what to do', async () => {
    const dry = run(['test/fixtures/import/facilities-4549-gbk.zip', '--layer', 'facilities', '--dry-run']);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/EPSG:4549.*文件声明/);
    expect(dry.stdout).toMatch(/新增 creates: 20/);
    expect(dry.stdout).toMatch(/名称 → name/);
    const yes = run(['test/fixtures/import/facilities-4549-gbk.zip', '--layer', 'facilities', '--yes', '--no-address-check']);
    expect(yes.status, yes.stderr).toBe(0);
    expect(yes.stdout).toMatch(/已写入 20 个版本/);
    const cli = await openEditStore({ file: join(dir, 'cli.sqlite') });
    try {
      expect((await cli.current('facilities')).length).toBe(20);
    } finally {
      await cli.close();
    }
    const bad = run(['test/fixtures/import/one-invalid.geojson', '--layer', 'facilities', '--yes', '--no-address-check']);
    expect(bad.status).toBe(1);
    expect(bad.stdout + bad.stderr).toMatch(/第 3 条.*Polygon[\s\S]*未写入任何数据/);
    const broken = run(['test/fixtures/import/broken-truncated.zip', '--layer', 'facilities']);
    expect(broken.status).toBe(1);
    expect(broken.stderr).toMatch(/ZIP 文件损坏或不完整/);
    const usage = run(['test/fixtures/import/source.geojson']);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/--layer/);
  });
});
