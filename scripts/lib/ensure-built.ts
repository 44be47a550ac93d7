// Builds whatever is missing or stale before the server starts or the integration tests run:
// the demo city (FlatGeobuf + terrain), its tiles (PMTiles) and the web bundle. A stage is stale
// when the hash of the code and sources that produce it differs from the stamp written beside its
// output, so a `git pull` that changes the generator rebuilds the data and nothing else.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface Stage {
  name: string;
  /** Chinese title shown in progress. */
  title: string;
  /** Files or folders (relative to the repo root) whose content defines the output. */
  inputs: string[];
  /** Files that must exist for the output to be complete. */
  outputs: string[];
  stamp: string;
  /** The output is the user's own (e.g. a real city's data): never rebuild over it. Returns why. */
  ownedByUser?(): string | null;
  run(log: (msg: string) => void): Promise<void>;
}

function listFiles(path: string, out: string[]): void {
  if (!existsSync(path)) return;
  const st = statSync(path);
  if (st.isFile()) { out.push(path); return; }
  for (const name of readdirSync(path).sort()) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    if (name.endsWith('.spec.ts')) continue; // tests do not change what is built
    listFiles(join(path, name), out);
  }
}

export function hashInputs(inputs: string[], extra = ''): string {
  const h = createHash('sha256');
  h.update(extra);
  const files: string[] = [];
  for (const p of inputs) listFiles(join(ROOT, p), files);
  for (const f of files) {
    h.update(relative(ROOT, f));
    h.update('\0');
    h.update(readFileSync(f));
  }
  return h.digest('hex').slice(0, 16);
}

export function isFresh(stage: Stage, hash: string): boolean {
  if (!stage.outputs.every((o) => existsSync(o))) return false;
  if (!existsSync(stage.stamp)) return false;
  return readFileSync(stage.stamp, 'utf8').trim() === hash;
}

export async function ensureStages(stages: Stage[], opts: { force?: boolean; log?: (msg: string) => void } = {}): Promise<void> {
  const log = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
  let i = 0;
  for (const stage of stages) {
    i++;
    const hash = hashInputs(stage.inputs, stage.name);
    const prefix = `[${i}/${stages.length}] ${stage.title}`;
    const own = stage.ownedByUser?.();
    if (own) {
      log(`${prefix}：${own}`);
      continue;
    }
    if (!opts.force && isFresh(stage, hash)) {
      log(`${prefix}：已是最新，跳过 (up to date)`);
      continue;
    }
    log(`${prefix}：开始构建 (building)…`);
    const t0 = Date.now();
    await stage.run((m) => log(`  ${m}`));
    mkdirSync(join(stage.stamp, '..'), { recursive: true });
    writeFileSync(stage.stamp, hash + '\n');
    log(`${prefix}：完成，用时 ${((Date.now() - t0) / 1000).toFixed(1)} 秒`);
  }
}

export interface BuildDirs { dataDir: string; webDir: string; seed?: number }

export function productStages({ dataDir, webDir, seed = 20261129 }: BuildDirs): Stage[] {
  const dataInputs = ['scripts/build-data.ts', 'scripts/data', 'geodata/source', 'layers/catalog.ts', 'layers/crs.ts', 'layers/formats'];
  return [
    {
      name: `data:${seed}`,
      title: '生成演示城市数据 (demo city data)',
      inputs: dataInputs,
      outputs: [join(dataDir, 'manifest.json')],
      stamp: join(dataDir, '.stamp-data'),
      // A folder with layer files but no stamp of ours holds a city's own data: build tiles from it,
      // never overwrite it with the demo city.
      ownedByUser() {
        if (existsSync(join(dataDir, '.stamp-data')) || !existsSync(dataDir)) return null;
        const own = readdirSync(dataDir).filter((f) => f.endsWith('.fgb'));
        return own.length ? `使用 ${dataDir} 中已有的 ${own.length} 个图层文件，不生成演示数据 (using your own data)` : null;
      },
      async run(log) {
        const { buildData } = await import('../build-data.ts');
        await buildData({ seed, scale: 1, dir: dataDir, onProgress: log });
      },
    },
    {
      name: 'tiles',
      title: '切分矢量瓦片 (vector tiles)',
      // The tiles depend on the data; the data stamp is part of their inputs through the manifest.
      inputs: ['scripts/build-tiles.ts', 'scripts/tiles', 'layers/catalog.ts', 'layers/formats', relative(ROOT, join(dataDir, '.stamp-data'))],
      outputs: [join(dataDir, 'basemap.pmtiles'), join(dataDir, 'overlay.pmtiles')],
      stamp: join(dataDir, '.stamp-tiles'),
      async run(log) {
        const { buildTiles } = await import('../build-tiles.ts');
        await buildTiles({ dir: dataDir, onProgress: log });
      },
    },
    {
      name: 'web',
      title: '构建前端 (web bundle)',
      inputs: ['web', 'layers', 'address-standards', 'vite.config.ts', 'package-lock.json'],
      outputs: [join(webDir, 'index.html')],
      stamp: join(webDir, '..', '.stamp-web'),
      async run(log) {
        const { build } = await import('vite');
        log('vite build …');
        await build({ configFile: join(ROOT, 'vite.config.ts'), logLevel: 'warn', build: { outDir: webDir, emptyOutDir: true } });
      },
    },
  ];
}
