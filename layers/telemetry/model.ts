// The telemetry vocabulary shared by the ingest, the rules, the stores, the API, the simulator and the
// client (as JSON). Topics: onemap/telemetry/{kind}/{deviceId}; kinds are the sensor kinds of the demo
// city plus 'camera' (heartbeat/status) and 'patrol' (position). Payload schemas: see payload.ts.

/** Sensor kinds (layer `sensors`, property `kind`), cameras and patrol units. */
export const SENSOR_KINDS = ['water_level', 'manhole', 'gas', 'smoke', 'power', 'air_quality', 'bridge_strain', 'noise', 'rain', 'fire_hydrant'] as const;
export type SensorKind = (typeof SENSOR_KINDS)[number];
export type DeviceKind = SensorKind | 'camera' | 'patrol';
export const DEVICE_KINDS: readonly DeviceKind[] = [...SENSOR_KINDS, 'camera', 'patrol'];

export const TOPIC_PREFIX = 'onemap/telemetry';
export const topicFor = (kind: DeviceKind, deviceId: string): string => `${TOPIC_PREFIX}/${kind}/${deviceId}`;

/** One reading after parsing. Cameras: value 1 = video OK, 0 = no video. Patrols: value = speed m/s, with lon/lat. */
export interface Reading {
  deviceId: string;
  kind: DeviceKind;
  /** Device time, ms since epoch. */
  ts: number;
  value: number;
  lon?: number;
  lat?: number;
  /** Server time when it was received. */
  receivedAt: number;
}

/**
 * online     reporting, no active alarm
 * alarm      an active alarm from a threshold/rate/geofence rule
 * subhealth  reporting, but drifting, flapping or stuck (智能运维 sub-health)
 * offline    silent for longer than its rule allows
 * unknown    never heard from since start
 */
export type DeviceStatus = 'online' | 'alarm' | 'subhealth' | 'offline' | 'unknown';

export interface DeviceInfo {
  id: string;
  kind: DeviceKind;
  /** Catalog layer the device comes from. */
  layer: 'sensors' | 'cameras' | 'responders';
  name: string;
  lon: number;
  lat: number;
  department: string | null;
  townCode: string | null;
  gridCode: string | null;
  unit: string | null;
}

export interface DeviceState extends DeviceInfo {
  status: DeviceStatus;
  /** When the current status began (ms). */
  since: number;
  lastTs: number | null;
  lastValue: number | null;
  /** Ids of the device's active alarms. */
  alarms: string[];
}

export type RuleType = 'threshold' | 'rate' | 'silence' | 'subhealth' | 'geofence';
export interface Rule {
  id: string;
  name: string;
  /** Device kind the rule applies to. */
  kind: DeviceKind;
  type: RuleType;
  /** Alarm level after 一级…四级告警: 1 is the most severe (the opposite of incident severity, where 4 is critical). */
  severity: 1 | 2 | 3 | 4;
  enabled: boolean;
  /**
   * threshold: { above?: number; below?: number; hysteresis: number }   raise when crossed, clear when back by hysteresis
   * rate:      { perMinute: number }                                     |Δvalue/Δt| above this
   * silence:   { intervals: number; intervalSeconds: number }            no reading for intervals × intervalSeconds → offline
   * subhealth: { flapsPerHour?: number; stuckMinutes?: number; driftPerHour?: number }
   * geofence:  { scope: 'own_grid' }                                     a patrol unit leaving its grid
   */
  params: Record<string, number | string>;
  /** When set, an alarm of this rule opens (or updates) an incident of this category. */
  incidentCategory?: string | null;
}

export interface Alarm {
  id: string;
  ruleId: string;
  deviceId: string;
  kind: DeviceKind;
  severity: 1 | 2 | 3 | 4;
  status: 'active' | 'cleared';
  message: string;
  startedAt: number;
  clearedAt: number | null;
  lastValue: number | null;
  /** Times the condition was seen again while active (deduplicated, not new alarms). */
  repeats: number;
  incidentId: string | null;
  lon: number;
  lat: number;
}

export interface HealthSummary {
  at: number;
  total: number;
  online: number;
  /** online / (total − unknown), 0–1. */
  onlineRate: number;
  byDepartment: Record<string, { total: number; online: number; rate: number }>;
  byTown: Record<string, { total: number; online: number; rate: number }>;
  byKind: Record<string, { total: number; online: number; rate: number }>;
  offline: { id: string; kind: DeviceKind; name: string; since: number }[];
  subhealth: { id: string; kind: DeviceKind; name: string; since: number; reason: string }[];
}
