import { existsSync } from 'node:fs';
import { type ApiClient, createApiClient, type ErrorEnvelope } from '../api-client/index.ts';
import type { Config } from '../config.ts';
import { openDevIssuer } from '../providers/auth/dev-issuer.ts';
import { devIssuerKeyFile, staffOrgOf } from '../providers/auth/operator-auth.ts';
import { readServerLocation, type ServerLocation, serverLocationFile } from '../server-location.ts';

// The running server the CLI talks to: the one named in the data directory's server.json (written
// by `npm start`), or `--url`. Every failure to reach it is one line naming the URL that was tried.

export class CliError extends Error {
  override name = 'CliError';
}

export type Target = {
  apiUrl: string;
  /** The server's own public URL: the dev issuer's name is built from it. */
  publicBaseUrl: string;
  twilioSandboxUrl: string | null;
  location: ServerLocation | null;
  config: Config;
};

export async function resolveTarget(config: Config, urlOption: string | undefined): Promise<Target> {
  const location = await readServerLocation(config.NMC_DATA_DIR);
  if (urlOption !== undefined) {
    const apiUrl = urlOption.replace(/\/+$/, '');
    // The file's sandbox is only this server's when the file names the same API.
    const same = location?.api_url === apiUrl ? location : null;
    return {
      apiUrl,
      publicBaseUrl: same?.public_base_url ?? process.env.PUBLIC_BASE_URL?.replace(/\/+$/, '') ?? apiUrl,
      twilioSandboxUrl: same?.twilio_sandbox_url ?? null,
      location: same,
      config,
    };
  }
  if (location?.api_url) {
    return {
      apiUrl: location.api_url,
      publicBaseUrl: location.public_base_url,
      twilioSandboxUrl: location.twilio_sandbox_url,
      location,
      config,
    };
  }
  // No file: the defaults `npm start` would use with this environment.
  return {
    apiUrl: `http://${config.HOST}:${config.PORT}`,
    publicBaseUrl: config.PUBLIC_BASE_URL,
    twilioSandboxUrl: null,
    location,
    config,
  };
}

export function unreachable(target: Target): CliError {
  const file = serverLocationFile(target.config.NMC_DATA_DIR);
  const why = target.location
    ? `(from ${file}; that server has stopped?)`
    : `(no ${file}: no server started from this folder)`;
  return new CliError(
    `no NeverMissCall server answers at ${target.apiUrl} ${why}: start one with \`npm start\`, or pass --url`,
  );
}

/** fetch, with a refused connection turned into the one-line "no server at …" error. */
export async function reach(target: Target, url: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: init.signal ?? AbortSignal.timeout(15_000) });
  } catch (err) {
    if (url.startsWith(target.apiUrl)) throw unreachable(target);
    throw new CliError(`could not reach ${new URL(url).origin}: ${(err as Error).message}`);
  }
}

/** The generated API client for this server, with the token; an unreachable server is the one-line error. */
export function apiClient(target: Target, token: string): ApiClient {
  return createApiClient({
    baseUrl: target.apiUrl,
    token,
    fetch: async (request) => {
      try {
        return await fetch(request, { signal: AbortSignal.timeout(15_000) });
      } catch {
        throw unreachable(target);
      }
    },
  });
}

/** A call's data; a non-2xx answer becomes one line with the request, the status, the code and the message. */
export async function answerOf<R extends { data?: unknown; error?: unknown; response: Response }>(
  call: Promise<R>,
  what: string,
): Promise<NonNullable<R['data']>> {
  const { data, error, response } = await call;
  if (!response.ok || data === undefined) {
    const envelope = (error as Partial<ErrorEnvelope> | undefined)?.error;
    throw new CliError(
      `${what} answered ${response.status}${envelope?.code ? ` ${envelope.code}` : ''}: ${envelope?.message ?? response.statusText}`,
    );
  }
  return data as NonNullable<R['data']>;
}

export type Role = 'OWNER' | 'TECH' | 'STAFF';

/**
 * A token from the local dev issuer, signed with the key in the data directory and named after the
 * server's public URL, exactly as the server's own issuer would. STAFF needs nothing else; a
 * tenant's token names the tenant's organisation (`org`).
 */
export async function mintToken(
  target: Target,
  claims: { role: Role; org: string | null; subject?: string },
): Promise<string> {
  const { config } = target;
  if (config.AUTH_JWKS_URL)
    throw new CliError('AUTH_* is set: tokens come from your identity provider, not the dev issuer');
  const keyFile = devIssuerKeyFile(config);
  // Creating a key here would sign tokens the server (which made its own) refuses.
  if (!existsSync(keyFile)) {
    if (target.location === null) throw unreachable(target);
    throw new CliError(`no dev issuer key at ${keyFile}: is NMC_DATA_DIR the server's?`);
  }
  const issuer = await openDevIssuer({
    keyFile,
    issuer: `${target.publicBaseUrl}/dev-issuer`,
    orgClaim: config.AUTH_ORG_CLAIM,
    roleClaim: config.AUTH_ROLE_CLAIM,
  });
  return issuer.mint({
    subject: claims.subject ?? `dev-${claims.role.toLowerCase()}`,
    org: claims.role === 'STAFF' ? staffOrgOf(config) : claims.org,
    role: claims.role === 'OWNER' ? 'org:admin' : 'org:member',
  });
}
