import type { IncomingMessage, ServerResponse } from 'node:http';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  LogController,
  type RawServerDefault,
} from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { PgBoss } from 'pg-boss';
import type { Config } from '../config.ts';
import type { Action } from '../domain/authorization.ts';
import { AppError } from '../domain/errors.ts';
import type { InterpretReply } from '../domain/reply-hint.ts';
import type { Keyring } from '../domain/token-encryption.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Pool } from '../persistence/db.ts';
import type { DevIssuer } from '../providers/auth/dev-issuer.ts';
import type { CalendarSandboxOwner } from '../providers/google/sandbox/server.ts';
import type { StripeClient } from '../providers/stripe/client.ts';
import type { TenDlcProvider } from '../providers/ten-dlc/provider.ts';
import type { CalendarDeps } from '../runtime/calendar/calendar-deps.ts';
import type { Dispatch } from '../runtime/dispatch.ts';
import type { ProvisioningDeps } from '../runtime/provisioning/provisioning-deps.ts';
import type { StreamHub } from '../runtime/stream-hub.ts';
import { acceptEmptyJsonBody } from './action-body.ts';
import { registerAudit } from './audit.ts';
import { authenticate, authorize } from './auth/authenticate.ts';
import type { TokenVerifier } from './auth/token-verifier.ts';
import { CORRELATION_HEADER, correlationIdFor } from './correlation-id.ts';
import { registerErrorHandling } from './error-handler.ts';
import { registerIdempotency } from './idempotency.ts';
import { openApiOptions } from './openapi/publish-document.ts';
import { alertRoutes } from './routes/alerts.ts';
import { appointmentRoutes } from './routes/appointments.ts';
import { billingRoutes } from './routes/billing.ts';
import { calendarRoutes } from './routes/calendar.ts';
import { catalogRoutes } from './routes/catalog.ts';
import { complianceRoutes } from './routes/compliance.ts';
import { conversationAssignRoutes } from './routes/conversation-assign.ts';
import { conversationNoteRoutes } from './routes/conversation-notes.ts';
import { conversationRoutes } from './routes/conversations.ts';
import { DEV_WEB_CLIENT_ID, devIssuerRoutes } from './routes/dev-issuer.ts';
import { googleCalendarWebhookRoutes } from './routes/google-calendar-webhook.ts';
import { jobberWebhookRoutes } from './routes/jobber-webhook.ts';
import { messagingSettingsRoutes } from './routes/messaging-settings.ts';
import { onboardingRoutes } from './routes/onboarding.ts';
import { opsRoutes } from './routes/ops.ts';
import { portalRoutes } from './routes/portal.ts';
import { provisioningRoutes } from './routes/provisioning.ts';
import { publicBookingRoutes } from './routes/public-booking.ts';
import { quickReplyRoutes } from './routes/quick-replies.ts';
import { reportRoutes } from './routes/reports.ts';
import { schedulingRoutes } from './routes/scheduling.ts';
import { staffRoutes } from './routes/staff.ts';
import { streamRoutes } from './routes/stream.ts';
import { stripeWebhookRoutes } from './routes/stripe-webhook.ts';
import { twilioSmsRoutes } from './routes/twilio-sms.ts';
import { twilioSmsStatusRoutes } from './routes/twilio-sms-status.ts';
import { twilioVoiceRoutes } from './routes/twilio-voice.ts';
import { userRoutes } from './routes/users.ts';
import { isApiSurface, type Surface, surfaceOfRoute } from './surface.ts';
import { registerTracingHooks } from './tracing-hooks.ts';
import { createOidcClient, type OidcClient } from './web/oidc-client.ts';
import { type PhoneSimulatorDeps, phoneSimulatorRoutes } from './web/phone-simulator-routes.ts';
import { webSessionSettings } from './web/session-cookie.ts';
import { signInRoutes } from './web/sign-in-routes.ts';
import { webAppRoutes } from './web/web-app-routes.ts';
import { createWebSessionStore } from './web/web-session-store.ts';
import { registerWellFormedText } from './well-formed-text.ts';

