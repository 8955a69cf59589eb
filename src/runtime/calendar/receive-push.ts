import { timingSafeEqual } from 'node:crypto';
import { AppError } from '../../domain/errors.ts';
import { inTransaction } from '../../persistence/db.ts';
import {
  findLinkByChannel,
  recordPush,
} from '../../persistence/repositories/scheduling/calendar-connections.ts';
import { bossDb } from '../boss.ts';
import { type CalendarDeps, nowOf } from './calendar-deps.ts';
import { tokenHash } from './channels.ts';
import { enqueueSync } from './sync-jobs.ts';

// A push from Google (POST /webhooks/google/calendar). Checked before anything else: the channel id
// must name a channel we opened and the channel token must match its hash (403 otherwise, and
// nothing is written). Then the message number dedupes (a redelivery, or an older message, does
// nothing), and one incremental sync is queued for the calendar, coalesced: while one waits, more
// pushes add nothing. The `sync` message a new channel starts with only proves the channel works.

export type PushHeaders = {
  channelId: string | undefined;
  channelToken: string | undefined;
  resourceId: string | undefined;
  resourceState: string | undefined;
  messageNumber: string | undefined;
};

export type PushOutcome = 'queued' | 'coalesced' | 'duplicate' | 'channel_sync';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function sameHash(token: string, expected: Buffer): boolean {
  const given = tokenHash(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function receivePush(
  deps: CalendarDeps,
  headers: PushHeaders,
  correlationId: string,
): Promise<PushOutcome> {
  const forged = () => new AppError('signature_invalid', 'unknown channel or wrong channel token');
  if (!headers.channelId || !UUID.test(headers.channelId) || !headers.channelToken) throw forged();
  const found = await findLinkByChannel(deps.db, headers.channelId.toLowerCase());
  if (!found || !sameHash(headers.channelToken, found.tokenHash)) throw forged();
  const { link } = found;
  if (link.channel_resource_id && headers.resourceId !== link.channel_resource_id) throw forged();
  const messageNumber = Number(headers.messageNumber);
  if (!Number.isSafeInteger(messageNumber) || messageNumber < 1) {
    throw new AppError('validation_failed', 'X-Goog-Message-Number must be a positive integer');
  }
  return inTransaction(deps.db, async (client) => {
    const fresh = await recordPush(client, {
      tenantId: link.tenant_id,
      id: link.id,
      channelId: headers.channelId?.toLowerCase() ?? '',
      messageNumber,
      at: new Date(nowOf(deps)).toISOString(),
    });
    if (!fresh) return 'duplicate';
    if (headers.resourceState === 'sync') return 'channel_sync';
    const queued = await enqueueSync(deps.boss, {
      tenantId: link.tenant_id,
      calendarId: link.id,
      reason: 'push',
      correlationId,
      db: bossDb(client),
    });
    return queued ? 'queued' : 'coalesced';
  });
}
