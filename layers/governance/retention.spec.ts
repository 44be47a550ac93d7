import { describe, expect, it } from 'vitest';
import { cutoffOf, DAY_MS, RETENTION_RULES, resolveRetention, retentionEnvName } from './retention.ts';

describe('retention rules', () => {
  it('are unique, lower-case ids with a period, a title and what they delete', () => {
    expect(new Set(RETENTION_RULES.map((r) => r.id)).size).toBe(RETENTION_RULES.length);
    for (const r of RETENTION_RULES) {
      expect(r.id).toMatch(/^[a-z][a-z_]+$/);
      expect(Number.isInteger(r.keepDays) && r.keepDays >= 0).toBe(true);
      expect(r.title && r.titleEn && r.deletes && r.since && r.dataset).toBeTruthy();
    }
    // The data sets the issue names: telemetry history, closed incidents, personal data (tracks, sessions).
    expect(RETENTION_RULES.map((r) => r.id)).toEqual(expect.arrayContaining(['telemetry_readings', 'closed_incidents', 'patrol_tracks', 'expired_sessions']));
  });

  it('take their period from ONEMAP_RETENTION_<ID>_DAYS, else the table', () => {
    expect(retentionEnvName('patrol_tracks')).toBe('ONEMAP_RETENTION_PATROL_TRACKS_DAYS');
    const rules = resolveRetention({ ONEMAP_RETENTION_PATROL_TRACKS_DAYS: '30', ONEMAP_RETENTION_CLOSED_INCIDENTS_DAYS: '' });
    const patrol = rules.find((r) => r.id === 'patrol_tracks')!;
    expect(patrol).toMatchObject({ keepDays: 30, defaultDays: 180, source: 'ONEMAP_RETENTION_PATROL_TRACKS_DAYS' });
    expect(rules.find((r) => r.id === 'closed_incidents')).toMatchObject({ keepDays: 1095, source: 'default' });
  });

  it('honour issue 7\'s ONEMAP_TELEMETRY_RETENTION_DAYS for readings, the rule\'s own variable first', () => {
    const legacy = resolveRetention({ ONEMAP_TELEMETRY_RETENTION_DAYS: '14' }).find((r) => r.id === 'telemetry_readings')!;
    expect(legacy).toMatchObject({ keepDays: 14, source: 'ONEMAP_TELEMETRY_RETENTION_DAYS' });
    const both = resolveRetention({ ONEMAP_TELEMETRY_RETENTION_DAYS: '14', ONEMAP_RETENTION_TELEMETRY_READINGS_DAYS: '3' }).find((r) => r.id === 'telemetry_readings')!;
    expect(both.keepDays).toBe(3);
  });

  it('refuse a period that is not a whole number of days, naming the variable', () => {
    for (const bad of ['abc', '-1', '1.5', '36501', '7d']) {
      expect(() => resolveRetention({ ONEMAP_RETENTION_SECURITY_AUDIT_DAYS: bad })).toThrow(/ONEMAP_RETENTION_SECURITY_AUDIT_DAYS.*0–36500/);
    }
  });

  it('cut off keepDays before now', () => {
    expect(cutoffOf({ keepDays: 0 }, 5_000)).toBe(5_000);
    expect(cutoffOf({ keepDays: 2 }, 10 * DAY_MS)).toBe(8 * DAY_MS);
  });
});
