// The data resource catalog (数据资源目录, issue 10) as the client shows it: every layer with its owner, grade,
// freshness and counts from GET /api/catalog (the server searches, in Chinese, and ranks title hits first), and
// one layer's detail (fields and their meaning, quality, lineage, formats, CRS) from GET /api/catalog/{layer}.
// The server answers for every signed-in user: metadata is not data, `access` says what the user may see.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { DepartmentId } from '../../../layers/catalog.ts';
import type { Grade, GrantScope, UpdateFrequency } from '../../../layers/governance/model.ts';

export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;
export type LayerAccessKind = 'full' | 'grant' | 'none';

export interface CatalogEntry {
  id: string; title: string; titleEn: string; department: DepartmentId; departmentTitle: string; theme: string;
  geometry: 'point' | 'line' | 'polygon'; grade: Grade; gradeTitle: string; description: string;
  updateFrequency: UpdateFrequency; updateFrequencyTitle: string;
  /** ms: the later of the build time and the last edit; null when unknown. */
  lastUpdate: number | null;
  fresh: boolean | null; featureCount: number | null; access: LayerAccessKind; requestable: boolean; approvals: 0 | 1 | 2;
}

export interface CatalogField { name: string; type: string; title: string; meaning: string; grade: Grade; personal: boolean }
export interface LineageStep { kind: 'source' | 'build' | 'import' | 'edit'; at: number | null; by: string | null; detail: string; count?: number }
export interface QualityFigures { featureCount: number; invalidGeometries: number; missing: Record<string, number>; computedAt: number }

export interface CatalogDetail extends CatalogEntry {
  fields: CatalogField[]; sourceNote: string; lineage: LineageStep[];
  /** null while the server is still computing it. */
  quality: QualityFigures | null;
  crs: { stored: 'EPSG:4326'; accepted: string[]; display: string[] };
  formats: { name: string; url?: string; via?: string }[];
}

export type { GrantScope };

