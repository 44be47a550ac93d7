// The edit service (issue 8): rights, validation, auto-filled admin codes, versioned atomic commits, conflicts
// with both versions, history, restore, audit, and the feed of other processes' commits. HTTP-free: the API
// (api.ts), the importer (layers/import, scripts/import.ts) and tests call it directly.
//
// Writes in one process run one at a time (a promise chain): the partition check of a batch must see the
// state its commit applies to; two requests editing neighbouring grids at once would otherwise each pass
// against the old neighbour and together overlap. Other processes are caught by the store's version check.
import { canEdit, getLayer, type LayerDef, type Role } from '../../layers/catalog.ts';
import { geometryBbox, type Bbox } from '../../layers/formats/flatgeobuf.ts';
import { newFeatureId, type EditChange, type EditFeature, type FeatureVersion, type LayerChange, type ValidationIssue, type VersionConflict } from '../../layers/editing/model.ts';
import { checkPartition, checkWithinGrid } from '../../layers/editing/topology.ts';
import { hasErrors, rewind, validateGeometry, validateProperties } from '../../layers/editing/validate.ts';
import type { Actor } from '../../layers/incidents/model.ts';
import { fromGeoJSON, INSIDE, locate, OUTSIDE, prepare } from '../../layers/query/geometry.ts';
import { EditConflictError, type AuditEntry, type CommitItem, type EditStore } from './edit-store.ts';

export interface EffectiveView {
  feature(layer: string, id: string): Promise<{ feature: EditFeature; version: number } | null>;   // null = absent or deleted
  search(layer: string, bbox: [number, number, number, number]): Promise<EditFeature[]>;          // edits applied
  where(layer: string, field: string, value: string): Promise<EditFeature[]>;                        // e.g. grids of a village
  /** Called by the service right after a commit (synchronously, before the next request is served). */
  apply(versions: FeatureVersion[]): void;
  /** Addition to the pinned interface (optional): the feature as built (version 0), edits ignored; history
   *  shows it as version 0 and restore can go back to it. */
  baseFeature?(layer: string, id: string): Promise<EditFeature | null>;
}

export class EditError extends Error {
  constructor(readonly status: 400 | 403 | 404 | 409 | 422, readonly code: string, message: string, readonly details?: Record<string, unknown>) {
    super(message);
    this.name = 'EditError';
  }
}

export interface EditServiceDeps {
  store: EditStore; view: EffectiveView; clock: () => number; onCommit?: (changes: LayerChange[]) => void;
  /** Addition: the store seq the view already reflects (the server loaded store.current() into it). Default:
   *  store.maxSeq() when the service starts. sync() applies what comes after. */
  startSeq?: number;
}

/** Feature ids: what the built data uses (digits, codes) and what imports bring; safe in URLs and logs. */
export const FEATURE_ID_RE = /^[A-Za-z0-9_.:@-]{1,128}$/;
/** Admin-code fields filled from the location when empty, and where their value comes from. */
const CODE_FIELDS: readonly { field: string; layer: string }[] = [
  { field: 'grid_code', layer: 'grids' }, { field: 'village_code', layer: 'villages' }, { field: 'town_code', layer: 'towns' },
];
const SYNC_PAGE = 5000;
/** The built data's pseudo-author in history (version 0). */
export const BUILD_ACTOR = 'system:build';

const actorString = (a: Actor) => `${a.role}:${a.id}`;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const empty = (v: unknown) => v === undefined || v === null || v === '';

interface Planned {
  items: CommitItem[];
  befores: (EditFeature | null)[];
  /** The change each item came from (the 409's `yours`). */
  sources: EditChange[];
  issues: ValidationIssue[];
}

interface PlanOpts { dry: boolean; op?: 'import' | 'restore'; comment?: string; onProgress?: (done: number, total: number) => void }

