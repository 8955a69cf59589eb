import { DateTime } from 'luxon';
import type { AlertReason } from '../domain/alert-reasons.ts';
import { handoverNote } from '../domain/handover-notes.ts';
import {
  formatDateForSms,
  formatDateTimeForSms,
  formatSlotForSms,
  type TimeWords,
} from '../domain/local-time-words.ts';
import { formatMoney } from '../domain/money.ts';
import { type ReplyHint, validHint } from '../domain/reply-hint.ts';
import type { SlotSearch } from '../domain/slot-search.ts';
import { SAFETY_STEPS, SPANISH_TEMPLATES, type TemplateName } from '../domain/templates.ts';
import { understand } from '../domain/understanding/understand.ts';
import type { TimeAsk, UnderstandContext, Understanding } from '../domain/understanding/understanding.ts';
import type { BookableSlot, BookingRequest, CatalogItem, ConversationEvent } from './conversation-events.ts';
import type { Plan } from './conversation-plan.ts';
import { sendBlockedBy } from './send-guard.ts';

// The assistant's booking dialogue inside `open`. Each text is read once into an Understanding
// (src/domain/understanding), and the decisions here act on it: quote a service, offer times that
// answer what was asked, hold the pick, book on YES; remember a booking (when, move, cancel with a
// confirmation); triage (a person, a complaint, an emergency, another language, something the
// business does not do). Pure decisions on a Plan; the runtime answers the request effects
// (findSlots, placeHold, confirmHold, releaseHold, cancelAppointment, moveAppointment) with
// follow-up events in the same transaction. The tenant's templates decide every word sent.
//
// Decisions that must stay true:
// - A pick is the option number on offer, and the slot held is always the one named.
// - An asked time that is open is held (or, when moving, moved to) without another question.
// - Cancelling an appointment is confirmed first; a move is one atomic request (moveAppointment).
// - YES just after a hold lapsed books the same time when it is still free (confirmHold re-books an
//   expired hold); when it cannot, fresh times are offered and a person is alerted.
// - Alerts (plan.notify) carry a typed reason, only for something a person should act on.

export type DialogueStep =
  | 'idle'
  | 'choosingService'
  | 'offering'
  | 'confirming'
  | 'booked'
  | 'confirmingCancel';
export type OfferReason = 'quote' | 'expired' | 'taken' | 'again' | 'ask' | 'next' | 'move';
export type DialogueLanguage = 'en' | 'es';

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
  /** The language the caller writes in (texts are Spanish where templates exist). */
  language: DialogueLanguage;
  /** A hold that lapsed while the caller was deciding: a YES right after it still books it if free. */
  lapsedHoldId: string | null;
  /** The caller said YES to a lapsed hold: if it cannot be booked, a person is told. */
  yesAfterLapse: boolean;
  /** The offered times are for moving the booked appointment, not for a new one. */
  moving: boolean;
  /** The time the caller asked for, as they asked it (for "3:00 PM is not open"). */
  asked: TimeAsk | null;
  /** The booked service's name, kept for texts that are sent without the catalog (the opt-out). */
  bookedService: string | null;
  /** An emergency: the earliest time is held with the safety step. */
  urgent: boolean;
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
  language: 'en',
  lapsedHoldId: null,
  yesAfterLapse: false,
  moving: false,
  asked: null,
  bookedService: null,
  urgent: false,
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

export function setDialogue(plan: Plan, patch: Partial<Dialogue>): void {
  plan.set({ dialogue: { ...(plan.patch.dialogue ?? plan.context.dialogue), ...patch } });
}

export function current(plan: Plan): Dialogue {
  return plan.patch.dialogue ?? plan.context.dialogue;
}

function words(plan: Plan): TimeWords {
  return {
    timeZone: plan.facts.timeZone,
    now: plan.at,
    locale: plan.facts.locale,
    language: current(plan).language,
  };
}

function slotList(plan: Plan, slots: readonly BookableSlot[]): string {
  return slots.map((slot, i) => `${i + 1}) ${formatSlotForSms(slot.start, words(plan))}`).join(' ');
}

