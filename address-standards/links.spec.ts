import { beforeAll, describe, expect, it } from 'vitest';
import { loadGazetteer } from '../scripts/lib/load-gazetteer.ts';
import { FIXTURE_TOWNS, fixtureRecords } from '../test/fixtures/address/geocode-records.ts';
import { buildAddressIndex, type AddressRecord } from './geocode.ts';
import {
  bearingDeg, buildLinkIndex, coversPoint, idCheckDigit, maskIdNumber, maskName, maskPhone, syntheticHouseholds,
  type CameraEntity, type LinkIndex,
} from './links.ts';

// 0.0001° latitude ≈ 11.1 m; at 31.65° N 0.0001° longitude ≈ 9.5 m.
const cam = (over: Partial<CameraEntity> = {}): CameraEntity => ({
  id: 'cam-1', name: '测试相机', lon: 120.75, lat: 31.65, heading: 90, fov: 60, range_m: 50, ...over,
});

describe('masking', () => {
  it('masks names, resident ID numbers and phones as the issue shows', () => {
    expect(maskName('张小明')).toBe('张*明');
    expect(maskName('张三')).toBe('张*');
    expect(maskName('欧阳小明')).toBe('欧**明');
    expect(maskIdNumber('320581199001011234')).toBe('3205************34');
    expect(maskPhone('13812345678')).toBe('138****5678');
  });

  it('computes the GB 11643 check digit', () => {
    // Worked example from the standard's annex: 11010519491231002 → X.
    expect(idCheckDigit('11010519491231002')).toBe('X');
  });
});

describe('syntheticHouseholds', () => {
  const code = '3205811020043001002660004020050501';

  it('is deterministic per address and masked by default', () => {
    let hh = syntheticHouseholds(code, 'room', true);
    // Some rooms are empty; walk codes until one is occupied, deterministically.
    let c = code;
    for (let k = 0; !hh.length && k < 20; k++) hh = syntheticHouseholds((c = code.slice(0, -1) + k), 'room', true);
    expect(hh.length).toBe(1);
    expect(syntheticHouseholds(c, 'room', true)).toEqual(hh);
    for (const p of hh[0].members) {
      expect(p.name).toMatch(/^\S\*+\S?$/u);
      expect(p.idNumber).toMatch(/^\d{4}\*{12}[\dX]{2}$/);
      expect(p.phone).toMatch(/^\d{3}\*{4}\d{4}$/);
    }
    expect(hh[0].members[0].relation).toBe('户主');
  });

  it('gives unmasked, well-formed fictional values only when asked', () => {
    let hh = syntheticHouseholds(code, 'room', true, true);
    for (let k = 0; !hh.length && k < 20; k++) hh = syntheticHouseholds(code.slice(0, -1) + k, 'room', true, true);
    for (const p of hh[0].members) {
      expect(p.idNumber).toMatch(/^320581\d{11}[\dX]$/);
      expect(idCheckDigit(p.idNumber.slice(0, 17))).toBe(p.idNumber[17]);
      expect(Number(p.idNumber[16]) % 2).toBe(p.gender === '男' ? 1 : 0);
      expect(p.phone).toMatch(/^100\d{8}$/); // 100… is not an assigned mobile range: fictional by construction
    }
  });

  it('puts no households on buildings or non-residential doors', () => {
    expect(syntheticHouseholds(code, 'building', true)).toEqual([]);
    expect(syntheticHouseholds(code, 'door', false)).toEqual([]);
  });
});