export class EditService {
  private readonly d: EditServiceDeps;
  private queue: Promise<unknown> = Promise.resolve();
  private cursor = 0;
  private rev = 0;
  /** seqs this process committed and applied that the sync cursor has not passed yet. */
  private readonly own = new Set<number>();
  private readonly ready: Promise<void>;

  constructor(deps: EditServiceDeps) {
    this.d = deps;
    this.ready = (deps.startSeq !== undefined ? Promise.resolve(deps.startSeq) : deps.store.maxSeq()).then((s) => {
      this.cursor = Math.max(this.cursor, s);
      this.rev = Math.max(this.rev, s);
    });
    this.ready.catch(() => {});
  }

  /** Runs `fn` after every earlier write of this process. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => this.ready).then(fn);
    this.queue = run.catch(() => {});
    return run;
  }

  private layerDef(layer: string): LayerDef {
    const def = typeof layer === 'string' ? getLayer(layer) : undefined;
    if (!def) throw new EditError(404, 'unknown_layer', `没有图层「${String(layer).slice(0, 64)}」；可编辑的图层见 GET /api/layers。No layer "${String(layer).slice(0, 64)}"; see GET /api/layers.`);
    return def;
  }

  async get(layer: string, id: string): Promise<{ feature: EditFeature; version: number } | null> {
    this.layerDef(layer);
    return this.d.view.feature(layer, id);
  }

  create(layer: string, feature: { id?: string; geometry: GeoJSON.Geometry; properties: Record<string, unknown> }, actor: Actor, opts: { comment?: string } = {}): Promise<FeatureVersion> {
    const change: EditChange = { op: 'create', feature: { geometry: feature?.geometry, properties: feature?.properties } };
    if (feature?.id !== undefined) change.id = feature.id;
    return this.batch(layer, [change], actor, opts).then((v) => v[0]);
  }

  update(layer: string, id: string, feature: { geometry: GeoJSON.Geometry; properties: Record<string, unknown> }, basedOn: number, actor: Actor, opts: { comment?: string } = {}): Promise<FeatureVersion> {
    return this.batch(layer, [{ op: 'update', id, version: basedOn, feature: { geometry: feature?.geometry, properties: feature?.properties } }], actor, opts).then((v) => v[0]);
  }

  remove(layer: string, id: string, basedOn: number, actor: Actor, opts: { comment?: string } = {}): Promise<FeatureVersion> {
    return this.batch(layer, [{ op: 'delete', id, version: basedOn }], actor, opts).then((v) => v[0]);
  }

  batch(layer: string, changes: EditChange[], actor: Actor, opts: { comment?: string; op?: 'import'; onProgress?: (done: number, total: number) => void } = {}): Promise<FeatureVersion[]> {
    return this.exclusive(async () => {
      const def = this.layerDef(layer);
      const plan = await this.plan(def, changes, actor, { dry: false, op: opts.op, comment: opts.comment, onProgress: opts.onProgress });
      return this.commit(def, plan, actor, opts.op === 'import' ? 'import' : changes.length === 1 ? changes[0].op : 'batch', opts.comment);
    });
  }

  validate(layer: string, changes: EditChange[], actor: Actor): Promise<ValidationIssue[]> {
    return this.exclusive(async () => (await this.plan(this.layerDef(layer), changes, actor, { dry: true })).issues);
  }

  async history(layer: string, id: string): Promise<FeatureVersion[]> {
    this.layerDef(layer);
    if (typeof id !== 'string' || !FEATURE_ID_RE.test(id)) throw unknownFeature(layer, String(id));
    const stored = await this.d.store.history(layer, id);
    let base: EditFeature | null = null;
    if (stored.length === 0) {
      const cur = await this.d.view.feature(layer, id);
      if (cur && cur.version === 0) base = cur.feature;
    } else if (this.d.view.baseFeature) {
      base = await this.d.view.baseFeature(layer, id);
    }
    if (!stored.length && !base) throw unknownFeature(layer, id);
    const out = base ? [{ layer, id, version: 0, deleted: false, feature: base, op: 'import' as const, actor: BUILD_ACTOR, at: 0, seq: 0 }] : [];
    return [...out, ...stored];
  }

  restore(layer: string, id: string, toVersion: number, basedOn: number, actor: Actor): Promise<FeatureVersion> {
    return this.exclusive(async () => {
      const def = this.layerDef(layer);
      if (!Number.isSafeInteger(toVersion) || toVersion < 0) throw new EditError(400, 'bad_version', '要恢复到的版本须为 ≥ 0 的整数。The version to restore must be an integer ≥ 0.');
      const target = (await this.history(layer, id)).find((v) => v.version === toVersion);
      if (!target) throw new EditError(404, 'unknown_version', `要素 ${id} 没有版本 ${toVersion}；见其历史。Feature ${id} has no version ${toVersion}; see its history.`);
      if (!target.feature) throw new EditError(422, 'cannot_restore_deletion', `版本 ${toVersion} 是删除记录；请恢复到它之前的版本。Version ${toVersion} is a deletion; restore an earlier version.`);
      const change: EditChange = { op: 'update', id, version: basedOn, feature: { geometry: target.feature.geometry, properties: target.feature.properties } };
      const plan = await this.plan(def, [change], actor, { dry: false, op: 'restore', comment: `恢复到版本 ${toVersion} / restore version ${toVersion}` });
      return (await this.commit(def, plan, actor, 'restore', `restore ${toVersion}`))[0];
    });
  }

  async audit(f: { layer?: string; actor?: string; since?: number; limit?: number }): Promise<AuditEntry[]> {
    const limit = Math.min(1000, Math.max(1, Math.trunc(f.limit ?? 100)));
    return this.d.store.audit({ layer: f.layer, actor: f.actor, since: f.since, limit });
  }

  sync(): Promise<LayerChange[]> {
    return this.exclusive(async () => {
      const applied: { v: FeatureVersion; before: EditFeature | null }[] = [];
      for (;;) {
        const page = await this.d.store.changesSince(this.cursor, SYNC_PAGE);
        if (!page.length) break;
        const fresh: FeatureVersion[] = [];
        const befores: (EditFeature | null)[] = [];
        for (const v of page) {
          if (this.own.has(v.seq)) continue;
          const cur = await this.d.view.feature(v.layer, v.id);
          if (cur && cur.version >= v.version) continue;
          fresh.push(v);
          befores.push(cur?.feature ?? null);
        }
        if (fresh.length) this.d.view.apply(fresh);
        fresh.forEach((v, i) => applied.push({ v, before: befores[i] }));
        this.cursor = page[page.length - 1].seq;
        this.rev = Math.max(this.rev, this.cursor);
        for (const s of this.own) if (s <= this.cursor) this.own.delete(s);
        if (page.length < SYNC_PAGE) break;
      }
      if (!applied.length) return [];
      const changes = layerChanges(applied);
      this.d.onCommit?.(changes);
      return changes;
    });
  }

  revision(): number {
    return this.rev;
  }

  // ------------------------------------------------------------------------------------------ internals

  private async commit(def: LayerDef, plan: Planned, actor: Actor, action: string, comment?: string): Promise<FeatureVersion[]> {
    const errors = plan.issues.filter((i) => i.severity === 'error');
    if (errors.length) {
      throw new EditError(422, 'validation_failed', `校验未通过（${errors.length} 个问题），未保存：${errors[0].message}`, { issues: plan.issues });
    }
    const at = this.d.clock();
    const ids = plan.items.map((i) => i.id);
    let versions: FeatureVersion[];
    try {
      versions = await this.d.store.commit(plan.items, at, {
        actor: actorString(actor), action, layer: def.id, id: ids.length === 1 ? ids[0] : null,
        detail: { count: ids.length, ids: ids.slice(0, 50), ...(comment ? { comment } : {}) },
      });
    } catch (e) {
      if (e instanceof EditConflictError) {
        const k = plan.items.findIndex((i) => i.id === e.id);
        const item = plan.items[k];
        const change: EditChange = plan.sources[k] ?? { op: 'update', id: e.id };
        await this.auditQuietly({ at, actor: actorString(actor), action: 'conflict', layer: def.id, id: e.id, detail: { basedOn: item?.expectVersion ?? null, current: e.current?.version ?? 0 } });
        throw conflictError(e.id, item?.expectVersion ?? 0, change, e.current ? {
          version: e.current.version, deleted: e.current.deleted, feature: e.current.feature, actor: e.current.actor, at: e.current.at,
        } : null);
      }
      throw e;
    }
    for (const v of versions) this.own.add(v.seq);
    this.d.view.apply(versions);
    this.rev = Math.max(this.rev, ...versions.map((v) => v.seq));
    const changes = layerChanges(versions.map((v, i) => ({ v, before: plan.befores[i] })));
    this.d.onCommit?.(changes);
    return versions;
  }

  private async auditQuietly(e: Omit<AuditEntry, 'seq'>): Promise<void> {
    // The audit of a refused request must not turn a clear 403/409 into a 500.
    await this.d.store.addAudit(e).catch(() => {});
  }

  /**
   * Checks every change (shape → 400; rights → 403; versions → 409; validation → issues) and builds the commit.
   * A dry run turns rights and version problems into issues and throws only for malformed input.
   */
  private async plan(def: LayerDef, changes: EditChange[], actor: Actor, o: PlanOpts): Promise<Planned> {
    const layer = def.id;
    const issues: ValidationIssue[] = [];
    const fail = async (err: EditError, featureId?: string): Promise<void> => {
      if (!o.dry) {
        if (err.status === 403 || err.code === 'version_conflict') {
          await this.auditQuietly({ at: this.d.clock(), actor: actorString(actor), action: err.status === 403 ? 'denied' : 'conflict', layer, id: featureId ?? null,
            detail: err.status === 403 ? { code: err.code } : { basedOn: err.details?.basedOn ?? null, current: (err.details?.current as { version?: number } | null)?.version ?? 0 } });
        }
        throw err;
      }
      const i: ValidationIssue = { code: err.code, severity: 'error', message: err.message };
      if (featureId !== undefined) i.featureId = featureId;
      issues.push(i);
    };
    if (!Array.isArray(changes) || changes.length === 0) throw new EditError(400, 'bad_changes', 'changes 须为非空数组。changes must be a non-empty array of {op, id?, version?, feature?}.');
    if (def.edit && canEdit(def, actor.role as Role) && actor.role === 'planner' && actor.layers && !actor.layers.includes(def.id)) {
      // A planner scoped to some layers (issue 9: the user's `layers`).
      await fail(new EditError(403, 'edit_forbidden', `图层「${def.title}」不在您负责的图层内（${actor.layers.join('、')}）。Layer ${def.id} is not one of your layers.`));
      if (o.dry) return { items: [], befores: [], sources: [], issues };
    }
    if (!def.edit || !canEdit(def, actor.role as Role)) {
      const who = def.edit ? `可编辑角色：${def.edit.roles.join('、')}` : '此图层只读';
      await fail(new EditError(403, 'edit_forbidden', `角色 ${actor.role} 不能编辑「${def.title}」（${who}）。Role ${actor.role} may not edit ${def.id}.`));
      if (o.dry) return { items: [], befores: [], sources: [], issues };
    }
    const managed = def.edit?.gridScoped && actor.role === 'grid_manager' ? await this.managedGrids(actor) : null;
    const items: CommitItem[] = [];
    const befores: (EditFeature | null)[] = [];
    const sources: EditChange[] = [];
    const seen = new Set<string>();
    let nextAuto = 0;
    const geometryOk = new Set<string>();
    for (let k = 0; k < changes.length; k++) {
      const c = changes[k];
      if (!isObj(c) || (c.op !== 'create' && c.op !== 'update' && c.op !== 'delete')) {
        throw new EditError(400, 'bad_change', `第 ${k + 1} 项：op 须为 create、update 或 delete。Change ${k + 1}: op must be create, update or delete.`);
      }
      for (const key of Object.keys(c)) {
        if (!['op', 'id', 'version', 'feature'].includes(key)) throw new EditError(400, 'bad_change', `第 ${k + 1} 项有未知字段「${key.slice(0, 40)}」。Change ${k + 1}: unknown field "${key.slice(0, 40)}" (allowed: op, id, version, feature).`);
      }
      if (c.id !== undefined && (typeof c.id !== 'string' || !FEATURE_ID_RE.test(c.id))) {
        throw new EditError(400, 'bad_id', `第 ${k + 1} 项：id 须为 1–128 个字母、数字或 _.:@-。Change ${k + 1}: id must be 1–128 of [A-Za-z0-9_.:@-].`);
      }
      if (c.op !== 'create' && c.id === undefined) throw new EditError(400, 'missing_id', `第 ${k + 1} 项（${c.op}）缺少 id。Change ${k + 1} (${c.op}) needs an id.`);
      if (c.op !== 'create' && (!Number.isSafeInteger(c.version) || (c.version as number) < 0)) {
        throw new EditError(400, 'missing_version', `第 ${k + 1} 项（${c.op}）须带所依据的版本号 version（整数 ≥ 0，读取要素时得到）。Change ${k + 1} (${c.op}) needs the version it is based on (integer ≥ 0, from the read).`);
      }
      if (c.op === 'create' && c.version !== undefined && c.version !== 0) throw new EditError(400, 'bad_version', `第 ${k + 1} 项：新建要素的 version 只能省略或为 0。Change ${k + 1}: a create has no version (or 0).`);
      if (c.op !== 'delete' && (!isObj(c.feature) || !('geometry' in c.feature) || !('properties' in c.feature))) {
        throw new EditError(400, 'missing_feature', `第 ${k + 1} 项（${c.op}）须带 feature: {geometry, properties}。Change ${k + 1} (${c.op}) needs feature: {geometry, properties}.`);
      }
      if (c.op === 'delete' && c.feature !== undefined) throw new EditError(400, 'bad_change', `第 ${k + 1} 项：删除不带 feature。Change ${k + 1}: a delete carries no feature.`);

      // Id and the state it is based on.
      let id = c.id;
      let expect: number;
      let before: EditFeature | null = null;
      if (c.op === 'create') {
        if (id === undefined) {
          do id = newFeatureId(layer, this.rev + 1 + nextAuto++);
          while (seen.has(id) || await this.d.view.feature(layer, id) || await this.d.store.latest(layer, id));
          expect = 0;
        } else {
          const cur = await this.d.view.feature(layer, id);
          if (cur) {
            await fail(new EditError(409, 'feature_exists', `要素 ${id} 已存在；要修改请用 PUT（update）。Feature ${id} already exists; update it instead.`, { id }), id);
            continue;
          }
          expect = (await this.d.store.latest(layer, id))?.version ?? 0;   // a tombstone: create again after it
        }
      } else {
        const cur = await this.d.view.feature(layer, id!);
        const basedOn = c.version as number;
        if (cur) {
          before = cur.feature;
          if (cur.version !== basedOn) {
            const st = cur.version > 0 ? await this.d.store.latest(layer, id!) : null;
            await fail(conflictError(id!, basedOn, c, { version: cur.version, deleted: false, feature: cur.feature, actor: st?.actor ?? BUILD_ACTOR, at: st?.at ?? 0 }), id);
            continue;
          }
        } else {
          const st = await this.d.store.latest(layer, id!);
          if (!st) { await fail(unknownFeature(layer, id!), id); continue; }
          if (st.version !== basedOn) {
            await fail(conflictError(id!, basedOn, c, { version: st.version, deleted: st.deleted, feature: st.feature, actor: st.actor, at: st.at }), id);
            continue;
          }
          // Deleted at exactly the version the client saw: only restore may bring it back.
          if (o.op !== 'restore') { await fail(new EditError(404, 'feature_deleted', `要素 ${id} 已删除；如需恢复请用历史中的恢复。Feature ${id} is deleted; restore it from its history.`, { id }), id); continue; }
        }
        expect = basedOn;
      }
      if (seen.has(id!)) throw new EditError(400, 'duplicate_id', `要素 ${id} 在同一批次中出现多次。Feature ${id} appears more than once in the batch.`);
      seen.add(id!);

      // The new feature: rewound, schema-checked, codes filled from the location.
      let next: EditFeature | null = null;
      if (c.op !== 'delete') {
        const f = c.feature!;
        // Orientation is fixed, not reported: only once the structure is known to be sound (validateGeometry
        // reports ring_orientation only then), so rewind never walks malformed coordinates.
        let geometry = f.geometry as GeoJSON.Geometry;
        let geomIssues = validateGeometry(def.geometry, geometry, id);
        if (geomIssues.some((i) => i.code === 'ring_orientation')) {
          geometry = rewind(geometry);
          geomIssues = validateGeometry(def.geometry, geometry, id);
        }
        const props = validateProperties(def, f.properties, id);
        issues.push(...geomIssues, ...props.issues);
        next = { type: 'Feature', id: id!, geometry, properties: props.properties };
        if (!hasErrors(geomIssues)) {
          geometryOk.add(id!);
          await this.fillCodes(def, next);
          if (def.edit?.withinGrid) {
            const gc = next.properties.grid_code;
            const grid = typeof gc === 'string' && gc ? (await this.d.view.where('grids', 'code', gc))[0] ?? null : null;
            issues.push(...checkWithinGrid(next, grid));
          }
        }
      }

      // Grid managers: the feature's grid before and after must be theirs.
      if (managed) {
        for (const f of [before, next]) {
          if (!f) continue;
          const gc = f.properties.grid_code;
          if (typeof gc !== 'string' || !managed.has(gc)) {
            await fail(new EditError(403, 'edit_forbidden', `网格员只能编辑自己网格内的要素；要素 ${id} 属于网格「${typeof gc === 'string' && gc ? gc : '无'}」。A grid manager may edit only features of their own grids; ${id} is in grid ${typeof gc === 'string' && gc ? gc : '(none)'}.`, { id }), id);
            break;
          }
        }
      }
      items.push({ layer, id: id!, expectVersion: expect, next, op: o.op ?? c.op, actor: actorString(actor), ...(o.comment ? { comment: o.comment } : {}) });
      befores.push(before);
      sources.push(c);
      if (o.onProgress && ((k + 1) % 500 === 0 || k + 1 === changes.length)) o.onProgress(k + 1, changes.length);
    }
    if (def.edit?.partitionOf) issues.push(...await this.partitionIssues(def, items, befores, geometryOk));
    return { items, befores, sources, issues };
  }

