import { setup } from 'xstate';
import type { Understanding } from '../domain/understanding/understanding.ts';
import {
  current,
  handoverFor,
  handoverValues,
  onBooked,
  onCancelled,
  onCancelledElsewhere,
  onHoldPlaced,
  onMoved,
  onMovedElsewhere,
  onMoveFailed,
  onReminderDue,
  onSlotLost,
  onSlotsFound,
  onText,
  optOutText,
  readText,
  say,
  setDialogue,
} from './booking-dialogue.ts';
import type { BookingRequest, ConversationEvent, Effect } from './conversation-events.ts';
import { type ConversationContext, INITIAL_CONTEXT, type PendingText, Plan } from './conversation-plan.ts';
import { sendBlockedBy } from './send-guard.ts';

// One conversation with one caller. Pure: no I/O, no clock, no randomness. Every effect leaves as a
// named action (`sendSms`, `scheduleTimer`, `emit`, `notifyOperators`) whose params are the effect;
// the runtime reads them from xstate's pure `transition` and turns them into rows in one transaction.
//
// States (docs/product.md): `open` (the assistant is in control), `human` (an operator took over),
// `closed`, `blocked` (opt-out or compliance). Rules that must stay true:
// - Nothing is sent unless the campaign is approved and the caller is not opted out; assistant
//   texts also need the `assistant` gate, operator texts the `sms` gate (conversation-plan.ts). The
//   only texts an opted-out caller can get are compliance texts: the opt-out confirmation and HELP.
// - In `human`, `closed` and `blocked` the assistant never sends.
// - `blocked` is left only by START/UNSTOP after an opt-out (`OptedIn` → `open`, unless the campaign
//   is rejected: then it stays blocked for compliance), or, when it was blocked for compliance
//   (campaign rejected), by the campaign becoming approved (→ `open`).
// - Compliance texts (opt-out/opt-in confirmations, HELP) need only an approved campaign: carriers
//   require them whatever the subscription's gates say.
// - `closed` is final and accepts nothing: a new missed call or SMS starts a new conversation (the
//   runtime's job; one non-closed conversation per tenant and caller, by a partial unique index).
// - Timers are effects carrying a token; a timer event whose token is not the current one is stale
//   and ignored, so no `after` delay (which would not survive a restore) is needed.

export type { ConversationContext } from './conversation-plan.ts';

type EventOf<T extends ConversationEvent['type']> = Extract<ConversationEvent, { type: T }>;

const machineSetup = setup({
  types: { context: {} as ConversationContext, events: {} as ConversationEvent },
  actions: {
    sendSms: (_, _effect: Extract<Effect, { type: 'sendSms' }>) => {},
    scheduleTimer: (_, _effect: Extract<Effect, { type: 'scheduleTimer' }>) => {},
    emit: (_, _effect: Extract<Effect, { type: 'emit' }>) => {},
    notifyOperators: (_, _effect: Extract<Effect, { type: 'notifyOperators' }>) => {},
    request: (_, _effect: BookingRequest) => {},
  },
});

/** Turns a decision function into the xstate action that applies its Plan. */
function decide<T extends ConversationEvent['type']>(_type: T, fn: (plan: Plan, event: EventOf<T>) => void) {
  return machineSetup.enqueueActions(({ context, event, enqueue }) => {
    const plan = new Plan(context, event.facts, event.at);
    fn(plan, event as EventOf<T>);
    if (Object.keys(plan.patch).length > 0) enqueue.assign(plan.patch);
    for (const effect of plan.effects) {
      switch (effect.type) {
        case 'sendSms':
          enqueue({ type: 'sendSms', params: effect });
          break;
        case 'scheduleTimer':
          enqueue({ type: 'scheduleTimer', params: effect });
          break;
        case 'emit':
          enqueue({ type: 'emit', params: effect });
          break;
        case 'notifyOperators':
          enqueue({ type: 'notifyOperators', params: effect });
          break;
        default:
          enqueue({ type: 'request', params: effect });
      }
    }
  });
}

const recordMissedCall = (plan: Plan, event: EventOf<'MissedCall'>) => {
  plan.set({ missedCalls: plan.context.missedCalls + 1 });
  plan.emit('nmc.conversation.MissedCallRecorded', { call_sid: event.callSid });
};

