// Password hashing with scrypt (RFC 7914), memory-hard, from node:crypto — no extra dependency.
// N=2^15, r=8, p=1 (128·N·r = 32 MiB per hash), 64-byte key, 16-byte random salt; stored self-describing as
// `scrypt$N$r$p$salt$hash` (base64url) so the parameters can be raised later without breaking stored hashes.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export const SCRYPT = { N: 1 << 15, r: 8, p: 1, keyLen: 64, saltLen: 16 } as const;

function derive(password: string, salt: Buffer, keyLen: number, o: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keyLen, { ...o, maxmem: 256 * o.N! * o.r! }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SCRYPT.saltLen);
  const key = await derive(password, salt, SCRYPT.keyLen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** False for a wrong password and for anything that is not a stored scrypt hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(stored);
  if (!m) return false;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Refuse parameters that would let a tampered row exhaust memory or CPU.
  if (N < 2 || N > 1 << 20 || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) return false;
  const expected = Buffer.from(m[5], 'base64url');
  if (expected.length < 16) return false;
  const key = await derive(password, Buffer.from(m[4], 'base64url'), expected.length, { N, r, p });
  return timingSafeEqual(key, expected);
}

/** A password for the demo users: 16 characters from crypto.randomBytes (≈ 95 bits). */
export function generatePassword(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789'; // no 0/O, 1/l/I
  const bytes = randomBytes(32);
  let out = '';
  // Rejection sampling keeps every character equally likely (57 does not divide 256).
  for (let i = 0; out.length < 16; i++) {
    const b = i < bytes.length ? bytes[i] : randomBytes(1)[0];
    if (b < 57 * 4) out += alphabet[b % 57];
  }
  return out;
}

/** Users' passwords: 8–200 characters. */
export function checkPasswordPolicy(pw: unknown): string | null {
  if (typeof pw !== 'string') return '密码须为文本。The password must be text.';
  if ([...pw].length < 8 || [...pw].length > 200) return '密码须为 8–200 个字符。The password must be 8–200 characters.';
  return null;
}
