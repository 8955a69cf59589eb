import type { Queryable } from '../../db.ts';
import { iso, isoOrNull } from './sql-values.ts';

// Calendar connections of resources (`sched_calendar_connections`), the calendars of each that
// block time or receive bookings with their sync and channel state (`sched_calendar_links`), and
// consents in progress (`sched_calendar_oauth_states`). Tokens come and go only sealed (the
// runtime seals and opens them, src/runtime/calendar/token-vault.ts); channel tokens and OAuth
// states only as SHA-256 hashes.

export type CalendarConnection = {
  tenant_id: string;
  id: string;
  resource_id: string;
  provider: 'google' | 'jobber';
  account: string;
  token_key_id: string;
  token_ciphertext: Buffer;
  scope: string;
  status: 'active' | 'unauthorized';
  created_at: string;
};

export type CalendarLink = {
  tenant_id: string;
  id: string;
  connection_id: string;
  resource_id: string;
  external_id: string;
  summary: string;
  time_zone: string;
  blocks_time: boolean;
  receives_bookings: boolean;
  sync_token: string | null;
  last_full_sync_at: string | null;
  last_synced_at: string | null;
  sync_error: string | null;
  channel_id: string | null;
  channel_resource_id: string | null;
  channel_expires_at: string | null;
  last_push_at: string | null;
  last_message_number: number | null;
};

const CONNECTION_COLUMNS =
  'tenant_id, id, resource_id, provider, account, token_key_id, token_ciphertext, scope, status, created_at';
const LINK_COLUMNS =
  'tenant_id, id, connection_id, resource_id, external_id, summary, time_zone, blocks_time, receives_bookings, ' +
  'sync_token, last_full_sync_at, last_synced_at, sync_error, channel_id, channel_resource_id, channel_expires_at, ' +
  'last_push_at, last_message_number';

type ConnectionRow = Omit<CalendarConnection, 'created_at'> & { created_at: Date };
type LinkRow = Omit<
  CalendarLink,
  'last_full_sync_at' | 'last_synced_at' | 'channel_expires_at' | 'last_push_at'
> & {
  last_full_sync_at: Date | null;
  last_synced_at: Date | null;
  channel_expires_at: Date | null;
  last_push_at: Date | null;
};

const connectionOf = (r: ConnectionRow): CalendarConnection => ({ ...r, created_at: iso(r.created_at) });
const linkOf = (r: LinkRow): CalendarLink => ({
  ...r,
  last_full_sync_at: isoOrNull(r.last_full_sync_at),
  last_synced_at: isoOrNull(r.last_synced_at),
  channel_expires_at: isoOrNull(r.channel_expires_at),
  last_push_at: isoOrNull(r.last_push_at),
});

// --- consents in progress ---

