// The wall's auto-tour (issue 9 item 3): it visits the towns with an active alarm, most alarms first, one
// stop per interval; with none it rests on the whole city. Pure, so the order can be tested without a map.
import type { Bbox, Indicators } from '../../../layers/wall/model.ts';

export interface TourStop { code: string; name: string; bbox: Bbox }

/** Towns with an active alarm and a known extent, in the order the indicators give (most active first). */
export function tourStops(ind: Indicators | null): TourStop[] {
  if (!ind) return [];
  return ind.alarms.byTown
    .filter((t) => t.active > 0 && t.bbox !== null && t.code !== '')
    .map((t) => ({ code: t.code, name: t.name, bbox: t.bbox as Bbox }));
}

/**
 * The stop after `current` (a town code; null at the start). When the list changed under the tour, it goes
 * on from where `current` now stands, or from the start when `current` left the list; null when empty.
 */
export function nextStop(stops: readonly TourStop[], current: string | null): TourStop | null {
  if (!stops.length) return null;
  const i = current === null ? -1 : stops.findIndex((s) => s.code === current);
  return stops[(i + 1) % stops.length];
}
