// The data resource catalog (数据资源目录, issue 10): every layer with its owner, grade, meaning, freshness,
// lineage, quality, CRS and formats, searchable in Chinese.
//   GET /api/catalog?q=&department=&grade=&theme=   → { items: CatalogEntry[] }   every layer: metadata is not data
//   GET /api/catalog/{layer}                          → CatalogDetail
// Who may call them is the policy table's job (signed in). `access` says what the caller may do with the data
// itself (layers/governance/access.ts with their sharing grants, as the gate stored them for this request);
// POST /api/catalog/{layer}/requests belongs to the sharing API, not here.
// Quality (feature count, invalid geometries, missing values) is computed in the background, one layer at a time,
// and cached by the built file (size, mtime) and the layer's edit revision; the detail says null until it is ready.
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { DEPARTMENTS, getLayer, LAYERS, type DepartmentId, type FieldType, type LayerDef } from '../layers/catalog.ts';
import { CRS_CODES } from '../layers/crs.ts';
import { openFlatGeobuf, type FgbFile } from '../layers/formats/flatgeobuf.ts';
import { layerAccess } from '../layers/governance/access.ts';
import { governanceOf } from '../layers/governance/grades.ts';
import {
  FRESH_FOR_MS, GRADE_INFO, GRADES, UPDATE_FREQUENCY_TITLE, type Grade, type UpdateFrequency,
} from '../layers/governance/model.ts';
import type { EditAuditSource } from './auth/audit.ts';
import { accessContextOf } from './auth/request-access.ts';
import { actorOf } from './auth/request-actor.ts';
import { badRequest, notFound, sendJson } from './http-errors.ts';

export const CATALOG_ROUTE = 'catalog';

export interface CatalogEntry {
  id: string; title: string; titleEn: string; department: DepartmentId; departmentTitle: string; theme: string;
  geometry: LayerDef['geometry']; grade: Grade; gradeTitle: string; description: string;
  updateFrequency: UpdateFrequency; updateFrequencyTitle: string;
  /** ms: the later of the build (the layer file's mtime) and the last edit or import; null when neither exists. */
  lastUpdate: number | null;
  /** Whether lastUpdate is within FRESH_FOR_MS of the update frequency; null without a lastUpdate. */
  fresh: boolean | null;
  featureCount: number | null;
  access: 'full' | 'grant' | 'none';
  /** The caller may ask for it (POST /api/catalog/{layer}/requests): a graded layer they may not see yet. */
  requestable: boolean;
  approvals: 0 | 1 | 2;
}
export interface CatalogField { name: string; type: FieldType; title: string; meaning: string; grade: Grade; personal: boolean }
export interface LineageItem { kind: 'source' | 'build' | 'import' | 'edit'; at: number | null; by: string | null; detail: string; count?: number }
export interface Quality { featureCount: number; invalidGeometries: number; missing: Record<string, number>; computedAt: number }
export interface CatalogDetail extends CatalogEntry {
  fields: CatalogField[];
  sourceNote: string;
  lineage: LineageItem[];
  quality: Quality | null;
  crs: { stored: 'EPSG:4326'; accepted: string[]; display: string[] };
  formats: { name: string; url?: string; via?: string }[];
}

/** What the catalog needs of a served layer (tile-server/feature-store.ts FeatureLayer has it). */
export interface CatalogLayer {
  readonly path: string;
  /** The data as served: the built file with the edits laid over it. */
  open(): Promise<FgbFile>;
  /** seq of the last edit applied (0: as built). */
  revision(): number;
}

export interface CatalogDeps {
  dataDir: string;
  /** The layers whose files exist (RouterContext.layers). */
  layers: Map<string, CatalogLayer>;
  /** The edit audit (imports and edits), when editing is available. */
  edits?: () => Promise<EditAuditSource>;
  /** The last change of the live system behind a realtime layer (e.g. sensors: the last telemetry batch; incidents:
   *  the last incident update), ms or null; it counts towards lastUpdate like an edit. A rejection counts as null. */
  activity?: Partial<Record<string, () => Promise<number | null>>>;
  clock?: () => number;
  log?: (msg: string) => void;
}

