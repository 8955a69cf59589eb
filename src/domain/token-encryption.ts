import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

// Provider tokens at rest (DESIGN "Promises": the database alone never yields a usable token).
// AES-256-GCM with a fresh 96-bit nonce per encryption; each ciphertext names the key that made it,
// so keys rotate: the keyring's first key encrypts, every key in it decrypts, and `needsRotation`
// tells which stored values to re-encrypt. The associated data binds a ciphertext to the row it
// belongs to (tenant and connection): copied onto another row, it no longer decrypts.
//
// NMC_ENCRYPTION_KEY is `<key id>:<32 bytes, base64>`, comma-separated, newest first, e.g.
// `k2:…,k1:…`. Key ids are 1–32 characters of [A-Za-z0-9_-].

export type Keyring = { current: string; keys: ReadonlyMap<string, Buffer> };

export type Sealed = { keyId: string; ciphertext: Buffer };

const VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

export class KeyringError extends Error {
  override name = 'KeyringError';
}

/** Parses NMC_ENCRYPTION_KEY; the message of a KeyringError never contains key material. */
export function parseKeyring(value: string): Keyring {
  const keys = new Map<string, Buffer>();
  let current: string | null = null;
  for (const entry of value.split(',').map((e) => e.trim())) {
    const colon = entry.indexOf(':');
    const id = colon < 0 ? '' : entry.slice(0, colon);
    if (!KEY_ID.test(id))
      throw new KeyringError('each key must be <key id>:<base64 key> with an id of [A-Za-z0-9_-]{1,32}');
    const material = entry.slice(colon + 1);
    const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(material) ? Buffer.from(material, 'base64') : Buffer.alloc(0);
    if (key.length !== 32) throw new KeyringError(`key ${id} must be 32 bytes, base64-encoded`);
    if (keys.has(id)) throw new KeyringError(`key id ${id} appears twice`);
    keys.set(id, key);
    current ??= id;
  }
  if (current === null) throw new KeyringError('no key given');
  return { current, keys };
}

/** A new random key in NMC_ENCRYPTION_KEY's format. */
export function generateKey(id: string): string {
  if (!KEY_ID.test(id)) throw new KeyringError('a key id is 1–32 characters of [A-Za-z0-9_-]');
  return `${id}:${randomBytes(32).toString('base64')}`;
}

export function seal(keyring: Keyring, plaintext: string, associatedData: string): Sealed {
  const key = keyring.keys.get(keyring.current);
  if (!key) throw new KeyringError('the current key is missing from the keyring');
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(`${VERSION}|${keyring.current}|${associatedData}`, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return {
    keyId: keyring.current,
    ciphertext: Buffer.concat([Buffer.from([VERSION]), nonce, cipher.getAuthTag(), body]),
  };
}

/** The plaintext, or throws KeyringError (unknown key id, tampered bytes, another row's value). */
export function open(keyring: Keyring, sealed: Sealed, associatedData: string): string {
  const key = keyring.keys.get(sealed.keyId);
  if (!key) throw new KeyringError(`no key ${sealed.keyId} in the keyring`);
  const bytes = sealed.ciphertext;
  if (bytes.length < 1 + NONCE_BYTES + TAG_BYTES || bytes[0] !== VERSION) {
    throw new KeyringError('not a sealed value of a known version');
  }
  const nonce = bytes.subarray(1, 1 + NONCE_BYTES);
  const tag = bytes.subarray(1 + NONCE_BYTES, 1 + NONCE_BYTES + TAG_BYTES);
  const body = bytes.subarray(1 + NONCE_BYTES + TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(`${VERSION}|${sealed.keyId}|${associatedData}`, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch (err) {
    throw new KeyringError('the sealed value does not open with its key (tampered, or another row)', {
      cause: err,
    });
  }
}

/** True when a value sealed under `keyId` should be re-sealed under the current key. */
export function needsRotation(keyring: Keyring, keyId: string): boolean {
  return keyId !== keyring.current;
}
