import { expect, it } from 'vitest';
import { HttpError } from '../http-errors.ts';
import { DEVICE_LIMIT, parseAlarmQuery, parseDeviceQuery, thresholdsOf } from './api.ts';
import type { Rule } from '../../layers/telemetry/model.ts';

const q = (s: string) => new URLSearchParams(s);
const code = (fn: () => unknown) => { try { fn(); } catch (e) { return (e as HttpError).code; } return null; };

it('parses device queries and clamps the limit', () => {
  expect(parseDeviceQuery(q('bbox=120.7,31.6,120.8,31.7&kind=gas&status=alarm&limit=5&offset=10')))
    .toEqual({ bbox: [120.7, 31.6, 120.8, 31.7], kind: 'gas', status: 'alarm', limit: 5, offset: 10 });
  expect(parseDeviceQuery(q('limit=999999')).limit).toBe(DEVICE_LIMIT.max);
  expect(parseDeviceQuery(q('')).limit).toBe(DEVICE_LIMIT.def);
  expect(code(() => parseDeviceQuery(q('kind=teapot')))).toBe('bad_kind');
  expect(code(() => parseDeviceQuery(q('status=asleep')))).toBe('bad_status');
  expect(code(() => parseDeviceQuery(q('limit=0')))).toBe('bad_limit');
  expect(code(() => parseDeviceQuery(q('colour=red')))).toBe('unknown_param');
});

it('parses alarm queries (since as ms or UTC time)', () => {
  expect(parseAlarmQuery(q('since=2026-05-01T08:00:00Z&status=active'))).toEqual({ since: Date.UTC(2026, 4, 1, 8), status: 'active', limit: 200 });
  expect(parseAlarmQuery(q('since=1000')).since).toBe(1000);
  expect(code(() => parseAlarmQuery(q('status=open')))).toBe('bad_status');
  expect(code(() => parseAlarmQuery(q('since=yesterday')))).toBe('bad_since');
});

it('lists the enabled threshold rules as flat thresholds, nothing else', () => {
  const r = (over: Partial<Rule>): Rule => ({ id: 'x', name: 'x', kind: 'gas', type: 'threshold', severity: 2, enabled: true, params: {}, ...over });
  expect(thresholdsOf([
    r({ id: 'a', params: { above: 10, hysteresis: 2 } }),
    r({ id: 'b', params: { below: 0.1, hysteresis: 0 }, enabled: false }),
    r({ id: 'c', type: 'silence', params: { intervals: 3, intervalSeconds: 60 } }),
    r({ id: 'd', severity: 4, params: { below: 0.14, hysteresis: 0.02 } }),
  ])).toEqual([{ ruleId: 'a', severity: 2, above: 10, hysteresis: 2 }, { ruleId: 'd', severity: 4, below: 0.14, hysteresis: 0.02 }]);
});
