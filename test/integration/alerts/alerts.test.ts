import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertReason } from '../../../src/domain/alert-reasons.ts';
import type { CampaignStatus } from '../../../src/machines/conversation-events.ts';
import { inTransaction } from '../../../src/persistence/db.ts';
import { setPolicyValue } from '../../../src/persistence/repositories/policy-values.ts';
import type { Tenant } from '../../../src/persistence/repositories/tenants.ts';
import type { AlertReminderJob } from '../../../src/runtime/alerts/plan-alert-round.ts';
import { createAlertReminder } from '../../../src/runtime/alerts/remind-alert.ts';
import { writeOutboxEvents } from '../../../src/runtime/outbox.ts';
import { seedTenant } from '../../helpers/engine.ts';
import {
  appOf,
  call,
  errorOf,
  settleOutbound,
  startConversation,
  tokenFor,
} from '../../helpers/operator-api.ts';
import { startTestSystem, type TestSystem, waitFor } from '../../helpers/system.ts';

// Alerts reach people, through the whole system: an OperatorAttentionNeeded event committed to the
// outbox is picked up by the running dispatcher, the alert and its texts are decided, the workers
// send them through the real Twilio SDK to the sandbox, and an OK texted back through the signed
// webhook acknowledges. Each case has a tenant of its own, so one case's texts never count against
// another's rate limits.

let t: TestSystem;
let phoneSeq = 0;
const nextPhone = () => `+1310555${String(7000 + ++phoneSeq).padStart(4, '0')}`;

beforeAll(async () => {
  t = await startTestSystem();
});
afterAll(async () => {
  if (t) await settleOutbound(t);
  await t?.stop();
});

type Business = { tenant: Tenant; owner: string };

async function business(
  options: { campaign?: CampaignStatus; forwardingPhone?: string | null; zone?: string } = {},
): Promise<Business> {
  const tenant = await seedTenant(t.system.db, {
    campaign: options.campaign ?? 'approved',
    forwarding_phone: options.forwardingPhone ?? null,
    time_zone: options.zone ?? 'America/Los_Angeles',
  });
  const owner = await tokenFor(t.system, {
    subject: `owner_${randomUUID()}`,
    role: 'OWNER',
    org: tenant.auth_org_id,
  });
  return { tenant, owner };
}

/** A TECH who opted in to alert texts on `phone` (set through their own settings route). */
async function member(
  b: Business,
  phone: string,
  quiet: { start: string; end: string } | null = null,
): Promise<{ token: string; userId: string }> {
  const token = await tokenFor(t.system, {
    subject: `tech_${randomUUID()}`,
    role: 'TECH',
    org: b.tenant.auth_org_id,
  });
  const res = await call(appOf(t.system), {
    method: 'PUT',
    url: '/api/v1/me/alerts',
    token,
    body: { phone, alerts_enabled: true, quiet_hours: quiet },
  });
  expect(res.status, res.raw).toBe(200);
  return { token, userId: (res.body as { user_id: string }).user_id };
}

/** Commits an OperatorAttentionNeeded event as the dialogue would; returns its event id. */
async function raise(tenantId: string, conversationId: string, reason: AlertReason): Promise<string> {
  const [envelope] = await inTransaction(t.system.db, (client) =>
    writeOutboxEvents(client, [
      {
        tenantId,
        name: 'nmc.conversation.OperatorAttentionNeeded',
        payload: { conversation_id: conversationId, reason },
        occurredAt: new Date().toISOString(),
        correlationId: `test-${randomUUID()}`,
        causationId: null,
      },
    ]),
  );
  if (!envelope) throw new Error('no event written');
  return envelope.event_id;
}

type AlertTextRow = {
  id: string;
  alert_id: string;
  to_phone: string;
  round: number;
  status: string;
  skip_reason: string | null;
  failure_reason: string | null;
  send_after: Date;
  body: string;
};