export type AppDeps = {
  config: Config;
  db: Pool;
  logger: Logger;
  metrics: Metrics;
  readiness: { workersRunning(): boolean; migrationsApplied(): Promise<boolean> };
  build: { version: string; commit: string; startedAt: string };
  dispatch: Dispatch;
  /** The 10DLC registration provider (the sandbox's unless a real one is configured). */
  tenDlc: TenDlcProvider;
  /** To insert jobs (e.g. a hold's expiry) with the API's own writes. */
  boss: Pick<PgBoss, 'send'>;
  /** The token Twilio signs webhooks with (the sandbox's when no real account is configured). */
  twilio: { authToken: string; accountSid: string };
  /**
   * Told when a call starts ringing: a missed call's text follows within seconds, so the SMS
   * sender (a lazily loaded SDK) is made ready while the phone rings, not while the caller waits.
   */
  warmSmsSender?: () => void;
  auth: {
    verify: TokenVerifier;
    orgClaim: string;
    roleClaim: string;
    /** Members of this organisation are platform STAFF; null when no organisation is. */
    staffOrgId: string | null;
    devIssuer?: DevIssuer;
  };
  /** The live-stream hub; without it GET /api/v1/stream answers 503 `unavailable`. */
  streamHub?: StreamHub;
  /** Stripe (the sandbox's when no real account is configured); without it billing answers 503. */
  stripe?: { client: StripeClient; webhookSecret: string };
  /** Signs and verifies customers' portal tokens (src/runtime/portal/portal-token.ts). */
  portalKey?: Uint8Array;
  /** The platform keyring: seals the web app's session tokens; without it web sign-in is unavailable. */
  keyring?: Keyring;
  /** The optional language model (LLM_BASE_URL): reads inbound texts into hints; absent = deterministic only. */
  interpretReply?: InterpretReply;
  /** Tenant provisioning and reconciliation (the staff API); without it those routes answer 503. */
  provisioning?: ProvisioningDeps;
  /** Calendar connections, sync and the Google push webhook; without it those routes answer 503. */
  calendar?: CalendarDeps;
  /** The Google sandbox's owner side (outside production only): add events as in Google Calendar. */
  calendarSandbox?: CalendarSandboxOwner;
  /** The built web app to serve under /app (src/web-build.ts); absent: /app serves nothing but sign-in. */
  webApp?: { dist: string };
  /** The phone simulator (/app/phone): only with the Twilio sandbox, never in production. */
  phoneSimulator?: Omit<PhoneSimulatorDeps, 'session'>;
};

/** Every /api route with what it does: the authorization matrix test is built from this table. */
export type ApiRoute = {
  method: string;
  url: string;
  action: Action | null;
  audit: boolean;
  public: boolean;
};

/** Every route the app serves (HEAD included), with the surface it was registered under. */
export type RouteEntry = { method: string; url: string; surface: Surface };

declare module 'fastify' {
  interface FastifyInstance {
    apiRoutes: ApiRoute[];
    routeTable: RouteEntry[];
  }
}

export type App = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export const BODY_LIMIT_BYTES = 256 * 1024;

/** Fastify's form of TRUST_PROXY: a hop count trusts the nearest `hops` proxies (as proxy-addr reads a number). */
function trustProxyOption(
  setting: Config['TRUST_PROXY'],
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof setting === 'number') return (_address, hop) => hop < setting;
  return setting;
}

/** The web app's OIDC client: the dev issuer's public client, or the configured one; null when none is. */
function webOidcClient(deps: AppDeps): OidcClient | null {
  const redirectUri = `${deps.config.PUBLIC_BASE_URL}/app/callback`;
  const devIssuer = deps.auth.devIssuer;
  if (devIssuer)
    return createOidcClient({
      issuer: devIssuer.issuer,
      clientId: DEV_WEB_CLIENT_ID,
      dev: true,
      redirectUri,
    });
  const { AUTH_ISSUER, AUTH_WEB_CLIENT_ID, AUTH_WEB_CLIENT_SECRET } = deps.config;
  if (!AUTH_ISSUER || !AUTH_WEB_CLIENT_ID) return null;
  return createOidcClient({
    issuer: AUTH_ISSUER,
    clientId: AUTH_WEB_CLIENT_ID,
    ...(AUTH_WEB_CLIENT_SECRET ? { clientSecret: AUTH_WEB_CLIENT_SECRET } : {}),
    dev: false,
    redirectUri,
  });
}

