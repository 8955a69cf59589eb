import { join } from 'node:path';
import type { Config } from '../../config.ts';
import { createTokenVerifier, type TokenVerifier } from '../../http/auth/token-verifier.ts';
import { type DevIssuer, openDevIssuer } from './dev-issuer.ts';

// Operator authentication from configuration: the real OIDC issuer when AUTH_* are set (remote
// JWKS), else the local dev issuer, verified through the same code path with its own JWKS.
// STAFF is membership in the platform's own organisation (AUTH_STAFF_ORG_ID; the dev issuer's
// `org_platform` locally), never a role claim inside a tenant's organisation.

export type OperatorAuth = {
  verify: TokenVerifier;
  orgClaim: string;
  roleClaim: string;
  /** Members of this organisation are platform STAFF; null when no organisation is. */
  staffOrgId: string | null;
  devIssuer?: DevIssuer;
};

/** The dev issuer's platform organisation, whose members are STAFF when AUTH_STAFF_ORG_ID is unset. */
export const DEV_STAFF_ORG_ID = 'org_platform';

/** Which organisation's members are STAFF under this configuration. */
export function staffOrgOf(config: Config): string | null {
  if (config.AUTH_STAFF_ORG_ID) return config.AUTH_STAFF_ORG_ID;
  return config.AUTH_JWKS_URL ? null : DEV_STAFF_ORG_ID;
}

export function devIssuerKeyFile(config: Config): string {
  return join(config.NMC_DATA_DIR, 'dev-issuer-key.json');
}

export async function openDevIssuerFor(config: Config): Promise<DevIssuer> {
  return openDevIssuer({
    keyFile: devIssuerKeyFile(config),
    issuer: `${config.PUBLIC_BASE_URL}/dev-issuer`,
    orgClaim: config.AUTH_ORG_CLAIM,
    roleClaim: config.AUTH_ROLE_CLAIM,
  });
}

export async function createOperatorAuth(config: Config): Promise<OperatorAuth> {
  const claims = {
    orgClaim: config.AUTH_ORG_CLAIM,
    roleClaim: config.AUTH_ROLE_CLAIM,
    staffOrgId: staffOrgOf(config),
  };
  const maxTokenAgeSeconds = config.AUTH_MAX_TOKEN_AGE_SECONDS;
  if (config.AUTH_JWKS_URL && config.AUTH_ISSUER && config.AUTH_AUDIENCE) {
    return {
      ...claims,
      verify: createTokenVerifier({
        issuer: config.AUTH_ISSUER,
        audience: config.AUTH_AUDIENCE,
        jwks: { url: config.AUTH_JWKS_URL },
        maxTokenAgeSeconds,
      }),
    };
  }
  const devIssuer = await openDevIssuerFor(config);
  return {
    ...claims,
    devIssuer,
    verify: createTokenVerifier({
      issuer: devIssuer.issuer,
      audience: devIssuer.audience,
      jwks: { keys: devIssuer.jwks },
      maxTokenAgeSeconds,
    }),
  };
}
