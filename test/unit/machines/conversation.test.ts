import { describe, expect, it } from 'vitest';
import { render } from '../../../src/domain/templates.ts';
import { INITIAL_DIALOGUE } from '../../../src/machines/booking-dialogue.ts';
import type {
  CampaignStatus,
  ConversationFacts,
  Effect,
  SendPurpose,
} from '../../../src/machines/conversation-events.ts';
import { INITIAL_CONTEXT } from '../../../src/machines/conversation-plan.ts';
import {
  initialSnapshot,
  reviveSnapshot,
  SNAPSHOT_SCHEMA_VERSION,
  SnapshotRevivalError,
  type StepResult,
  type StoredSnapshot,
  step,
} from '../../../src/machines/conversation-snapshot.ts';
import {
  type EventInput,
  eventsFor,
  HOSTILE_OPERATOR_IDS,
  HOSTILE_STRINGS,
  makeCatalogFacts,
  makeEvent,
  makeFacts,
  minutes,
  SLOTS,
  T0,
} from './conversation-fixtures.ts';

// Example-based tests of the conversation machine through `step`, the function the runtime calls:
// each one drives events and asserts on the stored snapshot and the effects that come back as data.

type Sms = Extract<Effect, { type: 'sendSms' }>;

function sms(effects: readonly Effect[]): Sms[] {
  return effects.filter((e): e is Sms => e.type === 'sendSms');
}

function emitted(effects: readonly Effect[], name: string): Extract<Effect, { type: 'emit' }>[] {
  return effects.filter((e): e is Extract<Effect, { type: 'emit' }> => e.type === 'emit' && e.name === name);
}

function suppressed(purpose: SendPurpose, reason: string): Effect {
  return { type: 'emit', name: 'nmc.conversation.SendSuppressed', payload: { purpose, reason } };
}

function text(template: string, facts: ConversationFacts): string {
  return render(template, { business: facts.businessName, help: facts.helpText });
}

/** Applies events in order, each at `at` (default T0) with `facts` (default makeFacts()). */
function run(
  from: StoredSnapshot,
  inputs: readonly EventInput[],
  defaults: { at?: string; facts?: ConversationFacts } = {},
): StepResult {
  let current = from;
  let last: StepResult | undefined;
  for (const input of inputs) {
    last = step(current, makeEvent(input, { at: defaults.at ?? T0, facts: defaults.facts ?? makeFacts() }));
    current = last.snapshot;
  }
  if (!last) throw new Error('run needs at least one event');
  return last;
}

/** One event on a stored snapshot. */
function send(
  from: StoredSnapshot,
  input: EventInput,
  defaults: { at?: string; facts?: ConversationFacts } = {},
): StepResult {
  return run(from, [input], defaults);
}

const missedCall: EventInput = { type: 'MissedCall', callSid: 'CA100' };
const inbound: EventInput = {
  type: 'InboundSms',
  messageSid: 'SM100',
  body: 'Need a plumber',
  mediaCount: 0,
};
const takeover: EventInput = { type: 'HumanTakeoverRequested', operatorId: 'op-1' };
const operatorSays = (body: string, operatorId = 'op-1'): EventInput => ({
  type: 'OperatorMessage',
  operatorId,
  body,
});
const optedOut = (confirm: boolean): EventInput => ({ type: 'OptedOut', source: 'keyword', confirm });
const optedIn = (confirm: boolean): EventInput => ({ type: 'OptedIn', confirm });
const campaign = (status: CampaignStatus): EventInput => ({ type: 'CampaignStatusChanged', status });
const help: EventInput = { type: 'HelpRequested' };

const open = () => initialSnapshot();
const human = () => send(open(), takeover).snapshot;
const blockedOptedOut = () => send(open(), optedOut(false)).snapshot;
const blockedCompliance = () => send(open(), campaign('rejected')).snapshot;
const closed = () => send(open(), { type: 'CloseRequested', operatorId: 'op-1' }).snapshot;

const NOT_APPROVED: CampaignStatus[] = ['pending', 'rejected', 'none'];

describe('initial snapshot', () => {
  it('is open with the initial context', () => {
    expect(initialSnapshot()).toEqual({ value: 'open', context: INITIAL_CONTEXT });
  });
});

describe('missed call in open', () => {
  it('records the call, restarts the inactivity timer, then sends exactly one greeting', () => {
    const facts = makeFacts();
    const result = send(open(), missedCall, { facts });
    expect(result.handled).toBe(true);
    expect(result.previousState).toBe('open');
    expect(result.state).toBe('open');
    expect(result.snapshot.value).toBe('open');
    expect(result.snapshot.context).toEqual({
      ...INITIAL_CONTEXT,
      missedCalls: 1,
      lastGreetingAt: T0,
      timerToken: 1,
    });
    expect(result.effects).toEqual([
      { type: 'emit', name: 'nmc.conversation.MissedCallRecorded', payload: { call_sid: 'CA100' } },
      { type: 'scheduleTimer', timer: 'inactivity', fireAt: minutes(1440), token: 1 },
      { type: 'sendSms', body: text(facts.templates.greeting, facts), purpose: 'greeting', operatorId: null },
    ]);
  });

  it('does not greet twice within the greeting window, but still records the call and restarts the timer', () => {
    const first = send(open(), missedCall);
    const second = send(first.snapshot, { type: 'MissedCall', callSid: 'CA101' }, { at: minutes(59) });
    expect(second.handled).toBe(true);
    expect(second.snapshot.value).toBe('open');
    expect(sms(second.effects)).toEqual([]);
    expect(second.effects).toEqual([
      { type: 'emit', name: 'nmc.conversation.MissedCallRecorded', payload: { call_sid: 'CA101' } },
      { type: 'scheduleTimer', timer: 'inactivity', fireAt: minutes(59 + 1440), token: 2 },
    ]);
    expect(second.snapshot.context).toEqual({
      ...first.snapshot.context,
      missedCalls: 2,
      lastGreetingAt: T0,
      timerToken: 2,
    });
    // The restarted timer is the one that counts: the first call's timer is stale.
    const stale = send(second.snapshot, { type: 'InactivityTimeout', timer: 'inactivity', token: 1 });
    expect(stale.handled).toBe(false);
    const current = send(
      second.snapshot,
      { type: 'InactivityTimeout', timer: 'inactivity', token: 2 },
      { at: minutes(59 + 1440) },
    );
    expect(current.snapshot.value).toBe('closed');
  });

  it.each([60, 61, 24 * 60])('greets again %i minutes after the last greeting', (after) => {
    const first = send(open(), missedCall);
    const second = send(first.snapshot, missedCall, { at: minutes(after) });
    expect(sms(second.effects)).toHaveLength(1);
    expect(sms(second.effects)[0]?.purpose).toBe('greeting');
    expect(second.snapshot.context.lastGreetingAt).toBe(minutes(after));
    expect(second.snapshot.context.missedCalls).toBe(2);
    expect(second.effects).toContainEqual({
      type: 'scheduleTimer',
      timer: 'inactivity',
      fireAt: minutes(after + 1440),
      token: 2,
    });
  });

  it('uses the greeting window from the event policy', () => {
    const first = send(open(), missedCall);
    const facts = makeFacts({ policy: { greetingWindowMinutes: 5 } });
    expect(sms(send(first.snapshot, missedCall, { at: minutes(4), facts }).effects)).toEqual([]);
    expect(sms(send(first.snapshot, missedCall, { at: minutes(5), facts }).effects)).toHaveLength(1);
  });

  it('sends the after-hours greeting after hours', () => {
    const facts = makeFacts({ afterHours: true, businessName: 'Zoë 🚰 Plumbing' });
    const result = send(open(), missedCall, { facts });
    expect(sms(result.effects)).toEqual([
      {
        type: 'sendSms',
        body: "Hi, this is Zoë 🚰 Plumbing. We're closed right now, sorry we missed your call. Reply with what you need and we'll get you booked.",
        purpose: 'greeting',
        operatorId: null,
      },
    ]);
  });

  it.each(NOT_APPROVED)('sends nothing while the campaign is %s and says why', (campaignStatus) => {
    const facts = makeFacts({ campaignStatus });
    const result = send(open(), missedCall, { facts });
    expect(result.handled).toBe(true);
    expect(sms(result.effects)).toEqual([]);
    expect(result.effects).toEqual([
      { type: 'emit', name: 'nmc.conversation.MissedCallRecorded', payload: { call_sid: 'CA100' } },
      { type: 'scheduleTimer', timer: 'inactivity', fireAt: minutes(1440), token: 1 },
      suppressed('greeting', 'campaign_not_approved'),
    ]);
    // A held-back greeting is not a greeting: the next missed call after approval greets.
    expect(result.snapshot.context.lastGreetingAt).toBeNull();
    const later = send(result.snapshot, missedCall, { at: minutes(1) });
    expect(sms(later.effects).map((e) => e.purpose)).toEqual(['greeting']);
  });
});

