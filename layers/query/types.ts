// The vocabulary of spatial queries, shared by the embedded engine (layers/query), the PostGIS store
// (tile-server/storage) and the HTTP API. Pure types and limits: no I/O.

/**
 * How a feature relates to the query shape. Both engines answer these identically (see README, "boundary rule"):
 *   intersects — feature and shape share at least one point; boundaries count (closed sets) = PostGIS ST_Intersects
 *   within     — no point of the feature lies outside the shape (boundary counts)          = ST_CoveredBy(feature, shape)
 *   contains   — no point of the shape lies outside the feature (boundary counts)          = ST_Covers(feature, shape)
 *   dwithin    — the feature is at most `distanceM` metres from the shape                  = ST_DWithin in the city's
 *                Gauss–Krüger projection (CGCS2000 3° zone, EPSG:4549 for Changshu)
 */
export type Predicate = 'intersects' | 'within' | 'contains' | 'dwithin';
export const PREDICATES: readonly Predicate[] = ['intersects', 'within', 'contains', 'dwithin'];

/** One attribute condition; a list of them is AND-ed. `field` must be one of the layer's catalog fields. */
export type FilterOp = 'eq' | 'ne' | 'in' | 'lt' | 'le' | 'gt' | 'ge' | 'prefix' | 'contains';
export interface AttributeFilter {
  field: string;
  op: FilterOp;
  /** 'in' takes an array; 'prefix'/'contains' a string; comparisons a number or (string/datetime fields) a string. */
  value: string | number | boolean | (string | number)[];
}

/** Half-open time window [from, to) over the layer's time field (LayerDef.time); ISO 8601 strings. */
export interface TimeFilter { from?: string; to?: string }

export interface QuerySpec {
  layer: string;
  /** WGS84 GeoJSON geometry, already validated (validateGeometry). */
  geometry: GeoJSON.Geometry;
  predicate: Predicate;
  /** Required for 'dwithin' (0 … MAX_DISTANCE_M); ignored otherwise. */
  distanceM?: number;
  where?: AttributeFilter[];
  time?: TimeFilter;
  /** Features returned (the count is always of all matches); 0 = count only. */
  limit: number;
  offset?: number;
}

export interface NearestSpec {
  layer: string;
  lon: number;
  lat: number;
  k: number;
  /** Only features at most this far (metres); default MAX_DISTANCE_M. */
  maxDistanceM?: number;
  where?: AttributeFilter[];
  time?: TimeFilter;
}

export interface FeatureHit {
  layer: string;
  id: string;
  properties: Record<string, unknown>;
  geometry: GeoJSON.Geometry;
  /** Metres from the query point/shape, for nearest and dwithin answers. */
  distanceM?: number;
}

export interface LayerQueryResult {
  layer: string;
  /** All features matching, regardless of limit. */
  count: number;
  /** Up to `limit` matches, ordered by id (byte order of the id string), after `offset`. */
  features: FeatureHit[];
}

export interface AdminUnit { code: string; name: string }
export interface GridManager { id: string; name: string; phone: string }
export interface GridUnit extends AdminUnit { manager: GridManager | null }
/** town → village → grid at a point; each null outside the city. */
export interface AdminHit { town: AdminUnit | null; village: AdminUnit | null; grid: GridUnit | null }

// Limits, enforced by the API and assumed by the engines.
export const MAX_DISTANCE_M = 50_000;
export const MAX_NEAREST_K = 1_000;
export const MAX_QUERY_LIMIT = 10_000;
/** Exports (CSV, GeoJSON, FlatGeobuf) may return more than one JSON page. */
export const MAX_EXPORT_LIMIT = 500_000;
export const MAX_QUERY_VERTICES = 20_000;
