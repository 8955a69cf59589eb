// The catalogs a new business starts from, one per trade: a few services with durations, prices and
// the words callers use for them, and the opening hours of the one bookable person. The plumbing
// template is the demo's (src/persistence/seed-demo-scheduling.ts). An owner edits them afterwards;
// seeding never overwrites a row that exists.

export const TRADE_TEMPLATES = ['plumbing', 'hvac', 'electrical', 'cleaning'] as const;
export type TradeTemplate = (typeof TRADE_TEMPLATES)[number];

export type TemplateService = {
  key: string;
  name: string;
  duration_minutes: number;
  price_cents: number;
  aliases: string[];
};

export type TemplateCatalog = {
  services: TemplateService[];
  /** The bookable person's name and weekly hours (ISO weekday 1 = Monday → local intervals). */
  resource: { key: string; name: string; weekly_hours: Record<string, { start: string; end: string }[]> };
};

const WEEKDAYS = [{ start: '08:00', end: '17:00' }];
const weekdays = { '1': WEEKDAYS, '2': WEEKDAYS, '3': WEEKDAYS, '4': WEEKDAYS, '5': WEEKDAYS };

export const TEMPLATE_CATALOGS: Readonly<Record<TradeTemplate, TemplateCatalog>> = {
  plumbing: {
    services: [
      {
        key: 'service:drain-cleaning',
        name: 'Drain cleaning',
        duration_minutes: 60,
        price_cents: 14_900,
        aliases: ['clogged drain'],
      },
      {
        key: 'service:water-heater-repair',
        name: 'Water heater repair',
        duration_minutes: 90,
        price_cents: 22_900,
        aliases: ['no hot water', 'water heater'],
      },
      {
        key: 'service:toilet-repair',
        name: 'Toilet repair',
        duration_minutes: 60,
        price_cents: 12_900,
        aliases: [],
      },
    ],
    resource: { key: 'resource:technician', name: 'Plumber', weekly_hours: weekdays },
  },
  hvac: {
    services: [
      {
        key: 'service:ac-repair',
        name: 'AC repair',
        duration_minutes: 90,
        price_cents: 18_900,
        aliases: ['air conditioning', 'no cold air'],
      },
      {
        key: 'service:furnace-tune-up',
        name: 'Furnace tune-up',
        duration_minutes: 60,
        price_cents: 12_900,
        aliases: ['heating', 'furnace'],
      },
    ],
    resource: { key: 'resource:technician', name: 'HVAC technician', weekly_hours: weekdays },
  },
  electrical: {
    services: [
      {
        key: 'service:outlet-repair',
        name: 'Outlet repair',
        duration_minutes: 60,
        price_cents: 11_900,
        aliases: ['dead outlet', 'socket'],
      },
      {
        key: 'service:panel-inspection',
        name: 'Panel inspection',
        duration_minutes: 90,
        price_cents: 19_900,
        aliases: ['breaker', 'fuse box'],
      },
    ],
    resource: { key: 'resource:technician', name: 'Electrician', weekly_hours: weekdays },
  },
  cleaning: {
    services: [
      {
        key: 'service:standard-clean',
        name: 'Standard clean',
        duration_minutes: 120,
        price_cents: 12_000,
        aliases: ['house cleaning'],
      },
      {
        key: 'service:deep-clean',
        name: 'Deep clean',
        duration_minutes: 240,
        price_cents: 26_000,
        aliases: ['move out clean'],
      },
    ],
    resource: { key: 'resource:team', name: 'Cleaning team', weekly_hours: weekdays },
  },
};
