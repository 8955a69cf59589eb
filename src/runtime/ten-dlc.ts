import { AppError } from '../domain/errors.ts';
import type { Registration, ReviewDecision } from '../domain/ten-dlc.ts';
import type { CampaignStatus } from '../machines/conversation-events.ts';
import { inTransaction, type Pool, type PoolClient } from '../persistence/db.ts';
import {
  type CampaignRow,
  listPendingCampaigns,
  lockCampaign,
  recordReview,
  submitRegistration,
} from '../persistence/repositories/compliance.ts';
import { listActiveConversationIds } from '../persistence/repositories/conversations.ts';
import type { TenDlcProvider } from '../providers/ten-dlc/provider.ts';
import type { Dispatch } from './dispatch.ts';
import { writeOutboxEvents } from './outbox.ts';
import type { Subscriber } from './outbox-dispatcher.ts';

// The 10DLC lifecycle: pending → approved | rejected (with the reviewer's reason). Every change is
// the domain event nmc.compliance.CampaignStatusChanged, written with the change; conversations
// react to it through the outbox (campaignStatusSubscriber). Nothing is sent before `approved`,
// and an approval sends nothing retroactively: the machine records it, operators may follow up.

async function changeStatus(
  db: Pool,
  tenantId: string,
  correlationId: string,
  change: (client: PoolClient, previous: CampaignRow | null) => Promise<CampaignRow | null>,
): Promise<CampaignRow | null> {
  return inTransaction(db, async (client) => {
    const previous = await lockCampaign(client, tenantId);
    const next = await change(client, previous);
    if (next && next.status !== previous?.status) {
      await writeOutboxEvents(client, [
        {
          tenantId,
          name: 'nmc.compliance.CampaignStatusChanged',
          payload: {
            status: next.status,
            previous: (previous?.status ?? 'none') as CampaignStatus,
            reason: next.reason,
          },
          occurredAt: new Date().toISOString(),
          correlationId,
          causationId: null,
        },
      ]);
    }
    return next;
  });
}

export async function submitTenDlc(
  db: Pool,
  provider: TenDlcProvider,
  tenantId: string,
  registration: Registration,
  correlationId: string,
): Promise<CampaignRow | null> {
  const { ref } = await provider.submit(tenantId, registration);
  return changeStatus(db, tenantId, correlationId, (client, previous) => {
    // Checked under the campaign's lock: a review that approved it meanwhile is never undone.
    if (previous?.status === 'approved') {
      throw new AppError('conflict', 'the campaign is approved; changes go through support');
    }
    return submitRegistration(client, tenantId, registration, ref);
  });
}

export async function reviewTenDlc(
  db: Pool,
  tenantId: string,
  decision: ReviewDecision,
  reviewer: string,
  correlationId: string,
): Promise<CampaignRow | null> {
  return changeStatus(db, tenantId, correlationId, async (client, previous) => {
    if (!previous) return null;
    if (previous.status === decision.status) return previous;
    return recordReview(client, tenantId, {
      status: decision.status,
      reason: decision.status === 'rejected' ? decision.reason : null,
      reviewer,
    });
  });
}

/** The scheduled poll: asks the provider about pending registrations and applies its decisions. */
export async function pollPendingTenDlc(db: Pool, provider: TenDlcProvider): Promise<number> {
  let changed = 0;
  for (const campaign of await listPendingCampaigns(db)) {
    const ref = campaign.provider_ref;
    if (!ref) continue;
    const status = await provider.status(ref);
    if (status.status === 'pending') continue;
    const decision: ReviewDecision =
      status.status === 'approved'
        ? { status: 'approved' }
        : { status: 'rejected', reason: status.reason ?? 'rejected by the carrier' };
    // Applied only if the registration is still the pending one the provider answered about.
    const updated = await changeStatus(db, campaign.tenant_id, `poll:${ref}`, async (client, previous) => {
      if (previous?.status !== 'pending' || previous.provider_ref !== ref) return previous;
      return recordReview(client, campaign.tenant_id, {
        status: decision.status,
        reason: decision.status === 'rejected' ? decision.reason : null,
        reviewer: `provider:${provider.name}`,
      });
    });
    if (updated?.status === decision.status && updated.provider_ref === ref) changed += 1;
  }
  return changed;
}

/** Conversations react to a campaign status change: each non-closed one gets the event once. */
export function campaignStatusSubscriber(db: Pool, dispatch: Dispatch): Subscriber {
  return {
    name: 'conversations.campaign-status',
    events: ['nmc.compliance.CampaignStatusChanged'],
    async handle(event) {
      const status = event.payload.status as CampaignStatus;
      for (const conversationId of await listActiveConversationIds(db, event.tenant_id)) {
        await dispatch(
          event.tenant_id,
          { conversationId },
          { type: 'CampaignStatusChanged', status, at: event.occurred_at },
          {
            correlationId: event.correlation_id,
            causationId: event.event_id,
            idempotencyKey: `campaign:${event.event_id}:${conversationId}`,
          },
        );
      }
    },
  };
}