describe('a campaign that is not approved', () => {
  it.each(NOT_APPROVED)('holds back every kind of text while %s', (campaignStatus) => {
    const facts = makeFacts({ campaignStatus });
    const cases: [StoredSnapshot, EventInput, SendPurpose][] = [
      [open(), missedCall, 'greeting'],
      [open(), inbound, 'assistant'],
      [open(), operatorSays('On my way'), 'operator'],
      [human(), operatorSays('On my way'), 'operator'],
      [open(), help, 'compliance'],
      [open(), optedOut(true), 'compliance'],
    ];
    // While rejected, OptedIn keeps the conversation blocked and does not try to confirm (see opt-in).
    if (campaignStatus !== 'rejected') cases.push([blockedOptedOut(), optedIn(true), 'compliance']);
    for (const [from, input, purpose] of cases) {
      const result = send(from, input, { facts });
      expect(sms(result.effects), input.type).toEqual([]);
      expect(result.effects, input.type).toContainEqual(suppressed(purpose, 'campaign_not_approved'));
    }
  });
});

describe('an opted-out caller', () => {
  const facts = makeFacts({ optedOut: true });

  it.each([
    ['greeting', open, missedCall],
    ['assistant', open, inbound],
    ['operator', open, operatorSays('Hello?')],
    ['operator', human, operatorSays('Hello?')],
  ] as const)('gets no %s text', (purpose, from, input) => {
    const result = send(from(), input, { facts });
    expect(sms(result.effects)).toEqual([]);
    expect(result.effects).toContainEqual(suppressed(purpose, 'opted_out'));
  });
});

describe('opt-out', () => {
  it.each([
    ['open', open],
    ['human', human],
  ] as const)('from %s blocks and confirms once when asked to', (_, from) => {
    const facts = makeFacts();
    const before = from();
    const result = send(before, { type: 'OptedOut', source: 'keyword', confirm: true }, { facts });
    expect(result.handled).toBe(true);
    expect(result.snapshot.value).toBe('blocked');
    expect(result.snapshot.context).toEqual({
      ...before.context,
      blockedReason: 'opted_out',
      assignedTo: null,
      timerToken: before.context.timerToken + 1,
    });
    expect(result.effects).toEqual([
      { type: 'emit', name: 'nmc.conversation.OptedOut', payload: { source: 'keyword' } },
      {
        type: 'sendSms',
        body: text(facts.templates.optOutConfirmation, facts),
        purpose: 'compliance',
        operatorId: null,
      },
    ]);
  });

  it.each(['provider', 'carrier'] as const)(
    'sends no confirmation when %s already confirmed (Advanced Opt-Out)',
    (source) => {
      for (const from of [open(), human()]) {
        const result = send(from, { type: 'OptedOut', source, confirm: false });
        expect(result.snapshot.value).toBe('blocked');
        expect(result.snapshot.context.blockedReason).toBe('opted_out');
        expect(sms(result.effects)).toEqual([]);
        expect(result.effects).toEqual([
          { type: 'emit', name: 'nmc.conversation.OptedOut', payload: { source } },
        ]);
      }
    },
  );

  it('confirms even though the facts already say opted out (compliance text)', () => {
    const result = send(open(), optedOut(true), { facts: makeFacts({ optedOut: true }) });
    expect(sms(result.effects).map((e) => e.purpose)).toEqual(['compliance']);
  });

  it('stops the inactivity timer: the pending one becomes stale', () => {
    const greeted = send(open(), missedCall);
    const blocked = send(greeted.snapshot, optedOut(false), { at: minutes(1) });
    expect(blocked.effects.some((e) => e.type === 'scheduleTimer')).toBe(false);
    const timeout = send(
      blocked.snapshot,
      { type: 'InactivityTimeout', timer: 'inactivity', token: 1 },
      {
        at: minutes(1440),
      },
    );
    expect(timeout.handled).toBe(false);
    expect(timeout.snapshot).toEqual(blocked.snapshot);
  });
});

