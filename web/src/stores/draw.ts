// Measure and draw: distance (a polyline with its running length), area (a polygon with its running
// area), polygon (a shape kept for later queries) and circle (centre click, then a radius click).
// The engine gets `shapes` (finished ones plus the draft under the pointer); panels list `results`,
// whose GeoJSON geometry is what later queries use. Labels re-render when the language changes.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { DrawShape, LonLat } from '../map/engine.ts';
import { circleRing, formatArea, formatLength, geodesicDistance, lineLength, ringArea } from '../map/measure.ts';
import { t, type MessageKey } from '../i18n.ts';

export type DrawMode = 'none' | 'distance' | 'area' | 'polygon' | 'circle';
export type DrawKind = Exclude<DrawMode, 'none'>;
export const DRAW_KINDS: readonly DrawKind[] = ['distance', 'area', 'polygon', 'circle'];

export interface DrawResult {
  id: string;
  kind: DrawKind;
  /** e.g. "多边形 2" */
  name: string;
  /** Metres (distance), m² (area, polygon, circle). */
  value: number;
  valueText: string;
  geometry: GeoJSON.Geometry;
}

interface Drawn { id: string; kind: DrawKind; n: number; points: LonLat[] }

/** Vertices needed to finish each kind (a circle: centre + a point on its edge). */
const MIN_POINTS: Record<DrawKind, number> = { distance: 2, area: 3, polygon: 3, circle: 2 };
/** Two clicks closer than this (degrees, ~1 cm) are one: a double click reports the same point twice. */
const SAME_POINT = 1e-7;

function same(a: LonLat, b: LonLat): boolean {
  return Math.abs(a[0] - b[0]) < SAME_POINT && Math.abs(a[1] - b[1]) < SAME_POINT;
}

function closed(points: readonly LonLat[]): LonLat[] {
  return [...points, points[0]];
}

function centroid(points: readonly LonLat[]): LonLat {
  let x = 0, y = 0;
  for (const p of points) { x += p[0]; y += p[1]; }
  return [x / points.length, y / points.length];
}

/** What a set of points measures as, for a kind; the draft may have fewer points than a finished shape. */
function measureOf(kind: DrawKind, points: readonly LonLat[]): { value: number; text: string } {
  if (kind === 'distance') {
    const m = lineLength(points);
    return { value: m, text: formatLength(m) };
  }
  if (kind === 'circle') {
    const r = points.length > 1 ? geodesicDistance(points[0], points[1]) : 0;
    const a = points.length > 1 ? ringArea(circleRing(points[0], r)) : 0;
    return { value: a, text: t('circleLabel', { radius: formatLength(r), area: formatArea(a) }) };
  }
  const a = points.length >= 3 ? ringArea(points) : 0;
  return { value: a, text: formatArea(a) };
}

function shapeOf(d: { id: string; kind: DrawKind; points: readonly LonLat[] }, label: string, draft: boolean): DrawShape | null {
  const pts = d.points;
  if (pts.length < 2) return null;
  const extra = draft ? { draft: true } : {};
  if (d.kind === 'distance') return { id: d.id, kind: 'line', coordinates: [...pts], label, labelAt: pts[pts.length - 1], ...extra };
  if (d.kind === 'circle') {
    const ring = circleRing(pts[0], geodesicDistance(pts[0], pts[1]));
    return { id: d.id, kind: 'polygon', coordinates: ring, label, labelAt: pts[0], ...extra };
  }
  if (pts.length === 2) return { id: d.id, kind: 'line', coordinates: [...pts], label, labelAt: pts[1], ...extra };
  return { id: d.id, kind: 'polygon', coordinates: closed(pts), label, labelAt: centroid(pts), ...extra };
}

function geometryOf(d: Drawn): GeoJSON.Geometry {
  if (d.kind === 'distance') return { type: 'LineString', coordinates: d.points };
  if (d.kind === 'circle') return { type: 'Polygon', coordinates: [circleRing(d.points[0], geodesicDistance(d.points[0], d.points[1]))] };
  return { type: 'Polygon', coordinates: [closed(d.points)] };
}

