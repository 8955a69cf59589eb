import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { readTenantSettings } from '../../domain/tenant-settings.ts';
import { findTenantById, setMessagingSettings } from '../../persistence/repositories/tenants.ts';
import type { AppDeps } from '../app.ts';
import { tenantOf } from '../auth/authenticate.ts';

// The owner's messaging settings: the first text a missed call gets (in and after opening hours;
// `{business}` is replaced by the business's name) and whether the public booking page answers,
// with its address. Clearing a greeting brings back the default.

const messagingSettings = z
  .object({
    greeting: z.string(),
    greeting_after_hours: z.string(),
    greeting_is_default: z.boolean(),
    greeting_after_hours_is_default: z.boolean(),
    public_booking_enabled: z.boolean(),
    public_booking_url: z.string().describe('the public booking API of this business'),
  })
  .meta({ id: 'MessagingSettings' });

const greetingText = z.string().trim().max(320).nullable().describe('null or empty: the default text');

export function messagingSettingsRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const security = [{ bearer: [] }];
    async function current(tenantId: string) {
      const tenant = await findTenantById(deps.db, tenantId);
      if (!tenant) throw new AppError('not_found', 'tenant not found');
      const settings = readTenantSettings(tenant.settings);
      const stored = (tenant.settings.templates ?? {}) as Record<string, unknown>;
      return {
        greeting: settings.templates.greeting,
        greeting_after_hours: settings.templates.greetingAfterHours,
        greeting_is_default: typeof stored.greeting !== 'string',
        greeting_after_hours_is_default: typeof stored.greetingAfterHours !== 'string',
        public_booking_enabled: settings.publicBookingEnabled,
        public_booking_url: `${deps.config.PUBLIC_BASE_URL}/api/public/${tenant.slug}`,
      };
    }

    app.get(
      '/api/v1/settings/messaging',
      {
        config: { action: 'settings.manage' },
        schema: {
          tags: ['settings'],
          summary: 'The greetings a missed call gets, and public booking',
          security,
          response: { 200: messagingSettings },
        },
      },
      async (request) => current(tenantOf(request)),
    );

    app.patch(
      '/api/v1/settings/messaging',
      {
        config: { action: 'settings.manage', audit: true },
        schema: {
          tags: ['settings'],
          summary: 'Change the greetings or turn public booking on or off',
          security,
          // Strict: a misspelt field is refused, not silently dropped from the change.
          body: z.strictObject({
            greeting: greetingText.optional(),
            greeting_after_hours: greetingText.optional(),
            public_booking_enabled: z.boolean().optional(),
          }),
          response: { 200: messagingSettings },
        },
      },
      async (request) => {
        const tenantId = tenantOf(request);
        const body = request.body;
        const text = (value: string | null | undefined) => (value === undefined ? undefined : value || null);
        await setMessagingSettings(deps.db, tenantId, {
          ...(body.greeting !== undefined ? { greeting: text(body.greeting) ?? null } : {}),
          ...(body.greeting_after_hours !== undefined
            ? { greetingAfterHours: text(body.greeting_after_hours) ?? null }
            : {}),
          ...(body.public_booking_enabled !== undefined
            ? { publicBookingEnabled: body.public_booking_enabled }
            : {}),
        });
        return current(tenantId);
      },
    );
  };
}