describe('opt-in', () => {
  it('leaves a blocked(opted_out) conversation for open, confirms when asked to and restarts the inactivity timer', () => {
    const facts = makeFacts({ optedOut: true });
    const before = blockedOptedOut();
    const result = send(before, optedIn(true), { facts });
    expect(result.handled).toBe(true);
    expect(result.snapshot.value).toBe('open');
    expect(result.snapshot.context).toEqual({
      ...before.context,
      blockedReason: null,
      timerToken: before.context.timerToken + 1,
    });
    expect(result.effects).toEqual([
      { type: 'emit', name: 'nmc.conversation.OptedIn', payload: {} },
      {
        type: 'sendSms',
        body: text(facts.templates.optInConfirmation, facts),
        purpose: 'compliance',
        operatorId: null,
      },
      {
        type: 'scheduleTimer',
        timer: 'inactivity',
        fireAt: minutes(1440),
        token: before.context.timerToken + 1,
      },
    ]);
    // The reopened conversation closes when it goes quiet.
    const timeout = send(
      result.snapshot,
      { type: 'InactivityTimeout', timer: 'inactivity', token: before.context.timerToken + 1 },
      { at: minutes(1440) },
    );
    expect(timeout.snapshot.value).toBe('closed');
    expect(timeout.snapshot.context.closedReason).toBe('inactivity');
  });

  it('sends no confirmation when the provider already did, and still restarts the timer', () => {
    const before = blockedOptedOut();
    const result = send(before, optedIn(false), { at: minutes(3) });
    expect(result.snapshot.value).toBe('open');
    expect(sms(result.effects)).toEqual([]);
    expect(result.effects).toEqual([
      { type: 'emit', name: 'nmc.conversation.OptedIn', payload: {} },
      {
        type: 'scheduleTimer',
        timer: 'inactivity',
        fireAt: minutes(3 + 1440),
        token: before.context.timerToken + 1,
      },
    ]);
  });

  it('while the campaign is rejected keeps the conversation blocked, now for compliance, and sends nothing', () => {
    const facts = makeFacts({ campaignStatus: 'rejected', optedOut: true });
    for (const confirm of [true, false]) {
      const before = blockedOptedOut();
      const result = send(before, optedIn(confirm), { facts });
      expect(result.handled).toBe(true);
      expect(result.state).toBe('blocked');
      expect(result.snapshot).toEqual({
        value: 'blocked',
        context: { ...before.context, blockedReason: 'compliance' },
      });
      expect(result.effects).toEqual([{ type: 'emit', name: 'nmc.conversation.OptedIn', payload: {} }]);

      // The compliance block is lifted by the approval, which reopens with a running timer.
      const approved = send(result.snapshot, campaign('approved'), { at: minutes(10) });
      expect(approved.snapshot.value).toBe('open');
      expect(approved.snapshot.context.blockedReason).toBeNull();
      expect(sms(approved.effects)).toEqual([]);
      expect(approved.effects).toContainEqual({
        type: 'scheduleTimer',
        timer: 'inactivity',
        fireAt: minutes(10 + 1440),
        token: before.context.timerToken + 1,
      });
    }
  });

  it('does not leave a conversation blocked for compliance', () => {
    const before = blockedCompliance();
    for (const confirm of [true, false]) {
      const result = send(before, optedIn(confirm));
      expect(result.handled).toBe(false);
      expect(result.snapshot).toEqual(before);
      expect(result.effects).toEqual([]);
    }
  });

  // START from a caller whose conversation is not blocked (e.g. the blocked one was closed): the
  // runtime cleared the opt-out; carriers expect the confirmation whatever the state.
  it.each([
    ['open', open],
    ['human', human],
  ] as const)(
    'in %s is recorded and confirmed when asked to, without changing the conversation',
    (_, from) => {
      const facts = makeFacts();
      const before = from();
      const confirmed = send(before, optedIn(true), { facts });
      expect(confirmed.handled).toBe(true);
      expect(confirmed.snapshot).toEqual(before);
      expect(confirmed.effects).toEqual([
        { type: 'emit', name: 'nmc.conversation.OptedIn', payload: {} },
        {
          type: 'sendSms',
          body: text(facts.templates.optInConfirmation, facts),
          purpose: 'compliance',
          operatorId: null,
        },
      ]);

      const silent = send(before, optedIn(false), { facts });
      expect(silent.handled).toBe(true);
      expect(silent.snapshot).toEqual(before);
      expect(silent.effects).toEqual([{ type: 'emit', name: 'nmc.conversation.OptedIn', payload: {} }]);
    },
  );

  it.each([
    ['open', open],
    ['human', human],
  ] as const)(
    'in %s confirms whatever the gates say, but not while the campaign is not approved',
    (_, from) => {
      const gatesClosed = makeFacts({ gates: { sms: false, assistant: false } });
      expect(sms(send(from(), optedIn(true), { facts: gatesClosed }).effects).map((e) => e.purpose)).toEqual([
        'compliance',
      ]);
      for (const campaignStatus of NOT_APPROVED) {
        const held = send(from(), optedIn(true), { facts: makeFacts({ campaignStatus }) });
        expect(sms(held.effects)).toEqual([]);
        expect(held.effects).toContainEqual(suppressed('compliance', 'campaign_not_approved'));
      }
    },
  );
});

describe('campaign status', () => {
  it('rejected blocks for compliance; approved reopens without sending anything and restarts the timer', () => {
    const rejected = send(open(), campaign('rejected'));
    expect(rejected.snapshot.value).toBe('blocked');
    expect(rejected.snapshot.context.blockedReason).toBe('compliance');
    expect(rejected.effects).toEqual([
      { type: 'emit', name: 'nmc.conversation.Blocked', payload: { reason: 'compliance' } },
    ]);

    const approved = send(rejected.snapshot, campaign('approved'), { at: minutes(5) });
    expect(approved.handled).toBe(true);
    expect(approved.snapshot.value).toBe('open');
    expect(approved.snapshot.context).toEqual({
      ...rejected.snapshot.context,
      blockedReason: null,
      timerToken: rejected.snapshot.context.timerToken + 1,
    });
    expect(sms(approved.effects)).toEqual([]);
    expect(approved.effects).toEqual([
      { type: 'emit', name: 'nmc.conversation.Unblocked', payload: { reason: 'campaign_approved' } },
      {
        type: 'scheduleTimer',
        timer: 'inactivity',
        fireAt: minutes(5 + 1440),
        token: rejected.snapshot.context.timerToken + 1,
      },
    ]);
  });

  it('rejected again while blocked changes nothing', () => {
    const before = blockedCompliance();
    const again = send(before, campaign('rejected'));
    expect(again.handled).toBe(false);
    expect(again.snapshot).toEqual(before);
    expect(again.effects).toEqual([]);
  });

  it('approved does not lift an opt-out', () => {
    const before = blockedOptedOut();
    const result = send(before, campaign('approved'));
    expect(result.handled).toBe(false);
    expect(result.snapshot).toEqual(before);
  });

  it.each(['approved', 'pending', 'none'] as const)('%s is ignored in open and human', (status) => {
    for (const before of [open(), human()]) {
      const result = send(before, campaign(status));
      expect(result.handled).toBe(false);
      expect(result.snapshot).toEqual(before);
      expect(result.effects).toEqual([]);
    }
  });

  it('rejected takes a human conversation to blocked, unassigns it, and the operator can no longer text', () => {
    const before = human();
    expect(before.context.assignedTo).toBe('op-1');
    const blocked = send(before, campaign('rejected'));
    expect(blocked.snapshot.value).toBe('blocked');
    expect(blocked.snapshot.context).toEqual({
      ...before.context,
      blockedReason: 'compliance',
      assignedTo: null,
      timerToken: before.context.timerToken + 1,
    });
    expect(blocked.effects).toEqual([
      { type: 'emit', name: 'nmc.conversation.Blocked', payload: { reason: 'compliance' } },
    ]);
    const operator = send(blocked.snapshot, operatorSays('Still there?'));
    expect(operator.handled).toBe(true);
    expect(operator.snapshot).toEqual(blocked.snapshot);
    expect(operator.effects).toEqual([suppressed('operator', 'campaign_not_approved')]);
  });
});

