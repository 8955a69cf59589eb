import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { formatClock, parseClock } from '../../domain/alert-delivery.ts';
import { ALERT_REASONS } from '../../domain/alert-reasons.ts';
import { AppError } from '../../domain/errors.ts';
import { parseE164 } from '../../domain/phone.ts';
import { type AlertRow, acknowledgeAlert, listAlerts } from '../../persistence/repositories/alerts.ts';
import {
  type AlertSettings,
  findAlertSettings,
  setAlertSettings,
} from '../../persistence/repositories/user-alerts.ts';
import type { AppDeps } from '../app.ts';
import { tenantOf } from '../auth/authenticate.ts';
import { decodeKeysetCursor, encodeCursor, idParam, instant, listOf, pageQuery } from '../schemas.ts';

// Alerts: the "needs attention" list, acknowledging one (which stops its reminders and cancels its
// texts that have not left), and each team member's alert settings: the phone alert texts go to,
// whether they want them, and quiet hours (HH:MM in the business's zone; non-urgent alerts wait
// until they end). A user sets their own (`/me/alerts`); an OWNER anyone's in the business.

const alert = z
  .object({
    id: z.uuid(),
    conversation_id: z.uuid(),
    reason: z.enum(ALERT_REASONS),
    urgent: z.boolean(),
    state: z.enum(['open', 'acknowledged']),
    created_at: instant,
    acknowledged_at: instant.nullable(),
    acknowledged_via: z.enum(['app', 'sms']).nullable(),
  })
  .meta({ id: 'Alert' });

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time as HH:MM (00:00–23:59)');

const alertSettings = z
  .object({
    user_id: z.uuid(),
    phone: z.string().nullable(),
    alerts_enabled: z.boolean(),
    quiet_hours: z.object({ start: clock, end: clock }).nullable(),
  })
  .meta({ id: 'AlertSettings' });

const alertSettingsChange = z.strictObject({
  phone: z.string().min(1).max(64).nullable(),
  alerts_enabled: z.boolean(),
  quiet_hours: z.strictObject({ start: clock, end: clock }).nullable(),
});

const alertJson = (row: AlertRow) => ({
  id: row.id,
  conversation_id: row.conversation_id,
  // Rows are only written with catalog reasons (raise-alert.ts).
  reason: row.reason as (typeof ALERT_REASONS)[number],
  urgent: row.urgent,
  state: row.state,
  created_at: row.created_at.toISOString(),
  acknowledged_at: row.acknowledged_at?.toISOString() ?? null,
  acknowledged_via: row.acknowledged_via,
});

const settingsJson = (settings: AlertSettings) => ({
  user_id: settings.user_id,
  phone: settings.phone,
  alerts_enabled: settings.alerts_enabled,
  quiet_hours: settings.quiet
    ? { start: formatClock(settings.quiet.startMinute), end: formatClock(settings.quiet.endMinute) }
    : null,
});

