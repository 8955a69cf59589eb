// Every text the system sends, in one place, with defaults a tenant can override
// (`id_tenants.settings.templates`). Placeholders are `{name}`. Defaults stay under 160 GSM-7
// characters so one message is one segment.

import type { Trade } from './understanding/understanding.ts';

export const DEFAULT_TEMPLATES = {
  greeting:
    "Hi, this is {business}. Sorry we missed your call! How can we help? Reply here and we'll get you booked.",
  greetingAfterHours:
    "Hi, this is {business}. We're closed right now, sorry we missed your call. Reply with what you need and we'll get you booked.",
  acknowledgement: 'Thanks! Someone from {business} will reply shortly.',
  optOutConfirmation:
    "{business}: You're unsubscribed and will get no more messages. Reply START to resubscribe.",
  optOutWithAppointment:
    "{business}: You're unsubscribed. Your {service} on {time} still stands; to cancel, call {phone}. Reply START to undo.",
  optInConfirmation: "{business}: You're resubscribed. Reply HELP for help, STOP to opt out.",
  help: '{business}: {help} Reply STOP to opt out. Msg&data rates may apply.',
  handedToHuman: 'Let me get a person from {business} to help you. They will text you {when}.',
  handoverRequested: 'Sure. A person from {business} will text you {when}.',
  complaint: "I'm sorry about this. A person from {business} will text you {when} to sort it out.",
  emergencyHold:
    '{safety} Earliest visit: {time}, {service} ({price}). Reply YES to book. Our team is alerted.',
  emergencyHandover: '{safety} Our team is alerted and will call you {when}.',
  outOfScope:
    "Sorry, {business} doesn't do {thing}. A person can call you back {when}, or tell us what else you need.",
  unsupportedLanguage:
    '{note}A person from {business} will text you {when}. / Una persona le escribira pronto.',
  thanks: "You're welcome! Text us anytime.",
  askService: 'What can we help with? For example: {examples}.',
  chooseService: 'Did you mean {options}? Reply with the number.',
  quoteAndOffer: '{service} is {price} and takes about {duration}. Open times: {slots}. Reply 1, 2 or 3.',
  offerTimes: 'Open times: {slots}. Reply 1, 2 or 3.',
  nearestTimes: '{asked} is not open. Nearest times: {slots}. Reply 1, 2 or 3.',
  closedDay: "We're closed {day}. Open times: {slots}. Reply 1, 2 or 3.",
  nextTimes: 'Next open times: {slots}. Reply 1, 2 or 3.',
  otherTimes: 'Nothing open then. Nearest times: {slots}. Reply 1, 2 or 3.',
  noSlots:
    '{service} is {price}. We have no open times in the next days; a person from {business} will text you.',
  confirmHold: 'Holding {time} for {service} ({price}). Reply YES to book or NO to pick another time.',
  booked:
    "You're booked: {service} on {time}, {price}. Reply CHANGE to move it or CANCEL APPOINTMENT to cancel.",
  /** The confirmation when the customer has a page to manage the booking (src/runtime/portal). */
  bookedWithLink:
    "You're booked: {service} on {time}, {price}. Reply CHANGE to move it, or manage it at {link}",
  whenBooked: 'Your {service} is on {time}. Reply CHANGE to move it or CANCEL APPOINTMENT to cancel.',
  noAppointment: 'You have no appointment with us yet. What can we help with?',
  moveOffer: 'Move your {service} to: {slots}? Reply 1, 2 or 3.',
  moved: 'Done: your {service} is now on {time}. Your old time, {old}, is released.',
  confirmCancel: 'Cancel your {time} {service}? Reply YES to cancel or NO to keep it.',
  keptAppointment: 'OK, your {service} on {time} stays booked.',
  holdExpired: 'That time was released. Open times now: {slots}. Reply 1, 2 or 3.',
  slotTaken: 'Sorry, that time was just taken. Open times now: {slots}. Reply 1, 2 or 3.',
  cancelled: 'Your {service} on {time} is cancelled. Text us anytime to book again.',
  reminder: 'Reminder from {business}: {service} on {time}. Reply C to cancel or R to change.{link}',
  followUp:
    'Thanks for choosing {business}! If anything is not right, reply here. Text us anytime to book again.',
  notUnderstood: "Sorry, I didn't get that. {hint}",
  bookingCode: '{business}: your booking code is {code}. If you did not ask for it, ignore this text.',
  hintPick: 'Reply 1, 2 or 3 for {slots}.',
  hintConfirm: 'Reply YES to book or NO to pick another time.',
  hintCancel: 'Reply YES to cancel your appointment or NO to keep it.',
  soon: 'shortly',
  whenOpen: 'when we open, {opening}',
} as const;

export type TemplateName = keyof typeof DEFAULT_TEMPLATES;
export type Templates = Record<TemplateName, string>;

/**
 * The dialogue's texts in Spanish, for callers who write in Spanish. Names missing here fall back to
 * the tenant's (English) template. Tenants do not override these yet.
 */
