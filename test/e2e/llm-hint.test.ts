import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/persistence/seed-demo.ts';
import { type LlmSandbox, startLlmSandbox } from '../../src/providers/llm/sandbox/server.ts';
import { startTestSystem, type TestSystem, waitFor } from '../helpers/system.ts';

// The whole system with LLM_BASE_URL pointing at the language-model sandbox: a text the
// deterministic matcher does not understand is quoted from the model's hint, and when the model
// fails the deterministic path still answers. The texts are the tenant's templates either way.

let llm: LlmSandbox;
let t: TestSystem;
beforeAll(async () => {
  llm = await startLlmSandbox({ apiKey: 'sk-sandbox-e2e' });
  t = await startTestSystem({ LLM_BASE_URL: llm.url, LLM_API_KEY: 'sk-sandbox-e2e', LLM_MODEL: 'sandbox-1' });
});
afterAll(async () => {
  await t?.stop();
  await llm?.close();
});

async function textsTo(caller: string, count: number): Promise<string[]> {
  return waitFor(async () => {
    const bodies = t.sandbox
      .messages()
      .filter((m) => m.to === caller)
      .map((m) => m.body);
    return bodies.length >= count ? bodies : null;
  });
}

describe('the language model hint', () => {
  it('gets a quote for a text only the model understands', async () => {
    llm.teach('the thing with the pipes', { intent: 'service', service: 'Drain cleaning' });
    const caller = '+13105550181';
    await t.phone.missedCall({ from: caller, to: DEMO.twilio_number });
    await textsTo(caller, 1);

    await t.phone.sms({ from: caller, to: DEMO.twilio_number, body: 'it is the thing with the pipes again' });
    const quote = (await textsTo(caller, 2))[1] ?? '';
    expect(quote).toContain('Drain cleaning is $149.00');
    expect(quote).toMatch(/1\) .+ \d{1,2}:\d\d [AP]M 2\) .+ \d{1,2}:\d\d [AP]M 3\) .+ \d{1,2}:\d\d [AP]M/);

    const [request] = llm.requests();
    expect(request).toMatchObject({ authorized: true, model: 'sandbox-1', status: 200 });
    // The model was told the active catalog and where the dialogue is; it was not asked to reply.
    const body = request?.body as { messages?: Array<{ content: string }> } | undefined;
    const user = body?.messages?.[1]?.content ?? '';
    expect(JSON.parse(user)).toMatchObject({
      step: 'idle',
      customer_message: 'it is the thing with the pipes again',
    });
    expect(user).toContain('Drain cleaning');

    // STOP-family keywords never go to the model.
    const before = llm.requests().length;
    await t.phone.sms({ from: caller, to: DEMO.twilio_number, body: 'STOP' });
    await waitFor(async () => {
      const { rows } = await t.system.db.query('SELECT state FROM conv_conversations WHERE caller = $1', [
        caller,
      ]);
      return rows[0]?.state === 'blocked';
    });
    expect(llm.requests()).toHaveLength(before);
  });

  it('falls back to the deterministic path when the model fails', async () => {
    llm.reset();
    llm.setFault({ kind: 'status', status: 500 });
    const caller = '+13105550182';
    await t.phone.missedCall({ from: caller, to: DEMO.twilio_number });
    await textsTo(caller, 1);

    // Only the model understood this one: without it, the assistant says it did not get it.
    await t.phone.sms({ from: caller, to: DEMO.twilio_number, body: 'the thing with the pipes' });
    expect((await textsTo(caller, 2))[1]).toContain("didn't get that");

    await t.phone.sms({ from: caller, to: DEMO.twilio_number, body: 'my drain is clogged' });
    expect((await textsTo(caller, 3))[2]).toContain('Drain cleaning is $149.00');
    expect(llm.requests().map((r) => r.status)).toEqual([500, 500]);
  });

  it('falls back when the model is slow or answers nonsense', async () => {
    llm.reset();
    llm.setFault({ kind: 'wrong-shape' });
    const caller = '+13105550183';
    await t.phone.missedCall({ from: caller, to: DEMO.twilio_number });
    await textsTo(caller, 1);
    await t.phone.sms({ from: caller, to: DEMO.twilio_number, body: 'my drain is clogged' });
    const quote = (await textsTo(caller, 2))[1] ?? '';
    expect(quote).toContain('Drain cleaning is $149.00');
    // The sandbox's composed reply never reaches the caller.
    expect(quote).not.toContain('Sure!');

    llm.setFault({ kind: 'delay', ms: 5_000 });
    await t.phone.sms({ from: caller, to: DEMO.twilio_number, body: '2' });
    expect((await textsTo(caller, 3))[2]).toContain('Reply YES');
  });
});