export function alertRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/v1/alerts',
      {
        config: { action: 'conversations.read' },
        schema: {
          tags: ['alerts'],
          summary: 'Alerts, newest first (state=open: what needs attention), optionally of one conversation',
          security: [{ bearer: [] }],
          querystring: z.object({
            state: z.enum(['open', 'acknowledged', 'all']).default('all'),
            conversation_id: z.uuid().optional(),
            ...pageQuery,
          }),
          response: { 200: listOf(alert) },
        },
      },
      async (request) => {
        const { state, conversation_id: conversationId, cursor, limit } = request.query;
        const after = cursor ? decodeKeysetCursor(cursor) : null;
        const rows = await listAlerts(deps.db, tenantOf(request), {
          state: state === 'all' ? null : state,
          conversationId: conversationId ?? null,
          after: after ? { at: after.at, id: after.key } : null,
          limit: limit + 1,
        });
        const page = rows.slice(0, limit);
        const last = page[page.length - 1];
        return {
          items: page.map(alertJson),
          next_cursor:
            rows.length > limit && last ? encodeCursor([last.created_at.toISOString(), last.id]) : null,
        };
      },
    );

    app.post(
      '/api/v1/alerts/:id/ack',
      {
        config: { action: 'alerts.acknowledge', audit: true },
        schema: {
          tags: ['alerts'],
          summary: 'Acknowledge an alert: its reminders stop (acknowledging twice changes nothing)',
          security: [{ bearer: [] }],
          params: idParam,
          response: { 200: alert },
        },
      },
      async (request) => {
        const tenantId = tenantOf(request);
        const row = await acknowledgeAlert(deps.db, tenantId, request.params.id, {
          who: request.principal?.userId ?? request.principal?.subject ?? 'unknown',
          via: 'app',
        });
        if (!row) throw new AppError('not_found', 'alert not found');
        return alertJson(row);
      },
    );

    const me = (request: FastifyRequest): string => {
      const userId = request.principal?.userId;
      if (!userId) throw new AppError('forbidden', 'this route acts on a tenant user');
      return userId;
    };
    const read = async (tenantId: string, userId: string) => {
      const settings = await findAlertSettings(deps.db, tenantId, userId);
      if (!settings) throw new AppError('not_found', 'user not found');
      return settingsJson(settings);
    };
    const write = async (tenantId: string, userId: string, body: z.infer<typeof alertSettingsChange>) => {
      const phone = body.phone === null ? null : parseE164(body.phone);
      if (body.phone !== null && phone === null) {
        throw new AppError('validation_failed', 'phone is not a valid phone number');
      }
      if (body.alerts_enabled && phone === null) {
        throw new AppError('validation_failed', 'alerts need a phone to go to');
      }
      const start = body.quiet_hours ? parseClock(body.quiet_hours.start) : null;
      const end = body.quiet_hours ? parseClock(body.quiet_hours.end) : null;
      const settings = await setAlertSettings(deps.db, tenantId, {
        user_id: userId,
        phone,
        alerts_enabled: body.alerts_enabled,
        quiet: start !== null && end !== null ? { startMinute: start, endMinute: end } : null,
      });
      if (!settings) throw new AppError('not_found', 'user not found');
      return settingsJson(settings);
    };

    // Each user their own settings…
    app.get(
      '/api/v1/me/alerts',
      {
        config: { action: 'alerts.settings' },
        schema: {
          tags: ['alerts'],
          summary: 'My alert phone, opt-in and quiet hours',
          operationId: 'getMyAlertSettings',
          security: [{ bearer: [] }],
          response: { 200: alertSettings },
        },
      },
      async (request) => read(tenantOf(request), me(request)),
    );
    app.put(
      '/api/v1/me/alerts',
      {
        config: { action: 'alerts.settings', audit: true },
        schema: {
          tags: ['alerts'],
          summary: 'Set my alert phone, opt-in and quiet hours',
          operationId: 'setMyAlertSettings',
          security: [{ bearer: [] }],
          body: alertSettingsChange,
          response: { 200: alertSettings },
        },
      },
      async (request) => write(tenantOf(request), me(request), request.body),
    );

    // …and an OWNER anyone's in the business.
    app.get(
      '/api/v1/users/:id/alerts',
      {
        config: { action: 'users.read' },
        schema: {
          tags: ['alerts'],
          summary: "A user's alert phone, opt-in and quiet hours",
          operationId: 'getUserAlertSettings',
          security: [{ bearer: [] }],
          params: idParam,
          response: { 200: alertSettings },
        },
      },
      async (request) => read(tenantOf(request), request.params.id),
    );
    app.put(
      '/api/v1/users/:id/alerts',
      {
        config: { action: 'users.manage', audit: true },
        schema: {
          tags: ['alerts'],
          summary: "Set a user's alert phone, opt-in and quiet hours",
          operationId: 'setUserAlertSettings',
          security: [{ bearer: [] }],
          params: idParam,
          body: alertSettingsChange,
          response: { 200: alertSettings },
        },
      },
      async (request) => write(tenantOf(request), request.params.id, request.body),
    );
  };
}
