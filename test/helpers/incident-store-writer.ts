// Child process of the store crash test: writes to the incident store in a loop and prints one line per
// acknowledged write (after the store's promise resolved, i.e. after COMMIT returned):
//   C <id>            incident created (with its first transition)
//   U <id> <version>  update committed at that version
//   A <attId> <sha256> <incidentId>  attachment stored
// The parent kills it with SIGKILL at a random moment and checks every acknowledged line against the
// reopened store. Usage: node --import tsx incident-store-writer.ts sqlite <file> | postgres <url> <schema>
import { createHash } from 'node:crypto';
import { writeSync } from 'node:fs';
import { openSqliteIncidentStore } from '../../tile-server/incidents/sqlite-store.ts';
import { openPgIncidentStore } from '../../tile-server/incidents/pg-store.ts';
import type { IncidentStore } from '../../tile-server/incidents/incident-store.ts';
import { bump, makeIncident, OPERATOR, reportTransition } from './incident-fixtures.ts';

const [engine, target, schema] = process.argv.slice(2);
const store: IncidentStore = engine === 'sqlite' ? openSqliteIncidentStore(target) : await openPgIncidentStore(target, { schema });

// writeSync: an acknowledgement must reach the pipe before the next write starts, or a kill could lose
// the line while the write it reports is durable (harmless) — never the other way round.
const ack = (line: string) => writeSync(1, line + '\n');
ack('READY');
const t0 = 1_780_000_000_000;
for (let i = 1; ; i++) {
  const id = `crash-${process.pid}-${String(i).padStart(6, '0')}`;
  let inc = makeIncident(id, { code: `SJ${process.pid}${String(i).padStart(6, '0')}`, createdAt: t0 + i, updatedAt: t0 + i });
  await store.create(inc, reportTransition(inc), { idempotencyKey: `key-${id}`, requestHash: 'h' });
  ack(`C ${id}`);
  const next = bump(inc, { status: 'registered' }, t0 + i + 1);
  inc = (await store.update(next, inc.version, { incidentId: id, action: 'register', from: 'reported', to: 'registered', actor: OPERATOR, at: t0 + i + 1, reason: null, data: {} })).incident;
  ack(`U ${id} ${inc.version}`);
  if (i % 3 === 0) {
    const data = new Uint8Array(4096 + i).map((_, k) => (k * 31 + i) & 255);
    const a = await store.addAttachment({ incidentId: id, kind: 'before', mime: 'image/png' }, data, t0 + i, OPERATOR);
    ack(`A ${a.id} ${createHash('sha256').update(data).digest('hex')} ${id}`);
  }
}
