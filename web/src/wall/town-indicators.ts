// The wall's "各镇指标" panel (issue 10 item 4: the city's indicators by town on the command-centre wall): a table of
// chosen indicators per town with their traffic-light status, from GET /api/indicators?level=town (the indicator
// engine's latest snapshot, computed every 15 min), fetched again every minute. Pure parts here, tested beside.
import type { IndicatorDef, IndicatorStatus, IndicatorValue } from '../../../layers/indicators/model.ts';

export interface TownSnapshot { at: number | null; definitions: IndicatorDef[]; values: IndicatorValue[] }
export interface TownColumn { id: string; name: string; unit: string }
export interface TownCell { id: string; value: number | null; text: string; status: IndicatorStatus }
export interface TownRow { code: string; name: string; cells: TownCell[] }
export interface TownTable { at: number | null; columns: TownColumn[]; rows: TownRow[] }

/** Columns the wall has room for at 3840 px in one fifth of the width. */
export const MAX_COLUMNS = 4;
export const TOWN_REFRESH_MS = 60_000;

/**
 * The table: `chosen` indicator ids in that order (unknown ids and ids without a town level dropped), else the
 * first MAX_COLUMNS town-level definitions (built-ins first, as the server lists them). Rows: every town with a
 * value of any column, most red cells first, then most amber, then by code — what needs attention on top.
 */
export function townTable(snap: TownSnapshot, chosen: readonly string[] | null = null): TownTable {
  const town = snap.definitions.filter((d) => d.levels.includes('town'));
  const picked = chosen?.length
    ? chosen.map((id) => town.find((d) => d.id === id)).filter((d): d is IndicatorDef => !!d).slice(0, MAX_COLUMNS)
    : [...town.filter((d) => d.builtin), ...town.filter((d) => !d.builtin)].slice(0, MAX_COLUMNS);
  const byKey = new Map<string, IndicatorValue>();
  const towns = new Map<string, string>();
  for (const v of snap.values) {
    if (v.level !== 'town') continue;
    byKey.set(`${v.indicator}|${v.code}`, v);
    if (picked.some((d) => d.id === v.indicator)) towns.set(v.code, v.name);
  }
  const rows: TownRow[] = [...towns].map(([code, name]) => ({
    code, name,
    cells: picked.map((d) => {
      const v = byKey.get(`${d.id}|${code}`);
      const value = v?.value ?? null;
      return { id: d.id, value, text: value === null ? '—' : value.toFixed(d.decimals), status: v?.status ?? 'none' };
    }),
  }));
  const n = (r: TownRow, s: IndicatorStatus) => r.cells.filter((c) => c.status === s).length;
  rows.sort((a, b) => n(b, 'red') - n(a, 'red') || n(b, 'amber') - n(a, 'amber') || a.code.localeCompare(b.code));
  return { at: snap.at, columns: picked.map((d) => ({ id: d.id, name: d.name, unit: d.unit })), rows };
}

/** `?indicators=a,b` on the wall's URL chooses the columns; null when absent. */
export function chosenFromUrl(search: string): string[] | null {
  const s = new URLSearchParams(search).get('indicators');
  const ids = s ? s.split(',').map((x) => x.trim()).filter(Boolean) : [];
  return ids.length ? ids : null;
}

/** Fetches the town level now and every TOWN_REFRESH_MS; returns the stop function. */
export function startTownIndicators(baseUrl: string, h: { table(t: TownSnapshot): void; error(detail: string): void }, fetchFn: typeof fetch = fetch): () => void {
  let stopped = false;
  async function load(): Promise<void> {
    try {
      const res = await fetchFn(`${baseUrl.replace(/\/+$/, '')}/api/indicators?level=town`, { credentials: 'same-origin' });
      const body = await res.json().catch(() => null) as (TownSnapshot & { error?: { message: string } }) | null;
      if (stopped) return;
      if (!res.ok || !body) { h.error(body?.error?.message ?? `HTTP ${res.status}`); return; }
      h.table(body);
    } catch (e) {
      if (!stopped) h.error(e instanceof Error ? e.message : String(e));
    }
  }
  void load();
  const timer = setInterval(() => void load(), TOWN_REFRESH_MS);
  return () => { stopped = true; clearInterval(timer); };
}
