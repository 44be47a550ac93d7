import { describe, expect, it } from 'vitest';
import type { Indicators } from '../../../layers/wall/model.ts';
import { nextStop, tourStops } from './tour.ts';

const B: [number, number, number, number] = [120.7, 31.6, 120.8, 31.7];

function ind(byTown: Indicators['alarms']['byTown']): Indicators {
  return {
    at: 0,
    incidents: { open: 0, byStatus: { reported: 0, registered: 0, dispatched: 0, handling: 0, handled: 0 }, byTown: [], overdue: 0, dispatchCount: 0, dispatchMedianMin: null, dispatchP90Min: null },
    alarms: { lastHour: 0, active: 0, byTown },
    devices: { total: 0, online: 0, onlineRate: null, byKind: {} },
  };
}

describe('tour', () => {
  const stops = tourStops(ind([
    { code: 'a', name: '甲', bbox: B, active: 3, lastHour: 1 },
    { code: 'b', name: '乙', bbox: B, active: 1, lastHour: 0 },
    { code: 'c', name: '丙', bbox: B, active: 0, lastHour: 4 },
    { code: '', name: '未知', bbox: null, active: 2, lastHour: 0 },
  ]));

  it('visits only towns with an active alarm and a known extent', () => {
    expect(stops.map((s) => s.code)).toEqual(['a', 'b']);
    expect(tourStops(null)).toEqual([]);
  });

  it('goes round, and restarts when the current town left the list', () => {
    expect(nextStop(stops, null)?.code).toBe('a');
    expect(nextStop(stops, 'a')?.code).toBe('b');
    expect(nextStop(stops, 'b')?.code).toBe('a');
    expect(nextStop(stops, 'gone')?.code).toBe('a');
    expect(nextStop([], 'a')).toBeNull();
  });
});
