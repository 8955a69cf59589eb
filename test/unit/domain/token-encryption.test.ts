import { describe, expect, it } from 'vitest';
import {
  generateKey,
  KeyringError,
  needsRotation,
  open,
  parseKeyring,
  seal,
} from '../../../src/domain/token-encryption.ts';

const k1 = generateKey('k1');
const k2 = generateKey('k2');
const TOKEN = '1//0gExampleRefreshToken-abcdefghijklmnopqrstuvwxyz0123456789';

describe('parseKeyring', () => {
  it('reads id:key pairs, the first one current', () => {
    const ring = parseKeyring(`${k2}, ${k1}`);
    expect(ring.current).toBe('k2');
    expect([...ring.keys.keys()]).toEqual(['k2', 'k1']);
  });

  it('refuses malformed input without echoing key material', () => {
    const material = k1.split(':')[1] ?? '';
    for (const bad of [
      '',
      'k1',
      `:${material}`,
      'k1:c2hvcnQ=',
      `${k1},${k1}`,
      `bad id:${material}`,
      `k1:${material}!`,
    ]) {
      let message = '';
      try {
        parseKeyring(bad);
      } catch (err) {
        expect(err).toBeInstanceOf(KeyringError);
        message = (err as Error).message;
      }
      expect(message, bad).not.toBe('');
      expect(message).not.toContain(material);
    }
  });
});

describe('seal and open', () => {
  const ring = parseKeyring(k1);

  it('round-trips, with a fresh nonce each time, and names its key', () => {
    const a = seal(ring, TOKEN, 'row-1');
    const b = seal(ring, TOKEN, 'row-1');
    expect(a.keyId).toBe('k1');
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
    expect(open(ring, a, 'row-1')).toBe(TOKEN);
  });

  it('the sealed bytes contain nothing of the token', () => {
    const { ciphertext } = seal(ring, TOKEN, 'row-1');
    for (const encoding of ['utf8', 'latin1', 'base64', 'hex'] as const) {
      expect(ciphertext.toString(encoding)).not.toContain(TOKEN.slice(4, 20));
    }
  });

  it('does not open on another row, with tampered bytes, or without its key', () => {
    const sealed = seal(ring, TOKEN, 'row-1');
    expect(() => open(ring, sealed, 'row-2')).toThrow(KeyringError);
    const tampered = Buffer.from(sealed.ciphertext);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    expect(() => open(ring, { ...sealed, ciphertext: tampered }, 'row-1')).toThrow(KeyringError);
    expect(() => open(ring, { ...sealed, keyId: 'k9' }, 'row-1')).toThrow(KeyringError);
    expect(() => open(parseKeyring(k2), sealed, 'row-1')).toThrow(KeyringError);
    expect(() => open(ring, { ...sealed, ciphertext: Buffer.alloc(5) }, 'row-1')).toThrow(KeyringError);
  });

  it('a key id swapped onto the value does not open it with the other key', () => {
    const both = parseKeyring(`${k2},${k1}`);
    const sealed = seal(both, TOKEN, 'row-1');
    expect(() => open(both, { ...sealed, keyId: 'k1' }, 'row-1')).toThrow(KeyringError);
  });

  it('rotation: the old key still opens; values under it need re-sealing under the new one', () => {
    const old = seal(ring, TOKEN, 'row-1');
    const rotated = parseKeyring(`${k2},${k1}`);
    expect(needsRotation(rotated, old.keyId)).toBe(true);
    const resealed = seal(rotated, open(rotated, old, 'row-1'), 'row-1');
    expect(resealed.keyId).toBe('k2');
    expect(needsRotation(rotated, resealed.keyId)).toBe(false);
    expect(open(parseKeyring(k2), resealed, 'row-1')).toBe(TOKEN);
  });
});
