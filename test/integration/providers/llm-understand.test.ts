import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { understand } from '../../../src/domain/understanding/understand.ts';
import type { UnderstandContext } from '../../../src/domain/understanding/understanding.ts';
import { acceptUnderstanding } from '../../../src/domain/understanding/understanding-schema.ts';
import { type LlmSandbox, startLlmSandbox } from '../../../src/providers/llm/sandbox/server.ts';
import { createModelUnderstander } from '../../../src/providers/llm/understand-model.ts';

// The language-model path of understanding against the sandbox `/chat/completions`: a good answer
// is the same typed Understanding as the deterministic reader's; every failure (status, nonsense,
// wrong shape, a choice or service the context does not have) is null, and the customer's text
// never reaches the log.

const API_KEY = 'sk-sandbox-test-key';
const SECRET_TEXT = 'call me at +13105550199, the pipe under the sink burst';
const context: UnderstandContext = {
  now: '2026-12-03T17:00:00Z',
  timeZone: 'America/Los_Angeles',
  trade: 'plumbing',
  catalog: [
    { id: 'svc-drain', name: 'Drain cleaning', aliases: ['clogged drain'] },
    { id: 'svc-toilet', name: 'Toilet repair', aliases: [] },
  ],
  offered: [{ start: '2026-12-04T16:00:00Z' }, { start: '2026-12-04T18:00:00Z' }],
};

let sandbox: LlmSandbox;
const logged: unknown[][] = [];
const logger = { warn: (...args: unknown[]) => void logged.push(args) } as never;
const model = () =>
  createModelUnderstander({ baseUrl: sandbox.url, apiKey: API_KEY, model: 'gpt-4o-mini', logger });

beforeAll(async () => {
  sandbox = await startLlmSandbox({ apiKey: API_KEY });
});
afterEach(() => {
  sandbox.reset();
  logged.length = 0;
});
afterAll(async () => {
  await sandbox.close();
});

describe('understanding through the language model', () => {
  it('answers the same typed shape as the deterministic reader', async () => {
    for (const text of [
      'toilet is leaking at the base',
      'fine. 1',
      'can you come tomorrow at 3pm?',
      'hola',
      '👍',
    ]) {
      expect(await model().understand(text, context)).toEqual(understand(text, context));
    }
    const sent = sandbox.requests()[0]?.body as { messages: { role: string; content: string }[] };
    const user = JSON.parse(sent.messages.at(-1)?.content ?? '{}') as { local_now: string; task: string };
    expect(user).toMatchObject({ task: 'understand', local_now: 'Thursday 2026-12-03T09:00' });
  });

  it('is null for every failure, without the text in the log', async () => {
    for (const fault of [
      { kind: 'status', status: 503 },
      { kind: 'not-json' },
      { kind: 'wrong-shape' },
      { kind: 'no-choices' },
      { kind: 'unknown-service' },
    ] as const) {
      sandbox.setFault(fault);
      expect(await model().understand(SECRET_TEXT, context), fault.kind).toBeNull();
    }
    expect(logged).toHaveLength(5);
    expect(JSON.stringify(logged)).not.toContain('+13105550199');
  });

  it('refuses a choice that is not on offer and a service not in the catalog', async () => {
    // The sandbox answers for the context it is sent; the client checks against the context it has.
    const fewer = { ...context, offered: context.offered.slice(0, 1) };
    const wide = createModelUnderstander({ baseUrl: sandbox.url, apiKey: API_KEY, model: 'm', logger });
    const viaSandbox = await wide.understand('2', context);
    expect(viaSandbox?.choice).toBe(1);
    expect(acceptUnderstanding(viaSandbox, fewer)).toBeNull();
    expect(
      acceptUnderstanding(
        { ...understand('toilet leaking', context), services: [{ id: 'svc-x', score: 1 }] },
        context,
      ),
    ).toBeNull();
    expect(acceptUnderstanding({ ...understand('hi', context), extra: 1 }, context)).toBeNull();
  });
});
