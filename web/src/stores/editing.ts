// The planner's editor (issue 8 item 1, and the client side of items 3–5): which layer and tool, the
// open EditSession (stored in a shallowRef and re-read through a tick, since it is a mutable class),
// the attribute form, saving with the version the edit is based on (409 → a conflict holding yours and
// the current version; 422 → the issues, on the map and beside the fields), history and restore,
// snapping candidates, the live /ws 'layers' feed (tiles refresh with ?rev=N; a warning when the open
// feature changed under you), import and publish. The server decides every rule.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { LAYERS, canEdit, getLayer, type LayerDef } from '../../../layers/catalog.ts';
import type { EditChange, EditFeature, FeatureVersion, ValidationIssue, VersionConflict } from '../../../layers/editing/model.ts';
import {
  EditApiError, readNdjson, saveAnswer, saveRequest, toApiError, urls,
  type EditActor, type FeatureAnswer, type FetchLike, type ServerLayer,
} from '../editing/api.ts';
import { formFields, issuesByField, parseForm, toFormValues, type FormField, type FormValues } from '../editing/form-model.ts';
import { midpoints, samePos, vertices, type Pos, type VertexRef } from '../editing/geometry.ts';
import { EditSession } from '../editing/session.ts';
import { snap, type Project, type SnapCandidate } from '../editing/snap.ts';
import { inRing } from '../editing/split-merge.ts';
import type { EditDrawing, EditHandle, LonLat, PickedFeature } from '../map/engine.ts';
import { t } from '../i18n.ts';
import type { LiveSocketLike } from './incidents.ts';

export type EditTool = 'select' | 'add' | 'vertex' | 'split' | 'merge';
export const SNAP_PX = 10;
const SNAP_LIMIT = 2000;

export interface Conflict {
  id: string;
  /** What this editor tried to save. */
  yours: EditChange;
  /** What the server holds now (null feature: deleted there). */
  current: VersionConflict['current'];
  message: string;
}
export interface LayersChanged { type: 'layers'; op: 'changed'; layer: string; revision: number; ids: string[]; bbox?: number[] }
export interface ImportPreviewLike {
  layer: string; format: string; sourceCrs: string; crsFrom: string; encoding?: string; total: number; creates: number; updates: number; unchanged: number;
  errors: { row: number; id?: string; issues: ValidationIssue[] }[]; warnings: ValidationIssue[]; fieldMap: Record<string, string | null>;
  bbox: [number, number, number, number] | null;
}

