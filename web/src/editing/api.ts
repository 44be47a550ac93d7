// The editing HTTP contract as the client speaks it (issue8.md, E1/E3/E4): URLs, the typed error a
// failed call becomes (409 carries both versions, 422 the issues), and the NDJSON reader for publish
// progress. Pure apart from the injected fetch.
import type { Role } from '../../../layers/catalog.ts';
import type { EditChange, EditFeature, FeatureVersion, ValidationIssue, VersionConflict } from '../../../layers/editing/model.ts';

export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;
/** The editor: the signed-in user (issue 9; the server takes it from the session cookie, not from the request). */
export interface EditActor { role: Role; id: string; name?: string }

export interface ServerLayer { id: string; title: string; geometry: string; editable: Role[]; revision: number }
export interface FeatureAnswer { feature: EditFeature; version: number }

/** A failed editing call: status, stable code, message, and the details the editor acts on. */
export class EditApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string,
    readonly issues: ValidationIssue[] = [], readonly conflict: VersionConflict | null = null) {
    super(message);
  }
}

export async function toApiError(res: Response): Promise<EditApiError> {
  let body: { error?: Record<string, unknown> } | null = null;
  try { body = (await res.json()) as { error?: Record<string, unknown> }; } catch { /* not JSON */ }
  const e = body?.error ?? {};
  const code = typeof e.code === 'string' ? e.code : `http_${res.status}`;
  const message = typeof e.message === 'string' ? e.message : `服务器返回 HTTP ${res.status} / the server answered HTTP ${res.status}`;
  const issues = Array.isArray(e.issues) ? (e.issues as ValidationIssue[]) : [];
  const conflict = res.status === 409 && 'current' in e ? (e as unknown as VersionConflict) : null;
  return new EditApiError(res.status, code, message, issues, conflict);
}

const trim = (u: string) => u.replace(/\/+$/, '');
const enc = encodeURIComponent;

export const urls = {
  layers: (b: string) => `${trim(b)}/api/layers`,
  feature: (b: string, layer: string, id: string) => `${trim(b)}/api/layers/${enc(layer)}/features/${enc(id)}`,
  features: (b: string, layer: string) => `${trim(b)}/api/layers/${enc(layer)}/features`,
  history: (b: string, layer: string, id: string) => `${urls.feature(b, layer, id)}/history`,
  restore: (b: string, layer: string, id: string) => `${urls.feature(b, layer, id)}/restore`,
  edits: (b: string, layer: string) => `${trim(b)}/api/layers/${enc(layer)}/edits`,
  validate: (b: string, layer: string) => `${trim(b)}/api/layers/${enc(layer)}/validate`,
  items: (b: string, layer: string, bbox: readonly number[], limit: number) =>
    `${trim(b)}/ogc/collections/${enc(layer)}/items?bbox=${bbox.map((v) => v.toFixed(6)).join(',')}&limit=${limit}`,
  imports: (b: string, q: { layer: string; mode: 'preview' | 'apply'; filename: string; crs?: string; encoding?: string }) => {
    // progress=ndjson: the server streams {stage, done, total} lines, then {result} or {error} (E3).
    const p = new URLSearchParams({ layer: q.layer, mode: q.mode, filename: q.filename, progress: 'ndjson' });
    if (q.crs) p.set('crs', q.crs);
    if (q.encoding) p.set('encoding', q.encoding);
    return `${trim(b)}/api/imports?${p}`;
  },
  publish: (b: string) => `${trim(b)}/api/publish`,
  live: (b: string) => `${trim(b).replace(/^http/, 'ws')}/ws`,
};

export interface SaveResult { versions: FeatureVersion[]; issues: ValidationIssue[] }

/** The one call a save needs: a single change as PUT/POST/DELETE, several as one atomic /edits batch. */
export function saveRequest(base: string, layer: string, changes: readonly EditChange[], comment?: string): { url: string; init: RequestInit } {
  const json = (method: string, url: string, body: unknown) => ({ url, init: { method, body: JSON.stringify(body) } });
  if (changes.length === 1) {
    const c = changes[0];
    if (c.op === 'create') return json('POST', urls.features(base, layer), { feature: { type: 'Feature', ...c.feature }, ...(comment ? { comment } : {}) });
    if (c.op === 'update') return json('PUT', urls.feature(base, layer, c.id!), { feature: { type: 'Feature', id: c.id, ...c.feature }, version: c.version, ...(comment ? { comment } : {}) });
    return { url: `${urls.feature(base, layer, c.id!)}?version=${c.version}`, init: { method: 'DELETE' } };
  }
  return json('POST', urls.edits(base, layer), { changes, ...(comment ? { comment } : {}) });
}

/** Reads what a save answered into FeatureVersion-like records (single calls answer with one feature). */
export function saveAnswer(body: unknown, layer: string): SaveResult {
  const b = (body ?? {}) as Record<string, unknown>;
  const issues = Array.isArray(b.issues) ? (b.issues as ValidationIssue[]) : [];
  if (Array.isArray(b.versions)) return { versions: b.versions as FeatureVersion[], issues };
  if (b.deleted === true) return { versions: [{ layer, id: String(b.id), version: Number(b.version), deleted: true, feature: null } as FeatureVersion], issues };
  const f = b.feature as EditFeature | undefined;
  // A single save answers { feature, version, … } (and possibly the FeatureVersion's own fields).
  return { versions: [{ ...(b as object), layer, id: f?.id ?? String(b.id), version: Number(b.version), deleted: false, feature: f ?? null } as FeatureVersion], issues };
}

/** Splits an NDJSON byte stream into parsed lines as they arrive (publish progress). */
export async function readNdjson(body: ReadableStream<Uint8Array>, onLine: (line: Record<string, unknown>) => void): Promise<void> {
  const reader = body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    buf += done ? dec.decode() : dec.decode(value, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) onLine(JSON.parse(line) as Record<string, unknown>);
    }
    if (done) break;
  }
  if (buf.trim()) onLine(JSON.parse(buf) as Record<string, unknown>);
}
