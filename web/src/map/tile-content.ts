// Reads decoded MVT tile content (loaders.gl binary feature collections, or GeoJSON feature arrays
// when deck.gl runs a globe view) without deck.gl: kept apart so it is unit-testable in Node.
import { LAYER_PROPERTY } from './catalog-style.ts';

type Props = Record<string, unknown>;

/** Properties of the point features in a decoded tile (binary or GeoJSON shape). */
export function pointProperties(content: unknown): Props[] {
  if (!content) return [];
  if (Array.isArray(content)) {
    return (content as { geometry?: { type?: string }; properties?: Props }[])
      .filter((f) => f.geometry?.type === 'Point' || f.geometry?.type === 'MultiPoint')
      .map((f) => f.properties ?? {});
  }
  const points = (content as { points?: { properties?: Props[] } }).points;
  return points?.properties ?? [];
}

/** Label names (non-empty `labelField` values) of the features of `sourceLayer` in a decoded tile. */
export function labelNames(content: unknown, sourceLayer: string, labelField: string): string[] {
  const names: string[] = [];
  for (const p of pointProperties(content)) {
    if (p[LAYER_PROPERTY] !== sourceLayer) continue;
    const v = p[labelField];
    if (typeof v === 'string' && v.trim()) names.push(v);
  }
  return names;
}

