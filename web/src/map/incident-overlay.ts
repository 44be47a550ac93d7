// Incidents on the map (both engines, through MapEngine.setOverlays): one marker per incident, coloured by
// status, sized by severity; overdue cases get a red halo so they stand out on a wall of markers; the open
// case a white ring; the point being reported a pin. Pure (no DOM), tested in incident-overlay.spec.ts.
import type { Incident, IncidentStatus } from '../../../layers/incidents/model.ts';
import type { LonLat } from './engine.ts';
import type { Marker, MarkerOverlay, Rgba } from './overlays.ts';

/** Status colours: warm while waiting on the centre (report/register), blue while out with a responder, grey when ended. */
export const STATUS_COLOURS: Readonly<Record<IncidentStatus, Rgba>> = {
  reported: [235, 120, 20, 255],
  registered: [225, 180, 0, 255],
  dispatched: [40, 110, 220, 255],
  handling: [120, 70, 200, 255],
  handled: [0, 150, 130, 255],
  closed: [130, 130, 130, 220],
  rejected: [160, 160, 160, 200],
  merged: [160, 160, 160, 200],
};
export const OVERDUE_HALO: Rgba = [220, 0, 30, 150];
export const SELECTED_RING: Rgba = [255, 255, 255, 255];
export const DRAFT_PIN: Rgba = [230, 30, 60, 255];

/** 6 px for severity 1 up to 12 px for severity 4. */
export const severityRadius = (s: number) => 4 + 2 * Math.min(4, Math.max(1, s));

export function incidentOverlays(items: readonly (Incident & { overdue?: boolean })[], selectedId: string | null, draft: LonLat | null): MarkerOverlay[] {
  const halos: Marker[] = [], dots: Marker[] = [], top: Marker[] = [];
  // Least severe first, so severe markers are drawn over them where they overlap.
  const order = [...items].sort((a, b) => a.severity - b.severity || (a.id < b.id ? -1 : 1));
  for (const i of order) {
    const lonLat: LonLat = [i.lon, i.lat];
    const r = severityRadius(i.severity);
    if (i.overdue) halos.push({ lonLat, radiusPx: r + 7, fill: OVERDUE_HALO, line: [220, 0, 30, 255] });
    const m: Marker = { lonLat, radiusPx: r, fill: STATUS_COLOURS[i.status], line: [255, 255, 255, 255] };
    if (i.id === selectedId) {
      top.push({ lonLat, radiusPx: r + 5, fill: SELECTED_RING, line: [20, 20, 20, 255] }, { ...m, label: i.code.slice(-4) });
    } else dots.push(m);
  }
  if (draft) top.push({ lonLat: draft, radiusPx: 8, fill: DRAFT_PIN, line: [255, 255, 255, 255] });
  const out: MarkerOverlay[] = [];
  if (halos.length) out.push({ kind: 'markers', id: 'incidents-overdue', markers: halos });
  if (dots.length) out.push({ kind: 'markers', id: 'incidents', markers: dots });
  if (top.length) out.push({ kind: 'markers', id: 'incidents-selected', markers: top });
  return out;
}