/** The template in the caller's language: Spanish where one exists, else the tenant's. */
export function template(plan: Plan, name: TemplateName): string {
  const spanish = current(plan).language === 'es' ? SPANISH_TEMPLATES[name] : undefined;
  return spanish ?? plan.facts.templates[name];
}

export function say(plan: Plan, name: TemplateName, values: Record<string, string> = {}): void {
  plan.send('assistant', plan.text(template(plan, name), values));
}

/** When a person will answer: "shortly" in business hours, else the next opening. */
export function whenWords(plan: Plan): string {
  const opening = plan.facts.afterHours ? plan.facts.nextOpeningAt : null;
  if (opening === null) return plan.text(template(plan, 'soon'));
  return plan.text(template(plan, 'whenOpen'), { opening: formatSlotForSms(opening, words(plan)) });
}

function price(item: CatalogItem): string {
  return formatMoney({ amount_cents: item.priceCents, currency: 'USD' });
}

function examples(plan: Plan): string {
  return plan.facts.catalog
    .slice(0, 3)
    .map((item) => item.name.toLowerCase())
    .join(', ');
}

/** Why the assistant cannot speak now (gates, campaign, opt-out), or null. */
function silencedBy(plan: Plan): string | null {
  return sendBlockedBy('assistant', plan.facts);
}

function offering(dialogue: Dialogue): boolean {
  return dialogue.step === 'offering' || dialogue.step === 'confirming';
}

/**
 * A language model's hint, when it is consistent with the dialogue (validHint), replaces the parts
 * of the deterministic reading it speaks to (a service, a pick, yes/no/change/cancel) — never more.
 */
function withHint(plan: Plan, understood: Understanding, hint: ReplyHint | undefined): Understanding {
  if (hint === undefined) return understood;
  const dialogue = current(plan);
  const context = {
    catalogIds: plan.facts.catalog.map((item) => item.id),
    offeredCount: offering(dialogue) ? dialogue.offered.length : 0,
    step: dialogue.step === 'confirmingCancel' ? 'booked' : dialogue.step,
  } as const;
  if (!validHint(hint, context)) return understood;
  switch (hint.intent) {
    case 'service':
      return hint.service_id === undefined
        ? understood
        : { ...understood, intent: 'need', services: [{ id: hint.service_id, score: 1 }] };
    case 'pick':
      return hint.pick === undefined
        ? understood
        : { ...understood, intent: 'choice', choice: hint.pick - 1 };
    case 'yes':
    case 'no':
    case 'change':
    case 'cancel':
      return { ...understood, intent: hint.intent };
    case 'other':
      return understood;
  }
}

/** What the caller's text means, in the context of this dialogue. */
export function readText(plan: Plan, text: string, hint?: ReplyHint): Understanding {
  const dialogue = current(plan);
  const understood = understandOnce(text, {
    now: plan.at,
    timeZone: plan.facts.timeZone,
    trade: plan.facts.trade,
    catalog: plan.facts.catalog,
    offered: offering(dialogue) ? dialogue.offered : [],
    appointment:
      dialogue.appointmentId !== null && dialogue.booked !== null ? { start: dialogue.booked.start } : null,
  });
  return withHint(plan, understood, hint);
}

// One event's text is read by the transition's guards and then by its actions: the reading is pure,
// so the last few are remembered rather than computed three times.
const recent = new Map<string, Understanding>();
const RECENT_MAX = 8;

function understandOnce(text: string, context: UnderstandContext): Understanding {
  const key = JSON.stringify([
    text,
    context.now,
    context.timeZone,
    context.trade,
    context.catalog.map((item) => [item.id, item.name, item.aliases]),
    context.offered.map((slot) => slot.start),
    context.appointment?.start ?? null,
  ]);
  const known = recent.get(key);
  if (known !== undefined) return known;
  const understood = understand(text, context);
  if (recent.size >= RECENT_MAX) recent.delete(recent.keys().next().value as string);
  recent.set(key, understood);
  return understood;
}