/** The alert an event raised, once the dispatcher has recorded it, with its texts. */
async function alertOf(tenantId: string, eventId: string): Promise<{ id: string; texts: AlertTextRow[] }> {
  const id = await waitFor(async () => {
    const { rows } = await t.system.db.query<{ id: string }>(
      'SELECT id FROM conv_alerts WHERE tenant_id = $1 AND source_event_id = $2',
      [tenantId, eventId],
    );
    return rows[0]?.id;
  });
  return { id, texts: await textsOf(tenantId, id) };
}

async function textsOf(tenantId: string, alertId: string): Promise<AlertTextRow[]> {
  const { rows } = await t.system.db.query<AlertTextRow>(
    `SELECT id, alert_id, to_phone, round, status, skip_reason, failure_reason, send_after, body
     FROM conv_alert_texts WHERE tenant_id = $1 AND alert_id = $2 ORDER BY round, to_phone`,
    [tenantId, alertId],
  );
  return rows;
}

const textsTo = (phone: string) => t.sandbox.messages().filter((m) => m.to === phone);

/** Waits until every queued alert text of the tenant has left or been settled otherwise. */
async function settled(tenantId: string): Promise<void> {
  await waitFor(async () => {
    const { rows } = await t.system.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM conv_alert_texts WHERE tenant_id = $1 AND status IN ('sending') OR (tenant_id = $1 AND status = 'queued' AND send_after <= now())",
      [tenantId],
    );
    return rows[0]?.n === 0;
  });
}

async function reminderJobs(alertId: string): Promise<AlertReminderJob[]> {
  const { rows } = await t.system.db.query<{ data: AlertReminderJob }>(
    "SELECT data FROM pgboss.job WHERE name = 'alert-reminder' AND data->>'alert_id' = $1 ORDER BY created_on",
    [alertId],
  );
  return rows.map((r) => r.data);
}

/** Quiet hours around the tenant's present local time (an hour either side). */
function quietNow(zone: string): { start: string; end: string } {
  const local = DateTime.now().setZone(zone);
  const at = (minutes: number) => {
    const m = (((local.hour * 60 + local.minute + minutes) % 1440) + 1440) % 1440;
    return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  };
  return { start: at(-60), end: at(60) };
}

describe('who gets alert texts', () => {
  it("texts the owner's forwarding phone when no member opted in: the reason and the link, never the customer's words", async () => {
    const ownerPhone = nextPhone();
    const b = await business({ forwardingPhone: ownerPhone });
    const caller = nextPhone();
    const conversation = await startConversation(t.system, b.tenant.id, caller);
    const secret = `basement flooding near the boiler ${randomUUID().slice(0, 8)}`;
    await t.phone.sms({ from: caller, to: b.tenant.twilio_number ?? '', body: secret });

    const alert = await alertOf(b.tenant.id, await raise(b.tenant.id, conversation, 'handover_requested'));
    const sent = await waitFor(async () => textsTo(ownerPhone)[0]);
    expect(alert.texts.map((x) => x.to_phone)).toEqual([ownerPhone]);
    expect(sent?.from).toBe(b.tenant.twilio_number);
    expect(sent?.body).toContain('asked to talk to a person');
    expect(sent?.body).toContain(`${t.baseUrl}/app/conversations/${conversation}`);
    expect(sent?.body).not.toContain(secret);
    expect(sent?.body).not.toContain('flooding');
    expect(sent?.body).not.toContain(caller);
    expect(sent?.statusCallback).toBeNull();
  });

  it('texts the members who opted in instead of the owner, and an event delivered twice raises one alert', async () => {
    const ownerPhone = nextPhone();
    const b = await business({ forwardingPhone: ownerPhone });
    const [p1, p2] = [nextPhone(), nextPhone()];
    await member(b, p1);
    await member(b, p2);
    const conversation = await startConversation(t.system, b.tenant.id, nextPhone());
    const eventId = await raise(b.tenant.id, conversation, 'complaint');
    const alert = await alertOf(b.tenant.id, eventId);
    expect(alert.texts.map((x) => x.to_phone).sort()).toEqual([p1, p2].sort());
    await waitFor(async () => textsTo(p1).length === 1 && textsTo(p2).length === 1);
    expect(textsTo(ownerPhone)).toEqual([]);

    // The dispatcher delivers at least once: the same event again changes nothing.
    await t.system.db.query('DELETE FROM outbox_consumptions WHERE tenant_id = $1 AND event_id = $2', [
      b.tenant.id,
      eventId,
    ]);
    await t.system.db.query(
      'UPDATE outbox_events SET dispatched_at = NULL WHERE tenant_id = $1 AND event_id = $2',
      [b.tenant.id, eventId],
    );
    await t.system.db.query("SELECT pg_notify('nmc_outbox', '')");
    await waitFor(async () => {
      const { rows } = await t.system.db.query(
        'SELECT 1 FROM outbox_events WHERE tenant_id = $1 AND event_id = $2 AND dispatched_at IS NOT NULL',
        [b.tenant.id, eventId],
      );
      return rows.length === 1;
    });
    const { rows } = await t.system.db.query('SELECT id FROM conv_alerts WHERE tenant_id = $1', [
      b.tenant.id,
    ]);
    expect(rows).toHaveLength(1);
    expect(await textsOf(b.tenant.id, alert.id)).toHaveLength(2);
  });
});