/** A failed API call: HTTP status, the server's stable code and its (Chinese-first) message. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) { super(message); }
}

/** Sends a JSON request and reads the JSON answer; a non-2xx answer becomes an ApiError with the server's code. */
export async function requestJson<T>(doFetch: FetchLike, url: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  let res: Response;
  try {
    res = await doFetch(url, {
      method: init.method ?? 'GET', credentials: 'same-origin',
      headers: { accept: 'application/json', ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
  } catch {
    throw new ApiError(0, 'network', '无法连接服务器，请检查网络后重试。Cannot reach the server.');
  }
  const body = await res.json().catch(() => null) as { error?: { code?: unknown; message?: unknown } } | null;
  if (!res.ok) {
    const code = typeof body?.error?.code === 'string' ? body.error.code : `http_${res.status}`;
    const message = typeof body?.error?.message === 'string' ? body.error.message : `服务器返回 HTTP ${res.status}，请稍后重试。The server answered HTTP ${res.status}.`;
    throw new ApiError(res.status, code, message);
  }
  return body as T;
}

export interface DepartmentGroup { department: DepartmentId; title: string; entries: CatalogEntry[] }

/** Entries grouped by owner department; groups in order of their first entry, so the server's ranking (title hits first) survives. */
export function groupByDepartment(entries: readonly CatalogEntry[]): DepartmentGroup[] {
  const groups = new Map<string, DepartmentGroup>();
  for (const e of entries) {
    let g = groups.get(e.department);
    if (!g) groups.set(e.department, (g = { department: e.department, title: e.departmentTitle, entries: [] }));
    g.entries.push(e);
  }
  return [...groups.values()];
}

export type Freshness = { state: 'fresh' | 'stale' | 'unknown'; age: string | null };

/** How old `lastUpdate` is, in words (刚刚, 5 分钟前, 3 小时前, 12 天前), and whether the server called it stale. */
export function freshnessOf(e: Pick<CatalogEntry, 'lastUpdate' | 'fresh'>, now: number): Freshness {
  const state = e.fresh === null ? 'unknown' : e.fresh ? 'fresh' : 'stale';
  if (e.lastUpdate === null) return { state, age: null };
  const min = Math.max(0, Math.floor((now - e.lastUpdate) / 60_000));
  const age = min < 1 ? '刚刚' : min < 60 ? `${min} 分钟前` : min < 48 * 60 ? `${Math.floor(min / 60)} 小时前` : `${Math.floor(min / 1440)} 天前`;
  return { state, age };
}

/** A date-time as the catalog prints it (local time, 2026-05-01 08:00). */
export function formatTime(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** The query string of GET /api/catalog; empty filters are left out. */
export function catalogQuery(f: { q?: string; department?: string; grade?: string; theme?: string }): string {
  const p = new URLSearchParams();
  for (const k of ['q', 'department', 'grade', 'theme'] as const) {
    const v = f[k]?.trim();
    if (v) p.set(k, v);
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

export const useCatalogStore = defineStore('catalog', () => {
  let doFetch: FetchLike = (url, init) => fetch(url, init);
  let baseUrl = typeof location !== 'undefined' ? location.origin : '';
  /** Quality is computed in the background on the server: ask again this often while it is null. */
  let qualityRetryMs = 2000;

  const entries = shallowRef<CatalogEntry[]>([]);
  const query = ref('');
  const department = ref('');
  const grade = ref<Grade | ''>('');
  const loading = ref(false);
  const error = ref<string | null>(null);
  /** The query the shown entries answer (a slower older answer must not overwrite a newer one). */
  let seq = 0;

  const detail = shallowRef<CatalogDetail | null>(null);
  const detailId = ref<string | null>(null);
  const detailError = ref<string | null>(null);
  let qualityTimer: ReturnType<typeof setTimeout> | null = null;

  const groups = computed(() => groupByDepartment(entries.value));

  function configure(o: { fetch?: FetchLike; baseUrl?: string; qualityRetryMs?: number }): void {
    if (o.fetch) doFetch = o.fetch;
    if (o.baseUrl !== undefined) baseUrl = o.baseUrl;
    if (o.qualityRetryMs !== undefined) qualityRetryMs = o.qualityRetryMs;
  }

  async function load(): Promise<void> {
    const mine = ++seq;
    loading.value = true;
    error.value = null;
    try {
      const url = `${baseUrl}/api/catalog${catalogQuery({ q: query.value, department: department.value, grade: grade.value })}`;
      const body = await requestJson<{ items: CatalogEntry[] }>(doFetch, url);
      if (mine === seq) entries.value = body.items;
    } catch (e) {
      if (mine === seq) error.value = `无法读取数据资源目录：${(e as Error).message}`;
    } finally {
      if (mine === seq) loading.value = false;
    }
  }

  function setFilters(f: { q?: string; department?: string; grade?: Grade | '' }): Promise<void> {
    if (f.q !== undefined) query.value = f.q;
    if (f.department !== undefined) department.value = f.department;
    if (f.grade !== undefined) grade.value = f.grade;
    return load();
  }

  async function openDetail(id: string): Promise<void> {
    if (qualityTimer) { clearTimeout(qualityTimer); qualityTimer = null; }
    if (detailId.value !== id) detail.value = null;
    detailId.value = id;
    detailError.value = null;
    try {
      const d = await requestJson<CatalogDetail>(doFetch, `${baseUrl}/api/catalog/${encodeURIComponent(id)}`);
      if (detailId.value !== id) return;
      detail.value = d;
      if (d.quality === null && qualityRetryMs > 0) qualityTimer = setTimeout(() => { if (detailId.value === id) void openDetail(id); }, qualityRetryMs);
    } catch (e) {
      if (detailId.value === id) detailError.value = `无法读取 ${id} 的目录详情：${(e as Error).message}`;
    }
  }

  function closeDetail(): void {
    if (qualityTimer) { clearTimeout(qualityTimer); qualityTimer = null; }
    detailId.value = null;
    detail.value = null;
    detailError.value = null;
  }

  return { entries, query, department, grade, loading, error, groups, detail, detailId, detailError, configure, load, setFilters, openDetail, closeDetail };
});
