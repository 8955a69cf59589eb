import * as oidc from 'openid-client';
import { AppError } from '../../domain/errors.ts';

// The web app as an OIDC client of the identity provider (authorization code + PKCE S256, with
// state and nonce), through `openid-client`. Discovery happens on the first sign-in and is kept;
// a failed discovery is retried on the next one. Plain http is allowed only for the local dev
// issuer.

export type OidcSettings = {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  /** The dev issuer on this server (http on a laptop; ES256 ID tokens). */
  dev: boolean;
  redirectUri: string;
};

export type LoginStart = { url: string; state: string; codeVerifier: string; nonce: string };

export type OidcClient = {
  start(options: { loginHint?: string }): Promise<LoginStart>;
  /** Exchanges the callback's code; returns the access token and when it expires. */
  finish(
    callbackUrl: URL,
    checks: { state: string; codeVerifier: string; nonce: string },
  ): Promise<{ accessToken: string; expiresInSeconds: number | null }>;
};

export function createOidcClient(settings: OidcSettings): OidcClient {
  let discovered: Promise<oidc.Configuration> | null = null;
  const configuration = () => {
    discovered ??= oidc
      .discovery(
        new URL(settings.issuer),
        settings.clientId,
        settings.dev ? { id_token_signed_response_alg: 'ES256' } : undefined,
        settings.clientSecret ? oidc.ClientSecretPost(settings.clientSecret) : oidc.None(),
        settings.dev ? { execute: [oidc.allowInsecureRequests] } : undefined,
      )
      .catch((err: unknown) => {
        discovered = null;
        throw new AppError('unavailable', 'the identity provider cannot be reached', { cause: err });
      });
    return discovered;
  };
  return {
    async start({ loginHint }) {
      const config = await configuration();
      const codeVerifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const parameters: Record<string, string> = {
        redirect_uri: settings.redirectUri,
        scope: 'openid email',
        code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      };
      if (loginHint) parameters.login_hint = loginHint;
      return { url: oidc.buildAuthorizationUrl(config, parameters).href, state, codeVerifier, nonce };
    },
    async finish(callbackUrl, checks) {
      const config = await configuration();
      let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
      try {
        tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: checks.codeVerifier,
          expectedState: checks.state,
          expectedNonce: checks.nonce,
          idTokenExpected: true,
        });
      } catch (err) {
        throw new AppError('unauthorized', 'the sign-in could not be completed', { cause: err });
      }
      return { accessToken: tokens.access_token, expiresInSeconds: tokens.expiresIn() ?? null };
    },
  };
}
