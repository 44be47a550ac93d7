// The grade, update frequency and meaning of every layer of the catalog (layers/catalog.ts). A layer without an
// entry here is an error caught by the catalog spec: nothing is served without a grade.
import { getLayer, type LayerDef } from '../catalog.ts';
import type { Governance } from './model.ts';

const PERSONAL = 'sensitive' as const;

export const GOVERNANCE: Record<string, Governance> = {
  towns: { grade: 'public', updateFrequency: 'yearly', description: '镇（街道）行政界线与统计用区划代码。', fieldMeaning: {} },
  villages: { grade: 'public', updateFrequency: 'yearly', description: '村（社区）界线与统计用区划代码。', fieldMeaning: {} },
  grids: {
    grade: 'internal', updateFrequency: 'on_change', description: '网格化管理的网格划分及网格员。', fieldMeaning: {},
    fieldGrades: { manager_name: PERSONAL, manager_phone: PERSONAL },
  },
  city: { grade: 'public', updateFrequency: 'yearly', description: '常熟市市域范围。', fieldMeaning: {} },
  landuse: { grade: 'public', updateFrequency: 'yearly', description: '土地利用现状。', fieldMeaning: {} },
  water: { grade: 'public', updateFrequency: 'yearly', description: '河湖水系。', fieldMeaning: {} },
  roads: { grade: 'public', updateFrequency: 'quarterly', description: '道路中心线。', fieldMeaning: {} },
  buildings: { grade: 'public', updateFrequency: 'quarterly', description: '建筑物轮廓与高度。', fieldMeaning: {} },
  places: { grade: 'public', updateFrequency: 'yearly', description: '地名点。', fieldMeaning: {} },
  addresses: { grade: 'internal', updateFrequency: 'daily', description: '标准地址（一标多实）。', fieldMeaning: {} },
  cameras: { grade: 'internal', updateFrequency: 'weekly', description: '公共视频监控点位及视域。', fieldMeaning: {} },
  sensors: { grade: 'internal', updateFrequency: 'realtime', description: '物联感知设备。', fieldMeaning: {} },
  facilities: { grade: 'public', updateFrequency: 'monthly', description: '城市部件与公共设施。', fieldMeaning: {} },
  incidents: { grade: 'internal', updateFrequency: 'realtime', description: '历史事件（案件）。', fieldMeaning: {} },
  responders: {
    grade: 'core', updateFrequency: 'realtime', description: '处置力量（网格员、巡逻力量）的身份、联系方式与位置。', fieldMeaning: {},
    fieldGrades: { name: PERSONAL, phone: PERSONAL },
  },
};

/** The governance of a layer; throws for a layer the table does not grade (a programming error). */
export function governanceOf(layer: string | Pick<LayerDef, 'id'>): Governance {
  const id = typeof layer === 'string' ? layer : layer.id;
  const g = GOVERNANCE[id];
  if (!g) throw new Error(`layer ${id} has no grade in layers/governance/grades.ts`);
  return g;
}

/** The owner department of a layer (its LayerDef.department). */
export function ownerOf(layer: string): LayerDef['department'] | undefined {
  return getLayer(layer)?.department;
}
