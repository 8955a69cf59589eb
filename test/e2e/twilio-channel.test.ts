import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertMessage } from '../../src/persistence/repositories/messages.ts';
import { DEMO } from '../../src/persistence/seed-demo.ts';
import type { SandboxMessage } from '../../src/providers/twilio/sandbox/message-resource.ts';
import { newSid } from '../../src/providers/twilio/sandbox/sids.ts';
import { signTwilioRequest } from '../../src/providers/twilio/signature.ts';
import { readGatesFromBilling } from '../../src/runtime/billing-gates.ts';
import { createDispatch, type Dispatch } from '../../src/runtime/dispatch.ts';
import { QUEUES } from '../../src/runtime/job-queues.ts';
import { replayDeadSends } from '../../src/runtime/send-sms.ts';
import { waitUntilSendsSettled } from '../helpers/settled.ts';
import { startTestSystem, type TestSystem, waitFor } from '../helpers/system.ts';

// The Twilio channel end to end: signed webhooks from the simulated phone over HTTP, the real
// workers and Postgres, the real SDK against the sandbox Twilio. Each test uses its own caller so
// the counts it asserts are its own.

let t: TestSystem;
let dispatch: Dispatch;
beforeAll(async () => {
  t = await startTestSystem();
  dispatch = createDispatch({ db: t.system.db, boss: t.system.boss, readGates: readGatesFromBilling });
});
afterAll(async () => {
  await t?.stop();
});

const BUSINESS = DEMO.twilio_number;

let callerSeq = 200;
function nextCaller(): string {
  callerSeq += 1;
  return `+1310555${String(callerSeq).padStart(4, '0')}`;
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await t.system.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params);
  return rows[0]?.n ?? 0;
}

function smsTo(caller: string): SandboxMessage[] {
  return t.sandbox.messages().filter((m) => m.to === caller);
}

/** Every Messages create the sandbox received for this caller, answered or not. */
function createRequestsTo(caller: string): number {
  return t.sandbox.requests().filter((r) => r.method === 'POST' && r.params.To === caller).length;
}

async function waitForSmsTo(caller: string, n: number): Promise<SandboxMessage[]> {
  return waitFor(async () => {
    const sent = smsTo(caller);
    return sent.length >= n ? sent : null;
  });
}

type OutboundRow = {
  id: string;
  conversation_id: string;
  status: string;
  purpose: string | null;
  body: string;
  provider_sid: string | null;
  error_code: string | null;
  failure_reason: string | null;
};

async function outbound(caller: string): Promise<OutboundRow[]> {
  const { rows } = await t.system.db.query<OutboundRow>(
    `SELECT m.id, m.conversation_id, m.status, m.purpose, m.body, m.provider_sid, m.error_code, m.failure_reason
     FROM conv_messages m JOIN conv_conversations c ON c.tenant_id = m.tenant_id AND c.id = m.conversation_id
     WHERE m.tenant_id = $1 AND c.caller = $2 AND m.direction = 'out' ORDER BY m.created_at, m.id`,
    [t.demo.id, caller],
  );
  return rows;
}

async function message(id: string): Promise<OutboundRow> {
  const { rows } = await t.system.db.query<OutboundRow>(
    `SELECT id, conversation_id, status, purpose, body, provider_sid, error_code, failure_reason
     FROM conv_messages WHERE tenant_id = $1 AND id = $2`,
    [t.demo.id, id],
  );
  if (!rows[0]) throw new Error(`message ${id} not found`);
  return rows[0];
}

async function conversationOf(caller: string): Promise<{ id: string; state: string }> {
  const { rows } = await t.system.db.query<{ id: string; state: string }>(
    `SELECT id, state FROM conv_conversations WHERE tenant_id = $1 AND caller = $2
     ORDER BY created_at DESC, id LIMIT 1`,
    [t.demo.id, caller],
  );
  if (!rows[0]) throw new Error('no conversation for the caller');
  return rows[0];
}

async function optOut(caller: string): Promise<{ source: string } | undefined> {
  const { rows } = await t.system.db.query<{ source: string }>(
    'SELECT source FROM comp_opt_outs WHERE tenant_id = $1 AND phone = $2',
    [t.demo.id, caller],
  );
  return rows[0];
}