describe('operator takeover', () => {
  it('an operator message in open takes over first, then sends, in one transition', () => {
    const facts = makeFacts();
    const result = send(open(), operatorSays('{business}: we can come at 3pm', 'op-7'), { facts });
    expect(result.handled).toBe(true);
    expect(result.previousState).toBe('open');
    expect(result.snapshot.value).toBe('human');
    expect(result.snapshot.context.assignedTo).toBe('op-7');
    const tookOver = result.effects.findIndex(
      (e) => e.type === 'emit' && e.name === 'nmc.conversation.HumanTookOver',
    );
    const sent = result.effects.findIndex((e) => e.type === 'sendSms');
    expect(tookOver).toBeGreaterThanOrEqual(0);
    expect(sent).toBeGreaterThan(tookOver);
    expect(result.effects[tookOver]).toEqual({
      type: 'emit',
      name: 'nmc.conversation.HumanTookOver',
      payload: { operator_id: 'op-7', previous: null },
    });
    // The operator's words go out verbatim: no template placeholders are filled in.
    expect(sms(result.effects)).toEqual([
      { type: 'sendSms', body: '{business}: we can come at 3pm', purpose: 'operator', operatorId: 'op-7' },
    ]);
  });

  it('HumanTakeoverRequested moves open to human and makes the inactivity timer stale', () => {
    const greeted = send(open(), missedCall);
    const result = send(greeted.snapshot, takeover, { at: minutes(2) });
    expect(result.snapshot.value).toBe('human');
    expect(result.snapshot.context.assignedTo).toBe('op-1');
    expect(result.snapshot.context.timerToken).toBe(2);
    expect(sms(result.effects)).toEqual([]);
    const timeout = send(result.snapshot, { type: 'InactivityTimeout', timer: 'inactivity', token: 1 });
    expect(timeout.handled).toBe(false);
  });

  it('a second operator taking over records who had it', () => {
    const result = send(human(), { type: 'HumanTakeoverRequested', operatorId: 'op-2' });
    expect(result.snapshot.value).toBe('human');
    expect(result.snapshot.context.assignedTo).toBe('op-2');
    expect(emitted(result.effects, 'nmc.conversation.HumanTookOver')[0]?.payload).toEqual({
      operator_id: 'op-2',
      previous: 'op-1',
    });
  });

  it('in human, inbound texts and missed calls notify operators and never send', () => {
    for (const facts of [makeFacts(), makeFacts({ afterHours: true })]) {
      let current = human();
      // Past the greeting window and the acknowledgement: the assistant would speak in open.
      for (const [i, input] of [missedCall, inbound, missedCall, inbound].entries()) {
        const result = send(current, input, { facts, at: minutes(300 * (i + 1)) });
        expect(result.handled).toBe(true);
        expect(result.snapshot.value).toBe('human');
        expect(sms(result.effects)).toEqual([]);
        expect(result.effects.some((e) => e.type === 'notifyOperators')).toBe(true);
        current = result.snapshot;
      }
    }
    const missed = send(human(), missedCall);
    expect(missed.snapshot.context.missedCalls).toBe(1);
    expect(missed.effects).toEqual([
      { type: 'emit', name: 'nmc.conversation.MissedCallRecorded', payload: { call_sid: 'CA100' } },
      { type: 'notifyOperators', reason: 'message_while_human' },
    ]);
  });

  it('an operator message in human sends as that operator', () => {
    const result = send(human(), operatorSays('See you soon', 'op-2'));
    expect(result.snapshot.value).toBe('human');
    expect(result.snapshot.context.assignedTo).toBe('op-2');
    expect(sms(result.effects)).toEqual([
      { type: 'sendSms', body: 'See you soon', purpose: 'operator', operatorId: 'op-2' },
    ]);
  });

  it('HumanReleased goes back to open and restarts the inactivity timer', () => {
    const before = human();
    const result = send(before, { type: 'HumanReleased', operatorId: 'op-1' }, { at: minutes(10) });
    expect(result.handled).toBe(true);
    expect(result.snapshot.value).toBe('open');
    expect(result.snapshot.context.assignedTo).toBeNull();
    expect(result.effects).toEqual([
      { type: 'emit', name: 'nmc.conversation.HumanReleased', payload: { operator_id: 'op-1', idle: false } },
      {
        type: 'scheduleTimer',
        timer: 'inactivity',
        fireAt: minutes(10 + 1440),
        token: before.context.timerToken + 1,
      },
    ]);
  });

  it('HumanReleased is ignored in open', () => {
    const result = send(open(), { type: 'HumanReleased', operatorId: 'op-1' });
    expect(result.handled).toBe(false);
    expect(result.effects).toEqual([]);
  });

  it('after release the assistant acknowledges again only if it never did', () => {
    const acknowledged = run(open(), [
      inbound,
      takeover,
      { type: 'HumanReleased', operatorId: 'op-1' },
      inbound,
    ]);
    expect(acknowledged.snapshot.value).toBe('open');
    expect(sms(acknowledged.effects)).toEqual([]);
  });
});

describe('inbound SMS in open', () => {
  it('acknowledges once and restarts the inactivity timer each time (a text alone is no alert)', () => {
    const facts = makeFacts();
    const first = send(open(), inbound, { facts });
    expect(first.effects).toEqual([
      { type: 'scheduleTimer', timer: 'inactivity', fireAt: minutes(1440), token: 1 },
      {
        type: 'sendSms',
        body: text(facts.templates.acknowledgement, facts),
        purpose: 'assistant',
        operatorId: null,
      },
    ]);
    expect(first.snapshot.context.acknowledged).toBe(true);
    const second = send(first.snapshot, inbound, { at: minutes(3) });
    expect(second.effects).toEqual([
      { type: 'scheduleTimer', timer: 'inactivity', fireAt: minutes(3 + 1440), token: 2 },
    ]);
  });

  it('does not count a held-back acknowledgement as sent', () => {
    const held = send(open(), inbound, { facts: makeFacts({ gates: { assistant: false } }) });
    expect(held.snapshot.context.acknowledged).toBe(false);
    const later = send(held.snapshot, inbound);
    expect(sms(later.effects).map((e) => e.purpose)).toEqual(['assistant']);
  });

  it('in blocked is recorded and never answered', () => {
    const result = send(blockedOptedOut(), inbound);
    expect(result.handled).toBe(true);
    expect(result.snapshot.value).toBe('blocked');
    expect(result.effects).toEqual([
      { type: 'emit', name: 'nmc.conversation.InboundWhileBlocked', payload: {} },
    ]);
  });
});

