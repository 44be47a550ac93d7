// The 3D view's elevation grid is served by name only, from the built demo city.
import { TEST_AUTH } from './helpers/session.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../tile-server/server.ts';

const dataDir = process.env.DATA_DIR ?? join(import.meta.dirname, '..', 'geodata', 'build');
let server: RunningServer;

beforeAll(async () => {
  if (!existsSync(join(dataDir, 'terrain', 'dem.json'))) {
    throw new Error(`No terrain in ${dataDir}: run npm run data (npm test builds it first).`);
  }
  server = await startServer({ dataDir, port: 0, ...TEST_AUTH });
});
afterAll(() => server?.close());

describe('/terrain', () => {
  it('serves the DEM header and a grid of width × height float32 heights with 虞山 in it', async () => {
    const meta = await (await fetch(`${server.url}/terrain/dem.json`)).json();
    expect(meta.version).toBe(1);
    const res = await fetch(`${server.url}/terrain/dem.f32`);
    expect(res.status).toBe(200);
    const heights = new Float32Array(await res.arrayBuffer());
    expect(heights.length).toBe(meta.width * meta.height);
    let max = -Infinity;
    for (const h of heights) max = Math.max(max, h);
    expect(max).toBeGreaterThan(150);
  });

  it('serves ranges of the grid', async () => {
    const res = await fetch(`${server.url}/terrain/dem.f32`, { headers: { range: 'bytes=0-7' } });
    expect(res.status).toBe(206);
    expect((await res.arrayBuffer()).byteLength).toBe(8);
  });

  it('refuses other names and path tricks with JSON errors', async () => {
    for (const [path, status] of [['/terrain/other.bin', 404], ['/terrain/..%2fmanifest.json', 400]] as const) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status, path).toBe(status);
      expect((await res.json()).error.code).toBeTypeOf('string');
    }
  });
});
