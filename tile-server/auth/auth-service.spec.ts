import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthService } from './auth-service.ts';
import { generatePassword, hashPassword, verifyPassword } from './passwords.ts';
import { openSqliteUserStore } from './sqlite-user-store.ts';

const req = (cookie?: string) => ({ headers: cookie ? { cookie } : {}, rawHeaders: cookie ? ['Cookie', cookie] : [], socket: {} }) as unknown as IncomingMessage;

describe('passwords', () => {
  it('hashes with scrypt N=2^15 r=8 p=1, a 16-byte salt of its own, and verifies only the right password', async () => {
    const a = await hashPassword('correct horse'), b = await hashPassword('correct horse');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{86}$/);
    expect(a.split('$')[4]).not.toBe(b.split('$')[4]);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('correct hors', a)).toBe(false);
    expect(await verifyPassword('x', 'scrypt$1048576000$8$1$AAAA$AAAA')).toBe(false); // absurd parameters refused
  });

  it('generates 16-character demo passwords, different every time', () => {
    const pws = new Set(Array.from({ length: 50 }, generatePassword));
    expect(pws.size).toBe(50);
    for (const p of pws) expect(p).toMatch(/^[A-HJ-NP-Za-km-z2-9]{16}$/);
  });
});

describe('AuthService', () => {
  const saved = process.env.ONEMAP_SESSION_IDLE_MIN;
  afterEach(() => { if (saved === undefined) delete process.env.ONEMAP_SESSION_IDLE_MIN; else process.env.ONEMAP_SESSION_IDLE_MIN = saved; });

  it('takes the idle time from ONEMAP_SESSION_IDLE_MIN', async () => {
    process.env.ONEMAP_SESSION_IDLE_MIN = '0.5';
    let now = 1_000_000;
    const auth = new AuthService(openSqliteUserStore(':memory:'), { clock: () => now });
    try {
      expect(auth.idleMs).toBe(30_000);
      await auth.ensureDemoUsers(async () => [], 'demo-pass-123');
      const { token } = await auth.signIn('operator', 'demo-pass-123', '127.0.0.1');
      const cookie = `onemap_session=${token}`;
      now += 29_000;
      expect((await auth.resolve(req(cookie))).actor).toMatchObject({ id: 'operator', role: 'operator' });
      now += 31_000;
      await expect(auth.resolve(req(cookie))).rejects.toMatchObject({ status: 401, code: 'session_expired' });
      await expect(auth.resolve(req())).rejects.toMatchObject({ status: 401, code: 'not_signed_in' });
    } finally {
      await auth.close();
    }
  });
});
