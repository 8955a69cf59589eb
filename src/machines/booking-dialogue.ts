import { interpretReply } from '../domain/booking-intent.ts';
import { matchCatalog } from '../domain/catalog-match.ts';
import { formatDateTimeForSms, formatSlotForSms } from '../domain/local-time-words.ts';
import { formatMoney } from '../domain/money.ts';
import { type ReplyHint, validHint } from '../domain/reply-hint.ts';
import type { BookableSlot, CatalogItem, ConversationEvent } from './conversation-events.ts';
import type { Plan } from './conversation-plan.ts';
import { sendBlockedBy } from './send-guard.ts';

// The assistant's booking dialogue inside `open`: match a service, quote it, offer three times,
// hold the pick, confirm with YES, book; change or cancel a booking; hand over to a person after
// repeated misunderstandings. Pure decisions on a Plan; the runtime answers the request effects
// (findSlots, placeHold, confirmHold, releaseHold, cancelAppointment) with follow-up events
// (SlotsFound, HoldPlaced, HoldFailed, Booked, BookingFailed, AppointmentCancelled) in the same
// transaction. Texts come from the tenant's templates; the machine decides what is sent.

export type DialogueStep = 'idle' | 'choosingService' | 'offering' | 'confirming' | 'booked';
export type OfferReason = 'quote' | 'expired' | 'taken' | 'again';

export type Dialogue = {
  step: DialogueStep;
  serviceId: string | null;
  candidates: string[];
  offered: BookableSlot[];
  holdId: string | null;
  held: BookableSlot | null;
  appointmentId: string | null;
  booked: BookableSlot | null;
  offerReason: OfferReason | null;
  misunderstandings: number;
};

export const INITIAL_DIALOGUE: Dialogue = {
  step: 'idle',
  serviceId: null,
  candidates: [],
  offered: [],
  holdId: null,
  held: null,
  appointmentId: null,
  booked: null,
  offerReason: null,
  misunderstandings: 0,
};

type EventOf<T extends ConversationEvent['type']> = Extract<ConversationEvent, { type: T }>;

function service(plan: Plan, id: string | null): CatalogItem | undefined {
  return plan.facts.catalog.find((item) => item.id === id);
}

function durationWords(minutes: number): string {
  if (minutes < 60) return `${minutes} min`;
  const hours = minutes / 60;
  return Number.isInteger(hours)
    ? `${hours} hour${hours === 1 ? '' : 's'}`
    : `${Math.floor(hours)} h ${minutes % 60} min`;
}

function slotList(plan: Plan, slots: readonly BookableSlot[]): string {
  return slots.map((slot, i) => `${i + 1}) ${formatSlotForSms(slot.start, plan.facts.timeZone)}`).join(' ');
}

function setDialogue(plan: Plan, patch: Partial<Dialogue>): void {
  plan.set({ dialogue: { ...(plan.patch.dialogue ?? plan.context.dialogue), ...patch } });
}

function current(plan: Plan): Dialogue {
  return plan.patch.dialogue ?? plan.context.dialogue;
}

function say(plan: Plan, template: string, values: Record<string, string> = {}): void {
  plan.send('assistant', plan.text(template, values));
}

function examples(plan: Plan): string {
  return plan.facts.catalog
    .slice(0, 3)
    .map((item) => item.name.toLowerCase())
    .join(', ');
}

/** Whether this text would be one misunderstanding too many: the conversation goes to a person. */
export function textGivesUp(plan: Plan, text: string, hint?: ReplyHint): boolean {
  return (
    silencedBy(plan) === null &&
    understand(plan, text, hint) === null &&
    current(plan).misunderstandings + 1 >= plan.facts.policy.maxMisunderstandings
  );
}

/** Mid-dialogue, only a confident match switches the service ("maybe later" is not "water"). */
const SWITCH_SERVICE_MIN_SCORE = 0.75;

type Understood =
  | { kind: 'service'; id: string }
  | { kind: 'ambiguous'; ids: string[] }
  | { kind: 'pick'; index: number }
  | { kind: 'yes' }
  | { kind: 'no' }
  | { kind: 'change' }
  | { kind: 'cancel' };

/**
 * A language model's hint, when it is consistent with the dialogue (validHint): it may name a
 * service the matcher would miss, or read a pick/yes/no/change/cancel — never more than that.
 */
