import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTenantBySlug } from '../../../src/persistence/repositories/tenants.ts';
import { DEMO } from '../../../src/persistence/seed-demo.ts';
import { portalLinks } from '../../../src/runtime/portal/portal-links.ts';
import { ensureWebBuild } from '../../../src/web-build.ts';
import {
  DESKTOP,
  expectNoSeriousA11yViolations,
  launchChromium,
  PHONE,
  screenshot,
} from '../../helpers/browser.ts';
import { appOf, call, settleOutbound, startConversation, tokenFor } from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem } from '../../helpers/system.ts';

// The customer's page in a real browser: a caller with two bookings an operator made for their
// conversation (after their missed call) opens the link of the first; the page lists both, the link's marked,
// and the customer cancels the other one from it. Scanned with axe; photographed at 1280 and 375 px.

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
  if (t) await settleOutbound(t);
  await t?.stop();
});

/** An operator books an open time in [after + days, after + days + 7) for the caller's conversation. */
async function operatorBooks(caller: string, after: number, days: number): Promise<string> {
  const owner = await tokenFor(t.system, {
    subject: 'portal_web_owner',
    role: 'OWNER',
    org: DEMO.auth_org_id,
  });
  const api = (method: 'GET' | 'POST', url: string, body?: unknown) =>
    call(appOf(t.system), { method, url, token: owner, ...(body === undefined ? {} : { body }) });
  const { rows } = await t.system.db.query<{ id: string }>(
    `SELECT id FROM conv_conversations WHERE tenant_id = $1 AND caller = $2 AND state <> 'closed'`,
    [tenantId, caller],
  );
  const serviceId = ((await api('GET', '/api/v1/services')).body as { items: { id: string }[] }).items[0]?.id;
  const from = new Date(after + days * 86_400_000).toISOString();
  const to = new Date(after + (days + 7) * 86_400_000).toISOString();
  const open = await api('GET', `/api/v1/availability?service_id=${serviceId}&from=${from}&to=${to}`);
  const slot = (open.body as { items: { resource_id: string; start: string }[] }).items[0];
  const hold = await api('POST', '/api/v1/holds', {
    service_id: serviceId,
    resource_id: slot?.resource_id,
    start: slot?.start,
    conversation_id: rows[0]?.id,
  });
  const confirmed = await api('POST', `/api/v1/holds/${(hold.body as { id: string }).id}/confirm`, {});
  expect(confirmed.status, confirmed.raw).toBe(201);
  return (confirmed.body as { id: string }).id;
}

describe("the customer's page", () => {
  it('lists every upcoming booking of the customer, and cancels the other one from the page', async () => {
    const caller = '+13105550941';
    await startConversation(t.system, tenantId, caller);
    const first = await operatorBooks(caller, Date.now(), 1);
    await operatorBooks(caller, Date.now(), 9);
    const link = await portalLinks({ db: t.system.db, publicBaseUrl: t.baseUrl })({
      tenantId,
      appointmentId: first,
      phone: caller,
    });
    const code = link?.split('/p/')[1] ?? '';

    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(`${t.baseUrl}/app/portal#code=${code}`);
    const list = page.getByRole('list', { name: 'Your upcoming appointments' });
    await list.waitFor();
    await expect.poll(() => list.getByRole('listitem').count()).toBe(2);
    await list.getByRole('listitem').first().getByText('from your link').waitFor();
    await screenshot(page, 'portal');
    await expectNoSeriousA11yViolations(page, 'portal 1280px');
    await page.setViewportSize(PHONE);
    await screenshot(page, 'portal');
    await expectNoSeriousA11yViolations(page, 'portal 375px');

    // Cancel the second (not the link's): it leaves the list, the link's booking stays.
    await list
      .getByRole('listitem')
      .nth(1)
      .getByRole('button', { name: /^Cancel / })
      .click();
    await page.getByText(/^Cancelled /).waitFor();
    await expect.poll(() => list.getByRole('listitem').count()).toBe(1);
    await list.getByText('from your link').waitFor();
    await context.close();
  });
});