export async function insertOAuthState(
  db: Queryable,
  state: {
    tenantId: string;
    stateHash: Buffer;
    resourceId: string;
    verifierKeyId: string;
    verifierCiphertext: Buffer;
    actor: string | null;
    expiresAt: string;
    provider?: 'google' | 'jobber';
  },
): Promise<void> {
  await db.query(
    `INSERT INTO sched_calendar_oauth_states
       (tenant_id, state_hash, resource_id, verifier_key_id, verifier_ciphertext, actor, expires_at, provider)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      state.tenantId,
      state.stateHash,
      state.resourceId,
      state.verifierKeyId,
      state.verifierCiphertext,
      state.actor,
      state.expiresAt,
      state.provider ?? 'google',
    ],
  );
}

/** Takes a consent's state (single use): deleted whether or not it is still valid. */
export async function takeOAuthState(
  db: Queryable,
  stateHash: Buffer,
): Promise<{
  tenant_id: string;
  resource_id: string;
  verifier_key_id: string;
  verifier_ciphertext: Buffer;
  actor: string | null;
  provider: 'google' | 'jobber';
  expired: boolean;
} | null> {
  const { rows } = await db.query<{
    tenant_id: string;
    resource_id: string;
    verifier_key_id: string;
    verifier_ciphertext: Buffer;
    actor: string | null;
    provider: 'google' | 'jobber';
    expired: boolean;
  }>(
    `DELETE FROM sched_calendar_oauth_states WHERE state_hash = $1
     RETURNING tenant_id, resource_id, verifier_key_id, verifier_ciphertext, actor, provider, expires_at <= now() AS expired`,
    [stateHash],
  );
  return rows[0] ?? null;
}

export async function purgeExpiredOAuthStates(db: Queryable): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM sched_calendar_oauth_states WHERE expires_at <= now()');
  return rowCount ?? 0;
}

// --- connections ---

/** Stores the resource's connection, replacing any earlier one (its calendars and mirror go with it). */
export async function replaceConnection(
  db: Queryable,
  c: {
    tenantId: string;
    id: string;
    resourceId: string;
    provider: 'google' | 'jobber';
    account: string;
    tokenKeyId: string;
    tokenCiphertext: Buffer;
    scope: string;
    connectedBy: string | null;
  },
): Promise<CalendarConnection> {
  await db.query('DELETE FROM sched_calendar_connections WHERE tenant_id = $1 AND resource_id = $2', [
    c.tenantId,
    c.resourceId,
  ]);
  const { rows } = await db.query<ConnectionRow>(
    `INSERT INTO sched_calendar_connections
       (tenant_id, id, resource_id, provider, account, token_key_id, token_ciphertext, scope, connected_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     RETURNING ${CONNECTION_COLUMNS}`,
    [
      c.tenantId,
      c.id,
      c.resourceId,
      c.provider,
      c.account,
      c.tokenKeyId,
      c.tokenCiphertext,
      c.scope,
      c.connectedBy,
    ],
  );
  const row = rows[0];
  if (!row) throw new Error('connection insert returned nothing');
  return connectionOf(row);
}

export async function findConnection(
  db: Queryable,
  tenantId: string,
  id: string,
): Promise<CalendarConnection | null> {
  const { rows } = await db.query<ConnectionRow>(
    `SELECT ${CONNECTION_COLUMNS} FROM sched_calendar_connections WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  );
  return rows[0] ? connectionOf(rows[0]) : null;
}

export async function findConnectionOfResource(
  db: Queryable,
  tenantId: string,
  resourceId: string,
): Promise<CalendarConnection | null> {
  const { rows } = await db.query<ConnectionRow>(
    `SELECT ${CONNECTION_COLUMNS} FROM sched_calendar_connections WHERE tenant_id = $1 AND resource_id = $2`,
    [tenantId, resourceId],
  );
  return rows[0] ? connectionOf(rows[0]) : null;
}

/** Every connection of every tenant, oldest first (status reports and key rotation). */
export async function listAllConnections(db: Queryable): Promise<CalendarConnection[]> {
  const { rows } = await db.query<ConnectionRow>(
    `SELECT ${CONNECTION_COLUMNS} FROM sched_calendar_connections ORDER BY created_at, tenant_id, id`,
  );
  return rows.map(connectionOf);
}

export async function listConnections(db: Queryable, tenantId: string): Promise<CalendarConnection[]> {
  const { rows } = await db.query<ConnectionRow>(
    `SELECT ${CONNECTION_COLUMNS} FROM sched_calendar_connections WHERE tenant_id = $1 ORDER BY created_at, id`,
    [tenantId],
  );
  return rows.map(connectionOf);
}

export async function deleteConnection(db: Queryable, tenantId: string, id: string): Promise<boolean> {
  const { rowCount } = await db.query(
    'DELETE FROM sched_calendar_connections WHERE tenant_id = $1 AND id = $2',
    [tenantId, id],
  );
  return rowCount === 1;
}

/** Re-sealed token (key rotation); only when it is still sealed under `fromKeyId` (no lost update). */
export async function updateConnectionToken(
  db: Queryable,
  c: { tenantId: string; id: string; fromKeyId: string; tokenKeyId: string; tokenCiphertext: Buffer },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE sched_calendar_connections SET token_key_id = $4, token_ciphertext = $5, updated_at = now()
     WHERE tenant_id = $1 AND id = $2 AND token_key_id = $3`,
    [c.tenantId, c.id, c.fromKeyId, c.tokenKeyId, c.tokenCiphertext],
  );
  return rowCount === 1;
}

export async function setConnectionStatus(
  db: Queryable,
  tenantId: string,
  id: string,
  status: 'active' | 'unauthorized',
): Promise<void> {
  await db.query(
    'UPDATE sched_calendar_connections SET status = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2',
    [tenantId, id, status],
  );
}

// --- linked calendars ---

export async function upsertLink(
  db: Queryable,
  l: {
    tenantId: string;
    id: string;
    connectionId: string;
    resourceId: string;
    externalId: string;
    summary: string;
    timeZone: string;
    blocksTime: boolean;
    receivesBookings: boolean;
  },
): Promise<CalendarLink> {
  const { rows } = await db.query<LinkRow>(
    `INSERT INTO sched_calendar_links
       (tenant_id, id, connection_id, resource_id, external_id, summary, time_zone, blocks_time, receives_bookings)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (tenant_id, connection_id, external_id) DO UPDATE SET
       summary = EXCLUDED.summary, time_zone = EXCLUDED.time_zone,
       blocks_time = EXCLUDED.blocks_time, receives_bookings = EXCLUDED.receives_bookings
     RETURNING ${LINK_COLUMNS}`,
    [
      l.tenantId,
      l.id,
      l.connectionId,
      l.resourceId,
      l.externalId,
      l.summary,
      l.timeZone,
      l.blocksTime,
      l.receivesBookings,
    ],
  );
  const row = rows[0];
  if (!row) throw new Error('calendar link upsert returned nothing');
  return linkOf(row);
}

/** Nobody receives the bookings of this connection any more (before another calendar does). */
export async function clearBookingCalendar(
  db: Queryable,
  tenantId: string,
  connectionId: string,
): Promise<void> {
  await db.query(
    `UPDATE sched_calendar_links SET receives_bookings = false
     WHERE tenant_id = $1 AND connection_id = $2 AND receives_bookings`,
    [tenantId, connectionId],
  );
}

export async function findLink(db: Queryable, tenantId: string, id: string): Promise<CalendarLink | null> {
  const { rows } = await db.query<LinkRow>(
    `SELECT ${LINK_COLUMNS} FROM sched_calendar_links WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  );
  return rows[0] ? linkOf(rows[0]) : null;
}

