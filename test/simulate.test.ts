// The simulator end to end: `scripts/simulate.ts` against an embedded aedes broker started here; readings of
// sensors, cameras and patrols arrive and parse, a scripted flood lifts the water levels near 尚湖 past their
// warning level, and the simulator reconnects when the broker goes away.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import { metresBetween } from '../scripts/sim/events.ts';
import { WARNING_LEVEL } from '../scripts/sim/patterns.ts';
import type { Reading } from '../layers/telemetry/model.ts';
import { parsePayload, parseTopic } from '../tile-server/telemetry/payload.ts';

const ROOT = join(import.meta.dirname, '..');
const DATA = join(ROOT, 'geodata', 'build');

interface Harness { port: number; readings: Reading[]; malformed: string[]; restart(): Promise<void>; close(): Promise<void> }

async function startBroker(): Promise<Harness> {
  const readings: Reading[] = [], malformed: string[] = [];
  const broker = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  let server: Server;
  let port = 0;
  const listen = async (): Promise<void> => {
    server = createServer((s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); broker.handle(s); });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    port = (server.address() as { port: number }).port;
  };
  await listen();
  broker.subscribe('onemap/telemetry/#', (p: { topic: string; payload: Buffer | string }, cb: () => void) => {
    const t = parseTopic(p.topic);
    const r = t ? parsePayload(t.kind, t.deviceId, Buffer.from(p.payload), Date.now()) : { error: `bad topic ${p.topic}` };
    if ('error' in r) malformed.push(r.error); else readings.push(r);
    cb();
  }, () => {});
  return {
    get port() { return port; }, readings, malformed,
    // the broker "goes away": listener closed and every connection dropped, then back on the same port
    async restart() {
      await new Promise<void>((r) => { server.close(() => r()); for (const s of sockets) s.destroy(); });
      await new Promise((r) => setTimeout(r, 1500));
      await listen();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => broker.close(() => r()));
    },
  };
}

/** Runs the simulator CLI to completion; returns its stdout. */
function simulate(args: string[], during?: (out: () => string) => void): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'simulate.ts'), '--data', DATA, ...args], { cwd: ROOT });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out }));
    during?.(() => out);
  });
}

describe('simulator → embedded broker', () => {
  let h: Harness;
  beforeAll(async () => { h = await startBroker(); });
  afterAll(async () => { await h?.close(); });

  it('publishes sensors, cameras and patrols; a flood at 尚湖 lifts nearby water levels past the warning level', async () => {
    const run = await simulate(['--url', `mqtt://127.0.0.1:${h.port}`, '--interval', '5', '--patrol-interval', '2', '--duration', '30', '--seed', '3',
      '--event', 'flood@尚湖:1', '--stats', '5']);
    expect(run.code, run.out).toBe(0);
    expect(run.out).toMatch(/事件 flood.*尚湖 \[places\].*water_level 16/);
    expect(run.out).toMatch(/条\/s/);
    expect(h.malformed).toEqual([]);
    const byKind = new Map<string, Reading[]>();
    for (const r of h.readings) { const l = byKind.get(r.kind) ?? []; l.push(r); byKind.set(r.kind, l); }
    for (const k of ['water_level', 'gas', 'smoke', 'power', 'noise', 'camera', 'patrol']) expect(byKind.get(k)?.length ?? 0, k).toBeGreaterThan(10);
    // every device reports with increasing ts
    const lastTs = new Map<string, number>();
    for (const r of h.readings) { expect(r.ts).toBeGreaterThan(lastTs.get(r.deviceId) ?? 0); lastTs.set(r.deviceId, r.ts); }
    const sensors = openFlatGeobuf(new Uint8Array(readFileSync(join(DATA, 'sensors.fgb'))));
    const cams = openFlatGeobuf(new Uint8Array(readFileSync(join(DATA, 'cameras.fgb'))));
    const sensorIds = new Set(sensors.column('id').map(String)), camIds = new Set(cams.column('id').map(String));
    expect(byKind.get('water_level')!.every((r) => sensorIds.has(r.deviceId))).toBe(true);
    expect(byKind.get('camera')!.every((r) => camIds.has(r.deviceId) && (r.value === 0 || r.value === 1))).toBe(true);
    const [minLon, minLat, maxLon, maxLat] = sensors.bbox;
    for (const p of byKind.get('patrol')!) {
      expect(p.lon! > minLon - 0.05 && p.lon! < maxLon + 0.05 && p.lat! > minLat - 0.05 && p.lat! < maxLat + 0.05).toBe(true);
      expect(p.value).toBeGreaterThanOrEqual(0);
    }
    expect(new Set(byKind.get('patrol')!.map((p) => `${p.lon},${p.lat}`)).size).toBeGreaterThan(50); // they move

    // the flood: water-level sensors within 1.5 km of 尚湖 are above 3.7 m once the rise (20 s) is done
    const lake = { lon: 120.684, lat: 31.649 };
    const xy = sensors.pointXY()!, ids = sensors.column('id'), kinds = sensors.column('kind');
    const near = new Set<string>(), far = new Set<string>();
    for (let i = 0; i < sensors.count; i++) {
      if (kinds[i] !== 'water_level') continue;
      const d = metresBetween(lake.lon, lake.lat, xy[2 * i], xy[2 * i + 1]);
      if (d <= 1500) near.add(String(ids[i])); else if (d > 5000) far.add(String(ids[i]));
    }
    const t0 = h.readings.reduce((m, r) => Math.min(m, r.ts), Infinity);
    const warn = WARNING_LEVEL.water_level.above!;
    const late = byKind.get('water_level')!.filter((r) => r.ts >= t0 + 23_000);
    const lateNear = late.filter((r) => near.has(r.deviceId));
    expect(new Set(lateNear.map((r) => r.deviceId)).size).toBeGreaterThanOrEqual(8);
    expect(lateNear.every((r) => r.value > warn), JSON.stringify(lateNear.map((r) => r.value))).toBe(true);
    const early = byKind.get('water_level')!.filter((r) => r.ts < t0 + 1000 && near.has(r.deviceId));
    expect(early.every((r) => r.value < warn)).toBe(true);
    const lateFar = late.filter((r) => far.has(r.deviceId));
    expect(lateFar.filter((r) => r.value > warn).length).toBeLessThan(lateFar.length * 0.1);
  });

  it('binary payloads at QoS 1, and reconnects when the broker goes away', async () => {
    h.readings.length = 0;
    let restarted = false, countAtRestart = 0;
    const run = await simulate(['--url', `mqtt://127.0.0.1:${h.port}`, '--rate', '2000', '--duration', '12', '--binary', '--qos', '1', '--stats', '2'], (out) => {
      const poll = setInterval(() => {
        if (!restarted && /\[\d+s\] [1-9]/.test(out()) && h.readings.length > 2000) {
          restarted = true;
          clearInterval(poll);
          void h.restart().then(() => { countAtRestart = h.readings.length; });
        }
      }, 200);
    });
    expect(run.code, run.out).toBe(0);
    expect(restarted).toBe(true);
    expect(h.malformed).toEqual([]);
    expect(h.readings.length - countAtRestart, run.out).toBeGreaterThan(1000); // readings flow again after the restart
    expect(run.out).toMatch(/重连 [1-9]/);
    expect(h.readings.some((r) => r.kind === 'patrol' && r.lon !== undefined)).toBe(true);
  });
});
