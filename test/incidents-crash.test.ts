// kill -9 during a steady stream of writes loses nothing that was acknowledged (issue 6). The server runs as
// a child process (`tile-server/main.ts`, its own port and database); writers file reports (with
// Idempotency-Keys) and move them along (register, comments); at a seeded random moment the server gets
// SIGKILL; it is restarted on the same database, and every incident and transition acknowledged with a 2xx
// must be there, in order. Reports whose answer was lost are retried with their key: each is then filed
// exactly once. On SQLite (a temp file) and on PostgreSQL (an empty database beside TEST_DATABASE_URL; the
// run FAILS without it unless ONEMAP_SKIP_POSTGIS=1).
import { signIn, TEST_PASSWORD } from './helpers/session.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import { createRng } from '../scripts/data/rng.ts';
import { pointOnGeometry } from '../tile-server/export-formats.ts';
import { createFreshDatabase } from './helpers/fresh-pg.ts';

const DATA = join(process.cwd(), 'geodata/build');
const WRITERS = 4;

it('PostgreSQL is part of the run (TEST_DATABASE_URL), or skipped on purpose (ONEMAP_SKIP_POSTGIS=1)', () => {
  if (!process.env.TEST_DATABASE_URL && process.env.ONEMAP_SKIP_POSTGIS !== '1') {
    throw new Error('TEST_DATABASE_URL is not set: start PostgreSQL (npx tsx scripts/pg-local.ts start; npm run db:load) and export TEST_DATABASE_URL, or set ONEMAP_SKIP_POSTGIS=1 to run SQLite only.');
  }
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** `cookie`: the duty operator's session (the child's demo users have TEST_PASSWORD). */
interface Child { proc: ChildProcess; url: string; log: string[]; exited: Promise<number | null>; cookie: string }

async function startChild(env: Record<string, string>): Promise<Child> {
  const port = await freePort();
  // node --import tsx, not npx: the pid we kill must be the server itself.
  const proc = spawn(process.execPath, ['--import', 'tsx', 'tile-server/main.ts'], {
    cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: DATA, ONEMAP_WARM: '0', ONEMAP_DEMO_PASSWORD: TEST_PASSWORD },
  });
  const log: string[] = [];
  proc.stdout!.on('data', (d) => log.push(String(d)));
  proc.stderr!.on('data', (d) => log.push(String(d)));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  let cookie = '';
  for (let i = 0; i < 600; i++) {
    if (proc.exitCode !== null) throw new Error(`server exited: ${log.join('').slice(-2000)}`);
    try {
      cookie ||= (await signIn(url, 'operator')).cookie;
      const r = await fetch(`${url}/api/incidents?limit=1`, { headers: { Cookie: cookie } });
      if (r.status === 200) {
        // Prime the spatial store (grid and nearest-address lookups each report needs), skipped by ONEMAP_WARM=0.
        const l = await fetch(`${url}/api/lookup?lon=120.752&lat=31.654`, { headers: { Cookie: cookie } });
        if (l.status !== 200) throw new Error(`lookup warm-up → ${l.status}: ${await l.text()}`);
        return { proc, url, log, exited, cookie };
      }
      if (r.status !== 503) throw new Error(`unexpected ${r.status}: ${await r.text()}`);
    } catch (err) {
      if ((err as Error).message.startsWith('unexpected')) throw err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill('SIGKILL');
  throw new Error(`server not ready in 60 s: ${log.join('').slice(-2000)}`);
}

function gridPoints(n: number, seed: string): [number, number][] {
  const b = readFileSync(join(DATA, 'grids.fgb'));
  const f = openFlatGeobuf(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  const all = [...f.features()];
  const rng = createRng(6).fork(seed);
  return Array.from({ length: n }, () => pointOnGeometry(all[Math.floor(rng.next() * all.length)].geometry)!);
}

interface Acked { id: string; key: string; body: string; transitions: { seq: number; action: string; reason: string | null }[] }

const STORES: { name: string; pg: boolean }[] = [{ name: 'sqlite', pg: false }];
if (process.env.TEST_DATABASE_URL) STORES.push({ name: 'postgres', pg: true });

for (const { name, pg } of STORES) {
  describe(`kill -9 during writes (${name})`, () => {
    const cleanup: (() => Promise<void> | void)[] = [];
    afterAll(async () => {
      for (const c of cleanup.reverse()) await c();
    });

    it('keeps every acknowledged incident and transition, and files each report once', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'onemap-crash-'));
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
      const env: Record<string, string> = { ONEMAP_DB_FILE: join(dir, 'incidents.sqlite'), ONEMAP_USERS_FILE: join(dir, 'users.sqlite'), WEB_DIR: join(dir, 'web') };
      if (pg) {
        const fresh = await createFreshDatabase(process.env.TEST_DATABASE_URL!, 'onemap_incidents_crash');
        cleanup.push(() => fresh.drop());
        env.DATABASE_URL = process.env.TEST_DATABASE_URL!;
        env.INCIDENT_DATABASE_URL = fresh.url;
      } else {
        env.DATABASE_URL = '';
      }
      const rng = createRng(66).fork(`crash-${name}`);
      const pts = gridPoints(64, name);
      let child = await startChild(env);
      cleanup.push(() => { child.proc.kill('SIGKILL'); });

      const acked = new Map<string, Acked>();
      const unanswered: { key: string; body: string }[] = [];
      let stop = false;
      let n = 0;
      const post = (path: string, body: string, headers: Record<string, string> = {}) =>
        fetch(`${child.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: child.cookie, ...headers }, body });
      const writer = async (w: number) => {
        while (!stop) {
          const i = n++;
          const [lon, lat] = pts[i % pts.length];
          const key = `crash-${name}-${w}-${i}`;
          const body = JSON.stringify({ lon, lat, category: '1101', title: `崩溃测试 ${i}`, description: `writer ${w}`, source: 'grid' });
          let r: Response;
          try {
            r = await post('/api/incidents', body, { 'Idempotency-Key': key });
          } catch {
            unanswered.push({ key, body });
            return; // the server is gone
          }
          if (r.status !== 201) throw new Error(`create → ${r.status} ${await r.text()}`);
          const inc = await r.json() as { id: string };
          const a: Acked = { id: inc.id, key, body, transitions: [{ seq: 1, action: 'report', reason: null }] };
          acked.set(inc.id, a);
          const steps = [{ action: 'register' }, { action: 'comment', reason: `备注 ${i}-a` }, { action: 'comment', reason: `备注 ${i}-b` }];
          for (const s of steps) {
            if (stop) return;
            let t: Response;
            try {
              t = await post(`/api/incidents/${inc.id}/transitions`, JSON.stringify(s));
            } catch {
              return;
            }
            if (t.status !== 200) throw new Error(`${s.action} → ${t.status} ${await t.text()}`);
            const next = await t.json() as { version: number };
            a.transitions.push({ seq: next.version, action: s.action, reason: s.reason ?? null });
          }
        }
      };
      const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
      // Let the stream get going, then kill at a random moment.
      for (let i = 0; i < 300 && acked.size < 5; i++) await new Promise((r) => setTimeout(r, 50));
      const delay = 1000 + Math.floor(rng.next() * 2500);
      await new Promise((r) => setTimeout(r, delay));
      child.proc.kill('SIGKILL');
      await child.exited;
      stop = true;
      await Promise.all(writers);
      console.log(`${name}: killed after ${delay} ms: ${acked.size} incidents acknowledged (${[...acked.values()].reduce((k, a) => k + a.transitions.length, 0)} transitions), ${unanswered.length} reports unanswered`);
      expect(acked.size, 'writes acknowledged before the kill').toBeGreaterThan(10);

      child = await startChild(env);
      for (const a of acked.values()) {
        const r = await fetch(`${child.url}/api/incidents/${a.id}`, { headers: { Cookie: child.cookie } });
        expect(r.status, `acknowledged incident ${a.id} after restart`).toBe(200);
        const full = await r.json() as { incident: { version: number }; transitions: { seq: number; action: string; reason: string | null }[] };
        // Everything acknowledged is there, in order; a write that was in flight at the kill may be there too.
        expect(full.incident.version).toBeGreaterThanOrEqual(a.transitions.length);
        expect(full.transitions.slice(0, a.transitions.length).map((t) => ({ seq: t.seq, action: t.action, reason: t.reason }))).toEqual(a.transitions);
        expect(full.transitions.map((t) => t.seq)).toEqual(full.transitions.map((_, i) => i + 1));
      }
      // A report whose answer was lost is retried with its key: filed once, whether or not it got in before the kill.
      for (const u of unanswered) {
        const r = await fetch(`${child.url}/api/incidents`, { method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: child.cookie, 'Idempotency-Key': u.key }, body: u.body });
        expect([200, 201]).toContain(r.status);
      }
      // An acknowledged one retried is the same incident (200), not a second one.
      const first = [...acked.values()][0];
      const again = await fetch(`${child.url}/api/incidents`, { method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: child.cookie, 'Idempotency-Key': first.key }, body: first.body });
      expect(again.status).toBe(200);
      expect((await again.json() as { id: string }).id).toBe(first.id);
      const list = await (await fetch(`${child.url}/api/incidents?category=1101&limit=1000`, { headers: { Cookie: child.cookie } })).json() as { total: number; items: { title: string }[] };
      const titles = list.items.map((i) => i.title);
      expect(new Set(titles).size, 'no report filed twice').toBe(titles.length);
      // Acknowledged ones plus the retried ones (each now filed), and nothing else.
      expect(list.total).toBe(acked.size + unanswered.length);

      child.proc.kill('SIGTERM');
      await child.exited;
    });
  });
}