/** The pending texts (a burst, or the one text) read as one, and the burst cleared. */
/** How long an `open` conversation may stay quiet before it closes: longer once it has booked. */
function quietMinutes(plan: Plan): number {
  const dialogue = current(plan);
  return dialogue.step === 'booked' && dialogue.appointmentId !== null
    ? plan.facts.policy.bookedCloseMinutes
    : plan.facts.policy.inactivityCloseMinutes;
}

/** A booking (or a move) restarts the quiet period from its confirmation, the last text. */
function afterBooking<T extends 'Booked' | 'AppointmentMoved'>(
  handle: (plan: Plan, event: EventOf<T>) => void,
): (plan: Plan, event: EventOf<T>) => void {
  return (plan, event) => {
    handle(plan, event);
    // Not for an event about another appointment (the handler ignored it).
    if (current(plan).appointmentId === (event as EventOf<'Booked' | 'AppointmentMoved'>).appointmentId)
      plan.restartTimer('inactivity', quietMinutes(plan));
  };
}

function readPending(plan: Plan, texts: readonly PendingText[]): { text: string; understood: Understanding } {
  const text = texts.map((t) => t.body).join('\n');
  // A model's hint is about one text: it is used only when that text is read alone.
  const hint = texts.length === 1 ? texts[0]?.hint : undefined;
  if (plan.context.pendingTexts.length > 0) plan.set({ pendingTexts: [] });
  return { text, understood: readText(plan, text, hint) };
}

function isBurstDue(context: ConversationContext, event: ConversationEvent): boolean {
  return (
    event.type === 'InactivityTimeout' &&
    event.timer === 'burst' &&
    event.token === context.burstToken &&
    context.pendingTexts.length > 0
  );
}

/** Whether the text(s) of this event hand the conversation to a person (see handoverFor). */
function handsOver(context: ConversationContext, event: ConversationEvent): boolean {
  const plan = new Plan(context, event.facts, event.at);
  const texts: PendingText[] =
    event.type === 'InboundSms' ? [{ body: event.body, hint: event.hint }] : context.pendingTexts;
  const read = readPending(plan, texts);
  return handoverFor(plan, read.text, read.understood) !== null;
}

function handOver(plan: Plan, read: { text: string; understood: Understanding }): void {
  const handover = handoverFor(plan, read.text, read.understood);
  if (handover === null) return;
  if (read.understood.language === 'es') setDialogue(plan, { language: 'es' });
  setDialogue(plan, { misunderstandings: 0 });
  plan.set({ assignedTo: null });
  say(plan, handover.template, { ...handoverValues(plan), ...handover.values });
  plan.emit('nmc.conversation.HandedToHuman', { reason: handover.reason });
  plan.notify(handover.reason);
  plan.restartTimer('humanIdle', plan.facts.policy.humanIdleReleaseMinutes);
}

const takeOver = (plan: Plan, operatorId: string) => {
  // Texts waiting for a burst reply are the person's to answer now.
  plan.set({ assignedTo: operatorId, pendingTexts: [] });
  plan.emit('nmc.conversation.HumanTookOver', { operator_id: operatorId, previous: plan.context.assignedTo });
  plan.restartTimer('humanIdle', plan.facts.policy.humanIdleReleaseMinutes);
};

