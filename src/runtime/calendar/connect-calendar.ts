import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { AppError } from '../../domain/errors.ts';
import { open, seal } from '../../domain/token-encryption.ts';
import { inTransaction } from '../../persistence/db.ts';
import {
  type CalendarConnection,
  type CalendarLink,
  clearBookingCalendar,
  deleteConnection,
  findConnectionOfResource,
  findLink,
  insertOAuthState,
  listLinks,
  replaceConnection,
  takeOAuthState,
  upsertLink,
} from '../../persistence/repositories/scheduling/calendar-connections.ts';
import { clearMirror } from '../../persistence/repositories/scheduling/calendar-mirror.ts';
import { getResource, updateResource } from '../../persistence/repositories/scheduling/resources.ts';
import { CalendarProviderError, type ExternalCalendar } from '../../providers/calendar/provider.ts';
import { bossDb } from '../boss.ts';
import {
  type CalendarDeps,
  calendarRedirectUri,
  nowOf,
  type ProviderKind,
  providerOf,
} from './calendar-deps.ts';
import { stopChannel } from './channels.ts';
import { enqueueSync } from './sync-jobs.ts';
import { openRefreshToken, sealRefreshToken } from './token-vault.ts';

// Connecting a resource to the owner's calendar account (OAuth authorization code + PKCE), and
// undoing it. Decisions:
// - The state (32 random bytes) and the PKCE verifier stay on the server: the state only as its
//   SHA-256, the verifier sealed; both single use, for ten minutes. The callback carries no login
//   (the provider's redirect cannot), so the state is what proves who asked: it names the tenant,
//   the resource and the person.
// - After the callback the account's primary calendar both blocks time and receives bookings; its
//   full sync and its channel start at once (queued in the callback's transaction). The owner may
//   then pick other calendars for either (`selectCalendars`).
// - Connecting again replaces the earlier connection (and its mirror). Disconnecting stops the
//   channels, revokes the grant at the provider (best effort: the owner may have revoked it
//   already) and deletes the connection, its calendars, their mirror and write-back records.
// - The resource's `calendar_kind` follows: the provider (`google`, `jobber`) while connected,
//   `internal` after.
// - Google and Jobber share the callback: the state remembers which provider it was minted for,
//   and the code is exchanged with that one. A Jobber account is one calendar (its visits).

const STATE_TTL_MS = 10 * 60_000;

const hashState = (state: string) => createHash('sha256').update(state, 'utf8').digest();

export async function startConnect(
  deps: CalendarDeps,
  input: { tenantId: string; resourceId: string; actor: string | null; provider?: ProviderKind },
): Promise<string> {
  const kind = input.provider ?? 'google';
  const provider = providerOf(deps, kind);
  const resource = await getResource(deps.db, input.tenantId, input.resourceId);
  if (!resource) throw new AppError('not_found', 'resource not found');
  const state = randomBytes(32).toString('base64url');
  const verifier = randomBytes(48).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const stateHash = hashState(state);
  const sealed = seal(deps.keyring, verifier, `oauth-state|${stateHash.toString('hex')}`);
  await insertOAuthState(deps.db, {
    tenantId: input.tenantId,
    stateHash,
    resourceId: resource.id,
    verifierKeyId: sealed.keyId,
    verifierCiphertext: sealed.ciphertext,
    actor: input.actor,
    expiresAt: new Date(nowOf(deps) + STATE_TTL_MS).toISOString(),
    provider: kind,
  });
  return provider.authorizationUrl({
    state,
    codeChallenge: challenge,
    redirectUri: calendarRedirectUri(deps.publicBaseUrl),
  });
}

export type Connected = { connection: CalendarConnection; calendars: CalendarLink[] };

export async function completeConnect(
  deps: CalendarDeps,
  input: { state: string; code: string | null; error: string | null; correlationId: string },
): Promise<Connected> {
  const stateHash = hashState(input.state);
  const pending = await takeOAuthState(deps.db, stateHash);
  if (!pending || pending.expired) {
    throw new AppError(
      'validation_failed',
      'this calendar connection link is unknown, used or expired; start again',
    );
  }
  if (input.error !== null || input.code === null) {
    throw new AppError(
      'validation_failed',
      `the calendar account did not grant access (${input.error ?? 'no code'})`,
    );
  }
  const verifier = open(
    deps.keyring,
    { keyId: pending.verifier_key_id, ciphertext: pending.verifier_ciphertext },
    `oauth-state|${stateHash.toString('hex')}`,
  );
  const provider = providerOf(deps, pending.provider);
  let granted: { refreshToken: string; scope: string };
  let calendars: ExternalCalendar[];
  try {
    granted = await provider.exchangeCode({
      code: input.code,
      codeVerifier: verifier,
      redirectUri: calendarRedirectUri(deps.publicBaseUrl),
    });
    calendars = await provider.listCalendars(granted.refreshToken);
  } catch (err) {
    if (err instanceof CalendarProviderError && err.kind !== 'retryable') {
      throw new AppError('validation_failed', 'the calendar account refused the connection; start again', {
        cause: err,
      });
    }
    throw new AppError('unavailable', 'the calendar provider is not answering; try again', { cause: err });
  }
  const primary = calendars.find((c) => c.primary) ?? calendars[0];
  if (!primary) throw new AppError('validation_failed', 'the calendar account has no calendar');
  const tenantId = pending.tenant_id;
  const previous = await findConnectionOfResource(deps.db, tenantId, pending.resource_id);
  if (previous) await releaseConnection(deps, previous);
  return inTransaction(deps.db, async (client) => {
    const id = randomUUID();
    const sealed = sealRefreshToken(deps.keyring, tenantId, id, granted.refreshToken);
    const connection = await replaceConnection(client, {
      tenantId,
      id,
      resourceId: pending.resource_id,
      provider: pending.provider,
      account: primary.id,
      tokenKeyId: sealed.keyId,
      tokenCiphertext: sealed.ciphertext,
      scope: granted.scope,
      connectedBy: pending.actor,
    });
    const link = await upsertLink(client, {
      tenantId,
      id: randomUUID(),
      connectionId: id,
      resourceId: pending.resource_id,
      externalId: primary.id,
      summary: primary.summary,
      timeZone: primary.time_zone,
      blocksTime: true,
      receivesBookings: true,
    });
    // The resource's calendar is the provider's now (its `calendar_kind` in the API).
    await updateResource(client, tenantId, pending.resource_id, { calendar_kind: pending.provider });
    await enqueueSync(deps.boss, {
      tenantId,
      calendarId: link.id,
      reason: 'connect',
      full: true,
      correlationId: input.correlationId,
      db: bossDb(client),
    });
    return { connection, calendars: [link] };
  });
}

