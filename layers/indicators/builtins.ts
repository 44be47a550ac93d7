// The built-in indicators (issue 10 item 4's examples). Thresholds are working targets for the demo city, not
// national standards: 按期结案率 ≥ 90 % is the usual 数字城管 考核 target; the others are set so the seeded data
// shows all three colours. They cannot be edited or deleted through the API (a planner adds their own instead).
import type { IndicatorDef } from './model.ts';

type Builtin = Omit<IndicatorDef, 'builtin' | 'createdBy' | 'createdAt'>;

const B: Builtin[] = [
  {
    id: 'incidents_per_10k', name: '万人事件数（30天）', unit: '件/万人',
    meaning: '近 30 天上报的事件（不含合并的重复件）每万名常住人口的件数。人口取自公开资料（changshu_towns_facts.json），只有全市和部分镇有数，其余区域为空。',
    formula: 'incidents(since="30d") / population * 10000', levels: ['city', 'town'], better: 'lower', thresholds: { green: 5, red: 15 }, decimals: 2,
  },
  {
    id: 'closed_on_time_rate', name: '按期结案率', unit: '%',
    meaning: '近 30 天结案的事件中，从上报到结案没有超过各阶段时限之和（立案、派遣、接单、处置、核查）的比例。',
    formula: 'closed_on_time(since="30d") / closed(since="30d") * 100', levels: ['city', 'town', 'village', 'grid'], better: 'higher', thresholds: { green: 90, red: 70 }, decimals: 1,
  },
  {
    id: 'dispatch_minutes', name: '平均派遣用时', unit: '分钟',
    meaning: '近 30 天首次派遣的事件，从上报到首次派遣的平均分钟数。',
    formula: 'dispatch_minutes(since="30d")', levels: ['city', 'town', 'village', 'grid'], better: 'lower', thresholds: { green: 30, red: 60 }, decimals: 1,
  },
  {
    id: 'device_online_rate', name: '设备在线率', unit: '%',
    meaning: '物联设备中正在上报（在线、告警或亚健康）的比例；自服务启动后从未上报的设备算作不在线。',
    formula: 'devices_online() / devices() * 100', levels: ['city', 'town', 'village', 'grid'], better: 'higher', thresholds: { green: 95, red: 85 }, decimals: 1,
  },
  {
    id: 'water_level_alarms', name: '水位告警（24小时）', unit: '次',
    meaning: '近 24 小时水位监测设备因测值产生的告警次数（超警戒、快速上涨）；设备离线、亚健康不计。',
    formula: 'alarms(kind="water_level", since="24h")', levels: ['city', 'town', 'village', 'grid'], better: 'lower', thresholds: { green: 0, red: 3 }, decimals: 0,
  },
  {
    id: 'grid_patrol_coverage', name: '网格巡查覆盖率（7天）', unit: '%',
    meaning: '近 7 天有网格员签到点落在其中的网格占全部网格的比例。',
    formula: 'grids_patrolled(since="7d") / grids * 100', levels: ['city', 'town', 'village', 'grid'], better: 'higher', thresholds: { green: 90, red: 60 }, decimals: 1,
  },
];

export const BUILTIN_INDICATORS: readonly IndicatorDef[] = B.map((d) => ({ ...d, builtin: true, createdBy: null, createdAt: 0 }));
export const BUILTIN_IDS: ReadonlySet<string> = new Set(B.map((d) => d.id));