/** The link and its row lock until the transaction ends (one sync writes a calendar's mirror at a time). */
export async function lockLink(db: Queryable, tenantId: string, id: string): Promise<CalendarLink | null> {
  const { rows } = await db.query<LinkRow>(
    `SELECT ${LINK_COLUMNS} FROM sched_calendar_links WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
    [tenantId, id],
  );
  return rows[0] ? linkOf(rows[0]) : null;
}

export async function listLinks(
  db: Queryable,
  tenantId: string,
  connectionId: string,
): Promise<CalendarLink[]> {
  const { rows } = await db.query<LinkRow>(
    `SELECT ${LINK_COLUMNS} FROM sched_calendar_links WHERE tenant_id = $1 AND connection_id = $2
     ORDER BY receives_bookings DESC, lower(summary), id`,
    [tenantId, connectionId],
  );
  return rows.map(linkOf);
}

/** Every calendar that blocks time, of every tenant (the sweep's and the status report's list). */
export async function listBlockingLinks(
  db: Queryable,
  tenantId: string | null = null,
): Promise<CalendarLink[]> {
  const { rows } = await db.query<LinkRow>(
    `SELECT ${LINK_COLUMNS.split(', ')
      .map((c) => `l.${c}`)
      .join(', ')}
     FROM sched_calendar_links l
     JOIN sched_calendar_connections c ON c.tenant_id = l.tenant_id AND c.id = l.connection_id
     WHERE l.blocks_time AND c.status = 'active' AND ($1::uuid IS NULL OR l.tenant_id = $1)
     ORDER BY l.tenant_id, l.created_at, l.id`,
    [tenantId],
  );
  return rows.map(linkOf);
}

export async function findBookingLink(
  db: Queryable,
  tenantId: string,
  resourceId: string,
): Promise<CalendarLink | null> {
  const { rows } = await db.query<LinkRow>(
    `SELECT ${LINK_COLUMNS.split(', ')
      .map((c) => `l.${c}`)
      .join(', ')}
     FROM sched_calendar_links l
     JOIN sched_calendar_connections c ON c.tenant_id = l.tenant_id AND c.id = l.connection_id
     WHERE l.tenant_id = $1 AND l.resource_id = $2 AND l.receives_bookings AND c.status = 'active'`,
    [tenantId, resourceId],
  );
  return rows[0] ? linkOf(rows[0]) : null;
}

/** A sync finished: its token and when. `full` also stamps the full sync. */
export async function recordSync(
  db: Queryable,
  l: { tenantId: string; id: string; syncToken: string | null; at: string; full: boolean },
): Promise<void> {
  await db.query(
    `UPDATE sched_calendar_links SET sync_token = $3, last_synced_at = $4, sync_error = NULL,
       last_full_sync_at = CASE WHEN $5 THEN $4::timestamptz ELSE last_full_sync_at END
     WHERE tenant_id = $1 AND id = $2`,
    [l.tenantId, l.id, l.syncToken, l.at, l.full],
  );
}

export async function recordSyncError(
  db: Queryable,
  tenantId: string,
  id: string,
  error: string,
): Promise<void> {
  await db.query('UPDATE sched_calendar_links SET sync_error = $3 WHERE tenant_id = $1 AND id = $2', [
    tenantId,
    id,
    error.slice(0, 500),
  ]);
}

export async function setChannel(
  db: Queryable,
  c: {
    tenantId: string;
    id: string;
    channelId: string;
    tokenHash: Buffer;
    /** Null while the provider has not confirmed the channel yet. */
    resourceId: string | null;
    expiresAt: string | null;
  },
): Promise<void> {
  await db.query(
    `UPDATE sched_calendar_links SET channel_id = $3, channel_token_hash = $4, channel_resource_id = $5,
       channel_expires_at = $6, last_message_number = NULL
     WHERE tenant_id = $1 AND id = $2`,
    [c.tenantId, c.id, c.channelId, c.tokenHash, c.resourceId, c.expiresAt],
  );
}

export async function clearChannel(
  db: Queryable,
  tenantId: string,
  id: string,
  channelId: string,
): Promise<void> {
  await db.query(
    `UPDATE sched_calendar_links SET channel_id = NULL, channel_token_hash = NULL, channel_resource_id = NULL,
       channel_expires_at = NULL, last_message_number = NULL
     WHERE tenant_id = $1 AND id = $2 AND channel_id = $3`,
    [tenantId, id, channelId],
  );
}

/** The calendar a push names, with its channel token's hash; null for an unknown channel. */
export async function findLinkByChannel(
  db: Queryable,
  channelId: string,
): Promise<{ link: CalendarLink; tokenHash: Buffer } | null> {
  const { rows } = await db.query<LinkRow & { channel_token_hash: Buffer }>(
    `SELECT ${LINK_COLUMNS}, channel_token_hash FROM sched_calendar_links WHERE channel_id = $1`,
    [channelId],
  );
  const row = rows[0];
  if (!row) return null;
  const { channel_token_hash, ...link } = row;
  return { link: linkOf(link), tokenHash: channel_token_hash };
}

/**
 * Records a push: true when its message number is new for the channel (greater than any seen),
 * false for a duplicate or an older one. The row lock makes two deliveries of one number agree.
 */
export async function recordPush(
  db: Queryable,
  p: { tenantId: string; id: string; channelId: string; messageNumber: number; at: string },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE sched_calendar_links SET last_message_number = $4, last_push_at = $5
     WHERE tenant_id = $1 AND id = $2 AND channel_id = $3
       AND (last_message_number IS NULL OR last_message_number < $4)`,
    [p.tenantId, p.id, p.channelId, p.messageNumber, p.at],
  );
  return rowCount === 1;
}