describe('quiet hours', () => {
  it('texts an emergency at once during quiet hours, and holds a non-urgent alert until they end', async () => {
    const zone = 'America/Los_Angeles';
    const b = await business({ zone });
    const phone = nextPhone();
    const quiet = quietNow(zone);
    await member(b, phone, quiet);

    const flood = await startConversation(t.system, b.tenant.id, nextPhone());
    const urgent = await alertOf(b.tenant.id, await raise(b.tenant.id, flood, 'emergency'));
    await waitFor(async () => textsTo(phone).length === 1);
    expect(textsTo(phone)[0]?.body).toMatch(/^URGENT: /);
    expect(urgent.texts[0]?.status).toMatch(/queued|sending|sent/);

    const unhappy = await startConversation(t.system, b.tenant.id, nextPhone());
    const calm = await alertOf(b.tenant.id, await raise(b.tenant.id, unhappy, 'complaint'));
    const held = calm.texts[0];
    expect(held?.status).toBe('queued');
    // Held until the end of the quiet hours: about an hour from now, in the tenant's zone.
    const expectedEnd = DateTime.fromFormat(quiet.end, 'HH:mm', { zone }).toMillis();
    const end = held?.send_after.getTime() ?? 0;
    expect([expectedEnd, expectedEnd + 86_400_000]).toContain(end);
    expect(end - Date.now()).toBeGreaterThan(55 * 60_000);
    const { rows: jobs } = await t.system.db.query<{ start_after: Date }>(
      "SELECT start_after FROM pgboss.job WHERE name = 'alert-send' AND data->>'text_id' = $1",
      [held?.id],
    );
    expect(jobs.map((j) => j.start_after.getTime())).toEqual([end]);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(textsTo(phone)).toHaveLength(1);

    // Acknowledged before morning: the held text will never leave.
    const ack = await call(appOf(t.system), {
      method: 'POST',
      url: `/api/v1/alerts/${calm.id}/ack`,
      token: b.owner,
    });
    expect(ack.status, ack.raw).toBe(200);
    expect((await textsOf(b.tenant.id, calm.id))[0]?.status).toBe('cancelled');
  });
});

