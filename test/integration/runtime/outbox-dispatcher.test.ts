import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { backoffCeilingMs } from '../../../src/domain/backoff.ts';
import type { EventEnvelope } from '../../../src/domain/event-catalog.ts';
import { type NewEvent, writeOutboxEvents } from '../../../src/runtime/outbox.ts';
import {
  createOutboxDispatcher,
  listDeadLetters,
  type OutboxDispatcher,
  type OutboxDispatcherOptions,
  replayDeadLetters,
  type Subscriber,
} from '../../../src/runtime/outbox-dispatcher.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { captureLogger } from '../../helpers/logs.ts';

// The outbox dispatcher against real Postgres: delivery by subscription, consumptions, full-jitter
// backoff within its bound, dead letters and their replay, exactly-once delivery across competing
// dispatchers, the NOTIFY wake-up, and validation of every write.

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});
beforeEach(async () => {
  await database.pool.query('TRUNCATE outbox_events, outbox_consumptions, outbox_dead_letters');
});

const TENANT = randomUUID();
const CONVERSATION = randomUUID();

let clock = Date.parse('2026-03-10T15:00:00.000Z');
function tick(): string {
  clock += 1_000;
  return new Date(clock).toISOString();
}

function newEvent(name: string, payload: Record<string, unknown>, tenantId = TENANT): NewEvent {
  return {
    tenantId,
    name,
    payload,
    occurredAt: tick(),
    correlationId: `corr-${randomUUID()}`,
    causationId: null,
  };
}

function dispatcher(
  subscribers: Subscriber[],
  overrides: Partial<OutboxDispatcherOptions> = {},
): { dispatcher: OutboxDispatcher; lines: () => string[] } {
  const { logger, lines } = captureLogger();
  return {
    dispatcher: createOutboxDispatcher({
      db: database.pool,
      connectionString: database.url,
      subscribers,
      batchSize: 50,
      logger,
      ...overrides,
    }),
    lines,
  };
}

type OutboxState = {
  attempts: number;
  last_error: string | null;
  dispatched_at: Date | null;
  /** next_attempt_at − now(), in milliseconds. */
  remaining_ms: number;
};

async function outboxState(eventId: string): Promise<OutboxState | undefined> {
  const { rows } = await database.pool.query<OutboxState>(
    `SELECT attempts, last_error, dispatched_at, EXTRACT(EPOCH FROM (next_attempt_at - now()))::float8 * 1000 AS remaining_ms
     FROM outbox_events WHERE event_id = $1`,
    [eventId],
  );
  return rows[0];
}

async function consumptions(eventId: string): Promise<string[]> {
  const { rows } = await database.pool.query<{ subscriber: string }>(
    'SELECT subscriber FROM outbox_consumptions WHERE event_id = $1 ORDER BY subscriber',
    [eventId],
  );
  return rows.map((r) => r.subscriber);
}

async function makeDue(): Promise<void> {
  await database.pool.query('UPDATE outbox_events SET next_attempt_at = now()');
}

function recorder(name: string, events: Subscriber['events']): Subscriber & { seen: EventEnvelope[] } {
  const seen: EventEnvelope[] = [];
  return {
    name,
    events,
    seen,
    handle: async (event) => {
      seen.push(event);
    },
  };
}

describe('outbox dispatcher: delivery', () => {
  it('delivers each event to the subscribers that want it, records consumptions and marks it dispatched', async () => {
    const crm = recorder('crm', ['nmc.conversation.ConversationStarted', 'nmc.conversation.MessageQueued']);
    const audit = recorder('audit', '*');
    const optOuts = recorder('opt-outs', ['nmc.conversation.OptedOut']);
    const written = await writeOutboxEvents(database.pool, [
      newEvent('nmc.conversation.ConversationStarted', { conversation_id: CONVERSATION }),
      newEvent('nmc.conversation.MissedCallRecorded', { conversation_id: CONVERSATION, call_sid: 'CA1' }),
      newEvent('nmc.conversation.MessageQueued', {
        conversation_id: CONVERSATION,
        message_id: randomUUID(),
        purpose: 'greeting',
      }),
    ]);
    const [started, missed, queued] = written as [EventEnvelope, EventEnvelope, EventEnvelope];

    const { dispatcher: outbox } = dispatcher([crm, audit, optOuts]);
    expect(await outbox.drainOnce()).toBe(3);

    expect(crm.seen).toEqual([started, queued]);
    expect(audit.seen).toEqual([started, missed, queued]);
    expect(optOuts.seen).toEqual([]);
    expect(await consumptions(started.event_id)).toEqual(['audit', 'crm']);
    expect(await consumptions(missed.event_id)).toEqual(['audit']);
    expect(await consumptions(queued.event_id)).toEqual(['audit', 'crm']);
    for (const envelope of written) {
      const state = await outboxState(envelope.event_id);
      expect(state?.dispatched_at).toBeInstanceOf(Date);
      expect(state?.attempts).toBe(1);
      expect(state?.last_error).toBeNull();
    }

    expect(await outbox.drainOnce()).toBe(0);
    expect(audit.seen).toHaveLength(3);
  });
});

