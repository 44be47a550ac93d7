// A private mosquitto for tests and benchmarks, config and persistence in `.mqdata/` of the repo.
//   npx tsx scripts/mosquitto-local.ts start   — start it (idempotent); prints the URL, mqtt://127.0.0.1:18830
//   npx tsx scripts/mosquitto-local.ts stop    — stop it (SIGTERM: mosquitto writes its persistence file first)
//   npx tsx scripts/mosquitto-local.ts url     — print the URL (does not start anything)
//   npx tsx scripts/mosquitto-local.ts status  — "running" / "stopped", exit code 0 / 3
// Listens on 127.0.0.1 only (port MOSQUITTO_PORT_LOCAL, default 18830, so it never clashes with a system broker
// on 1883 or the product's embedded one), anonymous access, persistence on: QoS 1 sessions and their queued
// messages survive a stop/start, which the broker-restart tests rely on. mosquitto drops root for the
// `mosquitto` user unless told `user root`; we say so when we are root, so `.mqdata/` stays writable.
// The functions take a port and a directory so a test can run a throwaway instance it may restart freely.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const MQDATA = join(ROOT, '.mqdata');
export const MOSQUITTO_PORT = Number(process.env.MOSQUITTO_PORT_LOCAL ?? 18830);
export const LOCAL_MQTT_URL = `mqtt://127.0.0.1:${MOSQUITTO_PORT}`;

const INSTALL_HINT = 'Install it (Debian/Ubuntu: `apt-get install mosquitto`) or set MOSQUITTO_BIN to the mosquitto executable.';
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

export interface MosquittoOptions {
  port?: number;
  /** Holds mosquitto.conf, mosquitto.db, mosquitto.pid and mosquitto.log. */
  dir?: string;
}

function resolved(o: MosquittoOptions): { port: number; dir: string } {
  return { port: o.port ?? MOSQUITTO_PORT, dir: o.dir ?? MQDATA };
}

function mosquittoBin(): string {
  if (process.env.MOSQUITTO_BIN) return process.env.MOSQUITTO_BIN;
  if (existsSync('/usr/sbin/mosquitto')) return '/usr/sbin/mosquitto';
  const which = spawnSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  throw new Error(`mosquitto not found. ${INSTALL_HINT}`);
}

function pidOf(dir: string): number | null {
  const f = join(dir, 'mosquitto.pid');
  if (!existsSync(f)) return null;
  const pid = Number(readFileSync(f, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function mosquittoUrl(o: MosquittoOptions = {}): string {
  return `mqtt://127.0.0.1:${resolved(o).port}`;
}

export async function mosquittoRunning(o: MosquittoOptions = {}): Promise<boolean> {
  const { port, dir } = resolved(o);
  return pidOf(dir) !== null && (await portOpen(port));
}

function writeConfig(port: number, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, [
    '# written by scripts/mosquitto-local.ts; edits are overwritten on start',
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence true',
    `persistence_location ${dir}/`,
    'persistence_file mosquitto.db',
    // Saved on SIGTERM anyway; the interval bounds what a kill -9 loses.
    'autosave_interval 5',
    `pid_file ${join(dir, 'mosquitto.pid')}`,
    `log_dest file ${join(dir, 'mosquitto.log')}`,
    'log_type error',
    'log_type warning',
    'log_type notice',
    // The default 1000 would drop readings of a 20,000-device run queued for a reconnecting ingest.
    'max_queued_messages 1000000',
    'max_inflight_messages 100',
    ...(isRoot ? ['user root'] : []),
    '',
  ].join('\n'));
  return conf;
}

/** Starts the broker unless it runs already; resolves to its URL once it accepts connections. */
export async function startMosquitto(o: MosquittoOptions = {}): Promise<string> {
  const { port, dir } = resolved(o);
  const url = mosquittoUrl({ port });
  if (pidOf(dir) !== null) {
    for (let i = 0; i < 50 && !(await portOpen(port)); i++) await sleep(100);
    if (await portOpen(port)) return url;
    throw new Error(`mosquitto (pid in ${dir}/mosquitto.pid) runs but does not accept on 127.0.0.1:${port}; see ${dir}/mosquitto.log`);
  }
  if (await portOpen(port)) {
    throw new Error(`port ${port} is taken by another process; stop it or set MOSQUITTO_PORT_LOCAL to a free port`);
  }
  const conf = writeConfig(port, dir);
  rmSync(join(dir, 'mosquitto.pid'), { force: true });
  const r = spawnSync(mosquittoBin(), ['-c', conf, '-d'], { encoding: 'utf8' });
  if (r.error) throw new Error(`could not run mosquitto: ${r.error.message}. ${INSTALL_HINT}`);
  if (r.status !== 0) throw new Error(`mosquitto -c ${conf} -d failed (exit ${r.status}): ${r.stderr}${r.stdout}; see ${dir}/mosquitto.log`);
  for (let i = 0; i < 100; i++) {
    if (await portOpen(port)) return url;
    await sleep(50);
  }
  const tail = existsSync(join(dir, 'mosquitto.log')) ? readFileSync(join(dir, 'mosquitto.log'), 'utf8').split('\n').slice(-10).join('\n') : '';
  throw new Error(`mosquitto did not start listening on 127.0.0.1:${port} within 5 s. Log:\n${tail}`);
}

/** SIGTERM and wait until it is gone (it writes mosquitto.db on the way out). */
export async function stopMosquitto(o: MosquittoOptions = {}): Promise<void> {
  const { dir } = resolved(o);
  const pid = pidOf(dir);
  if (pid === null) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 200; i++) {
    if (pidOf(dir) === null) return;
    await sleep(25);
  }
  throw new Error(`mosquitto (pid ${pid}) did not stop within 5 s; kill it by hand: kill ${pid}`);
}

async function main(cmd: string | undefined): Promise<number> {
  switch (cmd) {
    case 'start':
      console.log(await startMosquitto());
      return 0;
    case 'stop':
      await stopMosquitto();
      return 0;
    case 'url':
      console.log(LOCAL_MQTT_URL);
      return 0;
    case 'status': {
      const up = await mosquittoRunning();
      console.log(up ? 'running' : 'stopped');
      return up ? 0 : 3;
    }
    default:
      console.error('usage: npx tsx scripts/mosquitto-local.ts start|stop|url|status');
      return 2;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv[2]).then(
    (code) => process.exit(code),
    (e) => {
      console.error((e as Error).message);
      process.exit(1);
    },
  );
}
