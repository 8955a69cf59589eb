import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/persistence/seed-demo.ts';
import { startTestSystem, type TestSystem, waitFor } from '../helpers/system.ts';

let t: TestSystem;
beforeAll(async () => {
  t = await startTestSystem();
});
afterAll(async () => {
  await t?.stop();
});

describe('missed call → first SMS', () => {
  it('texts the caller once from the tenant number, and the delivery status reaches delivered', async () => {
    const caller = '+13105550101';
    const { call, dialStatus } = await t.phone.missedCall({ from: caller, to: DEMO.twilio_number });
    expect(call.status).toBe(200);
    expect(call.body).toContain('<Dial');
    expect(dialStatus.status).toBe(200);
    // The call is marked texted in the transaction that queued its text: answered, it is there.
    const { rows: calls } = await t.system.db.query<{ missed: boolean; texted: boolean }>(
      'SELECT missed, texted FROM conv_calls WHERE caller = $1',
      [caller],
    );
    expect(calls).toEqual([{ missed: true, texted: true }]);
    const [sms] = await t.sandbox.waitForMessages(1);
    expect(sms?.to).toBe(caller);
    expect(sms?.from).toBe(DEMO.twilio_number);
    expect(sms?.body).toContain('Demo Plumbing');
    const status = await waitFor(async () => {
      const { rows } = await t.system.db.query("SELECT status FROM conv_messages WHERE direction = 'out'");
      return rows[0]?.status === 'delivered' ? rows[0].status : null;
    });
    expect(status).toBe('delivered');
  });
});
