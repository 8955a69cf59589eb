import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import {
  FIRST_RESPONSE_OBJECTIVE_MS,
  type FunnelPeriod,
  firstResponseReport,
  funnelReport,
  type Group,
  MAX_REPORT_DAYS,
  type ResponseStats,
  reportRange,
} from '../../domain/funnel-report.ts';
import { FUNNEL_FIELDS } from '../../domain/report-contributions.ts';
import { readFunnelDays, readResponseBuckets } from '../../persistence/repositories/reports.ts';
import { findTenantById } from '../../persistence/repositories/tenants.ts';
import type { AppDeps } from '../app.ts';
import { tenantOf } from '../auth/authenticate.ts';
import { calendarDate } from '../schemas.ts';

// What the business gets for its money (OWNER): the funnel from missed call to kept appointment per
// local day or ISO week, and how fast the first text went out, from the reporting read models
// (docs/reports.md). Each also as CSV, the same numbers in the same periods: asked for with
// `Accept: text/csv`, or at the `.csv` path (a link a browser can download).

const query = z.object({
  from: calendarDate
    .optional()
    .describe("first local date (the tenant's zone), inclusive; default 29 days before `to`"),
  to: calendarDate.optional().describe('last local date, inclusive; default today (or 29 days after `from`)'),
  group: z
    .enum(['day', 'week'])
    .default('day')
    .describe(
      'one row per local day, or per ISO week (Monday first; the first and last are clipped to the range)',
    ),
});

const money = z
  .object({ amount_cents: z.number().int(), currency: z.literal('USD') })
  .describe('a sum of service prices, at the price when booked');
const rate = z.number().min(0).nullable();

const funnelPeriodSchema = z.object({
  period_start: z.string().describe('first local date of the period'),
  period_end: z.string().describe('last local date of the period, inclusive'),
  missed: z.number().int().describe('missed calls (conversations that began with one)'),
  texted: z.number().int().describe('of those, conversations whose first text the provider accepted'),
  replied: z.number().int().describe('… where the caller wrote back'),
  quoted: z.number().int().describe("… where the assistant named a service's price"),
  held: z.number().int().describe('… where a time was held for the caller'),
  booked: z.number().int().describe('appointments booked (any channel; a reschedule is not a new booking)'),
  reminded: z
    .number()
    .int()
    .describe('appointments that got a reminder text, on the day of their first reminder'),
  cancelled: z.number().int().describe('appointments cancelled, on the day of the cancellation'),
  completed: z.number().int().describe('appointments completed, on the day of the appointment'),
  no_show: z.number().int().describe('appointments marked no-show, on the day of the appointment'),
  opted_out: z.number().int().describe('conversations that opted out'),
  taken_over: z.number().int().describe('conversations a person took over'),
  average_takeover_seconds: z
    .number()
    .int()
    .nullable()
    .describe('mean seconds from the conversation starting to its takeover'),
  revenue_booked: money,
  revenue_kept: money.describe('prices of the completed appointments'),
  conversion: z
    .object({
      texted: rate,
      replied: rate,
      quoted: rate,
      held: rate,
      booked: rate,
      completed: rate,
    })
    .describe('each step over the step before it (texted/missed, …, completed/booked); null when that is 0'),
  show_rate: rate.describe('completed / (completed + no_show)'),
});

const funnelSchema = z.object({
  time_zone: z.string().describe("the tenant's IANA zone: every date is a local date in it"),
  from: z.string(),
  to: z.string(),
  group: z.enum(['day', 'week']),
  items: z.array(funnelPeriodSchema),
  total: funnelPeriodSchema.describe('the whole range'),
});

const responsePeriodSchema = z.object({
  period_start: z.string(),
  period_end: z.string(),
  responses: z.number().int().describe('missed calls whose first text the provider accepted'),
  p50_ms: z
    .number()
    .int()
    .nullable()
    .describe('upper bound (ms) of the histogram bucket reaching the percentile; 2147483647 = over an hour'),
  p95_ms: z.number().int().nullable(),
  p99_ms: z.number().int().nullable(),
  within_objective: z.number().int().describe('responses within the objective'),
  meets_objective: z.boolean().nullable().describe('P95 within the objective; null without responses'),
});