  /** The grid codes a grid manager looks after: the signed-in user's grids (issue 9); for actors without them (the
   *  import CLI's --as), `grid-{code}` names one grid, otherwise the grids whose manager_id is the actor id. */
  private async managedGrids(actor: Actor): Promise<Set<string>> {
    if (actor.grids) return new Set(actor.grids);
    const m = /^grid-(.+)$/.exec(actor.id);
    if (m) return new Set([m[1]]);
    const grids = await this.d.view.where('grids', 'manager_id', actor.id);
    return new Set(grids.map((g) => String(g.properties.code ?? g.id)));
  }

  /** Empty grid_code / village_code / town_code of the layer get the code of the area at the feature's interior point. */
  private async fillCodes(def: LayerDef, f: EditFeature): Promise<void> {
    const fields = CODE_FIELDS.filter((c) => c.layer !== def.id && def.fields.some((x) => x.name === c.field) && empty(f.properties[c.field]));
    if (!fields.length) return;
    const p = interiorPoint(f.geometry);
    if (!p) return;
    for (const { field, layer } of fields) {
      const code = await this.areaAt(layer, p);
      if (code !== null) f.properties[field] = code;
    }
  }

  private async areaAt(layer: string, [x, y]: [number, number]): Promise<string | null> {
    let boundary: string | null = null;
    for (const a of await this.d.view.search(layer, [x, y, x, y])) {
      const l = locate(prepare(fromGeoJSON(a.geometry), false), x, y);
      const code = String(a.properties.code ?? a.id);
      if (l === INSIDE) return code;
      if (l !== OUTSIDE) boundary ??= code;
    }
    return boundary;
  }

