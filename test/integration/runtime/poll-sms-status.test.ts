import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../../src/persistence/seed-demo.ts';
import { SANDBOX_ACCOUNT } from '../../../src/providers/twilio/account.ts';
import { createTwilioClient } from '../../../src/providers/twilio/client.ts';
import { createStatusPoller } from '../../../src/runtime/poll-sms-status.ts';
import { startTestSystem, type TestSystem, waitFor } from '../../helpers/system.ts';

// Webhook first, poll on provider failure: a message whose status callbacks never arrive is
// brought to its final state by asking Twilio (the sandbox) through the SDK.

let t: TestSystem;
beforeAll(async () => {
  t = await startTestSystem();
});
afterAll(async () => {
  await t?.stop();
});

describe('status poll', () => {
  it('moves a message forward from the provider when no callback came, and never back', async () => {
    t.sandbox.dropNextCallbacks(10);
    const caller = '+13105550190';
    await t.phone.missedCall({ from: caller, to: DEMO.twilio_number });
    const message = await waitFor(async () => {
      const { rows } = await t.system.db.query(
        "SELECT tenant_id, id, status, provider_sid FROM conv_messages WHERE direction = 'out' AND provider_sid IS NOT NULL",
      );
      return rows[0];
    });
    expect(message.status).toBe('sending');
    const poll = createStatusPoller({
      db: t.system.db,
      twilio: createTwilioClient({ ...SANDBOX_ACCOUNT, apiBaseUrl: t.sandbox.url }),
    });
    await waitFor(
      async () =>
        (await poll({ tenant_id: message.tenant_id, message_id: message.id })) !== 'unchanged' || null,
    );
    const status = await waitFor(async () => {
      await poll({ tenant_id: message.tenant_id, message_id: message.id });
      const { rows } = await t.system.db.query('SELECT status FROM conv_messages WHERE id = $1', [
        message.id,
      ]);
      return rows[0]?.status === 'delivered' ? rows[0].status : null;
    });
    expect(status).toBe('delivered');
    expect(await poll({ tenant_id: message.tenant_id, message_id: message.id })).toBe('final');
  });
});
