import { afterEach, describe, expect, it } from 'vitest';
import { MESSAGES, layerTitle, locale, t, translate } from './i18n.ts';

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
});
