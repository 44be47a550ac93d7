// The embedded SpatialStore: the FlatGeobuf files in the data folder + in-memory indexes (layers/query).
// Indexes are built lazily per layer on first use — never at server start: the addresses file is 200 MB
// and takes seconds — and concurrent first calls share one build.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { getLayer, LAYERS } from '../../layers/catalog.ts';
import { openFlatGeobuf, type FgbFile } from '../../layers/formats/flatgeobuf.ts';
import { AdminLookup } from '../../layers/query/admin-lookup.ts';
import { QueryInputError } from '../../layers/query/filters.ts';
import { LayerIndex } from '../../layers/query/layer-index.ts';
import type { AdminHit, AdminUnit, GridUnit } from '../../layers/query/types.ts';
import type { SpatialStore } from './spatial-store.ts';

/** Point layers /api/lookup asks about (tile-server/query-api.ts lookupAt), warmed by `warm()`. */
const LOOKUP_LAYERS = ['addresses', 'cameras', 'sensors', 'facilities', 'incidents'];

export interface EmbeddedStoreOptions {
  log?(msg: string): void;
  /**
   * Where a layer's data comes from: the effective (edited) file once editing is on
   * (tile-server/editing/effective.ts `file`). Default: the built file in `dataDir`.
   */
  file?(layer: string): Promise<FgbFile>;
}

export async function openEmbeddedStore(dataDir: string, opts: EmbeddedStoreOptions = {}): Promise<SpatialStore> {
  const log = opts.log ?? (() => {});
  const present: string[] = [];
  for (const l of LAYERS) {
    try { if ((await stat(join(dataDir, l.fgb))).isFile()) present.push(l.id); } catch { /* not built: not offered */ }
  }
  const files = new Map<string, Promise<FgbFile>>();
  const indexes = new Map<string, Promise<LayerIndex>>();
  const admins = new Map<string, Promise<AdminLookup | null>>();

  const source = opts.file;
  const openFile = (id: string): Promise<FgbFile> => {
    let p = files.get(id);
    if (!p) {
      const def = getLayer(id)!;
      p = source ? source(id) : readFile(join(dataDir, def.fgb)).then((b) => openFlatGeobuf(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)));
      p.catch(() => files.delete(id)); // a rebuilt file can be retried
      files.set(id, p);
    }
    return p;
  };
  const layerDef = (id: string) => {
    const def = getLayer(id);
    if (!def || !present.includes(id)) {
      throw new QueryInputError('unknown_layer', `未知图层 ${JSON.stringify(id)}；可用：${present.join(', ')}。 Unknown layer; use one of the listed ids.`);
    }
    return def;
  };
  const index = (id: string): Promise<LayerIndex> => {
    const def = layerDef(id);
    let p = indexes.get(id);
    if (!p) {
      p = openFile(id).then((f) => {
        const t = performance.now();
        const ix = LayerIndex.build(def, f);
        log(`query index ${id}: ${ix.count} features in ${Math.round(performance.now() - t)} ms`);
        return ix;
      });
      p.catch(() => indexes.delete(id));
      indexes.set(id, p);
    }
    return p;
  };
  const admin = (id: 'towns' | 'villages' | 'grids'): Promise<AdminLookup | null> => {
    let p = admins.get(id);
    if (!p) {
      p = present.includes(id)
        ? openFile(id).then((f) => {
          const t = performance.now();
          const a = AdminLookup.build(f, { codeField: 'code', cells: id === 'grids' ? 2048 : 1024 });
          log(`admin lookup ${id}: ${a.count} polygons in ${Math.round(performance.now() - t)} ms (${(a.fastShare() * 100).toFixed(1)} % cells direct)`);
          return a;
        })
        : Promise.resolve(null);
      p.catch(() => admins.delete(id));
      admins.set(id, p);
    }
    return p;
  };
  const unit = (a: AdminLookup | null, lon: number, lat: number): { i: number; u: AdminUnit } | null => {
    if (!a) return null;
    const i = a.indexAt(lon, lat);
    if (i < 0) return null;
    return { i, u: { code: a.code(i), name: String(a.properties(i).name ?? '') } };
  };

  return {
    kind: 'embedded',
    layers: () => [...present],
    async adminAt(lon, lat) {
      const [t, v, g] = await Promise.all([admin('towns'), admin('villages'), admin('grids')]);
      const town = unit(t, lon, lat), village = unit(v, lon, lat), grid = unit(g, lon, lat);
      let gridUnit: GridUnit | null = null;
      if (grid) {
        const p = g!.properties(grid.i);
        gridUnit = {
          ...grid.u,
          manager: p.manager_id ? { id: String(p.manager_id), name: String(p.manager_name ?? ''), phone: String(p.manager_phone ?? '') } : null,
        };
      }
      const hit: AdminHit = { town: town?.u ?? null, village: village?.u ?? null, grid: gridUnit };
      return hit;
    },
    async gridCodesAt(lons, lats) {
      if (lons.length !== lats.length) throw new RangeError(`gridCodesAt: ${lons.length} longitudes but ${lats.length} latitudes`);
      const g = await admin('grids');
      const out: (string | null)[] = new Array(lons.length);
      for (let i = 0; i < lons.length; i++) out[i] = g ? g.codeAt(lons[i], lats[i]) : null;
      return out;
    },
    async nearest(spec) { return (await index(spec.layer)).nearest(spec); },
    async query(spec) { return (await index(spec.layer)).query(spec); },
    async points(spec) { return (await index(spec.layer)).points(spec); },
    async getFeature(layer, id) { return (await index(layer)).get(id); },
    async warm() {
      // One at a time: each build is synchronous, so requests still get served between them.
      for (const id of ['towns', 'villages', 'grids'] as const) await admin(id);
      for (const id of LOOKUP_LAYERS) if (present.includes(id)) await index(id);
    },
    async applyEdits(layer) {
      // The effective file already holds the edits; what was built from the old one is dropped and
      // rebuilt on next use (grids: ~2.9k polygons, well under a second). Only built layers are queried.
      files.delete(layer);
      indexes.delete(layer);
      admins.delete(layer);
    },
    async close() { files.clear(); indexes.clear(); admins.clear(); },
  };
}
