import { setup } from 'xstate';
import {
  onBooked,
  onCancelled,
  onHoldPlaced,
  onSlotLost,
  onSlotsFound,
  onText,
  textGivesUp,
} from './booking-dialogue.ts';
import type { BookingRequest, ConversationEvent, Effect } from './conversation-events.ts';
import { type ConversationContext, INITIAL_CONTEXT, Plan } from './conversation-plan.ts';

// One conversation with one caller. Pure: no I/O, no clock, no randomness. Every effect leaves as a
// named action (`sendSms`, `scheduleTimer`, `emit`, `notifyOperators`) whose params are the effect;
// the runtime reads them from xstate's pure `transition` and turns them into rows in one transaction.
//
// States (DESIGN.md): `open` (the assistant is in control), `human` (an operator took over),
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

const takeOver = (plan: Plan, operatorId: string) => {
  plan.set({ assignedTo: operatorId });
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
        plan.set({ blockedReason: 'opted_out', assignedTo: null });
        plan.restartTimer('inactivity', null);
        plan.emit('nmc.conversation.OptedOut', { source: event.source });
        if (event.confirm) plan.send('compliance', plan.text(plan.facts.templates.optOutConfirmation));
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
    MessageStatusChanged: {
      actions: decide('MessageStatusChanged', (plan, event) => {
        if (event.status === 'failed') plan.notify('message_failed');
      }),
    },
    CampaignStatusChanged: {
      guard: ({ event }) => event.type === 'CampaignStatusChanged' && event.status === 'rejected',
      target: '.blocked',
      actions: decide('CampaignStatusChanged', (plan) => {
        plan.set({ blockedReason: 'compliance', assignedTo: null });
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
            plan.restartTimer('inactivity', plan.facts.policy.inactivityCloseMinutes);
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
            // Repeated misunderstandings: a person takes over (operators are told).
            guard: ({ context, event }) =>
              event.type === 'InboundSms' &&
              event.facts.catalog.length > 0 &&
              textGivesUp(new Plan(context, event.facts, event.at), event.body, event.hint),
            target: 'human',
            actions: decide('InboundSms', (plan) => {
              plan.set({ assignedTo: null, dialogue: { ...plan.context.dialogue, misunderstandings: 0 } });
              plan.send('assistant', plan.text(plan.facts.templates.handedToHuman));
              plan.emit('nmc.conversation.HandedToHuman', { reason: 'misunderstood' });
              plan.notify('assistant_handed_over');
              plan.restartTimer('humanIdle', plan.facts.policy.humanIdleReleaseMinutes);
            }),
          },
          {
            actions: decide('InboundSms', (plan, event) => {
              plan.notify('inbound_message');
              plan.restartTimer('inactivity', plan.facts.policy.inactivityCloseMinutes);
              if (plan.facts.catalog.length > 0) {
                onText(plan, event);
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
        Booked: { actions: decide('Booked', onBooked) },
        AppointmentCancelled: { actions: decide('AppointmentCancelled', onCancelled) },
        CancellationFailed: {
          // The appointment stays; a person looks at it (no "that time was taken" text).
          actions: decide('CancellationFailed', (plan) => plan.notify('cancellation_failed')),
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
        InactivityTimeout: {
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
      },
    },
    human: {
      on: {
        MissedCall: {
          actions: decide('MissedCall', (plan, event) => {
            recordMissedCall(plan, event);
            plan.notify('missed_call');
          }),
        },
        InboundSms: {
          actions: decide('InboundSms', (plan) => {
            plan.notify('inbound_message');
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
