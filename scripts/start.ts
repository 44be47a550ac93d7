// `npm start`: build what is missing (demo data, tiles, web bundle) with progress, then serve.
// PORT / HOST / DATA_DIR / WEB_DIR change where it serves from; DATABASE_URL moves queries to PostGIS; `npm start -- --rebuild` forces a rebuild.
import { join, resolve } from 'node:path';
import { ensureStages, productStages, ROOT } from './lib/ensure-built.ts';

const dataDir = resolve(process.env.DATA_DIR ?? join(ROOT, 'geodata', 'build'));
const webDir = resolve(process.env.WEB_DIR ?? join(ROOT, 'dist', 'web'));
const force = process.argv.includes('--rebuild');

try {
  await ensureStages(productStages({ dataDir, webDir }), { force });
} catch (err) {
  console.error(`\n构建失败 (build failed): ${(err as Error).stack ?? err}`);
  console.error('请检查上面的输出；修复后重新运行 npm start（加 -- --rebuild 可强制全部重建）。');
  process.exit(1);
}
// With DATABASE_URL the queries run on PostGIS: bring it up to date with what was just built (a no-op,
// checked in milliseconds, when it already is).
if (process.env.DATABASE_URL) {
  const { loadPostgis } = await import('./load-postgis.ts');
  try {
    const r = await loadPostgis(process.env.DATABASE_URL, { dataDir });
    console.error(r.loaded ? `PostGIS：已载入 ${r.layers.length} 个图层，用时 ${(r.ms / 1000).toFixed(1)} 秒` : 'PostGIS：数据已是最新 (up to date)');
  } catch (err) {
    console.error(`\nPostGIS 载入失败 (load failed): ${(err as Error).message}`);
    console.error('请检查 DATABASE_URL（本机可用 npm run db:start 启动），或取消 DATABASE_URL 使用内置引擎。');
    process.exit(1);
  }
}
// The server reads the same folders from the environment, so it serves exactly what was just built.
process.env.DATA_DIR = dataDir;
process.env.WEB_DIR = webDir;
await import('../tile-server/main.ts');
