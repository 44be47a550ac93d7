// Telemetry on the live feed (issue 7 item 5): what a viewer subscribes to, and the compact device shape sent
// to it. Pure; the hub (../live-feed.ts) keeps one subscription and one coalescing buffer per client.
//   client → server  {type:'subscribe', bbox:[w,s,e,n], layers?:('sensors'|'cameras'|'responders')[], kinds?:DeviceKind[]}
//                    {type:'unsubscribe'}
//   server → client  {type:'subscribed', bbox, layers, kinds, at}
//                    {type:'telemetry', devices:FeedDevice[], alarms:Alarm[], at}   at most one per client per 100 ms
//                    {type:'error', error:{code, message}}                          a subscribe message was refused
import { DEVICE_KINDS, type Alarm, type DeviceKind, type DeviceState, type DeviceStatus } from '../../layers/telemetry/model.ts';

export const TELEMETRY_LAYERS = ['sensors', 'cameras', 'responders'] as const;
export type TelemetryLayer = (typeof TELEMETRY_LAYERS)[number];
/** One frame per client per this many ms ("batched per frame": the map redraws at most this often anyway). */
export const TELEMETRY_FRAME_MS = 100;
/** A frame carries at most this many devices (≈ 0.4 MB of JSON); the rest wait for the next frame. */
export const MAX_FRAME_DEVICES = 5000;
export const MAX_FRAME_ALARMS = 500;
/** Telemetry frames handed to a socket and not yet written; past this the client is "slow" and its updates coalesce. */
export const MAX_TELEMETRY_IN_FLIGHT = 2;
/** Alarms waiting for a slow client; the oldest are dropped past this (the client can reload GET /api/alarms). */
export const MAX_PENDING_ALARMS = 1000;

export interface TelemetrySubscription {
  bbox: [number, number, number, number];
  layers: TelemetryLayer[] | null;
  kinds: DeviceKind[] | null;
}

export interface FeedDevice { id: string; kind: DeviceKind; lon: number; lat: number; status: DeviceStatus; value: number | null; ts: number | null }

export const toFeedDevice = (d: DeviceState): FeedDevice =>
  ({ id: d.id, kind: d.kind, lon: d.lon, lat: d.lat, status: d.status, value: d.lastValue, ts: d.lastTs });

export const layerOfKind = (k: DeviceKind): TelemetryLayer => (k === 'camera' ? 'cameras' : k === 'patrol' ? 'responders' : 'sensors');

export class SubscribeError extends Error {
  constructor(readonly code: string, message: string) { super(message); }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A parsed client message: a subscription, an unsubscribe, or a SubscribeError naming what is wrong. */
export function parseClientMessage(text: string): TelemetrySubscription | 'unsubscribe' {
  let v: unknown;
  try { v = JSON.parse(text); } catch { throw new SubscribeError('bad_json', '消息不是合法的 JSON。The message is not valid JSON.'); }
  if (!isObj(v) || (v.type !== 'subscribe' && v.type !== 'unsubscribe')) {
    throw new SubscribeError('bad_message', '消息须为 {"type":"subscribe","bbox":[w,s,e,n],"layers"?:[…],"kinds"?:[…]} 或 {"type":"unsubscribe"}。Send {"type":"subscribe","bbox":[w,s,e,n]} or {"type":"unsubscribe"}.');
  }
  if (v.type === 'unsubscribe') return 'unsubscribe';
  const b = v.bbox;
  if (!Array.isArray(b) || b.length !== 4 || !b.every((x) => typeof x === 'number' && Number.isFinite(x))
    || b[0] > b[2] || b[1] > b[3] || b[0] < -180 || b[2] > 180 || b[1] < -90 || b[3] > 90) {
    throw new SubscribeError('bad_bbox', 'bbox 须为 [西, 南, 东, 北]（WGS84 度，西 ≤ 东，南 ≤ 北）。bbox must be [west, south, east, north] in WGS84 degrees.');
  }
  const list = <T extends string>(x: unknown, allowed: readonly T[], name: string): T[] | null => {
    if (x === undefined || x === null) return null;
    if (!Array.isArray(x) || x.length > allowed.length || !x.every((k) => (allowed as readonly unknown[]).includes(k))) {
      throw new SubscribeError(`bad_${name}`, `${name} 须为以下值的数组：${allowed.join(', ')}。${name} must be an array of: ${allowed.join(', ')}.`);
    }
    return [...new Set(x as T[])];
  };
  return { bbox: [b[0], b[1], b[2], b[3]], layers: list(v.layers, TELEMETRY_LAYERS, 'layers'), kinds: list(v.kinds, DEVICE_KINDS, 'kinds') };
}

/** Whether a subscription covers a device (or an alarm) at lon/lat of this kind. */
export function covers(s: TelemetrySubscription, kind: DeviceKind, lon: number, lat: number): boolean {
  const [w, so, e, n] = s.bbox;
  if (lon < w || lon > e || lat < so || lat > n) return false;
  if (s.kinds && !s.kinds.includes(kind)) return false;
  if (s.layers && !s.layers.includes(layerOfKind(kind))) return false;
  return true;
}

export type TelemetryFrame = { type: 'telemetry'; devices: FeedDevice[]; alarms: Alarm[]; at: number };
