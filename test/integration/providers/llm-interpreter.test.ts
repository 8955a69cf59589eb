import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ReplyQuestion, validHint } from '../../../src/domain/reply-hint.ts';
import { createReplyInterpreter, SYSTEM_PROMPT } from '../../../src/providers/llm/client.ts';
import { type LlmSandbox, startLlmSandbox } from '../../../src/providers/llm/sandbox/server.ts';

// The language-model adapter against the sandbox `/chat/completions`: a good answer is a hint; every
// failure (status, timeout, nonsense, wrong shape, no server) is null, and nothing the caller wrote
// reaches the log.

const API_KEY = 'sk-sandbox-test-key';
const CATALOG = [
  { id: 'svc-drain', name: 'Drain cleaning' },
  { id: 'svc-heater', name: 'Water heater repair' },
];
const SECRET_TEXT = 'call me at +13105550199, the thing with the pipes';

function question(overrides: Partial<ReplyQuestion> = {}): ReplyQuestion {
  return { text: 'I need drain cleaning', catalog: CATALOG, offered: [], step: 'idle', ...overrides };
}

let sandbox: LlmSandbox;
const logged: unknown[][] = [];
const logger = { warn: (...args: unknown[]) => void logged.push(args) } as never;

function interpreter(options: { timeoutMs?: number; apiKey?: string } = {}) {
  return createReplyInterpreter({
    baseUrl: sandbox.url,
    apiKey: options.apiKey ?? API_KEY,
    model: 'gpt-4o-mini',
    logger,
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
}

beforeAll(async () => {
  sandbox = await startLlmSandbox({ apiKey: API_KEY });
});
afterEach(() => {
  sandbox.reset();
  logged.length = 0;
});
afterAll(async () => {
  await sandbox?.close();
});

describe('a good answer', () => {
  it('is a hint, asked the OpenAI way with the key, temperature 0 and a JSON answer format', async () => {
    const hint = await interpreter().interpret(question());
    expect(hint).toEqual({ intent: 'service', service_id: 'svc-drain' });

    const [request] = sandbox.requests();
    expect(request?.authorized).toBe(true);
    expect(request?.body).toMatchObject({
      model: 'gpt-4o-mini',
      temperature: 0,
      response_format: { type: 'json_object' },
      messages: [
        { role: 'system', content: SYSTEM_PROMPT },
        { role: 'user', content: expect.stringContaining('I need drain cleaning') },
      ],
    });
    expect(SYSTEM_PROMPT).toMatch(/ONLY a JSON object/);
    expect(SYSTEM_PROMPT).toMatch(/Never compose a reply/);
  });

  it('reads what the deterministic matcher would not (a taught phrase), picks and yes', async () => {
    sandbox.teach('pipes', { intent: 'service', service: 'Drain cleaning' });
    expect(await interpreter().interpret(question({ text: 'the thing with the pipes' }))).toEqual({
      intent: 'service',
      service_id: 'svc-drain',
    });
    const offered = ['Tue 10:00', 'Tue 14:00', 'Wed 09:00'];
    expect(await interpreter().interpret(question({ text: '2', offered, step: 'offering' }))).toEqual({
      intent: 'pick',
      pick: 2,
    });
    expect(
      await interpreter().interpret(question({ text: 'yes please', offered, step: 'confirming' })),
    ).toEqual({
      intent: 'yes',
    });
    expect(await interpreter().interpret(question({ text: 'hmm' }))).toEqual({ intent: 'other' });
  });

  it('reads null slots as absent', async () => {
    const fetch = async () =>
      Response.json({
        choices: [
          { message: { role: 'assistant', content: '{"intent":"yes","service_id":null,"pick":null}' } },
        ],
      });
    const hint = await createReplyInterpreter({ baseUrl: 'http://llm.invalid', model: 'm', fetch }).interpret(
      question(),
    );
    expect(hint).toEqual({ intent: 'yes' });
  });

  it('passes a well-formed but inconsistent hint on, for the machine to refuse', async () => {
    sandbox.setFault({ kind: 'unknown-service' });
    const hint = await interpreter().interpret(question());
    expect(hint).toEqual({ intent: 'service', service_id: 'svc-that-does-not-exist' });
    expect(validHint(hint, { catalogIds: CATALOG.map((s) => s.id), offeredCount: 0, step: 'idle' })).toBe(
      false,
    );
  });
});

describe('a failure is null', () => {
  it.each([
    ['a 500', { kind: 'status', status: 500 }],
    ['a 429', { kind: 'status', status: 429 }],
    ['prose instead of JSON', { kind: 'not-json' }],
    ['a composed reply instead of a hint', { kind: 'wrong-shape' }],
    ['a body without choices', { kind: 'no-choices' }],
  ] as const)('%s', async (_label, fault) => {
    sandbox.setFault(fault);
    expect(await interpreter().interpret(question({ text: SECRET_TEXT }))).toBeNull();
    expect(sandbox.requests()).toHaveLength(1);
    expect(logged).toHaveLength(1);
  });

  it('a wrong key (401)', async () => {
    expect(await interpreter({ apiKey: 'sk-wrong' }).interpret(question())).toBeNull();
    expect(sandbox.requests()[0]?.authorized).toBe(false);
  });

  it('a slow answer, given up at the timeout', async () => {
    sandbox.setFault({ kind: 'delay', ms: 3_000 });
    const started = Date.now();
    expect(await interpreter({ timeoutMs: 200 }).interpret(question({ text: SECRET_TEXT }))).toBeNull();
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(logged[0]?.[0]).toEqual({ reason: 'timeout', status: undefined });
  });

  it('no server at all', async () => {
    const closed = await startLlmSandbox();
    const url = closed.url;
    await closed.close();
    const hint = await createReplyInterpreter({ baseUrl: url, model: 'm', logger }).interpret(question());
    expect(hint).toBeNull();
    expect(logged[0]?.[0]).toMatchObject({ reason: 'network' });
  });

  it('a fetch that throws synchronously', async () => {
    const fetch = () => {
      throw new Error(SECRET_TEXT);
    };
    const hint = await createReplyInterpreter({
      baseUrl: 'http://llm.invalid',
      model: 'm',
      fetch,
      logger,
    }).interpret(question({ text: SECRET_TEXT }));
    expect(hint).toBeNull();
  });

  it('logs a reason and a status, never the caller text or the key', async () => {
    for (const fault of [
      { kind: 'status', status: 503 },
      { kind: 'not-json' },
      { kind: 'wrong-shape' },
    ] as const) {
      sandbox.setFault(fault);
      await interpreter().interpret(question({ text: SECRET_TEXT }));
    }
    const text = JSON.stringify(logged);
    expect(logged).toHaveLength(3);
    expect(text).not.toContain('+13105550199');
    expect(text).not.toContain('pipes');
    expect(text).not.toContain(API_KEY);
    expect(logged.map((args) => (args[0] as { reason: string }).reason)).toEqual([
      'http_status',
      'not_json',
      'schema',
    ]);
  });
});
