import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { PgBoss } from 'pg-boss';
import type { Config } from './config.ts';
import { type App, buildApp } from './http/app.ts';
import type { Logger } from './observability/logger.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import { registerObjectiveGauges } from './observability/objective-metrics.ts';
import { createPool, type Pool } from './persistence/db.ts';
import { migrate, migrationsApplied } from './persistence/migrate.ts';
import { openDatabase } from './persistence/open-database.ts';
import { seedDemo } from './persistence/seed-demo.ts';
import { seedDemoScheduling } from './persistence/seed-demo-scheduling.ts';
import { createOperatorAuth } from './providers/auth/operator-auth.ts';
import { openGoogle } from './providers/google/open-google.ts';
import type { GoogleSandbox } from './providers/google/sandbox/server.ts';
import { openJobber } from './providers/jobber/open-jobber.ts';
import type { JobberSandbox } from './providers/jobber/sandbox/server.ts';
import { buildSoon } from './providers/lazy-sdk.ts';
import { openStripe } from './providers/stripe/open-stripe.ts';
import type { StripeSandbox } from './providers/stripe/sandbox/server.ts';
import { createSandboxTenDlc } from './providers/ten-dlc/provider.ts';
import { twilioAccountFrom } from './providers/twilio/account.ts';
import { createTwilioClient } from './providers/twilio/client.ts';
import type { TwilioSandbox } from './providers/twilio/sandbox/server.ts';
import { alertSubscriber } from './runtime/alerts/raise-alert.ts';
import { createAlertReminder } from './runtime/alerts/remind-alert.ts';
import { createAlertSender } from './runtime/alerts/send-alert-text.ts';
import { readGatesFromBilling } from './runtime/billing-gates.ts';
import { createBoss } from './runtime/boss.ts';
import type { CalendarDeps } from './runtime/calendar/calendar-deps.ts';
import { calendarDriftCheck } from './runtime/calendar/calendar-drift-check.ts';
import { loadKeyring } from './runtime/calendar/keyring.ts';
import { rotateTokens } from './runtime/calendar/token-vault.ts';
import { calendarWriteSubscriber } from './runtime/calendar/write-back.ts';
import { createDispatch } from './runtime/dispatch.ts';
import { domainLogSubscriber } from './runtime/domain-log.ts';
import { ensureQueues } from './runtime/job-queues.ts';
import { createStatusPoller } from './runtime/poll-sms-status.ts';
import { portalLinks } from './runtime/portal/portal-links.ts';
import { portalKey } from './runtime/portal/portal-token.ts';
import type { ProvisioningDeps } from './runtime/provisioning/provisioning-deps.ts';
import { followUpSubscriber } from './runtime/reminders/follow-up.ts';
import { reminderScheduler } from './runtime/reminders/schedule-reminders.ts';
import { reportSubscriber } from './runtime/reports/report-subscriber.ts';
import { appointmentChangeSubscriber } from './runtime/scheduling/tell-conversation.ts';
import { createSendNow, type SendNow } from './runtime/send-now.ts';
import { createSmsSender } from './runtime/send-sms.ts';
import { createStreamHub } from './runtime/stream-hub.ts';
import { campaignStatusSubscriber } from './runtime/ten-dlc.ts';
import { createTenantFactsCache } from './runtime/tenant-facts.ts';
import { startWorkers } from './runtime/workers.ts';
import { WEB_DIST } from './web-build.ts';

// The composition root: opens the database, migrates, seeds, starts the jobs, the workers and the
// HTTP API according to NMC_ROLE, and stops them all in reverse order.

export type System = {
  config: Config;
  db: Pool;
  boss: PgBoss;
  app?: App;
  metrics: Metrics;
  databaseUrl: string;
  apiUrl?: string;
  twilioSandbox?: TwilioSandbox;
  stripeSandbox?: StripeSandbox;
  googleSandbox?: GoogleSandbox;
  jobberSandbox?: JobberSandbox;
  /** Calendar sync and write-back; absent in production without Google or Jobber credentials. */
  calendar?: CalendarDeps;
  stop(): Promise<void>;
};

