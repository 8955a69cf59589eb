import { type Config, loadConfig } from '../../src/config.ts';
import { AppError } from '../../src/domain/errors.ts';
import { type App, type AppDeps, buildApp } from '../../src/http/app.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import type { Pool } from '../../src/persistence/db.ts';
import { migrationsApplied } from '../../src/persistence/migrate.ts';
import { createSandboxTenDlc } from '../../src/providers/ten-dlc/provider.ts';
import { captureLogger } from './logs.ts';

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ DATABASE_URL: 'postgres://unused/unused', LOG_LEVEL: 'debug', ...overrides });
}

/** The production app factory with test dependencies; call `app.inject`, never listen. */
export async function buildTestApp(
  db: Pool,
  overrides: Partial<AppDeps> = {},
): Promise<{ app: App; logLines: () => string[] }> {
  const { logger, lines } = captureLogger();
  const app = await buildApp({
    config: testConfig(),
    db,
    logger,
    metrics: createMetrics(),
    build: { version: 'test', commit: 'test', startedAt: new Date(0).toISOString() },
    readiness: { workersRunning: () => true, migrationsApplied: () => migrationsApplied(db) },
    dispatch: async () => {
      throw new Error('this test app has no conversation engine');
    },
    boss: {
      send: async () => {
        throw new Error('this test app has no job queue');
      },
    },
    tenDlc: createSandboxTenDlc(),
    twilio: { authToken: 'test-auth-token-0000', accountSid: `AC${'0'.repeat(32)}` },
    auth: {
      verify: async () => {
        throw new AppError('unauthorized', 'this test app accepts no tokens');
      },
      orgClaim: 'org_id',
      roleClaim: 'org_role',
      staffOrgId: null,
    },
    ...overrides,
  });
  return { app, logLines: lines };
}
