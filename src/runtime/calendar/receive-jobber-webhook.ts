import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { inTransaction } from '../../persistence/db.ts';
import { setConnectionStatus } from '../../persistence/repositories/scheduling/calendar-connections.ts';
import {
  calendarsOfJobberAccount,
  recordJobberReceipt,
} from '../../persistence/repositories/scheduling/jobber-webhooks.ts';
import { validJobberSignature } from '../../providers/jobber/webhook-signature.ts';
import { bossDb } from '../boss.ts';
import { type CalendarDeps, nowOf } from './calendar-deps.ts';
import { enqueueSync } from './sync-jobs.ts';

// A Jobber webhook (POST /webhooks/jobber). The signature is checked before anything else: the
// base64 HMAC-SHA256 of the raw body under the app's client secret must equal
// X-Jobber-Hmac-SHA256 (403 otherwise, nothing read or written). Then:
// - VISIT_CREATE / VISIT_UPDATE / VISIT_DESTROY: for each calendar of a connection to that Jobber
//   account, a receipt dedupes the delivery (Jobber delivers at least once) and a sync is queued,
//   coalesced with any already waiting. The payload only says what changed, not how: the sync
//   lists the horizon again (the Jobber provider has no change feed).
// - APP_DISCONNECT: the account removed the app in Jobber; its connections are `unauthorized`
//   (the owner reconnects), as a refused grant would make them.
// - Other topics the app may be subscribed to are acknowledged and ignored.
// Jobber wants an answer within a second: everything here is a few indexed writes.

const payload = z.object({
  data: z.object({
    webHookEvent: z.object({
      topic: z.string().min(1).max(100),
      accountId: z.string().min(1).max(200),
      itemId: z.string().max(200).optional(),
      // Apps created before Dec. 2023 get the misspelled `occuredAt`.
      occurredAt: z.string().max(100).optional(),
      occuredAt: z.string().max(100).optional(),
    }),
  }),
});

export type JobberWebhookOutcome = { topic: string; queued: number; duplicates: number; ignored: boolean };

const VISIT_TOPICS = new Set(['VISIT_CREATE', 'VISIT_UPDATE', 'VISIT_DESTROY', 'VISIT_COMPLETE']);

export async function receiveJobberWebhook(
  deps: CalendarDeps,
  input: { rawBody: Buffer; signature: string | undefined; correlationId: string },
): Promise<JobberWebhookOutcome> {
  const secret = deps.jobber?.clientSecret;
  if (!secret || !validJobberSignature(secret, input.rawBody, input.signature)) {
    throw new AppError('signature_invalid', 'the X-Jobber-Hmac-SHA256 header is missing or wrong');
  }
  let body: unknown;
  try {
    body = JSON.parse(input.rawBody.toString('utf8'));
  } catch {
    throw new AppError('malformed_body', 'the body is not valid JSON');
  }
  const parsed = payload.safeParse(body);
  if (!parsed.success) throw new AppError('validation_failed', 'not a Jobber webhook payload');
  const event = parsed.data.data.webHookEvent;
  const occurredAt = event.occurredAt ?? event.occuredAt ?? '';
  const targets = await calendarsOfJobberAccount(deps.db, event.accountId);

  if (event.topic === 'APP_DISCONNECT') {
    const connections = new Map(targets.map((t) => [t.connection_id, t.tenant_id]));
    for (const [connectionId, tenantId] of connections) {
      await setConnectionStatus(deps.db, tenantId, connectionId, 'unauthorized');
    }
    return { topic: event.topic, queued: 0, duplicates: 0, ignored: false };
  }
  if (!VISIT_TOPICS.has(event.topic)) return { topic: event.topic, queued: 0, duplicates: 0, ignored: true };

  const deliveryHash = createHash('sha256')
    .update(`${event.topic}|${event.itemId ?? ''}|${occurredAt}`, 'utf8')
    .digest();
  const at = new Date(nowOf(deps)).toISOString();
  let queued = 0;
  let duplicates = 0;
  for (const target of targets.filter((t) => t.blocks_time)) {
    const fresh = await inTransaction(deps.db, async (client) => {
      const recorded = await recordJobberReceipt(client, {
        tenantId: target.tenant_id,
        calendarId: target.calendar_id,
        deliveryHash,
        topic: event.topic,
        at,
      });
      if (!recorded) return false;
      await enqueueSync(deps.boss, {
        tenantId: target.tenant_id,
        calendarId: target.calendar_id,
        reason: 'push',
        correlationId: input.correlationId,
        db: bossDb(client),
      });
      return true;
    });
    if (fresh) queued += 1;
    else duplicates += 1;
  }
  return { topic: event.topic, queued, duplicates, ignored: false };
}
