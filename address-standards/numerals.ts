// Chinese numerals → integers, for numbered address slots only (reference §6.5). Handles both the
// positional form (五〇二 → 502, as written on door plates) and the counting form (一千零一 → 1001,
// 十八 → 18); 两/幺 are the spoken variants of 2/1.

const DIGIT: Record<string, number> = {
  '〇': 0, '零': 0, '洞': 0, '一': 1, '幺': 1, '二': 2, '两': 2, '三': 3, '四': 4,
  '五': 5, '六': 6, '七': 7, '八': 8, '九': 9,
};
const UNIT: Record<string, number> = { '十': 10, '百': 100, '千': 1000 };

/** Characters that may appear in a Chinese numeral. */
export const CN_NUMERAL_CHARS = '〇零一幺二两三四五六七八九十百千';
export const CN_NUMERAL_RE = /[〇零一幺二两三四五六七八九十百千]+/;

/** Value of a Chinese numeral, or null when `s` is not one (e.g. 十十, 百). */
export function chineseToNumber(s: string): number | null {
  if (!s) return null;
  const hasUnit = [...s].some((c) => c in UNIT);
  if (!hasUnit) {
    // Positional: every character is a digit.
    let v = 0;
    for (const c of s) {
      const d = DIGIT[c];
      if (d === undefined) return null;
      v = v * 10 + d;
    }
    return v;
  }
  let total = 0;
  let cur = -1; // pending digit, -1 = none
  let lastUnit = 10000;
  for (const c of s) {
    if (c in DIGIT) {
      if (cur >= 0 && DIGIT[c] !== 0) return null; // 二三十: two digits in a row in counting form
      cur = DIGIT[c] === 0 ? -1 : DIGIT[c];
    } else if (c in UNIT) {
      const u = UNIT[c];
      if (u >= lastUnit) return null; // 十百, 十十
      total += (cur < 0 ? (total === 0 && u === 10 ? 1 : -1) : cur) * u;
      if (cur < 0 && !(total > 0)) return null;
      cur = -1;
      lastUnit = u;
    } else return null;
  }
  if (cur >= 0) total += cur;
  return total;
}

/** The string of digits for a Chinese numeral, keeping the width of positional numbers (〇一 → 01). */
export function chineseToDigits(s: string): string | null {
  const hasUnit = [...s].some((c) => c in UNIT);
  if (!hasUnit) {
    let out = '';
    for (const c of s) {
      const d = DIGIT[c];
      if (d === undefined) return null;
      out += String(d);
    }
    return out;
  }
  const v = chineseToNumber(s);
  return v === null ? null : String(v);
}
