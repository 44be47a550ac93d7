import { describe, expect, it } from 'vitest';
import { formatStandardAddress, toStandardAddress, validateStandardAddress, type AddressElement } from './model.ts';
import { decodeStandardAddressCode, encodeStandardAddressCode, townType, validateCodes, validateStandardAddressCode, villageType } from './codes.ts';

describe('formatStandardAddress', () => {
  it('writes the levels high to low', () => {
    expect(formatStandardAddress({ roomno: '502室', district: '常熟市', town: '虞山街道', road: '海虞北路', roadno: '18号', houseno: '3幢', cellno: '2单元' }))
      .toBe('常熟市虞山街道海虞北路18号3幢2单元502室');
  });
  it('joins a compound and its phase, and uses a devzone as the town when no town is written', () => {
    const els: AddressElement[] = [
      { label: 'devzone', start: 0, end: 9, text: '常熟经济技术开发区' }, { label: 'poi', start: 9, end: 13, text: '方塔花园' },
      { label: 'subpoi', start: 13, end: 15, text: '三期' },
    ];
    expect(toStandardAddress(els)).toEqual({ town: '常熟经济技术开发区', poi: '方塔花园三期' });
  });
  const el = (label: AddressElement['label'], text: string): AddressElement => ({ label, start: 0, end: text.length, text });
  it('stores a number under a village as its door number, and a natural village as the road level', () => {
    const a = toStandardAddress([el('town', '董浜镇'), el('community', '永安村'), el('houseno', '18号')]);
    expect(a).toEqual({ town: '董浜镇', community: '永安村', roadno: '18号' });
    expect(validateStandardAddress(a)).toEqual([]);
    expect(toStandardAddress([el('community', '蒋巷村'), el('community', '邵家圩村'), el('houseno', '9号')]))
      .toEqual({ community: '蒋巷村', road: '邵家圩村', roadno: '9号' });
    // 3号楼 is a building even under a village.
    expect(toStandardAddress([el('community', '永安村'), el('houseno', '3幢')])).toEqual({ community: '永安村', houseno: '3幢' });
  });
  it('writes the bare parts of a compound number (12-3-1001) with their suffixes', () => {
    const a = toStandardAddress([el('poi', '枫林苑'), el('houseno', '12'), el('cellno', '3'), el('roomno', '1001')]);
    expect(a).toEqual({ poi: '枫林苑', houseno: '12幢', cellno: '3单元', roomno: '1001' });
    expect(validateStandardAddress(a)).toEqual([]);
  });
});

describe('validateStandardAddress', () => {
  const codes = (a: ReturnType<typeof validateStandardAddress>) => a.map((x) => x.code);
  it('accepts a complete address', () => {
    expect(validateStandardAddress({ district: '常熟市', town: '虞山街道', road: '海虞北路', roadno: '18号', houseno: '3幢', cellno: '2单元', roomno: '502室', codes: { county: '320581', town: '320581001', village: '320581001001' } })).toEqual([]);
  });
  it('rejects a room without a building, with a Chinese and English message', () => {
    const r = validateStandardAddress({ road: '海虞北路', roadno: '18号', roomno: '502室' });
    expect(codes(r)).toEqual(['room_without_building']);
    expect(r[0].message).toMatch(/户室.*\/ a room needs a building/);
    expect(r[0].field).toBe('roomno');
  });
  it('rejects a village outside its town and a town outside its county', () => {
    expect(codes(validateStandardAddress({ town: '虞山街道', codes: { county: '320581', town: '320582001', village: '320581002001' } })))
      .toEqual(['town_not_in_county', 'village_not_in_town']);
  });
  it('rejects malformed numbers and codes', () => {
    expect(codes(validateStandardAddress({ road: '海虞北路', roadno: '十八', houseno: '3楼' }))).toEqual(['bad_roadno', 'bad_houseno']);
    expect(codes(validateCodes({ county: '32058', town: '320581900', village: '320581900700' }))).toEqual(['bad_county_code', 'bad_town_code', 'bad_village_code']);
  });
});

describe('codes', () => {
  it('reads the type digits', () => {
    expect([townType('320581001'), townType('320581110'), townType('320581401')]).toEqual(['街道', '镇', '政企合一/功能区']);
    expect([villageType('320581001001'), villageType('320581110200'), villageType('320581401498')]).toEqual(['居委会(社区)', '村委会', '类似居委会']);
  });
  it('round-trips the 34-digit demo code', () => {
    const code = '3205811100043000202360005010060601';
    const c = decodeStandardAddressCode(code);
    expect(c).toMatchObject({ village: '320581110004', level: 'room', roadSeq: 2, door: 236, building: 5, unit: 1, floor: 6, room: 601 });
    expect(encodeStandardAddressCode(c)).toBe(code);
    expect(validateStandardAddressCode(code)).toEqual([]);
    expect(validateStandardAddressCode('3205811100043000202360000010060601').map((x) => x.code)).toEqual(['room_without_building']);
    expect(() => decodeStandardAddressCode('123')).toThrow(/34/);
  });
});
