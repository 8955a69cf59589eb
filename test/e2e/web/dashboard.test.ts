import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope, EventName } from '../../../src/domain/event-catalog.ts';
import { findTenantBySlug } from '../../../src/persistence/repositories/tenants.ts';
import { DEMO } from '../../../src/persistence/seed-demo.ts';
import { reportSubscriber } from '../../../src/runtime/reports/report-subscriber.ts';
import { ensureWebBuild } from '../../../src/web-build.ts';
import {
  DESKTOP,
  expectNoSeriousA11yViolations,
  launchChromium,
  PHONE,
  screenshot,
} from '../../helpers/browser.ts';
import { appOf, call, tokenFor } from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';

// The owner's dashboard in a real browser: a few weeks of traffic go into the reporting read models
// (the events the outbox would deliver: missed calls, texts, replies, quotes, holds, bookings, a
// reminder, outcomes, a cancellation), then the page's funnel chart and its table show the numbers
// the reports API gives, the tiles show revenue and the first-text P95 against the objective, and
// the chart is drawn. TECH has no dashboard. Scanned with axe; photographed at desktop and 375 px.

let t: TestSystem;
let browser: Browser;
let tenantId: string;

beforeAll(async () => {
  await ensureWebBuild();
  [t, browser] = await Promise.all([startTestSystem(), launchChromium()]);
  tenantId = (await findTenantBySlug(t.system.db, DEMO.slug))?.id as string;
});
afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

const HOUR = 3_600_000;
const ago = (hours: number, plusMs = 0) => new Date(Date.now() - hours * HOUR + plusMs).toISOString();

function envelope(name: EventName, at: string, payload: Record<string, unknown>): EventEnvelope {
  return {
    event_id: randomUUID(),
    event_name: name,
    schema_version: 1,
    tenant_id: tenantId,
    occurred_at: at,
    correlation_id: randomUUID(),
    causation_id: null,
    payload,
  };
}

/** A caller's conversation `hoursAgo`, as far as `reached` in the funnel; a booking when it got there. */
function caller(
  hoursAgo: number,
  latencyMs: number,
  reached: number,
  outcome?: 'completed' | 'no_show' | 'cancelled',
) {
  const conversation_id = randomUUID();
  const steps: [EventName, Record<string, unknown>][] = [
    ['nmc.conversation.MessageReceived', { message_id: randomUUID() }],
    ['nmc.conversation.ServiceQuoted', { service_id: randomUUID(), price_cents: 14_900 }],
    ['nmc.conversation.TimeHeld', { hold_id: randomUUID(), start: ago(hoursAgo - 2) }],
  ];
  const events = [
    envelope('nmc.conversation.ConversationStarted', ago(hoursAgo), { conversation_id }),
    envelope('nmc.conversation.MissedCallRecorded', ago(hoursAgo), { conversation_id, call_sid: 'CA1' }),
    envelope('nmc.messaging.MessageAccepted', ago(hoursAgo, latencyMs), {
      conversation_id,
      message_id: randomUUID(),
      purpose: 'greeting',
    }),
    ...steps
      .slice(0, reached)
      .map(([name, payload], i) =>
        envelope(name, ago(hoursAgo, 60_000 * (i + 1)), { conversation_id, ...payload }),
      ),
  ];
  if (reached < steps.length) return events;
  const appointment_id = randomUUID();
  const facts = {
    appointment_id,
    resource_id: randomUUID(),
    service_id: randomUUID(),
    conversation_id,
    start: ago(hoursAgo - 2),
    end: ago(hoursAgo - 3),
    price_cents: 14_900,
  };
  events.push(envelope('nmc.scheduling.AppointmentBooked', ago(hoursAgo, 300_000), facts));
  events.push(
    envelope('nmc.conversation.ReminderSent', ago(hoursAgo, 600_000), {
      conversation_id,
      appointment_id,
      offset_minutes: 120,
    }),
  );
  if (outcome === 'cancelled') {
    events.push(envelope('nmc.scheduling.AppointmentCancelled', ago(hoursAgo, 900_000), facts));
  } else if (outcome) {
    events.push(
      envelope('nmc.scheduling.AppointmentOutcomeMarked', ago(hoursAgo - 4), { ...facts, outcome }),
    );
  }
  return events;
}

async function seedTraffic(): Promise<void> {
  const subscriber = reportSubscriber(t.system.db);
  const callers = [
    caller(24 * 20, 900, 3, 'completed'),
    caller(24 * 12, 1_200, 3, 'completed'),
    caller(24 * 9, 1_400, 3, 'no_show'),
    caller(24 * 6, 2_600, 3, 'cancelled'),
    caller(24 * 4, 800, 2),
    caller(24 * 3, 1_100, 1),
    caller(30, 700, 0),
    caller(26, 6_500, 1),
  ];
  // Callers side by side, as the dispatcher delivers them; each caller's events in order.
  await Promise.all(
    callers.map(async (events) => {
      for (const event of events) await subscriber.handle(event);
    }),
  );
}

type Funnel = {
  time_zone: string;
  total: Record<string, number> & { revenue_booked: { amount_cents: number } };
};

async function signIn(page: Page, role: 'OWNER' | 'TECH'): Promise<void> {
  await page.goto(`${t.baseUrl}/app/dev-login?tenant=demo&role=${role}`);
  await page.getByRole('heading', { name: 'Inbox' }).waitFor();
}