  /** Partition issues per parent touched by the batch: siblings before (the view) and after (with the batch). */
  private async partitionIssues(def: LayerDef, items: CommitItem[], befores: (EditFeature | null)[], geometryOk: Set<string>): Promise<ValidationIssue[]> {
    const { layer: parentLayer, parentField } = def.edit!.partitionOf!;
    const parents = new Set<string>();
    items.forEach((it, i) => {
      for (const f of [befores[i], it.next]) {
        const v = f?.properties[parentField];
        if (typeof v === 'string' && v) parents.add(v);
      }
    });
    const out: ValidationIssue[] = [];
    const nextById = new Map(items.map((it) => [it.id, it.next]));
    // Attribute-only edits keep the tiling as it was: no overlay work for them.
    const moved = (it: CommitItem, i: number) => {
      const b = befores[i];
      return !b || !it.next || b.properties[parentField] !== it.next.properties[parentField] || JSON.stringify(b.geometry) !== JSON.stringify(it.next.geometry);
    };
    const touchedParents = new Set<string>();
    items.forEach((it, i) => {
      if (!moved(it, i)) return;
      for (const f of [befores[i], it.next]) {
        const v = f?.properties[parentField];
        if (typeof v === 'string' && v) touchedParents.add(v);
      }
    });
    for (const code of parents) {
      if (!touchedParents.has(code)) continue;
      const siblingsBefore = await this.d.view.where(def.id, parentField, code);
      const siblingsAfter = siblingsBefore.filter((s) => !nextById.has(s.id));
      const changed: EditFeature[] = [];
      for (const it of items) {
        if (it.next && it.next.properties[parentField] === code) {
          siblingsAfter.push(it.next);
          if (geometryOk.has(it.id)) changed.push(it.next);
        }
      }
      // Invalid geometry is reported already; overlaying it would only add noise (or throw).
      if (items.some((it) => it.next && !geometryOk.has(it.id) && it.next.properties[parentField] === code)) continue;
      const parent = (await this.d.view.where(parentLayer, 'code', code))[0] ?? null;
      try {
        out.push(...checkPartition({ changed, siblingsBefore, siblingsAfter, parent, parentLayer }));
      } catch (e) {
        out.push({ code: 'topology_failed', severity: 'error', message: `拓扑检查失败（${(e as Error).message.slice(0, 200)}）：请简化边界后重试。Topology check failed: simplify the boundary and retry.`, featureId: changed[0]?.id });
      }
    }
    return out;
  }
}