interface Manifest { seed?: number; scale?: number; layers?: Record<string, { count?: number }>; sources?: { file: string; what: string; source: string; licence: string }[] }
interface EditSummary { revision: number; items: LineageItem[]; lastAt: number | null }

/** Which of the manifest's sources each layer comes from (scripts/build-data.ts SOURCES; 'generated' is the rest). */
const LAYER_SOURCES: Record<string, string[]> = {
  city: ['suzhou_counties_gcj02_lowres.geojson'],
  towns: ['changshu_townships.json', 'suzhou_counties_gcj02_lowres.geojson', 'generated'],
  villages: ['changshu_villages.json', 'generated'],
  places: ['changshu_townships.json', 'changshu_villages.json', 'changshu_dem_points_aster.geojson', 'generated'],
};
/** Edit audit actions that changed data (conflicts and refusals did not). */
const CHANGE_ACTIONS = new Set(['create', 'update', 'delete', 'restore', 'batch']);
/** How far back the edit audit is read per layer for lineage (the audit API's own ceiling). */
const AUDIT_WINDOW = 1000;
const PARAMS = ['q', 'department', 'grade', 'theme'];
const MAX_Q = 100;

export class CatalogApi {
  private readonly clock: () => number;
  private readonly log: (msg: string) => void;
  private manifest?: Promise<Manifest | null>;
  private readonly quality = new Map<string, { key: string; value: Quality | null }>();
  private readonly queue: { id: string; key: string }[] = [];
  private running = false;
  private readonly editSummaries = new Map<string, Promise<EditSummary>>();

  constructor(private readonly deps: CatalogDeps) {
    this.clock = deps.clock ?? Date.now;
    this.log = deps.log ?? (() => {});
  }

  static handles(s: string[]): boolean {
    return s[1] === CATALOG_ROUTE && (s.length === 2 || s.length === 3);
  }

  async handle(req: IncomingMessage, res: ServerResponse, s: string[], query: string, head: boolean): Promise<void> {
    const q = new URLSearchParams(query);
    if (s.length === 2) {
      sendJson(res, { items: await this.list(req, parseCatalogQuery(q)) }, { head, cacheControl: 'private, no-cache' });
      return;
    }
    for (const k of q.keys()) throw badRequest('unknown_param', `目录详情不接受参数「${k.slice(0, 40)}」。The catalog detail takes no parameters.`);
    const def = getLayer(s[2]);
    if (!def) {
      throw notFound('unknown_layer', `目录中没有图层「${s[2].slice(0, 40)}」；可用：${LAYERS.map((l) => l.id).join(', ')}。No layer ${s[2].slice(0, 40)} in the catalog; see GET /api/catalog.`);
    }
    sendJson(res, await this.detail(req, def), { head, cacheControl: 'private, no-cache' });
  }

  /** Entries matching the search, title hits first, then catalog order. */
  async list(req: IncomingMessage, f: CatalogQuery): Promise<CatalogEntry[]> {
    const picked = searchLayers(LAYERS, f);
    return Promise.all(picked.map((def) => this.entry(req, def)));
  }

  async detail(req: IncomingMessage, def: LayerDef): Promise<CatalogDetail> {
    const gov = governanceOf(def);
    const entry = await this.entry(req, def);
    const graded = gov.grade === 'sensitive' || gov.grade === 'core';
    return {
      ...entry,
      fields: def.fields.map((fd) => ({
        name: fd.name, type: fd.type, title: fd.title, meaning: gov.fieldMeaning[fd.name] ?? '',
        grade: gov.fieldGrades?.[fd.name] ?? gov.grade, personal: !!fd.personal,
      })),
      sourceNote: def.sourceNote,
      lineage: await this.lineage(def),
      quality: await this.qualityOf(def),
      crs: { stored: 'EPSG:4326', accepted: [...CRS_CODES], display: ['EPSG:3857', 'EPSG:4326'] },
      formats: formatsOf(def, graded),
    };
  }

