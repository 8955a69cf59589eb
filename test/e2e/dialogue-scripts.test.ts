import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertReason } from '../../src/domain/alert-reasons.ts';
import { DEMO } from '../../src/persistence/seed-demo.ts';
import { readGatesFromBilling } from '../../src/runtime/billing-gates.ts';
import { createDispatch } from '../../src/runtime/dispatch.ts';
import { startTestSystem, type TestSystem, waitFor } from '../helpers/system.ts';

// Scripted conversations with the demo plumbing business (weekdays 08:00–17:00 in Los Angeles, one
// plumber), through the real webhooks and the Twilio sandbox, each with its expected outcome.
//
// A script is a list of lines: `> text` is what the customer sends, `< pattern` is a regular
// expression the next reply must match (exactly one reply per `<`), `STOP` is the carrier keyword.
// `{day1}`, `{day2}`, `{day3}` are the names of the next three weekdays at least two days ahead
// (so the times asked for are open whatever the clock says), `{d1}` … their written form.
// Scripts run in order: a later one may find a time an earlier one booked.

type Outcome =
  | { kind: 'booked'; at?: { day: 1 | 2 | 3; hour: number } }
  | { kind: 'moved'; at?: { day: 1 | 2 | 3; hour: number } }
  | { kind: 'cancelled' }
  | { kind: 'handedOver'; reason: AlertReason }
  | { kind: 'open'; alert?: AlertReason }
  | { kind: 'optedOut'; appointmentStands: boolean };

type Script = { name: string; lines: string[]; outcome: Outcome };

const ZONE = 'America/Los_Angeles';
const BOOK_DRAIN = [
  '> my drain is clogged',
  '< ^Drain cleaning is \\$149\\.00',
  '> 2',
  '< ^Holding ',
  '> yes',
  "< ^You're booked",
];