describe('rate limits', () => {
  it('sends one text per conversation per person within the window, and at most the hourly cap', async () => {
    const b = await business();
    const phone = nextPhone();
    await member(b, phone);
    await setPolicyValue(t.system.db, b.tenant.id, 'alerts.hourly_cap', 2);

    const first = await startConversation(t.system, b.tenant.id, nextPhone());
    const a1 = await alertOf(b.tenant.id, await raise(b.tenant.id, first, 'handover_requested'));
    const a2 = await alertOf(b.tenant.id, await raise(b.tenant.id, first, 'complaint'));
    expect(a1.texts[0]?.status).not.toBe('skipped');
    expect(a2.texts[0]).toMatchObject({ status: 'skipped', skip_reason: 'conversation_window' });

    const second = await startConversation(t.system, b.tenant.id, nextPhone());
    const third = await startConversation(t.system, b.tenant.id, nextPhone());
    const a3 = await alertOf(b.tenant.id, await raise(b.tenant.id, second, 'out_of_scope'));
    const a4 = await alertOf(b.tenant.id, await raise(b.tenant.id, third, 'emergency'));
    expect(a3.texts[0]?.status).not.toBe('skipped');
    expect(a4.texts[0]).toMatchObject({ status: 'skipped', skip_reason: 'hourly_cap' });

    await settled(b.tenant.id);
    expect(textsTo(phone)).toHaveLength(2);
    // Every alert is still listed as needing attention, texted or not.
    const open = await call(appOf(t.system), {
      method: 'GET',
      url: '/api/v1/alerts?state=open',
      token: b.owner,
    });
    expect((open.body as { items: unknown[] }).items).toHaveLength(4);
    const ofFirst = await call(appOf(t.system), {
      method: 'GET',
      url: `/api/v1/alerts?state=open&conversation_id=${first}&limit=1`,
      token: b.owner,
    });
    const page = ofFirst.body as { items: Array<{ id: string }>; next_cursor: string | null };
    expect(page.items.map((a) => a.id)).toEqual([a2.id]);
    const rest = await call(appOf(t.system), {
      method: 'GET',
      url: `/api/v1/alerts?state=open&conversation_id=${first}&cursor=${page.next_cursor}`,
      token: b.owner,
    });
    expect((rest.body as { items: Array<{ id: string }> }).items.map((a) => a.id)).toEqual([a1.id]);
  });
});

