import { isWithinBusinessHours } from '../domain/business-hours.ts';
import { nextOpening } from '../domain/next-opening.ts';
import { readTenantSettings } from '../domain/tenant-settings.ts';
import type { ConversationFacts } from '../machines/conversation-events.ts';
import type { Queryable } from '../persistence/db.ts';
import { listServices } from '../persistence/repositories/catalog.ts';
import { complianceFacts } from '../persistence/repositories/compliance.ts';
import { loadPolicy } from '../persistence/repositories/policy-values.ts';
import type { Tenant } from '../persistence/repositories/tenants.ts';
import { type HeldFacts, heldOr } from './tenant-facts.ts';

// Reads, inside the dispatch transaction, every fact the machine decides with. Each module's data
// comes through its own repository. The tenant-level ones this process already holds at the
// transaction's facts version (`held`, src/runtime/tenant-facts.ts) are not read again, and the
// ones read are kept there for the next event.

export type FeatureGates = { sms: boolean; assistant: boolean };
/** `cached`: the tenant's facts this process holds at the reader's version, and where to keep new ones. */
export type GatesReader = (
  db: Queryable,
  tenantId: string,
  at: string,
  cached?: HeldFacts,
) => Promise<FeatureGates>;

export async function loadConversationFacts(
  db: Queryable,
  tenant: Tenant,
  caller: string,
  at: string,
  readGates: GatesReader,
  options: {
    catalog: boolean;
    held?: HeldFacts;
    /** Already read in this transaction (before the conversation's lock). */
    gates?: FeatureGates;
  } = { catalog: true },
): Promise<ConversationFacts> {
  const settings = readTenantSettings(tenant.settings);
  // One client runs one statement at a time: these are sequential round trips, one per module.
  // The catalog is read only for events whose handling can use it (the booking dialogue).
  const services = options.catalog
    ? await heldOr(options.held, 'services', () => listServices(db, tenant.id, { activeOnly: true }))
    : [];
  const { campaignStatus: campaign, optedOut } = await complianceFacts(db, tenant.id, caller);
  const policy = await heldOr(options.held, 'policy', () => loadPolicy(db, tenant.id));
  const gates = options.gates ?? (await readGates(db, tenant.id, at));
  return {
    businessName: tenant.name,
    timeZone: tenant.time_zone,
    catalog: services.map((service) => ({
      id: service.id,
      name: service.name,
      aliases: service.aliases,
      durationMinutes: service.duration_minutes,
      priceCents: service.price.amount_cents,
    })),
    helpText: settings.helpText,
    campaignStatus: campaign,
    optedOut,
    gates,
    afterHours: !isWithinBusinessHours(at, tenant.time_zone, settings.businessHours),
    nextOpeningAt: nextOpening(at, tenant.time_zone, settings.businessHours),
    businessPhone: tenant.forwarding_phone,
    trade: settings.trade,
    locale: settings.locale,
    replyDelaySeconds: settings.replyDelaySeconds,
    templates: settings.templates,
    policy: {
      greetingWindowMinutes: policy['conversation.greeting_window_minutes'],
      inactivityCloseMinutes: policy['conversation.inactivity_close_minutes'],
      bookedCloseMinutes: policy['conversation.booked_close_minutes'],
      humanIdleReleaseMinutes: policy['conversation.human_idle_release_minutes'],
      maxMisunderstandings: policy['conversation.max_misunderstandings'],
    },
  };
}
