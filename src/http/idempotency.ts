import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../domain/errors.ts';
import type { Pool } from '../persistence/db.ts';
import { isApiSurface } from './surface.ts';

// X-Idempotency-Key on every POST/PUT/PATCH of /api/*: the same key and request → the stored
// response again; the same key with another request → 422 idempotency_key_reused; the same key twice
// at once → one executes and the other waits for its response. Keys are scoped to the tenant (or the
// platform, for staff; or the organisation, while it onboards) and the route, and kept 24 hours. A 5xx or a 429 is not stored, so a retry runs again.

export const IDEMPOTENCY_HEADER = 'x-idempotency-key';
const KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;
const TTL_HOURS = 24;
const WAIT_FOR_RUNNING_MS = 10_000;
export const PLATFORM_SCOPE = '00000000-0000-0000-0000-000000000000';

/** An organisation still onboarding has no tenant: its keys get a scope of its own, derived from it. */
function onboardingScope(org: string): string {
  const h = createHash('sha256').update(`onboarding:${org}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

type Claim = { tenantId: string; scope: string; key: string };

declare module 'fastify' {
  interface FastifyRequest {
    idempotency?: Claim;
    /** Set by public routes, whose tenant comes from the slug. */
    publicTenantId?: string;
  }
}

// The request as the route read it (decoded params and query), not as it was spelled: `/api/v1/%68olds`
// and `/api/v1/holds` are the same request.
function requestHash(request: FastifyRequest): string {
  const read = [request.params ?? null, request.query ?? null, request.body ?? null];
  return createHash('sha256')
    .update(`${request.method} ${request.routeOptions.url}\n${JSON.stringify(read)}`)
    .digest('hex');
}

async function replay(reply: FastifyReply, row: { response_status: number; response_body: unknown }) {
  reply.header('idempotent-replayed', 'true');
  return reply
    .code(row.response_status)
    .type('application/json; charset=utf-8')
    .serializer((body: unknown) => JSON.stringify(body))
    .send(row.response_body);
}

export function registerIdempotency(app: FastifyInstance, db: Pool): void {
  app.addHook('preHandler', async (request, reply) => {
    if (!['POST', 'PUT', 'PATCH'].includes(request.method)) return;
    if (!isApiSurface(request.routeOptions.config?.surface)) return;
    const header = request.headers[IDEMPOTENCY_HEADER];
    if (header === undefined) return;
    const key = Array.isArray(header) ? header[0] : header;
    if (!key || !KEY_PATTERN.test(key)) {
      throw new AppError('validation_failed', 'X-Idempotency-Key must be 1–200 visible ASCII characters');
    }
    const tenantId =
      request.principal?.tenantId ??
      (request.principal?.onboardingOrg ? onboardingScope(request.principal.onboardingOrg) : null) ??
      request.publicTenantId ??
      PLATFORM_SCOPE;
    const scope = `${request.method} ${request.routeOptions.url}`;
    const hash = requestHash(request);

    const started = Date.now();
    for (;;) {
      await db.query(
        'DELETE FROM idempotency_keys WHERE tenant_id = $1 AND scope = $2 AND key = $3 AND expires_at < now()',
        [tenantId, scope, key],
      );
      const inserted = await db.query(
        `INSERT INTO idempotency_keys (tenant_id, scope, key, request_hash, state, expires_at)
         VALUES ($1, $2, $3, $4, 'running', now() + make_interval(hours => $5))
         ON CONFLICT DO NOTHING`,
        [tenantId, scope, key, hash, TTL_HOURS],
      );
      if (inserted.rowCount === 1) {
        request.idempotency = { tenantId, scope, key };
        return;
      }
      const { rows } = await db.query<{
        request_hash: string;
        state: string;
        response_status: number;
        response_body: unknown;
      }>(
        'SELECT request_hash, state, response_status, response_body FROM idempotency_keys WHERE tenant_id = $1 AND scope = $2 AND key = $3',
        [tenantId, scope, key],
      );
      const row = rows[0];
      if (!row) continue; // removed meanwhile (expired, or the first attempt failed): try again
      if (row.request_hash !== hash) {
        throw new AppError(
          'idempotency_key_reused',
          'this X-Idempotency-Key was used with a different request',
        );
      }
      if (row.state === 'done') return replay(reply, row);
      if (Date.now() - started > WAIT_FOR_RUNNING_MS) {
        throw new AppError('conflict', 'a request with this X-Idempotency-Key is still running');
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const claim = request.idempotency;
    if (!claim) return payload;
    // Not an answer to keep: a retry must run again (a server error, or a rate limit that will lift).
    if (reply.statusCode >= 500 || reply.statusCode === 429) {
      await db.query('DELETE FROM idempotency_keys WHERE tenant_id = $1 AND scope = $2 AND key = $3', [
        claim.tenantId,
        claim.scope,
        claim.key,
      ]);
      return payload;
    }
    let body: unknown = null;
    if (typeof payload === 'string' && payload.length > 0) {
      try {
        body = JSON.parse(payload);
      } catch {
        body = payload;
      }
    }
    await db.query(
      `UPDATE idempotency_keys SET state = 'done', response_status = $4, response_body = $5
       WHERE tenant_id = $1 AND scope = $2 AND key = $3`,
      [claim.tenantId, claim.scope, claim.key, reply.statusCode, JSON.stringify(body)],
    );
    return payload;
  });
}
