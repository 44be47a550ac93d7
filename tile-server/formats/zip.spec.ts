import { readFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, readZip, writeZip, ZipError } from './zip.ts';

const enc = new TextEncoder();
const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../../test/fixtures/import/${name}`, import.meta.url)));

describe('zip', () => {
  it('crc32 matches the standard check value', () => {
    expect(crc32(enc.encode('123456789'))).toBe(0xcbf43926);
  });

  it('round-trips deflated and stored entries with UTF-8 names', () => {
    const big = enc.encode('常熟'.repeat(1000));
    const tiny = new Uint8Array([1]);
    const z = writeZip([{ name: '设施/a.txt', data: big }, { name: 'b.bin', data: tiny }, { name: 'empty', data: new Uint8Array(0) }]);
    expect(z.length).toBeLessThan(big.length); // the big one was deflated
    const m = readZip(z);
    expect([...m.keys()]).toEqual(['设施/a.txt', 'b.bin', 'empty']);
    expect(m.get('设施/a.txt')).toEqual(big);
    expect(m.get('b.bin')).toEqual(tiny);
    expect(m.get('empty')!.length).toBe(0);
  });

  it('reads what Info-ZIP wrote (Chinese entry names)', () => {
    const m = readZip(fixture('facilities-4549-gbk.zip'));
    expect([...m.keys()].sort()).toEqual(['设施.dbf', '设施.prj', '设施.shp', '设施.shx']);
    expect(new TextDecoder().decode(m.get('设施.prj'))).toMatch(/^PROJCS\["CGCS2000_3_Degree_GK_CM_120E"/);
  });

  it('decodes GBK names written without the UTF-8 flag (Chinese Windows)', () => {
    const z = writeZip([{ name: 'xxxx.shp', data: enc.encode('x') }]);
    // Replace the UTF-8 flag and the name bytes by GBK 常熟 (b3a3 caec) in both headers.
    const gbk = [0xb3, 0xa3, 0xca, 0xec];
    for (let i = 0; i + 4 <= z.length; i++) {
      if (z[i] === 0x78 && z[i + 1] === 0x78 && z[i + 2] === 0x78 && z[i + 3] === 0x78) z.set(gbk, i);
    }
    const dv = new DataView(z.buffer);
    dv.setUint16(6, 0, true);
    const cd = dv.getUint32(z.length - 6, true);
    dv.setUint16(cd + 8, 0, true);
    expect([...readZip(z).keys()]).toEqual(['常熟.shp']);
  });

  it('rejects a truncated archive with what to do', () => {
    expect(() => readZip(fixture('broken-truncated.zip'))).toThrow(ZipError);
    expect(() => readZip(fixture('broken-truncated.zip'))).toThrow(/重新压缩|re-create/);
  });

  it('rejects corrupted data (CRC)', () => {
    const z = writeZip([{ name: 'a', data: new Uint8Array([1, 2, 3, 4]) }]);
    z[30 + 1 + 1] ^= 0xff; // a byte of the stored data
    expect(() => readZip(z)).toThrow(/CRC|校验/);
  });

  it('stops a bomb whose directory understates the size', () => {
    const huge = new Uint8Array(4 * 1024 * 1024);
    const z = writeZip([{ name: 'bomb', data: huge }]);
    const comp = deflateRawSync(huge).length;
    expect(comp).toBeLessThan(10_000);
    const dv = new DataView(z.buffer);
    const cd = dv.getUint32(z.length - 6, true);
    dv.setUint32(cd + 24, 1000, true); // central directory claims 1000 bytes
    expect(() => readZip(z)).toThrow(ZipError);
  });
});
