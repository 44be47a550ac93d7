// An edit session: the feature being edited, the neighbours and pieces an edit pulls in (topological
// moves, split, merge), the selected vertex, and undo/redo over immutable snapshots. Saving turns the
// session into the pinned EditChange list (one PUT/POST/DELETE, or one atomic /edits batch).
// Pure: no I/O, no Vue; the Pinia store (stores/editing.ts) owns one and talks to the server.
import type { GeometryKind } from '../../../layers/catalog.ts';
import type { EditChange, EditFeature } from '../../../layers/editing/model.ts';
import {
  deleteVertex, fromParts, insertVertex, kindOf, minVertices, moveVertex, toParts, vertexAt,
  type Parts, type Pos, type VertexRef,
} from './geometry.ts';
import { mergeLines, mergePolygons, splitLineAt, splitPolygonParts } from './split-merge.ts';
import { deleteShared, insertShared, moveShared, sharesVertex } from './topology.ts';

/** One feature the session may change. `key` is its id, or `new:n` for a feature not yet saved. */
export interface WorkingFeature {
  key: string;
  /** Server id; null until created. */
  id: string | null;
  /** The version the edit is based on (0 = the built data); null for new features. */
  baseVersion: number | null;
  original: EditFeature | null;
  /** null = deleted. */
  parts: Parts | null;
  properties: Record<string, unknown>;
  multi: boolean;
  /** Why it is in the session (the UI lists them; neighbours are drawn lighter). */
  role: 'primary' | 'neighbour' | 'piece' | 'merged';
}

