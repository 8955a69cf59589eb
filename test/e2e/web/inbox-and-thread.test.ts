import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuild } from '../../../src/web-build.ts';
import {
  DESKTOP,
  expectNoSeriousA11yViolations,
  launchChromium,
  PHONE,
  screenshot,
} from '../../helpers/browser.ts';
import { seedTenant } from '../../helpers/engine.ts';
import { settleOutbound, startConversation } from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';

// The web app in a real browser, through the phone simulator: an owner signs in with the dev
// login, a missed call from the simulator appears in the inbox live (no reload), the owner opens
// it, takes it over, texts the caller (the simulator shows the text), and releases it. The same
// flow runs at phone width. Every page is scanned with axe and photographed.
//
// Most of a flow's time is waiting (the send worker, the sandbox's callbacks, the dialogue's
// replies), not computing: each booking flow runs beside a short page check that does not disturb
// it (its own browser context, no settings changed), on one system and one browser. The two
// booking flows never run together (both take the earliest open time), and the settings change
// and the missed-call timing run alone after them: the hours change cannot move a slot another
// flow is booking, and the timing measures an idle system.

let t: TestSystem;
let browser: Browser;

beforeAll(async () => {
  await ensureWebBuild();
  [t, browser] = await Promise.all([startTestSystem(), launchChromium()]);
});
afterAll(async () => {
  await browser?.close();
  if (t) await settleOutbound(t);
  await t?.stop();
});