async function outboxEvents(
  conversationId: string,
  name: string,
): Promise<Array<{ payload: Record<string, unknown> }>> {
  const { rows } = await t.system.db.query<{ payload: Record<string, unknown> }>(
    `SELECT payload FROM outbox_events WHERE tenant_id = $1 AND event_name = $2
     AND payload->>'conversation_id' = $3 ORDER BY seq`,
    [t.demo.id, name, conversationId],
  );
  return rows;
}

async function statusEvents(messageId: string): Promise<Array<{ status: string }>> {
  const { rows } = await t.system.db.query<{ status: string }>(
    `SELECT payload->>'status' AS status FROM outbox_events
     WHERE tenant_id = $1 AND event_name = 'nmc.messaging.MessageStatusChanged' AND payload->>'message_id' = $2
     ORDER BY seq`,
    [t.demo.id, messageId],
  );
  return rows;
}

/** Waits until every message the sandbox accepted has had both of its status callbacks. */
async function quiesce(): Promise<void> {
  // Texts to callers get two status callbacks each; alert texts to the team's phones ask for none.
  const toCallers = () => t.sandbox.messages().filter((m) => m.to !== DEMO.forwarding_phone);
  await waitFor(async () => t.sandbox.callbacks().length >= 2 * toCallers().length);
}

function statusPath(messageId: string): string {
  return `/webhooks/twilio/sms/status?${new URLSearchParams({ tenant: t.demo.id, message: messageId })}`;
}

function statusParams(sid: string, status: string, errorCode?: number): Record<string, string> {
  const params: Record<string, string> = {
    AccountSid: t.sandbox.accountSid,
    ApiVersion: '2010-04-01',
    MessageSid: sid,
    MessageStatus: status,
    SmsSid: sid,
    SmsStatus: status,
    From: BUSINESS,
  };
  if (errorCode !== undefined) params.ErrorCode = String(errorCode);
  return params;
}

/** Once every send the business had queued has reached the sandbox, the caller got exactly `sms` texts. */
async function expectQuietly(caller: string, sms: number): Promise<void> {
  await waitUntilSendsSettled(t.system, t.demo.id);
  expect(smsTo(caller)).toHaveLength(sms);
}

// First, while nothing else is in flight: the row counts below are the whole database's.
describe('signature check on every Twilio route', () => {
  const tables = ['conv_conversations', 'conv_messages', 'conv_calls', 'webhook_events', 'outbox_events'];
  const snapshot = async () =>
    Object.fromEntries(await Promise.all(tables.map(async (n) => [n, await count(n)])));

  it('a wrong or missing X-Twilio-Signature gets 403 signature_invalid and writes nothing', async () => {
    const caller = nextCaller();
    const callSid = newSid('CA');
    const call = { AccountSid: t.sandbox.accountSid, CallSid: callSid, From: caller, To: BUSINESS };
    const routes: Array<[string, Record<string, string>]> = [
      ['/webhooks/twilio/voice', call],
      ['/webhooks/twilio/voice/dial-status', { ...call, DialCallStatus: 'no-answer' }],
      ['/webhooks/twilio/voice/screen-result', { ParentCallSid: callSid, Digits: '1' }],
      [
        '/webhooks/twilio/sms',
        { MessageSid: newSid('SM'), From: caller, To: BUSINESS, Body: 'STOP', NumMedia: '0' },
      ],
      [statusPath(randomUUID()), statusParams(newSid('SM'), 'delivered')],
    ];
    const before = await snapshot();
    for (const [path, params] of routes) {
      const forged = signTwilioRequest('not-the-auth-token', `${t.baseUrl}${path}`, params);
      for (const signature of [forged, 'bm90IGEgc2lnbmF0dXJl', '', null]) {
        const response = await t.phone.post(path, params, { signature });
        expect(response.status, `${path} with signature ${String(signature)}`).toBe(403);
        const body = JSON.parse(response.body) as { error: { code: string; correlation_id: string } };
        expect(body.error.code).toBe('signature_invalid');
        expect(body.error.correlation_id).toEqual(expect.any(String));
      }
    }
    expect(await snapshot()).toEqual(before);
    expect(t.sandbox.requests()).toHaveLength(0);

    // Correctly signed with our auth token but naming another Twilio account (or none): refused too.
    for (const accountSid of [`AC${'f'.repeat(32)}`, '']) {
      const foreign = { ...call, AccountSid: accountSid };
      if (!accountSid) delete (foreign as Partial<typeof call>).AccountSid;
      const response = await t.phone.post('/webhooks/twilio/voice', foreign);
      expect(response.status, `AccountSid ${accountSid || '(none)'}`).toBe(403);
      expect((JSON.parse(response.body) as { error: { code: string } }).error.code).toBe('forbidden');
    }
    expect(await snapshot()).toEqual(before);

    // The same parameters, correctly signed, are accepted: the 403s were the signature's doing.
    const accepted = await t.phone.post('/webhooks/twilio/voice', call);
    expect(accepted.status).toBe(200);
    expect(await count('conv_calls WHERE call_sid = $1', [callSid])).toBe(1);
  });
});

