// Versioned schema of the edit store (issue 8), one list for both engines; applied by the incident store's
// migrators (tile-server/incidents/{sqlite,pg}-store.ts: one transaction each, recorded in schema_migrations,
// refusing a database migrated by a newer build). Never edit a released migration: append a new one.
//
// feature_versions is the whole history: one row per version of a feature, `seq` the store-wide commit order
// (the change feed's cursor); the latest row of (layer, id) is the current state. UNIQUE (layer, id, version)
// is the last line of defence against two writers storing the same version; the stores also serialise
// commits (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory transaction lock) so seq order = commit order and
// a reader of changesSince() can never see seq n+1 before seq n.
import type { Migration } from '../incidents/migrations.ts';

export const EDIT_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'feature versions and the edit audit log',
    sqlite: `
      CREATE TABLE feature_versions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, layer TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
        deleted INTEGER NOT NULL, feature TEXT, op TEXT NOT NULL, actor TEXT NOT NULL, at INTEGER NOT NULL, comment TEXT,
        UNIQUE (layer, id, version)
      ) STRICT;
      CREATE TABLE edit_audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
        layer TEXT, id TEXT, detail TEXT NOT NULL
      ) STRICT;
      CREATE INDEX edit_audit_layer ON edit_audit (layer, seq);
      CREATE INDEX edit_audit_actor ON edit_audit (actor, seq);
      CREATE INDEX edit_audit_at ON edit_audit (at);`,
    postgres: `
      CREATE TABLE {s}.feature_versions (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, layer text NOT NULL, id text NOT NULL, version integer NOT NULL,
        deleted boolean NOT NULL, feature jsonb, op text NOT NULL, actor text NOT NULL, at bigint NOT NULL, comment text,
        UNIQUE (layer, id, version)
      );
      CREATE TABLE {s}.edit_audit (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at bigint NOT NULL, actor text NOT NULL, action text NOT NULL,
        layer text, id text, detail jsonb NOT NULL
      );
      CREATE INDEX edit_audit_layer ON {s}.edit_audit (layer, seq);
      CREATE INDEX edit_audit_actor ON {s}.edit_audit (actor, seq);
      CREATE INDEX edit_audit_at ON {s}.edit_audit (at);`,
  },
];
