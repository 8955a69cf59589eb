import type { CampaignStatus } from '../../machines/conversation-events.ts';
import type { Queryable } from '../db.ts';
import { MESSAGE_COLUMNS, type MessageRow } from './messages.ts';

// What the send worker checks before a Messages request, in one round trip: the message, its
// conversation's caller, the tenant's sending number, its campaign and whether the caller opted out.
// Four modules' rows in one statement, because this read runs for every text sent.

export type SendContext = {
  message: MessageRow;
  caller: string | null;
  senderNumber: string | null;
  campaignStatus: CampaignStatus;
  optedOut: boolean;
};

export async function readSendContext(
  db: Queryable,
  tenantId: string,
  messageId: string,
): Promise<SendContext | null> {
  const { rows } = await db.query<
    MessageRow & {
      ctx_caller: string | null;
      ctx_sender_number: string | null;
      ctx_campaign_status: CampaignStatus | null;
      ctx_opted_out: boolean;
    }
  >(
    `SELECT ${MESSAGE_COLUMNS.split(', ')
      .map((column) => `m.${column}`)
      .join(', ')},
            c.caller AS ctx_caller, t.twilio_number AS ctx_sender_number,
            (SELECT status FROM comp_campaigns WHERE tenant_id = m.tenant_id) AS ctx_campaign_status,
            EXISTS (SELECT 1 FROM comp_opt_outs o WHERE o.tenant_id = m.tenant_id AND o.phone = c.caller) AS ctx_opted_out
     FROM conv_messages m
     LEFT JOIN conv_conversations c ON c.tenant_id = m.tenant_id AND c.id = m.conversation_id
     LEFT JOIN id_tenants t ON t.id = m.tenant_id
     WHERE m.tenant_id = $1 AND m.id = $2`,
    [tenantId, messageId],
  );
  const row = rows[0];
  if (!row) return null;
  const { ctx_caller, ctx_sender_number, ctx_campaign_status, ctx_opted_out, ...message } = row;
  return {
    message,
    caller: ctx_caller,
    senderNumber: ctx_sender_number,
    campaignStatus: ctx_campaign_status ?? 'none',
    optedOut: ctx_opted_out,
  };
}
