// `npm run bench`: installs the peers (nginx, wrk, gdal-bin) when missing, builds the demo city when
// missing, runs every bench/*.bench.ts one after another (they would disturb each other in parallel on
// 2 cores), and writes their result lines as a table into bench/results.md and the README.
// A bench reports by printing `BENCH\t<what>\t<ours>\t<peer>\t<peer figure>\t<ratio>\t<note>`.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';

const ROOT = join(import.meta.dirname, '..');
const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));

const sys = spawnSync('bash', [join(ROOT, 'scripts/system-packages.sh'), 'bench'], { stdio: 'inherit' });
if (sys.status !== 0) process.exit(sys.status ?? 1);
const built = spawnSync('npx', ['tsx', join(ROOT, 'scripts/ensure-built.ts')], { stdio: 'inherit', cwd: ROOT });
if (built.status !== 0) process.exit(built.status ?? 1);

const files = readdirSync(join(ROOT, 'bench'))
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

interface Row { file: string; cells: string[] }
const rows: Row[] = [];
let failed = 0;

for (const file of files) {
  console.log(`\n=== ${file}`);
  const code = await new Promise<number>((res) => {
    const child = spawn('npx', ['tsx', join('bench', file)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      process.stdout.write(d);
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('BENCH\t')) rows.push({ file, cells: line.split('\t').slice(1) });
      }
    });
    child.on('close', (c) => res(c ?? 1));
  });
  if (code !== 0) { failed++; console.error(`${file} failed with exit code ${code}`); }
}

// Each bench's latest lines are kept in bench/results/<bench>.tsv, so running one bench
// (`npm run bench -- address`) refreshes its rows and keeps the others' last figures.
const resultsDir = join(ROOT, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
for (const file of files) {
  const mine = rows.filter((r) => r.file === file);
  if (mine.length) writeFileSync(join(resultsDir, file.replace(/\.bench\.ts$/, '.tsv')), mine.map((r) => r.cells.join('\t')).join('\n') + '\n');
}
const all: Row[] = readdirSync(resultsDir).filter((f) => f.endsWith('.tsv')).sort().flatMap((f) =>
  readFileSync(join(resultsDir, f), 'utf8').split('\n').filter(Boolean).map((line) => ({ file: f, cells: line.split('\t') })));

const esc = (s: string) => (s ?? '').replace(/\|/g, '\\|');
const table = [
  `Last run ${new Date().toISOString().slice(0, 10)} on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}; each row from its bench's latest run.`,
  '',
  '| benchmark | ours | peer | peer figure | ratio | note |',
  '|---|---|---|---|---|---|',
  ...all.map((r) => `| ${r.cells.slice(0, 6).map(esc).join(' | ')} |`),
].join('\n');
writeFileSync(join(ROOT, 'bench', 'results.md'), table + '\n');
console.log('\n' + table);

const readmePath = join(ROOT, 'README.md');
const readme = readFileSync(readmePath, 'utf8');
const start = '<!-- bench:start -->', end = '<!-- bench:end -->';
const a = readme.indexOf(start), b = readme.indexOf(end);
if (a >= 0 && b > a) {
  writeFileSync(readmePath, readme.slice(0, a + start.length) + '\n' + table + '\n' + readme.slice(b));
  console.log('README benchmark table updated.');
}
process.exit(failed ? 1 : 0);
