// Terrain for the globe from the city's own elevation grid (no Cesium World Terrain, no ion): a
// CustomHeightmapTerrainProvider whose tiles are sampled from the DEM on the main thread (32 × 32
// bilinear samples per tile is far cheaper than a network round trip).
import { CustomHeightmapTerrainProvider, GeographicTilingScheme, Math as CesiumMath } from 'cesium';
import type { Dem } from './cesium-dem.ts';

const SAMPLES = 32;

export function createDemTerrainProvider(dem: Dem, credit: string): CustomHeightmapTerrainProvider {
  const scheme = new GeographicTilingScheme();
  const flat = new Float32Array(SAMPLES * SAMPLES);
  const { west, south, east, north } = dem.meta;
  return new CustomHeightmapTerrainProvider({
    width: SAMPLES,
    height: SAMPLES,
    tilingScheme: scheme,
    credit,
    callback(x, y, level) {
      const r = scheme.tileXYToRectangle(x, y, level);
      const w = CesiumMath.toDegrees(r.west), e = CesiumMath.toDegrees(r.east);
      const s = CesiumMath.toDegrees(r.south), n = CesiumMath.toDegrees(r.north);
      if (e < west || w > east || n < south || s > north) return flat;
      const out = new Float32Array(SAMPLES * SAMPLES);
      // Heightmap samples include both tile edges, rows from the north (Cesium HeightmapTerrainData).
      for (let row = 0; row < SAMPLES; row++) {
        const lat = n - ((n - s) * row) / (SAMPLES - 1);
        for (let col = 0; col < SAMPLES; col++) out[row * SAMPLES + col] = dem.heightAt(w + ((e - w) * col) / (SAMPLES - 1), lat);
      }
      return out;
    },
  });
}