export const useDrawStore = defineStore('draw', () => {
  const mode = ref<DrawMode>('none');
  /** Vertices of the shape being drawn. */
  const points = ref<LonLat[]>([]);
  const pointer = ref<LonLat | null>(null);
  const drawn = ref<Drawn[]>([]);
  const counters: Record<DrawKind, number> = { distance: 0, area: 0, polygon: 0, circle: 0 };

  const active = computed(() => mode.value !== 'none');

  function reset(): void {
    points.value = [];
    pointer.value = null;
  }

  function start(next: DrawMode): void {
    reset();
    mode.value = next;
  }

  /** Completes the shape being drawn (double click / Enter). Returns false, and keeps drawing, if it has too few points. */
  function finish(): boolean {
    if (mode.value === 'none') return false;
    const kind = mode.value;
    if (points.value.length < MIN_POINTS[kind]) return false;
    const n = ++counters[kind];
    drawn.value = [...drawn.value, { id: `${kind}-${n}`, kind, n, points: [...points.value] }];
    start('none');
    return true;
  }

  /** A click on the map while a tool is active. */
  function addPoint(p: LonLat): void {
    if (mode.value === 'none') return;
    const last = points.value[points.value.length - 1];
    if (last && same(last, p)) return;
    points.value = [...points.value, [p[0], p[1]]];
    if (mode.value === 'circle' && points.value.length === 2) finish();
  }

  function movePointer(p: LonLat | null): void {
    if (mode.value === 'none') return; // nothing to redraw: keep the store quiet while the pointer moves
    pointer.value = p ? [p[0], p[1]] : null;
  }

  /** Drops the shape being drawn and leaves the tool (Escape). */
  function cancel(): void {
    start('none');
  }

  function remove(id: string): void {
    drawn.value = drawn.value.filter((d) => d.id !== id);
  }

  /** Removes every finished shape and any draft. */
  function clear(): void {
    drawn.value = [];
    cancel();
  }

  /** The draft's vertices including the pointer position, as the user sees it while moving. */
  const draftPoints = computed<LonLat[]>(() => {
    const p = pointer.value;
    const last = points.value[points.value.length - 1];
    return p && points.value.length && !same(p, last) ? [...points.value, p] : points.value;
  });

  /** The running value of the draft, e.g. "1.25 公里"; empty before there is anything to measure. */
  const draftText = computed(() => {
    if (mode.value === 'none' || draftPoints.value.length < 2) return '';
    return measureOf(mode.value, draftPoints.value).text;
  });

  const results = computed<DrawResult[]>(() => drawn.value.map((d) => {
    const m = measureOf(d.kind, d.points);
    return { id: d.id, kind: d.kind, name: t('shapeNumbered', { kind: t(`shape.${d.kind}` as MessageKey), n: d.n }), value: m.value, valueText: m.text, geometry: geometryOf(d) };
  }));

  const shapes = computed<DrawShape[]>(() => {
    const out: DrawShape[] = [];
    results.value.forEach((r, i) => {
      const label = r.kind === 'polygon' ? `${r.name} · ${r.valueText}` : r.valueText;
      const s = shapeOf(drawn.value[i], label, false);
      if (s) out.push(s);
    });
    if (mode.value !== 'none') {
      const s = shapeOf({ id: 'draft', kind: mode.value, points: draftPoints.value }, draftText.value, true);
      if (s) out.push(s);
    }
    return out;
  });

  /** All results as a GeoJSON FeatureCollection (for "download GeoJSON"). */
  function toGeoJson(): GeoJSON.FeatureCollection {
    return {
      type: 'FeatureCollection',
      features: results.value.map((r) => ({
        type: 'Feature', id: r.id, geometry: r.geometry,
        properties: { id: r.id, kind: r.kind, name: r.name, value: r.value, unit: r.kind === 'distance' ? 'm' : 'm2', valueText: r.valueText },
      })),
    };
  }

  return {
    mode, active, points, pointer, shapes, results, draftText,
    start, addPoint, movePointer, finish, cancel, remove, clear, toGeoJson,
  };
});
