// Golden tests: fixtures/parse/*.json hold [{ in, out }] (out = "label:start-end:text"); REGEN=1 rewrites them.
// Files named bug-*.json are one fixture per fixed bug; a case may carry a `why` note (kept, not compared).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadGazetteer } from '../scripts/lib/load-gazetteer.ts';
import { ELEMENT_LABELS } from './model.ts';
import { parseAddress } from './parse.ts';

const DIR = join(import.meta.dirname, 'fixtures', 'parse');
const REGEN = process.env.REGEN === '1';
const gaz = loadGazetteer();

const render = (t: string) => parseAddress(t, gaz).elements.map((e) => `${e.label}:${e.start}-${e.end}:${e.text}`);

describe('parseAddress golden fixtures', () => {
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.json'))) {
    it(file, () => {
      // `why` (optional) says why a case's expected output changed; it is kept on REGEN and not compared.
      const cases = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as { in: string; why?: string; out?: string[] }[];
      const got = cases.map((c) => ({ in: c.in, ...(c.why ? { why: c.why } : {}), out: render(c.in) }));
      if (REGEN) writeFileSync(join(DIR, file), JSON.stringify(got, null, 1) + '\n');
      else expect(got.map((c) => ({ in: c.in, out: c.out }))).toEqual(cases.map((c) => ({ in: c.in, out: c.out })));
    });
  }
});

describe('parseAddress', () => {
  it('returns spans into the original text, in order, with known labels', () => {
    const t = '江蘇省蘇州市常熟市 虞山街道，海虞北路十八号三幢二单元五〇二室';
    const r = parseAddress(t, gaz);
    expect(r.text).toBe(t);
    let last = 0;
    for (const e of r.elements) {
      expect(ELEMENT_LABELS).toContain(e.label);
      expect(t.slice(e.start, e.end)).toBe(e.text);
      expect(e.start).toBeGreaterThanOrEqual(last);
      last = e.end;
    }
    expect(r.elements.map((e) => e.label)).toEqual(['prov', 'city', 'district', 'town', 'road', 'roadno', 'houseno', 'cellno', 'roomno']);
  });
  it('parses masked digits the same way as real ones', () => {
    const a = parseAddress('浙江省杭州市西湖区文三路478号3幢2单元502室', gaz).elements.map((e) => e.label);
    const b = parseAddress('浙江省杭州市西湖区文三路000号0幢0单元000室', gaz).elements.map((e) => e.label);
    expect(b).toEqual(a);
  });
  it('finds the county in a text without province and city', () => {
    expect(parseAddress('常熟海虞北路18号', gaz).elements[0]).toMatchObject({ label: 'district', text: '常熟' });
  });
});
