// The storage/query interface with two implementations: the embedded one (FlatGeobuf files + in-memory
// indexes, `embedded-store.ts`) and PostGIS (`postgis-store.ts`, chosen when DATABASE_URL is set). The
// HTTP API and the tests talk only to this; the same test suite runs against both.
import type { EditFeature } from '../../layers/editing/model.ts';
import type { AdminHit, FeatureHit, LayerQueryResult, NearestSpec, QuerySpec, TimeFilter, AttributeFilter } from '../../layers/query/types.ts';

export interface SpatialStore {
  readonly kind: 'embedded' | 'postgis';
  /** Catalog layer ids this store can query. */
  layers(): string[];
  /** Town, village and grid (with its manager) at a point. Boundary rule: closed polygons; on a shared
   *  edge or vertex the unit with the smallest code wins. */
  adminAt(lon: number, lat: number): Promise<AdminHit>;
  /** Grid code at each point (null outside every grid), same rule; for bulk lookups and the benchmark. */
  gridCodesAt(lons: Float64Array, lats: Float64Array): Promise<(string | null)[]>;
  /** The k nearest features (metres in the city's Gauss–Krüger projection), ordered by distance then id. */
  nearest(spec: NearestSpec): Promise<FeatureHit[]>;
  query(spec: QuerySpec): Promise<LayerQueryResult>;
  /** Coordinates of every matching point feature, interleaved lon,lat (no limit), with the time of each
   *  (ms since epoch, NaN when the layer has no time field); for hot-spot analysis. */
  points(spec: { layer: string; geometry?: GeoJSON.Geometry; where?: AttributeFilter[]; time?: TimeFilter }):
    Promise<{ coords: Float64Array; times: Float64Array; ids: string[] }>;
  getFeature(layer: string, id: string): Promise<FeatureHit | null>;
  /** Optional: prepare what /api/lookup needs (admin lookups; addresses, cameras, sensors, facilities,
   *  incidents) so the first click does not pay for it. Resolves when ready; the server calls it in the
   *  background after listening. */
  warm?(): Promise<void>;
  /**
   * Optional: make edited features visible to queries (issue 8). `feature` null = deleted. The embedded
   * store rebuilds the layer's indexes from the effective file; PostGIS upserts/deletes rows (idempotent,
   * so replaying all edits at start after a fresh `npm run db:load` is safe).
   */
  applyEdits?(layer: string, changes: { id: string; feature: EditFeature | null }[]): Promise<void>;
  close(): Promise<void>;
}
