// Every text the system sends, in one place, with defaults a tenant can override
// (`id_tenants.settings.templates`). Placeholders are `{name}`. Defaults stay under 160 GSM-7
// characters so one message is one segment.

export const DEFAULT_TEMPLATES = {
  greeting:
    "Hi, this is {business}. Sorry we missed your call! How can we help? Reply here and we'll get you booked.",
  greetingAfterHours:
    "Hi, this is {business}. We're closed right now, sorry we missed your call. Reply with what you need and we'll get you booked.",
  acknowledgement: 'Thanks! Someone from {business} will reply shortly.',
  optOutConfirmation:
    "{business}: You're unsubscribed and will get no more messages. Reply START to resubscribe.",
  optInConfirmation: "{business}: You're resubscribed. Reply HELP for help, STOP to opt out.",
  help: '{business}: {help} Reply STOP to opt out. Msg&data rates may apply.',
  handedToHuman: 'Let me get a person from {business} to help you. They will text you shortly.',
  askService: 'What can we help with? For example: {examples}.',
  chooseService: 'Did you mean {options}? Reply with the number.',
  quoteAndOffer: '{service} is {price} and takes about {duration}. Open times: {slots}. Reply 1, 2 or 3.',
  noSlots:
    '{service} is {price}. We have no open times in the next days; a person from {business} will text you.',
  confirmHold: 'Holding {time} for {service} ({price}). Reply YES to book or NO to pick another time.',
  booked:
    "You're booked: {service} on {time}, {price}. Reply CHANGE to move it or CANCEL APPOINTMENT to cancel.",
  holdExpired: 'That time was released. Open times now: {slots}. Reply 1, 2 or 3.',
  slotTaken: 'Sorry, that time was just taken. Open times now: {slots}. Reply 1, 2 or 3.',
  cancelled: 'Your {service} on {time} is cancelled. Text us anytime to book again.',
  notUnderstood: "Sorry, I didn't get that. {hint}",
  bookingCode: '{business}: your booking code is {code}. If you did not ask for it, ignore this text.',
} as const;

export type TemplateName = keyof typeof DEFAULT_TEMPLATES;
export type Templates = Record<TemplateName, string>;

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
