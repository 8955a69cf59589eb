import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuild } from '../../../src/web-build.ts';
import { expectNoSeriousA11yViolations, launchChromium, PHONE, screenshot } from '../../helpers/browser.ts';
import { settleOutbound } from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem, waitFor } from '../../helpers/system.ts';

// A business signs itself up in a real browser, at phone width: the dev login of a brand-new
// organisation opens the wizard; the owner names the business, verifies the forwarding phone with
// the code the Twilio sandbox carried, picks a number in its area code, pays on the Stripe
// sandbox's checkout page, and lands in the new business's inbox. A missed call to the new number
// is then texted from that number and shows up in that inbox. Each step is scanned with axe and
// photographed at 375 px.

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

const FORWARDING = '+13125550187';

function nationalFormat(e164: string): string {
  const d = e164.slice(2);
  return `(${d.slice(0, 3)}) ${d.slice(3, 6)}-${d.slice(6)}`;
}

async function step(page: Page, name: string) {
  await expectNoSeriousA11yViolations(page, name);
  await screenshot(page, name);
}

// One page walks the whole signup; each step is its own test, in order.
describe('self-serve onboarding in the browser (375 px)', () => {
  let page: Page;
  let picked = '';

  it('opens the wizard for the admin of a new organisation', async () => {
    const context = await browser.newContext({ viewport: PHONE });
    page = await context.newPage();
    await page.goto(`${t.baseUrl}/app/dev-login?new=1`);
    await page.getByRole('heading', { name: 'Set up NeverMissCall' }).waitFor();
  });

  it('names the business', async () => {
    await page.getByLabel('Business name').fill('Lakeside Electric');
    await page.getByLabel('Time zone').selectOption('America/Chicago');
    await page.getByLabel('Trade').selectOption('electrical');
    await step(page, 'onboarding-business');
    await page.getByRole('button', { name: 'Save business' }).click();
    await page.getByLabel('The phone your business calls ring on').waitFor();
    // The slug made from the name is what was saved.
    expect(await page.getByLabel('Web address (slug)').inputValue()).toBe('lakeside-electric');
  });

  it('verifies the forwarding phone with the code texted to it', async () => {
    await page.getByLabel('The phone your business calls ring on').fill(nationalFormat(FORWARDING));
    await page.getByRole('button', { name: 'Text me a code' }).click();
    await page.getByText(/We texted a 6-digit code/).waitFor();
    const code = /\b(\d{6})\b/.exec(
      t.sandbox.messages().findLast((m) => m.to === FORWARDING)?.body ?? '',
    )?.[1];
    if (!code) throw new Error('no code texted to the forwarding phone');
    await step(page, 'onboarding-phone');
    await page.getByLabel('Code').fill(code);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByText(`Verified: ${nationalFormat(FORWARDING)}`).waitFor();
  });

  it("picks a number in the forwarding phone's area code", async () => {
    await page.getByRole('button', { name: 'Find numbers' }).click();
    const choices = page.getByRole('list', { name: 'Available numbers' }).getByRole('button');
    await choices.first().waitFor();
    const label = (await choices.first().textContent()) ?? '';
    picked = `+1${label.replace(/\D/g, '')}`;
    expect(picked).toMatch(/^\+1312\d{7}$/);
    await choices.first().click();
    await page.getByText(`Chosen: ${nationalFormat(picked)}`).waitFor();
    await step(page, 'onboarding-number');
  });

  it("pays on the Stripe sandbox's checkout page and lands in the new business's inbox", async () => {
    await page.getByRole('button', { name: 'Pay for Starter' }).click();
    await page.getByRole('button', { name: 'Pay (no card needed)' }).click();
    await page.getByRole('link', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Inbox' }).waitFor({ timeout: 15_000 });
    await expect.poll(() => page.getByText('Lakeside Electric').count()).toBeGreaterThan(0);
    await step(page, 'onboarding-done-inbox');
  });

  it('its new number texts back a missed caller, who shows up in its inbox', async () => {
    // Convergence buys the picked number; a missed call to it is texted from it and shows in the inbox.
    const tenant = await waitFor(async () => {
      const { rows } = await t.system.db.query<{ twilio_number: string | null }>(
        "SELECT twilio_number FROM id_tenants WHERE slug = 'lakeside-electric'",
      );
      return rows[0]?.twilio_number ?? null;
    }, 30_000);
    expect(tenant).toBe(picked);
    await waitFor(async () => {
      const { rows } = await t.system.db.query(
        `SELECT 1 FROM prov_desired_states d JOIN id_tenants t ON t.id = d.tenant_id
         WHERE t.slug = 'lakeside-electric' AND d.converged_at IS NOT NULL`,
      );
      return rows.length > 0 ? true : null;
    }, 30_000);
    const caller = '+17735550164';
    await t.phone.missedCall({ from: caller, to: picked });
    const text = await waitFor(
      async () => t.sandbox.messages().find((m) => m.to === caller && m.from === picked) ?? null,
      15_000,
    );
    expect(text.body).toContain('Lakeside Electric');
    await page
      .getByRole('link', { name: new RegExp(nationalFormat(caller).replace(/[()]/g, '\\$&')) })
      .waitFor({ timeout: 10_000 });
  }, 60_000);
});
