// The world outside the demo city in 3D: Natural Earth II (shaded relief, land cover and water; public
// domain, naturalearthdata.com), the tiles that ship with Cesium (levels 0–2 under
// Build/Cesium/Assets/Textures/NaturalEarthII), served by our own server under /cesium/. It lies under
// the city's draped vector basemap and is cut out over the city, so inside it the map looks as before.
import { ImageryLayer, Rectangle, TileMapServiceImageryProvider, type ImageryLayerCollection } from 'cesium';

export const NATURAL_EARTH_PATH = '/cesium/Assets/Textures/NaturalEarthII';

/**
 * Adds the Natural Earth layer at the bottom of `layers`, with the city's `cutout` [w, s, e, n] (degrees)
 * left to the globe's base colour. Rejects when the tiles cannot be read (the globe then stays plain).
 */
export async function addNaturalEarth(layers: ImageryLayerCollection, baseUrl: string,
  cutout: [number, number, number, number]): Promise<ImageryLayer> {
  // tilemapresource.xml names the levels, the extension (jpg) and the tiling scheme.
  const provider = await TileMapServiceImageryProvider.fromUrl(new URL(NATURAL_EARTH_PATH, baseUrl).href);
  const layer = new ImageryLayer(provider, { cutoutRectangle: Rectangle.fromDegrees(...cutout) });
  if (!layers.isDestroyed()) layers.add(layer, 0);
  return layer;
}