/** Mid-dialogue, only a confident match switches the service ("maybe later" is not "water"). */
const SERVICE_MIN_SCORE = 0.6;
/** Two services this close in score are both offered for the caller to choose ("repair"). */
const AMBIGUOUS_MARGIN = 0.2;

/** The one service the text names, when it names one clearly; the candidates when it is ambiguous. */
function serviceOf(u: Understanding): { id: string } | { ambiguous: string[] } | null {
  const [best, second] = u.services;
  if (!best || best.score < SERVICE_MIN_SCORE) return null;
  if (second && second.score >= best.score - AMBIGUOUS_MARGIN) {
    const close = u.services.filter((s) => s.score >= best.score - AMBIGUOUS_MARGIN);
    return { ambiguous: close.map((s) => s.id).slice(0, 3) };
  }
  return { id: best.id };
}

function choosesCandidate(dialogue: Dialogue, text: string): string | null {
  if (dialogue.step !== 'choosingService') return null;
  const number = /^\s*#?\s*(\d)\s*[.)]?\s*$/.exec(text);
  return number?.[1] ? (dialogue.candidates[Number(number[1]) - 1] ?? null) : null;
}

/**
 * Triage: whether this text hands the conversation to a person, and why. Null while the assistant
 * cannot speak (nothing is decided for a caller who would not hear it).
 */
export function handoverFor(
  plan: Plan,
  text: string,
  understood: Understanding,
): { reason: AlertReason; template: TemplateName; values?: Record<string, string> } | null {
  if (silencedBy(plan) !== null) return null;
  if (understood.intent === 'person') return { reason: 'handover_requested', template: 'handoverRequested' };
  if (understood.intent === 'complaint') return { reason: 'complaint', template: 'complaint' };
  if (understood.emergency && emergencyService(plan, understood) === null)
    return { reason: 'emergency', template: 'emergencyHandover' };
  // Another language: a short yes, no or number needs no language, anything else does.
  if (understood.language === 'other' && !['choice', 'yes', 'no'].includes(understood.intent))
    return {
      reason: 'unsupported_language',
      template: 'unsupportedLanguage',
      values: { note: handoverNote(understood.otherLanguage) },
    };
  if (
    isMisunderstood(plan, text, understood) &&
    current(plan).misunderstandings + 1 >= plan.facts.policy.maxMisunderstandings
  )
    return { reason: 'repeated_misunderstanding', template: 'handedToHuman' };
  return null;
}

/** The words of a handover text, with the safety step for an emergency. */
export function handoverValues(plan: Plan): Record<string, string> {
  return { when: whenWords(plan), safety: safetyStep(plan) };
}

function safetyStep(plan: Plan): string {
  const step = SAFETY_STEPS[plan.facts.trade];
  return current(plan).language === 'es' ? step.es : step.en;
}

function emergencyService(plan: Plan, u: Understanding): string | null {
  const named = serviceOf(u);
  if (named !== null && 'id' in named) return named.id;
  return current(plan).serviceId;
}

/** Whether the dialogue has nothing to do with this text (it counts as misunderstood). */
function isMisunderstood(plan: Plan, text: string, u: Understanding): boolean {
  const dialogue = current(plan);
  if (choosesCandidate(dialogue, text) !== null) return false;
  switch (u.intent) {
    case 'unknown':
      return true;
    case 'choice':
      return !offering(dialogue) || u.choice === null || dialogue.offered[u.choice] === undefined;
    case 'yes':
      return (
        dialogue.step !== 'confirmingCancel' &&
        dialogue.holdId === null &&
        dialogue.lapsedHoldId === null &&
        !(dialogue.step === 'offering' && dialogue.offered.length === 1)
      );
    case 'no':
      return dialogue.step !== 'confirmingCancel' && !offering(dialogue);
    case 'none':
      return dialogue.offered.length === 0;
    case 'need':
    case 'price':
      return serviceOf(u) === null;
    default:
      return false;
  }
}

