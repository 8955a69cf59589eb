import type { IncomingMessage, ServerResponse } from 'node:http';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  LogController,
  type RawServerDefault,
} from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Config } from '../config.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Pool } from '../persistence/db.ts';
import type { Dispatch } from '../runtime/dispatch.ts';
import { CORRELATION_HEADER, correlationIdFor } from './correlation-id.ts';
import { registerErrorHandling } from './error-handler.ts';
import { opsRoutes } from './routes/ops.ts';
import { twilioSmsRoutes } from './routes/twilio-sms.ts';
import { twilioSmsStatusRoutes } from './routes/twilio-sms-status.ts';
import { twilioVoiceRoutes } from './routes/twilio-voice.ts';

export type AppDeps = {
  config: Config;
  db: Pool;
  logger: Logger;
  metrics: Metrics;
  readiness: { workersRunning(): boolean; migrationsApplied(): Promise<boolean> };
  build: { version: string; commit: string; startedAt: string };
  dispatch: Dispatch;
  /** The token Twilio signs webhooks with (the sandbox's when no real account is configured). */
  twilio: { authToken: string };
};

export type App = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export const BODY_LIMIT_BYTES = 256 * 1024;

/** Builds the HTTP application; never listens (server.ts does), so tests can build many. */
export async function buildApp(deps: AppDeps): Promise<App> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    genReqId: correlationIdFor,
    // Request lines are written by the onResponse hook below, with the route instead of the raw URL
    // (a URL can carry a phone number or a token).
    logController: new LogController({ requestIdLogLabel: 'correlation_id', disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: false,
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandling(app);

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
  await app.register(swagger, {
    openapi: {
      info: { title: 'NeverMissCall API', version: deps.build.version },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(opsRoutes(deps));
  await app.register(twilioVoiceRoutes(deps));
  await app.register(twilioSmsRoutes(deps));
  await app.register(twilioSmsStatusRoutes(deps));

  return app;
}
