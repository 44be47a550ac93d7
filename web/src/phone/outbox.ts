// The phone's outbox (issue 9 item 4: "works with a flaky connection, nothing lost"): every report and patrol
// check-in is written to IndexedDB first and sent from there — at once when online, again when `online` fires
// and on a retry timer — and removed only after the server has confirmed it. Nothing is sent twice in effect:
//   - a report carries an Idempotency-Key chosen when it was queued; the incident API answers a resend with the
//     incident it already created (tile-server/incidents/api.ts), so a lost answer never files a second case;
//   - its photos go up after the incident exists; before uploading, the incident's attachments are read and a
//     photo whose SHA-256 is already there is skipped (the upload route has no key of its own);
//   - a check-in's key is its time `at` (tile-server/patrol.ts keeps one per user and millisecond).
// A refusal the server will repeat (4xx other than 401/408/429) is kept as failed with the server's reason,
// for the user to see and discard — never silently dropped.

export interface ReportBody { lon: number; lat: number; category: string; title: string; description: string; source: 'grid'; severity?: 1 | 2 | 3 | 4 }
export interface CheckInBody { lon: number; lat: number; at: number; accuracy?: number }
export interface QueuedPhoto { name: string; type: string; blob: Blob; sha256: string }

interface Base { id: string; /** Who queued it: sent only while that user is signed in (a shared phone must not send one user's reports as another's). */ owner: string | null; createdAt: number; tries: number; nextAt: number; error: string | null; failed: boolean }
export interface ReportItem extends Base { kind: 'report'; key: string; body: ReportBody; photos: QueuedPhoto[]; incidentId: string | null; incidentCode: string | null; uploaded: string[] }
export interface CheckInItem extends Base { kind: 'checkin'; body: CheckInBody }
export type OutboxItem = ReportItem | CheckInItem;

/** Where queued items live; IndexedDB in the browser, memory in tests. */
export interface OutboxStorage {
  all(): Promise<OutboxItem[]>;
  put(item: OutboxItem): Promise<void>;
  delete(id: string): Promise<void>;
}

export const DB_NAME = 'onemap-outbox';
/** Bump with a migration in onupgradeneeded when the item shape changes (STYLE: stored formats have a version). */
export const DB_VERSION = 1;
const STORE = 'items';

const req2p = <T>(r: IDBRequest<T>) => new Promise<T>((res, rej) => { r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });

export function idbStorage(name = DB_NAME): OutboxStorage {
  let db: Promise<IDBDatabase> | null = null;
  const open = () => (db ??= new Promise<IDBDatabase>((res, rej) => {
    const r = indexedDB.open(name, DB_VERSION);
    r.onupgradeneeded = () => { if (!r.result.objectStoreNames.contains(STORE)) r.result.createObjectStore(STORE, { keyPath: 'id' }); };
    r.onsuccess = () => res(r.result);
    r.onerror = () => { db = null; rej(r.error ?? new Error('IndexedDB unavailable')); };
  }));
  const tx = async <T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> => {
    const t = (await open()).transaction(STORE, mode);
    const out = req2p(fn(t.objectStore(STORE)));
    // Resolve after the transaction commits: a put is durable only then.
    await new Promise<void>((res, rej) => { t.oncomplete = () => res(); t.onerror = () => rej(t.error); t.onabort = () => rej(t.error ?? new Error('aborted')); });
    return out;
  };
  return {
    async all() { return ((await tx('readonly', (s) => s.getAll())) as OutboxItem[]).sort((a, b) => a.createdAt - b.createdAt); },
    async put(item) { await tx('readwrite', (s) => s.put(item)); },
    async delete(id) { await tx('readwrite', (s) => s.delete(id)); },
  };
}