  private async entry(req: IncomingMessage, def: LayerDef): Promise<CatalogEntry> {
    const gov = governanceOf(def);
    const actor = actorOf(req);
    const ctx = accessContextOf(req);
    const now = ctx?.now ?? this.clock();
    const grants = ctx?.grants ? ctx.grants.activeGrants(actor.id, now) : [];
    const access = layerAccess(actor, def, grants, now);
    const live = this.deps.activity?.[def.id];
    const [built, edits, count, active] = await Promise.all([
      this.builtAt(def), this.editSummary(def), this.featureCount(def), live ? live().catch(() => null) : null,
    ]);
    const times = [built, edits.lastAt, active].filter((t): t is number => typeof t === 'number' && Number.isFinite(t));
    const lastUpdate = times.length ? Math.max(...times) : null;
    return {
      id: def.id, title: def.title, titleEn: def.titleEn, department: def.department, departmentTitle: DEPARTMENTS[def.department],
      theme: def.theme, geometry: def.geometry, grade: gov.grade, gradeTitle: GRADE_INFO[gov.grade].title, description: gov.description,
      updateFrequency: gov.updateFrequency, updateFrequencyTitle: UPDATE_FREQUENCY_TITLE[gov.updateFrequency],
      lastUpdate, fresh: lastUpdate === null ? null : this.clock() - lastUpdate <= FRESH_FOR_MS[gov.updateFrequency],
      featureCount: count, access: access.kind, requestable: access.kind === 'none' && access.code === 'grant_required',
      approvals: GRADE_INFO[gov.grade].approvals,
    };
  }

  // ------------------------------------------------------------------------------------------ build and edits

  private readManifest(): Promise<Manifest | null> {
    this.manifest ??= readFile(join(this.deps.dataDir, 'manifest.json'), 'utf8').then((t) => JSON.parse(t) as Manifest, () => null);
    return this.manifest;
  }

  private async fileStat(def: LayerDef): Promise<{ size: number; mtimeMs: number } | null> {
    const l = this.deps.layers.get(def.id);
    if (!l) return null;
    try {
      const st = await stat(l.path);
      return { size: st.size, mtimeMs: Math.round(st.mtimeMs) };
    } catch {
      return null;
    }
  }

  private async builtAt(def: LayerDef): Promise<number | null> {
    return (await this.fileStat(def))?.mtimeMs ?? null;
  }

  /** As built from the manifest while unedited (no need to load a 200 MB file for a number); else the served file's. */
  private async featureCount(def: LayerDef): Promise<number | null> {
    const l = this.deps.layers.get(def.id);
    if (!l) return null;
    const cached = this.quality.get(def.id);
    if (cached?.value && cached.key === (await this.qualityKey(def))) return cached.value.featureCount;
    if (l.revision() === 0) {
      const n = (await this.readManifest())?.layers?.[def.id]?.count;
      if (typeof n === 'number') return n;
    }
    try {
      return (await l.open()).count;
    } catch {
      return null;
    }
  }

