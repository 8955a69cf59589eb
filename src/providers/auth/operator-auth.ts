import { join } from 'node:path';
import type { Config } from '../../config.ts';
import { createTokenVerifier, type TokenVerifier } from '../../http/auth/token-verifier.ts';
import { type DevIssuer, openDevIssuer } from './dev-issuer.ts';

// Operator authentication from configuration: the real OIDC issuer when AUTH_* are set (remote
// JWKS), else the local dev issuer, verified through the same code path with its own JWKS.

export type OperatorAuth = {
  verify: TokenVerifier;
  orgClaim: string;
  roleClaim: string;
  devIssuer?: DevIssuer;
};

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
  const claims = { orgClaim: config.AUTH_ORG_CLAIM, roleClaim: config.AUTH_ROLE_CLAIM };
  if (config.AUTH_JWKS_URL && config.AUTH_ISSUER && config.AUTH_AUDIENCE) {
    return {
      ...claims,
      verify: createTokenVerifier({
        issuer: config.AUTH_ISSUER,
        audience: config.AUTH_AUDIENCE,
        jwks: { url: config.AUTH_JWKS_URL },
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
    }),
  };
}
