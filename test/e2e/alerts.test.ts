import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/persistence/seed-demo.ts';
import { appOf, call, settleOutbound, tokenFor } from '../helpers/operator-api.ts';
import { startTestSystem, type TestSystem, waitFor } from '../helpers/system.ts';

// A customer asks for a person, end to end: a missed call and a text from the simulated phone over
// the signed webhooks, the dialogue raising OperatorAttentionNeeded with its typed reason, the alert
// subscriber texting the owner's forwarding phone (nobody opted in on the demo business), the
// owner replying OK, and the alert leaving the "needs attention" list.

let t: TestSystem;
const CALLER = '+13105559321';
const OWNER_PHONE = DEMO.forwarding_phone;

beforeAll(async () => {
  t = await startTestSystem();
});
afterAll(async () => {
  if (t) await settleOutbound(t);
  await t?.stop();
});

describe('a handover request reaches the owner', () => {
  it('texts the owner the reason and the link, and "OK" from the owner clears it', async () => {
    await t.phone.missedCall({ from: CALLER, to: DEMO.twilio_number });
    await waitFor(async () => t.sandbox.messages().some((m) => m.to === CALLER));
    await t.phone.sms({ from: CALLER, to: DEMO.twilio_number, body: 'can I talk to a real person please' });

    const alertText = await waitFor(
      async () => t.sandbox.messages().find((m) => m.to === OWNER_PHONE),
      15_000,
    );
    expect(alertText.from).toBe(DEMO.twilio_number);
    expect(alertText.body).toContain('asked to talk to a person');
    expect(alertText.body).toMatch(new RegExp(`${t.baseUrl}/app/conversations/[0-9a-f-]{36}`));
    expect(alertText.body).not.toContain('real person please');

    const owner = await tokenFor(t.system, {
      subject: 'e2e_owner_alerts',
      role: 'OWNER',
      org: DEMO.auth_org_id,
    });
    const open = await call(appOf(t.system), {
      method: 'GET',
      url: '/api/v1/alerts?state=open',
      token: owner,
    });
    expect((open.body as { items: Array<{ reason: string }> }).items.map((a) => a.reason)).toContain(
      'handover_requested',
    );

    await t.phone.sms({ from: OWNER_PHONE, to: DEMO.twilio_number, body: 'OK' });
    const after = await call(appOf(t.system), {
      method: 'GET',
      url: '/api/v1/alerts?state=open',
      token: owner,
    });
    expect((after.body as { items: Array<{ reason: string }> }).items.map((a) => a.reason)).not.toContain(
      'handover_requested',
    );
  });
});
