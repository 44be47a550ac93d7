import { afterEach, describe, expect, it } from 'vitest';
import { DEPARTMENTS, LAYERS } from '../../layers/catalog.ts';
import { MESSAGES, departmentTitle, layerTitle, locale, t, themeTitle, translate, valueLabel } from './i18n.ts';

describe('i18n', () => {
  afterEach(() => { locale.value = 'zh-CN'; });

  it('has the same keys in every locale and no empty strings', () => {
    const keys = Object.keys(MESSAGES['zh-CN']).sort();
    for (const table of Object.values(MESSAGES)) {
      expect(Object.keys(table).sort()).toEqual(keys);
      for (const v of Object.values(table)) expect(v.trim()).not.toBe('');
    }
  });

  it('is Chinese by default and fills placeholders', () => {
    expect(t('appTitle')).toBe('常熟城市运行一张图');
    expect(t('tilesLoaded', { count: 12 })).toBe('已加载 12 个瓦片');
    expect(translate('en', 'tilesLoaded', { count: 12 })).toBe('12 tiles loaded');
    expect(translate('zh-CN', 'tilesLoaded')).toContain('{count}');
  });

  it('switches catalog titles with the locale', () => {
    const l = { title: '水系', titleEn: 'Water' };
    expect(layerTitle(l)).toBe('水系');
    locale.value = 'en';
    expect(layerTitle(l)).toBe('Water');
  });

  it('names every catalog department and theme, in Chinese as the catalog does', () => {
    for (const [id, title] of Object.entries(DEPARTMENTS)) expect(departmentTitle(id)).toBe(title);
    for (const l of LAYERS) expect(Object.keys(MESSAGES['zh-CN'])).toContain(`themeName.${l.theme}`);
    expect(themeTitle('物联感知')).toBe('物联感知');
    locale.value = 'en';
    expect(departmentTitle('police')).toBe('Public security');
    expect(themeTitle('物联感知')).toBe('IoT sensing');
    expect(departmentTitle('nope')).toBe('nope');
  });

  it('translates every legend category of the catalog', () => {
    for (const l of LAYERS) {
      if (!l.style.by || !l.style.categories) continue;
      for (const value of Object.keys(l.style.categories)) {
        expect(Object.keys(MESSAGES['zh-CN']), `${l.id}.${l.style.by}=${value}`).toContain(`value.${l.style.by}.${value}`);
      }
    }
    expect(valueLabel('status', 'fault')).toBe('故障');
    expect(valueLabel('kind', 'fire_hydrant')).toBe('消火栓');
    expect(valueLabel('kind', '人脸卡口')).toBe('人脸卡口');
    locale.value = 'en';
    expect(valueLabel('status', 'online')).toBe('Online');
  });
});