/** A text the dialogue acts on, already read (no handover: that is the machine's transition). */
export function onText(plan: Plan, text: string, understood: Understanding): void {
  const blocked = silencedBy(plan);
  if (blocked !== null) {
    plan.emit('nmc.conversation.SendSuppressed', { purpose: 'assistant', reason: blocked });
    return;
  }
  const u = understood;
  if (u.language === 'es' || (u.language === 'en' && u.intent !== 'unknown' && text.trim().length > 12)) {
    setDialogue(plan, { language: u.language });
  }
  const dialogue = current(plan);
  const reply = reminderReply(dialogue, text);
  if (reply !== null && dialogue.appointmentId !== null) {
    setDialogue(plan, { misunderstandings: 0 });
    if (reply === 'cancel')
      plan.request({ type: 'cancelAppointment', appointmentId: dialogue.appointmentId });
    else startMove(plan, null);
    return;
  }
  const candidate = choosesCandidate(dialogue, text);
  if (candidate !== null) {
    setDialogue(plan, { misunderstandings: 0 });
    startQuote(plan, candidate, dialogue.asked);
    return;
  }
  if (u.emergency) {
    const id = emergencyService(plan, u);
    if (id !== null) {
      plan.notify('emergency');
      releaseHeld(plan);
      setDialogue(plan, { serviceId: id, urgent: true, moving: false, misunderstandings: 0 });
      plan.request({ type: 'findSlots', serviceId: id, search: { kind: 'earliest' } });
      return;
    }
  }
  if (isMisunderstood(plan, text, u)) {
    misunderstood(plan);
    return;
  }
  setDialogue(plan, { misunderstandings: 0 });
  switch (u.intent) {
    case 'thanks':
      say(plan, 'thanks');
      return;
    case 'greeting':
      if (dialogue.step === 'idle' || dialogue.step === 'booked')
        say(plan, 'askService', { examples: examples(plan) });
      else misunderstood(plan, false);
      return;
    case 'out_of_scope':
      say(plan, 'outOfScope', { thing: u.outOfScope ?? 'that', when: whenWords(plan) });
      plan.notify('out_of_scope');
      return;
    case 'when':
      tellBooking(plan);
      return;
    case 'cancel':
      askToCancel(plan);
      return;
    case 'change':
      if (dialogue.appointmentId !== null) {
        startMove(plan, u.time);
        return;
      }
      if (dialogue.step === 'confirming') {
        offerAgain(plan);
        return;
      }
      if (u.time !== null) askForTime(plan, u);
      else tellBooking(plan);
      return;
    case 'yes':
      if (dialogue.step === 'confirmingCancel' && dialogue.appointmentId !== null) {
        plan.request({ type: 'cancelAppointment', appointmentId: dialogue.appointmentId });
        return;
      }
      if (dialogue.holdId !== null) {
        plan.request({ type: 'confirmHold', holdId: dialogue.holdId });
        return;
      }
      if (dialogue.lapsedHoldId !== null) {
        // The hold lapsed a moment ago: confirming re-books the same time if it is still free.
        setDialogue(plan, { yesAfterLapse: true, holdId: dialogue.lapsedHoldId, lapsedHoldId: null });
        plan.request({ type: 'confirmHold', holdId: dialogue.lapsedHoldId });
        return;
      }
      pick(plan, 0);
      return;
    case 'no':
      if (dialogue.step === 'confirmingCancel') {
        setDialogue(plan, { step: 'booked' });
        say(plan, 'keptAppointment', bookingValues(plan));
        return;
      }
      if (dialogue.step === 'confirming') offerAgain(plan);
      else offerNext(plan);
      return;
    case 'none':
      offerNext(plan);
      return;
    case 'choice':
      pick(plan, u.choice ?? 0);
      return;
    case 'time':
      askForTime(plan, u);
      return;
    case 'need':
    case 'price': {
      const named = serviceOf(u);
      if (named === null) return;
      if ('ambiguous' in named) {
        const options = named.ambiguous
          .map((id, i) => `${i + 1}) ${service(plan, id)?.name ?? ''}`)
          .join(' ');
        setDialogue(plan, { step: 'choosingService', candidates: named.ambiguous, asked: u.time });
        say(plan, 'chooseService', { options });
        return;
      }
      startQuote(plan, named.id, u.time ?? dialogue.asked);
      return;
    }
    default:
      misunderstood(plan);
  }
}

