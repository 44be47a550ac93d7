// The geometry of a device card's chart (DeviceChart.vue): readings as a polyline, the thresholds that apply
// as horizontal lines, ticks at round values. Pure, tested in device-chart.spec.ts.
import type { AppliedThreshold, Reading } from '../stores/telemetry.ts';

export interface ChartBox { width: number; height: number; left: number; right: number; top: number; bottom: number }
export const CHART_BOX: ChartBox = { width: 300, height: 130, left: 38, right: 8, top: 8, bottom: 20 };

export interface ChartGeometry {
  /** SVG path of the readings ('' when there are none). */
  path: string;
  /** Readings beyond a threshold, as dots. */
  over: { x: number; y: number }[];
  lines: { y: number; value: number; kind: 'above' | 'below'; severity: number }[];
  yTicks: { y: number; label: string }[];
  xTicks: { x: number; ts: number }[];
  min: number;
  max: number;
}

/** 1, 2 or 5 × 10^n: the step giving about `count` ticks over the span. */
export function niceStep(span: number, count = 4): number {
  if (!(span > 0)) return 1;
  const raw = span / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

export function chartGeometry(readings: readonly Reading[], thresholds: readonly AppliedThreshold[], box: ChartBox = CHART_BOX): ChartGeometry {
  const values = readings.map((r) => r.value).filter(Number.isFinite);
  const limits = thresholds.flatMap((t) => [t.above, t.below]).filter((v): v is number => typeof v === 'number');
  // The thresholds are always on the chart: a reading far below its alarm level must look far below it.
  const all = [...values, ...limits];
  let min = all.length ? Math.min(...all) : 0, max = all.length ? Math.max(...all) : 1;
  if (max - min < 1e-9) { min -= 1; max += 1; }
  const pad = (max - min) * 0.08;
  min -= pad; max += pad;
  const w = box.width - box.left - box.right, h = box.height - box.top - box.bottom;
  const t0 = readings.length ? readings[0].ts : 0, t1 = readings.length ? readings[readings.length - 1].ts : 1;
  const x = (ts: number) => box.left + (t1 > t0 ? ((ts - t0) / (t1 - t0)) * w : w / 2);
  const y = (v: number) => box.top + (1 - (v - min) / (max - min)) * h;
  const r1 = (n: number) => Math.round(n * 10) / 10;
  const path = readings.filter((r) => Number.isFinite(r.value)).map((r, i) => `${i ? 'L' : 'M'}${r1(x(r.ts))},${r1(y(r.value))}`).join('');
  const over = readings.filter((r) => thresholds.some((t) => (t.above !== undefined && r.value > t.above) || (t.below !== undefined && r.value < t.below)))
    .map((r) => ({ x: r1(x(r.ts)), y: r1(y(r.value)) }));
  const lines = thresholds.flatMap((t) => [
    ...(t.above !== undefined ? [{ y: r1(y(t.above)), value: t.above, kind: 'above' as const, severity: t.severity }] : []),
    ...(t.below !== undefined ? [{ y: r1(y(t.below)), value: t.below, kind: 'below' as const, severity: t.severity }] : []),
  ]);
  const step = niceStep(max - min);
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  const yTicks: ChartGeometry['yTicks'] = [];
  for (let v = Math.ceil(min / step) * step; v <= max; v += step) yTicks.push({ y: r1(y(v)), label: v.toFixed(decimals) });
  const xTicks = readings.length ? (t1 > t0 ? [t0, (t0 + t1) / 2, t1] : [t0]).map((ts) => ({ x: r1(x(ts)), ts })) : [];
  return { path, over, lines, yTicks, xTicks, min, max };
}