function fromHint(plan: Plan, hint: ReplyHint | undefined): Understood | null {
  if (hint === undefined) return null;
  const dialogue = current(plan);
  const offering = dialogue.step === 'offering' || dialogue.step === 'confirming';
  const context = {
    catalogIds: plan.facts.catalog.map((item) => item.id),
    offeredCount: offering ? dialogue.offered.length : 0,
    step: dialogue.step,
  };
  if (!validHint(hint, context)) return null;
  switch (hint.intent) {
    case 'service':
      return hint.service_id === undefined ? null : { kind: 'service', id: hint.service_id };
    case 'pick':
      return hint.pick === undefined ? null : { kind: 'pick', index: hint.pick - 1 };
    case 'yes':
    case 'no':
    case 'change':
    case 'cancel':
      return { kind: hint.intent };
    case 'other':
      return null;
  }
}

/** The hint when it is valid, else the deterministic reading of the text. */
function understand(plan: Plan, text: string, hint?: ReplyHint): Understood | null {
  const hinted = fromHint(plan, hint);
  if (hinted !== null) return hinted;
  const dialogue = current(plan);
  const reply = interpretReply(
    text,
    dialogue.step === 'choosingService' ? [] : dialogue.offered,
    plan.facts.timeZone,
  );
  if (dialogue.step === 'choosingService') {
    const number = /^\s*#?\s*(\d)\s*$/.exec(text);
    const index = number?.[1] ? Number(number[1]) - 1 : -1;
    const chosen = dialogue.candidates[index];
    if (chosen) return { kind: 'service', id: chosen };
  }
  if (reply.kind === 'cancel' && dialogue.step === 'booked') return { kind: 'cancel' };
  if (reply.kind === 'change' && (dialogue.step === 'booked' || dialogue.step === 'confirming'))
    return { kind: 'change' };
  if (reply.kind === 'pick' && (dialogue.step === 'offering' || dialogue.step === 'confirming')) return reply;
  if ((reply.kind === 'yes' || reply.kind === 'no') && dialogue.step === 'confirming') return reply;
  const match = matchCatalog(
    plan.facts.catalog.map((item) => ({ ...item, active: true })),
    text,
  );
  const midDialogue = dialogue.step !== 'idle' && dialogue.step !== 'choosingService';
  if (midDialogue && (match.candidates[0]?.score ?? 0) < SWITCH_SERVICE_MIN_SCORE) return null;
  if (match.decision.kind === 'match') return { kind: 'service', id: match.decision.id };
  if (match.decision.kind === 'ambiguous') return { kind: 'ambiguous', ids: match.decision.ids.slice(0, 3) };
  return null;
}

/** Why the assistant cannot speak now (gates, campaign, opt-out), or null. */
function silencedBy(plan: Plan): string | null {
  return sendBlockedBy('assistant', plan.facts);
}

/**
 * An inbound text in `open` with a catalog (callers without one get the acknowledgement). While
 * the assistant cannot speak, the dialogue does nothing at all: no hold or booking is ever made
 * for a caller who was not shown the times, and nothing counts as misunderstood.
 */
export function onText(plan: Plan, event: EventOf<'InboundSms'>): void {
  const blocked = silencedBy(plan);
  if (blocked !== null) {
    plan.emit('nmc.conversation.SendSuppressed', { purpose: 'assistant', reason: blocked });
    return;
  }
  const dialogue = current(plan);
  const understood = understand(plan, event.body, event.hint);
  if (understood === null) {
    setDialogue(plan, { misunderstandings: dialogue.misunderstandings + 1 });
    const hint =
      dialogue.step === 'offering'
        ? `Reply 1, 2 or 3 for ${slotList(plan, dialogue.offered)}.`
        : dialogue.step === 'confirming'
          ? 'Reply YES to book or NO to pick another time.'
          : plan.text(plan.facts.templates.askService, { examples: examples(plan) });
    say(plan, plan.facts.templates.notUnderstood, { hint });
    return;
  }
  setDialogue(plan, { misunderstandings: 0 });
  switch (understood.kind) {
    case 'service':
      setDialogue(plan, { serviceId: understood.id, candidates: [], offerReason: 'quote' });
      releaseHeld(plan);
      plan.request({ type: 'findSlots', serviceId: understood.id });
      return;
    case 'ambiguous': {
      const options = understood.ids.map((id, i) => `${i + 1}) ${service(plan, id)?.name ?? ''}`).join(' ');
      setDialogue(plan, { step: 'choosingService', candidates: understood.ids });
      say(plan, plan.facts.templates.chooseService, { options });
      return;
    }
    case 'pick': {
      const slot = dialogue.offered[understood.index];
      if (!slot || !dialogue.serviceId) return;
      releaseHeld(plan);
      plan.request({ type: 'placeHold', serviceId: dialogue.serviceId, slot });
      return;
    }
    case 'yes':
      if (dialogue.holdId) plan.request({ type: 'confirmHold', holdId: dialogue.holdId });
      return;
    case 'no':
    case 'change':
      releaseHeld(plan);
      if (dialogue.serviceId) {
        setDialogue(plan, { offerReason: 'again' });
        plan.request({ type: 'findSlots', serviceId: dialogue.serviceId });
      }
      return;
    case 'cancel':
      if (dialogue.appointmentId)
        plan.request({ type: 'cancelAppointment', appointmentId: dialogue.appointmentId });
      return;
  }
}

