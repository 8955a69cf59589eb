import { isIP } from 'node:net';
import { z } from 'zod';

// One described table of settings: validation, defaults and the README's configuration table all
// come from here. A bad value stops the process with one line naming the variable.

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const optionalUrl = z.url({ protocol: /^https?$/ }).optional();
const onOff = z
  .enum(['1', '0', 'true', 'false', 'on', 'off', 'yes', 'no'])
  .transform((v) => ['1', 'true', 'on', 'yes'].includes(v))
  .optional();

/** One address or CIDR block (v4 or v6), as proxy-addr (fastify's trustProxy) reads it. */
function isAddressOrCidr(entry: string): boolean {
  const [address = '', prefix, ...extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

// Which peer's X-Forwarded-For names the client: off (the socket's address is the client), a hop
// count (trust that many proxies in front), or a list of proxy addresses / CIDR blocks.
const trustProxy = z
  .string()
  .trim()
  .transform((value, ctx): false | number | string[] => {
    if (['off', 'false', '0', 'no'].includes(value)) return false;
    if (/^\d+$/.test(value)) {
      const hops = Number(value);
      if (hops >= 1 && hops <= 10) return hops;
    } else {
      const entries = value.split(',').map((entry) => entry.trim());
      if (entries.every(isAddressOrCidr)) return entries;
    }
    ctx.addIssue({
      code: 'custom',
      message: 'must be off, a hop count 1–10, or a comma-separated list of addresses/CIDRs',
    });
    return z.NEVER;
  });

export const configSchema = z.object({
  PORT: port.default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_BASE_URL: optionalUrl,
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// connection string')
    .optional(),
  NMC_DEMO: onOff,
  NMC_ROLE: z.enum(['api', 'worker', 'all']).default('all'),
  NMC_DATA_DIR: z.string().min(1).default('.data'),
  EMBEDDED_PG_PORT: port.default(54329),
  // Continuous WAL archiving of the embedded cluster: a segment is archived at least this often
  // while there are writes (the most a restore can lose); 0 turns archiving off.
  NMC_WAL_ARCHIVE_TIMEOUT_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
  TWILIO_ACCOUNT_SID: z
    .string()
    .regex(/^AC[0-9a-fA-F]{32}$/, 'must look like AC followed by 32 hex digits')
    .optional(),
  TWILIO_AUTH_TOKEN: z.string().min(16).optional(),
  TWILIO_API_BASE_URL: optionalUrl,
  // The platform's own number: it texts onboarding verification codes (a business has no number yet).
  NMC_PLATFORM_SMS_FROM: z
    .string()
    .regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number such as +14155550100')
    .optional(),
  STRIPE_SECRET_KEY: z.string().startsWith('sk_').optional(),
  STRIPE_WEBHOOK_SECRET: z.string().startsWith('whsec_').optional(),
  STRIPE_API_BASE_URL: optionalUrl,
  GOOGLE_API_BASE_URL: optionalUrl,
  GOOGLE_OAUTH_BASE_URL: optionalUrl,
  GOOGLE_CLIENT_ID: z.string().min(1).optional(),
  GOOGLE_CLIENT_SECRET: z.string().min(1).optional(),
  // Jobber (the second calendar provider): the app's OAuth client; its secret also signs webhooks.
  JOBBER_API_BASE_URL: optionalUrl,
  JOBBER_CLIENT_ID: z.string().min(1).optional(),
  JOBBER_CLIENT_SECRET: z.string().min(1).optional(),
  // `<key id>:<32 bytes base64>`, comma-separated; the first encrypts, all decrypt (rotation).
  NMC_ENCRYPTION_KEY: z.string().min(1).optional(),
  LLM_BASE_URL: optionalUrl,
  LLM_API_KEY: z.string().optional(),
  LLM_MODEL: z.string().optional(),
  AUTH_JWKS_URL: optionalUrl,
  AUTH_ISSUER: z.string().min(1).optional(),
  AUTH_AUDIENCE: z.string().min(1).optional(),
  AUTH_ORG_CLAIM: z.string().min(1).default('org_id'),
  AUTH_ROLE_CLAIM: z.string().min(1).default('org_role'),
  AUTH_STAFF_ORG_ID: z.string().min(1).max(200).optional(),
  AUTH_MAX_TOKEN_AGE_SECONDS: positiveInt.max(30 * 86_400).default(86_400),
  // The web app's OIDC client at the identity provider (authorization code + PKCE); with the dev
  // issuer a public client `nmc-web` needs neither.
  AUTH_WEB_CLIENT_ID: z.string().min(1).max(200).optional(),
  AUTH_WEB_CLIENT_SECRET: z.string().min(1).optional(),
  TRUST_PROXY: trustProxy.default(false),
  NODE_ENV: z.string().optional(),
  HOLD_TTL_MINUTES: positiveInt.max(24 * 60).default(15),
  OUTBOX_BATCH_SIZE: positiveInt.max(10_000).default(100),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['pretty', 'json']).optional(),
  RATE_LIMIT_PER_MINUTE: positiveInt.default(600),
});

type RawConfig = z.output<typeof configSchema>;

export type Config = Omit<RawConfig, 'PUBLIC_BASE_URL' | 'NMC_DEMO'> & {
  PUBLIC_BASE_URL: string;
  NMC_DEMO: boolean;
  /** True when no DATABASE_URL is set and the process runs its own embedded Postgres. */
  embeddedPostgres: boolean;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

// In production nothing may fall back to a sandbox, a public constant or the dev issuer: each of
// these would either accept forged requests or send nothing real.
const REQUIRED_IN_PRODUCTION = [
  'PUBLIC_BASE_URL',
  'TWILIO_ACCOUNT_SID',
  'TWILIO_AUTH_TOKEN',
  'STRIPE_SECRET_KEY',
  'STRIPE_WEBHOOK_SECRET',
  'AUTH_JWKS_URL',
  'AUTH_ISSUER',
  'AUTH_AUDIENCE',
  'AUTH_STAFF_ORG_ID',
  'NMC_ENCRYPTION_KEY',
] as const;

function refuseSandboxDefaults(raw: RawConfig): void {
  const missing = REQUIRED_IN_PRODUCTION.find((name) => raw[name] === undefined);
  if (missing) {
    throw new ConfigError(
      `invalid configuration: ${missing}: required with NODE_ENV=production (no sandbox, dev issuer or default secret in production)`,
    );
  }
}

/** Reads the environment; throws ConfigError whose message is one line naming the variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "unset": `FOO= npm start` should not fail validation of FOO.
  const present = Object.fromEntries(
    Object.entries(env).filter(([key, value]) => key in configSchema.shape && value !== ''),
  );
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'environment');
    throw new ConfigError(`invalid configuration: ${name}: ${issue?.message ?? 'invalid value'}`);
  }
  const raw = parsed.data;
  if (raw.NODE_ENV === 'production') refuseSandboxDefaults(raw);
  const embeddedPostgres = raw.DATABASE_URL === undefined;
  const authSet = [raw.AUTH_JWKS_URL, raw.AUTH_ISSUER, raw.AUTH_AUDIENCE].filter(
    (v) => v !== undefined,
  ).length;
  if (authSet !== 0 && authSet !== 3) {
    throw new ConfigError(
      'invalid configuration: AUTH_JWKS_URL: set AUTH_JWKS_URL, AUTH_ISSUER and AUTH_AUDIENCE together, or none (dev issuer)',
    );
  }
  if ((raw.GOOGLE_CLIENT_ID === undefined) !== (raw.GOOGLE_CLIENT_SECRET === undefined)) {
    throw new ConfigError(
      'invalid configuration: GOOGLE_CLIENT_SECRET: set both GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET, or neither',
    );
  }
  if ((raw.JOBBER_CLIENT_ID === undefined) !== (raw.JOBBER_CLIENT_SECRET === undefined)) {
    throw new ConfigError(
      'invalid configuration: JOBBER_CLIENT_SECRET: set both JOBBER_CLIENT_ID and JOBBER_CLIENT_SECRET, or neither',
    );
  }
  if ((raw.TWILIO_ACCOUNT_SID === undefined) !== (raw.TWILIO_AUTH_TOKEN === undefined)) {
    throw new ConfigError(
      'invalid configuration: TWILIO_AUTH_TOKEN: set both TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or neither',
    );
  }
  return {
    ...raw,
    PUBLIC_BASE_URL: (raw.PUBLIC_BASE_URL ?? `http://${raw.HOST}:${raw.PORT}`).replace(/\/$/, ''),
    NMC_DEMO: raw.NMC_DEMO ?? embeddedPostgres,
    embeddedPostgres,
  };
}