/** How many pixels of the chart's canvas are drawn (not transparent). */
function drawnPixels(page: Page, name: RegExp): Promise<number> {
  return page.getByRole('img', { name }).evaluate((canvas) => {
    // The server's tsconfig has no DOM types: the canvas as far as this reads it.
    type Canvas = {
      width: number;
      height: number;
      getContext(
        kind: '2d',
      ): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
    };
    const c = canvas as unknown as Canvas;
    const data = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? new Uint8ClampedArray();
    let drawn = 0;
    for (let i = 3; i < data.length; i += 4) if ((data[i] ?? 0) > 0) drawn += 1;
    return drawn;
  });
}

describe('the dashboard', () => {
  it('says when there is nothing to count yet, and offers Try again when the numbers cannot be loaded', async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    await signIn(page, 'OWNER');
    await page.goto(`${t.baseUrl}/app/dashboard`);
    // Before any traffic: the empty month says what will appear.
    await page.getByText('Nothing to count yet in the last 30 days.').waitFor();
    // The reports API failing: the page says so, and Try again loads it once it answers.
    let failing = true;
    await page.route('**/api/v1/reports/funnel*', (route) =>
      failing
        ? route.fulfill({
            status: 503,
            contentType: 'application/json',
            body: JSON.stringify({
              error: { code: 'unavailable', message: 'the database is not reachable', correlation_id: 'x' },
            }),
          })
        : route.continue(),
    );
    await page.reload();
    await page
      .getByRole('alert')
      .getByText(/the database is not reachable/)
      .waitFor();
    failing = false;
    await page.getByRole('button', { name: 'Try again' }).click();
    await page.getByText('Nothing to count yet in the last 30 days.').waitFor();
    await context.close();
  });

  it('shows the owner the funnel the reports API gives, as a chart and a table, at desktop and 375 px', async () => {
    await seedTraffic();
    const owner = await tokenFor(t.system, { subject: 'dash_owner', role: 'OWNER', org: DEMO.auth_org_id });
    const api = await call(appOf(t.system), { method: 'GET', url: '/api/v1/reports/funnel', token: owner });
    expect(api.status, api.raw).toBe(200);
    const { total } = api.body as Funnel;
    expect(total).toMatchObject({
      missed: 8,
      booked: 4,
      completed: 2,
      no_show: 1,
      cancelled: 1,
      reminded: 4,
    });

    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    await signIn(page, 'OWNER');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    for (const viewport of [DESKTOP, PHONE]) {
      await page.setViewportSize(viewport);
      await page.getByRole('heading', { name: 'From missed call to kept appointment' }).waitFor();

      // The table beside the chart: every step with the API's count.
      const table = page.getByRole('table', { name: 'Each step, and its share of the step before' });
      const rows = await table.getByRole('row').allInnerTexts();
      const counts = Object.fromEntries(
        rows.slice(1).map((r) => {
          const [label, count] = r.split('\t');
          return [label?.trim(), Number(count)];
        }),
      );
      expect(counts).toEqual({
        'Missed calls': total.missed,
        'Texted back': total.texted,
        Replied: total.replied,
        Quoted: total.quoted,
        'Held a time': total.held,
        Booked: total.booked,
        Reminded: total.reminded,
        Completed: total.completed,
        'No-show': total.no_show,
        Cancelled: total.cancelled,
      });
      await table.getByRole('row', { name: /Booked 4 100% of held/ }).waitFor();
      // The chart is named with the same numbers, and drawn.
      const chartName = /Funnel chart, last 30 days: Missed calls 8, Texted back 8, Replied 7/;
      await page.getByRole('img', { name: chartName }).waitFor();
      expect(await drawnPixels(page, chartName)).toBeGreaterThan(1_000);
      expect(await drawnPixels(page, /Trend chart over 30 days/)).toBeGreaterThan(1_000);

      // Revenue and the first text's P95 against the objective (7 of 8 within 5 s: P95 is 7.5 s).
      const tiles = page.getByRole('list', { name: 'Last 30 days' });
      await tiles.getByText('$596.00').waitFor();
      await tiles.getByText('$298.00').waitFor();
      await tiles.getByText('7.5 s').waitFor();
      await tiles.getByText('over the 5 s objective').waitFor();
      await page.getByText(/days in America\/Los Angeles/).waitFor();

      // The same days as the API, in the business's zone.
      const details = page.locator('details');
      if ((await details.getAttribute('open')) === null) await page.getByText('The numbers per day').click();
      const perDay = page.getByRole('table', { name: 'Per local day' });
      expect(await perDay.getByRole('row').count()).toBe(31);

      // At 375 px nothing runs off the side.
      const overflow = await page.evaluate(() => {
        const w = globalThis as unknown as {
          document: { documentElement: { scrollWidth: number } };
          innerWidth: number;
        };
        return w.document.documentElement.scrollWidth - w.innerWidth;
      });
      expect(overflow).toBeLessThanOrEqual(0);

      await screenshot(page, 'dashboard');
      await expectNoSeriousA11yViolations(page, `dashboard ${viewport.width}px`);
    }
    await context.close();
  });

  it('is not shown to TECH', async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    await signIn(page, 'TECH');
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Calendar' }).waitFor();
    expect(await nav.getByRole('link', { name: 'Dashboard' }).count()).toBe(0);
    await page.goto(`${t.baseUrl}/app/dashboard`);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Dashboard' }).count()).toBe(0);
    await context.close();
  });
});
