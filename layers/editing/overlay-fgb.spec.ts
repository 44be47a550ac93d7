// The overlay must read exactly like a FlatGeobuf file written from scratch with the edits applied (same
// features, same order): every FgbFile method is compared against such a file.
import { describe, expect, it } from 'vitest';
import type { FieldDef } from '../catalog.ts';
import { encodeFlatGeobuf, openFlatGeobuf, type Bbox, type FgbFile } from '../formats/flatgeobuf.ts';
import type { EditFeature } from './model.ts';
import { overlayFgb } from './overlay-fgb.ts';

const FIELDS: FieldDef[] = [
  { name: 'id', type: 'string', title: 'id' },
  { name: 'name', type: 'string', title: 'name' },
  { name: 'rank', type: 'int', title: 'rank' },
];

function square(x: number, y: number, d = 0.01): GeoJSON.Polygon {
  return { type: 'Polygon', coordinates: [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]] };
}
const feat = (id: string, geometry: GeoJSON.Geometry, rank: number): GeoJSON.Feature =>
  ({ type: 'Feature', geometry, properties: { id, name: `n-${id}`, rank } });
const edit = (f: GeoJSON.Feature): EditFeature =>
  ({ type: 'Feature', id: String(f.properties!.id), geometry: f.geometry, properties: { ...f.properties } });

function file(features: GeoJSON.Feature[]): FgbFile {
  return openFlatGeobuf(encodeFlatGeobuf(features, { layerName: 't', fields: FIELDS }));
}

/** Compared id by id: the writer stores features in Hilbert order, the overlay keeps base order. */
function compare(actual: FgbFile, expected: FgbFile, boxes: Bbox[]): void {
  expect(actual.count).toBe(expected.count);
  expect(actual.columns).toEqual(expected.columns);
  const idsA = actual.column('id').map(String), idsE = expected.column('id').map(String);
  expect([...idsA].sort()).toEqual([...idsE].sort());
  const at = new Map(idsA.map((id, i) => [id, i]));
  const cols = Object.fromEntries(['id', 'name', 'rank', 'nope'].map((c) => [c, [actual.column(c), expected.column(c)]]));
  const xyA = actual.pointXY(), xyE = expected.pointXY();
  expect(xyA === null).toBe(xyE === null);
  idsE.forEach((id, j) => {
    const i = at.get(id)!;
    expect(actual.feature(i).properties).toEqual(expected.feature(j).properties);
    expect(actual.feature(i).geometry).toEqual(expected.feature(j).geometry);
    expect(actual.rawGeometry(i)).toEqual(expected.rawGeometry(j));
    for (const [a, e] of Object.values(cols)) expect(a[i]).toEqual(e[j]);
    if (xyA && xyE) expect([xyA[2 * i], xyA[2 * i + 1]]).toEqual([xyE[2 * j], xyE[2 * j + 1]]);
  });
  for (const b of boxes) {
    const found = actual.search(b);
    expect(found).toEqual([...found].sort((p, q) => p - q));
    expect(found.map((i) => idsA[i]).sort()).toEqual(expected.search(b).map((j) => idsE[j]).sort());
  }
  for (let k = 0; k < 4; k++) expect(actual.bbox[k]).toBeCloseTo(expected.bbox[k], 9);
}

const BOXES: Bbox[] = [[120.315, 30.055, 120.316, 30.056], [120, 30, 120.025, 30.025], [120.05, 30.05, 120.3, 30.3], [0, 0, 1, 1], [119, 29, 121, 31], [120.205, 30.205, 120.206, 30.206]];

describe('overlayFgb', () => {
  const polys = Array.from({ length: 12 }, (_, i) => feat(`p${i}`, square(120 + i * 0.02, 30 + i * 0.02), i));

  it('reads like a file written with the edits applied (update, delete, create)', () => {
    const moved = feat('p3', square(120.31, 30.05), 33);
    const created = feat('p-new', square(120.5, 30.5), 99);
    const edits = new Map<string, EditFeature | null>([['p3', edit(moved)], ['p7', null], ['p-new', edit(created)]]);
    const expected = file([...polys.filter((f) => !['p3', 'p7'].includes(String(f.properties!.id))), moved, created]);
    const actual = overlayFgb(file(polys), edits, FIELDS);
    compare(actual, expected, BOXES);
    // The moved feature is found at its new place and not at its old one.
    const ids = (b: Bbox) => actual.search(b).map((i) => actual.feature(i).properties!.id);
    expect(ids([120.315, 30.055, 120.316, 30.056])).toEqual(['p3']);
    expect(ids([120.065, 30.065, 120.066, 30.066])).toEqual([]);
  });

  it('is the base itself when nothing is edited, and works without a base file', () => {
    compare(overlayFgb(file(polys), new Map(), FIELDS), file(polys), BOXES);
    const created = [feat('a', square(120, 30), 1), feat('b', square(120.1, 30.1), 2)];
    compare(overlayFgb(null, new Map(created.map((f) => [String(f.properties!.id), edit(f)])), FIELDS), file(created), BOXES);
  });

  it('keeps the point fast path, and leaves out unknown and null properties', () => {
    const pts = Array.from({ length: 6 }, (_, i) => feat(`q${i}`, { type: 'Point', coordinates: [120 + i * 0.01, 30 + i * 0.01] }, i));
    const moved = feat('q2', { type: 'Point', coordinates: [120.3, 30.3] }, 5);
    const withJunk = { ...edit(moved), properties: { ...moved.properties, junk: 'x', name: null } };
    const actual = overlayFgb(file(pts), new Map([['q2', withJunk], ['q4', null]]), FIELDS);
    const expectedMoved = feat('q2', moved.geometry, 5);
    delete expectedMoved.properties!.name;
    compare(actual, file([...pts.filter((f) => !['q2', 'q4'].includes(String(f.properties!.id))), expectedMoved]), BOXES);
    expect(actual.feature(actual.count - 1).properties).toEqual({ id: 'q2', rank: 5 });
    // Base rows keep their order, edits follow.
    const base = file(pts).column('id').filter((id) => id !== 'q2' && id !== 'q4');
    expect(actual.column('id')).toEqual([...base, 'q2']);
    // A non-point edit ends the point fast path.
    expect(overlayFgb(file(pts), new Map([['x', edit(feat('x', square(120, 30), 1))]]), FIELDS).pointXY()).toBeNull();
  });

  it('does not mutate the edits it is given', () => {
    const e = edit(feat('p1', square(120.4, 30.4), 1));
    const before = JSON.stringify(e);
    const o = overlayFgb(file(polys), new Map([['p1', e]]), FIELDS);
    o.feature(o.count - 1).properties!.name = 'changed';
    expect(JSON.stringify(e)).toBe(before);
    expect(o.feature(o.count - 1).properties!.name).toBe('n-p1');
  });
});