describe('missed call → exactly one text', () => {
  it('texts the caller once, from the business number', async () => {
    const caller = nextCaller();
    const { call, dialStatus } = await t.phone.missedCall({ from: caller, to: BUSINESS });
    expect(call.status).toBe(200);
    expect(call.body).toContain('<Dial');
    expect(dialStatus.status).toBe(200);
    const [sms] = await waitForSmsTo(caller, 1);
    expect(sms?.from).toBe(BUSINESS);
    expect(sms?.body).toContain(DEMO.name);
    await expectQuietly(caller, 1);
    expect(await outbound(caller)).toHaveLength(1);
    const { rows } = await t.system.db.query<{ missed: boolean; texted: boolean; dial_status: string }>(
      'SELECT missed, texted, dial_status FROM conv_calls WHERE tenant_id = $1 AND caller = $2',
      [t.demo.id, caller],
    );
    expect(rows).toEqual([{ missed: true, texted: true, dial_status: 'no-answer' }]);
  });

  it('the same dial-status webhook three times in a row → one text, one outbound row', async () => {
    const caller = nextCaller();
    const { callSid } = await t.phone.call({ from: caller, to: BUSINESS });
    for (let i = 0; i < 3; i++) {
      const response = await t.phone.dialStatus({
        callSid,
        from: caller,
        to: BUSINESS,
        dialCallStatus: 'no-answer',
      });
      expect(response.status).toBe(200);
    }
    await waitForSmsTo(caller, 1);
    await expectQuietly(caller, 1);
    expect(await outbound(caller)).toHaveLength(1);
    expect(await count('conv_calls WHERE tenant_id = $1 AND caller = $2', [t.demo.id, caller])).toBe(1);
  });

  it('the same dial-status webhook ten times at once → one text, one outbound row', async () => {
    const caller = nextCaller();
    const { callSid } = await t.phone.call({ from: caller, to: BUSINESS });
    const responses = await Promise.all(
      Array.from({ length: 10 }, () =>
        t.phone.dialStatus({ callSid, from: caller, to: BUSINESS, dialCallStatus: 'no-answer' }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    await waitForSmsTo(caller, 1);
    await expectQuietly(caller, 1);
    expect(await outbound(caller)).toHaveLength(1);
    expect(
      await count("webhook_events WHERE provider = 'twilio' AND event_key = $1", [`dial-status:${callSid}`]),
    ).toBe(1);
  });

  it('three missed calls within five minutes → one text, three missed calls recorded', async () => {
    const caller = nextCaller();
    for (let i = 0; i < 3; i++) {
      const { dialStatus } = await t.phone.missedCall({ from: caller, to: BUSINESS });
      expect(dialStatus.status).toBe(200);
    }
    await waitForSmsTo(caller, 1);
    await expectQuietly(caller, 1);
    expect(await outbound(caller)).toHaveLength(1);
    const { rows } = await t.system.db.query<{ missed: boolean; conversation_id: string | null }>(
      'SELECT missed, conversation_id FROM conv_calls WHERE tenant_id = $1 AND caller = $2',
      [t.demo.id, caller],
    );
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => r.missed)).toBe(true);
    expect(new Set(rows.map((r) => r.conversation_id)).size).toBe(1);
  });
});

describe('which dial outcomes are missed calls', () => {
  it('completed, but the screen was never accepted (voicemail picked up) → texted', async () => {
    const caller = nextCaller();
    const { callSid } = await t.phone.call({ from: caller, to: BUSINESS });
    const response = await t.phone.dialStatus({
      callSid,
      from: caller,
      to: BUSINESS,
      dialCallStatus: 'completed',
      dialCallDuration: 25,
    });
    expect(response.status).toBe(200);
    await waitForSmsTo(caller, 1);
    await expectQuietly(caller, 1);
  });

  it('completed after the business accepted the screen → a real conversation, not texted', async () => {
    const caller = nextCaller();
    const { callSid } = await t.phone.call({ from: caller, to: BUSINESS });
    const screen = await t.phone.post('/webhooks/twilio/voice/screen-result', {
      AccountSid: t.sandbox.accountSid,
      CallSid: newSid('CA'),
      ParentCallSid: callSid,
      Digits: '1',
    });
    expect(screen.status).toBe(200);
    expect(screen.body).not.toContain('<Hangup');
    const response = await t.phone.dialStatus({
      callSid,
      from: caller,
      to: BUSINESS,
      dialCallStatus: 'completed',
      dialCallDuration: 95,
    });
    expect(response.status).toBe(200);
    expect(await outbound(caller)).toHaveLength(0);
    const { rows } = await t.system.db.query<{ missed: boolean; answered_by: string; dial_status: string }>(
      'SELECT missed, answered_by, dial_status FROM conv_calls WHERE tenant_id = $1 AND call_sid = $2',
      [t.demo.id, callSid],
    );
    expect(rows).toEqual([{ missed: false, answered_by: 'human', dial_status: 'completed' }]);
    await expectQuietly(caller, 0);
  });

  it('canceled right after the call started (shorter than calls.min_ring_seconds) → a pocket dial, not texted', async () => {
    const caller = nextCaller();
    const { callSid } = await t.phone.call({ from: caller, to: BUSINESS });
    const response = await t.phone.dialStatus({
      callSid,
      from: caller,
      to: BUSINESS,
      dialCallStatus: 'canceled',
    });
    expect(response.status).toBe(200);
    expect(await outbound(caller)).toHaveLength(0);
    expect(
      await count('conv_calls WHERE tenant_id = $1 AND call_sid = $2 AND NOT missed', [t.demo.id, callSid]),
    ).toBe(1);
    await expectQuietly(caller, 0);
  });

  it('canceled after ringing longer than calls.min_ring_seconds → texted', async () => {
    const caller = nextCaller();
    const { callSid } = await t.phone.call({ from: caller, to: BUSINESS });
    // The call started 10 s ago, as if the caller had let it ring, then hung up.
    await t.system.db.query(
      "UPDATE conv_calls SET created_at = now() - interval '10 seconds' WHERE tenant_id = $1 AND call_sid = $2",
      [t.demo.id, callSid],
    );
    const response = await t.phone.dialStatus({
      callSid,
      from: caller,
      to: BUSINESS,
      dialCallStatus: 'canceled',
    });
    expect(response.status).toBe(200);
    await waitForSmsTo(caller, 1);
    await expectQuietly(caller, 1);
  });

  it.each(['busy', 'failed'] as const)('%s → texted', async (dialCallStatus) => {
    const caller = nextCaller();
    const { callSid } = await t.phone.call({ from: caller, to: BUSINESS });
    const response = await t.phone.dialStatus({ callSid, from: caller, to: BUSINESS, dialCallStatus });
    expect(response.status).toBe(200);
    await waitForSmsTo(caller, 1);
    await expectQuietly(caller, 1);
  });
});

describe('voice webhook edge cases', () => {
  it('a call to a number no tenant owns → valid TwiML saying so, and nothing written', async () => {
    const before = await count('conv_calls');
    const { response } = await t.phone.call({ from: nextCaller(), to: '+14155550100' });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toContain('text/xml');
    expect(response.body).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?><Response>/);
    expect(response.body).toContain('<Say>Sorry, this number is not in service.</Say>');
    expect(response.body).toContain('<Hangup/>');
    expect(response.body).not.toContain('<Dial');
    expect(await count('conv_calls')).toBe(before);
  });

  it('a call without CallSid → an empty <Response/>', async () => {
    const before = await count('conv_calls');
    const response = await t.phone.post('/webhooks/twilio/voice', {
      AccountSid: t.sandbox.accountSid,
      From: nextCaller(),
      To: BUSINESS,
    });
    expect(response.status).toBe(200);
    expect(response.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    expect(await count('conv_calls')).toBe(before);
  });
});

describe('inbound SMS', () => {
  async function inbound(
    caller: string,
  ): Promise<Array<{ body: string; media: string[]; provider_sid: string }>> {
    const { rows } = await t.system.db.query<{ body: string; media: string[]; provider_sid: string }>(
      `SELECT m.body, m.media, m.provider_sid FROM conv_messages m
       JOIN conv_conversations c ON c.tenant_id = m.tenant_id AND c.id = m.conversation_id
       WHERE m.tenant_id = $1 AND c.caller = $2 AND m.direction = 'in' ORDER BY m.created_at`,
      [t.demo.id, caller],
    );
    return rows;
  }

  it('is stored with its body and media', async () => {
    const caller = nextCaller();
    const media = [
      'https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1',
      'https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2.png',
    ];
    const { messageSid, response } = await t.phone.sms({
      from: caller,
      to: BUSINESS,
      body: 'Here is the leak under the sink',
      media,
    });
    expect(response.status).toBe(200);
    expect(response.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    expect(await inbound(caller)).toEqual([
      { body: 'Here is the leak under the sink', media, provider_sid: messageSid },
    ]);
  });

  it('keeps a 1600-character unicode body with emoji exactly', async () => {
    const caller = nextCaller();
    const pattern = Array.from('Wasser läuft 🚰💧 überall — 水漏れ! ');
    const body = Array.from({ length: 1600 }, (_, i) => pattern[i % pattern.length]).join('');
    expect(Array.from(body)).toHaveLength(1600);
    const { response } = await t.phone.sms({ from: caller, to: BUSINESS, body });
    expect(response.status).toBe(200);
    const rows = await inbound(caller);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.body).toBe(body);
  });

  it('the same MessageSid twice → one row', async () => {
    const caller = nextCaller();
    const first = await t.phone.sms({ from: caller, to: BUSINESS, body: 'Is anyone there?' });
    const again = await t.phone.sms({
      from: caller,
      to: BUSINESS,
      body: 'Is anyone there?',
      messageSid: first.messageSid,
    });
    expect(first.response.status).toBe(200);
    expect(again.response.status).toBe(200);
    expect(await inbound(caller)).toHaveLength(1);
    expect(await count('conv_messages WHERE provider_sid = $1', [first.messageSid])).toBe(1);
  });
});

describe('opt-out: STOP and friends', () => {
  it('STOP → opted out, blocked, one confirmation; then no send path sends anything', async () => {
    const caller = nextCaller();
    const { response } = await t.phone.sms({ from: caller, to: BUSINESS, body: 'STOP' });
    expect(response.status).toBe(200);
    expect(await optOut(caller)).toEqual({ source: 'keyword' });
    const conversation = await conversationOf(caller);
    expect(conversation.state).toBe('blocked');
    const [confirmation] = await waitForSmsTo(caller, 1);
    expect(confirmation?.body).toContain('unsubscribed');
    await expectQuietly(caller, 1);
    expect(await outbound(caller)).toHaveLength(1);

    // 1. A missed call: recorded, no greeting.
    const { dialStatus } = await t.phone.missedCall({ from: caller, to: BUSINESS });
    expect(dialStatus.status).toBe(200);
    expect(await outbound(caller)).toHaveLength(1);
    expect(
      await count('conv_calls WHERE tenant_id = $1 AND caller = $2 AND missed', [t.demo.id, caller]),
    ).toBe(1);

    // 2. An operator writes: suppressed, and the conversation says why.
    const result = await dispatch(
      t.demo.id,
      { conversationId: conversation.id },
      {
        type: 'OperatorMessage',
        operatorId: 'user_tech_1',
        body: 'Hi, still need help?',
        at: new Date().toISOString(),
      },
      { correlationId: `test-${randomUUID()}` },
    );
    expect(result.messageIds).toEqual([]);
    expect(result.state).toBe('blocked');
    expect(
      (await outboxEvents(conversation.id, 'nmc.conversation.SendSuppressed')).map((e) => e.payload),
    ).toEqual([{ conversation_id: conversation.id, purpose: 'operator', reason: 'opted_out' }]);
    expect(await outbound(caller)).toHaveLength(1);

    // 3. A queued message whose job the send worker runs (queued before the opt-out, say).
    const queuedId = randomUUID();
    await insertMessage(t.system.db, {
      tenantId: t.demo.id,
      id: queuedId,
      conversationId: conversation.id,
      direction: 'out',
      participant: 'assistant',
      purpose: 'assistant',
      body: 'We can come by tomorrow at 9.',
      status: 'queued',
      at: new Date().toISOString(),
    });
    await t.system.boss.send(QUEUES.smsSend, { tenant_id: t.demo.id, message_id: queuedId, attempt: 1 });
    const blocked = await waitFor(async () => {
      const row = await message(queuedId);
      return row.status === 'failed' ? row : null;
    });
    expect(blocked).toMatchObject({ failure_reason: 'opted_out', provider_sid: null });

    // 4. A dead-lettered send replayed: a new queued message, blocked by the worker again.
    await t.system.boss.send(QUEUES.smsSendDead, { tenant_id: t.demo.id, message_id: queuedId, attempt: 6 });
    expect(await replayDeadSends(t.system.db, t.system.boss)).toBe(1);
    const replayed = await waitFor(async () => {
      const rows = await outbound(caller);
      const copy = rows.find((r) => r.id !== queuedId && r.body === 'We can come by tomorrow at 9.');
      return copy?.status === 'failed' ? copy : null;
    });
    expect(replayed).toMatchObject({ failure_reason: 'opted_out', provider_sid: null });

    await expectQuietly(caller, 1);
    expect(createRequestsTo(caller)).toBe(1);
  });

  it('the same STOP delivered five times at once → one opt-out, one confirmation', async () => {
    const caller = nextCaller();
    const messageSid = newSid('SM');
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => t.phone.sms({ from: caller, to: BUSINESS, body: 'STOP', messageSid })),
    );
    expect(responses.map((r) => r.response.status)).toEqual(Array(5).fill(200));
    expect(await optOut(caller)).toEqual({ source: 'keyword' });
    expect(await count('conv_messages WHERE provider_sid = $1', [messageSid])).toBe(1);
    await waitForSmsTo(caller, 1);
    await expectQuietly(caller, 1);
  });

  it("' stop. ' (lower case, padded, punctuated) is STOP too", async () => {
    const caller = nextCaller();
    const { response } = await t.phone.sms({ from: caller, to: BUSINESS, body: ' stop. ' });
    expect(response.status).toBe(200);
    expect(await optOut(caller)).toEqual({ source: 'keyword' });
    expect((await conversationOf(caller)).state).toBe('blocked');
    await waitForSmsTo(caller, 1);
    await expectQuietly(caller, 1);
  });

  it('OptOutType=STOP (Twilio Advanced Opt-Out answered already) → recorded, no second confirmation', async () => {
    const caller = nextCaller();
    const { response } = await t.phone.sms({ from: caller, to: BUSINESS, body: 'STOP', optOutType: 'STOP' });
    expect(response.status).toBe(200);
    expect(await optOut(caller)).toEqual({ source: 'provider' });
    expect((await conversationOf(caller)).state).toBe('blocked');
    expect(await outbound(caller)).toHaveLength(0);
    await expectQuietly(caller, 0);
  });

  it('"stop by at 5" is a sentence, not an opt-out', async () => {
    const caller = nextCaller();
    const { response } = await t.phone.sms({ from: caller, to: BUSINESS, body: 'stop by at 5' });
    expect(response.status).toBe(200);
    expect(await optOut(caller)).toBeUndefined();
    expect((await conversationOf(caller)).state).toBe('open');
    const outgoing = await outbound(caller);
    expect(outgoing.every((m) => m.purpose !== 'compliance')).toBe(true);
  });

  it('START → opt-out cleared, conversation open, a confirmation, and the next missed call is texted', async () => {
    const caller = nextCaller();
    await t.phone.sms({ from: caller, to: BUSINESS, body: 'STOP' });
    await waitForSmsTo(caller, 1);
    const { response } = await t.phone.sms({ from: caller, to: BUSINESS, body: 'START' });
    expect(response.status).toBe(200);
    expect(await optOut(caller)).toBeUndefined();
    expect((await conversationOf(caller)).state).toBe('open');
    const afterStart = await waitForSmsTo(caller, 2);
    expect(afterStart[1]?.body).toContain('resubscribed');

    await t.phone.missedCall({ from: caller, to: BUSINESS });
    const afterCall = await waitForSmsTo(caller, 3);
    expect(afterCall[2]?.body).toContain('missed your call');
    await expectQuietly(caller, 3);
  });

  it('HELP → one text with the help text and how to opt out', async () => {
    const caller = nextCaller();
    const { response } = await t.phone.sms({ from: caller, to: BUSINESS, body: 'HELP' });
    expect(response.status).toBe(200);
    const [help] = await waitForSmsTo(caller, 1);
    expect(help?.body).toContain('Reply to this number to reach us.');
    expect(help?.body).toContain('STOP');
    await expectQuietly(caller, 1);
    expect(await optOut(caller)).toBeUndefined();
  });
});

