// Encryption at rest of the fields graded sensitive or core (issue 10 item 3), on SQLite and PostgreSQL: the raw
// rows of the edit store (edited features' personal properties) and of the incident store (the people's names on
// an incident, its timeline and audit rows) hold `enc:v1:` values and never the plain text; the stores and the API
// give the plain values back; a store opened with another key fails with an error naming where its key came from.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EditFeature } from '../layers/editing/model.ts';
import { openFlatGeobuf } from '../layers/formats/flatgeobuf.ts';
import { FieldCipher, FieldDecryptError } from '../tile-server/crypto/field-cipher.ts';
import { EditConflictError, openEditStore, type EditStore } from '../tile-server/editing/edit-store.ts';
import { openIncidentStore, type IncidentStore } from '../tile-server/incidents/incident-store.ts';
import { DATA_DIR, startTestServer, type TestServer } from './helpers/browser.ts';
import { createFreshDatabase } from './helpers/fresh-pg.ts';
import { bump, makeIncident, reportTransition } from './helpers/incident-fixtures.ts';
import { asUser } from './helpers/session.ts';
import { useStoreTargets } from './helpers/store-targets.ts';

const K1 = FieldCipher.fromKey(randomBytes(32), 'the test key K1');
const K2 = FieldCipher.fromKey(randomBytes(32), 'ONEMAP_DATA_KEY_FILE /wrong/data.key');
const NAME = '欧阳测试', PHONE = '13987654321', REPORTER = '王某某（群众）';

const grid = (() => {
  const f = openFlatGeobuf(readFileSync(join(DATA_DIR, 'grids.fgb'))).feature(0);
  return { type: 'Feature', id: String(f.properties!.id), geometry: f.geometry, properties: { ...f.properties } } as EditFeature;
})();

const targets = useStoreTargets('fieldenc');

interface Target { kind: string; raw(sql: string): Promise<string>; edit(cipher: FieldCipher): Promise<EditStore>; incidents(cipher: FieldCipher): Promise<IncidentStore> }
let pgDb: { url: string; drop(): Promise<void> } | undefined;
afterAll(async () => { await pgDb?.drop(); });

const TARGETS: { name: string; make(): Promise<Target> }[] = [{
  name: 'SQLite',
  make: async () => {
    const edits = targets.sqliteFile('edits'), inc = targets.sqliteFile('incidents');
    return {
      kind: 'sqlite',
      // Every column of the rows, as text: what a copy of the file would give away.
      raw: async (sql) => {
        const db = new Database(sql.includes('feature_versions') ? edits : inc, { readonly: true });
        try { return JSON.stringify(db.prepare(sql.replaceAll('{s}.', '')).all()); } finally { db.close(); }
      },
      edit: (cipher) => openEditStore({ file: edits, cipher }),
      incidents: (cipher) => openIncidentStore({ file: inc, cipher }),
    };
  },
}, {
  name: 'PostgreSQL',
  make: async () => {
    pgDb = await createFreshDatabase(targets.requirePg(), 'onemap_fieldenc');
    const url = pgDb.url;
    return {
      kind: 'postgres',
      raw: async (sql) => {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          const schema = sql.includes('feature_versions') ? 'editing' : 'ops';
          return JSON.stringify((await c.query(sql.replaceAll('{s}.', `${schema}.`))).rows);
        } finally { await c.end(); }
      },
      edit: (cipher) => openEditStore({ databaseUrl: url, cipher }),
      incidents: (cipher) => openIncidentStore({ databaseUrl: url, cipher }),
    };
  },
}];

