// Versioned schema of the incident store, one list for both engines. Each migration runs once, inside a
// transaction, and is recorded in `schema_migrations` (version, name, applied_at); opening a database
// migrated by a newer build fails instead of writing rows that build would misread (STYLE: every stored
// format has a version). Never edit a released migration: append a new one.
//
// Same columns on both engines: times are ms since epoch (INTEGER / bigint) as in model.ts; actor, data and
// detail are JSON (TEXT / jsonb); attachment bytes live in the row (BLOB / bytea) so they are committed,
// fsynced and backed up with the incident that refers to them.

export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  /** `{s}` stands for the quoted schema name. */
  postgres: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'incidents, transitions, attachments, idempotency keys, case counters, responder positions, audit log',
    sqlite: `
      CREATE TABLE incidents (
        id TEXT PRIMARY KEY, code TEXT NOT NULL UNIQUE, status TEXT NOT NULL, level TEXT NOT NULL,
        category TEXT NOT NULL, category_name TEXT NOT NULL, severity INTEGER NOT NULL, source TEXT NOT NULL,
        title TEXT NOT NULL, description TEXT NOT NULL, lon REAL NOT NULL, lat REAL NOT NULL,
        address TEXT, address_code TEXT, grid_code TEXT, village_code TEXT, town_code TEXT, department TEXT NOT NULL,
        assignee_id TEXT, handler_id TEXT, reporter TEXT NOT NULL, merged_into TEXT, deadline INTEGER,
        supervisions INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, closed_at INTEGER,
        version INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE transitions (
        incident_id TEXT NOT NULL REFERENCES incidents(id), seq INTEGER NOT NULL, action TEXT NOT NULL,
        from_status TEXT, to_status TEXT NOT NULL, actor TEXT NOT NULL, at INTEGER NOT NULL, reason TEXT,
        data TEXT NOT NULL, PRIMARY KEY (incident_id, seq)
      ) STRICT;
      CREATE TABLE attachments (
        id TEXT PRIMARY KEY, incident_id TEXT NOT NULL REFERENCES incidents(id), kind TEXT NOT NULL,
        mime TEXT NOT NULL, bytes INTEGER NOT NULL, sha256 TEXT NOT NULL, created_at INTEGER NOT NULL, data BLOB NOT NULL
      ) STRICT;
      CREATE INDEX attachments_incident ON attachments (incident_id, created_at);
      CREATE TABLE idempotency_keys (
        key TEXT PRIMARY KEY, request_hash TEXT NOT NULL, incident_id TEXT NOT NULL REFERENCES incidents(id),
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE case_counters (day TEXT PRIMARY KEY, seq INTEGER NOT NULL) STRICT;
      CREATE TABLE responder_positions (id TEXT PRIMARY KEY, lon REAL NOT NULL, lat REAL NOT NULL, at INTEGER NOT NULL) STRICT;
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
        entity TEXT NOT NULL, entity_id TEXT NOT NULL, detail TEXT NOT NULL
      ) STRICT;
      CREATE INDEX audit_entity ON audit_log (entity, entity_id, id);`,
    postgres: `
      CREATE TABLE {s}.incidents (
        id text PRIMARY KEY, code text NOT NULL UNIQUE, status text NOT NULL, level text NOT NULL,
        category text NOT NULL, category_name text NOT NULL, severity integer NOT NULL, source text NOT NULL,
        title text NOT NULL, description text NOT NULL, lon double precision NOT NULL, lat double precision NOT NULL,
        address text, address_code text, grid_code text, village_code text, town_code text, department text NOT NULL,
        assignee_id text, handler_id text, reporter jsonb NOT NULL, merged_into text, deadline bigint,
        supervisions integer NOT NULL, created_at bigint NOT NULL, updated_at bigint NOT NULL, closed_at bigint,
        version integer NOT NULL
      );
      CREATE TABLE {s}.transitions (
        incident_id text NOT NULL REFERENCES {s}.incidents(id), seq integer NOT NULL, action text NOT NULL,
        from_status text, to_status text NOT NULL, actor jsonb NOT NULL, at bigint NOT NULL, reason text,
        data jsonb NOT NULL, PRIMARY KEY (incident_id, seq)
      );
      CREATE TABLE {s}.attachments (
        id text PRIMARY KEY, incident_id text NOT NULL REFERENCES {s}.incidents(id), kind text NOT NULL,
        mime text NOT NULL, bytes integer NOT NULL, sha256 text NOT NULL, created_at bigint NOT NULL, data bytea NOT NULL
      );
      CREATE INDEX attachments_incident ON {s}.attachments (incident_id, created_at);
      -- Deferred FK: create() claims the key before inserting the incident, so racing requests with one key
      -- queue on the key's unique index instead of colliding on the incident's.
      CREATE TABLE {s}.idempotency_keys (
        key text PRIMARY KEY, request_hash text NOT NULL,
        incident_id text NOT NULL REFERENCES {s}.incidents(id) DEFERRABLE INITIALLY DEFERRED,
        created_at bigint NOT NULL
      );
      CREATE TABLE {s}.case_counters (day text PRIMARY KEY, seq integer NOT NULL);
      CREATE TABLE {s}.responder_positions (id text PRIMARY KEY, lon double precision NOT NULL, lat double precision NOT NULL, at bigint NOT NULL);
      CREATE TABLE {s}.audit_log (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at bigint NOT NULL, actor jsonb NOT NULL, action text NOT NULL,
        entity text NOT NULL, entity_id text NOT NULL, detail jsonb NOT NULL
      );
      CREATE INDEX audit_entity ON {s}.audit_log (entity, entity_id, id);`,
  },
  {
    // The list order, the per-grid/town/assignee views and the sweeper (open + deadline) each get an index.
    version: 2,
    name: 'incident list, filter and sweeper indexes',
    sqlite: `
      CREATE INDEX incidents_updated ON incidents (updated_at DESC, id);
      CREATE INDEX incidents_status_deadline ON incidents (status, deadline);
      CREATE INDEX incidents_grid ON incidents (grid_code, updated_at DESC);
      CREATE INDEX incidents_town ON incidents (town_code, updated_at DESC);
      CREATE INDEX incidents_assignee ON incidents (assignee_id) WHERE assignee_id IS NOT NULL;
      CREATE INDEX incidents_category ON incidents (category, updated_at DESC);
      CREATE INDEX incidents_lon_lat ON incidents (lon, lat);`,
    postgres: `
      CREATE INDEX incidents_updated ON {s}.incidents (updated_at DESC, id);
      CREATE INDEX incidents_status_deadline ON {s}.incidents (status, deadline);
      CREATE INDEX incidents_grid ON {s}.incidents (grid_code, updated_at DESC);
      CREATE INDEX incidents_town ON {s}.incidents (town_code, updated_at DESC);
      CREATE INDEX incidents_assignee ON {s}.incidents (assignee_id) WHERE assignee_id IS NOT NULL;
      CREATE INDEX incidents_category ON {s}.incidents (category, updated_at DESC);
      CREATE INDEX incidents_lon_lat ON {s}.incidents (lon, lat);`,
  },
];

/** The error when a database was migrated by a newer build than this one. */
export function newerSchemaError(where: string, have: number, know: number): Error {
  return new Error(`事件库 ${where} 的结构版本 ${have} 高于本程序支持的 ${know}：请升级程序，或换一个数据库文件 / ` +
    `incident database ${where} is at schema version ${have}, newer than this build knows (${know}); upgrade OneMap or use another database`);
}