describe('in blocked', () => {
  it.each([
    ['opted out', blockedOptedOut],
    ['compliance', blockedCompliance],
  ] as const)('(%s) a missed call is recorded and never answered', (_, from) => {
    // Past the greeting window, after hours, every fact allowing: in open this would greet.
    for (const facts of [makeFacts(), makeFacts({ afterHours: true })]) {
      const before = from();
      const result = send(before, missedCall, { facts, at: minutes(300) });
      expect(result.handled).toBe(true);
      expect(result.state).toBe('blocked');
      expect(result.snapshot).toEqual({
        value: 'blocked',
        context: { ...before.context, missedCalls: before.context.missedCalls + 1 },
      });
      expect(result.effects).toEqual([
        { type: 'emit', name: 'nmc.conversation.MissedCallRecorded', payload: { call_sid: 'CA100' } },
      ]);
    }
  });

  it.each([
    ['opted out', blockedOptedOut, 'opted_out'],
    ['compliance', blockedCompliance, 'campaign_not_approved'],
  ] as const)('(%s) an operator text is held back and says why', (_, from, reason) => {
    // Whatever the facts say: the block is the reason.
    for (const facts of [makeFacts(), makeFacts({ optedOut: true, campaignStatus: 'rejected' })]) {
      const before = from();
      const result = send(before, operatorSays('Are you there?', 'op-9'), { facts });
      expect(result.handled).toBe(true);
      expect(result.state).toBe('blocked');
      expect(result.snapshot).toEqual(before);
      expect(result.effects).toEqual([suppressed('operator', reason)]);
    }
  });
});

describe('timers', () => {
  it('a stale token is ignored and the current token closes an open conversation', () => {
    const greeted = send(open(), missedCall);
    const replied = send(greeted.snapshot, inbound, { at: minutes(5) });
    expect(replied.snapshot.context.timerToken).toBe(2);

    const stale = send(
      replied.snapshot,
      { type: 'InactivityTimeout', timer: 'inactivity', token: 1 },
      {
        at: minutes(1440),
      },
    );
    expect(stale.handled).toBe(false);
    expect(stale.effects).toEqual([]);
    expect(stale.snapshot).toEqual(replied.snapshot);

    const future = send(replied.snapshot, { type: 'InactivityTimeout', timer: 'inactivity', token: 3 });
    expect(future.handled).toBe(false);
    expect(future.snapshot).toEqual(replied.snapshot);

    const current = send(
      replied.snapshot,
      { type: 'InactivityTimeout', timer: 'inactivity', token: 2 },
      {
        at: minutes(1445),
      },
    );
    expect(current.handled).toBe(true);
    expect(current.snapshot.value).toBe('closed');
    expect(current.snapshot.context.closedReason).toBe('inactivity');
    expect(current.effects).toEqual([
      {
        type: 'emit',
        name: 'nmc.conversation.ConversationClosed',
        payload: { by: null, reason: 'inactivity' },
      },
    ]);
  });

  it('a humanIdle timer does not close an open conversation, even with the current token', () => {
    const greeted = send(open(), missedCall);
    const result = send(greeted.snapshot, { type: 'InactivityTimeout', timer: 'humanIdle', token: 1 });
    expect(result.handled).toBe(false);
    expect(result.snapshot).toEqual(greeted.snapshot);
  });

  it('without humanIdleReleaseMinutes a human conversation is never released by time', () => {
    const taken = send(open(), operatorSays('Hi'));
    expect(taken.effects.some((e) => e.type === 'scheduleTimer')).toBe(false);
    const token = taken.snapshot.context.timerToken;
    for (const timer of ['humanIdle', 'inactivity'] as const) {
      const result = send(
        taken.snapshot,
        { type: 'InactivityTimeout', timer, token },
        { at: minutes(100_000) },
      );
      expect(result.handled).toBe(false);
      expect(result.snapshot.value).toBe('human');
      expect(result.effects).toEqual([]);
    }
  });

  it('with humanIdleReleaseMinutes the assistant takes back an idle human conversation', () => {
    const facts = makeFacts({ policy: { humanIdleReleaseMinutes: 30 } });
    const taken = send(open(), operatorSays('Hi', 'op-3'), { facts });
    const token = taken.snapshot.context.timerToken;
    expect(taken.effects).toContainEqual({
      type: 'scheduleTimer',
      timer: 'humanIdle',
      fireAt: minutes(30),
      token,
    });

    // Each operator message pushes the release back.
    const again = send(taken.snapshot, operatorSays('Still there?', 'op-3'), { facts, at: minutes(20) });
    expect(again.effects).toContainEqual({
      type: 'scheduleTimer',
      timer: 'humanIdle',
      fireAt: minutes(50),
      token: token + 1,
    });
    const stale = send(again.snapshot, { type: 'InactivityTimeout', timer: 'humanIdle', token }, { facts });
    expect(stale.handled).toBe(false);

    const released = send(
      again.snapshot,
      { type: 'InactivityTimeout', timer: 'humanIdle', token: token + 1 },
      {
        facts,
        at: minutes(50),
      },
    );
    expect(released.handled).toBe(true);
    expect(released.snapshot.value).toBe('open');
    expect(released.snapshot.context.assignedTo).toBeNull();
    expect(released.effects).toEqual([
      { type: 'emit', name: 'nmc.conversation.HumanReleased', payload: { operator_id: 'op-3', idle: true } },
      { type: 'scheduleTimer', timer: 'inactivity', fireAt: minutes(50 + 1440), token: token + 2 },
    ]);
  });

  it('a policy turned off after scheduling does not release', () => {
    const taken = send(open(), takeover, { facts: makeFacts({ policy: { humanIdleReleaseMinutes: 30 } }) });
    const token = taken.snapshot.context.timerToken;
    const result = send(taken.snapshot, { type: 'InactivityTimeout', timer: 'humanIdle', token });
    expect(result.handled).toBe(false);
    expect(result.snapshot.value).toBe('human');
  });
});

describe('close', () => {
  it.each([
    ['op-1', 'operator'],
    [null, 'system'],
  ] as const)('CloseRequested by %s closes with reason %s', (operatorId, reason) => {
    for (const from of [open(), human(), blockedOptedOut(), blockedCompliance()]) {
      const result = send(from, { type: 'CloseRequested', operatorId });
      expect(result.handled).toBe(true);
      expect(result.snapshot.value).toBe('closed');
      expect(result.snapshot.context.closedReason).toBe(reason);
      expect(result.snapshot.context.assignedTo).toBeNull();
      expect(result.effects).toEqual([
        {
          type: 'emit',
          name: 'nmc.conversation.ConversationClosed',
          payload: { by: operatorId, reason: 'requested' },
        },
      ]);
    }
  });

  // `closed` is final: not even the machine's top-level transitions (OptedOut, HelpRequested,
  // CloseRequested, MessageStatusChanged, CampaignStatusChanged) apply to it.
  it('closed accepts nothing: every event is ignored with no effects', () => {
    const accepted: string[] = [];
    for (const facts of [makeFacts(), makeFacts({ optedOut: true })]) {
      const before = closed();
      for (let pick = 0; pick < HOSTILE_STRINGS.length; pick += 7) {
        for (const event of eventsFor(facts, minutes(1), { pick, token: before.context.timerToken })) {
          const result = step(before, event);
          const changed = JSON.stringify(result.snapshot) !== JSON.stringify(before);
          if (result.handled || result.effects.length > 0 || changed) {
            accepted.push(
              `${event.type} → ${result.state} [${result.effects.map((e) => e.type).join(', ')}]`,
            );
          }
        }
      }
    }
    expect([...new Set(accepted)]).toEqual([]);
  });
});

