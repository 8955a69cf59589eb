import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { loadPolicy } from '../../persistence/repositories/policy-values.ts';
import type { CalendarConnection } from '../../persistence/repositories/scheduling/calendar-connections.ts';
import {
  type CalendarLink,
  clearChannel,
  setChannel,
} from '../../persistence/repositories/scheduling/calendar-connections.ts';
import { type CalendarDeps, calendarWebhookUrl, jobberWebhookUrl, providerOf } from './calendar-deps.ts';
import { openRefreshToken } from './token-vault.ts';

// Push channels of a calendar (Google `events.watch`). Each channel has its own random secret
// token, which only its SHA-256 is kept of; the webhook compares hashes. Opening a channel records
// it before asking the provider (the provider's first `sync` message may arrive before the watch
// call returns), then stops the channel it replaces: the old one may deliver a last push or two in
// between, and both are fine (an unknown channel is refused; a change is fetched either way).

export const tokenHash = (token: string) => createHash('sha256').update(token, 'utf8').digest();

export async function openChannel(
  deps: CalendarDeps,
  input: { link: CalendarLink; connection: CalendarConnection },
): Promise<{ channelId: string; expiresAt: string }> {
  const { link, connection } = input;
  const policy = await loadPolicy(deps.db, link.tenant_id);
  const ttlSeconds = policy['calendar.channel_ttl_hours'] * 3600;
  const channelId = randomUUID();
  const token = randomBytes(32).toString('base64url');
  const refreshToken = openRefreshToken(deps.keyring, connection);
  const previous =
    link.channel_id !== null && link.channel_resource_id !== null
      ? { channelId: link.channel_id, resourceId: link.channel_resource_id }
      : null;
  await setChannel(deps.db, {
    tenantId: link.tenant_id,
    id: link.id,
    channelId,
    tokenHash: tokenHash(token),
    resourceId: null,
    expiresAt: null,
  });
  let opened: { resourceId: string; expiration: string };
  try {
    opened = await providerOf(deps, connection.provider).watch(refreshToken, link.external_id, {
      channelId,
      token,
      address:
        connection.provider === 'jobber'
          ? jobberWebhookUrl(deps.publicBaseUrl)
          : calendarWebhookUrl(deps.publicBaseUrl),
      ttlSeconds,
    });
  } catch (err) {
    // No channel then: the sweep polls the calendar and tries again later.
    await clearChannel(deps.db, link.tenant_id, link.id, channelId);
    throw err;
  }
  await setChannel(deps.db, {
    tenantId: link.tenant_id,
    id: link.id,
    channelId,
    tokenHash: tokenHash(token),
    resourceId: opened.resourceId,
    expiresAt: opened.expiration,
  });
  if (previous) {
    await providerOf(deps, connection.provider)
      .stopChannel(refreshToken, previous)
      .catch((err: unknown) => {
        deps.logger.warn({ err, calendar_id: link.id }, 'could not stop the replaced calendar channel');
      });
  }
  deps.logger.info(
    { calendar_id: link.id, channel_expires_at: opened.expiration },
    'calendar channel opened',
  );
  return { channelId, expiresAt: opened.expiration };
}

/** Stops the calendar's channel at the provider (best effort) and forgets it. */
export async function stopChannel(
  deps: CalendarDeps,
  input: { link: CalendarLink; connection: CalendarConnection },
): Promise<void> {
  const { link, connection } = input;
  if (link.channel_id === null) return;
  if (link.channel_resource_id) {
    await providerOf(deps, connection.provider)
      .stopChannel(openRefreshToken(deps.keyring, connection), {
        channelId: link.channel_id,
        resourceId: link.channel_resource_id,
      })
      .catch((err: unknown) =>
        deps.logger.warn({ err, calendar_id: link.id }, 'could not stop a calendar channel'),
      );
  }
  await clearChannel(deps.db, link.tenant_id, link.id, link.channel_id);
}
