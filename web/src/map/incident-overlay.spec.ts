import { describe, expect, it } from 'vitest';
import type { Incident } from '../../../layers/incidents/model.ts';
import { OVERDUE_HALO, STATUS_COLOURS, incidentOverlays, severityRadius } from './incident-overlay.ts';

const inc = (id: string, over: Partial<Incident & { overdue: boolean }> = {}) =>
  ({ id, code: `SJ20260501${id.padStart(4, '0')}`, status: 'reported', severity: 2, lon: 120.7, lat: 31.6, ...over }) as Incident & { overdue?: boolean };

describe('incident overlay', () => {
  it('colours by status, sizes by severity, draws severe ones last', () => {
    const [dots] = incidentOverlays([inc('1', { severity: 4, status: 'dispatched' }), inc('2', { severity: 1 })], null, null);
    expect(dots.id).toBe('incidents');
    expect(dots.markers.map((m) => m.radiusPx)).toEqual([severityRadius(1), severityRadius(4)]);
    expect(dots.markers[1].fill).toEqual(STATUS_COLOURS.dispatched);
    expect(severityRadius(4)).toBeGreaterThan(severityRadius(1));
  });

  it('puts a red halo under overdue cases and a ring with its number over the open one', () => {
    const out = incidentOverlays([inc('1', { overdue: true }), inc('2', { lon: 120.8 })], '2', [120.9, 31.7]);
    expect(out.map((o) => o.id)).toEqual(['incidents-overdue', 'incidents', 'incidents-selected']);
    expect(out[0].markers).toHaveLength(1);
    expect(out[0].markers[0].fill).toEqual(OVERDUE_HALO);
    expect(out[0].markers[0].radiusPx).toBeGreaterThan(severityRadius(2));
    const top = out[2].markers;
    expect(top.map((m) => m.lonLat)).toEqual([[120.8, 31.6], [120.8, 31.6], [120.9, 31.7]]);
    expect(top[1].label).toBe('0002');
  });

  it('draws nothing for nothing', () => {
    expect(incidentOverlays([], null, null)).toEqual([]);
  });
});