function unknownFeature(layer: string, id: string): EditError {
  return new EditError(404, 'unknown_feature', `图层 ${layer} 没有要素 ${id.slice(0, 128)}。Layer ${layer} has no feature ${id.slice(0, 128)}.`, { id: id.slice(0, 128) });
}

function conflictError(id: string, basedOn: number, yours: EditChange, current: VersionConflict['current']): EditError {
  const who = current ? `${current.actor} 于 ${current.at ? new Date(current.at).toISOString() : '建库时'}` : '';
  const message = current
    ? `要素 ${id} 已被修改：你基于版本 ${basedOn}，当前是版本 ${current.version}${current.deleted ? '（已删除）' : ''}（${who}）。请对比两个版本、合并后再保存。Feature ${id} changed: you edited version ${basedOn}, it is now version ${current.version}; merge and save again.`
    : `要素 ${id} 不存在版本 ${basedOn}。Feature ${id} has no version ${basedOn}.`;
  const details: VersionConflict = { code: 'version_conflict', message, id, basedOn, yours, current };
  return new EditError(409, 'version_conflict', message, details as unknown as Record<string, unknown>);
}

/** Groups versions by layer into the notices the rest of the server acts on (tiles, live feed). */
function layerChanges(applied: { v: FeatureVersion; before: EditFeature | null }[]): LayerChange[] {
  const by = new Map<string, LayerChange>();
  for (const { v, before } of applied) {
    let c = by.get(v.layer);
    if (!c) by.set(v.layer, c = { layer: v.layer, revision: 0, ids: [], bboxes: [], versions: [] });
    c.revision = Math.max(c.revision, v.seq);
    c.ids.push(v.id);
    c.versions.push(v);
    for (const f of [before, v.feature]) if (f?.geometry) c.bboxes.push(geometryBbox(f.geometry) as Bbox);
  }
  return [...by.values()];
}