export const useEditingStore = defineStore('editing', () => {
  let baseUrl = typeof location !== 'undefined' ? location.origin : '';
  let doFetch: FetchLike = (url, init) => fetch(url, init);
  let openSocket: ((url: string) => LiveSocketLike) | null = typeof WebSocket !== 'undefined' ? (url) => new WebSocket(url) as unknown as LiveSocketLike : null;
  let project: Project | null = null;

  /** The signed-in user (main.ts configures it from GET /api/session); until then no layer is editable. */
  const actor = shallowRef<EditActor>({ role: 'public', id: 'anonymous' });
  const serverLayers = shallowRef<ServerLayer[] | null>(null);
  const active = ref(false);
  const layer = ref<string | null>(null);
  const tool = ref<EditTool>('select');
  const topology = ref(true);
  const snapLayers = ref<string[]>([]);
  const session = shallowRef<EditSession | null>(null);
  /** Bumped after every session mutation: the session is a plain class, not reactive. */
  const tick = ref(0);
  const sketch = shallowRef<Pos[]>([]);
  const snapAt = shallowRef<Pos | null>(null);
  const snapCandidates = shallowRef<SnapCandidate[]>([]);
  const formValues = ref<FormValues>({});
  const issues = shallowRef<ValidationIssue[]>([]);
  const conflict = shallowRef<Conflict | null>(null);
  const history = shallowRef<FeatureVersion[] | null>(null);
  const busy = ref(false);
  const error = ref<string | null>(null);
  const notice = ref<string | null>(null);
  /** The open feature was changed by someone else since it was opened (from the live feed). */
  const changedUnderYou = ref(false);
  const revisions = ref<Record<string, number>>({});
  /** The map reloads these layers' tiles and data (?rev=N) when this changes. */
  const refreshRequest = shallowRef<{ layers: string[]; revision: number; seq: number } | null>(null);
  const live = ref<'off' | 'connecting' | 'open' | 'closed'>('off');
  const importPreview = shallowRef<ImportPreviewLike | null>(null);
  const importResult = shallowRef<{ applied: number } | null>(null);
  const importProgress = shallowRef<{ stage: string; done: number; total: number } | null>(null);
  const publishLog = shallowRef<{ step?: string; action?: string; detail?: string; name?: string; done?: boolean; error?: string }[]>([]);
  /** The map flies here (an issue's location picked in the list). */
  const flyRequest = shallowRef<{ lonLat: LonLat; seq: number } | null>(null);
  let refreshSeq = 0;
  let socket: LiveSocketLike | null = null;
  let reconnect: ReturnType<typeof setTimeout> | null = null;
  /** `layer/id` of this editor's own saves whose live echo has not come yet: that echo needs no second refresh. */
  const ownEchoes = new Set<string>();
  /** The save in flight: a live event that arrives before its answer is judged after it. */
  let saving: Promise<unknown> | null = null;
  /** The last ?rev= the map was given: strictly increasing, so every refresh is a new URL. */
  let lastRev = 0;
  let dragHandle: EditHandle | null = null;
  /** Undo depth before a midpoint drag inserted its vertex. */
  let dragDepth: number | null = null;

  function configure(o: { baseUrl?: string; fetch?: FetchLike; openSocket?: ((url: string) => LiveSocketLike) | null; actor?: EditActor; project?: Project | null }): void {
    if (o.baseUrl !== undefined) baseUrl = o.baseUrl;
    if (o.fetch) doFetch = o.fetch;
    if (o.openSocket !== undefined) openSocket = o.openSocket;
    if (o.actor) actor.value = o.actor;
    if (o.project !== undefined) project = o.project;
  }
  /** The map engine's projection (App sets it whenever the engine changes). */
  function setProjector(p: Project | null): void { project = p; }

  async function call<T>(url: string, init: RequestInit = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...(init.headers as Record<string, string> | undefined) };
    if (typeof init.body === 'string') headers['content-type'] = 'application/json';
    const res = await doFetch(url, { ...init, headers });
    if (!res.ok) throw await toApiError(res);
    return (await res.json()) as T;
  }

  // ---- what may be edited
  /** Catalog layers this actor may edit (the server's list narrows it when it answered). */
  const editableLayers = computed<LayerDef[]>(() => LAYERS.filter((l) => canEdit(l, actor.value.role)
    && (!serverLayers.value || serverLayers.value.some((s) => s.id === l.id && s.editable.includes(actor.value.role)))));
  const layerDef = computed(() => (layer.value ? getLayer(layer.value) ?? null : null));
  const fields = computed<FormField[]>(() => (layerDef.value ? formFields(layerDef.value) : []));

  async function loadLayers(): Promise<void> {
    try {
      const body = await call<{ layers: ServerLayer[] }>(urls.layers(baseUrl));
      serverLayers.value = body.layers;
      const r = { ...revisions.value };
      for (const l of body.layers) r[l.id] = Math.max(r[l.id] ?? 0, l.revision);
      revisions.value = r;
    } catch (e) {
      error.value = message(e);
    }
  }

  function start(): void {
    active.value = true;
    if (!layer.value) layer.value = editableLayers.value[0]?.id ?? null;
    if (layer.value && !snapLayers.value.length) snapLayers.value = [layer.value];
    void loadLayers();
    connectLive();
  }
  function stop(): boolean {
    if (session.value?.dirty) { error.value = t('edit.msg.unsaved'); return false; }
    cancel();
    active.value = false;
    disconnect();
    return true;
  }
  function chooseLayer(id: string): void {
    if (session.value?.dirty) { error.value = t('edit.msg.unsaved'); return; }
    cancel();
    layer.value = id;
    if (!snapLayers.value.includes(id)) snapLayers.value = [...snapLayers.value, id];
  }
  function toggleSnapLayer(id: string): void {
    snapLayers.value = snapLayers.value.includes(id) ? snapLayers.value.filter((x) => x !== id) : [...snapLayers.value, id];
  }
  function setTool(next: EditTool): void {
    tool.value = next;
    sketch.value = [];
    if (next === 'add' && layer.value && layerDef.value && !session.value) startNew();
  }

  const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
  function touched(): void { tick.value++; }
  function guard(f: () => void): void {
    try { error.value = null; f(); touched(); } catch (e) { error.value = message(e); }
  }

  // ---- opening
  async function open(id: string, layerId = layer.value): Promise<void> {
    if (!layerId) return;
    if (session.value?.dirty) { error.value = t('edit.msg.unsaved'); return; }
    busy.value = true;
    error.value = null;
    try {
      const a = await call<FeatureAnswer>(urls.feature(baseUrl, layerId, id));
      layer.value = layerId;
      adopt(EditSession.open(layerId, a.feature, a.version));
      if (topology.value && session.value!.state.kind === 'polygon') await loadNeighbours();
    } catch (e) {
      error.value = message(e);
    } finally {
      busy.value = false;
    }
  }

  function adopt(s: EditSession | null): void {
    session.value = s;
    issues.value = [];
    conflict.value = null;
    history.value = null;
    changedUnderYou.value = false;
    sketch.value = [];
    snapAt.value = null;
    formValues.value = s ? toFormValues(fields.value, s.primary.properties) : {};
    touched();
  }

  function startNew(): void {
    const def = layerDef.value;
    if (!def) return;
    adopt(EditSession.create(def.id, def.geometry));
    tool.value = 'add';
  }

  /** Same-layer features around the open one, with their versions, for topological edits. */
  async function loadNeighbours(): Promise<void> {
    const s = session.value;
    const g = s?.geometry();
    if (!s || !g) return;
    const bb = bboxOfGeometry(g);
    const fc = await call<GeoJSON.FeatureCollection>(urls.items(baseUrl, s.state.layer, bb, 200));
    const near = fc.features.filter((f) => f.id !== undefined && String(f.id) !== s.state.primary && f.geometry);
    const sharing = near.filter((f) => sharesAny(g, f.geometry));
    const answers = await Promise.all(sharing.map((f) => call<FeatureAnswer>(urls.feature(baseUrl, s.state.layer, String(f.id))).catch(() => null)));
    if (session.value !== s) return;
    s.addNeighbours(answers.filter((a): a is FeatureAnswer => !!a));
    touched();
  }

  // ---- snapping
  /** Loads snapping candidates of the chosen layers inside `bbox` (the map's view). */
  async function loadSnapCandidates(bbox: readonly number[]): Promise<void> {
    const out: SnapCandidate[] = [];
    await Promise.all(snapLayers.value.map(async (l) => {
      try {
        const fc = await call<GeoJSON.FeatureCollection>(urls.items(baseUrl, l, bbox, SNAP_LIMIT));
        for (const f of fc.features) if (f.geometry) out.push({ layer: l, id: String(f.id ?? f.properties?.id), geometry: f.geometry });
      } catch { /* snapping is a help: a layer that fails to load is not snapped to */ }
    }));
    snapCandidates.value = out;
  }

  /** Where a pointer at `px` (or `lonLat` when nothing is near) lands. */
  function snapped(lonLat: Pos, px: [number, number] | null): Pos {
    const s = session.value;
    if (!px || !project) { snapAt.value = null; return lonLat; }
    const inSession = new Set(s?.state.features.map((f) => f.key) ?? []);
    const cands: SnapCandidate[] = snapCandidates.value.filter((c) => !(c.layer === s?.state.layer && inSession.has(c.id)));
    const dragged = dragHandle && dragHandle.kind === 'vertex' && s ? s.state.features.find((f) => f.key === s.state.primary)?.parts?.[dragHandle.part]?.[dragHandle.ring]?.[dragHandle.index] : null;
    // The session's own features as they are now (neighbours, pieces), except those that move with the
    // dragged vertex: their edges run through the pointer and would capture it.
    if (s) {
      for (const f of s.state.features) {
        if (dragged && f.parts?.some((rings) => rings.some((r) => r.some((q) => samePos(q, dragged))))) continue;
        const g = s.geometry(f.key);
        if (g) cands.push({ layer: s.state.layer, id: f.key, geometry: g });
      }
    }
    const hit = snap(px, cands, project, SNAP_PX, (_l, _id, at) => !!dragged && samePos(at, dragged));
    snapAt.value = hit?.at ?? null;
    return hit?.at ?? lonLat;
  }

  // ---- map gestures
  /** A click on the map while the editor is active; returns true when the editor used it. */
  async function mapClick(f: PickedFeature | null, lonLat: LonLat | null, px: [number, number] | null = null): Promise<boolean> {
    if (!active.value || !layer.value) return false;
    const s = session.value;
    const at = lonLat ? snapped(lonLat, px) : null;
    switch (tool.value) {
      case 'add':
        if (!at) return true;
        if (!s || s.primary.original) {
          if (s?.dirty) { error.value = t('edit.msg.unsaved'); return true; }
          startNew();
        }
        guard(() => session.value!.addVertex(at));
        return true;
      case 'split':
        if (at && s?.state.kind === 'polygon') { sketch.value = [...sketch.value, at]; touched(); }
        return true;
      case 'merge': {
        if (!s) return true;
        try {
          const id = await featureAt(s.state.layer, f, lonLat, px);
          if (!id || id === s.state.primary) return true;
          const a = await call<FeatureAnswer>(urls.feature(baseUrl, s.state.layer, id));
          guard(() => s.mergeWith(a.feature, a.version));
        } catch (e) { error.value = message(e); }
        return true;
      }
      case 'vertex':
        if (s) return true;
      // falls through: with nothing open, a click opens what is under it
      default: {
        try {
          const id = await featureAt(layer.value, f, lonLat, px);
          if (id && id !== s?.state.primary) await open(id);
        } catch (e) { error.value = message(e); }
        return true;
      }
    }
  }

  /**
   * Whether a map click belongs to the editor (App asks before its own click handling): while editing,
   * every click chooses or shapes what is edited, so feature info and the lookup card wait.
   */
  function wantsClick(_f: PickedFeature | null): boolean {
    return active.value && !!layer.value;
  }

  /**
   * The feature of `layerId` under a click: the picked one when the map picked that layer, else asked from
   * the server around the point (the map picks the topmost feature, often the village over its grids).
   */
  async function featureAt(layerId: string, f: PickedFeature | null, lonLat: LonLat | null, px: [number, number] | null): Promise<string | null> {
    if (f && f.layerId === layerId) return f.id;
    if (!lonLat) return null;
    // ~10 px around the click, from the projection when there is one (else ~10 m).
    let r = 1e-4;
    if (px && project) {
      const q = project([lonLat[0] + 1e-3, lonLat[1]]);
      if (q && q[0] !== px[0]) r = (SNAP_PX * 1e-3) / Math.abs(q[0] - px[0]);
    }
    const fc = await call<GeoJSON.FeatureCollection>(urls.items(baseUrl, layerId, [lonLat[0] - r, lonLat[1] - r, lonLat[0] + r, lonLat[1] + r], 200));
    const feats = fc.features.filter((x) => x.geometry && x.id !== undefined);
    const hit = feats.find((x) => containsPoint(x.geometry, lonLat));
    if (hit) return String(hit.id);
    if (!px || !project) return feats[0] ? String(feats[0].id) : null;
    const near = snap(px, feats.map((x) => ({ layer: layerId, id: String(x.id), geometry: x.geometry })), project, SNAP_PX);
    return near?.id ?? null;
  }

  function finishSplit(): void {
    const s = session.value;
    if (!s) return;
    guard(() => {
      if (s.state.kind === 'polygon') s.splitByLine(sketch.value);
      else s.splitAtVertex();
    });
    sketch.value = [];
  }

  function drag(phase: 'start' | 'move' | 'end', h: EditHandle, lonLat: LonLat, px: [number, number]): void {
    const s = session.value;
    if (!s) return;
    try {
      if (phase === 'start') {
        s.beginDrag();
        if (h.kind === 'midpoint') {
          // Dragging a midpoint inserts a vertex there and drags it: one undo step with the move (squashed at the end).
          s.cancelDrag();
          dragDepth = s.depth;
          const v = s.insertVertex({ part: h.part, ring: h.ring, index: h.index }, lonLat, topology.value);
          dragHandle = { ...h, kind: 'vertex', index: v.index };
          s.beginDrag();
        } else {
          dragHandle = h;
          dragDepth = null;
          s.select({ part: h.part, ring: h.ring, index: h.index });
        }
      } else if (dragHandle) {
        const to = snapped(lonLat, px);
        s.dragVertex({ part: dragHandle.part, ring: dragHandle.ring, index: dragHandle.index }, to, topology.value);
        if (phase === 'end') {
          s.endDrag();
          if (dragDepth !== null) s.squash(s.depth - dragDepth);
          dragHandle = null; dragDepth = null; snapAt.value = null;
        }
      }
      error.value = null;
    } catch (e) {
      error.value = message(e);
      s.cancelDrag();
      dragHandle = null;
    }
    touched();
  }

  function undo(): void { if (session.value) { session.value.undo(); syncForm(); touched(); } }
  function redo(): void { if (session.value) { session.value.redo(); syncForm(); touched(); } }
  function deleteVertex(): void { const s = session.value; if (s) guard(() => s.deleteVertex(undefined, topology.value)); }
  function deleteFeature(): void { const s = session.value; if (s) guard(() => s.deleteFeature()); }
  function selectVertex(v: VertexRef | null): void { session.value?.select(v); touched(); }
  function cancel(): void {
    dragHandle = null;
    adopt(null);
    error.value = null;
  }
  function syncForm(): void {
    if (session.value) formValues.value = toFormValues(fields.value, session.value.primary.properties);
  }

  // ---- the form
  const localIssues = shallowRef<ValidationIssue[]>([]);
  function setForm(values: FormValues): void {
    formValues.value = values;
    const s = session.value;
    if (!s) return;
    const parsed = parseForm(fields.value, values, s.primary.id);
    localIssues.value = parsed.issues;
    if (!parsed.issues.length) guard(() => s.setProperties(parsed.properties));
  }
  const fieldIssues = computed(() => issuesByField([...localIssues.value, ...issues.value]));

  // ---- saving
  const dirty = computed(() => { void tick.value; return !!session.value?.dirty; });

  function save(comment?: string): Promise<boolean> {
    const p = doSave(comment);
    saving = p;
    void p.finally(() => { if (saving === p) saving = null; });
    return p;
  }

  async function doSave(comment?: string): Promise<boolean> {
    const s = session.value;
    if (!s) return false;
    if (localIssues.value.length) { error.value = t('edit.msg.fixForm'); return false; }
    const changes = s.changes();
    if (!changes.length) { notice.value = t('edit.msg.nothingToSave'); return false; }
    busy.value = true;
    error.value = null;
    notice.value = null;
    issues.value = [];
    const { url, init } = saveRequest(baseUrl, s.state.layer, changes, comment);
    try {
      const body = await call<unknown>(url, init);
      const { versions, issues: warnings } = saveAnswer(body, s.state.layer);
      const revision = Math.max(0, ...versions.map((v) => Number(v.seq) || 0));
      const layerId = s.state.layer;
      for (const v of versions) ownEchoes.add(`${layerId}/${v.id}`);
      const primaryVersion = versions[0];
      notice.value = t('edit.msg.saved', { count: versions.length });
      noteRevision(layerId, revision);
      // Continue on the saved feature at its new version (a delete closes the editor).
      if (primaryVersion && !primaryVersion.deleted && primaryVersion.feature) adopt(EditSession.open(layerId, primaryVersion.feature, primaryVersion.version));
      else adopt(null);
      issues.value = warnings;
      if (session.value && topology.value && session.value.state.kind === 'polygon') await loadNeighbours().catch(() => undefined);
      return true;
    } catch (e) {
      if (e instanceof EditApiError && e.status === 409) {
        const c = e.conflict;
        const yours = changes.find((x) => x.id === c?.id) ?? changes[0];
        conflict.value = { id: c?.id ?? yours.id ?? '', yours: c?.yours ?? yours, current: c?.current ?? null, message: e.message };
      } else if (e instanceof EditApiError && e.status === 422) {
        issues.value = e.issues;
      }
      error.value = message(e);
      return false;
    } finally {
      busy.value = false;
    }
  }

  function noteRevision(layerId: string, revision: number): void {
    if (revision > (revisions.value[layerId] ?? 0)) revisions.value = { ...revisions.value, [layerId]: revision };
    // Single saves answer without the store's seq: any new number busts the caches just as well.
    lastRev = Math.max(lastRev + 1, revision);
    refreshRequest.value = { layers: [layerId], revision: lastRev, seq: ++refreshSeq };
  }

  /**
   * Resolves a 409. 'mine': save my edit again on top of the current version (my geometry and fields win);
   * 'theirs': drop my edit and reopen the current version; 'merge': their geometry or mine (`geometry`),
   * and per field whose value wins (`fields`: name → 'mine' | 'theirs'), then save on top of the current version.
   */
  async function resolveConflict(how: 'mine' | 'theirs' | 'merge', pick: { geometry?: 'mine' | 'theirs'; fields?: Record<string, 'mine' | 'theirs'> } = {}): Promise<boolean> {
    const c = conflict.value, s = session.value;
    if (!c || !s) return false;
    const cur = c.current;
    conflict.value = null;
    if (!cur || cur.deleted || !cur.feature) {
      if (c.id === s.state.primary) adopt(null);
      notice.value = t('edit.msg.deletedMeanwhile');
      return false;
    }
    if (how === 'theirs') {
      if (c.id === s.state.primary) adopt(EditSession.open(s.state.layer, cur.feature, cur.version));
      else { guard(() => s.rebase(c.id, cur.feature!, cur.version, true)); }
      return true;
    }
    guard(() => {
      s.rebase(c.id, cur.feature!, cur.version, false);
      if (how === 'merge' && c.id === s.state.primary) {
        if (pick.geometry === 'theirs') s.setGeometry(cur.feature!.geometry);
        const props: Record<string, unknown> = { ...s.primary.properties };
        for (const f of fields.value) {
          if (pick.fields?.[f.name] !== 'theirs') continue;
          if (f.name in cur.feature!.properties) props[f.name] = cur.feature!.properties[f.name];
          else delete props[f.name];
        }
        s.setProperties(props);
      }
    });
    syncForm();
    return save();
  }

  // ---- history and restore
  async function loadHistory(): Promise<void> {
    const s = session.value;
    if (!s?.primary.id) return;
    try {
      const body = await call<{ items: FeatureVersion[] }>(urls.history(baseUrl, s.state.layer, s.primary.id));
      history.value = body.items;
    } catch (e) { error.value = message(e); }
  }

  async function restore(version: number): Promise<boolean> {
    const s = session.value;
    if (!s?.primary.id) return false;
    busy.value = true;
    try {
      const body = await call<unknown>(urls.restore(baseUrl, s.state.layer, s.primary.id), { method: 'POST', body: JSON.stringify({ version, basedOn: s.primary.baseVersion }) });
      const { versions } = saveAnswer(body, s.state.layer);
      const v = versions[0];
      ownEchoes.add(`${s.state.layer}/${s.primary.id}`);
      noteRevision(s.state.layer, Number(v?.seq) || 0);
      if (v?.feature) adopt(EditSession.open(s.state.layer, v.feature, v.version));
      await loadHistory();
      notice.value = t('edit.msg.restored', { version });
      return true;
    } catch (e) {
      if (e instanceof EditApiError && e.status === 409 && e.conflict) {
        conflict.value = { id: e.conflict.id, yours: e.conflict.yours, current: e.conflict.current, message: e.message };
      }
      error.value = message(e);
      return false;
    } finally { busy.value = false; }
  }

  // ---- live feed
  function connectLive(): void {
    if (!openSocket || socket) return;
    live.value = 'connecting';
    const ws = openSocket(urls.live(baseUrl));
    socket = ws;
    ws.onopen = () => { live.value = 'open'; };
    ws.onmessage = (e) => { try { onLive(JSON.parse(String(e.data))); } catch { /* other feeds' frames */ } };
    ws.onclose = () => {
      socket = null;
      live.value = 'closed';
      if (active.value) reconnect = setTimeout(connectLive, 3000);
    };
    ws.onerror = () => ws.close();
  }
  function disconnect(): void {
    if (reconnect) clearTimeout(reconnect);
    socket?.close();
    socket = null;
    live.value = 'off';
  }

  function onLive(m: unknown): void {
    const e = m as Partial<LayersChanged>;
    if (e?.type !== 'layers' || e.op !== 'changed' || typeof e.layer !== 'string') return;
    const layerId = e.layer;
    const ids = Array.isArray(e.ids) ? e.ids.map(String) : [];
    const keys = ids.map((id) => `${layerId}/${id}`);
    if (keys.length && keys.every((k) => ownEchoes.has(k))) {
      // The echo of our own save, already refreshed: just remember the server's revision.
      keys.forEach((k) => ownEchoes.delete(k));
      const rev = Number(e.revision) || 0;
      if (rev > (revisions.value[layerId] ?? 0)) revisions.value = { ...revisions.value, [layerId]: rev };
    } else {
      noteRevision(layerId, Number(e.revision) || 0);
    }
    if (session.value?.state.layer === layerId && session.value.state.features.some((f) => f.id && ids.includes(f.id))) void checkStale(layerId, ids);
  }

  /** Warns when a feature open here is stored at a version past the one the edit is based on (or deleted). */
  async function checkStale(layerId: string, ids: string[]): Promise<void> {
    if (saving) await saving.catch(() => undefined);
    const s = session.value;
    if (!s || s.state.layer !== layerId) return;
    const open = s.state.features.filter((f) => f.id && f.baseVersion !== null && ids.includes(f.id));
    const moved = await Promise.all(open.map(async (f) => {
      try {
        return (await call<FeatureAnswer>(urls.feature(baseUrl, layerId, f.id!))).version !== f.baseVersion;
      } catch (err) {
        return err instanceof EditApiError && err.status === 404; // deleted meanwhile
      }
    }));
    if (session.value === s && moved.some(Boolean)) changedUnderYou.value = true;
  }

  // ---- import (E3) and publish (E4)
  /** Sends the file and follows the server's NDJSON progress; resolves with the final `result`. */
  async function runImport<T>(file: Blob & { name?: string }, o: { layer: string; crs?: string; encoding?: string }, mode: 'preview' | 'apply'): Promise<T> {
    importProgress.value = { stage: 'upload', done: 0, total: 0 };
    const res = await doFetch(urls.imports(baseUrl, { ...o, mode, filename: file.name ?? 'upload' }), {
      method: 'POST', body: file,
      headers: { 'content-type': 'application/octet-stream', accept: 'application/x-ndjson' },
    });
    if (!res.ok) throw await toApiError(res);
    let result: T | undefined;
    let failure: EditApiError | null = null;
    const onLine = (l: Record<string, unknown>) => {
      if ('result' in l) result = l.result as T;
      else if (l.error) {
        const e = l.error as { code?: string; message?: string; issues?: ValidationIssue[]; preview?: ImportPreviewLike };
        if (e.preview) importPreview.value = e.preview;
        failure = new EditApiError(422, e.code ?? 'import_failed', e.message ?? 'import failed', e.issues ?? []);
      } else if (typeof l.stage === 'string') importProgress.value = { stage: l.stage, done: Number(l.done) || 0, total: Number(l.total) || 0 };
    };
    const ct = res.headers.get('content-type') ?? '';
    if (ct.includes('ndjson') && res.body) await readNdjson(res.body, onLine);
    else onLine({ result: await res.json() });
    if (failure) throw failure;
    if (result === undefined) throw new Error(t('edit.import.noResult'));
    return result;
  }

  async function previewImport(file: Blob & { name?: string }, o: { layer: string; crs?: string; encoding?: string }): Promise<ImportPreviewLike | null> {
    busy.value = true; error.value = null; importResult.value = null; importPreview.value = null;
    try {
      const p = await runImport<ImportPreviewLike>(file, o, 'preview');
      importPreview.value = p;
      return p;
    } catch (e) { error.value = message(e); return null; } finally { busy.value = false; importProgress.value = null; }
  }
  async function applyImport(file: Blob & { name?: string }, o: { layer: string; crs?: string; encoding?: string }): Promise<boolean> {
    busy.value = true; error.value = null;
    try {
      const r = await runImport<{ applied: number; preview?: ImportPreviewLike }>(file, o, 'apply');
      importResult.value = { applied: r.applied };
      noteRevision(o.layer, 0);
      notice.value = t('edit.import.done', { count: r.applied });
      return true;
    } catch (e) {
      if (e instanceof EditApiError && e.issues.length) issues.value = e.issues;
      error.value = message(e);
      return false;
    } finally { busy.value = false; importProgress.value = null; }
  }

  async function publish(layerId: string): Promise<boolean> {
    busy.value = true; error.value = null; publishLog.value = [];
    try {
      const res = await doFetch(urls.publish(baseUrl), {
        method: 'POST', body: JSON.stringify({ layer: layerId }),
        headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
      });
      if (!res.ok) throw await toApiError(res);
      let ok = false;
      const push = (l: Record<string, unknown>) => {
        const err = l.error as { message?: string } | string | undefined;
        const line = { step: l.step as string | undefined, action: l.action as string | undefined, detail: l.detail as string | undefined,
          name: l.name as string | undefined, done: l.done === true, error: typeof err === 'string' ? err : err?.message };
        publishLog.value = [...publishLog.value, line];
        if (line.done) ok = true;
        if (line.error) error.value = line.error;
      };
      if (res.body) await readNdjson(res.body, push);
      else for (const l of (await res.text()).split('\n')) if (l.trim()) push(JSON.parse(l) as Record<string, unknown>);
      return ok && !error.value;
    } catch (e) { error.value = message(e); return false; } finally { busy.value = false; }
  }

  function showIssue(i: ValidationIssue): void {
    if (i.location) flyRequest.value = { lonLat: [i.location[0], i.location[1]], seq: ++refreshSeq };
  }

  // ---- what the map draws
  const drawing = computed<EditDrawing | null>(() => {
    void tick.value;
    const s = session.value;
    if (!active.value) return null;
    const issueMarks = issues.value.filter((i) => i.location).map((i) => ({ lonLat: i.location as LonLat, severity: i.severity, message: i.message }));
    if (!s) return issueMarks.length ? { kind: 'polygon', primary: null, others: [], handles: [], sketch: [], snap: snapAt.value, issues: issueMarks } : null;
    const p = s.primary;
    const sel = s.state.selected;
    const handles: EditHandle[] = [];
    if (p.parts) {
      for (const v of vertices(p.parts)) handles.push({ kind: 'vertex', ...v.ref, lonLat: v.at, selected: !!sel && sel.part === v.ref.part && sel.ring === v.ref.ring && sel.index === v.ref.index });
      if (tool.value !== 'add') for (const m of midpoints(p.parts, s.state.kind)) handles.push({ kind: 'midpoint', ...m.ref, lonLat: m.at });
    }
    const drawingNew = tool.value === 'add' && !p.original && p.parts ? p.parts[0][0] : [];
    return {
      kind: s.state.kind,
      primary: s.geometry(),
      others: s.state.features.filter((f) => f.key !== s.state.primary).map((f) => s.geometry(f.key)).filter((g): g is GeoJSON.Geometry => !!g),
      handles,
      sketch: tool.value === 'split' ? sketch.value : drawingNew,
      snap: snapAt.value,
      issues: issueMarks,
    };
  });

  return {
    actor, serverLayers, active, layer, tool, topology, snapLayers, session, tick, sketch, snapAt, snapCandidates, formValues, issues, localIssues,
    conflict, history, busy, error, notice, changedUnderYou, revisions, refreshRequest, flyRequest, live, importPreview, importResult, importProgress, publishLog,
    editableLayers, layerDef, fields, fieldIssues, dirty, drawing,
    configure, setProjector, loadLayers, start, stop, chooseLayer, toggleSnapLayer, setTool, open, startNew, loadNeighbours, loadSnapCandidates,
    mapClick, wantsClick, finishSplit, drag, undo, redo, deleteVertex, deleteFeature, selectVertex, cancel, setForm, save, resolveConflict, loadHistory, restore,
    connectLive, disconnect, onLive, showIssue, previewImport, applyImport, publish,
  };
});

