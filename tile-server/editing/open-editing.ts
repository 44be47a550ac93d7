// Editing inside the running server (issue 8): opens the edit store, replays the stored edits over the
// built data (EffectiveLayers), and after every change — a commit here, or one another process made (npm
// run import), picked up by sync() every 2 s — patches the tiles, the spatial store and tells the clients.
import { getLayer, type Tileset } from '../../layers/catalog.ts';
import type { Bbox } from '../../layers/formats/flatgeobuf.ts';
import type { FeatureVersion, LayerChange } from '../../layers/editing/model.ts';
import type { LiveHub, LiveMessage } from '../live-feed.ts';
import type { SpatialStore } from '../storage/spatial-store.ts';
import type { TileService } from '../tile-route.ts';
import { EditApi } from './api.ts';
import { openEditStore, type EditStore } from './edit-store.ts';
import type { EffectiveLayers } from './effective.ts';
import { EditService } from './service.ts';

/** How often commits of other processes are picked up. */
export const SYNC_INTERVAL_MS = 2000;

export interface Editing {
  service: EditService;
  api: EditApi;
  store: EditStore;
  close(): Promise<void>;
}

export interface EditingDeps {
  effective: EffectiveLayers;
  writes: SpatialEditQueue;
  tiles: TileService;
  live: LiveHub;
  clock: () => number;
  log: (msg: string) => void;
  databaseUrl: string | null;
  file?: string;
  /** 0 = never (tests call service.sync()). */
  syncIntervalMs?: number;
}

/**
 * Wires the effective layers to tiles / spatial store / live feed (so it must run before any edit is
 * applied), then opens the store and replays what it holds.
 */
export async function openEditing(d: EditingDeps): Promise<Editing> {
  const { effective, writes, tiles, live, log } = d;
  let replaying = true;
  effective.onApplied((changes) => {
    for (const c of changes) onLayerChanged(c);
  });

  function onLayerChanged(c: LayerChange): void {
    const def = getLayer(c.layer);
    const tileset = def?.tiles?.tileset as Tileset | undefined;
    // What is known now (previous edit and new geometry) at once; the built geometry's extent once the
    // footprint (which reads the built file's id column) is ready — a tile cached in between is caught then.
    if (tileset) tiles.invalidate(tileset, c.bboxes);
    const ids = new Set(c.ids);
    const quiet = replaying; // the start-up replay is nothing new to the clients
    writes.push(c.layer, c.versions);
    effective.footprint(c.layer).then((fp) => {
      const boxes: Bbox[] = [...c.bboxes];
      for (const id of ids) { const b = fp.get(id); if (b) boxes.push(b); }
      if (tileset) tiles.invalidate(tileset, boxes);
      if (quiet) return;
      const bbox = unionAll(boxes);
      live.broadcast({ type: 'layers', op: 'changed', layer: c.layer, revision: c.revision, ids: c.ids, bbox });
    }, (e: Error) => log(`图层 ${c.layer} 的编辑范围计算失败 footprint failed: ${e.message}`));
  }

  const store = await openEditStore({ databaseUrl: d.databaseUrl, file: d.file });
  let timer: NodeJS.Timeout | undefined;
  try {
    const t0 = performance.now();
    // The seq first: a commit landing between the two reads is then re-read by sync() (apply ignores repeats).
    const startSeq = await store.maxSeq();
    const current = await store.current();
    effective.apply(current);
    await writes.settled();
    replaying = false;
    if (current.length) log(`已重放 ${current.length} 个编辑要素 replayed ${current.length} edited features (${store.kind}) in ${Math.round(performance.now() - t0)} ms`);
    const service = new EditService({ store, view: effective, clock: d.clock, startSeq });
    const api = new EditApi({ service });
    const every = d.syncIntervalMs ?? SYNC_INTERVAL_MS;
    let syncing: Promise<unknown> | null = null;
    if (every > 0) {
      timer = setInterval(() => {
        if (syncing) return;
        syncing = service.sync().catch((e: Error) => log(`编辑同步失败 edit sync failed: ${e.message}`)).finally(() => { syncing = null; });
      }, every);
      timer.unref();
    }
    return {
      service, api, store,
      close: async () => {
        if (timer) clearInterval(timer);
        await syncing;
        await writes.settled();
        await store.close();
      },
    };
  } catch (e) {
    await store.close().catch(() => {});
    throw e;
  }
}

/** Edits written to the spatial store in commit order; reads wait for them (`awaitingWrites`). */
export class SpatialEditQueue {
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly store: SpatialStore | null, private readonly log: (msg: string) => void) {}

  push(layer: string, versions: FeatureVersion[]): void {
    const store = this.store;
    if (!store?.applyEdits) return;
    const changes = versions.map((v) => ({ id: v.id, feature: v.deleted ? null : v.feature }));
    // Reads wait for the chain (awaitingWrites), so a query right after a save already sees it.
    this.chain = this.chain.then(() => store.applyEdits!(layer, changes)).catch((e: Error) => {
      this.log(`空间查询存储未能更新图层 ${layer}（查询可能显示旧数据，重启服务会重放编辑）spatial store update failed: ${e.message}`);
    });
  }

  /** Resolves once every write queued so far is done. */
  settled(): Promise<void> {
    return this.chain;
  }
}

/** A spatial store whose reads wait for queued edit writes, so a query right after a save sees it (PostGIS writes are async). */
export function awaitingWrites(store: SpatialStore, pending: () => Promise<void>): SpatialStore {
  const wrap = <A extends unknown[], R>(fn: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => { await pending(); return fn(...a); };
  return {
    ...store,
    kind: store.kind,
    layers: () => store.layers(),
    adminAt: wrap(store.adminAt.bind(store)),
    gridCodesAt: wrap(store.gridCodesAt.bind(store)),
    nearest: wrap(store.nearest.bind(store)),
    query: wrap(store.query.bind(store)),
    points: wrap(store.points.bind(store)),
    getFeature: wrap(store.getFeature.bind(store)),
    warm: store.warm?.bind(store),
    applyEdits: store.applyEdits?.bind(store),
    close: () => store.close(),
  };
}

function unionAll(boxes: Bbox[]): Bbox | null {
  if (!boxes.length) return null;
  const b: Bbox = [Infinity, Infinity, -Infinity, -Infinity];
  for (const x of boxes) { b[0] = Math.min(b[0], x[0]); b[1] = Math.min(b[1], x[1]); b[2] = Math.max(b[2], x[2]); b[3] = Math.max(b[3], x[3]); }
  return b;
}
