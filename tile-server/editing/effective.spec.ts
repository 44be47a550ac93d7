// EffectiveLayers: the view the edit service validates against and every reader serves from.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getLayer } from '../../layers/catalog.ts';
import { encodeFlatGeobuf } from '../../layers/formats/flatgeobuf.ts';
import type { FeatureVersion, LayerChange } from '../../layers/editing/model.ts';
import { FeatureLayer } from '../feature-store.ts';
import { EffectiveLayers } from './effective.ts';

const def = getLayer('facilities')!;
const dir = mkdtempSync(join(tmpdir(), 'onemap-effective-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pt = (id: string, x: number, y: number, grid = 'g1') =>
  ({ type: 'Feature' as const, id, geometry: { type: 'Point' as const, coordinates: [x, y] }, properties: { id, name: `设施 ${id}`, kind: 'k', grid_code: grid } });
writeFileSync(join(dir, def.fgb), encodeFlatGeobuf([pt('f1', 120.1, 31.1), pt('f2', 120.2, 31.2, 'g2'), pt('f3', 120.3, 31.3)], { layerName: 'facilities', fields: def.fields }));

let seq = 0;
const version = (id: string, v: number, f: ReturnType<typeof pt> | null): FeatureVersion =>
  ({ layer: 'facilities', id, version: v, deleted: !f, feature: f, op: f ? 'update' : 'delete', actor: 'planner:t', at: 0, seq: ++seq });

describe('EffectiveLayers', () => {
  const fl = new FeatureLayer(def, join(dir, def.fgb));
  const view = new EffectiveLayers(dir, new Map([['facilities', fl]]));
  fl.attach(view);
  const heard: LayerChange[] = [];
  view.onApplied((c) => heard.push(...c));

  it('answers from the built data at version 0 while unedited', async () => {
    expect(view.revision('facilities')).toBe(0);
    expect(await view.feature('facilities', 'f2')).toMatchObject({ version: 0, feature: { id: 'f2', geometry: { coordinates: [120.2, 31.2] } } });
    expect(await view.feature('facilities', 'nope')).toBeNull();
    expect((await view.where('facilities', 'grid_code', 'g1')).map((f) => f.id).sort()).toEqual(['f1', 'f3']);
    expect(await fl.open()).toBe(await fl.base());
  });

  it('applies updates, creations and deletions for every reader at once', async () => {
    view.apply([version('f1', 1, pt('f1', 120.5, 31.5, 'g2')), version('f3', 1, null), version('f9', 1, pt('f9', 120.6, 31.6))]);
    expect(view.revision('facilities')).toBe(seq);
    expect(view.revision()).toBe(seq);
    expect(await view.feature('facilities', 'f1')).toMatchObject({ version: 1, feature: { geometry: { coordinates: [120.5, 31.5] } } });
    expect(await view.feature('facilities', 'f3')).toBeNull();
    expect((await view.search('facilities', [120.05, 31.05, 120.15, 31.15])).map((f) => f.id)).toEqual([]);
    expect((await view.search('facilities', [120, 31, 121, 32])).map((f) => f.id).sort()).toEqual(['f1', 'f2', 'f9']);
    expect((await view.where('facilities', 'grid_code', 'g2')).map((f) => f.id).sort()).toEqual(['f1', 'f2']);
    expect(await view.baseFeature('facilities', 'f1')).toMatchObject({ geometry: { coordinates: [120.1, 31.1] } });
    // The feature API reads the same.
    expect(await fl.indexOf('f3')).toBeUndefined();
    const f = await fl.open();
    expect(f.feature((await fl.indexOf('f1'))!).geometry).toEqual({ type: 'Point', coordinates: [120.5, 31.5] });
    expect((await fl.editedBytes())!.etag).toContain(`r${seq}`);
    // Listeners hear which ids changed where.
    expect(heard.at(-1)).toMatchObject({ layer: 'facilities', revision: seq, ids: ['f1', 'f3', 'f9'] });
  });

  it('ignores versions older than the one held (a replay after sync)', async () => {
    const before = view.revision('facilities');
    const n = heard.length;
    view.apply([{ ...version('f1', 1, pt('f1', 1, 1)), seq: 1 }]);
    expect(view.revision('facilities')).toBe(before);
    expect(heard.length).toBe(n);
    expect((await view.feature('facilities', 'f1'))!.feature.geometry).toEqual({ type: 'Point', coordinates: [120.5, 31.5] });
  });

  it('knows the footprint of every edited feature, built geometry included', async () => {
    const fp = await view.footprint('facilities');
    expect(fp.get('f1')).toEqual([120.1, 31.1, 120.5, 31.5]);
    expect(fp.get('f3')).toEqual([120.3, 31.3, 120.3, 31.3]);
    expect(fp.get('f9')).toEqual([120.6, 31.6, 120.6, 31.6]);
    expect(fp.has('f2')).toBe(false);
  });

  it('returns copies: changing an answer does not change the view', async () => {
    const a = (await view.feature('facilities', 'f1'))!;
    (a.feature.geometry as GeoJSON.Point).coordinates[0] = 0;
    a.feature.properties.name = 'x';
    expect((await view.feature('facilities', 'f1'))!.feature).toMatchObject({ geometry: { coordinates: [120.5, 31.5] }, properties: { name: '设施 f1' } });
  });
});