describe('coversPoint', () => {
  it('accepts points inside the cone and rejects those outside angle or range', () => {
    const c = cam();
    expect(coversPoint(c, 120.7503, 31.65)).toBe(true); // ≈ 28 m east, on the axis
    expect(coversPoint(c, 120.75, 31.6503)).toBe(false); // ≈ 33 m north: 90° off axis
    expect(coversPoint(c, 120.7506, 31.65)).toBe(false); // ≈ 57 m east: beyond range
    expect(coversPoint(c, 120.7503, 31.65008)).toBe(true); // ≈ 18° off axis, inside ±30°
    expect(coversPoint(c, 120.7503, 31.65018)).toBe(false); // ≈ 35° off axis
  });

  it('handles headings across north', () => {
    const c = cam({ heading: 350 });
    expect(coversPoint(c, 120.75005, 31.6503)).toBe(true); // bearing ≈ 9°: 19° from 350°
    expect(coversPoint(c, 120.7503, 31.6503)).toBe(false); // bearing ≈ 41°
  });

  it('measures bearings clockwise from north', () => {
    expect(bearingDeg(120, 31, 120, 31.1)).toBeCloseTo(0, 5);
    expect(bearingDeg(120, 31, 120.1, 31)).toBeCloseTo(90, 5);
    expect(bearingDeg(120, 31, 120, 30.9)).toBeCloseTo(180, 5);
  });
});

describe('LinkIndex', () => {
  let records: AddressRecord[];
  let links: LinkIndex;
  const door20 = () => records.find((r) => r.full === '常熟市虞山街道海虞北路20号')!;

  beforeAll(() => {
    records = fixtureRecords();
    const index = buildAddressIndex(records, loadGazetteer(), { towns: FIXTURE_TOWNS });
    const d = records.find((r) => r.full === '常熟市虞山街道海虞北路20号')!;
    links = buildLinkIndex(index, {
      facilities: [
        { id: 'fac-1', name: '虞山派出所', kind: '派出所', lon: d.lon + 0.001, lat: d.lat, address: d.full }, // registered here, 95 m away
        { id: 'fac-2', name: '公共厕所', kind: '公共厕所', lon: d.lon + 0.0001, lat: d.lat }, // ≈ 9.5 m away
      ],
      sensors: [{ id: 'sen-1', name: '烟感', kind: 'smoke', lon: d.lon, lat: d.lat + 0.0001 }, { id: 'sen-2', name: '远处', lon: d.lon + 0.01, lat: d.lat }],
      cameras: [
        cam({ id: 'cam-east', lon: d.lon - 0.0003, lat: d.lat, heading: 90 }), // looks east at the door from ≈ 28 m
        cam({ id: 'cam-away', lon: d.lon - 0.0003, lat: d.lat, heading: 270 }), // looks away
      ],
      house: (id) => ({ id, floors: 6, height: 18, use: 'residential' }),
    });
  });

  it('links an address to its organisations, features, cameras and house', () => {
    const l = links.forAddress(door20().code)!;
    expect(l.organisations.map((o) => [o.id, o.via])).toEqual([['fac-1', 'address'], ['fac-2', 'nearby']]);
    expect(l.features.map((f) => f.id)).toEqual(['sen-1']);
    expect(l.cameras.map((c) => c.id)).toEqual(['cam-east']);
    expect(l.house?.id).toBe(door20().building_id);
    expect(l.masked).toBe(true);
    expect(links.forAddress('0')).toBeNull();
  });

  it('looks up the other way: entity → addresses', () => {
    expect(links.addressesFor('camera', 'cam-east')!.map((r) => r.full)).toContain(door20().full);
    expect(links.addressesFor('camera', 'cam-away')!.map((r) => r.full)).not.toContain(door20().full);
    expect(links.addressesFor('facility', 'fac-1')![0].full).toBe(door20().full);
    expect(links.addressesFor('sensor', 'sen-1')!.map((r) => r.full)).toContain(door20().full);
    expect(links.addressesFor('building', door20().building_id!)!.map((r) => r.code)).toEqual([door20().code]);
    expect(links.addressesFor('camera', 'fac-1')).toBeNull();
    expect(links.addressesFor('building', 'nope')).toBeNull();
  });

  it('finds the address of a synthetic household from its id', () => {
    const room = records.find((r) => r.level === 'room' && syntheticHouseholds(r.code, 'room', true).length)!;
    const hh = links.forAddress(room.code)!.households[0];
    expect(links.addressesFor('household', hh.id)![0].code).toBe(room.code);
    expect(links.addressesFor('person', hh.members[0].id)![0].code).toBe(room.code);
    expect(links.addressesFor('household', 'household-' + room.code + '-9')).toBeNull();
  });
});
