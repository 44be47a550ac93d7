// The shared vocabulary of layer editing (issue 8): versions, changes, validation issues and edit rights.
// Pure types and tiny helpers; the server (tile-server/editing/), the import pipeline (layers/import/) and
// the client editor (web/src/editing/) all speak these.
import type { Bbox } from '../formats/flatgeobuf.ts';

/** A feature as the editing API carries it: GeoJSON with a string id (the layer's `id` property mirrors it). */
export interface EditFeature {
  type: 'Feature';
  id: string;
  geometry: GeoJSON.Geometry;
  properties: Record<string, unknown>;
}

export type EditOp = 'create' | 'update' | 'delete' | 'restore' | 'import';

/**
 * One stored version of a feature. Features from the built data have version 0 (never stored); the first
 * edit makes version 1. A delete stores a tombstone (deleted: true, feature null) with the next version.
 */
export interface FeatureVersion {
  layer: string;
  id: string;
  version: number;
  deleted: boolean;
  feature: EditFeature | null;
  op: EditOp;
  /** `role:id` of whoever made it (the signed-in user, issue 9; the import CLI's --as). */
  actor: string;
  /** ms since epoch. */
  at: number;
  comment?: string;
  /** Monotonic sequence number over the whole edit store (the change feed's cursor). */
  seq: number;
}

/** One change of an atomic batch (create/update/delete; split and merge are batches). */
export interface EditChange {
  op: 'create' | 'update' | 'delete';
  /** create: optional (the server assigns `{layer}-e{n}`); update/delete: required. */
  id?: string;
  /** The version this change is based on (update/delete; 0 = the built data). */
  version?: number;
  /** create/update: the whole new feature (geometry and properties). */
  feature?: { geometry: GeoJSON.Geometry; properties: Record<string, unknown> };
}

/** What the server tells the rest of the process after a commit: which layer changed where. */
export interface LayerChange {
  layer: string;
  /** The edit store's seq after the commit. */
  revision: number;
  ids: string[];
  /** Extents of the old and the new geometry of every changed feature (tiles there must be redrawn). */
  bboxes: Bbox[];
  versions: FeatureVersion[];
}

export type IssueSeverity = 'error' | 'warning';

/** A validation finding; `location` points at the offending place (WGS84) so the map can show it. */
export interface ValidationIssue {
  code: string;
  severity: IssueSeverity;
  /** Chinese first, then English. */
  message: string;
  featureId?: string;
  /** `geometry`, or `properties.<field>`. */
  path?: string;
  location?: [number, number];
}

/** Conflict answer (HTTP 409): both versions, so the planner can merge. Sent inside `error`. */
export interface VersionConflict {
  code: 'version_conflict';
  message: string;
  id: string;
  /** The version the client based its change on. */
  basedOn: number;
  /** What the client tried to save. */
  yours: EditChange;
  /** What is stored now (null feature when deleted). */
  current: { version: number; deleted: boolean; feature: EditFeature | null; actor: string; at: number } | null;
}

/** Id a created feature gets when the client gives none. */
export function newFeatureId(layer: string, seq: number): string {
  return `${layer}-e${seq}`;
}
