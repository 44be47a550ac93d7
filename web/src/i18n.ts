// Every user-facing string of the web client, Chinese first (STYLE.md §10). One table per locale;
// `en` must have exactly the keys of `zh-CN` (checked by the type below and by i18n.spec.ts).
import { ref } from 'vue';

const zhCN = {
  appTitle: '常熟城市运行一张图',
  appSubtitle: '城市运行管理服务平台 · 一张图',
  layers: '图层',
  basemap: '基础底图',
  overlay: '行政区划与网格',
  attribution: '数据来源',
  loadingTiles: '正在加载地图…',
  tilesLoaded: '已加载 {count} 个瓦片',
  tileJsonFailed: '无法读取图层服务 {tileset}：{detail}。请确认瓦片服务已启动（npm start），并已生成数据（npm run data && npm run tiles）。',
  tileFailed: '瓦片加载失败（{tileset}）：{detail}',
  moreErrors: '另有 {count} 个错误未显示',
  mapInitFailed: '地图初始化失败：{detail}。请使用支持 WebGL 2 的浏览器。',
  zoomLevel: '缩放级别 {zoom}',
  switchLanguage: 'English',
  synthetic: '演示数据含生成内容',
  expand: '展开',
  collapse: '收起',
} as const;

export type MessageKey = keyof typeof zhCN;

const en: Record<MessageKey, string> = {
  appTitle: 'Changshu City Operations Map',
  appSubtitle: 'City operations platform · one map',
  layers: 'Layers',
  basemap: 'Base map',
  overlay: 'Boundaries and grids',
  attribution: 'Data',
  loadingTiles: 'Loading the map…',
  tilesLoaded: '{count} tiles loaded',
  tileJsonFailed: 'Cannot read the tile service {tileset}: {detail}. Check that the tile server is running (npm start) and the data is built (npm run data && npm run tiles).',
  tileFailed: 'Tile failed ({tileset}): {detail}',
  moreErrors: '{count} more errors not shown',
  mapInitFailed: 'The map could not start: {detail}. Use a browser with WebGL 2.',
  zoomLevel: 'Zoom {zoom}',
  switchLanguage: '中文',
  synthetic: 'Demo data includes generated content',
  expand: 'More',
  collapse: 'Less',
};

export const MESSAGES = { 'zh-CN': zhCN as Record<MessageKey, string>, en } as const;
export type Locale = keyof typeof MESSAGES;
export const LOCALES = Object.keys(MESSAGES) as Locale[];

/** The UI language; zh-CN unless the user switches. */
export const locale = ref<Locale>('zh-CN');

/** `t('tilesLoaded', { count: 3 })`; unknown `{name}` placeholders are left visible so a missing param shows. */
export function translate(loc: Locale, key: MessageKey, params?: Record<string, string | number>): string {
  const text = MESSAGES[loc][key];
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

export function t(key: MessageKey, params?: Record<string, string | number>): string {
  return translate(locale.value, key, params);
}

/** A catalog layer's title in the current language. */
export function layerTitle(layer: { title: string; titleEn: string }): string {
  return locale.value === 'zh-CN' ? layer.title : layer.titleEn;
}
