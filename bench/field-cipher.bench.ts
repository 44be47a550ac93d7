// What encryption at rest (tile-server/crypto, issue 10) costs where it is read most: listing incidents, whose
// reporter names are decrypted on every read. Seeded: 2000 incidents with 300 distinct reporters in an in-memory
// SQLite incident store; list 1000 of them, the same store opened plain (the peer) and encrypted, first read (every
// name decrypted) and repeated reads (the cipher's recent-values cache). Run: npx tsx bench/field-cipher.bench.ts
// (a few seconds). Ratio = plain time / encrypted time: below 1 is the price of encryption.
import { randomBytes } from 'node:crypto';
import { createRng } from '../scripts/data/rng.ts';
import type { Actor, Incident, Transition } from '../layers/incidents/model.ts';
import { FieldCipher } from '../tile-server/crypto/field-cipher.ts';
import { encryptingIncidentStore } from '../tile-server/crypto/encrypted-incident-store.ts';
import { openSqliteIncidentStore } from '../tile-server/incidents/sqlite-store.ts';
import type { IncidentStore } from '../tile-server/incidents/incident-store.ts';

const SEED = 20261129, N = 2000, PAGE = 1000, REPEAT = 30;
const rng = createRng(SEED).fork('field-cipher-bench');
const reporters: Actor[] = Array.from({ length: 300 }, (_, i) => ({ id: `gm-${i}`, role: 'grid_manager', name: `网格员${String.fromCharCode(0x4e00 + Math.floor(rng.next() * 2000))}${i}` }));

async function fill(store: IncidentStore): Promise<void> {
  const r = createRng(SEED).fork('incidents');
  for (let i = 0; i < N; i++) {
    const t = 1_780_000_000_000 + i * 60_000;
    const reporter = reporters[Math.floor(r.next() * reporters.length)];
    const inc: Incident = {
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, code: `SJ${i}`, status: 'reported', level: 'grid', category: '0101',
      categoryName: '井盖破损或缺失', severity: 3, source: 'grid', title: '井盖缺失', description: '基准', lon: 120.7 + r.next() * 0.2, lat: 31.6 + r.next() * 0.1,
      address: null, addressCode: null, gridCode: null, villageCode: null, townCode: null, department: 'urban', assigneeId: null, handlerId: null,
      reporter, mergedInto: null, deadline: null, supervisions: 0, createdAt: t, updatedAt: t, closedAt: null, version: 1,
    };
    const first: Transition = { incidentId: inc.id, seq: 1, action: 'report', from: null, to: 'reported', actor: reporter, at: t, reason: null, data: {} };
    await store.create(inc, first);
  }
}

async function time(store: IncidentStore, times: number): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    const r = await store.list({ limit: PAGE });
    ms.push(performance.now() - t0);
    if (r.items.length !== PAGE || !r.items[0].reporter.name?.startsWith('网格员')) throw new Error('list returned the wrong page');
  }
  ms.sort((a, b) => a - b);
  return ms[Math.floor(ms.length / 2)];
}

const plain = openSqliteIncidentStore(':memory:');
console.error(`filling ${N} incidents twice …`);
await fill(plain);
const key = randomBytes(32);
const engine = openSqliteIncidentStore(':memory:');
await fill(encryptingIncidentStore(engine, FieldCipher.fromKey(key)));
await time(plain, 5); // warm the statement cache and the pages
const plainMs = await time(plain, REPEAT);
// A first read decrypts every name (a new cipher has an empty cache); later reads find them in its cache.
const colds: number[] = [];
for (let i = 0; i < 9; i++) colds.push(await time(encryptingIncidentStore(engine, FieldCipher.fromKey(key)), 1));
colds.sort((a, b) => a - b);
const coldMs = colds[4];
const enc = encryptingIncidentStore(engine, FieldCipher.fromKey(key));
await time(enc, 1);
const warmMs = await time(enc, REPEAT);
console.error(`list ${PAGE} of ${N}: plain ${plainMs.toFixed(2)} ms, encrypted first read ${coldMs.toFixed(2)} ms, repeated ${warmMs.toFixed(2)} ms`);
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
console.log(`BENCH\tincident list of ${PAGE}, reporter names encrypted, first read\t${coldMs.toFixed(2)} ms\tsame store unencrypted\t${plainMs.toFixed(2)} ms\t${ratio(plainMs, coldMs)}\tplain/encrypted time; <1 = the cost of decrypting ${PAGE} names`);
console.log(`BENCH\tincident list of ${PAGE}, reporter names encrypted, repeated read\t${warmMs.toFixed(2)} ms\tsame store unencrypted\t${plainMs.toFixed(2)} ms\t${ratio(plainMs, warmMs)}\tplain/encrypted time; recent-values cache`);
await plain.close();
await engine.close();