function releaseHeld(plan: Plan): void {
  const { holdId } = current(plan);
  if (holdId) {
    plan.request({ type: 'releaseHold', holdId });
    setDialogue(plan, { holdId: null, held: null });
  }
}

export function onSlotsFound(plan: Plan, event: EventOf<'SlotsFound'>): void {
  const dialogue = current(plan);
  const item = service(plan, event.serviceId);
  if (!item || event.serviceId !== dialogue.serviceId) return;
  const price = formatMoney({ amount_cents: item.priceCents, currency: 'USD' });
  if (event.slots.length === 0) {
    setDialogue(plan, { step: 'idle', offered: [] });
    say(plan, plan.facts.templates.noSlots, { service: item.name, price });
    plan.notify('no_open_times');
    return;
  }
  const slots = slotList(plan, event.slots);
  setDialogue(plan, { step: 'offering', offered: event.slots });
  const template =
    dialogue.offerReason === 'expired'
      ? plan.facts.templates.holdExpired
      : dialogue.offerReason === 'taken'
        ? plan.facts.templates.slotTaken
        : plan.facts.templates.quoteAndOffer;
  say(plan, template, { service: item.name, price, duration: durationWords(item.durationMinutes), slots });
}

export function onHoldPlaced(plan: Plan, event: EventOf<'HoldPlaced'>): void {
  const item = service(plan, current(plan).serviceId);
  if (!item) return;
  setDialogue(plan, { step: 'confirming', holdId: event.holdId, held: event.slot });
  say(plan, plan.facts.templates.confirmHold, {
    time: formatDateTimeForSms(event.slot.start, plan.facts.timeZone),
    service: item.name,
    price: formatMoney({ amount_cents: item.priceCents, currency: 'USD' }),
  });
}

/** The slot went to someone else (hold or booking): offer fresh times rather than go silent. */
export function onSlotLost(plan: Plan, reason: 'taken' | 'expired'): void {
  const { serviceId } = current(plan);
  setDialogue(plan, { holdId: null, held: null, offerReason: reason });
  if (serviceId) plan.request({ type: 'findSlots', serviceId });
}

export function onBooked(plan: Plan, event: EventOf<'Booked'>): void {
  const previous = current(plan).appointmentId;
  const item = service(plan, current(plan).serviceId);
  setDialogue(plan, {
    step: 'booked',
    holdId: null,
    held: null,
    appointmentId: event.appointmentId,
    booked: event.slot,
  });
  plan.emit('nmc.conversation.AppointmentBooked', {
    appointment_id: event.appointmentId,
    start: event.slot.start,
  });
  // A change: the new time is booked first, then the one it replaces is cancelled.
  if (previous !== null && previous !== event.appointmentId) {
    plan.request({ type: 'cancelAppointment', appointmentId: previous });
  }
  say(plan, plan.facts.templates.booked, {
    service: item?.name ?? 'your appointment',
    time: formatDateTimeForSms(event.slot.start, plan.facts.timeZone),
    price: item ? formatMoney({ amount_cents: item.priceCents, currency: 'USD' }) : '',
  });
}

export function onCancelled(plan: Plan, event: EventOf<'AppointmentCancelled'>): void {
  const dialogue = current(plan);
  if (dialogue.appointmentId !== event.appointmentId) return;
  const item = service(plan, dialogue.serviceId);
  setDialogue(plan, { ...INITIAL_DIALOGUE });
  plan.emit('nmc.conversation.AppointmentCancelled', { appointment_id: event.appointmentId });
  say(plan, plan.facts.templates.cancelled, {
    service: item?.name ?? 'appointment',
    time: dialogue.booked ? formatDateTimeForSms(dialogue.booked.start, plan.facts.timeZone) : '',
  });
}
