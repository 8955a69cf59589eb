import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from '../observability/logger.ts';
import type { Queryable } from '../persistence/db.ts';

// Every privileged mutation (routes with `config.audit`) and every staff call writes one
// audit_logs row: actor, role, tenant, action, target, result, correlation id. It is written when
// the response is known, whatever the outcome, so denied and failed attempts are recorded too.

export type AuditEntry = {
  tenantId: string | null;
  actor: string;
  role: string;
  action: string;
  target: string | null;
  result: string;
  correlationId: string;
  detail?: Record<string, unknown>;
};

export async function writeAudit(db: Queryable, entry: AuditEntry): Promise<void> {
  await db.query(
    `INSERT INTO audit_logs (tenant_id, actor, role, action, target, result, correlation_id, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      entry.tenantId,
      entry.actor,
      entry.role,
      entry.action,
      entry.target,
      entry.result,
      entry.correlationId,
      JSON.stringify(entry.detail ?? {}),
    ],
  );
}

function targetOf(request: FastifyRequest): string | null {
  const params = request.params as Record<string, string> | undefined;
  if (params && Object.keys(params).length > 0) {
    return Object.entries(params)
      .map(([k, v]) => `${k}=${String(v).slice(0, 100)}`)
      .join(',');
  }
  return null;
}

export function registerAudit(app: FastifyInstance, db: Queryable, logger: Logger): void {
  app.addHook('onResponse', async (request, reply) => {
    const config = request.routeOptions.config;
    const principal = request.principal;
    if (!config?.audit || !config.action || !principal) return;
    const status = reply.statusCode;
    const result =
      status < 400 ? 'success' : status === 403 ? 'forbidden' : status < 500 ? `rejected_${status}` : 'error';
    await writeAudit(db, {
      tenantId: principal.tenantId,
      actor: principal.subject,
      role: principal.role,
      action: config.action,
      target: targetOf(request),
      result,
      correlationId: request.id,
    }).catch((err: unknown) => logger.error({ err }, 'audit log write failed'));
  });
}
