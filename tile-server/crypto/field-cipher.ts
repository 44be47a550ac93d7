// Encryption at rest of single field values (issue 10 item 3: fields graded sensitive or core, keys outside the
// repository). AES-256-GCM (NIST SP 800-38D) with a fresh 96-bit IV per value; a value is stored as
//   enc:v1:<base64 of iv (12 bytes) | tag (16 bytes) | ciphertext>
// where the plaintext is the value's JSON (so numbers and booleans come back as themselves) and the additional
// authenticated data is the value's context (e.g. `edit:hazards.contact_phone`): a ciphertext copied into another
// field or table does not decrypt. `v1` is the format's version (STYLE: every stored format has one).
//
// The key (32 bytes) comes from ONEMAP_DATA_KEY (base64), else the file ONEMAP_DATA_KEY_FILE, else var/keys/data.key
// (git-ignored), created at first use with mode 0600. It is read when a value is first encrypted or decrypted, so a
// store that never meets a sensitive value never creates a key. Losing the key loses the encrypted values: back it
// up apart from the database (a stolen backup of the database alone then yields no personal data).
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ENC_PREFIX = 'enc:v1:';
const IV_BYTES = 12, TAG_BYTES = 16, KEY_BYTES = 32;
const RECENT_MAX = 20_000;
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_KEY_FILE = resolve(REPO_ROOT, 'var/keys/data.key');

/** A value that does not decrypt with the key in use (another key, or a damaged value). Callers may catch it. */
export class FieldDecryptError extends Error {
  constructor(readonly context: string, readonly keySource: string, readonly keyId: string) {
    super(`无法解密字段 ${context}：当前密钥（来源 ${keySource}，指纹 ${keyId}）不是加密时使用的密钥，或密文已损坏。` +
      `请设置加密时的同一密钥（ONEMAP_DATA_KEY 或 ONEMAP_DATA_KEY_FILE）。` +
      `Cannot decrypt ${context} with the data key from ${keySource} (fingerprint ${keyId}): the value was encrypted with another key ` +
      `or is damaged. Set the key it was encrypted with (ONEMAP_DATA_KEY or ONEMAP_DATA_KEY_FILE).`);
    this.name = 'FieldDecryptError';
  }
}

export interface DataKey {
  key: Buffer;
  /** Where it came from, for messages: `ONEMAP_DATA_KEY` or `file /path`. */
  source: string;
  /** First 8 hex digits of sha256(key): names the key in messages without revealing it. */
  id: string;
}

const keyId = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 8);

function decodeKey(text: string, source: string): Buffer {
  const t = text.trim();
  const key = /^[A-Za-z0-9+/]+={0,2}$/.test(t) ? Buffer.from(t, 'base64') : Buffer.alloc(0);
  if (key.length !== KEY_BYTES) {
    throw new Error(`数据密钥（${source}）须为 32 字节的 base64（44 个字符），可用 \`openssl rand -base64 32\` 生成。` +
      `The data key from ${source} must be base64 of 32 bytes (44 characters), e.g. from \`openssl rand -base64 32\`.`);
  }
  return key;
}

/**
 * The data key: ONEMAP_DATA_KEY, else ONEMAP_DATA_KEY_FILE, else `defaultFile`; a missing file is created (0600)
 * with a new random key. Creation is a link of a fully written temporary file, so two processes starting at once
 * end up with the same key (the loser reads the winner's file).
 */
export function loadDataKey(env: Readonly<Record<string, string | undefined>> = process.env, defaultFile = DEFAULT_KEY_FILE,
  warn: (m: string) => void = (m) => console.error(m)): DataKey {
  if (env.ONEMAP_DATA_KEY) {
    const key = decodeKey(env.ONEMAP_DATA_KEY, 'ONEMAP_DATA_KEY');
    return { key, source: 'ONEMAP_DATA_KEY', id: keyId(key) };
  }
  const file = resolve(env.ONEMAP_DATA_KEY_FILE || defaultFile);
  const source = `file ${file}`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`无法读取数据密钥文件 ${file}：${(e as Error).message}。Cannot read the data key file ${file}.`);
    }
    if (env.ONEMAP_DATA_KEY_FILE) {
      // A named file that is missing is a mistake (a wrong path would otherwise mint a new key and orphan the data).
      throw new Error(`数据密钥文件不存在：ONEMAP_DATA_KEY_FILE=${file}。请指向已有密钥，或取消该变量以使用 var/keys/data.key。` +
        `The data key file ONEMAP_DATA_KEY_FILE=${file} does not exist: point it at the existing key, or unset it.`);
    }
    text = createKeyFile(file);
  }
  const key = decodeKey(text, source);
  try {
    if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) {
      warn(`[crypto] 数据密钥文件 ${file} 可被其他用户读取；请执行 chmod 600。The data key file is readable by others: chmod 600 it.`);
    }
  } catch { /* stat after a successful read: nothing useful to add */ }
  return { key, source, id: keyId(key) };
}

