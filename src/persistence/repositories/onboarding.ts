import type { OnboardingDraft } from '../../domain/onboarding/draft.ts';
import type { Queryable } from '../db.ts';

// The onboarding drafts (prov_onboarding_drafts): one per identity-provider organisation that has
// no tenant yet, keyed by that organisation (there is no tenant to key it by until payment).

type Row = {
  auth_org_id: string;
  tenant_id: string;
  started_by: string;
  name: string | null;
  slug: string | null;
  time_zone: string | null;
  template: string | null;
  twilio_number: string | null;
  forwarding_phone: string | null;
  phone_verified_at: Date | null;
  code_hash: string | null;
  code_phone: string | null;
  code_expires_at: Date | null;
  code_attempts: number;
  code_sent_at: Date | null;
  send_window_start: Date | null;
  sends_in_window: number;
  plan: string | null;
  checkout_session_id: string | null;
  checkout_url: string | null;
  completed_at: Date | null;
};

export type DraftRow = OnboardingDraft & {
  codeHash: string | null;
  codePhone: string | null;
  codeExpiresAt: Date | null;
  codeAttempts: number;
  codeSentAt: Date | null;
  sendWindowStart: Date | null;
  sendsInWindow: number;
};

function toDraft(r: Row): DraftRow {
  return {
    authOrgId: r.auth_org_id,
    tenantId: r.tenant_id,
    startedBy: r.started_by,
    name: r.name,
    slug: r.slug,
    timeZone: r.time_zone,
    template: r.template as DraftRow['template'],
    twilioNumber: r.twilio_number,
    forwardingPhone: r.forwarding_phone,
    phoneVerifiedAt: r.phone_verified_at,
    plan: r.plan as DraftRow['plan'],
    checkoutSessionId: r.checkout_session_id,
    checkoutUrl: r.checkout_url,
    completedAt: r.completed_at,
    codeHash: r.code_hash,
    codePhone: r.code_phone,
    codeExpiresAt: r.code_expires_at,
    codeAttempts: r.code_attempts,
    codeSentAt: r.code_sent_at,
    sendWindowStart: r.send_window_start,
    sendsInWindow: r.sends_in_window,
  };
}

export async function findDraft(db: Queryable, authOrgId: string, lock = false): Promise<DraftRow | null> {
  const { rows } = await db.query<Row>(
    `SELECT * FROM prov_onboarding_drafts WHERE auth_org_id = $1${lock ? ' FOR UPDATE' : ''}`,
    [authOrgId],
  );
  return rows[0] ? toDraft(rows[0]) : null;
}

export async function findDraftByTenant(db: Queryable, tenantId: string): Promise<DraftRow | null> {
  const { rows } = await db.query<Row>('SELECT * FROM prov_onboarding_drafts WHERE tenant_id = $1', [
    tenantId,
  ]);
  return rows[0] ? toDraft(rows[0]) : null;
}

/** The organisation's draft, made (with its tenant id) on first use; locked for the transaction. */
export async function lockOrCreateDraft(
  db: Queryable,
  input: { authOrgId: string; tenantId: string; startedBy: string },
): Promise<DraftRow> {
  await db.query(
    `INSERT INTO prov_onboarding_drafts (auth_org_id, tenant_id, started_by) VALUES ($1, $2, $3)
     ON CONFLICT (auth_org_id) DO NOTHING`,
    [input.authOrgId, input.tenantId, input.startedBy],
  );
  const draft = await findDraft(db, input.authOrgId, true);
  if (!draft) throw new Error('onboarding draft vanished after insert');
  return draft;
}

/** Is the slug held by another organisation's unfinished draft? */
export async function slugHeldByOtherDraft(db: Queryable, slug: string, authOrgId: string): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM prov_onboarding_drafts
     WHERE slug = $1 AND completed_at IS NULL AND auth_org_id <> $2`,
    [slug, authOrgId],
  );
  return rows.length > 0;
}

export type ProfileChange = {
  name?: string;
  slug?: string;
  timeZone?: string;
  template?: string;
  /** null: no given number (one in the forwarding phone's area code). */
  twilioNumber?: string | null;
};

export async function updateDraftProfile(
  db: Queryable,
  authOrgId: string,
  change: ProfileChange,
): Promise<void> {
  await db.query(
    `UPDATE prov_onboarding_drafts SET
       name = COALESCE($2, name),
       slug = COALESCE($3, slug),
       time_zone = COALESCE($4, time_zone),
       template = COALESCE($5, template),
       twilio_number = CASE WHEN $6 THEN $7 ELSE twilio_number END,
       updated_at = now()
     WHERE auth_org_id = $1`,
    [
      authOrgId,
      change.name ?? null,
      change.slug ?? null,
      change.timeZone ?? null,
      change.template ?? null,
      change.twilioNumber !== undefined,
      change.twilioNumber ?? null,
    ],
  );
}

/** A new code for `phone`: the forwarding phone becomes it, unverified until the code comes back. */
export async function storeCode(
  db: Queryable,
  authOrgId: string,
  code: {
    phone: string;
    hash: string;
    expiresAt: Date;
    sentAt: Date;
    windowStart: Date;
    sendsInWindow: number;
  },
): Promise<void> {
  await db.query(
    `UPDATE prov_onboarding_drafts SET
       forwarding_phone = $2, phone_verified_at = NULL, code_phone = $2, code_hash = $3,
       code_expires_at = $4, code_attempts = 0, code_sent_at = $5, send_window_start = $6,
       sends_in_window = $7, updated_at = now()
     WHERE auth_org_id = $1`,
    [authOrgId, code.phone, code.hash, code.expiresAt, code.sentAt, code.windowStart, code.sendsInWindow],
  );
}

export async function countWrongAttempt(db: Queryable, authOrgId: string): Promise<void> {
  await db.query(
    'UPDATE prov_onboarding_drafts SET code_attempts = code_attempts + 1, updated_at = now() WHERE auth_org_id = $1',
    [authOrgId],
  );
}

/** The code matched: the phone is verified and the code cannot be used again. */
export async function markPhoneVerified(db: Queryable, authOrgId: string, at: Date): Promise<void> {
  await db.query(
    `UPDATE prov_onboarding_drafts SET phone_verified_at = $2, code_hash = NULL, code_expires_at = NULL,
       code_attempts = 0, updated_at = now()
     WHERE auth_org_id = $1`,
    [authOrgId, at],
  );
}

export async function recordDraftCheckout(
  db: Queryable,
  authOrgId: string,
  checkout: { plan: string; sessionId: string; url: string },
): Promise<void> {
  await db.query(
    `UPDATE prov_onboarding_drafts SET plan = $2, checkout_session_id = $3, checkout_url = $4, updated_at = now()
     WHERE auth_org_id = $1`,
    [authOrgId, checkout.plan, checkout.sessionId, checkout.url],
  );
}

export async function markDraftComplete(
  db: Queryable,
  authOrgId: string,
  input: { at: Date; slug: string; plan: string },
): Promise<void> {
  await db.query(
    `UPDATE prov_onboarding_drafts SET completed_at = $2, slug = $3, plan = $4, updated_at = now()
     WHERE auth_org_id = $1`,
    [authOrgId, input.at, input.slug, input.plan],
  );
}
