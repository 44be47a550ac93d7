// The rule set a fresh install starts with (editable through PUT /api/rules; persisted in the store).
// Thresholds and their sources:
//   water_level  3.70 m: the warning level of the Changshu inland water gauges (常熟 警戒水位 ≈ 3.7 m 吴淞基面).
//   gas          10 / 25 %LEL: the usual two-stage combustible-gas alarm settings (GB/T 50493-2019 §5.5.2:
//                first stage ≤ 25 %LEL, second ≤ 50 %LEL; city networks commonly warn at 10).
//   smoke        8 %obs/m: within the response range of point smoke detectors (GB 4715, ≈ 1.6–12.5 %obs/m).
//   fire_hydrant 0.14 MPa: minimum municipal hydrant pressure (GB 50974-2014 §7.2.8).
//   manhole      2 cm displacement/lift of the cover; bridge_strain 800 με; noise 85 dB; air_quality 150 μg/m³
//                (PM2.5 heavy pollution, HJ 633-2012); rain 30 mm: demo values.
// Silence: three missed one-minute intervals → offline, for every kind. A simulator must report each device
// at least once a minute (27k devices ≈ 450 readings/s) or everything will show as offline.
import type { DeviceKind, Rule, SensorKind } from '../../layers/telemetry/model.ts';
import { SENSOR_KINDS } from '../../layers/telemetry/model.ts';

const KIND_ZH: Record<DeviceKind, string> = {
  water_level: '水位', manhole: '井盖', gas: '燃气', smoke: '烟感', power: '用电', air_quality: '空气质量',
  bridge_strain: '桥梁应变', noise: '噪声', rain: '雨量', fire_hydrant: '消火栓水压', camera: '视频', patrol: '巡逻',
};

const thr = (id: string, kind: DeviceKind, name: string, severity: Rule['severity'], params: Rule['params'], incidentCategory: string | null = null): Rule =>
  ({ id, name, kind, type: 'threshold', severity, enabled: true, params, incidentCategory });

/** Drift limits per hour for kinds whose value should hold steady (a tide-following water level must not). */
const DRIFT: Partial<Record<SensorKind, number>> = { gas: 2, smoke: 1, manhole: 0.5, bridge_strain: 50, fire_hydrant: 0.05 };
/** Kinds whose healthy signal is never exactly constant for half an hour (gas, smoke, rain sit at 0). */
const STUCK: readonly SensorKind[] = ['water_level', 'power', 'air_quality', 'noise', 'bridge_strain', 'fire_hydrant'];

export function defaultRules(): Rule[] {
  const rules: Rule[] = [
    thr('water_level.high', 'water_level', '水位超警戒', 2, { above: 3.7, hysteresis: 0.05 }, '1102'),
    { id: 'water_level.rise', name: '水位快速上涨', kind: 'water_level', type: 'rate', severity: 3, enabled: true, params: { perMinute: 0.02, windowSeconds: 600, direction: 'up' }, incidentCategory: null },
    thr('gas.warn', 'gas', '燃气浓度预警', 3, { above: 10, hysteresis: 2 }),
    thr('gas.danger', 'gas', '燃气泄漏报警', 1, { above: 25, hysteresis: 5 }, '1402'),
    thr('smoke.alarm', 'smoke', '烟感火情报警', 1, { above: 8, hysteresis: 2 }, '1401'),
    thr('manhole.displaced', 'manhole', '井盖位移', 2, { above: 2, hysteresis: 0.5 }, '0101'),
    thr('bridge_strain.high', 'bridge_strain', '桥梁应变超限', 2, { above: 800, hysteresis: 50 }),
    thr('fire_hydrant.low', 'fire_hydrant', '消火栓水压不足', 3, { below: 0.14, hysteresis: 0.02 }),
    thr('noise.high', 'noise', '噪声超标', 4, { above: 85, hysteresis: 3 }),
    thr('air_quality.bad', 'air_quality', '空气重度污染', 4, { above: 150, hysteresis: 10 }),
    thr('rain.heavy', 'rain', '短时强降雨', 3, { above: 30, hysteresis: 5 }),
    thr('camera.novideo', 'camera', '视频信号丢失', 3, { below: 0.5, hysteresis: 0 }),
    // Patrol units are based at a town's station and cover the town; scope 'own_grid' suits units bound to one grid.
    { id: 'patrol.geofence', name: '巡逻力量离开责任镇街', kind: 'patrol', type: 'geofence', severity: 4, enabled: true, params: { scope: 'own_town', confirm: 2 }, incidentCategory: null },
  ];
  for (const kind of [...SENSOR_KINDS, 'camera', 'patrol'] as DeviceKind[]) {
    rules.push({ id: `${kind}.silence`, name: `${KIND_ZH[kind]}设备离线`, kind, type: 'silence', severity: 3, enabled: true, params: { intervals: 3, intervalSeconds: 60 }, incidentCategory: null });
    const params: Rule['params'] = { flapsPerHour: 6 };
    if ((STUCK as readonly string[]).includes(kind)) params.stuckMinutes = 30;
    const drift = DRIFT[kind as SensorKind];
    if (drift !== undefined) { params.driftPerHour = drift; params.driftWindowHours = 2; }
    rules.push({ id: `${kind}.subhealth`, name: `${KIND_ZH[kind]}设备亚健康`, kind, type: 'subhealth', severity: 4, enabled: true, params, incidentCategory: null });
  }
  return rules;
}