export interface SessionState {
  readonly layer: string;
  readonly kind: GeometryKind;
  readonly primary: string;
  readonly features: readonly WorkingFeature[];
  readonly selected: VertexRef | null;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function working(f: EditFeature, version: number, role: WorkingFeature['role']): WorkingFeature {
  return {
    key: f.id, id: f.id, baseVersion: version, original: clone(f), parts: toParts(f.geometry),
    properties: clone(f.properties ?? {}), multi: f.geometry.type.startsWith('Multi'), role,
  };
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export class EditSession {
  private past: SessionState[] = [];
  private future: SessionState[] = [];
  private dragBase: SessionState | null = null;
  private newCount = 0;
  private constructor(public state: SessionState) {}

  /** Edits an existing feature at `version`. */
  static open(layer: string, feature: EditFeature, version: number): EditSession {
    const kind = kindOf(feature.geometry);
    if (!kind) throw new Error('不支持编辑几何集合 / GeometryCollection cannot be edited');
    return new EditSession({ layer, kind, primary: feature.id, features: [working(feature, version, 'primary')], selected: null });
  }

  /** Starts a new feature: vertices come from addVertex(); properties from the form. */
  static create(layer: string, kind: GeometryKind, properties: Record<string, unknown> = {}): EditSession {
    const f: WorkingFeature = { key: 'new:0', id: null, baseVersion: null, original: null, parts: [[[]]], properties: clone(properties), multi: false, role: 'primary' };
    const s = new EditSession({ layer, kind, primary: f.key, features: [f], selected: null });
    s.newCount = 1;
    return s;
  }

  get primary(): WorkingFeature {
    return this.state.features.find((f) => f.key === this.state.primary)!;
  }
  get canUndo(): boolean { return this.past.length > 0; }
  /** Undo steps recorded so far (to tell whether an operation recorded any). */
  get depth(): number { return this.past.length; }
  /** Makes the last `n` recorded steps one (e.g. inserting a vertex at a midpoint and dragging it). */
  squash(n: number): void {
    if (n < 2 || this.past.length < n) return;
    this.past.splice(this.past.length - n + 1, n - 1);
  }
  get canRedo(): boolean { return this.future.length > 0; }
  get dirty(): boolean { return this.changes().length > 0; }

  /** Working geometry of a feature (closed, oriented), null when deleted or still too short to be one. */
  geometry(key = this.state.primary): GeoJSON.Geometry | null {
    const f = this.state.features.find((x) => x.key === key);
    if (!f?.parts || !this.complete(f.parts)) return null;
    return fromParts(this.state.kind, f.parts, f.multi);
  }

  private complete(parts: Parts): boolean {
    const min = minVertices(this.state.kind);
    return parts.length > 0 && parts.every((rings) => rings.every((r) => r.length >= min));
  }

  // ---- history
  private set(next: SessionState): void {
    this.past.push(this.state);
    if (this.past.length > 200) this.past.shift();
    this.future = [];
    this.state = next;
  }
  undo(): boolean {
    const prev = this.past.pop();
    if (!prev) return false;
    this.future.push(this.state);
    this.state = prev;
    return true;
  }
  redo(): boolean {
    const next = this.future.pop();
    if (!next) return false;
    this.past.push(this.state);
    this.state = next;
    return true;
  }

  private patch(key: string, f: (w: WorkingFeature) => WorkingFeature, from = this.state): SessionState {
    return { ...from, features: from.features.map((w) => (w.key === key ? f(w) : w)) };
  }
  private neighbours(from = this.state): WorkingFeature[] {
    return from.features.filter((f) => f.role === 'neighbour' && f.parts);
  }

  // ---- neighbours for topological edits
  /** Adds features of the same layer that share a vertex with the primary; returns how many were added. */
  addNeighbours(candidates: readonly { feature: EditFeature; version: number }[]): number {
    const p = this.primary.parts;
    if (!p) return 0;
    const have = new Set(this.state.features.map((f) => f.key));
    const add = candidates.filter((c) => !have.has(c.feature.id) && sharesVertex(p, toParts(c.feature.geometry)))
      .map((c) => working(c.feature, c.version, 'neighbour'));
    // Not an undoable step: loading neighbours changes nothing yet.
    if (add.length) this.state = { ...this.state, features: [...this.state.features, ...add] };
    return add.length;
  }

  select(v: VertexRef | null): void {
    this.state = { ...this.state, selected: v };
  }

  // ---- vertex edits
  private moved(from: SessionState, v: VertexRef, to: Pos, topology: boolean): SessionState {
    const p = from.features.find((f) => f.key === from.primary)!;
    if (!p.parts) throw new Error('要素已删除 / the feature is deleted');
    const old = vertexAt(p.parts, v);
    if (!old) throw new Error('没有这个顶点 / no such vertex');
    let next = this.patch(p.key, (w) => ({ ...w, parts: moveVertex(w.parts!, v, to) }), from);
    if (topology && this.state.kind !== 'point') {
      for (const n of this.neighbours(from)) {
        const parts = moveShared(n.parts!, old, to);
        if (parts) next = this.patch(n.key, (w) => ({ ...w, parts }), next);
      }
    }
    return { ...next, selected: v };
  }

  moveVertex(v: VertexRef, to: Pos, topology = false): void {
    this.set(this.moved(this.state, v, to, topology));
  }

  /** A drag is one undo step: begin, any number of moves (each from the state at the start), end. */
  beginDrag(): void { this.dragBase = this.state; }
  dragVertex(v: VertexRef, to: Pos, topology = false): void {
    if (!this.dragBase) this.beginDrag();
    this.state = this.moved(this.dragBase!, v, to, topology);
  }
  endDrag(): void {
    const base = this.dragBase;
    this.dragBase = null;
    if (!base || base === this.state || sameJson(base.features, this.state.features)) { if (base) this.state = { ...base, selected: this.state.selected }; return; }
    const now = this.state;
    this.state = base;
    this.set(now);
  }
  cancelDrag(): void {
    if (this.dragBase) { this.state = this.dragBase; this.dragBase = null; }
  }

  /** Inserts `at` after vertex v.index (a midpoint handle); with topology, into the neighbours' same edge. */
  insertVertex(v: VertexRef, at: Pos, topology = false): VertexRef {
    const p = this.primary;
    if (!p.parts) throw new Error('要素已删除 / the feature is deleted');
    const ring = p.parts[v.part]?.[v.ring];
    if (!ring) throw new Error('没有这个环 / no such ring');
    const a = ring[v.index], b = ring[(v.index + 1) % ring.length];
    let next = this.patch(p.key, (w) => ({ ...w, parts: insertVertex(w.parts!, v, at) }));
    if (topology && this.state.kind === 'polygon') {
      for (const n of this.neighbours()) {
        const parts = insertShared(n.parts!, a, b, at, true);
        if (parts) next = this.patch(n.key, (w) => ({ ...w, parts }), next);
      }
    }
    const sel = { ...v, index: v.index + 1 };
    this.set({ ...next, selected: sel });
    return sel;
  }

  /** Appends a vertex while drawing a new feature (or a point's position). */
  addVertex(at: Pos): void {
    const p = this.primary;
    const parts = p.parts ?? [[[]]];
    const ring = parts[0][0];
    const next: Parts = this.state.kind === 'point' ? [[[[at[0], at[1]]]]] : [[[...ring, [at[0], at[1]]], ...parts[0].slice(1)], ...parts.slice(1)];
    this.set({ ...this.patch(p.key, (w) => ({ ...w, parts: next })), selected: { part: 0, ring: 0, index: next[0][0].length - 1 } });
  }

  deleteVertex(v: VertexRef | null = this.state.selected, topology = false): void {
    if (!v) throw new Error('请先选择一个顶点 / select a vertex first');
    const p = this.primary;
    if (!p.parts) throw new Error('要素已删除 / the feature is deleted');
    const old = vertexAt(p.parts, v);
    let next = this.patch(p.key, (w) => ({ ...w, parts: deleteVertex(w.parts!, this.state.kind, v) }));
    if (topology && old && this.state.kind === 'polygon') {
      for (const n of this.neighbours()) {
        const parts = deleteShared(n.parts!, old, minVertices('polygon'));
        if (parts) next = this.patch(n.key, (w) => ({ ...w, parts }), next);
      }
    }
    this.set({ ...next, selected: null });
  }

  // ---- whole-feature edits
  setProperties(properties: Record<string, unknown>): void {
    if (sameJson(properties, this.primary.properties)) return;
    this.set(this.patch(this.state.primary, (w) => ({ ...w, properties: clone(properties) })));
  }

  /** Replaces the primary's geometry (a conflict resolved with "their geometry", a restore preview). */
  setGeometry(g: GeoJSON.Geometry): void {
    this.set({ ...this.patch(this.state.primary, (w) => ({ ...w, parts: toParts(g), multi: g.type.startsWith('Multi') })), selected: null });
  }

  /**
   * After a 409: bases the edit of `key` on the version now stored. `takeTheirs` also drops the working
   * change of that feature; otherwise the working geometry and attributes are kept (they win on the next save).
   */
  rebase(key: string, current: EditFeature, version: number, takeTheirs: boolean): void {
    const f = this.state.features.find((x) => x.key === key);
    if (!f) throw new Error(`会话中没有要素 ${key} / no feature ${key} in this edit`);
    this.set(this.patch(key, (w) => ({
      ...w, original: clone(current), baseVersion: version,
      ...(takeTheirs ? { parts: toParts(current.geometry), properties: clone(current.properties ?? {}), multi: current.geometry.type.startsWith('Multi') } : {}),
    })));
  }

  deleteFeature(): void {
    this.set({ ...this.patch(this.state.primary, (w) => ({ ...w, parts: null })), selected: null });
  }

  private addPiece(parts: Parts, role: WorkingFeature['role'], from: SessionState): SessionState {
    const props = clone(this.primary.properties);
    // The server names created features ({layer}-e{n}) and mirrors the id into the `id` property.
    delete props.id;
    const f: WorkingFeature = { key: `new:${this.newCount++}`, id: null, baseVersion: null, original: null, parts, properties: props, multi: false, role };
    return { ...from, features: [...from.features, f] };
  }

  /** Polygon: cut by a drawn line (the primary keeps one piece, a new feature gets the other). */
  splitByLine(line: readonly Pos[]): void {
    if (this.state.kind !== 'polygon') throw new Error('只有面可以用线切割；线请在顶点处打断 / only polygons are cut by a line');
    const [a, b] = splitPolygonParts(this.primary.parts!, line);
    const next = this.patch(this.state.primary, (w) => ({ ...w, parts: a }));
    this.set({ ...this.addPiece(b, 'piece', next), selected: null });
  }

  /** Line: split at the selected inner vertex. */
  splitAtVertex(v: VertexRef | null = this.state.selected): void {
    if (this.state.kind !== 'line') throw new Error('只有线可以在顶点处打断 / only lines split at a vertex');
    if (!v) throw new Error('请先选择要打断的顶点 / select the vertex to split at');
    const [a, b] = splitLineAt(this.primary.parts!, v.part, v.index);
    const next = this.patch(this.state.primary, (w) => ({ ...w, parts: a }));
    this.set({ ...this.addPiece(b, 'piece', next), selected: null });
  }

  /** Merges another feature of the layer into the primary, which keeps its id and attributes; the other is deleted. */
  mergeWith(other: EditFeature, version: number): void {
    if (other.id === this.state.primary) throw new Error('不能与自身合并 / cannot merge a feature with itself');
    const p = this.primary.parts!;
    const o = toParts(other.geometry);
    let merged: Parts;
    if (this.state.kind === 'polygon') merged = mergePolygons(p, o);
    else if (this.state.kind === 'line') {
      if (p.length !== 1 || o.length !== 1) throw new Error('多段线请先打断再合并 / merge single lines only');
      merged = [[mergeLines(p[0][0], o[0][0])]];
    } else throw new Error('点要素不能合并 / points cannot be merged');
    const existing = this.state.features.find((f) => f.key === other.id);
    let next = this.patch(this.state.primary, (w) => ({ ...w, parts: merged, multi: merged.length > 1 }));
    next = existing
      ? this.patch(other.id, (w) => ({ ...w, parts: null, role: 'merged' }), next)
      : { ...next, features: [...next.features, { ...working(other, version, 'merged'), parts: null }] };
    this.set({ ...next, selected: null });
  }

  /** The changes to save, primary first: creates, updates (with their base version) and deletes. */
  changes(): EditChange[] {
    const out: EditChange[] = [];
    const ordered = [...this.state.features].sort((a, b) => (a.key === this.state.primary ? -1 : b.key === this.state.primary ? 1 : 0));
    for (const f of ordered) {
      if (!f.original) {
        if (f.parts && this.complete(f.parts)) out.push({ op: 'create', feature: { geometry: fromParts(this.state.kind, f.parts, f.multi), properties: clone(f.properties) } });
        continue;
      }
      if (!f.parts) { out.push({ op: 'delete', id: f.id!, version: f.baseVersion! }); continue; }
      const geometry = fromParts(this.state.kind, f.parts, f.multi);
      const before = fromParts(this.state.kind, toParts(f.original.geometry), f.original.geometry.type.startsWith('Multi'));
      if (sameJson(geometry, before) && sameJson(f.properties, f.original.properties ?? {})) continue;
      out.push({ op: 'update', id: f.id!, version: f.baseVersion!, feature: { geometry, properties: clone(f.properties) } });
    }
    return out;
  }
}