const STOP_STEP_TIMEOUT_MS = 2_500;
/** The platform's sender against the Twilio sandbox (a 555-01xx number, never a real one). */
export const SANDBOX_PLATFORM_SENDER = '+15555550100';

export function buildInfo(): { version: string; commit: string; startedAt: string } {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  let commit = process.env.GIT_COMMIT ?? 'unknown';
  if (commit === 'unknown') {
    try {
      commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim();
    } catch {
      // not a git checkout
    }
  }
  return { version: pkg.version, commit, startedAt: new Date().toISOString() };
}

/** The phone simulator's parts: a simulated phone signing webhooks for this server, and the sandbox's texts. */
async function phoneSimulatorFor(
  config: Config,
  sandbox: TwilioSandbox,
  account: { authToken: string; accountSid: string },
) {
  // Loaded only when used, like the sandbox itself.
  const { createSimulatedPhone } = await import('./providers/twilio/sandbox/phone.ts');
  const { DEMO } = await import('./persistence/seed-demo.ts');
  const host = ['0.0.0.0', '::'].includes(config.HOST) ? '127.0.0.1' : config.HOST;
  return {
    phone: createSimulatedPhone({
      appBaseUrl: `http://${host.includes(':') ? `[${host}]` : host}:${config.PORT}`,
      publicBaseUrl: config.PUBLIC_BASE_URL,
      authToken: account.authToken,
      accountSid: account.accountSid,
    }),
    traffic: {
      messages: () => sandbox.messages(),
      onChange: (listener: () => void) => {
        const subscription = sandbox.store.subscribe(() => listener());
        return () => subscription.unsubscribe();
      },
    },
    businessNumber: DEMO.twilio_number,
  };
}