  /** Imports and edits of the layer from the edit audit, summarised; cached per edit revision. */
  private editSummary(def: LayerDef): Promise<EditSummary> {
    const revision = this.deps.layers.get(def.id)?.revision() ?? 0;
    const hit = this.editSummaries.get(def.id);
    const fresh = hit?.then((s) => (s.revision === revision ? s : null));
    const make = async (): Promise<EditSummary> => {
      const out: EditSummary = { revision, items: [], lastAt: null };
      if (!this.deps.edits) return out;
      let entries;
      try {
        entries = await (await this.deps.edits()).audit({ layer: def.id, limit: AUDIT_WINDOW });
      } catch {
        return out; // editing unavailable: the lineage shows the build only
      }
      const groups = { import: { n: 0, rows: 0, last: null as null | { at: number; actor: string }, who: new Set<string>() },
        edit: { n: 0, rows: 0, last: null as null | { at: number; actor: string }, who: new Set<string>() } };
      for (const e of entries) { // newest first
        const kind = e.action === 'import' ? 'import' : CHANGE_ACTIONS.has(e.action) ? 'edit' : null;
        if (!kind) continue;
        const g = groups[kind];
        g.n++;
        const c = Number((e.detail as { count?: unknown })?.count);
        g.rows += Number.isFinite(c) && c > 0 ? c : 1;
        g.last ??= { at: e.at, actor: e.actor };
        g.who.add(userOf(e.actor));
      }
      for (const kind of ['import', 'edit'] as const) {
        const g = groups[kind];
        if (!g.last) continue;
        const who = [...g.who].slice(0, 5).join('、');
        const capped = entries.length >= AUDIT_WINDOW ? `（统计最近 ${AUDIT_WINDOW} 条审计记录）` : '';
        out.items.push({
          kind, at: g.last.at, by: userOf(g.last.actor), count: g.rows,
          detail: kind === 'import'
            ? `导入 ${g.n} 次，共 ${g.rows} 个要素；导入人：${who}${capped}。${g.n} import(s), ${g.rows} features.`
            : `编辑 ${g.n} 次，涉及 ${g.rows} 个要素；编辑人：${who}${capped}。${g.n} edit(s), ${g.rows} features.`,
        });
        out.lastAt = Math.max(out.lastAt ?? 0, g.last.at);
      }
      return out;
    };
    const p = (fresh ?? Promise.resolve(null)).then((s) => s ?? make());
    this.editSummaries.set(def.id, p);
    return p;
  }

  private async lineage(def: LayerDef): Promise<LineageItem[]> {
    const out: LineageItem[] = [];
    const manifest = await this.readManifest();
    const st = await this.fileStat(def);
    if (manifest?.sources) {
      const names = LAYER_SOURCES[def.id] ?? ['generated'];
      for (const src of manifest.sources.filter((x) => names.includes(x.file))) {
        out.push({ kind: 'source', at: null, by: null, detail: `${src.what}：${src.source}（${src.licence}）${src.file === 'generated' ? '' : `，源文件 geodata/source/${src.file}`}` });
      }
    } else if (st) {
      out.push({ kind: 'source', at: null, by: null, detail: `本市自有数据文件 ${def.fgb}（无构建清单）。The city's own ${def.fgb} (no build manifest).` });
    }
    if (st) {
      const count = manifest?.layers?.[def.id]?.count;
      out.push({
        kind: 'build', at: st.mtimeMs, by: manifest ? 'npm run data' : null, ...(typeof count === 'number' ? { count } : {}),
        detail: manifest
          ? `由 scripts/build-data.ts 生成 ${def.fgb}（种子 ${manifest.seed}，比例 ${manifest.scale}${typeof count === 'number' ? `，${count} 个要素` : ''}），含空间索引。`
          : `${def.fgb}，${(st.size / 1048576).toFixed(1)} MiB。`,
      });
    }
    out.push(...(await this.editSummary(def)).items);
    return out;
  }

  // ------------------------------------------------------------------------------------------ quality

  private async qualityKey(def: LayerDef): Promise<string> {
    const st = await this.fileStat(def);
    return `${st?.size ?? 0}:${st?.mtimeMs ?? 0}:${this.deps.layers.get(def.id)?.revision() ?? 0}`;
  }

  /** The cached figures, or null after starting their computation in the background. */
  async qualityOf(def: LayerDef): Promise<Quality | null> {
    if (!this.deps.layers.has(def.id)) return null;
    const key = await this.qualityKey(def);
    const hit = this.quality.get(def.id);
    if (hit?.key === key && hit.value) return hit.value;
    if (!this.queue.some((j) => j.id === def.id && j.key === key) && hit?.key !== key) {
      this.quality.set(def.id, { key, value: null });
      this.queue.push({ id: def.id, key });
      void this.drain();
    }
    return null;
  }

  /** Queues the quality of every served layer (e.g. after start, so the catalog's first detail has figures). */
  warm(): void {
    for (const def of LAYERS) if (this.deps.layers.has(def.id)) void this.qualityOf(def);
  }

