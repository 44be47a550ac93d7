import { describe, expect, it } from 'vitest';
import { CHART_BOX, chartGeometry, niceStep } from './device-chart.ts';

describe('device chart geometry', () => {
  const readings = [{ ts: 0, value: 3.0 }, { ts: 60_000, value: 3.5 }, { ts: 120_000, value: 3.9 }];
  it('puts the threshold line on the chart and marks the readings above it', () => {
    const g = chartGeometry(readings, [{ ruleId: 'water_level.high', severity: 2, above: 3.7, hysteresis: 0.05 }]);
    expect(g.lines).toHaveLength(1);
    expect(g.over).toHaveLength(1);
    // the 3.9 reading is drawn above (smaller y than) the 3.7 line, the 3.5 one below it
    expect(g.over[0].y).toBeLessThan(g.lines[0].y);
    expect(g.path.startsWith(`M${CHART_BOX.left},`)).toBe(true);
    expect(g.path.split('L')).toHaveLength(3);
  });
  it('keeps a far-away threshold in range', () => {
    const g = chartGeometry(readings, [{ ruleId: 'x', severity: 1, above: 10 }]);
    expect(g.max).toBeGreaterThan(10);
    expect(g.lines[0].y).toBeGreaterThanOrEqual(CHART_BOX.top);
  });
  it('handles no readings and a flat series', () => {
    expect(chartGeometry([], []).path).toBe('');
    const flat = chartGeometry([{ ts: 1, value: 2 }, { ts: 2, value: 2 }], []);
    expect(flat.min).toBeLessThan(2);
    expect(flat.max).toBeGreaterThan(2);
  });
  it('picks 1/2/5 steps', () => {
    expect(niceStep(1)).toBe(0.5);
    expect(niceStep(8)).toBe(2);
    expect(niceStep(40)).toBe(10);
  });
});
