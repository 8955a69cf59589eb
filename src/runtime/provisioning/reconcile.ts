import type { DesiredState } from '../../domain/provisioning/desired-state.ts';
import type { Observed } from '../../domain/provisioning/plan.ts';
import { inTransaction } from '../../persistence/db.ts';
import { listSubscriptions } from '../../persistence/repositories/billing.ts';
import { campaignStatus } from '../../persistence/repositories/compliance.ts';
import { recordDrift, resolveUnseenDrift } from '../../persistence/repositories/drift.ts';
import {
  invalidateStep,
  latestDesired,
  listProvisionedTenantIds,
  loadSteps,
  observedOf,
} from '../../persistence/repositories/provisioning.ts';
import { fetchCampaign } from '../../providers/twilio/a2p.ts';
import { fetchNumber, webhooksFor } from '../../providers/twilio/numbers.ts';
import { syncSubscriptionFromStripe } from '../billing-events.ts';
import { writeOutboxEvents } from '../outbox.ts';
import type { ProvisioningDeps } from './provisioning-deps.ts';
import { scheduleConvergence } from './provisioning-jobs.ts';

// Reconciliation: for each provisioned tenant, what we believe against what each provider says —
// the number's ownership and webhook URLs (Twilio), the subscription's status against our mirror
// and so our gates (Stripe), the 10DLC campaign's status (Twilio A2P). Each difference is a finding
// in the drift report (prov_drift); a repair converges the drifted step again or, for billing,
// applies the provider's copy to our mirror.
//
// Checks are a list (DRIFT_CHECKS) of { kind(s), scan, repair }: a calendar check (push channels,
// src/runtime/calendar) plugs in as one more entry through `extraChecks`, with its own kind.
//
// What is repaired without asking (`repair`, on by default): webhook URLs, a campaign status we
// hold wrongly, and a subscription whose Stripe status closes gates we still hold open (the safe
// direction). A subscription that would open gates, and a number we no longer own (a new number
// changes the business's public number), are reported and repaired only with `repairAll`.

export type DriftFinding = {
  kind: string;
  subject: string;
  expected: unknown;
  actual: unknown;
  /** Repaired when `repair` is on; otherwise only with `repairAll`. */
  safe: boolean;
  repair: () => Promise<void>;
};

export type ScanContext = {
  deps: ProvisioningDeps;
  tenantId: string;
  desired: DesiredState;
  observed: Observed;
};

export type DriftCheck = {
  /** The kinds of finding this check makes (its open findings it no longer sees are resolved). */
  kinds: readonly string[];
  scan(ctx: ScanContext): Promise<DriftFinding[]>;
};

const text = (v: unknown) => (typeof v === 'string' ? v : null);

async function reconverge(ctx: ScanContext, step: 'number_webhooks' | 'phone_number' | 'ten_dlc_campaign') {
  await invalidateStep(ctx.deps.db, ctx.tenantId, step);
  await scheduleConvergence(ctx.deps.boss, ctx.tenantId);
}

export const numberCheck: DriftCheck = {
  kinds: ['number_webhooks', 'number_ownership'],
  async scan(ctx) {
    const sid = text(ctx.observed.phone_number?.outputs.number_sid);
    if (sid === null || ctx.desired.lifecycle === 'closed') return [];
    const number = await fetchNumber(ctx.deps.twilio, sid);
    if (number === null) {
      return [
        {
          kind: 'number_ownership',
          subject: sid,
          expected: { owned: true, phone_number: ctx.observed.phone_number?.outputs.phone_number ?? null },
          actual: { owned: false },
          safe: false,
          repair: () => reconverge(ctx, 'phone_number'),
        },
      ];
    }
    const wanted = webhooksFor(ctx.deps.webhookBaseUrl);
    if (number.voiceUrl === wanted.voiceUrl && number.smsUrl === wanted.smsUrl) return [];
    return [
      {
        kind: 'number_webhooks',
        subject: sid,
        expected: { voice_url: wanted.voiceUrl, sms_url: wanted.smsUrl },
        actual: { voice_url: number.voiceUrl, sms_url: number.smsUrl },
        safe: true,
        repair: () => reconverge(ctx, 'number_webhooks'),
      },
    ];
  },
};

const PAYING = new Set(['active', 'trialing', 'past_due']);

export const subscriptionCheck: DriftCheck = {
  kinds: ['subscription'],
  async scan(ctx) {
    const customer = text(ctx.observed.stripe_customer?.outputs.customer_id);
    if (customer === null) return [];
    const atStripe = (await ctx.deps.stripe.subscriptions.list({ customer, status: 'all', limit: 100 })).data;
    const mirror = await listSubscriptions(ctx.deps.db, ctx.tenantId);
    const findings: DriftFinding[] = [];
    for (const s of atStripe) {
      const ours = mirror.find((m) => m.stripeSubscriptionId === s.id);
      if (ours?.status === s.status) continue;
      // Stripe closing what we hold open is applied without asking; the other way round opens
      // gates, which billing decides.
      const closesGates = ours !== undefined && PAYING.has(ours.status) && !PAYING.has(s.status);
      findings.push({
        kind: 'subscription',
        subject: s.id,
        expected: { status: s.status, source: 'stripe' },
        actual: { status: ours?.status ?? null, source: 'mirror' },
        safe: closesGates,
        repair: async () => {
          await syncSubscriptionFromStripe(ctx.deps, s, { correlationId: `reconcile:${ctx.tenantId}` });
        },
      });
    }
    return findings;
  },
};