describe('10DLC campaign not approved', () => {
  it('a missed call sends nothing, and the conversation records why', async () => {
    const caller = nextCaller();
    await t.system.db.query("UPDATE comp_campaigns SET status = 'pending' WHERE tenant_id = $1", [t.demo.id]);
    try {
      const { dialStatus } = await t.phone.missedCall({ from: caller, to: BUSINESS });
      expect(dialStatus.status).toBe(200);
      const conversation = await conversationOf(caller);
      expect(
        (await outboxEvents(conversation.id, 'nmc.conversation.SendSuppressed')).map((e) => e.payload),
      ).toEqual([{ conversation_id: conversation.id, purpose: 'greeting', reason: 'campaign_not_approved' }]);
      expect(await outbound(caller)).toHaveLength(0);
      await expectQuietly(caller, 0);
      expect(createRequestsTo(caller)).toBe(0);
    } finally {
      await t.system.db.query("UPDATE comp_campaigns SET status = 'approved' WHERE tenant_id = $1", [
        t.demo.id,
      ]);
    }
  });
});

describe('delivery status callbacks', () => {
  it('late `sent` and `queued` callbacks never move a delivered message back', async () => {
    const caller = nextCaller();
    await t.phone.missedCall({ from: caller, to: BUSINESS });
    const delivered = await waitFor(async () => {
      const [row] = await outbound(caller);
      return row?.status === 'delivered' ? row : null;
    });
    const sid = delivered.provider_sid;
    if (!sid) throw new Error('delivered without a provider sid');
    expect(sid).toBe(smsTo(caller)[0]?.sid);
    const eventsBefore = await statusEvents(delivered.id);
    expect(eventsBefore.map((e) => e.status)).toEqual(['sent', 'delivered']);

    for (const status of ['sent', 'queued', 'sending']) {
      const response = await t.phone.post(statusPath(delivered.id), statusParams(sid, status));
      expect(response.status).toBe(204);
    }
    expect((await message(delivered.id)).status).toBe('delivered');
    expect(await statusEvents(delivered.id)).toEqual(eventsBefore);
  });

  it('`undelivered` 30005 after `sent` → failed with the error code; the same callback twice → one event', async () => {
    await quiesce();
    const caller = nextCaller();
    // The sandbox's own callbacks for this message are lost; the test plays the carrier instead.
    t.sandbox.dropNextCallbacks(2);
    await t.phone.missedCall({ from: caller, to: BUSINESS });
    const [sms] = await waitForSmsTo(caller, 1);
    if (!sms) throw new Error('no sms');
    await waitFor(async () => t.sandbox.callbacks().filter((c) => c.messageSid === sms.sid).length === 2);
    const pending = await waitFor(async () => {
      const [row] = await outbound(caller);
      return row?.provider_sid ? row : null;
    });
    expect(pending.status).toBe('sending');

    expect((await t.phone.post(statusPath(pending.id), statusParams(sms.sid, 'sent'))).status).toBe(204);
    expect((await message(pending.id)).status).toBe('sent');

    const undelivered = statusParams(sms.sid, 'undelivered', 30005);
    expect((await t.phone.post(statusPath(pending.id), undelivered)).status).toBe(204);
    expect((await t.phone.post(statusPath(pending.id), undelivered)).status).toBe(204);
    expect(await message(pending.id)).toMatchObject({ status: 'failed', error_code: '30005' });
    expect((await statusEvents(pending.id)).map((e) => e.status)).toEqual(['sent', 'failed']);

    // A late `delivered` after the failure changes nothing either.
    expect((await t.phone.post(statusPath(pending.id), statusParams(sms.sid, 'delivered'))).status).toBe(204);
    expect((await message(pending.id)).status).toBe('failed');
  });
});