describe('HELP', () => {
  it.each([
    ['open', open, makeFacts()],
    ['human', human, makeFacts()],
    ['blocked (opted out)', blockedOptedOut, makeFacts({ optedOut: true })],
    ['open, facts opted out', open, makeFacts({ optedOut: true })],
    ['open, assistant gate closed', open, makeFacts({ gates: { assistant: false } })],
    ['open, sms gate closed', open, makeFacts({ gates: { sms: false } })],
    ['human, both gates closed', human, makeFacts({ gates: { sms: false, assistant: false } })],
    [
      'blocked (opted out), both gates closed',
      blockedOptedOut,
      makeFacts({ optedOut: true, gates: { sms: false, assistant: false } }),
    ],
  ] as const)('is answered in %s', (_, from, facts) => {
    for (const input of [help, { type: 'HelpRequested', confirm: true }] satisfies EventInput[]) {
      const before = from();
      const result = send(before, input, { facts });
      expect(result.handled).toBe(true);
      expect(result.snapshot).toEqual(before);
      expect(result.effects).toEqual([
        { type: 'sendSms', body: text(facts.templates.help, facts), purpose: 'compliance', operatorId: null },
      ]);
    }
  });

  it('is not answered again when the provider already did (confirm: false)', () => {
    for (const from of [open(), human(), blockedOptedOut(), blockedCompliance()]) {
      for (const facts of [
        makeFacts(),
        makeFacts({ optedOut: true }),
        makeFacts({ campaignStatus: 'pending' }),
      ]) {
        const result = send(from, { type: 'HelpRequested', confirm: false }, { facts });
        expect(result.handled).toBe(true);
        expect(result.snapshot).toEqual(from);
        expect(result.effects).toEqual([]);
      }
    }
  });

  it.each(NOT_APPROVED)('is never answered while the campaign is %s', (campaignStatus) => {
    for (const from of [open(), human(), blockedOptedOut(), blockedCompliance()]) {
      const result = send(from, help, { facts: makeFacts({ campaignStatus, optedOut: true }) });
      expect(sms(result.effects)).toEqual([]);
      expect(result.effects).toEqual([suppressed('compliance', 'campaign_not_approved')]);
    }
  });
});

describe('feature gates', () => {
  it('a closed assistant gate holds back greetings and acknowledgements but not operator texts', () => {
    const facts = makeFacts({ gates: { assistant: false } });
    const greeting = send(open(), missedCall, { facts });
    expect(sms(greeting.effects)).toEqual([]);
    expect(greeting.effects).toContainEqual(suppressed('greeting', 'assistant_gate_closed'));
    const ack = send(open(), inbound, { facts });
    expect(sms(ack.effects)).toEqual([]);
    expect(ack.effects).toContainEqual(suppressed('assistant', 'assistant_gate_closed'));

    const fromOpen = send(open(), operatorSays('Hi, Dana here'), { facts });
    expect(fromOpen.snapshot.value).toBe('human');
    expect(sms(fromOpen.effects)).toEqual([
      { type: 'sendSms', body: 'Hi, Dana here', purpose: 'operator', operatorId: 'op-1' },
    ]);
    const fromHuman = send(human(), operatorSays('Hi again'), { facts });
    expect(sms(fromHuman.effects).map((e) => e.purpose)).toEqual(['operator']);
  });

  it('a closed sms gate holds back operator texts too', () => {
    const facts = makeFacts({ gates: { sms: false } });
    for (const [from, input, purpose] of [
      [open(), missedCall, 'greeting'],
      [open(), inbound, 'assistant'],
      [open(), operatorSays('Hi'), 'operator'],
      [human(), operatorSays('Hi'), 'operator'],
    ] as const) {
      const result = send(from, input, { facts });
      expect(sms(result.effects)).toEqual([]);
      expect(result.effects).toContainEqual(suppressed(purpose, 'sms_gate_closed'));
    }
    // The takeover still happens: the operator is in control even if the text is held back.
    expect(send(open(), operatorSays('Hi'), { facts }).snapshot.value).toBe('human');
  });

  it('compliance texts need only an approved campaign, whatever the gates say', () => {
    const facts = makeFacts({ gates: { sms: false, assistant: false } });
    const optOut = send(open(), optedOut(true), { facts });
    expect(sms(optOut.effects)).toEqual([
      {
        type: 'sendSms',
        body: text(facts.templates.optOutConfirmation, facts),
        purpose: 'compliance',
        operatorId: null,
      },
    ]);
    const optIn = send(optOut.snapshot, optedIn(true), { facts: { ...facts, optedOut: true } });
    expect(optIn.snapshot.value).toBe('open');
    expect(sms(optIn.effects)).toEqual([
      {
        type: 'sendSms',
        body: text(facts.templates.optInConfirmation, facts),
        purpose: 'compliance',
        operatorId: null,
      },
    ]);
    expect(sms(send(human(), help, { facts }).effects).map((e) => e.purpose)).toEqual(['compliance']);
    for (const campaignStatus of NOT_APPROVED) {
      const held = send(open(), optedOut(true), { facts: { ...facts, campaignStatus } });
      expect(held.effects).toContainEqual(suppressed('compliance', 'campaign_not_approved'));
      expect(sms(held.effects)).toEqual([]);
    }
  });
});

describe('message status and holds', () => {
  it('a message status changes nothing in the conversation (a failure shows on the message)', () => {
    const failed = send(open(), {
      type: 'MessageStatusChanged',
      messageId: 'm1',
      status: 'failed',
      errorCode: '30007',
    });
    expect(failed.effects).toEqual([]);
    for (const status of ['sent', 'delivered'] as const) {
      const before = human();
      const result = send(before, { type: 'MessageStatusChanged', messageId: 'm1', status, errorCode: null });
      expect(result.snapshot).toEqual(before);
      expect(result.effects).toEqual([]);
    }
  });

  it.each([
    ['open', open],
    ['human', human],
    ['blocked', blockedOptedOut],
  ] as const)('HoldExpired for a hold the dialogue is not waiting on is ignored in %s', (_, from) => {
    expect(from().context.dialogue.holdId).toBeNull();
    const before = from();
    const result = send(before, { type: 'HoldExpired', holdId: 'h1' });
    expect(result.handled).toBe(false);
    expect(result.effects).toEqual([]);
    expect(result.snapshot).toEqual(before);
  });
});

