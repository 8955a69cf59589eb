import type { FastifyRequest } from 'fastify';
import {
  type Action,
  can,
  canWhileOnboarding,
  type Role,
  roleFromClaim,
} from '../../domain/authorization.ts';
import { AppError } from '../../domain/errors.ts';
import type { Pool } from '../../persistence/db.ts';
import { findTenantByAuthOrg } from '../../persistence/repositories/tenants.ts';
import { upsertUserOnSight } from '../../persistence/repositories/users.ts';
import { checkCsrf, hashBrowserSecret, type WebSessionSettings } from '../web/session-cookie.ts';
import type { TokenVerifier } from './token-verifier.ts';

// Who is calling, and may they do this? The tenant always comes from the token (its org claim),
// never from the body or the path. STAFF is membership in the platform's own organisation
// (`staffOrgId`), whatever the role claim says; inside a tenant's organisation a role claim maps
// only to OWNER or TECH. A tenant user's effective role is the lesser of the token's role and the
// role stored in `id_users` (an OWNER can demote someone here without waiting for the identity
// provider; a promotion needs both), and a deactivated user is refused on the next request.
//
// Two ways in, one principal: a Bearer token (programs), or the web app's session cookie, whose
// server-side row holds the identity provider's tokens (sealed, renewed before they expire); the
// access token is verified exactly like a Bearer token on every request. A request with an
// Authorization header is judged by it alone; a cookie-authenticated state change must also pass
// the CSRF check (src/http/web/session-cookie.ts).

export type Principal = {
  subject: string;
  role: Role;
  tenantId: string | null;
  userId: string | null;
  /**
   * Set only while onboarding: the admin of an organisation that has no tenant yet (role OWNER,
   * tenantId null), allowed the onboarding routes alone.
   */
  onboardingOrg?: string;
};

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** What the route does, for authorization and the audit log; every /api route names one. */
    action?: Action;
    /** Whether a successful call is a privileged mutation that is written to audit_logs. */
    audit?: boolean;
    /** Public routes (no token) under /api/public. */
    public?: boolean;
  }
}

const RANK: Record<Role, number> = { STAFF: 0, TECH: 1, OWNER: 2 };

export type AuthDeps = {
  db: Pool;
  verify: TokenVerifier;
  orgClaim: string;
  roleClaim: string;
  staffOrgId: string | null;
  /** The web app's session cookie; absent: only Bearer tokens are accepted. */
  webSession?: WebSessionSettings;
  /** A session's access token (src/http/web/web-session-store.ts); null when it has ended. */
  sessionAccessToken?: (sessionHash: string) => Promise<string | null>;
};

const invalidToken = () => new AppError('unauthorized', 'the bearer token is missing, invalid or expired');

export async function authenticate(request: FastifyRequest, deps: AuthDeps): Promise<Principal> {
  const header = request.headers.authorization;
  if (header === undefined && deps.webSession) {
    const session = request.cookies?.[deps.webSession.cookieName];
    if (session) return authenticateSession(request, session, deps, deps.webSession);
  }
  const match = typeof header === 'string' ? /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header) : null;
  if (!match?.[1]) throw new AppError('unauthorized', 'a Bearer token is required');
  return principalFromToken(match[1], deps);
}

async function authenticateSession(
  request: FastifyRequest,
  sessionId: string,
  deps: AuthDeps,
  settings: WebSessionSettings,
): Promise<Principal> {
  // Before the session is even looked up: a forged cross-site request learns nothing.
  checkCsrf(request, settings);
  const accessToken =
    sessionId.length <= 100 && deps.sessionAccessToken
      ? await deps.sessionAccessToken(hashBrowserSecret(sessionId))
      : null;
  if (!accessToken) throw new AppError('unauthorized', 'the session has ended; sign in again');
  return principalFromToken(accessToken, deps);
}

async function principalFromToken(token: string, deps: AuthDeps): Promise<Principal> {
  const claims = await deps.verify(token);
  const subject = claims.sub;
  const org = claims[deps.orgClaim];
  if (!subject || typeof org !== 'string' || org.length === 0 || org.length > 200) throw invalidToken();
  if (deps.staffOrgId !== null && org === deps.staffOrgId) {
    return { subject, role: 'STAFF', tenantId: null, userId: null };
  }

  const role = roleFromClaim(claims[deps.roleClaim]);
  if (!role) throw invalidToken();
  const tenant = await findTenantByAuthOrg(deps.db, org);
  if (!tenant) {
    // Its admin may sign the business up (src/http/routes/onboarding.ts); a member waits for them.
    if (role === 'OWNER') return { subject, role, tenantId: null, userId: null, onboardingOrg: org };
    throw new AppError('forbidden', 'this organisation has no NeverMissCall account');
  }
  const email = typeof claims.email === 'string' ? claims.email.slice(0, 320) : null;
  const user = await upsertUserOnSight(deps.db, { tenantId: tenant.id, subject, email, role });
  if (!user.active) throw new AppError('forbidden', 'this user has been deactivated by the business');
  const effective = RANK[user.role] < RANK[role] ? user.role : role;
  return { subject, role: effective, tenantId: tenant.id, userId: user.id };
}

export function authorize(principal: Principal, action: Action): void {
  if (principal.onboardingOrg !== undefined) {
    if (!canWhileOnboarding(action))
      throw new AppError(
        'forbidden',
        'this organisation has no NeverMissCall account yet; finish onboarding',
      );
    return;
  }
  if (!can(principal.role, action)) throw new AppError('forbidden', 'your role does not allow this');
}

/** The organisation signing up; the onboarding routes call this (never read an organisation from input). */
export function onboardingOrgOf(request: FastifyRequest): { authOrgId: string; subject: string } {
  const principal = request.principal;
  if (!principal?.onboardingOrg) throw new AppError('forbidden', 'this organisation already has a tenant');
  return { authOrgId: principal.onboardingOrg, subject: principal.subject };
}

/** The caller's tenant; routes that act on tenant data call this (never read a tenant from input). */
export function tenantOf(request: FastifyRequest): string {
  const tenantId = request.principal?.tenantId;
  if (!tenantId) throw new AppError('forbidden', 'this route acts on a tenant');
  return tenantId;
}