  /** Resolves once the quality of `layer` is computed for its current file and revision (tests, warm-up). */
  async awaitQuality(layer: string): Promise<Quality | null> {
    const def = getLayer(layer);
    if (!def || !this.deps.layers.has(layer)) return null;
    for (;;) {
      const q = await this.qualityOf(def);
      if (q) return q;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let job = this.queue.shift(); job; job = this.queue.shift()) {
        const def = getLayer(job.id)!;
        try {
          const layer = this.deps.layers.get(job.id)!;
          // Unedited: read the file for this count only (not pinned in memory like the served copy — with
          // PostgreSQL the server may never load the 200 MB address file itself); edited: the served overlay.
          const file = layer.revision() === 0 ? openFlatGeobuf(new Uint8Array(await readFile(layer.path))) : await layer.open();
          const value = await computeQuality(def, file, this.clock);
          // Only if nothing changed meanwhile; a newer key has its own job queued.
          if (this.quality.get(job.id)?.key === job.key) this.quality.set(job.id, { key: job.key, value });
        } catch (e) {
          this.log(`目录质量统计失败 catalog quality of ${job.id} failed: ${(e as Error).message}`);
          this.quality.delete(job.id);
        }
      }
    } finally {
      this.running = false;
    }
  }
}

const userOf = (actor: string): string => { const i = actor.indexOf(':'); return i < 0 ? actor : actor.slice(i + 1); };

function formatsOf(def: LayerDef, graded: boolean): CatalogDetail['formats'] {
  const out: CatalogDetail['formats'] = [
    { name: 'FlatGeobuf（含空间索引，支持 HTTP Range）', url: `/data/${def.id}.fgb` },
    { name: 'GeoJSON（OGC API - Features）', url: `/ogc/collections/${def.id}/items` },
    { name: '导出 GeoJSON / CSV / FlatGeobuf（空间查询）', via: 'POST /api/query' },
  ];
  if (def.tiles) {
    out.push({ name: `MVT 矢量瓦片（source-layer ${def.tiles.sourceLayer}，z${def.tiles.minzoom}–${def.tiles.maxzoom}）`, url: `/tiles/${def.tiles.tileset}/{z}/{x}/{y}.mvt` });
    out.push({ name: 'PMTiles 瓦片包', url: `/pmtiles/${def.tiles.tileset}.pmtiles` });
  }
  // Publishing copies the data out of the server's control: never for sensitive or core layers.
  if (!graded) out.push({ name: 'WMS / WFS（发布到 GeoServer）', via: 'POST /api/publish' });
  return out;
}

// ------------------------------------------------------------------------------------------ search (pure)

export interface CatalogQuery { q: string[]; department: DepartmentId | null; grade: Grade | null; theme: string | null }

export function parseCatalogQuery(p: URLSearchParams): CatalogQuery {
  for (const k of p.keys()) {
    if (!PARAMS.includes(k)) throw badRequest('unknown_param', `不认识的参数「${k.slice(0, 40)}」；可用：${PARAMS.join(', ')}。Unknown parameter; allowed: ${PARAMS.join(', ')}.`);
  }
  const q = (p.get('q') ?? '').trim();
  if (q.length > MAX_Q) throw badRequest('bad_query', `搜索词过长（${q.length} 字），请不超过 ${MAX_Q} 字。Search text longer than ${MAX_Q} characters.`);
  const dept = p.get('department');
  if (dept !== null && dept !== '' && !Object.hasOwn(DEPARTMENTS, dept)) {
    throw badRequest('bad_department', `未知部门「${dept.slice(0, 40)}」；可用：${Object.keys(DEPARTMENTS).join(', ')}。Unknown department.`);
  }
  const grade = p.get('grade');
  if (grade !== null && grade !== '' && !(GRADES as readonly string[]).includes(grade)) {
    throw badRequest('bad_grade', `未知分级「${grade.slice(0, 40)}」；可用：${GRADES.join(', ')}（公开、内部、敏感、核心）。Unknown grade; use one of ${GRADES.join(', ')}.`);
  }
  const theme = (p.get('theme') ?? '').trim();
  if (theme.length > 40) throw badRequest('bad_theme', '主题过长（不超过 40 字）。Theme longer than 40 characters.');
  return {
    q: q ? q.toLowerCase().split(/\s+/) : [],
    department: dept ? (dept as DepartmentId) : null,
    grade: grade ? (grade as Grade) : null,
    theme: theme || null,
  };
}