const SCRIPTS: Script[] = [
  // First: these two need {day1} 3:00 PM free, and the scripts that book an offered option may
  // book any open time, depending on the clock.
  {
    name: 'a time is booked at 3 PM',
    lines: [
      '> {day1} at 3pm for a drain cleaning',
      '< ^Holding {d1}, 3:00 PM',
      '> yes',
      "< ^You're booked: Drain cleaning on {d1}, 3:00 PM",
    ],
    outcome: { kind: 'booked', at: { day: 1, hour: 15 } },
  },
  {
    name: 'the same time again is taken: the nearest times that day and the next',
    lines: [
      '> {day1} at 3pm for a drain cleaning',
      '< ^{d1}, 3:00 PM is not open\\. Nearest times: 1\\) {d1}, ',
      '> 1',
      '< ^Holding {d1}, ',
      '> yes',
      "< ^You're booked",
    ],
    outcome: { kind: 'booked' },
  },
  // Booking, as customers put it.
  { name: 'a clogged drain, pick 2, yes', lines: BOOK_DRAIN, outcome: { kind: 'booked' } },
  {
    name: 'a kitchen sink described, not named',
    lines: [
      "> my kitchen sink is clogged and the water won't go down",
      '< ^Drain cleaning is \\$149\\.00 and takes about 1 hour\\. Open times: 1\\) ',
      '> 1',
      '< ^Holding ',
      '> yes please',
      "< ^You're booked: Drain cleaning",
    ],
    outcome: { kind: 'booked' },
  },
  {
    name: 'a leaking toilet, the third time, "sure"',
    lines: [
      '> toilet is leaking at the base',
      '< ^Toilet repair is \\$129\\.00',
      '> 3',
      '< ^Holding ',
      '> sure',
      "< ^You're booked: Toilet repair",
    ],
    outcome: { kind: 'booked' },
  },
  {
    name: 'no hot water, "the second one", "ok book it"',
    lines: [
      '> no hot water at all',
      '< ^Water heater repair is \\$229\\.00',
      '> the second one',
      '< ^Holding ',
      '> ok book it',
      "< ^You're booked",
    ],
    outcome: { kind: 'booked' },
  },
  {
    name: 'an open asked time is held at once and booked at that time',
    lines: [
      '> can you come {day1} at 9am? my drain is clogged',
      '< ^Holding {d1}, 9:00 AM for Drain cleaning',
      '> yes',
      "< ^You're booked: Drain cleaning on {d1}, 9:00 AM",
    ],
    outcome: { kind: 'booked', at: { day: 1, hour: 9 } },
  },
  {
    name: '👍 to a held asked time is yes',
    lines: [
      '> {day2} at 1pm for a toilet repair',
      '< ^Holding {d2}, 1:00 PM',
      '> 👍',
      "< ^You're booked: Toilet repair on {d2}, 1:00 PM",
    ],
    outcome: { kind: 'booked', at: { day: 2, hour: 13 } },
  },
  {
    name: 'an afternoon asked for gets afternoon times',
    lines: [
      '> drain cleaning {day3} afternoon',
      '< ^Drain cleaning is .* Open times: 1\\) {d3}, (12|[1-4]):\\d\\d PM 2\\) {d3}, (12|[1-4]):\\d\\d PM',
      '> 1',
      '< ^Holding {d3}, (12|[1-4]):\\d\\d PM',
      '> yes',
      "< ^You're booked",
    ],
    outcome: { kind: 'booked' },
  },
  {
    name: '"anytime after 2" offers times from 2 PM on',
    lines: ['> water heater anytime after 2 on {day2}', '< Open times: 1\\) {d2}, [2-4]:\\d\\d PM'],
    outcome: { kind: 'open' },
  },
  {
    name: 'saturday: closed, says so and offers Monday',
    lines: [
      '> saturday? drain is clogged',
      "< ^We're closed Sat [A-Z][a-z]{2} \\d+\\. Open times: 1\\) Mon ",
      '> 1',
      '< ^Holding Mon ',
      '> yes',
      "< ^You're booked",
    ],
    outcome: { kind: 'booked' },
  },
  {
    name: '"none of those" offers the next three',
    lines: [
      '> my drain is clogged',
      '< ^Drain cleaning is',
      '> none of those times work',
      '< ^Next open times: 1\\) ',
      '> 2',
      '< ^Holding ',
      '> yes',
      "< ^You're booked",
    ],
    outcome: { kind: 'booked' },
  },
  {
    name: '"fine. 1" holds option 1, not one o\'clock',
    lines: [
      '> clogged drain',
      '< ^Drain cleaning is .* 1\\) (?<first>.+?) 2\\)',
      '> fine. 1',
      '< ^Holding {first} for Drain cleaning',
      '> yes',
      "< ^You're booked",
    ],
    outcome: { kind: 'booked' },
  },
  {
    name: 'NO to a held time offers times again',
    lines: [
      '> my drain is clogged',
      '< ^Drain cleaning is',
      '> 2',
      '< ^Holding ',
      '> no',
      '< ^Open times: ',
      '> 3',
      '< ^Holding ',
      '> yes',
      "< ^You're booked",
    ],
    outcome: { kind: 'booked' },
  },
  {
    name: 'a price question is quoted',
    lines: [
      '> how much for a drain cleaning?',
      '< ^Drain cleaning is \\$149\\.00 and takes about 1 hour',
      '> 1',
      '< ^Holding ',
      '> yes',
      "< ^You're booked",
    ],
    outcome: { kind: 'booked' },
  },
  {
    name: 'hello first, then the need',
    lines: [
      '> hi',
      '< ^What can we help with\\? For example: drain cleaning',
      '> clogged drain',
      '< ^Drain cleaning is',
      '> 2 is fine',
      '< ^Holding ',
      '> yes',
      "< ^You're booked",
    ],
    outcome: { kind: 'booked' },
  },
  {
    name: 'two services named: asks which, a number answers',
    lines: [
      '> water heater or toilet',
      '< ^Did you mean 1\\) .+ 2\\) .+\\? Reply with the number\\.',
      '> 1',
      '< is \\$\\d+\\.00 and takes about',
    ],
    outcome: { kind: 'open' },
  },
  {
    name: 'a time outside business hours gets the nearest open times',
    lines: ['> drain cleaning at 7pm on {day3}', '< ^{d3}, 7:00 PM is not open\\. Nearest times: 1\\) '],
    outcome: { kind: 'open' },
  },
  {
    name: 'a morning asked for after the quote',
    lines: [
      '> my drain is clogged',
      '< ^Drain cleaning is',
      '> {day2} morning?',
      '< Open times: 1\\) {d2}, (8|9|10|11):\\d\\d AM',
    ],
    outcome: { kind: 'open' },
  },
  // The booking remembered.
  {
    name: '"when is my appointment again?"',
    lines: [
      ...BOOK_DRAIN,
      '> when is my appointment again?',
      '< ^Your Drain cleaning is on .+\\. Reply CHANGE',
    ],
    outcome: { kind: 'booked' },
  },
  {
    name: 'cancel after a confirmation',
    lines: [
      ...BOOK_DRAIN,
      '> need to cancel, something came up',
      '< ^Cancel your .+ Drain cleaning\\? Reply YES',
      '> yes',
      '< ^Your Drain cleaning on .+ is cancelled',
    ],
    outcome: { kind: 'cancelled' },
  },
  {
    name: 'cancel, then NO keeps it',
    lines: [...BOOK_DRAIN, '> please cancel my appointment', '< ^Cancel your', '> no', '< stays booked\\.$'],
    outcome: { kind: 'booked' },
  },
  {
    name: 'reschedule: pick a new time, moved atomically, the old time released',
    lines: [
      ...BOOK_DRAIN,
      '> I need to reschedule',
      '< ^Move your Drain cleaning to: 1\\) ',
      '> 3',
      '< ^Done: your Drain cleaning is now on .+\\. Your old time, .+, is released\\.',
    ],
    outcome: { kind: 'moved' },
  },
  {
    name: '"can we do <day> at 11am instead" moves straight to that time',
    lines: [
      ...BOOK_DRAIN,
      '> can we do {day3} at 11am instead',
      '< ^Done: your Drain cleaning is now on {d3}, 11:00 AM\\. Your old time',
    ],
    outcome: { kind: 'moved', at: { day: 3, hour: 11 } },
  },
  {
    name: 'STOP with a booking: unsubscribed, the appointment stands, the owner is told',
    lines: [
      ...BOOK_DRAIN,
      'STOP',
      "< You're unsubscribed\\. Your Drain cleaning on .+ still stands; to cancel, call \\+15005550001",
    ],
    outcome: { kind: 'optedOut', appointmentStands: true },
  },
  {
    name: 'STOP without a booking: the plain confirmation',
    lines: [
      '> my drain is clogged',
      '< ^Drain cleaning is',
      'STOP',
      "< You're unsubscribed and will get no more messages",
    ],
    outcome: { kind: 'optedOut', appointmentStands: false },
  },
  {
    name: '"when is my appointment" with none',
    lines: ['> when is my appointment?', '< ^You have no appointment with us yet'],
    outcome: { kind: 'open' },
  },
  {
    name: 'thanks after booking',
    lines: [...BOOK_DRAIN, '> thanks!', "< ^You're welcome"],
    outcome: { kind: 'booked' },
  },
  // Triage.
  {
    name: 'asking for a person hands over at once',
    lines: [
      '> can I talk to a real person',
      '< ^Sure\\. A person from Demo Plumbing will text you (shortly|when we open, .+)\\.$',
    ],
    outcome: { kind: 'handedOver', reason: 'handover_requested' },
  },
  {
    name: 'asking for a call mid-offer hands over',
    lines: [
      '> my drain is clogged',
      '< ^Drain cleaning is',
      '> just have someone call me',
      '< ^Sure\\. A person',
    ],
    outcome: { kind: 'handedOver', reason: 'handover_requested' },
  },
  {
    name: 'anger gets an apology and a person',
    lines: [
      '> this is ridiculous, nobody called me back',
      "< ^I'm sorry about this\\. A person from Demo Plumbing will text you",
    ],
    outcome: { kind: 'handedOver', reason: 'complaint' },
  },
  {
    name: 'a burst pipe: the safety step and an urgent handover',
    lines: [
      '> pipe burst under the kitchen sink, water everywhere!!',
      '< ^Please shut off the main water valve now.+Our team is alerted',
    ],
    outcome: { kind: 'handedOver', reason: 'emergency' },
  },
  {
    name: 'an overflowing toilet: the safety step, the earliest time held, booked',
    lines: [
      '> my toilet is overflowing, water everywhere',
      '< ^Please shut off the main water valve now.+Earliest visit: .+, Toilet repair \\(\\$129\\.00\\)\\. Reply YES',
      '> yes',
      "< ^You're booked: Toilet repair",
    ],
    outcome: { kind: 'booked' },
  },
  {
    name: 'AC to a plumber: refused politely, a call back offered',
    lines: [
      '> can you fix my AC?',
      "< ^Sorry, Demo Plumbing doesn't do air conditioning\\. A person can call you back",
    ],
    outcome: { kind: 'open', alert: 'out_of_scope' },
  },
  {
    name: 'Spanish is answered in Spanish, through to the booking',
    lines: [
      '> necesito destapar el drenaje de la cocina',
      '< ^Drain cleaning cuesta \\$149\\.00 .+ Horarios: 1\\) ',
      '> 1',
      '< ^Reservamos ',
      '> si',
      '< ^Cita confirmada: Drain cleaning',
    ],
    outcome: { kind: 'booked' },
  },
  {
    name: 'Spanish toilet trouble is quoted in Spanish',
    lines: ['> hola, mi inodoro gotea', '< ^Toilet repair cuesta \\$129\\.00'],
    outcome: { kind: 'open' },
  },
  {
    name: 'French is handed to a person, told so in French first',
    lines: [
      '> Bonjour, mon évier est bouché, pouvez-vous venir demain?',
      '< ^Une personne va vous répondre bientôt\\. / A person from Demo Plumbing will text you',
    ],
    outcome: { kind: 'handedOver', reason: 'unsupported_language' },
  },
  {
    name: 'Chinese is handed to a person, told so in Chinese first',
    lines: [
      '> 你好，我的水槽堵了',
      '< ^我们的工作人员会尽快回复您。 / A person from Demo Plumbing will text you',
    ],
    outcome: { kind: 'handedOver', reason: 'unsupported_language' },
  },
  {
    name: 'three misunderstandings hand over',
    lines: [
      '> asdf',
      "< ^Sorry, I didn't get that\\.",
      '> qwerty',
      "< ^Sorry, I didn't get that\\.",
      '> zzz',
      '< ^Let me get a person from Demo Plumbing',
    ],
    outcome: { kind: 'handedOver', reason: 'repeated_misunderstanding' },
  },
  {
    name: 'one misunderstanding gets a hint and the conversation goes on',
    lines: [
      '> my drain is clogged',
      '< ^Drain cleaning is',
      '> hmm',
      "< ^Sorry, I didn't get that\\. Reply 1, 2 or 3 for 1\\) ",
      '> 1',
      '< ^Holding ',
      '> yes',
      "< ^You're booked",
    ],
    outcome: { kind: 'booked' },
  },
  {
    name: 'a pick without anything on offer is not a booking',
    lines: ['> 2', "< ^Sorry, I didn't get that\\. What can we help with\\?"],
    outcome: { kind: 'open' },
  },
  {
    name: 'a new need while holding switches the service and releases the hold',
    lines: [
      '> my drain is clogged',
      '< ^Drain cleaning is',
      '> 1',
      '< ^Holding ',
      '> actually the toilet is leaking at the base',
      '< ^Toilet repair is \\$129\\.00',
    ],
    outcome: { kind: 'open' },
  },
];

