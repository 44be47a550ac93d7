import { describe, expect, it } from 'vitest';
import { CsvError, parseCsv } from './csv.ts';
import { decodeText, detectEncoding, normaliseEncoding } from './encoding.ts';

describe('parseCsv', () => {
  it('reads quotes, doubled quotes, CRLF and line breaks inside quotes', () => {
    const t = parseCsv('名称,地址\r\n"甲,""总站""",常熟市\r\n"两\n行",x\r\n\r\n');
    expect(t.header).toEqual(['名称', '地址']);
    expect(t.rows).toEqual([['甲,"总站"', '常熟市'], ['两\n行', 'x']]);
  });

  it('finds the delimiter from the header', () => {
    expect(parseCsv('a;b\n1;2').rows).toEqual([['1', '2']]);
    expect(parseCsv('a\tb\n1\t2').delimiter).toBe('\t');
    expect(parseCsv('"a;b",c\n1,2').delimiter).toBe(','); // the ; is quoted
  });

  it('says what is wrong', () => {
    expect(() => parseCsv('a,b\n"1,2\n')).toThrow(CsvError);
    expect(() => parseCsv('a,b\n1,2,3\n')).toThrow(/第 2 行有 3 列/);
    expect(() => parseCsv('\n\n')).toThrow(/空/);
  });
});

describe('text encodings', () => {
  const gbk = new Uint8Array([0xb3, 0xa3, 0xca, 0xec]); // 常熟
  it('detects GBK and UTF-8, honours a BOM and an explicit choice', () => {
    expect(detectEncoding(gbk)).toBe('gbk');
    expect(decodeText(gbk)).toEqual({ text: '常熟', encoding: 'gbk' });
    expect(decodeText(new TextEncoder().encode('常熟'))).toEqual({ text: '常熟', encoding: 'utf-8' });
    expect(decodeText(new Uint8Array([0xef, 0xbb, 0xbf, 0x61]))).toEqual({ text: 'a', encoding: 'utf-8' });
    expect(decodeText(gbk, 'CP936').text).toBe('常熟');
    expect(() => decodeText(gbk, 'klingon')).toThrow(/utf-8 或 gbk/);
  });
  it('normalises .cpg spellings', () => {
    expect(['UTF-8', '65001', 'GBK', '936', 'ANSI 936', 'gb2312', 'CP1252', ''].map(normaliseEncoding))
      .toEqual(['utf-8', 'utf-8', 'gbk', 'gbk', 'gbk', 'gbk', 'windows-1252', null]);
  });
});
