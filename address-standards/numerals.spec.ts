import { describe, expect, it } from 'vitest';
import { chineseToDigits, chineseToNumber } from './numerals.ts';

describe('chineseToNumber', () => {
  it.each([
    ['十八', 18], ['十', 10], ['二十', 20], ['二十五', 25], ['一百零五', 105], ['一千零一', 1001],
    ['三', 3], ['五〇二', 502], ['两', 2], ['一二〇一', 1201], ['九十九', 99], ['三百', 300],
  ])('%s → %d', (s, n) => expect(chineseToNumber(s)).toBe(n));
  it.each(['', '十十', '百十百', '二三十', '路'])('rejects %s', (s) => expect(chineseToNumber(s)).toBeNull());
  it('keeps the width of positional numerals', () => expect(chineseToDigits('〇一')).toBe('01'));
});
