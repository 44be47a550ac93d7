import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENC_PREFIX, FieldCipher, FieldDecryptError, loadDataKey } from './field-cipher.ts';
import { encryptedFieldsOf } from './sensitive-fields.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'onemap-cipher-'));

describe('field cipher', () => {
  const c = FieldCipher.fromKey(randomBytes(32), 'test key');

  it('round-trips values of every JSON type, with a fresh IV each time', () => {
    for (const v of ['13912345678', '张三', 42, 3.5, true, null, { a: [1] }]) {
      const s = c.encrypt(v, 'edit:grids.manager_phone');
      expect(s.startsWith(ENC_PREFIX)).toBe(true);
      expect(s).not.toContain(String(v));
      expect(c.decrypt(s, 'edit:grids.manager_phone')).toEqual(v);
    }
    expect(c.encrypt('x', 'k')).not.toBe(c.encrypt('x', 'k'));
    // iv 12 + tag 16 + ciphertext of "\"x\"" (3 bytes)
    expect(Buffer.from(c.encrypt('x', 'k').slice(ENC_PREFIX.length), 'base64').length).toBe(12 + 16 + 3);
  });

  it('gives the same value on a repeated read, and a fresh copy of an object each time', () => {
    const s = c.encrypt({ a: [1] }, 'k');
    const first = c.decrypt(s, 'k') as { a: number[] };
    first.a.push(2);
    expect(c.decrypt(s, 'k')).toEqual({ a: [1] });
    const t = c.encrypt('张三', 'k');
    expect([c.decrypt(t, 'k'), c.decrypt(t, 'k')]).toEqual(['张三', '张三']);
    expect(() => c.decrypt(t, 'other')).toThrow(FieldDecryptError); // a cached read is still bound to its context
  });

  it('refuses a value moved to another context, tampered with, or read with another key — naming the key source', () => {
    const s = c.encrypt('13912345678', 'edit:grids.manager_phone');
    expect(() => c.decrypt(s, 'edit:grids.manager_name')).toThrow(FieldDecryptError);
    const raw = Buffer.from(s.slice(ENC_PREFIX.length), 'base64');
    raw[raw.length - 1] ^= 1;
    expect(() => c.decrypt(ENC_PREFIX + raw.toString('base64'), 'edit:grids.manager_phone')).toThrow(FieldDecryptError);
    const other = FieldCipher.fromKey(randomBytes(32), 'ONEMAP_DATA_KEY');
    expect(() => other.decrypt(s, 'edit:grids.manager_phone')).toThrow(/ONEMAP_DATA_KEY.*指纹|fingerprint/);
    expect(c.open('plain', 'x')).toBe('plain');
  });

  it('creates the key file once, mode 0600, and reads the same key again', () => {
    const file = join(tmp(), 'keys', 'data.key');
    const a = loadDataKey({}, file);
    expect(a.source).toBe(`file ${file}`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const b = loadDataKey({}, file);
    expect(b.key.equals(a.key)).toBe(true);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64').length).toBe(32);
  });

  it('takes ONEMAP_DATA_KEY first and checks it, and never invents a key for a named file that is missing', () => {
    const k = randomBytes(32);
    expect(loadDataKey({ ONEMAP_DATA_KEY: k.toString('base64') }, '/nonexistent/x').key.equals(k)).toBe(true);
    expect(() => loadDataKey({ ONEMAP_DATA_KEY: randomBytes(16).toString('base64') })).toThrow(/ONEMAP_DATA_KEY.*32/);
    expect(() => loadDataKey({ ONEMAP_DATA_KEY_FILE: join(tmp(), 'missing.key') })).toThrow(/ONEMAP_DATA_KEY_FILE/);
    const file = join(tmp(), 'given.key');
    writeFileSync(file, `${k.toString('base64')}\n`, { mode: 0o600 });
    expect(loadDataKey({ ONEMAP_DATA_KEY_FILE: file }).key.equals(k)).toBe(true);
  });

  it('loads the key only when a value is first encrypted or decrypted', () => {
    // The named key file is missing: opening the cipher and reading plain values must still work.
    const lazy = FieldCipher.fromEnv({ ONEMAP_DATA_KEY_FILE: join(tmp(), 'absent.key') });
    expect(lazy.open('plain', 'x')).toBe('plain');
    expect(() => lazy.encrypt('x', 'k')).toThrow(/absent\.key/);
  });
});

describe('encrypted fields', () => {
  it('are the personal and sensitive/core-graded fields of a layer', () => {
    expect([...encryptedFieldsOf('grids')].sort()).toEqual(['manager_name', 'manager_phone']);
    expect([...encryptedFieldsOf('responders')].sort()).toEqual(['name', 'phone']);
    expect(encryptedFieldsOf('facilities').size).toBe(0);
    expect(encryptedFieldsOf('no_such_layer').size).toBe(0);
  });
});
