import { pino } from 'pino';
import { loadConfig } from '../../config.ts';
import { AppError } from '../../domain/errors.ts';
import { createMetrics } from '../../observability/metrics.ts';
import { createPool } from '../../persistence/db.ts';
import { createSandboxTenDlc } from '../../providers/ten-dlc/provider.ts';
import { buildApp } from '../app.ts';
import type { OpenApiDocument } from './document-types.ts';

// The published document without a running system: the production app factory with inert
// dependencies (a pool that is never connected, collaborators that refuse to be called), so the
// generated client, the lint and the drift check read exactly what `/openapi.json` serves. Nothing
// here listens, connects or starts a job.

function refuse(what: string) {
  return async (): Promise<never> => {
    throw new Error(`the offline document app has no ${what}`);
  };
}

export async function buildOpenApiDocument(env: Record<string, string> = {}): Promise<OpenApiDocument> {
  const config = loadConfig({ DATABASE_URL: 'postgres://offline.invalid/none', ...env });
  const db = createPool(config.DATABASE_URL ?? 'postgres://offline.invalid/none', { max: 1 });
  const app = await buildApp({
    config,
    db,
    logger: pino({ level: 'silent' }),
    metrics: createMetrics(),
    build: { version: 'offline', commit: 'offline', startedAt: new Date(0).toISOString() },
    readiness: { workersRunning: () => false, migrationsApplied: async () => false },
    dispatch: refuse('conversation engine'),
    boss: { send: refuse('job queue') },
    tenDlc: createSandboxTenDlc(),
    twilio: { authToken: 'offline', accountSid: `AC${'0'.repeat(32)}` },
    auth: {
      verify: async () => {
        throw new AppError('unauthorized', 'the offline document app accepts no tokens');
      },
      orgClaim: 'org_id',
      roleClaim: 'org_role',
      staffOrgId: null,
    },
  });
  try {
    await app.ready();
    return app.swagger() as unknown as OpenApiDocument;
  } finally {
    await app.close();
    await db.end();
  }
}
