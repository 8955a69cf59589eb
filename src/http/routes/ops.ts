import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Gauge } from 'prom-client';
import { z } from 'zod';
import type { AppDeps } from '../app.ts';

const readinessSchema = z.object({
  status: z.enum(['ready', 'unavailable']),
  checks: z.object({ database: z.boolean(), migrations: z.boolean(), workers: z.boolean() }),
});

async function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  try {
    return await Promise.race([promise.catch(() => fallback), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

type Readiness = z.infer<typeof readinessSchema>['checks'];

/** The readiness checks, each bounded to 2 s: /readyz answers them and nmc_ready exports them. */
async function checkReadiness(deps: AppDeps): Promise<Readiness> {
  const database = await withTimeout(
    deps.db.query('SELECT 1').then(() => true),
    2_000,
    false,
  );
  const migrations = database ? await withTimeout(deps.readiness.migrationsApplied(), 2_000, false) : false;
  return { database, migrations, workers: deps.readiness.workersRunning() };
}

export function opsRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    new Gauge({
      name: 'nmc_ready',
      help: '1 when this process is ready (database, migrations, workers), as GET /readyz answers',
      registers: [deps.metrics.registry],
      async collect() {
        const checks = await checkReadiness(deps);
        this.set(checks.database && checks.migrations && checks.workers ? 1 : 0);
      },
    });

    app.get(
      '/healthz',
      {
        schema: {
          tags: ['ops'],
          summary: 'Process is alive',
          response: { 200: z.object({ status: z.literal('ok') }) },
        },
      },
      async () => ({ status: 'ok' as const }),
    );

    app.get(
      '/readyz',
      {
        schema: {
          tags: ['ops'],
          summary: 'Database reachable, migrations applied, workers running',
          response: { 200: readinessSchema, 503: readinessSchema },
        },
      },
      async (_request, reply) => {
        const checks = await checkReadiness(deps);
        const ready = checks.database && checks.migrations && checks.workers;
        return reply.code(ready ? 200 : 503).send({
          status: ready ? ('ready' as const) : ('unavailable' as const),
          checks,
        });
      },
    );

    app.get(
      '/metrics',
      {
        schema: {
          tags: ['ops'],
          summary: 'Prometheus metrics',
          operationId: 'getMetrics',
          produces: ['text/plain; version=0.0.4'],
          response: {
            200: z
              .string()
              .describe('The metrics in the Prometheus text exposition format 0.0.4')
              .meta({ example: '# TYPE nmc_http_request_duration_seconds histogram\n' }),
          },
        },
      },
      async (_request, reply) => {
        reply.type(deps.metrics.registry.contentType);
        return deps.metrics.registry.metrics();
      },
    );

    app.get(
      '/buildinfo',
      {
        schema: {
          tags: ['ops'],
          summary: 'Version, git commit and start time',
          response: { 200: z.object({ version: z.string(), commit: z.string(), started_at: z.string() }) },
        },
      },
      async () => ({
        version: deps.build.version,
        commit: deps.build.commit,
        started_at: deps.build.startedAt,
      }),
    );
  };
}