function misunderstood(plan: Plan, count = true): void {
  const dialogue = current(plan);
  if (count) setDialogue(plan, { misunderstandings: dialogue.misunderstandings + 1 });
  const hint =
    dialogue.step === 'offering'
      ? plan.text(template(plan, 'hintPick'), { slots: slotList(plan, dialogue.offered) })
      : dialogue.step === 'confirming'
        ? plan.text(template(plan, 'hintConfirm'))
        : dialogue.step === 'confirmingCancel'
          ? plan.text(template(plan, 'hintCancel'))
          : plan.text(template(plan, 'askService'), { examples: examples(plan) });
  say(plan, 'notUnderstood', { hint });
}

function startQuote(plan: Plan, serviceId: string, asked: TimeAsk | null): void {
  releaseHeld(plan);
  setDialogue(plan, {
    serviceId,
    candidates: [],
    offerReason: 'quote',
    asked,
    moving: false,
    lapsedHoldId: null,
  });
  plan.request(findSlots(serviceId, asked, null));
}

/** The request for times; nothing asked and nothing moved is the plain spread of the next days. */
function findSlots(serviceId: string, asked: TimeAsk | null, moving: string | null): BookingRequest {
  const search: SlotSearch | undefined = asked === null ? undefined : { kind: 'ask', ask: asked };
  return {
    type: 'findSlots',
    serviceId,
    ...(search === undefined ? {} : { search }),
    ...(moving === null ? {} : { moving }),
  };
}

function askForTime(plan: Plan, u: Understanding): void {
  const dialogue = current(plan);
  const named = serviceOf(u);
  const serviceId = named !== null && 'id' in named ? named.id : dialogue.serviceId;
  if (serviceId === null) {
    // A time before a need: keep it for when the service is known.
    setDialogue(plan, { asked: u.time });
    say(plan, 'askService', { examples: examples(plan) });
    return;
  }
  // With a booking, a time asked for is where to move it ("can we do thursday instead").
  const moving = dialogue.appointmentId !== null && (dialogue.moving || dialogue.step === 'booked');
  if (moving) setDialogue(plan, { moving: true });
  else releaseHeld(plan);
  const firstQuote = dialogue.serviceId !== serviceId || dialogue.offered.length === 0;
  setDialogue(plan, {
    serviceId,
    asked: u.time,
    offerReason: moving ? 'move' : firstQuote && !dialogue.appointmentId ? 'quote' : 'ask',
    lapsedHoldId: null,
  });
  plan.request(findSlots(serviceId, u.time, moving ? dialogue.appointmentId : null));
}

function pick(plan: Plan, index: number): void {
  const dialogue = current(plan);
  const slot = dialogue.offered[index];
  if (!slot || !dialogue.serviceId) return;
  if (dialogue.moving && dialogue.appointmentId !== null) {
    plan.request({ type: 'moveAppointment', appointmentId: dialogue.appointmentId, slot });
    return;
  }
  releaseHeld(plan);
  plan.request({ type: 'placeHold', serviceId: dialogue.serviceId, slot });
}

function offerAgain(plan: Plan): void {
  const { serviceId } = current(plan);
  releaseHeld(plan);
  if (serviceId) {
    setDialogue(plan, { offerReason: 'again' });
    plan.request({ type: 'findSlots', serviceId });
  }
}

/** "None of these": the next times after the last one offered. */
function offerNext(plan: Plan): void {
  const dialogue = current(plan);
  const last = dialogue.offered.at(-1);
  if (!dialogue.serviceId || !last) return;
  releaseHeld(plan);
  setDialogue(plan, { offerReason: 'next' });
  const moving = dialogue.moving ? dialogue.appointmentId : null;
  plan.request({
    type: 'findSlots',
    serviceId: dialogue.serviceId,
    search: { kind: 'after', after: last.start },
    ...(moving === null ? {} : { moving }),
  });
}