let t: TestSystem;
let days: { names: string[]; written: string[]; dates: string[] };

function nextWeekdays(count: number): { names: string[]; written: string[]; dates: string[] } {
  let day = DateTime.now().setZone(ZONE).startOf('day').plus({ days: 2 });
  const found: DateTime[] = [];
  while (found.length < count) {
    if (day.weekday <= 5) found.push(day);
    day = day.plus({ days: 1 });
  }
  return {
    names: found.map((d) => d.setLocale('en-US').toFormat('cccc').toLowerCase()),
    written: found.map((d) => d.setLocale('en-US').toFormat('ccc LLL d')),
    dates: found.map((d) => d.toISODate() ?? ''),
  };
}

function fill(line: string, captured: Record<string, string>, forPattern: boolean): string {
  return line.replace(/\{(\w+)\}/g, (whole, key: string) => {
    const day = /^day(\d)$/.exec(key);
    if (day) return days.names[Number(day[1]) - 1] ?? whole;
    const written = /^d(\d)$/.exec(key);
    if (written) return days.written[Number(written[1]) - 1] ?? whole;
    const value = captured[key];
    if (value === undefined) return whole;
    return forPattern ? value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : value;
  });
}

function repliesTo(caller: string): string[] {
  return t.sandbox
    .messages()
    .filter((m) => m.to === caller)
    .map((m) => m.body);
}

