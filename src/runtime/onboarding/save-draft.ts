import { randomUUID } from 'node:crypto';
import { AppError } from '../../domain/errors.ts';
import { inTransaction, type Pool } from '../../persistence/db.ts';
import {
  type DraftRow,
  lockOrCreateDraft,
  type ProfileChange,
  slugHeldByOtherDraft,
  updateDraftProfile,
} from '../../persistence/repositories/onboarding.ts';
import { findTenantBySlug } from '../../persistence/repositories/tenants.ts';
import type { Onboarder } from './onboarder.ts';

// Starts or changes the organisation's onboarding draft: the business's name and slug, its zone,
// its trade template and the number picked. A slug that a tenant or another organisation's
// unfinished draft holds is a 409; once Checkout has started the draft no longer changes (the
// owner pays for what they saw), and once paid the organisation has a tenant and its own routes.

const UNIQUE_VIOLATION = '23505';

export async function saveDraft(db: Pool, who: Onboarder, change: ProfileChange): Promise<DraftRow> {
  try {
    return await inTransaction(db, async (client) => {
      const draft = await lockOrCreateDraft(client, {
        authOrgId: who.authOrgId,
        tenantId: randomUUID(),
        startedBy: who.subject,
      });
      if (draft.completedAt)
        throw new AppError('conflict', 'onboarding is complete; this organisation has a tenant');
      if (draft.checkoutSessionId && Object.keys(change).length > 0)
        throw new AppError('conflict', 'checkout has started; the draft can no longer change');
      if (change.slug !== undefined && change.slug !== draft.slug) {
        const taken =
          (await findTenantBySlug(client, change.slug)) !== null ||
          (await slugHeldByOtherDraft(client, change.slug, who.authOrgId));
        if (taken) throw new AppError('conflict', `the slug ${change.slug} is taken`);
      }
      await updateDraftProfile(client, who.authOrgId, change);
      const saved = await lockOrCreateDraft(client, {
        authOrgId: who.authOrgId,
        tenantId: draft.tenantId,
        startedBy: draft.startedBy,
      });
      return saved;
    });
  } catch (err) {
    // Two organisations claiming one slug at the same moment: the unique index decides.
    if ((err as { code?: string }).code === UNIQUE_VIOLATION)
      throw new AppError('conflict', `the slug ${change.slug ?? ''} is taken`);
    throw err;
  }
}