export function memoryStorage(): OutboxStorage & { items: Map<string, OutboxItem> } {
  const items = new Map<string, OutboxItem>();
  return {
    items,
    async all() { return [...items.values()].sort((a, b) => a.createdAt - b.createdAt); },
    async put(item) { items.set(item.id, structuredClone(item)); },
    async delete(id) { items.delete(id); },
  };
}

type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export function newKey(): string {
  const c = globalThis.crypto;
  return typeof c?.randomUUID === 'function' ? c.randomUUID() : `k-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export async function sha256Hex(blob: Blob): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Retry after 5 s, 10 s, 20 s … at most 2 min (the timer also runs when `online` never fires). */
export const backoffMs = (tries: number) => Math.min(120_000, 5_000 * 2 ** Math.max(0, tries - 1));

/** A failure worth retrying (network, 5xx, 401 until signed in again, 408, 429) or one the server will repeat. */
class SendError extends Error {
  constructor(message: string, readonly permanent: boolean) { super(message); }
}

async function failure(res: Response): Promise<SendError> {
  let msg = `HTTP ${res.status}`;
  try { const b = await res.json() as { error?: { message?: string } }; if (b.error?.message) msg = b.error.message; } catch { /* not JSON */ }
  const retry = res.status >= 500 || res.status === 401 || res.status === 408 || res.status === 429;
  return new SendError(msg, !retry);
}

export interface OutboxOptions {
  storage: OutboxStorage;
  baseUrl?: string;
  fetch?: FetchLike;
  now?: () => number;
  /** Called whenever the queue changed (the UI's count). */
  onChange?: (items: OutboxItem[]) => void;
  /** The signed-in user; items queued by someone else wait until they sign in again. */
  owner?: () => string | null;
  /** Called when a report reached the server (its incident). */
  onSent?: (item: OutboxItem, result: unknown) => void;
}

export class Outbox {
  private readonly storage: OutboxStorage;
  private readonly base: string;
  private readonly doFetch: FetchLike;
  private readonly now: () => number;
  private flushing: Promise<number> | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly onOnline = () => { void this.flush({ force: true }); };

  constructor(private readonly o: OutboxOptions) {
    this.storage = o.storage;
    this.base = (o.baseUrl ?? '').replace(/\/+$/, '');
    this.doFetch = o.fetch ?? ((u, i) => fetch(u, i));
    this.now = o.now ?? Date.now;
  }

  async items(): Promise<OutboxItem[]> { return this.storage.all(); }

  private async changed(): Promise<void> { this.o.onChange?.(await this.storage.all()); }

  async enqueueReport(body: ReportBody, photos: { name: string; type: string; blob: Blob }[]): Promise<ReportItem> {
    const withHash: QueuedPhoto[] = [];
    for (const p of photos) withHash.push({ ...p, sha256: await sha256Hex(p.blob) });
    const t = this.now();
    const item: ReportItem = { kind: 'report', id: newKey(), owner: this.o.owner?.() ?? null, key: newKey(), body, photos: withHash, incidentId: null, incidentCode: null, uploaded: [], createdAt: t, tries: 0, nextAt: t, error: null, failed: false };
    await this.storage.put(item);
    await this.changed();
    return item;
  }

  async enqueueCheckIn(body: CheckInBody): Promise<CheckInItem> {
    const t = this.now();
    const item: CheckInItem = { kind: 'checkin', id: newKey(), owner: this.o.owner?.() ?? null, body, createdAt: t, tries: 0, nextAt: t, error: null, failed: false };
    await this.storage.put(item);
    await this.changed();
    return item;
  }

  /** Removes a failed item the user chose to discard. */
  async discard(id: string): Promise<void> {
    await this.storage.delete(id);
    await this.changed();
  }

  /** Puts a failed item back in the queue (after the user fixed the cause, e.g. signed in again). */
  async retry(id: string): Promise<void> {
    const it = (await this.storage.all()).find((x) => x.id === id);
    if (!it) return;
    await this.storage.put({ ...it, failed: false, error: null, nextAt: this.now() });
    await this.changed();
    void this.flush({ force: true });
  }

  /**
   * Sends what is due (all pending with `force`), oldest first; one flush at a time. Returns how many went.
   * A network failure stops the round: the rest would fail the same way.
   */
  flush(opts: { force?: boolean } = {}): Promise<number> {
    if (this.flushing) return this.flushing;
    this.flushing = this.run(opts.force ?? false).finally(() => { this.flushing = null; });
    return this.flushing;
  }

  private async run(force: boolean): Promise<number> {
    let sent = 0;
    const me = this.o.owner?.() ?? null;
    for (const item of await this.storage.all()) {
      if (item.failed || (!force && item.nextAt > this.now())) continue;
      if (item.owner !== null && item.owner !== me) continue;
      try {
        const result = item.kind === 'report' ? await this.sendReport(item) : await this.sendCheckIn(item);
        await this.storage.delete(item.id);
        sent++;
        this.o.onSent?.(item, result);
      } catch (e) {
        const permanent = e instanceof SendError && e.permanent;
        const tries = item.tries + 1;
        const latest = (await this.storage.all()).find((x) => x.id === item.id) ?? item;
        await this.storage.put({ ...latest, tries, nextAt: this.now() + backoffMs(tries), error: (e as Error).message, failed: permanent });
        if (!permanent && !(e instanceof SendError)) break; // the network is down
      }
    }
    await this.changed();
    return sent;
  }

  private async call(url: string, init: RequestInit): Promise<Response> {
    const res = await this.doFetch(`${this.base}${url}`, { credentials: 'same-origin', ...init });
    if (!res.ok) throw await failure(res);
    return res;
  }

  private async sendReport(item: ReportItem): Promise<unknown> {
    let incident: { id: string; code: string } | null = null;
    if (!item.incidentId) {
      const res = await this.call('/api/incidents', {
        method: 'POST', body: JSON.stringify(item.body),
        headers: { 'content-type': 'application/json', accept: 'application/json', 'Idempotency-Key': item.key },
      });
      incident = await res.json() as { id: string; code: string };
      item = { ...item, incidentId: incident.id, incidentCode: incident.code };
      await this.storage.put(item);
    }
    const id = encodeURIComponent(item.incidentId!);
    let pending = item.photos.filter((p) => !item.uploaded.includes(p.sha256));
    if (pending.length && item.tries > 0) {
      // A retry: an earlier upload may have been stored although its answer was lost.
      const d = await (await this.call(`/api/incidents/${id}`, { headers: { accept: 'application/json' } })).json() as { attachments?: { sha256: string }[] };
      const have = new Set((d.attachments ?? []).map((a) => a.sha256));
      pending = pending.filter((p) => !have.has(p.sha256));
    }
    for (const p of pending) {
      await this.call(`/api/incidents/${id}/attachments?kind=before`, { method: 'POST', body: p.blob, headers: { 'content-type': p.type || 'application/octet-stream' } });
      item = { ...item, uploaded: [...item.uploaded, p.sha256] };
      await this.storage.put(item);
    }
    return incident ?? { id: item.incidentId, code: item.incidentCode };
  }

  private async sendCheckIn(item: CheckInItem): Promise<unknown> {
    const res = await this.call('/api/patrols/checkin', { method: 'POST', body: JSON.stringify(item.body), headers: { 'content-type': 'application/json', accept: 'application/json' } });
    return res.json();
  }

  /** Sends when the browser says it is back online, and every `intervalMs` for whatever is due. */
  start(intervalMs = 5_000): void {
    if (this.timer) return;
    if (typeof window !== 'undefined') window.addEventListener('online', this.onOnline);
    this.timer = setInterval(() => { void this.flush(); }, intervalMs);
    void this.flush({ force: true });
  }

  stop(): void {
    if (typeof window !== 'undefined') window.removeEventListener('online', this.onOnline);
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