describe('hostile ids and bodies', () => {
  // Operator ids are checked by the runtime before dispatch: '' is a valid call sid or body but not an
  // operator id (see the next test), so it travels as data everywhere but there.
  it.each(HOSTILE_STRINGS.map((s) => [JSON.stringify(s).slice(0, 40), s]))(
    '%s travels as data through takeover, texts and the stored snapshot',
    (_, value) => {
      const facts = makeFacts();
      const operatorId = HOSTILE_OPERATOR_IDS.includes(value) ? value : 'op-1';
      const taken = run(open(), [
        { type: 'MissedCall', callSid: value },
        { type: 'InboundSms', messageSid: value, body: value, mediaCount: 0 },
        { type: 'OperatorMessage', operatorId, body: value },
      ]);
      expect(taken.snapshot.value).toBe('human');
      expect(taken.snapshot.context.assignedTo).toBe(operatorId);
      expect(Object.getPrototypeOf(taken.snapshot.context)).toBe(Object.prototype);
      expect(sms(taken.effects)).toEqual([{ type: 'sendSms', body: value, purpose: 'operator', operatorId }]);
      const restored = reviveSnapshot(JSON.parse(JSON.stringify(taken.snapshot)), SNAPSHOT_SCHEMA_VERSION);
      expect(restored).toEqual(taken.snapshot);
      const released = send(restored, { type: 'HumanReleased', operatorId }, { facts });
      expect(released.snapshot.value).toBe('open');
      expect(emitted(released.effects, 'nmc.conversation.HumanReleased')[0]?.payload).toEqual({
        operator_id: operatorId,
        idle: false,
      });
    },
  );

  it('an empty operator id is not valid input: a snapshot assigned to "" cannot be revived', () => {
    expect(HOSTILE_OPERATOR_IDS).not.toContain('');
    const taken = human();
    const stored = JSON.parse(JSON.stringify({ ...taken, context: { ...taken.context, assignedTo: '' } }));
    expect(() => reviveSnapshot(stored, SNAPSHOT_SCHEMA_VERSION)).toThrow(SnapshotRevivalError);
    expect(() => reviveSnapshot(stored, SNAPSHOT_SCHEMA_VERSION)).toThrow(/assignedTo/);
  });

  it('placeholders in facts are filled once and never re-expanded', () => {
    const facts = makeFacts({
      businessName: '{help} {__proto__}',
      helpText: '{business} {constructor}',
      templates: { ...makeFacts().templates, greeting: 'Hi {business} / {constructor} / {toString}' },
    });
    expect(sms(send(open(), missedCall, { facts }).effects)[0]?.body).toBe(
      'Hi {help} {__proto__} / {constructor} / {toString}',
    );
    expect(sms(send(open(), help, { facts }).effects)[0]?.body).toBe(
      '{help} {__proto__}: {business} {constructor} Reply STOP to opt out. Msg&data rates may apply.',
    );
  });
});

