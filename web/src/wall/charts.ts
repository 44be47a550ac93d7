// ECharts options for the wall's panels, built from the indicators (pure: the same indicators give the same
// option, so a panel redraws only when a figure changed). Type sizes are for a 3840-px-wide wall read from
// metres away (about 1/140 of the width for labels) and scale with the screen (`scale` = width / 3840).
import type { Indicators, OpenStatus } from '../../../layers/wall/model.ts';
import { wt, type WallTextKey } from './wall-text.ts';

export const STATUS_ORDER: readonly OpenStatus[] = ['reported', 'registered', 'dispatched', 'handling', 'handled'];
const STATUS_COLOURS: Record<OpenStatus, string> = {
  reported: '#f2c94c', registered: '#56ccf2', dispatched: '#2f80ed', handling: '#27ae60', handled: '#bb6bd9',
};
const TEXT = '#e6f1ff';
const MUTED = '#8fb3d9';
const GRID_LINE = 'rgba(143, 179, 217, 0.25)';
/** Bars shown per town chart: the wall has room for this many readable rows. */
export const MAX_TOWN_ROWS = 12;

export interface TypeScale { label: number; axis: number }
export function typeScale(scale: number): TypeScale {
  return { label: Math.round(30 * scale), axis: Math.round(28 * scale) };
}

type Option = Record<string, unknown>;

function base(s: TypeScale): Option {
  return {
    animation: false, // software WebGL walls and SwiftShader tests: a steady picture every 5 s, not a redraw loop
    backgroundColor: 'transparent',
    textStyle: { color: TEXT, fontSize: s.label, fontFamily: "'Noto Sans CJK SC', 'Noto Sans SC', 'Microsoft YaHei', sans-serif" },
  };
}

export function statusOption(ind: Indicators, s: TypeScale): Option {
  return {
    ...base(s),
    grid: { left: s.axis * 2.2, right: s.axis, top: s.label * 1.8, bottom: s.axis * 2.2 },
    xAxis: { type: 'category', data: STATUS_ORDER.map((k) => wt(`status.${k}` as WallTextKey)), axisLabel: { color: TEXT, fontSize: s.axis, interval: 0 }, axisLine: { lineStyle: { color: MUTED } } },
    yAxis: { type: 'value', minInterval: 1, axisLabel: { color: MUTED, fontSize: s.axis }, splitLine: { lineStyle: { color: GRID_LINE } } },
    series: [{
      type: 'bar', barWidth: '55%',
      data: STATUS_ORDER.map((k) => ({ value: ind.incidents.byStatus[k], itemStyle: { color: STATUS_COLOURS[k] } })),
      label: { show: true, position: 'top', color: TEXT, fontSize: s.label, fontWeight: 'bold' },
    }],
  };
}

function townBars(rows: { name: string; values: number[] }[], names: string[], colours: string[], s: TypeScale, stacked: boolean): Option {
  const shown = rows.slice(0, MAX_TOWN_ROWS).reverse(); // ECharts draws category 0 at the bottom
  return {
    ...base(s),
    legend: names.length > 1 ? { top: 0, right: 0, textStyle: { color: TEXT, fontSize: s.axis }, itemWidth: s.axis, itemHeight: s.axis * 0.6 } : undefined,
    grid: { left: s.axis * 6, right: s.label * 2.5, top: names.length > 1 ? s.label * 1.8 : s.label * 0.5, bottom: s.axis * 0.5 },
    xAxis: { type: 'value', minInterval: 1, axisLabel: { show: false }, splitLine: { lineStyle: { color: GRID_LINE } } },
    yAxis: { type: 'category', data: shown.map((r) => r.name), axisLabel: { color: TEXT, fontSize: s.axis }, axisLine: { lineStyle: { color: MUTED } } },
    series: names.map((n, i) => ({
      type: 'bar', name: n, stack: stacked ? 'all' : undefined, barMaxWidth: s.label * 1.2,
      data: shown.map((r) => r.values[i]), itemStyle: { color: colours[i] },
      label: { show: true, position: stacked ? 'inside' : 'right', color: TEXT, fontSize: s.axis, fontWeight: 'bold', formatter: (p: { value: number }) => (p.value ? String(p.value) : '') },
    })),
  };
}

export function townOption(ind: Indicators, s: TypeScale): Option {
  const rows = ind.incidents.byTown.filter((t) => t.open > 0).map((t) => ({ name: t.name || wt('unknownTown'), values: [t.open - t.overdue, t.overdue] }));
  return townBars(rows, [wt('openIncidents'), wt('overdue')], ['#2f80ed', '#eb5757'], s, true);
}

export function alarmTownOption(ind: Indicators, s: TypeScale): Option {
  const rows = ind.alarms.byTown.map((t) => ({ name: t.name || wt('unknownTown'), values: [t.active, t.lastHour] }));
  return townBars(rows, [wt('activeAlarms'), wt('alarmsLastHour')], ['#eb5757', '#f2994a'], s, false);
}

export function deviceOption(ind: Indicators, s: TypeScale, kindName: (k: string) => string): Option {
  const kinds = Object.entries(ind.devices.byKind).sort(([a], [b]) => (a < b ? -1 : 1));
  return {
    ...base(s),
    grid: { left: s.axis * 5, right: s.label * 3.2, top: s.label * 0.5, bottom: s.axis * 0.5 },
    xAxis: { type: 'value', max: 100, axisLabel: { show: false }, splitLine: { lineStyle: { color: GRID_LINE } } },
    yAxis: { type: 'category', data: kinds.map(([k]) => kindName(k)), axisLabel: { color: TEXT, fontSize: s.axis }, axisLine: { lineStyle: { color: MUTED } } },
    series: [{
      type: 'bar', barMaxWidth: s.label * 1.1,
      data: kinds.map(([, v]) => Math.round(v.rate * 1000) / 10),
      itemStyle: { color: '#27ae60' },
      label: { show: true, position: 'right', color: TEXT, fontSize: s.axis, fontWeight: 'bold', formatter: '{c}%' },
    }],
  };
}

/** The figures a panel shows, for the page's test hooks (data-values) and to skip redraws that change nothing. */
export function panelValues(ind: Indicators): Record<string, unknown> {
  return {
    byStatus: STATUS_ORDER.map((k) => ind.incidents.byStatus[k]),
    byTown: ind.incidents.byTown.filter((t) => t.open > 0).slice(0, MAX_TOWN_ROWS).map((t) => [t.code, t.open, t.overdue]),
    alarmTowns: ind.alarms.byTown.slice(0, MAX_TOWN_ROWS).map((t) => [t.code, t.active, t.lastHour]),
    devices: Object.entries(ind.devices.byKind).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, Math.round(v.rate * 1000) / 10]),
  };
}
