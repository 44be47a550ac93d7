// `npm start`: build what is missing (demo data, tiles, web bundle) with progress, then serve.
// PORT / HOST / DATA_DIR / WEB_DIR change where it serves from; `npm start -- --rebuild` forces a rebuild.
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
// The server reads the same folders from the environment, so it serves exactly what was just built.
process.env.DATA_DIR = dataDir;
process.env.WEB_DIR = webDir;
await import('../tile-server/main.ts');