async function conversationOf(caller: string): Promise<{ id: string; state: string }> {
  const { rows } = await t.system.db.query<{ id: string; state: string }>(
    'SELECT id, state FROM conv_conversations WHERE tenant_id = $1 AND caller = $2 ORDER BY created_at DESC LIMIT 1',
    [t.demo.id, caller],
  );
  if (!rows[0]) throw new Error(`no conversation for ${caller}`);
  return rows[0];
}

async function reservationsOf(conversationId: string) {
  const { rows } = await t.system.db.query<{ kind: string; status: string; start: Date }>(
    `SELECT kind, status, lower(timeslot) AS start FROM sched_reservations
     WHERE tenant_id = $1 AND conversation_id = $2 ORDER BY created_at`,
    [t.demo.id, conversationId],
  );
  return rows;
}

async function alertsOf(conversationId: string): Promise<string[]> {
  const { rows } = await t.system.db.query<{ reason: string }>(
    `SELECT payload->>'reason' AS reason FROM outbox_events
     WHERE tenant_id = $1 AND event_name = 'nmc.conversation.OperatorAttentionNeeded'
       AND payload->>'conversation_id' = $2 ORDER BY seq`,
    [t.demo.id, conversationId],
  );
  return rows.map((r) => r.reason);
}

function localAt(instant: Date): { date: string; hour: number } {
  const local = DateTime.fromJSDate(instant).setZone(ZONE);
  return { date: local.toISODate() ?? '', hour: local.hour };
}