export const conversationMachine = machineSetup.createMachine({
  id: 'conversation',
  context: INITIAL_CONTEXT,
  initial: 'open',
  on: {
    // Everywhere but `closed` (final). An opt-out wins over everything else.
    OptedOut: {
      target: '.blocked',
      actions: decide('OptedOut', (plan, event) => {
        plan.set({ blockedReason: 'opted_out', assignedTo: null, pendingTexts: [] });
        plan.restartTimer('inactivity', null);
        plan.emit('nmc.conversation.OptedOut', { source: event.source });
        // Carriers require STOP/CANCEL to opt out even with a booking: the appointment stands, the
        // confirmation says so and how to cancel it, and the business is told.
        if (plan.context.dialogue.appointmentId !== null) plan.notify('opted_out_with_appointment');
        if (event.confirm) plan.send('compliance', optOutText(plan));
      }),
    },
    HelpRequested: {
      actions: decide('HelpRequested', (plan, event) => {
        if (event.confirm !== false) plan.send('compliance', plan.text(plan.facts.templates.help));
      }),
    },
    CloseRequested: {
      target: '.closed',
      actions: decide('CloseRequested', (plan, event) => {
        plan.set({ closedReason: event.operatorId ? 'operator' : 'system', assignedTo: null });
        plan.emit('nmc.conversation.ConversationClosed', { by: event.operatorId, reason: 'requested' });
      }),
    },
    // The appointment this conversation holds changed elsewhere: in any state but `closed`, so the
    // assistant knows the truth when it is back in control. Events about another appointment (or
    // one the dialogue itself already cancelled or moved) are ignored.
    AppointmentCancelledElsewhere: {
      guard: ({ context, event }) =>
        event.type === 'AppointmentCancelledElsewhere' &&
        event.appointmentId === context.dialogue.appointmentId,
      actions: decide('AppointmentCancelledElsewhere', onCancelledElsewhere),
    },
    AppointmentMovedElsewhere: {
      guard: ({ context, event }) =>
        event.type === 'AppointmentMovedElsewhere' && event.previousId === context.dialogue.appointmentId,
      actions: decide('AppointmentMovedElsewhere', onMovedElsewhere),
    },
    MessageStatusChanged: {
      // A failed text shows on the message itself (its status, nmc.messaging.MessageStatusChanged):
      // it is not a reason to alert a person about the conversation.
      actions: decide('MessageStatusChanged', () => {}),
    },
    CampaignStatusChanged: {
      guard: ({ event }) => event.type === 'CampaignStatusChanged' && event.status === 'rejected',
      target: '.blocked',
      actions: decide('CampaignStatusChanged', (plan) => {
        plan.set({ blockedReason: 'compliance', assignedTo: null, pendingTexts: [] });
        plan.restartTimer('inactivity', null);
        plan.emit('nmc.conversation.Blocked', { reason: 'compliance' });
      }),
    },
  },
  states: {
    open: {
      on: {
        MissedCall: {
          actions: decide('MissedCall', (plan, event) => {
            recordMissedCall(plan, event);
            plan.restartTimer('inactivity', quietMinutes(plan));
            const { lastGreetingAt } = plan.context;
            const windowMs = plan.facts.policy.greetingWindowMinutes * 60_000;
            if (lastGreetingAt !== null && Date.parse(event.at) - Date.parse(lastGreetingAt) < windowMs)
              return;
            const template = plan.facts.afterHours
              ? plan.facts.templates.greetingAfterHours
              : plan.facts.templates.greeting;
            if (plan.send('greeting', plan.text(template))) plan.set({ lastGreetingAt: event.at });
          }),
        },
        InboundSms: [
          {
            // A burst: the text waits a few seconds for the next one; they are answered together
            // when the `burst` timer fires (below). Only while the assistant could answer at all.
            guard: ({ event }) =>
              event.type === 'InboundSms' &&
              event.facts.catalog.length > 0 &&
              event.facts.replyDelaySeconds > 0 &&
              sendBlockedBy('assistant', event.facts) === null,
            actions: decide('InboundSms', (plan, event) => {
              plan.restartTimer('inactivity', quietMinutes(plan));
              plan.deferReply(
                event.hint === undefined ? { body: event.body } : { body: event.body, hint: event.hint },
                plan.facts.replyDelaySeconds,
              );
            }),
          },
          {
            // Triage: a person, a complaint, an emergency with nothing to book, another language,
            // or repeated misunderstandings: a person takes over, and is told why.
            guard: ({ context, event }) =>
              event.type === 'InboundSms' && event.facts.catalog.length > 0 && handsOver(context, event),
            target: 'human',
            actions: decide('InboundSms', (plan, event) => {
              handOver(plan, readPending(plan, [{ body: event.body, hint: event.hint }]));
            }),
          },
          {
            actions: decide('InboundSms', (plan, event) => {
              plan.restartTimer('inactivity', quietMinutes(plan));
              if (plan.facts.catalog.length > 0) {
                const read = readPending(plan, [{ body: event.body, hint: event.hint }]);
                onText(plan, read.text, read.understood);
                return;
              }
              // No catalog to book from: acknowledge once and leave the rest to a person.
              if (
                !plan.context.acknowledged &&
                plan.send('assistant', plan.text(plan.facts.templates.acknowledgement))
              ) {
                plan.set({ acknowledged: true });
              }
            }),
          },
        ],
        OptedIn: {
          // START from a caller who is not blocked here (e.g. their blocked conversation was
          // closed): the opt-out was cleared by the runtime; confirm as carriers expect.
          actions: decide('OptedIn', (plan, event) => {
            plan.emit('nmc.conversation.OptedIn', {});
            if (event.confirm) plan.send('compliance', plan.text(plan.facts.templates.optInConfirmation));
          }),
        },
        // A code the caller asked for on the public booking page: the business's automatic text,
        // under the same guards. Only in `open`: in `human` and `blocked` the assistant stays silent,
        // so the code is not sent (the hold simply lapses).
        PublicBookingCodeRequested: {
          actions: decide('PublicBookingCodeRequested', (plan, event) => {
            plan.send('assistant', plan.text(plan.facts.templates.bookingCode, { code: event.code }));
            plan.restartTimer('inactivity', plan.facts.policy.inactivityCloseMinutes);
          }),
        },
        SlotsFound: { actions: decide('SlotsFound', onSlotsFound) },
        HoldPlaced: { actions: decide('HoldPlaced', onHoldPlaced) },
        HoldFailed: { actions: decide('HoldFailed', (plan) => onSlotLost(plan, 'taken')) },
        BookingFailed: { actions: decide('BookingFailed', (plan) => onSlotLost(plan, 'taken')) },
        Booked: { actions: decide('Booked', afterBooking(onBooked)) },
        AppointmentMoved: { actions: decide('AppointmentMoved', afterBooking(onMoved)) },
        MoveFailed: { actions: decide('MoveFailed', onMoveFailed) },
        AppointmentCancelled: { actions: decide('AppointmentCancelled', onCancelled) },
        // Texts about an appointment the runtime checked still stands; only while the assistant is in
        // control (with a person in the thread, it is theirs to say).
        AppointmentReminderDue: {
          actions: decide('AppointmentReminderDue', (plan, event) => {
            onReminderDue(plan, event);
            plan.restartTimer('inactivity', plan.facts.policy.bookedCloseMinutes);
          }),
        },
        AppointmentCompleted: {
          actions: decide('AppointmentCompleted', (plan) => {
            plan.send('assistant', plan.text(plan.facts.templates.followUp));
            plan.restartTimer('inactivity', plan.facts.policy.inactivityCloseMinutes);
          }),
        },
        CancellationFailed: {
          // The appointment stays (no "that time was taken" text): the dialogue is back at booked.
          actions: decide('CancellationFailed', (plan) => setDialogue(plan, { step: 'booked' })),
        },
        HoldExpired: {
          // Only the hold this conversation is waiting on; fresh times rather than silence.
          guard: ({ context, event }) =>
            event.type === 'HoldExpired' && event.holdId === context.dialogue.holdId,
          actions: decide('HoldExpired', (plan) => onSlotLost(plan, 'expired')),
        },
        HumanTakeoverRequested: {
          target: 'human',
          actions: decide('HumanTakeoverRequested', (plan, event) => takeOver(plan, event.operatorId)),
        },
        OperatorMessage: {
          // A person who writes takes the conversation over first, in the same transition, so the
          // assistant can never talk over them.
          target: 'human',
          actions: decide('OperatorMessage', (plan, event) => {
            takeOver(plan, event.operatorId);
            plan.send('operator', event.body, event.operatorId);
          }),
        },
        InactivityTimeout: [
          {
            // The burst is over: its texts are read together and answered once.
            guard: ({ context, event }) => isBurstDue(context, event) && handsOver(context, event),
            target: 'human',
            actions: decide('InactivityTimeout', (plan) => {
              handOver(plan, readPending(plan, plan.context.pendingTexts));
            }),
          },
          {
            guard: ({ context, event }) => isBurstDue(context, event),
            actions: decide('InactivityTimeout', (plan) => {
              const read = readPending(plan, plan.context.pendingTexts);
              onText(plan, read.text, read.understood);
            }),
          },
          {
            guard: ({ context, event }) =>
              event.type === 'InactivityTimeout' &&
              event.timer === 'inactivity' &&
              event.token === context.timerToken,
            target: 'closed',
            actions: decide('InactivityTimeout', (plan) => {
              plan.set({ closedReason: 'inactivity' });
              plan.emit('nmc.conversation.ConversationClosed', { by: null, reason: 'inactivity' });
            }),
          },
        ],
      },
    },
    human: {
      on: {
        MissedCall: {
          actions: decide('MissedCall', (plan, event) => {
            recordMissedCall(plan, event);
            plan.notify('message_while_human');
          }),
        },
        InboundSms: {
          actions: decide('InboundSms', (plan) => {
            plan.notify('message_while_human');
          }),
        },
        OperatorMessage: {
          actions: decide('OperatorMessage', (plan, event) => {
            plan.set({ assignedTo: event.operatorId });
            plan.send('operator', event.body, event.operatorId);
            plan.restartTimer('humanIdle', plan.facts.policy.humanIdleReleaseMinutes);
          }),
        },
        HumanTakeoverRequested: {
          actions: decide('HumanTakeoverRequested', (plan, event) => takeOver(plan, event.operatorId)),
        },
        OptedIn: {
          actions: decide('OptedIn', (plan, event) => {
            plan.emit('nmc.conversation.OptedIn', {});
            if (event.confirm) plan.send('compliance', plan.text(plan.facts.templates.optInConfirmation));
          }),
        },
        HumanReleased: {
          target: 'open',
          actions: decide('HumanReleased', (plan, event) => {
            plan.set({ assignedTo: null });
            plan.emit('nmc.conversation.HumanReleased', { operator_id: event.operatorId, idle: false });
            plan.restartTimer('inactivity', plan.facts.policy.inactivityCloseMinutes);
          }),
        },
        InactivityTimeout: {
          guard: ({ context, event }) =>
            event.type === 'InactivityTimeout' &&
            event.timer === 'humanIdle' &&
            event.token === context.timerToken &&
            event.facts.policy.humanIdleReleaseMinutes !== null,
          target: 'open',
          actions: decide('InactivityTimeout', (plan) => {
            plan.set({ assignedTo: null });
            plan.emit('nmc.conversation.HumanReleased', { operator_id: plan.context.assignedTo, idle: true });
            plan.restartTimer('inactivity', plan.facts.policy.inactivityCloseMinutes);
          }),
        },
      },
    },
    blocked: {
      on: {
        OptedIn: [
          {
            // Opted back in while the campaign is rejected: the compliance block remains.
            guard: ({ context, event }) =>
              context.blockedReason === 'opted_out' && event.facts.campaignStatus === 'rejected',
            actions: decide('OptedIn', (plan) => {
              plan.set({ blockedReason: 'compliance' });
              plan.emit('nmc.conversation.OptedIn', {});
            }),
          },
          {
            guard: ({ context }) => context.blockedReason === 'opted_out',
            target: 'open',
            actions: decide('OptedIn', (plan, event) => {
              plan.set({ blockedReason: null });
              plan.emit('nmc.conversation.OptedIn', {});
              if (event.confirm) plan.send('compliance', plan.text(plan.facts.templates.optInConfirmation));
              plan.restartTimer('inactivity', plan.facts.policy.inactivityCloseMinutes);
            }),
          },
        ],
        CampaignStatusChanged: [
          // Rejected again while blocked: nothing changes.
          { guard: ({ event }) => event.type === 'CampaignStatusChanged' && event.status === 'rejected' },
          {
            guard: ({ context, event }) =>
              context.blockedReason === 'compliance' &&
              event.type === 'CampaignStatusChanged' &&
              event.status === 'approved',
            target: 'open',
            actions: decide('CampaignStatusChanged', (plan) => {
              plan.set({ blockedReason: null });
              plan.emit('nmc.conversation.Unblocked', { reason: 'campaign_approved' });
              plan.restartTimer('inactivity', plan.facts.policy.inactivityCloseMinutes);
            }),
          },
        ],
        InboundSms: {
          actions: decide('InboundSms', (plan) => {
            plan.emit('nmc.conversation.InboundWhileBlocked');
          }),
        },
        MissedCall: {
          actions: decide('MissedCall', (plan, event) => recordMissedCall(plan, event)),
        },
        OperatorMessage: {
          // Nothing leaves a blocked conversation, and the operator is told why.
          actions: decide('OperatorMessage', (plan) => {
            plan.emit('nmc.conversation.SendSuppressed', {
              purpose: 'operator',
              reason: plan.context.blockedReason === 'compliance' ? 'campaign_not_approved' : 'opted_out',
            });
          }),
        },
      },
    },
    closed: {
      type: 'final',
    },
  },
});
