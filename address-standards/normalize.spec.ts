// Golden tests: fixtures/normalize/*.json hold [{ in, out }]; regenerate on purpose with REGEN=1.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeAddress, toOriginalSpan } from './normalize.ts';

const DIR = join(import.meta.dirname, 'fixtures', 'normalize');
const REGEN = process.env.REGEN === '1';

/** Output shown in fixtures: the text and, per run of normalised characters, the original text it came from. */
function render(input: string) {
  const n = normalizeAddress(input);
  const pieces: string[] = [];
  for (let i = 0; i < n.text.length; ) {
    let j = i + 1;
    while (j < n.text.length && n.toOriginal[j] === n.toOriginal[i]) j++;
    const [a, b] = toOriginalSpan(n, i, j);
    if (input.slice(a, b) !== n.text.slice(i, j)) pieces.push(`${input.slice(a, b)}→${n.text.slice(i, j)}`);
    i = j;
  }
  return { text: n.text, changed: pieces };
}

describe('normalizeAddress golden fixtures', () => {
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.json'))) {
    it(file, () => {
      const cases = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as { in: string; out?: unknown }[];
      const got = cases.map((c) => ({ in: c.in, out: render(c.in) }));
      if (REGEN) writeFileSync(join(DIR, file), JSON.stringify(got, null, 1) + '\n');
      else expect(got).toEqual(cases);
    });
  }
});

describe('normalizeAddress', () => {
  it('maps every normalised character back into the original text', () => {
    const t = '江蘇省 苏州市，常熟市琴川街道枫林路８８號５棟１門３０１房';
    const n = normalizeAddress(t);
    expect(n.toOriginal.length).toBe(n.text.length + 1);
    for (let i = 0; i < n.text.length; i++) {
      expect(n.toOriginal[i]).toBeGreaterThanOrEqual(i === 0 ? 0 : n.toOriginal[i - 1]);
      expect(n.toOriginalEnd[i]).toBeGreaterThan(n.toOriginal[i]);
      expect(n.toOriginalEnd[i]).toBeLessThanOrEqual(t.length);
    }
    const k = n.text.indexOf('88号');
    expect(t.slice(...toOriginalSpan(n, k, k + 3))).toBe('８８號');
  });
  it('drops a repeated admin prefix unless asked to keep it', () => {
    expect(normalizeAddress('浙江省浙江省杭州市').text).toBe('浙江省杭州市');
    const kept = normalizeAddress('浙江省浙江省杭州市', { keepRepeats: true });
    expect(kept.text).toBe('浙江省浙江省杭州市');
    expect(kept.toOriginal[3]).toBe(3);
  });
  it('reads a Chinese numeral before 楼/层 as a floor after a shop word or at the end, not inside a name', () => {
    expect(normalizeAddress('百货商场二楼').text).toBe('百货商场2楼');
    expect(normalizeAddress('大厦负一层').text).toBe('大厦负1层');
    expect(normalizeAddress('十里楼').text).toBe('十里楼');
  });
  it('leaves numerals inside names alone', () => {
    expect(normalizeAddress('五一路三里桥九堡镇').text).toBe('五一路三里桥九堡镇');
  });
  it('does not mutate or depend on state between calls', () => {
    const a = normalizeAddress('海虞北路十八号').text;
    normalizeAddress('三幢二单元');
    expect(normalizeAddress('海虞北路十八号').text).toBe(a);
  });
});