function bookingValues(plan: Plan): Record<string, string> {
  const dialogue = current(plan);
  return {
    service: service(plan, dialogue.serviceId)?.name ?? dialogue.bookedService ?? 'appointment',
    time: dialogue.booked ? formatDateTimeForSms(dialogue.booked.start, words(plan)) : '',
  };
}

function tellBooking(plan: Plan): void {
  const dialogue = current(plan);
  if (dialogue.appointmentId === null || dialogue.booked === null) {
    say(plan, 'noAppointment');
    return;
  }
  say(plan, 'whenBooked', bookingValues(plan));
}

function askToCancel(plan: Plan): void {
  const dialogue = current(plan);
  if (dialogue.appointmentId === null) {
    releaseHeld(plan);
    say(plan, 'noAppointment');
    return;
  }
  setDialogue(plan, { step: 'confirmingCancel' });
  say(plan, 'confirmCancel', bookingValues(plan));
}

function startMove(plan: Plan, asked: TimeAsk | null): void {
  const dialogue = current(plan);
  if (dialogue.serviceId === null || dialogue.appointmentId === null) return;
  setDialogue(plan, { moving: true, offerReason: 'move', asked });
  plan.request(findSlots(dialogue.serviceId, asked, dialogue.appointmentId));
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
  const outcome = event.outcome ?? 'spread';
  const moving = dialogue.moving && dialogue.appointmentId !== null;
  const [first] = event.slots;
  if (first && outcome === 'exact') {
    // The asked (or, in an emergency, the earliest) time is open: take it without another question.
    if (moving && dialogue.appointmentId !== null && !dialogue.urgent) {
      plan.request({ type: 'moveAppointment', appointmentId: dialogue.appointmentId, slot: first });
    } else {
      setDialogue(plan, { offered: [first] });
      plan.request({ type: 'placeHold', serviceId: item.id, slot: first });
    }
    return;
  }
  quoted(plan, item);
  if (event.slots.length === 0) {
    setDialogue(plan, { step: dialogue.appointmentId ? 'booked' : 'idle', offered: [], urgent: false });
    say(plan, 'noSlots', { service: item.name, price: price(item) });
    plan.notify('no_open_times');
    return;
  }
  const slots = slotList(plan, event.slots);
  setDialogue(plan, { step: 'offering', offered: event.slots });
  const values: Record<string, string> = {
    service: item.name,
    price: price(item),
    duration: durationWords(item.durationMinutes),
    slots,
    ...(moving ? bookingValues(plan) : {}),
  };
  if (outcome === 'closed' && event.closedDate) {
    say(plan, 'closedDay', { ...values, day: formatDateForSms(event.closedDate, words(plan)) });
    return;
  }
  if (outcome === 'nearest') {
    say(plan, 'nearestTimes', { ...values, asked: askedWords(plan, dialogue.asked) });
    return;
  }
  if (outcome === 'alternative') {
    say(plan, 'otherTimes', values);
    return;
  }
  if (outcome === 'next') {
    say(plan, 'nextTimes', values);
    return;
  }
  if (moving && dialogue.offerReason === 'move') {
    say(plan, 'moveOffer', values);
    return;
  }
  const name: TemplateName =
    dialogue.offerReason === 'expired'
      ? 'holdExpired'
      : dialogue.offerReason === 'taken'
        ? 'slotTaken'
        : dialogue.offerReason === 'quote'
          ? 'quoteAndOffer'
          : 'offerTimes';
  say(plan, name, values);
}

/** The asked time in words ("Tomorrow 3:00 PM"), for "… is not open". */
function askedWords(plan: Plan, asked: TimeAsk | null): string {
  if (asked?.at == null) return current(plan).language === 'es' ? 'Esa hora' : 'That time';
  const today = DateTime.fromISO(plan.at, { zone: plan.facts.timeZone }).toISODate();
  const local = DateTime.fromISO(`${asked.date ?? today}T${asked.at}`, { zone: plan.facts.timeZone });
  const instant = local.isValid ? local.toUTC().toISO() : null;
  return instant === null ? 'That time' : formatSlotForSms(instant, words(plan));
}