describe('outbox dispatcher: failures', () => {
  /** A subscriber that fails until `fixed` is set; counts every call. */
  function flaky() {
    const state = { fixed: false, calls: 0, delivered: 0 };
    const subscriber: Subscriber = {
      name: 'flaky',
      events: '*',
      handle: async () => {
        state.calls += 1;
        if (!state.fixed) throw new Error(`crm down #${state.calls}`);
        state.delivered += 1;
      },
    };
    return { subscriber, state };
  }

  it('retries within the backoff bound, dead-letters on the 6th failure, and a replay delivers once', async () => {
    // The first subscriber consumes the event before the second one fails.
    const steady = recorder('steady', '*');
    const { subscriber, state } = flaky();
    const randoms: number[] = [];
    const { dispatcher: outbox, lines } = dispatcher([steady, subscriber], {
      random: () => {
        randoms.push(0.999);
        return 0.999;
      },
    });
    const [event] = (await writeOutboxEvents(database.pool, [
      newEvent('nmc.conversation.OptedOut', { conversation_id: CONVERSATION, source: 'keyword' }),
    ])) as [EventEnvelope];

    for (let attempts = 1; attempts <= 5; attempts++) {
      if (attempts > 1) await makeDue();
      expect(await outbox.drainOnce()).toBe(1);
      const row = await outboxState(event.event_id);
      expect(row).toMatchObject({ attempts, last_error: `crm down #${attempts}`, dispatched_at: null });
      const ceiling = Math.min(30_000, 1_000 * 2 ** (attempts - 1));
      expect(backoffCeilingMs(attempts - 1)).toBe(ceiling);
      // With random → 0.999 the delay sits just under the ceiling; it never exceeds it.
      expect(row!.remaining_ms).toBeLessThanOrEqual(ceiling + 5);
      expect(row!.remaining_ms).toBeGreaterThanOrEqual(Math.floor(0.999 * (ceiling + 1)) - 250);
      // Not due yet: another drain does nothing.
      expect(await outbox.drainOnce()).toBe(0);
    }
    expect(randoms).toHaveLength(5);
    expect(steady.seen).toHaveLength(1);
    expect(await consumptions(event.event_id)).toEqual(['steady']);

    await makeDue();
    expect(await outbox.drainOnce()).toBe(1);
    expect(await outboxState(event.event_id)).toBeUndefined();
    const { rows: dead } = await database.pool.query(
      'SELECT event_name, attempts, last_error, payload FROM outbox_dead_letters WHERE event_id = $1',
      [event.event_id],
    );
    expect(dead).toEqual([
      { event_name: event.event_name, attempts: 6, last_error: 'crm down #6', payload: event.payload },
    ]);
    const listed = await listDeadLetters(database.pool, TENANT);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ event_id: event.event_id, attempts: 6, last_error: 'crm down #6' });
    expect(await listDeadLetters(database.pool)).toHaveLength(1);
    expect(
      lines().some((line) => line.includes('outbox event dead-lettered') && line.includes(event.event_id)),
    ).toBe(true);
    expect(state.calls).toBe(6);

    state.fixed = true;
    expect(await replayDeadLetters(database.pool, 'all')).toBe(1);
    expect(await listDeadLetters(database.pool)).toEqual([]);
    expect(await outbox.drainOnce()).toBe(1);
    expect(state.delivered).toBe(1);
    expect(steady.seen).toHaveLength(1);
    expect(await consumptions(event.event_id)).toEqual(['flaky', 'steady']);
    expect((await outboxState(event.event_id))?.dispatched_at).toBeInstanceOf(Date);
    expect(await outbox.drainOnce()).toBe(0);
    expect(state.calls).toBe(7);
  });

  it('draws each delay from [0, min(30 s, 1 s·2^(attempts−1))] with the injected random source', async () => {
    const sequence = [0, 0.5, 0.25, 0.75, 0.999];
    let next = 0;
    const { subscriber } = flaky();
    const { dispatcher: outbox } = dispatcher([subscriber], { random: () => sequence[next++] ?? 0 });
    const [event] = (await writeOutboxEvents(database.pool, [
      newEvent('nmc.conversation.OptedIn', { conversation_id: CONVERSATION }),
    ])) as [EventEnvelope];

    for (let attempts = 1; attempts <= 5; attempts++) {
      if (attempts > 1) await makeDue();
      expect(await outbox.drainOnce()).toBe(1);
      const row = await outboxState(event.event_id);
      expect(row?.attempts).toBe(attempts);
      const ceiling = Math.min(30_000, 1_000 * 2 ** (attempts - 1));
      const expected = Math.floor(sequence[attempts - 1]! * (ceiling + 1));
      expect(row!.remaining_ms).toBeGreaterThanOrEqual(-250);
      expect(row!.remaining_ms).toBeLessThanOrEqual(ceiling + 5);
      expect(Math.abs(row!.remaining_ms - expected)).toBeLessThan(250);
    }
    expect(next).toBe(5);
  });
});

