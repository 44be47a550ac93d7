import { mkdtempSync, readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureStages, hashInputs, productStages, type Stage } from './ensure-built.ts';

describe('ensureStages', () => {
  it('runs a stage once, then skips it while its inputs are unchanged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onemap-stage-'));
    let runs = 0;
    const stage: Stage = {
      name: 't', title: 'test', inputs: ['layers/catalog.ts'], outputs: [join(dir, 'out')], stamp: join(dir, '.stamp'),
      async run() { runs++; writeFileSync(join(dir, 'out'), 'x'); },
    };
    const log: string[] = [];
    await ensureStages([stage], { log: (m) => log.push(m) });
    await ensureStages([stage], { log: (m) => log.push(m) });
    expect(runs).toBe(1);
    expect(readFileSync(stage.stamp, 'utf8').trim()).toBe(hashInputs(stage.inputs, 't'));
    await ensureStages([stage], { force: true, log: () => {} });
    expect(runs).toBe(2);
  });

  // A city's own data in DATA_DIR must never be overwritten by the demo city.
  it('leaves a data folder that holds layer files but no stamp of ours alone', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'onemap-own-'));
    writeFileSync(join(dataDir, 'towns.fgb'), 'their data');
    const [data] = productStages({ dataDir, webDir: join(dataDir, 'web') });
    expect(data.ownedByUser?.()).toMatch(/已有/);
    const log: string[] = [];
    await ensureStages([data], { log: (m) => log.push(m) });
    expect(readFileSync(join(dataDir, 'towns.fgb'), 'utf8')).toBe('their data');
    expect(existsSync(join(dataDir, 'manifest.json'))).toBe(false);
    expect(log.join('\n')).toMatch(/using your own data/);
  });

  it('treats an empty or stamped folder as ours to build', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'onemap-ours-'));
    const [data] = productStages({ dataDir, webDir: join(dataDir, 'web') });
    expect(data.ownedByUser?.()).toBeNull();
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'towns.fgb'), 'ours');
    writeFileSync(join(dataDir, '.stamp-data'), 'abc');
    expect(data.ownedByUser?.()).toBeNull();
  });
});