/** The text a layer is found by, lower-cased: [title part, everything else]. */
function searchText(def: LayerDef): [string, string] {
  const gov = governanceOf(def);
  const rest = [
    gov.description, DEPARTMENTS[def.department], def.department, def.theme, def.id, GRADE_INFO[gov.grade].title,
    ...def.fields.map((f) => `${f.title} ${f.name} ${gov.fieldMeaning[f.name] ?? ''}`),
  ];
  return [`${def.title} ${def.titleEn}`.toLowerCase(), rest.join('\n').toLowerCase()];
}

/**
 * Layers matching every search term (a substring of the title, English title, description, field titles and
 * meanings, department title or theme) and the filters; layers whose title holds every term come first.
 */
export function searchLayers(layers: readonly LayerDef[], f: CatalogQuery): LayerDef[] {
  const titled: LayerDef[] = [], other: LayerDef[] = [];
  for (const def of layers) {
    if (f.department && def.department !== f.department) continue;
    if (f.grade && governanceOf(def).grade !== f.grade) continue;
    if (f.theme && def.theme !== f.theme) continue;
    const [title, rest] = searchText(def);
    if (!f.q.every((t) => title.includes(t) || rest.includes(t))) continue;
    (f.q.length && f.q.every((t) => title.includes(t)) ? titled : other).push(def);
  }
  return [...titled, ...other];
}

// ------------------------------------------------------------------------------------------ quality (pure)

const finite = (v: number): boolean => Number.isFinite(v);

/** Whether one geometry is usable: finite WGS84 coordinates, lines of ≥ 2 vertices, closed rings of ≥ 4. */
function validRaw(g: NonNullable<ReturnType<FgbFile['rawGeometry']>>): boolean {
  const xy = g.xy;
  if (!xy.length) return false;
  for (let i = 0; i < xy.length; i += 2) {
    const x = xy[i], y = xy[i + 1];
    if (!finite(x) || !finite(y) || x < -180 || x > 180 || y < -90 || y > 90) return false;
  }
  if (g.type === 'Point' || g.type === 'MultiPoint') return true;
  let start = 0;
  for (const end of g.ends) {
    const n = end - start;
    if (g.type === 'LineString' || g.type === 'MultiLineString') {
      if (n < 2) return false;
    } else {
      if (n < 4) return false;
      if (xy[2 * start] !== xy[2 * (end - 1)] || xy[2 * start + 1] !== xy[2 * (end - 1) + 1]) return false;
    }
    start = end;
  }
  return g.ends.length > 0;
}

/**
 * Feature count, invalid geometries (missing, non-finite or outside lon/lat range, lines under 2 vertices,
 * rings unclosed or under 4 — self-intersection is not checked: the edit service refuses it on the way in) and
 * missing values per catalog field (null, absent or empty text). Yields to the event loop between columns and
 * chunks, so a large layer (addresses: ~0.5 s per column) never holds the server for long.
 */
export async function computeQuality(def: LayerDef, file: FgbFile, clock: () => number = Date.now): Promise<Quality> {
  const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
  let invalid = 0;
  const CHUNK = 20_000;
  for (let i = 0; i < file.count; i++) {
    const g = file.rawGeometry(i);
    if (!g || !validRaw(g)) invalid++;
    if (i % CHUNK === CHUNK - 1) await tick();
  }
  const missing: Record<string, number> = {};
  for (const f of def.fields) {
    await tick();
    let n = 0;
    for (const v of file.column(f.name)) if (v === undefined || v === null || v === '') n++;
    missing[f.name] = n;
  }
  return { featureCount: file.count, invalidGeometries: invalid, missing, computedAt: clock() };
}
