import { beforeAll, describe, expect, it } from 'vitest';
import { loadGazetteer } from '../scripts/lib/load-gazetteer.ts';
import { buildAddressIndex, distanceM, editDistance, type AddressIndex, type AddressRecord } from './geocode.ts';
import { FIXTURE_LANDMARKS, FIXTURE_TOWNS, FIXTURE_VILLAGES, fixtureRecords } from '../test/fixtures/address/geocode-records.ts';

let index: AddressIndex;
let records: AddressRecord[];
const byFull = (full: string) => records.find((r) => r.full === full)!;

beforeAll(() => {
  records = fixtureRecords();
  index = buildAddressIndex(records, loadGazetteer(), { towns: FIXTURE_TOWNS, villages: FIXTURE_VILLAGES, landmarks: FIXTURE_LANDMARKS });
});

describe('buildAddressIndex', () => {
  it('gives every record back unchanged, by position and by code', () => {
    records.forEach((r, i) => {
      expect(index.record(i)).toEqual(r);
      expect(index.get(r.code)).toEqual(r);
    });
    expect(index.get('9'.repeat(34))).toBeUndefined();
    expect(index.get('')).toBeUndefined();
    expect(index.size).toBe(records.length);
    expect(index.memoryBytes()).toBeGreaterThan(0);
  });

  it('does not mutate its input', () => {
    const before = JSON.stringify(records);
    buildAddressIndex(records, loadGazetteer());
    expect(JSON.stringify(records)).toBe(before);
  });
});

