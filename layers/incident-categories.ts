// Incident categories, after the 数字城管 classification (GB/T 30428.2-2013 管理部件和事件, CJJ/T 106):
// 部件 (parts: city furniture and facilities that are broken, lost or misused) and 事件 (events: conduct
// and situations), each in major classes. The codes are ours (major class code + 2 digits); the titles
// follow the standard's wording. `department` is who handles it by default; `limitHours` the time to
// dispose (处置时限) used for supervision. Pure data.
import type { DepartmentId } from './catalog.ts';

export type IncidentClass = 'part' | 'event';
export interface IncidentCategory {
  code: string;
  name: string;
  class: IncidentClass;
  /** Major class (大类) title. */
  group: string;
  department: DepartmentId;
  /** Default severity 1 (low) … 4 (critical). */
  severity: 1 | 2 | 3 | 4;
  limitHours: number;
}

export const INCIDENT_CATEGORIES: readonly IncidentCategory[] = [
  // 部件 — 公用设施类 (01), 道路交通类 (02), 市容环境类 (03), 园林绿化类 (04)
  { code: '0101', name: '井盖破损或缺失', class: 'part', group: '公用设施', department: 'urban', severity: 3, limitHours: 4 },
  { code: '0102', name: '消防栓损坏', class: 'part', group: '公用设施', department: 'fire', severity: 3, limitHours: 24 },
  { code: '0103', name: '路灯故障', class: 'part', group: '公用设施', department: 'urban', severity: 1, limitHours: 72 },
  { code: '0104', name: '燃气设施异常', class: 'part', group: '公用设施', department: 'gas', severity: 4, limitHours: 2 },
  { code: '0105', name: '供电设施故障', class: 'part', group: '公用设施', department: 'power', severity: 3, limitHours: 8 },
  { code: '0201', name: '道路破损', class: 'part', group: '道路交通', department: 'transport', severity: 2, limitHours: 72 },
  { code: '0202', name: '交通标志损坏', class: 'part', group: '道路交通', department: 'police', severity: 2, limitHours: 48 },
  { code: '0203', name: '护栏损坏', class: 'part', group: '道路交通', department: 'transport', severity: 2, limitHours: 48 },
  { code: '0301', name: '垃圾箱满溢或损坏', class: 'part', group: '市容环境', department: 'urban', severity: 1, limitHours: 24 },
  { code: '0302', name: '公厕设施损坏', class: 'part', group: '市容环境', department: 'urban', severity: 1, limitHours: 72 },
  { code: '0401', name: '行道树倒伏', class: 'part', group: '园林绿化', department: 'urban', severity: 3, limitHours: 8 },
  // 事件 — 市容环境类 (11), 宣传广告类 (12), 施工管理类 (13), 突发事件类 (14), 街面秩序类 (15), 市场监管类 (16), 生态环境类 (17)
  { code: '1101', name: '暴露垃圾', class: 'event', group: '市容环境', department: 'urban', severity: 1, limitHours: 24 },
  { code: '1102', name: '道路积水', class: 'event', group: '市容环境', department: 'water', severity: 3, limitHours: 4 },
  { code: '1103', name: '河道漂浮物', class: 'event', group: '市容环境', department: 'water', severity: 1, limitHours: 48 },
  { code: '1201', name: '违规张贴小广告', class: 'event', group: '宣传广告', department: 'urban', severity: 1, limitHours: 72 },
  { code: '1301', name: '施工扰民', class: 'event', group: '施工管理', department: 'housing', severity: 2, limitHours: 24 },
  { code: '1302', name: '渣土撒漏', class: 'event', group: '施工管理', department: 'urban', severity: 2, limitHours: 8 },
  { code: '1401', name: '火情', class: 'event', group: '突发事件', department: 'fire', severity: 4, limitHours: 1 },
  { code: '1402', name: '燃气泄漏', class: 'event', group: '突发事件', department: 'gas', severity: 4, limitHours: 1 },
  { code: '1403', name: '交通事故', class: 'event', group: '突发事件', department: 'police', severity: 3, limitHours: 2 },
  { code: '1501', name: '占道经营', class: 'event', group: '街面秩序', department: 'urban', severity: 1, limitHours: 24 },
  { code: '1502', name: '乱停车', class: 'event', group: '街面秩序', department: 'police', severity: 1, limitHours: 24 },
  { code: '1601', name: '无证经营', class: 'event', group: '市场监管', department: 'market', severity: 2, limitHours: 72 },
  { code: '1701', name: '噪声扰民', class: 'event', group: '生态环境', department: 'ecology', severity: 2, limitHours: 24 },
  { code: '1702', name: '违规排污', class: 'event', group: '生态环境', department: 'ecology', severity: 3, limitHours: 8 },
];

const BY_CODE = new Map(INCIDENT_CATEGORIES.map((c) => [c.code, c]));
export function getIncidentCategory(code: string): IncidentCategory | undefined {
  return BY_CODE.get(code);
}

export type IncidentSource = 'grid' | 'sensor' | 'camera' | 'hotline' | 'public';
export const INCIDENT_SOURCES: Record<IncidentSource, string> = {
  grid: '网格员上报', sensor: '传感器告警', camera: '视频事件', hotline: '12345 热线', public: '群众上报',
};