// An opt-out that reaches us from the carrier rather than as a STOP keyword (refused at send with
// 21610, or an `undelivered` callback with 21610), and a START that finds no blocked conversation
// (an operator closed it): each must still reach the conversation machine and the opt-out registry.
describe('opt-outs that do not come from a keyword on the blocked conversation', () => {
  it('refused at send with 21610 → the opt-out is recorded and the conversation is blocked', async () => {
    const caller = nextCaller();
    t.sandbox.rejectTo(caller, 21610);
    try {
      await t.phone.missedCall({ from: caller, to: BUSINESS });
      const failed = await waitFor(async () => {
        const [row] = await outbound(caller);
        return row?.status === 'failed' ? row : null;
      });
      expect(failed).toMatchObject({ error_code: '21610', provider_sid: null });
    } finally {
      t.sandbox.clearFaults();
    }
    expect(await optOut(caller)).toEqual({ source: 'carrier' });
    expect((await conversationOf(caller)).state).toBe('blocked');

    // START is how the caller comes back; it must be confirmed and reopen the conversation.
    await t.phone.sms({ from: caller, to: BUSINESS, body: 'START' });
    expect(await optOut(caller)).toBeUndefined();
    expect((await conversationOf(caller)).state).toBe('open');
    await waitUntilSendsSettled(t.system, t.demo.id);
    expect(smsTo(caller).map((m) => m.body)).toEqual([expect.stringContaining('resubscribed')]);
  });

  it('an `undelivered` callback with ErrorCode 21610 → the opt-out is recorded and the conversation is blocked', async () => {
    await quiesce();
    const caller = nextCaller();
    t.sandbox.dropNextCallbacks(2);
    await t.phone.missedCall({ from: caller, to: BUSINESS });
    const [sms] = await waitForSmsTo(caller, 1);
    if (!sms) throw new Error('no sms');
    const pending = await waitFor(async () => {
      const [row] = await outbound(caller);
      return row?.provider_sid ? row : null;
    });
    const response = await t.phone.post(statusPath(pending.id), statusParams(sms.sid, 'undelivered', 21610));
    expect(response.status).toBe(204);
    expect(await message(pending.id)).toMatchObject({ status: 'failed', error_code: '21610' });
    expect(await optOut(caller)).toEqual({ source: 'carrier' });
    expect((await conversationOf(caller)).state).toBe('blocked');
  });

  it('STOP, the blocked conversation closed by an operator, then START → a confirmation', async () => {
    const caller = nextCaller();
    await t.phone.sms({ from: caller, to: BUSINESS, body: 'STOP' });
    await waitForSmsTo(caller, 1);
    const blocked = await conversationOf(caller);
    await dispatch(
      t.demo.id,
      { conversationId: blocked.id },
      { type: 'CloseRequested', operatorId: 'user_tech_1', at: new Date().toISOString() },
      { correlationId: `test-${randomUUID()}` },
    );
    expect((await conversationOf(caller)).state).toBe('closed');

    const { response } = await t.phone.sms({ from: caller, to: BUSINESS, body: 'START' });
    expect(response.status).toBe(200);
    expect(await optOut(caller)).toBeUndefined();
    await waitUntilSendsSettled(t.system, t.demo.id);
    expect(smsTo(caller).map((m) => m.body)).toEqual([
      expect.stringContaining('unsubscribed'),
      expect.stringContaining('resubscribed'),
    ]);
  });
});

describe('logs', () => {
  it('no caller number or message body appears in any log line', () => {
    const lines = t.logLines();
    expect(lines.length).toBeGreaterThan(0);
    const leaks = lines.filter((line) =>
      /\+1310555\d{4}|missed your call|unsubscribed|leak under the sink/.test(line),
    );
    expect(leaks).toEqual([]);
  });
});