describe('outbox dispatcher: competing dispatchers', () => {
  it('two dispatchers draining 500 events deliver each exactly once', async () => {
    const events = Array.from({ length: 500 }, (_, i) =>
      newEvent('nmc.conversation.MissedCallRecorded', { conversation_id: CONVERSATION, call_sid: `CA${i}` }),
    );
    const written = await writeOutboxEvents(database.pool, events);
    const calls = new Map<string, number>();
    const slow: Subscriber = {
      name: 'slow',
      events: '*',
      handle: async (event) => {
        calls.set(event.event_id, (calls.get(event.event_id) ?? 0) + 1);
        await sleep(1);
      },
    };
    const a = dispatcher([slow], { batchSize: 20 }).dispatcher;
    const b = dispatcher([slow], { batchSize: 20 }).dispatcher;

    const drain = async (outbox: OutboxDispatcher) => {
      let handled = 0;
      for (let n = await outbox.drainOnce(); n > 0; n = await outbox.drainOnce()) handled += n;
      return handled;
    };
    const [handledA, handledB] = await Promise.all([drain(a), drain(b)]);

    expect(handledA + handledB).toBe(500);
    expect(handledA).toBeGreaterThan(0);
    expect(handledB).toBeGreaterThan(0);
    expect(calls.size).toBe(500);
    for (const envelope of written) expect(calls.get(envelope.event_id)).toBe(1);
    const { rows } = await database.pool.query<{ pending: number; consumed: number }>(
      `SELECT (SELECT count(*)::int FROM outbox_events WHERE dispatched_at IS NULL) AS pending,
              (SELECT count(*)::int FROM outbox_consumptions) AS consumed`,
    );
    expect(rows[0]).toEqual({ pending: 0, consumed: 500 });
  });
});

describe('outbox dispatcher: running', () => {
  it('start() delivers an event written afterwards promptly (NOTIFY, not the 60 s poll); stop() resolves', async () => {
    let delivered: (event: EventEnvelope) => void = () => undefined;
    const arrival = new Promise<EventEnvelope>((resolve) => {
      delivered = resolve;
    });
    const { dispatcher: outbox } = dispatcher(
      [{ name: 'live', events: '*', handle: async (event) => delivered(event) }],
      { pollIntervalMs: 60_000 },
    );
    await outbox.start();
    try {
      expect(outbox.running()).toBe(true);
      // Let start()'s own first drain finish, so only a wake-up can pick the new event up.
      await sleep(200);
      const startedAt = performance.now();
      const [written] = await writeOutboxEvents(database.pool, [
        newEvent('nmc.conversation.ConversationStarted', { conversation_id: CONVERSATION }),
      ]);
      const timeout = sleep(1_000).then(() => null);
      const received = await Promise.race([arrival, timeout]);
      expect(received, 'not delivered within 1 s').toEqual(written);
      expect(performance.now() - startedAt).toBeLessThan(1_000);
    } finally {
      await outbox.stop();
    }
    expect(outbox.running()).toBe(false);
  });
});

describe('outbox writes are validated', () => {
  async function outboxCount(): Promise<number> {
    const { rows } = await database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox_events');
    return rows[0]?.n ?? 0;
  }

  it('an unknown event name throws and writes nothing', async () => {
    await expect(
      writeOutboxEvents(database.pool, [
        newEvent('nmc.conversation.ConversationStarted', { conversation_id: CONVERSATION }),
        newEvent('nmc.conversation.Teleported', { conversation_id: CONVERSATION }),
      ]),
    ).rejects.toThrow(/not in the catalog/);
    expect(await outboxCount()).toBe(0);
  });

  it('a payload that breaks its schema throws and writes nothing', async () => {
    await expect(
      writeOutboxEvents(database.pool, [
        newEvent('nmc.conversation.ConversationStarted', { conversation_id: 'nope' }),
      ]),
    ).rejects.toThrow(/breaks its schema/);
    await expect(
      writeOutboxEvents(database.pool, [
        newEvent('nmc.conversation.OptedOut', { conversation_id: CONVERSATION, source: 'keyword' }),
        newEvent('nmc.conversation.MessageQueued', { conversation_id: CONVERSATION, purpose: 'greeting' }),
      ]),
    ).rejects.toThrow(/breaks its schema/);
    expect(await outboxCount()).toBe(0);
  });
});
