import { describe, expect, it } from 'vitest';
import { backoffMs, memoryStorage, Outbox } from './outbox.ts';

/** A fake incident server that honours Idempotency-Key and can drop the network or lose answers. */
function fakeServer() {
  const incidents = new Map<string, { id: string; code: string; attachments: { sha256: string }[] }>();
  const keys = new Map<string, string>();
  const s = { offline: false, loseNextAnswer: false, incidents, checkins: new Set<number>(), posts: 0 };
  const sha = async (b: Blob) => [...new Uint8Array(await crypto.subtle.digest('SHA-256', await b.arrayBuffer()))].map((x) => x.toString(16).padStart(2, '0')).join('');
  const fetch = async (url: string, init: RequestInit = {}): Promise<Response> => {
    if (s.offline) throw new TypeError('Failed to fetch');
    const json = (v: unknown, status = 200) => new Response(JSON.stringify(v), { status, headers: { 'content-type': 'application/json' } });
    let res: Response;
    if (url === '/api/incidents' && init.method === 'POST') {
      s.posts++;
      const key = (init.headers as Record<string, string>)['Idempotency-Key'];
      let id = keys.get(key);
      if (!id) { id = `i${incidents.size + 1}`; keys.set(key, id); incidents.set(id, { id, code: `SJ${id}`, attachments: [] }); }
      res = json(incidents.get(id), 201);
    } else if (/^\/api\/incidents\/[^/]+\/attachments/.test(url)) {
      const id = url.split('/')[3];
      incidents.get(id)!.attachments.push({ sha256: await sha(init.body as Blob) });
      res = json({}, 201);
    } else if (/^\/api\/incidents\/[^/]+$/.test(url)) {
      res = json(incidents.get(url.split('/')[3]));
    } else if (url === '/api/patrols/checkin') {
      const b = JSON.parse(String(init.body));
      if (b.lon > 200) return json({ error: { code: 'outside_city', message: '不在常熟市范围内' } }, 400);
      s.checkins.add(b.at);
      res = json(b, 201);
    } else res = json({ error: { code: 'not_found', message: 'no' } }, 404);
    if (s.loseNextAnswer) { s.loseNextAnswer = false; throw new TypeError('connection reset'); }
    return res;
  };
  return { s, fetch };
}

const body = { lon: 120.75, lat: 31.65, category: '1101', title: '暴露垃圾', description: '', source: 'grid' as const };
const photo = () => ({ name: 'a.png', type: 'image/png', blob: new Blob([new Uint8Array([137, 80, 78, 71, 1, 2, 3])], { type: 'image/png' }) });

describe('outbox', () => {
  it('keeps a report while offline and sends it once when back', async () => {
    const { s, fetch } = fakeServer();
    const storage = memoryStorage();
    let t = 1000;
    const box = new Outbox({ storage, fetch, now: () => t });
    s.offline = true;
    await box.enqueueReport(body, [photo()]);
    expect(await box.flush()).toBe(0);
    expect((await box.items())[0]).toMatchObject({ tries: 1, failed: false });
    s.offline = false;
    t += backoffMs(1) - 1;
    expect(await box.flush()).toBe(0); // not due yet
    expect(await box.flush({ force: true })).toBe(1);
    expect(await box.items()).toEqual([]);
    expect(s.incidents.size).toBe(1);
    expect(s.incidents.get('i1')!.attachments).toHaveLength(1);
  });

  it('a lost answer is resent with the same key and the photo is not uploaded twice', async () => {
    const { s, fetch } = fakeServer();
    const box = new Outbox({ storage: memoryStorage(), fetch });
    await box.enqueueReport(body, [photo()]);
    s.loseNextAnswer = true; // the incident is created, the phone never hears it
    await box.flush({ force: true });
    expect(await box.flush({ force: true })).toBe(1);
    expect(s.posts).toBe(2);
    expect(s.incidents.size).toBe(1);
    // now lose the photo upload's answer
    await box.enqueueReport({ ...body, title: '二' }, [photo()]);
    let n = 0;
    const lossy = async (u: string, i?: RequestInit) => { if (u.includes('/attachments') && n++ === 0) s.loseNextAnswer = true; return fetch(u, i); };
    const box2 = new Outbox({ storage: (box as unknown as { storage: ReturnType<typeof memoryStorage> }).storage, fetch: lossy });
    await box2.flush({ force: true });
    expect(await box2.flush({ force: true })).toBe(1);
    expect(s.incidents.get('i2')!.attachments).toHaveLength(1);
  });

  it('keeps a refused item as failed with the reason, and sends check-ins once', async () => {
    const { s, fetch } = fakeServer();
    const box = new Outbox({ storage: memoryStorage(), fetch });
    await box.enqueueCheckIn({ lon: 300, lat: 31.65, at: 5 });
    await box.enqueueCheckIn({ lon: 120.75, lat: 31.65, at: 6 });
    expect(await box.flush({ force: true })).toBe(1);
    const left = await box.items();
    expect(left).toHaveLength(1);
    expect(left[0]).toMatchObject({ failed: true, error: '不在常熟市范围内' });
    expect([...s.checkins]).toEqual([6]);
    expect(await box.flush({ force: true })).toBe(0);
    await box.discard(left[0].id);
    expect(await box.items()).toEqual([]);
  });

  it("sends an item only while the user who queued it is signed in", async () => {
    const { s, fetch } = fakeServer();
    let who: string | null = 'grid-1';
    const box = new Outbox({ storage: memoryStorage(), fetch, owner: () => who });
    s.offline = true;
    await box.enqueueCheckIn({ lon: 120.75, lat: 31.65, at: 7 });
    s.offline = false;
    who = 'grid-2';
    expect(await box.flush({ force: true })).toBe(0);
    expect(await box.items()).toHaveLength(1);
    who = 'grid-1';
    expect(await box.flush({ force: true })).toBe(1);
    expect([...s.checkins]).toEqual([7]);
  });
});
