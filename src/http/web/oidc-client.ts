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

/** What the token endpoint gave: the access token, the refresh token when one was issued. */
export type GrantedTokens = {
  accessToken: string;
  refreshToken: string | null;
};

/** The identity provider refused the refresh token (revoked, expired, spent): the session is over. */
export class RefreshRefused extends Error {
  override name = 'RefreshRefused';
}

export type OidcClient = {
  start(options: { loginHint?: string }): Promise<LoginStart>;
  /** Exchanges the callback's code for the tokens. */
  finish(
    callbackUrl: URL,
    checks: { state: string; codeVerifier: string; nonce: string },
  ): Promise<GrantedTokens>;
  /**
   * New tokens for a refresh token (the refresh grant). Throws RefreshRefused when the provider
   * refuses the grant, and AppError `unavailable` when it cannot be reached.
   */
  refresh(refreshToken: string): Promise<GrantedTokens>;
  /** Withdraws a refresh token at the provider when it offers revocation; best effort (sign-out). */
  revoke(refreshToken: string): Promise<void>;
};

function granted(tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers): GrantedTokens {
  return {
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token ?? null,
  };
}

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
      // offline_access asks for a refresh token where the provider wants it asked for.
      const offline = config.serverMetadata().scopes_supported?.includes('offline_access');
      const parameters: Record<string, string> = {
        redirect_uri: settings.redirectUri,
        scope: offline ? 'openid email offline_access' : 'openid email',
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
      return granted(tokens);
    },
    async refresh(refreshToken) {
      const config = await configuration();
      try {
        return granted(await oidc.refreshTokenGrant(config, refreshToken));
      } catch (err) {
        // An OAuth error answer (invalid_grant and the like) is the provider's refusal; anything
        // else (network, a 5xx) says nothing about the token.
        if (err instanceof oidc.ResponseBodyError)
          throw new RefreshRefused(`the identity provider refused the refresh (${err.error})`, {
            cause: err,
          });
        throw new AppError('unavailable', 'the identity provider cannot be reached', { cause: err });
      }
    },
    async revoke(refreshToken) {
      const config = await configuration();
      if (!config.serverMetadata().revocation_endpoint) return;
      await oidc.tokenRevocation(config, refreshToken, { token_type_hint: 'refresh_token' });
    },
  };
}