async function play(script: Script, caller: string): Promise<void> {
  const captured: Record<string, string> = {};
  let expected = 0;
  for (const line of script.lines) {
    if (line.startsWith('>') || line === 'STOP') {
      const body = line === 'STOP' ? 'STOP' : fill(line.slice(1).trim(), captured, false);
      const response = await t.phone.sms({ from: caller, to: DEMO.twilio_number, body });
      expect(response.response.status, `${script.name}: ${body}`).toBe(200);
      continue;
    }
    expected += 1;
    const pattern = new RegExp(fill(line.slice(1).trim(), captured, true), 'u');
    const replies = await waitFor(async () => {
      const all = repliesTo(caller);
      return all.length >= expected ? all : null;
    }, 8_000).catch(() => repliesTo(caller));
    const reply = replies[expected - 1] ?? '(no reply)';
    expect(reply, `${script.name}: reply ${expected}`).toMatch(pattern);
    Object.assign(captured, pattern.exec(reply)?.groups ?? {});
  }
  // Exactly one reply per expected line: nothing extra arrives.
  await new Promise((resolve) => setTimeout(resolve, 150));
  expect(repliesTo(caller), `${script.name}: replies`).toHaveLength(expected);
}

async function checkOutcome(script: Script, caller: string): Promise<void> {
  const conversation = await conversationOf(caller);
  const reservations = await reservationsOf(conversation.id);
  const live = reservations.filter((r) => r.kind === 'appointment' && r.status === 'live');
  const alerts = await alertsOf(conversation.id);
  const where = script.name;
  const { outcome } = script;
  switch (outcome.kind) {
    case 'booked':
    case 'moved': {
      expect(conversation.state, where).toBe('open');
      expect(live, where).toHaveLength(1);
      if (outcome.kind === 'moved') {
        expect(
          reservations.filter((r) => r.status === 'cancelled'),
          where,
        ).toHaveLength(1);
      }
      if (outcome.at) {
        const at = localAt(live[0]!.start);
        expect(at, where).toEqual({ date: days.dates[outcome.at.day - 1], hour: outcome.at.hour });
      }
      expect(
        alerts.filter((a) => a !== 'emergency'),
        where,
      ).toEqual([]);
      return;
    }
    case 'cancelled':
      expect(live, where).toEqual([]);
      expect(
        reservations.some((r) => r.status === 'cancelled'),
        where,
      ).toBe(true);
      return;
    case 'handedOver':
      expect(conversation.state, where).toBe('human');
      expect(alerts, where).toEqual([outcome.reason]);
      return;
    case 'open':
      expect(conversation.state, where).toBe('open');
      expect(live, where).toEqual([]);
      expect(alerts, where).toEqual(outcome.alert ? [outcome.alert] : []);
      return;
    case 'optedOut':
      expect(conversation.state, where).toBe('blocked');
      expect(live, where).toHaveLength(outcome.appointmentStands ? 1 : 0);
      expect(alerts, where).toEqual(outcome.appointmentStands ? ['opted_out_with_appointment'] : []);
      return;
  }
}

