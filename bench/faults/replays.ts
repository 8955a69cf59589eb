import { existsSync } from 'node:fs';
import Stripe from 'stripe';
import { setPolicyValue } from '../../src/persistence/repositories/policy-values.ts';
import { findTenantBySlug } from '../../src/persistence/repositories/tenants.ts';
import { DEMO } from '../../src/persistence/seed-demo.ts';
import { openDevIssuerFor } from '../../src/providers/auth/operator-auth.ts';
import { SANDBOX_STRIPE } from '../../src/providers/stripe/account.ts';
import { SANDBOX_ACCOUNT } from '../../src/providers/twilio/account.ts';
import { postSignedForm } from '../../src/providers/twilio/sandbox/signed-form-post.ts';
import { signTwilioRequest } from '../../src/providers/twilio/signature.ts';
import {
  callerNumbers,
  callParams,
  count,
  dialStatusParams,
  type RunContext,
  rememberSecret,
  type ScenarioResult,
  sleep,
  smsParams,
  startInProcess,
  twilioPoster,
  twilioSid,
  waitUntil,
} from './common.ts';

// Scenario 1 — replays. Every webhook kind is delivered 3× in a row (identity A) and 10× at once
// (identity B, where the first delivery races the others), and once for a control identity C. Each
// identity's effects (rows in conv_calls, conv_messages, webhook_events, outbox_events, SMS at the
// sandbox) must equal the control's: one effect, whatever the number of deliveries.

type Effects = Record<string, number>;

const STRIPE_ROUTE = new URL('../../src/http/routes/stripe-webhook.ts', import.meta.url);

