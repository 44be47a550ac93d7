// Shapes shared by the import readers, the pipeline, the HTTP API and the CLI (issue 8 item 4).
import type { FieldType } from '../catalog.ts';
import type { CrsCode } from '../crs.ts';
import type { EditFeature, ValidationIssue } from '../editing/model.ts';

export type ImportFormat = 'geojson' | 'csv' | 'fgb' | 'shapefile';

/** One record of the source file, before any conversion. */
export interface SourceRow {
  /** 1-based record number in the file (CSV: data rows, the header not counted). */
  row: number;
  /** In the source CRS; null when the record has none (or has only an address to geocode). */
  geometry: GeoJSON.Geometry | null;
  properties: Record<string, unknown>;
  /** CSV without coordinates: the address text to geocode (the result is WGS84). */
  address?: string;
  /** A problem found while reading (bad number in a coordinate column …). */
  issue?: ValidationIssue;
}

/** A file read into rows, format-neutral. */
export interface ImportSource {
  format: ImportFormat;
  rows: SourceRow[];
  /** Source attribute columns (coordinate columns of a CSV left out); type null when unknown (CSV text). */
  fields: { name: string; type: FieldType | null }[];
  /** The CRS the file declares, when we know it. */
  crs: CrsCode | null;
  /** The declaration as written, when present but not one we know (.prj WKT, GeoJSON crs name). */
  crsText: string | null;
  encoding?: string;
  /** Hash of the file's bytes: ids of created features derive from it, so re-importing a file updates, not duplicates. */
  digest: string;
}

export interface ImportPreview {
  layer: string;
  format: ImportFormat;
  sourceCrs: CrsCode;
  /** Where the CRS came from: the file (.prj, GeoJSON crs, FlatGeobuf header), the caller's option, or a guess from the coordinates. */
  crsFrom: 'file' | 'option' | 'guess';
  encoding?: string;
  total: number;
  creates: number;
  updates: number;
  unchanged: number;
  /** Rows that cannot be imported; row 0 = a problem of the import as a whole. Any error blocks apply. */
  errors: { row: number; id?: string; issues: ValidationIssue[] }[];
  warnings: ValidationIssue[];
  /** Source column → layer field (null = not imported). */
  fieldMap: Record<string, string | null>;
  sample: EditFeature[];
  /** WGS84 extent of what would be written. */
  bbox: [number, number, number, number] | null;
}

export type ImportErrorCode =
  | 'unknown_layer' | 'layer_not_editable' | 'unsupported_format' | 'bad_file' | 'crs_unknown' | 'crs_required'
  | 'no_rows' | 'no_geometry_columns' | 'bad_field_map' | 'import_has_errors' | 'geocoder_unavailable';

/** A problem with the file or the request as a whole (row problems go into ImportPreview.errors). */
export class ImportError extends Error {
  override readonly name = 'ImportError';
  constructor(readonly code: ImportErrorCode, message: string) {
    super(message);
  }
}

export type Geocoder = (text: string) => Promise<{ lon: number; lat: number; address: string } | null>;
