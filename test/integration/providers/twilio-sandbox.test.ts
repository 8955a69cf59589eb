import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  classifyTwilioError,
  createTwilioClient,
  findSentMessage,
  rewriteApiUri,
  sendSms,
  type TwilioClient,
} from '../../../src/providers/twilio/client.ts';
import { startTwilioSandbox, type TwilioSandbox } from '../../../src/providers/twilio/sandbox/server.ts';
import { isValidTwilioSignature, signTwilioRequest } from '../../../src/providers/twilio/signature.ts';
import { type FormReceiver, startFormReceiver } from './form-receiver.ts';

// The real twilio SDK, built by createTwilioClient, against the sandbox: what the send job will see.

const ACCOUNT_SID = `AC${'0123456789abcdef'.repeat(2)}`;
const AUTH_TOKEN = 'f'.repeat(32);
const BUSINESS = '+15005550006';
const CALLER = '+13105551212';
const STATUS_PATH = '/webhooks/twilio/sms/status';

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}

describe('twilio sandbox through the real SDK', () => {
  let sandbox: TwilioSandbox;
  let client: TwilioClient;
  let receiver: FormReceiver;

  beforeAll(async () => {
    sandbox = await startTwilioSandbox({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    client = createTwilioClient({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      apiBaseUrl: sandbox.url,
      timeoutMs: 2000,
    });
    receiver = await startFormReceiver();
  });

  afterEach(() => {
    sandbox.reset();
    receiver.received.length = 0;
  });

  afterAll(async () => {
    await sandbox.close();
    await receiver.close();
  });

  const sms = (overrides: { to?: string; body?: string } = {}) => ({
    from: BUSINESS,
    to: overrides.to ?? CALLER,
    body: overrides.body ?? 'Sorry we missed your call! How can we help?',
    statusCallback: `${receiver.url}${STATUS_PATH}`,
  });

  it('creates a message and reads it back', async () => {
    const sent = await sendSms(client, sms());
    expect(sent.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(sent.status).toBe('queued');

    const fetched = await client.messages(sent.sid).fetch();
    expect(fetched.sid).toBe(sent.sid);
    expect(fetched.accountSid).toBe(ACCOUNT_SID);
    expect(fetched.to).toBe(CALLER);
    expect(fetched.from).toBe(BUSINESS);
    expect(fetched.body).toBe(sms().body);
    expect(fetched.numSegments).toBe('1');
    expect(fetched.dateCreated).toBeInstanceOf(Date);
    expect(Number.isNaN(fetched.dateCreated.getTime())).toBe(false);

    const [recorded] = await sandbox.waitForMessages(1, 1000);
    expect(recorded?.sid).toBe(sent.sid);
    expect(recorded?.statusCallback).toBe(`${receiver.url}${STATUS_PATH}`);
    expect(recorded?.receivedAt.date).toBeInstanceOf(Date);
    expect(typeof recorded?.receivedAt.monotonicMs).toBe('number');
    const create = sandbox.requests().find((r) => r.method === 'POST');
    expect(create?.authenticated).toBe(true);
    expect(create?.params.To).toBe(CALLER);
    expect(create?.response?.status).toBe(201);
  });

  it('sends media as an MMS', async () => {
    const sent = await sendSms(client, {
      ...sms(),
      mediaUrl: ['https://example.com/a.jpg', 'https://example.com/b.png'],
    });
    expect(sent.sid).toMatch(/^MM[0-9a-f]{32}$/);
    expect(sandbox.message(sent.sid)?.mediaUrls).toEqual([
      'https://example.com/a.jpg',
      'https://example.com/b.png',
    ]);
  });

  it('classifies wrong credentials as permanent (401)', async () => {
    const wrong = createTwilioClient({
      accountSid: ACCOUNT_SID,
      authToken: 'e'.repeat(32),
      apiBaseUrl: sandbox.url,
    });
    const verdict = classifyTwilioError(await caught(sendSms(wrong, sms())));
    expect(verdict).toMatchObject({ kind: 'permanent', status: 401, code: 20003 });
    expect(sandbox.messages()).toHaveLength(0);
    expect(sandbox.requests()[0]?.authenticated).toBe(false);
  });

  it('classifies 429 as retryable, then succeeds', async () => {
    sandbox.failNext(1, { status: 429 });
    const verdict = classifyTwilioError(await caught(sendSms(client, sms())));
    expect(verdict).toMatchObject({ kind: 'retryable', status: 429, code: 20429 });
    await expect(sendSms(client, sms())).resolves.toMatchObject({ status: 'queued' });
    expect(sandbox.messages()).toHaveLength(1);
  });

  it('classifies 500 as retryable', async () => {
    sandbox.failNext(1, { status: 500 });
    expect(classifyTwilioError(await caught(sendSms(client, sms())))).toMatchObject({
      kind: 'retryable',
      status: 500,
    });
  });

  it('classifies a carrier-level opt-out (21610) as opted_out and an invalid number (21211) as permanent', async () => {
    sandbox.rejectTo(CALLER, 21610);
    expect(classifyTwilioError(await caught(sendSms(client, sms())))).toMatchObject({
      kind: 'opted_out',
      status: 400,
      code: 21610,
    });

    sandbox.rejectTo('+13105550000', 21211);
    const invalid = classifyTwilioError(await caught(sendSms(client, sms({ to: '+13105550000' }))));
    expect(invalid).toMatchObject({ kind: 'permanent', status: 400, code: 21211 });
    expect(invalid.message).not.toContain('3105550000');

    expect(classifyTwilioError(await caught(sendSms(client, sms({ to: '310-555' }))))).toMatchObject({
      kind: 'permanent',
      code: 21211,
    });
    expect(sandbox.messages()).toHaveLength(0);
  });

  it('classifies a timeout as retryable, while the sandbox still accepted the message', async () => {
    const impatient = createTwilioClient({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      apiBaseUrl: sandbox.url,
      timeoutMs: 100,
    });
    sandbox.delayNext(1, 1000);
    const started = performance.now();
    const err = await caught(sendSms(impatient, sms()));
    expect(performance.now() - started).toBeLessThan(900);
    const verdict = classifyTwilioError(err);
    expect(verdict.kind).toBe('retryable');
    expect(verdict.status).toBeUndefined();
    expect(verdict.message).toMatch(/timeout/i);
    expect(verdict.ambiguous).toBe(true);
    // The ambiguity a retry must live with: Twilio may have sent it anyway.
    expect(sandbox.messages()).toHaveLength(1);
  });

  it('finds a message it accepted by To, From, body and date, and misses another body', async () => {
    const sent = await sendSms(client, sms());
    await sendSms(client, sms({ to: '+13105551313' }));
    const sentAfter = new Date(Date.now() - 60_000);
    expect(
      await findSentMessage(client, { to: CALLER, from: BUSINESS, body: sms().body, sentAfter }),
    ).toMatchObject({ sid: sent.sid });
    expect(
      await findSentMessage(client, { to: CALLER, from: BUSINESS, body: 'Something else', sentAfter }),
    ).toBe(null);
    expect(
      await findSentMessage(client, {
        to: CALLER,
        from: BUSINESS,
        body: sms().body,
        sentAfter: new Date(Date.now() + 60_000),
      }),
    ).toBe(null);
    const list = sandbox.requests().find((r) => r.method === 'GET' && r.path.endsWith('/Messages.json'));
    expect(list?.authenticated).toBe(true);
    // Let both deliveries finish so their callbacks do not land in the next test.
    await sandbox.waitForCallbacks(4);
    await receiver.waitFor(4);
  });

  it('classifies a timeout or a reset as ambiguous, a refused connection and HTTP answers as not', () => {
    const timeout = Object.assign(new Error('timeout of 100ms exceeded'), { code: 'ECONNABORTED' });
    expect(classifyTwilioError(timeout)).toMatchObject({ kind: 'retryable', ambiguous: true });
    expect(classifyTwilioError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toMatchObject({
      kind: 'retryable',
      ambiguous: true,
    });
    expect(classifyTwilioError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toMatchObject({
      kind: 'retryable',
      ambiguous: false,
    });
    for (const status of [429, 500, 503, 400]) {
      expect(classifyTwilioError({ status, code: 20000 + status, message: 'x' }).ambiguous).toBe(false);
    }
  });

  it('classifies an unreachable API as retryable', async () => {
    const down = await startTwilioSandbox({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    const url = down.url;
    await down.close();
    const unreachable = createTwilioClient({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      apiBaseUrl: url,
    });
    expect(classifyTwilioError(await caught(sendSms(unreachable, sms())))).toMatchObject({
      kind: 'retryable',
    });
  });

  it('sends signed status callbacks in order: sent, then delivered', async () => {
    const sent = await sendSms(client, sms());
    const [first, second] = await receiver.waitFor(2);
    for (const callback of [first, second]) {
      expect(callback?.path).toBe(STATUS_PATH);
      expect(
        isValidTwilioSignature({
          authToken: AUTH_TOKEN,
          signature: callback?.headers['x-twilio-signature'] as string,
          url: `${receiver.url}${STATUS_PATH}`,
          params: callback?.params ?? {},
        }),
      ).toBe(true);
      expect(callback?.params).toMatchObject({
        MessageSid: sent.sid,
        SmsSid: sent.sid,
        AccountSid: ACCOUNT_SID,
        From: BUSINESS,
        To: CALLER,
        ApiVersion: '2010-04-01',
      });
      expect(callback?.params.ErrorCode).toBeUndefined();
    }
    expect([first?.params.MessageStatus, second?.params.MessageStatus]).toEqual(['sent', 'delivered']);
    expect(second?.params.SmsStatus).toBe('delivered');

    const recorded = await sandbox.waitForCallbacks(2);
    expect(recorded.map((c) => c.outcome)).toEqual([
      { kind: 'answered', status: 200 },
      { kind: 'answered', status: 200 },
    ]);
    expect((await client.messages(sent.sid).fetch()).status).toBe('delivered');
  });

  it('reports an undeliverable handset with an ErrorCode', async () => {
    sandbox.undeliverableTo(CALLER, { status: 'undelivered', errorCode: 30003 });
    const sent = await sendSms(client, sms());
    const [, last] = await receiver.waitFor(2);
    expect(last?.params).toMatchObject({ MessageStatus: 'undelivered', ErrorCode: '30003' });
    const fetched = await client.messages(sent.sid).fetch();
    expect(fetched.status).toBe('undelivered');
    expect(fetched.errorCode).toBe(30003);
  });

  it('moves statuses even when callbacks are lost, so polling sees them', async () => {
    sandbox.dropNextCallbacks(2);
    const sent = await sendSms(client, sms());
    const callbacks = await sandbox.waitForCallbacks(2);
    expect(callbacks.map((c) => c.outcome.kind)).toEqual(['dropped', 'dropped']);
    expect(receiver.received).toHaveLength(0);
    expect((await client.messages(sent.sid).fetch()).status).toBe('delivered');
  });

  it('answers 404 for a message it does not know', async () => {
    const verdict = classifyTwilioError(await caught(client.messages(`SM${'0'.repeat(32)}`).fetch()));
    expect(verdict).toMatchObject({ kind: 'permanent', status: 404, code: 20404 });
  });
});

describe('out-of-order carrier', () => {
  it('can deliver the final callback before the sent one', async () => {
    const sandbox = await startTwilioSandbox({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      delivery: { outOfOrder: true, sentAfterMs: 1, deliveredAfterMs: 1 },
    });
    const receiver = await startFormReceiver();
    try {
      const client = createTwilioClient({
        accountSid: ACCOUNT_SID,
        authToken: AUTH_TOKEN,
        apiBaseUrl: sandbox.url,
      });
      await sendSms(client, { from: BUSINESS, to: CALLER, body: 'hi', statusCallback: `${receiver.url}/cb` });
      const statuses = (await receiver.waitFor(2)).map((r) => r.params.MessageStatus);
      expect(statuses).toEqual(['delivered', 'sent']);
    } finally {
      await sandbox.close();
      await receiver.close();
    }
  });
});

describe('twilio signatures', () => {
  const url = 'https://nmc.example.com/webhooks/twilio/sms?tenant=demo';
  const params = { From: CALLER, To: BUSINESS, Body: 'STOP', MessageSid: `SM${'a'.repeat(32)}` };

  it('round-trips', () => {
    const signature = signTwilioRequest(AUTH_TOKEN, url, params);
    expect(isValidTwilioSignature({ authToken: AUTH_TOKEN, signature, url, params })).toBe(true);
    // Twilio may or may not include the default port; the SDK accepts both forms.
    const withPort = 'https://nmc.example.com:443/webhooks/twilio/sms?tenant=demo';
    expect(isValidTwilioSignature({ authToken: AUTH_TOKEN, signature, url: withPort, params })).toBe(true);
  });

  it('rejects a tampered parameter, another URL, another token, and a missing signature', () => {
    const signature = signTwilioRequest(AUTH_TOKEN, url, params);
    const check = (overrides: Partial<Parameters<typeof isValidTwilioSignature>[0]>) =>
      isValidTwilioSignature({ authToken: AUTH_TOKEN, signature, url, params, ...overrides });
    expect(check({ params: { ...params, Body: 'START' } })).toBe(false);
    expect(check({ params: { ...params, Extra: '1' } })).toBe(false);
    expect(check({ url: 'https://evil.example.com/webhooks/twilio/sms?tenant=demo' })).toBe(false);
    expect(check({ authToken: 'e'.repeat(32) })).toBe(false);
    expect(check({ signature: undefined })).toBe(false);
    expect(check({ signature: '' })).toBe(false);
    expect(check({ url: 'not a url' })).toBe(false);
  });

  it('signs a repeated key by its values', () => {
    const repeated = { MediaUrl: ['https://x/b.jpg', 'https://x/a.jpg'], To: BUSINESS };
    const signature = signTwilioRequest(AUTH_TOKEN, url, repeated);
    expect(isValidTwilioSignature({ authToken: AUTH_TOKEN, signature, url, params: repeated })).toBe(true);
    const lastOnly = { MediaUrl: 'https://x/a.jpg', To: BUSINESS };
    expect(isValidTwilioSignature({ authToken: AUTH_TOKEN, signature, url, params: lastOnly })).toBe(false);
  });
});

describe('client plumbing', () => {
  it('rewrites scheme, host and port, keeping path and query', () => {
    const uri = 'https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?PageSize=5&To=%2B1310';
    expect(rewriteApiUri(uri, new URL('http://127.0.0.1:4010'))).toBe(
      'http://127.0.0.1:4010/2010-04-01/Accounts/AC1/Messages.json?PageSize=5&To=%2B1310',
    );
    expect(rewriteApiUri(uri, new URL('http://127.0.0.1:4010/twilio/'))).toBe(
      'http://127.0.0.1:4010/twilio/2010-04-01/Accounts/AC1/Messages.json?PageSize=5&To=%2B1310',
    );
  });

  it('refuses a base URL it cannot use', () => {
    const base = { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN };
    expect(() => createTwilioClient({ ...base, apiBaseUrl: 'ftp://127.0.0.1' })).toThrow(/http/);
    expect(() => createTwilioClient({ ...base, apiBaseUrl: 'http://u:p@127.0.0.1' })).toThrow(/credentials/);
    expect(() => createTwilioClient({ ...base, apiBaseUrl: 'nope' })).toThrow(/absolute/);
    expect(() => createTwilioClient({ ...base, timeoutMs: 0 })).toThrow(/timeoutMs/);
  });

  it('treats unrecognised throwables as permanent', () => {
    expect(classifyTwilioError(new Error('boom'))).toMatchObject({ kind: 'permanent', message: 'boom' });
    expect(classifyTwilioError('weird')).toMatchObject({ kind: 'permanent', message: 'weird' });
    expect(classifyTwilioError({ status: 503, code: 20503, message: 'down' })).toMatchObject({
      kind: 'retryable',
    });
    expect(classifyTwilioError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toMatchObject({
      kind: 'retryable',
    });
  });
});
