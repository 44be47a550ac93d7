// Versioned schema of the user store (issue 9), one list for both engines, applied by the incident store's
// migrators (one transaction each, recorded in schema_migrations). Never edit a released migration: append.
//
// users.password_hash is `scrypt$…` (tile-server/auth/passwords.ts) or the marker 'demo': a demo user created at
// first start whose password is the demo password, hashed once in auth_meta('demo_password_hash'); the user gets
// a hash of their own (own salt) at their first successful sign-in. This keeps first start fast with ~3k grid
// managers (one scrypt each would take minutes) without sharing one salt between users' stored hashes.
// sessions.token_hash is sha256(token): a stolen database does not yield usable cookies.
import type { Migration } from '../incidents/migrations.ts';

export const AUTH_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'users, sessions, auth meta',
    sqlite: `
      CREATE TABLE users (
        username TEXT PRIMARY KEY, role TEXT NOT NULL, name TEXT NOT NULL, grids TEXT, layers TEXT,
        disabled INTEGER NOT NULL DEFAULT 0, password_hash TEXT NOT NULL, failed_count INTEGER NOT NULL DEFAULT 0,
        locked_until INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY, username TEXT NOT NULL, created_at INTEGER NOT NULL, last_seen INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX sessions_user ON sessions (username);
      CREATE TABLE auth_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;`,
    postgres: `
      CREATE TABLE {s}.users (
        username text PRIMARY KEY, role text NOT NULL, name text NOT NULL, grids jsonb, layers jsonb,
        disabled boolean NOT NULL DEFAULT false, password_hash text NOT NULL, failed_count integer NOT NULL DEFAULT 0,
        locked_until bigint, created_at bigint NOT NULL, updated_at bigint NOT NULL
      );
      CREATE TABLE {s}.sessions (
        token_hash text PRIMARY KEY, username text NOT NULL, created_at bigint NOT NULL, last_seen bigint NOT NULL,
        expires_at bigint NOT NULL
      );
      CREATE INDEX sessions_user ON {s}.sessions (username);
      CREATE TABLE {s}.auth_meta (key text PRIMARY KEY, value text NOT NULL);`,
  },
  {
    // Issue 10: the user's department (owners of graded layers see them; 部门数据员 approve sharing requests for
    // their department). NULL means the default of the role (auth-service.ts defaultDepartment), so existing users
    // need no data change.
    version: 2,
    name: 'users.department',
    sqlite: `ALTER TABLE users ADD COLUMN department TEXT;`,
    postgres: `ALTER TABLE {s}.users ADD COLUMN department text;`,
  },
];
