import { type Keyring, KeyringError, needsRotation, open, seal } from '../../domain/token-encryption.ts';
import type { Queryable } from '../../persistence/db.ts';
import {
  type CalendarConnection,
  listAllConnections,
  updateConnectionToken,
} from '../../persistence/repositories/scheduling/calendar-connections.ts';

// Sealing and opening a connection's refresh token. The associated data binds the ciphertext to
// its row (tenant and connection id): bytes copied onto another row do not open.

const bindingOf = (tenantId: string, connectionId: string) =>
  `calendar-connection|${tenantId}|${connectionId}`;

export function sealRefreshToken(keyring: Keyring, tenantId: string, connectionId: string, token: string) {
  return seal(keyring, token, bindingOf(tenantId, connectionId));
}

export function openRefreshToken(keyring: Keyring, connection: CalendarConnection): string {
  return open(
    keyring,
    { keyId: connection.token_key_id, ciphertext: connection.token_ciphertext },
    bindingOf(connection.tenant_id, connection.id),
  );
}

/**
 * Seals `token` under the keyring's current key onto the connection's row, only if the row still
 * holds the key id read (a connection changed meanwhile is left alone). Answers whether it did.
 */
async function storeSealed(
  db: Queryable,
  keyring: Keyring,
  connection: CalendarConnection,
  token: string,
): Promise<boolean> {
  const sealed = sealRefreshToken(keyring, connection.tenant_id, connection.id, token);
  return updateConnectionToken(db, {
    tenantId: connection.tenant_id,
    id: connection.id,
    fromKeyId: connection.token_key_id,
    tokenKeyId: sealed.keyId,
    tokenCiphertext: sealed.ciphertext,
  });
}

/**
 * Stores a provider's successor of a rotated refresh token in place of the old one, on every
 * connection of that provider that held the old one. The update is conditional on the key id
 * read, like rotation's: a connection changed meanwhile is left alone.
 */
export async function storeRotatedToken(
  db: Queryable,
  keyring: Keyring,
  provider: CalendarConnection['provider'],
  previous: string,
  next: string,
): Promise<number> {
  let stored = 0;
  for (const connection of await listAllConnections(db)) {
    if (connection.provider !== provider) continue;
    let token: string;
    try {
      token = openRefreshToken(keyring, connection);
    } catch (err) {
      if (err instanceof KeyringError) continue;
      throw err;
    }
    if (token !== previous) continue;
    if (await storeSealed(db, keyring, connection, next)) stored += 1;
  }
  return stored;
}

/**
 * Re-seals every token not sealed under the keyring's current key (after a new key was put first
 * in NMC_ENCRYPTION_KEY). `unreadable` counts tokens no key of the keyring opens (their key was
 * dropped too early): they are left as they are, and their owners must reconnect. The old key can
 * go once `rotated` and `unreadable` stay 0.
 */
export async function rotateTokens(
  db: Queryable,
  keyring: Keyring,
): Promise<{ rotated: number; unreadable: number }> {
  let rotated = 0;
  let unreadable = 0;
  for (const connection of await listAllConnections(db)) {
    if (!needsRotation(keyring, connection.token_key_id)) continue;
    let token: string;
    try {
      token = openRefreshToken(keyring, connection);
    } catch (err) {
      if (!(err instanceof KeyringError)) throw err;
      unreadable += 1;
      continue;
    }
    if (await storeSealed(db, keyring, connection, token)) rotated += 1;
  }
  return { rotated, unreadable };
}