describe('acknowledging', () => {
  it('reminds while unacknowledged, and an acknowledgement in the app stops the reminders', async () => {
    const b = await business();
    const phone = nextPhone();
    await member(b, phone);
    const conversation = await startConversation(t.system, b.tenant.id, nextPhone());
    const alert = await alertOf(
      b.tenant.id,
      await raise(b.tenant.id, conversation, 'repeated_misunderstanding'),
    );
    await waitFor(async () => textsTo(phone).length === 1);

    // The reminder job is due in 15 minutes; run it as the worker would then.
    const [job] = await reminderJobs(alert.id);
    expect(job).toEqual({ tenant_id: b.tenant.id, alert_id: alert.id, round: 1 });
    const later = createAlertReminder({
      db: t.system.db,
      boss: t.system.boss,
      publicBaseUrl: t.baseUrl,
      now: () => Date.now() + 16 * 60_000,
    });
    expect(await later(job as AlertReminderJob)).toBe('reminded');
    await waitFor(async () => textsTo(phone).length === 2);
    expect(textsTo(phone)[1]?.body).toMatch(/^Reminder: /);
    expect((await reminderJobs(alert.id)).map((j) => j.round)).toEqual([1, 2]);

    const ack = await call(appOf(t.system), {
      method: 'POST',
      url: `/api/v1/alerts/${alert.id}/ack`,
      token: b.owner,
    });
    expect(ack.status, ack.raw).toBe(200);
    expect(ack.body).toMatchObject({ id: alert.id, state: 'acknowledged', acknowledged_via: 'app' });
    expect(await later({ ...(job as AlertReminderJob), round: 2 })).toBe('acknowledged');
    expect(await reminderJobs(alert.id)).toHaveLength(2);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(textsTo(phone)).toHaveLength(2);
    const open = await call(appOf(t.system), {
      method: 'GET',
      url: '/api/v1/alerts?state=open',
      token: b.owner,
    });
    expect((open.body as { items: unknown[] }).items).toEqual([]);
  });

  it('takes "OK" from the member\'s phone as an acknowledgement, not as a customer text', async () => {
    const b = await business();
    const phone = nextPhone();
    await member(b, phone);
    const conversation = await startConversation(t.system, b.tenant.id, nextPhone());
    const alert = await alertOf(b.tenant.id, await raise(b.tenant.id, conversation, 'handover_requested'));
    await waitFor(async () => textsTo(phone).length === 1);

    const reply = await t.phone.sms({ from: phone, to: b.tenant.twilio_number ?? '', body: 'ok' });
    expect(reply.response.status).toBe(200);
    const { rows } = await t.system.db.query<{
      state: string;
      acknowledged_via: string;
      acknowledged_by: string;
    }>('SELECT state, acknowledged_via, acknowledged_by FROM conv_alerts WHERE tenant_id = $1 AND id = $2', [
      b.tenant.id,
      alert.id,
    ]);
    expect(rows[0]).toEqual({ state: 'acknowledged', acknowledged_via: 'sms', acknowledged_by: phone });
    const conversations = await t.system.db.query(
      'SELECT id FROM conv_conversations WHERE tenant_id = $1 AND caller = $2',
      [b.tenant.id, phone],
    );
    expect(conversations.rows).toEqual([]);
    // The same webhook delivered again is still not a customer text.
    await t.phone.sms({
      from: phone,
      to: b.tenant.twilio_number ?? '',
      body: 'ok',
      messageSid: reply.messageSid,
    });
    expect(
      (
        await t.system.db.query('SELECT id FROM conv_conversations WHERE tenant_id = $1 AND caller = $2', [
          b.tenant.id,
          phone,
        ])
      ).rows,
    ).toEqual([]);
    const remind = createAlertReminder({ db: t.system.db, boss: t.system.boss, publicBaseUrl: t.baseUrl });
    expect(await remind({ tenant_id: b.tenant.id, alert_id: alert.id, round: 1 })).toBe('acknowledged');

    // With nothing open, an OK from that phone is an ordinary text again.
    await t.phone.sms({ from: phone, to: b.tenant.twilio_number ?? '', body: 'OK' });
    const now = await t.system.db.query(
      'SELECT id FROM conv_conversations WHERE tenant_id = $1 AND caller = $2',
      [b.tenant.id, phone],
    );
    expect(now.rows).toHaveLength(1);
  });

  it("answers another tenant's alert id as not found, and leaves it open", async () => {
    const mine = await business();
    const theirs = await business({ forwardingPhone: nextPhone() });
    const conversation = await startConversation(t.system, theirs.tenant.id, nextPhone());
    const alert = await alertOf(theirs.tenant.id, await raise(theirs.tenant.id, conversation, 'complaint'));
    const res = await call(appOf(t.system), {
      method: 'POST',
      url: `/api/v1/alerts/${alert.id}/ack`,
      token: mine.owner,
    });
    expect(res.status).toBe(404);
    expect(errorOf(res).code).toBe('not_found');
    const { rows } = await t.system.db.query(
      'SELECT state FROM conv_alerts WHERE tenant_id = $1 AND id = $2',
      [theirs.tenant.id, alert.id],
    );
    expect(rows[0]).toEqual({ state: 'open' });
  });
});

describe('the 10DLC gate', () => {
  it('sends nothing from a business whose campaign is not approved; the alert is still listed', async () => {
    const ownerPhone = nextPhone();
    const b = await business({ campaign: 'pending', forwardingPhone: ownerPhone });
    const conversation = await startConversation(t.system, b.tenant.id, nextPhone());
    const alert = await alertOf(b.tenant.id, await raise(b.tenant.id, conversation, 'emergency'));
    const [text] = await waitFor(async () => {
      const texts = await textsOf(b.tenant.id, alert.id);
      return texts[0]?.status === 'failed' ? texts : null;
    });
    expect(text?.failure_reason).toBe('campaign_not_approved');
    expect(textsTo(ownerPhone)).toEqual([]);
    const open = await call(appOf(t.system), {
      method: 'GET',
      url: '/api/v1/alerts?state=open',
      token: b.owner,
    });
    expect((open.body as { items: Array<{ id: string; reason: string; urgent: boolean }> }).items).toEqual([
      expect.objectContaining({ id: alert.id, reason: 'emergency', urgent: true }),
    ]);
  });
});