export const campaignCheck: DriftCheck = {
  kinds: ['campaign'],
  async scan(ctx) {
    const sid = text(ctx.observed.ten_dlc_campaign?.outputs.campaign_sid);
    const service = text(ctx.observed.messaging_service?.outputs.service_sid);
    if (sid === null || service === null || ctx.desired.lifecycle === 'closed') return [];
    const atTwilio = await fetchCampaign(ctx.deps.twilio, service, sid);
    const ours = await campaignStatus(ctx.deps.db, ctx.tenantId);
    if (ours === atTwilio.status) return [];
    return [
      {
        kind: 'campaign',
        subject: sid,
        expected: { status: atTwilio.status, reason: atTwilio.reason, source: 'twilio' },
        actual: { status: ours },
        safe: true,
        repair: () => reconverge(ctx, 'ten_dlc_campaign'),
      },
    ];
  },
};

export const DRIFT_CHECKS: readonly DriftCheck[] = [numberCheck, subscriptionCheck, campaignCheck];

export type ReconcileOptions = {
  tenantId?: string;
  /** Report only: no repair, nothing written. */
  dryRun?: boolean;
  /** Repair the safe kinds (default true). */
  repairSafe?: boolean;
  /** Repair every kind, billing included (default false). */
  repairAll?: boolean;
  extraChecks?: readonly DriftCheck[];
  onProgress?: (progress: { done: number; total: number; tenantId: string; findings: number }) => void;
};

export type ReconcileReport = {
  tenants: number;
  findings: {
    tenant_id: string;
    kind: string;
    subject: string;
    expected: unknown;
    actual: unknown;
    repaired: boolean;
    error: string | null;
  }[];
};

export async function reconcileAll(
  deps: ProvisioningDeps,
  options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const checks = [...DRIFT_CHECKS, ...(deps.driftChecks ?? []), ...(options.extraChecks ?? [])];
  const ids = options.tenantId ? [options.tenantId] : await listProvisionedTenantIds(deps.db);
  const report: ReconcileReport = { tenants: 0, findings: [] };
  let done = 0;
  for (const tenantId of ids) {
    const desired = await latestDesired(deps.db, tenantId);
    if (!desired) continue;
    const observed = observedOf(await loadSteps(deps.db, tenantId));
    const ctx: ScanContext = { deps, tenantId, desired: desired.spec, observed };
    const seen: { kind: string; subject: string }[] = [];
    const scanned: string[] = [];
    let count = 0;
    for (const check of checks) {
      let findings: DriftFinding[];
      try {
        findings = await check.scan(ctx);
      } catch (err) {
        // A provider that does not answer says nothing about drift: this check is skipped, its
        // open findings stay open.
        deps.logger.warn({ tenant_id: tenantId, kinds: check.kinds, err: String(err) }, 'drift check failed');
        continue;
      }
      scanned.push(...check.kinds);
      for (const finding of findings) {
        seen.push({ kind: finding.kind, subject: finding.subject });
        const wanted =
          !options.dryRun && (options.repairAll === true || (finding.safe && options.repairSafe !== false));
        let repaired = false;
        let error: string | null = null;
        if (wanted) {
          try {
            await finding.repair();
            repaired = true;
          } catch (err) {
            error = String((err as Error)?.message ?? err);
          }
        }
        count += 1;
        report.findings.push({
          tenant_id: tenantId,
          kind: finding.kind,
          subject: finding.subject,
          expected: finding.expected,
          actual: finding.actual,
          repaired,
          error,
        });
        if (options.dryRun) continue;
        await inTransaction(deps.db, async (client) => {
          const opened = await recordDrift(client, {
            tenantId,
            kind: finding.kind,
            subject: finding.subject,
            expected: finding.expected,
            actual: finding.actual,
            repaired,
          });
          if (opened || repaired) {
            await writeOutboxEvents(client, [
              {
                tenantId,
                name: 'nmc.provisioning.DriftFound',
                payload: { kind: finding.kind, subject: finding.subject, repaired },
                occurredAt: new Date().toISOString(),
                correlationId: `reconcile:${tenantId}`,
                causationId: null,
              },
            ]);
          }
        });
      }
    }
    if (!options.dryRun) await resolveUnseenDrift(deps.db, tenantId, scanned, seen);
    report.tenants += 1;
    done += 1;
    options.onProgress?.({ done, total: ids.length, tenantId, findings: count });
  }
  return report;
}