beforeAll(async () => {
  t = await startTestSystem();
  days = nextWeekdays(3);
});
afterAll(async () => {
  await t?.stop();
});

describe('scripted conversations with the demo plumber', () => {
  it('has at least 40 scripts', () => {
    expect(SCRIPTS.length).toBeGreaterThanOrEqual(40);
  });

  SCRIPTS.forEach((script, index) => {
    it(script.name, async () => {
      const caller = `+1310555${String(2000 + index).padStart(4, '0')}`;
      await play(script, caller);
      await checkOutcome(script, caller);
    });
  });
});

describe('after hours', () => {
  it('a handover says when a person will actually answer: the next opening', async () => {
    // The business opens only on the first of the next weekdays, 08:00–09:00: now is after hours.
    const weekday = DateTime.fromISO(days.dates[0] ?? '', { zone: ZONE }).weekday;
    const hours = { [String(weekday)]: [{ start: '08:00', end: '09:00' }] };
    await t.system.db.query(
      `UPDATE id_tenants SET settings = settings || jsonb_build_object('business_hours', $2::jsonb) WHERE id = $1`,
      [t.demo.id, JSON.stringify(hours)],
    );
    try {
      const caller = '+13105558901';
      await play(
        {
          name: 'after hours',
          lines: [
            '> can I talk to a real person',
            `< ^Sure\\. A person from Demo Plumbing will text you when we open, ${days.written[0]}, 8:00 AM\\.$`,
          ],
          outcome: { kind: 'handedOver', reason: 'handover_requested' },
        },
        caller,
      );
    } finally {
      await t.system.db.query(`UPDATE id_tenants SET settings = settings - 'business_hours' WHERE id = $1`, [
        t.demo.id,
      ]);
    }
  });
});