describe('reviveSnapshot', () => {
  const v1Context = {
    assignedTo: null,
    lastGreetingAt: T0,
    timerToken: 3,
    blockedReason: null,
    closedReason: null,
  };
  const v2Context = {
    assignedTo: null,
    lastGreetingAt: T0,
    acknowledged: false,
    missedCalls: 1,
    timerToken: 3,
    blockedReason: null,
    closedReason: null,
  };

  it('upgrades a version-1 optedOut snapshot to a current blocked(opted_out) one', () => {
    const stored = JSON.parse(JSON.stringify({ value: 'optedOut', context: v1Context }));
    const revived = reviveSnapshot(stored, 1);
    expect(revived).toEqual({
      value: 'blocked',
      context: {
        ...v1Context,
        acknowledged: false,
        missedCalls: 0,
        blockedReason: 'opted_out',
        dialogue: INITIAL_DIALOGUE,
        pendingTexts: [],
        burstToken: 0,
      },
    });
    expect(Object.keys(revived.context).sort()).toEqual(Object.keys(INITIAL_CONTEXT).sort());

    const result = step(
      revived,
      makeEvent(optedIn(true), { at: minutes(5), facts: makeFacts({ optedOut: true }) }),
    );
    expect(result.handled).toBe(true);
    expect(result.previousState).toBe('blocked');
    expect(result.snapshot.value).toBe('open');
    expect(result.snapshot.context.blockedReason).toBeNull();
    expect(sms(result.effects).map((e) => e.purpose)).toEqual(['compliance']);
  });

  it('upgrades a version-1 open snapshot and keeps its greeting window and timer token', () => {
    const revived = reviveSnapshot({ value: 'open', context: v1Context }, 1);
    expect(revived).toEqual({
      value: 'open',
      context: {
        ...v1Context,
        acknowledged: false,
        missedCalls: 0,
        dialogue: INITIAL_DIALOGUE,
        pendingTexts: [],
        burstToken: 0,
      },
    });
    const missed = step(revived, makeEvent(missedCall, { at: minutes(30), facts: makeFacts() }));
    expect(sms(missed.effects)).toEqual([]);
    expect(missed.snapshot.context.missedCalls).toBe(1);
    const timeout = step(
      revived,
      makeEvent(
        { type: 'InactivityTimeout', timer: 'inactivity', token: 3 },
        { at: minutes(1), facts: makeFacts() },
      ),
    );
    expect(timeout.snapshot.value).toBe('closed');
  });

  it('is at schema version 4', () => {
    expect(SNAPSHOT_SCHEMA_VERSION).toBe(4);
  });

  it('upgrades a version-3 booked snapshot, keeping its appointment', () => {
    const v3 = {
      ...INITIAL_CONTEXT,
      dialogue: {
        step: 'booked',
        serviceId: 'svc-drain',
        candidates: [],
        offered: [],
        holdId: null,
        held: null,
        appointmentId: 'appt-1',
        booked: SLOTS[0],
        offerReason: null,
        misunderstandings: 0,
      },
    } as Record<string, unknown>;
    delete v3.pendingTexts;
    delete v3.burstToken;
    const revived = reviveSnapshot(JSON.parse(JSON.stringify({ value: 'open', context: v3 })), 3);
    expect(revived.context.dialogue).toMatchObject({
      step: 'booked',
      appointmentId: 'appt-1',
      language: 'en',
    });
    expect(revived.context.pendingTexts).toEqual([]);
  });

  it.each([
    ['open', { ...v2Context, timerToken: 4, acknowledged: true }],
    ['human', { ...v2Context, assignedTo: 'op-1' }],
    ['blocked', { ...v2Context, blockedReason: 'opted_out' }],
    ['closed', { ...v2Context, closedReason: 'inactivity' }],
  ] as const)(
    'upgrades a version-2 %s snapshot to the current version with the initial dialogue',
    (value, context) => {
      const stored = JSON.parse(JSON.stringify({ value, context }));
      const revived = reviveSnapshot(stored, 2);
      expect(revived).toEqual({
        value,
        context: { ...context, dialogue: INITIAL_DIALOGUE, pendingTexts: [], burstToken: 0 },
      });
      expect(Object.keys(revived.context).sort()).toEqual(Object.keys(INITIAL_CONTEXT).sort());
      // The stored JSON is not changed in place.
      expect(stored.context).not.toHaveProperty('dialogue');
    },
  );

  it('a migrated version-2 open snapshot runs the booking dialogue from the start', () => {
    const revived = reviveSnapshot({ value: 'open', context: { ...v2Context, acknowledged: true } }, 2);
    const result = step(
      revived,
      makeEvent(
        { type: 'InboundSms', messageSid: 'SM1', body: 'my drain is clogged', mediaCount: 0 },
        { at: minutes(1), facts: makeCatalogFacts() },
      ),
    );
    expect(result.effects).toContainEqual({ type: 'findSlots', serviceId: 'svc-drain' });
    expect(result.snapshot.context.dialogue).toEqual({
      ...INITIAL_DIALOGUE,
      serviceId: 'svc-drain',
      offerReason: 'quote',
    });
  });

  it('rejects a version-2 snapshot whose context is not a version-2 context', () => {
    expect(() => reviveSnapshot({ value: 'open', context: { ...v2Context, extra: 1 } }, 2)).toThrow(
      SnapshotRevivalError,
    );
    expect(() => reviveSnapshot({ value: 'open', context: { ...v2Context, missedCalls: '1' } }, 2)).toThrow(
      SnapshotRevivalError,
    );
  });

  it.each([
    ['step', 'waiting'],
    ['offered', [{ resourceId: 'r', start: 'tomorrow', end: 'later' }]],
    ['misunderstandings', -1],
    ['holdId', 42],
    ['offerReason', 'because'],
  ])('rejects a current snapshot with dialogue.%s = %j', (key, value) => {
    const stored = {
      value: 'open',
      context: { ...INITIAL_CONTEXT, dialogue: { ...INITIAL_DIALOGUE, [key]: value } },
    };
    expect(() => reviveSnapshot(stored, SNAPSHOT_SCHEMA_VERSION)).toThrow(SnapshotRevivalError);
    expect(() => reviveSnapshot(stored, SNAPSHOT_SCHEMA_VERSION)).toThrow(/dialogue/);
  });

  it('passes a current-version snapshot through unchanged', () => {
    const stored = run(open(), [missedCall, takeover]).snapshot;
    expect(reviveSnapshot(JSON.parse(JSON.stringify(stored)), SNAPSHOT_SCHEMA_VERSION)).toEqual(stored);
  });

  it.each([0, -1, 5, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects schema version %s', (version) => {
    expect(() => reviveSnapshot(initialSnapshot(), version)).toThrow(SnapshotRevivalError);
  });

  it.each([
    ['optedOut at version 2', { value: 'optedOut', context: INITIAL_CONTEXT }, 2],
    ['Open', { value: 'Open', context: INITIAL_CONTEXT }, 2],
    ['empty state', { value: '', context: INITIAL_CONTEXT }, 2],
    ['numeric state', { value: 1, context: INITIAL_CONTEXT }, 2],
    ['missing state', { context: INITIAL_CONTEXT }, 2],
    ['nested state', { value: { open: {} }, context: INITIAL_CONTEXT }, 2],
    ['__proto__ state', { value: '__proto__', context: INITIAL_CONTEXT }, 2],
    ['constructor state', { value: 'constructor', context: INITIAL_CONTEXT }, 1],
    ['unknown v1 state', { value: 'waiting', context: v1Context }, 1],
  ])('rejects an unknown state (%s)', (_, stored, version) => {
    expect(() => reviveSnapshot(stored, version)).toThrow(SnapshotRevivalError);
  });

  it.each([
    ['timerToken', '1'],
    ['timerToken', {}],
    ['missedCalls', '2'],
    ['acknowledged', 'false'],
    ['acknowledged', 0],
    ['timerToken', true],
  ])('rejects context.%s = %j', (key, value) => {
    const stored = { value: 'open', context: { ...INITIAL_CONTEXT, [key]: value } };
    expect(() => reviveSnapshot(stored, SNAPSHOT_SCHEMA_VERSION)).toThrow(SnapshotRevivalError);
    expect(() => reviveSnapshot({ value: 'open', context: { ...v1Context, [key]: value } }, 1)).toThrow(
      SnapshotRevivalError,
    );
  });

  it.each([
    ['timerToken', null],
    ['missedCalls', null],
    ['acknowledged', null],
    ['assignedTo', 42],
    ['assignedTo', ''],
    ['lastGreetingAt', { at: T0 }],
    ['lastGreetingAt', 'yesterday'],
    ['blockedReason', 'banana'],
    ['closedReason', false],
    ['missedCalls', -1],
    ['timerToken', 1.5],
  ])('rejects null and wrongly-typed context.%s = %j', (key, value) => {
    for (const state of ['open', 'blocked']) {
      const stored = { value: state, context: { ...INITIAL_CONTEXT, [key]: value } };
      expect(() => reviveSnapshot(stored, SNAPSHOT_SCHEMA_VERSION)).toThrow(SnapshotRevivalError);
    }
  });

  it.each([
    ['a string', 'open'],
    ['an array', ['a']],
    ['null', null],
    ['a number', 42],
    ['missing', undefined],
  ])('rejects a context that is %s', (_, context) => {
    for (const version of [1, SNAPSHOT_SCHEMA_VERSION]) {
      expect(() => reviveSnapshot({ value: 'open', context }, version)).toThrow(SnapshotRevivalError);
    }
  });

  it('rejects a context with unknown keys', () => {
    const extra = { value: 'open', context: { ...INITIAL_CONTEXT, extra: 1 } };
    expect(() => reviveSnapshot(extra, SNAPSHOT_SCHEMA_VERSION)).toThrow(SnapshotRevivalError);
    expect(() => reviveSnapshot({ value: 'open', context: { ...v1Context, extra: 1 } }, 1)).toThrow(
      SnapshotRevivalError,
    );
    const proto = JSON.parse(
      JSON.stringify({ value: 'open', context: INITIAL_CONTEXT }).replace(
        '"context":{',
        '"context":{"__proto__":{},',
      ),
    );
    expect(Object.keys(proto.context)).toContain('__proto__');
    expect(() => reviveSnapshot(proto, SNAPSHOT_SCHEMA_VERSION)).toThrow(SnapshotRevivalError);
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'open'],
    ['a number', 2],
    ['an empty array', []],
    ['a JSON __proto__ payload', JSON.parse('{"__proto__": {"value": "open", "context": {}}}')],
    ['a JSON constructor payload', JSON.parse('{"constructor": {"value": "open"}}')],
  ])('rejects %s', (_, stored) => {
    for (const version of [1, SNAPSHOT_SCHEMA_VERSION]) {
      expect(() => reviveSnapshot(stored, version)).toThrow(SnapshotRevivalError);
    }
  });

  it('rejects a JSON __proto__ payload without changing any prototype', () => {
    const stored = JSON.parse('{"value": "open", "context": {"__proto__": {"timerToken": 99}}}');
    for (const version of [1, SNAPSHOT_SCHEMA_VERSION]) {
      expect(() => reviveSnapshot(stored, version)).toThrow(SnapshotRevivalError);
    }
    expect(({} as Record<string, unknown>).timerToken).toBeUndefined();
  });
});
