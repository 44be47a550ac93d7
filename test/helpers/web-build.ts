// Shared by the browser tests and the client bench: build the web bundle when it is stale, and
// compare a screenshot with a golden image. One place, so every test means the same by "stale" and
// by "matches".
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Region, RgbaImage } from './browser.ts';

export const ROOT = resolve(import.meta.dirname, '..', '..');

/** The newest modification time of any file under `dir`. */
export function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds dist/web when it is missing or older than the web sources (a stale bundle would test old code). */
export function ensureWebBuilt(webDir = join(ROOT, 'dist', 'web')): void {
  const index = join(webDir, 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newestMtime(join(ROOT, 'web'))) return;
  execFileSync('npx', ['vite', 'build', '--outDir', webDir, '--emptyOutDir'], { cwd: ROOT, stdio: 'pipe' });
}

/** Share of pixels (outside `masks`) where some channel differs by more than `delta`. */
export function fractionDifferent(a: RgbaImage, b: RgbaImage, delta: number, masks: Region[] = []): number {
  let n = 0, total = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      if (masks.some((m) => x >= m.x && x < m.x + m.width && y >= m.y && y < m.y + m.height)) continue;
      total++;
      const i = (y * a.width + x) * 4;
      if (Math.abs(a.data[i] - b.data[i]) > delta || Math.abs(a.data[i + 1] - b.data[i + 1]) > delta
        || Math.abs(a.data[i + 2] - b.data[i + 2]) > delta) n++;
    }
  }
  return n / Math.max(1, total);
}

/** Fails fast, saying what to run, when the demo build the browser tests serve is missing. */
export function requireBuiltData(dataDir: string, files = ['basemap.pmtiles', 'overlay.pmtiles']): void {
  for (const f of files) {
    if (!existsSync(join(dataDir, f))) throw new Error(`${dataDir}/${f} is missing: build the demo data first (npm run data && npm run tiles).`);
  }
}