/** Stops the channels and revokes the grant of a connection about to be deleted or replaced. */
async function releaseConnection(deps: CalendarDeps, connection: CalendarConnection): Promise<void> {
  for (const link of await listLinks(deps.db, connection.tenant_id, connection.id)) {
    await stopChannel(deps, { link, connection });
  }
  try {
    await providerOf(deps, connection.provider).revoke(openRefreshToken(deps.keyring, connection));
  } catch (err) {
    deps.logger.warn(
      { err, connection_id: connection.id },
      'could not revoke a calendar grant; deleting it anyway',
    );
  }
}

export async function disconnect(deps: CalendarDeps, tenantId: string, resourceId: string): Promise<boolean> {
  const connection = await findConnectionOfResource(deps.db, tenantId, resourceId);
  if (!connection) return false;
  await releaseConnection(deps, connection);
  return inTransaction(deps.db, async (client) => {
    const deleted = await deleteConnection(client, tenantId, connection.id);
    await updateResource(client, tenantId, resourceId, { calendar_kind: 'internal' });
    return deleted;
  });
}

export type CalendarChoice = { external_id: string; blocks_time: boolean; receives_bookings: boolean };

/**
 * The owner's pick among the account's calendars: which block time, which one (at most) receives
 * bookings. Calendars newly blocking time are synced in full at once; those no longer blocking lose
 * their mirror and channel.
 */
export async function selectCalendars(
  deps: CalendarDeps,
  input: { tenantId: string; resourceId: string; choices: CalendarChoice[]; correlationId: string },
): Promise<CalendarLink[]> {
  const connection = await findConnectionOfResource(deps.db, input.tenantId, input.resourceId);
  if (!connection) throw new AppError('conflict', 'this resource has no calendar connected');
  if (input.choices.filter((c) => c.receives_bookings).length > 1) {
    throw new AppError('validation_failed', 'at most one calendar receives the bookings');
  }
  let available: ExternalCalendar[];
  try {
    available = await providerOf(deps, connection.provider).listCalendars(
      openRefreshToken(deps.keyring, connection),
    );
  } catch (err) {
    throw new AppError('unavailable', 'the calendar provider is not answering; try again', { cause: err });
  }
  const byId = new Map(available.map((c) => [c.id, c]));
  for (const choice of input.choices) {
    if (!byId.has(choice.external_id)) {
      throw new AppError(
        'validation_failed',
        `calendar ${choice.external_id} is not in the connected account`,
      );
    }
  }
  const before = await listLinks(deps.db, input.tenantId, connection.id);
  const chosen = new Map(input.choices.map((c) => [c.external_id, c]));
  const dropped = before.filter((l) => l.blocks_time && !chosen.get(l.external_id)?.blocks_time);
  const links = await inTransaction(deps.db, async (client) => {
    await clearBookingCalendar(client, input.tenantId, connection.id);
    const picked: CalendarLink[] = [];
    // Calendars not named keep nothing: neither blocking nor receiving.
    for (const link of before) {
      if (!chosen.has(link.external_id)) {
        await upsertLink(client, {
          tenantId: input.tenantId,
          id: link.id,
          connectionId: connection.id,
          resourceId: input.resourceId,
          externalId: link.external_id,
          summary: link.summary,
          timeZone: link.time_zone,
          blocksTime: false,
          receivesBookings: false,
        });
      }
    }
    for (const link of dropped) await clearMirror(client, input.tenantId, link.id);
    for (const choice of input.choices) {
      const calendar = byId.get(choice.external_id);
      if (!calendar) continue;
      const existing = before.find((l) => l.external_id === choice.external_id);
      const link = await upsertLink(client, {
        tenantId: input.tenantId,
        id: existing?.id ?? randomUUID(),
        connectionId: connection.id,
        resourceId: input.resourceId,
        externalId: calendar.id,
        summary: calendar.summary,
        timeZone: calendar.time_zone,
        blocksTime: choice.blocks_time,
        receivesBookings: choice.receives_bookings,
      });
      picked.push(link);
      if (link.blocks_time && !existing?.blocks_time) {
        await enqueueSync(deps.boss, {
          tenantId: input.tenantId,
          calendarId: link.id,
          reason: 'selection',
          full: true,
          correlationId: input.correlationId,
          db: bossDb(client),
        });
      }
    }
    return picked;
  });
  // After the commit: a sync running meanwhile now sees the calendar no longer blocks time and
  // opens no channel for it.
  for (const link of dropped) {
    const current = await findLink(deps.db, input.tenantId, link.id);
    if (current) await stopChannel(deps, { link: current, connection });
  }
  return links;
}