function bboxOfGeometry(g: GeoJSON.Geometry): [number, number, number, number] {
  let w = Infinity, s = Infinity, e = -Infinity, n = -Infinity;
  const visit = (c: unknown): void => {
    if (typeof (c as number[])[0] === 'number') {
      const p = c as number[];
      if (p[0] < w) w = p[0]; if (p[0] > e) e = p[0]; if (p[1] < s) s = p[1]; if (p[1] > n) n = p[1];
    } else for (const x of c as unknown[]) visit(x);
  };
  if (g.type !== 'GeometryCollection') visit(g.coordinates);
  // A hair wider: neighbours touching only at the bbox edge are still found.
  const pad = 1e-6;
  return [w - pad, s - pad, e + pad, n + pad];
}

/** Whether a polygon holds the point (even–odd over all rings, so holes count), or any polygon of a multi. */
function containsPoint(g: GeoJSON.Geometry, p: LonLat): boolean {
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : [];
  return polys.some((rings) => rings.filter((r) => inRing(p, r.map((q) => [q[0], q[1]] as Pos))).length % 2 === 1);
}

function sharesAny(a: GeoJSON.Geometry, b: GeoJSON.Geometry): boolean {
  const keys = new Set<string>();
  const each = (g: GeoJSON.Geometry, f: (p: number[]) => boolean | void): boolean => {
    const visit = (c: unknown): boolean => (typeof (c as number[])[0] === 'number' ? !!f(c as number[]) : (c as unknown[]).some(visit));
    return g.type !== 'GeometryCollection' && visit(g.coordinates);
  };
  const k = (p: number[]) => `${Math.round(p[0] * 1e9)},${Math.round(p[1] * 1e9)}`;
  each(a, (p) => { keys.add(k(p)); });
  return each(b, (p) => keys.has(k(p)));
}