export function onHoldPlaced(plan: Plan, event: EventOf<'HoldPlaced'>): void {
  const dialogue = current(plan);
  const item = service(plan, dialogue.serviceId);
  if (!item) return;
  setDialogue(plan, {
    step: 'confirming',
    holdId: event.holdId,
    held: event.slot,
    offered: dialogue.offered.length > 0 ? dialogue.offered : [event.slot],
    lapsedHoldId: null,
    urgent: false,
  });
  quoted(plan, item);
  plan.emit('nmc.conversation.TimeHeld', { hold_id: event.holdId, start: event.slot.start });
  say(plan, dialogue.urgent ? 'emergencyHold' : 'confirmHold', {
    time: formatSlotForSms(event.slot.start, words(plan)),
    service: item.name,
    price: price(item),
    safety: safetyStep(plan),
  });
}

/**
 * The one-letter answers a reminder offers: C cancels the appointment at once, R offers new times
 * to move it to. Only with a booked appointment and nothing else on offer. A bare CANCEL stays a
 * carrier opt-out keyword (src/domain/keywords.ts); CHANGE and "cancel my appointment" are read
 * by the understanding as before.
 */
function reminderReply(dialogue: Dialogue, text: string): 'cancel' | 'change' | null {
  if (dialogue.step !== 'booked') return null;
  const word = text
    .trim()
    .replace(/[^\p{L}]+$/u, '')
    .toUpperCase();
  if (word === 'C') return 'cancel';
  if (word === 'R') return 'change';
  return null;
}

/**
 * An appointment's reminder: the conversation takes the appointment as its booking (a reminder may
 * open a new conversation, or be for a booking made on the public page), so C and R answer it.
 */
export function onReminderDue(plan: Plan, event: EventOf<'AppointmentReminderDue'>): void {
  const dialogue = current(plan);
  const adopt =
    dialogue.appointmentId === event.appointmentId ||
    (dialogue.appointmentId === null && dialogue.step === 'idle' && dialogue.holdId === null);
  if (adopt) {
    setDialogue(plan, {
      step: 'booked',
      appointmentId: event.appointmentId,
      serviceId: event.serviceId,
      booked: event.slot,
      bookedService: event.serviceName,
    });
  }
  const sent = plan.send(
    'assistant',
    plan.text(template(plan, 'reminder'), {
      service: event.serviceName,
      time: formatDateTimeForSms(event.slot.start, words(plan)),
      link: event.link ? ` Manage: ${event.link}` : '',
    }),
  );
  if (sent) {
    plan.emit('nmc.conversation.ReminderSent', {
      appointment_id: event.appointmentId,
      offset_minutes: event.offsetMinutes,
    });
  }
}

/** The text about to go out names the service's price: the funnel's "quoted" step. */
function quoted(plan: Plan, item: CatalogItem): void {
  plan.emit('nmc.conversation.ServiceQuoted', { service_id: item.id, price_cents: item.priceCents });
}

/** The slot went to someone else (hold or booking): offer fresh times rather than go silent. */
export function onSlotLost(plan: Plan, reason: 'taken' | 'expired'): void {
  const dialogue = current(plan);
  if (reason === 'taken' && dialogue.yesAfterLapse) plan.notify('hold_lapsed_after_yes');
  setDialogue(plan, {
    holdId: null,
    held: null,
    offerReason: reason,
    yesAfterLapse: false,
    // A YES right after the lapse may still book it (confirmHold re-books it if the time is free).
    lapsedHoldId: reason === 'expired' ? dialogue.holdId : null,
  });
  if (dialogue.serviceId) plan.request({ type: 'findSlots', serviceId: dialogue.serviceId });
}