describe('a yes just after the hold lapsed', () => {
  it('books the same time when it is still free; alerts a person when it is not', async () => {
    const dispatch = createDispatch({
      db: t.system.db,
      boss: t.system.boss,
      readGates: readGatesFromBilling,
    });
    const lapse = async (caller: string) => {
      await play(
        {
          name: 'lapse',
          lines: ['> my drain is clogged', '< ^Drain cleaning is', '> 1', '< ^Holding '],
          outcome: { kind: 'open' },
        },
        caller,
      );
      const conversation = await conversationOf(caller);
      const { rows } = await t.system.db.query<{ id: string; start: Date }>(
        `UPDATE sched_reservations SET expires_at = now() - interval '1 second', status = 'released', release_reason = 'expired', released_at = now()
         WHERE tenant_id = $1 AND conversation_id = $2 AND kind = 'hold' AND status = 'live'
         RETURNING id, lower(timeslot) AS start`,
        [t.demo.id, conversation.id],
      );
      const hold = rows[0];
      if (!hold) throw new Error('no live hold');
      // The hold lapsed and its expiry job released it; the job's event, as the worker dispatches it:
      // fresh times are offered.
      await dispatch(
        t.demo.id,
        { conversationId: conversation.id },
        { type: 'HoldExpired', holdId: hold.id, at: new Date().toISOString() },
        { correlationId: `test-${hold.id}` },
      );
      await waitFor(async () => (repliesTo(caller).length >= 3 ? true : null));
      expect(repliesTo(caller)[2]).toMatch(/^That time was released\. Open times now: /);
      return { conversation, hold };
    };

    // Still free: YES books the very time that lapsed.
    const free = '+13105558801';
    const first = await lapse(free);
    await t.phone.sms({ from: free, to: DEMO.twilio_number, body: 'yes … book it' });
    await waitFor(async () => (repliesTo(free).length >= 4 ? true : null));
    expect(repliesTo(free)[3]).toMatch(/^You're booked: Drain cleaning/);
    const booked = (await reservationsOf(first.conversation.id)).filter((r) => r.status === 'live');
    expect(booked.map((r) => [r.kind, r.start.getTime()])).toEqual([
      ['appointment', first.hold.start.getTime()],
    ]);

    // Taken by someone else meanwhile: fresh times, and a person is told.
    const taken = '+13105558802';
    const second = await lapse(taken);
    const rival = await t.system.db.query(
      `INSERT INTO sched_reservations (tenant_id, id, resource_id, service_id, conversation_id, kind, status, timeslot, created_at, confirmed_at)
       SELECT tenant_id, gen_random_uuid(), resource_id, service_id, NULL, 'appointment', 'live', timeslot, now(), now()
       FROM sched_reservations WHERE id = $1`,
      [second.hold.id],
    );
    expect(rival.rowCount).toBe(1);
    await t.phone.sms({ from: taken, to: DEMO.twilio_number, body: 'yes' });
    await waitFor(async () => (repliesTo(taken).length >= 4 ? true : null));
    expect(repliesTo(taken)[3]).toMatch(/^Sorry, that time was just taken\. Open times now: /);
    expect(await alertsOf(second.conversation.id)).toEqual(['hold_lapsed_after_yes']);
  });
});

describe('one reply to a burst', () => {
  it('four texts within a few seconds get one reply', async () => {
    await t.system.db.query(
      `UPDATE id_tenants SET settings = settings || '{"reply_delay_seconds": 2}'::jsonb WHERE id = $1`,
      [t.demo.id],
    );
    try {
      const caller = '+13105559999';
      for (const body of ['hi', 'my kitchen sink', 'is clogged', 'can you come soon?']) {
        await t.phone.sms({ from: caller, to: DEMO.twilio_number, body });
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      const [reply] = await waitFor(async () => {
        const all = repliesTo(caller);
        return all.length >= 1 ? all : null;
      }, 10_000);
      expect(reply).toMatch(/^Drain cleaning is \$149\.00/);
      // Wait past another burst window plus a polling round: still one reply.
      await new Promise((resolve) => setTimeout(resolve, 4_500));
      expect(repliesTo(caller)).toHaveLength(1);
    } finally {
      await t.system.db.query(
        `UPDATE id_tenants SET settings = settings || '{"reply_delay_seconds": 0}'::jsonb WHERE id = $1`,
        [t.demo.id],
      );
    }
  }, 30_000);
});