export async function startSystem(config: Config, logger: Logger): Promise<System> {
  // Shutdown steps, run in reverse order of start; each is named so a slow one shows in the log.
  const stops: Array<{ name: string; stop: () => Promise<void> }> = [];
  const onStop = (name: string, stop: () => Promise<void>) => stops.push({ name, stop });
  let stopping = false;
  const stopAll = async () => {
    stopping = true;
    for (const { name, stop } of stops.reverse()) {
      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      // A step that hangs (a connection that never closes) must not keep the rest from stopping.
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), STOP_STEP_TIMEOUT_MS);
      });
      const outcome = await Promise.race([
        stop().catch((err: unknown) => logger.error({ err, step: name }, 'shutdown step failed')),
        timeout,
      ]);
      clearTimeout(timer);
      if (outcome === 'timeout')
        logger.warn({ step: name }, 'shutdown step did not finish in time; going on');
      else logger.debug({ step: name, ms: Date.now() - started }, 'stopped');
    }
  };
  try {
    const database = await openDatabase(config, logger);
    onStop('database', () => database.stop());
    const db = createPool(database.url);
    onStop('pool', () => db.end());
    const applied = await migrate(db);
    if (applied.length > 0) logger.info({ migrations: applied }, 'migrations applied');
    if (config.NMC_DEMO) await seedDemo(db, [seedDemoScheduling]);

    const runsWorkers = config.NMC_ROLE !== 'api';
    const boss = createBoss({ connectionString: database.url, supervise: runsWorkers });
    // pg-boss may still hold a connection when its stop() resolves; Postgres ending it during our
    // own shutdown is expected, not an error worth a stack trace.
    boss.on('error', (err) => {
      if (stopping) logger.debug({ err }, 'job queue connection ended during shutdown');
      else logger.error({ err }, 'job queue error');
    });
    await boss.start();
    onStop('jobs', () => boss.stop({ graceful: true, timeout: 5_000 }));
    await ensureQueues(boss);

    const metrics = createMetrics();
    registerObjectiveGauges(metrics, { db, boss });
    const tenDlc = createSandboxTenDlc();
    const readGates = readGatesFromBilling;
    // One copy of the tenants' facts per process, for the conversation engine and the sender alike.
    const tenantFacts = createTenantFactsCache();
    // Where the sender runs (the workers' role), the texts a transaction queues go out right after
    // its commit; the sender needs `dispatch` itself, hence set below.
    let sendNow: SendNow | undefined;
    // The customer's page links that confirmations (dispatch) and reminders (workers) carry.
    const appointmentLinks = portalLinks({ db, publicBaseUrl: config.PUBLIC_BASE_URL });
    const dispatch = createDispatch({
      db,
      boss,
      readGates,
      tenantFacts,
      sendNow: (sends) => sendNow?.(sends),
      metrics,
      logger,
      holdTtlMinutes: config.HOLD_TTL_MINUTES,
      portalLinks: appointmentLinks,
    });

    // Twilio: the real account when configured, else the sandbox on a loopback port of its own.
    let account = twilioAccountFrom(config);
    let twilioSandbox: TwilioSandbox | undefined;
    if (account.sandbox && !account.apiBaseUrl && runsWorkers) {
      // Loaded only when used: a system on a real account never carries the sandbox's code.
      const { startTwilioSandbox } = await import('./providers/twilio/sandbox/server.ts');
      const sandbox = await startTwilioSandbox({
        accountSid: account.accountSid,
        authToken: account.authToken,
        logger,
      });
      onStop('twilio-sandbox', () => sandbox.close());
      twilioSandbox = sandbox;
      account = { ...account, apiBaseUrl: sandbox.url };
    }
    const twilio = createTwilioClient(account);

    // Google Calendar: the real OAuth client when configured, else the sandbox (outside production).
    const keyring = await loadKeyring(config);
    const google = await openGoogle(config, logger);
    onStop('google', () => google.close());
    // Jobber, the second calendar provider: the real app when configured, else its sandbox.
    const jobber = await openJobber(config, logger);
    onStop('jobber', () => jobber.close());
    // Either provider is enough: a deployment may offer Google Calendar, Jobber, or both.
    const calendar: CalendarDeps | undefined =
      google.provider || jobber.provider
        ? {
            db,
            boss,
            ...(google.provider ? { provider: google.provider } : {}),
            ...(jobber.provider
              ? { jobber: { provider: jobber.provider, clientSecret: jobber.clientSecret } }
              : {}),
            keyring,
            publicBaseUrl: config.PUBLIC_BASE_URL,
            logger,
          }
        : undefined;
    if (runsWorkers) {
      // A new key put first in NMC_ENCRYPTION_KEY: re-seal every stored token under it.
      const sealed = await rotateTokens(db, keyring);
      if (sealed.rotated > 0) logger.info(sealed, 'calendar tokens re-sealed under the current key');
      if (sealed.unreadable > 0)
        logger.error(sealed, 'calendar tokens no key opens; their owners must reconnect');
    }

    // Stripe: the real account when configured, else the sandbox on a loopback port of its own. The
    // API takes payments with it, the workers provision tenants with it.
    const stripe = await openStripe(config, logger);
    onStop('stripe', () => stripe.close());
    // Convergence and reconciliation (src/runtime/provisioning): the same SDK clients as the rest.
    const provisioning: ProvisioningDeps = {
      db,
      boss,
      twilio,
      stripe: stripe.client,
      webhookBaseUrl: config.PUBLIC_BASE_URL,
      logger,
      ...(calendar ? { driftChecks: [calendarDriftCheck(calendar)] } : {}),
      // Onboarding's verification texts: the configured number, or a fixed one against the sandbox.
      ...(config.NMC_PLATFORM_SMS_FROM || account.sandbox
        ? { platformSmsFrom: config.NMC_PLATFORM_SMS_FROM ?? SANDBOX_PLATFORM_SENDER }
        : {}),
    };

    let workers: { running(): boolean } = { running: () => true };
    if (runsWorkers) {
      const sendSms = createSmsSender({
        db,
        boss,
        twilio,
        publicBaseUrl: config.PUBLIC_BASE_URL,
        readGates,
        tenantFacts,
        dispatch,
        logger,
        metrics,
      });
      const immediate = createSendNow({ db, boss, send: sendSms, logger });
      sendNow = immediate;
      onStop('immediate sends', async () => {
        sendNow = undefined;
        await immediate.idle();
      });
      const started = await startWorkers({
        db,
        boss,
        connectionString: database.url,
        dispatch,
        appointmentLinks,
        sendSms,
        pollSmsStatus: createStatusPoller({ db, twilio }),
        sendAlertText: createAlertSender({ db, boss, twilio, readGates, logger, metrics }),
        remindAlert: createAlertReminder({ db, boss, publicBaseUrl: config.PUBLIC_BASE_URL }),
        subscribers: [
          domainLogSubscriber(logger),
          reportSubscriber(db),
          reminderScheduler({ db, boss }),
          followUpSubscriber({ db, dispatch }),
          appointmentChangeSubscriber({ db, dispatch }),
          campaignStatusSubscriber(db, dispatch),
          alertSubscriber({ db, boss, publicBaseUrl: config.PUBLIC_BASE_URL, logger }),
          ...(calendar ? [calendarWriteSubscriber(calendar)] : []),
        ],
        ...(calendar ? { calendar } : {}),
        provisioning,
        tenDlc,
        outboxBatchSize: config.OUTBOX_BATCH_SIZE,
        logger,
        metrics,
      });
      workers = started;
      onStop('workers', () => started.stop());
    }

    const system: System = { config, db, boss, metrics, databaseUrl: database.url, stop: stopAll };
    if (twilioSandbox) system.twilioSandbox = twilioSandbox;
    if (google.sandbox) system.googleSandbox = google.sandbox;
    if (jobber.sandbox) system.jobberSandbox = jobber.sandbox;
    if (calendar) system.calendar = calendar;
    if (stripe.sandbox) system.stripeSandbox = stripe.sandbox;
    if (config.NMC_ROLE !== 'worker') {
      const streamHub = createStreamHub({ db, connectionString: database.url, logger });
      await streamHub.start();
      onStop('stream-hub', () => streamHub.stop());
      // The language model only when configured (and its client only then loaded): without it the
      // assistant is deterministic.
      const interpretReply = config.LLM_BASE_URL
        ? (await import('./providers/llm/client.ts')).createReplyInterpreter({
            baseUrl: config.LLM_BASE_URL,
            ...(config.LLM_API_KEY ? { apiKey: config.LLM_API_KEY } : {}),
            model: config.LLM_MODEL ?? 'gpt-4o-mini',
            logger,
          }).interpret
        : undefined;
      const app = await buildApp({
        config,
        portalKey: portalKey(keyring),
        keyring,
        db,
        logger,
        metrics,
        build: buildInfo(),
        readiness: {
          workersRunning: () => workers.running(),
          migrationsApplied: () => migrationsApplied(db),
        },
        dispatch,
        boss,
        tenDlc,
        twilio: { authToken: account.authToken, accountSid: account.accountSid },
        warmSmsSender: () => buildSoon(twilio),
        auth: await createOperatorAuth(config),
        streamHub,
        stripe: { client: stripe.client, webhookSecret: stripe.webhookSecret },
        provisioning,
        ...(interpretReply ? { interpretReply } : {}),
        ...(calendar ? { calendar } : {}),
        ...(google.sandbox && config.NODE_ENV !== 'production' ? { calendarSandbox: google.sandbox } : {}),
        webApp: { dist: WEB_DIST },
        ...(twilioSandbox && config.NODE_ENV !== 'production'
          ? { phoneSimulator: await phoneSimulatorFor(config, twilioSandbox, account) }
          : {}),
      });
      system.app = app;
      system.apiUrl = await app.listen({ port: config.PORT, host: config.HOST });
      onStop('http', async () => {
        // In-flight requests get a moment to finish; keep-alive connections that stay open (a
        // provider's callback client) are then closed rather than waited for.
        const closing = app.close();
        await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
        app.server.closeAllConnections();
        await closing;
      });
    }
    return system;
  } catch (err) {
    await stopAll();
    throw err;
  }
}
