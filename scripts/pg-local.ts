// A private PostgreSQL + PostGIS cluster for development, tests and benchmarks, in `.pgdata/` of the repo.
//   npx tsx scripts/pg-local.ts start   — create (first time) and start it; prints DATABASE_URL on stdout
//   npx tsx scripts/pg-local.ts stop    — stop it (fast shutdown)
//   npx tsx scripts/pg-local.ts url     — print DATABASE_URL (does not start anything)
//   npx tsx scripts/pg-local.ts status  — "running" / "stopped", exit code 0 / 3
// Idempotent: start on a running cluster only checks the database and the extension. Listens on 127.0.0.1
// only (port PGPORT_LOCAL, default 54329) with trust auth, the unix socket inside the data dir, so it never
// clashes with a system PostgreSQL. PostgreSQL refuses to run as root, so when we are root the cluster
// belongs to the `postgres` OS user (created by the Debian package) and every server command runs as it.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync, chownSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const PGDATA = join(ROOT, '.pgdata');
const DATA = join(PGDATA, 'data');
const SOCK = join(PGDATA, 'sock');
const LOG = join(PGDATA, 'server.log');
export const PG_PORT = Number(process.env.PGPORT_LOCAL ?? 54329);
export const PG_DB = 'onemap';
export const LOCAL_DATABASE_URL = `postgres://postgres@127.0.0.1:${PG_PORT}/${PG_DB}`;

const INSTALL_HINT =
  'Install PostgreSQL 15 and PostGIS 3 (Debian/Ubuntu: `apt-get install postgresql-15 postgresql-15-postgis-3`), ' +
  'or set PG_BIN to the directory holding initdb/pg_ctl/postgres.';

/** Directory of initdb/pg_ctl: PG_BIN, else the newest /usr/lib/postgresql/<v>/bin, else PATH. */
function pgBin(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
    if (versions.length) return join(base, versions[0], 'bin');
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return dirname(which.stdout.trim());
  throw new Error(`PostgreSQL server binaries (initdb, pg_ctl) not found. ${INSTALL_HINT}`);
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a server binary, as the `postgres` OS user when we are root. */
function run(bin: string, args: string[], opts: { allowFail?: boolean } = {}): { status: number; out: string } {
  const exe = join(pgBin(), bin);
  if (!existsSync(exe)) throw new Error(`${exe} is missing. ${INSTALL_HINT}`);
  const [cmd, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
  const r = spawnSync(cmd, argv as string[], { encoding: 'utf8', cwd: PGDATA });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.error) throw new Error(`could not run ${exe}: ${r.error.message}. ${INSTALL_HINT}`);
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${bin} ${args.join(' ')} failed (exit ${r.status}):\n${out}\nSee ${LOG}.`);
  return { status: r.status ?? 1, out };
}

function ownToPostgres(path: string): void {
  if (!isRoot) return;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  chownSync(path, uid, gid);
}

function running(): boolean {
  if (!existsSync(join(DATA, 'PG_VERSION'))) return false;
  return run('pg_ctl', ['-D', DATA, 'status'], { allowFail: true }).status === 0;
}

function initCluster(): void {
  if (isRoot && spawnSync('id', ['-u', 'postgres']).status !== 0) {
    throw new Error('running as root, but there is no `postgres` OS user to own the cluster (PostgreSQL refuses root). ' + INSTALL_HINT);
  }
  mkdirSync(DATA, { recursive: true });
  mkdirSync(SOCK, { recursive: true });
  for (const p of [PGDATA, DATA, SOCK]) ownToPostgres(p);
  // C locale: ORDER BY is byte order, which is how both stores order ids (see tile-server/storage/README.md).
  run('initdb', ['-D', DATA, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync']);
  const conf = [
    "listen_addresses = '127.0.0.1'",
    `port = ${PG_PORT}`,
    `unix_socket_directories = '${SOCK}'`,
    "timezone = 'UTC'",
    'fsync = off', // a throw-away dev/test cluster: the loader can always rebuild it
    'synchronous_commit = off',
    'full_page_writes = off',
    'shared_buffers = 256MB',
    'work_mem = 32MB',
    'maintenance_work_mem = 256MB',
    'max_wal_size = 2GB',
    'jit = off', // JIT compile time dominates the short queries we run
  ].join('\n');
  writeFileSync(join(DATA, 'postgresql.auto.conf'), conf + '\n');
  writeFileSync(join(DATA, 'pg_hba.conf'), [
    'local all all trust',
    'host all all 127.0.0.1/32 trust',
  ].join('\n') + '\n');
  for (const f of ['postgresql.auto.conf', 'pg_hba.conf']) ownToPostgres(join(DATA, f));
}

function psql(db: string, sql: string, allowFail = false): { status: number; out: string } {
  return run('psql', ['-h', SOCK, '-p', String(PG_PORT), '-U', 'postgres', '-d', db, '-v', 'ON_ERROR_STOP=1', '-tAc', sql], { allowFail });
}

export function start(log: (m: string) => void = (m) => process.stderr.write(m + '\n')): string {
  if (!existsSync(join(DATA, 'PG_VERSION'))) {
    log(`pg-local: creating a cluster in ${DATA}`);
    initCluster();
  }
  if (!running()) {
    log(`pg-local: starting PostgreSQL on 127.0.0.1:${PG_PORT}`);
    ownToPostgres(PGDATA);
    const r = run('pg_ctl', ['-D', DATA, '-l', LOG, '-w', '-t', '60', 'start'], { allowFail: true });
    if (r.status !== 0) {
      throw new Error(`PostgreSQL did not start:\n${r.out}\nSee ${LOG}; is port ${PG_PORT} taken? Set PGPORT_LOCAL to another port.`);
    }
  }
  if (psql('postgres', `SELECT 1 FROM pg_database WHERE datname = '${PG_DB}'`).out.trim() !== '1') {
    psql('postgres', `CREATE DATABASE ${PG_DB}`);
  }
  const ext = psql(PG_DB, 'CREATE EXTENSION IF NOT EXISTS postgis', true);
  if (ext.status !== 0) {
    throw new Error(`CREATE EXTENSION postgis failed:\n${ext.out}\nInstall PostGIS for this PostgreSQL version (Debian: \`apt-get install postgresql-15-postgis-3\`).`);
  }
  return LOCAL_DATABASE_URL;
}

export function stop(log: (m: string) => void = (m) => process.stderr.write(m + '\n')): void {
  if (!running()) { log('pg-local: not running'); return; }
  run('pg_ctl', ['-D', DATA, '-m', 'fast', '-w', 'stop']);
  log('pg-local: stopped');
}

function main(): void {
  const cmd = process.argv[2];
  try {
    switch (cmd) {
      case 'start': console.log(start()); break;
      case 'stop': stop(); break;
      case 'url': console.log(LOCAL_DATABASE_URL); break;
      case 'status': {
        const up = existsSync(PGDATA) && statSync(PGDATA).isDirectory() && running();
        console.log(up ? 'running' : 'stopped');
        process.exitCode = up ? 0 : 3;
        break;
      }
      default:
        console.error('usage: npx tsx scripts/pg-local.ts start|stop|url|status');
        process.exitCode = 2;
    }
  } catch (e) {
    console.error(`pg-local: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
