// GDAL's OAPIF driver (the reference OGC API – Features client behind QGIS and ogr2ogr) reads our /ogc.
// Needs `ogrinfo`; the lead's test script installs gdal-bin. Missing GDAL is a failure, not a skip.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../tile-server/server.ts';
import { buildFixture, type Fixture } from './helpers/fixture-data.ts';
import { signIn, TEST_AUTH } from './helpers/session.ts';

/** The session cookie GDAL sends (GDAL_HTTP_COOKIE): /ogc needs a signed-in user. */
let cookie = '';

const run = promisify(execFile);

async function ogrinfo(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('ogrinfo', args, { timeout: 60_000, env: { ...process.env, GDAL_HTTP_TIMEOUT: '30', GDAL_HTTP_COOKIE: cookie } });
    return stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new Error('ogrinfo 未安装：请运行 apt-get install gdal-bin。ogrinfo not found: install GDAL with `apt-get install gdal-bin` (scripts/test.sh does this).');
    }
    throw new Error(`ogrinfo ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}`);
  }
}

let fx: Fixture;
let srv: RunningServer;

beforeAll(async () => {
  fx = await buildFixture();
  srv = await startServer({ dataDir: fx.dir, port: 0, ...TEST_AUTH });
  cookie = (await signIn(srv.url, 'admin')).cookie;
});

afterAll(async () => {
  await srv?.close();
  await fx?.cleanup();
});

describe('GDAL OAPIF driver', () => {
  it('lists the collections', async () => {
    const out = await ogrinfo('-ro', `OAPIF:${srv.url}/ogc`);
    const names = [...out.matchAll(/^\d+: (\w+)/gm)].map((m) => m[1]);
    expect(names.sort()).toEqual(['facilities', 'roads', 'towns']);
    expect(out).toContain('镇（街道）');
  });

  it('reads the towns layer: feature count, fields and extent', async () => {
    const out = await ogrinfo('-ro', '-al', '-so', `OAPIF:${srv.url}/ogc`, 'towns');
    expect(out).toMatch(/Feature Count: 6\b/);
    expect(out).toMatch(/^name: String/m);
    expect(out).toMatch(/Extent: \(120\.70\d+, 31\.60\d+\) - \(120\.81\d+, 31\.69\d+\)/);
  });

  it('pages through every facility and applies a spatial filter', async () => {
    const all = await ogrinfo('-ro', '-al', '-q', `OAPIF:${srv.url}/ogc`, 'facilities');
    const ids = [...all.matchAll(/^\s+id \(String\) = (\S+)/gm)].map((m) => m[1]);
    expect(ids).toHaveLength(fx.facilities.length);
    expect(new Set(ids).size).toBe(fx.facilities.length);
    const [w, s, e, n] = [120.74, 31.62, 120.77, 31.65];
    const some = await ogrinfo('-ro', '-al', '-q', '-spat', String(w), String(s), String(e), String(n), `OAPIF:${srv.url}/ogc`, 'facilities');
    const got = [...some.matchAll(/^\s+id \(String\) = (\S+)/gm)].map((m) => m[1]).sort();
    const expected = fx.facilities.filter((f) => {
      const [x, y] = (f.geometry as GeoJSON.Point).coordinates;
      return x >= w && x <= e && y >= s && y <= n;
    }).map((f) => f.properties!.id as string).sort();
    expect(got).toEqual(expected);
  });
});