function createKeyFile(file: string): string {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const text = `${randomBytes(KEY_BYTES).toString('base64')}\n`;
  const fd = openSync(tmp, 'wx', 0o600);
  try { writeSync(fd, text); } finally { closeSync(fd); }
  try {
    linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return readFileSync(file, 'utf8'); // another process made it first: use theirs
  } finally {
    unlinkSync(tmp);
  }
  return text;
}

/** Encrypts and decrypts single values. The key is loaded by `load` at first use and kept. */
export class FieldCipher {
  private k: DataKey | undefined;
  private readonly recent = new Map<string, unknown>();
  private constructor(private readonly load: () => DataKey) {}

  /** A fixed key (tests, tools). */
  static fromKey(key: Buffer, source = 'a key given in code'): FieldCipher {
    if (key.length !== KEY_BYTES) throw new Error(`data key must be ${KEY_BYTES} bytes (got ${key.length})`);
    const k = { key: Buffer.from(key), source, id: keyId(key) };
    return new FieldCipher(() => k);
  }

  /** The key from the environment (see loadDataKey), read at first use. */
  static fromEnv(env: Readonly<Record<string, string | undefined>> = process.env, defaultFile = DEFAULT_KEY_FILE): FieldCipher {
    return new FieldCipher(() => loadDataKey(env, defaultFile));
  }

  private get dataKey(): DataKey {
    return (this.k ??= this.load());
  }

  /** Where the key comes from (loads it). */
  get keySource(): string { return this.dataKey.source; }
  get keyId(): string { return this.dataKey.id; }

  static isEncrypted(v: unknown): v is string {
    return typeof v === 'string' && v.startsWith(ENC_PREFIX);
  }

  encrypt(value: unknown, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const c = createCipheriv('aes-256-gcm', this.dataKey.key, iv);
    c.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([c.update(JSON.stringify(value ?? null), 'utf8'), c.final()]);
    return ENC_PREFIX + Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
  }

  /** The value `encrypt` was given; FieldDecryptError when the key or context differ or the value is damaged. */
  decrypt(stored: string, context: string): unknown {
    // Rows are read again and again (incident lists, the edit feed) with the same ciphertexts; a decryption costs
    // ~20 µs (a cipher object per value), so recent results are kept. The plain values are in memory anyway.
    const cacheKey = `${context}\u0000${stored}`;
    let v = this.recent.get(cacheKey);
    if (v === undefined) {
      v = this.decryptUncached(stored, context);
      if (this.recent.size >= RECENT_MAX) this.recent.clear();
      this.recent.set(cacheKey, v);
    }
    return typeof v === 'object' && v !== null ? structuredClone(v) : v; // callers may change what they get
  }

  private decryptUncached(stored: string, context: string): unknown {
    const k = this.dataKey;
    const raw = Buffer.from(stored.slice(ENC_PREFIX.length), 'base64');
    if (!stored.startsWith(ENC_PREFIX) || raw.length < IV_BYTES + TAG_BYTES) throw new FieldDecryptError(context, k.source, k.id);
    try {
      const d = createDecipheriv('aes-256-gcm', k.key, raw.subarray(0, IV_BYTES));
      d.setAAD(Buffer.from(context, 'utf8'));
      d.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const text = Buffer.concat([d.update(raw.subarray(IV_BYTES + TAG_BYTES)), d.final()]).toString('utf8');
      return JSON.parse(text) as unknown;
    } catch {
      throw new FieldDecryptError(context, k.source, k.id);
    }
  }

  /** Decrypts `v` when it is an encrypted value, else returns it as it is (data stored before encryption). */
  open(v: unknown, context: string): unknown {
    return FieldCipher.isEncrypted(v) ? this.decrypt(v, context) : v;
  }
}
