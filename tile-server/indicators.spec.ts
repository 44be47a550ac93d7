import { describe, expect, it } from 'vitest';
import { aggregateIndicators, percentile, type IndicatorInput } from './indicators.ts';
import { parseWallCommand, WallCommandError } from '../layers/wall/model.ts';

const NOW = 1_764_000_000_000;
const MIN = 60_000;
const TOWNS = [
  { code: 't1', name: '虞山街道', bbox: [120.7, 31.6, 120.8, 31.7] as [number, number, number, number] },
  { code: 't2', name: '梅李镇', bbox: [120.8, 31.7, 120.9, 31.8] as [number, number, number, number] },
  { code: 't3', name: '海虞镇', bbox: null },
];

function input(over: Partial<IndicatorInput> = {}): IndicatorInput {
  return { now: NOW, towns: TOWNS, open: [], dispatchDelaysMs: [], alarms: [], health: null, ...over };
}

describe('percentile (nearest rank)', () => {
  it('picks an observed value', () => {
    const v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(v, 50)).toBe(5);
    expect(percentile(v, 90)).toBe(9);
    expect(percentile(v, 100)).toBe(10);
    expect(percentile([7], 90)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });
});

describe('aggregateIndicators', () => {
  it('counts open incidents by status and town, and the overdue ones by deadline', () => {
    const r = aggregateIndicators(input({
      open: [
        { status: 'reported', townCode: 't1', deadline: NOW + MIN },
        { status: 'reported', townCode: 't1', deadline: NOW - MIN },
        { status: 'handling', townCode: 't2', deadline: NOW - 1 },
        { status: 'dispatched', townCode: null, deadline: null },
        { status: 'closed', townCode: 't2', deadline: null },
      ],
    }));
    expect(r.incidents.open).toBe(4);
    expect(r.incidents.byStatus).toEqual({ reported: 2, registered: 0, dispatched: 1, handling: 1, handled: 0 });
    expect(r.incidents.overdue).toBe(2);
    expect(r.incidents.byTown.map((t) => [t.name, t.open, t.overdue])).toEqual([
      ['虞山街道', 2, 1], ['梅李镇', 1, 1], ['未知', 1, 0], ['海虞镇', 0, 0],
    ]);
    expect(r.incidents.byTown[0].bbox).toEqual(TOWNS[0].bbox);
  });

  it('has no 未知 row when every incident lies in a town', () => {
    const r = aggregateIndicators(input({ open: [{ status: 'registered', townCode: 't3', deadline: null }] }));
    expect(r.incidents.byTown.map((t) => t.code)).toEqual(['t3', 't1', 't2']);
  });

  it('gives dispatch times in minutes (median and P90)', () => {
    const r = aggregateIndicators(input({ dispatchDelaysMs: [10 * MIN, 2 * MIN, 4 * MIN, 30 * MIN, 6 * MIN] }));
    expect(r.incidents.dispatchCount).toBe(5);
    expect(r.incidents.dispatchMedianMin).toBe(6);
    expect(r.incidents.dispatchP90Min).toBe(30);
    expect(aggregateIndicators(input()).incidents.dispatchMedianMin).toBeNull();
  });

  it('counts alarms of the last hour and the active ones, by the device town', () => {
    const r = aggregateIndicators(input({
      alarms: [
        { startedAt: NOW - 5 * MIN, status: 'active', townCode: 't2' },
        { startedAt: NOW - 30 * MIN, status: 'cleared', townCode: 't2' },
        { startedAt: NOW - 3 * 60 * MIN, status: 'active', townCode: 't1' },
        { startedAt: NOW - 2 * 60 * MIN, status: 'cleared', townCode: 't1' },
      ],
    }));
    expect(r.alarms.lastHour).toBe(2);
    expect(r.alarms.active).toBe(2);
    expect(r.alarms.byTown.map((t) => [t.code, t.active, t.lastHour])).toEqual([['t2', 1, 2], ['t1', 1, 0]]);
  });

  it('passes the device online rate through, and says when telemetry is off', () => {
    const r = aggregateIndicators(input({ health: { total: 10, online: 8, onlineRate: 0.8, byKind: { camera: { total: 10, online: 8, rate: 0.8 } } } }));
    expect(r.devices).toEqual({ total: 10, online: 8, onlineRate: 0.8, byKind: { camera: { total: 10, online: 8, rate: 0.8 } } });
    expect(aggregateIndicators(input()).devices.onlineRate).toBeNull();
  });

  it('does not mutate its input', () => {
    const delays = [3, 1, 2];
    aggregateIndicators(input({ dispatchDelaysMs: delays }));
    expect(delays).toEqual([3, 1, 2]);
  });
});

describe('parseWallCommand', () => {
  it('accepts the four commands', () => {
    expect(parseWallCommand({ cmd: 'flyTo', town: '320581001' })).toEqual({ cmd: 'flyTo', town: '320581001' });
    expect(parseWallCommand({ cmd: 'flyTo', lon: 120.75, lat: 31.65, zoom: 15 })).toEqual({ cmd: 'flyTo', lon: 120.75, lat: 31.65, zoom: 15 });
    expect(parseWallCommand({ cmd: 'tour', intervalSec: 30 })).toEqual({ cmd: 'tour', intervalSec: 30 });
    expect(parseWallCommand({ cmd: 'stopTour' })).toEqual({ cmd: 'stopTour' });
    expect(parseWallCommand({ cmd: 'showIncident', id: 'SJ202611290007' })).toEqual({ cmd: 'showIncident', id: 'SJ202611290007' });
  });

  it.each([
    [null, 'bad_command'], [{ cmd: 'explode' }, 'unknown_command'], [{ cmd: 'flyTo' }, 'bad_position'],
    [{ cmd: 'flyTo', lon: 120, lat: 31, zoom: 30 }, 'bad_zoom'], [{ cmd: 'flyTo', town: '../x' }, 'bad_town'],
    [{ cmd: 'tour', intervalSec: 1 }, 'bad_interval'], [{ cmd: 'stopTour', x: 1 }, 'unknown_param'], [{ cmd: 'showIncident' }, 'bad_incident'],
  ])('refuses %j with %s', (body, code) => {
    try {
      parseWallCommand(body);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(WallCommandError);
      expect((e as WallCommandError).code).toBe(code);
    }
  });
});