export const SPANISH_TEMPLATES: Partial<Templates> = {
  handedToHuman: 'Una persona de {business} le escribira {when}.',
  handoverRequested: 'Claro. Una persona de {business} le escribira {when}.',
  complaint: 'Lo sentimos mucho. Una persona de {business} le escribira {when} para resolverlo.',
  emergencyHold:
    '{safety} Primera visita: {time}, {service} ({price}). Responda SI para reservar. Avisamos al equipo.',
  emergencyHandover: '{safety} Avisamos al equipo; le llamaran {when}.',
  outOfScope: '{business} no hace {thing}. Una persona puede llamarle {when}, o diganos que mas necesita.',
  thanks: 'De nada! Escribanos cuando quiera.',
  askService: 'En que le podemos ayudar? Por ejemplo: {examples}.',
  chooseService: 'Quiso decir {options}? Responda con el numero.',
  quoteAndOffer: '{service} cuesta {price} y dura unos {duration}. Horarios: {slots}. Responda 1, 2 o 3.',
  offerTimes: 'Horarios: {slots}. Responda 1, 2 o 3.',
  nearestTimes: '{asked} no esta libre. Lo mas cercano: {slots}. Responda 1, 2 o 3.',
  closedDay: 'Estamos cerrados el {day}. Horarios: {slots}. Responda 1, 2 o 3.',
  nextTimes: 'Siguientes horarios: {slots}. Responda 1, 2 o 3.',
  otherTimes: 'No hay nada libre entonces. Lo mas cercano: {slots}. Responda 1, 2 o 3.',
  noSlots: '{service} cuesta {price}. No hay horarios libres pronto; una persona de {business} le escribira.',
  confirmHold:
    'Reservamos {time} para {service} ({price}). Responda SI para confirmar o NO para otro horario.',
  booked:
    'Cita confirmada: {service} el {time}, {price}. Responda CAMBIAR para moverla o CANCELAR CITA para cancelarla.',
  bookedWithLink:
    'Cita confirmada: {service} el {time}, {price}. Responda CAMBIAR para moverla, o vea {link}',
  whenBooked: 'Su {service} es el {time}. Responda CAMBIAR para moverla o CANCELAR CITA para cancelarla.',
  noAppointment: 'No tiene cita con nosotros. En que le podemos ayudar?',
  moveOffer: 'Mover su {service} a: {slots}? Responda 1, 2 o 3.',
  moved: 'Listo: su {service} es ahora el {time}. Su horario anterior, {old}, queda libre.',
  confirmCancel: 'Cancelar su {service} del {time}? Responda SI para cancelar o NO para mantenerla.',
  keptAppointment: 'De acuerdo, su {service} del {time} sigue en pie.',
  holdExpired: 'Ese horario se libero. Horarios ahora: {slots}. Responda 1, 2 o 3.',
  slotTaken: 'Lo sentimos, ese horario ya se tomo. Horarios ahora: {slots}. Responda 1, 2 o 3.',
  cancelled: 'Su {service} del {time} esta cancelada. Escribanos cuando quiera para reservar.',
  notUnderstood: 'Perdon, no le entendi. {hint}',
  hintPick: 'Responda 1, 2 o 3 para {slots}.',
  hintConfirm: 'Responda SI para confirmar o NO para otro horario.',
  hintCancel: 'Responda SI para cancelar su cita o NO para mantenerla.',
  soon: 'en breve',
  whenOpen: 'cuando abramos, {opening}',
};

/** The first thing to do in an emergency, per trade (the `{safety}` of the emergency texts). */
export const SAFETY_STEPS: Record<Trade, { en: string; es: string }> = {
  plumbing: {
    en: 'Please shut off the main water valve now, and keep away from wet outlets.',
    es: 'Cierre ahora la llave de paso principal del agua y alejese de enchufes mojados.',
  },
  hvac: {
    en: 'If you smell gas, leave the house now and call 911 from outside. Otherwise switch the system off.',
    es: 'Si huele a gas, salga de la casa y llame al 911 desde afuera. Si no, apague el sistema.',
  },
  electrical: {
    en: 'Please switch off the main breaker if it is safe to reach, and keep away from sparks or burning smells.',
    es: 'Apague el interruptor principal si puede hacerlo sin riesgo y alejese de chispas u olor a quemado.',
  },
  cleaning: {
    en: 'Please keep people and pets away from the affected area.',
    es: 'Mantenga a personas y mascotas lejos de la zona afectada.',
  },
};

export function resolveTemplates(overrides: unknown): Templates {
  const result: Templates = { ...DEFAULT_TEMPLATES };
  if (overrides && typeof overrides === 'object') {
    for (const [name, value] of Object.entries(overrides)) {
      if (Object.hasOwn(DEFAULT_TEMPLATES, name) && typeof value === 'string' && value.trim() !== '') {
        result[name as TemplateName] = value;
      }
    }
  }
  return result;
}

export function render(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) =>
    Object.hasOwn(values, key) ? String(values[key]) : whole,
  );
}
