import { randomUUID } from 'node:crypto';
import type { Role } from '../../src/domain/authorization.ts';
import type { App } from '../../src/http/app.ts';
import type { DevIssuer } from '../../src/providers/auth/dev-issuer.ts';
import { openDevIssuerFor, staffOrgOf } from '../../src/providers/auth/operator-auth.ts';
import { readGatesFromBilling } from '../../src/runtime/billing-gates.ts';
import { createDispatch } from '../../src/runtime/dispatch.ts';
import type { System } from '../../src/system.ts';
import type { TestSystem } from './system.ts';

// The operator API as a client sees it: tokens from the system's own dev issuer (the key the API
// verifies against), requests through `app.inject`, and conversations started the way a missed
// call starts them (the engine's dispatch), for any tenant.

/** The role claim an identity provider would put in the token for each role (STAFF: any member of the platform org). */
export const ROLE_CLAIM: Record<Role, string> = {
  OWNER: 'org:admin',
  TECH: 'org:member',
  STAFF: 'org:member',
};

const issuers = new WeakMap<System, Promise<DevIssuer>>();

export function devIssuerOf(system: System): Promise<DevIssuer> {
  let issuer = issuers.get(system);
  if (!issuer) {
    issuer = openDevIssuerFor(system.config);
    issuers.set(system, issuer);
  }
  return issuer;
}

/** A valid token for `subject` in `org` (STAFF tokens carry the platform's own org). */
export async function tokenFor(
  system: System,
  input: { subject: string; role: Role; org?: string | null; email?: string },
): Promise<string> {
  const issuer = await devIssuerOf(system);
  return issuer.mint({
    subject: input.subject,
    role: ROLE_CLAIM[input.role],
    org: input.role === 'STAFF' ? staffOrgOf(system.config) : (input.org ?? null),
    ...(input.email ? { email: input.email } : {}),
  });
}

export type ApiResponse = {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  /** Parsed JSON, or the raw text when the body is not JSON. */
  body: unknown;
  raw: string;
};

export type ApiRequest = {
  method: string;
  url: string;
  token?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
};

export function appOf(system: System): App {
  if (!system.app) throw new Error('the system runs no HTTP API');
  return system.app;
}

export async function call(app: App, request: ApiRequest): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...request.headers };
  if (request.token) headers.authorization = `Bearer ${request.token}`;
  const res = await app.inject({
    method: request.method as 'GET',
    url: request.url,
    headers,
    ...(request.body === undefined ? {} : { payload: request.body as object }),
  });
  let body: unknown = res.body;
  try {
    body = JSON.parse(res.body);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.statusCode, headers: res.headers, body, raw: res.body };
}

/** The error envelope's fields, or a failure naming what came back instead. */
export function errorOf(res: ApiResponse): { code: string; message: string; correlation_id: string } {
  const error = (res.body as { error?: { code: string; message: string; correlation_id: string } }).error;
  if (!error) throw new Error(`expected an error envelope, got ${res.status} ${res.raw.slice(0, 300)}`);
  return error;
}

/** Starts (or continues) `caller`'s conversation in `tenantId` with a missed call; returns its id. */
export async function startConversation(system: System, tenantId: string, caller: string): Promise<string> {
  const dispatch = createDispatch({ db: system.db, boss: system.boss, readGates: readGatesFromBilling });
  const result = await dispatch(
    tenantId,
    { caller },
    { type: 'MissedCall', callSid: `CA${randomUUID().replaceAll('-', '')}`, at: new Date().toISOString() },
    { correlationId: `test-${randomUUID()}` },
  );
  return result.conversationId;
}

/**
 * Waits (up to 5 s) until every outbound text has settled (delivered or failed) and the sandbox
 * has sent its status callbacks, so a test stops the system with no send in flight.
 */
export async function settleOutbound(t: TestSystem): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < 5_000) {
    const { rows } = await t.system.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM conv_messages WHERE direction = 'out' AND status IN ('queued', 'sending', 'sent')",
    );
    if ((rows[0]?.n ?? 0) === 0 && t.sandbox.callbacks().length >= 2 * t.sandbox.messages().length) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
