// Every demo standard address round-trips through the parser: for a seeded sample of 5,000 records of
// geodata/build/addresses.fgb, parseAddress(full) yields elements whose texts equal the record's parts, and
// formatStandardAddress(toStandardAddress(elements)) === full.
//
// Record part → parser element (documented in address-standards/README.md):
//   town (name of town_code)  → town, or devzone for the 功能区 towns (常熟经济技术开发区 …)
//   road                      → road; a rural group name (庞家湾二组) → village_group
//   houseno ('48号')          → roadno
//   compound                  → poi, with a following subpoi joined (御景小区 + 二期)
//   building ('1幢')          → houseno;   unit → cellno;   room → roomno
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import { createRng } from '../scripts/data/rng.ts';
import { loadGazetteer } from '../scripts/lib/load-gazetteer.ts';
import { parseAddress } from '../address-standards/parse.ts';
import { formatStandardAddress, toStandardAddress, type AddressElement } from '../address-standards/model.ts';

const BUILD = join(import.meta.dirname, '..', 'geodata', 'build');
const N = 5000;

interface Rec { full: string; town_code: string; road: string; houseno: string; compound?: string | null; building?: string | null; unit?: string | null; room?: string | null }

describe.skipIf(!existsSync(join(BUILD, 'addresses.fgb')))('demo standard addresses round-trip through the parser', () => {
  const sample: Rec[] = [];
  const towns = new Map<string, string>();
  beforeAll(() => {
    const f = openFlatGeobuf(readFileSync(join(BUILD, 'addresses.fgb')));
    const rng = createRng(20261129).fork('address-roundtrip');
    for (let i = 0; i < N; i++) sample.push(f.feature(rng.int(0, f.count - 1)).properties as unknown as Rec);
    for (const t of openFlatGeobuf(readFileSync(join(BUILD, 'towns.fgb'))).features()) towns.set(String(t.properties!.code), String(t.properties!.name));
  });

  it('parses every sampled record into its parts and formats it back', () => {
    const gaz = loadGazetteer();
    const failures: string[] = [];
    let ambiguous = 0;
    for (const r of sample) {
      // Known data issue: the generator disambiguates a few duplicate rural names with a trailing number
      // (蔡家港十组11 + 18号 → 蔡家港十组1118号), which no reader can split back. Counted, not parsed.
      if (/[0-9]$/.test(r.road)) { ambiguous++; continue; }
      const els = parseAddress(r.full, gaz).elements;
      const one = (...labels: string[]) => els.find((e) => labels.includes(e.label))?.text;
      const poi = els.findIndex((e) => e.label === 'poi');
      const compound = poi < 0 ? undefined : els[poi].text + (els[poi + 1]?.label === 'subpoi' ? els[poi + 1].text : '');
      const got = {
        town: one('town', 'devzone'), road: one('road') ?? one('village_group'), houseno: one('roadno'), compound,
        building: one('houseno'), unit: one('cellno'), room: one('roomno'),
      };
      const want = {
        town: towns.get(r.town_code), road: r.road, houseno: r.houseno, compound: r.compound ?? undefined,
        building: r.building ?? undefined, unit: r.unit ?? undefined, room: r.room ?? undefined,
      };
      const formatted = formatStandardAddress(toStandardAddress(els));
      if (JSON.stringify(got) !== JSON.stringify(want) || formatted !== r.full || !spansOk(r.full, els)) {
        failures.push(`${r.full}\n  got  ${JSON.stringify(got)}\n  want ${JSON.stringify(want)}\n  formatted ${formatted}`);
      }
    }
    expect(ambiguous / N).toBeLessThan(0.02);
    expect(failures.slice(0, 10).join('\n')).toBe('');
  });
});

function spansOk(text: string, els: AddressElement[]): boolean {
  return els.every((e) => text.slice(e.start, e.end) === e.text && e.end > e.start);
}
