// Child process of the edit-store race test: opens the store, prints READY, waits for a line on stdin, then
// commits version 1 of `race-{0..n-1}` (expecting version 0) as fast as it can and prints one JSON line
// { won: ids, lost: ids }. Two of these racing on one database must split every id: exactly one winner each.
// Usage: node --import tsx edit-store-racer.ts sqlite <file> <label> <n> | postgres <url> <label> <n> <schema>
import { openSqliteEditStore } from '../../tile-server/editing/sqlite-edit-store.ts';
import { openPgEditStore } from '../../tile-server/editing/pg-edit-store.ts';
import { EditConflictError, type EditStore } from '../../tile-server/editing/edit-store.ts';

const [engine, target, label, nArg, schema] = process.argv.slice(2);
const store: EditStore = engine === 'sqlite' ? openSqliteEditStore(target) : await openPgEditStore(target, { schema });
process.stdout.write('READY\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
const won: string[] = [], lost: string[] = [];
for (let i = 0; i < Number(nArg); i++) {
  const id = `race-${i}`;
  try {
    await store.commit([{
      layer: 'facilities', id, expectVersion: 0, op: 'create', actor: `planner:${label}`,
      next: { type: 'Feature', id, geometry: { type: 'Point', coordinates: [120.7, 31.6] }, properties: { id, name: label } },
    }], Date.now());
    won.push(id);
  } catch (e) {
    if (!(e instanceof EditConflictError)) throw e;
    lost.push(id);
  }
}
process.stdout.write(JSON.stringify({ won, lost }) + '\n');
await store.close();
process.stdin.destroy();