for (const t of TARGETS) {
  describe.skipIf(t.name === 'PostgreSQL' && !targets.withPostgres)(`field encryption on ${t.name}`, () => {
    let target: Target;
    beforeAll(async () => { target = await t.make(); });

    it('stores an edited feature\'s personal fields encrypted and gives them back plain', async () => {
      const store = await target.edit(K1);
      try {
        const next: EditFeature = { ...grid, properties: { ...grid.properties, manager_name: NAME, manager_phone: PHONE } };
        const [v] = await store.commit([{ layer: 'grids', id: grid.id, expectVersion: 0, next, op: 'update', actor: 'planner:p' }], 1000);
        expect(v.feature?.properties).toMatchObject({ manager_name: NAME, manager_phone: PHONE });

        const raw = await target.raw(`SELECT * FROM {s}.feature_versions`);
        expect(raw).not.toContain(NAME);
        expect(raw).not.toContain(PHONE);
        expect(raw).toContain('enc:v1:');
        expect(raw).toContain(String(grid.properties.code)); // fields not graded sensitive stay plain (searchable, small)

        for (const f of [(await store.latest('grids', grid.id))!, (await store.current('grids'))[0], (await store.history('grids', grid.id))[0], (await store.changesSince(0, 10))[0]]) {
          expect(f.feature?.properties).toEqual(next.properties);
        }
        // A conflict hands the stored version to the client to merge: plain too.
        const err = await store.commit([{ layer: 'grids', id: grid.id, expectVersion: 0, next, op: 'update', actor: 'planner:q' }], 2000).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(EditConflictError);
        expect((err as EditConflictError).current?.feature?.properties.manager_phone).toBe(PHONE);
      } finally {
        await store.close();
      }
    });

    it('refuses to read the edits with another key, saying where the key came from', async () => {
      const store = await target.edit(K2);
      try {
        const err = await store.latest('grids', grid.id).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(FieldDecryptError);
        expect((err as Error).message).toContain('ONEMAP_DATA_KEY_FILE /wrong/data.key');
        expect((err as Error).message).toContain(K2.keyId);
      } finally {
        await store.close();
      }
    });

    it('stores the names on an incident, its timeline and audit rows encrypted and gives them back plain', async () => {
      const store = await target.incidents(K1);
      const reporter = { id: 'citizen-1', role: 'grid_manager' as const, name: REPORTER };
      const handler = { id: 'gm-9', role: 'grid_manager' as const, name: NAME };
      try {
        const inc = makeIncident('00000000-0000-4000-8000-0000000000e1', { reporter });
        const created = await store.create(inc, reportTransition(inc, reporter));
        expect(created.incident.reporter.name).toBe(REPORTER);
        const next = bump(inc, { status: 'registered' }, inc.createdAt + 1000);
        const u = await store.update(next, 1, { incidentId: inc.id, action: 'register', from: 'reported', to: 'registered', actor: handler, at: next.updatedAt, reason: null, data: {} });
        expect(u.transition.actor.name).toBe(NAME);

        for (const table of ['incidents', 'transitions', 'audit_log']) {
          const raw = await target.raw(`SELECT * FROM {s}.${table}`);
          expect(raw, table).not.toContain(REPORTER);
          expect(raw, table).not.toContain(NAME);
          expect(raw, table).toContain('enc:v1:');
          expect(raw, table).toContain(table === 'incidents' ? 'citizen-1' : 'gm-9'); // ids and roles stay plain
        }
        expect((await store.get(inc.id))?.reporter).toEqual(reporter);
        expect((await store.list({ limit: 10 })).items[0].reporter.name).toBe(REPORTER);
        expect((await store.transitions(inc.id)).map((x) => x.actor.name)).toEqual([REPORTER, NAME]);
        expect((await store.auditLog({ entityId: inc.id, limit: 10 })).map((e) => e.actor.name).sort()).toEqual([NAME, REPORTER].sort());
      } finally {
        await store.close();
      }
      const wrong = await target.incidents(K2);
      try {
        await expect(wrong.get('00000000-0000-4000-8000-0000000000e1')).rejects.toThrow(/ONEMAP_DATA_KEY_FILE \/wrong\/data\.key/);
      } finally {
        await wrong.close();
      }
    });
  });
}

describe('field encryption through the API (the server\'s own key)', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ webDir: join(DATA_DIR, 'no-web'), requireData: ['grids.fgb', 'roads.fgb'], server: { purgeIntervalMs: 0, telemetry: false } });
  });
  afterAll(async () => { await srv?.close(); });

  it('an edited phone number and a reporter\'s name are plain in the API and absent from the database files', async () => {
    const admin = { ...await asUser(srv.url, 'admin'), 'content-type': 'application/json' };
    const props = { ...grid.properties, manager_name: NAME, manager_phone: PHONE };
    const put = await fetch(`${srv.url}/api/layers/grids/features/${grid.id}`, { method: 'PUT', headers: admin, body: JSON.stringify({ feature: { geometry: grid.geometry, properties: props }, version: 0 }) });
    expect(put.status, await put.clone().text()).toBe(200);
    const got = await (await fetch(`${srv.url}/api/layers/grids/features/${grid.id}`, { headers: admin })).json() as { feature: EditFeature };
    expect(got.feature.properties).toMatchObject({ manager_name: NAME, manager_phone: PHONE });

    const op = { ...await asUser(srv.url, 'operator'), 'content-type': 'application/json' };
    const me = await (await fetch(`${srv.url}/api/session`, { headers: op })).json() as { user: { name: string } };
    const post = await fetch(`${srv.url}/api/incidents`, { method: 'POST', headers: op, body: JSON.stringify({ lon: 120.75, lat: 31.65, category: '0101', title: '井盖缺失', description: '加密测试', source: 'hotline' }) });
    expect(post.status, await post.clone().text()).toBe(201);
    const incident = await post.json() as { id: string; reporter: { name: string } };
    expect(incident.reporter.name).toBe(me.user.name);
    const read = await (await fetch(`${srv.url}/api/incidents/${incident.id}`, { headers: op })).json() as { incident?: { reporter: { name: string } }; reporter?: { name: string } };
    expect((read.incident ?? read).reporter?.name).toBe(me.user.name);

    const dump = (file: string, sql: string) => {
      const db = new Database(join(srv.dir, file), { readonly: true });
      try { return JSON.stringify(db.prepare(sql).all()); } finally { db.close(); }
    };
    const edits = dump('edits.sqlite', 'SELECT * FROM feature_versions');
    expect(edits).toContain('enc:v1:');
    expect(edits).not.toContain(PHONE);
    expect(edits).not.toContain(NAME);
    for (const table of ['incidents', 'transitions', 'audit_log']) {
      const rows = dump('incidents.sqlite', `SELECT * FROM ${table}`);
      expect(rows, table).toContain('enc:v1:');
      expect(rows, table).not.toContain(me.user.name);
    }
  });
});