/**
 * A point inside the geometry: the point itself; the middle of a line's middle segment; for polygons the
 * middle of the widest interior run of a horizontal line through the middle of the bbox (GEOS InteriorPoint's
 * idea), nudged off vertex latitudes so it never sits on a vertex.
 */
export function interiorPoint(g: GeoJSON.Geometry): [number, number] | null {
  switch (g.type) {
    case 'Point': return [g.coordinates[0], g.coordinates[1]];
    case 'MultiPoint': return g.coordinates.length ? [g.coordinates[0][0], g.coordinates[0][1]] : null;
    case 'LineString': case 'MultiLineString': {
      const l = g.type === 'LineString' ? g.coordinates : g.coordinates.reduce((a, b) => (b.length > a.length ? b : a), [] as GeoJSON.Position[]);
      if (l.length === 0) return null;
      if (l.length === 1) return [l[0][0], l[0][1]];
      const i = Math.floor((l.length - 1) / 2);
      return [(l[i][0] + l[i + 1][0]) / 2, (l[i][1] + l[i + 1][1]) / 2];
    }
    case 'Polygon': case 'MultiPolygon': {
      const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
      let best: { w: number; p: [number, number] } | null = null;
      for (const rings of polys) {
        if (!rings.length || rings[0].length < 4) continue;
        let minY = Infinity, maxY = -Infinity;
        for (const [, y] of rings[0]) { if (y < minY) minY = y; if (y > maxY) maxY = y; }
        let y = (minY + maxY) / 2;
        const ys = new Set(rings.flat().map((p) => p[1]));
        for (let k = 1; ys.has(y) && k < 50; k++) y = minY + (maxY - minY) * (0.5 + k * 0.0137);
        const xs: number[] = [];
        for (const r of rings) {
          for (let i = 0; i + 1 < r.length; i++) {
            const [ax, ay] = r[i], [bx, by] = r[i + 1];
            if ((ay > y) !== (by > y)) xs.push(ax + ((y - ay) / (by - ay)) * (bx - ax));
          }
        }
        xs.sort((a, b) => a - b);
        for (let i = 0; i + 1 < xs.length; i += 2) {
          const w = xs[i + 1] - xs[i];
          if (!best || w > best.w) best = { w, p: [(xs[i] + xs[i + 1]) / 2, y] };
        }
      }
      return best?.p ?? null;
    }
    default: return null;
  }
}
