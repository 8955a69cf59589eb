import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TEMPLATES } from '../../../src/domain/templates.ts';
import type { App } from '../../../src/http/app.ts';
import { appOf, call, settleOutbound, tokenFor } from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem, waitFor } from '../../helpers/system.ts';

// The owner's messaging settings: a changed greeting is what the next missed call gets; an empty
// one brings the default back; public booking turns the public API on and off; a TECH may not.

let t: TestSystem;
let app: App;
let owner: string;

beforeAll(async () => {
  t = await startTestSystem();
  app = appOf(t.system);
  owner = await tokenFor(t.system, { subject: 'settings_owner', role: 'OWNER', org: 'org_demo' });
});
afterAll(async () => {
  if (t) await settleOutbound(t);
  await t?.stop();
});

const patch = (body: unknown, token = owner) =>
  call(app, { method: 'PATCH', url: '/api/v1/settings/messaging', token, body });

describe('messaging settings', () => {
  it('sends the new greeting to the next missed call, and the default again once it is emptied', async () => {
    const greeting = 'Hi from {business}! We missed you; text us what you need.';
    const set = await patch({ greeting, greeting_after_hours: greeting });
    expect(set.status, set.raw).toBe(200);
    expect(set.body).toMatchObject({ greeting, greeting_is_default: false });
    const caller = '+13105550181';
    await t.phone.missedCall({ from: caller, to: t.demo.twilio_number ?? '' });
    const text = await waitFor(async () => t.sandbox.messages().find((m) => m.to === caller));
    expect(text.body).toBe('Hi from Demo Plumbing! We missed you; text us what you need.');

    const cleared = await patch({ greeting: '', greeting_after_hours: null });
    expect(cleared.body).toMatchObject({
      greeting: DEFAULT_TEMPLATES.greeting,
      greeting_after_hours: DEFAULT_TEMPLATES.greetingAfterHours,
      greeting_is_default: true,
    });
  });

  it('turns the public booking API off and on', async () => {
    expect((await patch({ public_booking_enabled: false })).status).toBe(200);
    expect((await call(app, { method: 'GET', url: '/api/public/demo/services' })).status).toBe(404);
    const on = await patch({ public_booking_enabled: true });
    expect(on.body).toMatchObject({
      public_booking_enabled: true,
      public_booking_url: `${t.baseUrl}/api/public/demo`,
    });
    expect((await call(app, { method: 'GET', url: '/api/public/demo/services' })).status).toBe(200);
  });

  it('refuses a field it does not know, and changes nothing', async () => {
    const before = await call(app, { method: 'GET', url: '/api/v1/settings/messaging', token: owner });
    const misspelt = await patch({ greting: 'Hello from {business}', public_booking_enabled: false });
    expect(misspelt.status, misspelt.raw).toBe(400);
    expect(misspelt.body).toMatchObject({ error: { code: 'validation_failed' } });
    const after = await call(app, { method: 'GET', url: '/api/v1/settings/messaging', token: owner });
    expect(after.body).toEqual(before.body);
  });

  it('is the owner’s alone', async () => {
    const tech = await tokenFor(t.system, { subject: 'settings_tech', role: 'TECH', org: 'org_demo' });
    expect((await patch({ public_booking_enabled: false }, tech)).status).toBe(403);
  });
});
