// Test-only page for test/browser-3d.test.ts: the Cesium engine alone, with the view from the same URL
// parameters the app uses (?lon=&lat=&zoom=&bearing=&pitch=) and the catalog's default layers. It
// proves the engine without the app shell; the status goes to data attributes on <html>.
import { LAYERS } from '../../layers/catalog.ts';
import { createCesiumEngine } from '../../web/src/map/cesium-engine.ts';

const q = new URLSearchParams(location.search);
const num = (k: string, d: number) => (q.has(k) && Number.isFinite(Number(q.get(k))) ? Number(q.get(k)) : d);
const html = document.documentElement;
const errors: string[] = [];

createCesiumEngine({
  container: document.getElementById('map')!,
  view: { lon: num('lon', 120.7), lat: num('lat', 31.655), zoom: num('zoom', 13), bearing: num('bearing', 0), pitch: num('pitch', 0) },
  layers: LAYERS.map((l) => ({ id: l.id, visible: l.visibleByDefault, opacity: 1 })),
  baseUrl: location.origin,
  events: {
    onViewChange: (v) => { html.dataset.view = JSON.stringify(v); },
    onHover: () => {},
    onClick: (f, lonLat) => { html.dataset.clicked = JSON.stringify({ layerId: f?.layerId ?? null, id: f?.id ?? null, lonLat }); },
    onPointer: () => {},
    onStatus: (s) => {
      if (s.error) { errors.push(`${s.error.key}: ${s.error.detail}`); html.dataset.mapErrors = errors.join('\n'); }
      if (s.labelNames) html.dataset.labelNames = s.labelNames.join('|');
    },
  },
}).then((engine) => {
  html.dataset.engine = engine.kind;
  html.dataset.mpp = String(engine.metersPerPixel());
}).catch((e: unknown) => {
  errors.push(`init: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  html.dataset.mapErrors = errors.join('\n');
});