describe('search', () => {
  const top = (q: string) => index.search(q, 5)[0];

  it('matches a complete address exactly', () => {
    const m = top('江苏省苏州市常熟市虞山街道海虞北路18号3幢2单元502室');
    expect(m.record.full).toBe('常熟市虞山街道海虞北路18号3幢2单元502室');
    expect(m.reason).toBe('exact');
    expect(m.score).toBe(1);
  });

  it('matches without the town and other higher levels', () => {
    const m = top('海虞北路18号');
    expect(m.record.full).toBe('常熟市虞山街道海虞北路18号');
    expect(m.record.level).toBe('door');
    expect(m.reason).toBe('exact');
  });

  it('reads Chinese numerals through the normaliser', () => {
    const m = top('海虞北路十八号三幢二单元五零二室');
    expect(m.record.full).toBe('常熟市虞山街道海虞北路18号3幢2单元502室');
    expect(m.reason).toBe('exact');
  });

  it('treats 栋, 号楼 and 幢 as one', () => {
    for (const q of ['海虞北路18号3栋', '海虞北路18号3号楼', '海虞北路18号3幢']) {
      const m = top(q);
      expect(m.record.full, q).toBe('常熟市虞山街道海虞北路18号3幢');
      expect(m.reason, q).toBe('exact');
    }
  });

  it('finds a road with a typo, scored below an exact match', () => {
    const m = top('虞山街道海虞北陆18号');
    expect(m.record.full).toBe('常熟市虞山街道海虞北路18号');
    expect(m.reason).toBe('fuzzy');
    expect(m.score).toBeGreaterThan(0.5);
    expect(m.score).toBeLessThan(1);
    expect(m.detail).toContain('海虞北路');
  });

  it('falls back to the building when the room is not registered', () => {
    const m = top('海虞北路18号3幢9单元901室');
    expect(m.record.full).toBe('常熟市虞山街道海虞北路18号3幢');
    expect(m.reason).toBe('building');
    expect(m.score).toBeLessThan(0.8);
  });

  it('finds a compound without its road', () => {
    const m = top('枫林苑5栋1单元301室');
    expect(m.record.full).toBe('常熟市虞山街道枫林路88号枫林苑5幢1单元301室');
    expect(m.reason).toBe('exact');
  });

  it('keeps to the compound named beside a road', () => {
    const res = index.search('枫林路桂花园5栋', 5);
    expect(res[0].record.full).toBe('常熟市虞山街道枫林路90号桂花园5幢');
    expect(res.map((m) => m.record.compound)).not.toContain('枫林苑');
  });

  it('offers the nearest door on the road when the number does not exist', () => {
    const m = top('海虞北路19号');
    expect(m.reason).toBe('road');
    expect(m.record.road).toBe('海虞北路');
    expect(m.score).toBeLessThan(0.5);
  });

  it('prefers the town named in the query when a road name repeats', () => {
    const [a, b] = index.search('辛庄镇人民路5号', 5);
    expect(a.record.town_code).toBe('320581110');
    expect(a.score).toBeGreaterThan(b.score);
    const both = index.search('人民路5号', 5);
    expect(both.slice(0, 2).map((m) => m.score)).toEqual([1, 1]);
  });

  it('locates "A与B交叉口" where the two roads meet', () => {
    const m = top('枫林路与青墩塘路交叉口');
    expect(m.reason).toBe('intersection');
    expect(distanceM(m.lon, m.lat, 120.76, 31.641)).toBeLessThan(30);
    expect(m.detail).toContain('交叉口');
  });

  it('uses road centre lines when given: the true crossing, also of a road without house numbers', () => {
    const withRoads = buildAddressIndex(records, loadGazetteer(), {
      roads: [
        { name: '海虞北路', coords: [[120.75, 31.649], [120.75, 31.655]] },
        { name: '安亭路', coords: [[120.745, 31.652], [120.755, 31.652]] }, // no addresses on it
      ],
    });
    const m = withRoads.search('安亭路与海虞北路交叉口', 3)[0];
    expect(m.reason).toBe('intersection');
    expect(distanceM(m.lon, m.lat, 120.75, 31.652)).toBeLessThan(1);
    expect(m.record.full).toBe('常熟市虞山街道海虞北路20号'); // the door at 31.652
    const road = withRoads.search('安亭路', 3)[0];
    expect(road.reason).toBe('road');
    expect(road.detail).toContain('安亭路');
  });

  it('resolves "near" a landmark to its registered address', () => {
    const m = top('虞山派出所附近');
    expect(m.reason).toBe('near');
    expect(m.record.full).toBe('常熟市虞山街道海虞北路20号');
    const park = top('枫林公园旁边');
    expect(park.reason).toBe('near');
    expect(distanceM(park.record.lon, park.record.lat, 120.7615, 31.6465)).toBeLessThan(150);
  });

  it('uses the village to place a rural address', () => {
    const m = top('吕舍村庞家湾二组17号');
    expect(m.record.full).toBe('常熟市辛庄镇吕舍村庞家湾二组17号');
    expect(m.reason).toBe('exact');
  });

  it('returns nothing for text with no address in it, and never throws', () => {
    expect(index.search('')).toEqual([]);
    expect(index.search('hello world')).toEqual([]);
    for (const q of ['号号号', '1-2-3', '与交叉口', '\u0000\uffff', '附近'.repeat(300), '路'.repeat(1000)]) {
      expect(() => index.search(q)).not.toThrow();
    }
  });

  it('keeps scores in 0..1, best first, within the limit', () => {
    const res = index.search('海虞北路18号', 3);
    expect(res.length).toBeLessThanOrEqual(3);
    for (let i = 0; i < res.length; i++) {
      expect(res[i].score).toBeGreaterThanOrEqual(0);
      expect(res[i].score).toBeLessThanOrEqual(1);
      if (i) expect(res[i].score).toBeLessThanOrEqual(res[i - 1].score);
    }
  });
});

describe('reverse', () => {
  it('returns the nearest door/building address and its grid', () => {
    const door = byFull('常熟市虞山街道海虞北路30号');
    const r = index.reverse(door.lon + 0.00003, door.lat)!; // ≈ 3 m east
    expect(r.record.full).toBe(door.full);
    expect(r.record.grid_code).toBe(door.grid_code);
    expect(r.distanceM).toBeGreaterThan(1);
    expect(r.distanceM).toBeLessThan(5);
  });

  it('answers the building, not one of its rooms, at a shared point', () => {
    const r = index.reverse(120.75013, 31.6518)!;
    expect(r.record.level).toBe('building');
  });

  it('returns null beyond the distance limit or for bad coordinates', () => {
    expect(index.reverse(121.5, 31.2)).toBeNull();
    expect(index.reverse(NaN, 31)).toBeNull();
    expect(index.reverse(200, 31)).toBeNull();
  });
});

describe('editDistance', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(editDistance('海虞北路', '海虞北路')).toBe(0);
    expect(editDistance('海虞北路', '海虞北陆')).toBe(1);
    expect(editDistance('海虞北路', '海虞路')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });
});
