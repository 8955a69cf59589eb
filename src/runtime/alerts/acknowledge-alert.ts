import { isAlertAcknowledgement } from '../../domain/alert-delivery.ts';
import { inTransaction, type Pool } from '../../persistence/db.ts';
import { acknowledgeAlert, latestOpenAlertTextedTo } from '../../persistence/repositories/alerts.ts';
import { claimWebhook } from '../../persistence/repositories/housekeeping.ts';

// "OK" texted to the business number from a phone an open alert was texted to acknowledges that
// person's newest open alert, instead of reaching (or opening) a customer conversation. Anything
// else, or an OK from a phone with no open alert, is a customer's text as usual. The webhook claim
// is the same key the conversation path uses, so a redelivered webhook has one effect whichever
// path took it first.

export async function acknowledgeAlertBySms(
  db: Pool,
  inbound: { tenantId: string; from: string; body: string; messageSid: string },
): Promise<boolean> {
  if (!isAlertAcknowledgement(inbound.body)) return false;
  return inTransaction(db, async (client) => {
    const alert = await latestOpenAlertTextedTo(client, inbound.tenantId, inbound.from);
    if (!alert) return false;
    const claimed = await claimWebhook(client, {
      provider: 'twilio',
      key: `sms:${inbound.messageSid}`,
      tenantId: inbound.tenantId,
    });
    // Already handled (this very OK, delivered again): nothing more to do, and not a customer text.
    if (claimed)
      await acknowledgeAlert(client, inbound.tenantId, alert.id, { who: inbound.from, via: 'sms' });
    return true;
  });
}