/** Builds the HTTP application; never listens (server.ts does), so tests can build many. */
export async function buildApp(deps: AppDeps): Promise<App> {
  const webSession = webSessionSettings(deps.config.PUBLIC_BASE_URL);
  const oidc = webOidcClient(deps);
  const webSessions = deps.keyring
    ? createWebSessionStore({ db: deps.db, keyring: deps.keyring, oidc, verify: deps.auth.verify })
    : null;
  const sessionAuth = webSessions ? { webSession, sessionAccessToken: webSessions.accessToken } : {};
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    genReqId: correlationIdFor,
    // Request lines are written by the onResponse hook below, with the route instead of the raw URL
    // (a URL can carry a phone number or a token).
    logController: new LogController({ requestIdLogLabel: 'correlation_id', disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    // Off unless TRUST_PROXY names the proxies (a hop count or their addresses): then request.ip is
    // the client X-Forwarded-For names, for the public API's per-address rate limit.
    trustProxy: trustProxyOption(deps.config.TRUST_PROXY),
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandling(app);
  // First of the request hooks: everything after it runs inside the request's span.
  registerTracingHooks(app);
  // Before the authentication hook below, which reads the web app's session cookie.
  await app.register(cookie);
  registerWellFormedText(app);
  acceptEmptyJsonBody(app);

  // Every /api route must say what it does (or be explicitly public): no route slips past
  // authorization by omission.
  const apiRoutes: ApiRoute[] = [];
  app.decorate('apiRoutes', apiRoutes);
  const routeTable: RouteEntry[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    const surface = surfaceOfRoute(route.url);
    route.config = { ...route.config, surface };
    for (const method of [route.method].flat()) routeTable.push({ method, url: route.url, surface });
    if (!isApiSurface(surface)) return;
    const action = route.config.action ?? null;
    const isPublic = route.config.public === true;
    if (surface === 'public' && !isPublic) {
      throw new Error(`route ${route.method} ${route.url}: every /api/public route is public`);
    }
    if (!action && !isPublic) throw new Error(`route ${route.method} ${route.url} names no action`);
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      apiRoutes.push({
        method,
        url: route.url,
        action,
        audit: route.config?.audit === true,
        public: isPublic,
      });
    }
  });
  // Authentication and authorization for the operator and staff surfaces, from the matched route.
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    if ((config?.surface !== 'operator' && config?.surface !== 'staff') || config.public) return;
    if (!config.action) throw new AppError('forbidden', 'this route names no action');
    request.principal = await authenticate(request, { db: deps.db, ...deps.auth, ...sessionAuth });
    authorize(request.principal, config.action);
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header(CORRELATION_HEADER, request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    deps.metrics.httpDuration
      .labels({ method: request.method, route, status: String(reply.statusCode) })
      .observe(reply.elapsedTime / 1000);
    request.log.info(
      { method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request',
    );
  });

  await app.register(formbody, { bodyLimit: BODY_LIMIT_BYTES });
  // Per tenant for the operator API, per client address for the public API; webhooks and ops
  // routes are not limited here. Counters live in this process's memory (see README).
  await app.register(rateLimit, {
    global: true,
    // Route-level onRequest: after authentication (app-level onRequest), before the idempotency
    // claim (preHandler), so a rejected request never claims a key.
    hook: 'onRequest',
    max: deps.config.RATE_LIMIT_PER_MINUTE,
    timeWindow: 60_000,
    allowList: (request) => !isApiSurface(request.routeOptions.config?.surface),
    keyGenerator: (request) => request.principal?.tenantId ?? `ip:${request.ip}`,
    errorResponseBuilder: (_request, context) =>
      new AppError('rate_limited', `too many requests; retry in ${Math.ceil(context.ttl / 1000)} s`, {
        headers: { 'retry-after': String(Math.ceil(context.ttl / 1000)) },
      }),
  });
  registerIdempotency(app, deps.db);
  registerAudit(app, deps.db, deps.logger);
  await app.register(swagger, openApiOptions(deps.config, deps.build.version));
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(opsRoutes(deps));
  await app.register(twilioVoiceRoutes(deps));
  await app.register(twilioSmsRoutes(deps));
  await app.register(twilioSmsStatusRoutes(deps));
  await app.register(conversationRoutes(deps));
  await app.register(conversationAssignRoutes(deps));
  await app.register(conversationNoteRoutes(deps));
  await app.register(quickReplyRoutes(deps));
  await app.register(messagingSettingsRoutes(deps));
  await app.register(userRoutes(deps));
  await app.register(alertRoutes(deps));
  await app.register(catalogRoutes(deps));
  await app.register(complianceRoutes(deps));
  await app.register(staffRoutes(deps));
  await app.register(provisioningRoutes(deps));
  await app.register(onboardingRoutes(deps));
  await app.register(schedulingRoutes(deps));
  await app.register(appointmentRoutes(deps));
  await app.register(reportRoutes(deps));
  await app.register(portalRoutes(deps));
  await app.register(publicBookingRoutes(deps));
  await app.register(streamRoutes(deps));
  await app.register(stripeWebhookRoutes(deps));
  await app.register(billingRoutes(deps));
  await app.register(calendarRoutes(deps));
  await app.register(googleCalendarWebhookRoutes(deps));
  await app.register(jobberWebhookRoutes(deps));
  const devIssuer = deps.auth.devIssuer;
  if (devIssuer) {
    await app.register(
      devIssuerRoutes({
        devIssuer,
        staffOrgId: deps.auth.staffOrgId,
        publicBaseUrl: deps.config.PUBLIC_BASE_URL,
      }),
    );
  }
  const production = deps.config.NODE_ENV === 'production';
  await app.register(
    signInRoutes({
      app: deps,
      oidc,
      sessions: webSessions,
      session: webSession,
      devLogin: devIssuer && !production ? { staffOrgId: deps.auth.staffOrgId } : null,
      phoneSimulator: Boolean(deps.phoneSimulator) && !production,
    }),
  );
  if (deps.phoneSimulator && !production) {
    await app.register(phoneSimulatorRoutes({ ...deps.phoneSimulator, session: webSession }));
  }
  if (deps.webApp) await app.register(webAppRoutes(deps.webApp));

  return app;
}