export function onBooked(plan: Plan, event: EventOf<'Booked'>): void {
  const item = service(plan, current(plan).serviceId);
  setDialogue(plan, {
    step: 'booked',
    holdId: null,
    held: null,
    offered: [],
    appointmentId: event.appointmentId,
    booked: event.slot,
    bookedService: item?.name ?? null,
    lapsedHoldId: null,
    yesAfterLapse: false,
    moving: false,
    asked: null,
  });
  plan.emit('nmc.conversation.AppointmentBooked', {
    appointment_id: event.appointmentId,
    start: event.slot.start,
  });
  say(plan, event.link ? 'bookedWithLink' : 'booked', {
    service: item?.name ?? 'your appointment',
    time: formatDateTimeForSms(event.slot.start, words(plan)),
    price: item ? price(item) : '',
    link: event.link ?? '',
  });
}

export function onMoved(plan: Plan, event: EventOf<'AppointmentMoved'>): void {
  const dialogue = current(plan);
  if (dialogue.appointmentId !== event.previousId) return;
  const item = service(plan, dialogue.serviceId);
  const old = dialogue.booked;
  setDialogue(plan, {
    step: 'booked',
    offered: [],
    appointmentId: event.appointmentId,
    booked: event.slot,
    moving: false,
    asked: null,
  });
  plan.emit('nmc.conversation.AppointmentCancelled', { appointment_id: event.previousId });
  plan.emit('nmc.conversation.AppointmentBooked', {
    appointment_id: event.appointmentId,
    start: event.slot.start,
  });
  say(plan, 'moved', {
    service: item?.name ?? dialogue.bookedService ?? 'appointment',
    time: formatDateTimeForSms(event.slot.start, words(plan)),
    old: old ? formatDateTimeForSms(old.start, words(plan)) : '',
  });
}

/** The new time could not be had: the appointment stands; offer other times to move it to. */
export function onMoveFailed(plan: Plan): void {
  const dialogue = current(plan);
  if (dialogue.serviceId === null || dialogue.appointmentId === null) return;
  setDialogue(plan, { offerReason: 'taken' });
  plan.request({ type: 'findSlots', serviceId: dialogue.serviceId, moving: dialogue.appointmentId });
}

export function onCancelled(plan: Plan, event: EventOf<'AppointmentCancelled'>): void {
  const dialogue = current(plan);
  if (dialogue.appointmentId !== event.appointmentId) return;
  const values = bookingValues(plan);
  setDialogue(plan, { ...INITIAL_DIALOGUE, language: dialogue.language });
  plan.emit('nmc.conversation.AppointmentCancelled', { appointment_id: event.appointmentId });
  say(plan, 'cancelled', values);
}

/**
 * The appointment was cancelled outside the dialogue (an operator, the customer's page, the
 * calendar): the dialogue forgets it, so "when is my appointment?" gets the truth. Nothing is
 * texted: whoever cancelled it told the customer, or chose not to. A move of it that was under way
 * stops; anything else (a new booking being chosen) goes on.
 */
export function onCancelledElsewhere(plan: Plan): void {
  const dialogue = current(plan);
  const aboutIt = dialogue.moving || dialogue.step === 'booked' || dialogue.step === 'confirmingCancel';
  setDialogue(plan, {
    appointmentId: null,
    booked: null,
    bookedService: null,
    moving: false,
    ...(aboutIt ? { step: 'idle', offered: [], offerReason: null, asked: null } : {}),
  });
}

/**
 * The appointment was moved outside the dialogue: the dialogue follows it to its new id and time
 * (a move under way here then moves the new one), and texts nothing, as for a cancellation.
 */
export function onMovedElsewhere(plan: Plan, event: EventOf<'AppointmentMovedElsewhere'>): void {
  setDialogue(plan, { appointmentId: event.appointmentId, booked: event.slot });
}

/** The opt-out confirmation: with a live appointment it says the appointment stands and how to cancel. */
export function optOutText(plan: Plan): string {
  const dialogue = current(plan);
  if (dialogue.appointmentId === null || dialogue.booked === null) {
    return plan.text(plan.facts.templates.optOutConfirmation);
  }
  return plan.text(plan.facts.templates.optOutWithAppointment, {
    ...bookingValues(plan),
    phone: plan.facts.businessPhone ?? plan.facts.helpText,
  });
}
