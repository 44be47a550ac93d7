// The address search box's state (issue 4 item 7): type-ahead geocoding through /api/address/search,
// the selected address's card (/api/address/{code}: hierarchy, grid, 一标多实 links) and reverse
// geocoding for a map right-click / long-press (/api/address/reverse; the shell wires the gesture).
// IME-safe: while an input method is composing (compositionstart … compositionend) keystrokes are pinyin,
// not the query, so nothing is searched until the composition ends.
import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import type { AddressRecord, MatchReason } from '../../../address-standards/geocode.ts';
import type { AddressLinks } from '../../../address-standards/links.ts';

export const SEARCH_DEBOUNCE_MS = 200;
export const SEARCH_LIMIT = 10;
/** The API refuses longer queries (tile-server/address-api.ts MAX_QUERY_CHARS). */
export const MAX_QUERY_CHARS = 200;

export interface GridRef { code: string; name: string }
export interface AddressHit { score: number; reason: MatchReason; detail: string; lon: number; lat: number; record: AddressRecord; grid: GridRef | null }
export interface AddressCard { record: AddressRecord; grid: GridRef | null; links: AddressLinks }
export interface ReverseHit { lon: number; lat: number; distanceM: number; record: AddressRecord; grid: GridRef | null }

type FetchLike = (url: string, init?: { signal?: AbortSignal }) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

/** The message of an API error body (`{error:{code,message}}`), or a generic one with the status. */
async function failure(res: { status: number; json(): Promise<unknown> }): Promise<string> {
  try {
    const body = (await res.json()) as { error?: { message?: string } };
    if (body?.error?.message) return body.error.message;
  } catch { /* not JSON */ }
  return `HTTP ${res.status}`;
}

export const useAddressStore = defineStore('address', () => {
  const query = ref('');
  const results = shallowRef<AddressHit[]>([]);
  const loading = ref(false);
  const error = ref<string | null>(null);
  const composing = ref(false);
  const card = shallowRef<AddressCard | null>(null);
  const cardLoading = ref(false);
  const cardError = ref<string | null>(null);
  const lastReverse = shallowRef<ReverseHit | null>(null);

  let baseUrl = '';
  let doFetch: FetchLike = (url, init) => fetch(url, init);
  let timer: ReturnType<typeof setTimeout> | null = null;
  let searchAbort: AbortController | null = null;
  let cardAbort: AbortController | null = null;

  /** Server origin ('' = same origin) and, for tests, the fetch to use. */
  function configure(opts: { baseUrl?: string; fetch?: FetchLike }): void {
    if (opts.baseUrl !== undefined) baseUrl = opts.baseUrl.replace(/\/+$/, '');
    if (opts.fetch) doFetch = opts.fetch;
  }

  function cancelPending(): void {
    if (timer) clearTimeout(timer);
    timer = null;
  }

  /** The input changed. Searches after SEARCH_DEBOUNCE_MS of quiet, never while an IME is composing. */
  function setQuery(text: string): void {
    query.value = text;
    if (composing.value) return;
    schedule();
  }

  function compositionStart(): void {
    composing.value = true;
    cancelPending();
  }

  /** The IME committed `text` (the input's value after composition). */
  function compositionEnd(text: string): void {
    composing.value = false;
    setQuery(text);
  }

  function schedule(): void {
    cancelPending();
    if (!query.value.trim()) {
      searchAbort?.abort();
      results.value = [];
      loading.value = false;
      error.value = null;
      return;
    }
    timer = setTimeout(() => { timer = null; void search(); }, SEARCH_DEBOUNCE_MS);
  }

  /** Searches now (Enter, or the debounce firing). A newer search cancels an older one in flight. */
  async function search(text = query.value): Promise<AddressHit[]> {
    cancelPending();
    const q = [...text.trim()].slice(0, MAX_QUERY_CHARS).join('');
    searchAbort?.abort();
    if (!q) { results.value = []; return []; }
    const ctl = (searchAbort = new AbortController());
    loading.value = true;
    error.value = null;
    try {
      const res = await doFetch(`${baseUrl}/api/address/search?q=${encodeURIComponent(q)}&limit=${SEARCH_LIMIT}`, { signal: ctl.signal });
      if (ctl.signal.aborted) return results.value;
      if (!res.ok) throw new Error(await failure(res));
      const body = (await res.json()) as { results: AddressHit[] };
      if (ctl.signal.aborted) return results.value;
      results.value = body.results ?? [];
      return results.value;
    } catch (e) {
      if (ctl.signal.aborted) return results.value;
      error.value = e instanceof Error ? e.message : String(e);
      results.value = [];
      return [];
    } finally {
      if (searchAbort === ctl) { loading.value = false; searchAbort = null; }
    }
  }

  /** Loads the card (hierarchy, grid, linked entities) of the address with this code. */
  async function openCard(code: string): Promise<AddressCard | null> {
    cardAbort?.abort();
    const ctl = (cardAbort = new AbortController());
    cardLoading.value = true;
    cardError.value = null;
    try {
      const res = await doFetch(`${baseUrl}/api/address/${encodeURIComponent(code)}`, { signal: ctl.signal });
      if (!res.ok) throw new Error(await failure(res));
      const body = (await res.json()) as AddressCard;
      if (ctl.signal.aborted) return null;
      card.value = body;
      return body;
    } catch (e) {
      if (ctl.signal.aborted) return null;
      cardError.value = e instanceof Error ? e.message : String(e);
      card.value = null;
      return null;
    } finally {
      if (cardAbort === ctl) { cardLoading.value = false; cardAbort = null; }
    }
  }

  /** Right-click / long-press: the nearest standard address to a point, then its card. Null outside the city. */
  async function reverse(lon: number, lat: number): Promise<ReverseHit | null> {
    cardError.value = null;
    try {
      const res = await doFetch(`${baseUrl}/api/address/reverse?lon=${lon.toFixed(7)}&lat=${lat.toFixed(7)}`);
      if (!res.ok) throw new Error(await failure(res));
      const hit = (await res.json()) as ReverseHit;
      lastReverse.value = hit;
      await openCard(hit.record.code);
      return hit;
    } catch (e) {
      lastReverse.value = null;
      card.value = null;
      cardError.value = e instanceof Error ? e.message : String(e);
      return null;
    }
  }

  function closeCard(): void {
    cardAbort?.abort();
    card.value = null;
    cardError.value = null;
  }

  function clear(): void {
    cancelPending();
    searchAbort?.abort();
    query.value = '';
    results.value = [];
    error.value = null;
    loading.value = false;
  }

  return {
    query, results, loading, error, composing, card, cardLoading, cardError, lastReverse,
    configure, setQuery, compositionStart, compositionEnd, search, openCard, reverse, closeCard, clear,
  };
});
