// `npm run build`: the same builds `npm start` does, without serving (CI and the test script use it).
import { join, resolve } from 'node:path';
import { ensureStages, productStages, ROOT } from './lib/ensure-built.ts';

const dataDir = resolve(process.env.DATA_DIR ?? join(ROOT, 'geodata', 'build'));
const webDir = resolve(process.env.WEB_DIR ?? join(ROOT, 'dist', 'web'));
await ensureStages(productStages({ dataDir, webDir }), { force: process.argv.includes('--rebuild') });
