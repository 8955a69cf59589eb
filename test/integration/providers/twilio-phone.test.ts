import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSimulatedPhone } from '../../../src/providers/twilio/sandbox/phone.ts';
import { isValidTwilioSignature } from '../../../src/providers/twilio/signature.ts';
import { type FormReceiver, type ReceivedForm, startFormReceiver } from './form-receiver.ts';

// The simulated phone sends what Twilio would: signed over the app's public URL, with the fields the
// app's webhook routes read.

const ACCOUNT_SID = `AC${'0123456789abcdef'.repeat(2)}`;
const AUTH_TOKEN = 'f'.repeat(32);
const PUBLIC_BASE_URL = 'https://nmc.example.com';
const BUSINESS = '+15005550006';
const CALLER = '+13105551212';

function signedForPublicUrl(request: ReceivedForm | undefined): boolean {
  return isValidTwilioSignature({
    authToken: AUTH_TOKEN,
    signature: request?.headers['x-twilio-signature'] as string | undefined,
    url: `${PUBLIC_BASE_URL}${request?.path ?? ''}`,
    params: request?.params ?? {},
  });
}

describe('simulated phone', () => {
  let app: FormReceiver;
  let phone: ReturnType<typeof createSimulatedPhone>;

  beforeAll(async () => {
    app = await startFormReceiver();
    phone = createSimulatedPhone({
      appBaseUrl: app.url,
      publicBaseUrl: PUBLIC_BASE_URL,
      authToken: AUTH_TOKEN,
      accountSid: ACCOUNT_SID,
    });
  });
  afterEach(() => {
    app.received.length = 0;
  });
  afterAll(() => app.close());

  it('places a missed call: voice webhook, then dial-status no-answer', async () => {
    const { callSid, call, dialStatus } = await phone.missedCall({ from: CALLER, to: BUSINESS });
    expect(callSid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(call.status).toBe(200);
    expect(dialStatus.body).toBe('<Response/>');
    const [voice, dial] = app.received;
    expect(voice?.path).toBe('/webhooks/twilio/voice');
    expect(voice?.params).toMatchObject({
      CallSid: callSid,
      AccountSid: ACCOUNT_SID,
      From: CALLER,
      Caller: CALLER,
      To: BUSINESS,
      Called: BUSINESS,
      CallStatus: 'ringing',
      Direction: 'inbound',
      ApiVersion: '2010-04-01',
    });
    expect(dial?.path).toBe('/webhooks/twilio/voice/dial-status');
    expect(dial?.params).toMatchObject({
      CallSid: callSid,
      DialCallStatus: 'no-answer',
      CallStatus: 'in-progress',
    });
    expect(dial?.params.DialCallSid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(signedForPublicUrl(voice)).toBe(true);
    expect(signedForPublicUrl(dial)).toBe(true);
    // Signed for the public URL, so validating against the address it reached must fail.
    expect(
      isValidTwilioSignature({
        authToken: AUTH_TOKEN,
        signature: voice?.headers['x-twilio-signature'] as string,
        url: `${app.url}/webhooks/twilio/voice`,
        params: voice?.params ?? {},
      }),
    ).toBe(false);
    expect(voice?.headers['i-twilio-idempotency-token']).toBeTruthy();
  });

  it('texts with media and an opt-out type', async () => {
    const { messageSid } = await phone.sms({
      from: CALLER,
      to: BUSINESS,
      body: 'STOP',
      media: ['https://example.com/p.png'],
      optOutType: 'STOP',
    });
    expect(messageSid).toMatch(/^MM[0-9a-f]{32}$/);
    const [inbound] = app.received;
    expect(inbound?.path).toBe('/webhooks/twilio/sms');
    expect(inbound?.params).toMatchObject({
      MessageSid: messageSid,
      SmsMessageSid: messageSid,
      Body: 'STOP',
      NumMedia: '1',
      MediaUrl0: 'https://example.com/p.png',
      MediaContentType0: 'image/png',
      OptOutType: 'STOP',
      SmsStatus: 'received',
    });
    expect(signedForPublicUrl(inbound)).toBe(true);
  });

  it('replays an inbound message with the same sid', async () => {
    const first = await phone.sms({ from: CALLER, to: BUSINESS, body: 'hi' });
    await phone.sms({ from: CALLER, to: BUSINESS, body: 'hi', messageSid: first.messageSid });
    expect(first.messageSid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(app.received.map((r) => r.params.MessageSid)).toEqual([first.messageSid, first.messageSid]);
  });

  it('reports a delivery status', async () => {
    await phone.status({
      messageSid: `SM${'b'.repeat(32)}`,
      status: 'failed',
      errorCode: 30007,
      from: BUSINESS,
    });
    const [status] = app.received;
    expect(status?.path).toBe('/webhooks/twilio/sms/status');
    expect(status?.params).toMatchObject({
      MessageStatus: 'failed',
      SmsStatus: 'failed',
      ErrorCode: '30007',
    });
    expect(signedForPublicUrl(status)).toBe(true);
  });

  it('sends a missing or bad signature on request', async () => {
    await phone.post('/webhooks/twilio/sms', { Body: 'x' }, { signature: null });
    await phone.post('/webhooks/twilio/sms', { Body: 'x' }, { signature: 'bm90IGEgc2lnbmF0dXJl' });
    const [unsigned, forged] = app.received;
    expect(unsigned?.headers['x-twilio-signature']).toBeUndefined();
    expect(forged?.headers['x-twilio-signature']).toBe('bm90IGEgc2lnbmF0dXJl');
    expect(signedForPublicUrl(forged)).toBe(false);
  });
});