const firstResponseSchema = z.object({
  time_zone: z.string(),
  from: z.string(),
  to: z.string(),
  group: z.enum(['day', 'week']),
  objective_ms: z.number().int().describe('the service objective: P95 of the first text at most this'),
  items: z.array(responsePeriodSchema),
  total: responsePeriodSchema,
  histogram: z
    .array(z.object({ le_ms: z.number().int(), responses: z.number().int() }))
    .describe('the whole range: responses per bucket, by inclusive upper bound'),
});

const csv = z.string().describe('RFC 4180 CSV with a header row, the same periods as the JSON');

/** A response that is JSON, or the same periods as CSV when the request's Accept prefers it. */
const jsonOrCsv = (schema: z.ZodType) => ({
  content: { 'application/json': { schema }, 'text/csv': { schema: csv } },
});

/** The quality an Accept header gives a media type (its most specific matching range); 0 when refused. */
function acceptQuality(accept: string, type: string): number {
  const [major] = type.split('/');
  let best = { specificity: -1, q: 0 };
  for (const part of accept.split(',')) {
    const [range = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const specificity = range === type ? 2 : range === `${major}/*` ? 1 : range === '*/*' ? 0 : -1;
    if (specificity <= best.specificity) continue;
    const q = params.find((p) => p.startsWith('q='));
    const value = q === undefined ? 1 : Number(q.slice(2));
    best = { specificity, q: Number.isFinite(value) ? value : 0 };
  }
  return best.q;
}

/** CSV only when asked for over JSON: no Accept, `*\/*` or a tie keeps the JSON the API has always answered. */
export function wantsCsv(accept: string | undefined): boolean {
  if (!accept) return false;
  const csvQ = acceptQuality(accept, 'text/csv');
  return csvQ > 0 && csvQ > acceptQuality(accept, 'application/json');
}

function funnelItem(p: FunnelPeriod): z.infer<typeof funnelPeriodSchema> {
  const { takeover_seconds: _, revenue_booked_cents, revenue_kept_cents, ...counts } = p.counts;
  return {
    period_start: p.period_start,
    period_end: p.period_end,
    ...counts,
    average_takeover_seconds: p.average_takeover_seconds,
    revenue_booked: { amount_cents: revenue_booked_cents, currency: 'USD' },
    revenue_kept: { amount_cents: revenue_kept_cents, currency: 'USD' },
    conversion: p.conversion,
    show_rate: p.show_rate,
  };
}

const FUNNEL_CSV_COLUMNS = [
  'period_start',
  'period_end',
  ...FUNNEL_FIELDS.filter((f) => f !== 'takeover_seconds'),
  'average_takeover_seconds',
  'show_rate',
] as const;

function funnelCsv(periods: FunnelPeriod[]): string {
  const lines = periods.map((p) => {
    const row: Record<string, unknown> = {
      period_start: p.period_start,
      period_end: p.period_end,
      ...p.counts,
      average_takeover_seconds: p.average_takeover_seconds,
      show_rate: p.show_rate,
    };
    return FUNNEL_CSV_COLUMNS.map((c) => row[c] ?? '').join(',');
  });
  return `${[FUNNEL_CSV_COLUMNS.join(','), ...lines].join('\r\n')}\r\n`;
}

const RESPONSE_CSV_COLUMNS = [
  'period_start',
  'period_end',
  'responses',
  'p50_ms',
  'p95_ms',
  'p99_ms',
  'within_objective',
  'meets_objective',
] as const;

function responseCsv(periods: ResponseStats[]): string {
  const lines = periods.map((p) => RESPONSE_CSV_COLUMNS.map((c) => p[c] ?? '').join(','));
  return `${[RESPONSE_CSV_COLUMNS.join(','), ...lines].join('\r\n')}\r\n`;
}

export function reportRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const security = [{ bearer: [] }];

    async function rangeOf(request: { query: z.infer<typeof query> } & Parameters<typeof tenantOf>[0]) {
      const tenantId = tenantOf(request);
      const tenant = await findTenantById(deps.db, tenantId);
      if (!tenant) throw new AppError('not_found', 'tenant not found');
      const range = reportRange({
        from: request.query.from,
        to: request.query.to,
        timeZone: tenant.time_zone,
        nowMs: Date.now(),
      });
      return { tenantId, timeZone: tenant.time_zone, ...range, group: request.query.group as Group };
    }

    async function funnel(request: Parameters<typeof rangeOf>[0]) {
      const r = await rangeOf(request);
      const days = await readFunnelDays(deps.db, r.tenantId, r.from, r.to);
      return { ...r, report: funnelReport(r.from, r.to, r.group, days) };
    }

    async function firstResponse(request: Parameters<typeof rangeOf>[0]) {
      const r = await rangeOf(request);
      const rows = await readResponseBuckets(deps.db, r.tenantId, r.from, r.to);
      return { ...r, report: firstResponseReport(r.from, r.to, r.group, rows) };
    }

    const range = `at most ${MAX_REPORT_DAYS} days; default the last 30`;

    app.get(
      '/api/v1/reports/funnel',
      {
        config: { action: 'reports.read' },
        schema: {
          tags: ['reports'],
          operationId: 'getFunnelReport',
          summary: `The funnel from missed call to kept appointment, per local day or week (${range}; CSV with Accept: text/csv)`,
          security,
          querystring: query,
          response: { 200: jsonOrCsv(funnelSchema) },
        },
      },
      async (request, reply) => {
        const { timeZone, from, to, group, report } = await funnel(request);
        if (wantsCsv(request.headers.accept)) {
          return reply.type('text/csv; charset=utf-8').send(funnelCsv(report.periods));
        }
        return {
          time_zone: timeZone,
          from,
          to,
          group,
          items: report.periods.map(funnelItem),
          total: funnelItem(report.total),
        };
      },
    );

    app.get(
      '/api/v1/reports/funnel.csv',
      {
        config: { action: 'reports.read' },
        schema: {
          tags: ['reports'],
          operationId: 'getFunnelReportCsv',
          summary: 'The funnel as CSV (the same periods and counts; revenue in cents)',
          security,
          produces: ['text/csv'],
          querystring: query,
          response: { 200: csv },
        },
      },
      async (request, reply) => {
        const { from, to, report } = await funnel(request);
        reply.type('text/csv; charset=utf-8');
        reply.header('content-disposition', `attachment; filename="funnel-${from}-${to}.csv"`);
        return funnelCsv(report.periods);
      },
    );

    app.get(
      '/api/v1/reports/first-response',
      {
        config: { action: 'reports.read' },
        schema: {
          tags: ['reports'],
          operationId: 'getFirstResponseReport',
          summary: `How fast the first text went out after a missed call: P50/P95/P99 against the 5 s objective (${range}; CSV with Accept: text/csv)`,
          security,
          querystring: query,
          response: { 200: jsonOrCsv(firstResponseSchema) },
        },
      },
      async (request, reply) => {
        const { timeZone, from, to, group, report } = await firstResponse(request);
        if (wantsCsv(request.headers.accept)) {
          return reply.type('text/csv; charset=utf-8').send(responseCsv(report.periods));
        }
        return {
          time_zone: timeZone,
          from,
          to,
          group,
          objective_ms: FIRST_RESPONSE_OBJECTIVE_MS,
          items: report.periods,
          total: report.total,
          histogram: report.histogram,
        };
      },
    );

    app.get(
      '/api/v1/reports/first-response.csv',
      {
        config: { action: 'reports.read' },
        schema: {
          tags: ['reports'],
          operationId: 'getFirstResponseReportCsv',
          summary: 'First-response latency as CSV (the same periods)',
          security,
          produces: ['text/csv'],
          querystring: query,
          response: { 200: csv },
        },
      },
      async (request, reply) => {
        const { from, to, report } = await firstResponse(request);
        reply.type('text/csv; charset=utf-8');
        reply.header('content-disposition', `attachment; filename="first-response-${from}-${to}.csv"`);
        return responseCsv(report.periods);
      },
    );
  };
}