export async function runReplays(ctx: RunContext): Promise<ScenarioResult> {
  const started = Date.now();
  const figures: string[] = [];
  const findings: string[] = [];
  let ok = true;
  const url = await ctx.database('replays');
  const sys = await startInProcess(ctx, 'replays-system', url);
  try {
    const { system, baseUrl } = sys;
    const db = system.db;
    const sandbox = system.twilioSandbox;
    if (!sandbox) throw new Error('the replay system must run on its own Twilio sandbox');
    const demo = await findTenantBySlug(db, DEMO.slug);
    if (!demo) throw new Error('demo tenant missing');
    await setPolicyValue(db, demo.id, 'calls.min_ring_seconds', 0);
    const post = twilioPoster({ appBaseUrl: baseUrl, authToken: SANDBOX_ACCOUNT.authToken });
    const sid = SANDBOX_ACCOUNT.accountSid;
    const to = DEMO.twilio_number;
    const callers = callerNumbers('213', 20, 101);
    let next = 0;
    const caller = () => callers[next++] as string;

    async function settle(): Promise<void> {
      await waitUntil(async () => {
        const pending = await count(
          db,
          "pgboss.job WHERE name = 'sms-send' AND state IN ('created','retry','active')",
        );
        const inFlight = await count(
          db,
          "conv_messages WHERE direction = 'out' AND status IN ('queued','sending','sent')",
        );
        return pending === 0 && inFlight === 0;
      }, 15_000);
      await sleep(300);
    }

    async function effectsOf(callerNumber: string, key: string): Promise<Effects> {
      const conv = `(SELECT id FROM conv_conversations WHERE tenant_id = $1 AND caller = $2)`;
      return {
        conv_calls: await count(db, 'conv_calls WHERE tenant_id = $1 AND caller = $2', [
          demo!.id,
          callerNumber,
        ]),
        conversations: await count(db, 'conv_conversations WHERE tenant_id = $1 AND caller = $2', [
          demo!.id,
          callerNumber,
        ]),
        messages_in: await count(
          db,
          `conv_messages WHERE tenant_id = $1 AND direction = 'in' AND conversation_id IN ${conv}`,
          [demo!.id, callerNumber],
        ),
        messages_out: await count(
          db,
          `conv_messages WHERE tenant_id = $1 AND direction = 'out' AND conversation_id IN ${conv}`,
          [demo!.id, callerNumber],
        ),
        sandbox_sms: sandbox!.messages().filter((m) => m.to === callerNumber).length,
        webhook_events: await count(db, 'webhook_events WHERE event_key LIKE $1', [`%${key}%`]),
        outbox_events: await count(
          db,
          `outbox_events WHERE tenant_id = $1 AND (payload->>'conversation_id' IN (SELECT id::text FROM conv_conversations WHERE tenant_id = $1 AND caller = $2) OR causation_id = $3)`,
          [demo!.id, callerNumber, key],
        ),
      };
    }

    async function deliver(times: number, concurrent: boolean, send: () => Promise<{ status: number }>) {
      const statuses: number[] = [];
      if (concurrent) {
        statuses.push(
          ...(await Promise.all(Array.from({ length: times }, () => send()))).map((r) => r.status),
        );
      } else {
        for (let i = 0; i < times; i++) statuses.push((await send()).status);
      }
      return statuses;
    }

    function compare(kind: string, control: Effects, a: Effects, b: Effects, statuses: number[]): void {
      const diffs: string[] = [];
      for (const [name, value] of Object.entries(control)) {
        if (a[name] !== value) diffs.push(`3× ${name}=${a[name]} (control ${value})`);
        if (b[name] !== value) diffs.push(`10× ${name}=${b[name]} (control ${value})`);
      }
      const bad = statuses.filter((s) => s >= 500);
      if (bad.length > 0) diffs.push(`${bad.length} deliveries answered ${[...new Set(bad)].join('/')}`);
      const summary = Object.entries(control)
        .filter(([, v]) => v > 0)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      figures.push(`${kind}: ${diffs.length === 0 ? 'one effect' : 'DUPLICATE'} (${summary})`);
      if (diffs.length > 0) {
        ok = false;
        findings.push(`replay ${kind}: ${diffs.join('; ')}`);
      }
    }

    // --- voice ---------------------------------------------------------------------------------
    {
      const run = async (times: number, concurrent: boolean) => {
        const from = caller();
        const callSid = twilioSid('CA');
        const statuses = await deliver(times, concurrent, () =>
          post('/webhooks/twilio/voice', callParams(sid, callSid, from, to, 'ringing')),
        );
        await settle();
        return { effects: await effectsOf(from, callSid), statuses };
      };
      const control = await run(1, false);
      const a = await run(3, false);
      const b = await run(10, true);
      compare('voice', control.effects, a.effects, b.effects, [...a.statuses, ...b.statuses]);
    }

    // --- dial-status (a missed call: conversation, greeting SMS, events) ----------------------
    {
      const run = async (times: number, concurrent: boolean) => {
        const from = caller();
        const callSid = twilioSid('CA');
        await post('/webhooks/twilio/voice', callParams(sid, callSid, from, to, 'ringing'));
        const params = dialStatusParams(sid, callSid, from, to);
        const statuses = await deliver(times, concurrent, () =>
          post('/webhooks/twilio/voice/dial-status', params),
        );
        await settle();
        return { effects: await effectsOf(from, callSid), statuses };
      };
      const control = await run(1, false);
      const a = await run(3, false);
      const b = await run(10, true);
      compare('dial-status', control.effects, a.effects, b.effects, [...a.statuses, ...b.statuses]);
      if ((control.effects.sandbox_sms ?? 0) !== 1) {
        ok = false;
        findings.push(
          `dial-status control: expected 1 SMS to the caller, got ${control.effects.sandbox_sms}`,
        );
      }
    }

    // --- inbound SMS ---------------------------------------------------------------------------
    {
      let n = 0;
      const run = async (times: number, concurrent: boolean) => {
        const from = caller();
        const messageSid = twilioSid('SM');
        const params = smsParams(
          sid,
          messageSid,
          from,
          to,
          `do you fix a leaking water heater ref ${++n}x${messageSid.slice(2, 10)}`,
        );
        const statuses = await deliver(times, concurrent, () => post('/webhooks/twilio/sms', params));
        await settle();
        return { effects: await effectsOf(from, messageSid), statuses };
      };
      const control = await run(1, false);
      const a = await run(3, false);
      const b = await run(10, true);
      compare('sms inbound', control.effects, a.effects, b.effects, [...a.statuses, ...b.statuses]);
    }

    // --- SMS status callbacks (the sandbox's own callbacks for the message are dropped first) ------
    {
      const run = async (times: number, concurrent: boolean) => {
        const from = caller();
        const callSid = twilioSid('CA');
        await post('/webhooks/twilio/voice', callParams(sid, callSid, from, to, 'ringing'));
        sandbox.dropNextCallbacks(2);
        await post('/webhooks/twilio/voice/dial-status', dialStatusParams(sid, callSid, from, to));
        const message = await waitUntil(
          () => sandbox.messages().find((m) => m.to === from && m.status === 'delivered'),
          10_000,
        );
        if (!message?.statusCallback) throw new Error('no SMS (with a status callback) reached the sandbox');
        const params: Record<string, string> = {
          AccountSid: sid,
          ApiVersion: '2010-04-01',
          MessageSid: message.sid,
          MessageStatus: 'delivered',
          SmsSid: message.sid,
          SmsStatus: 'delivered',
          From: to,
          To: from,
        };
        const signature = signTwilioRequest(SANDBOX_ACCOUNT.authToken, message.statusCallback, params);
        rememberSecret(signature, 'signature');
        const statuses = await deliver(times, concurrent, () =>
          postSignedForm({
            url: message.statusCallback!,
            authToken: SANDBOX_ACCOUNT.authToken,
            params,
            signature,
          }),
        );
        await settle();
        const effects = await effectsOf(from, message.sid);
        const { rows } = await db.query<{ status: string }>(
          'SELECT status FROM conv_messages WHERE provider_sid = $1',
          [message.sid],
        );
        effects.delivered = rows[0]?.status === 'delivered' ? 1 : 0;
        return { effects, statuses };
      };
      const control = await run(1, false);
      const a = await run(3, false);
      const b = await run(10, true);
      compare('sms status', control.effects, a.effects, b.effects, [...a.statuses, ...b.statuses]);
    }

    // --- Stripe (when the route exists) -----------------------------------------------------------
    if (existsSync(STRIPE_ROUTE)) {
      const issuer = await openDevIssuerFor(system.config);
      const owner = await issuer.mint({ subject: 'fuzz', org: DEMO.auth_org_id, role: 'org:admin' });
      rememberSecret(owner, 'token');
      const checkout = await fetch(`${baseUrl}/api/v1/billing/checkout`, {
        method: 'POST',
        headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' },
        body: JSON.stringify({ plan: 'starter' }),
      });
      const { rows } = await db.query<{ stripe_customer_id: string | null }>(
        'SELECT stripe_customer_id FROM bill_customers WHERE tenant_id = $1',
        [demo.id],
      );
      const customer = rows[0]?.stripe_customer_id;
      if (checkout.status !== 201 || !customer) {
        ok = false;
        findings.push(
          `stripe: checkout answered ${checkout.status}; no Stripe customer to replay events for`,
        );
      } else {
        const now = Math.floor(Date.now() / 1000);
        const event = (id: string, type: string, subscription: string, status: string, created: number) =>
          JSON.stringify({
            id,
            object: 'event',
            api_version: '2025-09-30.clover',
            type,
            created,
            livemode: false,
            data: {
              object: {
                id: subscription,
                object: 'subscription',
                customer,
                status,
                created: now - 100,
                metadata: { plan: 'starter' },
                items: {
                  data: [{ current_period_end: now + 30 * 86_400, price: { lookup_key: 'nmc_starter' } }],
                },
              },
            },
          });
        const send = (payload: string) => {
          const header = Stripe.webhooks.generateTestHeaderString({
            payload,
            secret: SANDBOX_STRIPE.webhookSecret,
          });
          rememberSecret(header.split('v1=')[1] ?? header, 'signature');
          return fetch(`${baseUrl}/webhooks/stripe`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'stripe-signature': header },
            body: payload,
          }).then(async (r) => ({ status: r.status, body: await r.text() }));
        };
        const stripeEffects = async (eventId: string, subscription: string) => ({
          webhook_events: await count(db, "webhook_events WHERE provider = 'stripe' AND event_key = $1", [
            eventId,
          ]),
          subscriptions: await count(db, 'bill_subscriptions WHERE stripe_subscription_id = $1', [
            subscription,
          ]),
          outbox_events: await count(db, 'outbox_events WHERE causation_id = $1', [eventId]),
        });
        // Control: one delivery of a new subscription (gates: none → active).
        const c = event(
          'evt_faults_control',
          'customer.subscription.created',
          'sub_faults_c',
          'active',
          now - 50,
        );
        const cs = await send(c);
        const control = await stripeEffects('evt_faults_control', 'sub_faults_c');
        // B: a second subscription created, 10× at once.
        const b = event('evt_faults_b', 'customer.subscription.created', 'sub_faults_b', 'active', now - 40);
        const bs = (await Promise.all(Array.from({ length: 10 }, () => send(b)))).map((r) => r.status);
        const effectsB = await stripeEffects('evt_faults_b', 'sub_faults_b');
        // A: the control subscription updated, 3× in a row.
        const a = event('evt_faults_a', 'customer.subscription.updated', 'sub_faults_c', 'active', now - 30);
        const as: number[] = [];
        for (let i = 0; i < 3; i++) as.push((await send(a)).status);
        const effectsA = await stripeEffects('evt_faults_a', 'sub_faults_c');
        const diffs: string[] = [];
        if (cs.status !== 200) diffs.push(`control answered ${cs.status}`);
        if (control.webhook_events !== 1 || control.subscriptions !== 1)
          diffs.push(`control ${JSON.stringify(control)}`);
        if (effectsB.webhook_events !== 1 || effectsB.subscriptions !== 1 || effectsB.outbox_events > 1)
          diffs.push(`10× ${JSON.stringify(effectsB)}`);
        if (effectsA.webhook_events !== 1 || effectsA.subscriptions !== 1 || effectsA.outbox_events > 1)
          diffs.push(`3× ${JSON.stringify(effectsA)}`);
        const bad = [...bs, ...as].filter((s) => s !== 200);
        if (bad.length > 0) diffs.push(`deliveries answered ${[...new Set(bad)].join('/')}`);
        figures.push(
          `stripe: ${diffs.length === 0 ? 'one effect' : 'DUPLICATE'} (webhook_events 1/event, bill_subscriptions 1/sub, GatesChanged ${control.outbox_events}/${effectsB.outbox_events}/${effectsA.outbox_events})`,
        );
        if (diffs.length > 0) {
          ok = false;
          findings.push(`replay stripe: ${diffs.join('; ')}`);
        }
      }
    } else {
      figures.push('stripe: no route');
    }
  } finally {
    await sys.stop();
  }
  return {
    scenario: '1 replays',
    verdict: ok ? 'PASS' : 'FAIL',
    figures,
    findings,
    durationMs: Date.now() - started,
  };
}