describe('alert settings', () => {
  it("lets a user set their own and an OWNER set anyone's; refuses a bad phone or quiet hours with 400", async () => {
    const b = await business();
    const tech = await member(b, nextPhone());
    const app = appOf(t.system);
    const byOwner = await call(app, {
      method: 'PUT',
      url: `/api/v1/users/${tech.userId}/alerts`,
      token: b.owner,
      body: { phone: '(310) 555-0199', alerts_enabled: true, quiet_hours: { start: '21:30', end: '06:45' } },
    });
    expect(byOwner.status, byOwner.raw).toBe(200);
    expect(byOwner.body).toEqual({
      user_id: tech.userId,
      phone: '+13105550199',
      alerts_enabled: true,
      quiet_hours: { start: '21:30', end: '06:45' },
    });
    const mine = await call(app, { method: 'GET', url: '/api/v1/me/alerts', token: tech.token });
    expect(mine.body).toEqual(byOwner.body);

    // X-Idempotency-Key: the same request again gets the stored answer; another body with it, 422.
    const key = { 'x-idempotency-key': `alerts-${randomUUID()}` };
    const change = { phone: '+13105550198', alerts_enabled: false, quiet_hours: null };
    const once = await call(app, {
      method: 'PUT',
      url: '/api/v1/me/alerts',
      token: tech.token,
      body: change,
      headers: key,
    });
    const again = await call(app, {
      method: 'PUT',
      url: '/api/v1/me/alerts',
      token: tech.token,
      body: change,
      headers: key,
    });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(once.body);
    const reused = await call(app, {
      method: 'PUT',
      url: '/api/v1/me/alerts',
      token: tech.token,
      body: { ...change, alerts_enabled: true },
      headers: key,
    });
    expect(reused.status).toBe(422);
    expect(errorOf(reused).code).toBe('idempotency_key_reused');

    const bad = [
      { phone: 'not a phone', alerts_enabled: true, quiet_hours: null },
      { phone: null, alerts_enabled: true, quiet_hours: null },
      { phone: '+13105550199', alerts_enabled: true, quiet_hours: { start: '25:00', end: '06:00' } },
      { phone: '+13105550199', alerts_enabled: true, quiet_hours: null, extra: 1 },
    ];
    for (const body of bad) {
      const res = await call(app, { method: 'PUT', url: '/api/v1/me/alerts', token: tech.token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(errorOf(res).code).toBe('validation_failed');
    }
    const techOnOther = await call(app, {
      method: 'PUT',
      url: `/api/v1/users/${tech.userId}/alerts`,
      token: tech.token,
      body: { phone: null, alerts_enabled: false, quiet_hours: null },
    });
    expect(techOnOther.status).toBe(403);
    // The audit row is written once the response is known (onResponse), so it may land just after.
    const audited = await waitFor(async () => {
      const { rows } = await t.system.db.query<{ action: string; result: string }>(
        "SELECT action, result FROM audit_logs WHERE tenant_id = $1 AND action IN ('alerts.settings', 'users.manage')",
        [b.tenant.id],
      );
      return rows.some((r) => r.result === 'forbidden') ? rows : null;
    });
    expect(audited).toEqual(
      expect.arrayContaining([
        { action: 'alerts.settings', result: 'success' },
        { action: 'users.manage', result: 'success' },
        { action: 'users.manage', result: 'forbidden' },
      ]),
    );
  });
});
