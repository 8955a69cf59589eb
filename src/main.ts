import { ConfigError, loadConfig } from './config.ts';
import { chooseLogFormat, createLogger } from './observability/logger.ts';
import { registerTracing, tracingRequested } from './observability/tracing-sdk.ts';
import { EmbeddedPostgresError } from './persistence/embedded-postgres.ts';
import { removeServerLocation, withoutPassword, writeServerLocation } from './server-location.ts';
import { startSystem } from './system.ts';
import { ensureWebBuildInChild } from './web-build.ts';

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
  const logger = createLogger(
    config.LOG_LEVEL,
    undefined,
    chooseLogFormat(config.LOG_FORMAT, process.stdout.isTTY === true),
  );
  // The web app is built here when web/ changed (or was never built), so `npm ci && npm start`
  // serves it with no third command. Without the build tools (an install without dev
  // dependencies) the last build is served, or a page that says how to build it.
  if (config.NMC_ROLE !== 'worker') {
    await ensureWebBuildInChild((line) => logger.info(line)).catch((err: unknown) =>
      logger.warn({ err }, 'the web app could not be built; /app serves the last build, if any'),
    );
  }
  // Traces when the standard OTEL_* variables ask for them (docs/operations.md, Traces).
  const tracing = tracingRequested(process.env)
    ? await registerTracing({ serviceName: `nevermisscall-${config.NMC_ROLE}` })
    : null;
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
      async () => {
        await tracing?.shutdown().catch(() => undefined);
        process.exit(0);
      },
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

  // The CLI in another terminal finds this server through this file; it goes when the process does.
  await writeServerLocation(config.NMC_DATA_DIR, {
    api_url: system.apiUrl ?? null,
    public_base_url: config.PUBLIC_BASE_URL,
    twilio_sandbox_url: system.twilioSandbox?.url ?? null,
    stripe_sandbox_url: system.stripeSandbox?.url ?? null,
    database_url: withoutPassword(system.databaseUrl),
    pid: process.pid,
    started_at: new Date().toISOString(),
  }).catch((err: unknown) =>
    logger.warn({ err }, 'could not write the server location file; the CLI will need --url'),
  );
  process.on('exit', () => removeServerLocation(config.NMC_DATA_DIR, process.pid));

  const api = system.apiUrl ?? '(not served: NMC_ROLE=worker)';
  process.stdout.write(
    [
      '',
      `NeverMissCall is running (role ${config.NMC_ROLE}${config.embeddedPostgres ? ', embedded Postgres' : ''})`,
      `  API        ${api}`,
      `  Web app    ${api}/app${devLogin(config, system)}`,
      `  Docs       ${api}/docs   (OpenAPI: ${api}/openapi.json)`,
      `  Metrics    ${api}/metrics`,
      `  Health     ${api}/healthz  ${api}/readyz`,
      `  Twilio     ${system.twilioSandbox ? `sandbox at ${system.twilioSandbox.url} (demo number +15005550006)` : 'real account'}`,
      `  Stripe     ${system.stripeSandbox ? `sandbox at ${system.stripeSandbox.url}` : 'real account (or STRIPE_API_BASE_URL)'}`,
      `  Google     ${system.googleSandbox ? `calendar sandbox at ${system.googleSandbox.url} (connect: GET /api/v1/resources/:id/calendar/connect)` : system.calendar ? 'real OAuth client' : 'not configured'}`,
      '  Try it     npm run nmc -- phone missed --from +13105550123   (a missed call; prints the texts the caller gets)',
      '  Reply      npm run nmc -- phone sms --from +13105550123 --body "a leak under the sink"',
      "  Watch      npm run nmc -- phone watch --from +13105550123   (a caller's texts, live)",
      '  Inbox      npm run nmc -- conversations list              (all commands: npm run nmc -- --help)',
      '',
    ].join('\n'),
  );
}

/** The dev-login link for the banner: only with the dev issuer, outside production. */
function devLogin(
  config: ReturnType<typeof loadConfig>,
  system: Awaited<ReturnType<typeof startSystem>>,
): string {
  if (config.NODE_ENV === 'production' || config.AUTH_JWKS_URL || !system.apiUrl) return '';
  const phone = system.twilioSandbox
    ? `\n  Phone      ${config.PUBLIC_BASE_URL}/app/phone   (a caller's phone, in the browser)`
    : '';
  return `   sign in: ${config.PUBLIC_BASE_URL}/app/dev-login?tenant=demo&role=OWNER${phone}`;
}

void main();
