// Progress hooks for browser tests, as attributes on <html> (no globals): `data-tiles-loaded` counts
// decoded tiles, `data-map-ready="1"` follows the first full viewport load of every tileset, and
// `data-label-count` / `data-label-names` show which place labels were decoded (names joined by "|").
export interface PageProgress {
  tilesLoaded: number;
  ready: boolean;
  labelCount: number;
  labelNames: Iterable<string>;
  errors: number;
}

export function reportProgress(root: HTMLElement, p: PageProgress): void {
  const ds = root.dataset;
  ds.tilesLoaded = String(p.tilesLoaded);
  ds.labelCount = String(p.labelCount);
  ds.labelNames = [...p.labelNames].join('|');
  ds.mapErrors = String(p.errors);
  if (p.ready) ds.mapReady = '1';
}
