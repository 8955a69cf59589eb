import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './observability/logger.ts';
import { EmbeddedPostgresError } from './persistence/embedded-postgres.ts';
import { startSystem } from './system.ts';

// `npm start`: the whole system on this machine. Failures a person can fix (bad configuration, a
// busy port) end the process with one clear line instead of a stack trace.

const SHUTDOWN_DEADLINE_MS = 10_000;
const PARENT_CHECK_MS = 1_000;

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.LOG_LEVEL);
  let system: Awaited<ReturnType<typeof startSystem>>;
  try {
    system = await startSystem(config, logger);
  } catch (err) {
    const known = err instanceof EmbeddedPostgresError || (err as { code?: string }).code === 'EADDRINUSE';
    const message = (err as Error).message ?? String(err);
    process.stderr.write(`nevermisscall could not start: ${known ? message : message.split('\n')[0]}\n`);
    if (!known) logger.error({ err }, 'start failed');
    process.exit(1);
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      process.stderr.write('shutdown took longer than 10 s; exiting\n');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    system.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // Started by a wrapper (npm, a shell) that was stopped without passing the signal on, this process
  // is re-parented; it then stops too rather than keep serving with nobody to stop it.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) shutdown('parent exited');
  }, PARENT_CHECK_MS).unref();

  const api = system.apiUrl ?? '(not served: NMC_ROLE=worker)';
  process.stdout.write(
    [
      '',
      `NeverMissCall is running (role ${config.NMC_ROLE}${config.embeddedPostgres ? ', embedded Postgres' : ''})`,
      `  API        ${api}`,
      `  Docs       ${api}/docs   (OpenAPI: ${api}/openapi.json)`,
      `  Metrics    ${api}/metrics`,
      `  Health     ${api}/healthz  ${api}/readyz`,
      `  Twilio     ${system.twilioSandbox ? `sandbox at ${system.twilioSandbox.url} (demo number +15005550006)` : 'real account'}`,
      '  Try it     npm run nmc -- phone missed --from +13105551212   (a missed call from a caller)',
      '  Token      npm run nmc -- token --tenant demo --role OWNER  (then: curl -H "Authorization: Bearer …" …/api/v1/conversations)',
      '',
    ].join('\n'),
  );
}

void main();
