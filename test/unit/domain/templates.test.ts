import { describe, expect, it } from 'vitest';
import { smsSegments } from '../../../src/domain/gsm7.ts';
import {
  DEFAULT_TEMPLATES,
  render,
  resolveTemplates,
  SPANISH_TEMPLATES,
  type TemplateName,
} from '../../../src/domain/templates.ts';

// Every default text, filled with realistic values, fits one SMS segment (160 GSM-7 characters):
// a caller gets one message, and the business pays for one.

const VALUES: Record<string, string> = {
  business: 'Rivera Plumbing & Drains',
  help: 'Call (310) 555-0100 or reply here.',
  examples: 'drain cleaning, water heater repair, toilet repair',
  options: '1) Water heater repair 2) Water heater install 3) Toilet repair',
  service: 'Water heater repair',
  price: '$1,229.00',
  duration: '1 h 30 min',
  slots: '1) Tomorrow 10:00 AM 2) Wed Mar 11, 2:30 PM 3) Thu Mar 12, 8:00 AM',
  time: 'Tue Mar 10, 10:00 AM',
  hint: 'Reply YES to book or NO to pick another time.',
  when: 'when we open, Mon Mar 9, 8:00 AM',
  opening: 'Mon Mar 9, 8:00 AM',
  phone: '+13105550100',
  thing: 'air conditioning',
  asked: 'Tomorrow 3:00 PM',
  day: 'Sat Dec 5',
  old: 'Tue Mar 10, 10:00 AM',
  safety: 'Please shut off the main water valve now, and keep away from wet outlets.',
  code: '123456',
  // The customer's page (src/runtime/portal), as reminders carry it.
  link: ' Manage: https://nmc.example/p/Kx7Qm2Rt9Z',
  // A note in the caller's own language (src/domain/handover-notes.ts) is empty for most texts.
  note: '',
};

/** The safety step comes first in an emergency: those texts may take two segments. */
const TWO_SEGMENTS = new Set<TemplateName>(['emergencyHold', 'emergencyHandover']);

describe('message templates', () => {
  it.each(Object.keys(DEFAULT_TEMPLATES) as TemplateName[])('%s fits one GSM-7 segment', (name) => {
    const text = render(DEFAULT_TEMPLATES[name], VALUES);
    expect(text).not.toMatch(/\{\w+\}/);
    expect(smsSegments(text), text).toBe(TWO_SEGMENTS.has(name) ? Math.min(2, smsSegments(text)) : 1);
  });

  it.each(Object.entries(SPANISH_TEMPLATES))(
    'Spanish %s fills every placeholder and stays GSM-7',
    (name, template) => {
      const text = render(template ?? '', VALUES);
      expect(text).not.toMatch(/\{\w+\}/);
      expect(smsSegments(text), text).toBeLessThanOrEqual(TWO_SEGMENTS.has(name as TemplateName) ? 2 : 1);
    },
  );

  it('takes a tenant override and ignores unknown or empty ones', () => {
    const templates = resolveTemplates({
      greeting: 'Hello from {business}!',
      nope: 'x',
      help: '  ',
      __proto__: 'x',
    });
    expect(templates.greeting).toBe('Hello from {business}!');
    expect(templates.help).toBe(DEFAULT_TEMPLATES.help);
    expect(Object.keys(templates)).toEqual(Object.keys(DEFAULT_TEMPLATES));
  });

  it('leaves unknown placeholders as they are and never expands a value twice', () => {
    expect(render('{a} {b}', { a: '{b}' })).toBe('{b} {b}');
  });
});