async function signIn(context: BrowserContext, role: 'OWNER' | 'TECH'): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${t.baseUrl}/app/dev-login?tenant=demo&role=${role}`);
  await page.getByRole('heading', { name: 'Inbox' }).waitFor();
  await page.getByText('Live', { exact: true }).waitFor();
  return page;
}

function nationalFormat(e164: string): string {
  const d = e164.slice(2);
  return `(${d.slice(0, 3)}) ${d.slice(3, 6)}-${d.slice(6)}`;
}

async function missedCallToTakeover(context: BrowserContext, caller: string, shots: boolean) {
  const inbox = await signIn(context, 'OWNER');
  const phone = await context.newPage();
  await phone.goto(`${t.baseUrl}/app/phone?from=${encodeURIComponent(caller)}`);
  await phone.getByRole('heading', { name: 'Phone simulator' }).waitFor();

  // The missed call: the simulator calls, nobody answers; the inbox shows it without a reload.
  await phone.getByRole('button', { name: 'Call the business (nobody answers)' }).click();
  const row = inbox.getByRole('link', { name: new RegExp(nationalFormat(caller).replace(/[()]/g, '\\$&')) });
  await row.waitFor({ timeout: 5_000 });
  // The caller's phone gets the business's text.
  await phone
    .getByRole('list', { name: 'Texts on this phone' })
    .getByText(/Demo Plumbing/)
    .first()
    .waitFor();
  if (shots) {
    await screenshot(inbox, 'inbox');
    await screenshot(phone, 'phone-simulator');
  }
  await expectNoSeriousA11yViolations(inbox, 'inbox');
  await expectNoSeriousA11yViolations(phone, 'phone simulator');

  // Open it, take it over, text the caller as the owner.
  await row.click();
  await inbox.getByRole('heading', { name: nationalFormat(caller) }).waitFor();
  await inbox.getByRole('button', { name: 'Take over' }).click();
  await inbox.getByText('You have it', { exact: true }).waitFor();
  const text = `Sam here from the office, is 3 PM OK? (${caller.slice(-4)})`;
  await inbox.getByLabel('Text the caller').fill(text);
  // One match exactly (a second would be a strict-mode error): the counter, not any other text.
  await inbox.getByText(/1 segment · GSM-7/).waitFor();
  await inbox.getByRole('button', { name: 'Send' }).click();
  await phone.getByRole('list', { name: 'Texts on this phone' }).getByText(text).waitFor();
  await inbox.getByRole('list', { name: 'Messages' }).getByText(text).waitFor();
  // An internal note: the team sees it; the caller never gets it.
  const note = `Gate code 44${caller.slice(-2)}`;
  await inbox.getByLabel('Add a note for the team').fill(note);
  await inbox.getByRole('button', { name: 'Add note' }).click();
  await inbox.getByRole('list', { name: 'Internal notes' }).getByText(note).waitFor();
  if (shots) await screenshot(inbox, 'thread');
  expect(await phone.getByText(note).count()).toBe(0);
  await expectNoSeriousA11yViolations(inbox, 'thread');

  // Hand it back to the assistant.
  await inbox.getByRole('button', { name: 'Release' }).click();
  await inbox.getByText('The assistant has it', { exact: true }).waitFor();
  return { inbox, phone };
}

/** How long a missed call from `caller` takes to appear in the open inbox, without a reload. */
async function timeToInbox(inbox: Page, phone: Page, caller: string): Promise<number> {
  await phone.goto(`${t.baseUrl}/app/phone?from=${encodeURIComponent(caller)}`);
  await phone.getByRole('heading', { name: 'Phone simulator' }).waitFor();
  const started = Date.now();
  await phone.getByRole('button', { name: 'Call the business (nobody answers)' }).click();
  await inbox
    .getByRole('link', { name: new RegExp(escapeRegExp(nationalFormat(caller))) })
    .waitFor({ timeout: 5_000 });
  return Date.now() - started;
}

/** The caller books through the dialogue from the simulator: a quote, a pick, YES. */
async function callerBooks(phone: Page): Promise<void> {
  const texts = phone.getByRole('list', { name: 'Texts on this phone' });
  const reply = async (body: string, expected: RegExp) => {
    await phone.getByLabel('Reply as the caller').fill(body);
    await phone.getByRole('button', { name: 'Send text' }).click();
    await texts.getByText(expected).first().waitFor();
  };
  await reply('my drain is clogged', /Drain cleaning is \$149\.00/);
  await reply('1', /Reply YES/);
  await reply('yes', /You're booked: Drain cleaning/);
}

/** The calendar shows the caller's appointment (this week, or the next when the time fell there). */
async function calendarShows(page: Page, caller: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Calendar' }).click();
  await page.getByRole('heading', { name: 'Calendar', level: 1 }).waitFor();
  const card = page.getByRole('heading', {
    name: new RegExp(`Drain cleaning for ${escapeRegExp(nationalFormat(caller))}`),
  });
  await page.getByText('Loading appointments…').waitFor({ state: 'detached' });
  if ((await card.count()) === 0) await page.getByRole('button', { name: 'Next' }).click();
  await card.waitFor();
}

function escapeRegExp(text: string): string {
  return text.replace(/[()$.]/g, '\\$&');
}

// Each flow drives several pages with an axe scan on each: 18–27 s alone on 2 cores, measured. The
// suite's 30 s default is sized for one request or one flow through the API, not for these.
const BROWSER_FLOW_MS = 60_000;

describe('the web app at desktop width, end to end in headless Chromium', {
  timeout: BROWSER_FLOW_MS,
}, () => {
  it.concurrent('shows a missed call live, takes it over, texts the caller, releases it, and the booking reaches the calendar (desktop)', async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const caller = '+13105550142';
    const { inbox, phone } = await missedCallToTakeover(context, caller, true);

    await callerBooks(phone);
    await calendarShows(inbox, caller);
    await screenshot(inbox, 'calendar');
    await expectNoSeriousA11yViolations(inbox, 'calendar');
    await context.close();
  });

  it.concurrent('shows a technician no Settings, and staff the staff pages', async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const tech = await signIn(context, 'TECH');
    const nav = tech.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Calendar' }).waitFor();
    expect(await nav.getByRole('link', { name: 'Settings' }).count()).toBe(0);
    await tech.goto(`${t.baseUrl}/app/settings`);
    await tech.getByRole('heading', { name: 'Not found' }).waitFor();

    const staff = await context.newPage();
    await staff.goto(`${t.baseUrl}/app/dev-login?staff=1`);
    await staff.getByRole('heading', { name: 'Staff', level: 1 }).waitFor();
    await staff.getByText('Demo Plumbing').waitFor();
    await screenshot(staff, 'staff');
    await expectNoSeriousA11yViolations(staff, 'staff');
    // The customer's page needs the code from a reminder's link; without it, it says so.
    const portal = await context.newPage();
    await portal.goto(`${t.baseUrl}/app/portal`);
    await portal.getByText('This link is incomplete.', { exact: false }).waitFor();
    await expectNoSeriousA11yViolations(portal, 'customer page');
    await context.close();
  });
});

describe('the web app at phone width (375 px)', { timeout: BROWSER_FLOW_MS }, () => {
  it.concurrent('shows why nothing can be sent in a thread whose business is not approved for texting', async () => {
    const tenant = await seedTenant(t.system.db, { campaign: 'pending' });
    const id = await startConversation(t.system, tenant.id, '+13105550149');
    const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await page.goto(`${t.baseUrl}/app/dev-login?tenant=${tenant.slug}&role=OWNER`);
    await page.getByRole('heading', { name: 'Inbox' }).waitFor();
    await page.goto(`${t.baseUrl}/app/conversations/${id}`);
    const banner = page.getByRole('note', { name: 'Sending is disabled' });
    await banner.getByText(/registration \(10DLC\) is waiting for approval/).waitFor();
    expect(await page.getByLabel('Text the caller').count()).toBe(0);
    await expectNoSeriousA11yViolations(page, 'thread, sending disabled');
    await context.close();
  });

  it.concurrent('shows the settings and staff pages at phone width (375 px)', async () => {
    const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
    const owner = await signIn(context, 'OWNER');
    await owner.goto(`${t.baseUrl}/app/settings`);
    await owner.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    await owner
      .getByRole('form', { name: /^Hours of / })
      .first()
      .waitFor();
    await owner.getByText('Loading…').first().waitFor({ state: 'detached' });
    await screenshot(owner, 'settings');
    // Nothing wider than the phone: no sideways scrolling (the weekly hours once were 509 px).
    expect(await owner.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);
    await expectNoSeriousA11yViolations(owner, 'settings at phone width');
    const staff = await context.newPage();
    await staff.goto(`${t.baseUrl}/app/dev-login?staff=1`);
    await staff.getByRole('heading', { name: 'Staff', level: 1 }).waitFor();
    await staff.getByText('Demo Plumbing').waitFor();
    await screenshot(staff, 'staff');
    expect(await staff.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);
    await expectNoSeriousA11yViolations(staff, 'staff at phone width');
    await context.close();
  });

  it.concurrent('does the same at phone width (375 px)', async () => {
    const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
    const caller = '+13105550143';
    const { inbox } = await missedCallToTakeover(context, caller, true);
    // Here the owner books for the caller from the thread: service, open time, hold, confirm.
    await inbox.getByLabel('Service').selectOption({ index: 1 });
    await inbox.getByLabel('Open time').selectOption({ index: 1 });
    await inbox.getByRole('button', { name: 'Hold this time' }).click();
    await inbox.getByRole('button', { name: 'Confirm booking of Drain cleaning' }).click();
    await inbox
      .getByRole('list', { name: "This caller's appointments" })
      .getByText(/Drain cleaning/)
      .waitFor();
    await calendarShows(inbox, caller);
    await screenshot(inbox, 'calendar');
    await context.close();
  });
});

describe('the web app, alone on the system', { timeout: BROWSER_FLOW_MS }, () => {
  it('offers other times once an owner changes the opening hours in Settings', async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const owner = await signIn(context, 'OWNER');
    const phone = await context.newPage();
    const offers = async (caller: string) => {
      await phone.goto(`${t.baseUrl}/app/phone?from=${encodeURIComponent(caller)}`);
      await phone.getByRole('button', { name: 'Call the business (nobody answers)' }).click();
      const texts = phone.getByRole('list', { name: 'Texts on this phone' });
      await texts
        .getByText(/Demo Plumbing/)
        .first()
        .waitFor();
      await phone.getByLabel('Reply as the caller').fill('my drain is clogged');
      await phone.getByRole('button', { name: 'Send text' }).click();
      return (await texts.getByText(/Drain cleaning is \$149\.00/).textContent()) ?? '';
    };
    const before = await offers('+13105550144');

    await owner.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    const hours = owner.getByRole('form', { name: /^Hours of / }).first();
    for (const day of ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']) {
      if ((await hours.getByLabel(`${day} shift 1 opens`).count()) === 0)
        await hours.getByRole('button', { name: `Add shift on ${day}` }).click();
      await hours.getByLabel(`${day} shift 1 opens`).fill('14:00');
      await hours.getByLabel(`${day} shift 1 closes`).fill('16:00');
    }
    await hours.getByRole('button', { name: /^Save hours of / }).click();
    await owner.getByText('Saved. New offers use these hours.').waitFor();
    // The greeting's live preview names the business and counts its segments.
    await owner.getByLabel('Greeting (open hours)').fill('Hi from {business}! Text us what you need.');
    await owner.getByText('Hi from Demo Plumbing! Text us what you need.').waitFor();
    await owner.getByRole('button', { name: 'Add a reply' }).click();
    await owner.getByLabel('Title').fill('On our way');
    await owner.getByLabel('Text', { exact: true }).fill('Sam here, on our way: about 20 minutes.');
    await owner.getByRole('button', { name: 'Save quick replies' }).click();
    await owner.getByText('Saved.', { exact: true }).waitFor();
    // A new service, then its price and the words callers use for it changed in place.
    const newService = owner.getByRole('form', { name: 'New service' });
    await newService.getByLabel('Name').fill('Water heater flush');
    await newService.getByLabel('Price (USD)').fill('120');
    await newService.getByRole('button', { name: 'Add service' }).click();
    await owner.getByRole('button', { name: 'Edit Water heater flush' }).click();
    const editor = owner.getByRole('form', { name: 'Edit Water heater flush' });
    await editor.getByLabel('Price (USD)').fill('199');
    await editor.getByLabel('Also called (comma-separated)').fill('tank flush, heater service');
    await editor.getByRole('button', { name: 'Save' }).click();
    const services = owner.getByRole('region', { name: 'Services' });
    await services
      .getByText(/Water heater flush · \$199\.00 · 60 min · also “tank flush”, “heater service”/)
      .waitFor();
    // A new worker gets a week to fill in.
    const newResource = owner.getByRole('form', { name: 'New resource' });
    await newResource.getByLabel('New worker or team').fill('Night crew');
    await newResource.getByRole('button', { name: 'Add resource' }).click();
    await owner.getByRole('form', { name: 'Hours of Night crew' }).waitFor();
    // An invitation waits in the team list until that person signs in.
    const invite = owner.getByRole('form', { name: 'Invite someone' });
    await invite.getByLabel('Email').fill('new.tech@example.com');
    await invite.getByRole('button', { name: 'Invite' }).click();
    await owner.getByText('new.tech@example.com (invited)').waitFor();
    await screenshot(owner, 'settings');
    await expectNoSeriousA11yViolations(owner, 'settings');

    const after = await offers('+13105550145');
    expect(after).not.toEqual(before);
    const times = [...after.matchAll(/\d{1,2}:\d\d [AP]M/g)].map((m) => m[0]);
    expect(times).toHaveLength(3);
    for (const time of times) expect(time).toMatch(/^(2|3):\d\d PM$/);
    await context.close();
  });

  it('shows a missed call in the open inbox within a second, without a reload', async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const inbox = await signIn(context, 'OWNER');
    const phone = await context.newPage();
    // The promise is "within a second" (~0.5 s on an idle machine). A machine busy with other test
    // runs can stall one call, so up to two more calls measure again and the best counts; CI holds
    // the app to the second, a developer's shared machine to three.
    const first = await timeToInbox(inbox, phone, '+13105550146');
    let best = first;
    for (const again of ['+13105550147', '+13105550148']) {
      if (best < 1_000) break;
      best = Math.min(best, await timeToInbox(inbox, phone, again));
    }
    console.info(`missed call → inbox row: ${first} ms (best ${best} ms)`);
    expect(best).toBeLessThan(process.env.CI ? 1_000 : 3_000);
    await context.close();
  });
});
