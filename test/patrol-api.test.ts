// Patrol check-ins over HTTP (tile-server/patrol.ts behind the sign-in gate): a grid manager checks in, a resend
// of the same check-in (same `at`) is stored once, today's track adds up the distance, a grid manager reads only
// their own track while the duty desk may read anyone's, and other roles cannot check in. Then the store on
// PostgreSQL behaves like the SQLite one (an empty database beside TEST_DATABASE_URL).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import { openPgPatrolStore, openSqlitePatrolStore, type PatrolStore } from '../tile-server/patrol.ts';
import { DATA_DIR, startTestServer, type TestServer } from './helpers/browser.ts';
import { createFreshDatabase } from './helpers/fresh-pg.ts';
import { asUser } from './helpers/session.ts';

const GRIDS = (() => { const f = openFlatGeobuf(readFileSync(join(DATA_DIR, 'grids.fgb'))); return [String(f.feature(0).properties!.code), String(f.feature(1).properties!.code)]; })();

describe('patrol API', () => {
  let srv: TestServer;
  beforeAll(async () => { srv = await startTestServer({ webDir: join(DATA_DIR, 'no-web'), requireData: ['grids.fgb'] }); });
  afterAll(async () => { await srv?.close(); });

  const post = (h: Record<string, string>, body: unknown) => fetch(`${srv.url}/api/patrols/checkin`, { method: 'POST', headers: { ...h, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const track = (h: Record<string, string>, q = '') => fetch(`${srv.url}/api/patrols/track${q}`, { headers: h });

  it('stores a check-in once, sums the track and keeps tracks private', async () => {
    const me = await asUser(srv.url, `grid-${GRIDS[0]}`);
    const at = Date.now() - 120_000;
    const first = await post(me, { lon: 120.75, lat: 31.65, at, accuracy: 9 });
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({ created: true, user: `grid-${GRIDS[0]}` });
    const again = await post(me, { lon: 120.75, lat: 31.65, at, accuracy: 9 });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ created: false });
    expect((await post(me, { lon: 120.75, lat: 31.651, at: at + 60_000 })).status).toBe(201);
    const bad = await post(me, { lon: 116.4, lat: 39.9, at });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('outside_city');

    const t = (await (await track(me)).json()) as { user: string; points: { at: number }[]; distanceM: number };
    expect(t.user).toBe(`grid-${GRIDS[0]}`);
    expect(t.points.map((p) => p.at)).toEqual([at, at + 60_000]);
    expect(t.distanceM).toBeGreaterThan(105); // 0.001° of latitude ≈ 111 m
    expect(t.distanceM).toBeLessThan(117);

    const neighbour = await asUser(srv.url, `grid-${GRIDS[1]}`);
    expect((await track(neighbour, `?user=grid-${GRIDS[0]}`)).status).toBe(403);
    expect(((await (await track(neighbour)).json()) as { points: unknown[] }).points).toEqual([]);
    const op = await asUser(srv.url, 'operator');
    expect(((await (await track(op, `?user=grid-${GRIDS[0]}`)).json()) as { points: unknown[] }).points).toHaveLength(2);
    expect((await post(op, { lon: 120.75, lat: 31.65, at })).status).toBe(403);
    expect((await post({}, { lon: 120.75, lat: 31.65, at })).status).toBe(401);
    expect((await track(me, '?date=2026-13-01')).status).toBe(400);
  });
});

const STORES: { name: string; open(): Promise<{ store: PatrolStore; drop?: () => Promise<void> }> }[] = [
  { name: 'sqlite', open: async () => ({ store: await openSqlitePatrolStore(':memory:') }) },
];
if (process.env.TEST_DATABASE_URL) {
  STORES.push({
    name: 'postgres',
    open: async () => {
      const db = await createFreshDatabase(process.env.TEST_DATABASE_URL!, 'onemap_patrol');
      return { store: await openPgPatrolStore(db.url), drop: db.drop };
    },
  });
}

for (const { name, open } of STORES) {
  describe(`patrol store (${name})`, () => {
    it('keeps one check-in per user and millisecond, in time order', async () => {
      const { store, drop } = await open();
      try {
        const c = { userId: 'grid-1', lon: 120.75, lat: 31.65, at: 1_000_000, accuracy: 5, receivedAt: 1_000_100 };
        expect(await store.add({ ...c, at: c.at + 10 })).toBe(true);
        expect(await store.add(c)).toBe(true);
        expect(await store.add({ ...c, lat: 31.7 })).toBe(false);
        expect(await store.add({ ...c, userId: 'grid-2' })).toBe(true);
        const t = await store.track('grid-1', 0, 2_000_000, 10);
        expect(t).toEqual([{ ...c }, { ...c, at: c.at + 10 }]);
        expect(await store.track('grid-1', 0, 2_000_000, 1)).toHaveLength(1);
      } finally {
        await store.close();
        await drop?.();
      }
    });
  });
}
