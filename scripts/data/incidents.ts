// A year of incident history (历史事件) for the demo city: what the hot-spot analysis, the lookup card's
// "recent incidents" and later the case workflow start from. Each incident sits on a standard address
// (door or building level: cases are located by 标准地址, 一标多实), so its grid, village and town are the
// address's. About half come from a few dozen hot spots (markets, old town lanes, busy crossings, chosen
// among the densest addresses), the rest spread like the addresses themselves. Categories follow
// layers/incident-categories.ts with seasonal weights (积水 in the plum-rain and typhoon months, 火情 in
// winter), times follow a daily cycle, and cases older than a few days are closed within their limit.
import { INCIDENT_CATEGORIES, type IncidentSource } from '../../layers/incident-categories.ts';
import type { Rng } from './rng.ts';

/** The history ends here (midnight Beijing time, 2026-11-29): fixed so that a seed gives the same bytes. */
export const INCIDENT_HISTORY_END = Date.UTC(2026, 10, 28, 16, 0, 0);
const DAY = 86_400_000;
const BASE_COUNT = 30_000;

/** Relative weight of each category code per month (1–12); 1 = no seasonality. */
function seasonal(code: string, month: number): number {
  if (code === '1102') return month >= 6 && month <= 9 ? 4 : 0.3; // 梅雨、台风
  if (code === '1401') return month <= 2 || month === 12 ? 2 : 0.7;
  if (code === '1701' || code === '1301') return month >= 4 && month <= 10 ? 1.4 : 0.8;
  return 1;
}
/** Base frequency of each category (street-order and sanitation cases dominate real 数字城管 statistics). */
const FREQ: Record<string, number> = {
  '1101': 10, '1501': 9, '1502': 8, '1201': 6, '0301': 6, '0103': 5, '0201': 4, '0101': 3, '1701': 3, '1301': 3,
  '1302': 2, '1103': 2, '0202': 2, '0203': 1.5, '0302': 1.5, '0401': 1, '1601': 2, '1702': 1, '1102': 2,
  '0105': 1, '0102': 0.8, '1403': 1.5, '0104': 0.3, '1401': 0.4, '1402': 0.2,
};
const SOURCES: IncidentSource[] = ['grid', 'hotline', 'camera', 'public', 'sensor'];
const SOURCE_WEIGHTS = [55, 20, 12, 8, 5];
/** Hours of the day (Beijing time) weighted like a patrol day: few at night, peaks mid-morning and evening. */
const HOUR_WEIGHTS = [1, 0.5, 0.3, 0.3, 0.4, 0.8, 2, 4, 6, 7, 7, 6, 5, 5, 6, 6, 6, 6, 7, 7, 5, 4, 3, 2];

const iso = (ms: number): string => new Date(Math.round(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export function generateIncidents(addresses: GeoJSON.Feature[], rng: Rng, scale: number): GeoJSON.Feature[] {
  const sites = addresses.filter((a) => a.properties?.level === 'door' || a.properties?.level === 'building');
  if (!sites.length) return [];
  const count = Math.max(50, Math.round(BASE_COUNT * Math.min(1, scale * 4)));
  // Hot spots: addresses with many neighbours, picked through a coarse cell count.
  const cells = new Map<string, number[]>();
  sites.forEach((a, i) => {
    const [x, y] = (a.geometry as GeoJSON.Point).coordinates;
    const k = `${Math.floor(x / 0.004)},${Math.floor(y / 0.004)}`;
    let l = cells.get(k);
    if (!l) cells.set(k, (l = []));
    l.push(i);
  });
  const dense = [...cells.values()].sort((a, b) => b.length - a.length || a[0] - b[0]).slice(0, 40);
  const hotspots = dense.map((members) => ({ members, weight: rng.range(0.5, 2) }));
  const codes = INCIDENT_CATEGORIES.map((c) => c.code);
  const out: GeoJSON.Feature[] = [];
  const seq = new Map<string, number>();
  for (let n = 0; n < count; n++) {
    const site = rng.chance(0.5)
      ? sites[rng.pick(rng.weighted(hotspots, hotspots.map((h) => h.weight)).members)]
      : rng.pick(sites);
    const day = Math.floor(rng.next() * 365);
    const hour = rng.weighted(HOUR_WEIGHTS.map((_, h) => h), HOUR_WEIGHTS);
    const dayStart = INCIDENT_HISTORY_END - (day + 1) * DAY; // Beijing midnight
    const reported = dayStart + hour * 3_600_000 + Math.floor(rng.next() * 3_600_000);
    const month = new Date(reported + 8 * 3_600_000).getUTCMonth() + 1;
    const code = rng.weighted(codes, codes.map((c) => (FREQ[c] ?? 1) * seasonal(c, month)));
    const cat = INCIDENT_CATEGORIES.find((c) => c.code === code)!;
    const age = INCIDENT_HISTORY_END - reported;
    const closed = age > 3 * DAY || rng.chance(age / (3 * DAY));
    const closedAt = closed ? Math.min(INCIDENT_HISTORY_END - 60_000, reported + cat.limitHours * 3_600_000 * rng.range(0.2, 1.3)) : undefined;
    const ymd = new Date(reported + 8 * 3_600_000).toISOString().slice(0, 10).replaceAll('-', '');
    const k = (seq.get(ymd) ?? 0) + 1;
    seq.set(ymd, k);
    const p = site.properties!;
    const severity = Math.max(1, Math.min(4, cat.severity + (rng.chance(0.15) ? 1 : 0) - (rng.chance(0.15) ? 1 : 0)));
    out.push({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: (site.geometry as GeoJSON.Point).coordinates.slice(0, 2) },
      properties: {
        id: `inc-${ymd}-${String(k).padStart(4, '0')}`,
        code: `SJ${ymd}${String(k).padStart(4, '0')}`,
        category: cat.code, category_name: cat.name, class: cat.class, severity,
        status: closed ? 'closed' : 'open',
        source: rng.weighted(SOURCES, SOURCE_WEIGHTS),
        title: `${String(p.road ?? p.compound ?? '')}${cat.name}`.trim() || cat.name,
        reported_at: iso(reported),
        ...(closedAt !== undefined ? { closed_at: iso(Math.max(closedAt, reported + 60_000)) } : {}),
        address: p.full, grid_code: p.grid_code, village_code: p.village_code, town_code: p.town_code,
        department: cat.department, synthetic: true,
      },
    });
  }
  // File order by time, so an id's date and the order agree for readers who scan.
  out.sort((a, b) => String(a.properties!.reported_at).localeCompare(String(b.properties!.reported_at)) || String(a.properties!.id).localeCompare(String(b.properties!.id)));
  return out;
}

